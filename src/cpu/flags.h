/*
 * Arithmetic flags, evaluated lazily.
 *
 * Flag-setting instructions record their operands and result in cpu->lf; CF, PF, AF,
 * ZF, SF and OF are computed only when read (Jcc, PUSHF, ...). The other RFLAGS bits
 * (TF, IF, DF, IOPL, ...) always live in cpu->rflags.
 */
#ifndef TURTLES_CPU_FLAGS_H
#define TURTLES_CPU_FLAGS_H

#include "cpu/cpu.h"

enum lf_op {
	LF_NONE,   /* the arithmetic flags are in cpu->rflags */
	LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC, LF_NEG,
	/* Shifts by a non-zero masked count: src1 = the original value, src2 = the count
	 * (1..63), res = the result (exec_shift.c). */
	LF_SHL, LF_SHR, LF_SAR,
	/* MUL/IMUL: res = low half of the product, src1 = 1 if the product does not fit
	 * (CF = OF = src1), src2 unused. */
	LF_MUL,
	LF_COUNT_
};

/* Record a flag-setting result. res/src are already truncated to the size. For INC/DEC
 * the caller keeps CF: it is materialised into rflags first (flags.c does it). */
void flags_set_lazy(struct cpu *cpu, enum lf_op op, int osz, uint64_t res, uint64_t src1,
		    uint64_t src2);

/* Fold the lazy flags into cpu->rflags (lf.op becomes LF_NONE). */
void flags_materialize(struct cpu *cpu);

/* Full RFLAGS (materialised). */
static inline uint64_t cpu_get_rflags(struct cpu *cpu)
{
	if (cpu->lf.op != 0)
		flags_materialize(cpu);
	return cpu->rflags;
}

/* Replace RFLAGS (the caller applies privilege masks). Keeps bit 1 set. Changing VM
 * requires cpu_update_mode(). */
static inline void cpu_set_rflags(struct cpu *cpu, uint64_t v)
{
	cpu->lf.op = 0;
	cpu->rflags = (v & 0x3F7FD7ULL) | RFLAGS_FIXED1;
}

/* Condition code 0..15 as in Jcc (SDM Vol.2 Appendix B.1.4.7). */
bool cpu_cond(struct cpu *cpu, int cc);

/* --- fast paths for executors (flags.c documents the evaluation) -------------- */

/* flags_set_lazy() for every op except LF_INC/LF_DEC (which must keep CF), inline. */
static inline void flags_record(struct cpu *cpu, enum lf_op op, int osz, uint64_t res,
				uint64_t src1, uint64_t src2)
{
	cpu->lf.res = res;
	cpu->lf.src1 = src1;
	cpu->lf.src2 = src2;
	cpu->lf.op = (uint8_t)op;
	cpu->lf.size = (uint8_t)osz;
}

/* CF without materialising the other flags (ADC, SBB, RCL, RCR, SALC, ...). */
bool flags_cf(struct cpu *cpu);

/* SF, ZF and PF of a result truncated to osz (SDM Vol.1 3.4.3.1). */
static inline uint64_t flags_szp(uint64_t res, int osz)
{
	uint64_t f = (res >> ((8 << osz) - 8)) & RFLAGS_SF;
	f |= (uint64_t)(res == 0) << 6;
	f |= (uint64_t)!__builtin_parity((unsigned)(res & 0xFF)) << 2;
	return f;
}

/* Set all six arithmetic flags at once (eager ops that define or choose all six). */
static inline void flags_set_arith(struct cpu *cpu, uint64_t arith)
{
	cpu->lf.op = LF_NONE;
	cpu->rflags = (cpu->rflags & ~RFLAGS_ARITH) | arith;
}

/* Replace the arithmetic flags in mask with bits, keeping the others. */
static inline void flags_update(struct cpu *cpu, uint64_t mask, uint64_t bits)
{
	if (cpu->lf.op != LF_NONE)
		flags_materialize(cpu);
	cpu->rflags = (cpu->rflags & ~mask) | (bits & mask);
}

#endif
