/*
 * VM entry: checks on the host-state area (SDM 28.2.2 host control registers and
 * MSRs, 28.2.3 host segment and descriptor-table registers, 28.2.4 address-space
 * size). A failure is VMfailValid with error 8, "VM entry with invalid host-state
 * field(s)" (SDM 32.4).
 *
 * Only a software VMM (cpu->vmx.host == VMX_HOST_SOFTWARE) has a host-state area: a
 * native VMM's VM exits return to C code (cpu/vmx.h), so vmx_vmentry() skips these.
 */
#include "cpu/vmx/vmx_entry.h"

/* SDM 28.2.2: host control registers and MSRs. */
static bool check_host_regs(struct cpu *cpu, const struct vmcs *v)
{
	uint32_t exit = (uint32_t)VMCS_GET(v, VM_EXIT_CONTROLS);
	bool wide = exit & EXIT_HOST_ADDR_SPACE_SIZE;
	/* CR0 and CR4 with the bits fixed in VMX operation (SDM 25.8, App. A.7, A.8). */
	ENTRY_CHECK(cpu, vmx_cr0_fixed_ok(VMCS_GET(v, HOST_CR0), false));
	ENTRY_CHECK(cpu, vmx_cr4_fixed_ok(cpu, VMCS_GET(v, HOST_CR4)));
	ENTRY_CHECK(cpu, vmx_phys_ok(VMCS_GET(v, HOST_CR3)));
	ENTRY_CHECK(cpu, is_canonical(VMCS_GET(v, HOST_IA32_SYSENTER_ESP)));
	ENTRY_CHECK(cpu, is_canonical(VMCS_GET(v, HOST_IA32_SYSENTER_EIP)));
	/* No performance counters (CPUID.0AH is zero): every bit of
	 * IA32_PERF_GLOBAL_CTRL is reserved. */
	if (exit & EXIT_LOAD_PERF_GLOBAL_CTRL)
		ENTRY_CHECK(cpu, VMCS_GET(v, HOST_IA32_PERF_GLOBAL_CTRL) == 0);
	if (exit & EXIT_LOAD_PAT)
		ENTRY_CHECK(cpu, vmx_pat_ok(VMCS_GET(v, HOST_IA32_PAT)));
	if (exit & EXIT_LOAD_EFER) {
		uint64_t efer = VMCS_GET(v, HOST_IA32_EFER);
		ENTRY_CHECK(cpu, !(efer & ~VMX_EFER_VALID));
		/* LMA and LME each equal "host address-space size". */
		ENTRY_CHECK(cpu, !!(efer & EFER_LMA) == wide);
		ENTRY_CHECK(cpu, !!(efer & EFER_LME) == wide);
	}
	return true;
}

/* SDM 28.2.3: host segment and descriptor-table registers. */
static bool check_host_segs(struct cpu *cpu, const struct vmcs *v)
{
	bool wide = VMCS_GET(v, VM_EXIT_CONTROLS) & EXIT_HOST_ADDR_SPACE_SIZE;
	/* RPL (bits 1:0) and TI (bit 2) of ES, CS, SS, DS, FS, GS and TR are 0. */
	ENTRY_CHECK(cpu, !(VMCS_GET(v, HOST_ES_SELECTOR) & 7));
	ENTRY_CHECK(cpu, !(VMCS_GET(v, HOST_CS_SELECTOR) & 7));
	ENTRY_CHECK(cpu, !(VMCS_GET(v, HOST_SS_SELECTOR) & 7));
	ENTRY_CHECK(cpu, !(VMCS_GET(v, HOST_DS_SELECTOR) & 7));
	ENTRY_CHECK(cpu, !(VMCS_GET(v, HOST_FS_SELECTOR) & 7));
	ENTRY_CHECK(cpu, !(VMCS_GET(v, HOST_GS_SELECTOR) & 7));
	ENTRY_CHECK(cpu, !(VMCS_GET(v, HOST_TR_SELECTOR) & 7));
	ENTRY_CHECK(cpu, VMCS_GET(v, HOST_CS_SELECTOR) != 0);
	ENTRY_CHECK(cpu, VMCS_GET(v, HOST_TR_SELECTOR) != 0);
	if (!wide)
		ENTRY_CHECK(cpu, VMCS_GET(v, HOST_SS_SELECTOR) != 0);
	ENTRY_CHECK(cpu, is_canonical(VMCS_GET(v, HOST_FS_BASE)));
	ENTRY_CHECK(cpu, is_canonical(VMCS_GET(v, HOST_GS_BASE)));
	ENTRY_CHECK(cpu, is_canonical(VMCS_GET(v, HOST_GDTR_BASE)));
	ENTRY_CHECK(cpu, is_canonical(VMCS_GET(v, HOST_IDTR_BASE)));
	ENTRY_CHECK(cpu, is_canonical(VMCS_GET(v, HOST_TR_BASE)));
	return true;
}

/* SDM 28.2.4: checks related to address-space size. */
static bool check_host_addr_size(struct cpu *cpu, const struct vmcs *v)
{
	bool wide = VMCS_GET(v, VM_EXIT_CONTROLS) & EXIT_HOST_ADDR_SPACE_SIZE;
	bool ia32e_guest = VMCS_GET(v, VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE;
	uint64_t rip = VMCS_GET(v, HOST_RIP);
	if (!(cpu->efer & EFER_LMA)) { /* the VMM runs outside IA-32e mode */
		ENTRY_CHECK(cpu, !ia32e_guest);
		ENTRY_CHECK(cpu, !wide);
	} else {
		ENTRY_CHECK(cpu, wide);
	}
	if (!wide) {
		ENTRY_CHECK(cpu, !ia32e_guest);
		ENTRY_CHECK(cpu, !(VMCS_GET(v, HOST_CR4) & CR4_PCIDE));
		ENTRY_CHECK(cpu, !(rip >> 32));
	} else {
		ENTRY_CHECK(cpu, VMCS_GET(v, HOST_CR4) & CR4_PAE);
		ENTRY_CHECK(cpu, is_canonical(rip));
	}
	return true;
}

bool vmx_check_host_state(struct cpu *cpu, const struct vmcs *v)
{
	return check_host_regs(cpu, v) && check_host_segs(cpu, v) &&
	       check_host_addr_size(cpu, v);
}
