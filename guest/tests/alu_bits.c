/*
 * alu_bits.c - BT/BTS/BTR/BTC, BSF/BSR, LZCNT/TZCNT/POPCNT, BMI1/BMI2, MOVBE,
 * BSWAP, CRC32 (SDM Vol.2A/2B). Instructions gated by CPUID are skipped when absent.
 */
#include "alu.h"

/* ---- BT family: CF = selected bit; ZF unaffected; OF SF AF PF undefined ---- */
#define DEF_BT(op, sfx, T)                                                                  \
	static uint64_t op##sfx(uint64_t base, uint64_t off, uint64_t fin, uint64_t *fo)    \
	{                                                                                   \
		T r = (T)base;                                                              \
		__asm__ volatile("pushq %[fi]\n\tpopfq\n\t" #op #sfx " %[o], %[r]\n\t"      \
				 "pushfq\n\tpopq %[f]"                                      \
				 : [r] "+r"(r), [f] "=&r"(*fo)                              \
				 : [o] "r"((T)off), [fi] "r"(fin)                           \
				 : "cc");                                                   \
		return r;                                                                   \
	}
#define DEF_BT3(op) DEF_BT(op, w, uint16_t) DEF_BT(op, l, uint32_t) DEF_BT(op, q, uint64_t)
DEF_BT3(bt) DEF_BT3(bts) DEF_BT3(btr) DEF_BT3(btc)

typedef uint64_t (*bt_fn)(uint64_t, uint64_t, uint64_t, uint64_t *);

static void bt_reg(void)
{
	static const char *names[] = { "bt", "bts", "btr", "btc" };
	bt_fn fns[4][3] = { { btw, btl, btq }, { btsw, btsl, btsq }, { btrw, btrl, btrq }, { btcw, btcl, btcq } };
	static const int bits[] = { 16, 32, 64 };
	static const uint64_t offs[] = { 0, 1, 5, 15, 16, 31, 32, 63, 64, 100, 0x8000 };

	for (int o = 0; o < 4; o++)
		for (int s = 0; s < 3; s++) {
			char name[48];
			uint64_t v[NVALS];
			struct agg g = { .name = name };
			snprintf(name, sizeof(name), "%s r/m%d, r (offset mod size) result+CF+ZF", names[o], bits[s]);
			edge_values(bits[s], v);
			for (int i = 0; i < NVALS; i++)
				for (unsigned j = 0; j < ARRAY_SIZE(offs); j++)
					for (int zf = 0; zf < 2; zf++) {
						uint64_t bit = 1ull << (offs[j] & (bits[s] - 1));
						uint64_t fin = flags_in(zf ? FL_ZF : FL_CF), f;
						uint64_t got = fns[o][s](v[i], offs[j], fin, &f);
						uint64_t want = o == 1 ? v[i] | bit : o == 2 ? v[i] & ~bit : o == 3 ? v[i] ^ bit : v[i];
						uint64_t wf = ((v[i] & bit) ? FL_CF : 0) | (zf ? FL_ZF : 0);
						agg_case(&g, got, want, "val v=0x%lx off=%lu", v[i], offs[j]);
						agg_case(&g, f & (FL_CF | FL_ZF), wf, "flags v=0x%lx off=%lu", v[i], offs[j]);
					}
			agg_report(&g);
		}
}

/* Memory bit string with a register offset addresses beyond the operand: the offset
 * is signed and selects byte (offset >> 3) relative to the base (Vol.2A BT). */
