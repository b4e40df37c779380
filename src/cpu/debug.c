/*
 * Hardware breakpoints: matching DR0-DR3 under DR7 against fetches, data accesses and
 * I/O, and the #DB exceptions that report them (SDM Vol.3B 18.2, 18.3). How the run
 * loop and the memory paths reach this file, and RF, are described in debug.h.
 *
 * Choices where the SDM leaves room:
 *   - B0-B3 report enabled breakpoints only ("They may or may not be set if the
 *     breakpoint is not enabled", SDM 18.2.3), so that a disabled one costs nothing.
 *   - Every #DB the processor raises rewrites B0-B3 with the breakpoints it reports
 *     (all zero for single-step, task-switch and general-detect #DBs) and ORs in BD, BS
 *     and BT, which it never clears (SDM 18.2.3: "Certain debug exceptions may clear
 *     bits 0-3. The remaining contents of the DR6 register are never cleared by the
 *     processor"); the kvm-unit-tests x86 debug test expects exactly this of hardware.
 *     INT1 (ICEBP) leaves DR6 alone unless it reports pending conditions.
 *   - Data breakpoints match implicit accesses too (descriptor tables, TSS, the
 *     frames event delivery pushes), as Linux's refusal to place breakpoints on them
 *     (arch/x86 hw_breakpoint: GDT, IDT, TSS, entry stacks) implies hardware does.
 *   - An instruction breakpoint on the instruction after MOV SS / POP SS is not
 *     triggered (SDM 18.3.1.1: "the breakpoint may not be triggered").
 *   - LEN = 10B is 8 bytes (SDM 18.2.4 note: every current processor); an instruction
 *     breakpoint ignores LEN (SDM 18.2.5: other lengths than 00 are undefined).
 */
#include "cpu/debug.h"

#include "cpu/sys.h"
#include "cpu/vmx/vmx_internal.h"

/* DR7 R/Wn encodings (SDM 18.2.4). */
enum { RW_EXEC = 0, RW_WRITE = 1, RW_IO = 2, RW_RW = 3 };

static bool bp_enabled(uint64_t dr7, int n)
{
	return (dr7 >> (2 * n)) & 3; /* Ln or Gn */
}

static unsigned bp_rw(uint64_t dr7, int n)
{
	return (dr7 >> (16 + 4 * n)) & 3;
}

/* LENn: 00 1 byte, 01 2 bytes, 10 8 bytes, 11 4 bytes (SDM 18.2.4). */
static uint64_t bp_len(uint64_t dr7, int n)
{
	static const uint8_t len[4] = { 1, 2, 8, 4 };
	return len[(dr7 >> (18 + 4 * n)) & 3];
}

/* The linear address in DRn: 64 bits in IA-32e mode (also in compatibility mode,
 * SDM 18.2.6), else the low 32. */
static gva_t bp_addr(const struct cpu *cpu, int n)
{
	return (cpu->efer & EFER_LMA) ? cpu->dr[n] : (uint32_t)cpu->dr[n];
}

/* The first byte of a data or I/O breakpoint's range: "the processor uses LENn field
 * bits to mask the lower address bits in the debug registers" (SDM 18.2.5). */
static gva_t bp_base(const struct cpu *cpu, int n)
{
	return bp_addr(cpu, n) & ~(bp_len(cpu->dr[7], n) - 1);
}

/* --- arming ----------------------------------------------------------------------- */

static void add_page(gva_t *pages, unsigned *n, gva_t la)
{
	gva_t page = la & PAGE_MASK;
	for (unsigned i = 0; i < *n; i++)
		if (pages[i] == page)
			return;
	pages[(*n)++] = page;
}

/* The pages a breakpoint watches: its page under either width of DRn, since the mode
 * may change without a write to the debug registers. */
static void add_bp_pages(const struct cpu *cpu, int n, gva_t *pages, unsigned *np)
{
	gva_t mask = ~(bp_len(cpu->dr[7], n) - 1);
	if (bp_rw(cpu->dr[7], n) == RW_EXEC)
		mask = ~0ULL;
	add_page(pages, np, cpu->dr[n] & mask);
	add_page(pages, np, (uint32_t)cpu->dr[n] & mask);
}

