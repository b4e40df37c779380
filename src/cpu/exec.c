/*
 * The run loop: fetch, decode (through the block cache), dispatch.
 *
 * The loop translates CS:RIP once per block (dcache.h), then runs the block's decoded
 * instructions back to back: per instruction one indirect call and a few compares.
 * It leaves a block early when RIP is not the next sequential address (a branch was
 * taken, a REP instruction paused, an exception was delivered), when the block's page
 * was written, when an event is pending or when the budget runs out.
 *
 * Faults unwind here by longjmp (exception.h) and are delivered before the loop goes
 * on. Nothing here allocates or locks.
 */
#include "cpu/exec.h"

#include <string.h>

#include "cpu/dcache.h"
#include "cpu/debug.h"
#include "cpu/exec_fast.h"
#include "cpu/vmx/vmx_internal.h"

/*
 * Ops after which a block ends: control transfers, and everything that may change the
 * decode mode, CS, the code page's translation or RFLAGS.TF/IF. Port I/O stays inside:
 * what a device can do in return (raise an event, ask to stop, write RAM by DMA) is
 * seen by the checks after every instruction in run_block().
 */
static const bool block_ends[OP_COUNT] = {
	[OP_JMP] = 1, [OP_JMP_IND] = 1, [OP_JCC] = 1, [OP_CALL] = 1, [OP_CALL_IND] = 1,
	[OP_RET] = 1, [OP_LOOP] = 1, [OP_LOOPE] = 1, [OP_LOOPNE] = 1, [OP_JCXZ] = 1,
	[OP_JMP_FAR] = 1, [OP_CALL_FAR] = 1, [OP_RET_FAR] = 1, [OP_IRET] = 1, [OP_INT] = 1,
	[OP_INT3] = 1, [OP_INTO] = 1, [OP_INT1] = 1, [OP_BOUND] = 1, [OP_UD] = 1,
	[OP_FPU] = 1, [OP_SSE] = 1, [OP_POPF] = 1, [OP_CLI] = 1, [OP_STI] = 1,
	[OP_MOV_TO_SEG] = 1, [OP_POP_SEG] = 1, [OP_HLT] = 1, [OP_WRMSR] = 1, [OP_MOV_TO_CR] = 1,
	[OP_MOV_TO_DR] = 1, [OP_CLTS] = 1, [OP_LMSW] = 1, [OP_LGDT] = 1, [OP_LIDT] = 1,
	[OP_LLDT] = 1, [OP_LTR] = 1, [OP_INVLPG] = 1, [OP_INVPCID] = 1, [OP_MWAIT] = 1,
	[OP_SWAPGS] = 1, [OP_WRFSBASE] = 1,
	[OP_WRGSBASE] = 1, [OP_SYSCALL] = 1, [OP_SYSRET] = 1, [OP_SYSENTER] = 1,
	[OP_SYSEXIT] = 1, [OP_XSETBV] = 1, [OP_RSM] = 1, [OP_GETSEC] = 1,
	[OP_VMCALL] = 1, [OP_VMLAUNCH] = 1, [OP_VMRESUME] = 1, [OP_VMXOFF] = 1,
	[OP_VMXON] = 1, [OP_VMCLEAR] = 1, [OP_VMPTRLD] = 1, [OP_VMPTRST] = 1,
	[OP_VMREAD] = 1, [OP_VMWRITE] = 1, [OP_INVEPT] = 1, [OP_INVVPID] = 1,
	[OP_VMFUNC] = 1,
};

static const uint8_t decode_mode_of[] = {
	[MODE_REAL] = DMODE_16,     [MODE_VM86] = DMODE_16,     [MODE_PROT16] = DMODE_16,
	[MODE_PROT32] = DMODE_32,   [MODE_COMPAT16] = DMODE_16, [MODE_COMPAT32] = DMODE_32,
	[MODE_LONG64] = DMODE_64,
};

static const uint64_t ip_mask_of[] = {
	[DMODE_16] = 0xFFFF, [DMODE_32] = 0xFFFFFFFF, [DMODE_64] = ~0ULL,
};

