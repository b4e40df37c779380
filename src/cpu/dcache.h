/*
 * The decoded-instruction cache: straight-line blocks of decoded instructions, keyed
 * by the guest-physical address of the first instruction and the decode mode, shared
 * by the machine's CPUs.
 *
 * A block holds up to DBLOCK_MAX instructions that lie in one physical page and ends
 * after the first instruction that can change control flow, the code page's
 * translation or the decode mode (see block_ends[] in exec.c). The run loop looks a
 * block up once and then executes its instructions back to back, so the fetch
 * translation and the cache probe are paid once per block, not per instruction.
 *
 * A block is valid while the page generation it was decoded under is current: a write
 * to a page that holds decoded code bumps bus->page_gen[pfn] (bus.h), so self- and
 * cross-modifying code is seen at the next instruction. Instructions that cross a page
 * boundary are never cached.
 */
#ifndef TURTLES_CPU_DCACHE_H
#define TURTLES_CPU_DCACHE_H

#include "cpu/bus.h"
#include "cpu/insn.h"

#define DBLOCK_MAX 32

struct cpu;

struct dblock {
	uint64_t tag;   /* gpa | (decode mode + 1) << 60; 0 = empty */
	uint32_t gen;   /* bus->page_gen[pfn] when decoded */
	uint16_t n;     /* instructions in the block, 1..DBLOCK_MAX */
	uint16_t bytes; /* total length */
	struct insn insn[DBLOCK_MAX];
	/* The handler bound to each instruction when it was decoded (exec_select). */
	void (*fn[DBLOCK_MAX])(struct cpu *cpu, const struct insn *in);
};

struct dcache {
	struct dblock *b;
	uint32_t mask;
	uint64_t misses;
};

int dcache_init(struct dcache *dc, unsigned log2_blocks);
void dcache_destroy(struct dcache *dc);

static inline uint64_t dcache_tag(gpa_t gpa, enum decode_mode dm)
{
	return gpa | ((uint64_t)dm + 1) << 60;
}

static inline struct dblock *dcache_slot(struct dcache *dc, gpa_t gpa)
{
	return &dc->b[(gpa ^ (gpa >> 11)) & dc->mask];
}

#endif
