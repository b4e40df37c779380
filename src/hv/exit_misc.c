/*
 * The remaining exit handlers: HLT, the exits L0 only resumes from, exceptions/NMIs,
 * the preemption timer, EPT violations and misconfigurations, triple fault, the VMX
 * and other instructions L0 refuses or ignores, VMCALL, RDTSC(P). Exit reasons are
 * SDM App. C; their causes SDM 27.1 (instructions) and 27.2 (events).
 */
#include "hv/hv_internal.h"

/* HLT exiting (exit reason 12, SDM 27.1.3; no qualification): L0 halts the vCPU
 * itself, as KVM's kvm_emulate_halt(), so that the vmm can run the others and idle the
 * clock; an interrupt that can be taken wakes it (SDM Vol.2 HLT). */
enum hv_action hv_exit_hlt(struct hv_vcpu *v)
{
	hv_skip_insn(v);
	v->halted_if = hv_vmread(v, VMCS_GUEST_RFLAGS) & RFLAGS_IF;
	if (hv_vcpu_has_wakeup(v))
		return HV_RESUME;
	v->mp = HV_MP_HALTED;
	return HV_YIELD;
}

/* Exits whose cause L0 deals with elsewhere; no qualification (SDM 27.2):
 *   - interrupt window (7) and NMI window (8): the window opened, and
 *     hv_inject_pending() injects at the next entry (KVM's handle_interrupt_window);
 *   - external interrupt (1): the silicon's own INTR pin, which only L0's kick drives
 *     at level 1 (irqchip.c), to bring a running vCPU out for an event that
 *     hv_inject_pending() then delivers (KVM's handle_external_interrupt);
 *   - INIT (3) and SIPI (4): the silicon's pins are not driven at level 1 (the
 *     virtual LAPIC signals the vCPU, irqchip.c). */
enum hv_action hv_exit_resume(struct hv_vcpu *v)
{
	(void)v;
	return HV_RESUME;
}

/* Exception or NMI (exit reason 0, SDM 27.2; VM-exit interruption information, SDM
 * 26.9.2 Table 26-19). The exception bitmap is 0, so only an NMI on the silicon's pin
 * exits here: L0 gives the silicon back to the vmm. */