/* Decode an instruction that crosses into the next page: gather up to 15 bytes from
 * both pages (the second fetch may fault with #PF, as on hardware only when the
 * instruction really extends there). Never cached. */
static void decode_across_pages(struct cpu *cpu, gva_t la, const uint8_t *p, int avail,
				enum decode_mode dm, struct insn *in)
{
	uint8_t buf[16];
	gpa_t gpa2;
	int avail2;
	memcpy(buf, p, (size_t)avail);
	gva_t la2 = la + (uint64_t)avail;
	if (dm != DMODE_64)
		la2 = (uint32_t)la2; /* linear addresses wrap at 4 GiB outside IA-32e mode */
	const uint8_t *p2 = mem_fetch(cpu, la2, &avail2, &gpa2);
	int take = 15 - avail < avail2 ? 15 - avail : avail2;
	memcpy(buf + avail, p2, (size_t)take);
	int len = decode(buf, avail + take, dm, in);
	if (len < 0)
		cpu_gp(cpu, 0); /* SDM Vol.2 2.3.11: over 15 bytes is #GP(0) */
}

/* The handler bound to a decoded instruction. In VMX non-root operation every op that
 * a VM-execution control can intercept goes through vmx_intercepted() first (SDM
 * 27.1.2, 27.1.3); blocks decoded in non-root operation are cached under their own
 * tag (dcache_key), so root-mode code never pays for the check. */
static inline exec_fn bind_handler(const struct cpu *cpu, const struct insn *in, bool fast)
{
	if (unlikely(cpu->vmx.non_root) && op_intercept[in->op] != IC_NONE)
		return vmx_intercepted;
	return fast ? exec_select(in) : exec_generic(in->op);
}

static inline uint64_t dcache_key(const struct cpu *cpu, gpa_t gpa, enum decode_mode dm)
{
	return dcache_tag(gpa, dm) | (uint64_t)cpu->vmx.non_root << 59;
}

/* Decode a block starting at p; returns the number of instructions (0 if the first one
 * does not fit in the page or is over-long: the caller then decodes it alone). */
static int build_block(const struct cpu *cpu, struct dblock *b, const uint8_t *p, int avail,
		       enum decode_mode dm)
{
	int n = 0, off = 0;
	while (n < DBLOCK_MAX && off < avail) {
		struct insn *in = &b->insn[n];
		int len = decode(p + off, avail - off, dm, in);
		if (len < 0)
			break;
		b->fn[n] = bind_handler(cpu, in, true);
		n++;
		off += len;
		if (block_ends[in->op])
			break;
	}
	b->n = (uint16_t)n;
	b->bytes = (uint16_t)off;
	return n;
}

/* Execute one instruction; returns false if RIP is not the next sequential address
 * afterwards (the block must be left). */
static inline bool step(struct cpu *cpu, exec_fn fn, const struct insn *in,
			uint64_t ip_mask)
{
	uint64_t seq = cpu->rip + in->len;
	cpu->next_rip = seq & ip_mask;
	fn(cpu, in);
	cpu->rip = cpu->next_rip;
	cpu->run_left--;
	return cpu->rip == seq;
}

/*
 * One instruction on its own: single-stepping, the instruction in an STI/MOV-SS
 * shadow, one that crosses a page or runs outside RAM, or one near the CS limit; and
 * one on a page with an instruction breakpoint (debug.h).
 */
