/*
 * Test-only implementation of the bus API of src/cpu/bus.h, for building the device
 * tests before (or without) the real turtles_cpu library. Follows the header's
 * contract: unmapped ports and addresses read all-ones, writes are dropped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/bus.h"

int bus_init(struct bus *bus, uint64_t ram_bytes)
{
	memset(bus, 0, sizeof(*bus));
	bus->ram_size = ram_bytes;
	bus->ram_pages = (ram_bytes + PAGE_SIZE - 1) >> PAGE_SHIFT;
	bus->ram = calloc(1, ram_bytes ? ram_bytes : 1);
	bus->page_gen = calloc(bus->ram_pages + 1, sizeof(*bus->page_gen));
	bus->code_page = calloc(bus->ram_pages + 1, 1);
	if (!bus->ram || !bus->page_gen || !bus->code_page) {
		bus_destroy(bus);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void bus_destroy(struct bus *bus)
{
	free(bus->ram);
	free(bus->page_gen);
	free(bus->code_page);
	bus->ram = NULL;
	bus->page_gen = NULL;
	bus->code_page = NULL;
}

int bus_map_io(struct bus *bus, uint16_t base, uint16_t count, const struct io_ops *ops,
	       void *opaque)
{
	if (bus->n_io >= BUS_MAX_IO_REGIONS || (uint32_t)base + count > 65536)
		return -1;
	for (uint32_t p = base; p < (uint32_t)base + count; p++)
		if (bus->io_map[p])
			return -1;
	bus->io[bus->n_io] = (struct bus_io_region){ base, count, ops, opaque };
	bus->n_io++;
	for (uint32_t p = base; p < (uint32_t)base + count; p++)
		bus->io_map[p] = (uint8_t)bus->n_io;
	return 0;
}

int bus_map_mmio(struct bus *bus, gpa_t base, uint64_t size, const struct mmio_ops *ops,
		 void *opaque)
{
	if (bus->n_mmio >= BUS_MAX_MMIO_REGIONS)
		return -1;
	bus->mmio[bus->n_mmio++] = (struct bus_mmio_region){ base, size, ops, opaque };
	return 0;
}

struct bus_mmio_region *bus_find_mmio(struct bus *bus, gpa_t gpa)
{
	for (int i = 0; i < bus->n_mmio; i++)
		if (gpa >= bus->mmio[i].base && gpa - bus->mmio[i].base < bus->mmio[i].size)
			return &bus->mmio[i];
	return NULL;
}

static uint64_t size_mask(int size)
{
	return size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

uint64_t bus_read(struct bus *bus, gpa_t gpa, int size)
{
	struct bus_mmio_region *r = bus_find_mmio(bus, gpa);
	uint64_t v = 0;
	if (r)
		return r->ops->read(r->opaque, gpa - r->base, size) & size_mask(size);
	if (gpa + (uint64_t)size <= bus->ram_size) {
		memcpy(&v, bus->ram + gpa, (size_t)size);
		return v;
	}
	return size_mask(size);
}

void bus_write(struct bus *bus, gpa_t gpa, int size, uint64_t value)
{
	struct bus_mmio_region *r = bus_find_mmio(bus, gpa);
	if (r) {
		r->ops->write(r->opaque, gpa - r->base, size, value & size_mask(size));
	} else if (gpa + (uint64_t)size <= bus->ram_size) {
		memcpy(bus->ram + gpa, &value, (size_t)size);
		bus_note_write(bus, gpa >> PAGE_SHIFT);
	}
}

int bus_copy_to(struct bus *bus, gpa_t gpa, const void *src, uint64_t len)
{
	if (gpa + len > bus->ram_size || gpa + len < gpa)
		return -1;
	memcpy(bus->ram + gpa, src, len);
	for (uint64_t p = gpa >> PAGE_SHIFT; len && p <= (gpa + len - 1) >> PAGE_SHIFT; p++)
		bus_note_write(bus, p);
	return 0;
}

int bus_copy_from(struct bus *bus, void *dst, gpa_t gpa, uint64_t len)
{
	if (gpa + len > bus->ram_size || gpa + len < gpa)
		return -1;
	memcpy(dst, bus->ram + gpa, len);
	return 0;
}

uint32_t bus_in(struct bus *bus, uint16_t port, int size)
{
	int idx = bus->io_map[port];
	if (!idx)
		return (uint32_t)size_mask(size);
	struct bus_io_region *r = &bus->io[idx - 1];
	return r->ops->read(r->opaque, port, size) & (uint32_t)size_mask(size);
}

void bus_out(struct bus *bus, uint16_t port, int size, uint32_t value)
{
	int idx = bus->io_map[port];
	if (idx) {
		struct bus_io_region *r = &bus->io[idx - 1];
		r->ops->write(r->opaque, port, size, value & (uint32_t)size_mask(size));
	}
}

void bus_mark_code_page(struct bus *bus, uint64_t pfn)
{
	if (pfn < bus->ram_pages)
		bus->code_page[pfn] = 1;
}
