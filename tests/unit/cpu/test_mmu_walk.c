/*
 * Page walks in every paging mode (SDM Vol.3A ch.4): translations, page sizes,
 * reserved bits, not-present faults with their error codes and CR2, accessed/dirty
 * updates, PAE PDPTE registers.
 */
#include "mmu_harness.h"

#define DATA 0x00200000ULL /* physical data pages */

static void test_no_paging(void)
{
	mode_prot32(false, 0);
	*ram64(DATA + 8) = 0x1122334455667788ULL;
	/* SDM 4.1.1: with CR0.PG = 0 linear addresses are physical. */
	CHECK_EQ(peek(DATA + 8), 0x1122334455667788ULL);
	CHECK_EQ(wr8(DATA + 16, 42), NO_FAULT);
	CHECK_EQ(*ram64(DATA + 16), 42);
	/* Segment base applies, and linear addresses wrap at 4 GiB (SDM 3.4). */
	C->seg[SEG_DS].base = 0xFFFFF000;
	uint64_t v;
	CHECK_EQ(rd(SEG_DS, DATA + 0x1008, 3, &v), NO_FAULT);
	CHECK_EQ(v, 0x1122334455667788ULL);
	C->seg[SEG_DS].base = 0;
	/* CR4.SMEP/SMAP and CR0.WP may be set without paging; they then do nothing. */
	C->cr4 |= CR4_SMEP | CR4_SMAP;
	C->cr0 |= CR0_WP;
	tlb_ctl_written(C);
	CHECK_EQ(fx(DATA), NO_FAULT);
	CHECK_EQ(wr8(DATA + 16, 43), NO_FAULT);
	CHECK_EQ(peek(DATA + 8), 0x1122334455667788ULL);
	uint64_t slow = C->tlb.stats.slow;      /* and the fast path serves them */
	CHECK_EQ(fx(DATA), NO_FAULT);
	CHECK_EQ(wr8(DATA + 16, 43), NO_FAULT);
	CHECK_EQ(C->tlb.stats.slow, slow);
	C->cpl = 3;
	CHECK_EQ(wr8(DATA + 16, 44), NO_FAULT);
	C->cpl = 0;
	C->cr4 = 0;
	C->cr0 &= ~CR0_WP;
	tlb_ctl_written(C);
}

/* 4-level paging, 4 KiB page: SDM 4.5.4. A set at every level on use, D on the PTE
 * only and only for writes (SDM 4.8). */
static void test_4level_4k(void)
{
	mode_long64(false);
	gva_t la = 0x00007F1234567000ULL;
	uint64_t *pte = map64(la, DATA, 1, P | RW);
	*ram64(DATA + 0x10) = 0xCAFEF00D;
	uint64_t *pml4e = ent64(la, 4, 0), *pdpte = ent64(la, 3, 0), *pde = ent64(la, 2, 0);
	CHECK_EQ(peek(la + 0x10), 0xCAFEF00D);
	CHECK(*pml4e & ACC);
	CHECK(*pdpte & ACC);
	CHECK(*pde & ACC);
	CHECK(*pte & ACC);
	CHECK(!(*pte & DIRTY));
	CHECK_EQ(wr8(la + 0x18, 7), NO_FAULT);
	CHECK(*pte & DIRTY);
	CHECK(!(*pde & DIRTY));
	CHECK(!(*pml4e & DIRTY));
	CHECK_EQ(*ram64(DATA + 0x18), 7);

	gpa_t gpa;
	uint32_t pfec;
	CHECK(mmu_translate(C, la + 0x123, ACC_READ, 0, &gpa, &pfec));
	CHECK_EQ(gpa, DATA + 0x123);
}

/* 2 MiB and 1 GiB pages (SDM 4.5.4 Tables 4-17, 4-15): the low linear bits pass
 * through; D goes to the PDE/PDPTE that maps the page. */
