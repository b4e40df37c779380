/*
 * IRET/IRETD/IRETQ (SDM Vol.2 IRET "Operation"; SDM Vol.3A 6.12.1, 6.14.3).
 *
 * Implemented: real mode; protected mode to the same or an outer privilege level;
 * IA-32e mode (IRETQ and IRETD), which always pops SS:RSP in 64-bit mode, including
 * returns to compatibility mode. Every IRET that completes unblocks NMIs (SDM 6.7.1).
 *
 * NT = 1 is a task return (task.c), #GP(0) in IA-32e mode (SDM 8.7).
 *
 * Not implemented (documented limits):
 *   - a return to virtual-8086 mode (EFLAGS image with VM = 1 at CPL 0): #GP(0);
 *   - IRET executed in virtual-8086 mode: #GP(0) (the silicon never enters it).
 */
#include "cpu/far.h"
#include "cpu/task.h"
#include "cpu/vmx/vmx_internal.h"

/* RFLAGS bits IRET may change at any CPL; IF needs CPL <= IOPL, IOPL/VIF/VIP need
 * CPL 0 (SDM Vol.2 IRET "RETURN-TO-SAME/OUTER-PRIVILEGE-LEVEL"). VM never changes. */
#define IRET_ALWAYS (RFLAGS_ARITH | RFLAGS_TF | RFLAGS_DF | RFLAGS_NT | RFLAGS_RF | \
		     RFLAGS_AC | RFLAGS_ID)

static uint64_t iret_flags(struct cpu *cpu, uint64_t tmp, int osz)
{
	/* The mask always covers the arithmetic flags (bits 11:0), so the lazy ones need
	 * not be materialised: the other bits always live in cpu->rflags (flags.h). */
	uint64_t old = cpu->rflags;
	uint64_t mask = IRET_ALWAYS;
	if (cpu->cpl <= cpu_iopl(cpu))
		mask |= RFLAGS_IF;
	if (cpu->cpl == 0)
		mask |= RFLAGS_IOPL | RFLAGS_VIF | RFLAGS_VIP;
	if (osz == 1)
		mask &= 0xFFFF;
	return (old & ~mask) | (tmp & mask);
}

/* Real-address mode (SDM Vol.2 IRET "REAL-ADDRESS-MODE"). */
static void iret_real(struct cpu *cpu, const struct insn *in)
{
	int w = 1 << in->osz;
	struct stk s;
	stk_current(cpu, &s);
	uint64_t ip = stk_read(cpu, &s, 0, w);
	uint16_t cs = (uint16_t)stk_read(cpu, &s, w, 2);
	uint64_t fl = stk_read(cpu, &s, 2 * (uint64_t)w, w);
	if (ip > cpu->seg[SEG_CS].limit)
		cpu_gp(cpu, 0);
	uint64_t old = cpu_get_rflags(cpu);
	if (w == 4) /* "EFLAGS := (tempEFLAGS AND 257FD5H) OR (EFLAGS AND 1A0000H)" */
		fl = (fl & 0x257FD5) | (old & 0x1A0000);
	else
		fl = (old & ~0xFFFFULL) | (fl & 0xFFFF);
	s.rsp = (s.rsp & ~s.mask) | ((s.rsp + 3 * (uint64_t)w) & s.mask);
	stk_commit(cpu, &s);
	cpu_set_rflags(cpu, fl);
	seg_load_real(cpu, SEG_CS, cs);
	cpu->next_rip = ip;
	cpu->nmi_blocked = false;
	cpu->vmx.virtual_nmi_blocked = false; /* SDM 27.3: IRET ends virtual-NMI blocking */
	cpu->vmx.iret_unblocking = false;
}

/*
 * IRETQ in 64-bit mode back to the same privilege level and a 64-bit code segment: the
 * return of every exception and interrupt handler of a 64-bit kernel. The general path
 * below makes the SDM's checks in order (SDM Vol.2 IRET "IA-32e-MODE", "RETURN-TO-SAME-
 * PRIVILEGE-LEVEL"); here the same checks are one predicate over reads that can neither
 * fault nor write: the frame and both descriptors are TLB hits, and the descriptors'
 * accessed bits are already set, so SDM 3.4.5.1 writes nothing. If it holds, the commit
 * is the general path's; if not, nothing has changed and the general path runs.
 */
