/*
 * paging - 4-level paging behaviour (SDM Vol.3A ch.4): page sizes, accessed/dirty
 * flags, access rights (R/W, U/S, NX, CR0.WP, SMEP, SMAP), UMIP, reserved bits, and
 * the TLB-invalidation guarantees of INVLPG, MOV CR3 and CR4.PGE (4.10.4). Where the
 * SDM only says a stale translation *may* be used, nothing is asserted.
 */
#include "rt.h"

#define VA(n) (0x4000000000ull + (uint64_t)(n) * PAGE_2M)
#define VA_1G 0x8000000000ull

/* Accesses are compiler barriers too: the CPU updates paging entries (A/D) behind
 * the compiler's back, so no PTE load may move across them. */
static uint64_t rd(uint64_t va)
{
	uint64_t v = *(volatile uint64_t *)va;
	barrier();
	return v;
}

static void wr(uint64_t va, uint64_t v)
{
	*(volatile uint64_t *)va = v;
	barrier();
}

/* Access va (read, write or call) and return the fault, if any. */
enum acc { READ, WRITE, EXEC };
static struct fault access(uint64_t va, enum acc a)
{
	struct fault f;
	if (!fault_try(&f)) {
		if (a == READ)
			(void)rd(va);
		else if (a == WRITE)
			wr(va, 0x1234);
		else
			((void (*)(void))va)();
		fault_end(&f);
	}
	return f;
}

static void expect_pf(struct fault f, uint64_t err, uint64_t va, const char *name)
{
	check_eqf(f.vector, 14, "%s: #PF", name);
	check_eqf(f.error, err, "%s: error code", name);
	check_eqf(f.cr2, va, "%s: CR2", name);
}

static void expect_ok(struct fault f, const char *name) { check_eqf(f.vector, NO_FAULT, "%s: no fault", name); }

/* 4.5: 4 KiB, 2 MiB (PDE.PS=1) and 1 GiB (PDPTE.PS=1, CPUID.80000001H:EDX[26]) pages */
static void sizes(void)
{
	uint8_t *p = alloc_pages(2);
	wr((uintptr_t)p + 8, 0x4444);
	map_page(VA(0), (uintptr_t)p, PTE_P | PTE_W);
	check_eq(rd(VA(0) + 8), 0x4444, "4K page: read through alias");
	wr(VA(0) + 16, 0x5555);
	check_eq(rd((uintptr_t)p + 16), 0x5555, "4K page: write through alias reaches the frame");
	map_page(VA(0) + PAGE_4K, (uintptr_t)p, PTE_P | PTE_W);
	check_eq(rd(VA(0) + PAGE_4K + 8), 0x4444, "two virtual pages, one frame");

	static uint64_t marker = 0x2222;
	uint64_t pa = (uintptr_t)&marker;
	map_large(VA(2), pa & ~(PAGE_2M - 1), PTE_P | PTE_W, 2);
	check_eq(rd(VA(2) + (pa & (PAGE_2M - 1))), 0x2222, "2M page: offset bits 20:0 pass through");
	if (!has_feature(F_PAGE1GB)) {
		skip("1G page", "CPUID.80000001H:EDX[26] clear");
		return;
	}
	map_large(VA_1G, 0, PTE_P | PTE_W, 3);
	check_eq(rd(VA_1G + pa), 0x2222, "1G page: offset bits 29:0 pass through");
	unmap_page(VA_1G);
}

