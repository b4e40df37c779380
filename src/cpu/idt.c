/*
 * Event delivery through the IDT (SDM Vol.3A ch.6; SDM Vol.2 INT n "Operation").
 *
 *   real mode     IVT at IDTR.base, 4-byte entries; push FLAGS, CS, IP (SDM 20.1.4)
 *   protected     8-byte interrupt/trap gates, 16- or 32-bit; stack switch from the
 *                 TSS on a privilege change (SDM 6.12.1)
 *   IA-32e        16-byte 64-bit gates, IST, 16-byte aligned frames, SS:RSP always
 *                 pushed (SDM 6.14)
 *
 * A task gate (protected mode only) switches tasks (task.c, SDM 6.12.2).
 *
 * Not implemented (documented limits): delivery from virtual-8086 mode (the silicon
 * never enters it: IRET/POPF refuse to set VM).
 *
 * The return address pushed is RIP for faults, NMI and external interrupts (the
 * run loop leaves RIP at the faulting instruction or the next one to run), and
 * next_rip for software events (INT n, INT3, INTO, INT1), whose handlers call here
 * with RIP still at the instruction so that a fault during delivery reports it.
 */
#include <string.h>

#include "cpu/debug.h"
#include "cpu/sys.h"
#include "cpu/task.h"
#include "cpu/vmx/vmx_internal.h"

struct event {
	int vector;
	enum event_type type;
	uint32_t err;      /* NO_ERROR_CODE or the code to push */
	uint32_t ext;      /* EXT bit of error codes raised during delivery (SDM 6.13) */
	bool soft;         /* INT n / INT3 / INTO: the gate DPL is checked */
	uint64_t ret;      /* return address */
	uint64_t flags;    /* RFLAGS image to push */
};

/* Vectors of fault class, whose RFLAGS image carries RF = 1 (SDM 18.3.1.1; #DF, #MC
 * are aborts). #DB is left out: an instruction-breakpoint #DB pushes RF as it is (0),
 * a general-detect one RF = 1, which debug_fault() sets before raising it. */
static bool is_fault(int vector)
{
	return vector < 32 && vector != EXC_DB && vector != EXC_NMI && vector != EXC_BP &&
	       vector != EXC_OF && vector != EXC_DF && vector != EXC_MC;
}

/* --- real mode --------------------------------------------------------------- */

static void deliver_real(struct cpu *cpu, const struct event *ev)
{
	uint32_t off = (uint32_t)ev->vector * 4;
	/* SDM 20.1.4 / INT n real-address mode: "IF ((vector << 2) + 3) is not within
	 * IDT limit THEN #GP". */
	if (off + 3 > cpu->idtr.limit)
		cpu_gp(cpu, 0);
	gva_t la = (uint32_t)(cpu->idtr.base + off);
	uint16_t ip = (uint16_t)lin_read(cpu, la, 1, ACC_READ | ACC_IMPLICIT);
	uint16_t cs = (uint16_t)lin_read(cpu, (uint32_t)(la + 2), 1, ACC_READ | ACC_IMPLICIT);
	struct stk s;
	stk_current(cpu, &s);
	stk_push(cpu, &s, 2, ev->flags);
	stk_push(cpu, &s, 2, cpu->seg[SEG_CS].sel);
	stk_push(cpu, &s, 2, ev->ret);
	stk_commit(cpu, &s);
	/* "IF <- 0; TF <- 0; AC <- 0" */
	cpu->rflags &= ~(RFLAGS_IF | RFLAGS_TF | RFLAGS_AC | RFLAGS_RF);
	seg_load_real(cpu, SEG_CS, cs);
	cpu->rip = cpu->next_rip = ip;
}

/* --- the target code segment (SDM 6.12.1.1) ---------------------------------- */

/* Checks the gate's code segment; returns the new CPL. */
static unsigned check_target_cs(struct cpu *cpu, const struct event *ev, uint16_t sel,
				uint64_t d[2], bool long_mode)
{
	if ((sel & 0xFFFC) == 0)
		cpu_gp(cpu, ev->ext); /* "IF new code-segment selector is NULL THEN #GP(EXT)" */
	seg_fetch_desc(cpu, sel, d, false, EXC_GP, ev->ext);
	if (!desc_is_code(d[0]) || desc_dpl(d[0]) > cpu->cpl)
		cpu_gp(cpu, sel_err(sel, ev->ext));
	if (!desc_p(d[0]))
		cpu_exception(cpu, EXC_NP, sel_err(sel, ev->ext));
	/* SDM 6.14.1: IA-32e gates must reference 64-bit code segments (L=1, D=0). */
	if (long_mode && (!desc_l(d[0]) || desc_db(d[0])))
		cpu_gp(cpu, sel_err(sel, ev->ext));
	return desc_conforming(d[0]) ? cpu->cpl : desc_dpl(d[0]);
}

