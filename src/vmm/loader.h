/*
 * Kernel loaders: Multiboot v1 (ELF32, ELF64, a.out kludge) as QEMU's -kernel loads
 * it, and plain ELF64 kernels entered in 64-bit mode.
 */
#ifndef TURTLES_VMM_LOADER_H
#define TURTLES_VMM_LOADER_H

#include "cpu/bus.h"
#include "vmm/options.h"

enum boot_kind {
	BOOT_MULTIBOOT, /* flat 32-bit protected mode, EAX = magic, EBX = info */
	BOOT_LONG64,    /* ELF64 without a Multiboot header: 64-bit mode, identity-mapped */
};

struct boot_info {
	enum boot_kind kind;
	uint64_t entry;
	uint32_t mbi;       /* guest-physical address of the Multiboot information */
	uint32_t gdt;       /* a flat GDT the loader left in memory (selectors 0x08/0x10,
			       0x18 = 64-bit code) */
	uint64_t cr3;       /* BOOT_LONG64: the identity-mapping PML4 */
	/* What fw_cfg exposes (kernel file, first module, command line). */
	uint8_t *kernel_data;
	uint64_t kernel_size;
	uint8_t *initrd_data;
	uint64_t initrd_size;
	char *cmdline;
};

/* Load opt->kernel (and modules) into RAM. On failure prints a clear message naming the
 * file and the problem, frees what it had read and returns -1. */
int loader_load(struct bus *bus, const struct vmm_options *opt, struct boot_info *out);
void loader_free(struct boot_info *bi);

/* Internal pieces shared by the loader files. */
struct image {
	const char *path;
	uint8_t *data;
	uint64_t size;
};

int image_read(const char *path, uint64_t max_size, struct image *img);
/* Copy [src, src+filesz) to gpa and zero up to memsz; checks RAM bounds. */
int image_place(struct bus *bus, const struct image *img, uint64_t file_off,
		uint64_t filesz, uint64_t memsz, uint64_t gpa);
/* Load an ELF image's PT_LOAD segments by physical address; entry and the highest
 * loaded address are returned. ELFCLASS32 and ELFCLASS64, EM_386 / EM_X86_64. */
int elf_load(struct bus *bus, const struct image *img, uint64_t *entry, uint64_t *end,
	     bool *is64);

#endif
