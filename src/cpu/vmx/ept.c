/*
 * EPT translation (SDM 30.3): the 4-level walk with 1-GByte and 2-MByte pages
 * (30.3.2), misconfigurations (30.3.3.1), violations (30.3.3.2) with their exit
 * qualification (29.2.1, Table 29-7), accessed and dirty flags (30.3.5) and
 * page-modification logging (30.3.6); the APIC-access page (31.4).
 *
 * Like the guest page walk (mmu.c), a walk writes A/D flags only when the whole
 * translation succeeds, so a faulting access leaves the EPT paging structures alone.
 * Every EPT entry is read from silicon-physical memory through the bus.
 */
#include "cpu/vmx/ept.h"

#include "cpu/vmx/vmx_internal.h"

#define GENMASK(h, l) ((~0ULL >> (63 - (h))) & ~((1ULL << (l)) - 1))
#define EPT_ADDR_MASK GENMASK(CPU_MAXPHYADDR - 1, 12)
#define EPT_PERM_MASK (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_LEVELS 4

/* SDM 30.3.2 Tables 30-1 to 30-6: reserved bits of a present entry at level (4 =
 * PML4E ... 1 = PTE). Bits 51:MAXPHYADDR everywhere; 7:3 in a PML4E; 6:3 in an entry
 * that references a table; the address bits below the page's alignment in a PDPTE
 * or PDE that maps a 1-GByte or 2-MByte page. */
static uint64_t ept_rsvd(int level, uint64_t e)
{
	uint64_t r = GENMASK(51, CPU_MAXPHYADDR);
	if (level == 4)
		return r | GENMASK(7, 3);
	if (level == 1)
		return r;
	if (!(e & EPT_LARGE))
		return r | GENMASK(6, 3);
	return r | (level == 3 ? GENMASK(29, 12) : GENMASK(20, 12));
}

/* SDM 30.3.3.1: a present entry is misconfigured if it allows writes but not reads,
 * sets a reserved bit, or (a leaf) has memory type 2, 3 or 7. Execute-only entries
 * are fine: IA32_VMX_EPT_VPID_CAP bit 0 is set. */
static bool ept_misconfigured(int level, uint64_t e, bool leaf)
{
	if ((e & (EPT_READ | EPT_WRITE)) == EPT_WRITE)
		return true;
	if (e & ept_rsvd(level, e))
		return true;
	if (leaf) {
		unsigned mt = (e >> EPT_MEMTYPE_SHIFT) & 7;
		return mt == 2 || mt == 3 || mt == 7;
	}
	return false;
}

/* Bits 0-2 of the qualification: the kind of access (SDM 29.2.1, Table 29-7). */
static uint64_t access_bits(int kind)
{
	return kind == ACC_WRITE ? EPTQUAL_WRITE : kind == ACC_EXEC ? EPTQUAL_FETCH
								: EPTQUAL_READ;
}

/* SDM 29.2.1 Table 29-7: the access (bits 0-2), the AND of the permissions of the EPT
 * entries used, up to the not-present one if any (bits 3-5), whether a linear address
 * was translated (bit 7) and whether this was its final access (bit 8); with the
 * advanced information of IA32_VMX_EPT_VPID_CAP bit 22 and bits 7, 8 set: the guest
 * translation's U/S (bit 9), R/W (bit 10) and XD (bit 11). Without guest paging the
 * linear address has no such attributes: bits 9-11 stay 0. Bit 12 (NMI unblocking
 * due to IRET) stays 0: IRET unblocks NMIs after its last access (vmx_internal.h). */
