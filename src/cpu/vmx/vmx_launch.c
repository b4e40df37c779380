/*
 * VMLAUNCH and VMRESUME: the instructions (SDM 32.3) and the C API (cpu/vmx.h), both
 * ending in vmx_vmentry(). Placeholder: #UD until VM entry is implemented.
 */
#include "cpu/vmx/vmx_internal.h"

void exec_VMLAUNCH(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

void exec_VMRESUME(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

enum vmx_result vmx_vmlaunch(struct cpu *cpu)
{
	(void)cpu;
	return VMX_FAIL_INVALID;
}

enum vmx_result vmx_vmresume(struct cpu *cpu)
{
	(void)cpu;
	return VMX_FAIL_INVALID;
}
