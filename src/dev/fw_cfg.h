/*
 * QEMU's firmware configuration device, I/O-port flavour (docs/specs/fw_cfg.rst in
 * QEMU): a 16-bit selector written to port 0x510 picks an item; each byte read from
 * port 0x511 returns the next byte of it. Reads past the end, of unknown keys, or after
 * an invalid selector return 0. Selecting resets the offset. The DMA interface is not
 * provided, so the ID item reads 1 (FW_CFG_VERSION without FW_CFG_VERSION_DMA).
 *
 * Items reference memory owned by the board (blobs) or stored inline (integers, which
 * fw_cfg stores little-endian; the file directory is big-endian).
 */
#ifndef TURTLES_DEV_FW_CFG_H
#define TURTLES_DEV_FW_CFG_H

#include "cpu/bus.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511

/* Selector keys, QEMU include/standard-headers/linux/qemu_fw_cfg.h. */
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_UUID 0x02
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NOGRAPHIC 0x04
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MACHINE_ID 0x06
#define FW_CFG_KERNEL_ADDR 0x07
#define FW_CFG_KERNEL_SIZE 0x08
#define FW_CFG_KERNEL_CMDLINE 0x09
#define FW_CFG_INITRD_ADDR 0x0a
#define FW_CFG_INITRD_SIZE 0x0b
#define FW_CFG_BOOT_DEVICE 0x0c
#define FW_CFG_NUMA 0x0d
#define FW_CFG_BOOT_MENU 0x0e
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_KERNEL_ENTRY 0x10
#define FW_CFG_KERNEL_DATA 0x11
#define FW_CFG_INITRD_DATA 0x12
#define FW_CFG_CMDLINE_ADDR 0x13
#define FW_CFG_CMDLINE_SIZE 0x14
#define FW_CFG_CMDLINE_DATA 0x15
#define FW_CFG_SETUP_ADDR 0x16
#define FW_CFG_SETUP_SIZE 0x17
#define FW_CFG_SETUP_DATA 0x18
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_WRITE_CHANNEL 0x4000
#define FW_CFG_ARCH_LOCAL 0x8000
#define FW_CFG_IRQ0_OVERRIDE (FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_INVALID 0xFFFF

#define FW_CFG_MAX_ITEMS 40

struct fw_cfg_item {
	uint16_t key;
	uint8_t inline_data[8];
	const uint8_t *data;   /* inline_data or board-owned memory */
	uint32_t len;
};

struct fw_cfg {
	struct fw_cfg_item items[FW_CFG_MAX_ITEMS];
	int n_items;
	const struct fw_cfg_item *cur; /* NULL: invalid selector */
	uint32_t offset;
};

void fw_cfg_init(struct fw_cfg *f);
int fw_cfg_map(struct fw_cfg *f, struct bus *bus);

/* Add items; the data of fw_cfg_add_bytes must outlive the device. Return -1 if full
 * (or the key exists). */
int fw_cfg_add_bytes(struct fw_cfg *f, uint16_t key, const void *data, uint32_t len);
int fw_cfg_add_i16(struct fw_cfg *f, uint16_t key, uint16_t v);
int fw_cfg_add_i32(struct fw_cfg *f, uint16_t key, uint32_t v);
int fw_cfg_add_i64(struct fw_cfg *f, uint16_t key, uint64_t v);

/* Device-side access, as ports 0x510/0x511 do. */
void fw_cfg_select(struct fw_cfg *f, uint16_t key);
uint8_t fw_cfg_read_byte(struct fw_cfg *f);

#endif
