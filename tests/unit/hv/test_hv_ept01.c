/*
 * EPT01 as L0 builds it, read back in the architectural format the silicon walks
 * (SDM 30.3.2 Tables 30-1..30-6; EPTP SDM 26.6.11): identity map of guest RAM with
 * 2-MByte pages where aligned, 4-KByte pages at the edges, device pages left out,
 * write-back memory type in leaves (SDM 30.3.7), paging structures in L0's reserved
 * silicon RAM above the guest's.
 */
#include "hv_harness.h"

static uint64_t entry(hpa_t table, unsigned index)
{
	uint64_t e;
	memcpy(&e, SB.ram + table + index * 8, 8);
	return e;
}

#define ADDR(e) ((e) & 0x000FFFFFFFFFF000ULL)

static void test_eptp(void)
{
	uint64_t eptp = ept01_eptp(&VM->ept);
	CHECK_EQ(eptp & 7, 6);          /* SDM 26.6.11: bits 2:0 memory type WB (6) */
	CHECK_EQ((eptp >> 3) & 7, 3);   /* bits 5:3: page-walk length - 1 = 3 (4 levels) */
	CHECK_EQ(eptp & BIT(6), 0);     /* bit 6: A/D flags not enabled */
	CHECK(ADDR(eptp) >= GUEST_RAM); /* the PML4 lives in L0's pages, not the guest's */
	CHECK(ADDR(eptp) < SB.ram_size);
	uint64_t vmcs_eptp = hv_vmread(vcpu(0), VMCS_EPT_POINTER);
	CHECK_EQ(vmcs_eptp, eptp);
}

/* Walk by hand: the 2-MByte page at guest-physical 4 MiB. */
static void test_large_pages(void)
{
	hpa_t pml4 = ADDR(ept01_eptp(&VM->ept));
	uint64_t e4 = entry(pml4, 0);
	CHECK_EQ(e4 & 7, 7);            /* non-leaf: read/write/execute (SDM Table 30-1) */
	uint64_t e3 = entry(ADDR(e4), 0);
	CHECK_EQ(e3 & 7, 7);
	CHECK_EQ(e3 & BIT(7), 0);       /* PDPTE references a PD (SDM Table 30-3) */
	uint64_t e2 = entry(ADDR(e3), 2); /* 4 MiB / 2 MiB = index 2 */
	CHECK_EQ(e2 & 7, 7);            /* RWX */
	CHECK_EQ(e2 & BIT(7), BIT(7));  /* bit 7: maps a 2-MByte page (Table 30-4) */
	CHECK_EQ((e2 >> 3) & 7, 6);     /* bits 5:3: EPT memory type WB */
	CHECK_EQ(e2 & BIT(6), BIT(6));  /* ignore PAT */
	CHECK_EQ(ADDR(e2), 4ULL << 20); /* identity */
}

static void test_lookup(void)
{
	hpa_t hpa = 0;
	uint64_t perm = 0;
	CHECK(ept01_lookup(&VM->ept, 0x123456, &hpa, &perm));
	CHECK_EQ(hpa, 0x123456);
	CHECK_EQ(perm, EPT_READ | EPT_WRITE | EPT_EXEC);
	CHECK(ept01_lookup(&VM->ept, GUEST_RAM - 1, &hpa, &perm));
	CHECK_EQ(hpa, GUEST_RAM - 1);
	/* Beyond the guest's RAM: L0's own pages must be invisible to the guest. */
	CHECK(!ept01_lookup(&VM->ept, GUEST_RAM, &hpa, &perm));
	/* Device pages are not mapped: their accesses are EPT violations (30.3.3.2). */
	CHECK(!ept01_lookup(&VM->ept, DEV_MMIO, &hpa, &perm));
	CHECK(!ept01_lookup(&VM->ept, 0xFEE00000ULL, &hpa, &perm));
	CHECK(!ept01_lookup(&VM->ept, 0xFEC00000ULL, &hpa, &perm));
}