static void bt_mem(void)
{
	uint32_t buf[8] = { 0 };
	uint32_t *mid = &buf[4];
	uint64_t cf;

	__asm__ volatile("btsl %k[o], (%[p]); setc %b[c]" : [c] "=q"(cf) : [o] "r"(100ull), [p] "r"(mid) : "memory", "cc");
	check_eq(buf[4 + 3], 1u << 4, "bts m32, r with offset 100 sets dword 3 bit 4");
	check_eq(cf & 1, 0, "bts m32, r offset 100: CF = old bit");
	__asm__ volatile("btcq %[o], (%[p]); setc %b[c]" : [c] "=q"(cf) : [o] "r"(-1ll), [p] "r"(mid) : "memory", "cc");
	check_eq(buf[3], 0x80000000u, "btc m64, r with offset -1 flips bit 63 of the qword below");
	__asm__ volatile("btl %k[o], (%[p]); setc %b[c]" : [c] "=q"(cf) : [o] "r"(-1ll), [p] "r"(mid) : "memory", "cc");
	check_eq(cf & 1, 1, "bt m32, r with offset -1 reads bit 31 of the dword below");
	__asm__ volatile("btrl $36, (%[p]); setc %b[c]" : [c] "=q"(cf) : [p] "r"(&buf[7]) : "memory", "cc");
	check_eq(cf & 1, 1, "btr m32, imm8 36: offset masked to 4, CF = old bit");
	check_eq(buf[7], 0, "btr m32, imm8 36 clears bit 4 of the addressed dword");
}

/* ---- BSF/BSR: ZF=1 and destination undefined if the source is 0 ---- */
static void bsf_bsr(void)
{
	uint64_t v[NVALS];
	struct agg g = { .name = "bsf/bsr 16/32/64 index+ZF" };
	for (int s = 0; s < 3; s++) {
		int bits = 16 << s;
		edge_values(bits, v);
		for (int i = 0; i < NVALS; i++) {
			uint64_t f1, f2, r1 = 0, r2 = 0, x = v[i];
			if (bits == 16)
				__asm__("bsfw %w2, %w0; pushfq; popq %1" : "=&r"(r1), "=r"(f1) : "r"(x) : "cc");
			else if (bits == 32)
				__asm__("bsfl %k2, %k0; pushfq; popq %1" : "=&r"(r1), "=r"(f1) : "r"(x) : "cc");
			else
				__asm__("bsfq %2, %0; pushfq; popq %1" : "=&r"(r1), "=r"(f1) : "r"(x) : "cc");
			if (bits == 16)
				__asm__("bsrw %w2, %w0; pushfq; popq %1" : "=&r"(r2), "=r"(f2) : "r"(x) : "cc");
			else if (bits == 32)
				__asm__("bsrl %k2, %k0; pushfq; popq %1" : "=&r"(r2), "=r"(f2) : "r"(x) : "cc");
			else
				__asm__("bsrq %2, %0; pushfq; popq %1" : "=&r"(r2), "=r"(f2) : "r"(x) : "cc");
			agg_case(&g, f1 & FL_ZF, x ? 0 : FL_ZF, "bsf%d ZF v=0x%lx", bits, x);
			agg_case(&g, f2 & FL_ZF, x ? 0 : FL_ZF, "bsr%d ZF v=0x%lx", bits, x);
			if (!x)
				continue;
			agg_case(&g, r1 & size_mask(bits), ref_ctz(x), "bsf%d v=0x%lx", bits, x);
			agg_case(&g, r2 & size_mask(bits), 63 - ref_clz(x), "bsr%d v=0x%lx", bits, x);
		}
	}
	agg_report(&g);
}

/* ---- LZCNT/TZCNT: CF = (src == 0), ZF = (result == 0); POPCNT: ZF = (src == 0),
 * OF SF AF CF PF cleared ---- */
