/*
 * fuzz_loader: malformed kernel images must be refused with a message, never crash.
 *
 *   robust_fuzz_loader [--count N] [--seed S] [--only I] [--sample N] [--turtles PATH]
 *                      [--keep DIR] [--long] [-v] KERNEL...
 *
 * Takes valid kernels (the build's guest/hello.elf, plus an ELF64 twin of each ELF32
 * one, made here: same segments under ELF64 headers) and derives N
 * variants (fixed seed) by bit flips, truncations, edits of e_phoff / e_phnum / e_entry
 * / the ELF class, of p_type / p_offset / p_filesz / p_memsz / p_paddr, Multiboot
 * headers with the a.out kludge bit and random header addresses, headers moved to the
 * end of the 8 KiB search window or of the file, and random --initrd / --append
 * strings. Each variant goes through loader_load() in this process:
 *   - it returns 0 or -1, and never touches host memory outside guest RAM (guard zones
 *     around RAM are checked; the sanitizer build catches everything else);
 *   - -1 comes with a message on stderr, every line starting with "turtles: ";
 *   - 0 leaves the Multiboot information, the GDT and (for plain ELF64) the page tables
 *     inside RAM, and a Multiboot entry point below 4 GiB.
 * Then a sample of the variants (--sample, default 50) runs through the real process as
 * `turtles run --kernel V -m M --max-insns 200000 --deterministic --timeout 10`: it must
 * exit (no signal, no sanitizer report) with a documented status, and with status 2
 * exactly when loader_load() refused the variant in-process.
 */
#include <elf.h>

#include "robust.h"
#include "vmm/loader.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define GUARD 65536 /* bytes of guard on either side of guest RAM */
#define GUARD_BYTE 0xA5
#define MB_SEARCH 8192

/* ---- Guest RAM with guard zones ----------------------------------------------------- */

struct guarded_ram {
	struct bus bus;
	uint8_t *block;     /* GUARD + RAM + GUARD, from malloc so that ASan watches it */
	uint8_t *mmap_ram;  /* what bus_init mapped, restored before bus_destroy */
	unsigned mib;
};

static int ram_init(struct guarded_ram *g, unsigned mib)
{
	g->mib = mib;
	if (bus_init(&g->bus, (uint64_t)mib << 20))
		return -1;
	g->block = malloc(GUARD + g->bus.ram_size + GUARD);
	if (!g->block)
		return -1;
	memset(g->block, GUARD_BYTE, GUARD);
	memset(g->block + GUARD + g->bus.ram_size, GUARD_BYTE, GUARD);
	g->mmap_ram = g->bus.ram;
	g->bus.ram = g->block + GUARD;
	return 0;
}

static bool ram_guards_intact(const struct guarded_ram *g)
{
	for (size_t i = 0; i < GUARD; i++)
		if (g->block[i] != GUARD_BYTE || g->block[GUARD + g->bus.ram_size + i] != GUARD_BYTE)
			return false;
	return true;
}

static void ram_destroy(struct guarded_ram *g)
{
	g->bus.ram = g->mmap_ram;
	bus_destroy(&g->bus);
	free(g->block);
}

/* ---- Mutations --------------------------------------------------------------------------- */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static uint64_t interesting(struct rng *r, uint64_t file_len)
{
	const uint64_t v[] = {
		0, 1, 2, 3, 4, 0x20, 0x34, 0x40, 0xFFF, 0x1000, 0x1001, 0x2000, 0xFFFF, 0x10000,
		0x100000, 0x100020, 0x1FFFFF, 0x200000, 0x1000000, 0x7FFFFFFF, 0x80000000,
		0xFFFFF000, 0xFFFFFFF0, 0xFFFFFFFF, 0x100000000ULL, 0x7FFFFFFFFFFFFFFFULL,
		0x8000000000000000ULL, 0xFFFFFFFFFFFFF000ULL, 0xFFFFFFFFFFFFFFFFULL,
		file_len, file_len - 1, file_len + 1, file_len - 32, file_len / 2,
		(3ULL << 20) - 1, 3ULL << 20, (16ULL << 20) - 0x1000, 16ULL << 20,
		(128ULL << 20) - 0x100, 128ULL << 20,
	};
	switch (rng_below(r, 4)) {
	case 0: return rng_next(r);
	case 1: return rng_next(r) & 0xFFFFFFFF;
	default: return v[rng_below(r, ARRAY_LEN(v))];
	}
}

