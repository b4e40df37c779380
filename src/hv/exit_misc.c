/*
 * The remaining exit handlers: HLT, the interrupt and NMI windows, the preemption
 * timer, EPT violations and misconfigurations, triple fault, INIT/SIPI, the VMX and
 * other instructions L0 refuses or ignores, RDTSC(P).
 */
#include "hv/hv_internal.h"

/* HLT exiting (SDM 27.1.3): L0 halts the vCPU itself, so that the vmm can run the
 * others and idle the clock; an interrupt that can be taken wakes it (SDM Vol.2 HLT). */
enum hv_action hv_exit_hlt(struct hv_vcpu *v)
{
	hv_skip_insn(v);
	v->halted_if = hv_vmread(v, VMCS_GUEST_RFLAGS) & RFLAGS_IF;
	if (hv_vcpu_has_wakeup(v))
		return HV_RESUME;
	v->mp = HV_MP_HALTED;
	return HV_YIELD;
}

/* The windows opened (SDM 27.2): hv_inject_pending() injects at the next entry. */
enum hv_action hv_exit_intr_window(struct hv_vcpu *v)
{
	(void)v;
	return HV_RESUME;
}

enum hv_action hv_exit_nmi_window(struct hv_vcpu *v)
{
	(void)v;
	return HV_RESUME;
}

/* The silicon's own INTR pin: only L0's kick drives it at level 1 (irqchip.c), to
 * bring a running vCPU out for an event; hv_inject_pending() delivers the event at
 * the re-entry that follows. */
enum hv_action hv_exit_external_interrupt(struct hv_vcpu *v)
{
	(void)v;
	return HV_RESUME;
}

enum hv_action hv_exit_exception_nmi(struct hv_vcpu *v)
{
	uint32_t info = (uint32_t)hv_vmread(v, VMCS_VM_EXIT_INTR_INFO);
	if (((info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT) == INTR_TYPE_NMI)
		return HV_YIELD;
	/* The exception bitmap is 0: no exception should exit. */
	return hv_shutdown(v, "unexpected exception exit (interruption info %#x)", info);
}

/* SDM 27.5.1: the slice is over. */
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
static enum hv_action delivery_fault(struct hv_vcpu *v, gpa_t gpa)
{
	struct hv_vm *vm = v->vm;
	bool unassigned = gpa >= vm->guest_ram && !bus_find_mmio(vm->guest, gpa) &&
			  !((gpa & ~0xFFFULL) == (v->apic_base & ~0xFFFULL & ((1ULL << CPU_MAXPHYADDR) - 1)));
	if (!unassigned || !vm->scratch_page ||
	    ept01_map(&vm->ept, gpa & ~0xFFFULL, vm->scratch_page, HV_PAGE, EPT_READ | EPT_WRITE))
		return hv_shutdown(v, "event delivery touched device memory at %#llx",
				   (unsigned long long)gpa);
	vmx_invept(v->cpu, INVEPT_SINGLE_CONTEXT, ept01_eptp(&vm->ept));
	return HV_RESUME;
}

/* SDM 30.3.3.2. A page EPT01 leaves unmapped is a device page: emulate the access.
 * A RAM page is always mapped, so a violation there is L0's bug (reported). */
enum hv_action hv_exit_ept_violation(struct hv_vcpu *v)
{
	gpa_t gpa = hv_vmread(v, VMCS_GUEST_PHYSICAL_ADDRESS);
	uint64_t q = hv_vmread(v, VMCS_EXIT_QUALIFICATION);
	if (hv_vmread(v, VMCS_IDT_VECTORING_INFO_FIELD) & INTR_INFO_VALID)
		return delivery_fault(v, gpa);
	if (q & EPTQUAL_FETCH)
		return hv_shutdown(v, "instruction fetch from device memory at %#llx",
				   (unsigned long long)gpa);
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

enum hv_action hv_exit_ept_misconfig(struct hv_vcpu *v)
{
	return hv_shutdown(v, "EPT misconfiguration at %#llx (L0's EPT01 is wrong)",
			   (unsigned long long)hv_vmread(v, VMCS_GUEST_PHYSICAL_ADDRESS));
}

/* SDM 27.1.2 / 29: a triple fault in the guest is its shutdown, not L0's. */
enum hv_action hv_exit_triple_fault(struct hv_vcpu *v)
{
	v->vm->triple_fault = true;
	return hv_shutdown(v, "triple fault");
}

/* The silicon's INIT/SIPI pins are not driven at level 1 (the virtual LAPIC signals
 * the vCPU, irqchip.c): nothing to do. */
enum hv_action hv_exit_init_signal(struct hv_vcpu *v)
{
	(void)v;
	return HV_RESUME;
}

enum hv_action hv_exit_sipi_signal(struct hv_vcpu *v)
{
	(void)v;
	return HV_RESUME;
}

/* VMX instructions, MONITOR/MWAIT, VMFUNC: CPUID says L1 has none of them, so they
 * are #UD as on a processor without them (SDM Vol.2, each instruction's #UD list). */
enum hv_action hv_exit_vmx_insn(struct hv_vcpu *v)
{
	hv_inject_exception(v, EXC_UD, 0);
	return HV_RESUME;
}

/* VMCALL always exits in non-root operation (SDM 27.1.2): a hypercall. L0 defines
 * none yet and answers as KVM does for an unknown number: RAX = -KVM_ENOSYS (-1000),
 * or -KVM_EPERM (-1) from CPL > 0 (CPL is SS.DPL, SDM 26.4.1); 32 bits outside
 * 64-bit mode. */
#define HC_ENOSYS (-1000)
#define HC_EPERM (-1)

enum hv_action hv_exit_vmcall(struct hv_vcpu *v)
{
	unsigned cpl = (unsigned)(hv_vmread(v, VMCS_GUEST_SS_AR_BYTES) & AR_DPL_MASK) >> AR_DPL_SHIFT;
	uint64_t ret = (uint64_t)(int64_t)(cpl ? HC_EPERM : HC_ENOSYS);
	bool lm = (hv_vmread(v, VMCS_VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE) &&
		  (hv_vmread(v, VMCS_GUEST_CS_AR_BYTES) & AR_L);
	v->cpu->gpr[RAX] = lm ? ret : (uint32_t)ret;
	hv_skip_insn(v);
	return HV_RESUME;
}

/* XSETBV always exits (SDM 27.1.2); CPUID.1:ECX.XSAVE = 0, so it is #UD. */
enum hv_action hv_exit_xsetbv(struct hv_vcpu *v)
{
	hv_inject_exception(v, EXC_UD, 0);
	return HV_RESUME;
}

/* INVD, WBINVD: caches are not modelled; the instruction completes. */
enum hv_action hv_exit_nop_insn(struct hv_vcpu *v)
{
	hv_skip_insn(v);
	return HV_RESUME;
}

/* RDTSC/RDTSCP exiting is off; if they exit anyway, the guest TSC is virtual ns plus
 * its offset (SDM 26.6.5). */
enum hv_action hv_exit_rdtsc(struct hv_vcpu *v)
{
	uint64_t tsc = clock_now(v->vm->clock) + v->tsc_offset;
	v->cpu->gpr[RAX] = (uint32_t)tsc;
	v->cpu->gpr[RDX] = tsc >> 32;
	hv_skip_insn(v);
	return HV_RESUME;
}

enum hv_action hv_exit_rdtscp(struct hv_vcpu *v)
{
	v->cpu->gpr[RCX] = (uint32_t)v->cpu->tsc_aux; /* the guest's own IA32_TSC_AUX */
	return hv_exit_rdtsc(v);
}
