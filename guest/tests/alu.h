/*
 * alu.h - shared pieces of the `alu` kernel: the reference model (flags exactly as
 * the SDM defines them, per instruction) and the table-driven harness.
 *
 * Each check compares the hardware's result and the flags the SDM *defines* for
 * that instruction/count against the model; undefined flags are masked out.
 */
#ifndef ALU_H
#define ALU_H

#include "rt.h"

/* Expected outcome: value, flags, and which flags are defined (compared). */
struct ref {
	uint64_t val;
	uint64_t flags;
	uint64_t mask;
};

static inline uint64_t size_mask(int bits) { return bits == 64 ? ~0ull : (1ull << bits) - 1; }
static inline uint64_t sign_bit(int bits) { return 1ull << (bits - 1); }
static inline uint64_t sext(uint64_t v, int bits)
{
	return bits == 64 ? v : (v & sign_bit(bits)) ? v | ~size_mask(bits) : v & size_mask(bits);
}

/* Bit counting in plain C loops (no compiler builtins: they could compile to the
 * very instructions under test, or to libgcc calls). x must be non-zero for ctz/clz. */
static inline int ref_ctz(uint64_t x) { int n = 0; while (!(x & 1)) x >>= 1, n++; return n; }
static inline int ref_clz(uint64_t x) { int n = 0; while (!(x >> 63)) x <<= 1, n++; return n; }
static inline int ref_popcount(uint64_t x) { int n = 0; for (; x; x >>= 1) n += x & 1; return n; }

/* alu_ref.c: SDM Vol.1 3.4.3.1 / Appendix A (EFLAGS cross-reference) */
uint64_t flags_szp(uint64_t r, int bits);
struct ref ref_add(uint64_t a, uint64_t b, int cin, int bits);
struct ref ref_sub(uint64_t a, uint64_t b, int bin, int bits);
struct ref ref_logic(uint64_t r, int bits);
enum shop { SH_SHL, SH_SHR, SH_SAR, SH_ROL, SH_ROR, SH_RCL, SH_RCR };
struct ref ref_shift(enum shop op, uint64_t a, unsigned count, uint64_t fin, int bits);
struct ref ref_shd(bool left, uint64_t d, uint64_t s, unsigned count, uint64_t fin, int bits);
/* 128/64 unsigned division helper for the DIV model */
uint64_t udiv128(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem);

/* Edge operands for a size (0, 1, nibble carry, sign boundaries, all-ones, patterns). */
#define NVALS 10
void edge_values(int bits, uint64_t out[NVALS]);

/* Aggregated check: count mismatches, print the first one. */
struct agg {
	const char *name;
	unsigned cases, bad;
	char first[160];
	uint64_t got, want;
};
void agg_case(struct agg *g, uint64_t got, uint64_t want, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void agg_report(struct agg *g);

/* Flags to feed into an instruction: current RFLAGS with chosen arithmetic flags. */
uint64_t flags_in(uint64_t arith);

void test_arith(void);
void test_shift(void);
void test_muldiv(void);
void test_bits(void);
void test_cond(void);
void test_misc(void);
void test_string(void);

#endif
