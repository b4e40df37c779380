/*
 * CLC STC CMC CLD STD (SDM Vol.2 pages of the same names). CF is lazy (flags.c); DF
 * always lives in rflags. CLI/STI/CLAC/STAC depend on privilege and belong with the
 * system instructions.
 */
#include "cpu/exec.h"

void exec_CLC(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	flags_update(cpu, RFLAGS_CF, 0);
}

void exec_STC(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	flags_update(cpu, RFLAGS_CF, RFLAGS_CF);
}

void exec_CMC(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu->rflags = cpu_get_rflags(cpu) ^ RFLAGS_CF;
}

void exec_CLD(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu->rflags &= ~RFLAGS_DF;
}

void exec_STD(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu->rflags |= RFLAGS_DF;
}
