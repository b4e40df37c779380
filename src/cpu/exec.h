/*
 * Internal interface of the executor: handler prototypes and operand access.
 *
 * A handler runs with cpu->rip at the instruction and cpu->next_rip at the one after
 * it; it commits by returning (the run loop then sets rip = next_rip). Branches set
 * next_rip. A fault calls cpu_exception(), which unwinds to the run loop with rip still
 * at the faulting instruction, so handlers must do every check and every access that
 * can fault before they change architectural state (read, compute, then write memory,
 * then write registers).
 */
#ifndef TURTLES_CPU_EXEC_H
#define TURTLES_CPU_EXEC_H

#include "cpu/cpu.h"
#include "cpu/exception.h"
#include "cpu/flags.h"
#include "cpu/insn.h"
#include "cpu/mem.h"

typedef void (*exec_fn)(struct cpu *cpu, const struct insn *in);

#define OP(name, intercept) void exec_##name(struct cpu *cpu, const struct insn *in);
#include "cpu/ops.def"
#undef OP

static inline uint64_t size_mask(int osz)
{
	return osz >= 3 ? ~0ULL : (1ULL << (8 << osz)) - 1;
}

static inline uint64_t sign_extend(uint64_t v, int osz)
{
	int shift = 64 - (8 << osz);
	return (uint64_t)((int64_t)(v << shift) >> shift);
}

/* --- registers --------------------------------------------------------------- */

/* 8-bit register r: without REX, 4-7 are AH, CH, DH, BH (SDM Vol.1 3.7.2.1). */
static inline uint64_t reg_read(const struct cpu *cpu, int r, int osz, bool rex)
{
	switch (osz) {
	case 0:
		if (!rex && r >= 4 && r < 8)
			return (cpu->gpr[r - 4] >> 8) & 0xFF;
		return cpu->gpr[r] & 0xFF;
	case 1: return cpu->gpr[r] & 0xFFFF;
	case 2: return (uint32_t)cpu->gpr[r];
	default: return cpu->gpr[r];
	}
}

/* 8- and 16-bit writes merge; 32-bit writes zero-extend to 64 (SDM Vol.1 3.4.1.1). */
static inline void reg_write(struct cpu *cpu, int r, int osz, bool rex, uint64_t v)
{
	switch (osz) {
	case 0:
		if (!rex && r >= 4 && r < 8)
			cpu->gpr[r - 4] = (cpu->gpr[r - 4] & ~0xFF00ULL) | ((v & 0xFF) << 8);
		else
			cpu->gpr[r] = (cpu->gpr[r] & ~0xFFULL) | (v & 0xFF);
		break;
	case 1: cpu->gpr[r] = (cpu->gpr[r] & ~0xFFFFULL) | (v & 0xFFFF); break;
	case 2: cpu->gpr[r] = (uint32_t)v; break;
	default: cpu->gpr[r] = v; break;
	}
}

static inline bool insn_rex(const struct insn *in)
{
	return in->flags & INSN_REX;
}

/* --- operands ---------------------------------------------------------------- */

/* Effective address (offset within in->seg), truncated to the address size. */
static inline uint64_t insn_ea(const struct cpu *cpu, const struct insn *in)
{
	uint64_t ea;
	if (in->flags & INSN_MOFFS)
		ea = in->imm;
	else {
		ea = (uint64_t)(int64_t)in->disp;
		if (in->base == REG_RIP)
			ea += cpu->next_rip;
		else if (in->base != REG_NONE)
			ea += cpu->gpr[in->base];
		if (in->index != REG_NONE)
			ea += cpu->gpr[in->index] << in->scale;
	}
	return ea & size_mask(in->asz);
}

static inline uint64_t opE_read(struct cpu *cpu, const struct insn *in)
{
	if (in->flags & INSN_MEM)
		return mem_read(cpu, in->seg, insn_ea(cpu, in), in->osz);
	return reg_read(cpu, in->rm, in->osz, insn_rex(in));
}

static inline void opE_write(struct cpu *cpu, const struct insn *in, uint64_t v)
{
	if (in->flags & INSN_MEM)
		mem_write(cpu, in->seg, insn_ea(cpu, in), in->osz, v);
	else
		reg_write(cpu, in->rm, in->osz, insn_rex(in), v);
}

static inline uint64_t opG_read(const struct cpu *cpu, const struct insn *in)
{
	return reg_read(cpu, in->reg, in->osz, insn_rex(in));
}

static inline void opG_write(struct cpu *cpu, const struct insn *in, uint64_t v)
{
	reg_write(cpu, in->reg, in->osz, insn_rex(in), v);
}

/* --- stack (SDM Vol.1 6.2): address size from SS.B outside 64-bit mode ---------- */

static inline int stack_asz(const struct cpu *cpu)
{
	if (cpu->mode == MODE_LONG64)
		return 3;
	return (cpu->seg[SEG_SS].ar & AR_DB) ? 2 : 1;
}

/* Push/pop of 2, 4 or 8 bytes (osz 1..3). The write happens before RSP changes, so a
 * fault leaves RSP untouched. */
void stack_push(struct cpu *cpu, int osz, uint64_t v);
uint64_t stack_pop(struct cpu *cpu, int osz);
/* Read the value at [rSP + offset] without popping (IRET, RET far). */
uint64_t stack_peek(struct cpu *cpu, int osz, uint64_t offset);

/* --- control transfer helpers ------------------------------------------------ */

/* Near branch to target (truncated to the operand size); #GP(0) if non-canonical in
 * 64-bit mode or beyond CS.limit elsewhere (SDM Vol.2 JMP). */
void branch_near(struct cpu *cpu, uint64_t target, int osz);

/* Recompute cpu->mode and cpl after CR0, EFER, CS or RFLAGS.VM change. */
void cpu_update_mode(struct cpu *cpu);

/* CPUID feature checks used by executors (cpu/cpuid.c). */
bool cpu_has_feature(const struct cpu *cpu, int feature);

#endif
