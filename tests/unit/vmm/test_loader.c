/*
 * Loader tests: Multiboot v1 images as QEMU loads them, and malformed images that must
 * be refused with a message, never a crash.
 * Expected values from the Multiboot Specification 0.6.96 (sections 3.1-3.3).
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/loader.h"

static int failures, checks;

#define CHECK(cond, name)                                                             \
	do {                                                                          \
		checks++;                                                             \
		if (cond)                                                             \
			printf("PASS: %s\n", name);                                   \
		else {                                                                \
			printf("FAIL: %s (%s:%d)\n", name, __FILE__, __LINE__);       \
			failures++;                                                   \
		}                                                                     \
	} while (0)

static char *write_tmp(const void *data, size_t len)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/turtles-loader-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		perror("tmp");
		exit(2);
	}
	close(fd);
	return path;
}

/* A minimal ELF32 Multiboot kernel: one PT_LOAD at 1 MiB holding the header and code. */
static size_t make_elf32(uint8_t *buf, uint32_t paddr, uint32_t memsz)
{
	memset(buf, 0, 4096);
	Elf32_Ehdr *eh = (Elf32_Ehdr *)buf;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS32;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_386;
	eh->e_entry = paddr + 0x20;
	eh->e_phoff = sizeof(*eh);
	eh->e_phnum = 1;
	eh->e_phentsize = sizeof(Elf32_Phdr);
	Elf32_Phdr *ph = (Elf32_Phdr *)(buf + sizeof(*eh));
	ph->p_type = PT_LOAD;
	ph->p_offset = 0x100;
	ph->p_paddr = ph->p_vaddr = paddr;
	ph->p_filesz = 0x40;
	ph->p_memsz = memsz;
	uint32_t mb[3] = { 0x1BADB002, 0x3, (uint32_t)-(0x1BADB002 + 0x3) };
	memcpy(buf + 0x100, mb, sizeof(mb));
	buf[0x120] = 0xF4; /* hlt at the entry */
	return 0x140;
}

static int load(struct bus *bus, const char *path, const char *append, struct boot_info *bi)
{
	struct vmm_options opt = { .kernel = path, .append = append, .ram_mib = 16, .smp = 1 };
	return loader_load(bus, &opt, bi);
}

static void test_elf32_multiboot(struct bus *bus)
{
	uint8_t buf[4096];
	size_t n = make_elf32(buf, 0x100000, 0x2000);
	char *path = write_tmp(buf, n);
	struct boot_info bi;
	CHECK(load(bus, path, "a b", &bi) == 0, "elf32 multiboot kernel loads");
	CHECK(bi.kind == BOOT_MULTIBOOT && bi.entry == 0x100020, "entry from e_entry");
	CHECK(bus->ram[0x100020] == 0xF4, "segment copied to p_paddr");
	uint32_t mbi[20];
	memcpy(mbi, bus->ram + bi.mbi, sizeof(mbi));
	/* Spec 3.3: flags bit 0 mem_lower/upper, 2 cmdline, 6 mmap. */
	CHECK((mbi[0] & 0x45) == 0x45, "mbi flags: memory, cmdline, mmap");
	CHECK(mbi[1] == 639, "mem_lower = 639 KiB (below the EBDA, as QEMU)");
	CHECK(mbi[2] == (16u << 10) - 1024, "mem_upper = RAM above 1 MiB in KiB");
	char expect[128];
	snprintf(expect, sizeof(expect), "%s a b", path);
	CHECK(!strcmp((char *)bus->ram + mbi[4], expect), "cmdline is 'path append'");
	CHECK(bi.mbi >= 0x102000, "info placed after the kernel's bss");
	/* First mmap entry: size 20, base 0, type 1 (usable). */
	uint32_t e[6];
	memcpy(e, bus->ram + mbi[12], sizeof(e));
	CHECK(e[0] == 20 && e[1] == 0 && e[5] == 1, "mmap entry 0 is usable low memory");
	loader_free(&bi);
	unlink(path);
}

/* --initrd as QEMU reads it: entries split at ',', ",," a literal comma in an entry
 * (QEMU option syntax); each module's string is its whole entry (Multiboot spec 3.3:
 * flags bit 3, mods_count at +20, mods_addr at +24; each module is mod_start,
 * mod_end, string, reserved). */
