/*
 * alu_arith.c - ADD ADC SUB SBB AND OR XOR CMP TEST INC DEC NEG NOT at 8/16/32/64
 * bits, register and memory destinations, over all pairs of edge operands with
 * CF in = 0 and 1 (SDM Vol.2A/2B instruction pages, "Flags Affected").
 */
#include "alu.h"

typedef uint64_t (*op_fn)(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fout);

/* reg,reg form: "op %src, %dst" with flags loaded by POPFQ and read by PUSHFQ */
#define DEF_RR(op, sfx, T)                                                                  \
	static uint64_t op##sfx##_rr(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fout)   \
	{                                                                                   \
		T r = (T)a, s = (T)b;                                                       \
		uint64_t fl;                                                                \
		__asm__ volatile("pushq %[fi]\n\tpopfq\n\t" #op #sfx " %[s], %[r]\n\t"      \
				 "pushfq\n\tpopq %[fo]"                                     \
				 : [r] "+r"(r), [fo] "=&r"(fl)                              \
				 : [s] "r"(s), [fi] "r"(fin)                                \
				 : "cc");                                                   \
		*fout = fl;                                                                 \
		return r;                                                                   \
	}
/* mem,reg form: the destination is addressed through a register (RSP moves) */
#define DEF_MR(op, sfx, T)                                                                  \
	static uint64_t op##sfx##_mr(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fout)   \
	{                                                                                   \
		T m = (T)a, s = (T)b, *p = &m;                                              \
		uint64_t fl;                                                                \
		__asm__ volatile("pushq %[fi]\n\tpopfq\n\t" #op #sfx " %[s], (%[p])\n\t"    \
				 "pushfq\n\tpopq %[fo]"                                     \
				 : [fo] "=&r"(fl)                                           \
				 : [s] "r"(s), [fi] "r"(fin), [p] "r"(p)                    \
				 : "cc", "memory");                                         \
		*fout = fl;                                                                 \
		return m;                                                                   \
	}
/* unary: "op %dst" */
#define DEF_UN(op, sfx, T)                                                                  \
	static uint64_t op##sfx##_un(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fout)   \
	{                                                                                   \
		T r = (T)a;                                                                 \
		uint64_t fl;                                                                \
		(void)b;                                                                    \
		__asm__ volatile("pushq %[fi]\n\tpopfq\n\t" #op #sfx " %[r]\n\t"            \
				 "pushfq\n\tpopq %[fo]"                                     \
				 : [r] "+r"(r), [fo] "=&r"(fl)                              \
				 : [fi] "r"(fin)                                            \
				 : "cc");                                                   \
		*fout = fl;                                                                 \
		return r;                                                                   \
	}
#define DEF_BIN(op)                                                                         \
	DEF_RR(op, b, uint8_t) DEF_RR(op, w, uint16_t) DEF_RR(op, l, uint32_t)              \
	DEF_RR(op, q, uint64_t) DEF_MR(op, b, uint8_t) DEF_MR(op, w, uint16_t)              \
	DEF_MR(op, l, uint32_t) DEF_MR(op, q, uint64_t)
#define DEF_UNARY(op) DEF_UN(op, b, uint8_t) DEF_UN(op, w, uint16_t) DEF_UN(op, l, uint32_t) DEF_UN(op, q, uint64_t)

DEF_BIN(add) DEF_BIN(adc) DEF_BIN(sub) DEF_BIN(sbb) DEF_BIN(and) DEF_BIN(or) DEF_BIN(xor)
DEF_BIN(cmp) DEF_BIN(test)
DEF_UNARY(inc) DEF_UNARY(dec) DEF_UNARY(neg) DEF_UNARY(not)

enum kind { K_ADD, K_ADC, K_SUB, K_SBB, K_AND, K_OR, K_XOR, K_CMP, K_TEST, K_INC, K_DEC, K_NEG, K_NOT };

static struct ref model(enum kind k, uint64_t a, uint64_t b, int cf, uint64_t fin, int bits)
{
	struct ref r;
	switch (k) {
	case K_ADD: return ref_add(a, b, 0, bits);
	case K_ADC: return ref_add(a, b, cf, bits);
	case K_SUB: return ref_sub(a, b, 0, bits);
	case K_SBB: return ref_sub(a, b, cf, bits);
	case K_AND: return ref_logic(a & b, bits);
	case K_OR: return ref_logic(a | b, bits);
	case K_XOR: return ref_logic(a ^ b, bits);
	case K_CMP: r = ref_sub(a, b, 0, bits); r.val = a; return r;   /* dest unchanged */
	case K_TEST: r = ref_logic(a & b, bits); r.val = a; return r; /* dest unchanged */
	case K_INC: /* CF not affected */
		r = ref_add(a, 1, 0, bits);
		r.flags = (r.flags & ~FL_CF) | (fin & FL_CF);
		return r;
	case K_DEC:
		r = ref_sub(a, 1, 0, bits);
		r.flags = (r.flags & ~FL_CF) | (fin & FL_CF);
		return r;
	case K_NEG: /* CF = (source != 0); otherwise like 0 - src */
		return ref_sub(0, a, 0, bits);
	default: /* NOT: no flags affected */
		return (struct ref){ ~a & size_mask(bits), fin & FL_ARITH, FL_ARITH };
	}
}

