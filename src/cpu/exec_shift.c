/*
 * Shifts and rotates: ROL ROR RCL RCR SHL/SAL SHR SAR SHLD SHRD (SDM Vol.2 "RCL/RCR/
 * ROL/ROR", "SAL/SAR/SHL/SHR", "SHLD", "SHRD").
 *
 * The count is CL (INSN_CL) or the immediate (1 for D0/D1), masked to 5 bits, 6 with
 * a 64-bit operand. A masked count of 0 changes no flags. The destination is always
 * written back, even for a count of 0: a 32-bit register destination is then
 * zero-extended to 64 bits, as hardware does (the write happens; only the flags are
 * conditional).
 *
 * Undefined results and flags, chosen here and used consistently:
 *   OF for counts other than 1: the count-1 formula evaluated on the final result
 *     (ROL/RCL: MSB(r) ^ CF; ROR/RCR: MSB(r) ^ MSB-1(r); SHLD/SHRD: sign change).
 *   AF after any shift: 0.
 *   SHLD/SHRD on 16 bits with a count above 16 (result undefined): the operand is
 *     treated as dest:src:dest, which is what P6-family processors do.
 */
#include "cpu/exec_util.h"

static inline unsigned shift_count(const struct cpu *cpu, const struct insn *in)
{
	uint64_t c = (in->flags & INSN_CL) ? cpu->gpr[RCX] : in->imm;
	return (unsigned)c & (in->osz == 3 ? 63 : 31);
}

static inline unsigned bits_of(int osz)
{
	return 8u << osz;
}

/* SHL/SHR/SAR: lazy flags, LF_SHL/LF_SHR/LF_SAR (flags.c). */
#define SHIFT(NAME, LF, EXPR)                                                      \
	void exec_##NAME(struct cpu *cpu, const struct insn *in)                   \
	{                                                                           \
		unsigned n = shift_count(cpu, in);                                  \
		uint64_t ea, d = rmw_read(cpu, in, &ea);                            \
		uint64_t r = n ? (EXPR) & size_mask(in->osz) : d;                   \
		rmw_write(cpu, in, ea, r);                                          \
		if (n)                                                              \
			flags_record(cpu, LF, in->osz, r, d, n);                    \
	}

/* Counts can exceed the width of an 8/16-bit operand (up to 31): shift in 64 bits. */
SHIFT(SHL, LF_SHL, d << n)
SHIFT(SHR, LF_SHR, d >> n)
SHIFT(SAR, LF_SAR, (uint64_t)((int64_t)sign_extend(d, in->osz) >> n))

static inline uint64_t rotl(uint64_t d, unsigned n, int osz)
{
	unsigned w = bits_of(osz);
	n &= w - 1;
	return n ? ((d << n) | (d >> (w - n))) & size_mask(osz) : d;
}

/* ROL/ROR affect only CF and OF (SDM ROL/ROR: CF is set even when count MOD size is
 * 0, from the unrotated value). */
void exec_ROL(struct cpu *cpu, const struct insn *in)
{
	unsigned n = shift_count(cpu, in);
	uint64_t ea, d = rmw_read(cpu, in, &ea);
	uint64_t r = rotl(d, n, in->osz);
	rmw_write(cpu, in, ea, r);
	if (!n)
		return;
	uint64_t cf = r & 1;
	flags_update(cpu, RFLAGS_CF | RFLAGS_OF, cf | (top_bit(r, in->osz) ^ cf) << 11);
}

void exec_ROR(struct cpu *cpu, const struct insn *in)
{
	unsigned n = shift_count(cpu, in);
	uint64_t ea, d = rmw_read(cpu, in, &ea);
	unsigned w = bits_of(in->osz);
	uint64_t r = rotl(d, w - (n & (w - 1)), in->osz);
	rmw_write(cpu, in, ea, r);
	if (!n)
		return;
	uint64_t cf = top_bit(r, in->osz);
	uint64_t of = cf ^ ((r >> (w - 2)) & 1);
	flags_update(cpu, RFLAGS_CF | RFLAGS_OF, cf | of << 11);
}

/*
 * RCL/RCR rotate the (size+1)-bit value CF:dest. The count is reduced modulo 9 and 17
 * for 8- and 16-bit operands (SDM RCL/RCR tempCOUNT); 32/64-bit counts are already
 * below the width. Done in 128 bits so that the 65-bit case needs no special path.
 */
static void rcx(struct cpu *cpu, const struct insn *in, bool left)
{
	unsigned n = shift_count(cpu, in);
	uint64_t ea, d = rmw_read(cpu, in, &ea);
	unsigned w = bits_of(in->osz);
	unsigned k = in->osz < 2 ? n % (w + 1) : n;
	uint64_t cf = flags_cf(cpu);
	unsigned __int128 x = (unsigned __int128)cf << w | d;
	unsigned __int128 m = ((unsigned __int128)1 << (w + 1)) - 1;
	if (k) {
		if (left)
			x = ((x << k) | (x >> (w + 1 - k))) & m;
		else
			x = ((x >> k) | (x << (w + 1 - k))) & m;
	}
	uint64_t r = (uint64_t)x & size_mask(in->osz);
	rmw_write(cpu, in, ea, r);
	if (!n)
		return;
	cf = (uint64_t)(x >> w) & 1;
	uint64_t of = left ? top_bit(r, in->osz) ^ cf : top_bit(r ^ (r << 1), in->osz);
	flags_update(cpu, RFLAGS_CF | RFLAGS_OF, cf | of << 11);
}

void exec_RCL(struct cpu *cpu, const struct insn *in)
{
	rcx(cpu, in, true);
}

void exec_RCR(struct cpu *cpu, const struct insn *in)
{
	rcx(cpu, in, false);
}

/*
 * SHLD/SHRD (FORM_EG: E is shifted, G supplies the bits shifted in). CF is the last
 * bit shifted out of E; SF/ZF/PF from the result; OF = sign change (SDM: defined for a
 * count of 1).
 */
static void shxd(struct cpu *cpu, const struct insn *in, bool left)
{
	unsigned n = shift_count(cpu, in);
	uint64_t s = opG_read(cpu, in);
	uint64_t ea, d = rmw_read(cpu, in, &ea);
	int osz = in->osz;
	unsigned w = bits_of(osz);
	uint64_t r, cf;
	if (!n) {
		rmw_write(cpu, in, ea, d);
		return;
	}
	if (osz == 1) { /* 48-bit dest:src:dest, so counts 17..31 are covered */
		uint64_t x = left ? d << 32 | s << 16 | d : d | s << 16 | d << 32;
		r = (left ? x >> (32 - n) : x >> n) & 0xFFFF;
		cf = (left ? x >> (48 - n) : x >> (n - 1)) & 1;
	} else if (left) {
		r = ((d << n) | (s >> (w - n))) & size_mask(osz);
		cf = (d >> (w - n)) & 1;
	} else {
		r = ((d >> n) | (s << (w - n))) & size_mask(osz);
		cf = (d >> (n - 1)) & 1;
	}
	rmw_write(cpu, in, ea, r);
	uint64_t of = top_bit(r ^ d, osz);
	flags_set_arith(cpu, flags_szp(r, osz) | cf | of << 11);
}

void exec_SHLD(struct cpu *cpu, const struct insn *in)
{
	shxd(cpu, in, true);
}

void exec_SHRD(struct cpu *cpu, const struct insn *in)
{
	shxd(cpu, in, false);
}
