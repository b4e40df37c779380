/* paging.c - build and edit the 4-level tables rooted at CR3 */
#include "rt.h"

static uint64_t *root(void) { return (uint64_t *)(uintptr_t)(read_cr3() & PTE_ADDR); }
static int index_of(uint64_t va, int level) { return (va >> (12 + 9 * (level - 1))) & 511; }
static uint64_t *table_of(uint64_t e) { return (uint64_t *)(uintptr_t)(e & PTE_ADDR); }

/* Replace a large leaf at `level` (2 or 3) by a table of 512 smaller leaves with the
 * same attributes. Bit 12 of a large entry is PAT and must not reach the address. */
static void split(uint64_t *e, int level)
{
	uint64_t *t = alloc_page();
	uint64_t base = *e & PTE_ADDR & ~0x1000ull;
	uint64_t fl = *e & ~PTE_ADDR & ~0x1000ull;
	uint64_t step = level == 3 ? PAGE_2M : PAGE_4K;

	if (level == 2)
		fl &= ~PTE_PS;
	for (int i = 0; i < 512; i++)
		t[i] = (base + i * step) | fl;
	*e = (uint64_t)(uintptr_t)t | PTE_P | PTE_W | PTE_U;
	flush_tlb_all();
}

uint64_t *pte_get(uint64_t va, int level)
{
	uint64_t *t = root();

	for (int l = 4; l > level; l--) {
		uint64_t *e = &t[index_of(va, l)];
		if (!(*e & PTE_P))
			*e = (uint64_t)(uintptr_t)alloc_page() | PTE_P | PTE_W | PTE_U;
		else if (l <= 3 && (*e & PTE_PS))
			split(e, l);
		t = table_of(*e);
	}
	return &t[index_of(va, level)];
}

uint64_t *pte_lookup(uint64_t va, int *level)
{
	uint64_t *t = root();

	for (int l = 4; l >= 1; l--) {
		uint64_t *e = &t[index_of(va, l)];
		if (!(*e & PTE_P))
			return 0;
		if (l == 1 || (l <= 3 && (*e & PTE_PS))) {
			if (level)
				*level = l;
			return e;
		}
		t = table_of(*e);
	}
	return 0;
}

void map_page(uint64_t va, uint64_t pa, uint64_t flags)
{
	*pte_get(va, 1) = (pa & PTE_ADDR) | flags;
	invlpg(va);
}

void map_large(uint64_t va, uint64_t pa, uint64_t flags, int level)
{
	*pte_get(va, level) = (pa & PTE_ADDR) | flags | PTE_PS;
	invlpg(va);
}

void unmap_page(uint64_t va)
{
	uint64_t *e = pte_lookup(va, 0);
	if (e)
		*e = 0;
	invlpg(va);
}

void pte_set_flags(uint64_t va, uint64_t set, uint64_t clear)
{
	uint64_t *e = pte_lookup(va, 0);
	if (e)
		*e = (*e & ~clear) | set;
	invlpg(va);
}

void flush_tlb_all(void)
{
	uint64_t cr4 = read_cr4();
	if (cr4 & CR4_PGE) {
		write_cr4(cr4 & ~CR4_PGE);
		write_cr4(cr4);
	} else {
		write_cr3(read_cr3());
	}
}

/* Map the .user output section with U/S=1 (4 KiB pages); all else stays supervisor. */
void paging_init(void)
{
	for (uint64_t va = (uintptr_t)__user_start; va < (uintptr_t)__user_end; va += PAGE_4K)
		map_page(va, va, PTE_P | PTE_W | PTE_U);
}
