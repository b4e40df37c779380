/* multiboot.h - Multiboot v1 boot information (Multiboot Specification 0.6.96, 3.3) */
#ifndef RT_MULTIBOOT_H
#define RT_MULTIBOOT_H

#include <stdint.h>

#define MB_BOOT_MAGIC 0x2BADB002u

#define MBI_MEM BIT(0)
#define MBI_CMDLINE BIT(2)
#define MBI_MMAP BIT(6)
#define MBI_LOADER_NAME BIT(9)

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper; /* KiB below 1 MiB / above 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
} __attribute__((packed));

/* "size" does not count itself: next entry at (char *)e + e->size + 4 */
struct mb_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type; /* 1 = available RAM */
} __attribute__((packed));

extern uint32_t mb_magic, mb_info; /* EAX/EBX at entry, saved by boot.S */

static inline struct mb_info *multiboot_info(void) { return (struct mb_info *)(uintptr_t)mb_info; }

#endif
