/*
 * String instructions MOVS CMPS STOS LODS SCAS INS OUTS and their REP/REPE/REPNE forms
 * (SDM Vol.2 pages of the same names, and "REP/REPE/REPZ/REPNE/REPNZ").
 *
 * Addresses: the source is in->seg:rSI (DS unless overridden), the destination
 * ES:rDI (never overridden). rSI, rDI and rCX are used and written at the address
 * size, wrapping within it; they step by the operand size, backwards when DF = 1.
 *
 * REP: an iteration commits its register updates before the next one starts, so a
 * fault leaves rCX/rSI/rDI as of the completed iterations with RIP at the instruction.
 * About REP_CHUNK iterations run per call (fast-path iterations count 1/16); if the
 * count is not exhausted, next_rip = rip so that the run loop comes back, letting
 * interrupts in between (the SDM's "interrupted REP" state: registers updated, RIP at
 * the instruction, and RFLAGS.RF = 1 so that an event taken there pushes RF = 1 and
 * the instruction breakpoint is not hit again on return, SDM 18.3.1.1). An iteration
 * that hits a data or I/O breakpoint pauses it the same way: the #DB trap comes after
 * that iteration (SDM 18.3.1.2). With a count of 0 nothing is accessed. F2 and F3
 * both mean REP for the instructions without a termination condition.
 */
#include "cpu/exec_util.h"

#include <string.h>

#include "cpu/io.h"

#define REP_CHUNK 4096

/* A REP instruction costs its iterations of the run budget (the run loop charges the
 * first), so that --max-insns, --timeout and the other CPUs get their turn during a long
 * string operation. They are not counted as retired instructions. */
static void rep_charge(struct cpu *cpu, uint64_t iterations)
{
	uint64_t extra = iterations > 1 ? iterations - 1 : 0;
	if (extra >= cpu->run_left)
		extra = cpu->run_left ? cpu->run_left - 1 : 0;
	cpu->run_left -= extra;
	cpu->slice_extra += extra;
}

enum str_kind { S_MOVS, S_CMPS, S_STOS, S_LODS, S_SCAS, S_INS, S_OUTS };

struct str {
	int osz, asz, seg;
	uint64_t amask, step; /* step: +size or -size, modulo 2^64 */
};

static inline void idx_advance(struct cpu *cpu, const struct str *s, int r)
{
	reg_write(cpu, r, s->asz, false, (cpu->gpr[r] + s->step) & s->amask);
}

/* One iteration; returns whether the operands compared equal (CMPS/SCAS). */
static inline __attribute__((always_inline)) bool str_step(struct cpu *cpu,
							  const struct str *s,
							  enum str_kind kind)
{
	uint64_t si = cpu->gpr[RSI] & s->amask, di = cpu->gpr[RDI] & s->amask;
	uint16_t port = (uint16_t)cpu->gpr[RDX];
	uint64_t a, b;
	switch (kind) {
	case S_MOVS:
		a = mem_read(cpu, s->seg, si, s->osz);
		mem_write(cpu, SEG_ES, di, s->osz, a);
		idx_advance(cpu, s, RSI);
		idx_advance(cpu, s, RDI);
		return false;
	case S_STOS:
		mem_write(cpu, SEG_ES, di, s->osz, cpu->gpr[RAX]);
		idx_advance(cpu, s, RDI);
		return false;
	case S_LODS:
		a = mem_read(cpu, s->seg, si, s->osz);
		reg_write(cpu, RAX, s->osz, false, a);
		idx_advance(cpu, s, RSI);
		return false;
	case S_CMPS: /* flags of [rSI] - [rDI] (SDM CMPS: SRC1 is DS:rSI) */
		a = mem_read(cpu, s->seg, si, s->osz);
		b = mem_read(cpu, SEG_ES, di, s->osz);
		idx_advance(cpu, s, RSI);
		idx_advance(cpu, s, RDI);
		flags_record(cpu, LF_SUB, s->osz, (a - b) & size_mask(s->osz), a, b);
		return a == b;
	case S_SCAS: /* flags of accumulator - [rDI] */
		a = reg_read(cpu, RAX, s->osz, false);
		b = mem_read(cpu, SEG_ES, di, s->osz);
		idx_advance(cpu, s, RDI);
		flags_record(cpu, LF_SUB, s->osz, (a - b) & size_mask(s->osz), a, b);
		return a == b;
	case S_INS: /* the write is checked first, so a fault loses no port read */
		mem_check_write(cpu, SEG_ES, di, 1 << s->osz);
		a = io_in(cpu, port, 1 << s->osz);
		mem_write(cpu, SEG_ES, di, s->osz, a);
		idx_advance(cpu, s, RDI);
		return false;
	default: /* S_OUTS */
		a = mem_read(cpu, s->seg, si, s->osz);
		io_out(cpu, port, 1 << s->osz, (uint32_t)a);
		idx_advance(cpu, s, RSI);
		return false;
	}
}