static void counts(void)
{
	uint64_t v[NVALS];
	bool lz = has_feature(F_ABM), tz = has_feature(F_BMI1), pc = has_feature(F_POPCNT);
	struct agg g = { .name = "lzcnt/tzcnt/popcnt 64-bit result+flags" };
	edge_values(64, v);
	for (int i = 0; i < NVALS; i++) {
		uint64_t x = v[i], r, f, fin = flags_in(FL_ARITH);
		if (lz) {
			__asm__("pushq %3; popfq; lzcntq %2, %0; pushfq; popq %1" : "=&r"(r), "=&r"(f) : "r"(x), "r"(fin) : "cc");
			uint64_t w = x ? (uint64_t)ref_clz(x) : 64;
			agg_case(&g, r, w, "lzcnt v=0x%lx", x);
			agg_case(&g, f & (FL_CF | FL_ZF), (x ? 0 : FL_CF) | (w ? 0 : FL_ZF), "lzcnt flags v=0x%lx", x);
		}
		if (tz) {
			__asm__("pushq %3; popfq; tzcntq %2, %0; pushfq; popq %1" : "=&r"(r), "=&r"(f) : "r"(x), "r"(fin) : "cc");
			uint64_t w = x ? (uint64_t)ref_ctz(x) : 64;
			agg_case(&g, r, w, "tzcnt v=0x%lx", x);
			agg_case(&g, f & (FL_CF | FL_ZF), (x ? 0 : FL_CF) | (w ? 0 : FL_ZF), "tzcnt flags v=0x%lx", x);
		}
		if (pc) {
			__asm__("pushq %3; popfq; popcntq %2, %0; pushfq; popq %1" : "=&r"(r), "=&r"(f) : "r"(x), "r"(fin) : "cc");
			agg_case(&g, r, ref_popcount(x), "popcnt v=0x%lx", x);
			agg_case(&g, f & FL_ARITH, x ? 0 : FL_ZF, "popcnt flags v=0x%lx", x);
		}
	}
	if (lz || tz || pc)
		agg_report(&g);
	if (!lz)
		skip("lzcnt", "CPUID.80000001H:ECX[5] (LZCNT) clear");
	if (!tz)
		skip("tzcnt", "CPUID.(EAX=07H,ECX=0):EBX[3] (BMI1) clear");
	if (!pc)
		skip("popcnt", "CPUID.01H:ECX[23] (POPCNT) clear");
	if (tz) {
		uint64_t r;
		__asm__("tzcntw %w1, %w0" : "=r"(r) : "r"(0ull), "0"(0xffff0000ull) : "cc");
		check_eq(r, 0xffff0010, "tzcnt16 of 0 = 16, upper bits of the register kept");
	}
}

/* ---- BMI1 (Vol.2A ANDN BEXTR BLSI BLSMSK BLSR) ---- */
static void bmi1(void)
{
	if (!has_feature(F_BMI1)) {
		skip("bmi1", "CPUID.(EAX=07H,ECX=0):EBX[3] clear");
		return;
	}
	uint64_t r, f, fin = flags_in(FL_ARITH);
	__asm__("pushq %4; popfq; andn %3, %2, %0; pushfq; popq %1"
		: "=&r"(r), "=&r"(f) : "r"(0xff00ff00ull), "r"(0x0ff00ff0ull), "r"(fin) : "cc");
	check_eq(r, 0x00f000f0, "andn = ~src1 & src2");
	check_eq(f & (FL_CF | FL_OF | FL_ZF | FL_SF), 0, "andn flags: CF=OF=0, ZF=SF=0");
	__asm__("pushq %4; popfq; bextr %3, %2, %0; pushfq; popq %1"
		: "=&r"(r), "=&r"(f) : "r"(0x123456789abcdef0ull), "r"(0x0c08ull), "r"(fin) : "cc");
	check_eq(r, 0xcde, "bextr start 8 len 12");
	check_eq(f & (FL_CF | FL_OF | FL_ZF), 0, "bextr flags: CF=OF=0, ZF=0");
	__asm__("pushq %4; popfq; bextr %3, %2, %0; pushfq; popq %1"
		: "=&r"(r), "=&r"(f) : "r"(~0ull), "r"(0x1050ull), "r"(fin) : "cc");
	check_eq(r, 0, "bextr start 80 (beyond size) = 0");
	check_eq(f & FL_ZF, FL_ZF, "bextr zero result sets ZF");
	__asm__("pushq %3; popfq; blsi %2, %0; pushfq; popq %1" : "=&r"(r), "=&r"(f) : "r"(0xb0ull), "r"(fin) : "cc");
	check_eq(r, 0x10, "blsi isolates lowest set bit");
	check_eq(f & (FL_OF | FL_ZF | FL_SF), 0, "blsi flags: OF=ZF=SF=0");
	if (cpu_is_qemu_tcg())
		skip("blsi flags: CF=1 (src != 0)", "QEMU 7.2 TCG computes BLSI's CF inverted");
	else
		check_eq(f & FL_CF, FL_CF, "blsi flags: CF=1 (src != 0)");
	__asm__("pushq %3; popfq; blsmsk %2, %0; pushfq; popq %1" : "=&r"(r), "=&r"(f) : "r"(0ull), "r"(fin) : "cc");
	check_eq(r, ~0ull, "blsmsk of 0 = all ones");
	check_eq(f & (FL_CF | FL_OF | FL_ZF | FL_SF), FL_CF | FL_SF, "blsmsk of 0 flags: CF=1 SF=1 ZF=0");
	__asm__("pushq %3; popfq; blsr %2, %0; pushfq; popq %1"
		: "=&r"(r), "=&r"(f) : "r"(0x8000000000000000ull), "r"(fin) : "cc");
	check_eq(r, 0, "blsr clears lowest set bit");
	check_eq(f & (FL_CF | FL_OF | FL_ZF | FL_SF), FL_ZF, "blsr flags: ZF=1 CF=0");
}

