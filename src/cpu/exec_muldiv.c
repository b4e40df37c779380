/*
 * MUL, IMUL (one, two and three operands), DIV, IDIV (SDM Vol.2 "MUL", "IMUL", "DIV",
 * "IDIV").
 *
 * Flags: MUL/IMUL define CF = OF = "the product does not fit the destination"; SF, ZF,
 * AF, PF are undefined and are computed from the low half (AF = 0), recorded as
 * LF_MUL. DIV/IDIV leave all six undefined; they are left unchanged here.
 * #DE (divide error) for a zero divisor or a quotient that does not fit, including
 * the most negative dividend divided by -1, raised before anything is written.
 */
#include "cpu/exec_util.h"

typedef unsigned __int128 u128;
typedef __int128 s128;

/* rAX and rDX as the double-width accumulator (AX for byte operands). */
static inline void write_acc_pair(struct cpu *cpu, int osz, uint64_t lo, uint64_t hi)
{
	if (osz == 0) {
		reg_write(cpu, RAX, 1, false, (hi << 8 | lo) & 0xFFFF);
		return;
	}
	reg_write(cpu, RAX, osz, false, lo);
	reg_write(cpu, RDX, osz, false, hi);
}

void exec_MUL(struct cpu *cpu, const struct insn *in)
{
	int osz = in->osz;
	uint64_t s = opE_read(cpu, in);
	uint64_t a = reg_read(cpu, RAX, osz, false);
	uint64_t lo, hi;
	if (osz == 3) {
		u128 p = (u128)a * s;
		lo = (uint64_t)p;
		hi = (uint64_t)(p >> 64);
	} else {
		uint64_t p = a * s;
		lo = p & size_mask(osz);
		hi = p >> (8 << osz);
	}
	write_acc_pair(cpu, osz, lo, hi);
	flags_record(cpu, LF_MUL, osz, lo, hi != 0, 0);
}

/* Signed product of two osz-sized values; *fits says whether it fits in osz. */
static inline uint64_t smul(uint64_t a, uint64_t b, int osz, uint64_t *hi, bool *fits)
{
	if (osz == 3) {
		s128 p = (s128)(int64_t)a * (int64_t)b;
		*hi = (uint64_t)((u128)p >> 64);
		*fits = p == (int64_t)p;
		return (uint64_t)p;
	}
	int64_t p = (int64_t)sign_extend(a, osz) * (int64_t)sign_extend(b, osz);
	uint64_t lo = (uint64_t)p & size_mask(osz);
	*hi = ((uint64_t)p >> (8 << osz)) & size_mask(osz);
	*fits = (int64_t)sign_extend(lo, osz) == p;
	return lo;
}

void exec_IMUL1(struct cpu *cpu, const struct insn *in)
{
	int osz = in->osz;
	uint64_t s = opE_read(cpu, in);
	uint64_t hi;
	bool fits;
	uint64_t lo = smul(reg_read(cpu, RAX, osz, false), s, osz, &hi, &fits);
	write_acc_pair(cpu, osz, lo, hi);
	flags_record(cpu, LF_MUL, osz, lo, !fits, 0);
}

void exec_IMUL2(struct cpu *cpu, const struct insn *in)
{
	uint64_t hi;
	bool fits;
	uint64_t r = smul(opG_read(cpu, in), opE_read(cpu, in), in->osz, &hi, &fits);
	opG_write(cpu, in, r);
	flags_record(cpu, LF_MUL, in->osz, r, !fits, 0);
}

/* IMUL r, r/m, imm: the immediate is already sign-extended. */
void exec_IMUL3(struct cpu *cpu, const struct insn *in)
{
	uint64_t hi;
	bool fits;
	uint64_t r = smul(opE_read(cpu, in), in->imm, in->osz, &hi, &fits);
	opG_write(cpu, in, r);
	flags_record(cpu, LF_MUL, in->osz, r, !fits, 0);
}

static _Noreturn void divide_error(struct cpu *cpu)
{
	cpu_exception(cpu, EXC_DE, NO_ERROR_CODE);
}

/* The double-width dividend: AX, DX:AX, EDX:EAX or RDX:RAX. */
static inline u128 dividend(const struct cpu *cpu, int osz)
{
	if (osz == 0)
		return cpu->gpr[RAX] & 0xFFFF;
	uint64_t lo = reg_read(cpu, RAX, osz, false), hi = reg_read(cpu, RDX, osz, false);
	return (u128)hi << (8 << osz) | lo;
}

void exec_DIV(struct cpu *cpu, const struct insn *in)
{
	int osz = in->osz;
	uint64_t s = opE_read(cpu, in);
	if (s == 0)
		divide_error(cpu);
	u128 n = dividend(cpu, osz);
	uint64_t q, r;
	if (n >> 64 == 0) { /* fast path: a 64-bit host division */
		q = (uint64_t)n / s;
		r = (uint64_t)n % s;
	} else {
		if ((n >> 64) >= s) /* quotient >= 2^64 */
			divide_error(cpu);
		q = (uint64_t)(n / s);
		r = (uint64_t)(n % s);
	}
	if (q > size_mask(osz))
		divide_error(cpu);
	write_acc_pair(cpu, osz, q, r);
}

void exec_IDIV(struct cpu *cpu, const struct insn *in)
{
	int osz = in->osz;
	unsigned w = 8u << osz;
	int64_t s = (int64_t)sign_extend(opE_read(cpu, in), osz);
	if (s == 0)
		divide_error(cpu);
	/* Sign-extend the 2w-bit dividend to 128 bits. */
	u128 un = dividend(cpu, osz);
	s128 n = (s128)(un << (128 - 2 * w)) >> (128 - 2 * w);
	/* s == -1 is handled apart: MIN / -1 overflows the host division too. A dividend
	 * that fits in 64 bits takes the host's 64-bit division. */
	s128 q, r;
	if (s == -1) {
		q = (s128)(0 - (u128)n); /* wraps for the most negative n: #DE below */
		r = 0;
	} else if (n == (int64_t)n) {
		q = (int64_t)n / s;
		r = (int64_t)n % s;
	} else {
		q = n / s;
		r = n % s;
	}
	s128 qmax = ((s128)1 << (w - 1)) - 1;
	if (q > qmax || q < -qmax - 1)
		divide_error(cpu);
	write_acc_pair(cpu, osz, (uint64_t)q & size_mask(osz), (uint64_t)r & size_mask(osz));
}
