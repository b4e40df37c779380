/*
 * isa-debug-exit at 0xf4 (iosize 4). QEMU's debug_exit_write calls
 * exit((val << 1) | 1) for a write of any width to any of its ports.
 */
#include "dev/debug_exit.h"
#include "test_util.h"

static int calls, status;

static void on_exit_req(void *opaque, int st)
{
	(void)opaque;
	calls++;
	status = st;
}

static void check_write(struct bus *b, uint16_t port, int size, uint32_t v, int want,
			const char *what)
{
	calls = 0;
	bus_out(b, port, size, v);
	CHECK(calls == 1 && status == want, "%s: status %d (want %d)", what, status, want);
}

int main(void)
{
	struct bus bus;
	struct debug_exit d;
	if (bus_init(&bus, 1 << 20) < 0)
		return 1;
	debug_exit_init(&d, on_exit_req, NULL);
	if (debug_exit_map(&d, &bus) < 0)
		return 1;
	check_write(&bus, 0xF4, 1, 0x00, 1, "outb 0 -> 1");
	check_write(&bus, 0xF4, 1, 0x01, 3, "outb 1 -> 3");
	check_write(&bus, 0xF4, 1, 0x7F, 0xFF, "outb 0x7f -> 255");
	check_write(&bus, 0xF4, 2, 0x1234, 0x2469, "outw 0x1234 -> 0x2469");
	check_write(&bus, 0xF4, 4, 0x00010000, 0x20001, "outl 0x10000 -> 0x20001");
	check_write(&bus, 0xF4, 4, 0x40000000, (int)0x80000001u, "outl 0x40000000 wraps to int");
	check_write(&bus, 0xF5, 1, 0x02, 5, "any port of the 4-byte region exits");
	check_write(&bus, 0xF4, 1, 0x1FF, 0x1FF, "byte write uses only the low byte");
	CHECK_EQ(bus_in(&bus, 0xF4, 1), 0xFF, "reads float high");
	CHECK_EQ(debug_exit_status(0x10), 0x21, "debug_exit_status helper");
	bus_destroy(&bus);
	return test_done();
}
