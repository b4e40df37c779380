/*
 * The one-byte opcode map: SDM Vol.2 Appendix A, Table A-2, and the groups of Table A-6
 * that it uses (1, 1A, 2, 3, 4, 5, 11).
 *
 * Prefix bytes (26 2E 36 3E 64 65 66 67 F0 F2 F3), REX (40-4F in 64-bit mode) and the
 * 0F escape never reach this table. C4/C5 (VEX or LES/LDS), 62 (EVEX or BOUND),
 * 8F (XOP or group 1A) and 90 (NOP/PAUSE/XCHG) are resolved by decode.c's special().
 */
#include "cpu/decode.h"

/* Group 1 (80-83): the ALU op by ModRM.reg; the row supplies the operand template. */
static const struct opdesc grp1[8] = {
	[0] = I(ADD, EI, A_LK),
	[1] = I(OR, EI, A_LK),
	[2] = I(ADC, EI, A_LK),
	[3] = I(SBB, EI, A_LK),
	[4] = I(AND, EI, A_LK),
	[5] = I(SUB, EI, A_LK),
	[6] = I(XOR, EI, A_LK),
	[7] = I(CMP, EI, 0),
};

/* Group 2 (C0/C1/D0-D3): /6 is the SAL alias of SHL. */
static const struct opdesc grp2[8] = {
	[0] = I(ROL, EI, 0),
	[1] = I(ROR, EI, 0),
	[2] = I(RCL, EI, 0),
	[3] = I(RCR, EI, 0),
	[4] = I(SHL, EI, 0),
	[5] = I(SHR, EI, 0),
	[6] = I(SHL, EI, 0),
	[7] = I(SAR, EI, 0),
};

/* Group 3 (F6/F7): /1 is an alias of TEST /0 on Intel CPUs. */
static const struct opdesc grp3_Eb[8] = {
	[0] = I(TEST, EI, IM_IB),  /* TEST Eb, Ib */
	[1] = I(TEST, EI, IM_IB),
	[2] = I(NOT, E, A_LK),     /* NOT Eb */
	[3] = I(NEG, E, A_LK),     /* NEG Eb */
	[4] = I(MUL, E, 0),        /* MUL AL, Eb */
	[5] = I(IMUL1, E, 0),      /* IMUL AL, Eb */
	[6] = I(DIV, E, 0),        /* DIV AL, Eb */
	[7] = I(IDIV, E, 0),       /* IDIV AL, Eb */
};

static const struct opdesc grp3_Ev[8] = {
	[0] = I(TEST, EI, IM_IZ),  /* TEST Ev, Iz */
	[1] = I(TEST, EI, IM_IZ),
	[2] = I(NOT, E, A_LK),     /* NOT Ev */
	[3] = I(NEG, E, A_LK),     /* NEG Ev */
	[4] = I(MUL, E, 0),        /* MUL rAX, Ev */
	[5] = I(IMUL1, E, 0),      /* IMUL rAX, Ev */
	[6] = I(DIV, E, 0),        /* DIV rAX, Ev */
	[7] = I(IDIV, E, 0),       /* IDIV rAX, Ev */
};

/* Group 4 (FE). */
static const struct opdesc grp4[8] = {
	[0] = I(INC, E, A_LK),     /* INC Eb */
	[1] = I(DEC, E, A_LK),     /* DEC Eb */
};

/* Group 5 (FF): the row has no size class, each entry its own. */
static const struct opdesc grp5[8] = {
	[0] = I(INC, E, SZ_V | A_LK),     /* INC Ev */
	[1] = I(DEC, E, SZ_V | A_LK),     /* DEC Ev */
	[2] = I(CALL_IND, E, SZ_F64),     /* CALL Ev (f64) */
	[3] = I(CALL_FAR, E, Mp),         /* CALL Mp */
	[4] = I(JMP_IND, E, SZ_F64),      /* JMP Ev (f64) */
	[5] = I(JMP_FAR, E, Mp),          /* JMP Mp */
	[6] = I(PUSH, E, SZ_D64),         /* PUSH Ev (d64) */
};

/* Group 11 (C6/C7): C6 F8 XABORT and C7 F8 XBEGIN (RTM) are #UD here. */
static const struct opdesc grp11_Eb[8] = {
	[0] = I(MOV, EI, 0),       /* MOV Eb, Ib */
};

