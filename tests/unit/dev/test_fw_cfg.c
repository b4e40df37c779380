/*
 * fw_cfg through ports 0x510 (16-bit selector) and 0x511 (data byte), as QEMU's
 * docs/specs/fw_cfg.rst describes: signature "QEMU", ID 1 without DMA, integers
 * little-endian, the file directory's count big-endian, zeros past the end and for
 * unknown keys. The board's items are those pc.c adds.
 */
#include <string.h>

#include "dev/fw_cfg.h"
#include "test_util.h"

static struct bus bus;

static void read_item(uint16_t key, uint8_t *buf, int len)
{
	bus_out(&bus, 0x510, 2, key);
	for (int i = 0; i < len; i++)
		buf[i] = (uint8_t)bus_in(&bus, 0x511, 1);
}

static uint64_t read_le(uint16_t key, int len)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;
	read_item(key, b, len);
	for (int i = len - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

int main(void)
{
	static const char cmdline[] = "console=ttyS0 quiet";
	static const uint8_t kernel[5] = { 0xDE, 0xAD, 0xBE, 0xEF, 0x42 };
	struct fw_cfg f;
	uint8_t buf[64];

	if (bus_init(&bus, 1 << 20) < 0)
		return 1;
	fw_cfg_init(&f);
	fw_cfg_add_i64(&f, FW_CFG_RAM_SIZE, 128ULL << 20);
	fw_cfg_add_i16(&f, FW_CFG_NB_CPUS, 2);
	fw_cfg_add_i32(&f, FW_CFG_CMDLINE_SIZE, sizeof(cmdline));
	fw_cfg_add_bytes(&f, FW_CFG_CMDLINE_DATA, cmdline, sizeof(cmdline));
	fw_cfg_add_i32(&f, FW_CFG_KERNEL_ADDR, 0x100000);
	fw_cfg_add_i32(&f, FW_CFG_KERNEL_SIZE, sizeof(kernel));
	fw_cfg_add_bytes(&f, FW_CFG_KERNEL_DATA, kernel, sizeof(kernel));
	if (fw_cfg_map(&f, &bus) < 0)
		return 1;

	read_item(FW_CFG_SIGNATURE, buf, 4);
	CHECK(memcmp(buf, "QEMU", 4) == 0, "key 0x0000: signature \"QEMU\"");
	CHECK_EQ(read_le(FW_CFG_ID, 4), 1, "key 0x0001: ID 1 (no DMA bit)");
	CHECK_EQ(read_le(FW_CFG_RAM_SIZE, 8), 128ULL << 20, "key 0x0003: RAM size, 64-bit LE");
	CHECK_EQ(read_le(FW_CFG_NB_CPUS, 2), 2, "key 0x0005: CPU count, 16-bit LE");
	CHECK_EQ(read_le(FW_CFG_CMDLINE_SIZE, 4), sizeof(cmdline), "key 0x0014: cmdline size");
	read_item(FW_CFG_CMDLINE_DATA, buf, sizeof(cmdline));
	CHECK(memcmp(buf, cmdline, sizeof(cmdline)) == 0, "key 0x0015: cmdline with NUL");
	CHECK_EQ(read_le(FW_CFG_KERNEL_ADDR, 4), 0x100000, "key 0x0007: kernel address");
	read_item(FW_CFG_KERNEL_DATA, buf, 7);
	CHECK(memcmp(buf, kernel, 5) == 0 && buf[5] == 0 && buf[6] == 0,
	      "key 0x0011: kernel bytes, then zeros past the end");
	CHECK_EQ(read_le(FW_CFG_FILE_DIR, 4), 0, "key 0x0019: empty file directory");
	CHECK_EQ(read_le(0x0123, 4), 0, "unknown key reads zero");
	CHECK_EQ(read_le(FW_CFG_INVALID, 2), 0, "invalid selector reads zero");

	bus_out(&bus, 0x510, 2, FW_CFG_SIGNATURE);
	bus_in(&bus, 0x511, 1);
	bus_in(&bus, 0x511, 1);
	bus_out(&bus, 0x510, 2, FW_CFG_SIGNATURE);
	CHECK_EQ(bus_in(&bus, 0x511, 1), 'Q', "selecting again restarts at offset 0");
	CHECK_EQ(bus_in(&bus, 0x510, 1), 'E', "a byte read of 0x510 is a data read (QEMU comb)");
	CHECK_EQ(bus_in(&bus, 0x510, 2), 0xFFFF, "a 16-bit read is not a valid access");
	bus_destroy(&bus);
	return test_done();
}
