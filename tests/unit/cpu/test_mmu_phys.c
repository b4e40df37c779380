/*
 * The physical side of accesses: page-crossing accesses (both pages checked before
 * anything is written), MMIO dispatch through the bus, the per-CPU xAPIC page (SDM
 * 11.4.1), and writes to pages that hold decoded code (bus.h code-page tracking).
 */
#include "mmu_harness.h"

#define PA_A 0x00200000ULL
#define PA_B 0x00305000ULL   /* not adjacent to PA_A */
#define LA 0x0000000012345000ULL
#define MMIO_BASE 0xD0000000ULL
#define APIC_DEFAULT 0xFEE00000ULL

/* --- a fake device and a fake APIC ------------------------------------------------ */

struct dev_log {
	int reads, writes;
	uint64_t last_off, last_val;
	int last_size;
};
static struct dev_log dev;

static uint64_t dev_read(void *opaque, uint64_t off, int size)
{
	(void)opaque;
	dev.reads++;
	dev.last_off = off;
	dev.last_size = size;
	return 0x1122334455667788ULL & (size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1);
}

static void dev_write(void *opaque, uint64_t off, int size, uint64_t v)
{
	(void)opaque;
	dev.writes++;
	dev.last_off = off;
	dev.last_size = size;
	dev.last_val = v;
}

static const struct mmio_ops dev_ops = { dev_read, dev_write };

static uint32_t apic_regs[1024];
static int apic_reads, apic_writes;

static uint32_t apic_mmio_read(void *apic, uint32_t off)
{
	(void)apic;
	apic_reads++;
	return apic_regs[off / 4];
}

static void apic_mmio_write(void *apic, uint32_t off, uint32_t v)
{
	(void)apic;
	apic_writes++;
	apic_regs[off / 4] = v;
}

static const struct cpu_apic_ops apic_ops = { .mmio_read = apic_mmio_read,
					      .mmio_write = apic_mmio_write };

/* --- page crossing ------------------------------------------------------------------ */

/* Reads and writes that cross a page go to two unrelated physical pages. */
static void test_crossing(void)
{
	mode_long64(false);
	map64(LA, PA_A, 1, P | RW);
	uint64_t *pte2 = map64(LA + 0x1000, PA_B, 1, P | RW);
	memcpy(B.ram + PA_A + 0xFFC, "\x01\x02\x03\x04", 4);
	memcpy(B.ram + PA_B, "\x05\x06\x07\x08", 4);
	CHECK_EQ(peek(LA + 0xFFC), 0x0807060504030201ULL);
	CHECK_EQ(wr(SEG_DS, LA + 0xFFF, 2, 0xAABBCCDD), NO_FAULT);
	CHECK_EQ(B.ram[PA_A + 0xFFF], 0xDD);
	CHECK_EQ(B.ram[PA_B], 0xCC);
	CHECK_EQ(B.ram[PA_B + 2], 0xAA);
	/* Second page read-only (WP): #PF with CR2 = its first byte, nothing written. */
	C->cr0 |= CR0_WP;
	tlb_ctl_written(C);
	*pte2 = PA_B | P;
	tlb_flush_page(C, LA + 0x1000);
	memset(B.ram + PA_A + 0xFF8, 0x11, 8);
	CHECK_PF(wr8(LA + 0xFFA, 0xFFFFFFFFFFFFFFFFULL), PFEC_P | PFEC_W, LA + 0x1000);
	CHECK_EQ(*ram64(PA_A + 0xFF8), 0x1111111111111111ULL);
	CHECK_PF(chkw(SEG_DS, LA + 0xFF0, 0x20), PFEC_P | PFEC_W, LA + 0x1000);
	/* Second page not present: the read faults too. */
	*pte2 = 0;
	tlb_flush_page(C, LA + 0x1000);
	uint64_t v;
	CHECK_PF(rd8(LA + 0xFFF, &v), 0, LA + 0x1000);
	/* First page faults first. */
	CHECK_PF(rd8(LA - 4, &v), 0, LA - 4);
	C->cr0 &= ~CR0_WP;
	tlb_ctl_written(C);
}

/* Outside 64-bit mode linear addresses wrap at 4 GiB (SDM 3.4): a dword at linear
 * FFFFFFFEh takes its last bytes from linear address 0. */
static void test_wrap_4g(void)
{
	mode_prot32(true, 0);
	map32(0xFFFFF000, PA_A, P | RW, P | RW);
	map32(0x00000000, PA_B, P | RW, P | RW);
	B.ram[PA_A + 0xFFE] = 0x11;
	B.ram[PA_A + 0xFFF] = 0x22;
	B.ram[PA_B] = 0x33;
	B.ram[PA_B + 1] = 0x44;
	uint64_t v;
	/* Offset + 3 beyond the 4 GiB - 1 limit: #GP(0) first (SDM 5.3). */
	CHECK_EXC(rd(SEG_DS, 0xFFFFFFFE, 2, &v), EXC_GP, 0);
	C->seg[SEG_DS].base = 0xFFFFFFF0;     /* base + offset wraps */
	CHECK_EQ(rd(SEG_DS, 0xE, 2, &v), NO_FAULT);
	CHECK_EQ(v, 0x44332211);
	C->seg[SEG_DS].base = 0;
}

