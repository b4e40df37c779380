/*
 * Lazy arithmetic flags (flags.h).
 *
 * A flag-setting instruction stores its operands and its truncated result; the six
 * arithmetic flags are derived only when something reads them. The derivations are the
 * SDM's definitions (Vol.1 3.4.3.1 and Appendix A, the instruction pages of Vol.2):
 *
 *   ADD/ADC  CF = carry out of the top bit  = top((a & b) | ((a | b) & ~r))
 *            OF = signed overflow           = top((a ^ r) & (b ^ r))
 *   SUB/SBB  CF = borrow out of the top bit = top((~a & b) | ((~a | b) & r))
 *   (NEG = SUB 0, x)  OF                    = top((a ^ b) & (a ^ r))
 *            AF = carry/borrow out of bit 3 = bit 4 of a ^ b ^ r
 *
 * The carry formulas read the carry into the top bit back from a ^ b ^ r, so they are
 * exact for ADC/SBB too without storing the carry-in. PF is the even parity of the low
 * byte; ZF and SF come from r.
 *
 * Choices for flags the SDM leaves undefined (kept consistent everywhere):
 *   AF after logic ops, shifts and MUL/IMUL: 0.
 *   SF/ZF/PF after MUL/IMUL: from the low half of the product.
 *   OF after a shift by more than 1: the count-1 formula (SHL: top(r) ^ CF,
 *   SHR: top(original), SAR: 0).
 *   CF after SHL/SHR by >= the operand size: the last bit the SDM's one-bit loop
 *   shifts out (0 once the count passes the size).
 */
#include "cpu/flags.h"

#include "cpu/exec.h"

static inline uint64_t top(uint64_t v, int osz)
{
	return (v >> ((8 << osz) - 1)) & 1;
}

/* CF of the recorded operation; for LF_NONE/LF_INC/LF_DEC it lives in rflags. */
static uint64_t lazy_cf(const struct cpu *cpu)
{
	const struct lazy_flags *lf = &cpu->lf;
	uint64_t a = lf->src1, b = lf->src2, r = lf->res;
	switch (lf->op) {
	case LF_ADD:
	case LF_ADC:
		return top((a & b) | ((a | b) & ~r), lf->size);
	case LF_SUB:
	case LF_SBB:
	case LF_NEG:
		return top((~a & b) | ((~a | b) & r), lf->size);
	case LF_LOGIC:
		return 0;
	case LF_SHL:
		return top(a << (b - 1), lf->size);
	case LF_SHR:
		return (a >> (b - 1)) & 1;
	case LF_SAR:
		return (uint64_t)(((int64_t)sign_extend(a, lf->size) >> (b - 1)) & 1);
	case LF_MUL:
		return a;
	default:
		return cpu->rflags & RFLAGS_CF;
	}
}

bool flags_cf(struct cpu *cpu)
{
	return lazy_cf(cpu) != 0;
}

/* OF and AF of the recorded operation (CF, SF, ZF, PF are computed by the caller). */
static uint64_t lazy_of_af(const struct cpu *cpu, uint64_t cf)
{
	const struct lazy_flags *lf = &cpu->lf;
	uint64_t a = lf->src1, b = lf->src2, r = lf->res;
	int osz = lf->size;
	uint64_t sign = 1ULL << ((8 << osz) - 1);
	switch (lf->op) {
	case LF_ADD:
	case LF_ADC:
		return top((a ^ r) & (b ^ r), osz) << 11 | ((a ^ b ^ r) & RFLAGS_AF);
	case LF_SUB:
	case LF_SBB:
	case LF_NEG:
		return top((a ^ b) & (a ^ r), osz) << 11 | ((a ^ b ^ r) & RFLAGS_AF);
	case LF_INC: /* OF: 0x7F..F + 1 (SDM INC); AF: carry out of bit 3 */
		return (uint64_t)(r == sign) << 11 | ((a ^ r) & RFLAGS_AF);
	case LF_DEC: /* OF: 0x80..0 - 1 (SDM DEC) */
		return (uint64_t)(a == sign) << 11 | ((a ^ r) & RFLAGS_AF);
	case LF_SHL: /* SDM SAL/SAR/SHL/SHR: OF = MSB(result) XOR CF */
		return (top(r, osz) ^ cf) << 11;
	case LF_SHR: /* OF = MSB(original operand) */
		return top(a, osz) << 11;
	case LF_MUL:
		return a << 11;
	default: /* LF_LOGIC, LF_SAR: OF = 0, AF = 0 */
		return 0;
	}
}

