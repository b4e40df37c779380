/*
 * alu_cond.c - the 16 condition codes through SETcc, CMOVcc, Jcc rel8 and Jcc rel32,
 * each over all 32 combinations of CF PF ZF SF OF (SDM Vol.1 Appendix B, Table B-1;
 * Vol.2A CMOVcc, Jcc; Vol.2B SETcc).
 */
#include "alu.h"

static const char *const cc_names[16] = { "o", "no", "b", "ae", "e", "ne", "be", "a",
					  "s", "ns", "p", "np", "l", "ge", "le", "g" };

static bool cc_model(int cc, uint64_t f)
{
	bool cf = f & FL_CF, pf = f & FL_PF, zf = f & FL_ZF, sf = f & FL_SF, of = f & FL_OF;
	bool r;
	switch (cc >> 1) {
	case 0: r = of; break;
	case 1: r = cf; break;
	case 2: r = zf; break;
	case 3: r = cf || zf; break;
	case 4: r = sf; break;
	case 5: r = pf; break;
	case 6: r = sf != of; break;
	default: r = zf || sf != of; break;
	}
	return (cc & 1) ? !r : r;
}

static uint64_t combo_flags(int i)
{
	return ((i & 1) ? FL_CF : 0) | ((i & 2) ? FL_PF : 0) | ((i & 4) ? FL_ZF : 0) |
	       ((i & 8) ? FL_SF : 0) | ((i & 16) ? FL_OF : 0);
}

typedef uint64_t (*cc_fn)(uint64_t fin);

#define DEF_CC(cc)                                                                          \
	static uint64_t set_##cc(uint64_t fin)                                              \
	{                                                                                   \
		uint64_t r = 0xff;                                                          \
		__asm__ volatile("pushq %1; popfq; set" #cc " %b0" : "+q"(r) : "r"(fin) : "cc"); \
		return r;                                                                   \
	}                                                                                   \
	static uint64_t cmov_##cc(uint64_t fin)                                             \
	{                                                                                   \
		uint64_t r = 0;                                                             \
		__asm__ volatile("pushq %2; popfq; cmov" #cc "q %1, %0"                     \
				 : "+r"(r) : "r"(1ull), "r"(fin) : "cc");                   \
		return r;                                                                   \
	}                                                                                   \
	static uint64_t j8_##cc(uint64_t fin)                                               \
	{                                                                                   \
		uint64_t r;                                                                 \
		__asm__ volatile("pushq %1; popfq; j" #cc " 1f; movl $0, %k0; jmp 2f\n"     \
				 "1: movl $1, %k0\n2:" : "=r"(r) : "r"(fin) : "cc");        \
		return r;                                                                   \
	}
DEF_CC(o) DEF_CC(no) DEF_CC(b) DEF_CC(ae) DEF_CC(e) DEF_CC(ne) DEF_CC(be) DEF_CC(a)
DEF_CC(s) DEF_CC(ns) DEF_CC(p) DEF_CC(np) DEF_CC(l) DEF_CC(ge) DEF_CC(le) DEF_CC(g)

/* Jcc rel32 (0F 80+cc cd), encoded by hand so the assembler cannot relax it. */
#define DEF_J32(n, cc)                                                                      \
	static uint64_t j32_##cc(uint64_t fin)                                              \
	{                                                                                   \
		uint64_t r;                                                                 \
		__asm__ volatile("pushq %1; popfq\n\t.byte 0x0f, 0x80 + " #n "\n\t.long 1f - 0f\n" \
				 "0: movl $0, %k0; jmp 2f\n1: movl $1, %k0\n2:"              \
				 : "=r"(r) : "r"(fin) : "cc");                              \
		return r;                                                                   \
	}
DEF_J32(0, o) DEF_J32(1, no) DEF_J32(2, b) DEF_J32(3, ae) DEF_J32(4, e) DEF_J32(5, ne)
DEF_J32(6, be) DEF_J32(7, a) DEF_J32(8, s) DEF_J32(9, ns) DEF_J32(10, p) DEF_J32(11, np)
DEF_J32(12, l) DEF_J32(13, ge) DEF_J32(14, le) DEF_J32(15, g)

#define ALL(X) { X##o, X##no, X##b, X##ae, X##e, X##ne, X##be, X##a, X##s, X##ns, X##p, X##np, X##l, X##ge, X##le, X##g }
static const cc_fn set_fns[16] = ALL(set_), cmov_fns[16] = ALL(cmov_), j8_fns[16] = ALL(j8_),
		   j32_fns[16] = ALL(j32_);

static void sweep(const char *what, const cc_fn *fns)
{
	for (int cc = 0; cc < 16; cc++) {
		uint32_t got = 0, want = 0;
		for (int i = 0; i < 32; i++) {
			uint64_t fin = flags_in(combo_flags(i));
			got |= (uint32_t)(fns[cc](fin) == 1) << i;
			want |= (uint32_t)cc_model(cc, fin) << i;
		}
		check_eqf(got, want, "%s%s over all 32 CF/PF/ZF/SF/OF combinations", what, cc_names[cc]);
	}
}

/* CMOVcc r32: "In 64-bit mode, CMOVcc with a 32-bit operand size will clear the upper
 * 32 bits of the destination register even if the condition is false." (Vol.2A CMOVcc) */
static void cmov_sizes(void)
{
	uint64_t r = ~0ull, fin = flags_in(0);
	__asm__("pushq %2; popfq; cmovzl %k1, %k0" : "+r"(r) : "r"(0x12345678ull), "r"(fin) : "cc");
	check_eq(r, 0xffffffff, "cmovz r32 (false) still zero-extends the destination");
	r = ~0ull;
	__asm__("pushq %2; popfq; cmovnzl %k1, %k0" : "+r"(r) : "r"(0x12345678ull), "r"(fin) : "cc");
	check_eq(r, 0x12345678, "cmovnz r32 (true) moves and zero-extends");
	r = ~0ull;
	__asm__("pushq %2; popfq; cmovzw %w1, %w0" : "+r"(r) : "r"(0x1234ull), "r"(fin) : "cc");
	check_eq(r, ~0ull, "cmovz r16 (false) leaves the destination unchanged");
	uint64_t m = 0xabcd;
	r = ~0ull;
	__asm__("pushq %2; popfq; cmovnzw %1, %w0" : "+r"(r) : "m"(m), "r"(fin) : "cc");
	check_eq(r, 0xffffffffffffabcdull, "cmovnz r16, m16 (true) merges into the low word");
}

void test_cond(void)
{
	sweep("set", set_fns);
	sweep("cmov", cmov_fns);
	sweep("j (rel8) ", j8_fns);
	sweep("j (rel32) ", j32_fns);
	cmov_sizes();
}