/* --- MMIO ------------------------------------------------------------------------------- */

/* MMIO pages never get a host pointer: every access reaches the device, with the
 * offset and size the instruction used. */
static void test_mmio(void)
{
	mode_long64(false);
	map64(LA, MMIO_BASE, 1, P | RW);
	memset(&dev, 0, sizeof(dev));
	uint64_t v;
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(rd(SEG_DS, LA + 0x10, 2, &v), NO_FAULT);
		CHECK_EQ(v, 0x55667788);
	}
	CHECK_EQ(dev.reads, 3);
	CHECK_EQ(dev.last_off, 0x10);
	CHECK_EQ(dev.last_size, 4);
	CHECK_EQ(wr(SEG_DS, LA + 0x20, 1, 0xBEEF), NO_FAULT);
	CHECK_EQ(wr(SEG_DS, LA + 0x20, 1, 0xBEEF), NO_FAULT);
	CHECK_EQ(dev.writes, 2);
	CHECK_EQ(dev.last_off, 0x20);
	CHECK_EQ(dev.last_size, 2);
	CHECK_EQ(dev.last_val, 0xBEEF);
	/* Instruction fetch from MMIO: bytes come through the device into a buffer. */
	const uint8_t *p;
	int avail;
	gpa_t gpa;
	int before = dev.reads;
	CHECK_EQ(fetch(LA + 0xFF8, &p, &avail, &gpa), NO_FAULT);
	CHECK_EQ(avail, 8);
	CHECK_EQ(gpa, MMIO_BASE + 0xFF8);
	CHECK_EQ(p[0], 0x88);
	CHECK_EQ(dev.reads, before + 8);
	/* Physical addresses with nothing behind them read as all-ones. */
	map64(LA + 0x1000, 0x40000000, 1, P | RW);
	CHECK_EQ(peek(LA + 0x1000), ~0ULL);
	CHECK_EQ(wr8(LA + 0x1000, 1), NO_FAULT);
}

/* A device smaller than a page inside RAM: the page is slow as a whole; the RAM part
 * still reads RAM, the device part the device. */
static void test_subpage_mmio(void)
{
	mode_long64(false);
	map64(LA, 0x00800000, 1, P | RW);
	*ram64(0x00800000) = 0x4242;
	memset(&dev, 0, sizeof(dev));
	uint64_t slow = C->tlb.stats.slow;
	CHECK_EQ(peek(LA), 0x4242);
	CHECK_EQ(peek(LA), 0x4242);
	CHECK_EQ(C->tlb.stats.slow, slow + 2);
	uint64_t v;
	CHECK_EQ(rd(SEG_DS, LA + 0x804, 2, &v), NO_FAULT);
	CHECK_EQ(dev.reads, 1);
	CHECK_EQ(dev.last_off, 4);
}

/* --- the local APIC page ---------------------------------------------------------------- */

/* SDM 11.4.1: with the xAPIC enabled (IA32_APIC_BASE EN = 1, EXTD = 0), accesses to
 * the 4 KiB at its base go to this CPU's APIC, not to memory; never the fast path. */
static void test_apic_page(void)
{
	mode_long64(false);
	C->apic_ops = &apic_ops;
	C->apic_base = APIC_DEFAULT | BIT(11);
	tlb_ctl_written(C);
	map64(LA, APIC_DEFAULT, 1, P | RW);
	apic_regs[0x80 / 4] = 0x20;
	uint64_t v;
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(rd(SEG_DS, LA + 0x80, 2, &v), NO_FAULT);
		CHECK_EQ(v, 0x20);
	}
	CHECK_EQ(apic_reads, 2);
	CHECK_EQ(wr(SEG_DS, LA + 0xB0, 2, 0), NO_FAULT);      /* EOI */
	CHECK_EQ(apic_writes, 1);
	/* A byte write merges into its dword; a byte read extracts. */
	apic_regs[0x80 / 4] = 0x11223344;
	CHECK_EQ(wr(SEG_DS, LA + 0x81, 0, 0xAA), NO_FAULT);
	CHECK_EQ(apic_regs[0x80 / 4], 0x1122AA44);
	CHECK_EQ(rd(SEG_DS, LA + 0x82, 0, &v), NO_FAULT);
	CHECK_EQ(v, 0x22);

	/* Relocated into RAM: the APIC hides the RAM page; the old base is plain
	 * memory/unbacked again. */
	C->apic_base = 0x00900000 | BIT(11);
	tlb_ctl_written(C);
	gva_t la2 = LA + 0x1000;
	map64(la2, 0x00900000, 1, P | RW);
	*ram64(0x00900000 + 0x80) = 0x777;
	int before = apic_reads;
	apic_regs[0x80 / 4] = 0x30;
	CHECK_EQ(rd(SEG_DS, la2 + 0x80, 2, &v), NO_FAULT);
	CHECK_EQ(v, 0x30);
	CHECK_EQ(apic_reads, before + 1);
	CHECK_EQ(peek(LA + 0x80), ~0ULL);
	/* x2APIC mode (EXTD = 1): no MMIO interface; the page is memory (SDM 11.12). */
	C->apic_base = 0x00900000 | BIT(11) | BIT(10);
	tlb_ctl_written(C);
	CHECK_EQ(peek(la2 + 0x80), 0x777);
	/* Disabled (EN = 0): memory too. */
	C->apic_base = 0x00900000;
	tlb_ctl_written(C);
	CHECK_EQ(peek(la2 + 0x80), 0x777);
	C->apic_ops = NULL;
	C->apic_base = 0;
	tlb_ctl_written(C);
}

