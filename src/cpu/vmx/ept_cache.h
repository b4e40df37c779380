/*
 * The silicon's cache of guest-physical mappings (SDM 30.4.1): guest-physical page to
 * silicon-physical page with the EPT's rights, per logical processor (cpu->vmx.eptc),
 * filled by successful EPT walks (ept.c) and consulted before walking, so the guest
 * page walker and TLB fills in non-root operation do not re-walk EPT for the same
 * pages (their paging-structure pages above all).
 *
 * What may be cached and when it must go (SDM 30.4):
 *  - each mapping belongs to the EPTRTA it was made under (30.4.1); ours also to the
 *    EPTP's A/D-enable bit, so a context that sets A/D flags never uses a mapping made
 *    without them. A context is a stamp: the tag of an entry is page | stamp.
 *  - only translations that caused no EPT violation or misconfiguration (30.4.2).
 *  - INVEPT single-context drops its EPTRTA's stamps, all-context every stamp
 *    (30.4.3.1); VM entries and exits keep them (30.4.3.2); software that changes an
 *    EPT entry must INVEPT (30.4.3.3), so a mapping may outlive such a change.
 *  - the rights are those of the walk (TLBF_EPT_* / TLBF_EPT_NR), and a mapping whose
 *    EPT leaf was clean (A/D on) denies writes like TLBF_EPT_CLEAN in the TLB: the
 *    first write walks again, sets the dirty flag and logs to PML (30.3.5, 30.3.6).
 *    An access the rights deny always walks, so violations report what the EPT
 *    paging structures hold (29.2.1, Table 29-7).
 *
 * Direct-mapped: EPTC_SMALL entries for 4-KByte pieces, looked up inline, and behind
 * them EPTC_LARGE for 2-MByte pieces of 2-MByte and 1-GByte EPT pages; a hit there
 * copies the 4 KiB piece in front. Nothing is allocated: the arrays are part of
 * struct cpu, and the first context switch clears them (stamp exhaustion does too).
 */
#ifndef TURTLES_CPU_VMX_EPT_CACHE_H
#define TURTLES_CPU_VMX_EPT_CACHE_H

#include "cpu/types.h"

#define EPTC_SMALL 512u
#define EPTC_LARGE 256u
#define EPTC_LARGE_SHIFT 21
#define EPTC_CTXS 4u                  /* contexts (EPTRTA, A/D) with live stamps */
#define EPTC_STAMP_MAX 0xFFFu         /* stamps live in the low 12 bits of a tag */
#define EPTC_RIGHTS 0xFull            /* delta bits 3:0: TLBF_EPT_* / TLBF_EPT_NR */
#define EPTC_DENY_SHIFT 4             /* delta bit 4 + kind: kind (ACC_*) must walk */

struct ept_cache_entry {
	uint64_t tag;   /* guest-physical page (4 KiB or 2 MiB aligned) | stamp; 0 = none */
	uint64_t delta; /* silicon-physical minus guest-physical page | deny | rights */
};

struct ept_cache_ctx {
	uint64_t key;   /* EPTRTA | EPTP bit 6 (A/D) | 1 */
	uint16_t stamp; /* 0 = free */
};

struct ept_cache {
	/* ~EPTP of the current context, so that one compare checks it per lookup; a
	 * zeroed cache matches no EPTP (bits 63:52 are reserved, SDM 26.6.11). 0 after
	 * INVEPT dropped the current context: the next lookup chooses it again. */
	uint64_t eptp_not;
	uint64_t stamp; /* the current context's stamp */
	uint64_t salt;  /* the current context's index salt: its ctx[] slot k * EPTC_SMALL
			   / EPTC_CTXS, so that contexts do not evict each other's pages */
	uint64_t key;   /* the current context's key */
	struct ept_cache_ctx ctx[EPTC_CTXS];
	uint16_t next_stamp; /* 0 or > EPTC_STAMP_MAX: clear everything first */
	uint8_t victim;      /* round-robin replacement of ctx[] */
	struct ept_cache_entry small[EPTC_SMALL];
	struct ept_cache_entry large[EPTC_LARGE];
};

/* The slots of gpa's 4 KiB and 2 MiB pieces in the current context. */
static inline struct ept_cache_entry *ept_cache_small(struct ept_cache *c, gpa_t gpa)
{
	return &c->small[((gpa >> PAGE_SHIFT) ^ c->salt) & (EPTC_SMALL - 1)];
}

static inline struct ept_cache_entry *ept_cache_large(struct ept_cache *c, gpa_t gpa)
{
	uint64_t salt = c->salt / (EPTC_SMALL / EPTC_LARGE);
	return &c->large[((gpa >> EPTC_LARGE_SHIFT) ^ salt) & (EPTC_LARGE - 1)];
}

/* The 2-MByte entry behind a 4 KiB miss (copied in front on a hit), or NULL. */
const struct ept_cache_entry *ept_cache_find_large(struct ept_cache *c, gpa_t gpa);

/* The entry that maps gpa in the current context, or NULL. Requires the current
 * EPTP's context (ept_cache_switch), so that c->stamp != 0. */
static inline const struct ept_cache_entry *ept_cache_find(struct ept_cache *c, gpa_t gpa)
{
	const struct ept_cache_entry *e = ept_cache_small(c, gpa);
	if (likely(e->tag == ((gpa & PAGE_MASK) | c->stamp)))
		return e;
	return ept_cache_find_large(c, gpa);
}

/* Make eptp's context the current one, keeping its entries if it has a live stamp. */
void ept_cache_switch(struct ept_cache *c, uint64_t eptp);

/* Cache the successful translation of gpa: silicon-physical hpa of its 4 KiB piece,
 * rights (TLBF_EPT_* flags) and the EPT page size. */
void ept_cache_fill(struct ept_cache *c, gpa_t gpa, hpa_t hpa, uint32_t flags,
		    uint64_t size);

/* INVEPT (SDM 30.4.3.1): drop the contexts of EPTRTA eptrta, or all of them. */
void ept_cache_invalidate(struct ept_cache *c, bool all, uint64_t eptrta);

#endif
