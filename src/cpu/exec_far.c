/*
 * Far JMP, far CALL and far RET (SDM Vol.2 JMP, CALL, RET "Operation"; SDM Vol.3A
 * 5.8 "Privilege Level Checking When Transferring Program Control Between Code
 * Segments"). Call gates are exec_gate.c; a far JMP/CALL to a TSS or a task gate
 * switches tasks (task.c; IA-32e mode: #GP(selector), SDM 8.7).
 */
#include "cpu/far.h"
#include "cpu/task.h"

/* The far pointer: ptr16:16/32 from the instruction (EA, 9A) or m16:16/32/64 from
 * memory (FF /3, FF /5; the offset first, the selector after it). */
static void far_operand(struct cpu *cpu, const struct insn *in, uint16_t *sel, uint64_t *off)
{
	if (in->form == FORM_E || (in->flags & INSN_MEM)) {
		if (!(in->flags & INSN_MEM))
			cpu_ud(cpu);
		uint64_t ea = insn_ea(cpu, in);
		*off = mem_read(cpu, in->seg, ea, in->osz);
		*sel = (uint16_t)mem_read(cpu, in->seg, (ea + (1u << in->osz)) & size_mask(in->asz), 1);
	} else {
		*off = in->imm & size_mask(in->osz);
		*sel = in->imm2;
	}
}

bool far_target_ok(const struct cpu *cpu, const uint64_t d[2], uint64_t off)
{
	if (cpu_is_ia32e(cpu) && desc_l(d[0]))
		return is_canonical(off); /* 64-bit target (SDM Vol.2 JMP "IA-32e mode") */
	struct seg s;
	seg_from_descriptor(&s, 0, d);
	return off <= s.limit;
}

void far_check_code(struct cpu *cpu, uint16_t sel, const uint64_t d[2])
{
	unsigned dpl = desc_dpl(d[0]);
	/* SDM 5.8.1: conforming needs DPL <= CPL; non-conforming RPL <= CPL, DPL = CPL. */
	if (desc_conforming(d[0]) ? dpl > cpu->cpl : ((sel & 3) > cpu->cpl || dpl != cpu->cpl))
		cpu_gp(cpu, sel_err(sel, 0));
	if (!desc_p(d[0]))
		cpu_exception(cpu, EXC_NP, sel_err(sel, 0));
	if (!code_desc_long_ok(cpu, d[0]))
		cpu_gp(cpu, sel_err(sel, 0));
	seg_set_accessed(cpu, sel, d[0]);
}

void far_enter(struct cpu *cpu, uint16_t sel, const uint64_t d[2], unsigned cpl, uint64_t rip)
{
	seg_load_cs(cpu, sel, d, cpl);
	cpu->next_rip = rip;
}

/* Read the descriptor of a far JMP/CALL target: #GP(0) for null, #GP(sel) outside the
 * table (SDM Vol.2 JMP "IF segment selector in target operand NULL THEN #GP(0)"). */
static void far_fetch(struct cpu *cpu, uint16_t sel, uint64_t d[2])
{
	if ((sel & 0xFFFC) == 0)
		cpu_gp(cpu, 0);
	seg_fetch_desc(cpu, sel, d, false, EXC_GP, 0);
}

/* Is d a call gate usable in this mode (32/16-bit in legacy mode, 64-bit in IA-32e)? */
static bool is_call_gate(const struct cpu *cpu, const uint64_t d[2])
{
	unsigned t = desc_type(d[0]);
	return !desc_s(d[0]) && (t == SYS_CALL || (t == SYS_CALL16 && !cpu_is_ia32e(cpu)));
}

/* --- JMP far ------------------------------------------------------------------- */

