/* test.c - the reporting API: exactly one line per check, a summary, an exit code */
#include "rt.h"

static unsigned passed, failed, skipped;

void check(bool cond, const char *name)
{
	if (cond) {
		passed++;
		printf("PASS: %s\n", name);
	} else {
		failed++;
		printf("FAIL: %s\n", name);
	}
}

void check_eq(uint64_t got, uint64_t expected, const char *name)
{
	if (got == expected) {
		passed++;
		printf("PASS: %s\n", name);
	} else {
		failed++;
		printf("FAIL: %s (got 0x%lx, expected 0x%lx)\n", name, got, expected);
	}
}

void checkf(bool cond, const char *fmt, ...)
{
	char name[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	check(cond, name);
}

void check_eqf(uint64_t got, uint64_t expected, const char *fmt, ...)
{
	char name[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	check_eq(got, expected, name);
}

void skip(const char *name, const char *why)
{
	skipped++;
	printf("SKIP: %s (%s)\n", name, why);
}

void skipf(const char *why, const char *fmt, ...)
{
	char name[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	skip(name, why);
}

void test_done(void)
{
	printf("SUMMARY: %u passed, %u failed, %u skipped\n", passed, failed, skipped);
	exit_qemu(failed ? 1 : 0);
}

void exit_qemu(uint32_t code)
{
	outl(0xf4, code);
	/* No isa-debug-exit device: stop here. */
	cli();
	for (;;)
		hlt();
}
