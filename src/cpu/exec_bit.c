/*
 * Bit operations: BT BTS BTR BTC, BSF BSR, TZCNT LZCNT POPCNT, BMI1 (ANDN BEXTR BLSI
 * BLSMSK BLSR), BMI2 (BZHI MULX PDEP PEXT RORX SARX SHLX SHRX) and CRC32.
 * SDM Vol.2 instruction pages of the same names.
 *
 * VEX forms (insn.h): FORM_GEV has G = f(E, vvvv), FORM_VE has vvvv = f(E); MULX writes
 * both G (high half) and vvvv (low half); RORX is FORM_GEI. VEX operand sizes are 32
 * or 64 bits. Each extension raises #UD unless CPUID advertises it (cpuid.h), except
 * TZCNT/LZCNT, whose encodings are BSF/BSR on processors without BMI1/LZCNT.
 */
#include "cpu/exec_util.h"

/* --- BT, BTS, BTR, BTC --------------------------------------------------------- */

enum bt_kind { BT_TEST, BT_SET, BT_RESET, BT_COMPLEMENT };

/*
 * SDM BT "bit base, bit offset": with a register offset and a memory operand, the
 * offset is signed and may address outside the operand: the access is to the
 * operand-sized unit at EA + (offset SAR log2(size_bits)) * size. An immediate offset
 * (and any offset into a register) is taken modulo the operand size.
 */
static void bt_op(struct cpu *cpu, const struct insn *in, enum bt_kind kind)
{
	int osz = in->osz;
	unsigned w = 8u << osz;
	uint64_t off = in->form == FORM_EI ? in->imm : opG_read(cpu, in);
	uint64_t bit = off & (w - 1);
	uint64_t ea = 0, d;
	if (in->flags & INSN_MEM) {
		ea = insn_ea(cpu, in);
		if (in->form != FORM_EI) {
			int64_t unit = (int64_t)sign_extend(off, osz) >> (3 + osz);
			ea = (ea + ((uint64_t)unit << osz)) & size_mask(in->asz);
		}
		if (kind != BT_TEST)
			rmw_check(cpu, in->seg, ea, osz);
		d = mem_read(cpu, in->seg, ea, osz);
	} else {
		d = reg_read(cpu, in->rm, osz, insn_rex(in));
	}
	uint64_t cf = (d >> bit) & 1, r = d;
	switch (kind) {
	case BT_TEST: break;
	case BT_SET: r = d | 1ULL << bit; break;
	case BT_RESET: r = d & ~(1ULL << bit); break;
	case BT_COMPLEMENT: r = d ^ 1ULL << bit; break;
	}
	if (kind != BT_TEST) {
		if (in->flags & INSN_MEM)
			mem_write(cpu, in->seg, ea, osz, r);
		else
			reg_write(cpu, in->rm, osz, insn_rex(in), r);
	}
	/* CF = the bit; ZF unaffected; OF SF AF PF undefined: left unchanged. */
	flags_update(cpu, RFLAGS_CF, cf);
}

void exec_BT(struct cpu *cpu, const struct insn *in) { bt_op(cpu, in, BT_TEST); }
void exec_BTS(struct cpu *cpu, const struct insn *in) { bt_op(cpu, in, BT_SET); }
void exec_BTR(struct cpu *cpu, const struct insn *in) { bt_op(cpu, in, BT_RESET); }
void exec_BTC(struct cpu *cpu, const struct insn *in) { bt_op(cpu, in, BT_COMPLEMENT); }

/* --- bit scans and counts ------------------------------------------------------ */

/* BSF/BSR: ZF = (source == 0); the destination is left unchanged (not even
 * zero-extended) for a zero source, as Intel and AMD processors do (the SDM calls it
 * undefined). CF OF SF AF PF are undefined: left unchanged. */
void exec_BSF(struct cpu *cpu, const struct insn *in)
{
	uint64_t s = opE_read(cpu, in);
	if (s)
		opG_write(cpu, in, (uint64_t)__builtin_ctzll(s));
	flags_update(cpu, RFLAGS_ZF, s ? 0 : RFLAGS_ZF);
}

void exec_BSR(struct cpu *cpu, const struct insn *in)
{
	uint64_t s = opE_read(cpu, in);
	if (s)
		opG_write(cpu, in, 63 - (uint64_t)__builtin_clzll(s));
	flags_update(cpu, RFLAGS_ZF, s ? 0 : RFLAGS_ZF);
}

/* TZCNT/LZCNT: CF = (source == 0), ZF = (result == 0); OF SF AF PF undefined: left
 * unchanged. */
