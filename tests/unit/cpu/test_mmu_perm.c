/*
 * Access rights (SDM Vol.3A 4.6.1) and their error codes (4.7): U/S and R/W combined
 * across levels, CR0.WP, NX, SMEP, SMAP with EFLAGS.AC and implicit accesses, and the
 * checks before paging: canonical form (3.3.7.1) and alignment (6.15 #AC). Every case
 * runs twice: the first access walks, the second may hit the TLB, and both must agree.
 */
#include "mmu_harness.h"

#define DATA 0x00200000ULL
#define F_P PFEC_P
#define F_W PFEC_W
#define F_U PFEC_U
#define F_I PFEC_I

static gva_t next_la = 0x10000000;

/* A fresh page mapped with PTE flags pte and upper-level flags upper. */
static gva_t page(uint64_t upper, uint64_t pte)
{
	gva_t la = next_la;
	next_la += 0x40000000; /* a new PDPTE each time, so upper flags are its own */
	uint64_t *e = ent64(la, 1, upper);
	*e = DATA | pte;
	return la;
}

static void set_cpl(int cpl) { C->cpl = (uint8_t)cpl; }
static void set_ac(bool ac)
{
	C->rflags = ac ? C->rflags | RFLAGS_AC : C->rflags & ~RFLAGS_AC;
}
static void set_cr0(uint64_t set, uint64_t clear)
{
	C->cr0 = (C->cr0 | set) & ~clear;
	tlb_ctl_written(C);
}
static void set_cr4(uint64_t set, uint64_t clear)
{
	C->cr4 = (C->cr4 | set) & ~clear;
	tlb_ctl_written(C);
}

/* Expect the access to succeed twice, or to fault twice with pfec at la. */
#define TWICE_OK(call) do { CHECK_EQ((call), NO_FAULT); CHECK_EQ((call), NO_FAULT); } while (0)
#define TWICE_PF(call, err, la) do { CHECK_PF((call), (err), (la)); CHECK_PF((call), (err), (la)); } while (0)

/* SDM 4.6.1 user-mode accesses: user pages only; writes need R/W = 1 at every level. */
static void test_user(void)
{
	gva_t sup = page(P | RW | US, P | RW);
	gva_t ro = page(P | RW | US, P | US);
	gva_t rw = page(P | RW | US, P | RW | US);
	gva_t upper_ro = page(P | US, P | RW | US);    /* R/W = 0 in the upper levels */
	gva_t upper_sup = page(P | RW, P | RW | US);   /* U/S = 0 in the upper levels */
	set_cpl(3);
	TWICE_PF(rd1(sup), F_P | F_U, sup);
	TWICE_PF(wr1(sup), F_P | F_U | F_W, sup);
	TWICE_OK(rd1(ro));
	TWICE_PF(wr1(ro), F_P | F_U | F_W, ro);
	TWICE_OK(wr1(rw));
	TWICE_OK(rd1(upper_ro));
	TWICE_PF(wr1(upper_ro), F_P | F_U | F_W, upper_ro);
	TWICE_PF(rd1(upper_sup), F_P | F_U, upper_sup);
	/* A supervisor-context hit must not leak to CPL 3 (separate TLB contexts). */
	set_cpl(0);
	TWICE_OK(wr1(sup));
	set_cpl(3);
	TWICE_PF(rd1(sup), F_P | F_U, sup);
	set_cpl(0);
}

/* Supervisor writes: CR0.WP = 0 ignores R/W; WP = 1 honours it (SDM 4.6.1). */
static void test_wp(void)
{
	gva_t ro = page(P | RW | US, P);
	gva_t upper_ro = page(P | US, P | RW);
	gva_t user_ro = page(P | RW | US, P | US);
	set_cr0(0, CR0_WP);
	TWICE_OK(wr1(ro));
	TWICE_OK(wr1(upper_ro));
	TWICE_OK(wr1(user_ro));
	set_cr0(CR0_WP, 0);   /* the fast write tags must go (tlb_ctl_written) */
	TWICE_PF(wr1(ro), F_P | F_W, ro);
	TWICE_PF(wr1(upper_ro), F_P | F_W, upper_ro);
	TWICE_PF(wr1(user_ro), F_P | F_W, user_ro);
	TWICE_OK(rd1(ro));
	set_cr0(0, CR0_WP);
	TWICE_OK(wr1(ro));
}

/* Execute-disable: XD at any level forbids fetches when EFER.NXE = 1 (SDM 4.6.1);
 * the fault has I/D = 1 (SDM 4.7). */