void debug_update(struct cpu *cpu)
{
	struct cpu_dbg *d = &cpu->dbg;
	uint64_t dr7 = cpu->dr[7];
	gva_t pages[16];
	unsigned np = d->npages;
	for (unsigned i = 0; i < np; i++)
		pages[i] = d->page[i];
	d->armed = 0;
	d->npages = 0;
	for (int n = 0; n < 4; n++) {
		if (!bp_enabled(dr7, n))
			continue;
		unsigned rw = bp_rw(dr7, n);
		if (rw == RW_IO) {
			/* R/W = 10 is undefined with CR4.DE = 0 (SDM 18.2.4): no breakpoint. */
			if (cpu->cr4 & CR4_DE)
				d->armed |= DBG_IO;
			continue;
		}
		d->armed |= rw == RW_EXEC ? DBG_EXEC : DBG_DATA;
		unsigned dn = d->npages;
		add_bp_pages(cpu, n, d->page, &dn);
		d->npages = (uint8_t)dn;
	}
	/* The old pages get their fast tags back, the new ones lose them. */
	for (unsigned i = 0; i < d->npages; i++)
		add_page(pages, &np, d->page[i]);
	if (cpu->tlb.ent)
		for (unsigned i = 0; i < np; i++)
			tlb_retag_page(cpu, pages[i]);
}

void debug_reset(struct cpu *cpu)
{
	cpu->dbg.hits = cpu->dbg.pending = 0;
	cpu->events &= ~CPU_EV_DBTRAP;
	debug_update(cpu);
}

/* The TLB access kinds (BIT(TLB_*)) that breakpoints on page watch. */
static unsigned tlb_deny(const struct cpu *cpu, gva_t page)
{
	static const unsigned deny[4] = {
		[RW_EXEC] = BIT(TLB_EXEC), [RW_WRITE] = BIT(TLB_WRITE), [RW_IO] = 0,
		[RW_RW] = BIT(TLB_READ) | BIT(TLB_WRITE),
	};
	uint64_t dr7 = cpu->dr[7];
	unsigned out = 0;
	for (int n = 0; n < 4; n++) {
		if (!bp_enabled(dr7, n))
			continue;
		gva_t pages[2];
		unsigned np = 0;
		add_bp_pages(cpu, n, pages, &np);
		for (unsigned i = 0; i < np; i++)
			if (pages[i] == page)
				out |= deny[bp_rw(dr7, n)];
	}
	return out;
}

void debug_tlb_strip(const struct cpu *cpu, gva_t page, uint64_t tag[3])
{
	unsigned deny = tlb_deny(cpu, page);
	for (int k = TLB_READ; k <= TLB_EXEC; k++)
		if (deny & BIT(k))
			tag[k] = 0;
}

/* --- reporting -------------------------------------------------------------------- */

/* DR6 for a #DB the processor raises (see the top of this file). */
static void report(struct cpu *cpu, uint32_t bits)
{
	cpu->dr[6] = (cpu->dr[6] & ~(uint64_t)DR6_BMASK) | (bits & DR6_STATUS) | DR6_RTM;
}

static void note_trap(struct cpu *cpu, uint32_t bits)
{
	cpu->dbg.hits |= bits;
	cpu->events |= CPU_EV_DBTRAP;
}

_Noreturn void debug_fault(struct cpu *cpu, uint32_t dr6, bool rf)
{
	if (unlikely(cpu->vmx.non_root))
		vmx_debug_exit_check(cpu, dr6, rf); /* SDM 27.2.1: a #DB exit leaves DR6 */
	report(cpu, dr6);
	/* SDM 18.3.1.1: fault-class #DBs other than instruction breakpoints push RF = 1.
	 * The instruction does not complete, so RF is set now and the delivery pushes it
	 * (the handler is entered with RF = 0, SDM 6.12.1.3). */
	if (rf)
		cpu->rflags |= RFLAGS_RF;
	cpu->dr[7] &= ~DR7_GD; /* SDM 18.2.4: cleared on entry to the #DB handler */
	cpu_exception(cpu, EXC_DB, NO_ERROR_CODE);
}

void debug_deliver_trap(struct cpu *cpu, uint32_t extra)
{
	uint32_t bits = cpu->dbg.hits | cpu->dbg.pending | extra;
	cpu->dbg.hits = cpu->dbg.pending = 0;
	cpu->events &= ~CPU_EV_DBTRAP;
	if (unlikely(cpu->vmx.non_root))
		vmx_debug_exit_check(cpu, bits, false); /* SDM 27.2.1: DR6 left alone */
	report(cpu, bits);
	cpu->dr[7] &= ~DR7_GD;
	cpu_deliver_event(cpu, EXC_DB, EVENT_HW_EXCEPTION, NO_ERROR_CODE);
}

