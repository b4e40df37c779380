/*
 * VM entry: event injection (SDM 28.6). After the guest state, the MSRs and the
 * controls are in place, a valid VM-entry interruption-information field of type 0,
 * 2-6 delivers its event through the guest IDT "as if it had been generated normally"
 * (28.6.1) -- with the silicon's own delivery code (idt.c), in whatever mode the guest
 * is in (real mode for an unrestricted guest with CR0.PE = 0: 28.6.1.1, no error
 * code then). Type 7 (a pending MTF VM exit) delivers nothing (vmx_entry_load.c).
 *
 *   - Software interrupts (4), privileged software exceptions (5) and software
 *     exceptions (6) push RIP + the VM-entry instruction length as the return address
 *     (28.6.1.1); types 4 and 6 check the gate's DPL against CPL like INT n.
 *   - An NMI blocks NMIs after delivery, or with "virtual NMIs" sets virtual-NMI
 *     blocking instead (28.6.1.1).
 *   - A fault during delivery is handled as a fault during delivery in the guest
 *     (28.6.1.2): the double-fault rules of SDM 6.15 with the injected event as the
 *     first one, or a VM exit when the exception bitmap says so (vmx-exit's hooks),
 *     with the injected event reported as IDT-vectoring information: while it is being
 *     delivered, cpu->vmx.vectoring_info/vectoring_error describe it.
 */
#include <string.h>

#include "cpu/vmx/vmx_entry.h"

/* The interruption types map one to one onto the silicon's event types. */
_Static_assert((int)INTR_TYPE_EXT_INTR == (int)EVENT_EXTERNAL &&
		       (int)INTR_TYPE_NMI == (int)EVENT_NMI &&
		       (int)INTR_TYPE_HW_EXCEPTION == (int)EVENT_HW_EXCEPTION &&
		       (int)INTR_TYPE_SW_INTR == (int)EVENT_SW_INT &&
		       (int)INTR_TYPE_PRIV_SW_EXCEPTION == (int)EVENT_PRIV_SW_EXC &&
		       (int)INTR_TYPE_SW_EXCEPTION == (int)EVENT_SW_EXC,
	       "VMX interruption types are the event types (exception.h)");

/* Deliver under a fault guard of its own: the native API calls VM entry outside
 * cpu_run(). A fault unwinds here with cpu->delivering telling what was being
 * delivered; cpu_deliver_fault() then applies SDM 6.15. A VM exit taken during the
 * delivery (CPU_UNWIND_VMEXIT) leaves nothing more to deliver. */
static void deliver_guarded(struct cpu *cpu, int vector, enum event_type type, uint32_t err)
{
	jmp_buf outer;
	memcpy(outer, cpu->fault_jmp, sizeof(jmp_buf));
	switch (setjmp(cpu->fault_jmp)) {
	case 0:
		cpu_deliver_event(cpu, vector, type, err);
		break;
	case CPU_UNWIND_VMEXIT: /* the delivery ended in a VM exit (vmx_exit_unwind) */
		break;
	default: /* vectoring_info still names the event whose delivery faulted */
		cpu->stats.exceptions++;
		cpu_deliver_fault(cpu);
		break;
	}
	memcpy(cpu->fault_jmp, outer, sizeof(jmp_buf));
}

void vmx_inject_event(struct cpu *cpu, const struct vmcs *v)
{
	if (!vmx_entry_vectoring(v))
		return;
	uint32_t info = (uint32_t)VMCS_GET(v, VM_ENTRY_INTR_INFO_FIELD);
	unsigned type = vmx_entry_intr_type(v);
	int vector = (int)(info & INTR_INFO_VECTOR_MASK);
	uint32_t err = NO_ERROR_CODE;
	if (info & INTR_INFO_DELIVER_CODE)
		err = (uint32_t)VMCS_GET(v, VM_ENTRY_EXCEPTION_ERROR_CODE);
	/* The return address of software events: RIP + VM-entry instruction length. */
	cpu->next_rip = cpu->rip;
	if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
	    type == INTR_TYPE_SW_EXCEPTION) {
		cpu->next_rip = cpu->rip + VMCS_GET(v, VM_ENTRY_INSTRUCTION_LEN);
		if (cpu->mode != MODE_LONG64)
			cpu->next_rip &= cpu->mode == MODE_PROT32 || cpu->mode == MODE_COMPAT32
						 ? 0xFFFFFFFFULL
						 : 0xFFFFULL;
	}
	/* IDT-vectoring information if delivery ends in a VM exit (SDM 29.2.4): the
	 * injected event, with its error code. */
	cpu->vmx.vectoring_info = info & ~(uint32_t)INTR_INFO_NMI_UNBLOCKED_BY_IRET;
	cpu->vmx.vectoring_error = err == NO_ERROR_CODE ? 0 : err;
	bool nmi_blocked = cpu->nmi_blocked;
	deliver_guarded(cpu, vector, (enum event_type)type, err);
	cpu->vmx.vectoring_info = 0;
	cpu->vmx.vectoring_error = 0;
	if (type == INTR_TYPE_NMI && cpu->vmx.non_root &&
	    (cpu->vmx.ctl.pin & PIN_VIRTUAL_NMIS)) {
		cpu->nmi_blocked = nmi_blocked;
		cpu->vmx.virtual_nmi_blocked = true;
	}
	/* The run loop commits next_rip after VMLAUNCH/VMRESUME: the handler's RIP. */
	cpu->next_rip = cpu->rip;
}