static void violation(const struct ept_access *a, gpa_t gpa, uint64_t perm,
		      struct vmx_exit_info *exit)
{
	uint64_t q = access_bits(a->kind) | (perm & EPT_PERM_MASK) << 3;
	if (a->ad_write)
		q |= EPTQUAL_READ; /* Table 29-7 note 1: EPT A/D made it a write: bits 0, 1 */
	if (a->gla_valid) {
		q |= EPTQUAL_GLA_VALID;
		exit->guest_linear = a->gla;
		if (a->final) {
			q |= EPTQUAL_GLA_TRANSLATED;
			if (!(a->gflags & TLBF_NOPG)) {
				q |= (a->gflags & TLBF_U) ? BIT(9) : 0;
				q |= (a->gflags & TLBF_W) ? BIT(10) : 0;
				q |= (a->gflags & TLBF_XD) ? BIT(11) : 0;
			}
		}
	}
	exit->reason = EXIT_REASON_EPT_VIOLATION;
	exit->qualification = q;
	exit->guest_physical = gpa;
}

/* SDM 29.2.1: an EPT misconfiguration has no qualification; the guest-physical
 * address is reported. */
static void misconfig(gpa_t gpa, struct vmx_exit_info *exit)
{
	exit->reason = EXIT_REASON_EPT_MISCONFIG;
	exit->guest_physical = gpa;
}

/* SDM 30.3.3.2: may an access of kind use a translation with permissions perm? */
static bool ept_allows(uint64_t perm, int kind)
{
	return perm & (kind == ACC_WRITE ? EPT_WRITE : kind == ACC_EXEC ? EPT_EXEC : EPT_READ);
}

/* The entries a walk used, for the A/D update once the translation succeeded. */
struct ept_walk_state {
	gpa_t addr[EPT_LEVELS];
	uint64_t val[EPT_LEVELS];
	int n;
};

/* SDM 30.3.6: page-modification logging, before a dirty flag goes from 0 to 1. An
 * index outside 0-511 is a full log: the PML-full exit, before the access. Else the
 * page-aligned guest-physical address goes to entry index of the log and the index
 * is decremented. */
static bool pml_log(struct cpu *cpu, gpa_t gpa, struct vmx_exit_info *exit)
{
	struct vmcs *v = cpu->vmx.current;
	if (!v || !(vmx_proc2(cpu) & PROC2_ENABLE_PML))
		return true;
	uint64_t index = VMCS_GET(v, GUEST_PML_INDEX);
	if (index > 511) {
		exit->reason = EXIT_REASON_PML_FULL;
		return false;
	}
	gpa_t log = VMCS_GET(v, PML_ADDRESS) & EPT_ADDR_MASK;
	bus_write(cpu->bus, log + 8 * index, 8, gpa & PAGE_MASK);
	VMCS_SET(v, GUEST_PML_INDEX, (index - 1) & 0xFFFF);
	return true;
}

/* SDM 30.3.5: with EPTP bit 6, A in every entry used, D in the leaf for a write (an
 * access that EPT sees as a write). False: the PML log is full, nothing written. */
static bool ept_set_ad(struct cpu *cpu, const struct ept_walk_state *w, gpa_t gpa,
		       bool write, struct vmx_exit_info *exit)
{
	uint64_t leaf = w->val[w->n - 1];
	if (write && !(leaf & EPT_DIRTY) && !pml_log(cpu, gpa, exit))
		return false;
	for (int i = 0; i < w->n; i++) {
		uint64_t v = w->val[i] | EPT_ACCESSED;
		if (write && i == w->n - 1)
			v |= EPT_DIRTY;
		if (v != w->val[i])
			bus_write(cpu->bus, w->addr[i], 8, v);
	}
	return true;
}

/* The combined-mapping flags (tlb.h) of a translation with permissions perm. */
static uint32_t xlate_flags(uint64_t perm, bool clean)
{
	uint32_t f = 0;
	if (!(perm & EPT_READ))
		f |= TLBF_EPT_NR;
	if (!(perm & EPT_WRITE))
		f |= TLBF_EPT_NW;
	if (!(perm & EPT_EXEC))
		f |= TLBF_EPT_NX;
	return clean ? f | TLBF_EPT_CLEAN : f;
}

