/*
 * EPT as the MMU sees it (ept.c; SDM 30.3): in VMX non-root operation with "enable
 * EPT", every guest-physical address the guest uses (its paging-structure entries,
 * PDPTEs, and the final address of an access) goes through the EPT paging structures
 * to a silicon-physical address. Violations, misconfigurations and a full PML log end
 * the access with a VM exit (vmx_exit_unwind), so these calls return only on success.
 *
 * The software TLB caches combined mappings (SDM 30.4.1): linear page to
 * silicon-physical page with the guest's and the EPT's rights (tlb.h, TLBF_EPT_*), so
 * a TLB hit in non-root operation costs what it costs in root operation.
 */
#ifndef TURTLES_CPU_VMX_EPT_H
#define TURTLES_CPU_VMX_EPT_H

#include "cpu/mmu.h"
#include "cpu/vmx/vmx_arch.h"

/* SDM 26.6.2: the secondary controls apply only when "activate secondary controls"
 * is 1. */
static inline uint32_t vmx_proc2(const struct cpu *cpu)
{
	return (cpu->vmx.ctl.proc & PROC_SECONDARY_CONTROLS) ? cpu->vmx.ctl.proc2 : 0;
}

/* Non-root operation with "enable EPT": guest-physical addresses go through EPT. */
static inline bool ept_active(const struct cpu *cpu)
{
	return cpu->vmx.non_root && (vmx_proc2(cpu) & PROC2_ENABLE_EPT);
}

/* The TLB tag of the current VMX context (tlb.h, struct tlb vtag): 0 in root
 * operation (vmx_tlb.c). */
uint64_t vmx_tlb_vtag(const struct cpu *cpu);

/* One access to guest-physical memory, as the EPT-violation qualification describes
 * it (SDM 29.2.1, Table 29-7). */
struct ept_access {
	int kind;          /* ACC_READ / ACC_WRITE / ACC_EXEC as EPT sees it */
	bool gla_valid;    /* bit 7: a linear address was being translated */
	bool final;        /* bit 8: the access to the translation of that linear address
			      (false: an access to a guest paging-structure entry) */
	gva_t gla;         /* the linear address (GUEST_LINEAR_ADDRESS) if gla_valid */
	uint32_t gflags;   /* final accesses: TLBF_U/W/XD/NOPG of the guest translation */
};

/* A successful EPT translation: the 4 KiB piece of the page that holds the address. */
struct ept_xlate {
	hpa_t hpa;         /* silicon-physical address of that 4 KiB piece */
	uint32_t flags;    /* TLBF_EPT_NR/NW/NX/CLEAN */
	uint64_t size;     /* EPT page size: 4 KiB, 2 MiB or 1 GiB */
};

/* Translate gpa for access a: returns on success (EPT A/D flags set, PML logged);
 * otherwise takes the EPT-violation, EPT-misconfiguration or PML-full VM exit. */
void ept_translate(struct cpu *cpu, gpa_t gpa, const struct ept_access *a,
		   struct ept_xlate *x);

/* The silicon-physical address of a guest paging-structure entry (or of the PDPTEs
 * when gla_valid is false: loads by MOV to CR, SDM 29.2.1) at gpa. A write sets a
 * guest A/D flag; with EPT A/D flags enabled every such access counts as a write
 * (SDM 30.3.5). */
gpa_t ept_paging_access(struct cpu *cpu, gpa_t gpa, gva_t la, bool gla_valid, bool write);

/* Non-root operation: make the guest's translation x of la (x->gpa guest-physical)
 * the combined translation for an access of kind: through EPT when it is on, and
 * marked TLBF_VAPIC when it reaches the APIC-access page (SDM 31.4). */
void ept_final(struct cpu *cpu, gva_t la, int kind, struct mmu_xlate *x);

/* The APIC-access VM exit for a linear access of kind at silicon-physical address pa
 * in the APIC-access page (SDM 29.2.1, Table 29-6). */
_Noreturn void ept_apic_access_exit(struct cpu *cpu, gpa_t pa, int kind);

#endif
