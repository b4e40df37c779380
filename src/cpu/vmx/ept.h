/*
 * EPT as the MMU sees it (ept.c; SDM 30.3): in VMX non-root operation with "enable
 * EPT", every guest-physical address the guest uses (its paging-structure entries,
 * PDPTEs, and the final address of an access) goes through the EPT paging structures
 * to a silicon-physical address. Violations, misconfigurations and a full PML log end
 * the access with a VM exit (vmx_exit_unwind), so these calls return only on success.
 *
 * The software TLB caches combined mappings (SDM 30.4.1): linear page to
 * silicon-physical page with the guest's and the EPT's rights (tlb.h, TLBF_EPT_*), so
 * a TLB hit in non-root operation costs what it costs in root operation. Walks look
 * in the cache of guest-physical mappings first (ept_cache.h), so a guest page walk
 * costs about what it costs in root operation too.
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
	bool ad_write;     /* a guest paging-structure access with EPT A/D flags on, a
			      write for EPT (SDM 30.3.5): reported as read and write */
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

/* A guest page walk's view of the cache of guest-physical mappings (ept_cache.h):
 * what is the same for each of its paging-structure reads, worked out once. */
struct ept_walk_cache {
	uint64_t stamp; /* the current context's stamp, or PAGE_SIZE: use no entry */
	uint64_t deny;  /* the delta bit that makes an entry walk for these reads */
};

/* Before a guest page walk in non-root operation with EPT. */
static inline void ept_walk_begin(struct cpu *cpu, struct ept_walk_cache *wc)
{
	struct ept_cache *c = &cpu->vmx.eptc;
	uint64_t eptp = cpu->vmx.ctl.eptp;
	if (unlikely(c->eptp_not != ~eptp))
		ept_cache_switch(c, eptp);
	/* SDM 30.3.5: with EPT A/D flags the reads are writes for EPT. */
	wc->deny = BIT(EPTC_DENY_SHIFT) << ((eptp & EPTP_AD_ENABLE) ? ACC_WRITE : ACC_READ);
	/* SDM 31.4.6.1: with "virtualize APIC accesses" a read of the APIC-access page
	 * exits, which ept_paging_access() checks: every read goes there. PAGE_SIZE
	 * matches no tag (a live one has a stamp in bits 11:0, an empty one is 0). */
	wc->stamp = (vmx_proc2(cpu) & PROC2_VIRTUALIZE_APIC_ACCESSES) ? PAGE_SIZE : c->stamp;
}

/* The silicon-physical address of the paging-structure entry at gpa for the walk of
 * la: ept_paging_access(cpu, gpa, la, true, false), inline when its 4 KiB piece is
 * cached with the rights the read needs. */
static inline gpa_t ept_walk_read(struct cpu *cpu, const struct ept_walk_cache *wc,
				  gpa_t gpa, gva_t la)
{
	const struct ept_cache_entry *e = ept_cache_small(&cpu->vmx.eptc, gpa);
	if (likely(e->tag == ((gpa & PAGE_MASK) | wc->stamp) && !(e->delta & wc->deny)))
		return gpa + (e->delta & PAGE_MASK);
	return ept_paging_access(cpu, gpa, la, true, false);
}

/* Non-root operation: make the guest's translation x of la (x->gpa guest-physical)
 * the combined translation for an access of kind: through EPT when it is on, and
 * marked TLBF_VAPIC when it reaches the APIC-access page (SDM 31.4). */
void ept_final(struct cpu *cpu, gva_t la, int kind, struct mmu_xlate *x);

/* The APIC-access VM exit for a linear access of kind at silicon-physical address pa
 * in the APIC-access page (SDM 29.2.1, Table 29-6). */
_Noreturn void ept_apic_access_exit(struct cpu *cpu, gpa_t pa, int kind);

/* Virtualized accesses to the APIC-access page (vmx_apic_access.c, SDM 31.4.2-31.4.3):
 * tlb_fill() passes a linear access of kind at pa there (TLBF_VAPIC), which takes the
 * APIC-access exit unless the access may be virtualized; such an access reaches the
 * physical side (mem.c), which reads or writes its n bytes with these. */
void vmx_apic_access_linear(struct cpu *cpu, gpa_t pa, int kind);
uint64_t vmx_apic_access_read(struct cpu *cpu, gpa_t pa, int n);
void vmx_apic_access_write(struct cpu *cpu, gpa_t pa, int n, uint64_t v);

/* APIC-write emulation (SDM 31.4.3.2) at the instruction boundary after a virtualized
 * write (cpu->vmx.apic_write_size != 0): true if it took a VM exit. */
bool vmx_apic_write_emulation(struct cpu *cpu);

#endif
