/*
 * QEMU pc-testdev (hw/misc/pc-testdev.c) and the POST port 0x80 (hw/i386/pc.c
 * ioport80_read/write: writes ignored, reads all ones).
 */
#include "dev/pc_testdev.h"
#include "dev/port80.h"
#include "test_util.h"

int main(void)
{
	static struct pc_testdev t;
	struct bus bus;
	struct irq_router router;
	struct port80 p80;
	if (bus_init(&bus, 1 << 20) < 0)
		return 1;
	irq_router_init(&router, NULL, NULL);
	pc_testdev_init(&t, &router);
	if (pc_testdev_map(&t, &bus) < 0 || port80_map(&p80, &bus) < 0)
		return 1;

	bus_out(&bus, 0xE0, 4, 0x12345678);
	CHECK_EQ(bus_in(&bus, 0xE0, 4), 0x12345678, "0xe0 dword read-back");
	CHECK_EQ(bus_in(&bus, 0xE0, 2), 0x5678, "0xe0 word read-back");
	CHECK_EQ(bus_in(&bus, 0xE2, 2), 0x1234, "0xe2 word: upper half");
	CHECK_EQ(bus_in(&bus, 0xE3, 1), 0x12, "0xe3 byte");
	bus_out(&bus, 0xE1, 1, 0xAB);
	CHECK_EQ(bus_in(&bus, 0xE0, 4), 0x1234AB78, "byte write at 0xe1 merges");
	CHECK_EQ(bus_in(&bus, 0xE8, 4), 0x1234AB78, "0xe8 byte-split view of the same register");
	bus_out(&bus, 0xEA, 2, 0xBEEF);
	CHECK_EQ(bus_in(&bus, 0xE0, 4), 0xBEEFAB78, "word write at 0xea lands in bytes 2-3");

	bus_out(&bus, 0x2004, 1, 1);
	CHECK(router.level & (1u << 4), "write 1 to 0x2004 raises line 4");
	bus_out(&bus, 0x2004, 1, 0);
	CHECK(!(router.level & (1u << 4)), "write 0 to 0x2004 lowers it");
	bus_out(&bus, 0x2000 + 17, 1, 0x80);
	CHECK(router.level & (1u << 17), "any non-zero byte raises (line 17, GSI only)");

	bus_write(&bus, TESTDEV_IOMEM_BASE + 0x10, 8, 0x1122334455667788ULL);
	CHECK_EQ(bus_read(&bus, TESTDEV_IOMEM_BASE + 0x10, 8), 0x1122334455667788ULL,
		 "iomem qword read-back");
	CHECK_EQ(bus_read(&bus, TESTDEV_IOMEM_BASE + 0x12, 2), 0x5566, "iomem word inside");
	bus.code_page[5] = 1;
	bus_out(&bus, 0xE4, 4, 0x5123);
	CHECK(bus.code_page[5] == 0 && bus.page_gen[5] == 1, "flush page drops decoded code");

	bus_out(&bus, 0x80, 1, 0x55);
	CHECK_EQ(bus_in(&bus, 0x80, 1), 0xFF, "port 0x80 reads 0xff");
	CHECK_EQ(p80.last, 0x55, "port 0x80 write recorded for debugging only");
	bus_destroy(&bus);
	return test_done();
}
