/*
 * Decoder internals: the opcode-table row format and the state shared by the decode*.c
 * files. Not part of the contract; the executor only sees struct insn (cpu/insn.h).
 *
 * Every opcode map is a 256-entry designated-initialiser array of struct opdesc, one row
 * per opcode written in SDM operand notation (Vol.2 Appendix A.2: E = ModRM r/m, G =
 * ModRM reg, Z = register in the opcode's low bits, I = immediate, J = relative offset,
 * O = moffs, M = memory only, b/w/d/q/v/z/y = sizes). A row either describes the
 * instruction or redirects to a sub-table (group by ModRM.reg, split by ModRM.mod, by
 * ModRM.rm, by mandatory prefix, by mode, or to a special-case function). Attributes of
 * a redirecting row are inherited by the row it leads to (OR-ed), so a group row can
 * carry the operand template (Eb_Ib ...) and the group table just the ops.
 *
 * Conventions in struct insn beyond those spelled out in insn.h and ops.def:
 *   - opcode-register forms (40-4F INC/DEC, 50-5F, 90-97, B0-BF, 0F C8-CF) are FORM_G /
 *     FORM_GI / FORM_EG with the register in reg (REX.B included); 90-97 XCHG is
 *     FORM_EG with E = register 0 (rAX);
 *   - IN/OUT with imm8 are FORM_EI with E = register 0 and imm = port; with DX they are
 *     FORM_E with E = register 0 and INSN_DX; osz is 0 or 1/2 (REX.W ignored);
 *   - cc holds the condition for JCC/SETCC/CMOVCC and ModRM.reg for rows chosen
 *     through a ModRM.reg group (FENCE: 5 LFENCE, 6 MFENCE, 7 SFENCE); else 0;
 *   - seg is always the effective segment: the override in effect (in 64-bit mode
 *     only FS/GS overrides are, 26/2E/36/3E are ignored there), else SS for rSP/rBP
 *     and BP-based 16-bit bases, else DS; INSN_SEGOVR says an override is in effect;
 *   - INSN_REP/INSN_REPNE: only the last of F3/F2 is recorded;
 *   - PUSH_SEG/POP_SEG: reg = Sreg; MOV_FROM_SEG is FORM_EG, MOV_TO_SEG FORM_GE, with
 *     reg = Sreg (8C with a memory operand has osz 1: it stores 16 bits);
 *   - CRC32: osz = destination (2 or 3), imm = source size log2 (as MOVZX);
 *     MOVSXD: imm = 2 (or the 16/32-bit source size with 66 / without REX.W);
 *   - CMPXCHG8B: osz 3 (REX.W) means CMPXCHG16B; CLFLUSH with INSN_OPSIZE is CLFLUSHOPT;
 *   - VEX BMI: osz 2, or 3 with VEX.W in 64-bit mode; vvvv is 3 bits outside 64-bit
 *     mode; INSN_VEX is set for every VEX/EVEX/XOP decoding (VEX is #UD in real and
 *     virtual-8086 mode: the executor's check, the decoder does not know the mode);
 *   - OP_SSE/OP_FPU/OP_NOP/OP_UD rows still decode their ModRM operand (E fields).
 */
#ifndef TURTLES_CPU_DECODE_H
#define TURTLES_CPU_DECODE_H

#include "cpu/insn.h"

/* ---- attribute word (struct opdesc.attr) ---- */

/* Operand-size class, bits 0-3 (SDM Vol.2 2.2.1.2 and Table 2-4). */
#define SZ_V 0x0u    /* 16/32/64 by mode, 66 and REX.W */
#define SZ_B 0x1u    /* byte */
#define SZ_W 0x2u    /* always 16 (Ew sources: ARPL, LLDT, MOV Sreg, Ew) */
#define SZ_D64 0x3u  /* 64-bit mode: default 64, 66 selects 16 (PUSH/POP/LEAVE...) */
#define SZ_F64 0x4u  /* 64-bit mode: always 64, 66 ignored (near branches, LGDT...) */
#define SZ_NAT 0x5u  /* 64 in 64-bit mode, else 32 (MOV CR/DR, VMREAD, INVEPT Gy) */
#define SZ_Y 0x6u    /* 32, or 64 with REX.W in 64-bit mode; 66 ignored */
#define SZ_Z 0x7u    /* 16 or 32; REX.W ignored (IN/OUT/INS/OUTS) */
#define SZ_MW 0x8u   /* register: as SZ_V; memory: 16 (MOV Ev,Sw; SLDT; STR; SMSW) */
#define SZ_MASK 0xFu

