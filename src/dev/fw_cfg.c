/* QEMU fw_cfg, I/O interface: see fw_cfg.h. */
#include "dev/fw_cfg.h"

#include <string.h>

static struct fw_cfg_item *fw_cfg_find(struct fw_cfg *f, uint16_t key)
{
	for (int i = 0; i < f->n_items; i++)
		if (f->items[i].key == key)
			return &f->items[i];
	return NULL;
}

int fw_cfg_add_bytes(struct fw_cfg *f, uint16_t key, const void *data, uint32_t len)
{
	if (f->n_items >= FW_CFG_MAX_ITEMS || fw_cfg_find(f, key))
		return -1;
	struct fw_cfg_item *it = &f->items[f->n_items++];
	it->key = key;
	it->data = data;
	it->len = len;
	return 0;
}

/* Integers are stored inline, little-endian as QEMU's fw_cfg_add_i16/32/64. */
static int fw_cfg_add_le(struct fw_cfg *f, uint16_t key, uint64_t v, uint32_t len)
{
	if (fw_cfg_add_bytes(f, key, NULL, len) < 0)
		return -1;
	struct fw_cfg_item *it = &f->items[f->n_items - 1];
	for (uint32_t i = 0; i < len; i++)
		it->inline_data[i] = (uint8_t)(v >> (8 * i));
	it->data = it->inline_data;
	return 0;
}

int fw_cfg_add_i16(struct fw_cfg *f, uint16_t key, uint16_t v)
{
	return fw_cfg_add_le(f, key, v, 2);
}

int fw_cfg_add_i32(struct fw_cfg *f, uint16_t key, uint32_t v)
{
	return fw_cfg_add_le(f, key, v, 4);
}

int fw_cfg_add_i64(struct fw_cfg *f, uint16_t key, uint64_t v)
{
	return fw_cfg_add_le(f, key, v, 8);
}

void fw_cfg_select(struct fw_cfg *f, uint16_t key)
{
	f->offset = 0;
	/* The write-channel bit is ignored by reads; an absent key reads zeros. */
	f->cur = fw_cfg_find(f, key & ~FW_CFG_WRITE_CHANNEL);
}

uint8_t fw_cfg_read_byte(struct fw_cfg *f)
{
	if (!f->cur || f->offset >= f->cur->len)
		return 0;
	return f->cur->data[f->offset++];
}

/* QEMU's combined port pair (fw_cfg_comb_*): a byte access is a data access, a 16-bit
 * write selects; no other widths are valid. */
static uint32_t fw_cfg_io_read(void *opaque, uint16_t port, int size)
{
	(void)port;
	if (size != 1)
		return size == 4 ? 0xFFFFFFFFu : 0xFFFFu;
	return fw_cfg_read_byte(opaque);
}

static void fw_cfg_io_write(void *opaque, uint16_t port, int size, uint32_t value)
{
	(void)port;
	if (size == 2)
		fw_cfg_select(opaque, (uint16_t)value);
	/* Byte writes to the data port: the write channel is gone since QEMU 2.4. */
}

static const struct io_ops fw_cfg_io_ops = {
	.read = fw_cfg_io_read,
	.write = fw_cfg_io_write,
};

static const uint8_t fw_cfg_signature[4] = { 'Q', 'E', 'M', 'U' };
static const uint8_t fw_cfg_empty_dir[4]; /* big-endian count 0 */

void fw_cfg_init(struct fw_cfg *f)
{
	memset(f, 0, sizeof(*f));
	fw_cfg_add_bytes(f, FW_CFG_SIGNATURE, fw_cfg_signature, 4);
	fw_cfg_add_i32(f, FW_CFG_ID, 1);
	fw_cfg_add_bytes(f, FW_CFG_FILE_DIR, fw_cfg_empty_dir, 4);
	f->cur = NULL;
}

int fw_cfg_map(struct fw_cfg *f, struct bus *bus)
{
	return bus_map_io(bus, FW_CFG_PORT_SEL, 2, &fw_cfg_io_ops, f);
}
