/*
 * Page walks (SDM Vol.3A ch.4): no paging, 32-bit paging with 4 MiB pages and PSE-36,
 * PAE paging with its PDPTE registers, 4-level and 5-level paging with 2 MiB and 1 GiB
 * pages; access rights (4.6), page-fault error codes (4.7), accessed and dirty flags
 * (4.8). Protection keys are not supported (CR4.PKE cannot be set), and the PAT is:
 * PTE bit 7 and large-page bit 12 are never reserved.
 *
 * Accessed/dirty flags are written only when the whole translation succeeds, after the
 * access-rights check, as one step (the machine is single-threaded, so nothing can
 * observe the walk half-done); a faulting access leaves the paging structures alone.
 *
 * In VMX non-root operation with EPT (vmx/ept.h, SDM 30.3) the addresses of paging-
 * structure entries and the translated address are guest-physical: each goes through
 * EPT, and a walk returns the silicon-physical address (a combined mapping).
 */
#include "cpu/mmu.h"

#include <string.h>

#include "cpu/vmx/ept.h"

#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_U BIT(2)
#define PTE_A BIT(5)
#define PTE_D BIT(6)
#define PTE_PS BIT(7)
#define PTE_G BIT(8)
#define PTE_XD BIT(63)

#define GENMASK(h, l) ((~0ULL >> (63 - (h))) & ~((1ULL << (l)) - 1))
#define M CPU_MAXPHYADDR
/* 32-bit paging uses M = min(MAXPHYADDR, 40) (SDM 4.3, Table 4-4). */
#define M32 (CPU_MAXPHYADDR < 40 ? CPU_MAXPHYADDR : 40)
#define ADDR_MASK GENMASK(M - 1, 12)
/* Walkers return 0, or FAULT | the error code (which may itself be 0). */
#define FAULT BIT(31)
/* PDPTE registers, SDM 4.4.1 Table 4-8: bits 2:1, 8:5 and 63:MAXPHYADDR reserved. */
#define PDPTE_RSVD (GENMASK(63, M) | GENMASK(8, 5) | GENMASK(2, 1))

/* The entries a walk used, for the A/D update once the translation succeeded. */
struct walk {
	gpa_t addr[5];
	uint64_t val[5];
	int n;
	int width;        /* entry size in bytes: 4 (32-bit paging) or 8 */
	uint64_t all;     /* AND of the entries used: R/W, U/S (SDM 4.6), A (SDM 4.8) */
	uint64_t any;     /* OR of the entries used: XD (SDM 4.6) */
	uint32_t pfec;    /* FAULT | W/R, U/S, I/D of the access */
	bool ept;         /* non-root operation with EPT: addr[] are after EPT, */
	bool ept_ad;      /* EPT A/D flags on (SDM 30.3.5) */
	gva_t la;         /* the address being translated */
	gpa_t gaddr[5];   /* with EPT: the guest-physical addresses of the entries */
	struct ept_walk_cache wc; /* with EPT: cached guest-physical mappings (ept.h) */
};

/* The silicon-physical address of the paging-structure entry at addr for the entry
 * the walk uses next (SDM 30.3: through EPT in non-root operation with EPT). */
static inline gpa_t pt_addr(struct cpu *cpu, struct walk *w, gpa_t addr)
{
	if (likely(!w->ept))
		return addr;
	w->gaddr[w->n] = addr;
	return ept_walk_read(cpu, &w->wc, addr, w->la);
}

static inline void walk_use(struct walk *w, gpa_t addr, uint64_t e)
{
	w->addr[w->n] = addr;
	w->val[w->n++] = e;
	w->all &= e;
	w->any |= e;
}

/* TLBF_W / TLBF_U / TLBF_XD of the translation: the AND of the R/W and U/S flags, the
 * OR of the XD flags with EFER.NXE = 1 (SDM 4.6; 32-bit paging has no XD bit). */