static void test_modules_with_commas(struct bus *bus)
{
	uint8_t buf[4096];
	size_t n = make_elf32(buf, 0x100000, 0x2000);
	char kpath[64];
	snprintf(kpath, sizeof(kpath), "%s", write_tmp(buf, n));
	char dir[] = "/tmp/turtles-mods-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(2);
	}
	char mpath[128], spec[512], want0[256];
	snprintf(mpath, sizeof(mpath), "%s/a,b.mod", dir); /* a comma in the file name */
	FILE *f = fopen(mpath, "wb");
	if (!f || fwrite("MODULE", 1, 6, f) != 6 || fclose(f)) {
		perror(mpath);
		exit(2);
	}
	snprintf(spec, sizeof(spec), "%s/a,,b.mod x,,y,%s/a,,b.mod", dir, dir);
	snprintf(want0, sizeof(want0), "%s x,y", mpath);
	struct vmm_options opt = { .kernel = kpath, .append = "", .initrd = spec,
				   .ram_mib = 16, .smp = 1 };
	struct boot_info bi;
	CHECK(loader_load(bus, &opt, &bi) == 0, "modules with ',,' in path and args load");
	uint32_t mbi[8], mod[8];
	memcpy(mbi, bus->ram + bi.mbi, sizeof(mbi));
	CHECK(mbi[0] & 0x8, "mbi flags: modules");
	CHECK(mbi[5] == 2, "',,' does not split: two modules");
	memcpy(mod, bus->ram + mbi[6], sizeof(mod));
	CHECK(mod[1] - mod[0] == 6 && !memcmp(bus->ram + mod[0], "MODULE", 6),
	      "module 0 holds the file 'a,b.mod'");
	CHECK(!strcmp((char *)bus->ram + mod[2], want0), "module 0 string: ',,' became ','");
	CHECK(!strcmp((char *)bus->ram + mod[6], mpath), "module 1 string is its path");
	loader_free(&bi);
	snprintf(spec, sizeof(spec), "%s/a,,b.mod,", dir);
	CHECK(loader_load(bus, &opt, &bi) != 0, "an empty entry after ',' is refused");
	unlink(mpath);
	rmdir(dir);
	unlink(kpath);
}

static void test_malformed(struct bus *bus)
{
	uint8_t buf[4096];
	struct boot_info bi;
	char *path;

	path = write_tmp("hello", 5);
	CHECK(load(bus, path, "", &bi) == -1, "non-ELF non-multiboot image refused");
	loader_free(&bi);
	unlink(path);

	size_t n = make_elf32(buf, 0x100000, 0x2000);
	((Elf32_Ehdr *)buf)->e_phoff = 0x7FFFFFF0;
	path = write_tmp(buf, n);
	CHECK(load(bus, path, "", &bi) == -1, "program headers beyond the file refused");
	loader_free(&bi);
	unlink(path);

	n = make_elf32(buf, 0x100000, 0x2000);
	((Elf32_Phdr *)(buf + sizeof(Elf32_Ehdr)))->p_filesz = 0x100000;
	path = write_tmp(buf, n);
	CHECK(load(bus, path, "", &bi) == -1, "segment beyond the file refused");
	loader_free(&bi);
	unlink(path);

	n = make_elf32(buf, 0x100000, 0x2000);
	((Elf32_Phdr *)(buf + sizeof(Elf32_Ehdr)))->p_paddr = 0xFFFFF000;
	path = write_tmp(buf, n);
	CHECK(load(bus, path, "", &bi) == -1, "segment beyond RAM refused");
	loader_free(&bi);
	unlink(path);

	n = make_elf32(buf, 0x100000, 0x2000);
	((Elf32_Phdr *)(buf + sizeof(Elf32_Ehdr)))->p_memsz = 0x10; /* < filesz */
	path = write_tmp(buf, n);
	CHECK(load(bus, path, "", &bi) == -1, "memsz below filesz refused");
	loader_free(&bi);
	unlink(path);

	CHECK(load(bus, "/nonexistent/kernel", "", &bi) == -1, "missing file refused");
	loader_free(&bi);
}

int main(void)
{
	struct bus bus;
	if (bus_init(&bus, 16 << 20))
		return 2;
	test_elf32_multiboot(&bus);
	test_modules_with_commas(&bus);
	test_malformed(&bus);
	bus_destroy(&bus);
	printf("SUMMARY: %d passed, %d failed\n", checks - failures, failures);
	return failures != 0;
}
