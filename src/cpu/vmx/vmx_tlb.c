/*
 * The TLB across VMX transitions, and INVEPT/INVVPID (SDM 30.4).
 *
 * The software TLB (tlb.h) tags every address space with the VMX context it belongs
 * to: root operation, or non-root operation with its VPID and, with EPT, its EPTRTA
 * (the EPT PML4 address, SDM 30.4.1). Linear mappings (no EPT) are thus tagged by
 * VPID and PCID, combined mappings by VPID, PCID and EPTRTA. Guest-physical mappings
 * (EPT walks: ept_cache.h) are tagged by EPTRTA and kept across VM entries and exits
 * (SDM 30.4.3.2); INVEPT drops them with the combined mappings.
 *
 * Invalidation may always do more than required (SDM 30.4.3.1): global entries of all
 * contexts share one table, so invalidating a context's globals drops them all.
 */
#include "cpu/vmx/ept.h"

#include "cpu/vmx/vmx_internal.h"

#define VTAG_VPID_MASK (0xFFFFULL << TLB_VTAG_VPID_SHIFT)
#define VTAG_EPTRTA_MASK (((1ULL << (CPU_MAXPHYADDR - PAGE_SHIFT)) - 1) << TLB_VTAG_EPTRTA_SHIFT)

_Static_assert(TLB_VTAG_NONROOT > (0xFFFULL | VTAG_VPID_MASK) &&
		       TLB_VTAG_EPTRTA_SHIFT > 28 && CPU_MAXPHYADDR - PAGE_SHIFT + 29 < 64,
	       "PCID, VPID, non-root bit and EPTRTA do not overlap in a TLB key");

static bool vpid_active(const struct cpu *cpu)
{
	return vmx_proc2(cpu) & PROC2_ENABLE_VPID;
}

static uint64_t eptrta_tag(uint64_t eptp)
{
	return ((eptp & PAGE_MASK) << (TLB_VTAG_EPTRTA_SHIFT - PAGE_SHIFT)) & VTAG_EPTRTA_MASK;
}

uint64_t vmx_tlb_vtag(const struct cpu *cpu)
{
	if (!cpu->vmx.non_root)
		return 0;
	uint64_t tag = TLB_VTAG_NONROOT;
	if (vpid_active(cpu))
		tag |= (uint64_t)cpu->vmx.ctl.vpid << TLB_VTAG_VPID_SHIFT;
	if (ept_active(cpu))
		tag |= eptrta_tag(cpu->vmx.ctl.eptp);
	return tag;
}

/* SDM 28.3.3.1 (VM entry) and 29.5.5 (VM exit): with "enable VPID" = 0 the transition
 * invalidates linear and combined mappings of VPID 0000H, which the root shares: we
 * flush everything. With VPID = 1 nothing is invalidated: the new context's entries
 * (kept under their own tag) are simply current again. */
void vmx_tlb_transition(struct cpu *cpu)
{
	tlb_vmx_switch(cpu, vmx_tlb_vtag(cpu), !vpid_active(cpu));
}

/* SDM 32.3 INVEPT, 30.4.3.1: single-context invalidates the guest-physical and
 * combined mappings of the EPTP's EPTRTA (every VPID and PCID); all-context those of
 * every EPTRTA: every non-root context. */
void ept_invalidate(struct cpu *cpu, int type, uint64_t eptp)
{
	ept_cache_invalidate(&cpu->vmx.eptc, type != INVEPT_SINGLE_CONTEXT,
			     eptp & PAGE_MASK & (BIT(CPU_MAXPHYADDR) - 1));
	if (type == INVEPT_SINGLE_CONTEXT)
		tlb_flush_vmx(cpu, TLB_VTAG_NONROOT | VTAG_EPTRTA_MASK,
			      TLB_VTAG_NONROOT | eptrta_tag(eptp), false);
	else
		tlb_flush_vmx(cpu, TLB_VTAG_NONROOT, TLB_VTAG_NONROOT, false);
}

/* SDM 32.3 INVVPID, 30.4.3.1: individual-address drops the linear and combined
 * mappings of gla for the VPID (ours: in every context); single-context every mapping
 * of the VPID (all PCIDs and EPTRTAs), retaining-globals all but its global ones;
 * all-context those of every VPID but 0000H (every non-root context). */
void vpid_invalidate(struct cpu *cpu, int type, uint16_t vpid, uint64_t gla)
{
	uint64_t match = TLB_VTAG_NONROOT | (uint64_t)vpid << TLB_VTAG_VPID_SHIFT;
	switch (type) {
	case INVVPID_INDIVIDUAL_ADDRESS:
		tlb_flush_page(cpu, gla);
		break;
	case INVVPID_SINGLE_CONTEXT:
	case INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS:
		tlb_flush_vmx(cpu, TLB_VTAG_NONROOT | VTAG_VPID_MASK, match,
			      type == INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS);
		break;
	default:
		tlb_flush_vmx(cpu, TLB_VTAG_NONROOT, TLB_VTAG_NONROOT, false);
		break;
	}
}
