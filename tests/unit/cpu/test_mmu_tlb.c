/*
 * The software TLB (tlb.h): what it may and must keep (SDM Vol.3A 4.10), flushes,
 * global pages, PCIDs, dirty-flag handling, large-page INVLPG, stamp exhaustion, and
 * the fast path itself (hits never reach the out-of-line code).
 */
#include <time.h>

#include "mmu_harness.h"

#define PA_A 0x00200000ULL
#define PA_B 0x00201000ULL
#define LA 0x0000000012345000ULL

static void put(gpa_t pa, uint64_t v) { *ram64(pa) = v; }

/* SDM 4.10.4.4 (delayed invalidation): after a PTE changes, the old translation may be
 * used until INVLPG or MOV to CR3; both must drop it (4.10.4.1). */
static void test_stale_until_flush(void)
{
	mode_long64(false);
	put(PA_A, 0xAAAA);
	put(PA_B, 0xBBBB);
	uint64_t *pte = map64(LA, PA_A, 1, P | RW);
	CHECK_EQ(peek(LA), 0xAAAA);
	*pte = PA_B | P | RW;
	CHECK_EQ(peek(LA), 0xAAAA);            /* stale: allowed */
	tlb_flush_page(C, LA + 0x123);         /* INVLPG */
	CHECK_EQ(peek(LA), 0xBBBB);
	*pte = PA_A | P | RW;
	CHECK_EQ(peek(LA), 0xBBBB);
	tlb_cr3_written(C, false);             /* MOV to CR3 */
	CHECK_EQ(peek(LA), 0xAAAA);
	/* The same for instruction fetches and implicit accesses. */
	uint64_t v;
	*pte = PA_B | P | RW;
	CHECK_EQ(lrd(LA, 3, ACC_READ | ACC_IMPLICIT, &v), NO_FAULT);
	CHECK_EQ(v, 0xAAAA);
	tlb_flush_nonglobal(C);
	CHECK_EQ(lrd(LA, 3, ACC_READ | ACC_IMPLICIT, &v), NO_FAULT);
	CHECK_EQ(v, 0xBBBB);
	/* A not-present PTE is not cached: no INVLPG needed after making it present
	 * (SDM 4.10.4.3). */
	gva_t la2 = LA + 0x1000;
	uint64_t *pte2 = map64(la2, PA_A, 1, 0);
	CHECK_PF(rd1(la2), 0, la2);
	*pte2 = PA_A | P;
	CHECK_EQ(peek(la2), 0xAAAA);
}

/* SDM 4.10.2.4: global translations survive MOV to CR3 (and PCID switches); INVLPG,
 * a CR4.PGE change and INVPCID all-contexts drop them. Without CR4.PGE, G is ignored. */
static void test_global(void)
{
	mode_long64(false);
	C->cr4 |= CR4_PGE;
	tlb_ctl_written(C);
	put(PA_A, 0xAAAA);
	put(PA_B, 0xBBBB);
	uint64_t *pte = map64(LA, PA_A, 1, P | RW | GLB);
	CHECK_EQ(peek(LA), 0xAAAA);
	*pte = PA_B | P | RW | GLB;
	tlb_cr3_written(C, false);
	CHECK_EQ(peek(LA), 0xAAAA);            /* survived the non-global flush */
	uint64_t gf = C->tlb.stats.gfills, walks = C->tlb.stats.walks;
	tlb_cr3_written(C, false);
	CHECK_EQ(peek(LA), 0xAAAA);
	CHECK_EQ(C->tlb.stats.gfills, gf + 1);   /* refilled without a walk */
	CHECK_EQ(C->tlb.stats.walks, walks);
	tlb_flush_page(C, LA);
	CHECK_EQ(peek(LA), 0xBBBB);
	*pte = PA_A | P | RW | GLB;
	tlb_flush_all(C);                      /* CR4.PGE toggle, INVPCID type 2 */
	CHECK_EQ(peek(LA), 0xAAAA);
	/* G without CR4.PGE is not global. */
	C->cr4 &= ~CR4_PGE;
	tlb_ctl_written(C);
	CHECK_EQ(peek(LA), 0xAAAA);
	*pte = PA_B | P | RW | GLB;
	tlb_cr3_written(C, false);
	CHECK_EQ(peek(LA), 0xBBBB);
}