static const struct opdesc grp11_Ev[8] = {
	[0] = I(MOV, EI, 0),       /* MOV Ev, Iz */
};

/* Group 1A (8F), when the byte after 8F does not make it XOP. */
static const struct opdesc grp1a[8] = {
	[0] = I(POP, E, SZ_D64),   /* POP Ev (d64) */
};
const struct opdesc decode_grp1a_row = GRP(grp1a, 0);

/* C4/C5 outside 64-bit mode with ModRM.mod != 11, 62 likewise. */
const struct opdesc decode_les_lds[2] = {
	[0] = I(LES, GE, Gv_Mp | A_I64),  /* LES Gz, Mp */
	[1] = I(LDS, GE, Gv_Mp | A_I64),  /* LDS Gz, Mp */
};
const struct opdesc decode_bound = I(BOUND, GE, Gv_Ma | A_I64); /* BOUND Gv, Ma */

/* 90 by prefixes. */
const struct opdesc decode_nop90 = I(NOP, NONE, 0);             /* NOP */
const struct opdesc decode_pause = I(PAUSE, NONE, 0);           /* F3 90: PAUSE */
const struct opdesc decode_xchg90 = I(XCHG, EG, rAX_Zv);        /* REX.B 90: XCHG r8, rAX */

/* 63 by mode. */
static const struct opdesc op63[2] = {
	[0] = I(ARPL, EG, Ew_Gw),                 /* ARPL Ew, Gw */
	[1] = IX(MOVSX, GE, Gv_Ed, FX_MOVSXD),    /* MOVSXD Gv, Ed (o64) */
};

