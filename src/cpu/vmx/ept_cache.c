/*
 * The cache of guest-physical mappings (SDM 30.4.1): contexts, fills and INVEPT. The
 * rules and the layout are in ept_cache.h; ept.c looks entries up.
 */
#include "cpu/vmx/ept_cache.h"

#include <string.h>

#include "cpu/cpu.h"
#include "cpu/vmx/vmx_arch.h"

_Static_assert(EPTC_SMALL % EPTC_CTXS == 0 && EPTC_SMALL % EPTC_LARGE == 0 &&
		       EPTC_LARGE % EPTC_CTXS == 0,
	       "each context's salt is a whole number of slots in both arrays");
_Static_assert(TLBF_EPT_NR == BIT(9) && TLBF_EPT_NW == BIT(10) && TLBF_EPT_NX == BIT(11) &&
		       TLBF_EPT_CLEAN == BIT(12) && (7 << EPTC_DENY_SHIFT) < PAGE_SIZE,
	       "the rights and deny bits of a mapping fit below its page address");

#define EPTC_LARGE_SIZE (1ULL << EPTC_LARGE_SHIFT)

/* Every stamp used (or the first use): clear the entries, free every context. */
static void eptc_wipe(struct ept_cache *c)
{
	memset(c->small, 0, sizeof(c->small));
	memset(c->large, 0, sizeof(c->large));
	memset(c->ctx, 0, sizeof(c->ctx));
	c->next_stamp = 1;
}

/* A context is an EPTRTA with the EPTP's A/D-enable bit; | 1: no key is 0. */
static uint64_t eptc_key(uint64_t eptp)
{
	return (eptp & (((BIT(CPU_MAXPHYADDR) - 1) & PAGE_MASK) | EPTP_AD_ENABLE)) | 1;
}

/* A slot for a new context: a free one (never used, or dropped by INVEPT), else the
 * next in turn. */
static unsigned eptc_victim(struct ept_cache *c)
{
	for (unsigned k = 0; k < EPTC_CTXS; k++)
		if (!c->ctx[k].stamp)
			return k;
	return c->victim++ % EPTC_CTXS;
}

void ept_cache_switch(struct ept_cache *c, uint64_t eptp)
{
	uint64_t key = eptc_key(eptp);
	c->eptp_not = ~eptp;
	c->key = key;
	for (unsigned k = 0; k < EPTC_CTXS; k++) {
		if (c->ctx[k].stamp && c->ctx[k].key == key) {
			c->stamp = c->ctx[k].stamp;
			c->salt = k * (EPTC_SMALL / EPTC_CTXS);
			return;
		}
	}
	if (c->next_stamp == 0 || c->next_stamp > EPTC_STAMP_MAX)
		eptc_wipe(c);
	unsigned k = eptc_victim(c);
	c->ctx[k] = (struct ept_cache_ctx){ .key = key, .stamp = c->next_stamp++ };
	c->stamp = c->ctx[k].stamp;
	c->salt = k * (EPTC_SMALL / EPTC_CTXS);
}

const struct ept_cache_entry *ept_cache_find_large(struct ept_cache *c, gpa_t gpa)
{
	const struct ept_cache_entry *l = ept_cache_large(c, gpa);
	if (l->tag != ((gpa & ~(EPTC_LARGE_SIZE - 1)) | c->stamp))
		return NULL;
	struct ept_cache_entry *e = ept_cache_small(c, gpa);
	e->tag = (gpa & PAGE_MASK) | c->stamp;
	e->delta = l->delta;
	return e;
}

/* What delta's low bits say (ept_cache.h): the rights as TLBF_EPT_* / TLBF_EPT_NR and
 * the access kinds that must walk: those the rights deny, and writes through a clean
 * EPT leaf (the same rule as the TLB's, tlb_ept_deny()). */
static uint64_t eptc_rights(uint32_t flags)
{
	return ((flags / TLBF_EPT_NR) & EPTC_RIGHTS) |
	       (uint64_t)tlb_ept_deny(flags) << EPTC_DENY_SHIFT;
}

void ept_cache_fill(struct ept_cache *c, gpa_t gpa, hpa_t hpa, uint32_t flags,
		    uint64_t size)
{
	/* The same delta serves every 4 KiB piece of the EPT page (it maps contiguously);
	 * a 1-GByte page is cached one 2-MByte piece at a time. */
	uint64_t delta = (hpa - (gpa & PAGE_MASK)) | eptc_rights(flags);
	struct ept_cache_entry *e = ept_cache_small(c, gpa);
	e->tag = (gpa & PAGE_MASK) | c->stamp;
	e->delta = delta;
	if (size >= EPTC_LARGE_SIZE) {
		e = ept_cache_large(c, gpa);
		e->tag = (gpa & ~(EPTC_LARGE_SIZE - 1)) | c->stamp;
		e->delta = delta;
	}
}

void ept_cache_invalidate(struct ept_cache *c, bool all, uint64_t eptrta)
{
	for (unsigned k = 0; k < EPTC_CTXS; k++)
		if (all || (c->ctx[k].key & PAGE_MASK) == eptrta)
			c->ctx[k].stamp = 0;
	/* Stamps are never reused before a wipe: the dropped ones' entries are dead. The
	 * next lookup chooses the current context again (with a fresh stamp). */
	if (all || (c->key & PAGE_MASK) == eptrta)
		c->eptp_not = 0;
}
