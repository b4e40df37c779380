/*
 * L0's walk of the guest's own paging (to fetch an instruction it emulates), against
 * page tables built here in guest RAM: 32-bit paging with 4-KByte and 4-MByte pages
 * (SDM 4.3, Tables 4-4..4-6), PAE with a 2-MByte page (SDM 4.4), 4-level paging with
 * 4-KByte, 2-MByte and 1-GByte pages (SDM 4.5), not-present entries, paging off.
 */
#include "hv_harness.h"

#define P 1ULL
#define RW 2ULL
#define PS 0x80ULL

static void put64(gpa_t pa, uint64_t v) { memcpy(SB.ram + pa, &v, 8); }
static void put32(gpa_t pa, uint32_t v) { memcpy(SB.ram + pa, &v, 4); }

static bool walk(const struct hv_guest_paging *pg, uint64_t la, gpa_t *pa)
{
	return hv_gwalk(&GB, pg, la, false, pa);
}

static void test_paging_off(void)
{
	struct hv_guest_paging pg = { .cr0 = CR0_PE };
	gpa_t pa;
	CHECK(walk(&pg, 0x12345, &pa));
	CHECK_EQ(pa, 0x12345);
}

static void test_32bit(void)
{
	/* CR3 = 0x100000: PDE 0 -> PT at 0x101000, PTE 5 -> 0x345000; PDE 1: 4-MByte page
	 * at 0x800000 (PSE). */
	put32(0x100000, 0x101000 | P | RW);
	put32(0x101000 + 5 * 4, 0x345000 | P);
	put32(0x100000 + 1 * 4, 0x800000 | P | PS);
	struct hv_guest_paging pg = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x100000, .cr4 = CR4_PSE };
	gpa_t pa;
	CHECK(walk(&pg, 0x5ABC, &pa));
	CHECK_EQ(pa, 0x345ABC);
	CHECK(walk(&pg, 0x400000 + 0x12345, &pa));
	CHECK_EQ(pa, 0x800000 + 0x12345);
	CHECK(!walk(&pg, 0x6000, &pa)); /* PTE 6 not present */
	CHECK(!walk(&pg, 0x800000, &pa)); /* PDE 2 not present */
}

static void test_pae(void)
{
	/* CR3 = 0x110000 (32-byte aligned PDPT): PDPTE 1 -> PD at 0x111000, PDE 3: 2 MiB
	 * at 0xA00000. Linear 0x40000000 + 3 * 2 MiB + 0x1234. */
	put64(0x110000 + 8, 0x111000 | P);
	put64(0x111000 + 3 * 8, 0xA00000 | P | RW | PS);
	struct hv_guest_paging pg = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x110000, .cr4 = CR4_PAE };
	gpa_t pa;
	CHECK(walk(&pg, 0x40000000 + 3 * 0x200000 + 0x1234, &pa));
	CHECK_EQ(pa, 0xA01234);
	CHECK(!walk(&pg, 0x80000000, &pa)); /* PDPTE 2 not present */
}

static void test_4level(void)
{
	/* PML4 at 0x120000; entry 1 (linear 0x8000000000) -> PDPT 0x121000. PDPTE 0 -> PD
	 * 0x122000 with PDE 0 -> PT 0x123000 (PTE 7 -> 0x456000) and PDE 1 = 2 MiB at
	 * 0xC00000; PDPTE 1 = 1-GByte page at 0 (SDM 4.5 Table 4-16). */
	put64(0x120000 + 8, 0x121000 | P | RW);
	put64(0x121000, 0x122000 | P | RW);
	put64(0x121000 + 8, 0x0 | P | RW | PS);
	put64(0x122000, 0x123000 | P | RW);
	put64(0x122000 + 8, 0xC00000 | P | RW | PS);
	put64(0x123000 + 7 * 8, 0x456000 | P);
	struct hv_guest_paging pg = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x120000,
				      .cr4 = CR4_PAE, .efer = EFER_LME | EFER_LMA };
	uint64_t base = 0x8000000000ULL;
	gpa_t pa;
	CHECK(walk(&pg, base + 0x7FF8, &pa));
	CHECK_EQ(pa, 0x456FF8);
	CHECK(walk(&pg, base + 0x200000 + 0xABCDE, &pa));
	CHECK_EQ(pa, 0xCABCDE);
	CHECK(walk(&pg, base + 0x40000000ULL + 0x123456, &pa));
	CHECK_EQ(pa, 0x123456);
	CHECK(!walk(&pg, base + 0x8000, &pa));     /* PTE 8 not present */
	CHECK(!walk(&pg, 0x1000, &pa));            /* PML4E 0 not present */
	/* A table outside guest RAM is "not mapped", never a host access. */
	put64(0x123000 + 9 * 8, 0); /* keep PTE 9 clear */
	put64(0x122000 + 2 * 8, 0x7FFFF000ULL | P);
	CHECK(!walk(&pg, base + 0x400000, &pa));
}

/* Reading through the walk: an instruction fetch across a page boundary. */
static void test_copy(void)
{
	struct hv_vcpu *v = vcpu(0);
	guest_flat32(v, 0);
	memcpy(SB.ram + 0x7FFE, "\x11\x22\x33\x44", 4);
	uint8_t buf[4] = { 0 };
	CHECK_EQ(hv_read_guest_linear(v, 0x7FFE, buf, 4), 4);
	CHECK_EQ(buf[0], 0x11);
	CHECK_EQ(buf[3], 0x44);
	/* Beyond guest RAM: device/unassigned bytes through the bus (all-ones). */
	CHECK_EQ(hv_read_guest_linear(v, GUEST_RAM, buf, 1), 1);
	CHECK_EQ(buf[0], 0xFF);
}

int main(void)
{
	hv_setup(1);
	test_paging_off();
	test_32bit();
	test_pae();
	test_4level();
	test_copy();
	hv_teardown(1);
	return report("hv/gwalk");
}