const struct opdesc decode_map1[256] = {
	[0x00] = I(ADD, EG, Eb_Gb | A_LK),        /* ADD Eb, Gb */
	[0x01] = I(ADD, EG, Ev_Gv | A_LK),        /* ADD Ev, Gv */
	[0x02] = I(ADD, GE, Gb_Eb),               /* ADD Gb, Eb */
	[0x03] = I(ADD, GE, Gv_Ev),               /* ADD Gv, Ev */
	[0x04] = I(ADD, EI, AL_Ib),               /* ADD AL, Ib */
	[0x05] = I(ADD, EI, rAX_Iz),              /* ADD rAX, Iz */
	[0x06] = IX(PUSH_SEG, NONE, SZ_V | A_I64, FX_SREG_OPC), /* PUSH ES (i64) */
	[0x07] = IX(POP_SEG, NONE, SZ_V | A_I64, FX_SREG_OPC),  /* POP ES (i64) */
	[0x08] = I(OR, EG, Eb_Gb | A_LK),         /* OR Eb, Gb */
	[0x09] = I(OR, EG, Ev_Gv | A_LK),         /* OR Ev, Gv */
	[0x0A] = I(OR, GE, Gb_Eb),                /* OR Gb, Eb */
	[0x0B] = I(OR, GE, Gv_Ev),                /* OR Gv, Ev */
	[0x0C] = I(OR, EI, AL_Ib),                /* OR AL, Ib */
	[0x0D] = I(OR, EI, rAX_Iz),               /* OR rAX, Iz */
	[0x0E] = IX(PUSH_SEG, NONE, SZ_V | A_I64, FX_SREG_OPC), /* PUSH CS (i64) */
	/* 0x0F: two-byte escape */
	[0x10] = I(ADC, EG, Eb_Gb | A_LK),        /* ADC Eb, Gb */
	[0x11] = I(ADC, EG, Ev_Gv | A_LK),        /* ADC Ev, Gv */
	[0x12] = I(ADC, GE, Gb_Eb),               /* ADC Gb, Eb */
	[0x13] = I(ADC, GE, Gv_Ev),               /* ADC Gv, Ev */
	[0x14] = I(ADC, EI, AL_Ib),               /* ADC AL, Ib */
	[0x15] = I(ADC, EI, rAX_Iz),              /* ADC rAX, Iz */
	[0x16] = IX(PUSH_SEG, NONE, SZ_V | A_I64, FX_SREG_OPC), /* PUSH SS (i64) */
	[0x17] = IX(POP_SEG, NONE, SZ_V | A_I64, FX_SREG_OPC),  /* POP SS (i64) */
	[0x18] = I(SBB, EG, Eb_Gb | A_LK),        /* SBB Eb, Gb */
	[0x19] = I(SBB, EG, Ev_Gv | A_LK),        /* SBB Ev, Gv */
	[0x1A] = I(SBB, GE, Gb_Eb),               /* SBB Gb, Eb */
	[0x1B] = I(SBB, GE, Gv_Ev),               /* SBB Gv, Ev */
	[0x1C] = I(SBB, EI, AL_Ib),               /* SBB AL, Ib */
	[0x1D] = I(SBB, EI, rAX_Iz),              /* SBB rAX, Iz */
	[0x1E] = IX(PUSH_SEG, NONE, SZ_V | A_I64, FX_SREG_OPC), /* PUSH DS (i64) */
	[0x1F] = IX(POP_SEG, NONE, SZ_V | A_I64, FX_SREG_OPC),  /* POP DS (i64) */
	[0x20] = I(AND, EG, Eb_Gb | A_LK),        /* AND Eb, Gb */
	[0x21] = I(AND, EG, Ev_Gv | A_LK),        /* AND Ev, Gv */
	[0x22] = I(AND, GE, Gb_Eb),               /* AND Gb, Eb */
	[0x23] = I(AND, GE, Gv_Ev),               /* AND Gv, Ev */
	[0x24] = I(AND, EI, AL_Ib),               /* AND AL, Ib */
	[0x25] = I(AND, EI, rAX_Iz),              /* AND rAX, Iz */
	/* 0x26: ES prefix */
	[0x27] = I(DAA, NONE, A_I64),             /* DAA (i64) */
	[0x28] = I(SUB, EG, Eb_Gb | A_LK),        /* SUB Eb, Gb */
	[0x29] = I(SUB, EG, Ev_Gv | A_LK),        /* SUB Ev, Gv */
	[0x2A] = I(SUB, GE, Gb_Eb),               /* SUB Gb, Eb */
	[0x2B] = I(SUB, GE, Gv_Ev),               /* SUB Gv, Ev */
	[0x2C] = I(SUB, EI, AL_Ib),               /* SUB AL, Ib */
	[0x2D] = I(SUB, EI, rAX_Iz),              /* SUB rAX, Iz */
	/* 0x2E: CS prefix */
	[0x2F] = I(DAS, NONE, A_I64),             /* DAS (i64) */
	[0x30] = I(XOR, EG, Eb_Gb | A_LK),        /* XOR Eb, Gb */
	[0x31] = I(XOR, EG, Ev_Gv | A_LK),        /* XOR Ev, Gv */
	[0x32] = I(XOR, GE, Gb_Eb),               /* XOR Gb, Eb */
	[0x33] = I(XOR, GE, Gv_Ev),               /* XOR Gv, Ev */
	[0x34] = I(XOR, EI, AL_Ib),               /* XOR AL, Ib */
	[0x35] = I(XOR, EI, rAX_Iz),              /* XOR rAX, Iz */
	/* 0x36: SS prefix */
	[0x37] = I(AAA, NONE, A_I64),             /* AAA (i64) */
	[0x38] = I(CMP, EG, Eb_Gb),               /* CMP Eb, Gb */
	[0x39] = I(CMP, EG, Ev_Gv),               /* CMP Ev, Gv */
	[0x3A] = I(CMP, GE, Gb_Eb),               /* CMP Gb, Eb */
	[0x3B] = I(CMP, GE, Gv_Ev),               /* CMP Gv, Ev */
	[0x3C] = I(CMP, EI, AL_Ib),               /* CMP AL, Ib */
	[0x3D] = I(CMP, EI, rAX_Iz),              /* CMP rAX, Iz */
	/* 0x3E: DS prefix */
	[0x3F] = I(AAS, NONE, A_I64),             /* AAS (i64) */
	/* 40-4F are REX prefixes in 64-bit mode and never reach this table there. */
	[0x40] = I(INC, G, Zv),                   /* INC eAX */
	[0x41] = I(INC, G, Zv),                   /* INC eCX */
	[0x42] = I(INC, G, Zv),                   /* INC eDX */
	[0x43] = I(INC, G, Zv),                   /* INC eBX */
	[0x44] = I(INC, G, Zv),                   /* INC eSP */
	[0x45] = I(INC, G, Zv),                   /* INC eBP */
	[0x46] = I(INC, G, Zv),                   /* INC eSI */
	[0x47] = I(INC, G, Zv),                   /* INC eDI */
	[0x48] = I(DEC, G, Zv),                   /* DEC eAX */
	[0x49] = I(DEC, G, Zv),                   /* DEC eCX */
	[0x4A] = I(DEC, G, Zv),                   /* DEC eDX */
	[0x4B] = I(DEC, G, Zv),                   /* DEC eBX */
	[0x4C] = I(DEC, G, Zv),                   /* DEC eSP */
	[0x4D] = I(DEC, G, Zv),                   /* DEC eBP */
	[0x4E] = I(DEC, G, Zv),                   /* DEC eSI */
	[0x4F] = I(DEC, G, Zv),                   /* DEC eDI */
	[0x50] = I(PUSH, G, Zv_d64),              /* PUSH rAX/r8 (d64) */
	[0x51] = I(PUSH, G, Zv_d64),              /* PUSH rCX/r9 */
	[0x52] = I(PUSH, G, Zv_d64),              /* PUSH rDX/r10 */
	[0x53] = I(PUSH, G, Zv_d64),              /* PUSH rBX/r11 */
	[0x54] = I(PUSH, G, Zv_d64),              /* PUSH rSP/r12 */
	[0x55] = I(PUSH, G, Zv_d64),              /* PUSH rBP/r13 */
	[0x56] = I(PUSH, G, Zv_d64),              /* PUSH rSI/r14 */
	[0x57] = I(PUSH, G, Zv_d64),              /* PUSH rDI/r15 */
	[0x58] = I(POP, G, Zv_d64),               /* POP rAX/r8 (d64) */
	[0x59] = I(POP, G, Zv_d64),               /* POP rCX/r9 */
	[0x5A] = I(POP, G, Zv_d64),               /* POP rDX/r10 */
	[0x5B] = I(POP, G, Zv_d64),               /* POP rBX/r11 */
	[0x5C] = I(POP, G, Zv_d64),               /* POP rSP/r12 */
	[0x5D] = I(POP, G, Zv_d64),               /* POP rBP/r13 */
	[0x5E] = I(POP, G, Zv_d64),               /* POP rSI/r14 */
	[0x5F] = I(POP, G, Zv_d64),               /* POP rDI/r15 */
	[0x60] = I(PUSHA, NONE, SZ_V | A_I64),    /* PUSHA/PUSHAD (i64) */
	[0x61] = I(POPA, NONE, SZ_V | A_I64),     /* POPA/POPAD (i64) */
	[0x62] = SPEC(SP_EVEX, 0),                /* BOUND Gv, Ma (i64) / EVEX */
	[0x63] = M64(op63),                       /* ARPL Ew, Gw / MOVSXD Gv, Ed (o64) */
	/* 0x64-0x67: FS, GS, operand-size, address-size prefixes */
	[0x68] = I(PUSH, I, IM_IZ | SZ_D64),      /* PUSH Iz (d64) */
	[0x69] = I(IMUL3, GEI, Gv_Ev_Iz),         /* IMUL Gv, Ev, Iz */
	[0x6A] = I(PUSH, I, IM_IB | SZ_D64),      /* PUSH Ib (d64) */
	[0x6B] = I(IMUL3, GEI, Gv_Ev_Ib),         /* IMUL Gv, Ev, Ib */
	[0x6C] = I(INS, NONE, SZ_B),              /* INS Yb, DX */
	[0x6D] = I(INS, NONE, SZ_Z),              /* INS Yz, DX */
	[0x6E] = I(OUTS, NONE, SZ_B),             /* OUTS DX, Xb */
	[0x6F] = I(OUTS, NONE, SZ_Z),             /* OUTS DX, Xz */
	[0x70] = I(JCC, I, Jb | A_CC),            /* JO Jb (f64) */
	[0x71] = I(JCC, I, Jb | A_CC),            /* JNO Jb */
	[0x72] = I(JCC, I, Jb | A_CC),            /* JB Jb */
	[0x73] = I(JCC, I, Jb | A_CC),            /* JNB Jb */
	[0x74] = I(JCC, I, Jb | A_CC),            /* JZ Jb */
	[0x75] = I(JCC, I, Jb | A_CC),            /* JNZ Jb */
	[0x76] = I(JCC, I, Jb | A_CC),            /* JBE Jb */
	[0x77] = I(JCC, I, Jb | A_CC),            /* JNBE Jb */
	[0x78] = I(JCC, I, Jb | A_CC),            /* JS Jb */
	[0x79] = I(JCC, I, Jb | A_CC),            /* JNS Jb */
	[0x7A] = I(JCC, I, Jb | A_CC),            /* JP Jb */
	[0x7B] = I(JCC, I, Jb | A_CC),            /* JNP Jb */
	[0x7C] = I(JCC, I, Jb | A_CC),            /* JL Jb */
	[0x7D] = I(JCC, I, Jb | A_CC),            /* JNL Jb */
	[0x7E] = I(JCC, I, Jb | A_CC),            /* JLE Jb */
	[0x7F] = I(JCC, I, Jb | A_CC),            /* JNLE Jb */
	[0x80] = GRP(grp1, Eb_Ib),                /* Grp1 Eb, Ib */
	[0x81] = GRP(grp1, Ev_Iz),                /* Grp1 Ev, Iz */
	[0x82] = GRP(grp1, Eb_Ib | A_I64),        /* Grp1 Eb, Ib (i64) */
	[0x83] = GRP(grp1, Ev_Ib),                /* Grp1 Ev, Ib */
	[0x84] = I(TEST, EG, Eb_Gb),              /* TEST Eb, Gb */
	[0x85] = I(TEST, EG, Ev_Gv),              /* TEST Ev, Gv */
	[0x86] = I(XCHG, EG, Eb_Gb | A_LK),       /* XCHG Eb, Gb */
	[0x87] = I(XCHG, EG, Ev_Gv | A_LK),       /* XCHG Ev, Gv */
	[0x88] = I(MOV, EG, Eb_Gb),               /* MOV Eb, Gb */
	[0x89] = I(MOV, EG, Ev_Gv),               /* MOV Ev, Gv */
	[0x8A] = I(MOV, GE, Gb_Eb),               /* MOV Gb, Eb */
	[0x8B] = I(MOV, GE, Gv_Ev),               /* MOV Gv, Ev */
	[0x8C] = IX(MOV_FROM_SEG, EG, Ev_Sw, FX_SREG_SRC), /* MOV Ev, Sw */
	[0x8D] = I(LEA, GE, Gv_M),                /* LEA Gv, M */
	[0x8E] = IX(MOV_TO_SEG, GE, Sw_Ew, FX_SREG_DST),   /* MOV Sw, Ew */
	[0x8F] = SPEC(SP_XOP, 0),                 /* Grp1A POP Ev (d64) / XOP */
	[0x90] = SPEC(SP_NOP90, 0),               /* NOP / PAUSE / XCHG r8, rAX */
	[0x91] = I(XCHG, EG, rAX_Zv),             /* XCHG rCX/r9, rAX */
	[0x92] = I(XCHG, EG, rAX_Zv),             /* XCHG rDX/r10, rAX */
	[0x93] = I(XCHG, EG, rAX_Zv),             /* XCHG rBX/r11, rAX */
	[0x94] = I(XCHG, EG, rAX_Zv),             /* XCHG rSP/r12, rAX */
	[0x95] = I(XCHG, EG, rAX_Zv),             /* XCHG rBP/r13, rAX */
	[0x96] = I(XCHG, EG, rAX_Zv),             /* XCHG rSI/r14, rAX */
	[0x97] = I(XCHG, EG, rAX_Zv),             /* XCHG rDI/r15, rAX */
	[0x98] = I(CBW, NONE, SZ_V),              /* CBW/CWDE/CDQE */
	[0x99] = I(CWD, NONE, SZ_V),              /* CWD/CDQ/CQO */
	[0x9A] = I(CALL_FAR, I, Ap | A_I64),      /* CALLF Ap (i64) */
	[0x9B] = I(FWAIT, NONE, 0),               /* FWAIT/WAIT */
	[0x9C] = I(PUSHF, NONE, SZ_D64),          /* PUSHF/D/Q Fv (d64) */
	[0x9D] = I(POPF, NONE, SZ_D64),           /* POPF/D/Q Fv (d64) */
	[0x9E] = I(SAHF, NONE, 0),                /* SAHF */
	[0x9F] = I(LAHF, NONE, 0),                /* LAHF */
	[0xA0] = I(MOV, GE, AL_Ob),               /* MOV AL, Ob */
	[0xA1] = I(MOV, GE, rAX_Ov),              /* MOV rAX, Ov */
	[0xA2] = I(MOV, EG, AL_Ob),               /* MOV Ob, AL */
	[0xA3] = I(MOV, EG, rAX_Ov),              /* MOV Ov, rAX */
	[0xA4] = I(MOVS, NONE, SZ_B),             /* MOVS Yb, Xb */
	[0xA5] = I(MOVS, NONE, SZ_V),             /* MOVS Yv, Xv */
	[0xA6] = I(CMPS, NONE, SZ_B),             /* CMPS Xb, Yb */
	[0xA7] = I(CMPS, NONE, SZ_V),             /* CMPS Xv, Yv */
	[0xA8] = I(TEST, EI, AL_Ib),              /* TEST AL, Ib */
	[0xA9] = I(TEST, EI, rAX_Iz),             /* TEST rAX, Iz */
	[0xAA] = I(STOS, NONE, SZ_B),             /* STOS Yb, AL */
	[0xAB] = I(STOS, NONE, SZ_V),             /* STOS Yv, rAX */
	[0xAC] = I(LODS, NONE, SZ_B),             /* LODS AL, Xb */
	[0xAD] = I(LODS, NONE, SZ_V),             /* LODS rAX, Xv */
	[0xAE] = I(SCAS, NONE, SZ_B),             /* SCAS AL, Yb */
	[0xAF] = I(SCAS, NONE, SZ_V),             /* SCAS rAX, Yv */
	[0xB0] = I(MOV, GI, Zb_Ib),               /* MOV AL/R8B, Ib */
	[0xB1] = I(MOV, GI, Zb_Ib),               /* MOV CL/R9B, Ib */
	[0xB2] = I(MOV, GI, Zb_Ib),               /* MOV DL/R10B, Ib */
	[0xB3] = I(MOV, GI, Zb_Ib),               /* MOV BL/R11B, Ib */
	[0xB4] = I(MOV, GI, Zb_Ib),               /* MOV AH/R12B, Ib */
	[0xB5] = I(MOV, GI, Zb_Ib),               /* MOV CH/R13B, Ib */
	[0xB6] = I(MOV, GI, Zb_Ib),               /* MOV DH/R14B, Ib */
	[0xB7] = I(MOV, GI, Zb_Ib),               /* MOV BH/R15B, Ib */
	[0xB8] = I(MOV, GI, Zv_Iv),               /* MOV rAX/r8, Iv */
	[0xB9] = I(MOV, GI, Zv_Iv),               /* MOV rCX/r9, Iv */
	[0xBA] = I(MOV, GI, Zv_Iv),               /* MOV rDX/r10, Iv */
	[0xBB] = I(MOV, GI, Zv_Iv),               /* MOV rBX/r11, Iv */
	[0xBC] = I(MOV, GI, Zv_Iv),               /* MOV rSP/r12, Iv */
	[0xBD] = I(MOV, GI, Zv_Iv),               /* MOV rBP/r13, Iv */
	[0xBE] = I(MOV, GI, Zv_Iv),               /* MOV rSI/r14, Iv */
	[0xBF] = I(MOV, GI, Zv_Iv),               /* MOV rDI/r15, Iv */
	[0xC0] = GRP(grp2, Eb_Ub),                /* Grp2 Eb, Ib */
	[0xC1] = GRP(grp2, Ev_Ub),                /* Grp2 Ev, Ib */
	[0xC2] = I(RET, I, Iw | SZ_F64),          /* RET Iw (f64) */
	[0xC3] = I(RET, NONE, SZ_F64),            /* RET (f64) */
	[0xC4] = SPEC(SP_VEX, 0),                 /* LES Gz, Mp (i64) / VEX3 */
	[0xC5] = SPEC(SP_VEX, 0),                 /* LDS Gz, Mp (i64) / VEX2 */
	[0xC6] = GRP(grp11_Eb, Eb_Ib),            /* Grp11 MOV Eb, Ib */
	[0xC7] = GRP(grp11_Ev, Ev_Iz),            /* Grp11 MOV Ev, Iz */
	[0xC8] = I(ENTER, I, IM_ENTER | SZ_D64),  /* ENTER Iw, Ib (d64) */
	[0xC9] = I(LEAVE, NONE, SZ_D64),          /* LEAVE (d64) */
	[0xCA] = I(RET_FAR, I, Iw | A_FAR),       /* RETF Iw */
	[0xCB] = I(RET_FAR, NONE, A_FAR),         /* RETF */
	[0xCC] = I(INT3, NONE, 0),                /* INT3 */
	[0xCD] = I(INT, I, Ib),                   /* INT Ib */
	[0xCE] = I(INTO, NONE, A_I64),            /* INTO (i64) */
	[0xCF] = I(IRET, NONE, SZ_V),             /* IRET/D/Q */
	[0xD0] = GRP(grp2, Eb_1),                 /* Grp2 Eb, 1 */
	[0xD1] = GRP(grp2, Ev_1),                 /* Grp2 Ev, 1 */
	[0xD2] = GRP(grp2, Eb_CL),                /* Grp2 Eb, CL */
	[0xD3] = GRP(grp2, Ev_CL),                /* Grp2 Ev, CL */
	[0xD4] = I(AAM, I, Ib | A_I64),           /* AAM Ib (i64) */
	[0xD5] = I(AAD, I, Ib | A_I64),           /* AAD Ib (i64) */
	[0xD6] = I(SALC, NONE, A_I64),            /* SALC (undocumented, i64) */
	[0xD7] = I(XLAT, NONE, SZ_B),             /* XLAT */
	[0xD8] = I(FPU, NONE, Ev),                /* x87 escape */
	[0xD9] = I(FPU, NONE, Ev),                /* x87 escape */
	[0xDA] = I(FPU, NONE, Ev),                /* x87 escape */
	[0xDB] = I(FPU, NONE, Ev),                /* x87 escape */
	[0xDC] = I(FPU, NONE, Ev),                /* x87 escape */
	[0xDD] = I(FPU, NONE, Ev),                /* x87 escape */
	[0xDE] = I(FPU, NONE, Ev),                /* x87 escape */
	[0xDF] = I(FPU, NONE, Ev),                /* x87 escape */
	[0xE0] = I(LOOPNE, I, Jb),                /* LOOPNE Jb (f64) */
	[0xE1] = I(LOOPE, I, Jb),                 /* LOOPE Jb (f64) */
	[0xE2] = I(LOOP, I, Jb),                  /* LOOP Jb (f64) */
	[0xE3] = I(JCXZ, I, Jb),                  /* JrCXZ Jb (f64) */
	[0xE4] = I(IN, EI, A_ACC | SZ_B | IM_UB), /* IN AL, Ib */
	[0xE5] = I(IN, EI, A_ACC | SZ_Z | IM_UB), /* IN eAX, Ib */
	[0xE6] = I(OUT, EI, A_ACC | SZ_B | IM_UB),/* OUT Ib, AL */
	[0xE7] = I(OUT, EI, A_ACC | SZ_Z | IM_UB),/* OUT Ib, eAX */
	[0xE8] = I(CALL, I, Jz),                  /* CALL Jz (f64) */
	[0xE9] = I(JMP, I, Jz),                   /* JMP Jz (f64) */
	[0xEA] = I(JMP_FAR, I, Ap | A_I64),       /* JMPF Ap (i64) */
	[0xEB] = I(JMP, I, Jb),                   /* JMP Jb (f64) */
	[0xEC] = I(IN, E, A_ACC | SZ_B | A_DX),   /* IN AL, DX */
	[0xED] = I(IN, E, A_ACC | SZ_Z | A_DX),   /* IN eAX, DX */
	[0xEE] = I(OUT, E, A_ACC | SZ_B | A_DX),  /* OUT DX, AL */
	[0xEF] = I(OUT, E, A_ACC | SZ_Z | A_DX),  /* OUT DX, eAX */
	/* 0xF0: LOCK prefix */
	[0xF1] = I(INT1, NONE, 0),                /* INT1/ICEBP */
	/* 0xF2, 0xF3: REPNE, REP prefixes */
	[0xF4] = I(HLT, NONE, 0),                 /* HLT */
	[0xF5] = I(CMC, NONE, 0),                 /* CMC */
	[0xF6] = GRP(grp3_Eb, Eb),                /* Grp3 Eb */
	[0xF7] = GRP(grp3_Ev, Ev),                /* Grp3 Ev */
	[0xF8] = I(CLC, NONE, 0),                 /* CLC */
	[0xF9] = I(STC, NONE, 0),                 /* STC */
	[0xFA] = I(CLI, NONE, 0),                 /* CLI */
	[0xFB] = I(STI, NONE, 0),                 /* STI */
	[0xFC] = I(CLD, NONE, 0),                 /* CLD */
	[0xFD] = I(STD, NONE, 0),                 /* STD */
	[0xFE] = GRP(grp4, Eb),                   /* Grp4 INC/DEC Eb */
	[0xFF] = GRP(grp5, A_MODRM),              /* Grp5 */
};