/* --- code pages --------------------------------------------------------------------------- */

/* Once a page holds decoded code, writes to it leave the fast path (bus hook ->
 * tlb_drop_fast_writes) and go through bus_note_write, which bumps its generation. */
static void test_code_page(void)
{
	mode_long64(false);
	gva_t alias = LA + 0x5000;               /* a second mapping of the same page */
	map64(LA, PA_A, 1, P | RW | DIRTY);
	map64(alias, PA_A, 1, P | RW | DIRTY);
	uint64_t pfn = PA_A >> PAGE_SHIFT;
	CHECK_EQ(wr8(LA, 1), NO_FAULT);
	CHECK_EQ(wr8(alias, 2), NO_FAULT);
	uint64_t slow = C->tlb.stats.slow;
	CHECK_EQ(wr8(LA + 8, 3), NO_FAULT);      /* fast */
	CHECK_EQ(C->tlb.stats.slow, slow);
	uint32_t gen = B.page_gen[pfn];
	bus_mark_code_page(&B, pfn);             /* the decoder took code from it */
	CHECK_EQ(wr8(LA + 16, 4), NO_FAULT);
	CHECK_EQ(C->tlb.stats.slow, slow + 1);
	CHECK_EQ(B.page_gen[pfn], gen + 1);
	CHECK_EQ(B.code_page[pfn], 0);
	CHECK_EQ(*ram64(PA_A + 16), 4);
	/* The alias lost its fast write too. */
	bus_mark_code_page(&B, pfn);
	CHECK_EQ(wr8(alias + 24, 5), NO_FAULT);
	CHECK_EQ(B.page_gen[pfn], gen + 2);
	/* No longer code: fast writes come back after a slow one re-arms them. */
	CHECK_EQ(wr8(LA + 32, 6), NO_FAULT);
	slow = C->tlb.stats.slow;
	CHECK_EQ(wr8(LA + 40, 7), NO_FAULT);
	CHECK_EQ(C->tlb.stats.slow, slow);
	/* A page that is code when first written never gets a fast write. */
	gva_t la3 = LA + 0x9000;
	map64(la3, PA_B, 1, P | RW | DIRTY);
	bus_mark_code_page(&B, PA_B >> PAGE_SHIFT);
	gen = B.page_gen[PA_B >> PAGE_SHIFT];
	CHECK_EQ(wr8(la3, 1), NO_FAULT);
	CHECK_EQ(B.page_gen[PA_B >> PAGE_SHIFT], gen + 1);
	/* Reads and fetches of a code page stay fast. */
	bus_mark_code_page(&B, pfn);
	slow = C->tlb.stats.slow;
	peek(LA);
	CHECK_EQ(fx(LA), NO_FAULT);
	CHECK_EQ(C->tlb.stats.slow, slow);
	/* Filled by a read while it is a code page: the write after it is slow. */
	bus_mark_code_page(&B, PA_B >> PAGE_SHIFT);
	tlb_flush_all(C);
	peek(la3);
	gen = B.page_gen[PA_B >> PAGE_SHIFT];
	CHECK_EQ(wr8(la3, 2), NO_FAULT);
	CHECK_EQ(B.page_gen[PA_B >> PAGE_SHIFT], gen + 1);
	/* A/D updates by the page walker are writes too. */
	gpa_t pt = *ent64(LA, 2, 0) & ADDR_BITS;          /* the page table of LA */
	bus_mark_code_page(&B, pt >> PAGE_SHIFT);
	gen = B.page_gen[pt >> PAGE_SHIFT];
	map64(LA + 0x3000, PA_B, 1, P | RW);
	peek(LA + 0x3000);
	CHECK_EQ(B.page_gen[pt >> PAGE_SHIFT], gen + 1);
}

int main(void)
{
	mt_init();
	if (bus_map_mmio(&B, MMIO_BASE, 0x2000, &dev_ops, NULL) ||
	    bus_map_mmio(&B, 0x00800800, 0x10, &dev_ops, NULL))
		return 2;
	test_crossing();
	test_wrap_4g();
	test_mmio();
	test_subpage_mmio();
	test_apic_page();
	test_code_page();
	return report("mmu_phys");
}