void exec_TZCNT(struct cpu *cpu, const struct insn *in)
{
	if (!cpu_has_feature(cpu, FEAT_BMI1)) { /* F3 0F BC is BSF without BMI1 */
		exec_BSF(cpu, in);
		return;
	}
	uint64_t s = opE_read(cpu, in);
	uint64_t r = s ? (uint64_t)__builtin_ctzll(s) : 8u << in->osz;
	opG_write(cpu, in, r);
	flags_update(cpu, RFLAGS_CF | RFLAGS_ZF, (s ? 0 : RFLAGS_CF) | (r ? 0 : RFLAGS_ZF));
}

void exec_LZCNT(struct cpu *cpu, const struct insn *in)
{
	if (!cpu_has_feature(cpu, FEAT_LZCNT)) { /* F3 0F BD is BSR without LZCNT */
		exec_BSR(cpu, in);
		return;
	}
	uint64_t s = opE_read(cpu, in);
	unsigned w = 8u << in->osz;
	uint64_t r = s ? (uint64_t)__builtin_clzll(s) - (64 - w) : w;
	opG_write(cpu, in, r);
	flags_update(cpu, RFLAGS_CF | RFLAGS_ZF, (s ? 0 : RFLAGS_CF) | (r ? 0 : RFLAGS_ZF));
}

/* POPCNT: OF SF AF CF PF cleared, ZF = (source == 0). */
void exec_POPCNT(struct cpu *cpu, const struct insn *in)
{
	require_feature(cpu, FEAT_POPCNT);
	uint64_t s = opE_read(cpu, in);
	opG_write(cpu, in, (uint64_t)__builtin_popcountll(s));
	flags_set_arith(cpu, s ? 0 : RFLAGS_ZF);
}

/* --- BMI1 ---------------------------------------------------------------------- */

/* ANDN: SF ZF from the result, CF = OF = 0 (AF PF undefined: the logic-op values). */
void exec_ANDN(struct cpu *cpu, const struct insn *in)
{
	require_feature(cpu, FEAT_BMI1);
	uint64_t r = ~opV_read(cpu, in) & opE_read(cpu, in) & size_mask(in->osz);
	opG_write(cpu, in, r);
	flags_record(cpu, LF_LOGIC, in->osz, r, r, 0);
}

/* BEXTR: start = vvvv[7:0], length = vvvv[15:8]; ZF from the result, CF = OF = 0. */
void exec_BEXTR(struct cpu *cpu, const struct insn *in)
{
	require_feature(cpu, FEAT_BMI1);
	uint64_t s = opE_read(cpu, in), c = opV_read(cpu, in);
	unsigned w = 8u << in->osz, start = c & 0xFF, len = (c >> 8) & 0xFF;
	uint64_t r = start < w ? s >> start : 0;
	if (len < 64)
		r &= (1ULL << len) - 1;
	opG_write(cpu, in, r);
	flags_record(cpu, LF_LOGIC, in->osz, r, r, 0);
}

/* BLSI/BLSMSK/BLSR: SF ZF from the result, OF = 0, CF per the SDM page. */
static void bls(struct cpu *cpu, const struct insn *in, uint64_t r, uint64_t cf)
{
	r &= size_mask(in->osz);
	opV_write(cpu, in, r);
	flags_set_arith(cpu, flags_szp(r, in->osz) | cf);
}

void exec_BLSI(struct cpu *cpu, const struct insn *in)
{
	require_feature(cpu, FEAT_BMI1);
	uint64_t s = opE_read(cpu, in);
	bls(cpu, in, s & (0 - s), s != 0);
}

void exec_BLSMSK(struct cpu *cpu, const struct insn *in)
{
	require_feature(cpu, FEAT_BMI1);
	uint64_t s = opE_read(cpu, in);
	bls(cpu, in, s ^ (s - 1), s == 0);
}

void exec_BLSR(struct cpu *cpu, const struct insn *in)
{
	require_feature(cpu, FEAT_BMI1);
	uint64_t s = opE_read(cpu, in);
	bls(cpu, in, s & (s - 1), s == 0);
}

/* --- BMI2 ---------------------------------------------------------------------- */

/* BZHI: zero bits from index vvvv[7:0]; CF = index > size - 1; SF ZF from result. */
void exec_BZHI(struct cpu *cpu, const struct insn *in)
{
	require_feature(cpu, FEAT_BMI2);
	uint64_t s = opE_read(cpu, in);
	unsigned w = 8u << in->osz, n = opV_read(cpu, in) & 0xFF;
	uint64_t r = n < w ? s & ((1ULL << n) - 1) : s;
	opG_write(cpu, in, r);
	flags_set_arith(cpu, flags_szp(r, in->osz) | (n > w - 1));
}