static void run_single(struct cpu *cpu, gva_t la, const uint8_t *p, int avail,
		       enum decode_mode dm)
{
	struct insn in;
	int len = decode(p, avail, dm, &in);
	if (len == DECODE_NEED_MORE)
		decode_across_pages(cpu, la, p, avail, dm, &in);
	else if (len < 0)
		cpu_gp(cpu, 0);
	if (cpu->mode != MODE_LONG64 && cpu->rip + in.len - 1 > cpu->seg[SEG_CS].limit)
		cpu_gp(cpu, 0); /* SDM 5.3: fetch beyond the CS limit */
	bool tf = cpu->rflags & RFLAGS_TF;
	/* The shadow covers the boundary before this instruction only (SDM 6.8.3); an
	 * STI or MOV SS here sets a new one, which also suppresses this instruction's
	 * single-step trap (MOV SS) but not the next one's. */
	cpu->intr_shadow = 0;
	debug_insn_begin(cpu); /* RF = 0 from here on (SDM 18.3.1.1) */
	step(cpu, bind_handler(cpu, &in, false), &in, ip_mask_of[dm]);
	/* intr_shadow_kind told the handler which shadow it ran in (VMLAUNCH/VMRESUME:
	 * VMfailValid(26) under MOV SS, SDM 32.3); it is 0 again unless the instruction
	 * set a new shadow. The fault path below clears it too. */
	if (!cpu->intr_shadow)
		cpu->intr_shadow_kind = 0;
	if (unlikely(tf))
		cpu_single_step_trap(cpu);
}

/* Events: NMI/INIT/SIPI (and a stop request) always need a look; INTR only when
 * IF = 1 (SDM 6.8.1), or in VMX non-root operation with "external-interrupt exiting",
 * where IF does not block it (SDM 27.3). */
static inline bool events_deliverable(const struct cpu *cpu)
{
	return (cpu->events & ~CPU_EV_INTR) ||
	       ((cpu->events & CPU_EV_INTR) &&
		((cpu->rflags & RFLAGS_IF) ||
		 (cpu->vmx.non_root && (cpu->vmx.ctl.pin & PIN_EXT_INTR_EXITING))));
}

static void run_block(struct cpu *cpu, const struct dblock *b, const uint32_t *genp,
		      enum decode_mode dm)
{
	uint64_t ip_mask = ip_mask_of[dm];
	uint32_t gen = b->gen;
	int n = b->n;
	uint64_t rip = cpu->rip;
	for (int i = 0; i < n; i++) {
		const struct insn *in = &b->insn[i];
		uint64_t seq = rip + in->len;
		cpu->next_rip = seq & ip_mask;
		b->fn[i](cpu, in);
		rip = cpu->next_rip;
		cpu->rip = rip;
		cpu->run_left--;
		if (unlikely(rip != seq || *genp != gen))
			return;
		if (unlikely(cpu->events) && events_deliverable(cpu))
			return;
	}
}

/* Fetch at CS:RIP and run one block (or one instruction). */
static void run_next(struct cpu *cpu)
{
	enum decode_mode dm = decode_mode_of[cpu->mode];
	gva_t la = cpu->seg[SEG_CS].base + cpu->rip;
	if (dm != DMODE_64)
		la = (uint32_t)la;
	int avail;
	gpa_t gpa;
	const uint8_t *p = mem_fetch(cpu, la, &avail, &gpa);
	struct bus *bus = cpu->bus;
	uint64_t pfn = gpa >> PAGE_SHIFT;
	if (unlikely(pfn >= bus->ram_pages || cpu->intr_shadow ||
		     (cpu->rflags & (RFLAGS_TF | RFLAGS_RF))) &&
	    !debug_rf_only(cpu, pfn)) {
		run_single(cpu, la, p, avail, dm);
		return;
	}
	struct dcache *dc = cpu->dcache;
	struct dblock *b = dcache_slot(dc, gpa);
	uint64_t tag = dcache_key(cpu, gpa, dm);
	if (unlikely(b->tag != tag || b->gen != bus->page_gen[pfn])) {
		dc->misses++;
		b->tag = 0;
		if (!build_block(cpu, b, p, avail, dm)) {
			run_single(cpu, la, p, avail, dm);
			return;
		}
		bus_mark_code_page(bus, pfn);
		b->tag = tag;
		b->gen = bus->page_gen[pfn];
	}
	/* Near the end of the budget or the CS limit: one instruction at a time. */
	if (unlikely(cpu->run_left < b->n ||
		     (cpu->mode != MODE_LONG64 &&
		      cpu->rip + b->bytes - 1 > cpu->seg[SEG_CS].limit))) {
		run_single(cpu, la, p, avail, dm);
		return;
	}
	run_block(cpu, b, &bus->page_gen[pfn], dm);
}

