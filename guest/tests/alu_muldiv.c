/*
 * alu_muldiv.c - MUL, IMUL (one-, two-, three-operand), DIV, IDIV at all sizes
 * (SDM Vol.2A/2B). MUL/IMUL define only CF and OF; DIV/IDIV define no flags and
 * raise #DE for a zero divisor or a quotient too large for the destination.
 */
#include "alu.h"

struct md {
	uint64_t rax, rdx, flags;
	int vec;
};

#define DEF_MD(op, sfx, mod)                                                                \
	static void op##sfx(struct md *m, uint64_t src)                                     \
	{                                                                                   \
		uint64_t a = m->rax, d = m->rdx, fl;                                        \
		__asm__ volatile("pushq %[fi]\n\tpopfq\n\t" #op #sfx " %" #mod "[s]\n\t"    \
				 "pushfq\n\tpopq %[fo]"                                     \
				 : "+a"(a), "+d"(d), [fo] "=&r"(fl)                         \
				 : [s] "r"(src), [fi] "r"(m->flags)                         \
				 : "cc");                                                   \
		m->rax = a;                                                                 \
		m->rdx = d;                                                                 \
		m->flags = fl;                                                              \
	}
#define DEF_MD4(op) DEF_MD(op, b, b) DEF_MD(op, w, w) DEF_MD(op, l, k) DEF_MD(op, q, q)
DEF_MD4(mul) DEF_MD4(imul) DEF_MD4(div) DEF_MD4(idiv)

typedef void (*md_fn)(struct md *, uint64_t);

/* Write a (lo, hi) result the way each size does: 8-bit -> AX; 16-bit -> AX, DX
 * (upper bits kept); 32-bit -> EAX, EDX zero-extended; 64-bit -> RAX, RDX. */
static void put(struct md *m, int bits, uint64_t lo, uint64_t hi)
{
	uint64_t mk = size_mask(bits);
	if (bits == 8) {
		m->rax = (m->rax & ~0xffffull) | (lo & 0xff) | ((hi & 0xff) << 8);
	} else if (bits == 16) {
		m->rax = (m->rax & ~mk) | (lo & mk);
		m->rdx = (m->rdx & ~mk) | (hi & mk);
	} else {
		m->rax = lo & mk;
		m->rdx = hi & mk;
	}
}

static void model_mul(struct md *m, int bits, bool sgn, uint64_t src)
{
	uint64_t a = m->rax & size_mask(bits), s = src & size_mask(bits), lo, hi;
	bool wide;
	if (sgn) {
		__int128 p = (__int128)(int64_t)sext(a, bits) * (int64_t)sext(s, bits);
		lo = (uint64_t)p & size_mask(bits);
		hi = bits == 64 ? (uint64_t)(p >> 64) : (uint64_t)(p >> bits);
		wide = p != (__int128)(int64_t)sext(lo, bits); /* not a sign extension of lo */
	} else {
		unsigned __int128 p = (unsigned __int128)a * s;
		lo = (uint64_t)p & size_mask(bits);
		hi = bits == 64 ? (uint64_t)(p >> 64) : (uint64_t)(p >> bits);
		wide = (hi & size_mask(bits)) != 0;
	}
	put(m, bits, lo, hi);
	m->flags = wide ? FL_CF | FL_OF : 0;
}

/* Magnitude/sign helpers on a 128-bit two's-complement (hi, lo) pair. */
static void neg128(uint64_t *hi, uint64_t *lo)
{
	*lo = ~*lo + 1;
	*hi = ~*hi + (*lo == 0);
}

static void model_div(struct md *m, int bits, bool sgn, uint64_t src)
{
	uint64_t mk = size_mask(bits), d = src & mk, hi = 0, lo;
	/* dividend: AX, DX:AX, EDX:EAX or RDX:RAX */
	if (bits == 8)
		lo = m->rax & 0xffff;
	else if (bits == 64)
		lo = m->rax, hi = m->rdx;
	else
		lo = (m->rax & mk) | ((m->rdx & mk) << bits);
	if (sgn && bits < 64) {
		lo = sext(lo, 2 * bits);
		hi = (int64_t)lo < 0 ? ~0ull : 0;
	}
	bool nd = sgn && (hi >> 63), ns = sgn && (sext(d, bits) >> 63);
	if (nd)
		neg128(&hi, &lo);
	uint64_t ad = ns ? -sext(d, bits) : d;
	m->vec = 0;
	if (ad == 0 || hi >= ad)
		return; /* #DE: zero divisor, or quotient >= 2^64 */
	uint64_t r, q = udiv128(hi, lo, ad, &r);
	bool nq = nd != ns;
	uint64_t qmax = sgn ? (nq ? sign_bit(bits) : sign_bit(bits) - 1) : mk;
	if (q > qmax)
		return; /* #DE: quotient does not fit */
	m->vec = NO_FAULT;
	put(m, bits, nq ? -q : q, nd ? -r : r);
}

/* Run a DIV/IDIV wrapper, returning the exception vector or NO_FAULT. */
static __attribute__((noinline)) int div_try(md_fn fn, struct md *m, uint64_t src)
{
	struct fault f;
	if (!fault_try(&f)) {
		fn(m, src);
		fault_end(&f);
	}
	return f.vector;
}