static uint64_t pdep_ref(uint64_t src, uint64_t mask)
{
	uint64_t r = 0;
	for (uint64_t b = 1; mask; b <<= 1, mask &= mask - 1)
		if (src & b)
			r |= mask & -mask;
	return r;
}

static uint64_t pext_ref(uint64_t src, uint64_t mask)
{
	uint64_t r = 0;
	for (uint64_t b = 1; mask; b <<= 1, mask &= mask - 1)
		if (src & mask & -mask)
			r |= b;
	return r;
}

/* ---- BMI2 (Vol.2A BZHI MULX PDEP PEXT RORX SARX SHLX SHRX) ---- */
static void bmi2(void)
{
	if (!has_feature(F_BMI2)) {
		skip("bmi2", "CPUID.(EAX=07H,ECX=0):EBX[8] clear");
		return;
	}
	uint64_t r, f, hi, lo, fin = flags_in(FL_ARITH);
	__asm__("pushq %4; popfq; bzhi %3, %2, %0; pushfq; popq %1"
		: "=&r"(r), "=&r"(f) : "r"(~0ull), "r"(12ull), "r"(fin) : "cc");
	check_eq(r, 0xfff, "bzhi index 12");
	check_eq(f & (FL_CF | FL_OF | FL_ZF | FL_SF), 0, "bzhi index 12 flags: all clear");
	__asm__("pushq %4; popfq; bzhi %3, %2, %0; pushfq; popq %1"
		: "=&r"(r), "=&r"(f) : "r"(~0ull), "r"(0x140ull), "r"(fin) : "cc");
	check_eq(r, ~0ull, "bzhi index 64 (>= size) keeps source");
	check_eq(f & (FL_CF | FL_SF), FL_CF | FL_SF, "bzhi index 64 flags: CF=1 SF=1");
	__asm__("pushq %5; popfq; mulx %4, %1, %0; pushfq; popq %2"
		: "=&r"(hi), "=&r"(lo), "=&r"(f) : "d"(0xffffffffffffffffull), "r"(3ull), "r"(fin) : "cc");
	check_eq(hi, 2, "mulx high half");
	check_eq(lo, 0xfffffffffffffffdull, "mulx low half");
	check_eq(f & FL_ARITH, FL_ARITH, "mulx leaves flags unchanged");
	uint64_t src = 0x123456789abcdef0ull, mask = 0xff00ff00f0f0f0f0ull;
	__asm__("pdep %2, %1, %0" : "=r"(r) : "r"(src), "r"(mask));
	check_eq(r, pdep_ref(src, mask), "pdep deposits low source bits into mask positions");
	__asm__("pext %2, %1, %0" : "=r"(r) : "r"(src), "r"(mask));
	check_eq(r, pext_ref(src, mask), "pext gathers mask-selected bits");
	__asm__("rorx $12, %1, %0" : "=r"(r) : "r"(src));
	check_eq(r, (src >> 12) | (src << 52), "rorx 64 by 12");
	__asm__("rorxl $4, %k1, %k0" : "=r"(r) : "r"(0x80000001ull));
	check_eq(r, 0x18000000, "rorx 32 by 4 (zero-extends)");
	__asm__("pushq %4; popfq; sarx %3, %2, %0; pushfq; popq %1"
		: "=&r"(r), "=&r"(f) : "r"(0x8000000000000000ull), "r"(65ull), "r"(fin) : "cc");
	check_eq(r, 0xc000000000000000ull, "sarx count 65 masked to 1");
	check_eq(f & FL_ARITH, FL_ARITH, "sarx leaves flags unchanged");
	__asm__("shlxl %k2, %k1, %k0" : "=r"(r) : "r"(0x3ull), "r"(33ull));
	check_eq(r, 6, "shlx32 count 33 masked to 1");
	__asm__("shrx %2, %1, %0" : "=r"(r) : "r"(0x100ull), "r"(8ull));
	check_eq(r, 1, "shrx 64 by 8");
}

