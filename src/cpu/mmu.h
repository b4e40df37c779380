/*
 * Internals of the MMU shared by mmu.c (page walks, SDM Vol.3A ch.4), tlb.c (the
 * software TLB) and mem.c (accesses). Not part of the executor contract: executors use
 * mem.h.
 */
#ifndef TURTLES_CPU_MMU_H
#define TURTLES_CPU_MMU_H

#include "cpu/exception.h"
#include "cpu/mem.h"

/* A successful translation: the 4 KiB piece of the page that holds the address. */
struct mmu_xlate {
	gpa_t gpa;         /* physical address of that 4 KiB piece */
	uint32_t flags;    /* TLBF_W, TLBF_U, TLBF_XD, TLBF_D, TLBF_G */
	uint64_t size;     /* size of the page: 4 KiB, 2 MiB, 4 MiB or 1 GiB */
};

/*
 * Translate la for an access of kind (ACC_READ/WRITE/EXEC) with the privilege of TLB
 * context priv (TLB_CTX_*: USER is a user-mode access, SUP_SMAP a supervisor access
 * that SMAP keeps off user pages). Walks the paging structures of the current mode
 * (SDM 4.3, 4.4.2, 4.5), checks reserved bits and access rights (SDM 4.6) and on
 * success sets the accessed flags and, for writes, the dirty flag (SDM 4.8) and returns
 * true; on a fault returns false with *pfec = the error code (SDM 4.7), nothing written.
 */
bool mmu_walk(struct cpu *cpu, gva_t la, int kind, int priv, struct mmu_xlate *x,
	      uint32_t *pfec);

/* SDM 4.6.1 "Determination of Access Rights": may an access of kind with privilege
 * priv use a translation with flags? Inline: every TLB fill and walk asks it. */
static inline bool mmu_allows(const struct cpu *cpu, uint32_t f, int kind, int priv)
{
	if (f & TLBF_NOPG)
		return true;                 /* SMEP/SMAP/WP need paging (SDM 4.6) */
	if (priv == TLB_CTX_USER) {
		if (!(f & TLBF_U))
			return false;            /* user accesses to supervisor pages */
		if (kind == ACC_WRITE)
			return f & TLBF_W;
		return kind != ACC_EXEC || !(f & TLBF_XD);
	}
	if (kind == ACC_EXEC)            /* XD; SMEP: no fetches from user pages */
		return !(f & TLBF_XD) && !((f & TLBF_U) && (cpu->cr4 & CR4_SMEP));
	if ((f & TLBF_U) && priv == TLB_CTX_SUP_SMAP)
		return false;                /* SMAP: no data accesses to user pages */
	return kind != ACC_WRITE || (f & TLBF_W) || !(cpu->cr0 & CR0_WP);
}

/* The W/R, U/S and I/D bits of the error code of a page fault (SDM 4.7). */
uint32_t mmu_pfec(const struct cpu *cpu, int kind, int priv);

/* Privilege context of a supervisor-mode access: SDM 4.6.1, with CR4.SMAP = 1 implicit
 * accesses and explicit ones with EFLAGS.AC = 0 may not touch user pages. */
static inline int mmu_sup_ctx(const struct cpu *cpu, bool implicit)
{
	if ((cpu->cr4 & CR4_SMAP) && (implicit || !(cpu->rflags & RFLAGS_AC)))
		return TLB_CTX_SUP_SMAP;
	return TLB_CTX_SUP;
}

/* SDM 3.3.7.1 / 4.5: bits 63:N-1 equal, N = 57 with CR4.LA57, else 48. */
static inline bool mmu_canonical(const struct cpu *cpu, gva_t la)
{
	int shift = (cpu->cr4 & CR4_LA57) ? 7 : 16;
	return (gva_t)((int64_t)(la << shift) >> shift) == la;
}

/* The TLB entry for an access (tlb.c): a hit of the main table, a refill from the
 * global table, or a page walk. Raises #PF (CR2 = la) if the walk faults. */
struct tlb_entry *tlb_fill(struct cpu *cpu, gva_t la, int ctx, int kind);

/* VMX (tlb.h, SDM 30.4): make the address spaces of VMX context vtag current, keeping
 * their entries unless flush (then everything is flushed). */
void tlb_vmx_switch(struct cpu *cpu, uint64_t vtag, bool flush);
/* Invalidate every address space whose key matches (key & mask == match), and unless
 * keep_global the global entries (of every context). */
void tlb_flush_vmx(struct cpu *cpu, uint64_t mask, uint64_t match, bool keep_global);

#endif