void exec_JMP_FAR(struct cpu *cpu, const struct insn *in)
{
	uint16_t sel;
	uint64_t off, d[2];
	far_operand(cpu, in, &sel, &off);
	if (!cpu_is_prot(cpu)) {
		/* Real/virtual-8086 mode: the offset must lie within the CS limit. */
		if (off > cpu->seg[SEG_CS].limit)
			cpu_gp(cpu, 0);
		seg_load_real(cpu, SEG_CS, sel);
		cpu->next_rip = off;
		return;
	}
	far_fetch(cpu, sel, d);
	if (desc_is_code(d[0])) {
		far_check_code(cpu, sel, d);
		if (!far_target_ok(cpu, d, off))
			cpu_gp(cpu, 0);
		far_enter(cpu, sel, d, cpu->cpl, off);
		return;
	}
	if (task_far(cpu, sel, d, false))
		return; /* TSS or task gate: the offset is not used */
	if (!is_call_gate(cpu, d))
		cpu_gp(cpu, sel_err(sel, 0));
	gate_jmp(cpu, sel, d);
}

/* --- CALL far ------------------------------------------------------------------ */

/* Push the return CS:IP on the current stack (both writes checked before rSP moves). */
static void push_return(struct cpu *cpu, int w)
{
	struct stk s;
	stk_current(cpu, &s);
	stk_push(cpu, &s, w, cpu->seg[SEG_CS].sel);
	stk_push(cpu, &s, w, cpu->next_rip);
	stk_commit(cpu, &s);
}

void exec_CALL_FAR(struct cpu *cpu, const struct insn *in)
{
	uint16_t sel;
	uint64_t off, d[2];
	int w = 1 << in->osz;
	far_operand(cpu, in, &sel, &off);
	if (!cpu_is_prot(cpu)) {
		if (off > cpu->seg[SEG_CS].limit)
			cpu_gp(cpu, 0);
		push_return(cpu, w);
		seg_load_real(cpu, SEG_CS, sel);
		cpu->next_rip = off;
		return;
	}
	far_fetch(cpu, sel, d);
	if (desc_is_code(d[0])) {
		far_check_code(cpu, sel, d);
		if (!far_target_ok(cpu, d, off))
			cpu_gp(cpu, 0);
		push_return(cpu, w);
		far_enter(cpu, sel, d, cpu->cpl, off);
		return;
	}
	if (task_far(cpu, sel, d, true))
		return; /* TSS or task gate: nothing is pushed, the back link returns */
	if (!is_call_gate(cpu, d))
		cpu_gp(cpu, sel_err(sel, 0));
	gate_call(cpu, sel, d);
}

/* --- RET far ------------------------------------------------------------------- */

/* SS for a return to an outer ring (SDM Vol.2 RET "RETURN-TO-OUTER-PRIVILEGE-LEVEL";
 * shared with IRET). A null SS is allowed only for a return to 64-bit mode at RPL < 3. */
void far_check_outer_ss(struct cpu *cpu, uint16_t ss, unsigned rpl, bool to64, uint64_t d[2])
{
	if ((ss & 0xFFFC) == 0) {
		if (!to64 || rpl == 3)
			cpu_gp(cpu, 0);
		d[0] = d[1] = 0;
		return;
	}
	seg_fetch_desc(cpu, ss, d, false, EXC_GP, 0);
	if ((ss & 3) != rpl || !desc_writable_data(d[0]) || desc_dpl(d[0]) != rpl)
		cpu_gp(cpu, sel_err(ss, 0));
	if (!desc_p(d[0]))
		cpu_exception(cpu, EXC_SS, sel_err(ss, 0));
	seg_set_accessed(cpu, ss, d[0]);
}