/*
 * Fast path for REP MOVS/STOS in 64-bit mode with DF = 0 and 64-bit addressing: the
 * iterations whose bytes lie in the current page of the destination (and source)
 * run as one host memmove/fill, if the software TLB gives direct host access there
 * (tlb_hit: present, permitted, plain RAM, not a code page; no fault is possible).
 * A MOVS whose destination starts inside its source range is left to the slow path:
 * element-by-element forward copying then replicates data, which memmove would not.
 * Returns the number of iterations done (0: not applicable, take the slow path).
 */
static uint64_t rep_fast(struct cpu *cpu, const struct insn *in, enum str_kind kind,
			 uint64_t cx)
{
	if (cpu->mode != MODE_LONG64 || in->asz != 3 || (cpu->rflags & RFLAGS_DF))
		return 0;
	int ctx = mem_data_ctx(cpu);
	if (ctx < 0)
		return 0;
	unsigned size = 1u << in->osz;
	uint64_t di = cpu->gpr[RDI], si = cpu->gpr[RSI];
	uint64_t sla = si + (in->seg >= SEG_FS ? cpu->seg[in->seg].base : 0);
	uint64_t n = (PAGE_SIZE - (di & ~PAGE_MASK)) / size;
	if (kind == S_MOVS && (PAGE_SIZE - (sla & ~PAGE_MASK)) / size < n)
		n = (PAGE_SIZE - (sla & ~PAGE_MASK)) / size;
	n = n < cx ? n : cx;
	if (n < 2)
		return 0;
	uint64_t bytes = n * size;
	uint8_t *d = tlb_hit(&cpu->tlb, ctx, di, (int)bytes, TLB_WRITE);
	if (!d)
		return 0;
	if (kind == S_MOVS) {
		const uint8_t *src = tlb_hit(&cpu->tlb, ctx, sla, (int)bytes, TLB_READ);
		if (!src || (d > src && d < src + bytes))
			return 0;
		memmove(d, src, bytes);
		cpu->gpr[RSI] = si + bytes;
	} else if (size == 1) {
		memset(d, (int)(cpu->gpr[RAX] & 0xFF), bytes);
	} else {
		for (uint64_t i = 0; i < bytes; i += size)
			mem_host_store(d + i, in->osz, cpu->gpr[RAX]);
	}
	cpu->gpr[RDI] = di + bytes;
	cpu->gpr[RCX] = cx - n;
	return n;
}

static inline __attribute__((always_inline)) void string_op(struct cpu *cpu,
							   const struct insn *in,
							   enum str_kind kind)
{
	struct str s = {
		.osz = in->osz, .asz = in->asz, .seg = in->seg,
		.amask = size_mask(in->asz),
		.step = (cpu->rflags & RFLAGS_DF) ? 0 - (1ULL << in->osz) : 1ULL << in->osz,
	};
	bool rep = in->flags & (INSN_REP | INSN_REPNE);
	uint64_t cx = cpu->gpr[RCX] & s.amask;
	if (rep && cx == 0)
		return;
	if (kind == S_INS || kind == S_OUTS)
		io_check_permission(cpu, (uint16_t)cpu->gpr[RDX], 1 << in->osz);
	if (!rep) {
		str_step(cpu, &s, kind);
		return;
	}
	/* REPE (F3) stops when the operands differ, REPNE (F2) when they are equal. */
	bool stop_on_equal = in->flags & INSN_REPNE;
	/* At most the budget left (run_left is 0 only outside cpu_run(), in tests). */
	uint64_t limit = cpu->run_left && cpu->run_left < REP_CHUNK ? cpu->run_left : REP_CHUNK;
	uint64_t n;
	for (n = 0; n < limit; n++) {
		if (kind == S_MOVS || kind == S_STOS) {
			uint64_t done = rep_fast(cpu, in, kind, cx);
			cx -= done;
			n += done >> 4; /* 16 fast iterations cost one of the budget */
			if (cx == 0)
				goto done;
		}
		bool eq = str_step(cpu, &s, kind);
		reg_write(cpu, RCX, s.asz, false, --cx);
		if (cx == 0)
			goto done;
		if ((kind == S_CMPS || kind == S_SCAS) && eq == stop_on_equal)
			goto done;
		if (unlikely(cpu->dbg.hits)) { /* a breakpoint: #DB after this iteration */
			n++;
			break;
		}
	}
	cpu->next_rip = cpu->rip; /* not finished: come back after pending events */
	cpu->rflags |= RFLAGS_RF;
done:
	rep_charge(cpu, n);
}

void exec_MOVS(struct cpu *cpu, const struct insn *in) { string_op(cpu, in, S_MOVS); }
void exec_CMPS(struct cpu *cpu, const struct insn *in) { string_op(cpu, in, S_CMPS); }
void exec_STOS(struct cpu *cpu, const struct insn *in) { string_op(cpu, in, S_STOS); }
void exec_LODS(struct cpu *cpu, const struct insn *in) { string_op(cpu, in, S_LODS); }
void exec_SCAS(struct cpu *cpu, const struct insn *in) { string_op(cpu, in, S_SCAS); }
void exec_INS(struct cpu *cpu, const struct insn *in) { string_op(cpu, in, S_INS); }
void exec_OUTS(struct cpu *cpu, const struct insn *in) { string_op(cpu, in, S_OUTS); }