/* SDM 4.10.1: with CR4.PCIDE = 1 entries are tagged by PCID. MOV to CR3 with bit 63
 * set keeps the new PCID's entries; other PCIDs' entries are never used. */
static void test_pcid(void)
{
	mode_long64(false);
	C->cr4 |= CR4_PCIDE;
	tlb_ctl_written(C);
	gpa_t root1 = C->cr3, root2 = pt_alloc();
	put(PA_A, 0xAAAA);
	put(PA_B, 0xBBBB);
	uint64_t *pte1 = map64(LA, PA_A, 1, P | RW);   /* address space 1: LA -> A */
	C->cr3 = root1 | 1;
	tlb_cr3_written(C, false);
	CHECK_EQ(peek(LA), 0xAAAA);
	C->cr3 = root2 | 2;                            /* address space 2: LA -> B */
	map64(LA, PA_B, 1, P | RW);
	tlb_cr3_written(C, true);
	CHECK_EQ(peek(LA), 0xBBBB);                    /* PCID 1's entry not used */
	*pte1 = PA_B | P | RW;                         /* change space 1 behind its back */
	C->cr3 = root1 | 1;
	tlb_cr3_written(C, true);
	CHECK_EQ(peek(LA), 0xAAAA);                    /* PCID 1 kept its entry */
	C->cr3 = root2 | 2;
	tlb_cr3_written(C, true);
	CHECK_EQ(peek(LA), 0xBBBB);
	C->cr3 = root1 | 1;
	tlb_cr3_written(C, false);                     /* no bit 63: PCID 1 flushed */
	CHECK_EQ(peek(LA), 0xBBBB);
	*pte1 = PA_A | P | RW;
	/* INVPCID single-context for a PCID that is not current. */
	C->cr3 = root2 | 2;
	tlb_cr3_written(C, true);
	tlb_flush_pcid(C, 1, true);
	C->cr3 = root1 | 1;
	tlb_cr3_written(C, true);
	CHECK_EQ(peek(LA), 0xAAAA);
	/* The flush API alone, as a CR writer may use it: tlb_flush_pcid(new PCID) after
	 * CR3 changed makes the new PCID current. */
	C->cr3 = root2 | 2;
	tlb_flush_pcid(C, 2, true);
	CHECK_EQ(peek(LA), 0xBBBB);
	C->cr4 &= ~CR4_PCIDE;
	C->cr3 = root1;
	tlb_ctl_written(C);
}

/* SDM 4.10.4.1: INVLPG drops global translations "regardless of PCID" — also the
 * copy another PCID made of it. More PCIDs than the TLB keeps live: the oldest loses
 * its entries (always allowed), and translations stay right. */
static void test_pcid_global_invlpg(void)
{
	mode_long64(false);
	C->cr4 |= CR4_PCIDE | CR4_PGE;
	tlb_ctl_written(C);
	gpa_t root = C->cr3;
	put(PA_A, 0xAAAA);
	put(PA_B, 0xBBBB);
	uint64_t *pte = map64(LA, PA_A, 1, P | RW | GLB);
	C->cr3 = root | 1;
	tlb_cr3_written(C, false);
	CHECK_EQ(peek(LA), 0xAAAA);          /* copied into PCID 1's slots */
	C->cr3 = root | 2;
	tlb_cr3_written(C, true);
	CHECK_EQ(peek(LA), 0xAAAA);
	*pte = PA_B | P | RW | GLB;
	tlb_flush_page(C, LA);               /* INVLPG in PCID 2 */
	C->cr3 = root | 1;
	tlb_cr3_written(C, true);
	CHECK_EQ(peek(LA), 0xBBBB);
	/* Twenty PCIDs round robin over a non-global page. */
	gva_t la = LA + 0x1000;
	uint64_t *pte2 = map64(la, PA_A, 1, P | RW);
	for (int round = 0; round < 3; round++) {
		for (uint64_t pcid = 1; pcid <= 20; pcid++) {
			C->cr3 = root | pcid;
			tlb_cr3_written(C, true);
			CHECK_EQ(peek(la), round == 1 ? 0xBBBB : 0xAAAA);
		}
		*pte2 = (round == 0 ? PA_B : PA_A) | P | RW;
		for (uint64_t pcid = 1; pcid <= 20; pcid++) {
			C->cr3 = root | pcid;
			tlb_flush_pcid(C, (uint16_t)pcid, true);
		}
	}
	C->cr4 &= ~(CR4_PCIDE | CR4_PGE);
	C->cr3 = root;
	tlb_ctl_written(C);
}

