/* ELF32/ELF64 executables, loaded by physical address (p_paddr) as the Multiboot
 * specification (3.1.3) and QEMU do. */
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "vmm/loader.h"

static int bad(const struct image *img, const char *why)
{
	fprintf(stderr, "turtles: %s: malformed ELF: %s\n", img->path, why);
	return -1;
}

/* One program header, widened to 64 bits. */
struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static int read_phdr(const struct image *img, bool is64, uint64_t phoff, int i,
		     struct phdr *ph)
{
	uint64_t sz = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	uint64_t at = phoff + (uint64_t)i * sz;
	if (at > img->size || sz > img->size - at)
		return bad(img, "program header beyond end of file");
	if (is64) {
		Elf64_Phdr p;
		memcpy(&p, img->data + at, sizeof(p));
		*ph = (struct phdr){ p.p_type, p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz };
	} else {
		Elf32_Phdr p;
		memcpy(&p, img->data + at, sizeof(p));
		*ph = (struct phdr){ p.p_type, p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz };
	}
	return 0;
}

int elf_load(struct bus *bus, const struct image *img, uint64_t *entry, uint64_t *end,
	     bool *is64)
{
	if (img->size < sizeof(Elf32_Ehdr) || memcmp(img->data, ELFMAG, SELFMAG))
		return bad(img, "no ELF header");
	*is64 = img->data[EI_CLASS] == ELFCLASS64;
	if (!*is64 && img->data[EI_CLASS] != ELFCLASS32)
		return bad(img, "unknown ELF class");
	if (img->data[EI_DATA] != ELFDATA2LSB)
		return bad(img, "not little-endian");
	uint64_t phoff;
	int phnum;
	if (*is64) {
		Elf64_Ehdr eh;
		if (img->size < sizeof(eh))
			return bad(img, "truncated header");
		memcpy(&eh, img->data, sizeof(eh));
		if (eh.e_machine != EM_X86_64)
			return bad(img, "not an x86-64 executable");
		*entry = eh.e_entry;
		phoff = eh.e_phoff;
		phnum = eh.e_phnum;
	} else {
		Elf32_Ehdr eh;
		memcpy(&eh, img->data, sizeof(eh));
		if (eh.e_machine != EM_386 && eh.e_machine != EM_X86_64)
			return bad(img, "not an x86 executable");
		*entry = eh.e_entry;
		phoff = eh.e_phoff;
		phnum = eh.e_phnum;
	}
	*end = 0;
	int loaded = 0;
	for (int i = 0; i < phnum; i++) {
		struct phdr ph;
		if (read_phdr(img, *is64, phoff, i, &ph))
			return -1;
		if (ph.type != PT_LOAD || ph.memsz == 0)
			continue;
		if (image_place(bus, img, ph.offset, ph.filesz, ph.memsz, ph.paddr))
			return -1;
		if (ph.paddr + ph.memsz > *end)
			*end = ph.paddr + ph.memsz;
		loaded++;
	}
	if (!loaded)
		return bad(img, "no loadable segment");
	return 0;
}
