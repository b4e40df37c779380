/*
 * The out-of-line half of memory accesses (mem.h): segmentation, canonical and
 * alignment checks, TLB fills, accesses that cross a page, and the physical side
 * (RAM, MMIO through the bus, this CPU's xAPIC page).
 *
 * Order of checks (SDM Vol.3A 6.9 priority and Vol.2 exception lists): segment type
 * and limit (#GP/#SS) or the canonical form in 64-bit mode (#GP(0), #SS(0) for SS),
 * then paging (#PF) for every page the access touches, then alignment (#AC(0)); only
 * then is anything read or written, so a write that faults on its second page has
 * written nothing.
 */
#include "cpu/mmu.h"

#include "cpu/debug.h"
#include "cpu/seg.h"
#include "cpu/vmx/ept.h"

/* One access as the translator sees it. */
struct acc {
	int kind;      /* ACC_READ / ACC_WRITE / ACC_EXEC */
	int ctx;       /* TLB context = privilege (TLB_CTX_*) */
	bool ac;       /* alignment checking applies (SDM 6.15 #AC) */
	gva_t wrap;    /* linear addresses wrap at 4 GiB outside 64-bit code (SDM 3.4) */
};

/* The part of an access that falls in one page. */
struct span {
	gpa_t gpa;
	uint32_t flags;  /* TLBF_MMIO / TLBF_APIC: not through a host pointer */
	int n;           /* bytes */
};

/* --- physical side ------------------------------------------------------------- */

static uint64_t bytes_mask(int n)
{
	return n >= 8 ? ~0ULL : (1ULL << (8 * n)) - 1;
}

/* The xAPIC registers are 32 bits wide at 16-byte strides (SDM 11.4.1): other sizes
 * are made of dword accesses (a partial write merges with the register's value). */
static uint64_t apic_read(struct cpu *cpu, unsigned off, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n;) {
		unsigned o = off + (unsigned)i, sh = 8 * (o & 3);
		int take = (int)(4 - (o & 3)) < n - i ? (int)(4 - (o & 3)) : n - i;
		uint64_t r = cpu->apic_ops->mmio_read(cpu->apic, o & ~3u);
		v |= ((r >> sh) & bytes_mask(take)) << (8 * i);
		i += take;
	}
	return v;
}

static void apic_write(struct cpu *cpu, unsigned off, int n, uint64_t v)
{
	for (int i = 0; i < n;) {
		unsigned o = off + (unsigned)i, sh = 8 * (o & 3);
		int take = (int)(4 - (o & 3)) < n - i ? (int)(4 - (o & 3)) : n - i;
		uint64_t part = (v >> (8 * i)) & bytes_mask(take);
		uint32_t r = (uint32_t)part;
		if (take < 4) {
			uint64_t m = bytes_mask(take) << sh;
			r = (uint32_t)((cpu->apic_ops->mmio_read(cpu->apic, o & ~3u) & ~m) |
				       (part << sh));
		}
		cpu->apic_ops->mmio_write(cpu->apic, o & ~3u, r);
		i += take;
	}
}

static bool pow2_size(int n)
{
	return n == 1 || n == 2 || n == 4 || n == 8;
}

static uint64_t phys_read(struct cpu *cpu, const struct span *s)
{
	if (!(s->flags & TLBF_SLOW)) {
		uint64_t v = 0;
		memcpy(&v, cpu->bus->ram + s->gpa, (size_t)s->n);
		return v;
	}
	if (s->flags & TLBF_APIC)
		return apic_read(cpu, s->gpa & ~PAGE_MASK, s->n);
	if (unlikely(s->flags & TLBF_VAPIC)) /* what tlb_fill() let through (SDM 31.4.2) */
		return vmx_apic_access_read(cpu, s->gpa, s->n);
	if (pow2_size(s->n))
		return bus_read(cpu->bus, s->gpa, s->n);
	uint64_t v = 0;
	for (int i = 0; i < s->n; i++)
		v |= bus_read(cpu->bus, s->gpa + (gpa_t)i, 1) << (8 * i);
	return v;
}

static void phys_write(struct cpu *cpu, const struct span *s, uint64_t v)
{
	if (!(s->flags & TLBF_SLOW)) {
		memcpy(cpu->bus->ram + s->gpa, &v, (size_t)s->n);
		bus_note_write(cpu->bus, s->gpa >> PAGE_SHIFT);
	} else if (s->flags & TLBF_APIC) {
		apic_write(cpu, s->gpa & ~PAGE_MASK, s->n, v);
	} else if (unlikely(s->flags & TLBF_VAPIC)) { /* SDM 31.4.3.1 */
		vmx_apic_access_write(cpu, s->gpa, s->n, v);
	} else if (pow2_size(s->n)) {
		bus_write(cpu->bus, s->gpa, s->n, v);
	} else {
		for (int i = 0; i < s->n; i++)
			bus_write(cpu->bus, s->gpa + (gpa_t)i, 1, (v >> (8 * i)) & 0xFF);
	}
}