/* Return-CS checks shared by RET far and IRET (SDM Vol.2 RET "PROTECTED-MODE"). */
void far_check_return_cs(struct cpu *cpu, uint16_t sel, uint64_t d[2])
{
	unsigned rpl = sel & 3;
	if ((sel & 0xFFFC) == 0)
		cpu_gp(cpu, 0);
	seg_fetch_desc(cpu, sel, d, false, EXC_GP, 0);
	if (!desc_is_code(d[0]) || rpl < cpu->cpl)
		cpu_gp(cpu, sel_err(sel, 0));
	if (desc_conforming(d[0]) ? desc_dpl(d[0]) > rpl : desc_dpl(d[0]) != rpl)
		cpu_gp(cpu, sel_err(sel, 0));
	if (!desc_p(d[0]))
		cpu_exception(cpu, EXC_NP, sel_err(sel, 0));
	if (!code_desc_long_ok(cpu, d[0]))
		cpu_gp(cpu, sel_err(sel, 0));
	seg_set_accessed(cpu, sel, d[0]);
}

/* Load SS:RSP of an outer ring: the new SS, or a null SS with RPL (64-bit mode). The
 * stack pointer width follows the new stack (SS.B, or 64-bit code). */
void far_load_outer_stack(struct cpu *cpu, uint16_t ss, const uint64_t d[2], unsigned rpl,
			  uint64_t rsp, bool to64)
{
	if ((ss & 0xFFFC) == 0) {
		seg_make_null(&cpu->seg[SEG_SS], ss, rpl);
		cpu_update_mode(cpu);
	} else {
		seg_load_ss(cpu, ss, d, rpl);
	}
	if (to64)
		cpu->gpr[RSP] = rsp;
	else if (cpu->seg[SEG_SS].ar & AR_DB)
		cpu->gpr[RSP] = (uint32_t)rsp;
	else
		cpu->gpr[RSP] = (cpu->gpr[RSP] & ~0xFFFFULL) | (rsp & 0xFFFF);
}

static void ret_far_real(struct cpu *cpu, const struct insn *in, int w)
{
	struct stk s;
	stk_current(cpu, &s);
	uint64_t ip = stk_read(cpu, &s, 0, w);
	uint16_t cs = (uint16_t)stk_read(cpu, &s, w, 2);
	if (ip > cpu->seg[SEG_CS].limit)
		cpu_gp(cpu, 0);
	s.rsp = (s.rsp & ~s.mask) | ((s.rsp + 2 * (uint64_t)w + (in->imm & 0xFFFF)) & s.mask);
	stk_commit(cpu, &s);
	seg_load_real(cpu, SEG_CS, cs);
	cpu->next_rip = ip;
}

void exec_RET_FAR(struct cpu *cpu, const struct insn *in)
{
	int w = 1 << in->osz;
	uint64_t imm = in->imm & 0xFFFF, d[2], ssd[2];
	if (!cpu_is_prot(cpu)) {
		ret_far_real(cpu, in, w);
		return;
	}
	struct stk s;
	stk_current(cpu, &s);
	uint64_t rip = stk_read(cpu, &s, 0, w);
	uint16_t sel = (uint16_t)stk_read(cpu, &s, w, 2);
	unsigned rpl = sel & 3;
	far_check_return_cs(cpu, sel, d);
	bool to64 = cpu_is_ia32e(cpu) && desc_l(d[0]);
	if (rpl == cpu->cpl) {
		if (!far_target_ok(cpu, d, rip))
			cpu_gp(cpu, 0);
		s.rsp = (s.rsp & ~s.mask) | ((s.rsp + 2 * (uint64_t)w + imm) & s.mask);
		stk_commit(cpu, &s);
		far_enter(cpu, sel, d, rpl, rip);
		return;
	}
	/* Outer privilege: SS:eSP follow the parameters released by imm16. */
	uint64_t rsp = stk_read(cpu, &s, 2 * (uint64_t)w + imm, w);
	uint16_t ss = (uint16_t)stk_read(cpu, &s, 3 * (uint64_t)w + imm, 2);
	far_check_outer_ss(cpu, ss, rpl, to64, ssd);
	if (!far_target_ok(cpu, d, rip))
		cpu_gp(cpu, 0);
	far_enter(cpu, sel, d, rpl, rip);
	far_load_outer_stack(cpu, ss, ssd, rpl, rsp + imm, to64);
	seg_null_outer(cpu);
}
