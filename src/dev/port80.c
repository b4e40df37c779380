/* POST port 0x80: see port80.h. */
#include "dev/port80.h"

static uint32_t port80_read(void *opaque, uint16_t port, int size)
{
	(void)opaque;
	(void)port;
	return size == 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
}

static void port80_write(void *opaque, uint16_t port, int size, uint32_t value)
{
	struct port80 *p = opaque;
	(void)port;
	(void)size;
	p->last = (uint8_t)value;
}

static const struct io_ops port80_ops = {
	.read = port80_read,
	.write = port80_write,
};

int port80_map(struct port80 *p, struct bus *bus)
{
	p->last = 0;
	return bus_map_io(bus, 0x80, 1, &port80_ops, p);
}
