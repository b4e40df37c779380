/*
 * Small operand helpers shared by the integer-instruction families (exec_alu.c,
 * exec_shift.c, exec_muldiv.c, exec_bit.c, exec_mov.c, ...). Private to the executor.
 */
#ifndef TURTLES_CPU_EXEC_UTIL_H
#define TURTLES_CPU_EXEC_UTIL_H

#include "cpu/cpuid.h"
#include "cpu/exec.h"

/* For the operand helpers of the hot handlers: GCC would otherwise outline them
 * once they have a few callers, adding a call and stack traffic per instruction. */
#define EXEC_INLINE static inline __attribute__((always_inline))

/* E at an explicit size (MOVZX/MOVSX/CRC32 sources, SETcc's byte). */
EXEC_INLINE uint64_t opE_read_sz(struct cpu *cpu, const struct insn *in, int osz)
{
	if (in->flags & INSN_MEM)
		return mem_read(cpu, in->seg, insn_ea(cpu, in), osz);
	return reg_read(cpu, in->rm, osz, insn_rex(in));
}

/* Make sure that writing 1 << osz bytes at seg:ea cannot fault. A TLB write hit
 * proves it inline (present, writable, RAM); otherwise mem_check_write() does the
 * whole check. */
EXEC_INLINE void rmw_check(struct cpu *cpu, int seg, uint64_t ea, int osz)
{
	uint8_t *p;
	if (!mem_fast64(cpu, seg, ea, osz, ACC_WRITE, &p))
		mem_check_write(cpu, seg, ea, 1 << osz);
}

/*
 * Read-modify-write destination E: the write permission is checked before the read,
 * so a fault is reported as a write access (PFEC.W, SDM Vol.3A 4.7) and a read with
 * side effects (MMIO) never happens without its write. *ea is kept for rmw_write.
 */
EXEC_INLINE uint64_t rmw_read(struct cpu *cpu, const struct insn *in, uint64_t *ea)
{
	if (in->flags & INSN_MEM) {
		*ea = insn_ea(cpu, in);
		rmw_check(cpu, in->seg, *ea, in->osz);
		return mem_read(cpu, in->seg, *ea, in->osz);
	}
	*ea = 0;
	return reg_read(cpu, in->rm, in->osz, insn_rex(in));
}

EXEC_INLINE void rmw_write(struct cpu *cpu, const struct insn *in, uint64_t ea, uint64_t v)
{
	if (in->flags & INSN_MEM)
		mem_write(cpu, in->seg, ea, in->osz, v);
	else
		reg_write(cpu, in->rm, in->osz, insn_rex(in), v);
}

/* The VEX.vvvv register operand (BMI1/BMI2: 32- or 64-bit only). */
static inline uint64_t opV_read(const struct cpu *cpu, const struct insn *in)
{
	return in->osz == 3 ? cpu->gpr[in->vvvv] : (uint32_t)cpu->gpr[in->vvvv];
}

static inline void opV_write(struct cpu *cpu, const struct insn *in, uint64_t v)
{
	cpu->gpr[in->vvvv] = in->osz == 3 ? v : (uint32_t)v;
}

/* #UD unless CPUID advertises the feature (SDM Vol.2: "#UD If CPUID.xxx = 0"); the
 * check precedes every memory access, as decode-time faults do. */
EXEC_INLINE void require_feature(struct cpu *cpu, int feature)
{
	if (unlikely(!cpu_has_feature(cpu, feature)))
		cpu_ud(cpu);
}

static inline uint64_t top_bit(uint64_t v, int osz)
{
	return (v >> ((8 << osz) - 1)) & 1;
}

#endif