enum hv_action hv_exit_exception_nmi(struct hv_vcpu *v)
{
	uint32_t info = (uint32_t)hv_vmread(v, VMCS_VM_EXIT_INTR_INFO);
	if (((info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT) == INTR_TYPE_NMI)
		return HV_YIELD;
	/* The exception bitmap is 0: no exception should exit. */
	return hv_shutdown(v, "unexpected exception exit (interruption info %#x)", info);
}

/* VMX-preemption timer expired (exit reason 52, SDM 27.5.1): the slice is over. */
enum hv_action hv_exit_preemption_timer(struct hv_vcpu *v)
{
	(void)v;
	return HV_YIELD;
}

/* An event delivery (IDT, stack) touched a page EPT01 does not map (SDM 29.2.4: the
 * exit reports the event as IDT-vectoring information). L0 cannot complete a
 * delivery by emulation. If the page is unassigned (no RAM, no device: on the bare PC
 * writes there vanish and reads float), L0 backs it with its scratch page, as the
 * silicon's bus does at level 0, and the event is re-delivered at the next entry. A
 * device page there is a guest bug L0 cannot follow: the VM shuts down. */
static enum hv_action ept_violation_in_delivery(struct hv_vcpu *v, gpa_t gpa)
{
	struct hv_vm *vm = v->vm;
	bool unassigned = gpa >= vm->guest_ram && !bus_find_mmio(vm->guest, gpa) &&
			  (gpa & ~0xFFFULL) != hv_apic_page(v);
	if (!unassigned || !vm->scratch_page ||
	    ept01_map(&vm->ept, gpa & ~0xFFFULL, vm->scratch_page, HV_PAGE, EPT_READ | EPT_WRITE))
		return hv_shutdown(v, "event delivery touched device memory at %#llx",
				   (unsigned long long)gpa);
	vmx_invept(v->cpu, INVEPT_SINGLE_CONTEXT, ept01_eptp(&vm->ept));
	return HV_RESUME;
}

/* EPT violation (exit reason 48, SDM 30.3.3.2; qualification SDM 29.2.1 Table 29-7,
 * guest-physical address in the VMCS). A page EPT01 leaves unmapped is a device page:
 * emulate the access (KVM's handle_ept_violation -> MMIO emulation). A RAM page is
 * always mapped, so a violation there is L0's bug (reported). */
enum hv_action hv_exit_ept_violation(struct hv_vcpu *v)
{
	gpa_t gpa = hv_vmread(v, VMCS_GUEST_PHYSICAL_ADDRESS);
	uint64_t q = hv_vmread(v, VMCS_EXIT_QUALIFICATION);
	if (hv_vmread(v, VMCS_IDT_VECTORING_INFO_FIELD) & INTR_INFO_VALID)
		return ept_violation_in_delivery(v, gpa);
	if (q & EPTQUAL_FETCH) /* code on a device or unassigned page: emulate_insn.c */
		return hv_emulate_insn(v, "fetched from device memory at", gpa);
	if (gpa < v->vm->guest_ram && bus_ram_ptr(v->vm->guest, gpa) &&
	    !bus_find_mmio(v->vm->guest, gpa))
		return hv_shutdown(v, "EPT violation on guest RAM at %#llx (qualification %#llx)",
				   (unsigned long long)gpa, (unsigned long long)q);
	/* SDM 29.2.3: an EPT violation in an IRET that unblocked NMIs reports bit 12;
	 * with virtual NMIs the blocking must be restored before re-entry. */
	if (q & EPTQUAL_NMI_UNBLOCKED_BY_IRET) {
		uint64_t intr = hv_vmread(v, VMCS_GUEST_INTERRUPTIBILITY_INFO);
		hv_vmwrite(v, VMCS_GUEST_INTERRUPTIBILITY_INFO, intr | INTERRUPTIBILITY_NMI);
	}
	return hv_emulate_mmio(v, gpa);
}

/* EPT misconfiguration (exit reason 49, SDM 30.3.3.1): EPT01 is L0's own, so this
 * is L0's bug. KVM uses misconfigured entries on purpose for fast MMIO; L0 does not. */
enum hv_action hv_exit_ept_misconfig(struct hv_vcpu *v)
{
	return hv_shutdown(v, "EPT misconfiguration at %#llx (L0's EPT01 is wrong)",
			   (unsigned long long)hv_vmread(v, VMCS_GUEST_PHYSICAL_ADDRESS));
}

/* Triple fault (exit reason 2, SDM 27.2): the guest's shutdown, not L0's (KVM
 * reports KVM_EXIT_SHUTDOWN to the vmm). */
enum hv_action hv_exit_triple_fault(struct hv_vcpu *v)
{
	v->vm->triple_fault = true;
	return hv_shutdown(v, "triple fault");
}

/* Instructions L1's CPUID says it does not have, so they are #UD as on a processor
 * without them (SDM Vol.2, each instruction's #UD list): the VMX instructions and
 * VMFUNC (CPUID.1:ECX.VMX = 0; they exit unconditionally, SDM 27.1.2, as KVM's
 * handle_vmx_instruction without nested) and XSETBV (CPUID.1:ECX.XSAVE = 0; exits
 * unconditionally). RIP stays at the instruction. */
enum hv_action hv_exit_undefined_insn(struct hv_vcpu *v)
{
	hv_inject_exception(v, EXC_UD, 0);
	return HV_RESUME;
}

/* VMCALL (exit reason 18) always exits in non-root operation (SDM 27.1.2): a
 * hypercall. L0 defines none yet and answers as KVM does for an unknown number: RAX =
 * -KVM_ENOSYS (-1000), or -KVM_EPERM (-1) from CPL > 0 (CPL is SS.DPL, SDM 26.4.1);
 * 32 bits outside 64-bit mode. */
#define HC_ENOSYS (-1000)
#define HC_EPERM (-1)

enum hv_action hv_exit_vmcall(struct hv_vcpu *v)
{
	unsigned cpl = (unsigned)(hv_vmread(v, VMCS_GUEST_SS_AR_BYTES) & AR_DPL_MASK) >> AR_DPL_SHIFT;
	uint64_t ret = (uint64_t)(int64_t)(cpl ? HC_EPERM : HC_ENOSYS);
	v->cpu->gpr[RAX] = hv_guest_64bit_code(v) ? ret : (uint32_t)ret;
	hv_skip_insn(v);
	return HV_RESUME;
}

/* INVD (exits unconditionally, SDM 27.1.2) and WBINVD (WBINVD exiting, 27.1.3):
 * caches are not modelled; the instruction completes (KVM skips them too). MONITOR
 * and MWAIT (MONITOR/MWAIT exiting, 27.1.3) likewise: KVM's default runs them as
 * NOPs (an MWAIT that returns at once is allowed, SDM Vol.2 MWAIT). */
enum hv_action hv_exit_nop_insn(struct hv_vcpu *v)
{
	hv_skip_insn(v);
	return HV_RESUME;
}

/* RDTSC (16) and RDTSCP (51): RDTSC exiting (SDM 27.1.3) is off; if they exit
 * anyway, the guest TSC is virtual ns plus its offset (SDM 26.6.5). */
enum hv_action hv_exit_rdtsc(struct hv_vcpu *v)
{
	hv_set_edx_eax(v, clock_now(v->vm->clock) + v->tsc_offset);
	hv_skip_insn(v);
	return HV_RESUME;
}

enum hv_action hv_exit_rdtscp(struct hv_vcpu *v)
{
	v->cpu->gpr[RCX] = (uint32_t)v->cpu->tsc_aux; /* the guest's own IA32_TSC_AUX */
	return hv_exit_rdtsc(v);
}
