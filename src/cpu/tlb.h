/*
 * The software TLB (tlb.c, filled by the page walker in mmu.c; SDM Vol.3A 4.10).
 *
 * Direct-mapped, TLB_SIZE entries per privilege context, indexed by linear page number.
 * An entry caches what SDM 4.10.2.2 lets a TLB cache (physical page, the AND of R/W and
 * U/S, the OR of XD, the leaf's dirty flag, global) plus, for RAM pages, an addend:
 * host pointer = linear address + addend.
 *
 * Fast path: each entry has one tag per access kind (read, write, execute). A tag is
 * "linear page | stamp" when that kind of access may use the host pointer directly,
 * else 0. A lookup compares the tag with "page of the access's LAST byte | current
 * stamp": one compare checks validity, permission, and that the access does not cross
 * into the next page (consecutive pages never share a slot). Everything else (MMIO,
 * the APIC page, code pages, clean pages being written, pages an armed hardware
 * breakpoint watches (debug.h), faults) takes the slow path.
 *
 * Contexts (TLB_CTX_*) make privilege part of the lookup, not a per-access check:
 *   USER      CPL 3 explicit accesses,
 *   SUP       supervisor accesses that may touch user pages (CR4.SMAP = 0, or AC = 1),
 *   SUP_SMAP  supervisor accesses SMAP keeps off user pages (AC = 0, or implicit).
 * CR0.WP, CR4.SMEP and EFER.NXE are folded into the tags too; changing them flushes
 * (tlb_ctl_written), which is a stamp bump.
 *
 * Stamps (low 12 bits of every tag) make flushes O(1): a non-global flush gives the
 * current PCID a new stamp; a full flush also voids every PCID's stamp and the global
 * table's stamp. When the 4095 stamps run out the arrays are cleared (a 3 MiB memset
 * every 4095 flushes).
 *
 * PCIDs are tagged (SDM 4.10.1): up to TLB_ASIDS recently used PCIDs keep a live
 * stamp (least recently used one is dropped), so MOV to CR3 with bit 63 set finds its
 * entries again. Each live PCID also has an index salt XORed into the slot number, so
 * that the same linear page in two address spaces does not share a slot.
 *
 * VMX (SDM 30.4): an address space is a PCID within a VMX context (root operation, or
 * non-root operation with a VPID and, with EPT, an EPTRTA), so guest and root entries
 * never mix, and each context remembers the CR0/CR4/EFER bits its entries were made
 * under. With EPT an entry is a combined mapping: linear page to silicon-physical page,
 * with the AND of the guest's and the EPT's rights (TLBF_EPT_*).
 *
 * Global translations (G = 1 with CR4.PGE) are also written to a separate table with its
 * own stamp, which non-global flushes and PCID switches do not touch; a miss in the
 * main table refills from it without a page walk (SDM 4.10.2.4).
 *
 * Writes to code pages: an entry never gets a write tag for a page with
 * bus->code_page[pfn] set; entries with write tags are chained by physical page so that
 * tlb_drop_fast_writes() finds them in O(chain) when a page becomes a code page.
 */
#ifndef TURTLES_CPU_TLB_H
#define TURTLES_CPU_TLB_H

#include "cpu/types.h"

#define TLB_BITS 14
#define TLB_SIZE (1u << TLB_BITS)      /* entries per context: 64 MiB of 4 KiB pages */
#define TLB_STAMP_MAX 0xFFFu           /* stamps live in the low 12 bits of a tag */
#define TLB_WR_BITS 14                 /* buckets of the write chains */
#define TLB_ASIDS 8            /* PCIDs with live entries; a power of two */

enum { TLB_CTX_USER, TLB_CTX_SUP, TLB_CTX_SUP_SMAP, TLB_NCTX };

/* Access kinds index the tags (the same values as ACC_READ/WRITE/EXEC in mem.h). */
enum { TLB_READ, TLB_WRITE, TLB_EXEC };

