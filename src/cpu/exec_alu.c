/*
 * Two-operand arithmetic and logic (ADD OR ADC SBB AND SUB XOR CMP TEST) and the
 * one-operand INC DEC NEG NOT. SDM Vol.2 instruction pages; flags per Vol.1 Appendix A.
 *
 * Forms (insn.h): FORM_EG (E op= G), FORM_GE (G op= E), FORM_EI (E op= imm; the
 * accumulator forms arrive as E = register 0). The flags are recorded lazily (flags.c)
 * after the destination is written, so a faulting write changes nothing. LOCK needs no
 * work: all CPUs run on one host thread, so a read-modify-write is atomic.
 */
#include "cpu/exec_util.h"

/* Destination value and source of a binary op; *ea is the memory operand. E is read
 * at one place (one inlined TLB probe per handler); a memory destination has its
 * write permission checked first (rmw_read). */
EXEC_INLINE uint64_t bin_read(struct cpu *cpu, const struct insn *in, uint64_t *src,
			      uint64_t *ea, bool writes)
{
	uint64_t e;
	*ea = 0;
	if (in->flags & INSN_MEM) {
		*ea = insn_ea(cpu, in);
		if (writes && in->form != FORM_GE)
			rmw_check(cpu, in->seg, *ea, in->osz);
		e = mem_read(cpu, in->seg, *ea, in->osz);
	} else {
		e = reg_read(cpu, in->rm, in->osz, insn_rex(in));
	}
	switch (in->form) {
	case FORM_GE:
		*src = e;
		return opG_read(cpu, in);
	case FORM_EG:
		*src = opG_read(cpu, in);
		return e;
	default: /* FORM_EI */
		*src = in->imm & size_mask(in->osz);
		return e;
	}
}

EXEC_INLINE void bin_write(struct cpu *cpu, const struct insn *in, uint64_t ea, uint64_t v)
{
	if (in->form == FORM_GE)
		opG_write(cpu, in, v);
	else
		rmw_write(cpu, in, ea, v);
}

#define BINOP(NAME, LF, WRITES, EXPR)                                              \
	void exec_##NAME(struct cpu *cpu, const struct insn *in)                   \
	{                                                                           \
		uint64_t s, ea;                                                     \
		uint64_t d = bin_read(cpu, in, &s, &ea, WRITES);                    \
		uint64_t r = (EXPR) & size_mask(in->osz);                           \
		if (WRITES)                                                         \
			bin_write(cpu, in, ea, r);                                  \
		flags_record(cpu, LF, in->osz, r, d, s);                            \
	}

BINOP(ADD, LF_ADD, true, d + s)
BINOP(OR, LF_LOGIC, true, d | s)
BINOP(ADC, LF_ADC, true, d + s + flags_cf(cpu))
BINOP(SBB, LF_SBB, true, d - s - flags_cf(cpu))
BINOP(AND, LF_LOGIC, true, d & s)
BINOP(SUB, LF_SUB, true, d - s)
BINOP(XOR, LF_LOGIC, true, d ^ s)
BINOP(CMP, LF_SUB, false, d - s)
BINOP(TEST, LF_LOGIC, false, d & s)

/* One-operand forms: FORM_E, or FORM_G for INC/DEC 40+r outside 64-bit mode. */
EXEC_INLINE uint64_t un_read(struct cpu *cpu, const struct insn *in, uint64_t *ea)
{
	if (in->form == FORM_G) {
		*ea = 0;
		return opG_read(cpu, in);
	}
	return rmw_read(cpu, in, ea);
}

EXEC_INLINE void un_write(struct cpu *cpu, const struct insn *in, uint64_t ea, uint64_t v)
{
	if (in->form == FORM_G)
		opG_write(cpu, in, v);
	else
		rmw_write(cpu, in, ea, v);
}

void exec_INC(struct cpu *cpu, const struct insn *in)
{
	uint64_t ea, d = un_read(cpu, in, &ea);
	uint64_t r = (d + 1) & size_mask(in->osz);
	un_write(cpu, in, ea, r);
	flags_set_lazy(cpu, LF_INC, in->osz, r, d, 1); /* keeps CF (SDM INC) */
}

void exec_DEC(struct cpu *cpu, const struct insn *in)
{
	uint64_t ea, d = un_read(cpu, in, &ea);
	uint64_t r = (d - 1) & size_mask(in->osz);
	un_write(cpu, in, ea, r);
	flags_set_lazy(cpu, LF_DEC, in->osz, r, d, 1);
}

/* NEG: flags of 0 - d (SDM NEG: CF = (d != 0)). */
void exec_NEG(struct cpu *cpu, const struct insn *in)
{
	uint64_t ea, d = un_read(cpu, in, &ea);
	uint64_t r = (0 - d) & size_mask(in->osz);
	un_write(cpu, in, ea, r);
	flags_record(cpu, LF_NEG, in->osz, r, 0, d);
}

/* NOT: no flags affected. */
void exec_NOT(struct cpu *cpu, const struct insn *in)
{
	uint64_t ea, d = un_read(cpu, in, &ea);
	un_write(cpu, in, ea, ~d & size_mask(in->osz));
}