/* MULX: G = high half, vvvv = low half of rDX * E; no flags. With G == vvvv the high
 * half wins (SDM MULX), so the low half is written first. */
void exec_MULX(struct cpu *cpu, const struct insn *in)
{
	require_feature(cpu, FEAT_BMI2);
	uint64_t s = opE_read(cpu, in);
	uint64_t lo, hi;
	if (in->osz == 3) {
		unsigned __int128 p = (unsigned __int128)cpu->gpr[RDX] * s;
		lo = (uint64_t)p;
		hi = (uint64_t)(p >> 64);
	} else {
		uint64_t p = (uint64_t)(uint32_t)cpu->gpr[RDX] * (uint32_t)s;
		lo = (uint32_t)p;
		hi = p >> 32;
	}
	opV_write(cpu, in, lo);
	opG_write(cpu, in, hi);
}

/* PDEP: deposit the low bits of vvvv at the set bits of the mask E. */
void exec_PDEP(struct cpu *cpu, const struct insn *in)
{
	require_feature(cpu, FEAT_BMI2);
	uint64_t mask = opE_read(cpu, in), src = opV_read(cpu, in), r = 0;
	for (uint64_t k = 1; mask; mask &= mask - 1, k <<= 1)
		if (src & k)
			r |= mask & (0 - mask);
	opG_write(cpu, in, r);
}

/* PEXT: gather the bits of vvvv selected by the mask E into the low bits. */
void exec_PEXT(struct cpu *cpu, const struct insn *in)
{
	require_feature(cpu, FEAT_BMI2);
	uint64_t mask = opE_read(cpu, in), src = opV_read(cpu, in), r = 0;
	for (uint64_t k = 1; mask; mask &= mask - 1, k <<= 1)
		if (src & mask & (0 - mask))
			r |= k;
	opG_write(cpu, in, r);
}

/* RORX: rotate right by imm8 (masked to the size); no flags. */
void exec_RORX(struct cpu *cpu, const struct insn *in)
{
	require_feature(cpu, FEAT_BMI2);
	uint64_t s = opE_read(cpu, in);
	unsigned w = 8u << in->osz, n = in->imm & (w - 1);
	uint64_t r = n ? (s >> n | s << (w - n)) & size_mask(in->osz) : s;
	opG_write(cpu, in, r);
}

/* SARX/SHLX/SHRX: count = vvvv masked to 5/6 bits; no flags. */
static inline unsigned shx_count(const struct cpu *cpu, const struct insn *in)
{
	return (unsigned)opV_read(cpu, in) & (in->osz == 3 ? 63 : 31);
}

void exec_SARX(struct cpu *cpu, const struct insn *in)
{
	require_feature(cpu, FEAT_BMI2);
	uint64_t s = opE_read(cpu, in);
	unsigned n = shx_count(cpu, in);
	opG_write(cpu, in, (uint64_t)((int64_t)sign_extend(s, in->osz) >> n));
}

void exec_SHLX(struct cpu *cpu, const struct insn *in)
{
	require_feature(cpu, FEAT_BMI2);
	uint64_t s = opE_read(cpu, in);
	opG_write(cpu, in, s << shx_count(cpu, in));
}

void exec_SHRX(struct cpu *cpu, const struct insn *in)
{
	require_feature(cpu, FEAT_BMI2);
	uint64_t s = opE_read(cpu, in);
	opG_write(cpu, in, s >> shx_count(cpu, in));
}

/* --- CRC32 --------------------------------------------------------------------- */

/*
 * SDM CRC32: CRC-32C (Castagnoli, polynomial 11EDC6F41H) over the source bytes in
 * little-endian order, bit-reflected, with no initial or final inversion: the usual
 * reflected shift-register algorithm with the reversed polynomial 0x82F63B78. Bitwise
 * (at most 64 steps): rare in guests, and no table to share between threads.
 */
void exec_CRC32(struct cpu *cpu, const struct insn *in)
{
	require_feature(cpu, FEAT_SSE4_2); /* CRC32 is enumerated by SSE4.2 */
	/* imm = source size (F0: byte; F1: 16/32/64 bits). The destination is a 32-bit
	 * CRC, zero-extended when REX.W names a 64-bit register. */
	int ssz = (int)in->imm;
	uint64_t s = opE_read_sz(cpu, in, ssz);
	uint32_t crc = (uint32_t)cpu->gpr[in->reg];
	for (int i = 0; i < 8 << ssz; i++, s >>= 1) {
		uint32_t b = (crc ^ (uint32_t)s) & 1;
		crc = (crc >> 1) ^ (0x82F63B78u & (0 - b));
	}
	cpu->gpr[in->reg] = crc;
}
