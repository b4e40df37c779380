/*
 * The run loop: fetch, decode (through the decoded-instruction cache), dispatch.
 *
 * Per instruction: one TLB lookup for the fetch, one cache probe, one indirect call.
 * Events (interrupts, NMI, INIT/SIPI) are looked at only when cpu->events is non-zero;
 * faults unwind here by longjmp (exception.h) and are delivered before the loop goes
 * on. Nothing here allocates or locks.
 */
#include "cpu/exec.h"

#include <string.h>

#include "cpu/dcache.h"

static const exec_fn exec_table[OP_COUNT] = {
#define OP(name, intercept) [OP_##name] = exec_##name,
#include "cpu/ops.def"
#undef OP
};

static const uint8_t decode_mode_of[] = {
	[MODE_REAL] = DMODE_16,     [MODE_VM86] = DMODE_16,     [MODE_PROT16] = DMODE_16,
	[MODE_PROT32] = DMODE_32,   [MODE_COMPAT16] = DMODE_16, [MODE_COMPAT32] = DMODE_32,
	[MODE_LONG64] = DMODE_64,
};

static inline uint64_t ip_mask(const struct cpu *cpu)
{
	switch (decode_mode_of[cpu->mode]) {
	case DMODE_16: return 0xFFFF;
	case DMODE_32: return 0xFFFFFFFF;
	default: return ~0ULL;
	}
}

/* Decode an instruction that crosses into the next page: gather up to 15 bytes from
 * both pages (the second fetch may fault with #PF, as on hardware only when the
 * instruction really extends there). Not cached. */
static void decode_across_pages(struct cpu *cpu, gva_t la, const uint8_t *p, int avail,
				enum decode_mode dm, struct insn *in)
{
	uint8_t buf[16];
	gpa_t gpa2;
	int avail2;
	memcpy(buf, p, (size_t)avail);
	const uint8_t *p2 = mem_fetch(cpu, la + (uint64_t)avail, &avail2, &gpa2);
	int take = 15 - avail < avail2 ? 15 - avail : avail2;
	memcpy(buf + avail, p2, (size_t)take);
	int len = decode(buf, avail + take, dm, in);
	if (len == DECODE_TOO_LONG || len == DECODE_NEED_MORE)
		cpu_gp(cpu, 0); /* SDM Vol.2 2.3.11: over 15 bytes is #GP(0) */
}

/* Find or make the decoded form of the instruction at cpu->rip. */
static const struct insn *fetch_decode(struct cpu *cpu, struct insn *scratch)
{
	enum decode_mode dm = decode_mode_of[cpu->mode];
	gva_t la = cpu->seg[SEG_CS].base + cpu->rip;
	if (dm != DMODE_64)
		la = (uint32_t)la;
	int avail;
	gpa_t gpa;
	const uint8_t *p = mem_fetch(cpu, la, &avail, &gpa);

	struct dcache *dc = cpu->dcache;
	struct dcache_entry *e = dcache_slot(dc, gpa);
	uint64_t tag = dcache_tag(gpa, dm);
	uint64_t pfn = gpa >> PAGE_SHIFT;
	struct bus *bus = cpu->bus;
	bool ram = pfn < bus->ram_pages;
	if (likely(ram && e->tag == tag && e->gen == bus->page_gen[pfn]))
		return &e->insn;

	dc->misses++;
	int len = decode(p, avail, dm, scratch);
	if (len == DECODE_NEED_MORE) {
		decode_across_pages(cpu, la, p, avail, dm, scratch);
		return scratch;
	}
	if (len == DECODE_TOO_LONG)
		cpu_gp(cpu, 0);
	if (!ram)
		return scratch; /* executing from MMIO/ROM outside RAM: never cached */
	bus_mark_code_page(bus, pfn);
	e->tag = tag;
	e->gen = bus->page_gen[pfn];
	e->insn = *scratch;
	return &e->insn;
}

/* Code-segment limit check for the whole instruction outside 64-bit mode (SDM 5.3). */
static inline void check_cs_limit(struct cpu *cpu, const struct insn *in)
{
	if (cpu->mode != MODE_LONG64 &&
	    unlikely(cpu->rip + in->len - 1 > cpu->seg[SEG_CS].limit))
		cpu_gp(cpu, 0);
}

static enum cpu_exit run_loop(struct cpu *cpu)
{
	struct insn scratch;
	struct clock *clock = cpu->clock;
	for (;;) {
		if (unlikely(cpu->events | cpu->stop_requested | cpu->halted | cpu->shutdown)) {
			if (cpu->shutdown)
				return CPU_EXIT_SHUTDOWN;
			if (cpu->stop_requested) {
				cpu->stop_requested = false;
				return CPU_EXIT_STOP;
			}
			if (cpu->events && !cpu->intr_shadow)
				cpu_handle_events(cpu);
			if (cpu->halted || cpu->wait_for_sipi)
				return CPU_EXIT_HALTED;
		}
		if (unlikely(cpu->run_left == 0))
			return CPU_EXIT_BUDGET;

		bool tf = cpu->rflags & RFLAGS_TF;
		const struct insn *in = fetch_decode(cpu, &scratch);
		check_cs_limit(cpu, in);
		cpu->next_rip = (cpu->rip + in->len) & ip_mask(cpu);
		exec_table[in->op](cpu, in);
		cpu->rip = cpu->next_rip;
		cpu->run_left--;
		cpu->stats.retired++;
		clock->retired++;
		if (unlikely(cpu->intr_shadow))
			cpu->intr_shadow--;
		if (unlikely(tf))
			cpu_single_step_trap(cpu);
	}
}

enum cpu_exit cpu_run(struct cpu *cpu, uint64_t budget)
{
	cpu->run_left = budget;
	if (setjmp(cpu->fault_jmp)) {
		/* cpu_exception() unwound the current instruction (or an event delivery). */
		cpu->stats.exceptions++;
		cpu_deliver_fault(cpu);
	}
	return run_loop(cpu);
}
