/* desc.c - GDT, 64-bit TSS and IDT setup */
#include "rt.h"

/* Access bytes: P=0x80, DPL<<5, S=0x10, type. Flags nibble: G=8, D/B=4, L=2. */
uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16))) = {
	[SEL_KCODE64 / 8] = 0x00AF9A000000FFFFull, /* DPL0 exec/read, L=1 */
	[SEL_KDATA / 8] = 0x00CF92000000FFFFull,   /* DPL0 read/write, 4 GiB */
	[SEL_UCODE32 / 8] = 0x00CFFA000000FFFFull, /* DPL3 exec/read, D=1 */
	[SEL_UDATA / 8] = 0x00CFF2000000FFFFull,
	[SEL_UCODE64 / 8] = 0x00AFFA000000FFFFull, /* DPL3 exec/read, L=1 */
	[SEL_UDATA2 / 8] = 0x00CFF2000000FFFFull,
	[SEL_KCODE32 / 8] = 0x00CF9A000000FFFFull,
	[SEL_CODE16 / 8] = 0x00009A000000FFFFull,  /* 16-bit, byte granular, 64 KiB */
	[SEL_DATA16 / 8] = 0x000092000000FFFFull,
};

struct {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed)) gdt_desc = { sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt };

struct tss64 tss __attribute__((aligned(16)));
_Static_assert(offsetof(struct tss64, ist[1]) == 0x24, "IST1 at 0x24");
_Static_assert(offsetof(struct tss64, iomap_base) == 0x66, "I/O map base at 0x66");
struct idt_gate idt[256] __attribute__((aligned(16)));
static struct {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed)) idt_desc = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };

static uint8_t ist_stacks[4][KSTACK_SIZE] __attribute__((aligned(16)));
static uint8_t rsp0_stack[KSTACK_SIZE] __attribute__((aligned(16)));

uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (uint64_t)(limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)(flags & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
}

void gdt_set_sys(int idx, uint64_t lo, uint64_t hi)
{
	gdt[idx] = lo;
	gdt[idx + 1] = hi;
}

void gdt_set_call_gate(int idx, uint16_t sel, uint64_t target, int dpl)
{
	uint64_t lo = (target & 0xffff) | ((uint64_t)sel << 16) |
		      ((uint64_t)(0x80 | (dpl << 5) | GATE_CALL) << 40) |
		      ((target >> 16 & 0xffff) << 48);
	gdt_set_sys(idx, lo, target >> 32);
}

void gdt_load(void)
{
	__asm__ volatile("lgdt %0" ::"m"(gdt_desc));
}

void gdt_init(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss;
	uint32_t limit = sizeof(tss) - 1;

	memset(&tss, 0, sizeof(tss));
	tss.rsp[0] = (uint64_t)(uintptr_t)(rsp0_stack + sizeof(rsp0_stack));
	for (int i = 1; i <= 3; i++)
		tss.ist[i] = (uint64_t)(uintptr_t)(ist_stacks[i] + KSTACK_SIZE);
	tss.iomap_base = offsetof(struct tss64, iomap);
	memset(tss.iomap, 0xff, sizeof(tss.iomap)); /* deny all; last byte must be 0xff */
	/* 64-bit available TSS, type 9, SDM Vol.3A 9.2.3 */
	gdt_set_sys(SEL_TSS / 8, seg_desc((uint32_t)base, limit, 0x89, 0), base >> 32);
	gdt_load();
	__asm__ volatile("ltr %w0" ::"r"(SEL_TSS));
}

void tss_io_deny(uint16_t port, int deny)
{
	if (deny)
		tss.iomap[port / 8] |= 1u << (port % 8);
	else
		tss.iomap[port / 8] &= ~(1u << (port % 8));
}

void idt_set(int vec, uint64_t handler, int ist, int dpl, int type)
{
	struct idt_gate *g = &idt[vec];
	g->off0 = handler & 0xffff;
	g->sel = SEL_KCODE64;
	g->ist = ist & 7;
	g->attr = 0x80 | (dpl << 5) | type;
	g->off1 = (handler >> 16) & 0xffff;
	g->off2 = handler >> 32;
	g->rsv = 0;
}

void idt_set_ist(int vec, int ist) { idt[vec].ist = ist & 7; }
void idt_set_dpl(int vec, int dpl) { idt[vec].attr = (idt[vec].attr & ~0x60) | (dpl << 5); }

void idt_set_present(int vec, int present)
{
	if (present)
		idt[vec].attr |= 0x80;
	else
		idt[vec].attr &= ~0x80;
}

void idt_load(void)
{
	__asm__ volatile("lidt %0" ::"m"(idt_desc));
}

void idt_init(void)
{
	for (int v = 0; v < 256; v++)
		idt_set(v, isr_stub(v), 0, 0, GATE_INT);
	idt_set_dpl(3, 3); /* INT3 usable from ring 3 */
	idt_set_dpl(VEC_USER_EXIT, 3);
	idt_set_ist(8, IST_DF);
	idt_set_ist(2, IST_NMI);
	idt_load();
}