/* Read and check the IDT gate (SDM 6.12.1.1, INT n "PROTECTED-MODE"). */
static void read_gate(struct cpu *cpu, const struct event *ev, uint64_t g[2], bool wide)
{
	uint32_t idt_err = (uint32_t)ev->vector * 8 + 2 + ev->ext;
	uint32_t size = wide ? 16 : 8;
	if ((uint32_t)ev->vector * size + size - 1 > cpu->idtr.limit)
		cpu_gp(cpu, idt_err);
	gva_t la = cpu->idtr.base + (uint64_t)ev->vector * size;
	if (!wide)
		la = (uint32_t)la;
	/* The gate in one TLB hit, or quadword by quadword (SDM 6.14.1: 16 bytes). */
	const uint8_t *p = lin_hit(cpu, la, (int)size, ACC_READ | ACC_IMPLICIT);
	g[1] = 0;
	if (p) {
		memcpy(&g[0], p, 8);
		if (wide)
			memcpy(&g[1], p + 8, 8);
	} else {
		g[0] = lin_read(cpu, la, 3, ACC_READ | ACC_IMPLICIT);
		if (wide)
			g[1] = lin_read(cpu, la + 8, 3, ACC_READ | ACC_IMPLICIT);
	}
	unsigned type = desc_type(g[0]);
	bool ok = wide ? type == SYS_INT || type == SYS_TRAP
		       : type == SYS_TASK || type == SYS_INT16 || type == SYS_TRAP16 ||
				 type == SYS_INT || type == SYS_TRAP;
	if (desc_s(g[0]) || !ok)
		cpu_gp(cpu, idt_err);
	/* Software interrupts check the gate DPL; INT1 and hardware events do not. */
	if (ev->soft && desc_dpl(g[0]) < cpu->cpl)
		cpu_gp(cpu, idt_err);
	if (!desc_p(g[0]))
		cpu_exception(cpu, EXC_NP, idt_err);
}

/* After the frame is written: RFLAGS per SDM 6.12.1.3 and the new CS:RIP. */
static void enter_handler(struct cpu *cpu, uint16_t sel, const uint64_t d[2], unsigned cpl,
			  uint64_t rip, unsigned gate_type)
{
	uint64_t clear = RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM;
	if (!(gate_type & 1))
		clear |= RFLAGS_IF; /* interrupt gate */
	cpu->rflags &= ~clear;
	seg_set_accessed(cpu, sel, d[0]);
	seg_load_cs(cpu, sel, d, cpl);
	cpu->rip = cpu->next_rip = rip;
}

/* --- protected mode (SDM 6.12.1) ----------------------------------------------- */

/* The inner stack for a privilege change: SS:ESP from the TSS with its checks
 * ("INTER-PRIVILEGE-LEVEL-INTERRUPT" in SDM Vol.2 INT n). */
static void inner_stack_legacy(struct cpu *cpu, const struct event *ev, unsigned cpl,
			       struct stk *s, uint64_t ssd[2], uint16_t *ss)
{
	uint32_t sp;
	tss_legacy_stack(cpu, cpl, ss, &sp, ev->ext);
	if ((*ss & 0xFFFC) == 0)
		cpu_exception(cpu, EXC_TS, ev->ext);
	seg_fetch_desc(cpu, *ss, ssd, false, EXC_TS, ev->ext);
	if ((*ss & 3) != cpl || desc_dpl(ssd[0]) != cpl || !desc_writable_data(ssd[0]))
		cpu_exception(cpu, EXC_TS, sel_err(*ss, ev->ext));
	if (!desc_p(ssd[0]))
		cpu_exception(cpu, EXC_SS, sel_err(*ss, ev->ext));
	seg_from_descriptor(&s->ss, *ss, ssd);
	s->rsp = sp;
	s->mask = (s->ss.ar & AR_DB) ? 0xFFFFFFFFULL : 0xFFFFULL;
	s->lm64 = false;
	s->vector = EXC_SS;
	s->err = sel_err(*ss, ev->ext);
	s->acc = ACC_IMPLICIT;
}

static void deliver_prot(struct cpu *cpu, const struct event *ev)
{
	uint64_t g[2], d[2], ssd[2];
	read_gate(cpu, ev, g, false);
	unsigned type = desc_type(g[0]);
	if (type == SYS_TASK) {
		/* SDM 6.12.2: the old task's EIP is the return address. */
		task_gate_event(cpu, g, ev->ext, ev->err, (uint32_t)ev->ret, (uint32_t)ev->flags);
		return;
	}
	int w = (type & 8) ? 4 : 2; /* 32-bit or 16-bit gate */
	uint16_t sel = gate_selector(g[0]);
	uint64_t rip = gate_offset(g, false) & (w == 4 ? 0xFFFFFFFFULL : 0xFFFFULL);
	unsigned cpl = check_target_cs(cpu, ev, sel, d, false);
	struct seg tcs;
	seg_from_descriptor(&tcs, sel, d);
	if (rip > tcs.limit)
		cpu_gp(cpu, ev->ext); /* "IF EIP not within code-segment limit THEN #GP(EXT)" */

	struct stk s;
	uint16_t ss = 0;
	bool inner = cpl < cpu->cpl;
	if (inner) {
		inner_stack_legacy(cpu, ev, cpl, &s, ssd, &ss);
		stk_push(cpu, &s, w, cpu->seg[SEG_SS].sel);
		stk_push(cpu, &s, w, cpu->gpr[RSP]);
	} else {
		stk_current(cpu, &s);
		s.err = ev->ext;
	}
	stk_push(cpu, &s, w, ev->flags);
	stk_push(cpu, &s, w, cpu->seg[SEG_CS].sel);
	stk_push(cpu, &s, w, ev->ret);
	if (ev->err != NO_ERROR_CODE)
		stk_push(cpu, &s, w, ev->err);
	if (inner) {
		seg_set_accessed(cpu, ss, ssd[0]);
		seg_load_ss(cpu, ss, ssd, cpl);
	}
	stk_commit(cpu, &s);
	enter_handler(cpu, sel, d, cpl, rip, type);
}

