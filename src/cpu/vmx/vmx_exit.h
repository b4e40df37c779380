/*
 * Private to the VM-exit files (vmx_exit.c, vmx_exit_state.c, vmx_exit_msr.c): the
 * steps of SDM ch.29 that vmx_vmexit() strings together.
 */
#ifndef TURTLES_CPU_VMX_VMX_EXIT_H
#define TURTLES_CPU_VMX_VMX_EXIT_H

#include "cpu/vmx/vmx_internal.h"

/* VMX-abort indicators (SDM 29.7). */
enum vmx_abort {
	VMX_ABORT_SAVE_GUEST_MSR = 1, /* failure storing a guest MSR (29.4) */
	VMX_ABORT_HOST_PDPTE = 2,     /* host PDPTEs could not be loaded (29.5.4) */
	VMX_ABORT_LOAD_HOST_MSR = 4,  /* failure loading a host MSR (29.6) */
};

/* SDM 29.3: the guest-state area from the CPU. in_insn: the exit interrupts an
 * instruction (or event delivery) that did not complete. */
void vmx_save_guest_state_at(struct cpu *cpu, struct vmcs *v, const struct vmx_exit_info *info,
			     bool in_insn);

/* SDM 29.5: the host-state area into the CPU (software VMM). 0 or an abort
 * indicator. */
uint32_t vmx_load_host_state(struct cpu *cpu, struct vmcs *v);

/* SDM 29.5 / 28.8: blocking by NMI in the VMM after the exit, from the physical
 * blocking (cpu->nmi_blocked; VM entry restores it after an entry failure). */
bool vmx_host_nmi_blocking(const struct vmx_exit_info *info, bool blocked);

/* SDM 29.4 and 29.6: false if an entry cannot be processed. */
bool vmx_store_guest_msrs(struct cpu *cpu, struct vmcs *v);
bool vmx_load_host_msrs(struct cpu *cpu, struct vmcs *v);

/* SDM 29.7: write the indicator into the VMCS region and shut the CPU down. */
void vmx_abort(struct cpu *cpu, struct vmcs *v, uint32_t indicator);

#endif
