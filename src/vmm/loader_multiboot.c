/*
 * Multiboot v1 (Multiboot Specification 0.6.96) as QEMU's -kernel implements it:
 * the header in the first 8192 bytes, ELF or a.out-kludge images, modules placed
 * page-aligned after the kernel, and the information structure after them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/loader.h"

#define MB_MAGIC 0x1BADB002u
#define MB_BOOT_MAGIC 0x2BADB002u
#define MB_SEARCH 8192
#define MB_FLAG_AOUT_KLUDGE (1u << 16)

/* Information-structure flags (spec 3.3). */
#define MBI_MEMORY (1u << 0)
#define MBI_BOOTDEV (1u << 1)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER (1u << 9)

#define MBI_SIZE 0x80 /* through the VBE/framebuffer fields, zeroed */

struct mb_header {
	uint32_t magic, flags, checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

static uint64_t page_up(uint64_t a)
{
	return (a + PAGE_SIZE - 1) & PAGE_MASK;
}

/* Returns the offset of a valid header or -1. */
static long mb_find_header(const struct image *img, struct mb_header *h)
{
	uint64_t limit = img->size < MB_SEARCH ? img->size : MB_SEARCH;
	for (uint64_t off = 0; off + 12 <= limit; off += 4) {
		uint32_t w[3];
		memcpy(w, img->data + off, 12);
		if (w[0] == MB_MAGIC && (uint32_t)(w[0] + w[1] + w[2]) == 0) {
			memset(h, 0, sizeof(*h));
			memcpy(h, img->data + off,
			       img->size - off < sizeof(*h) ? img->size - off : sizeof(*h));
			return (long)off;
		}
	}
	return -1;
}

/* a.out kludge (spec 3.1.3, flag 16): addresses come from the header. */
static int mb_load_aout(struct bus *bus, const struct image *img, long hoff,
			const struct mb_header *h, uint64_t *entry, uint64_t *end)
{
	if (h->load_addr > h->header_addr || h->header_addr - h->load_addr > (uint64_t)hoff) {
		fprintf(stderr, "turtles: %s: Multiboot header addresses are inconsistent\n",
			img->path);
		return -1;
	}
	uint64_t file_off = (uint64_t)hoff - (h->header_addr - h->load_addr);
	uint64_t len = h->load_end_addr ? (uint64_t)h->load_end_addr - h->load_addr
					: img->size - file_off;
	if (h->load_end_addr && h->load_end_addr < h->load_addr) {
		fprintf(stderr, "turtles: %s: load_end_addr below load_addr\n", img->path);
		return -1;
	}
	uint64_t memsz = len;
	if (h->bss_end_addr) {
		if (h->bss_end_addr < h->load_addr + len) {
			fprintf(stderr, "turtles: %s: bss_end_addr below the loaded image\n",
				img->path);
			return -1;
		}
		memsz = (uint64_t)h->bss_end_addr - h->load_addr;
	}
	if (image_place(bus, img, file_off, len, memsz, h->load_addr))
		return -1;
	*entry = h->entry_addr;
	*end = h->load_addr + memsz;
	return 0;
}

/* The E820-style map a PC BIOS reports (types 1 = usable, 2 = reserved). */
static uint32_t mb_write_mmap(struct bus *bus, uint64_t at, uint64_t ram)
{
	const struct { uint64_t base, len; uint32_t type; } map[] = {
		{ 0, 0x9FC00, 1 },
		{ 0x9FC00, 0x400, 2 },
		{ 0xF0000, 0x10000, 2 },
		{ 0x100000, ram - 0x100000, 1 },
		{ 0xFEC00000, 0x1000, 2 },  /* IOAPIC */
		{ 0xFEE00000, 0x1000, 2 },  /* local APIC */
		{ 0xFFFC0000, 0x40000, 2 }, /* BIOS ROM alias */
	};
	uint32_t len = 0;
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		uint8_t e[24];
		uint32_t size = 20;
		memcpy(e, &size, 4);
		memcpy(e + 4, &map[i].base, 8);
		memcpy(e + 12, &map[i].len, 8);
		memcpy(e + 20, &map[i].type, 4);
		bus_copy_to(bus, at + len, e, sizeof(e));
		len += sizeof(e);
	}
	return len;
}

/* Bump allocator for what the loader places after the kernel. */
struct placer {
	struct bus *bus;
	uint64_t next;
};

/* what names the file for the error message (NULL: the boot information). */
static int place_bytes(struct placer *p, const void *data, uint64_t len, uint64_t *gpa,
		       const char *what)
{
	if (p->next > p->bus->ram_size || len > p->bus->ram_size - p->next) {
		fprintf(stderr, "turtles: %s: does not fit in guest RAM after the kernel; "
				"give more memory with -m\n",
			what ? what : "the Multiboot information");
		return -1;
	}
	*gpa = p->next;
	bus_copy_to(p->bus, p->next, data, len);
	p->next += len;
	return 0;
}

