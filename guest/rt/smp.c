/* smp.c - start application processors with INIT-SIPI-SIPI (SDM Vol.3A 11.4.4.1,
 * "Typical BSP Initialization Sequence") */
#include "rt.h"

extern char ap_blob_start[], ap_blob_end[], ap_blob_gdtr[];
extern struct {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed)) gdt_desc;

uint32_t ap_cr3, ap_efer;
volatile uint32_t ap_next_idx;
uint64_t ap_stack_base; /* AP i uses [base + (i-1)*KSTACK_SIZE, base + i*KSTACK_SIZE) */
static void (*ap_fn)(int);
static volatile int ap_started;

void ap_main_c(int idx);

void ap_main_c(int idx)
{
	gdt_load();
	idt_load();
	apic_enable();
	__atomic_add_fetch(&ap_started, 1, __ATOMIC_SEQ_CST);
	ap_fn(idx);
}

static void install_blob(void)
{
	uint8_t *dst = phys_ptr(LOW_AP_TRAMP);
	uint32_t base = (uint32_t)gdt_desc.base;

	memcpy(dst, ap_blob_start, ap_blob_end - ap_blob_start);
	memcpy(dst + (ap_blob_gdtr - ap_blob_start), &gdt_desc.limit, 2);
	memcpy(dst + (ap_blob_gdtr - ap_blob_start) + 2, &base, 4);
}

/* expected = number of APs to wait for */
int smp_start_aps(void (*fn)(int idx), int expected)
{
	install_blob();
	ap_fn = fn;
	ap_cr3 = (uint32_t)(read_cr3() & 0xfffff000);
	ap_efer = (uint32_t)(rdmsr(MSR_EFER) & (EFER_SCE | EFER_LME | EFER_NXE));
	ap_next_idx = 1;
	ap_stack_base = (uint64_t)(uintptr_t)alloc_pages((expected + 1) * (KSTACK_SIZE / 4096));
	apic_enable();
	/* ICR: destination shorthand 11b (all excluding self) | level assert | mode */
	apic_icr(0, 0x000C4500); /* INIT */
	udelay(10000);
	for (int i = 0; i < 2; i++) {
		apic_icr(0, 0x000C4600 | (LOW_AP_TRAMP >> 12)); /* STARTUP, vector 0x08 */
		udelay(200);
	}
	for (int ms = 0; ms < 2000 && ap_started < expected; ms++)
		udelay(1000);
	return ap_started;
}