static void put_le(uint8_t *p, int size, uint64_t v)
{
	for (int i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Overwrite a field of size bytes at off if it lies inside the buffer. */
static void set_field(struct buf *b, uint64_t off, int size, uint64_t v)
{
	if (off + (uint64_t)size <= b->len)
		put_le(b->p + off, size, v);
}

static bool is_elf64(const struct buf *b)
{
	return b->len > EI_CLASS && b->p[EI_CLASS] == ELFCLASS64;
}

static uint64_t get_le(const uint8_t *p, int size)
{
	uint64_t v = 0;
	for (int i = size - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* File offset of program header i as the (possibly already mutated) header says. */
static uint64_t phdr_at(const struct buf *b, int i)
{
	if (is_elf64(b))
		return b->len >= sizeof(Elf64_Ehdr)
			       ? get_le(b->p + offsetof(Elf64_Ehdr, e_phoff), 8) +
					 (uint64_t)i * sizeof(Elf64_Phdr)
			       : UINT64_MAX;
	return b->len >= sizeof(Elf32_Ehdr)
		       ? get_le(b->p + offsetof(Elf32_Ehdr, e_phoff), 4) +
				 (uint64_t)i * sizeof(Elf32_Phdr)
		       : UINT64_MAX;
}

static void mutate_ehdr(struct buf *b, struct rng *r)
{
	bool e64 = is_elf64(b);
	uint64_t v = interesting(r, b->len);
	switch (rng_below(r, 7)) {
	case 0: set_field(b, e64 ? offsetof(Elf64_Ehdr, e_phoff) : offsetof(Elf32_Ehdr, e_phoff),
			  e64 ? 8 : 4, v); break;
	case 1: set_field(b, e64 ? offsetof(Elf64_Ehdr, e_phnum) : offsetof(Elf32_Ehdr, e_phnum),
			  2, rng_below(r, 2) ? rng_below(r, 8) : v); break;
	case 2: set_field(b, e64 ? offsetof(Elf64_Ehdr, e_entry) : offsetof(Elf32_Ehdr, e_entry),
			  e64 ? 8 : 4, v); break;
	case 3: set_field(b, EI_CLASS, 1, rng_below(r, 4)); break; /* 32 <-> 64, bad */
	case 4: set_field(b, EI_DATA, 1, rng_below(r, 3)); break;
	case 5: set_field(b, offsetof(Elf32_Ehdr, e_machine), 2,
			  (uint64_t[]){ EM_386, EM_X86_64, 0, 0xFFFF }[rng_below(r, 4)]); break;
	default: set_field(b, e64 ? offsetof(Elf64_Ehdr, e_phentsize)
				  : offsetof(Elf32_Ehdr, e_phentsize), 2, v); break;
	}
}

/* A small signed offset, for values just inside or just beyond a boundary. */
static uint64_t near(struct rng *r)
{
	return rng_below(r, 65) - 32;
}

static void mutate_phdr(struct buf *b, struct rng *r, uint64_t ram)
{
	bool e64 = is_elf64(b);
	uint64_t at = phdr_at(b, (int)rng_below(r, 3));
	if (at == UINT64_MAX || at > b->len)
		return;
	int w = e64 ? 8 : 4;
	uint64_t o_off = at + (e64 ? offsetof(Elf64_Phdr, p_offset) : offsetof(Elf32_Phdr, p_offset));
	uint64_t o_filesz = at + (e64 ? offsetof(Elf64_Phdr, p_filesz) : offsetof(Elf32_Phdr, p_filesz));
	uint64_t o_memsz = at + (e64 ? offsetof(Elf64_Phdr, p_memsz) : offsetof(Elf32_Phdr, p_memsz));
	uint64_t o_paddr = at + (e64 ? offsetof(Elf64_Phdr, p_paddr) : offsetof(Elf32_Phdr, p_paddr));
	uint64_t v = interesting(r, b->len);
	/* The current values, for edits relative to the file's and RAM's ends. */
	uint64_t off = 0, filesz = 0, memsz = 0, paddr = 0;
	if (at + (e64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) <= b->len) {
		off = get_le(b->p + o_off, w);
		filesz = get_le(b->p + o_filesz, w);
		memsz = get_le(b->p + o_memsz, w);
		paddr = get_le(b->p + o_paddr, w);
	}
	switch (rng_below(r, 9)) {
	case 0: set_field(b, at, 4, rng_below(r, 2) ? PT_LOAD : v); break; /* p_type */
	case 1: set_field(b, o_off, w, v); break;
	case 2: set_field(b, o_filesz, w, v); break;
	case 3: set_field(b, o_memsz, w, v); break;
	case 4: set_field(b, o_paddr, w, v); break;
	case 5: set_field(b, o_paddr, w, ram - memsz + near(r)); break;  /* ends at RAM's end */
	case 6: set_field(b, o_memsz, w, ram - paddr + near(r)); break;
	case 7: set_field(b, o_filesz, w, b->len - off + near(r)); break; /* ends at EOF */
	default: set_field(b, o_off, w, b->len - filesz + near(r)); break;
	}
}

/* Offset of the first Multiboot header in the search window, or -1. */
static long find_mb(const struct buf *b)
{
	for (size_t off = 0; off + 12 <= b->len && off + 12 <= MB_SEARCH; off += 4) {
		uint32_t w[3];
		memcpy(w, b->p + off, 12);
		if (w[0] == MB_MAGIC && w[0] + w[1] + w[2] == 0)
			return (long)off;
	}
	return -1;
}

/* Write a Multiboot header with the a.out kludge bit and addresses that are right,
 * slightly off or random, relative to a header at file offset hoff. */
static void mutate_mb(struct buf *b, struct rng *r, uint64_t ram)
{
	long hoff = find_mb(b);
	if (hoff >= 0 && rng_below(r, 5) == 0) {
		b->p[hoff] ^= 0xFF; /* no header: an ELF64 then boots as a plain long-mode ELF */
		return;
	}
	if (hoff < 0 || rng_below(r, 4) == 0) {
		/* Put one somewhere: near the end of the search window, or of the file. */
		uint64_t cands[] = { 0, MB_SEARCH - 12, MB_SEARCH - 16, MB_SEARCH - 32,
				     b->len >= 12 ? (b->len - 12) & ~3ULL : 0,
				     b->len >= 20 ? (b->len - 20) & ~3ULL : 0,
				     rng_below(r, MB_SEARCH / 4) * 4 };
		hoff = (long)cands[rng_below(r, ARRAY_LEN(cands))];
	}
	uint32_t flags = rng_below(r, 4) ? MB_AOUT_KLUDGE | (uint32_t)rng_below(r, 8)
					 : (uint32_t)rng_next(r);
	uint32_t base = (uint32_t)(rng_below(r, 2) ? 0x100000 : interesting(r, b->len));
	uint32_t hdr_addr = base + (uint32_t)hoff, load = base;
	uint32_t end = load + (uint32_t)b->len, bss = end + 0x1000, entry = load + 0x20;
	uint32_t *fields[] = { &hdr_addr, &load, &end, &bss, &entry };
	for (int i = 0; i < 5; i++)
		switch (rng_below(r, 8)) {
		case 0: *fields[i] = (uint32_t)interesting(r, b->len); break;
		case 1: *fields[i] += (uint32_t)near(r); break;
		case 2: *fields[i] = 0; break;
		case 3: *fields[i] = (uint32_t)(ram + near(r)); break;           /* RAM's end */
		case 4: *fields[i] = (uint32_t)(ram - b->len + near(r)); break;  /* file ends there */
		default: break;
		}
	uint32_t h[8] = { MB_MAGIC, flags, (uint32_t)-(MB_MAGIC + flags), hdr_addr, load, end,
			  bss, entry };
	size_t n = (size_t)hoff < b->len ? b->len - (size_t)hoff : 0;
	memcpy(b->p + hoff, h, n < sizeof(h) ? n : sizeof(h));
}

static void make_variant(struct buf *b, const uint8_t *orig, size_t orig_len, struct rng *r,
			 uint64_t ram)
{
	memcpy(b->p, orig, orig_len);
	b->len = orig_len;
	int n = 1 + (int)rng_below(r, 3);
	for (int k = 0; k < n; k++) {
		switch (rng_below(r, 10)) {
		case 0: case 1: { /* bit flips, mostly in the headers */
			int flips = 1 + (int)rng_below(r, 8);
			for (int i = 0; i < flips && b->len; i++) {
				size_t lim = rng_below(r, 4) ? (b->len < 0x1100 ? b->len : 0x1100) : b->len;
				b->p[rng_below(r, lim)] ^= (uint8_t)(1u << rng_below(r, 8));
			}
			break;
		}
		case 2: /* truncation */
			b->len = rng_below(r, 3) ? rng_below(r, b->len + 1)
						 : rng_below(r, b->len < 0x1100 ? b->len + 1 : 0x1100);
			break;
		case 3: case 4: mutate_ehdr(b, r); break;
		case 5: case 6: mutate_phdr(b, r, ram); break;
		case 7: case 8: mutate_mb(b, r, ram); break;
		default: /* grow with random bytes */
			if (b->len + 4096 <= b->cap) {
				size_t add = rng_below(r, 4096);
				for (size_t i = 0; i < add; i++)
					b->p[b->len + i] = (uint8_t)rng_next(r);
				b->len += add;
			}
			break;
		}
	}
}

/* A random --initrd specification: the kernel variant itself, missing files, a
 * directory, empty entries, long names, too many entries. */
static char *random_initrd(struct rng *r, const char *self)
{
	size_t cap = 16384, len = 0;
	char *s = calloc(1, cap);
	int n = rng_below(r, 8) ? 1 + (int)rng_below(r, 3) : 60 + (int)rng_below(r, 10);
	for (int i = 0; i < n && len + 5200 < cap; i++) {
		if (i)
			s[len++] = ',';
		switch (rng_below(r, 8)) {
		case 0: len += (size_t)snprintf(s + len, cap - len, "/nonexistent/module"); break;
		case 1: len += (size_t)snprintf(s + len, cap - len, "/"); break;
		case 2: break; /* empty entry */
		case 3: len += (size_t)snprintf(s + len, cap - len, " leading-space"); break;
		case 4: memset(s + len, 'x', 5000); len += 5000; break;
		default: len += (size_t)snprintf(s + len, cap - len, "%s arg%d", self, i); break;
		}
	}
	return s;
}

static char *random_append(struct rng *r)
{
	/* Up to 120000 bytes: one argument of the process sample may not exceed 128 KiB
	 * (Linux MAX_ARG_STRLEN). */
	size_t n = rng_below(r, 4) ? rng_below(r, 64) : rng_below(r, 120000);
	char *s = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		s[i] = (char)(' ' + rng_below(r, 95));
	s[n] = 0;
	return s;
}

/* ---- Driver -------------------------------------------------------------------------------- */

struct input {
	const char *path;
	char name[512]; /* path of a derived input, for messages */
	uint8_t *data;
	size_t len;
};

static int read_input(const char *path, struct input *in)
{
	in->path = path;
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	in->data = malloc(n > 0 ? (size_t)n : 1);
	in->len = (size_t)n;
	int rc = n > 0 && fread(in->data, 1, in->len, f) == in->len ? 0 : -1;
	fclose(f);
	return rc;
}

/* The ELF64 twin of a valid ELF32 kernel: the same segments at the same file offsets
 * under an ELF64 header and program headers (both fit below the first segment), so the
 * fuzzer covers the ELF64 paths (Multiboot ELF64, and plain long-mode ELF64 once a
 * mutation breaks the Multiboot magic). Returns -1 if in is not a suitable ELF32. */
static int derive_elf64(const struct input *in, struct input *out)
{
	Elf32_Ehdr eh;
	if (in->len < sizeof(eh) || memcmp(in->data, ELFMAG, SELFMAG) ||
	    in->data[EI_CLASS] != ELFCLASS32)
		return -1;
	memcpy(&eh, in->data, sizeof(eh));
	uint64_t first = UINT64_MAX;
	Elf64_Phdr ph64[8];
	if (eh.e_phnum == 0 || eh.e_phnum > 8 ||
	    eh.e_phoff + (uint64_t)eh.e_phnum * sizeof(Elf32_Phdr) > in->len)
		return -1;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf32_Phdr p;
		memcpy(&p, in->data + eh.e_phoff + i * sizeof(p), sizeof(p));
		ph64[i] = (Elf64_Phdr){ .p_type = p.p_type, .p_flags = p.p_flags,
					.p_offset = p.p_offset, .p_vaddr = p.p_vaddr,
					.p_paddr = p.p_paddr, .p_filesz = p.p_filesz,
					.p_memsz = p.p_memsz, .p_align = p.p_align };
		if (p.p_type == PT_LOAD && p.p_filesz && p.p_offset < first)
			first = p.p_offset;
	}
	uint64_t hdrs = sizeof(Elf64_Ehdr) + eh.e_phnum * sizeof(Elf64_Phdr);
	if (first < hdrs)
		return -1;
	Elf64_Ehdr e64 = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
			   .e_entry = eh.e_entry, .e_phoff = sizeof(Elf64_Ehdr),
			   .e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr),
			   .e_phnum = eh.e_phnum };
	memcpy(e64.e_ident, in->data, EI_NIDENT);
	e64.e_ident[EI_CLASS] = ELFCLASS64;
	snprintf(out->name, sizeof(out->name), "%s (ELF64 twin)", in->path);
	out->path = out->name;
	out->len = in->len;
	out->data = malloc(in->len);
	if (!out->data)
		return -1;
	memcpy(out->data, in->data, in->len);
	memset(out->data, 0, first);
	memcpy(out->data, &e64, sizeof(e64));
	memcpy(out->data + sizeof(e64), ph64, eh.e_phnum * sizeof(Elf64_Phdr));
	return 0;
}

/* Check the captured messages of a refusal: at least one line, all "turtles: ...". */
static const char *check_message(FILE *cap)
{
	fflush(cap);
	rewind(cap);
	char *line = NULL;
	size_t cap_len = 0;
	int lines = 0;
	const char *why = NULL;
	while (!why && getline(&line, &cap_len, cap) > 0) {
		lines++;
		if (strncmp(line, "turtles: ", 9))
			why = "a message line does not start with 'turtles: '";
	}
	free(line);
	return why ? why : lines ? NULL : "refused without a message";
}

/* If a variant crashes the loader, say which one (the sanitizers' death callback, or a
 * signal handler without them). The message is prepared before each variant. */
static char crash_msg[256];

static void report_crash(void)
{
	if (write(2, crash_msg, strlen(crash_msg)) < 0)
		return;
}

static void on_fatal_signal(int sig)
{
	report_crash();
	signal(sig, SIG_DFL);
	raise(sig);
}

extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static void catch_crashes(void)
{
	if (__sanitizer_set_death_callback) {
		__sanitizer_set_death_callback(report_crash);
		return;
	}
	const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	for (size_t i = 0; i < ARRAY_LEN(sigs); i++)
		signal(sigs[i], on_fatal_signal);
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--count N] [--seed S] [--only I] [--sample N] [--turtles PATH]\n"
		"          [--keep DIR] [--long] [-v] KERNEL...\n",
		argv0);
	exit(2);
}

