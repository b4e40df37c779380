/*
 * The decoded-instruction cache: decoded forms keyed by the guest-physical address of
 * the instruction's first byte and the decode mode, shared by the machine's CPUs.
 *
 * An entry is valid while the page generation it was decoded under is current: a
 * write to a page that holds decoded code bumps bus->page_gen[pfn] (bus.h), so self-
 * and cross-modifying code is seen at the next fetch. Instructions that cross a page
 * boundary are not cached.
 */
#ifndef TURTLES_CPU_DCACHE_H
#define TURTLES_CPU_DCACHE_H

#include "cpu/bus.h"
#include "cpu/insn.h"

struct dcache_entry {
	uint64_t tag; /* gpa | (decode mode + 1) << 60; 0 = empty */
	uint32_t gen; /* bus->page_gen[pfn] when decoded */
	uint32_t pad;
	struct insn insn;
};

struct dcache {
	struct dcache_entry *e;
	uint32_t mask;
	uint64_t hits, misses;
};

int dcache_init(struct dcache *dc, unsigned log2_entries);
void dcache_destroy(struct dcache *dc);

static inline uint64_t dcache_tag(gpa_t gpa, enum decode_mode dm)
{
	return gpa | ((uint64_t)dm + 1) << 60;
}

static inline struct dcache_entry *dcache_slot(struct dcache *dc, gpa_t gpa)
{
	return &dc->e[(gpa ^ (gpa >> 13)) & dc->mask];
}

#endif