/* ---- MOVBE, BSWAP ---- */
static void swaps(void)
{
	uint64_t r;
	__asm__("bswapq %0" : "=r"(r) : "0"(0x0102030405060708ull));
	check_eq(r, 0x0807060504030201ull, "bswap r64");
	__asm__("bswapl %k0" : "=r"(r) : "0"(0xffffffff11223344ull));
	check_eq(r, 0x44332211, "bswap r32 zero-extends");
	if (!has_feature(F_MOVBE)) {
		skip("movbe", "CPUID.01H:ECX[22] clear");
		return;
	}
	uint64_t m = 0x1122334455667788ull;
	__asm__("movbeq %1, %0" : "=r"(r) : "m"(m));
	check_eq(r, 0x8877665544332211ull, "movbe r64, m64");
	__asm__("movbel %1, %k0" : "=r"(r) : "m"(m), "0"(~0ull));
	check_eq(r, 0x88776655, "movbe r32, m32 zero-extends");
	__asm__("movbew %1, %w0" : "=r"(r) : "m"(m), "0"(~0ull));
	check_eq(r, 0xffffffffffff8877ull, "movbe r16, m16 keeps upper bits");
	__asm__("movbel %k1, %0" : "=m"(m) : "r"(0xaabbccddull));
	check_eq(m, 0x11223344ddccbbaaull, "movbe m32, r32");
}

/* ---- CRC32 (CRC-32C, polynomial 0x11EDC6F41, Vol.2A CRC32) ---- */
static void crc32(void)
{
	if (!has_feature(F_SSE4_2)) {
		skip("crc32", "CPUID.01H:ECX[20] (SSE4.2) clear");
		return;
	}
	const char *s = "123456789";
	uint64_t c = 0xffffffff;
	for (int i = 0; i < 9; i++)
		__asm__("crc32b %b1, %k0" : "+r"(c) : "q"(s[i]));
	check_eq(c ^ 0xffffffff, 0xe3069283, "crc32b over \"123456789\" (CRC-32C check value)");
	uint64_t q, w, d;
	memcpy(&q, s, 8);
	c = 0xffffffff;
	__asm__("crc32q %1, %0" : "+r"(c) : "r"(q));
	__asm__("crc32b %b1, %k0" : "+r"(c) : "q"(s[8]));
	check_eq(c ^ 0xffffffff, 0xe3069283, "crc32q + crc32b give the same CRC");
	c = 0xffffffff;
	memcpy(&w, s, 2);
	memcpy(&d, s + 2, 4);
	__asm__("crc32w %w1, %k0" : "+r"(c) : "r"(w));
	__asm__("crc32l %k1, %k0" : "+r"(c) : "r"(d));
	__asm__("crc32w %w1, %k0" : "+r"(c) : "r"((uint64_t)(s[6] | s[7] << 8)));
	__asm__("crc32b %b1, %k0" : "+r"(c) : "q"(s[8]));
	check_eq(c ^ 0xffffffff, 0xe3069283, "crc32w/l/w/b give the same CRC");
}

void test_bits(void)
{
	bt_reg();
	bt_mem();
	bsf_bsr();
	counts();
	bmi1();
	bmi2();
	swaps();
	crc32();
}
