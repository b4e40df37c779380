/*
 * TLB tagging in VMX (SDM 30.4): root and non-root translations never mix; each VPID,
 * and with EPT each EPTRTA, has its own mappings; VM entries and exits keep them with
 * VPID enabled and invalidate those of VPID 0000H without (SDM 28.3.3.1, 29.5.5);
 * INVVPID and INVEPT of every type (SDM 32.3, 30.4.3.1) drop what they must and, as
 * checked through stale entries, keep what they need not drop.
 *
 * A stale read (the old value after a paging-structure change without invalidation)
 * is what SDM 30.4.4 / 4.10.4.4 allows, and here it is the evidence that an entry
 * survived.
 */
#include "ept_harness.h"

#define LA 0x0000000012345000ULL
#define LA2 0x0000000012346000ULL
#define PA_A 0x00200000ULL
#define PA_B 0x00201000ULL
#define PA_C 0x00202000ULL
#define PA_D 0x00203000ULL
#define EPT_POOL_2 0x02800000ULL

static uint64_t root_cr3, g1_cr3, g2_cr3;
static uint64_t *root_pte, *g1_pte, *g1_pte2, *g2_pte;

/* Root maps LA to A; guest 1 maps LA to B (and LA2 to B); guest 2 maps LA to D. */
static void setup(void)
{
	mode_long64(false);
	for (gpa_t pa = PA_A; pa <= PA_D; pa += PAGE_SIZE)
		*ram64(pa) = 0xA + ((pa - PA_A) >> PAGE_SHIFT);
	root_cr3 = C->cr3;
	root_pte = map64(LA, PA_A, 1, P | RW);
	g1_cr3 = C->cr3 = pt_alloc();
	g1_pte = map64(LA, PA_B, 1, P | RW);
	g1_pte2 = map64(LA2, PA_B, 1, P | RW);
	g2_cr3 = C->cr3 = pt_alloc();
	g2_pte = map64(LA, PA_D, 1, P | RW);
	C->cr3 = root_cr3;
	tlb_flush_all(C);
}

/* VM entry to a guest with cr3 (and the TLB switch VM entry does). */
static void enter(uint64_t cr3, uint32_t proc2, uint64_t eptp, uint16_t vpid)
{
	C->cr3 = cr3;
	enter_nonroot(proc2, eptp, vpid);
}

static void leave(void)
{
	C->cr3 = root_cr3;
	exit_to_root();
}

/* What the guest with cr3 and VPID vpid reads at la: VM entry, the read, VM exit. */
static uint64_t peek_in_vpid(uint64_t cr3, uint16_t vpid, uint64_t la)
{
	enter(cr3, PROC2_ENABLE_VPID, 0, vpid);
	uint64_t v = peek(la);
	leave();
	return v;
}

/* SDM 30.4: the root's and a guest's translations of one linear address are apart,
 * and with VPID both survive the transitions (no new walks; stale values prove it). */
static void test_isolation_and_retention(void)
{
	setup();
	CHECK_EQ(peek(LA), 0xA);
	CHECK_EQ(peek_in_vpid(g1_cr3, 1, LA), 0xB);
	uint64_t walks = C->tlb.stats.walks;
	CHECK_EQ(peek(LA), 0xA);
	CHECK_EQ(C->tlb.stats.walks, walks);       /* root entries kept across entry/exit */
	*g1_pte = PA_C | P | RW;                   /* no invalidation follows */
	enter(g1_cr3, PROC2_ENABLE_VPID, 0, 1);
	CHECK_EQ(peek(LA), 0xB);                   /* guest entries kept: stale */
	CHECK_EQ(C->tlb.stats.walks, walks);
	/* Another VPID does not see them. */
	leave();
	CHECK_EQ(peek_in_vpid(g2_cr3, 2, LA), 0xD);
	enter(g1_cr3, PROC2_ENABLE_VPID, 0, 1);
	CHECK_EQ(peek(LA), 0xB);
	/* MOV to CR3 in the guest invalidates the guest's (current VPID) mappings only
	 * (SDM 30.4.3.1). */
	tlb_cr3_written(C, false);
	CHECK_EQ(peek(LA), 0xC);
	*root_pte = PA_D | P | RW;
	leave();
	CHECK_EQ(peek(LA), 0xA);                   /* root: stale, so untouched */
}