static uint32_t walk_flags(const struct cpu *cpu, const struct walk *w)
{
	uint32_t f = 0;
	if (w->all & PTE_W)
		f |= TLBF_W;
	if (w->all & PTE_U)
		f |= TLBF_U;
	if ((cpu->efer & EFER_NXE) && (w->any & PTE_XD))
		f |= TLBF_XD;
	return f;
}

/* Fill in the leaf: page size, the 4 KiB piece holding la, dirty and global flags. */
static void walk_leaf(const struct cpu *cpu, struct mmu_xlate *x, uint64_t e, gpa_t base,
		      uint64_t size, gva_t la)
{
	x->size = size;
	x->gpa = base | (la & (size - 1) & PAGE_MASK);
	x->flags = 0;
	if (e & PTE_D)
		x->flags |= TLBF_D;
	if ((e & PTE_G) && (cpu->cr4 & CR4_PGE))
		x->flags |= TLBF_G;
}

/* --- 32-bit paging (SDM 4.3) ---------------------------------------------------- */

static uint32_t walk32(struct cpu *cpu, gva_t la, struct walk *w, struct mmu_xlate *x)
{
	gpa_t addr = pt_addr(cpu, w, (cpu->cr3 & 0xFFFFF000) | ((la >> 22) & 0x3FF) << 2);
	uint64_t pde = bus_read(cpu->bus, addr, 4);
	if (!(pde & PTE_P))
		return w->pfec;
	walk_use(w, addr, pde);
	if ((pde & PTE_PS) && (cpu->cr4 & CR4_PSE)) {
		/* 4 MiB page: bits 21:(M-19) reserved; PDE bits 20:13 are PA bits 39:32. */
		if (pde & GENMASK(21, M32 - 19))
			return w->pfec | PFEC_P | PFEC_RSVD;
		gpa_t base = (pde & 0xFFC00000) | ((pde >> 13) & 0xFF) << 32;
		walk_leaf(cpu, x, pde, base, 4ULL << 20, la);
		return 0;
	}
	addr = pt_addr(cpu, w, (pde & 0xFFFFF000) | ((la >> 12) & 0x3FF) << 2);
	uint64_t pte = bus_read(cpu->bus, addr, 4);
	if (!(pte & PTE_P))
		return w->pfec;
	walk_use(w, addr, pte);
	walk_leaf(cpu, x, pte, pte & 0xFFFFF000, PAGE_SIZE, la);
	return 0;
}

/* --- PAE, 4-level and 5-level paging (SDM 4.4.2, 4.5) ---------------------------- */

/* Reserved bits of a present entry at level (1 = PTE ... 5 = PML5E). PAE paging
 * reserves bits 62:M (SDM 4.4.2), 4/5-level paging 51:M (SDM 4.5.4); XD is reserved
 * without EFER.NXE (these make r, the same at every level of a walk); PS is reserved
 * in PML4Es and PML5Es; a 1 GiB or 2 MiB page reserves the address bits below its
 * alignment except the PAT bit 12. */
static inline uint64_t rsvd_bits(uint64_t r, int level, uint64_t e)
{
	if (level >= 4)
		r |= PTE_PS;
	else if (level == 3 && (e & PTE_PS))
		r |= GENMASK(29, 13);
	else if (level == 2 && (e & PTE_PS))
		r |= GENMASK(20, 13);
	return r;
}

/* A 64-bit paging-structure entry: read in place below lim, the end of the RAM that no
 * MMIO region overlays (bus->mmio_low, as bus_read does it), else through the bus. */
static inline uint64_t pt_read64(struct bus *bus, const uint8_t *ram, gpa_t lim,
				 gpa_t addr)
{
	if (likely(addr + 8 <= lim)) {
		uint64_t v;
		memcpy(&v, ram + addr, 8);
		return v;
	}
	return bus_read(bus, addr, 8);
}