/* --- translation of one access ------------------------------------------------------ */

static void span_of(struct cpu *cpu, gva_t la, int n, const struct acc *a, struct span *s)
{
	const struct tlb_entry *e = tlb_fill(cpu, la, a->ctx, a->kind);
	s->gpa = e->gpa | (la & ~PAGE_MASK);
	s->flags = e->flags;
	s->n = n;
}

/* Translate [la, la+size) (size <= 4096): one or two spans. Both pages are checked
 * before anything is accessed; #PF on the second page reports its first byte (CR2). */
static int translate(struct cpu *cpu, gva_t la, int size, const struct acc *a,
		     struct span sp[2])
{
	int room = (int)(PAGE_SIZE - (la & ~PAGE_MASK));
	int n1 = size <= room ? size : room;
	span_of(cpu, la, n1, a, &sp[0]);
	if (n1 < size)
		span_of(cpu, (la + (gva_t)n1) & a->wrap, size - n1, a, &sp[1]);
	/* SDM 6.15 #AC: a misaligned operand at CPL 3 with CR0.AM = EFLAGS.AC = 1. */
	if (a->ac && pow2_size(size) && (la & (gva_t)(size - 1)))
		cpu_exception(cpu, EXC_AC, 0);
	return n1 < size ? 2 : 1;
}

static uint64_t read_spans(struct cpu *cpu, const struct span sp[2], int n)
{
	uint64_t v = phys_read(cpu, &sp[0]);
	if (n == 2)
		v |= phys_read(cpu, &sp[1]) << (8 * sp[0].n);
	return v;
}

static void write_spans(struct cpu *cpu, const struct span sp[2], int n, uint64_t v)
{
	phys_write(cpu, &sp[0], v);
	if (n == 2)
		phys_write(cpu, &sp[1], v >> (8 * sp[0].n));
}

/* A data access that translated without a fault: report it to armed data breakpoints
 * (debug.h; their pages never hit the fast paths, so every watched access gets here). */
static inline void watch(struct cpu *cpu, gva_t la, int size, int kind)
{
	if (unlikely(cpu->dbg.armed & DBG_DATA))
		debug_data(cpu, la, size, kind);
}

/* --- segmented data accesses ---------------------------------------------------------- */

/* Segmentation (seg.c does the checks outside 64-bit mode; SDM 3.4.4 and 3.3.7.1 in
 * it) to a linear address, and the access description. */
static gva_t data_linear(struct cpu *cpu, int seg, uint64_t off, int size, int kind,
			 struct acc *a)
{
	int ctx = mem_data_ctx(cpu);
	a->kind = kind;
	a->ac = ctx < 0;
	a->ctx = ctx < 0 ? TLB_CTX_USER : ctx;
	if (cpu->mode == MODE_LONG64) {
		gva_t la = seg >= SEG_FS ? off + cpu->seg[seg].base : off;
		if (!mmu_canonical(cpu, la) || !mmu_canonical(cpu, la + (gva_t)size - 1))
			cpu_exception(cpu, seg == SEG_SS ? EXC_SS : EXC_GP, 0);
		a->wrap = ~0ULL;
		return la;
	}
	seg_check_access(cpu, seg, off, size, kind == ACC_WRITE);
	a->wrap = 0xFFFFFFFF;
	return (uint32_t)(cpu->seg[seg].base + off);
}

uint64_t mem_read_slow(struct cpu *cpu, int seg, uint64_t off, int osz)
{
	struct acc a;
	struct span sp[2];
	cpu->tlb.stats.outline++;
	gva_t la = data_linear(cpu, seg, off, 1 << osz, ACC_READ, &a);
	uint8_t *p;
	if (!a.ac && tlb_lookup(&cpu->tlb, a.ctx, la, 1 << osz, ACC_READ, &p))
		return mem_host_load(p, osz);
	int n = translate(cpu, la, 1 << osz, &a, sp);
	watch(cpu, la, 1 << osz, ACC_READ);
	return read_spans(cpu, sp, n);
}

void mem_write_slow(struct cpu *cpu, int seg, uint64_t off, int osz, uint64_t v)
{
	struct acc a;
	struct span sp[2];
	cpu->tlb.stats.outline++;
	gva_t la = data_linear(cpu, seg, off, 1 << osz, ACC_WRITE, &a);
	uint8_t *p;
	if (!a.ac && tlb_lookup(&cpu->tlb, a.ctx, la, 1 << osz, ACC_WRITE, &p)) {
		mem_host_store(p, osz, v);
		return;
	}
	int n = translate(cpu, la, 1 << osz, &a, sp);
	watch(cpu, la, 1 << osz, ACC_WRITE);
	write_spans(cpu, sp, n, v);
}