/* SDM 4.8: a translation cached from a read with D = 0 cannot be used for a write;
 * the write walks and sets D, after which writes are fast. */
static void test_dirty(void)
{
	mode_long64(false);
	uint64_t *pte = map64(LA, PA_A, 1, P | RW);
	peek(LA);
	CHECK(!(*pte & DIRTY));
	uint64_t walks = C->tlb.stats.walks;
	CHECK_EQ(wr8(LA, 1), NO_FAULT);
	CHECK(*pte & DIRTY);
	CHECK_EQ(C->tlb.stats.walks, walks + 1);
	uint64_t slow = C->tlb.stats.slow;
	CHECK_EQ(wr8(LA + 8, 2), NO_FAULT);
	CHECK_EQ(C->tlb.stats.slow, slow);
	/* Already dirty in memory: no walk needed for the first write after a read. */
	gva_t la2 = LA + 0x1000;
	map64(la2, PA_B, 1, P | RW | DIRTY | ACC);
	peek(la2);
	walks = C->tlb.stats.walks;
	CHECK_EQ(wr8(la2, 3), NO_FAULT);
	CHECK_EQ(C->tlb.stats.walks, walks);
	/* mem_check_write is a write for the dirty flag, and faults like one. */
	gva_t la3 = LA + 0x2000;
	uint64_t *pte3 = map64(la3, PA_B, 1, P | RW);
	CHECK_EQ(chkw(SEG_DS, la3, 8), NO_FAULT);
	CHECK(*pte3 & DIRTY);
	*pte3 = PA_B | P;
	tlb_flush_page(C, la3);
	C->cr0 |= CR0_WP;
	tlb_ctl_written(C);
	CHECK_PF(chkw(SEG_DS, la3 + 4, 4), PFEC_P | PFEC_W, la3 + 4);
	C->cr0 &= ~CR0_WP;
	tlb_ctl_written(C);
}

/* A fault drops the entries for its address (SDM 4.10.4.1): a cached read-only
 * translation does not outlive a write fault on the same page. */
static void test_fault_invalidates(void)
{
	mode_long64(false);
	C->cr0 |= CR0_WP;
	tlb_ctl_written(C);
	uint64_t *pte = map64(LA, PA_A, 1, P);
	put(PA_A, 0xAAAA);
	CHECK_EQ(peek(LA), 0xAAAA);
	*pte = 0;                                   /* now not present */
	CHECK_PF(wr8(LA, 1), PFEC_W, LA);           /* the walk sees it */
	CHECK_PF(rd1(LA), 0, LA);                   /* and the read entry is gone */
	/* Permission upgrade without INVLPG: the cached entry's refusal is re-checked
	 * by a walk, no spurious fault. */
	*pte = PA_A | P;
	peek(LA);
	*pte = PA_A | P | RW;
	CHECK_EQ(wr8(LA, 5), NO_FAULT);
	C->cr0 &= ~CR0_WP;
	tlb_ctl_written(C);
}

/* INVLPG of any address in a large page drops the whole page, although the TLB keeps
 * it as 4 KiB pieces in different slots. */
static void test_large_invlpg(void)
{
	mode_long64(false);
	gva_t la = 0x40000000ULL;
	uint64_t *pde = map64(la, 0x00400000, 2, P | RW);
	put(0x00400000, 0x1111);
	put(0x00500000, 0x2222);
	put(0x00600000, 0x3333);
	put(0x00700000, 0x4444);
	CHECK_EQ(peek(la), 0x1111);
	CHECK_EQ(peek(la + 0x100000), 0x2222);
	*pde = 0x00600000 | P | RW | PS;
	tlb_flush_page(C, la + 0x1FF000);
	CHECK_EQ(peek(la), 0x3333);
	CHECK_EQ(peek(la + 0x100000), 0x4444);
}

/* 4095 stamps, then the arrays are cleared; translations stay right throughout, and
 * global entries live in their own table. */
