/*
 * alu_shift.c - SHL SHR SAR ROL ROR RCL RCR (count in CL, count 1, imm8) and
 * SHLD/SHRD, with count masking (SDM Vol.2B SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR,
 * SHLD, SHRD: "The count is masked to 5 bits, or 6 bits with REX.W").
 */
#include "alu.h"

typedef uint64_t (*sh_fn)(uint64_t a, uint8_t c, uint64_t fin, uint64_t *fout);

#define DEF_CL(op, sfx, T)                                                                  \
	static uint64_t op##sfx##_cl(uint64_t a, uint8_t c, uint64_t fin, uint64_t *fout)    \
	{                                                                                   \
		T r = (T)a;                                                                 \
		uint64_t fl;                                                                \
		__asm__ volatile("pushq %[fi]\n\tpopfq\n\t" #op #sfx " %%cl, %[r]\n\t"      \
				 "pushfq\n\tpopq %[fo]"                                     \
				 : [r] "+r"(r), [fo] "=&r"(fl)                              \
				 : "c"(c), [fi] "r"(fin)                                    \
				 : "cc");                                                   \
		*fout = fl;                                                                 \
		return r;                                                                   \
	}
#define DEF_SH(op)                                                                          \
	DEF_CL(op, b, uint8_t) DEF_CL(op, w, uint16_t) DEF_CL(op, l, uint32_t) DEF_CL(op, q, uint64_t)

DEF_SH(shl) DEF_SH(shr) DEF_SH(sar) DEF_SH(rol) DEF_SH(ror) DEF_SH(rcl) DEF_SH(rcr)

static const struct {
	const char *name;
	enum shop op;
	sh_fn fn[4];
} shops[] = {
#define S(op, e) { #op, e, { op##b_cl, op##w_cl, op##l_cl, op##q_cl } }
	S(shl, SH_SHL), S(shr, SH_SHR), S(sar, SH_SAR), S(rol, SH_ROL),
	S(ror, SH_ROR), S(rcl, SH_RCL), S(rcr, SH_RCR),
#undef S
};

static const uint8_t counts[] = { 0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255 };

static void run_shift(int o, int si)
{
	static const int sizes[] = { 8, 16, 32, 64 };
	int bits = sizes[si];
	char name[48];
	uint64_t v[NVALS];
	struct agg g = { .name = name };

	snprintf(name, sizeof(name), "%s %d-bit by CL result+flags", shops[o].name, bits);
	edge_values(bits, v);
	for (int i = 0; i < NVALS; i++)
		for (unsigned c = 0; c < ARRAY_SIZE(counts); c++)
			for (int cf = 0; cf < 2; cf++) {
				uint64_t fin = flags_in((cf ? FL_CF | FL_OF : 0) | FL_ZF | FL_AF);
				uint64_t fout;
				uint64_t got = shops[o].fn[si](v[i], counts[c], fin, &fout);
				struct ref r = ref_shift(shops[o].op, v[i], counts[c], fin, bits);
				agg_case(&g, got, r.val, "val a=0x%lx cl=%u cf=%d", v[i], counts[c], cf);
				agg_case(&g, fout & r.mask, r.flags & r.mask, "flags a=0x%lx cl=%u cf=%d",
					 v[i], counts[c], cf);
			}
	agg_report(&g);
}

/* Immediate forms: C0/C1 ib and the D1 "by one" encoding go through other decode paths. */
static void imm_forms(void)
{
	uint64_t f, r, fin = flags_in(FL_CF);
	struct ref m;

	__asm__ volatile("pushq %[fi]; popfq; shlq $1, %[r]; pushfq; popq %[fo]"
			 : [r] "=r"(r), [fo] "=&r"(f) : "0"(0xc000000000000001ull), [fi] "r"(fin) : "cc");
	m = ref_shift(SH_SHL, 0xc000000000000001ull, 1, fin, 64);
	check_eq(r, m.val, "shl64 $1 (D1 /4) result");
	check_eq(f & m.mask, m.flags & m.mask, "shl64 $1 (D1 /4) flags incl. OF");
	__asm__ volatile("pushq %[fi]; popfq; sarl $1, %k[r]; pushfq; popq %[fo]"
			 : [r] "=r"(r), [fo] "=&r"(f) : "0"(0x80000003u), [fi] "r"(fin) : "cc");
	m = ref_shift(SH_SAR, 0x80000003u, 1, fin, 32);
	check_eq(r & 0xffffffff, m.val, "sar32 $1 (D1 /7) result");
	check_eq(f & m.mask, m.flags & m.mask, "sar32 $1 (D1 /7) flags, OF=0");
	__asm__ volatile("pushq %[fi]; popfq; shrb $35, %b[r]; pushfq; popq %[fo]"
			 : [r] "=q"(r), [fo] "=&r"(f) : "0"(0xf0ull), [fi] "r"(fin) : "cc");
	m = ref_shift(SH_SHR, 0xf0, 35, fin, 8);
	check_eq(r & 0xff, m.val, "shr8 $35 (C0 /5, count masked to 3) result");
	check_eq(f & m.mask, m.flags & m.mask, "shr8 $35 flags");
	__asm__ volatile("pushq %[fi]; popfq; rolw $17, %w[r]; pushfq; popq %[fo]"
			 : [r] "=r"(r), [fo] "=&r"(f) : "0"(0x8001ull), [fi] "r"(fin) : "cc");
	m = ref_shift(SH_ROL, 0x8001, 17, fin, 16);
	check_eq(r & 0xffff, m.val, "rol16 $17 (C1 /0) result");
	check_eq(f & m.mask, m.flags & m.mask, "rol16 $17 flags (CF only)");
	__asm__ volatile("pushq %[fi]; popfq; rcrq $1, %[r]; pushfq; popq %[fo]"
			 : [r] "=r"(r), [fo] "=&r"(f) : "0"(2ull), [fi] "r"(fin) : "cc");
	m = ref_shift(SH_RCR, 2, 1, fin, 64);
	check_eq(r, m.val, "rcr64 $1 with CF=1 result");
	check_eq(f & m.mask, m.flags & m.mask, "rcr64 $1 with CF=1 flags");
}