/* The next entry of a --initrd list, split in place, or NULL after the last one.
 * Entries are separated by ','; ",," stands for one literal comma inside an entry, as
 * in every QEMU option value (so 'a,,b' is the one module "a,b"). An empty entry is
 * returned as "" for the caller to refuse. */
static char *next_module_entry(char **cursor)
{
	char *in = *cursor, *out = in, *start = in;
	if (!in)
		return NULL;
	for (;;) {
		if (in[0] == ',' && in[1] == ',') {
			*out++ = ',';
			in += 2;
		} else if (in[0] == ',' || in[0] == 0) {
			*cursor = in[0] ? in + 1 : NULL;
			*out = 0;
			return start;
		} else {
			*out++ = *in++;
		}
	}
}

/* --initrd 'file args,file args': each entry's first word is the file, the whole entry
 * is the module string (as QEMU passes it). */
static int mb_load_modules(struct placer *pl, const char *spec, uint64_t *mods_gpa,
			   uint32_t *count, struct boot_info *bi)
{
	char *copy = strdup(spec), *cursor = copy;
	uint32_t descs[4 * 64];
	uint32_t n = 0;
	int rc = 0;
	if (!copy)
		return -1;
	for (char *ent = next_module_entry(&cursor); ent; ent = next_module_entry(&cursor)) {
		char path[4096];
		size_t plen = strcspn(ent, " ");
		if (n == 64) {
			fprintf(stderr, "turtles: --initrd: more than 64 modules\n");
			rc = -1;
			break;
		}
		if (plen == 0 || plen >= sizeof(path)) {
			fprintf(stderr, "turtles: --initrd: bad module entry '%s'\n", ent);
			rc = -1;
			break;
		}
		memcpy(path, ent, plen);
		path[plen] = 0;
		struct image img;
		uint64_t start, str;
		if (image_read(path, pl->bus->ram_size, &img)) {
			rc = -1;
			break;
		}
		pl->next = page_up(pl->next);
		rc = place_bytes(pl, img.data, img.size, &start, path);
		if (!rc)
			rc = place_bytes(pl, ent, strlen(ent) + 1, &str, NULL);
		if (!rc && n == 0) {
			bi->initrd_data = img.data;
			bi->initrd_size = img.size;
		} else
			free(img.data);
		if (rc)
			break;
		descs[4 * n] = (uint32_t)start;
		descs[4 * n + 1] = (uint32_t)(start + img.size);
		descs[4 * n + 2] = (uint32_t)str;
		descs[4 * n + 3] = 0;
		n++;
	}
	free(copy);
	if (rc)
		return -1;
	*count = n;
	pl->next = (pl->next + 15) & ~15ULL;
	return n ? place_bytes(pl, descs, 16ULL * n, mods_gpa, NULL) : 0;
}

/* A flat GDT: 0x08 32-bit code, 0x10 data, 0x18 64-bit code (SDM 3.4.5). */
static int place_gdt(struct placer *pl, uint64_t *gpa)
{
	static const uint64_t gdt[] = {
		0, 0x00CF9B000000FFFFULL, 0x00CF93000000FFFFULL, 0x00AF9B000000FFFFULL,
	};
	pl->next = (pl->next + 15) & ~15ULL;
	return place_bytes(pl, gdt, sizeof(gdt), gpa, NULL);
}

