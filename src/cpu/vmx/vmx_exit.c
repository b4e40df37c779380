/*
 * VM exits (SDM ch.29): the order of the steps, the exit-information fields, and
 * the two ways an exit ends.
 *
 *   29.2  record the exit information (reason, qualification, addresses,
 *         interruption and IDT-vectoring information, instruction length/info)
 *   29.3  save the guest state                                (vmx_exit_state.c)
 *   29.4  store guest MSRs in the VM-exit MSR-store list      (vmx_exit_msr.c)
 *   29.5  load the host state: software VMM only              (vmx_exit_state.c)
 *   29.6  load host MSRs from the VM-exit MSR-load list       (vmx_exit_msr.c)
 *   29.7  a failure in 29.4-29.6 is a VMX abort               (vmx_exit_msr.c)
 *
 * With a native VMM (cpu/vmx.h) there is no host state on the silicon: the exit
 * stops after 29.4, sets cpu->vmx.exit_pending and CPU_EV_VMEXIT, and the run loop
 * returns CPU_EXIT_VMEXIT to vmx_run_native(). A VM-entry failure after the guest
 * state was checked (SDM 28.8: reasons 33, 34 with bit 31 set) records only the
 * reason and qualification and saves nothing.
 */
#include "cpu/debug.h"
#include "cpu/vmx/vmx_exit.h"

/* SDM 29.2.5: exits during delivery of a software interrupt or exception (INT n,
 * INT3, INTO, INT1) report that instruction's length. */
