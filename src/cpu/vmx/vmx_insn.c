/*
 * Entering and leaving VMX operation as instructions executed by software on the
 * silicon: VMXON, VMXOFF, and VMCALL/VMFUNC in VMX root operation (SDM 32.3). The
 * VMCS instructions are in vmx_insn_vmcs.c, INVEPT/INVVPID in vmx_insn_inv.c,
 * VMLAUNCH/VMRESUME in vmx_launch.c. In VMX non-root operation every one of these
 * but VMFUNC is a VM exit taken by vmx_intercepted() before the handler runs.
 */
#include <string.h>

#include "cpu/sys.h"
#include "cpu/vmx/vmx_internal.h"

/* The 64-bit memory operand of VMXON, VMCLEAR, VMPTRLD (m64; the decoder raised #UD
 * for a register operand). Faults as any data read through in->seg. */
uint64_t vmx_insn_read_m64(struct cpu *cpu, const struct insn *in)
{
	return mem_read(cpu, in->seg, insn_ea(cpu, in), 3);
}

/* SDM 32.3 VMXON outside VMX operation, #GP(0) cases: CPL above 0, A20M mode (not
 * modelled), CR0 or CR4 outside IA32_VMX_CR0/CR4_FIXED0/1, IA32_FEATURE_CONTROL not
 * locked, or (outside SMX operation, the only kind here) its "VMX outside SMX"
 * enable bit 2 clear (SDM 25.7). */
static void vmxon_gp_checks(struct cpu *cpu)
{
	uint64_t need = FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
	if (cpu->cpl != 0 || !vmx_cr0_allowed(cpu, cpu->cr0) ||
	    !vmx_cr4_allowed(cpu, cpu->cr4) || (cpu->feature_control & need) != need)
		cpu_gp(cpu, 0);
}

/* SDM 32.3 VMXON: the region must be a valid pointer (4-KByte aligned, within
 * MAXPHYADDR) whose first 32 bits hold the revision identifier with bit 31 clear;
 * otherwise VMfailInvalid (there is no current VMCS to report to). */
static enum vmx_result vmxon_enter(struct cpu *cpu, uint64_t addr)
{
	struct vmcs *region = vmx_region_ptr(cpu, addr);
	uint32_t rev;
	if (!region)
		return VMX_FAIL_INVALID;
	memcpy(&rev, region, sizeof(rev));
	if (rev != VMX_REVISION_ID) /* rev[30:0] mismatch, or rev[31] = 1 */
		return VMX_FAIL_INVALID;
	/* SDM 32.3 VMXON: no current VMCS (pointer all ones), VMX root operation, INIT
	 * blocked. A blocked INIT stays pending in cpu->events (exception.c consults
	 * vmx_init_blocked()). */
	cpu->vmx.host = VMX_HOST_SOFTWARE;
	cpu->vmx.non_root = false;
	cpu->vmx.vmxon_ptr = addr;
	cpu->vmx.current_ptr = VMX_NO_VMCS;
	cpu->vmx.current = NULL;
	return VMX_SUCCEED;
}

void exec_VMXON(struct cpu *cpu, const struct insn *in)
{
	/* SDM 32.3 VMXON, #UD first: CR4.VMXE = 0, real mode (CR0.PE = 0), virtual-8086
	 * mode, compatibility mode (a register operand was #UD in the decoder). */
	if (!(cpu->cr4 & CR4_VMXE) || !cpu_is_prot(cpu) || cpu->mode == MODE_COMPAT16 ||
	    cpu->mode == MODE_COMPAT32)
		cpu_ud(cpu);
	if (cpu->vmx.non_root)
		cpu_ud(cpu); /* VM exit, taken by vmx_intercepted(); not reached */
	if (cpu->vmx.host != VMX_HOST_NONE) {
		/* SDM 32.3 VMXON in VMX root operation: #GP(0) above CPL 0, else
		 * VMfail with error 15. */
		if (cpu->cpl != 0)
			cpu_gp(cpu, 0);
		vmx_set_rflags(cpu, vmx_fail(cpu, VMXERR_VMXON_IN_VMX_ROOT_OPERATION));
		return;
	}
	vmxon_gp_checks(cpu);
	uint64_t addr = vmx_insn_read_m64(cpu, in);
	vmx_set_rflags(cpu, vmxon_enter(cpu, addr));
}

/* SDM 32.3 VMXOFF: leaves VMX operation, INIT is no longer blocked. No dual-monitor
 * treatment exists, so error 23 cannot occur. Leaving VMX operation drops the
 * current-VMCS pointer; the CR0/CR4 fixed bits stop applying (SDM 25.8). */
void exec_VMXOFF(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	vmx_insn_root_checks(cpu);
	cpu->vmx.host = VMX_HOST_NONE;
	cpu->vmx.non_root = false;
	cpu->vmx.current = NULL;
	cpu->vmx.current_ptr = VMX_NO_VMCS;
	cpu->vmx.vmxon_ptr = 0;
	vmx_set_rflags(cpu, VMX_SUCCEED);
}

/* SDM 32.3 VMCALL, in this order: #UD outside VMX operation; a VM exit in non-root
 * operation; #UD in virtual-8086 or compatibility mode; #GP(0) above CPL 0; then, in
 * root operation on a processor without the dual-monitor treatment of SMIs and SMM
 * (IA32_VMX_BASIC[49] = 0 here), VMfail with error 1. */
void exec_VMCALL(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	if (cpu->vmx.host == VMX_HOST_NONE)
		cpu_ud(cpu);
	if (cpu->vmx.non_root)
		cpu_ud(cpu); /* VM exit, taken by vmx_intercepted(); not reached */
	if (!cpu_is_prot(cpu) || cpu->mode == MODE_COMPAT16 || cpu->mode == MODE_COMPAT32)
		cpu_ud(cpu);
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
	vmx_set_rflags(cpu, vmx_fail(cpu, VMXERR_VMCALL_IN_ROOT));
}

/* SDM 32.3 VMFUNC: #UD outside VMX non-root operation, and in non-root operation
 * unless "enable VM functions" is 1, which this silicon does not allow
 * (IA32_VMX_PROCBASED_CTLS2[45] = 0): always #UD. */
void exec_VMFUNC(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}
