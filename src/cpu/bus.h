/*
 * The machine's physical address space and I/O port space, as the silicon sees it.
 *
 * RAM is one host allocation. MMIO and port-I/O regions dispatch to device callbacks.
 * The bus also tracks which RAM pages hold decoded code so that a write to such a page
 * invalidates the decoded form (self- and cross-modifying code).
 *
 * Single-threaded by design: all vCPUs of a machine run round-robin on one host thread
 * (see docs/architecture.md), so nothing here locks.
 */
#ifndef TURTLES_CPU_BUS_H
#define TURTLES_CPU_BUS_H

#include "cpu/types.h"

struct io_ops {
	/* size is 1, 2 or 4. Unmapped ports read as all-ones. */
	uint32_t (*read)(void *opaque, uint16_t port, int size);
	void (*write)(void *opaque, uint16_t port, int size, uint32_t value);
};

struct mmio_ops {
	/* off is relative to the region base; size is 1, 2, 4 or 8. */
	uint64_t (*read)(void *opaque, uint64_t off, int size);
	void (*write)(void *opaque, uint64_t off, int size, uint64_t value);
};

#define BUS_MAX_IO_REGIONS 64
#define BUS_MAX_MMIO_REGIONS 32

struct bus_io_region {
	uint16_t base, count;
	const struct io_ops *ops;
	void *opaque;
};

struct bus_mmio_region {
	gpa_t base;
	uint64_t size;
	const struct mmio_ops *ops;
	void *opaque;
};

struct bus {
	uint8_t *ram;       /* host memory backing [0, ram_size) minus holes */
	uint64_t ram_size;  /* bytes */
	uint64_t ram_pages;
	/* Per RAM page: generation, bumped when a page that holds decoded code is written. */
	uint32_t *page_gen;
	/* Per RAM page: 1 if decoded code was taken from it since its last write. */
	uint8_t *code_page;
	/* Called when a page becomes a code page, so CPUs drop fast write paths to it. */
	void (*code_page_hook)(void *opaque, uint64_t pfn);
	void *code_page_opaque;

	uint8_t io_map[65536]; /* port -> region index + 1, 0 = unmapped */
	struct bus_io_region io[BUS_MAX_IO_REGIONS];
	int n_io;
	struct bus_mmio_region mmio[BUS_MAX_MMIO_REGIONS];
	int n_mmio;
	/* Below this address no MMIO region overlays RAM: bus_read/bus_write go straight
	 * to RAM without searching the regions (page walks, DMA). */
	gpa_t mmio_low;
};

/* Returns 0, or -1 with errno set if the host cannot allocate the RAM. */
int bus_init(struct bus *bus, uint64_t ram_bytes);
void bus_destroy(struct bus *bus);

int bus_map_io(struct bus *bus, uint16_t base, uint16_t count, const struct io_ops *ops,
	       void *opaque);
int bus_map_mmio(struct bus *bus, gpa_t base, uint64_t size, const struct mmio_ops *ops,
		 void *opaque);

/* Host pointer for RAM at gpa, or NULL if gpa is not RAM (MMIO or a hole). */
static inline uint8_t *bus_ram_ptr(struct bus *bus, gpa_t gpa)
{
	return gpa < bus->ram_size ? bus->ram + gpa : NULL;
}

/* True if [gpa, gpa+len) lies in one MMIO region; fills region. */
struct bus_mmio_region *bus_find_mmio(struct bus *bus, gpa_t gpa);

/* Physical accesses of 1, 2, 4 or 8 bytes that do not cross a page. RAM, MMIO, or
 * unmapped (reads all-ones, writes dropped). Writes honour code-page invalidation. */
uint64_t bus_read(struct bus *bus, gpa_t gpa, int size);
void bus_write(struct bus *bus, gpa_t gpa, int size, uint64_t value);

/* Copy to/from guest-physical memory (loaders, devices doing DMA). Returns -1 if any part
 * is not RAM. */
int bus_copy_to(struct bus *bus, gpa_t gpa, const void *src, uint64_t len);
int bus_copy_from(struct bus *bus, void *dst, gpa_t gpa, uint64_t len);

uint32_t bus_in(struct bus *bus, uint16_t port, int size);
void bus_out(struct bus *bus, uint16_t port, int size, uint32_t value);

/* Decoded-code tracking. */
void bus_mark_code_page(struct bus *bus, uint64_t pfn);
/* Call after any write to RAM page pfn that did not go through bus_write. */
static inline void bus_note_write(struct bus *bus, uint64_t pfn)
{
	if (pfn < bus->ram_pages && bus->code_page[pfn]) {
		bus->code_page[pfn] = 0;
		bus->page_gen[pfn]++;
	}
}

#endif
