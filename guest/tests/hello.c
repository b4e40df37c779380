/*
 * hello - the smallest kernel: boot protocol and runtime sanity.
 * Multiboot Specification 0.6.96 section 3.2 (machine state) and 3.3 (boot info).
 */
#include "rt.h"

static void check_cmdline(struct mb_info *mbi)
{
	if (!(mbi->flags & MBI_CMDLINE)) {
		check(false, "multiboot cmdline flag (bit 2) set");
		return;
	}
	const char *cmd = (const char *)(uintptr_t)mbi->cmdline;
	size_t n = 0;
	printf("cmdline: '%s'\n", cmd);
	check(cmd[0] != 0, "multiboot cmdline non-empty");
	while (cmd[n] && cmd[n] != ' ')
		n++;
	/* The loader passes "<kernel path> <append text>": first word ends in ".elf". */
	check(n >= 4 && strncmp(cmd + n - 4, ".elf", 4) == 0, "cmdline first word ends in .elf");
}

static void check_mmap(struct mb_info *mbi)
{
	bool found = false;

	if (!(mbi->flags & MBI_MMAP)) {
		check(false, "multiboot mmap flag (bit 6) set");
		return;
	}
	for (uint32_t off = 0; off < mbi->mmap_length;) {
		struct mb_mmap_entry *e = (void *)(uintptr_t)(mbi->mmap_addr + off);
		printf("mmap: base 0x%lx len 0x%lx type %u\n", e->addr, e->len, e->type);
		if (e->type == 1 && e->addr == 0x100000 && e->len >= 0x100000)
			found = true;
		off += e->size + 4;
	}
	check(found, "mmap has usable RAM starting at 0x100000");
}

int main(void)
{
	struct mb_info *mbi = multiboot_info();

	printf("Hello from the turtles guest runtime\n");
	check_eq(mb_magic, MB_BOOT_MAGIC, "multiboot magic in EAX");
	check(mbi->flags & MBI_MEM, "multiboot mem_lower/mem_upper flag (bit 0) set");
	printf("mem_lower %u KiB, mem_upper %u KiB\n", mbi->mem_lower, mbi->mem_upper);
	check(mbi->mem_lower >= 512 && mbi->mem_lower <= 640, "mem_lower in 512..640 KiB");
	check(mbi->mem_upper >= 16 * 1024, "mem_upper >= 16 MiB");
	check_cmdline(mbi);
	check_mmap(mbi);
	/* Runtime sanity: we run at CPL 0 in 64-bit mode with paging and PAE. */
	check_eq(read_cs() & 3, 0, "CPL is 0");
	check(rdmsr(MSR_EFER) & EFER_LMA, "IA32_EFER.LMA set (IA-32e mode active)");
	check((read_cr0() & (CR0_PG | CR0_PE)) == (CR0_PG | CR0_PE), "CR0.PG and CR0.PE set");
	check(read_cr4() & CR4_PAE, "CR4.PAE set");
	char buf[64];
	snprintf(buf, sizeof(buf), "%5d|%-4x|%04X|%c|%s|%lld", -42, 0xab, 0xbeef, 'z', "ok", -1ll);
	check(strcmp(buf, "  -42|ab  |BEEF|z|ok|-1") == 0, "printf formatting");
	return 0;
}