/* A VM exit to a native VMM happened (vmx_exit.c): cpu_run() returns to it. */
static enum cpu_exit vmexit_return(struct cpu *cpu)
{
	cpu->events &= ~CPU_EV_VMEXIT;
	return CPU_EXIT_VMEXIT;
}

static enum cpu_exit run_loop(struct cpu *cpu)
{
	for (;;) {
		if (unlikely(cpu->events | cpu->halted | cpu->shutdown | cpu->wait_for_sipi)) {
			if (cpu->shutdown)
				return CPU_EXIT_SHUTDOWN;
			if (cpu->events & CPU_EV_VMEXIT) /* before a stop: the exit is done */
				return vmexit_return(cpu);
			if (cpu->events & CPU_EV_STOP) {
				cpu->events &= ~CPU_EV_STOP;
				return CPU_EXIT_STOP;
			}
			/* In non-root operation the shadow does not hold back INIT, MTF or
			 * the preemption timer: vmx_handle_events() weighs it itself. */
			if ((!cpu->intr_shadow || cpu->vmx.non_root) && events_deliverable(cpu))
				cpu_handle_events(cpu);
			if (cpu->events & CPU_EV_VMEXIT)
				return vmexit_return(cpu);
			/* MWAIT's own break events (exec_misc.c): only while halted. */
			if (cpu->halted && cpu->mwait && !cpu->shutdown && cpu_mwait_check(cpu))
				continue;
			if (cpu->halted || cpu->wait_for_sipi) {
				if (unlikely(cpu->vmx.non_root))
					vmx_halted(cpu); /* the preemption timer can wake it */
				return CPU_EXIT_HALTED;
			}
		}
		if (unlikely(cpu->run_left == 0))
			return CPU_EXIT_BUDGET;
		run_next(cpu);
	}
}

void cpu_shorten_slice(struct cpu *cpu, uint64_t max_left)
{
	struct clock *clock = cpu->clock;
	if (clock->slice_left != &cpu->run_left || cpu->run_left <= max_left)
		return;
	/* Both move, so that the work counted (slice_budget - run_left) and with it
	 * deterministic time stay exact. */
	clock->slice_budget -= cpu->run_left - max_left;
	cpu->run_left = max_left;
}

enum cpu_exit cpu_run(struct cpu *cpu, uint64_t budget)
{
	struct clock *clock = cpu->clock;
	cpu->run_left = budget;
	cpu->slice_extra = 0;
	clock->slice_left = &cpu->run_left;
	clock->slice_budget = budget;
	/* Non-root operation: the slice ends when the preemption timer expires. */
	if (unlikely(cpu->vmx.non_root))
		vmx_slice_begin(cpu);
	switch (setjmp(cpu->fault_jmp)) {
	case 0:
		break;
	case CPU_UNWIND_VMEXIT:
		/* A VM exit ended the instruction or event delivery (vmx_exit_unwind).
		 * It costs one unit, like a fault, so exits always make progress. */
		cpu->slice_extra++;
		if (cpu->run_left)
			cpu->run_left--;
		break;
	default:
		/* cpu_exception() unwound the current instruction (or an event delivery).
		 * A delivery costs one unit of the budget, so that a guest whose every
		 * instruction faults still gives the machine its turn back. */
		cpu->stats.exceptions++;
		cpu->slice_extra++;
		if (cpu->run_left)
			cpu->run_left--;
		if (!cpu->intr_shadow)
			cpu->intr_shadow_kind = 0; /* the faulting instruction's shadow is over */
		cpu_deliver_fault(cpu);
		break;
	}
	enum cpu_exit why = run_loop(cpu);
	/* Counted here, not per instruction: the budget spent is the instructions
	 * retired plus the faults delivered and the extra REP iterations. The slice
	 * may have been shortened on the way (cpu_shorten_slice). */
	uint64_t spent = clock->slice_budget - cpu->run_left;
	cpu->stats.retired += spent - cpu->slice_extra;
	clock->retired += spent;
	clock->slice_left = NULL;
	return why;
}
