/*
 * Entering and leaving VMX operation as instructions executed by software on the
 * silicon: VMXON, VMXOFF, and VMCALL/VMFUNC in VMX root operation (SDM 32.3). The
 * VMCS instructions are in vmx_insn_vmcs.c, INVEPT/INVVPID in vmx_insn_inv.c,
 * VMLAUNCH/VMRESUME in vmx_launch.c. In VMX non-root operation every one of these
 * but VMFUNC is a VM exit taken by vmx_intercepted() before the handler runs.
 */
#include <string.h>

#include "cpu/msr.h"
#include "cpu/sys.h"
#include "cpu/vmx/vmx_internal.h"

/* The 64-bit memory operand of VMXON, VMCLEAR, VMPTRLD (m64; the decoder raised #UD
 * for a register operand). Faults as any data read through in->seg. */
uint64_t vmx_insn_read_m64(struct cpu *cpu, const struct insn *in)
{
	return mem_read(cpu, in->seg, insn_ea(cpu, in), 3);
}

/* SDM 32.3 VMXON, outside VMX operation: "IF (CPL > 0) or (in A20M mode) or (the
 * values of CR0 and CR4 are not supported in VMX operation) or (bit 0 (lock bit) of
 * IA32_FEATURE_CONTROL MSR is clear) or (outside SMX operation and bit 2 of
 * IA32_FEATURE_CONTROL MSR is clear) THEN #GP(0)". A20M is not modelled; there is
 * no SMX operation. */
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
	/* "current-VMCS pointer <- FFFFFFFF_FFFFFFFFH; enter VMX operation; block INIT
	 * signals; ...". INIT stays pending in cpu->events while blocked: handled in
	 * exception.c (handle_init_sipi) by vmx_init_blocked(). */
	cpu->vmx.host = VMX_HOST_SOFTWARE;
	cpu->vmx.non_root = false;
	cpu->vmx.vmxon_ptr = addr;
	cpu->vmx.current_ptr = VMX_NO_VMCS;
	cpu->vmx.current = NULL;
	return VMX_SUCCEED;
}

void exec_VMXON(struct cpu *cpu, const struct insn *in)
{
	/* SDM 32.3 VMXON: "IF (register operand) or (CR0.PE = 0) or (CR4.VMXE = 0) or
	 * (RFLAGS.VM = 1) or (IA32_EFER.LMA = 1 and CS.L = 0) THEN #UD". */
	if (!(cpu->cr4 & CR4_VMXE) || !cpu_is_prot(cpu) || cpu->mode == MODE_COMPAT16 ||
	    cpu->mode == MODE_COMPAT32)
		cpu_ud(cpu);
	if (cpu->vmx.non_root)
		cpu_ud(cpu); /* VM exit, taken by vmx_intercepted(); not reached */
	if (cpu->vmx.host != VMX_HOST_NONE) {
		/* "ELSIF CPL > 0 THEN #GP(0); ELSE VMfail("VMXON executed in VMX root
		 * operation")" (error 15). */
		if (cpu->cpl != 0)
			cpu_gp(cpu, 0);
		vmx_set_rflags(cpu, vmx_fail(cpu, VMXERR_VMXON_IN_VMX_ROOT_OPERATION));
		return;
	}
	vmxon_gp_checks(cpu);
	uint64_t addr = vmx_insn_read_m64(cpu, in);
	vmx_set_rflags(cpu, vmxon_enter(cpu, addr));
}

/* SDM 32.3 VMXOFF: "leave VMX operation; unblock INIT; ... VMsucceed". No dual-monitor
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

/* SDM 32.3 VMCALL: "IF not in VMX operation THEN #UD; ELSIF in VMX non-root operation
 * THEN VM exit; ELSIF (RFLAGS.VM = 1) or (IA32_EFER.LMA = 1 and CS.L = 0) THEN #UD;
 * ELSIF CPL > 0 THEN #GP(0); ELSIF in SMM or the logical processor does not support
 * the dual-monitor treatment of SMIs and SMM or the valid bit in the
 * IA32_SMM_MONITOR_CTL MSR is clear THEN VMfail(VMCALL executed in VMX root
 * operation)". No dual-monitor treatment here (IA32_VMX_BASIC[49] = 0): error 1. */
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