bool ept_walk(struct cpu *cpu, gpa_t gpa, const struct ept_access *a, struct ept_xlate *x,
	      struct vmx_exit_info *exit)
{
	uint64_t eptp = cpu->vmx.ctl.eptp;
	gpa_t table = eptp & EPT_ADDR_MASK;
	struct ept_walk_state w = { .n = 0 };
	uint64_t perm = EPT_PERM_MASK;
	*exit = (struct vmx_exit_info){ 0 };
	for (int level = EPT_LEVELS;; level--) {
		int shift = PAGE_SHIFT + 9 * (level - 1);
		gpa_t addr = table + (((gpa >> shift) & 511) << 3);
		uint64_t e = bus_read(cpu->bus, addr, 8);
		perm &= e;
		if (!(e & EPT_PERM_MASK)) {           /* not present (SDM 30.3.2) */
			violation(a, gpa, 0, exit);
			return false;
		}
		bool leaf = level == 1 || (e & EPT_LARGE);
		if (ept_misconfigured(level, e, leaf)) {
			misconfig(gpa, exit);
			return false;
		}
		w.addr[w.n] = addr;
		w.val[w.n++] = e;
		if (leaf) {
			x->size = 1ULL << shift;
			x->hpa = (e & GENMASK(CPU_MAXPHYADDR - 1, shift)) |
				 (gpa & (x->size - 1) & PAGE_MASK);
			break;
		}
		table = e & EPT_ADDR_MASK;
	}
	if (!ept_allows(perm, a->kind)) {
		violation(a, gpa, perm, exit);
		return false;
	}
	bool ad = eptp & EPTP_AD_ENABLE;
	bool write = a->kind == ACC_WRITE;
	if (ad && !ept_set_ad(cpu, &w, gpa, write, exit))
		return false;
	x->flags = xlate_flags(perm, ad && !write && !(w.val[w.n - 1] & EPT_DIRTY));
	return true;
}

/* SDM 31.4: with "virtualize APIC accesses", the page at the APIC-access address (a
 * physical address: after EPT when EPT is on) is the APIC-access page. */
static bool is_apic_access_page(const struct cpu *cpu, hpa_t page)
{
	return (vmx_proc2(cpu) & PROC2_VIRTUALIZE_APIC_ACCESSES) &&
	       page == (cpu->vmx.ctl.apic_access_page & EPT_ADDR_MASK);
}

/* A cached guest-physical mapping of gpa under the current EPTP that allows an access
 * of kind (SDM 30.4.1): its silicon-physical page and TLBF_EPT_* rights. Not if the
 * rights deny it, nor for a write through a clean EPT leaf: those walk, so violations,
 * dirty flags and PML logging stay exact (SDM 30.3.3.2, 30.3.5, 30.3.6). */
static inline bool ept_cached(struct cpu *cpu, gpa_t gpa, int kind, hpa_t *hpa,
			      uint32_t *flags)
{
	struct ept_cache *c = &cpu->vmx.eptc;
	uint64_t eptp = cpu->vmx.ctl.eptp;
	if (unlikely(c->eptp_not != ~eptp))
		ept_cache_switch(c, eptp);
	const struct ept_cache_entry *e = ept_cache_find(c, gpa);
	if (!e || (e->delta & (BIT(EPTC_DENY_SHIFT) << kind)))
		return false;
	*hpa = (gpa & PAGE_MASK) + (e->delta & PAGE_MASK);
	*flags = (uint32_t)(e->delta & EPTC_RIGHTS) * TLBF_EPT_NR;
	return true;
}

/* ept_translate() when the cache cannot answer: walk, and cache what succeeded. */
static void translate_walk(struct cpu *cpu, gpa_t gpa, const struct ept_access *a,
			   struct ept_xlate *x)
{
	struct vmx_exit_info exit;
	if (!ept_walk(cpu, gpa, a, x, &exit))
		vmx_exit_unwind(cpu, &exit);
	ept_cache_fill(&cpu->vmx.eptc, gpa, x->hpa, x->flags, x->size);
}

void ept_translate(struct cpu *cpu, gpa_t gpa, const struct ept_access *a,
		   struct ept_xlate *x)
{
	if (ept_cached(cpu, gpa, a->kind, &x->hpa, &x->flags))
		x->size = PAGE_SIZE; /* what the cache vouches for, at least */
	else
		translate_walk(cpu, gpa, a, x);
}

