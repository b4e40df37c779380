/* The physical address space and the I/O port space (see bus.h). */
#include "cpu/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

int bus_init(struct bus *bus, uint64_t ram_bytes)
{
	memset(bus, 0, sizeof(*bus));
	ram_bytes = (ram_bytes + PAGE_SIZE - 1) & PAGE_MASK;
	/* mmap gives zeroed, lazily committed memory: a 4 GiB guest costs nothing until
	 * touched. */
	void *ram = mmap(NULL, ram_bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED)
		return -1;
	bus->ram = ram;
	bus->ram_size = ram_bytes;
	bus->ram_pages = ram_bytes >> PAGE_SHIFT;
	bus->mmio_low = UINT64_MAX;
	bus->page_gen = calloc(bus->ram_pages, sizeof(*bus->page_gen));
	bus->code_page = calloc(bus->ram_pages, sizeof(*bus->code_page));
	if (!bus->page_gen || !bus->code_page) {
		bus_destroy(bus);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void bus_destroy(struct bus *bus)
{
	if (bus->ram)
		munmap(bus->ram, bus->ram_size);
	free(bus->page_gen);
	free(bus->code_page);
	bus->ram = NULL;
	bus->page_gen = NULL;
	bus->code_page = NULL;
}

int bus_map_io(struct bus *bus, uint16_t base, uint16_t count, const struct io_ops *ops,
	       void *opaque)
{
	if (bus->n_io >= BUS_MAX_IO_REGIONS || count == 0 || base + count > 65536)
		return -1;
	for (unsigned p = base; p < (unsigned)base + count; p++)
		if (bus->io_map[p])
			return -1;
	bus->io[bus->n_io] = (struct bus_io_region){ base, count, ops, opaque };
	bus->n_io++;
	for (unsigned p = base; p < (unsigned)base + count; p++)
		bus->io_map[p] = (uint8_t)bus->n_io;
	return 0;
}

int bus_map_mmio(struct bus *bus, gpa_t base, uint64_t size, const struct mmio_ops *ops,
		 void *opaque)
{
	if (bus->n_mmio >= BUS_MAX_MMIO_REGIONS || size == 0)
		return -1;
	for (int i = 0; i < bus->n_mmio; i++) {
		const struct bus_mmio_region *r = &bus->mmio[i];
		if (base < r->base + r->size && r->base < base + size)
			return -1;
	}
	bus->mmio[bus->n_mmio++] = (struct bus_mmio_region){ base, size, ops, opaque };
	if (base < bus->mmio_low)
		bus->mmio_low = base;
	return 0;
}

struct bus_mmio_region *bus_find_mmio(struct bus *bus, gpa_t gpa)
{
	for (int i = 0; i < bus->n_mmio; i++) {
		struct bus_mmio_region *r = &bus->mmio[i];
		if (gpa - r->base < r->size)
			return r;
	}
	return NULL;
}

/* MMIO regions take precedence over RAM so that a device can overlay it. */
uint64_t bus_read(struct bus *bus, gpa_t gpa, int size)
{
	if (likely(gpa + size <= bus->mmio_low && gpa + size <= bus->ram_size)) {
		uint64_t v = 0;
		memcpy(&v, bus->ram + gpa, size);
		return v;
	}
	struct bus_mmio_region *r = bus_find_mmio(bus, gpa);
	if (r)
		return r->ops->read(r->opaque, gpa - r->base, size);
	uint8_t *p = bus_ram_ptr(bus, gpa);
	if (!p || gpa + size > bus->ram_size)
		return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
	uint64_t v = 0;
	memcpy(&v, p, size);
	return v;
}

void bus_write(struct bus *bus, gpa_t gpa, int size, uint64_t value)
{
	struct bus_mmio_region *r = bus_find_mmio(bus, gpa);
	if (r) {
		r->ops->write(r->opaque, gpa - r->base, size, value);
		return;
	}
	uint8_t *p = bus_ram_ptr(bus, gpa);
	if (!p || gpa + size > bus->ram_size)
		return;
	memcpy(p, &value, size);
	bus_note_write(bus, gpa >> PAGE_SHIFT);
	bus_note_write(bus, (gpa + size - 1) >> PAGE_SHIFT);
}

int bus_copy_to(struct bus *bus, gpa_t gpa, const void *src, uint64_t len)
{
	if (gpa > bus->ram_size || len > bus->ram_size - gpa)
		return -1;
	memcpy(bus->ram + gpa, src, len);
	for (uint64_t pfn = gpa >> PAGE_SHIFT; len && pfn <= (gpa + len - 1) >> PAGE_SHIFT;
	     pfn++)
		bus_note_write(bus, pfn);
	return 0;
}

int bus_copy_from(struct bus *bus, void *dst, gpa_t gpa, uint64_t len)
{
	if (gpa > bus->ram_size || len > bus->ram_size - gpa)
		return -1;
	memcpy(dst, bus->ram + gpa, len);
	return 0;
}

uint32_t bus_in(struct bus *bus, uint16_t port, int size)
{
	uint8_t idx = bus->io_map[port];
	if (!idx)
		return size == 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
	const struct bus_io_region *r = &bus->io[idx - 1];
	return r->ops->read(r->opaque, port, size);
}

void bus_out(struct bus *bus, uint16_t port, int size, uint32_t value)
{
	uint8_t idx = bus->io_map[port];
	if (!idx)
		return;
	const struct bus_io_region *r = &bus->io[idx - 1];
	r->ops->write(r->opaque, port, size, value);
}

void bus_mark_code_page(struct bus *bus, uint64_t pfn)
{
	if (pfn >= bus->ram_pages || bus->code_page[pfn])
		return;
	bus->code_page[pfn] = 1;
	if (bus->code_page_hook)
		bus->code_page_hook(bus->code_page_opaque, pfn);
}