void debug_task_trap(struct cpu *cpu)
{
	cpu->dbg.pending |= DR6_BT;
	cpu->events |= CPU_EV_DBTRAP;
}

void debug_icebp(struct cpu *cpu)
{
	uint32_t bits = cpu->dbg.hits | cpu->dbg.pending;
	cpu->dr[7] &= ~DR7_GD;
	if (!bits)
		return;
	cpu->dbg.hits = cpu->dbg.pending = 0;
	cpu->events &= ~CPU_EV_DBTRAP;
	report(cpu, bits);
}

bool debug_rf_only(struct cpu *cpu, uint64_t pfn)
{
	if (pfn >= cpu->bus->ram_pages || cpu->intr_shadow || (cpu->rflags & RFLAGS_TF))
		return false;
	cpu->rflags &= ~RFLAGS_RF;
	return true;
}

/* --- matching --------------------------------------------------------------------- */

bool debug_fetch(struct cpu *cpu, gva_t la)
{
	uint64_t dr7 = cpu->dr[7];
	uint32_t hit = 0;
	bool page = false;
	for (int n = 0; n < 4; n++) {
		if (!bp_enabled(dr7, n) || bp_rw(dr7, n) != RW_EXEC)
			continue;
		gva_t a = bp_addr(cpu, n);
		page |= (a & PAGE_MASK) == (la & PAGE_MASK);
		if (a == la)
			hit |= DR6_B(n);
	}
	if (!hit || (cpu->rflags & RFLAGS_RF))
		return page;
	/* Only the fetch of the instruction's first byte (SDM 18.2.5: the breakpoint
	 * address is the instruction's first byte, prefixes included), not the second
	 * page of one that crosses a page. */
	gva_t rip = cpu->seg[SEG_CS].base + cpu->rip;
	if (cpu->mode != MODE_LONG64)
		rip = (uint32_t)rip;
	if (la != rip || (cpu->intr_shadow && (cpu->intr_shadow_kind & SHADOW_MOVSS)))
		return page;
	debug_fault(cpu, hit, false); /* SDM 18.3.1.1: fault-class, before the instruction */
}

static uint32_t data_match(const struct cpu *cpu, gva_t first, gva_t last, int kind)
{
	uint64_t dr7 = cpu->dr[7];
	uint32_t hit = 0;
	for (int n = 0; n < 4; n++) {
		if (!bp_enabled(dr7, n))
			continue;
		unsigned rw = bp_rw(dr7, n);
		if (rw != RW_RW && (rw != RW_WRITE || kind != ACC_WRITE))
			continue;
		/* SDM 18.2.5: triggered if any byte of the access is in the range. */
		gva_t a = bp_base(cpu, n);
		if (first <= a + bp_len(dr7, n) - 1 && a <= last)
			hit |= DR6_B(n);
	}
	return hit;
}

void debug_data(struct cpu *cpu, gva_t la, int size, int kind)
{
	gva_t last = la + (gva_t)size - 1;
	gva_t wrap = (cpu->efer & EFER_LMA) ? ~0ULL : 0xFFFFFFFFULL;
	uint32_t hit;
	if (last > wrap || last < la) /* the access wraps around the linear space */
		hit = data_match(cpu, la, wrap, kind) | data_match(cpu, 0, last & wrap, kind);
	else
		hit = data_match(cpu, la, last, kind);
	if (hit)
		note_trap(cpu, hit);
}

void debug_io(struct cpu *cpu, uint16_t port, int size)
{
	uint64_t dr7 = cpu->dr[7];
	uint32_t hit = 0;
	if (!(cpu->cr4 & CR4_DE))
		return;
	for (int n = 0; n < 4; n++) {
		if (!bp_enabled(dr7, n) || bp_rw(dr7, n) != RW_IO)
			continue;
		/* I/O addresses are zero-extended for the comparison (SDM 18.2.5). */
		uint64_t a = cpu->dr[n] & ~(bp_len(dr7, n) - 1);
		if (port <= a + bp_len(dr7, n) - 1 && a <= (uint64_t)port + (uint64_t)size - 1)
			hit |= DR6_B(n);
	}
	if (hit)
		note_trap(cpu, hit);
}