/* SDM 29.2.1 Table 29-6, the access types of an APIC-access exit: 0 linear read,
 * 1 linear write, 2 linear fetch, 3 linear access during event delivery (all four
 * with the offset in bits 11:0), 10 guest-physical access during event delivery, 15
 * guest-physical access during instruction fetch or execution. */
enum { APIC_ACCESS_LINEAR_EVENT = 3, APIC_ACCESS_GUEST_PHYSICAL = 15 };

static bool delivering_event(const struct cpu *cpu)
{
	return cpu->vmx.vectoring_info & INTR_INFO_VALID;
}

_Noreturn static void apic_access_exit(struct cpu *cpu, uint64_t offset, gpa_t gpa,
				       unsigned type)
{
	if (delivering_event(cpu))
		type = type == APIC_ACCESS_GUEST_PHYSICAL ? 10 : APIC_ACCESS_LINEAR_EVENT;
	struct vmx_exit_info exit = {
		.reason = EXIT_REASON_APIC_ACCESS,
		.qualification = offset | (uint64_t)type << 12,
		.guest_physical = gpa,
	};
	vmx_exit_unwind(cpu, &exit);
}

gpa_t ept_paging_access(struct cpu *cpu, gpa_t gpa, gva_t la, bool gla_valid, bool write)
{
	/* SDM 30.3.5: with EPT A/D flags on, guest paging-structure accesses are writes
	 * for EPT (and so need write permission, SDM 30.3.3.2). */
	if (cpu->vmx.ctl.eptp & EPTP_AD_ENABLE)
		write = true;
	struct ept_access a = { .kind = write ? ACC_WRITE : ACC_READ,
				.gla_valid = gla_valid, .gla = la,
				.ad_write = (cpu->vmx.ctl.eptp & EPTP_AD_ENABLE) != 0 };
	struct ept_xlate x;
	ept_translate(cpu, gpa, &a, &x);
	if (unlikely(is_apic_access_page(cpu, x.hpa)))
		apic_access_exit(cpu, 0, gpa, APIC_ACCESS_GUEST_PHYSICAL);
	return x.hpa | (gpa & ~PAGE_MASK);
}

void ept_final(struct cpu *cpu, gva_t la, int kind, struct mmu_xlate *x)
{
	if (vmx_proc2(cpu) & PROC2_ENABLE_EPT) {
		gpa_t gpa = x->gpa | (la & ~PAGE_MASK);
		struct ept_xlate e;
		/* A linear write's final translation always walks: the combined mapping
		 * must see the EPT leaf's dirty flag as memory has it now, so a VMM that
		 * cleared it (PML-based dirty logging does, SDM 30.3.6) sees the next
		 * write set it and log it again (SDM 30.3.5, 30.4.2: combined mappings
		 * come from the EPT paging structures). A read or fetch filled from the
		 * cache leaves writes to that walk (TLBF_EPT_CLEAN denies them). */
		if (kind == ACC_WRITE || !ept_cached(cpu, gpa, kind, &e.hpa, &e.flags)) {
			struct ept_access a = { .kind = kind, .gla_valid = true, .final = true,
						.gla = la, .gflags = x->flags };
			translate_walk(cpu, gpa, &a, &e);
		} else if (cpu->vmx.ctl.eptp & EPTP_AD_ENABLE) {
			e.flags |= TLBF_EPT_CLEAN;
		}
		x->gpa = e.hpa;
		x->flags |= e.flags;
	}
	if (is_apic_access_page(cpu, x->gpa))
		x->flags |= TLBF_VAPIC;
}

/* A linear access of kind (ACC_READ/WRITE/EXEC = access types 0-2) at pa. */
void ept_apic_access_exit(struct cpu *cpu, gpa_t pa, int kind)
{
	apic_access_exit(cpu, pa & ~PAGE_MASK, 0, (unsigned)kind);
}
