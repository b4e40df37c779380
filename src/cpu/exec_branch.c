/*
 * Near control transfers: JMP JMP_IND Jcc CALL CALL_IND RET LOOP LOOPE LOOPNE JCXZ
 * (SDM Vol.2 pages of the same names). Far transfers are in exec_far.c.
 *
 * A target is truncated to the operand size (a 16-bit IP wraps at 64K), then checked:
 * #GP(0) if non-canonical in 64-bit mode, or beyond CS.limit outside it. The check
 * comes before any other state change (the return-address push of CALL, the rCX
 * decrement of LOOP), so a faulting branch leaves everything as it was.
 */
#include "cpu/exec_util.h"

static inline bool canonical(const struct cpu *cpu, uint64_t a)
{
	int vbits = (cpu->cr4 & CR4_LA57) ? 57 : 48;
	return (uint64_t)((int64_t)(a << (64 - vbits)) >> (64 - vbits)) == a;
}

static inline uint64_t near_target(struct cpu *cpu, uint64_t target, int osz)
{
	target &= size_mask(osz);
	if (cpu->mode == MODE_LONG64) {
		if (unlikely(!canonical(cpu, target)))
			cpu_gp(cpu, 0);
	} else if (unlikely(target > cpu->seg[SEG_CS].limit)) {
		cpu_gp(cpu, 0);
	}
	return target;
}

void branch_near(struct cpu *cpu, uint64_t target, int osz)
{
	cpu->next_rip = near_target(cpu, target, osz);
}

/* Relative targets: the displacement (imm, sign-extended) from the next instruction. */
void exec_JMP(struct cpu *cpu, const struct insn *in)
{
	branch_near(cpu, cpu->next_rip + in->imm, in->osz);
}

void exec_JMP_IND(struct cpu *cpu, const struct insn *in)
{
	branch_near(cpu, opE_read(cpu, in), in->osz);
}

void exec_JCC(struct cpu *cpu, const struct insn *in)
{
	if (cpu_cond(cpu, in->cc))
		branch_near(cpu, cpu->next_rip + in->imm, in->osz);
}

void exec_CALL(struct cpu *cpu, const struct insn *in)
{
	uint64_t t = near_target(cpu, cpu->next_rip + in->imm, in->osz);
	stack_push(cpu, in->osz, cpu->next_rip);
	cpu->next_rip = t;
}

/* CALL r/m: the target is read first (a memory operand using rSP sees the old rSP). */
void exec_CALL_IND(struct cpu *cpu, const struct insn *in)
{
	uint64_t t = near_target(cpu, opE_read(cpu, in), in->osz);
	stack_push(cpu, in->osz, cpu->next_rip);
	cpu->next_rip = t;
}

/* RET / RET imm16: pop the target, check it, then release imm16 more bytes. */
void exec_RET(struct cpu *cpu, const struct insn *in)
{
	int sasz = stack_asz(cpu);
	uint64_t t = near_target(cpu, stack_peek(cpu, in->osz, 0), in->osz);
	uint64_t sp = cpu->gpr[RSP] + (1u << in->osz) + (in->imm & 0xFFFF);
	reg_write(cpu, RSP, sasz, false, sp);
	cpu->next_rip = t;
}

/*
 * LOOP/LOOPE/LOOPNE: the counter is rCX at the address size; it is decremented, and
 * the branch taken if it is not zero (and ZF matches). rCX is written only after the
 * target check, so a #GP leaves it unchanged (faults restore state, SDM 6.5).
 */
static void loop_op(struct cpu *cpu, const struct insn *in, int zf_want)
{
	uint64_t cx = (cpu->gpr[RCX] - 1) & size_mask(in->asz);
	bool take = cx != 0;
	if (take && zf_want >= 0)
		take = cpu_cond(cpu, 4) == (zf_want != 0); /* cc 4 = E (ZF) */
	uint64_t t = take ? near_target(cpu, cpu->next_rip + in->imm, in->osz) : 0;
	reg_write(cpu, RCX, in->asz, false, cx);
	if (take)
		cpu->next_rip = t;
}

void exec_LOOP(struct cpu *cpu, const struct insn *in) { loop_op(cpu, in, -1); }
void exec_LOOPE(struct cpu *cpu, const struct insn *in) { loop_op(cpu, in, 1); }
void exec_LOOPNE(struct cpu *cpu, const struct insn *in) { loop_op(cpu, in, 0); }

/* JCXZ/JECXZ/JRCXZ by address size. */
void exec_JCXZ(struct cpu *cpu, const struct insn *in)
{
	if ((cpu->gpr[RCX] & size_mask(in->asz)) == 0)
		branch_near(cpu, cpu->next_rip + in->imm, in->osz);
}