/* 4.8: the processor sets A in every entry it uses and D in the leaf on a write */
static void accessed_dirty(void)
{
	volatile uint64_t *pte, *pde;
	int lvl;

	map_page(VA(4), (uintptr_t)alloc_page(), PTE_P | PTE_W);
	pte = pte_lookup(VA(4), &lvl);
	pde = pte_get(VA(4), 2);
	*pde &= ~PTE_A;
	invlpg(VA(4));
	check_eq(*pte & (PTE_A | PTE_D), 0, "fresh PTE has A=0 D=0");
	(void)rd(VA(4));
	check_eq(*pte & (PTE_A | PTE_D), PTE_A, "read sets A, not D");
	check_eq(*pde & PTE_A, PTE_A, "read sets A in the PDE that references the page table");
	wr(VA(4), 1);
	check_eq(*pte & (PTE_A | PTE_D), PTE_A | PTE_D, "write sets D");
	/* 2 MiB leaf: D lives in the PDE */
	uint64_t big = ((uintptr_t)alloc_pages(1024) + PAGE_2M - 1) & ~(PAGE_2M - 1); /* 2M inside 4M */
	map_large(VA(6), big, PTE_P | PTE_W, 2);
	pde = pte_lookup(VA(6), &lvl);
	wr(VA(6) + 0x100000, 0);
	check(lvl == 2 && (*pde & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "write to 2M page sets A and D in the PDE");
}

/* 4.6: R/W, U/S at every level; CR0.WP; NX (4.6, with IA32_EFER.NXE) */
USER_TEXT static uint64_t u_rd(uint64_t va) { return *(volatile uint64_t *)va; }

static struct fault user_access(uint64_t va)
{
	struct fault f;
	if (!fault_try(&f)) {
		user_call(u_rd, va);
		fault_end(&f);
	}
	return f;
}

static void rights(void)
{
	uint64_t pa = (uintptr_t)alloc_page();

	map_page(VA(8), pa, PTE_P);
	expect_pf(access(VA(8), WRITE), PF_P | PF_W, VA(8), "supervisor write to R/O page with CR0.WP=1");
	write_cr0(read_cr0() & ~CR0_WP);
	expect_ok(access(VA(8), WRITE), "supervisor write to R/O page with CR0.WP=0");
	write_cr0(read_cr0() | CR0_WP);

	map_page(VA(8), pa, PTE_P | PTE_W | PTE_U);
	expect_ok(user_access(VA(8)), "user read of U=1 page");
	uint64_t *pde = pte_get(VA(8), 2);
	*pde &= ~PTE_U;
	invlpg(VA(8));
	expect_pf(user_access(VA(8)), PF_P | PF_U, VA(8), "user read with U=0 in the PDE only");
	*pde |= PTE_U;
	*pde &= ~PTE_W;
	invlpg(VA(8));
	expect_pf(access(VA(8), WRITE), PF_P | PF_W, VA(8), "supervisor write with R/W=0 in the PDE only");
	*pde |= PTE_W;
	invlpg(VA(8));

	if (!(rdmsr(MSR_EFER) & EFER_NXE)) {
		skip("NX", "IA32_EFER.NXE not set (no NX)");
		return;
	}
	*(volatile uint8_t *)pa = 0xc3; /* ret */
	map_page(VA(8), pa, PTE_P | PTE_W);
	expect_ok(access(VA(8), EXEC), "fetch from NX=0 page");
	map_page(VA(8), pa, PTE_P | PTE_W | PTE_NX);
	expect_pf(access(VA(8), EXEC), PF_P | PF_I, VA(8), "fetch from NX=1 page");
	map_page(VA(8), pa, PTE_P | PTE_W);
	*pde |= PTE_NX;
	invlpg(VA(8));
	expect_pf(access(VA(8), EXEC), PF_P | PF_I, VA(8), "fetch with NX=1 in the PDE only");
	*pde &= ~PTE_NX;
	invlpg(VA(8));
}

/* 4.6.1: SMEP blocks supervisor fetches from user pages; SMAP blocks supervisor data
 * accesses to user pages unless EFLAGS.AC=1 (STAC/CLAC, Vol.2B). */
static void smep_smap(void)
{
	uint64_t pa = (uintptr_t)alloc_page();
	*(volatile uint8_t *)pa = 0xc3;
	map_page(VA(10), pa, PTE_P | PTE_W | PTE_U);

	if (has_feature(F_SMEP)) {
		expect_ok(access(VA(10), EXEC), "supervisor fetch from user page, SMEP=0");
		write_cr4(read_cr4() | CR4_SMEP);
		expect_pf(access(VA(10), EXEC), PF_P | PF_I, VA(10), "supervisor fetch from user page, SMEP=1");
		write_cr4(read_cr4() & ~CR4_SMEP);
	} else {
		skip("SMEP", "CPUID.(EAX=07H,ECX=0):EBX[7] clear");
	}
	if (!has_feature(F_SMAP)) {
		skip("SMAP", "CPUID.(EAX=07H,ECX=0):EBX[20] clear");
		return;
	}
	write_cr4(read_cr4() | CR4_SMAP);
	expect_pf(access(VA(10), READ), PF_P, VA(10), "supervisor read of user page, SMAP=1 AC=0");
	expect_pf(access(VA(10), WRITE), PF_P | PF_W, VA(10), "supervisor write to user page, SMAP=1 AC=0");
	__asm__ volatile("stac" ::: "memory");
	struct fault f = access(VA(10), READ);
	__asm__ volatile("clac" ::: "memory");
	expect_ok(f, "supervisor read of user page, SMAP=1 after STAC");
	expect_pf(access(VA(10), READ), PF_P, VA(10), "supervisor read of user page after CLAC");
	write_cr4(read_cr4() & ~CR4_SMAP);
}

/* 2.5 CR4.UMIP: SGDT/SIDT/SLDT/SMSW/STR at CPL > 0 -> #GP(0) */
static uint8_t udt[16] USER_DATA;
USER_TEXT static uint64_t u_sgdt(uint64_t x) { __asm__ volatile("sgdt %0" : "=m"(udt)); return 0; }
USER_TEXT static uint64_t u_smsw(uint64_t x) { uint64_t v; __asm__ volatile("smsw %0" : "=r"(v)); return v; }

static void umip(void)
{
	struct fault f;
	if (!has_feature(F_UMIP)) {
		skip("UMIP", "CPUID.(EAX=07H,ECX=0):ECX[2] clear");
		return;
	}
	if (!fault_try(&f)) {
		user_call(u_sgdt, 0);
		fault_end(&f);
	}
	expect_ok(f, "SGDT at CPL 3 with UMIP=0");
	write_cr4(read_cr4() | CR4_UMIP);
	if (!fault_try(&f)) {
		user_call(u_sgdt, 0);
		fault_end(&f);
	}
	check_eq(f.vector, 13, "SGDT at CPL 3 with UMIP=1 -> #GP");
	check_eq(f.error, 0, "SGDT at CPL 3 with UMIP=1: error code 0");
	if (!fault_try(&f)) {
		user_call(u_smsw, 0);
		fault_end(&f);
	}
	check_eq(f.vector, 13, "SMSW at CPL 3 with UMIP=1 -> #GP");
	uint8_t kbuf[10];
	__asm__ volatile("sgdt %0" : "=m"(kbuf));
	check(true, "SGDT at CPL 0 with UMIP=1 is allowed");
	write_cr4(read_cr4() & ~CR4_UMIP);
}

/* 4.5.4 / Table 4-19..4-21: reserved bits -> #PF with RSVD=1 (and P=1) */
static void reserved(void)
{
	uint64_t pa = (uintptr_t)alloc_page();
	map_page(VA(12), pa, PTE_P | PTE_W);
	uint64_t *pde = pte_get(VA(12), 2);
	int mp = cpu_maxphyaddr();
	struct fault f;

	if (mp < 52) {
		*pde |= BIT(51);
		invlpg(VA(12));
		f = access(VA(12), READ);
		*pde &= ~BIT(51);
		invlpg(VA(12));
		check_eq(f.error & ~PF_P, PF_RSVD, "reserved bit 51 in a PDE -> #PF RSVD");
	} else {
		skip("reserved bit 51 in a PDE", "MAXPHYADDR is 52");
	}
	/* 2 MiB page: PDE bits 20:13 are reserved (Table 4-18) */
	map_large(VA(14), 0, PTE_P | PTE_W | BIT(13 + 1), 2);
	f = access(VA(14), READ);
	check_eq(f.error & ~PF_P, PF_RSVD, "2M PDE with bit 14 set -> #PF RSVD");
	check_eq(f.cr2, VA(14), "2M PDE reserved bit: CR2");
	unmap_page(VA(14));
	if (cpu_is_qemu_tcg())
		skip("reserved-bit #PF sets P=1", "QEMU 7.2 TCG clears P with RSVD");
	else
		check_eq(f.error & PF_P, PF_P, "reserved-bit #PF sets P=1");
}

/* 4.10.4.1: after INVLPG, MOV to CR3 (non-global) or toggling CR4.PGE (all), the new
 * translation is used. Stale entries may or may not be used before: not checked. */
static void tlb(void)
{
	uint64_t a = (uintptr_t)alloc_page(), b = (uintptr_t)alloc_page();
	wr(a, 0xaaaa);
	wr(b, 0xbbbb);

	map_page(VA(16), a, PTE_P | PTE_W);
	check_eq(rd(VA(16)), 0xaaaa, "TLB: initial mapping");
	*pte_lookup(VA(16), 0) = b | PTE_P | PTE_W;
	invlpg(VA(16));
	check_eq(rd(VA(16)), 0xbbbb, "TLB: new mapping after INVLPG");
	*pte_lookup(VA(16), 0) = a | PTE_P | PTE_W;
	write_cr3(read_cr3());
	check_eq(rd(VA(16)), 0xaaaa, "TLB: new non-global mapping after MOV CR3");

	if (!has_feature(F_PGE)) {
		skip("global pages", "CPUID.01H:EDX[13] clear");
		return;
	}
	write_cr4(read_cr4() | CR4_PGE);
	map_page(VA(16), a, PTE_P | PTE_W | PTE_G);
	check_eq(rd(VA(16)), 0xaaaa, "global page: initial mapping");
	*pte_lookup(VA(16), 0) = b | PTE_P | PTE_W | PTE_G;
	write_cr3(read_cr3()); /* may keep the global entry: nothing asserted */
	(void)rd(VA(16));
	invlpg(VA(16));
	check_eq(rd(VA(16)), 0xbbbb, "global page: new mapping after INVLPG");
	*pte_lookup(VA(16), 0) = a | PTE_P | PTE_W | PTE_G;
	write_cr4(read_cr4() & ~CR4_PGE);
	write_cr4(read_cr4() | CR4_PGE);
	check_eq(rd(VA(16)), 0xaaaa, "global page: new mapping after CR4.PGE toggle");
	write_cr4(read_cr4() & ~CR4_PGE);
	unmap_page(VA(16));
	expect_pf(access(VA(16), READ), 0, VA(16), "unmapped after INVLPG");
}

/* 4.10.1: PCIDs. MOV CR3 with bit 63 clear invalidates the new PCID's entries;
 * INVPCID type 0 invalidates one address for one PCID. */
static void pcid(void)
{
	if (!has_feature(F_PCID)) {
		skip("PCID", "CPUID.01H:ECX[17] clear");
		return;
	}
	uint64_t a = (uintptr_t)alloc_page(), b = (uintptr_t)alloc_page();
	uint64_t cr3 = read_cr3() & PTE_ADDR;
	wr(a, 0xaaaa);
	wr(b, 0xbbbb);
	map_page(VA(18), a, PTE_P | PTE_W);
	write_cr4(read_cr4() | CR4_PCIDE);
	write_cr3(cr3 | 1);
	check_eq(rd(VA(18)), 0xaaaa, "PCID 1: initial mapping");
	*pte_lookup(VA(18), 0) = b | PTE_P | PTE_W;
	write_cr3(cr3 | 2);
	write_cr3(cr3 | 1); /* bit 63 clear: PCID 1 entries invalidated */
	check_eq(rd(VA(18)), 0xbbbb, "PCID 1: new mapping after MOV CR3 without no-flush bit");
	if (has_feature(F_INVPCID)) {
		*pte_lookup(VA(18), 0) = a | PTE_P | PTE_W;
		struct { uint64_t pcid, addr; } d = { 1, VA(18) };
		__asm__ volatile("invpcid %0, %1" ::"m"(d), "r"(0ull) : "memory");
		check_eq(rd(VA(18)), 0xaaaa, "INVPCID type 0: new mapping for that address");
	} else {
		skip("INVPCID", "CPUID.(EAX=07H,ECX=0):EBX[10] clear");
	}
	write_cr3(cr3);
	write_cr4(read_cr4() & ~CR4_PCIDE);
	flush_tlb_all();
}

int main(void)
{
	sizes();
	accessed_dirty();
	rights();
	smep_smap();
	umip();
	reserved();
	tlb();
	pcid();
	return 0;
}