static void run(const char *op, int bits, md_fn fn, bool sgn, bool div)
{
	char name[48];
	uint64_t v[NVALS];
	struct agg g = { .name = name };

	snprintf(name, sizeof(name), "%s %d-bit %s", op, bits, div ? "quotient/remainder/#DE" : "result+CF/OF");
	edge_values(bits, v);
	for (int i = 0; i < NVALS; i++)
		for (int j = 0; j < NVALS; j++)
			for (int k = 0; k < NVALS; k += div ? 1 : NVALS) {
				/* junk above the operand size must be preserved or zeroed as the SDM says */
				struct md hw = { 0xa5a5a5a5a5a5a500ull | v[i], 0x5a5a5a5a5a5a5a00ull | v[k],
						 flags_in(0), NO_FAULT };
				if (bits == 64)
					hw.rax = v[i], hw.rdx = v[k];
				struct md ref = hw;
				if (div) {
					hw.vec = div_try(fn, &hw, v[j]);
					model_div(&ref, bits, sgn, v[j]);
					agg_case(&g, hw.vec, ref.vec, "vector a=0x%lx d=0x%lx s=0x%lx", v[i], v[k], v[j]);
					if (ref.vec != NO_FAULT)
						continue;
				} else {
					fn(&hw, v[j]);
					model_mul(&ref, bits, sgn, v[j]);
				}
				agg_case(&g, hw.rax, ref.rax, "rax a=0x%lx d=0x%lx s=0x%lx", v[i], v[k], v[j]);
				agg_case(&g, hw.rdx, ref.rdx, "rdx a=0x%lx d=0x%lx s=0x%lx", v[i], v[k], v[j]);
				if (!div)
					agg_case(&g, hw.flags & (FL_CF | FL_OF), ref.flags, "CF/OF a=0x%lx s=0x%lx",
						 v[i], v[j]);
			}
	agg_report(&g);
}

/* IMUL r, r/m (two-operand) and IMUL r, r/m, imm: truncated product; CF=OF=1 iff
 * the significant bits did not fit (Vol.2A IMUL). */
#define DEF_IMUL2(sfx, T)                                                                   \
	static uint64_t imul2##sfx(uint64_t a, uint64_t b, uint64_t *fl)                     \
	{                                                                                   \
		T r = (T)a;                                                                 \
		__asm__ volatile("imul" #sfx " %[s], %[r]\n\tpushfq\n\tpopq %[f]"           \
				 : [r] "+r"(r), [f] "=r"(*fl) : [s] "r"((T)b) : "cc");       \
		return r;                                                                   \
	}
DEF_IMUL2(w, uint16_t) DEF_IMUL2(l, uint32_t) DEF_IMUL2(q, uint64_t)

static void imul_multi(void)
{
	static const int bits[] = { 16, 32, 64 };
	uint64_t (*fn[])(uint64_t, uint64_t, uint64_t *) = { imul2w, imul2l, imul2q };
	for (int s = 0; s < 3; s++) {
		char name[48];
		uint64_t v[NVALS], fl;
		struct agg g = { .name = name };
		snprintf(name, sizeof(name), "imul r,r/m %d-bit result+CF/OF", bits[s]);
		edge_values(bits[s], v);
		for (int i = 0; i < NVALS; i++)
			for (int j = 0; j < NVALS; j++) {
				struct md ref = { v[i], 0, 0, 0 };
				model_mul(&ref, bits[s], true, v[j]);
				uint64_t got = fn[s](v[i], v[j], &fl);
				agg_case(&g, got, ref.rax & size_mask(bits[s]), "a=0x%lx b=0x%lx", v[i], v[j]);
				agg_case(&g, fl & (FL_CF | FL_OF), ref.flags, "CF/OF a=0x%lx b=0x%lx", v[i], v[j]);
			}
		agg_report(&g);
	}
	uint64_t r, f;
	__asm__("imulq $-3, %[s], %[r]; pushfq; popq %[f]" : [r] "=r"(r), [f] "=r"(f) : [s] "r"(7ull) : "cc");
	check_eq(r, (uint64_t)-21, "imul r64, r/m64, imm8 (-3 * 7)");
	check_eq(f & (FL_CF | FL_OF), 0, "imul r64, r/m64, imm8: CF=OF=0");
	__asm__("imull $0x40000000, %k[s], %k[r]; pushfq; popq %[f]"
		: [r] "=r"(r), [f] "=r"(f) : [s] "r"(6ull) : "cc");
	check_eq(r, 0x80000000, "imul r32, r/m32, imm32 truncates, zero-extends");
	check_eq(f & (FL_CF | FL_OF), FL_CF | FL_OF, "imul r32, r/m32, imm32 overflow: CF=OF=1");
}

void test_muldiv(void)
{
	static const int bits[] = { 8, 16, 32, 64 };
	md_fn fns[4][4] = { { mulb, mulw, mull, mulq },
			    { imulb, imulw, imull, imulq },
			    { divb, divw, divl, divq },
			    { idivb, idivw, idivl, idivq } };
	static const char *names[] = { "mul", "imul", "div", "idiv" };
	for (int o = 0; o < 4; o++)
		for (int s = 0; s < 4; s++)
			run(names[o], bits[s], fns[o][s], o & 1, o >= 2);
	imul_multi();
}
