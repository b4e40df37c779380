/*
 * The virtual LAPIC's outputs into the vCPU (struct lapic_sink, KVM's in-kernel
 * irqchip model) and event injection through the VMCS before each VM entry.
 *
 * The LAPIC (and the 8259 behind its LINT0) keeps the interrupt state; L0 only sees
 * "INTR asserted", NMI, INIT and SIPI, exactly the pins a real core has. When the
 * guest can take an interrupt L0 runs the acknowledge cycle (lapic_ops.intr_ack) and
 * injects the vector (SDM 28.6.1); when it cannot, L0 asks for an interrupt-window
 * (or NMI-window) exit, which comes as soon as it can (SDM 27.2, 28.7.5).
 */
#include "hv/hv_internal.h"

/*
 * A vCPU that is in the silicon right now (a device timer fired between the silicon's
 * slices, vmx_run.c) must leave it to take the event: L0 kicks it as KVM kicks a
 * running vCPU with a physical IPI. Here the kick is the silicon CPU's own INTR pin
 * (cpu_set_intr, the device side of cpu.h), which with "external-interrupt exiting"
 * is a VM exit at the next instruction boundary whatever RFLAGS.IF (SDM 27.2). The
 * pin is dropped as soon as the exit is taken (hv_unkick).
 */
static void kick(struct hv_vcpu *v)
{
	if (v->in_guest && !v->kicked) {
		v->kicked = true;
		cpu_set_intr(v->cpu, true);
	}
}

void hv_unkick(struct hv_vcpu *v)
{
	if (v->kicked) {
		v->kicked = false;
		cpu_set_intr(v->cpu, false);
	}
}

static void sink_set_intr(void *opaque, bool asserted)
{
	struct hv_vcpu *v = opaque;
	v->intr_line = asserted;
	if (asserted)
		kick(v);
}

static void sink_signal(void *opaque, uint32_t event, uint8_t vector)
{
	struct hv_vcpu *v = opaque;
	if (event & CPU_EV_NMI)
		v->nmi_pending = true;
	if (event & CPU_EV_INIT) {
		/* INIT drops an older SIPI (cpu_signal() does the same at level 0). */
		v->init_pending = true;
		v->sipi_pending = false;
	}
	if (event & CPU_EV_SIPI) {
		v->sipi_pending = true;
		v->sipi_vector = vector;
	}
	/* SMI: no SMM at level 1 (as at level 0, where the silicon ignores it). */
	if (event & (CPU_EV_NMI | CPU_EV_INIT | CPU_EV_SIPI))
		kick(v);
}

static uint64_t sink_tsc_offset(void *opaque)
{
	return ((struct hv_vcpu *)opaque)->tsc_offset;
}

const struct lapic_sink hv_lapic_sink = {
	.set_intr = sink_set_intr,
	.signal = sink_signal,
	.tsc_offset = sink_tsc_offset,
};

bool hv_vcpu_has_wakeup(struct hv_vcpu *v)
{
	/* HLT ends on an unmasked interrupt, NMI, INIT or SIPI (SDM Vol.2 HLT). */
	return (v->intr_line && v->halted_if) || v->nmi_pending || v->init_pending ||
	       v->sipi_pending;
}

void hv_save_vectoring(struct hv_vcpu *v)
{
	/* SDM 29.2.4: an exit during event delivery reports the event in the
	 * IDT-vectoring information; the event was not delivered, so L0 delivers it at
	 * the next entry (SDM 28.6, and the 29.2.4 note on re-injection). Bit 12 is
	 * undefined there and reserved in the entry field: drop it. */
	uint32_t info = (uint32_t)hv_vmread(v, VMCS_IDT_VECTORING_INFO_FIELD);
	if (!(info & INTR_INFO_VALID))
		return;
	v->reinject_info = info & ~(uint32_t)INTR_INFO_NMI_UNBLOCKED_BY_IRET;
	v->reinject_error = (uint32_t)hv_vmread(v, VMCS_IDT_VECTORING_ERROR_CODE);
	v->reinject_len = (uint32_t)hv_vmread(v, VMCS_VM_EXIT_INSTRUCTION_LEN);
}

static void inject(struct hv_vcpu *v, uint32_t info, uint32_t error, uint32_t len)
{
	hv_vmwrite(v, VMCS_VM_ENTRY_INTR_INFO_FIELD, info);
	if (info & INTR_INFO_DELIVER_CODE)
		hv_vmwrite(v, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, error);
	hv_vmwrite(v, VMCS_VM_ENTRY_INSTRUCTION_LEN, len);
}

/* SDM 26.4.2 / 28.3.1.5: an NMI cannot be injected under blocking by MOV SS or STI
 * (some processors) or by NMI; an external interrupt needs RFLAGS.IF = 1 and neither
 * STI nor MOV SS blocking. */
static bool nmi_allowed(uint64_t intr)
{
	return !(intr & (INTERRUPTIBILITY_NMI | INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

static bool intr_allowed(struct hv_vcpu *v, uint64_t intr)
{
	return (hv_vmread(v, VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
	       !(intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

/* Inject a pending NMI or interrupt if the guest can take it now; true if one was. */
static bool inject_new_event(struct hv_vcpu *v, uint64_t intr)
{
	if (v->nmi_pending && nmi_allowed(intr)) {
		v->nmi_pending = false;
		inject(v, EXC_NMI | (INTR_TYPE_NMI << INTR_INFO_TYPE_SHIFT) | INTR_INFO_VALID, 0, 0);
		return true;
	}
	if (v->intr_line && v->lapic && intr_allowed(v, intr)) {
		int vector = lapic_ops.intr_ack(v->lapic); /* the INTA cycle */
		if (vector >= 0) {
			inject(v, (uint32_t)vector | (INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT) |
					  INTR_INFO_VALID, 0, 0);
			return true;
		}
	}
	return false;
}

/* Nothing pending and no window open: the common case costs no VMCS access (every
 * VM exit clears the valid bit of the entry interruption information, SDM 29.2). */
void hv_inject_pending(struct hv_vcpu *v)
{
	const uint32_t windows = PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING;
	if (!v->reinject_info && !v->nmi_pending && !v->intr_line && !(v->proc & windows))
		return;
	uint32_t proc = v->proc & ~windows;
	if (v->reinject_info) {
		inject(v, v->reinject_info, v->reinject_error, v->reinject_len);
		v->reinject_info = 0;
	} else {
		inject_new_event(v, hv_vmread(v, VMCS_GUEST_INTERRUPTIBILITY_INFO));
	}
	/* Whatever is still pending gets a window exit (SDM 27.2: interrupt window
	 * when RFLAGS.IF = 1 and no STI/MOV SS blocking; NMI window when no NMI
	 * blocking), taken after the event being injected now has been delivered. */
	if (v->intr_line)
		proc |= PROC_INTR_WINDOW_EXITING;
	if (v->nmi_pending)
		proc |= PROC_NMI_WINDOW_EXITING;
	if (proc != v->proc) {
		hv_vmwrite(v, VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
		v->proc = proc;
	}
}
