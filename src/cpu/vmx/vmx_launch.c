/*
 * VMLAUNCH and VMRESUME: the instructions (SDM 32.3) and the C API (cpu/vmx.h), both
 * ending in vmx_vmentry() (vmx_entry.c).
 *
 * The instructions' order of checks (SDM 32.3 VMLAUNCH/VMRESUME "Operation"):
 *   #UD outside VMX operation, with CR0.PE = 0, RFLAGS.VM = 1 or in compatibility
 *   mode; a VM exit in non-root operation (vmx_intercepted(), bound before this
 *   handler); #GP(0) at CPL > 0; VMfailInvalid without a current VMCS;
 *   VMfailValid(26) when events are blocked by MOV SS; VMfailValid(4) for VMLAUNCH of
 *   a VMCS that is not clear, (5) for VMRESUME of one that is not launched; then VM
 *   entry (VMfailValid 7 or 8 from its control and host-state checks).
 *
 * After a successful VM entry the instruction completes with the logical processor in
 * non-root operation at the guest's RIP; VMLAUNCH/VMRESUME end their decoded block
 * (exec.c block_ends), so the next fetch is decoded for non-root operation. A VM-entry
 * failure exit (SDM 28.8) leaves the processor at the host RIP, like any VM exit.
 */
#include "cpu/flags.h"
#include "cpu/vmx/vmx_entry.h"

/* The checks after the #UD/#GP ones, shared by both forms: VMX_SUCCEED to go on. */
static enum vmx_result launch_state_ok(struct cpu *cpu, bool launch)
{
	if (!cpu->vmx.current)
		return VMX_FAIL_INVALID;
	uint32_t state = cpu->vmx.current->launch_state;
	if (launch && state != VMCS_STATE_CLEAR)
		return vmx_fail(cpu, VMXERR_VMLAUNCH_NONCLEAR_VMCS);
	if (!launch && state != VMCS_STATE_LAUNCHED)
		return vmx_fail(cpu, VMXERR_VMRESUME_NONLAUNCHED_VMCS);
	return VMX_SUCCEED;
}

/* SDM 32.3: "events are blocked by MOV SS". The run loop clears the shadow as the
 * instruction starts but leaves its kind (exec.c run_single), which says whether this
 * instruction runs in a MOV-SS shadow. */
static bool blocked_by_mov_ss(const struct cpu *cpu)
{
	return cpu->intr_shadow_kind & SHADOW_MOVSS;
}

/* SDM 32.3 VMLAUNCH/VMRESUME executed by a software VMM, in the SDM's order: #UD and
 * #GP(0), no current VMCS (VMfailInvalid), events blocked by MOV SS (VMfail 26), the
 * launch state (VMfail 4, 5), then VM entry (SDM ch.28). */
static void exec_entry(struct cpu *cpu, bool launch)
{
	vmx_insn_root_checks(cpu); /* #UD, then #GP(0) at CPL > 0 */
	bool tf = cpu->rflags & RFLAGS_TF;
	if (cpu->vmx.host != VMX_HOST_SOFTWARE)
		cpu_ud(cpu); /* a native VMM's guest is never in root operation */
	enum vmx_result r = VMX_SUCCEED;
	if (!cpu->vmx.current)
		r = VMX_FAIL_INVALID;
	else if (blocked_by_mov_ss(cpu))
		r = vmx_fail(cpu, VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS);
	else
		r = launch_state_ok(cpu, launch);
	if (r == VMX_SUCCEED)
		r = vmx_vmentry(cpu, launch);
	if (r != VMX_SUCCEED) {
		vmx_set_rflags(cpu, r); /* VMfail: on to the next instruction */
		return;
	}
	/* In the guest (or back at the host RIP after a failure exit): RIP is where
	 * execution goes on; nothing of VMsucceed is written to RFLAGS. The VMM's own
	 * single-step trap does not follow it into the guest, whose debug traps come
	 * from the pending-debug-exceptions field (SDM 28.7.3). */
	if (tf)
		cpu->tf_no_trap = true;
	cpu->next_rip = cpu->rip;
}

void exec_VMLAUNCH(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	exec_entry(cpu, true);
}

void exec_VMRESUME(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	exec_entry(cpu, false);
}

/* The C API: the same checks where they mean something for native code (there is no
 * MOV SS, CPL or mode in native code), then VM entry, then the guest runs until the
 * next VM exit (vmx_run_native, vmx_run.c). A VM-entry failure exit (SDM 28.8) is a
 * VM exit too: VMX_SUCCEED with bit 31 in the exit reason. */
static enum vmx_result native_entry(struct cpu *cpu, bool launch)
{
	if (cpu->vmx.host != VMX_HOST_NATIVE || cpu->vmx.non_root)
		return VMX_FAIL_INVALID;
	enum vmx_result r = launch_state_ok(cpu, launch);
	if (r == VMX_SUCCEED)
		r = vmx_vmentry(cpu, launch);
	if (r != VMX_SUCCEED)
		return r;
	/* Also after a failure exit or an exit during injection: vmx_run_native()
	 * reports an exit already pending without running the guest. */
	return vmx_run_native(cpu);
}

enum vmx_result vmx_vmlaunch(struct cpu *cpu)
{
	return native_entry(cpu, true);
}

enum vmx_result vmx_vmresume(struct cpu *cpu)
{
	return native_entry(cpu, false);
}
