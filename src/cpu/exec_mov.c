/*
 * Data movement and conversions: MOV MOVZX MOVSX LEA XCHG CMOVcc SETcc BSWAP MOVBE
 * CBW CWD XLAT LAHF SAHF CMPXCHG CMPXCHG8B/16B XADD, and the legacy BCD adjusts AAA
 * AAS DAA DAS AAM AAD with SALC (SDM Vol.2 pages of the same names). The movement
 * instructions change no flags, except CMPXCHG (as CMP), CMPXCHG8B/16B (ZF), XADD (as
 * ADD) and SAHF.
 */
#include "cpu/exec_util.h"

/* MOV: 88-8B (EG/GE), A0-A3 (moffs: E is memory), B0-BF (GI), C6/C7 (EI). */
void exec_MOV(struct cpu *cpu, const struct insn *in)
{
	switch (in->form) {
	case FORM_GE: opG_write(cpu, in, opE_read(cpu, in)); break;
	case FORM_EG: opE_write(cpu, in, opG_read(cpu, in)); break;
	case FORM_GI: opG_write(cpu, in, in->imm); break;
	default: opE_write(cpu, in, in->imm); break; /* FORM_EI */
	}
}

/* MOVZX/MOVSX (and MOVSXD): osz is the destination size, imm the source size. */
void exec_MOVZX(struct cpu *cpu, const struct insn *in)
{
	opG_write(cpu, in, opE_read_sz(cpu, in, (int)in->imm));
}

void exec_MOVSX(struct cpu *cpu, const struct insn *in)
{
	int ssz = (int)in->imm;
	opG_write(cpu, in, sign_extend(opE_read_sz(cpu, in, ssz), ssz));
}

/* LEA: the effective address at the address size, then truncated or zero-extended to
 * the operand size (SDM LEA, Table 3-53). */
void exec_LEA(struct cpu *cpu, const struct insn *in)
{
	opG_write(cpu, in, insn_ea(cpu, in));
}

/* XCHG: memory forms are always locked (atomic here by construction). */
void exec_XCHG(struct cpu *cpu, const struct insn *in)
{
	uint64_t ea, g = opG_read(cpu, in);
	uint64_t e = rmw_read(cpu, in, &ea);
	rmw_write(cpu, in, ea, g);
	opG_write(cpu, in, e);
}

/* CMOVcc: the source is read (and may fault) whatever the condition; a 32-bit
 * destination is zero-extended even when the condition is false, in IA-32e mode
 * (SDM CMOVcc, Operation). */
void exec_CMOVCC(struct cpu *cpu, const struct insn *in)
{
	uint64_t s = opE_read(cpu, in);
	if (cpu_cond(cpu, in->cc))
		opG_write(cpu, in, s);
	else if (in->osz == 2 && (cpu->efer & EFER_LMA))
		cpu->gpr[in->reg] = (uint32_t)cpu->gpr[in->reg];
}

void exec_SETCC(struct cpu *cpu, const struct insn *in)
{
	uint64_t v = cpu_cond(cpu, in->cc);
	if (in->flags & INSN_MEM)
		mem_write(cpu, in->seg, insn_ea(cpu, in), 0, v);
	else
		reg_write(cpu, in->rm, 0, insn_rex(in), v);
}

/* BSWAP r16 is undefined (SDM BSWAP); processors clear the low word, and so do we. */
void exec_BSWAP(struct cpu *cpu, const struct insn *in)
{
	uint64_t v = opG_read(cpu, in);
	switch (in->osz) {
	case 1: v = 0; break;
	case 2: v = __builtin_bswap32((uint32_t)v); break;
	default: v = __builtin_bswap64(v); break;
	}
	opG_write(cpu, in, v);
}

static inline uint64_t bswap_sz(uint64_t v, int osz)
{
	switch (osz) {
	case 1: return __builtin_bswap16((uint16_t)v);
	case 2: return __builtin_bswap32((uint32_t)v);
	default: return __builtin_bswap64(v);
	}
}

/* MOVBE: FORM_GE loads memory into G byte-swapped, FORM_EG stores G byte-swapped. */
void exec_MOVBE(struct cpu *cpu, const struct insn *in)
{
	require_feature(cpu, FEAT_MOVBE);
	if (in->form == FORM_GE)
		opG_write(cpu, in, bswap_sz(opE_read(cpu, in), in->osz));
	else
		opE_write(cpu, in, bswap_sz(opG_read(cpu, in), in->osz));
}

/* CBW/CWDE/CDQE: sign-extend the lower half of the accumulator into all of it. */
void exec_CBW(struct cpu *cpu, const struct insn *in)
{
	int osz = in->osz;
	uint64_t v = sign_extend(reg_read(cpu, RAX, osz - 1, true), osz - 1);
	reg_write(cpu, RAX, osz, false, v);
}