static bool iretq_same_level(struct cpu *cpu)
{
	unsigned cpl = cpu->cpl;
	const uint8_t *p = lin_hit(cpu, cpu->gpr[RSP], 40, ACC_READ);
	if (!p)
		return false;
	uint64_t f[5]; /* RIP, CS, RFLAGS, RSP, SS */
	memcpy(f, p, sizeof(f));
	uint16_t sel = (uint16_t)f[1], ss = (uint16_t)f[4];
	uint64_t d[2] = { 0, 0 }, sd[2] = { 0, 0 };
	/* CS as far_check_return_cs() and far_target_ok() check it, with RPL = CPL: code,
	 * DPL = RPL (<= RPL if conforming), present, L = 1 and D = 0, RIP canonical. */
	if ((sel & 0xFFFC) == 0 || (sel & 3) != cpl || !seg_peek_desc(cpu, sel, d))
		return false;
	if (!desc_is_code(d[0]) || !(desc_type(d[0]) & 1) || !desc_p(d[0]) ||
	    (desc_conforming(d[0]) ? desc_dpl(d[0]) > cpl : desc_dpl(d[0]) != cpl) ||
	    !desc_l(d[0]) || desc_db(d[0]) || !is_canonical(f[0]))
		return false;
	/* SS as far_check_outer_ss() checks it: null only below CPL 3 (the target is
	 * 64-bit), else RPL = DPL = CPL, writable data, present. */
	if ((ss & 0xFFFC) == 0) {
		if (cpl == 3)
			return false;
	} else if ((ss & 3) != cpl || !seg_peek_desc(cpu, ss, sd) ||
		   !desc_writable_data(sd[0]) || !(desc_type(sd[0]) & 1) ||
		   desc_dpl(sd[0]) != cpl || !desc_p(sd[0])) {
		return false;
	}
	cpu_set_rflags(cpu, iret_flags(cpu, f[2], 3));
	far_enter(cpu, sel, d, cpl, f[0]);
	far_load_outer_stack(cpu, ss, sd, cpl, f[3], true);
	cpu->nmi_blocked = false;
	cpu->vmx.virtual_nmi_blocked = false; /* SDM 27.3: IRET ends virtual-NMI blocking */
	cpu->vmx.iret_unblocking = false;
	return true;
}

void exec_IRET(struct cpu *cpu, const struct insn *in)
{
	if (unlikely(cpu->vmx.non_root))
		vmx_iret_begin(cpu); /* SDM 29.2.2 bit 12: NMI unblocking due to IRET */
	if (cpu->mode == MODE_REAL) {
		iret_real(cpu, in);
		return;
	}
	if (cpu->mode == MODE_VM86)
		cpu_gp(cpu, 0); /* not implemented: VM86 IRET (see above) */
	if (cpu->rflags & RFLAGS_NT) {
		task_iret(cpu); /* SDM Vol.2 IRET "TASK-RETURN" */
		return;
	}
	if (cpu->mode == MODE_LONG64 && in->osz == 3 && iretq_same_level(cpu))
		return;
	int w = 1 << in->osz;
	uint64_t d[2], ssd[2] = { 0, 0 };
	struct stk s;
	stk_current(cpu, &s);
	uint64_t f[3]; /* RIP, CS, RFLAGS: at once if no read can fault (stk_peek) */
	if (!stk_peek(cpu, &s, 0, w, 3, f)) {
		f[0] = stk_read(cpu, &s, 0, w);
		f[1] = stk_read(cpu, &s, w, 2);
		f[2] = stk_read(cpu, &s, 2 * (uint64_t)w, w);
	}
	uint64_t rip = f[0], fl = f[2];
	uint16_t sel = (uint16_t)f[1];
	if (!cpu_is_ia32e(cpu) && w == 4 && (fl & RFLAGS_VM) && cpu->cpl == 0)
		cpu_gp(cpu, 0); /* return to virtual-8086 mode: not implemented */
	far_check_return_cs(cpu, sel, d);
	unsigned rpl = sel & 3;
	bool to64 = cpu_is_ia32e(cpu) && desc_l(d[0]);
	/* 64-bit mode always pops SS:RSP (SDM 6.14.3); elsewhere only for an outer ring. */
	bool pop_ss = rpl > cpu->cpl || cpu_is_64(cpu);
	uint64_t rsp = 0;
	uint16_t ss = 0;
	if (pop_ss) {
		/* Read after the CS checks, which may write the CS descriptor's accessed
		 * bit: SS:RSP are read as the SDM orders it even if the GDT aliases the
		 * stack. */
		if (stk_peek(cpu, &s, 3 * (uint64_t)w, w, 2, f)) {
			rsp = f[0];
			ss = (uint16_t)f[1];
		} else {
			rsp = stk_read(cpu, &s, 3 * (uint64_t)w, w);
			ss = (uint16_t)stk_read(cpu, &s, 4 * (uint64_t)w, 2);
		}
		far_check_outer_ss(cpu, ss, rpl, to64, ssd);
	}
	if (!far_target_ok(cpu, d, rip))
		cpu_gp(cpu, 0);

	bool outer = rpl > cpu->cpl;
	cpu_set_rflags(cpu, iret_flags(cpu, fl, in->osz));
	far_enter(cpu, sel, d, rpl, rip);
	if (pop_ss) {
		far_load_outer_stack(cpu, ss, ssd, rpl, rsp, to64);
	} else {
		s.rsp = (s.rsp & ~s.mask) | ((s.rsp + 3 * (uint64_t)w) & s.mask);
		stk_commit(cpu, &s);
	}
	if (outer)
		seg_null_outer(cpu);
	cpu->nmi_blocked = false;
	cpu->vmx.virtual_nmi_blocked = false; /* SDM 27.3: IRET ends virtual-NMI blocking */
	cpu->vmx.iret_unblocking = false;
}