static void test_nx(void)
{
	gva_t x = page(P | RW | US, P | RW);
	gva_t nx = page(P | RW | US, P | RW | XD);
	gva_t upper_nx = page(P | RW | US | XD, P | RW);
	gva_t user_nx = page(P | RW | US, P | US | XD);
	TWICE_OK(fx(x));
	TWICE_PF(fx(nx), F_P | F_I, nx);
	TWICE_OK(rd1(nx));
	TWICE_PF(fx(upper_nx), F_P | F_I, upper_nx);
	set_cpl(3);
	TWICE_PF(fx(user_nx), F_P | F_U | F_I, user_nx);
	TWICE_PF(fx(x), F_P | F_U | F_I, x);   /* user fetch from a supervisor page */
	set_cpl(0);
	/* mem_fetch's pointer and page data. */
	const uint8_t *p;
	int avail;
	gpa_t gpa;
	memset(B.ram + DATA, 0x90, 16);
	CHECK_EQ(fetch(x + 0xFF0, &p, &avail, &gpa), NO_FAULT);
	CHECK_EQ(avail, 16);
	CHECK_EQ(gpa, DATA + 0xFF0);
	CHECK(p == B.ram + DATA + 0xFF0);
}

/* SMEP: supervisor fetches from user pages fault, with I/D (SDM 4.6.1, 4.7). Data
 * accesses are unaffected. */
static void test_smep(void)
{
	gva_t user = page(P | RW | US, P | RW | US);
	TWICE_OK(fx(user));
	set_cr4(CR4_SMEP, 0);
	TWICE_PF(fx(user), F_P | F_I, user);
	TWICE_OK(rd1(user));
	set_cpl(3);
	TWICE_OK(fx(user));
	set_cpl(0);
	/* I/D with SMEP even when NXE = 0: a not-present fetch. */
	C->efer &= ~EFER_NXE;
	tlb_ctl_written(C);
	TWICE_PF(fx(0x7000000000ULL), F_I, 0x7000000000ULL);
	set_cr4(0, CR4_SMEP);
	TWICE_PF(fx(0x7000000000ULL), 0, 0x7000000000ULL);  /* neither SMEP nor NXE */
	C->efer |= EFER_NXE;
	tlb_ctl_written(C);
}

/* SMAP: supervisor data accesses to user pages need EFLAGS.AC = 1 and an explicit
 * access; implicit supervisor accesses never may (SDM 4.6.1). CR4.SMAP and AC select
 * TLB contexts: no flush is needed when AC changes (STAC/CLAC). */
static void test_smap(void)
{
	gva_t user = page(P | RW | US, P | RW | US);
	gva_t user_ro = page(P | RW | US, P | US);
	gva_t sup = page(P | RW | US, P | RW);
	uint64_t v;
	set_cr4(CR4_SMAP, 0);
	set_ac(false);
	TWICE_PF(rd1(user), F_P, user);
	TWICE_PF(wr1(user), F_P | F_W, user);
	TWICE_OK(rd1(sup));
	set_ac(true);                    /* STAC */
	TWICE_OK(rd1(user));
	TWICE_OK(wr1(user));
	/* Implicit accesses ignore AC. */
	TWICE_PF(lrd(user, 3, ACC_READ | ACC_IMPLICIT, &v), F_P, user);
	TWICE_PF(lwr(user, 3, 1, ACC_WRITE | ACC_IMPLICIT), F_P | F_W, user);
	/* WP still applies to AC = 1 writes to read-only user pages. */
	set_cr0(CR0_WP, 0);
	TWICE_PF(wr1(user_ro), F_P | F_W, user_ro);
	set_cr0(0, CR0_WP);
	TWICE_OK(wr1(user_ro));
	set_ac(false);                   /* CLAC: back to the SMAP context */
	TWICE_PF(rd1(user), F_P, user);
	/* CPL 3 is unaffected; its implicit accesses are supervisor ones (U/S = 0 in the
	 * error code) and reach supervisor pages. */
	set_cpl(3);
	TWICE_OK(rd1(user));
	TWICE_OK(lrd(sup, 3, ACC_READ | ACC_IMPLICIT, &v));
	TWICE_PF(lrd(user, 3, ACC_READ | ACC_IMPLICIT, &v), F_P, user);
	TWICE_PF(rd1(sup), F_P | F_U, sup);
	set_cpl(0);
	set_cr4(0, CR4_SMAP);
	TWICE_OK(lrd(user, 3, ACC_READ | ACC_IMPLICIT, &v));
}

/* SDM 6.15 #AC(0): CPL 3, CR0.AM = 1, EFLAGS.AC = 1, misaligned data access. It comes
 * after #PF (SDM 6.9 priority). */
