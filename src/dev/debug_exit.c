/* isa-debug-exit: see debug_exit.h. */
#include "dev/debug_exit.h"

static uint32_t debug_exit_read(void *opaque, uint16_t port, int size)
{
	(void)opaque;
	(void)port;
	/* Write-only: reads float like an empty ISA port. */
	return size == 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
}

static void debug_exit_write(void *opaque, uint16_t port, int size, uint32_t value)
{
	struct debug_exit *d = opaque;
	(void)port;
	if (size < 4)
		value &= (1u << (size * 8)) - 1;
	if (d->request_exit)
		d->request_exit(d->opaque, debug_exit_status(value));
}

static const struct io_ops debug_exit_ops = {
	.read = debug_exit_read,
	.write = debug_exit_write,
};

void debug_exit_init(struct debug_exit *d, void (*request_exit)(void *opaque, int status),
		     void *opaque)
{
	d->request_exit = request_exit;
	d->opaque = opaque;
}

int debug_exit_map(struct debug_exit *d, struct bus *bus)
{
	return bus_map_io(bus, DEBUG_EXIT_PORT, DEBUG_EXIT_SIZE, &debug_exit_ops, d);
}
