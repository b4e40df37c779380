/*
 * The MSR lists of a VM exit (SDM 29.4 VM-exit MSR-store area, 29.6 VM-exit
 * MSR-load area) and VMX abort (SDM 29.7).
 *
 * Each list entry is 16 bytes (SDM 26.7.2 Table 26-15): bits 31:0 the MSR index,
 * 63:32 reserved (must be 0), 127:64 the data. The list addresses are physical
 * addresses of the machine's memory (for a native VMM too). A failure on any entry
 * is a VMX abort: the silicon cannot go back to the guest nor on to the VMM.
 */
#include <stddef.h>

#include "cpu/msr.h"
#include "cpu/vmx/vmx_exit.h"

#define MSR_IA32_SMM_MONITOR_CTL 0x9B
#define MSR_IA32_SMBASE 0x9E
#define APIC_BASE_EXTD BIT(10) /* x2APIC mode (SDM 11.12.1) */

struct msr_entry {
	uint32_t index;
	uint32_t reserved;
	uint64_t data;
};

static bool read_entry(struct cpu *cpu, uint64_t list, uint32_t i, struct msr_entry *e)
{
	return bus_copy_from(cpu->bus, e, list + (uint64_t)i * sizeof(*e), sizeof(*e)) == 0;
}

/* SDM 28.4 / 29.4 / 29.6: MSRs 800H-8FFH cannot be listed in x2APIC mode. */
static bool x2apic_index(const struct cpu *cpu, uint32_t index)
{
	return (index >> 8) == 0x8 && (cpu->apic_base & APIC_BASE_EXTD);
}

/* SDM 29.4: store each listed MSR's value in the entry's data. Fails on reserved
 * bits, IA32_SMBASE, an x2APIC MSR in x2APIC mode, or an MSR RDMSR cannot read. */
bool vmx_store_guest_msrs(struct cpu *cpu, struct vmcs *v)
{
	uint32_t count = (uint32_t)VMCS_GET(v, VM_EXIT_MSR_STORE_COUNT);
	uint64_t list = VMCS_GET(v, VM_EXIT_MSR_STORE_ADDR);
	for (uint32_t i = 0; i < count; i++) {
		struct msr_entry e;
		uint64_t value;
		if (!read_entry(cpu, list, i, &e) || e.reserved || e.index == MSR_IA32_SMBASE ||
		    x2apic_index(cpu, e.index) || !msr_read(cpu, e.index, &value))
			return false;
		uint64_t at = list + (uint64_t)i * sizeof(e) + offsetof(struct msr_entry, data);
		if (bus_copy_to(cpu->bus, at, &value, sizeof(value)))
			return false;
	}
	return true;
}

/* SDM 29.6: load each listed MSR as WRMSR would at CPL 0. Fails on reserved bits,
 * IA32_FS_BASE/IA32_GS_BASE, IA32_SMM_MONITOR_CTL, an x2APIC MSR in x2APIC mode, or
 * a value WRMSR would refuse with #GP. */
bool vmx_load_host_msrs(struct cpu *cpu, struct vmcs *v)
{
	uint32_t count = (uint32_t)VMCS_GET(v, VM_EXIT_MSR_LOAD_COUNT);
	uint64_t list = VMCS_GET(v, VM_EXIT_MSR_LOAD_ADDR);
	for (uint32_t i = 0; i < count; i++) {
		struct msr_entry e;
		if (!read_entry(cpu, list, i, &e) || e.reserved ||
		    e.index == MSR_IA32_FS_BASE || e.index == MSR_IA32_GS_BASE ||
		    e.index == MSR_IA32_SMM_MONITOR_CTL || x2apic_index(cpu, e.index) ||
		    !msr_write(cpu, e.index, e.data))
			return false;
	}
	return true;
}

/* SDM 29.7: the indicator goes to byte 4 of the VMCS region; the logical processor
 * enters the VMX-abort shutdown state, which only RESET leaves. cpu_run() reports it
 * as a shutdown, vmx_run_native() as VMX_STOPPED. */
void vmx_abort(struct cpu *cpu, struct vmcs *v, uint32_t indicator)
{
	v->abort = indicator;
	cpu->vmx.non_root = false;
	cpu->shutdown = true;
	cpu->halted = true;
	cpu->mwait = false;
}