static void test_alignment(void)
{
	gva_t user = page(P | RW | US, P | RW | US);
	uint64_t v;
	set_cpl(3);
	set_cr0(CR0_AM, 0);
	set_ac(true);
	CHECK_EXC(rd(SEG_DS, user + 2, 2, &v), EXC_AC, 0);
	CHECK_EXC(wr(SEG_DS, user + 1, 1, 0), EXC_AC, 0);
	CHECK_EQ(rd(SEG_DS, user + 4, 2, &v), NO_FAULT);
	CHECK_EQ(rd(SEG_DS, user + 3, 0, &v), NO_FAULT);
	CHECK_EXC(rd(SEG_DS, user + 0xFF4, 3, &v), EXC_AC, 0);
	CHECK_EXC(lrd(user + 0xFF4, 3, ACC_READ, &v), EXC_AC, 0);   /* explicit lin_read */
	CHECK_EQ(lrd(user + 0xFF4, 3, ACC_READ | ACC_IMPLICIT, &v), NO_FAULT);
	/* Misaligned and not present: #PF wins. */
	CHECK_PF(rd(SEG_DS, 0x7100000001ULL, 3, &v), F_U, 0x7100000001ULL);
	set_ac(false);
	CHECK_EQ(rd(SEG_DS, user + 2, 2, &v), NO_FAULT);
	set_ac(true);
	set_cr0(0, CR0_AM);
	CHECK_EQ(rd(SEG_DS, user + 2, 2, &v), NO_FAULT);
	set_cr0(CR0_AM, 0);
	set_cpl(0);
	CHECK_EQ(rd(SEG_DS, user + 2, 2, &v), NO_FAULT);
	set_cr0(0, CR0_AM);
	set_ac(false);
}

/* 64-bit mode: non-canonical addresses fault #GP(0), #SS(0) through SS (SDM 3.3.7.1,
 * 6.15); FS/GS bases are added, the others are not (SDM 3.4.4). */
static void test_canonical_and_bases(void)
{
	gva_t rw = page(P | RW | US, P | RW);
	uint64_t v;
	CHECK_EXC(rd(SEG_DS, 0x0000800000000000ULL, 0, &v), EXC_GP, 0);
	CHECK_EXC(rd(SEG_SS, 0xFFFF7FFFFFFFFFFFULL, 0, &v), EXC_SS, 0);
	CHECK_EXC(wr(SEG_ES, 0x00007FFFFFFFFFFCULL, 3, 0), EXC_GP, 0); /* last byte */
	CHECK_EXC(chkw(SEG_SS, 0x00007FFFFFFFFFFCULL, 8), EXC_SS, 0);
	C->seg[SEG_DS].base = 0x1000;   /* ignored in 64-bit mode */
	C->seg[SEG_FS].base = rw - 0x100;
	*(uint8_t *)(B.ram + DATA) = 0xA5;
	CHECK_EQ(rd(SEG_FS, 0x100, 0, &v), NO_FAULT);
	CHECK_EQ(v, 0xA5);
	CHECK_EQ(rd(SEG_DS, rw, 0, &v), NO_FAULT);
	CHECK_EQ(v, 0xA5);
	C->seg[SEG_FS].base = 0;
	C->seg[SEG_DS].base = 0;
}

/* Segment checks outside 64-bit mode come before paging (seg.c, SDM 5.3). */
static void test_segment_first(void)
{
	mode_prot32(true, CR4_PSE);
	uint64_t v;
	C->seg[SEG_DS].limit = 0xFFF;
	CHECK_EXC(rd(SEG_DS, 0xFFE, 2, &v), EXC_GP, 0); /* beyond the limit; unmapped */
	C->seg[SEG_SS].limit = 0xFFF;
	CHECK_EXC(wr(SEG_SS, 0x1000, 0, 0), EXC_SS, 0);
	CHECK_PF(rd(SEG_DS, 0x800, 0, &v), 0, 0x800);   /* within: paging decides */
	C->seg[SEG_DS].limit = 0xFFFFFFFF;
	C->seg[SEG_DS].base = 0x00400000;
	*pde32(0x00401000) = 0x00800000 | P | RW | PS;
	*(uint8_t *)(B.ram + 0x00801000) = 0x3C;
	CHECK_EQ(rd(SEG_DS, 0x1000, 0, &v), NO_FAULT);
	CHECK_EQ(v, 0x3C);
	C->seg[SEG_DS].base = 0;
}

int main(void)
{
	mt_init();
	mode_long64(false);
	test_user();
	test_wp();
	test_nx();
	test_smep();
	test_smap();
	test_alignment();
	test_canonical_and_bases();
	test_segment_first();
	return report("mmu_perm");
}
