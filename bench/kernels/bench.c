/* bench.c - command-line parameters and the result line (see bench.h) */
#include "bench.h"

static const char *cmdline(void)
{
	struct mb_info *mbi = multiboot_info();

	if (mb_magic != MB_BOOT_MAGIC || !(mbi->flags & MBI_CMDLINE))
		return "";
	return (const char *)(uintptr_t)mbi->cmdline;
}

static uint64_t parse_u64(const char *s)
{
	uint64_t v = 0;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (;; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		v = v * base + d;
	}
	switch (*s) { /* binary suffixes: 4k, 64m, 1g */
	case 'k': case 'K': return v << 10;
	case 'm': case 'M': return v << 20;
	case 'g': case 'G': return v << 30;
	default: return v;
	}
}

uint64_t bench_arg(const char *key, uint64_t def)
{
	const char *s = cmdline();
	size_t klen = strlen(key);

	/* Tokens are separated by spaces; the first is the kernel's file name. */
	while (*s) {
		while (*s == ' ')
			s++;
		if (!strncmp(s, key, klen) && s[klen] == '=')
			return parse_u64(s + klen + 1);
		while (*s && *s != ' ')
			s++;
	}
	return def;
}

uint64_t bench_iterations(void)
{
	uint64_t n = bench_arg("n", 1000);
	return n ? n : 1;
}

void bench_done(const char *name, uint64_t n, unsigned insns_per_iter, uint64_t checksum)
{
	printf("bench: name=%s n=%lu insns_per_iter=%u checksum=0x%016lx\n", name, n,
	       insns_per_iter, checksum);
	exit_qemu(0);
}

void bench_fail(const char *name, const char *why)
{
	printf("FAIL: %s: %s\n", name, why);
	exit_qemu(1);
}