/* SDM 28.3.3.1, 29.5.5: with "enable VPID" = 0, VM entry and VM exit invalidate the
 * mappings of VPID 0000H, which include the root's. */
static void test_no_vpid_flushes(void)
{
	setup();
	CHECK_EQ(peek(LA), 0xA);
	enter(g1_cr3, 0, 0, 0);
	CHECK_EQ(peek(LA), 0xB);
	*g1_pte = PA_C | P | RW;
	*root_pte = PA_D | P | RW;
	leave();
	CHECK_EQ(peek(LA), 0xD);
	enter(g1_cr3, 0, 0, 0);
	CHECK_EQ(peek(LA), 0xC);
	leave();
}

/* SDM 32.3 INVVPID individual-address: the address's mappings for the VPID go; the
 * VPID's other addresses stay. */
static void test_invvpid_individual(void)
{
	setup();
	enter(g1_cr3, PROC2_ENABLE_VPID, 0, 1);
	CHECK_EQ(peek(LA), 0xB);
	CHECK_EQ(peek(LA2), 0xB);
	*g1_pte = PA_C | P | RW;
	*g1_pte2 = PA_C | P | RW;
	leave();
	vpid_invalidate(C, INVVPID_INDIVIDUAL_ADDRESS, 1, LA + 0x10);
	enter(g1_cr3, PROC2_ENABLE_VPID, 0, 1);
	CHECK_EQ(peek(LA), 0xC);
	CHECK_EQ(peek(LA2), 0xB);
	leave();
}

/* SDM 32.3 INVVPID single-context: every mapping of that VPID; all-context: every
 * VPID's but 0000H (the root keeps its entries). */
static void test_invvpid_contexts(void)
{
	setup();
	CHECK_EQ(peek(LA), 0xA);
	CHECK_EQ(peek_in_vpid(g1_cr3, 1, LA), 0xB);
	CHECK_EQ(peek_in_vpid(g2_cr3, 2, LA), 0xD);
	*g1_pte = PA_C | P | RW;
	*g2_pte = PA_C | P | RW;
	*root_pte = PA_C | P | RW;
	vpid_invalidate(C, INVVPID_SINGLE_CONTEXT, 1, 0);
	CHECK_EQ(peek_in_vpid(g1_cr3, 1, LA), 0xC);
	CHECK_EQ(peek_in_vpid(g2_cr3, 2, LA), 0xD); /* VPID 2 untouched */
	CHECK_EQ(peek(LA), 0xA);                   /* root untouched */
	*g1_pte = PA_B | P | RW;
	vpid_invalidate(C, INVVPID_ALL_CONTEXT, 0, 0);
	CHECK_EQ(peek_in_vpid(g1_cr3, 1, LA), 0xB);
	CHECK_EQ(peek_in_vpid(g2_cr3, 2, LA), 0xC);
	CHECK_EQ(peek(LA), 0xA);                   /* VPID 0000H is not "all contexts" */
}

/* SDM 32.3 INVVPID single-context-retaining-globals: the VPID's global translations
 * stay, the others go. */
static void test_invvpid_retaining_globals(void)
{
	setup();
	C->cr4 |= CR4_PGE;
	tlb_flush_all(C);
	C->cr3 = g1_cr3;
	map64(LA, PA_B, 1, P | RW | GLB);
	C->cr3 = root_cr3;
	enter(g1_cr3, PROC2_ENABLE_VPID, 0, 1);
	CHECK_EQ(peek(LA), 0xB);                   /* global */
	CHECK_EQ(peek(LA2), 0xB);                  /* not global */
	*g1_pte = PA_C | P | RW | GLB;
	*g1_pte2 = PA_C | P | RW;
	leave();
	vpid_invalidate(C, INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS, 1, 0);
	enter(g1_cr3, PROC2_ENABLE_VPID, 0, 1);
	CHECK_EQ(peek(LA), 0xB);
	CHECK_EQ(peek(LA2), 0xC);
	leave();
	/* Plain single-context drops the globals too. */
	vpid_invalidate(C, INVVPID_SINGLE_CONTEXT, 1, 0);
	CHECK_EQ(peek_in_vpid(g1_cr3, 1, LA), 0xC);
	/* A guest's global entry is never the root's. */
	CHECK_EQ(peek(LA), 0xA);
	C->cr4 &= ~CR4_PGE;
	tlb_flush_all(C);
}