/* CWD/CDQ/CQO: rDX = the sign of rAX. */
void exec_CWD(struct cpu *cpu, const struct insn *in)
{
	int osz = in->osz;
	uint64_t sign = top_bit(cpu->gpr[RAX], osz);
	reg_write(cpu, RDX, osz, false, 0 - sign);
}

/* XLAT: AL = [seg: rBX + zero-extended AL], at the address size. */
void exec_XLAT(struct cpu *cpu, const struct insn *in)
{
	uint64_t ea = (cpu->gpr[RBX] + (cpu->gpr[RAX] & 0xFF)) & size_mask(in->asz);
	reg_write(cpu, RAX, 0, false, mem_read(cpu, in->seg, ea, 0));
}

/* LAHF: AH = SF:ZF:0:AF:0:PF:1:CF. SAHF: SF ZF AF PF CF from AH (OF kept). */
#define SAHF_MASK (RFLAGS_SF | RFLAGS_ZF | RFLAGS_AF | RFLAGS_PF | RFLAGS_CF)

/* In 64-bit mode only with CPUID.80000001H:ECX.LAHF-SAHF = 1 (SDM LAHF, SAHF). */
static inline void lahf_sahf_check(struct cpu *cpu)
{
	if (cpu->mode == MODE_LONG64)
		require_feature(cpu, FEAT_LAHF_LM);
}

void exec_LAHF(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	lahf_sahf_check(cpu);
	uint64_t f = (cpu_get_rflags(cpu) & SAHF_MASK) | RFLAGS_FIXED1;
	reg_write(cpu, 4, 0, false, f); /* AH */
}

void exec_SAHF(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	lahf_sahf_check(cpu);
	flags_update(cpu, SAHF_MASK, (cpu->gpr[RAX] >> 8) & SAHF_MASK);
}

/*
 * CMPXCHG: compare the accumulator with E. Equal: ZF = 1, E = G. Not equal: ZF = 0,
 * accumulator = E. A memory destination is written in both cases (SDM: "the
 * destination operand is written back if the comparison fails"); a register one only
 * when equal, and the accumulator only when not, so the other keeps its upper half.
 * Flags as CMP accumulator, E.
 */
void exec_CMPXCHG(struct cpu *cpu, const struct insn *in)
{
	int osz = in->osz;
	uint64_t ea, d = rmw_read(cpu, in, &ea);
	uint64_t acc = reg_read(cpu, RAX, osz, false);
	uint64_t src = opG_read(cpu, in);
	if (acc == d)
		rmw_write(cpu, in, ea, src);
	else if (in->flags & INSN_MEM)
		rmw_write(cpu, in, ea, d);
	if (acc != d)
		reg_write(cpu, RAX, osz, false, d);
	flags_record(cpu, LF_SUB, osz, (acc - d) & size_mask(osz), acc, d);
}

/*
 * CMPXCHG8B m64 / CMPXCHG16B m128 (REX.W): compare rDX:rAX with memory; equal: ZF = 1
 * and memory = rCX:rBX; else ZF = 0, rDX:rAX = memory, and memory is written back.
 * CMPXCHG16B needs a 16-byte aligned operand: #GP(0) otherwise (SDM CMPXCHG8B/16B).
 */
void exec_CMPXCHG8B(struct cpu *cpu, const struct insn *in)
{
	int h = in->osz == 3 ? 3 : 2; /* size of each half */
	require_feature(cpu, h == 3 ? FEAT_CX16 : FEAT_CX8);
	uint64_t ea = insn_ea(cpu, in), ea2 = (ea + (1u << h)) & size_mask(in->asz);
	if (h == 3 && (ea & 15))
		cpu_gp(cpu, 0);
	mem_check_write(cpu, in->seg, ea, 2 << h);
	uint64_t lo = mem_read(cpu, in->seg, ea, h), hi = mem_read(cpu, in->seg, ea2, h);
	bool eq = lo == reg_read(cpu, RAX, h, false) && hi == reg_read(cpu, RDX, h, false);
	if (eq) {
		lo = reg_read(cpu, RBX, h, false);
		hi = reg_read(cpu, RCX, h, false);
	}
	mem_write(cpu, in->seg, ea, h, lo);
	mem_write(cpu, in->seg, ea2, h, hi);
	if (!eq) {
		reg_write(cpu, RAX, h, false, lo);
		reg_write(cpu, RDX, h, false, hi);
	}
	flags_update(cpu, RFLAGS_ZF, eq ? RFLAGS_ZF : 0);
}

/* XADD: TEMP = E + G; G = E; E = TEMP (E last, so XADD r, r leaves the sum). */
void exec_XADD(struct cpu *cpu, const struct insn *in)
{
	uint64_t ea, d = rmw_read(cpu, in, &ea);
	uint64_t s = opG_read(cpu, in);
	uint64_t r = (d + s) & size_mask(in->osz);
	if (in->flags & INSN_MEM) {
		mem_write(cpu, in->seg, ea, in->osz, r);
		opG_write(cpu, in, d);
	} else {
		opG_write(cpu, in, d);
		rmw_write(cpu, in, ea, r);
	}
	flags_record(cpu, LF_ADD, in->osz, r, d, s);
}