#define DEF_SHD(op, sfx, T)                                                                 \
	static uint64_t op##sfx(uint64_t d, uint64_t s, uint8_t c, uint64_t fin, uint64_t *fo) \
	{                                                                                   \
		T r = (T)d, src = (T)s;                                                     \
		uint64_t fl;                                                                \
		__asm__ volatile("pushq %[fi]\n\tpopfq\n\t" #op #sfx " %%cl, %[s], %[r]\n\t" \
				 "pushfq\n\tpopq %[f]"                                      \
				 : [r] "+r"(r), [f] "=&r"(fl)                               \
				 : [s] "r"(src), "c"(c), [fi] "r"(fin)                      \
				 : "cc");                                                   \
		*fo = fl;                                                                   \
		return r;                                                                   \
	}
DEF_SHD(shld, w, uint16_t) DEF_SHD(shld, l, uint32_t) DEF_SHD(shld, q, uint64_t)
DEF_SHD(shrd, w, uint16_t) DEF_SHD(shrd, l, uint32_t) DEF_SHD(shrd, q, uint64_t)

typedef uint64_t (*shd_fn)(uint64_t, uint64_t, uint8_t, uint64_t, uint64_t *);

static void run_shd(bool left, int bits, shd_fn fn)
{
	char name[48];
	uint64_t v[NVALS];
	struct agg g = { .name = name };
	static const uint8_t cs[] = { 1, 2, 4, 7, 8, 15, 16, 31, 32, 63 };

	snprintf(name, sizeof(name), "%s %d-bit by CL result+flags", left ? "shld" : "shrd", bits);
	edge_values(bits, v);
	for (int i = 0; i < NVALS; i++)
		for (int j = 0; j < NVALS; j += 3)
			for (unsigned c = 0; c < ARRAY_SIZE(cs); c++) {
				if (cs[c] >= bits) /* count > size: result undefined */
					continue;
				uint64_t fin = flags_in(FL_OF | FL_ZF), fout;
				uint64_t got = fn(v[i], v[j], cs[c], fin, &fout);
				struct ref r = ref_shd(left, v[i], v[j], cs[c], fin, bits);
				agg_case(&g, got, r.val, "val d=0x%lx s=0x%lx cl=%u", v[i], v[j], cs[c]);
				agg_case(&g, fout & r.mask, r.flags & r.mask, "flags d=0x%lx s=0x%lx cl=%u",
					 v[i], v[j], cs[c]);
			}
	agg_report(&g);
}

void test_shift(void)
{
	for (unsigned o = 0; o < ARRAY_SIZE(shops); o++)
		for (int si = 0; si < 4; si++)
			run_shift(o, si);
	imm_forms();
	run_shd(true, 16, shldw);
	run_shd(true, 32, shldl);
	run_shd(true, 64, shldq);
	run_shd(false, 16, shrdw);
	run_shd(false, 32, shrdl);
	run_shd(false, 64, shrdq);
	/* SHLD/SHRD with count 0: destination and flags unchanged */
	uint64_t f, fin = flags_in(FL_CF | FL_ZF);
	uint64_t r = shldl(0x12345678, 0xffffffff, 32, fin, &f);
	check_eq(r, 0x12345678, "shld32 count 32 (masked to 0): dest unchanged");
	check_eq(f & FL_ARITH, fin & FL_ARITH, "shld32 count 32 (masked to 0): flags unchanged");
}