static void test_large_pages(void)
{
	mode_long64(false);
	gva_t la2m = 0x40000000ULL;
	uint64_t *pde = map64(la2m, 0x00400000, 2, P | RW);
	*ram64(0x00400000 + 0x1FF008) = 0x2222;
	CHECK_EQ(peek(la2m + 0x1FF008), 0x2222);
	CHECK_EQ(wr8(la2m + 0x1000, 1), NO_FAULT);
	CHECK(*pde & DIRTY);
	CHECK_EQ(*ram64(0x00401000), 1);

	gva_t la1g = 0x0000008000000000ULL; /* PML4 index 1 */
	uint64_t *pdpte = map64(la1g, 0, 3, P | RW);
	*ram64(0x02345678 & ~7ULL) = 0x1111;
	CHECK_EQ(peek(la1g + (0x02345678 & ~7ULL)), 0x1111);
	CHECK(*pdpte & ACC);
	CHECK(!(*pdpte & DIRTY));
	gpa_t gpa;
	uint32_t pfec;
	CHECK(mmu_translate(C, la1g + 0x3FFFFFFF, ACC_READ, 0, &gpa, &pfec));
	CHECK_EQ(gpa, 0x3FFFFFFF);
	/* PAT bit 12 of a large page is not an address bit (SDM Table 4-15). */
	*pdpte |= BIT(12);
	tlb_flush_all(C);
	CHECK(mmu_translate(C, la1g + 0x1000, ACC_READ, 0, &gpa, &pfec));
	CHECK_EQ(gpa, 0x1000);
}

/* 5-level paging (SDM 4.5.1): bits 56:48 select the PML5E; canonical = 57 bits. */
static void test_5level(void)
{
	mode_long64(true);
	gva_t la = 0x0001000000002000ULL; /* PML5 index 1: bit 48 set */
	uint64_t *pte = map64(la, DATA, 1, P | RW);
	*ram64(DATA) = 0x5555;
	CHECK_EQ(peek(la), 0x5555);
	CHECK(*ent64(la, 5, 0) & ACC);
	CHECK(*pte & ACC);
	/* Not canonical with 57 bits: #GP(0) (SDM 3.3.7.1). */
	uint64_t v;
	CHECK_EXC(rd8(0x0100000000000000ULL, &v), EXC_GP, 0);
	/* Canonical with 57 bits, not with 48: a fine address here. */
	gva_t hi = 0xFF80000000003000ULL;
	map64(hi, DATA + 0x1000, 1, P | RW);
	*ram64(DATA + 0x1000) = 0x6666;
	CHECK_EQ(peek(hi), 0x6666);
	/* PS in a PML5E is reserved (SDM 4.5.4). */
	*ent64(la, 5, 0) |= PS;
	tlb_flush_all(C);
	CHECK_PF(rd8(la, &v), PFEC_P | PFEC_RSVD, la);
}

/* Not present at each level: P = 0; W/R and U/S describe the access (SDM 4.7). */
static void test_not_present(void)
{
	mode_long64(false);
	gva_t la = 0x0000123456789000ULL;
	uint64_t v;
	CHECK_PF(rd8(la + 8, &v), 0, la + 8);               /* PML4E not present */
	map64(la, DATA, 1, 0);                               /* PTE not present */
	CHECK_PF(wr8(la + 16, 1), PFEC_W, la + 16);
	C->cpl = 3;
	CHECK_PF(rd8(la, &v), PFEC_U, la);
	CHECK_PF(wr8(la, 1), PFEC_U | PFEC_W, la);
	C->cpl = 0;
	*ent64(la, 2, 0) &= ~P;                              /* PDE not present */
	CHECK_PF(rd8(la, &v), 0, la);
	/* Fetch: I/D set since EFER.NXE = 1 with PAE paging (SDM 4.7). */
	CHECK_PF(fx(la), PFEC_I, la);
}

/* A faulting access updates no accessed/dirty flag. */
static void test_no_ad_on_fault(void)
{
	mode_long64(false);
	gva_t la = 0x10000000ULL;
	uint64_t *pte = map64(la, DATA, 1, P);              /* read-only */
	C->cr0 |= CR0_WP;
	tlb_ctl_written(C);
	CHECK_PF(wr8(la, 1), PFEC_P | PFEC_W, la);
	CHECK(!(*pte & ACC));
	CHECK(!(*pte & DIRTY));
	CHECK(!(*ent64(la, 4, 0) & ACC));
	*pte = 0;
	CHECK_PF(rd1(la), 0, la);
	CHECK(!(*ent64(la, 2, 0) & ACC));
}