/* Immediate kind, bits 4-7. */
#define IM_NONE (0u << 4)
#define IM_IB (1u << 4)     /* imm8, sign-extended */
#define IM_UB (2u << 4)     /* imm8, zero-extended (counts, ports, vectors, bit offsets) */
#define IM_IW (3u << 4)     /* imm16, zero-extended */
#define IM_IZ (4u << 4)     /* imm16/imm32 by operand size, sign-extended */
#define IM_IV (5u << 4)     /* imm16/32/64 by operand size (B8+r) */
#define IM_RB (6u << 4)     /* rel8, sign-extended */
#define IM_RZ (7u << 4)     /* rel16/rel32 by operand size, sign-extended */
#define IM_AP (8u << 4)     /* ptr16:16/ptr16:32: imm = offset, imm2 = selector */
#define IM_ENTER (9u << 4)  /* imm16, imm8: imm = size, imm2 = level */
#define IM_MOFFS (10u << 4) /* moffs by address size: memory E with INSN_MOFFS */
#define IM_ONE (11u << 4)   /* implicit count 1 (D0/D1) */
#define IM_ID (12u << 4)    /* imm32 (XOP map A only; length) */
#define IM_MASK (15u << 4)

#define A_MODRM (1u << 8)   /* has a ModRM byte */
#define A_MEM (1u << 9)     /* ModRM.mod = 11 is #UD (M operands) */
#define A_REG (1u << 10)    /* ModRM.mod != 11 is #UD (R/U/N operands) */
#define A_LK (1u << 11)     /* LOCK allowed when E is memory (SDM Vol.2 "LOCK") */
#define A_I64 (1u << 12)    /* invalid in 64-bit mode (i64) */
#define A_O64 (1u << 13)    /* valid only in 64-bit mode (o64) */
#define A_ZR (1u << 14)     /* register in opcode bits 2:0 (+REX.B) -> reg */
#define A_ACC (1u << 15)    /* implicit accumulator: E = register 0 */
#define A_CL (1u << 16)     /* count in CL -> INSN_CL */
#define A_DX (1u << 17)     /* port in DX -> INSN_DX */
#define A_FAR (1u << 18)    /* INSN_FAR */
#define A_MODREG (1u << 19) /* ModRM.mod ignored, r/m is always a register (MOV CR/DR) */
#define A_NP (1u << 20)     /* #UD with a 66/F2/F3 prefix */
#define A_CC (1u << 21)     /* cc = opcode bits 3:0 */

/* Redirect kinds, bits 24-27: the row leads to row sub[...]. */
#define R_NONE (0u << 24)
#define R_GRP (1u << 24)  /* sub[ModRM.reg] */
#define R_MOD (2u << 24)  /* sub[0] memory form, sub[1] register form */
#define R_RM (3u << 24)   /* sub[ModRM.rm] */
#define R_PFX (4u << 24)  /* sub[mandatory prefix: 0 none, 1 66, 2 F3, 3 F2] */
#define R_M64 (5u << 24)  /* sub[0] outside 64-bit mode, sub[1] in 64-bit mode */
#define R_SPEC (6u << 24) /* special-case function (fix field says which) */
#define R_MASK (15u << 24)

/* Inherited through redirects (everything but the redirect kind). */
#define A_INHERIT (~R_MASK)