static const unsigned ram_mibs[] = { 2, 16, 128 };

int main(int argc, char **argv)
{
	uint64_t seed = 0x6C6F61646572ULL;
	long count = 2000, only = -1, sample = 50;
	const char *turtles = NULL, *keep = NULL;
	bool verbose = false;
	struct input inputs[8];
	int ninputs = 0;
	char input_list[2048] = ""; /* the KERNEL arguments, for the reproduce line */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--count") && v) count = strtol(v, NULL, 0), i++;
		else if (!strcmp(a, "--seed") && v) seed = strtoull(v, NULL, 0), i++;
		else if (!strcmp(a, "--only") && v) only = strtol(v, NULL, 0), i++;
		else if (!strcmp(a, "--sample") && v) sample = strtol(v, NULL, 0), i++;
		else if (!strcmp(a, "--turtles") && v) turtles = v, i++;
		else if (!strcmp(a, "--keep") && v) keep = v, i++;
		else if (!strcmp(a, "--long")) count = 50000;
		else if (!strcmp(a, "-v")) verbose = true;
		else if (a[0] == '-') usage(argv[0]);
		else if (ninputs < (int)ARRAY_LEN(inputs)) {
			if (read_input(a, &inputs[ninputs])) {
				fprintf(stderr, "fuzz_loader: cannot read %s\n", a);
				return 2;
			}
			ninputs++;
			size_t l = strlen(input_list);
			snprintf(input_list + l, sizeof(input_list) - l, " %s", a);
		}
	}
	if (!ninputs || count <= 0 || sample < 0)
		usage(argv[0]);
	for (int i = 0, n = ninputs; i < n && ninputs < (int)ARRAY_LEN(inputs); i++)
		if (derive_elf64(&inputs[i], &inputs[ninputs]) == 0)
			ninputs++;
	setenv("ASAN_OPTIONS", "exitcode=66:detect_leaks=1", 0);
	setenv("UBSAN_OPTIONS", "exitcode=66:print_stacktrace=1", 0);
	catch_crashes();

	struct guarded_ram rams[ARRAY_LEN(ram_mibs)];
	for (size_t i = 0; i < ARRAY_LEN(ram_mibs); i++)
		if (ram_init(&rams[i], ram_mibs[i])) {
			fprintf(stderr, "fuzz_loader: cannot allocate guest RAM\n");
			return 10;
		}
	size_t maxlen = 0;
	for (int i = 0; i < ninputs; i++)
		maxlen = inputs[i].len > maxlen ? inputs[i].len : maxlen;
	struct buf b = { malloc(maxlen + 8192), 0, maxlen + 8192 };
	const char *dir = make_work_dir("fuzz-loader");
	char path[600], err_path[600];
	snprintf(path, sizeof(path), "%s/variant.elf", dir);
	snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
	FILE *cap = tmpfile();
	FILE *real_stderr = stderr;
	if (!b.p || !cap)
		return 10;

	/* Positive control: every unmutated input loads. */
	for (int i = 0; i < ninputs; i++) {
		struct boot_info bi;
		struct vmm_options opt = { .kernel = path, .append = "", .ram_mib = 16, .smp = 1 };
		if (write_file(path, inputs[i].data, inputs[i].len))
			return 2;
		int rc = loader_load(&rams[1].bus, &opt, &bi);
		loader_free(&bi);
		if (rc) {
			printf("FAIL: the unmutated input %s does not load\n", inputs[i].path);
			return 1;
		}
	}

	long first = only >= 0 ? only : 0, last = only >= 0 ? only + 1 : count;
	long every = sample ? (last - first + sample - 1) / sample : 0;
	int failures = 0, loaded = 0, refused = 0, ran = 0;
	int kinds[2] = { 0 }, histogram[256] = { 0 };
	double t0 = mono_s();
	for (long i = first; i < last && failures < 10; i++) {
		struct rng r = rng_seeded(seed, (uint64_t)i);
		const struct input *in = &inputs[rng_below(&r, (uint64_t)ninputs)];
		snprintf(crash_msg, sizeof(crash_msg),
			 "FAIL: fuzz_loader crashed on variant %ld of %s; reproduce: %s --seed "
			 "0x%llx --only %ld -v%s\n",
			 i, in->path, argv[0], (unsigned long long)seed, i, input_list);
		struct guarded_ram *g = &rams[rng_below(&r, ARRAY_LEN(rams))];
		make_variant(&b, in->data, in->len, &r, g->bus.ram_size);
		if (write_file(path, b.p, b.len)) {
			perror(path);
			return 2;
		}
		char *initrd = rng_below(&r, 8) == 0 ? random_initrd(&r, path) : NULL;
		char *append = random_append(&r);
		struct vmm_options opt = { .kernel = path, .append = append, .initrd = initrd,
					   .ram_mib = g->mib, .smp = 1 };
		struct boot_info bi;

		/* Capture the loader's messages; sanitizer reports still go to fd 2. */
		if (ftruncate(fileno(cap), 0) == 0)
			rewind(cap);
		stderr = cap;
		int rc = loader_load(&g->bus, &opt, &bi);
		stderr = real_stderr;

		const char *why = NULL;
		if (rc != 0 && rc != -1)
			why = "loader_load returned neither 0 nor -1";
		else if (!ram_guards_intact(g))
			why = "the loader wrote outside guest RAM";
		else if (rc == -1)
			why = check_message(cap);
		else if ((uint64_t)bi.mbi + 0x80 > g->bus.ram_size || bi.mbi == 0)
			why = "Multiboot information outside RAM";
		else if ((uint64_t)bi.gdt + 32 > g->bus.ram_size || bi.gdt == 0)
			why = "loader GDT outside RAM";
		else if (bi.kind == BOOT_LONG64 && (bi.cr3 == 0 || bi.cr3 + 6 * 4096 > g->bus.ram_size))
			why = "identity-map page tables outside RAM";
		else if (bi.kind == BOOT_MULTIBOOT && bi.entry >> 32)
			why = "Multiboot entry point above 4 GiB accepted";
		rc == 0 ? loaded++ : refused++;
		if (rc == 0)
			kinds[bi.kind == BOOT_LONG64]++;
		loader_free(&bi);
		if (why)
			memset(g->block, GUARD_BYTE, GUARD),
				memset(g->block + GUARD + g->bus.ram_size, GUARD_BYTE, GUARD);

		/* Every so often the same variant through the real process. */
		if (!why && turtles && every && (i - first) % every == 0) {
			char ram[16];
			snprintf(ram, sizeof(ram), "%u", g->mib);
			char *args[16] = { (char *)turtles, "run", "--kernel", path, "-m", ram,
					   "--max-insns", "200000", "--deterministic", "--timeout",
					   "10" };
			int na = 11;
			if (initrd)
				args[na++] = "--initrd", args[na++] = initrd;
			args[na++] = "--append", args[na++] = append;
			struct run_result res;
			if (run_process(args, NULL, err_path, 60, &res)) {
				perror("fork");
				return 10;
			}
			ran++;
			if (res.exited)
				histogram[res.status & 0xFF]++;
			if (res.exited && res.status == 127) {
				fprintf(stderr, "fuzz_loader: cannot run %s\n", turtles);
				return 2;
			}
			if (res.timed_out)
				why = "turtles did not exit (killed after 60 s)";
			else if (!res.exited)
				why = "turtles was killed by a signal";
			else if (file_has_sanitizer_report(err_path) || res.status == 66)
				why = "sanitizer report from turtles";
			else if (!documented_status(res.status))
				why = "turtles exited with an undocumented status";
			else if ((res.status == 2) != (rc == -1))
				why = rc ? "loader_load refused the image but turtles did not exit 2"
					 : "loader_load took the image but turtles exited 2";
			if (verbose)
				printf("  variant %ld through turtles: status %d\n", i, res.status);
			if (why)
				print_head(err_path, 20);
		}
		if (verbose || why)
			printf("%s variant %ld of %s (%zu bytes, -m %u%s): loader_load %d%s%s\n",
			       why ? "FAIL:" : "ok:", i, in->path, b.len, g->mib,
			       initrd ? ", --initrd" : "", rc, why ? " - " : "", why ? why : "");
		if (why) {
			failures++;
			fflush(cap);
			rewind(cap);
			char line[512];
			while (fgets(line, sizeof(line), cap))
				printf("    | %s", line);
			char saved[700];
			snprintf(saved, sizeof(saved), "%s/loader-%016llx-%ld.elf", keep ? keep : dir,
				 (unsigned long long)seed, i);
			if (write_file(saved, b.p, b.len) == 0)
				printf("  variant saved as %s (-m %u%s)\n  reproduce: %s --seed 0x%llx "
				       "--only %ld -v%s%s%s\n", saved, g->mib,
				       initrd ? ", with a random --initrd" : "", argv[0],
				       (unsigned long long)seed, i, turtles ? " --turtles " : "",
				       turtles ? turtles : "", input_list);
		}
		free(initrd);
		free(append);
	}
	printf("fuzz_loader: %ld variants (seed 0x%llx) in %.1f s: %d loaded (%d Multiboot, %d "
	       "ELF64 long mode), %d refused; %d run through turtles, statuses:",
	       last - first, (unsigned long long)seed, mono_s() - t0, loaded, kinds[0], kinds[1],
	       refused, ran);
	for (int s = 0; s < 256; s++)
		if (histogram[s])
			printf(" %d:%d", s, histogram[s]);
	printf("\n%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	/* A fuzzer whose variants all load or all fail tests nothing. */
	if (last - first >= 200 && (loaded < (last - first) / 50 || refused < (last - first) / 50)) {
		printf("FAIL: the mutations are degenerate (%d loaded, %d refused)\n", loaded, refused);
		failures++;
	}
	fclose(cap);
	unlink(path);
	unlink(err_path);
	if (!failures)
		rmdir(dir);
	for (size_t i = 0; i < ARRAY_LEN(rams); i++)
		ram_destroy(&rams[i]);
	for (int i = 0; i < ninputs; i++)
		free(inputs[i].data);
	free(b.p);
	return failures ? 1 : 0;
}