/* SDM 4.8: A is set in every entry a translation used even when the leaf already has
 * A (and D); a write sets D even when every A is set; a mapping with all flags set
 * is left alone. (The walker skips the update only in the last case.) */
static void test_ad_partial(void)
{
	mode_long64(false);
	gva_t la = 0x30000000ULL;
	uint64_t *pte = map64(la, DATA, 1, P | RW | ACC | DIRTY);
	uint64_t *pde = ent64(la, 2, 0), *pml4e = ent64(la, 4, 0);
	CHECK(!(*pde & ACC));
	CHECK_EQ(rd1(la), NO_FAULT);
	CHECK(*pde & ACC);
	CHECK(*pml4e & ACC);
	/* Every A set, D clear: a write (after a flush) sets D on the leaf only. */
	*pte = DATA | P | RW | ACC;
	tlb_flush_all(C);
	CHECK_EQ(wr1(la), NO_FAULT);
	CHECK_EQ(*pte, DATA | P | RW | ACC | DIRTY);
	CHECK(!(*pde & DIRTY));
	/* Everything set: a read and a write walk change nothing. */
	uint64_t before = *pde;
	tlb_flush_all(C);
	CHECK_EQ(rd1(la), NO_FAULT);
	tlb_flush_all(C);
	CHECK_EQ(wr1(la), NO_FAULT);
	CHECK_EQ(*pte, DATA | P | RW | ACC | DIRTY);
	CHECK_EQ(*pde, before);
	/* 32-bit paging (4-byte entries): the same for a PDE without A. */
	mode_prot32(true, 0);
	gva_t l32 = 0x00403000;
	uint32_t *pte32 = map32(l32, DATA, P | RW, P | RW | ACC | DIRTY);
	CHECK_EQ(wr1(l32), NO_FAULT);
	CHECK(*pde32(l32) & ACC);
	CHECK(!(*pde32(l32) & DIRTY));
	CHECK_EQ(*pte32, (uint32_t)DATA | P | RW | ACC | DIRTY);
}

/* SDM 4.5.4: reserved bits 51:MAXPHYADDR at every level, PS in the PML4E, 29:13 of a
 * 1 GiB PDPTE, 20:13 of a 2 MiB PDE, XD without NXE; bits 62:52 are ignored. */
static void test_reserved_4level(void)
{
	mode_long64(false);
	gva_t la = 0x20000000ULL;
	uint64_t *pte = map64(la, DATA, 1, P | RW);
	uint64_t *pde = ent64(la, 2, 0), *pml4e = ent64(la, 4, 0);
	const uint32_t rsvd = PFEC_P | PFEC_RSVD;
	*pte |= BIT(CPU_MAXPHYADDR);
	CHECK_PF(rd1(la), rsvd, la);
	*pte &= ~BIT(CPU_MAXPHYADDR);
	*pte |= BIT(51);
	tlb_flush_all(C);
	CHECK_PF(wr1(la + 3), rsvd | PFEC_W, la + 3);
	*pte &= ~BIT(51);
	*pte |= 0x7FFULL << 52; /* ignored bits (no PKE) */
	tlb_flush_all(C);
	CHECK_EQ(rd1(la), NO_FAULT);
	*pml4e |= PS;
	tlb_flush_all(C);
	CHECK_PF(rd1(la), rsvd, la);
	*pml4e &= ~PS;
	/* XD without EFER.NXE is reserved; fetches then have no I/D (SDM 4.7). */
	C->efer &= ~EFER_NXE;
	tlb_ctl_written(C);
	*pde |= XD;
	CHECK_PF(rd1(la), rsvd, la);
	CHECK_PF(fx(la), rsvd, la);
	*pde &= ~XD;
	C->efer |= EFER_NXE;
	tlb_ctl_written(C);
	/* 2 MiB page with bit 13 set; 1 GiB page with bit 29 set. */
	gva_t l2 = 0x40000000ULL, l1 = 0x0000008000000000ULL;
	map64(l2, 0x00400000 | BIT(13), 2, P);
	CHECK_PF(rd1(l2), rsvd, l2);
	map64(l1, BIT(29), 3, P);
	CHECK_PF(rd1(l1), rsvd, l1);
	map64(l1, BIT(30), 3, P);
	tlb_flush_all(C);
	CHECK_EQ(rd1(l1), NO_FAULT);
	/* The RSVD fault reports the access like any other (user write here). */
	C->cpl = 3;
	CHECK_PF(wr1(l2), rsvd | PFEC_W | PFEC_U, l2);
	C->cpl = 0;
}

