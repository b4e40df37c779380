/* alu_ref.c - reference model of results and flags, from the SDM's definitions */
#include "alu.h"

/* PF: set if the low byte has an even number of 1 bits (Vol.1 3.4.3.1) */
uint64_t flags_szp(uint64_t r, int bits)
{
	uint64_t f = 0;
	uint8_t lo = (uint8_t)r;
	lo ^= lo >> 4;
	lo ^= lo >> 2;
	lo ^= lo >> 1;
	if (!(lo & 1))
		f |= FL_PF;
	if (!(r & size_mask(bits)))
		f |= FL_ZF;
	if (r & sign_bit(bits))
		f |= FL_SF;
	return f;
}

/* ADD/ADC: CF carry out of the MSB, OF signed overflow, AF carry out of bit 3 */
struct ref ref_add(uint64_t a, uint64_t b, int cin, int bits)
{
	unsigned __int128 s = (unsigned __int128)a + b + (cin ? 1 : 0);
	uint64_t r = (uint64_t)s & size_mask(bits);
	uint64_t f = flags_szp(r, bits);

	if ((s >> bits) & 1)
		f |= FL_CF;
	if (((a ^ r) & (b ^ r)) & sign_bit(bits))
		f |= FL_OF;
	if ((a ^ b ^ r) & 0x10)
		f |= FL_AF;
	return (struct ref){ r, f, FL_ARITH };
}

/* SUB/SBB/CMP/NEG: CF borrow into the MSB, OF signed overflow, AF borrow from bit 4 */
struct ref ref_sub(uint64_t a, uint64_t b, int bin, int bits)
{
	uint64_t r = (a - b - (bin ? 1 : 0)) & size_mask(bits);
	uint64_t f = flags_szp(r, bits);

	if ((unsigned __int128)a < (unsigned __int128)b + (bin ? 1 : 0))
		f |= FL_CF;
	if (((a ^ b) & (a ^ r)) & sign_bit(bits))
		f |= FL_OF;
	if ((a ^ b ^ r) & 0x10)
		f |= FL_AF;
	return (struct ref){ r, f, FL_ARITH };
}

/* AND/OR/XOR/TEST: OF=CF=0, SF ZF PF from the result, AF undefined */
struct ref ref_logic(uint64_t r, int bits)
{
	r &= size_mask(bits);
	return (struct ref){ r, flags_szp(r, bits), FL_ARITH & ~FL_AF };
}

static uint64_t msb(uint64_t v, int bits) { return (v >> (bits - 1)) & 1; }

/* Shifts (Vol.2B SAL/SAR/SHL/SHR): count masked to 5 bits (6 for 64-bit); count 0
 * changes nothing; CF = last bit shifted out (undefined for SHL/SHR when count >=
 * size); OF only for count 1 (SHL: MSB(r)^CF, SAR: 0, SHR: MSB of the original);
 * SF ZF PF from the result; AF undefined. */
static struct ref ref_sh(enum shop op, uint64_t a, unsigned c, uint64_t fin, int bits)
{
	uint64_t m = size_mask(bits), r = a & m, cf = 0;
	struct ref out;

	for (unsigned i = 0; i < c; i++) {
		if (op == SH_SHL) {
			cf = msb(r, bits);
			r = (r << 1) & m;
		} else {
			cf = r & 1;
			r = op == SH_SAR ? (r >> 1) | (r & sign_bit(bits)) : r >> 1;
		}
	}
	out.val = r;
	out.flags = flags_szp(r, bits) | (cf ? FL_CF : 0);
	out.mask = FL_CF | FL_SF | FL_ZF | FL_PF;
	if ((op == SH_SHL || op == SH_SHR) && c >= (unsigned)bits)
		out.mask &= ~FL_CF;
	if (c == 1) {
		out.mask |= FL_OF;
		uint64_t of = op == SH_SHL ? msb(r, bits) ^ cf : op == SH_SHR ? msb(a, bits) : 0;
		out.flags |= of ? FL_OF : 0;
	}
	(void)fin;
	return out;
}

/* Rotates (Vol.2B RCL/RCR/ROL/ROR): only CF and OF are affected; OF only for a
 * masked count of 1. ROL/ROR rotate by count mod size but set CF whenever the
 * masked count is non-zero; RCL/RCR rotate by count mod (size+1) for 8/16 bits. */
static struct ref ref_rot(enum shop op, uint64_t a, unsigned c, uint64_t fin, int bits)
{
	uint64_t m = size_mask(bits), r = a & m, cf = (fin & FL_CF) ? 1 : 0, of = 0;
	unsigned t = (op == SH_RCL || op == SH_RCR) ? (bits < 32 ? c % (bits + 1) : c) : c % bits;