struct opdesc {
	const char *name;
	enum kind k;
	op_fn fn[4]; /* 8 16 32 64 */
};

#define OPS(op, k, form) { #op " " #form, k, { op##b_##form, op##w_##form, op##l_##form, op##q_##form } }
static const struct opdesc ops[] = {
	OPS(add, K_ADD, rr), OPS(adc, K_ADC, rr), OPS(sub, K_SUB, rr), OPS(sbb, K_SBB, rr),
	OPS(and, K_AND, rr), OPS(or, K_OR, rr), OPS(xor, K_XOR, rr), OPS(cmp, K_CMP, rr),
	OPS(test, K_TEST, rr),
	OPS(add, K_ADD, mr), OPS(adc, K_ADC, mr), OPS(sub, K_SUB, mr), OPS(sbb, K_SBB, mr),
	OPS(and, K_AND, mr), OPS(or, K_OR, mr), OPS(xor, K_XOR, mr), OPS(cmp, K_CMP, mr),
	OPS(test, K_TEST, mr),
	OPS(inc, K_INC, un), OPS(dec, K_DEC, un), OPS(neg, K_NEG, un), OPS(not, K_NOT, un),
};

static void run_op(const struct opdesc *o, int si)
{
	static const int sizes[] = { 8, 16, 32, 64 };
	int bits = sizes[si];
	char name[48];
	uint64_t v[NVALS];
	struct agg g = { .name = name };

	snprintf(name, sizeof(name), "%s %d-bit result+flags", o->name, bits);
	edge_values(bits, v);
	for (int i = 0; i < NVALS; i++)
		for (int j = 0; j < NVALS; j++)
			for (int cf = 0; cf < 2; cf++) {
				/* other flags in: the complement of a neutral pattern, so
				 * "not affected" is visible */
				uint64_t fin = flags_in((cf ? FL_CF : 0) | FL_PF | FL_SF);
				uint64_t fout;
				uint64_t got = o->fn[si](v[i], v[j], fin, &fout);
				struct ref r = model(o->k, v[i], v[j], cf, fin, bits);
				agg_case(&g, got, r.val, "val a=0x%lx b=0x%lx cf=%d", v[i], v[j], cf);
				agg_case(&g, fout & r.mask, r.flags & r.mask,
					 "flags a=0x%lx b=0x%lx cf=%d", v[i], v[j], cf);
			}
	agg_report(&g);
}

/* A few hand-derived anchors straight from the definitions (Vol.1 3.4.3.1). */
static void anchors(void)
{
	uint64_t f;
	uint64_t r = addb_rr(0x7f, 0x01, flags_in(0), &f);
	check_eq(r, 0x80, "add8 0x7f+1 = 0x80");
	check_eq(f & FL_ARITH, FL_OF | FL_SF | FL_AF, "add8 0x7f+1 flags: OF SF AF");
	r = addl_rr(0xffffffff, 1, flags_in(0), &f);
	check_eq(f & FL_ARITH, FL_CF | FL_ZF | FL_PF | FL_AF, "add32 0xffffffff+1 flags: CF ZF PF AF");
	r = subq_rr(0, 1, flags_in(0), &f);
	check_eq(r, ~0ull, "sub64 0-1 = all ones");
	check_eq(f & FL_ARITH, FL_CF | FL_SF | FL_PF | FL_AF, "sub64 0-1 flags: CF SF PF AF");
	r = sbbw_rr(0x8000, 0, flags_in(FL_CF), &f);
	check_eq(r, 0x7fff, "sbb16 0x8000-0-CF = 0x7fff");
	check_eq(f & (FL_OF | FL_CF | FL_SF), FL_OF, "sbb16 0x8000-0-CF flags: OF only");
	r = negb_un(0x80, 0, flags_in(0), &f);
	check_eq(r, 0x80, "neg8 0x80 = 0x80");
	check_eq(f & (FL_OF | FL_CF), FL_OF | FL_CF, "neg8 0x80 flags: OF CF");
	r = incq_un(0x7fffffffffffffffull, 0, flags_in(FL_CF), &f);
	check_eq(f & (FL_OF | FL_CF | FL_SF), FL_OF | FL_CF | FL_SF, "inc64 INT64_MAX: OF SF, CF kept");
}

void test_arith(void)
{
	anchors();
	for (unsigned o = 0; o < ARRAY_SIZE(ops); o++)
		for (int si = 0; si < 4; si++)
			run_op(&ops[o], si);
}