/* Translation attributes (SDM 4.10.2.2) and the kind of physical page. */
#define TLBF_W BIT(0)       /* logical AND of the R/W flags */
#define TLBF_U BIT(1)       /* logical AND of the U/S flags: a user-mode page */
#define TLBF_XD BIT(2)      /* logical OR of the XD flags (EFER.NXE = 1 only) */
#define TLBF_D BIT(3)       /* dirty flag of the entry that maps the page */
#define TLBF_G BIT(4)       /* global translation (G = 1 and CR4.PGE = 1) */
#define TLBF_MMIO BIT(5)    /* not plain RAM: accesses go through bus_read/bus_write */
#define TLBF_APIC BIT(6)    /* this CPU's xAPIC page (SDM 11.4.1) */
#define TLBF_LINKED BIT(7)  /* on a write chain (has or had a write tag) */
#define TLBF_NOPG BIT(8)    /* paging disabled: no access rights apply (SDM 4.1.1) */
/* VMX non-root operation with EPT (SDM 30.3, 30.4.1 combined mappings): the entry's
 * gpa is the silicon-physical address after EPT, and these record what the EPT
 * entries used allow. TLBF_EPT_NR << kind denies access kind (ACC_READ/WRITE/EXEC). */
#define TLBF_EPT_NR BIT(9)     /* not readable (AND of EPT bit 0) */
#define TLBF_EPT_NW BIT(10)    /* not writable (AND of EPT bit 1) */
#define TLBF_EPT_NX BIT(11)    /* not executable (AND of EPT bit 2) */
#define TLBF_EPT_CLEAN BIT(12) /* EPT A/D on and the EPT leaf's dirty flag is 0 */
#define TLBF_VAPIC BIT(13)     /* the APIC-access page ("virtualize APIC accesses") */
#define TLBF_SLOW (TLBF_MMIO | TLBF_APIC | TLBF_VAPIC)

/* Access kinds (BIT(TLB_*)) the EPT part of a combined mapping denies: no permission
 * (SDM 30.3.3.2), or a write that must set the EPT dirty flag first (SDM 30.3.5). */
static inline unsigned tlb_ept_deny(uint32_t flags)
{
	unsigned d = (flags / TLBF_EPT_NR) & 7;
	return (flags & TLBF_EPT_CLEAN) ? d | (unsigned)BIT(TLB_WRITE) : d;
}

struct tlb_entry {
	uint64_t tag[3];    /* per TLB_READ/WRITE/EXEC: page | stamp, or 0 */
	uint64_t addend;    /* host pointer - linear address (RAM pages) */
	uint64_t page;      /* the translation: linear page | stamp, 0 = empty */
	gpa_t gpa;          /* physical address of the 4 KiB page */
	uint32_t flags;     /* TLBF_* */
	uint32_t wnext, wprev; /* write chain links: entry index + 1, 0 = none */
	uint32_t pad;
};

struct tlb_gentry {
	uint64_t page;      /* linear page | global stamp, 0 = empty */
	gpa_t gpa;
	uint64_t vtag;      /* the VMX context it belongs to (struct tlb, vtag) */
	uint32_t flags;
	uint32_t pad;
};

/* Debug counters (tests and statistics). */
struct tlb_stats {
	uint64_t slow;      /* lookups the inline fast path did not serve (tlb_fill) */
	uint64_t outline;   /* calls of the out-of-line mem_*_slow functions */
	uint64_t walks;     /* page walks */
	uint64_t gfills;    /* main-table refills from the global table */
	uint64_t flushes;   /* full flushes */
	uint64_t wipes;     /* stamp exhaustion: arrays cleared */
};

/* An address space with live entries: a PCID in a VMX context (key = PCID | vtag). */
struct tlb_asid {
	uint64_t key;
	uint64_t env;               /* CR0/CR4/EFER bits its entries were made under */
	uint16_t stamp;             /* 0 = free */
	uint32_t used;              /* LRU clock */
};