static uint32_t walk_levels(struct cpu *cpu, gva_t la, gpa_t table, int level, bool pae,
			    struct walk *w, struct mmu_xlate *x)
{
	bool nxe = cpu->efer & EFER_NXE;
	uint64_t rsvd = (pae ? GENMASK(62, M) : GENMASK(51, M)) | (nxe ? 0 : PTE_XD);
	struct bus *bus = cpu->bus;
	const uint8_t *ram = bus->ram;
	gpa_t lim = bus->mmio_low < bus->ram_size ? bus->mmio_low : bus->ram_size;
	bool ept = w->ept;
	for (;; level--) {
		int shift = PAGE_SHIFT + 9 * (level - 1);
		gpa_t addr = table + (((la >> shift) & 511) << 3);
		if (unlikely(ept))
			addr = pt_addr(cpu, w, addr);
		uint64_t e = pt_read64(bus, ram, lim, addr);
		if (!(e & PTE_P))
			return w->pfec;
		if (e & rsvd_bits(rsvd, level, e))
			return w->pfec | PFEC_P | PFEC_RSVD;
		walk_use(w, addr, e);
		if (level == 1 || (e & PTE_PS)) {
			walk_leaf(cpu, x, e, e & GENMASK(M - 1, shift), 1ULL << shift, la);
			return 0;
		}
		table = e & ADDR_MASK;
	}
}

/* Read the PDPTEs at CR3[31:5]; false if a present one sets a reserved bit. */
static bool read_pdptes(struct cpu *cpu, uint64_t p[4])
{
	gpa_t base = cpu->cr3 & 0xFFFFFFE0;
	bool ok = true;
	/* SDM 30.3, 29.2.1: with EPT the PDPTEs are read through it, as an access with
	 * no linear address (qualification bit 7 = 0). */
	if (unlikely(cpu->vmx.non_root) && ept_active(cpu))
		base = ept_paging_access(cpu, base, 0, false, false);
	for (int i = 0; i < 4; i++) {
		p[i] = bus_read(cpu->bus, base + 8 * (gpa_t)i, 8);
		if ((p[i] & PTE_P) && (p[i] & PDPTE_RSVD))
			ok = false;
	}
	return ok;
}

/* SDM 4.4.1: load the four PDPTEs from CR3[31:5]; #GP(0) (return false, registers
 * unchanged) if a present one sets a reserved bit. */
bool mmu_load_pdptrs(struct cpu *cpu)
{
	uint64_t p[4];
	if (!read_pdptes(cpu, p))
		return false;
	memcpy(cpu->tlb.pdpte, p, sizeof(p));
	cpu->tlb.pdpte_cr3 = cpu->cr3 | 1;
	return true;
}

/* PAE: bits 31:30 select a PDPTE register (SDM 4.4.2); it has no access rights. If
 * the CR writer did not load the registers for this CR3, load them now; a reserved
 * bit in a present one then faults like a reserved bit of any other entry. */
static uint32_t walk_pae(struct cpu *cpu, gva_t la, struct walk *w, struct mmu_xlate *x)
{
	struct tlb *t = &cpu->tlb;
	if (unlikely(t->pdpte_cr3 != (cpu->cr3 | 1))) {
		read_pdptes(cpu, t->pdpte);
		t->pdpte_cr3 = cpu->cr3 | 1;
	}
	uint64_t pdpte = t->pdpte[(la >> 30) & 3];
	if (!(pdpte & PTE_P))
		return w->pfec;
	if (pdpte & PDPTE_RSVD)
		return w->pfec | PFEC_P | PFEC_RSVD;
	return walk_levels(cpu, la, pdpte & ADDR_MASK, 2, true, w, x);
}

/* SDM 4.8: A in every entry used, D in the one that maps the page for a write. */
static void walk_set_ad(struct cpu *cpu, const struct walk *w, bool write)
{
	/* Nothing to write when every entry has A and a write's leaf has D (the steady
	 * state of a mapping in use). */
	if ((w->all & PTE_A) && (!write || (w->val[w->n - 1] & PTE_D)))
		return;
	/* With EPT (A/D flags off), setting a flag is a write to the entry's guest-
	 * physical page: it needs EPT write permission (SDM 30.3.3.2); check them all
	 * before writing any. */
	for (int i = 0; unlikely(w->ept && !w->ept_ad) && i < w->n; i++) {
		uint64_t v = w->val[i] | PTE_A | (write && i == w->n - 1 ? PTE_D : 0);
		if (v != w->val[i])
			ept_paging_access(cpu, w->gaddr[i], w->la, true, true);
	}
	for (int i = 0; i < w->n; i++) {
		uint64_t v = w->val[i] | PTE_A;
		if (write && i == w->n - 1)
			v |= PTE_D;
		if (v != w->val[i])
			bus_write(cpu->bus, w->addr[i], w->width, v);
	}
}

