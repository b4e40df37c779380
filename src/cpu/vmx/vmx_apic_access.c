/*
 * Linear accesses to the APIC-access page (SDM 31.4, Dec-2024 numbering) with
 * "virtualize APIC accesses": this silicon offers neither "APIC-register
 * virtualization" nor "virtual-interrupt delivery", so the only accesses virtualized
 * are those to the task-priority register with "use TPR shadow" (SDM 31.4.2, 31.4.3.1);
 * every other one is an APIC-access VM exit (ept.c, ept_apic_access_exit()).
 *
 * The decision is split along the memory path: tlb_fill() knows the page offset and
 * the kind of access, and exits unless the access starts at offset 080H and is not a
 * fetch (vmx_apic_access_linear()); the physical side (mem.c, phys_read/phys_write)
 * knows its size and completes it on the virtual-APIC page (vmx_apic_access_read(),
 * vmx_apic_access_write()). A virtualized write is followed, once the operation that
 * made it completes, by APIC-write emulation (SDM 31.4.3.2) at the next instruction
 * boundary (vmx_handle_events(), vmx_apic_write_emulation()).
 *
 * Limit: an iteration of a REP string instruction is an operation of its own (SDM
 * 31.4); here the emulation waits for the instruction's end, so an APIC-access exit
 * of a later iteration drops it (as any VM exit before the emulation does).
 */
#include "cpu/vmx/ept.h"

#include "cpu/vmx/vmx_internal.h"

/* VTPR: offset 080H of the virtual-APIC page (SDM 31.1.1), and of the APIC-access page
 * (the local APIC's TPR, SDM 11.4.1 Table 11-1). */
#define APIC_TPR_OFFSET 0x80

static gpa_t vtpr_addr(const struct cpu *cpu)
{
	return cpu->vmx.ctl.virtual_apic_page + APIC_TPR_OFFSET;
}

/* SDM 31.4.2 and 31.4.3.1 with "APIC-register virtualization" and "virtual-interrupt
 * delivery" 0: with "use TPR shadow" 1, a read or write whose page offset is 080H may
 * be virtualized (the size decides, below); a fetch, any other offset, or "use TPR
 * shadow" 0 is an APIC-access VM exit. */
void vmx_apic_access_linear(struct cpu *cpu, gpa_t pa, int kind)
{
	bool tpr = (cpu->vmx.ctl.proc & PROC_TPR_SHADOW) && kind != ACC_EXEC &&
		   (pa & ~PAGE_MASK) == APIC_TPR_OFFSET;
	if (!tpr)
		ept_apic_access_exit(cpu, pa, kind);
}

/* SDM 31.4.2: a read at offset 080H exits if it is more than 32 bits in size, or if
 * the operation it is part of has already virtualized a write to the APIC-access
 * page; else it returns the bytes at 080H of the virtual-APIC page. (At offset 080H
 * and at most 4 bytes it lies in the low 4 bytes of a naturally aligned 16-byte
 * region, as it must.) */
uint64_t vmx_apic_access_read(struct cpu *cpu, gpa_t pa, int n)
{
	if (n > 4 || cpu->vmx.apic_write_size)
		ept_apic_access_exit(cpu, pa, ACC_READ);
	return bus_read(cpu->bus, vtpr_addr(cpu), n);
}

/* SDM 31.4.3.1: a write at offset 080H exits if it is more than 32 bits in size, or if
 * the operation already virtualized a write of another page offset or size; else the
 * data goes to offset 080H of the virtual-APIC page, and APIC-write emulation follows
 * the operation (SDM 31.4.3.2): CPU_EV_VMX ends the block after this instruction. */
void vmx_apic_access_write(struct cpu *cpu, gpa_t pa, int n, uint64_t v)
{
	unsigned done = cpu->vmx.apic_write_size;
	if (n > 4 || (done && done != (unsigned)n))
		ept_apic_access_exit(cpu, pa, ACC_WRITE);
	bus_write(cpu->bus, vtpr_addr(cpu), n, v);
	cpu->vmx.apic_write_size = (uint8_t)n;
	cpu->events |= CPU_EV_VMX;
}

/* SDM 31.4.3.2, page offset 080H: clear bytes 3:1 of VTPR, then TPR virtualization
 * (SDM 31.1.2): with "virtual-interrupt delivery" 0, a VM exit "TPR below threshold"
 * if VTPR[7:4] < TPR threshold[3:0]. The exit is trap-like (RIP is the next
 * instruction, SDM 31.1.2) with no qualification (SDM 29.2.1); #DB traps of the
 * operation go to the pending-debug-exceptions field (SDM 29.3.4). True: it exited. */
bool vmx_apic_write_emulation(struct cpu *cpu)
{
	cpu->vmx.apic_write_size = 0;
	uint32_t vtpr = (uint32_t)bus_read(cpu->bus, vtpr_addr(cpu), 1);
	bus_write(cpu->bus, vtpr_addr(cpu), 4, vtpr);
	if (((vtpr >> 4) & 0xF) >= (cpu->vmx.ctl.tpr_threshold & 0xF))
		return false;
	struct vmx_exit_info x = { .reason = EXIT_REASON_TPR_BELOW_THRESHOLD };
	vmx_vmexit(cpu, &x);
	return true;
}