/* 32-bit paging (SDM 4.3): 4 KiB pages, 4 MiB pages with CR4.PSE, PSE-36. */
static void test_32bit(void)
{
	mode_prot32(true, CR4_PSE);
	gva_t la = 0x80001000;
	uint32_t *pte = map32(la, DATA, P | RW | US, P | RW | US);
	*ram32(DATA + 4) = 0xABCD1234;
	uint64_t v;
	CHECK_EQ(rd(SEG_DS, la + 4, 2, &v), NO_FAULT);
	CHECK_EQ(v, 0xABCD1234);
	CHECK(*pte & ACC);
	CHECK(*pde32(la) & ACC);
	CHECK_EQ(wr(SEG_DS, la + 8, 2, 9), NO_FAULT);
	CHECK(*pte & DIRTY);
	CHECK(!(*pde32(la) & DIRTY));

	/* 4 MiB page: PDE bits 31:22 plus (PSE-36) bits 20:13 as PA bits 39:32. */
	gva_t big = 0xC0000000;
	uint32_t *pde = pde32(big);
	*pde = 0x00400000 | P | RW | PS;
	*ram32(0x00400000 + 0x3FF000) = 0x44;
	CHECK_EQ(rd(SEG_DS, big + 0x3FF000, 2, &v), NO_FAULT);
	CHECK_EQ(v, 0x44);
	CHECK(*pde & ACC);
	gpa_t gpa;
	uint32_t pfec;
	*pde = 0x00800000 | (0x3FU << 13) | P | RW | PS; /* PA bits 37:32 = 0x3F */
	tlb_flush_all(C);
	CHECK(mmu_translate(C, big + 0x12345, ACC_READ, 0, &gpa, &pfec));
	CHECK_EQ(gpa, 0x3F00812345ULL);
	/* Bits 21:(M-19) = 21:20 are reserved with MAXPHYADDR 39 (SDM 4.3, Table 4-4). */
	*pde |= BIT(20);
	CHECK(!mmu_translate(C, big, ACC_READ, 0, &gpa, &pfec));
	CHECK_EQ(pfec, PFEC_P | PFEC_RSVD);
	*pde = 0x00400000 | P | PS | BIT(21);
	CHECK(!mmu_translate(C, big, ACC_WRITE, 0, &gpa, &pfec));
	CHECK_EQ(pfec, PFEC_P | PFEC_RSVD | PFEC_W);

	/* Without CR4.PSE the PS flag is ignored: the PDE points to a page table. */
	C->cr4 &= ~CR4_PSE;
	tlb_ctl_written(C);
	*pde = (uint32_t)DATA | P | RW | PS;              /* "page table" at DATA */
	*ram32(DATA + 4 * 5) = 0x00300000 | P;           /* its PTE 5 */
	CHECK(mmu_translate(C, big + 0x5000, ACC_READ, 0, &gpa, &pfec));
	CHECK_EQ(gpa, 0x00300000);
	/* No NX in 32-bit paging: bit 31 of... nothing is reserved in a PTE; fetches
	 * report I/D only with SMEP (SDM 4.7: PAE is 0). */
	C->efer |= EFER_NXE;
	CHECK(!mmu_translate(C, 0x1000, ACC_EXEC, 0, &gpa, &pfec));
	CHECK_EQ(pfec, 0);
	C->cr4 |= CR4_SMEP;
	CHECK(!mmu_translate(C, 0x1000, ACC_EXEC, 0, &gpa, &pfec));
	CHECK_EQ(pfec, PFEC_I);
	C->efer = 0;
	C->cr4 = 0;
	tlb_ctl_written(C);
}