static int mb_build_info(struct placer *pl, const struct vmm_options *opt,
			 struct boot_info *bi)
{
	uint8_t mbi[MBI_SIZE] = { 0 };
	uint64_t ram = pl->bus->ram_size, cmd, name, mmap, mods = 0;
	uint32_t nmods = 0, v;
	size_t clen = strlen(opt->kernel) + strlen(opt->append) + 2;
	bi->cmdline = malloc(clen);
	snprintf(bi->cmdline, clen, "%s %s", opt->kernel, opt->append);
	if (opt->initrd && mb_load_modules(pl, opt->initrd, &mods, &nmods, bi))
		return -1;
	pl->next = page_up(pl->next);
	uint64_t mbi_gpa = pl->next;
	pl->next += MBI_SIZE;
	if (place_bytes(pl, bi->cmdline, clen, &cmd, NULL) ||
	    place_bytes(pl, "turtles", 8, &name, NULL))
		return -1;
	pl->next = (pl->next + 7) & ~7ULL;
	mmap = pl->next;
	uint32_t mmap_len = mb_write_mmap(pl->bus, mmap, ram < 0xE0000000 ? ram : 0xE0000000);
	pl->next += mmap_len;
	/* Fields at their spec 3.3 offsets. */
	v = MBI_MEMORY | MBI_BOOTDEV | MBI_CMDLINE | MBI_MODS | MBI_MMAP | MBI_LOADER;
	memcpy(mbi + 0, &v, 4);
	v = 639; /* KiB below the EBDA at 0x9FC00, as QEMU reports */
	memcpy(mbi + 4, &v, 4);
	v = (uint32_t)(((ram < 0xE0000000 ? ram : 0xE0000000) - 0x100000) >> 10);
	memcpy(mbi + 8, &v, 4);
	v = 0x8000FFFF; /* first BIOS disk, no partition, as QEMU reports */
	memcpy(mbi + 12, &v, 4);
	v = (uint32_t)cmd;
	memcpy(mbi + 16, &v, 4);
	memcpy(mbi + 20, &nmods, 4);
	v = (uint32_t)mods;
	memcpy(mbi + 24, &v, 4);
	memcpy(mbi + 44, &mmap_len, 4);
	v = (uint32_t)mmap;
	memcpy(mbi + 48, &v, 4);
	v = (uint32_t)name;
	memcpy(mbi + 64, &v, 4);
	bus_copy_to(pl->bus, mbi_gpa, mbi, sizeof(mbi));
	bi->mbi = (uint32_t)mbi_gpa;
	return 0;
}

/* Identity-map the first 4 GiB with 2 MiB pages for BOOT_LONG64 (SDM 4.5). */
static int place_identity_map(struct placer *pl, uint64_t *cr3)
{
	uint64_t tables[6 * 512];
	memset(tables, 0, sizeof(tables));
	pl->next = page_up(pl->next);
	uint64_t base = pl->next;
	tables[0] = (base + 0x1000) | 3;                    /* PML4[0] -> PDPT */
	for (int i = 0; i < 4; i++) {
		tables[512 + i] = (base + 0x2000 + 0x1000 * (uint64_t)i) | 3; /* PDPT -> PD */
		for (int j = 0; j < 512; j++)
			tables[1024 + 512 * i + j] =
				((uint64_t)i << 30) + ((uint64_t)j << 21) + 0x83; /* P RW PS */
	}
	*cr3 = base;
	uint64_t gpa;
	return place_bytes(pl, tables, sizeof(tables), &gpa, NULL);
}

static int load_kernel(struct bus *bus, const struct vmm_options *opt, struct boot_info *bi)
{
	struct image img;
	if (image_read(opt->kernel, bus->ram_size, &img))
		return -1;
	bi->kernel_data = img.data;
	bi->kernel_size = img.size;
	struct mb_header h;
	long hoff = mb_find_header(&img, &h);
	uint64_t entry, end;
	bool is64 = false;
	int rc;
	if (hoff >= 0 && (h.flags & MB_FLAG_AOUT_KLUDGE))
		rc = mb_load_aout(bus, &img, hoff, &h, &entry, &end);
	else if (img.size >= 4 && !memcmp(img.data, "\177ELF", 4))
		rc = elf_load(bus, &img, &entry, &end, &is64);
	else {
		fprintf(stderr, "turtles: %s: neither a Multiboot kernel nor an ELF image\n",
			opt->kernel);
		rc = -1;
	}
	if (rc)
		return -1;
	bi->kind = hoff < 0 && is64 ? BOOT_LONG64 : BOOT_MULTIBOOT;
	if (hoff < 0 && !is64) {
		fprintf(stderr, "turtles: %s: ELF32 image without a Multiboot header\n",
			opt->kernel);
		return -1;
	}
	struct placer pl = { bus, page_up(end) };
	uint64_t gdt;
	if (mb_build_info(&pl, opt, bi) || place_gdt(&pl, &gdt))
		return -1;
	bi->gdt = (uint32_t)gdt;
	bi->entry = entry;
	if (bi->kind == BOOT_LONG64)
		return place_identity_map(&pl, &bi->cr3);
	if (entry >> 32) {
		fprintf(stderr, "turtles: %s: Multiboot entry point 0x%llx is above 4 GiB\n",
			opt->kernel, (unsigned long long)entry);
		return -1;
	}
	return 0;
}

/* A failed load frees what it had read (the kernel, modules, command line) itself. */
int loader_load(struct bus *bus, const struct vmm_options *opt, struct boot_info *bi)
{
	memset(bi, 0, sizeof(*bi));
	int rc = load_kernel(bus, opt, bi);
	if (rc)
		loader_free(bi);
	return rc;
}

void loader_free(struct boot_info *bi)
{
	free(bi->kernel_data);
	free(bi->initrd_data);
	free(bi->cmdline);
	memset(bi, 0, sizeof(*bi));
}