/* 4-KByte pages where the range is not 2-MByte aligned; a hole stays a hole. */
static void test_small_pages(void)
{
	struct hv_pool pool;
	struct ept01 e;
	hpa_t base = VM->pool.next + 64 * HV_PAGE; /* past the VM's own pages */
	CHECK_EQ(hv_pool_init(&pool, &SB, base, 16 * HV_PAGE), 0);
	CHECK_EQ(ept01_init(&e, &pool), 0);
	CHECK_EQ(ept01_map(&e, 0x1FF000, 0x1FF000, 0x3000, EPT_READ | EPT_EXEC), 0);
	hpa_t hpa;
	uint64_t perm;
	CHECK(ept01_lookup(&e, 0x1FF800, &hpa, &perm));
	CHECK_EQ(hpa, 0x1FF800);
	CHECK_EQ(perm, EPT_READ | EPT_EXEC); /* execute-only style permissions kept */
	CHECK(ept01_lookup(&e, 0x201FFF, &hpa, &perm));
	CHECK(!ept01_lookup(&e, 0x202000, &hpa, &perm));
	CHECK(!ept01_lookup(&e, 0x1FE000, &hpa, &perm));
	/* A PT holds the 4K leaves: the PDE for 0x200000 is not a large page. */
	hpa_t pml4 = e.pml4;
	uint64_t pd = ADDR(entry(ADDR(entry(pml4, 0)), 0));
	CHECK_EQ(entry(pd, 1) & BIT(7), 0);
	CHECK_EQ(ept01_map(&e, 0x1000, 0x1000, 0x800, EPT_READ), -1); /* not page-sized */
	/* The pool runs out cleanly: 16 pages cannot map 64 scattered 4K pages. */
	int failed = 0;
	for (int i = 0; i < 64 && !failed; i++)
		failed = ept01_map(&e, (uint64_t)i << 30, 0, HV_PAGE, EPT_READ) != 0;
	CHECK(failed);
}

/* A device region inside the guest's RAM range punches a hole in EPT01; the RAM on
 * either side stays mapped, with large pages where it can. */
static void test_mmio_hole(void)
{
	struct bus gb2;
	hv_guest_bus_init(&gb2, &SB, GUEST_RAM);
	CHECK(gb2.ram == SB.ram && gb2.page_gen == SB.page_gen && gb2.ram_size == GUEST_RAM);
	CHECK_EQ(bus_map_mmio(&gb2, 0x600000, 0x1000, &DEV_MMIO_OPS, NULL), 0);
	struct hv_pool pool;
	struct ept01 e;
	CHECK_EQ(hv_pool_init(&pool, &SB, VM->pool.next + 128 * HV_PAGE, 32 * HV_PAGE), 0);
	CHECK_EQ(ept01_init(&e, &pool), 0);
	CHECK_EQ(ept01_map_guest_ram(&e, &gb2, GUEST_RAM), 0);
	hpa_t hpa;
	uint64_t perm;
	CHECK(!ept01_lookup(&e, 0x600000, &hpa, &perm));
	CHECK(!ept01_lookup(&e, 0x600FFF, &hpa, &perm));
	CHECK(ept01_lookup(&e, 0x5FFFFF, &hpa, &perm));
	CHECK(ept01_lookup(&e, 0x601000, &hpa, &perm));
	CHECK_EQ(hpa, 0x601000);
	CHECK(ept01_lookup(&e, 0x800000, &hpa, &perm));
	uint64_t pd = ADDR(entry(ADDR(entry(e.pml4, 0)), 0));
	CHECK_EQ(entry(pd, 4) & BIT(7), BIT(7)); /* 8 MiB: a 2-MByte page again */
	CHECK_EQ(entry(pd, 3) & BIT(7), 0);      /* 6 MiB: split around the hole */
	CHECK(!ept01_lookup(&e, GUEST_RAM, &hpa, &perm));
}

int main(void)
{
	hv_setup(1);
	test_eptp();
	test_large_pages();
	test_lookup();
	test_small_pages();
	test_mmio_hole();
	hv_teardown(1);
	return report("hv/ept01");
}
