/* modes.c - C wrappers around modeswitch.S */
#include "rt.h"

void mode_call(uint32_t mode, uint32_t target, uint32_t regs);
void compat_call(uint32_t target, struct rm_regs *r);
extern char lowblob_start[], lowblob_end[], lowblob_gdtr[];
extern struct {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed)) gdt_desc;

/* Copy the real-mode trampoline below 1 MiB and give it a 32-bit GDTR image. */
static void install_lowblob(void)
{
	uint8_t *dst = phys_ptr(LOW_MODESW);
	size_t n = lowblob_end - lowblob_start;
	if (n > LOW_MODESW_REGS - LOW_MODESW) {
		printf("FAIL: mode-switch trampoline (%lu bytes) overlaps its register area\n", n);
		exit_qemu(1);
	}
	memcpy(dst, lowblob_start, n);
	uint8_t *g = dst + (lowblob_gdtr - lowblob_start);
	uint32_t base = (uint32_t)gdt_desc.base;
	memcpy(g, &gdt_desc.limit, 2);
	memcpy(g + 2, &base, 4);
}

void run_pm32(void (*fn)(void), struct rm_regs *r)
{
	mode_call(0, (uint32_t)(uintptr_t)fn, (uint32_t)(uintptr_t)r);
}

void run_real(const void *code, uint32_t len, struct rm_regs *r)
{
	install_lowblob();
	memcpy(phys_ptr(LOW_RM_CODE), code, len);
	memcpy(phys_ptr(LOW_MODESW_REGS), r, sizeof(*r));
	mode_call(1, 0, LOW_MODESW_REGS);
	memcpy(r, phys_ptr(LOW_MODESW_REGS), sizeof(*r));
}

void run_compat(void (*fn)(void), struct rm_regs *r)
{
	compat_call((uint32_t)(uintptr_t)fn, r);
}
