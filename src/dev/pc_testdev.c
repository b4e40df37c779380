/* pc-testdev: see pc_testdev.h. */
#include "dev/pc_testdev.h"

#include <string.h>

static uint32_t width_mask(int size)
{
	return size == 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
}

/* 0xe0-0xe3 and 0xe8-0xeb: access of size bytes at byte offset port & 3 of data. An
 * access running past byte 3 keeps only the bytes inside the register. */
static uint32_t testdev_io_read(void *opaque, uint16_t port, int size)
{
	struct pc_testdev *t = opaque;
	if (port == 0xE4 || port >= TESTDEV_IRQ_PORT)
		return width_mask(size); /* write-only registers */
	int shift = (port & 3) * 8;
	return (t->data >> shift) & width_mask(size);
}

static void testdev_data_write(struct pc_testdev *t, uint16_t port, int size, uint32_t v)
{
	int shift = (port & 3) * 8;
	uint32_t mask = width_mask(size) << shift;
	t->data = (t->data & ~mask) | ((v << shift) & mask);
}

/* 0xe4: flush the page the written address falls in (4-byte writes only, as QEMU). */
static void testdev_flush(struct pc_testdev *t, int size, uint32_t v)
{
	if (size == 4 && t->bus)
		bus_note_write(t->bus, v >> PAGE_SHIFT);
}

static void testdev_io_write(void *opaque, uint16_t port, int size, uint32_t value)
{
	struct pc_testdev *t = opaque;
	if (port >= TESTDEV_IRQ_PORT) {
		/* One byte per line: QEMU's valid access size for this region is 1. */
		if (size == 1)
			irq_set(&t->irq[port - TESTDEV_IRQ_PORT], value & 0xFF);
	} else if (port >= 0xE4 && port < 0xE8) {
		if (port == 0xE4)
			testdev_flush(t, size, value);
	} else {
		testdev_data_write(t, port, size, value);
	}
}

static const struct io_ops testdev_io_ops = {
	.read = testdev_io_read,
	.write = testdev_io_write,
};

static uint64_t testdev_mem_read(void *opaque, uint64_t off, int size)
{
	struct pc_testdev *t = opaque;
	uint64_t v = 0;
	if (off + (uint64_t)size <= TESTDEV_IOMEM_SIZE)
		memcpy(&v, &t->iomem[off], (size_t)size); /* little-endian host */
	return v;
}

static void testdev_mem_write(void *opaque, uint64_t off, int size, uint64_t value)
{
	struct pc_testdev *t = opaque;
	if (off + (uint64_t)size <= TESTDEV_IOMEM_SIZE)
		memcpy(&t->iomem[off], &value, (size_t)size);
}

static const struct mmio_ops testdev_mem_ops = {
	.read = testdev_mem_read,
	.write = testdev_mem_write,
};

void pc_testdev_init(struct pc_testdev *t, struct irq_router *router)
{
	t->data = 0;
	t->bus = NULL;
	for (int i = 0; i < TESTDEV_NR_IRQ; i++)
		t->irq[i] = irq_router_line(router, i);
	memset(t->iomem, 0, sizeof(t->iomem));
}

int pc_testdev_map(struct pc_testdev *t, struct bus *bus)
{
	t->bus = bus;
	if (bus_map_io(bus, 0xE0, 12, &testdev_io_ops, t) < 0 ||
	    bus_map_io(bus, TESTDEV_IRQ_PORT, TESTDEV_NR_IRQ, &testdev_io_ops, t) < 0 ||
	    bus_map_mmio(bus, TESTDEV_IOMEM_BASE, TESTDEV_IOMEM_SIZE, &testdev_mem_ops, t) < 0)
		return -1;
	return 0;
}