static bool vectoring_is_software(uint32_t vectoring)
{
	unsigned type = (vectoring & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	return (vectoring & INTR_INFO_VALID) &&
	       (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
		type == INTR_TYPE_SW_EXCEPTION);
}

/* SDM 29.2: the exit-information fields. */
static void record_exit_info(struct cpu *cpu, struct vmcs *v, const struct vmx_exit_info *info)
{
	VMCS_SET(v, VM_EXIT_REASON, info->reason);
	VMCS_SET(v, EXIT_QUALIFICATION, info->qualification);
	/* SDM 28.8: a VM-entry failure leaves every other exit-information field and the
	 * VM-entry interruption-information field as they were. */
	if (info->reason & EXIT_REASON_ENTRY_FAILURE)
		return;
	/* SDM 29.2.1: defined for some reasons (EPT violations and misconfigurations,
	 * INS/OUTS, ...) and undefined for the rest, which get what the caller gave
	 * (0 if nothing). */
	VMCS_SET(v, GUEST_LINEAR_ADDRESS, info->guest_linear);
	VMCS_SET(v, GUEST_PHYSICAL_ADDRESS, info->guest_physical);
	/* SDM 29.2.2: valid only for exits caused by a vectored event (bit 31 = 0 for
	 * the rest); the error code only when bit 11 says there is one. */
	VMCS_SET(v, VM_EXIT_INTR_INFO, info->intr_info);
	if ((info->intr_info & (INTR_INFO_VALID | INTR_INFO_DELIVER_CODE)) ==
	    (INTR_INFO_VALID | INTR_INFO_DELIVER_CODE))
		VMCS_SET(v, VM_EXIT_INTR_ERROR_CODE, info->intr_error);
	/* SDM 29.2.4: the event being delivered when the exit happened, if any. */
	uint32_t vectoring = cpu->vmx.vectoring_info;
	VMCS_SET(v, IDT_VECTORING_INFO_FIELD, vectoring);
	if (vectoring & INTR_INFO_DELIVER_CODE)
		VMCS_SET(v, IDT_VECTORING_ERROR_CODE, cpu->vmx.vectoring_error);
	uint32_t len = info->insn_len;
	if (!len && vectoring_is_software(vectoring))
		len = (uint32_t)(cpu->next_rip - cpu->rip) & 0xF;
	VMCS_SET(v, VM_EXIT_INSTRUCTION_LEN, len);
	VMCS_SET(v, VMX_INSTRUCTION_INFO, info->insn_info);
	/* SDM 29.2 (last step of recording): the valid bit of the VM-entry
	 * interruption-information field is cleared on every VM exit. */
	VMCS_SET(v, VM_ENTRY_INTR_INFO_FIELD,
		 VMCS_GET(v, VM_ENTRY_INTR_INFO_FIELD) & ~(uint64_t)INTR_INFO_VALID);
}

/* The non-root state that does not outlive the exit. */
static void leave_non_root(struct cpu *cpu)
{
	cpu->vmx.non_root = false;
	cpu->vmx.vectoring_info = 0;
	cpu->vmx.vectoring_error = 0;
	cpu->vmx.preempt_active = false;
	vmx_preempt_disarm(cpu);
	cpu->vmx.mtf_pending = false;
	cpu->vmx.virtual_nmi_blocked = false;
	cpu->vmx.iret_unblocking = false;
	/* SDM 31.4.3.2: a VM exit before APIC-write emulation cancels it. */
	cpu->vmx.apic_write_size = 0;
	cpu->events &= ~CPU_EV_VMX;
	/* The guest's STI/MOV-SS blocking is in the VMCS now; none is left for the
	 * VMM's next instruction (exec.c keeps the kind during an instruction). */
	cpu->intr_shadow = 0;
	cpu->intr_shadow_kind = 0;
}

/* A native VMM has no state on the silicon: the CPU stops here and the run loop
 * returns to vmx_run_native(). The guest's registers stay in struct cpu until the
 * next VM entry loads the guest state again. */
static void finish_native_exit(struct cpu *cpu)
{
	cpu->vmx.exit_pending = true;
	cpu->events |= CPU_EV_VMEXIT;
	cpu->halted = false;
	cpu->wait_for_sipi = false;
}

static void vmexit(struct cpu *cpu, const struct vmx_exit_info *exit, bool in_insn)
{
	struct vmcs *v = cpu->vmx.current;
	bool entry_failure = exit->reason & EXIT_REASON_ENTRY_FAILURE;
	uint32_t abort = 0;
	struct vmx_exit_info copy = *exit;
	const struct vmx_exit_info *info = &copy;
	if (in_insn && !entry_failure)
		vmx_iret_unblocking(cpu, &copy); /* the exit may interrupt an IRET */
	record_exit_info(cpu, v, info);
	if (!entry_failure)
		vmx_save_guest_state_at(cpu, v, info, in_insn);
	/* SDM 29.4 stores the MSRs' values, not what RDMSR would read in non-root
	 * operation (IA32_TSC without the TSC offset): leave it first. */
	leave_non_root(cpu);
	if (!entry_failure && !vmx_store_guest_msrs(cpu, v))
		abort = VMX_ABORT_SAVE_GUEST_MSR;
	if (abort) {
		vmx_abort(cpu, v, abort);
		return;
	}
	if (cpu->vmx.host != VMX_HOST_SOFTWARE) {
		finish_native_exit(cpu);
		vmx_tlb_transition(cpu);
		return;
	}
	bool nmi_blocked = vmx_host_nmi_blocking(info, cpu->nmi_blocked);
	abort = vmx_load_host_state(cpu, v);
	cpu->nmi_blocked = nmi_blocked;
	if (!abort && !vmx_load_host_msrs(cpu, v))
		abort = VMX_ABORT_LOAD_HOST_MSR;
	if (abort)
		vmx_abort(cpu, v, abort);
}

void vmx_vmexit(struct cpu *cpu, const struct vmx_exit_info *info)
{
	vmexit(cpu, info, false);
}

noreturn void vmx_exit_unwind(struct cpu *cpu, const struct vmx_exit_info *info)
{
	/* The instruction (or delivery) did not complete: what it met for #DB traps is
	 * not reported (as for a fault, debug.h). */
	debug_drop_hits(cpu);
	vmexit(cpu, info, true);
	longjmp(cpu->fault_jmp, CPU_UNWIND_VMEXIT);
}

noreturn void vmx_exit_insn(struct cpu *cpu, const struct insn *in, uint32_t reason,
			    uint64_t qualification)
{
	/* SDM 29.2.5: instruction exits report the instruction's length. */
	struct vmx_exit_info info = {
		.reason = reason, .qualification = qualification, .insn_len = in->len,
	};
	vmx_exit_unwind(cpu, &info);
}
