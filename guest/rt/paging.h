/* paging.h - 4-level paging helpers (SDM Vol.3A 4.5, Figure 4-11 entry formats) */
#ifndef RT_PAGING_H
#define RT_PAGING_H

#include <stdint.h>

#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_U BIT(2)
#define PTE_PWT BIT(3)
#define PTE_PCD BIT(4)
#define PTE_A BIT(5)
#define PTE_D BIT(6)
#define PTE_PS BIT(7) /* in PDE/PDPTE: maps a 2 MiB / 1 GiB page */
#define PTE_G BIT(8)
#define PTE_NX BIT(63)
#define PTE_ADDR 0x000ffffffffff000ull

#define PF_P BIT(0)    /* SDM Vol.3A 4.7: 0 = not-present page, 1 = protection */
#define PF_W BIT(1)    /* write access */
#define PF_U BIT(2)    /* user-mode access */
#define PF_RSVD BIT(3) /* reserved bit set in a paging-structure entry */
#define PF_I BIT(4)    /* instruction fetch */
#define PF_PK BIT(5)

#define PAGE_4K 0x1000ull
#define PAGE_2M 0x200000ull
#define PAGE_1G 0x40000000ull

/* Level: 1 = PTE (4 KiB), 2 = PDE, 3 = PDPTE, 4 = PML4E. */
/* Leaf entry mapping va, or 0 if not mapped; *level receives its level. */
uint64_t *pte_lookup(uint64_t va, int *level);
/* Entry for va at `level`, creating tables and splitting larger pages on the way. */
uint64_t *pte_get(uint64_t va, int level);
void map_page(uint64_t va, uint64_t pa, uint64_t flags);
void map_large(uint64_t va, uint64_t pa, uint64_t flags, int level);
void unmap_page(uint64_t va);
/* Change the flags of va's leaf entry (whatever its size) and INVLPG. */
void pte_set_flags(uint64_t va, uint64_t set, uint64_t clear);
/* Reload CR3; also toggle CR4.PGE to drop global entries (SDM Vol.3A 4.10.4.1). */
void flush_tlb_all(void);
void paging_init(void);

#endif
