/*
 * EPT01: L0's extended page tables for its guest (SDM 30.3). Four levels (PML4,
 * PDPT, PD, PT; SDM 30.3.2 Tables 30-1..30-6); guest RAM is identity-mapped onto the
 * silicon's RAM with write-back memory type, 2-MByte pages where possible. Device
 * pages (xAPIC, IOAPIC, HPET, ...) are left unmapped: the guest's accesses to them
 * are EPT violations (SDM 30.3.3.2) that L0 completes by emulation.
 */
#include "hv/hv_internal.h"

#define EPT_ADDR_MASK 0x000FFFFFFFFFF000ULL /* bits 51:12 (N = MAXPHYADDR below 52) */
#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXEC)
#define SIZE_2M (1ULL << 21)

int ept01_init(struct ept01 *e, struct hv_pool *pool)
{
	e->pool = pool;
	e->pml4 = hv_pool_alloc(pool);
	return e->pml4 ? 0 : -1;
}

/* SDM 26.6.11: EPTP bits 2:0 memory type (6 = WB), 5:3 walk length - 1 (3), bit 6
 * A/D flags (off: L0 needs neither), 51:12 the PML4 table. */
uint64_t ept01_eptp(const struct ept01 *e)
{
	return e->pml4 | EPTP_MEMTYPE_WB | (3ULL << EPTP_WALK_LENGTH_SHIFT);
}

static uint64_t *table(const struct ept01 *e, hpa_t t)
{
	return hv_pool_ptr(e->pool, t);
}

/* Index of gpa in the table at level lvl (4 = PML4 ... 1 = PT), SDM 30.3.2. */
static unsigned idx(gpa_t gpa, int lvl)
{
	return (unsigned)(gpa >> (12 + 9 * (lvl - 1))) & 511;
}

/* The next-level table under entry *ent, allocated if absent. A non-leaf entry has
 * R/W/X all set so that the leaf alone decides (SDM 30.3.3: access rights are the
 * AND of every level). */
static hpa_t next_table(struct ept01 *e, uint64_t *ent)
{
	if (*ent & EPT_RWX)
		return (*ent & EPT_LARGE) ? 0 : *ent & EPT_ADDR_MASK;
	hpa_t t = hv_pool_alloc(e->pool);
	if (t)
		*ent = t | EPT_RWX;
	return t;
}

/* Leaf entry: permissions, memory type WB in bits 5:3 (SDM 30.3.7), ignore PAT. */
static uint64_t leaf(hpa_t hpa, uint64_t perm, bool large)
{
	return hpa | (perm & EPT_RWX) | ((uint64_t)EPTP_MEMTYPE_WB << EPT_MEMTYPE_SHIFT) |
	       EPT_IGNORE_PAT | (large ? EPT_LARGE : 0);
}

static int map_one(struct ept01 *e, gpa_t gpa, hpa_t hpa, uint64_t perm, bool large)
{
	hpa_t t = e->pml4;
	for (int lvl = 4; lvl > (large ? 2 : 1); lvl--) {
		t = next_table(e, &table(e, t)[idx(gpa, lvl)]);
		if (!t)
			return -1; /* out of pool pages, or a large page is in the way */
	}
	table(e, t)[idx(gpa, large ? 2 : 1)] = leaf(hpa, perm, large);
	return 0;
}

int ept01_map(struct ept01 *e, gpa_t gpa, hpa_t hpa, uint64_t size, uint64_t perm)
{
	if ((gpa | hpa | size) & (HV_PAGE - 1))
		return -1;
	while (size) {
		bool large = !((gpa | hpa) & (SIZE_2M - 1)) && size >= SIZE_2M;
		if (map_one(e, gpa, hpa, perm, large))
			return -1;
		uint64_t step = large ? SIZE_2M : HV_PAGE;
		gpa += step;
		hpa += step;
		size -= step;
	}
	return 0;
}

bool ept01_lookup(const struct ept01 *e, gpa_t gpa, hpa_t *hpa, uint64_t *perm)
{
	hpa_t t = e->pml4;
	for (int lvl = 4; lvl >= 1; lvl--) {
		uint64_t ent = table(e, t)[idx(gpa, lvl)];
		if (!(ent & EPT_RWX))
			return false;
		if (lvl == 1 || (ent & EPT_LARGE)) {
			uint64_t span = 1ULL << (12 + 9 * (lvl - 1));
			*hpa = (ent & EPT_ADDR_MASK & ~(span - 1)) | (gpa & (span - 1));
			*perm = ent & EPT_RWX;
			return true;
		}
		t = ent & EPT_ADDR_MASK;
	}
	return false;
}

/* Is [gpa, gpa + 4K) covered by a device region of the guest bus? */
static bool page_is_mmio(const struct bus *guest, gpa_t gpa)
{
	for (int i = 0; i < guest->n_mmio; i++) {
		const struct bus_mmio_region *r = &guest->mmio[i];
		if (r->base < gpa + HV_PAGE && gpa < r->base + r->size)
			return true;
	}
	return false;
}

int ept01_map_guest_ram(struct ept01 *e, const struct bus *guest, uint64_t guest_ram)
{
	gpa_t run = 0; /* start of the current run of RAM pages */
	for (gpa_t gpa = 0; gpa <= guest_ram; gpa += HV_PAGE) {
		if (gpa < guest_ram && !page_is_mmio(guest, gpa))
			continue;
		if (gpa > run && ept01_map(e, run, run, gpa - run, EPT_READ | EPT_WRITE | EPT_EXEC))
			return -1;
		run = gpa + HV_PAGE;
	}
	return 0;
}