/* ---- operand templates (SDM notation) ---- */
#define Eb (A_MODRM | SZ_B)
#define Ev (A_MODRM | SZ_V)
#define Ew (A_MODRM | SZ_W)
#define Eb_Gb Eb
#define Ev_Gv Ev
#define Gb_Eb Eb
#define Gv_Ev Ev
#define Ew_Gw Ew
#define Gv_Ew Ev          /* LAR/LSL, MOVZX Gv,Ew: source size from fix */
#define Gv_Eb Ev
#define Gv_Ed Ev
#define Gv_M (Ev | A_MEM)
#define Gv_Mp (Ev | A_MEM) /* far pointer m16:16/32/64 */
#define Gv_Ma (Ev | A_MEM)
#define Eb_Ib (Eb | IM_IB)
#define Ev_Iz (Ev | IM_IZ)
#define Ev_Ib (Ev | IM_IB)
#define Ev_Ub (Ev | IM_UB) /* unsigned imm8: BT offsets, shift counts */
#define Eb_Ub (Eb | IM_UB)
#define Gv_Ev_Iz (Ev | IM_IZ)
#define Gv_Ev_Ib (Ev | IM_IB)
#define Eb_1 (Eb | IM_ONE)
#define Ev_1 (Ev | IM_ONE)
#define Eb_CL (Eb | A_CL)
#define Ev_CL (Ev | A_CL)
#define Ev_Gv_Ib (Ev | IM_UB)
#define Ev_Gv_CL (Ev | A_CL)
#define AL_Ib (A_ACC | SZ_B | IM_IB)
#define rAX_Iz (A_ACC | SZ_V | IM_IZ)
#define AL_Ob (SZ_B | IM_MOFFS)  /* G = register 0 */
#define rAX_Ov (SZ_V | IM_MOFFS)
#define Zb_Ib (A_ZR | SZ_B | IM_IB)
#define Zv_Iv (A_ZR | SZ_V | IM_IV)
#define Zv (A_ZR | SZ_V)
#define Zv_d64 (A_ZR | SZ_D64)
#define rAX_Zv (A_ACC | A_ZR | SZ_V)
#define Jb (IM_RB | SZ_F64)
#define Jz (IM_RZ | SZ_F64)
#define Ib (IM_UB)
#define Iw (IM_IW)
#define Ap (IM_AP | SZ_V | A_FAR)
#define Mp (A_MODRM | A_MEM | SZ_V | A_FAR)
#define M (A_MODRM | A_MEM)
#define Ms (A_MODRM | A_MEM | SZ_F64) /* LGDT/SGDT: 6 or 10 bytes */
#define Mq M
#define Rd_Cd (A_MODRM | A_MODREG | SZ_NAT)
#define Ey_Gy (A_MODRM | SZ_NAT)
#define Gy_Ey (A_MODRM | SZ_NAT)
#define Gy_M (A_MODRM | A_MEM | SZ_NAT)
#define Ry (A_MODRM | A_REG | SZ_Y)
#define Rv (A_MODRM | A_REG | SZ_V)
#define Mv (A_MODRM | A_MEM | SZ_V)
#define Ev_Sw (A_MODRM | SZ_MW)
#define Sw_Ew (A_MODRM | SZ_W)
#define Emw (A_MODRM | SZ_MW)

/* ---- SSE prefix validity: 2 bits per mandatory-prefix column (none, 66, F3, F2) ---- */
#define S__ 0u /* #UD with this prefix */
#define SAN 1u /* any ModRM */
#define SMM 2u /* memory operand only */
#define SRR 3u /* register operand only */
#define SSEV(np, p66, f3, f2) ((np) | (p66) << 2 | (f3) << 4 | (f2) << 6)

/* ---- special fix-ups (struct opdesc.fix) ---- */
enum dfix {
	FX_NONE,
	FX_SRC8,      /* MOVZX/MOVSX from a byte: imm = 0 */
	FX_SRC16,     /* MOVZX/MOVSX from a word: imm = 1 */
	FX_MOVSXD,    /* 63 in 64-bit mode: imm = source size */
	FX_CRC8,      /* CRC32 Gy, Eb */
	FX_CRCV,      /* CRC32 Gy, Ev */
	FX_CR,        /* MOV CRn: reg = CRn with REX.R; only CR0/2/3/4/8 exist */
	FX_DR,        /* MOV DRn: reg = DRn; DR8-15 do not exist */
	FX_SREG_SRC,  /* 8C: reg = Sreg 0..5 */
	FX_SREG_DST,  /* 8E: reg = Sreg 0..5 but not CS */
	FX_SREG_OPC,  /* PUSH/POP Sreg: reg = opcode bits 5:3 */
	FX_CX8,       /* CMPXCHG8B/16B: osz 2 or 3 by REX.W */
	/* R_SPEC handlers, resolved before ModRM decoding */
	SP_VEX,       /* C4/C5: VEX, or LES/LDS outside 64-bit mode with mod != 11 */
	SP_EVEX,      /* 62: EVEX, or BOUND outside 64-bit mode with mod != 11 */
	SP_XOP,       /* 8F: AMD XOP when the map field >= 8, else group 1A */
	SP_NOP90,     /* 90: NOP, PAUSE (F3), XCHG r8, rAX (REX.B) */
};

struct opdesc {
	uint16_t op;    /* enum op */
	uint8_t form;   /* enum insn_form */
	uint32_t attr;  /* SZ_* | IM_* | A_* | R_* */
	const struct opdesc *sub;
	uint8_t sse;    /* SSEV() for OP_SSE rows */
	uint8_t fix;    /* enum dfix */
};

