/*
 * VM entry (SDM ch.28): the sequence after VMLAUNCH/VMRESUME's own checks
 * (vmx_launch.c), shared by the instructions and the native API.
 *
 *   28.2    checks on the controls, then on the host-state area   -> VMfailValid 7, 8
 *   28.3.1  checks on the guest-state area                        -> failure exit 33
 *   28.3.2  loading the guest state
 *   28.4    the VM-entry MSR-load list                            -> failure exit 34
 *   28.7    interruptibility, activity, pending debug exceptions, preemption timer
 *   28.6    event injection through the guest IDT
 *
 * A VM-entry failure during or after loading guest state (SDM 28.8) is a VM exit with
 * bit 31 of the exit reason set, taken by vmx_vmexit() (vmx_exit*.c), which records
 * only the exit reason and qualification, saves no guest state and stores no MSRs.
 */
#include "cpu/vmx/vmx_entry.h"

bool vmx_entry_check_failed(struct cpu *cpu, const char *what)
{
	cpu->vmx.entry_failed_check = what;
	return false;
}

bool vmx_cr0_fixed_ok(uint64_t cr0, bool unrestricted)
{
	uint64_t fixed0 = VMX_CR0_FIXED0;
	if (unrestricted)
		fixed0 &= ~(uint64_t)(CR0_PE | CR0_PG);
	return (cr0 & fixed0) == fixed0 && !(cr0 & ~(uint64_t)VMX_CR0_FIXED1);
}

bool vmx_cr4_fixed_ok(const struct cpu *cpu, uint64_t cr4)
{
	uint64_t fixed1 = 0;
	vmx_cap_msr(cpu, MSR_IA32_VMX_CR4_FIXED1, &fixed1);
	return (cr4 & VMX_CR4_FIXED0) == VMX_CR4_FIXED0 && !(cr4 & ~fixed1);
}

/* SDM 28.8: a VM-entry failure during or after loading guest state. */
static void entry_failure_exit(struct cpu *cpu, uint32_t basic_reason, uint64_t qual)
{
	struct vmx_exit_info x = {
		.reason = basic_reason | EXIT_REASON_ENTRY_FAILURE,
		.qualification = qual,
	};
	vmx_vmexit(cpu, &x);
}

enum vmx_result vmx_vmentry(struct cpu *cpu, bool launch)
{
	struct vmcs *v = cpu->vmx.current;
	cpu->vmx.entry_failed_check = NULL;
	/* SDM 28.2: controls first, then the host state (a software VMM only). */
	if (!vmx_check_controls(cpu, v)) {
		vmx_set_insn_error(cpu, VMXERR_ENTRY_INVALID_CONTROL_FIELD);
		return VMX_FAIL_VALID;
	}
	if (cpu->vmx.host == VMX_HOST_SOFTWARE && !vmx_check_host_state(cpu, v)) {
		vmx_set_insn_error(cpu, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD);
		return VMX_FAIL_VALID;
	}
	/* SDM 28.3.1: the guest state, before anything is loaded. */
	uint64_t qual;
	if (!vmx_check_guest_state(cpu, v, &qual)) {
		entry_failure_exit(cpu, EXIT_REASON_INVALID_STATE, qual);
		return VMX_SUCCEED;
	}
	/* SDM 28.8 step 3: after a failure, blocking by NMI is what it was before. */
	bool nmi_blocked = cpu->nmi_blocked;
	vmx_load_guest_state(cpu, v);
	uint32_t bad = vmx_load_entry_msrs(cpu, v);
	if (bad) {
		cpu->nmi_blocked = nmi_blocked;
		entry_failure_exit(cpu, EXIT_REASON_MSR_LOAD_FAIL, bad);
		return VMX_SUCCEED;
	}
	/* The entry succeeds (SDM 32.3 VMLAUNCH "Operation"). */
	if (launch)
		v->launch_state = VMCS_STATE_LAUNCHED;
	vmx_cache_controls(cpu, v);
	cpu->vmx.non_root = true;
	cpu->vmx.exit_pending = false;
	vmx_load_event_state(cpu, v);
	vmx_inject_event(cpu, v);
	return VMX_SUCCEED;
}