	if (op == SH_RCR && c == 1)
		of = msb(r, bits) ^ cf;
	for (unsigned i = 0; i < t; i++) {
		uint64_t out;
		switch (op) {
		case SH_ROL: out = msb(r, bits); r = ((r << 1) | out) & m; break;
		case SH_ROR: out = r & 1; r = (r >> 1) | (out << (bits - 1)); break;
		case SH_RCL: out = msb(r, bits); r = ((r << 1) | cf) & m; cf = out; break;
		default: out = r & 1; r = (r >> 1) | (cf << (bits - 1)); cf = out; break;
		}
	}
	if (op == SH_ROL)
		cf = r & 1;
	if (op == SH_ROR)
		cf = msb(r, bits);
	if (c == 1 && op == SH_ROL)
		of = msb(r, bits) ^ cf;
	if (c == 1 && op == SH_ROR)
		of = msb(r, bits) ^ ((r >> (bits - 2)) & 1);
	if (c == 1 && op == SH_RCL)
		of = msb(r, bits) ^ cf;
	uint64_t keep = fin & (FL_SF | FL_ZF | FL_PF | FL_AF);
	return (struct ref){ r, keep | (cf ? FL_CF : 0) | (of ? FL_OF : 0),
			     FL_CF | FL_SF | FL_ZF | FL_PF | FL_AF | (c == 1 ? FL_OF : 0) };
}

struct ref ref_shift(enum shop op, uint64_t a, unsigned count, uint64_t fin, int bits)
{
	unsigned c = count & (bits == 64 ? 0x3f : 0x1f);

	if (c == 0) /* no flags affected, destination unchanged */
		return (struct ref){ a & size_mask(bits), fin & FL_ARITH, FL_ARITH };
	if (op <= SH_SAR)
		return ref_sh(op, a, c, fin, bits);
	return ref_rot(op, a, c, fin, bits);
}

/* SHLD/SHRD (Vol.2B): count masked to 5/6 bits; CF = last bit shifted out of the
 * destination; OF for count 1 = sign change; SF ZF PF from result; AF undefined.
 * Callers only use 0 < count < size (larger counts give undefined results). */
struct ref ref_shd(bool left, uint64_t d, uint64_t s, unsigned c, uint64_t fin, int bits)
{
	uint64_t m = size_mask(bits), r, cf;
	d &= m;
	s &= m;
	if (left) {
		r = ((d << c) | (s >> (bits - c))) & m;
		cf = (d >> (bits - c)) & 1;
	} else {
		r = ((d >> c) | (s << (bits - c))) & m;
		cf = (d >> (c - 1)) & 1;
	}
	uint64_t f = flags_szp(r, bits) | (cf ? FL_CF : 0);
	uint64_t mask = FL_CF | FL_SF | FL_ZF | FL_PF;
	if (c == 1) {
		mask |= FL_OF;
		f |= (msb(r, bits) ^ msb(d, bits)) ? FL_OF : 0;
	}
	(void)fin;
	return (struct ref){ r, f, mask };
}

uint64_t udiv128(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem)
{
	uint64_t q = 0, r = hi; /* caller guarantees hi < d */
	for (int i = 63; i >= 0; i--) {
		uint64_t carry = r >> 63;
		r = (r << 1) | ((lo >> i) & 1);
		if (carry || r >= d) {
			r -= d;
			q |= 1ull << i;
		}
	}
	*rem = r;
	return q;
}

void edge_values(int bits, uint64_t out[NVALS])
{
	uint64_t m = size_mask(bits), s = sign_bit(bits);
	uint64_t v[NVALS] = { 0, 1, 2, 0x0f, 0x10, s - 1, s, s + 1, m, 0x5a5a5a5a5a5a5a5aull & m };
	memcpy(out, v, sizeof(v));
}

void agg_case(struct agg *g, uint64_t got, uint64_t want, const char *fmt, ...)
{
	g->cases++;
	if (got == want)
		return;
	if (!g->bad++) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(g->first, sizeof(g->first), fmt, ap);
		va_end(ap);
		g->got = got;
		g->want = want;
	}
}

void agg_report(struct agg *g)
{
	if (!g->bad) {
		checkf(true, "%s (%u cases)", g->name, g->cases);
		return;
	}
	check_eqf(g->got, g->want, "%s: %u/%u cases wrong, first: %s", g->name, g->bad, g->cases,
		  g->first);
}

uint64_t flags_in(uint64_t arith)
{
	return (read_rflags() & ~(FL_ARITH | FL_DF | FL_TF | FL_AC)) | arith | 0x2;
}
