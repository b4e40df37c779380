/*
 * The cache of guest-physical mappings (SDM 30.4.1): contexts, fills and INVEPT. The
 * rules and the layout are in ept_cache.h; ept.c looks entries up.
 */
#include "cpu/vmx/ept_cache.h"

#include <string.h>

#include "cpu/tlb.h"

_Static_assert(TLBF_EPT_NR == BIT(9) && TLBF_EPT_NW == BIT(10) && TLBF_EPT_NX == BIT(11) &&
		       TLBF_EPT_CLEAN == BIT(12),
	       "the EPT rights of a mapping fit EPTC_RIGHTS as flags / TLBF_EPT_NR");

#define EPTC_LARGE_SIZE (1ULL << EPTC_LARGE_SHIFT)

/* Every stamp used (or the first use): clear the entries, free every context. */
static void eptc_wipe(struct ept_cache *c)
{
	memset(c->small, 0, sizeof(c->small));
	memset(c->large, 0, sizeof(c->large));
	memset(c->ctx, 0, sizeof(c->ctx));
	c->next_stamp = 1;
}

void ept_cache_switch(struct ept_cache *c, uint64_t key)
{
	for (unsigned k = 0; k < EPTC_CTXS; k++) {
		if (c->ctx[k].stamp && c->ctx[k].key == key) {
			c->key = key;
			c->stamp = c->ctx[k].stamp;
			return;
		}
	}
	if (c->next_stamp == 0 || c->next_stamp > EPTC_STAMP_MAX)
		eptc_wipe(c);
	unsigned k = c->victim++ % EPTC_CTXS;
	c->ctx[k] = (struct ept_cache_ctx){ .key = key, .stamp = c->next_stamp++ };
	c->key = key;
	c->stamp = c->ctx[k].stamp;
}

void ept_cache_fill(struct ept_cache *c, gpa_t gpa, hpa_t hpa, uint32_t flags,
		    uint64_t size)
{
	/* The same delta serves every 4 KiB piece of the EPT page (it maps contiguously);
	 * a 1-GByte page is cached one 2-MByte piece at a time. */
	uint64_t delta = (hpa - (gpa & PAGE_MASK)) | ((flags / TLBF_EPT_NR) & EPTC_RIGHTS);
	struct ept_cache_entry *e;
	if (size >= EPTC_LARGE_SIZE) {
		e = &c->large[(gpa >> EPTC_LARGE_SHIFT) & (EPTC_LARGE - 1)];
		e->tag = (gpa & ~(EPTC_LARGE_SIZE - 1)) | c->stamp;
	} else {
		e = &c->small[(gpa >> PAGE_SHIFT) & (EPTC_SMALL - 1)];
		e->tag = (gpa & PAGE_MASK) | c->stamp;
	}
	e->delta = delta;
}

void ept_cache_invalidate(struct ept_cache *c, bool all, uint64_t eptrta)
{
	for (unsigned k = 0; k < EPTC_CTXS; k++)
		if (all || (c->ctx[k].key & PAGE_MASK) == eptrta)
			c->ctx[k].stamp = 0;
	/* Stamps are never reused before a wipe: the dropped ones' entries are dead. The
	 * next lookup chooses the current context again (with a fresh stamp). */
	if (all || (c->key & PAGE_MASK) == eptrta)
		c->key = 0;
}