static void test_stamp_exhaustion(void)
{
	mode_long64(false);
	C->cr4 |= CR4_PGE;
	tlb_ctl_written(C);
	put(PA_A, 0xAAAA);
	put(PA_B, 0xBBBB);
	uint64_t *g = map64(LA, PA_A, 1, P | RW | GLB);
	uint64_t *ng = map64(LA + 0x1000, PA_A, 1, P | RW);
	uint64_t wipes = C->tlb.stats.wipes;
	CHECK_EQ(peek(LA), 0xAAAA);
	*g = PA_B | P | RW | GLB;
	for (int i = 0; i < 5000; i++) {
		CHECK_EQ(peek(LA + 0x1000), (i & 1) ? 0xBBBB : 0xAAAA);
		*ng = ((i & 1) ? PA_A : PA_B) | P | RW;
		tlb_cr3_written(C, false);
	}
	CHECK(C->tlb.stats.wipes > wipes);
	CHECK_EQ(peek(LA), 0xAAAA);   /* the global entry was never flushed */
	C->cr4 &= ~CR4_PGE;
	tlb_ctl_written(C);
}

/* The fast path: after one fill, reads, writes and fetches of the page never reach
 * the out-of-line code (stats.slow counts TLB fills, stats.outline mem_*_slow). */
static void test_fast_path_counters(void)
{
	mode_long64(false);
	map64(LA, PA_A, 1, P | RW | DIRTY);
	peek(LA);
	const uint8_t *p;
	int avail;
	gpa_t gpa;
	CHECK_EQ(fetch(LA, &p, &avail, &gpa), NO_FAULT);
	uint64_t slow = C->tlb.stats.slow, outl = C->tlb.stats.outline;
	uint64_t sum = 0;
	for (int i = 0; i < 1000; i++) {
		sum += mem_read(C, SEG_DS, LA + (unsigned)(i * 8) % 4096, 3);
		mem_write(C, SEG_DS, LA + (unsigned)(i * 4) % 4096, 2, (uint64_t)i);
		mem_read(C, SEG_SS, LA + 1 + (unsigned)i % 4000, 1);   /* misaligned is fine */
		mem_fetch(C, LA + (unsigned)i % 4096, &avail, &gpa);
	}
	CHECK_EQ(C->tlb.stats.slow, slow);
	CHECK_EQ(C->tlb.stats.outline, outl);
	/* An access that crosses the page end is never a fast hit. */
	map64(LA + 0x1000, PA_B, 1, P | RW | DIRTY);
	peek(LA + 0x1000);
	slow = C->tlb.stats.slow;
	(void)mem_read(C, SEG_DS, LA + 0xFFE, 2);
	CHECK(C->tlb.stats.slow > slow);
	(void)sum;
}

/* Random reads over 32 MiB (8192 pages) do not thrash: a second pass is all hits.
 * Also prints a rough per-access cost (information, not an assertion). */
static void test_no_thrash(void)
{
	mode_long64(false);
	const int pages = 8192;
	gva_t base = 0x0000100000000000ULL;
	for (int i = 0; i < pages; i++)
		map64(base + (gva_t)i * PAGE_SIZE, (gpa_t)i * PAGE_SIZE, 1, P | RW | DIRTY);
	uint32_t x = 12345;
	for (int i = 0; i < pages; i++)
		peek(base + (gva_t)i * PAGE_SIZE);
	uint64_t slow = C->tlb.stats.slow;
	uint64_t sum = 0;
	const int n = 4000000;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		gva_t la = base + ((x >> 8) % ((uint32_t)pages * 4096 / 8)) * 8;
		sum += mem_read(C, SEG_DS, la, 3);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK_EQ(C->tlb.stats.slow, slow);
	double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	printf("info: random 8-byte reads over 32 MiB: %.1f ns each (sum %llx)\n", ns / n,
	       (unsigned long long)sum);
}

int main(void)
{
	mt_init();
	test_stale_until_flush();
	test_global();
	test_pcid();
	test_pcid_global_invlpg();
	test_dirty();
	test_fault_invalidates();
	test_large_invlpg();
	test_stamp_exhaustion();
	test_fast_path_counters();
	test_no_thrash();
	return report("mmu_tlb");
}