/* SDM 32.3 INVEPT single-context: the combined mappings of that EPTRTA go (any VPID),
 * those of another EPTRTA and the root's stay; all-context: every EPTRTA's. */
static void test_invept(void)
{
	setup();
	uint64_t ept_a = ept_new_at(EPT_POOL, false);
	ept_identity(ept_a);
	uint64_t ept_b = ept_new_at(EPT_POOL_2, false);
	ept_identity(ept_b);
	uint32_t both = PROC2_ENABLE_EPT | PROC2_ENABLE_VPID;
	CHECK_EQ(peek(LA), 0xA);
	enter(g1_cr3, both, ept_a, 1);
	CHECK_EQ(peek(LA), 0xB);
	leave();
	enter(g1_cr3, both, ept_b, 1);             /* same VPID, other EPTRTA */
	CHECK_EQ(peek(LA), 0xB);
	leave();
	/* Remap guest-physical B to C in both EPTs, without invalidating. */
	*ept_ent(ept_a, PA_B, 1) = PA_C | EPT_RWX | EPT_WB;
	*ept_ent(ept_b, PA_B, 1) = PA_C | EPT_RWX | EPT_WB;
	*root_pte = PA_C | P | RW;
	enter(g1_cr3, both, ept_a, 1);
	CHECK_EQ(peek(LA), 0xB);                   /* stale combined mapping */
	leave();
	ept_invalidate(C, INVEPT_SINGLE_CONTEXT, ept_a);
	enter(g1_cr3, both, ept_a, 1);
	CHECK_EQ(peek(LA), 0xC);
	leave();
	enter(g1_cr3, both, ept_b, 1);
	CHECK_EQ(peek(LA), 0xB);                   /* other EPTRTA untouched */
	leave();
	CHECK_EQ(peek(LA), 0xA);                   /* root untouched */
	ept_invalidate(C, INVEPT_ALL_CONTEXT, 0);
	enter(g1_cr3, both, ept_b, 1);
	CHECK_EQ(peek(LA), 0xC);
	leave();
	CHECK_EQ(peek(LA), 0xA);
}

/* Many exits and entries with VPID: the guest's working set stays in the TLB (the
 * random-memory case of a level-1 guest under L0), with no new walks. */
static void test_retention_many_exits(void)
{
	setup();
	enter(g1_cr3, PROC2_ENABLE_VPID, 0, 1);
	for (gva_t la = 0x40000000; la < 0x40000000 + 256 * PAGE_SIZE; la += PAGE_SIZE)
		map64(la, PA_B, 1, P | RW | ACC | DIRTY);
	for (gva_t la = 0x40000000; la < 0x40000000 + 256 * PAGE_SIZE; la += PAGE_SIZE)
		CHECK_EQ(peek(la), 0xB);
	uint64_t walks = C->tlb.stats.walks;
	int fine = 0;
	for (int i = 0; i < 100; i++) {
		leave();
		enter(g1_cr3, PROC2_ENABLE_VPID, 0, 1);
		uint64_t v = 0;
		rd8(0x40000000 + (gva_t)(i * 37 % 256) * PAGE_SIZE, &v);
		fine += v == 0xB;
	}
	CHECK_EQ(fine, 100);
	CHECK_EQ(C->tlb.stats.walks, walks);
	leave();
}

int main(void)
{
	mt_init();
	test_isolation_and_retention();
	test_no_vpid_flushes();
	test_invvpid_individual();
	test_invvpid_contexts();
	test_invvpid_retaining_globals();
	test_invept();
	test_retention_many_exits();
	return report("vmx_vpid");
}