bool mmu_walk(struct cpu *cpu, gva_t la, int kind, int priv, struct mmu_xlate *x,
	      uint32_t *pfec)
{
	cpu->tlb.stats.walks++;
	if (!(cpu->cr0 & CR0_PG)) {
		/* SDM 4.1.1: without paging, linear addresses are physical addresses (in
		 * non-root operation guest-physical ones, SDM 28.3.1.1 unrestricted guest). */
		x->gpa = la & PAGE_MASK;
		x->flags = TLBF_W | TLBF_U | TLBF_D | TLBF_NOPG;
		x->size = PAGE_SIZE;
		if (unlikely(cpu->vmx.non_root))
			ept_final(cpu, la, kind, x);
		return true;
	}
	struct walk w; /* addr[] and val[] are written as the walk goes (no memset) */
	w.ept = unlikely(cpu->vmx.non_root) && ept_active(cpu);
	w.ept_ad = w.ept && (cpu->vmx.ctl.eptp & EPTP_AD_ENABLE);
	if (unlikely(w.ept))
		ept_walk_begin(cpu, &w.wc);
	w.la = la;
	w.n = 0;
	w.width = 8;
	w.all = ~0ULL;
	w.any = 0;
	w.pfec = FAULT | mmu_pfec(cpu, kind, priv);
	uint32_t err;
	if (!(cpu->cr4 & CR4_PAE)) {
		w.width = 4;
		err = walk32(cpu, la, &w, x);
	} else if (cpu->efer & EFER_LMA) {
		int levels = (cpu->cr4 & CR4_LA57) ? 5 : 4;
		err = walk_levels(cpu, la, cpu->cr3 & ADDR_MASK, levels, false, &w, x);
	} else {
		err = walk_pae(cpu, la, &w, x);
	}
	if (!err) {
		x->flags |= walk_flags(cpu, &w);
		if (!mmu_allows(cpu, x->flags, kind, priv))
			err = w.pfec | PFEC_P;
	}
	if (err) {
		*pfec = err & ~(uint32_t)FAULT;
		return false;
	}
	if (unlikely(cpu->vmx.non_root))
		ept_final(cpu, la, kind, x);
	walk_set_ad(cpu, &w, kind == ACC_WRITE);
	if (kind == ACC_WRITE)
		x->flags |= TLBF_D;
	return true;
}

/* SDM 4.7: W/R = write; U/S = user-mode access; I/D = instruction fetch when SMEP is
 * on or PAE paging modes run with EFER.NXE = 1. P and RSVD are added by the walk. */
uint32_t mmu_pfec(const struct cpu *cpu, int kind, int priv)
{
	uint32_t e = 0;
	if (kind == ACC_WRITE)
		e |= PFEC_W;
	if (priv == TLB_CTX_USER)
		e |= PFEC_U;
	if (kind == ACC_EXEC && ((cpu->cr4 & CR4_SMEP) ||
				 ((cpu->cr4 & CR4_PAE) && (cpu->efer & EFER_NXE))))
		e |= PFEC_I;
	return e;
}

bool mmu_translate(struct cpu *cpu, gva_t la, unsigned acc, int cpl, gpa_t *gpa,
		   uint32_t *pfec)
{
	int kind = acc & 3;
	int priv = TLB_CTX_USER;
	if ((acc & ACC_IMPLICIT) || cpl < 3)
		priv = mmu_sup_ctx(cpu, acc & ACC_IMPLICIT);
	struct mmu_xlate x;
	if (!mmu_walk(cpu, la, kind, priv, &x, pfec))
		return false;
	*gpa = x.gpa | (la & ~PAGE_MASK);
	return true;
}