static uint64_t lazy_arith(const struct cpu *cpu)
{
	uint64_t cf = lazy_cf(cpu) != 0;
	return flags_szp(cpu->lf.res, cpu->lf.size) | cf | lazy_of_af(cpu, cf);
}

void flags_materialize(struct cpu *cpu)
{
	if (cpu->lf.op == LF_NONE)
		return;
	cpu->rflags = (cpu->rflags & ~RFLAGS_ARITH) | lazy_arith(cpu);
	cpu->lf.op = LF_NONE;
}

void flags_set_lazy(struct cpu *cpu, enum lf_op op, int osz, uint64_t res, uint64_t src1,
		    uint64_t src2)
{
	/* INC/DEC leave CF alone (SDM INC, DEC): park the current CF in rflags. */
	if ((op == LF_INC || op == LF_DEC) && cpu->lf.op > LF_NONE && cpu->lf.op != LF_INC &&
	    cpu->lf.op != LF_DEC)
		cpu->rflags = (cpu->rflags & ~RFLAGS_CF) | lazy_cf(cpu);
	flags_record(cpu, op, osz, res, src1, src2);
}

/* Condition from materialised flag bits (SDM Vol.2 Appendix B, Table B-1). */
static bool cond_from_bits(uint64_t f, int cc)
{
	bool of = f & RFLAGS_OF, sf = f & RFLAGS_SF, zf = f & RFLAGS_ZF;
	bool r;
	switch (cc >> 1) {
	case 0: r = of; break;
	case 1: r = f & RFLAGS_CF; break;
	case 2: r = zf; break;
	case 3: r = (f & RFLAGS_CF) || zf; break;
	case 4: r = sf; break;
	case 5: r = f & RFLAGS_PF; break;
	case 6: r = sf != of; break;
	default: r = zf || sf != of; break;
	}
	return r ^ (cc & 1);
}

bool cpu_cond(struct cpu *cpu, int cc)
{
	const struct lazy_flags *lf = &cpu->lf;
	/* CMP/SUB followed by Jcc/SETcc/CMOVcc: compare the operands directly. */
	if (lf->op == LF_SUB) {
		uint64_t a = lf->src1, b = lf->src2;
		int64_t sa = (int64_t)sign_extend(a, lf->size);
		int64_t sb = (int64_t)sign_extend(b, lf->size);
		bool r;
		switch (cc >> 1) {
		case 1: r = a < b; break;
		case 2: r = a == b; break;
		case 3: r = a <= b; break;
		case 6: r = sa < sb; break;
		case 7: r = sa <= sb; break;
		default: goto slow;
		}
		return r ^ (cc & 1);
	}
	/* TEST/AND/...: CF = OF = 0. */
	if (lf->op == LF_LOGIC && (cc >> 1) != 5) {
		bool zf = lf->res == 0, sf = top(lf->res, lf->size);
		static const uint8_t k[8] = { 0, 0, 1, 1, 2, 0, 2, 3 };
		bool r;
		switch (k[cc >> 1]) {
		case 0: r = false; break;        /* O, B */
		case 1: r = zf; break;           /* E, BE */
		case 2: r = sf; break;           /* S, L */
		default: r = zf || sf; break;    /* LE */
		}
		return r ^ (cc & 1);
	}
slow:
	return cond_from_bits(cpu_get_rflags(cpu), cc);
}