/* --- IA-32e mode (SDM 6.14) ----------------------------------------------------- */

static void deliver_long(struct cpu *cpu, const struct event *ev)
{
	uint64_t g[2], d[2];
	read_gate(cpu, ev, g, true);
	uint16_t sel = gate_selector(g[0]);
	uint64_t rip = gate_offset(g, true);
	unsigned cpl = check_target_cs(cpu, ev, sel, d, true);
	unsigned ist = (g[0] >> 32) & 7;
	if (!is_canonical(rip))
		cpu_gp(cpu, ev->ext); /* "IF instruction pointer non-canonical THEN #GP(EXT)" */

	bool inner = cpl < cpu->cpl;
	uint64_t rsp = cpu->gpr[RSP];
	if (ist)
		rsp = tss64_stack(cpu, 0, ist, ev->ext); /* SDM 6.14.5 */
	else if (inner)
		rsp = tss64_stack(cpu, cpl, 0, ev->ext);
	/* SDM 6.14.2: the new RSP is aligned to 16 bytes; every push is 8 bytes. */
	struct stk s = {
		.rsp = rsp & ~0xFULL, .mask = ~0ULL, .lm64 = true, .vector = EXC_SS,
		.err = ev->ext, .acc = inner ? ACC_IMPLICIT : 0,
	};
	const uint64_t frame[6] = { cpu->seg[SEG_SS].sel, cpu->gpr[RSP], ev->flags,
				    cpu->seg[SEG_CS].sel, ev->ret, ev->err };
	stk_push_frame(cpu, &s, ev->err != NO_ERROR_CODE ? 6 : 5, frame);
	/* SDM 6.14.4: on a privilege change SS is loaded with a null selector whose RPL
	 * is the new CPL. */
	if (inner)
		seg_make_null(&cpu->seg[SEG_SS], (uint16_t)cpl, cpl);
	cpu->gpr[RSP] = s.rsp;
	enter_handler(cpu, sel, d, cpl, rip, desc_type(g[0]));
}

void cpu_deliver_event(struct cpu *cpu, int vector, enum event_type type, uint32_t error_code)
{
	struct event ev = {
		.vector = vector & 0xFF,
		.type = type,
		.soft = type == EVENT_SW_INT || type == EVENT_SW_EXC,
	};
	ev.ext = ev.soft ? 0 : 1;
	/* INT1 is a trap-like #DB: it reports the conditions a MOV SS shadow held (the
	 * kvm-unit-tests "MOV SS + watchpoint + ICEBP" case: one #DB, not two). */
	if (unlikely(type == EVENT_PRIV_SW_EXC))
		debug_icebp(cpu);
	ev.ret = (ev.soft || type == EVENT_PRIV_SW_EXC) ? cpu->next_rip : cpu->rip;
	ev.flags = cpu_get_rflags(cpu);
	if (type == EVENT_HW_EXCEPTION && is_fault(ev.vector))
		ev.flags |= RFLAGS_RF;
	/* Error codes exist for hardware exceptions only, and not in real mode. */
	ev.err = type == EVENT_HW_EXCEPTION ? error_code : NO_ERROR_CODE;
	/* VMX non-root operation: the exception bitmap (SDM 27.2.1), and the event
	 * recorded for IDT-vectoring information until delivery completes (29.2.4). */
	if (unlikely(cpu->vmx.non_root))
		vmx_event_delivery(cpu, ev.vector, type, ev.err);
	cpu->delivering = type == EVENT_HW_EXCEPTION ? (int8_t)ev.vector : -1;

	if (cpu->mode == MODE_REAL) {
		deliver_real(cpu, &ev);
	} else if (cpu_is_ia32e(cpu)) {
		deliver_long(cpu, &ev);
	} else {
		deliver_prot(cpu, &ev);
	}
	cpu->delivering = -1;
	cpu->vmx.vectoring_info = 0; /* delivered: a later exit is not "during delivery" */
	if (type == EVENT_NMI)
		cpu->nmi_blocked = true; /* SDM 6.7.1: NMIs blocked until the next IRET */
	if (type == EVENT_EXTERNAL || type == EVENT_NMI)
		cpu->stats.interrupts++;
	if (type != EVENT_HW_EXCEPTION && type != EVENT_EXTERNAL && type != EVENT_NMI &&
	    (ev.flags & RFLAGS_TF))
		cpu->tf_no_trap = true; /* SDM 17.3.1.4: no single-step trap after INT n */
}