/* Row helpers (designated, so that omitted fields are zero without warnings). */
#define I(o, f, a) { .op = OP_##o, .form = FORM_##f, .attr = (a) }
#define IX(o, f, a, x) { .op = OP_##o, .form = FORM_##f, .attr = (a), .fix = (x) }
#define UD_(a) { .op = OP_UD, .attr = (a) }
#define GRP(tbl, a) { .op = OP_UD, .attr = R_GRP | A_MODRM | (a), .sub = (tbl) }
#define MODSPLIT(tbl, a) { .op = OP_UD, .attr = R_MOD | A_MODRM | (a), .sub = (tbl) }
#define RMSPLIT(tbl) { .op = OP_UD, .attr = R_RM | A_MODRM, .sub = (tbl) }
#define PFX(tbl, a) { .op = OP_UD, .attr = R_PFX | (a), .sub = (tbl) }
#define M64(tbl) { .op = OP_UD, .attr = R_M64, .sub = (tbl) }
#define SPEC(which, a) { .op = OP_UD, .attr = R_SPEC | (a), .fix = (which) }
#define SSE(np, p66, f3, f2, a) \
	{ .op = OP_SSE, .attr = A_MODRM | (a), .sse = SSEV(np, p66, f3, f2) }

extern const struct opdesc decode_map1[256];
extern const struct opdesc decode_map0f[256];
extern const struct opdesc decode_map0f38[256];
extern const struct opdesc decode_map0f3a[256];
extern const struct opdesc decode_grp1a_row;  /* 8F when not XOP */
extern const struct opdesc decode_les_lds[2];  /* C4/C5 when not VEX */
extern const struct opdesc decode_bound;       /* 62 when not EVEX */
extern const struct opdesc decode_pause, decode_nop90, decode_xchg90;

/* ---- decoder state ---- */
struct dctx {
	const uint8_t *b;
	int avail;
	int pos;
	uint8_t mode;      /* enum decode_mode */
	uint8_t rex;       /* effective REX byte, 0 if none */
	uint8_t rexw, rexr, rexx, rexb;
	uint8_t lock, opsize, addrsize;
	uint8_t rep;       /* last of F2/F3, or 0 */
	uint8_t seg;       /* effective segment override, or 0xFF */
	uint8_t mp;        /* mandatory prefix column: 0 none, 1 66, 2 F3, 3 F2 */
	uint8_t osz_v;     /* operand size for SZ_V */
	uint8_t asz;
	uint8_t has_modrm, modrm;
};

/* Fail with DECODE_TOO_LONG / DECODE_NEED_MORE unless n more bytes can be read. */
static inline int dneed(const struct dctx *c, int n)
{
	if (c->pos + n > 15)
		return DECODE_TOO_LONG;
	if (c->pos + n > c->avail)
		return DECODE_NEED_MORE;
	return 0;
}

#define NEED(c, n)                          \
	do {                                    \
		int need_err_ = dneed((c), (n));    \
		if (need_err_)                      \
			return need_err_;               \
	} while (0)

/* Little-endian read of n (1, 2, 4, 8) bytes at the cursor; the caller did NEED. */
static inline uint64_t dfetch(struct dctx *c, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)c->b[c->pos + i] << (8 * i);
	c->pos += n;
	return v;
}

/* Segment register numbers (Sreg encoding, SDM Vol.2 Table 3-6; equal to cpu.h SEG_*). */
enum { DSEG_ES, DSEG_CS, DSEG_SS, DSEG_DS, DSEG_FS, DSEG_GS };
#define DSEG_NONE 0xFF

/*
 * decode.c: everything after the opcode byte(s): resolve redirects starting at row d
 * (attr = attributes already implied by the map), read ModRM/SIB/displacement and the
 * immediates, apply operand-size rules, fix-ups and validity checks (force_ud: the
 * caller already knows the encoding is #UD). Returns the length or a DECODE_* error.
 */
int decode_finish(struct dctx *c, struct insn *in, const struct opdesc *d, uint32_t attr,
		  uint8_t opc, bool force_ud);

/* decode_vex.c: VEX (C4/C5), EVEX (62) and XOP (8F) encodings; c->pos is just past
 * the escape byte. Fills in and returns the length or a DECODE_* error. */
int decode_vex(struct dctx *c, struct insn *in, uint8_t escape);
int decode_evex(struct dctx *c, struct insn *in);
int decode_xop(struct dctx *c, struct insn *in);

#endif
