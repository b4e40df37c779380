/*
 * VMX instructions: #UD until the VMX issue implements them (being replaced by
 * the VMX implementation). Without VMX (CPUID.1:ECX.VMX = 0, CR4.VMXE reserved), every VMX
 * instruction is #UD (SDM Vol.3C 31.3 "VMX Instructions": #UD outside VMX operation,
 * which cannot be entered). VMFUNC is #UD outside VMX non-root operation.
 */
#include "cpu/exec.h"

void exec_VMCALL(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

void exec_VMXOFF(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

void exec_VMXON(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

void exec_VMCLEAR(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

void exec_VMPTRLD(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

void exec_VMPTRST(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

void exec_VMREAD(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

void exec_VMWRITE(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

void exec_INVEPT(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

void exec_INVVPID(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

void exec_VMFUNC(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}