/* PAE paging (SDM 4.4): PDPTE registers loaded by mmu_load_pdptrs (4.4.1); their
 * reserved bits are checked at load (#GP), not at use. */
static void test_pae(void)
{
	mode_prot32(true, CR4_PAE);
	C->efer = EFER_NXE;
	tlb_ctl_written(C);
	gva_t la = 0x40001000;
	uint64_t *pte = map_pae(la, DATA, 1, P | RW);
	map_pae(0xC0200000, 0x00600000, 2, P | RW);
	CHECK(mmu_load_pdptrs(C));
	*ram64(DATA + 8) = 0x77;
	*ram64(0x00600000 + 0x1234 * 8) = 0x88;
	CHECK_EQ(peek(la + 8), 0x77);
	CHECK_EQ(peek(0xC0200000 + 0x1234 * 8), 0x88);
	CHECK(*pte & ACC);
	CHECK(!(*pdpte_pae(la) & ACC)); /* PDPTEs have no accessed flag */

	/* Reserved bits in a present PDPTE: bits 2:1, 8:5, 63:M (Table 4-8). */
	uint64_t *pdpte = pdpte_pae(la), good = *pdpte;
	uint64_t bad[] = { BIT(1), BIT(2), BIT(5), BIT(8), BIT(CPU_MAXPHYADDR), BIT(63) };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		*pdpte = good | bad[i];
		CHECK(!mmu_load_pdptrs(C));
	}
	*pdpte = bad[0];              /* not present: the other bits are ignored */
	tlb_cr3_written(C, false);    /* what MOV to CR3 does: flush, then load */
	CHECK(mmu_load_pdptrs(C));
	CHECK_PF(rd1(la), 0, la);
	/* The registers, not memory, are used until the next load (SDM 4.4.1). */
	*pdpte = good;
	tlb_flush_all(C);
	CHECK_PF(rd1(la), 0, la);
	CHECK(mmu_load_pdptrs(C));
	CHECK_EQ(peek(la + 8), 0x77);

	/* PDE/PTE: bits 62:M reserved (4.4.2), XD reserved without NXE. */
	*pte |= BIT(62);
	tlb_flush_all(C);
	CHECK_PF(rd1(la), PFEC_P | PFEC_RSVD, la);
	*pte &= ~BIT(62);
	*pte |= XD;
	tlb_flush_all(C);
	CHECK_EQ(rd1(la), NO_FAULT);
	CHECK_PF(fx(la), PFEC_P | PFEC_I, la);
	C->efer = 0;
	tlb_ctl_written(C);
	CHECK_PF(rd1(la), PFEC_P | PFEC_RSVD, la);
	*pte &= ~XD;
	/* 2 MiB PDE: bits 20:13 reserved. */
	uint64_t *pde2 = ram64((*pdpte_pae(0xC0200000) & ADDR_BITS) + 8 * 1);
	*pde2 |= BIT(14);
	CHECK(mmu_load_pdptrs(C));
	tlb_flush_all(C);
	CHECK_PF(rd1(0xC0200000), PFEC_P | PFEC_RSVD, 0xC0200000);
}

/* A CR writer that does not call mmu_load_pdptrs: the walk loads them for the CR3. */
static void test_pae_lazy_pdptes(void)
{
	mode_prot32(true, CR4_PAE);
	gva_t la = 0x00401000;
	map_pae(la, DATA, 1, P | RW);
	*ram64(DATA) = 0x99;
	C->tlb.pdpte_cr3 = 0;
	CHECK_EQ(peek(la), 0x99);
}

int main(void)
{
	mt_init();
	test_no_paging();
	test_4level_4k();
	test_large_pages();
	test_5level();
	test_not_present();
	test_no_ad_on_fault();
	test_ad_partial();
	test_reserved_4level();
	test_32bit();
	test_pae();
	test_pae_lazy_pdptes();
	return report("mmu_walk");
}
