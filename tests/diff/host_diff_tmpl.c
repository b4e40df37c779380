/*
 * host_diff templates: the encodings tested (64-bit mode), per-family set-up of
 * operands that must satisfy constraints (no #DE, bounded bit offsets, pointers for
 * implicit memory operands, branch targets) and the table of flags the SDM defines.
 */
#include "host_diff.h"

#include <string.h>

#define T(n, o, mp, oc, ex, fm, sz, im, pf, mo, tf, fa) \
	{ n, OP_##o, mp, oc, ex, FORM_##fm, sz, im, pf, mo, tf, fa, -1 }
#define TS(n, o, mp, oc, ex, fm, sz, im, pf, mo, tf, fa, src) \
	{ n, OP_##o, mp, oc, ex, FORM_##fm, sz, im, pf, mo, tf, fa, src }

/* The 00-3F rows and groups 80/81/83 of one ALU op (SDM Vol.2 Table A-2). */
#define ALU(N, O, b, d, lk)                                                              \
	T(N " Eb,Gb", O, 0, b + 0, -1, EG, S_B, I_NONE, 0, M_BOTH, lk, F_GEN),            \
	T(N " Ev,Gv", O, 0, b + 1, -1, EG, S_V, I_NONE, 0, M_BOTH, lk, F_GEN),            \
	T(N " Gb,Eb", O, 0, b + 2, -1, GE, S_B, I_NONE, 0, M_BOTH, 0, F_GEN),             \
	T(N " Gv,Ev", O, 0, b + 3, -1, GE, S_V, I_NONE, 0, M_BOTH, 0, F_GEN),             \
	T(N " AL,Ib", O, 0, b + 4, -1, EI, S_B, I_IB, 0, M_REG, T_ACC, F_GEN),            \
	T(N " rAX,Iz", O, 0, b + 5, -1, EI, S_V, I_IZ, 0, M_REG, T_ACC, F_GEN),           \
	T(N " Eb,Ib", O, 0, 0x80, d, EI, S_B, I_IB, 0, M_BOTH, lk, F_GEN),                 \
	T(N " Ev,Iz", O, 0, 0x81, d, EI, S_V, I_IZ, 0, M_BOTH, lk, F_GEN),                 \
	T(N " Ev,Ib", O, 0, 0x83, d, EI, S_V, I_IB, 0, M_BOTH, lk, F_GEN)

/* Group 2 (C0 C1 D0-D3) for one /digit. */
#define SHIFT(N, O, d)                                                                   \
	T(N " Eb,Ib", O, 0, 0xC0, d, EI, S_B, I_UB, 0, M_BOTH, T_ANYFORM, F_SHIFT),        \
	T(N " Ev,Ib", O, 0, 0xC1, d, EI, S_V, I_UB, 0, M_BOTH, T_ANYFORM, F_SHIFT),        \
	T(N " Eb,1", O, 0, 0xD0, d, E, S_B, I_ONE, 0, M_BOTH, T_ANYFORM, F_SHIFT),         \
	T(N " Ev,1", O, 0, 0xD1, d, E, S_V, I_ONE, 0, M_BOTH, T_ANYFORM, F_SHIFT),         \
	T(N " Eb,CL", O, 0, 0xD2, d, E, S_B, I_NONE, 0, M_BOTH, T_CL | T_ANYFORM, F_SHIFT), \
	T(N " Ev,CL", O, 0, 0xD3, d, E, S_V, I_NONE, 0, M_BOTH, T_CL | T_ANYFORM, F_SHIFT)

/* Group 3 (F6/F7) one-operand forms. */
#define GRP3(N, O, d, fa, lk)                                                            \
	T(N " Eb", O, 0, 0xF6, d, E, S_B, I_NONE, 0, M_BOTH, T_ANYFORM | lk, fa),         \
	T(N " Ev", O, 0, 0xF7, d, E, S_V, I_NONE, 0, M_BOTH, T_ANYFORM | lk, fa)

#define STR(N, O, b)                                                                     \
	T(N "B", O, 0, b, -1, NONE, S_B, I_NONE, 0, M_REG, T_NOMODRM | T_REP, F_STRING),  \
	T(N, O, 0, b + 1, -1, NONE, S_V, I_NONE, 0, M_REG, T_NOMODRM | T_REP, F_STRING)

#define NOM (T_NOMODRM | T_ANYFORM)
#define BR (T_NOMODRM | T_BRANCH | T_ANYFORM)

const struct tmpl host_tmpls[] = {
	ALU("ADD", ADD, 0x00, 0, T_LOCK), ALU("OR", OR, 0x08, 1, T_LOCK),
	ALU("ADC", ADC, 0x10, 2, T_LOCK), ALU("SBB", SBB, 0x18, 3, T_LOCK),
	ALU("AND", AND, 0x20, 4, T_LOCK), ALU("SUB", SUB, 0x28, 5, T_LOCK),
	ALU("XOR", XOR, 0x30, 6, T_LOCK), ALU("CMP", CMP, 0x38, 7, 0),
	T("TEST Eb,Gb", TEST, 0, 0x84, -1, EG, S_B, I_NONE, 0, M_BOTH, 0, F_GEN),
	T("TEST Ev,Gv", TEST, 0, 0x85, -1, EG, S_V, I_NONE, 0, M_BOTH, 0, F_GEN),
	T("TEST AL,Ib", TEST, 0, 0xA8, -1, EI, S_B, I_IB, 0, M_REG, T_ACC, F_GEN),
	T("TEST rAX,Iz", TEST, 0, 0xA9, -1, EI, S_V, I_IZ, 0, M_REG, T_ACC, F_GEN),
	T("TEST Eb,Ib", TEST, 0, 0xF6, 0, EI, S_B, I_IB, 0, M_BOTH, 0, F_GEN),
	T("TEST Ev,Iz", TEST, 0, 0xF7, 0, EI, S_V, I_IZ, 0, M_BOTH, 0, F_GEN),
	T("INC Eb", INC, 0, 0xFE, 0, E, S_B, I_NONE, 0, M_BOTH, T_LOCK, F_GEN),
	T("INC Ev", INC, 0, 0xFF, 0, E, S_V, I_NONE, 0, M_BOTH, T_LOCK, F_GEN),
	T("DEC Eb", DEC, 0, 0xFE, 1, E, S_B, I_NONE, 0, M_BOTH, T_LOCK, F_GEN),
	T("DEC Ev", DEC, 0, 0xFF, 1, E, S_V, I_NONE, 0, M_BOTH, T_LOCK, F_GEN),
	GRP3("NOT", NOT, 2, F_GEN, T_LOCK), GRP3("NEG", NEG, 3, F_GEN, T_LOCK),
	GRP3("MUL", MUL, 4, F_GEN, 0), GRP3("IMUL1", IMUL1, 5, F_GEN, 0),
	GRP3("DIV", DIV, 6, F_DIV, 0), GRP3("IDIV", IDIV, 7, F_DIV, 0),
	T("IMUL2 Gv,Ev", IMUL2, 1, 0xAF, -1, GE, S_V, I_NONE, 0, M_BOTH, 0, F_GEN),
	T("IMUL3 Gv,Ev,Iz", IMUL3, 0, 0x69, -1, GEI, S_V, I_IZ, 0, M_BOTH, 0, F_GEN),
	T("IMUL3 Gv,Ev,Ib", IMUL3, 0, 0x6B, -1, GEI, S_V, I_IB, 0, M_BOTH, 0, F_GEN),

	SHIFT("ROL", ROL, 0), SHIFT("ROR", ROR, 1), SHIFT("RCL", RCL, 2),
	SHIFT("RCR", RCR, 3), SHIFT("SHL", SHL, 4), SHIFT("SHR", SHR, 5),
	SHIFT("SAL", SHL, 6), SHIFT("SAR", SAR, 7),
	T("SHLD Ev,Gv,Ib", SHLD, 1, 0xA4, -1, EG, S_V, I_UB, 0, M_BOTH, 0, F_SHIFT),
	T("SHLD Ev,Gv,CL", SHLD, 1, 0xA5, -1, EG, S_V, I_NONE, 0, M_BOTH, T_CL, F_SHIFT),
	T("SHRD Ev,Gv,Ib", SHRD, 1, 0xAC, -1, EG, S_V, I_UB, 0, M_BOTH, 0, F_SHIFT),
	T("SHRD Ev,Gv,CL", SHRD, 1, 0xAD, -1, EG, S_V, I_NONE, 0, M_BOTH, T_CL, F_SHIFT),

	T("BT Ev,Gv", BT, 1, 0xA3, -1, EG, S_V, I_NONE, 0, M_BOTH, 0, F_BT),
	T("BTS Ev,Gv", BTS, 1, 0xAB, -1, EG, S_V, I_NONE, 0, M_BOTH, T_LOCK, F_BT),
	T("BTR Ev,Gv", BTR, 1, 0xB3, -1, EG, S_V, I_NONE, 0, M_BOTH, T_LOCK, F_BT),
	T("BTC Ev,Gv", BTC, 1, 0xBB, -1, EG, S_V, I_NONE, 0, M_BOTH, T_LOCK, F_BT),
	T("BT Ev,Ib", BT, 1, 0xBA, 4, EI, S_V, I_UB, 0, M_BOTH, 0, F_GEN),
	T("BTS Ev,Ib", BTS, 1, 0xBA, 5, EI, S_V, I_UB, 0, M_BOTH, T_LOCK, F_GEN),
	T("BTR Ev,Ib", BTR, 1, 0xBA, 6, EI, S_V, I_UB, 0, M_BOTH, T_LOCK, F_GEN),
	T("BTC Ev,Ib", BTC, 1, 0xBA, 7, EI, S_V, I_UB, 0, M_BOTH, T_LOCK, F_GEN),
	T("BSF", BSF, 1, 0xBC, -1, GE, S_V, I_NONE, 0, M_BOTH, 0, F_GEN),
	T("BSR", BSR, 1, 0xBD, -1, GE, S_V, I_NONE, 0, M_BOTH, 0, F_GEN),
	T("TZCNT", TZCNT, 1, 0xBC, -1, GE, S_V, I_NONE, 0xF3, M_BOTH, 0, F_GEN),
	T("LZCNT", LZCNT, 1, 0xBD, -1, GE, S_V, I_NONE, 0xF3, M_BOTH, 0, F_GEN),
	T("POPCNT", POPCNT, 1, 0xB8, -1, GE, S_V, I_NONE, 0xF3, M_BOTH, 0, F_GEN),
	T("ANDN", ANDN, 2, 0xF2, -1, GEV, S_Y, I_NONE, 0, M_BOTH, T_VEX, F_GEN),
	T("BEXTR", BEXTR, 2, 0xF7, -1, GEV, S_Y, I_NONE, 0, M_BOTH, T_VEX, F_BMI_CTL),
	T("BLSR", BLSR, 2, 0xF3, 1, VE, S_Y, I_NONE, 0, M_BOTH, T_VEX, F_GEN),
	T("BLSMSK", BLSMSK, 2, 0xF3, 2, VE, S_Y, I_NONE, 0, M_BOTH, T_VEX, F_GEN),
	T("BLSI", BLSI, 2, 0xF3, 3, VE, S_Y, I_NONE, 0, M_BOTH, T_VEX, F_GEN),
	T("BZHI", BZHI, 2, 0xF5, -1, GEV, S_Y, I_NONE, 0, M_BOTH, T_VEX, F_BMI_CTL),
	T("PDEP", PDEP, 2, 0xF5, -1, GEV, S_Y, I_NONE, 0xF2, M_BOTH, T_VEX, F_GEN),
	T("PEXT", PEXT, 2, 0xF5, -1, GEV, S_Y, I_NONE, 0xF3, M_BOTH, T_VEX, F_GEN),
	T("MULX", MULX, 2, 0xF6, -1, GEV, S_Y, I_NONE, 0xF2, M_BOTH, T_VEX, F_GEN),
	T("SARX", SARX, 2, 0xF7, -1, GEV, S_Y, I_NONE, 0xF3, M_BOTH, T_VEX, F_VEXSHIFT),
	T("SHLX", SHLX, 2, 0xF7, -1, GEV, S_Y, I_NONE, 0x66, M_BOTH, T_VEX, F_VEXSHIFT),
	T("SHRX", SHRX, 2, 0xF7, -1, GEV, S_Y, I_NONE, 0xF2, M_BOTH, T_VEX, F_VEXSHIFT),
	T("RORX", RORX, 3, 0xF0, -1, GEI, S_Y, I_UB, 0xF2, M_BOTH, T_VEX, F_GEN),
	TS("CRC32 Gy,Eb", CRC32, 2, 0xF0, -1, GE, S_Y, I_NONE, 0xF2, M_BOTH, 0, F_CRC, 0),
	T("CRC32 Gy,Ev", CRC32, 2, 0xF1, -1, GE, S_V, I_NONE, 0xF2, M_BOTH, 0, F_CRC),

	T("MOV Eb,Gb", MOV, 0, 0x88, -1, EG, S_B, I_NONE, 0, M_BOTH, 0, F_GEN),
	T("MOV Ev,Gv", MOV, 0, 0x89, -1, EG, S_V, I_NONE, 0, M_BOTH, 0, F_GEN),
	T("MOV Gb,Eb", MOV, 0, 0x8A, -1, GE, S_B, I_NONE, 0, M_BOTH, 0, F_GEN),
	T("MOV Gv,Ev", MOV, 0, 0x8B, -1, GE, S_V, I_NONE, 0, M_BOTH, 0, F_GEN),
	T("MOV Eb,Ib", MOV, 0, 0xC6, 0, EI, S_B, I_IB, 0, M_BOTH, 0, F_GEN),
	T("MOV Ev,Iz", MOV, 0, 0xC7, 0, EI, S_V, I_IZ, 0, M_BOTH, 0, F_GEN),
	T("MOV Zb,Ib", MOV, 0, 0xB0, -1, GI, S_B, I_IB, 0, M_REG, T_ZR, F_GEN),
	T("MOV Zv,Iv", MOV, 0, 0xB8, -1, GI, S_V, I_IV, 0, M_REG, T_ZR, F_GEN),
	T("MOV AL,Ob", MOV, 0, 0xA0, -1, GE, S_B, I_MOFFS, 0, M_REG, T_NOMODRM, F_MOFFS),
	T("MOV rAX,Ov", MOV, 0, 0xA1, -1, GE, S_V, I_MOFFS, 0, M_REG, T_NOMODRM, F_MOFFS),
	T("MOV Ob,AL", MOV, 0, 0xA2, -1, EG, S_B, I_MOFFS, 0, M_REG, T_NOMODRM, F_MOFFS),
	T("MOV Ov,rAX", MOV, 0, 0xA3, -1, EG, S_V, I_MOFFS, 0, M_REG, T_NOMODRM, F_MOFFS),
	TS("MOVZX Gv,Eb", MOVZX, 1, 0xB6, -1, GE, S_V, I_NONE, 0, M_BOTH, 0, F_GEN, 0),
	TS("MOVZX Gv,Ew", MOVZX, 1, 0xB7, -1, GE, S_V, I_NONE, 0, M_BOTH, 0, F_GEN, 1),
	TS("MOVSX Gv,Eb", MOVSX, 1, 0xBE, -1, GE, S_V, I_NONE, 0, M_BOTH, 0, F_GEN, 0),
	TS("MOVSX Gv,Ew", MOVSX, 1, 0xBF, -1, GE, S_V, I_NONE, 0, M_BOTH, 0, F_GEN, 1),
	TS("MOVSXD Gy,Ed", MOVSX, 0, 0x63, -1, GE, S_Y, I_NONE, 0, M_BOTH, 0, F_GEN, 2),
	T("LEA", LEA, 0, 0x8D, -1, GE, S_V, I_NONE, 0, M_MEM, 0, F_GEN),
	T("XCHG Eb,Gb", XCHG, 0, 0x86, -1, EG, S_B, I_NONE, 0, M_BOTH, T_LOCK, F_GEN),
	T("XCHG Ev,Gv", XCHG, 0, 0x87, -1, EG, S_V, I_NONE, 0, M_BOTH, T_LOCK, F_GEN),
	T("XCHG rAX,Zv", XCHG, 0, 0x90, -1, EG, S_V, I_NONE, 0, M_REG, T_ACC | T_ZR, F_GEN),
	T("CMOVcc", CMOVCC, 1, 0x40, -1, GE, S_V, I_NONE, 0, M_BOTH, T_CC, F_GEN),
	T("SETcc", SETCC, 1, 0x90, 0, E, S_B, I_NONE, 0, M_BOTH, T_CC | T_ANYFORM, F_GEN),
	T("BSWAP", BSWAP, 1, 0xC8, -1, G, S_Y, I_NONE, 0, M_REG, T_ZR, F_GEN),
	T("MOVBE Gv,Mv", MOVBE, 2, 0xF0, -1, GE, S_V, I_NONE, 0, M_MEM, 0, F_GEN),
	T("MOVBE Mv,Gv", MOVBE, 2, 0xF1, -1, EG, S_V, I_NONE, 0, M_MEM, 0, F_GEN),
	T("CBW", CBW, 0, 0x98, -1, NONE, S_V, I_NONE, 0, M_REG, NOM, F_GEN),
	T("CWD", CWD, 0, 0x99, -1, NONE, S_V, I_NONE, 0, M_REG, NOM, F_GEN),
	T("XLAT", XLAT, 0, 0xD7, -1, NONE, S_B, I_NONE, 0, M_REG, NOM | T_ANYOSZ, F_XLAT),
	T("LAHF", LAHF, 0, 0x9F, -1, NONE, S_B, I_NONE, 0, M_REG, NOM | T_ANYOSZ, F_GEN),
	T("SAHF", SAHF, 0, 0x9E, -1, NONE, S_B, I_NONE, 0, M_REG, NOM | T_ANYOSZ, F_GEN),
	T("CMPXCHG Eb,Gb", CMPXCHG, 1, 0xB0, -1, EG, S_B, I_NONE, 0, M_BOTH, T_LOCK, F_CMPXCHG),
	T("CMPXCHG Ev,Gv", CMPXCHG, 1, 0xB1, -1, EG, S_V, I_NONE, 0, M_BOTH, T_LOCK, F_CMPXCHG),
	T("CMPXCHG8B/16B", CMPXCHG8B, 1, 0xC7, 1, E, S_Y, I_NONE, 0, M_MEM, T_ANYFORM | T_LOCK, F_CX8),
	T("XADD Eb,Gb", XADD, 1, 0xC0, -1, EG, S_B, I_NONE, 0, M_BOTH, T_LOCK, F_GEN),
	T("XADD Ev,Gv", XADD, 1, 0xC1, -1, EG, S_V, I_NONE, 0, M_BOTH, T_LOCK, F_GEN),

	T("PUSH Zv", PUSH, 0, 0x50, -1, G, S_D64, I_NONE, 0, M_REG, T_ZR, F_GEN),
	T("PUSH Ev", PUSH, 0, 0xFF, 6, E, S_D64, I_NONE, 0, M_BOTH, 0, F_GEN),
	T("PUSH Iz", PUSH, 0, 0x68, -1, I, S_D64, I_IZ, 0, M_REG, T_NOMODRM, F_GEN),
	T("PUSH Ib", PUSH, 0, 0x6A, -1, I, S_D64, I_IB, 0, M_REG, T_NOMODRM, F_GEN),
	T("POP Zv", POP, 0, 0x58, -1, G, S_D64, I_NONE, 0, M_REG, T_ZR, F_GEN),
	T("POP Ev", POP, 0, 0x8F, 0, E, S_D64, I_NONE, 0, M_BOTH, 0, F_GEN),
	T("ENTER", ENTER, 0, 0xC8, -1, I, S_D64, I_ENTER, 0, M_REG, NOM, F_ENTER),
	T("LEAVE", LEAVE, 0, 0xC9, -1, NONE, S_D64, I_NONE, 0, M_REG, NOM, F_LEAVE),

	T("Jcc rel8", JCC, 0, 0x70, -1, I, S_F64, I_REL8, 0, M_REG, BR | T_CC, F_JUMP),
	T("Jcc rel32", JCC, 1, 0x80, -1, I, S_F64, I_REL32, 0, M_REG, BR | T_CC, F_JUMP),
	T("JMP rel8", JMP, 0, 0xEB, -1, I, S_F64, I_REL8, 0, M_REG, BR, F_JUMP),
	T("JMP rel32", JMP, 0, 0xE9, -1, I, S_F64, I_REL32, 0, M_REG, BR, F_JUMP),
	T("CALL rel32", CALL, 0, 0xE8, -1, I, S_F64, I_REL32, 0, M_REG, BR, F_JUMP),
	T("JMP Ev", JMP_IND, 0, 0xFF, 4, E, S_F64, I_NONE, 0, M_BOTH, T_BRANCH, F_JUMP),
	T("CALL Ev", CALL_IND, 0, 0xFF, 2, E, S_F64, I_NONE, 0, M_BOTH, T_BRANCH, F_JUMP),
	T("RET", RET, 0, 0xC3, -1, NONE, S_F64, I_NONE, 0, M_REG, BR, F_RET),
	T("RET Iw", RET, 0, 0xC2, -1, I, S_F64, I_IW, 0, M_REG, BR, F_RET),
	T("LOOP", LOOP, 0, 0xE2, -1, I, S_F64, I_REL8, 0, M_REG, BR, F_LOOP),
	T("LOOPE", LOOPE, 0, 0xE1, -1, I, S_F64, I_REL8, 0, M_REG, BR, F_LOOP),
	T("LOOPNE", LOOPNE, 0, 0xE0, -1, I, S_F64, I_REL8, 0, M_REG, BR, F_LOOP),
	T("JRCXZ", JCXZ, 0, 0xE3, -1, I, S_F64, I_REL8, 0, M_REG, BR, F_LOOP),

	STR("MOVS", MOVS, 0xA4), STR("CMPS", CMPS, 0xA6), STR("STOS", STOS, 0xAA),
	STR("LODS", LODS, 0xAC), STR("SCAS", SCAS, 0xAE),

	T("CLC", CLC, 0, 0xF8, -1, NONE, S_B, I_NONE, 0, M_REG, NOM | T_ANYOSZ, F_GEN),
	T("STC", STC, 0, 0xF9, -1, NONE, S_B, I_NONE, 0, M_REG, NOM | T_ANYOSZ, F_GEN),
	T("CMC", CMC, 0, 0xF5, -1, NONE, S_B, I_NONE, 0, M_REG, NOM | T_ANYOSZ, F_GEN),
	T("CLD", CLD, 0, 0xFC, -1, NONE, S_B, I_NONE, 0, M_REG, NOM | T_ANYOSZ, F_GEN),
	T("STD", STD, 0, 0xFD, -1, NONE, S_B, I_NONE, 0, M_REG, NOM | T_ANYOSZ, F_GEN),
};
const int host_n_tmpls = ARRAY_SIZE(host_tmpls);

/* --- register helpers with the executor's byte-register rules ------------------- */

static uint64_t get(const struct hstate *st, int r, int osz, bool rex)
{
	if (osz == 0 && !rex && r >= 4 && r < 8)
		return (st->gpr[r - 4] >> 8) & 0xFF;
	return st->gpr[r] & size_mask(osz);
}

static void set(struct hstate *st, int r, int osz, bool rex, uint64_t v)
{
	if (osz == 0 && !rex && r >= 4 && r < 8) {
		st->gpr[r - 4] = (st->gpr[r - 4] & ~0xFF00ULL) | (v & 0xFF) << 8;
		return;
	}
	uint64_t m = size_mask(osz);
	st->gpr[r] = (st->gpr[r] & ~m) | (v & m);
}

static uint64_t mem_get(uint64_t addr, int bytes)
{
	uint64_t v = 0;
	memcpy(&v, mem_init + (addr - (uint64_t)membuf), (size_t)bytes);
	return v;
}

static void mem_set(uint64_t addr, int bytes, uint64_t v)
{
	memcpy(mem_init + (addr - (uint64_t)membuf), &v, (size_t)bytes);
}

/* The E operand's current value at size osz. */
static uint64_t e_get(const struct gen *g, const struct hstate *st, int osz, bool rex)
{
	return g->mem ? mem_get(g->target, 1 << osz) : get(st, g->rm, osz, rex);
}

static void e_set(const struct gen *g, struct hstate *st, int osz, bool rex, uint64_t v)
{
	if (g->mem)
		mem_set(g->target, 1 << osz, v);
	else
		set(st, g->rm, osz, rex, v);
}

/* --- per-family set-up ------------------------------------------------------------ */

uint16_t tmpl_avoid(const struct tmpl *t, const struct gen *g)
{
	switch (t->fam) {
	case F_DIV: return 1 << RAX | 1 << RDX;
	case F_CMPXCHG: return 1 << RAX;
	case F_CX8: return 1 << RAX | 1 << RCX | 1 << RDX | 1 << RBX;
	case F_SHIFT: return t->tf & T_CL ? 1 << RCX : 0;
	case F_BT: return (uint16_t)(1 << g->reg);
	case F_VEXSHIFT:
	case F_BMI_CTL: return (uint16_t)(1 << g->vvvv);
	default: return 0;
	}
}

static bool prep_shift(const struct tmpl *t, struct gen *g, struct hstate *st)
{
	unsigned w = 8u << g->osz;
	const unsigned pick[] = { 0, 1, 2, w - 1, w, w + 1, 9, 17, 31, 32, 33, 63, 64, 65 };
	unsigned c = rndn(3) ? pick[rndn(ARRAY_SIZE(pick))] : (unsigned)rndn(256);
	if (t->imm == I_ONE)
		c = 1;
	if (t->tf & T_CL)
		st->gpr[RCX] = (st->gpr[RCX] & ~0xFFULL) | (c & 0xFF);
	else if (t->imm == I_UB)
		g->imm = c & 0xFF;
	g->count = c & 0xFF & (g->osz == 3 ? 63 : 31);
	/* SHLD/SHRD: the result is undefined for counts above the size (16-bit). */
	if ((t->op == OP_SHLD || t->op == OP_SHRD) && g->count > w)
		return false;
	return true;
}

/* The dividend does not overflow the quotient and the divisor is not 0. */
static bool div_ok(const struct tmpl *t, const struct gen *g, const struct hstate *st,
		   bool rex)
{
	int osz = g->osz;
	unsigned w = 8u << osz;
	uint64_t d = e_get(g, st, osz, rex);
	unsigned __int128 n = osz == 0 ? st->gpr[RAX] & 0xFFFF
		: (unsigned __int128)get(st, RDX, osz, true) << w | get(st, RAX, osz, true);
	if (d == 0)
		return false;
	if (t->op == OP_DIV)
		return n / d <= size_mask(osz);
	__int128 sn = (__int128)(n << (128 - 2 * w)) >> (128 - 2 * w);
	__int128 sd = (int64_t)sign_extend(d, osz), q;
	__int128 max = ((__int128)1 << (w - 1)) - 1;
	if (sd == -1)
		return sn >= -max && sn <= max;
	q = sn / sd;
	return q <= max && q >= -max - 1;
}

static bool prep_div(const struct tmpl *t, struct gen *g, struct hstate *st, bool rex)
{
	int osz = g->osz;
	for (int i = 0; i < 64; i++) {
		e_set(g, st, osz, rex, rnd_value() | (rndn(4) ? 0 : 1));
		uint64_t lo = rnd_value(), hi = rnd_value();
		if (rndn(2)) /* small high half: the usual case */
			hi = t->op == OP_IDIV ? 0 - (lo >> 63 & rndn(2)) : rndn(3);
		if (osz == 0) {
			st->gpr[RAX] = (st->gpr[RAX] & ~0xFFFFULL) | (lo & 0xFF) | (hi & 0xFF) << 8;
		} else {
			set(st, RAX, osz, true, lo);
			set(st, RDX, osz, true, hi);
		}
		if (div_ok(t, g, st, rex))
			return true;
	}
	return false;
}

static void prep_string(const struct tmpl *t, struct gen *g, struct hstate *st)
{
	static const int reps[] = { 0, 0xF3, 0xF2 };
	int size = 1 << g->osz;
	bool df = rndn(2);
	g->rep = reps[rndn(3)];
	st->rflags = (st->rflags & ~RFLAGS_DF) | (df ? RFLAGS_DF : 0);
	uint64_t n = rndn(14);
	uint64_t si = (uint64_t)membuf + DATA_LO + 200 + rndn(1000);
	uint64_t di = (uint64_t)membuf + DATA_LO + 1700 + rndn(1000);
	uint64_t hi = g->asz == 2 ? rnd() << 32 : 0;
	st->gpr[RCX] = g->asz == 2 ? hi | n : n;
	st->gpr[RSI] = hi | si;
	st->gpr[RDI] = (g->asz == 2 ? rnd() << 32 : 0) | di;
	/* CMPS/SCAS: equal (or different, for REPNE) elements up to a random point. */
	int64_t step = df ? -size : size;
	uint64_t k = rndn(n + 1), acc = st->gpr[RAX] & size_mask(g->osz);
	for (uint64_t i = 0; i <= k && (t->op == OP_CMPS || t->op == OP_SCAS); i++) {
		uint64_t s = t->op == OP_CMPS ? mem_get(si + i * step, size) : acc;
		bool eq = (i < k) == (g->rep != 0xF2);
		mem_set(di + i * step, size, eq ? s : s + 1);
	}
}

static void prep_enter(struct gen *g, struct hstate *st)
{
	static const unsigned levels[] = { 0, 1, 2, 3, 5, 8, 31, 32, 33 };
	unsigned level = levels[rndn(ARRAY_SIZE(levels))];
	g->imm = rndn(64) | (uint64_t)level << 16;
	st->gpr[RBP] = st->gpr[RSP] + rndn(512);
}

bool tmpl_prepare(const struct tmpl *t, struct gen *g, struct hstate *st,
		  const struct insn *in, uint64_t taken)
{
	bool rex = in->flags & INSN_REX;
	switch (t->fam) {
	case F_SHIFT:
		return prep_shift(t, g, st);
	case F_DIV:
		return prep_div(t, g, st, rex);
	case F_BT:
		if (g->mem) /* a bounded signed bit offset: +-800 bits around the operand */
			set(st, g->reg, g->osz, rex, (uint64_t)((int64_t)rndn(1601) - 800));
		return true;
	case F_CMPXCHG:
		if (rndn(2))
			set(st, RAX, g->osz, true, e_get(g, st, g->osz, rex));
		return true;
	case F_CX8:
		if (rndn(2)) {
			int h = g->osz == 3 ? 8 : 4;
			set(st, RAX, g->osz, true, mem_get(g->target, h));
			set(st, RDX, g->osz, true, mem_get(g->target + h, h));
		}
		return true;
	case F_XLAT: {
		g->asz = rndn(2) ? 3 : 2;
		uint64_t tb = (uint64_t)membuf + DATA_LO + rndn(DATA_HI - DATA_LO - 256);
		st->gpr[RBX] = (g->asz == 2 ? rnd() << 32 : 0) | tb;
		return true;
	}
	case F_STRING:
		prep_string(t, g, st);
		return true;
	case F_ENTER:
		prep_enter(g, st);
		return true;
	case F_LEAVE:
		st->gpr[RBP] = st->gpr[RSP] - 256 + rndn(512);
		return true;
	case F_MOFFS:
		g->reg = 0;
		return true;
	case F_JUMP:
		if (t->imm == I_REL8 || t->imm == I_REL32)
			g->imm = 14; /* skip the fall-through stub */
		else if (g->mem)
			mem_set(g->target, 8, taken);
		else if (g->rm == RSP)
			return false;
		else
			st->gpr[g->rm] = taken;
		return true;
	case F_RET:
		mem_set(st->gpr[RSP], 8, taken);
		g->imm = rndn(64);
		return true;
	case F_LOOP: {
		g->asz = rndn(2) ? 3 : 2;
		g->imm = 14;
		uint64_t n = rndn(3) ? rndn(3) : rnd_value();
		st->gpr[RCX] = g->asz == 2 ? (rnd() << 32) | (uint32_t)n : n;
		return true;
	}
	case F_VEXSHIFT:
		if (rndn(2))
			st->gpr[g->vvvv] = rndn(80);
		return true;
	case F_BMI_CTL:
		if (rndn(4))
			st->gpr[g->vvvv] = rndn(80) | rndn(80) << 8;
		return true;
	default:
		return true;
	}
}

/* --- flags the SDM defines ---------------------------------------------------------- */

#define CF RFLAGS_CF
#define PF RFLAGS_PF
#define AF RFLAGS_AF
#define ZF RFLAGS_ZF
#define SF RFLAGS_SF
#define OF RFLAGS_OF
#define ALL RFLAGS_ARITH

/*
 * Per SDM Vol.2 "Flags Affected" of each instruction page:
 *   AND/OR/XOR/TEST: AF undefined.
 *   SAL/SAR/SHL/SHR: count 0 changes nothing; else AF undefined, OF undefined unless
 *     the count is 1, CF undefined for SHL/SHR when count >= the operand size.
 *   ROL/ROR/RCL/RCR: count 0 changes nothing; OF undefined unless the count is 1.
 *   SHLD/SHRD: count 0 changes nothing; AF undefined, OF undefined unless count is 1,
 *     everything undefined when count > operand size.
 *   MUL/IMUL: SF ZF AF PF undefined.  DIV/IDIV: all six undefined.
 *   BT/BTS/BTR/BTC: OF SF AF PF undefined (ZF unaffected).
 *   BSF/BSR: CF OF SF AF PF undefined.  TZCNT/LZCNT: OF SF PF AF undefined.
 *   ANDN: AF PF undefined.  BEXTR: AF SF PF undefined.  BLSI/BLSMSK/BLSR/BZHI: AF PF
 *     undefined.
 */
uint64_t tmpl_defined_flags(const struct tmpl *t, const struct gen *g)
{
	unsigned w = 8u << g->osz, c = (unsigned)g->count;
	switch (t->op) {
	case OP_AND: case OP_OR: case OP_XOR: case OP_TEST:
		return ALL & ~AF;
	case OP_SHL: case OP_SHR: case OP_SAR: {
		if (!c)
			return ALL;
		uint64_t f = ALL & ~AF & (c == 1 ? ALL : ~OF);
		return t->op != OP_SAR && c >= w ? f & ~CF : f;
	}
	case OP_ROL: case OP_ROR: case OP_RCL: case OP_RCR:
		return c <= 1 ? ALL : ALL & ~OF;
	case OP_SHLD: case OP_SHRD:
		if (!c)
			return ALL;
		return c > w ? 0 : ALL & ~AF & (c == 1 ? ALL : ~OF);
	case OP_MUL: case OP_IMUL1: case OP_IMUL2: case OP_IMUL3:
		return CF | OF;
	case OP_DIV: case OP_IDIV:
		return 0;
	case OP_BT: case OP_BTS: case OP_BTR: case OP_BTC:
		return CF | ZF;
	case OP_BSF: case OP_BSR:
		return ZF;
	case OP_TZCNT: case OP_LZCNT:
		return CF | ZF;
	case OP_ANDN:
		return SF | ZF | OF | CF;
	case OP_BEXTR:
		return ZF | CF | OF;
	case OP_BLSI: case OP_BLSMSK: case OP_BLSR: case OP_BZHI:
		return SF | ZF | CF | OF;
	default:
		return ALL;
	}
}