void mem_check_write(struct cpu *cpu, int seg, uint64_t off, int size)
{
	struct acc a;
	struct span sp[2];
	gva_t la = data_linear(cpu, seg, off, size, ACC_WRITE, &a);
	uint8_t *p;
	if (!a.ac && tlb_lookup(&cpu->tlb, a.ctx, la, size, ACC_WRITE, &p))
		return;
	translate(cpu, la, size, &a, sp);
}

/* --- linear accesses --------------------------------------------------------------------- */

static void lin_acc(struct cpu *cpu, gva_t la, int size, unsigned acc, struct acc *a)
{
	a->kind = acc & 3;
	if (acc & ACC_IMPLICIT) {
		/* SDM 4.6: implicit accesses are supervisor-mode accesses at any CPL. */
		a->ctx = mmu_sup_ctx(cpu, true);
		a->ac = false;
	} else if (a->kind == ACC_EXEC) {
		a->ctx = cpu->cpl == 3 ? TLB_CTX_USER : TLB_CTX_SUP;
		a->ac = false;
	} else {
		int ctx = mem_data_ctx(cpu);
		a->ac = ctx < 0;
		a->ctx = ctx < 0 ? TLB_CTX_USER : ctx;
	}
	bool ia32e = cpu->efer & EFER_LMA;
	a->wrap = ia32e ? ~0ULL : 0xFFFFFFFF;
	if (ia32e && (!mmu_canonical(cpu, la) || !mmu_canonical(cpu, la + (gva_t)size - 1)))
		cpu_gp(cpu, 0);
}

uint64_t lin_read(struct cpu *cpu, gva_t la, int osz, unsigned acc)
{
	struct acc a;
	struct span sp[2];
	/* A TLB hit implies every check of lin_acc passes (lin_hit, mem.h). */
	uint8_t *p = lin_hit(cpu, la, 1 << osz, acc);
	if (likely(p))
		return mem_host_load(p, osz);
	lin_acc(cpu, la, 1 << osz, acc, &a);
	int n = translate(cpu, la, 1 << osz, &a, sp);
	if (a.kind == ACC_READ)
		watch(cpu, la, 1 << osz, ACC_READ);
	return read_spans(cpu, sp, n);
}

void lin_write(struct cpu *cpu, gva_t la, int osz, uint64_t v, unsigned acc)
{
	struct acc a;
	struct span sp[2];
	acc = (acc & ~3u) | ACC_WRITE;
	uint8_t *p = lin_hit(cpu, la, 1 << osz, acc);
	if (likely(p)) {
		mem_host_store(p, osz, v);
		return;
	}
	lin_acc(cpu, la, 1 << osz, acc, &a);
	int n = translate(cpu, la, 1 << osz, &a, sp);
	watch(cpu, la, 1 << osz, ACC_WRITE);
	write_spans(cpu, sp, n, v);
}

/* --- instruction fetch ---------------------------------------------------------------- */

const uint8_t *mem_fetch_slow(struct cpu *cpu, gva_t la, int *avail, gpa_t *gpa)
{
	cpu->tlb.stats.outline++;
	if (cpu->mode != MODE_LONG64)
		la = (uint32_t)la;
	/* An instruction breakpoint comes before any fault of the fetch (SDM 6.9 Table
	 * 6-2: code breakpoint, priority 7, before fetch faults, priority 8). */
	bool alone = unlikely(cpu->dbg.armed & DBG_EXEC) && debug_fetch(cpu, la);
	if (cpu->mode == MODE_LONG64 && !mmu_canonical(cpu, la))
		cpu_gp(cpu, 0); /* SDM 6.15 #GP: fetch from a non-canonical address */
	int ctx = cpu->cpl == 3 ? TLB_CTX_USER : TLB_CTX_SUP;
	const struct tlb_entry *e = tlb_fill(cpu, la, ctx, ACC_EXEC);
	unsigned off = la & ~PAGE_MASK;
	*gpa = alone ? MEM_GPA_ALONE : e->gpa | off;
	if (!(e->flags & TLBF_SLOW)) {
		*avail = (int)(PAGE_SIZE - off);
		return (const uint8_t *)(uintptr_t)(la + e->addend);
	}
	/* MMIO or the APIC page: at most 16 bytes, read byte by byte. */
	int n = PAGE_SIZE - off < sizeof(cpu->tlb.bounce) ? (int)(PAGE_SIZE - off)
							    : (int)sizeof(cpu->tlb.bounce);
	struct span s = { .gpa = e->gpa | off, .flags = e->flags, .n = 1 };
	for (int i = 0; i < n; i++, s.gpa++)
		cpu->tlb.bounce[i] = (uint8_t)phys_read(cpu, &s);
	*avail = n;
	return cpu->tlb.bounce;
}