/* --- legacy BCD (the decoder raises #UD for these in 64-bit mode) ------------- */

/* AL and AH as the BCD instructions see them. */
static inline uint64_t al(const struct cpu *cpu) { return cpu->gpr[RAX] & 0xFF; }
static inline uint64_t ah(const struct cpu *cpu) { return (cpu->gpr[RAX] >> 8) & 0xFF; }

static inline bool af(struct cpu *cpu)
{
	return cpu_get_rflags(cpu) & RFLAGS_AF;
}

/* AAA: IF AL[3:0] > 9 or AF THEN AX += 106H, AF = CF = 1 ELSE AF = CF = 0; AL &= 0FH.
 * OF SF ZF PF undefined: from AL as for a logic op. */
void exec_AAA(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	uint64_t ax = cpu->gpr[RAX] & 0xFFFF, c = 0;
	if ((ax & 0xF) > 9 || af(cpu)) {
		ax += 0x106;
		c = RFLAGS_AF | RFLAGS_CF;
	}
	ax &= 0xFF0F;
	reg_write(cpu, RAX, 1, false, ax);
	flags_set_arith(cpu, flags_szp(ax & 0xFF, 0) | c);
}

/* AAS: IF AL[3:0] > 9 or AF THEN AX -= 6, AH -= 1, AF = CF = 1 ELSE AF = CF = 0;
 * AL &= 0FH (SDM AAS, the IA-32e-era definition with a 16-bit subtraction). */
void exec_AAS(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	uint64_t ax = cpu->gpr[RAX] & 0xFFFF, c = 0;
	if ((ax & 0xF) > 9 || af(cpu)) {
		ax = (ax - 6 - 0x100) & 0xFFFF;
		c = RFLAGS_AF | RFLAGS_CF;
	}
	ax &= 0xFF0F;
	reg_write(cpu, RAX, 1, false, ax);
	flags_set_arith(cpu, flags_szp(ax & 0xFF, 0) | c);
}

/* DAA (SDM DAA, Operation); OF undefined: 0. */
void exec_DAA(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	uint64_t old_al = al(cpu), a = old_al, f = 0;
	bool old_cf = flags_cf(cpu);
	if ((a & 0xF) > 9 || af(cpu)) {
		a += 6;
		f |= RFLAGS_AF | (old_cf || a > 0xFF ? RFLAGS_CF : 0);
	}
	if (old_al > 0x99 || old_cf) {
		a += 0x60;
		f |= RFLAGS_CF;
	} else {
		f &= ~RFLAGS_CF;
	}
	a &= 0xFF;
	reg_write(cpu, RAX, 0, false, a);
	flags_set_arith(cpu, flags_szp(a, 0) | f);
}

/* DAS (SDM DAS, Operation: no ELSE in the second step, so the borrow of the first
 * step survives); OF undefined: 0. */
void exec_DAS(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	uint64_t old_al = al(cpu), a = old_al, f = 0;
	bool old_cf = flags_cf(cpu);
	if ((a & 0xF) > 9 || af(cpu)) {
		f |= RFLAGS_AF | (old_cf || a < 6 ? RFLAGS_CF : 0);
		a -= 6;
	}
	if (old_al > 0x99 || old_cf) {
		a -= 0x60;
		f |= RFLAGS_CF;
	}
	a &= 0xFF;
	reg_write(cpu, RAX, 0, false, a);
	flags_set_arith(cpu, flags_szp(a, 0) | f);
}

/* AAM imm8: AH = AL / imm8, AL = AL mod imm8; #DE if imm8 = 0. SF ZF PF from AL; OF
 * AF CF undefined: 0. */
void exec_AAM(struct cpu *cpu, const struct insn *in)
{
	uint64_t base = in->imm & 0xFF, a = al(cpu);
	if (base == 0)
		cpu_exception(cpu, EXC_DE, NO_ERROR_CODE);
	uint64_t ax = (a / base) << 8 | (a % base);
	reg_write(cpu, RAX, 1, false, ax);
	flags_set_arith(cpu, flags_szp(ax & 0xFF, 0));
}

/* AAD imm8: AL = (AL + AH * imm8) & FFH, AH = 0. SF ZF PF from AL; OF AF CF: 0. */
void exec_AAD(struct cpu *cpu, const struct insn *in)
{
	uint64_t a = (al(cpu) + ah(cpu) * (in->imm & 0xFF)) & 0xFF;
	reg_write(cpu, RAX, 1, false, a);
	flags_set_arith(cpu, flags_szp(a, 0));
}

/* SALC (D6, undocumented): AL = CF ? FFH : 0; flags unchanged. */
void exec_SALC(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	reg_write(cpu, RAX, 0, false, flags_cf(cpu) ? 0xFF : 0);
}