struct tlb {
	struct tlb_entry *ent;      /* TLB_NCTX * TLB_SIZE, context-major */
	uint64_t stamp;             /* the current PCID's stamp, 1..TLB_STAMP_MAX */
	uint64_t salt;              /* the current PCID's index salt */
	struct tlb_gentry *gent;    /* TLB_SIZE global translations, unsalted */
	uint32_t *wr_head;          /* write chains by physical page number */
	struct tlb_asid asid[TLB_ASIDS]; /* asid[k] uses salt k * TLB_SIZE / TLB_ASIDS */
	uint32_t clock;
	uint16_t next_stamp, gstamp, cur;
	uint64_t key;               /* the current address space: PCID | vtag */
	/* The VMX context (SDM 30.4.1): 0 in root operation (and outside VMX); in non-root
	 * operation TLB_VTAG_NONROOT | VPID << 12 | EPTRTA page number << 29 (EPTRTA only
	 * with EPT). Part of every key, so root, each VPID and each EPTRTA have their own
	 * entries, and a VM exit and re-entry with VPID on keep them (tlb_vmx_switch). */
	uint64_t vtag;
	uint8_t live;               /* bit k set: asid[k].stamp != 0 (INVLPG visits those) */
	uint64_t env;               /* CR0/CR4/EFER bits the tags depend on */
	uint64_t env_apic;          /* IA32_APIC_BASE the APIC page was placed by */
	gva_t large_base[2], large_mask[2]; /* linear ranges that hold pages > 4 KiB,
					       per half of the address space; mask 0 = none */
	/* The PAE PDPTE registers (SDM 4.4.1), loaded by mmu_load_pdptrs(); VMX's guest
	 * PDPTE fields map to these. pdpte_cr3 = the CR3 they were loaded for, | 1; a walk
	 * with another CR3 (a CR writer that did not load them) loads them itself. */
	uint64_t pdpte[4];
	uint64_t pdpte_cr3;
	uint8_t bounce[16];         /* instruction bytes fetched from a non-RAM page */
	struct tlb_stats stats;
};

#define TLB_VTAG_NONROOT BIT(28)
#define TLB_VTAG_VPID_SHIFT 12
#define TLB_VTAG_EPTRTA_SHIFT 29

/* Allocate the arrays (at CPU creation; nothing is allocated later). 0 or -1. */
int tlb_init(struct tlb *t);
void tlb_destroy(struct tlb *t);

/* The slot of la in context ctx under index salt. */
static inline size_t tlb_slot(int ctx, gva_t la, uint64_t salt)
{
	return ((size_t)ctx << TLB_BITS) | (((la >> PAGE_SHIFT) ^ salt) & (TLB_SIZE - 1));
}

static inline struct tlb_entry *tlb_entry_of(const struct tlb *t, int ctx, gva_t la)
{
	return &t->ent[tlb_slot(ctx, la, t->salt)];
}

/*
 * The fast path: true and the host pointer for size bytes at la if a tag allows an
 * access of kind. The key uses the page of the last byte: it can equal the tag of la's
 * slot only if that page is la's own page, because the next page maps to another slot
 * (the salt XOR is a bijection on slot numbers).
 */
static inline bool tlb_lookup(const struct tlb *t, int ctx, gva_t la, int size, int kind,
			      uint8_t **host)
{
	const struct tlb_entry *e = tlb_entry_of(t, ctx, la);
	if (likely(e->tag[kind] == (((la + (uint64_t)size - 1) & PAGE_MASK) | t->stamp))) {
		*host = (uint8_t *)(uintptr_t)(la + e->addend);
		return true;
	}
	return false;
}

/* The same as a pointer, NULL on a miss. A hit means no fault is possible and the
 * bytes are plain RAM (never MMIO, the APIC page, or a code page when writing), so
 * callers may copy up to the end of the page at once (REP MOVS/STOS). */
static inline uint8_t *tlb_hit(const struct tlb *t, int ctx, gva_t la, int size, int kind)
{
	uint8_t *host;
	return tlb_lookup(t, ctx, la, size, kind, &host) ? host : NULL;
}

#endif
