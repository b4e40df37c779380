/*
 * The two-byte opcode map (0F xx): SDM Vol.2 Appendix A, Table A-3, and groups 6, 7, 8,
 * 9, 12-16 of Table A-6 (with Table A-6's mod/rm-split encodings of group 7, 9 and 15).
 *
 * SSE/MMX rows are OP_SSE with a validity column per mandatory prefix (none, 66, F3,
 * F2): S__ = #UD, SAN = valid, SMM = memory operand only, SRR = register operand only
 * (Table A-3's "mandatory prefix" columns and the instruction pages' Op/En M/R forms).
 * 0F 38 and 0F 3A are in decode_map0f38.c.
 */
#include "cpu/decode.h"

/* Group 6 (0F 00). */
static const struct opdesc grp6[8] = {
	[0] = I(SLDT, E, Emw),            /* SLDT Rv/Mw */
	[1] = I(STR, E, Emw),             /* STR Rv/Mw */
	[2] = I(LLDT, E, Ew),             /* LLDT Ew */
	[3] = I(LTR, E, Ew),              /* LTR Ew */
	[4] = I(VERR, E, Ew),             /* VERR Ew */
	[5] = I(VERW, E, Ew),             /* VERW Ew */
};

/* Group 7 (0F 01), memory forms. */
static const struct opdesc grp7_mem[8] = {
	[0] = I(SGDT, E, Ms),             /* SGDT Ms */
	[1] = I(SIDT, E, Ms),             /* SIDT Ms */
	[2] = I(LGDT, E, Ms),             /* LGDT Ms */
	[3] = I(LIDT, E, Ms),             /* LIDT Ms */
	[4] = I(SMSW, E, Emw),            /* SMSW Mw */
	/* [5]: F3 RSTORSSP (CET) */
	[6] = I(LMSW, E, Ew),             /* LMSW Ew */
	[7] = I(INVLPG, E, M),            /* INVLPG Mb */
};

/* Group 7 register forms with ModRM.reg = 0, 1, 2, 7, by ModRM.rm. */
static const struct opdesc grp7_c0[8] = {
	/* C0: ENCLV */
	[1] = I(VMCALL, NONE, A_NP),      /* 0F 01 C1 VMCALL */
	[2] = I(VMLAUNCH, NONE, A_NP),    /* 0F 01 C2 VMLAUNCH */
	[3] = I(VMRESUME, NONE, A_NP),    /* 0F 01 C3 VMRESUME */
	[4] = I(VMXOFF, NONE, A_NP),      /* 0F 01 C4 VMXOFF */
	/* C5 PCONFIG, C6 WRMSRNS */
};

static const struct opdesc grp7_c8[8] = {
	[0] = I(MONITOR, NONE, A_NP),     /* 0F 01 C8 MONITOR */
	[1] = I(MWAIT, NONE, A_NP),       /* 0F 01 C9 MWAIT */
	[2] = I(CLAC, NONE, A_NP),        /* 0F 01 CA CLAC */
	[3] = I(STAC, NONE, A_NP),        /* 0F 01 CB STAC */
	/* CF: ENCLS */
};

static const struct opdesc grp7_d0[8] = {
	[0] = I(XGETBV, NONE, A_NP),      /* 0F 01 D0 XGETBV */
	[1] = I(XSETBV, NONE, A_NP),      /* 0F 01 D1 XSETBV */
	[4] = I(VMFUNC, NONE, A_NP),      /* 0F 01 D4 VMFUNC */
	/* D5 XEND, D6 XTEST (RTM), D7 ENCLU */
};

static const struct opdesc grp7_f8[8] = {
	[0] = I(SWAPGS, NONE, A_O64),     /* 0F 01 F8 SWAPGS (o64) */
	[1] = I(RDTSCP, NONE, 0),         /* 0F 01 F9 RDTSCP */
	/* FA-FD: AMD MONITORX, MWAITX, CLZERO, RDPRU */
};

static const struct opdesc grp7_reg[8] = {
	[0] = RMSPLIT(grp7_c0),
	[1] = RMSPLIT(grp7_c8),
	[2] = RMSPLIT(grp7_d0),
	/* [3]: AMD SVM (VMRUN ... INVLPGA) */
	[4] = I(SMSW, E, Emw),            /* SMSW Rv */
	/* [5]: SERIALIZE, RDPKRU, WRPKRU, CET and UINTR forms: not implemented */
	[6] = I(LMSW, E, Ew),             /* LMSW Rw */
	[7] = RMSPLIT(grp7_f8),
};

static const struct opdesc grp7[2] = {
	[0] = GRP(grp7_mem, 0),
	[1] = GRP(grp7_reg, 0),
};

/* Group 8 (0F BA): Ev, Ib with an unsigned bit offset. */
static const struct opdesc grp8[8] = {
	[4] = I(BT, EI, 0),               /* BT Ev, Ib */
	[5] = I(BTS, EI, A_LK),           /* BTS Ev, Ib */
	[6] = I(BTR, EI, A_LK),           /* BTR Ev, Ib */
	[7] = I(BTC, EI, A_LK),           /* BTC Ev, Ib */
};

/* Group 9 (0F C7). */
static const struct opdesc grp9_m6[4] = {
	[0] = I(VMPTRLD, E, Mq),          /* NP 0F C7 /6 VMPTRLD Mq */
	[1] = I(VMCLEAR, E, Mq),          /* 66 0F C7 /6 VMCLEAR Mq */
	[2] = I(VMXON, E, Mq),            /* F3 0F C7 /6 VMXON Mq */
};

static const struct opdesc grp9_m7[4] = {
	[0] = I(VMPTRST, E, Mq),          /* NP 0F C7 /7 VMPTRST Mq */
};

static const struct opdesc grp9_mem[8] = {
	[1] = IX(CMPXCHG8B, E, M | A_LK, FX_CX8), /* CMPXCHG8B Mq / CMPXCHG16B Mdq */
	[3] = SSE(SMM, S__, S__, S__, 0), /* XRSTORS */
	[4] = SSE(SMM, S__, S__, S__, 0), /* XSAVEC */
	[5] = SSE(SMM, S__, S__, S__, 0), /* XSAVES */
	[6] = PFX(grp9_m6, 0),
	[7] = PFX(grp9_m7, 0),
};

static const struct opdesc grp9_r6[4] = {
	[0] = I(RDRAND, E, Rv),           /* RDRAND Rv */
	[1] = I(RDRAND, E, Rv),
	/* F3: SENDUIPI */
};

static const struct opdesc grp9_r7[4] = {
	[0] = I(RDSEED, E, Rv),           /* RDSEED Rv */
	[1] = I(RDSEED, E, Rv),
	[2] = I(RDPID, E, A_MODRM | A_REG | SZ_NAT), /* F3 0F C7 /7 RDPID Rd/q */
};

static const struct opdesc grp9_reg[8] = {
	[6] = PFX(grp9_r6, 0),
	[7] = PFX(grp9_r7, 0),
};

static const struct opdesc grp9[2] = {
	[0] = GRP(grp9_mem, 0),
	[1] = GRP(grp9_reg, 0),
};

/* Groups 12-14 (0F 71-73): MMX/SSE shifts by imm8, register operand only. */
static const struct opdesc grp12_13[8] = {
	[2] = SSE(SRR, SRR, S__, S__, 0), /* PSRLW/PSRLD */
	[4] = SSE(SRR, SRR, S__, S__, 0), /* PSRAW/PSRAD */
	[6] = SSE(SRR, SRR, S__, S__, 0), /* PSLLW/PSLLD */
};

static const struct opdesc grp14[8] = {
	[2] = SSE(SRR, SRR, S__, S__, 0), /* PSRLQ */
	[3] = SSE(S__, SRR, S__, S__, 0), /* 66: PSRLDQ */
	[6] = SSE(SRR, SRR, S__, S__, 0), /* PSLLQ */
	[7] = SSE(S__, SRR, S__, S__, 0), /* 66: PSLLDQ */
};

/* Group 15 (0F AE). */
static const struct opdesc grp15_m6[4] = {
	[0] = SSE(SMM, S__, S__, S__, 0), /* XSAVEOPT */
	/* 66: CLWB, F3: CLRSSBSY */
};

static const struct opdesc grp15_m7[4] = {
	[0] = I(CLFLUSH, E, M),           /* CLFLUSH Mb */
	[1] = I(CLFLUSH, E, M),           /* 66: CLFLUSHOPT Mb */
};

static const struct opdesc grp15_mem[8] = {
	[0] = SSE(SMM, S__, S__, S__, 0), /* FXSAVE */
	[1] = SSE(SMM, S__, S__, S__, 0), /* FXRSTOR */
	[2] = SSE(SMM, S__, S__, S__, 0), /* LDMXCSR */
	[3] = SSE(SMM, S__, S__, S__, 0), /* STMXCSR */
	[4] = SSE(SMM, S__, S__, S__, 0), /* XSAVE */
	[5] = SSE(SMM, S__, S__, S__, 0), /* XRSTOR */
	[6] = PFX(grp15_m6, 0),
	[7] = PFX(grp15_m7, 0),
};

static const struct opdesc grp15_r0[4] = { [2] = I(RDFSBASE, E, Ry | A_O64) }; /* F3 */
static const struct opdesc grp15_r1[4] = { [2] = I(RDGSBASE, E, Ry | A_O64) }; /* F3 */
static const struct opdesc grp15_r2[4] = { [2] = I(WRFSBASE, E, Ry | A_O64) }; /* F3 */
static const struct opdesc grp15_r3[4] = { [2] = I(WRGSBASE, E, Ry | A_O64) }; /* F3 */
static const struct opdesc grp15_r5[4] = { [0] = I(FENCE, NONE, 0) }; /* LFENCE; F3 INCSSP */
static const struct opdesc grp15_r6[4] = { [0] = I(FENCE, NONE, 0) }; /* MFENCE; WAITPKG */
static const struct opdesc grp15_r7[4] = { [0] = I(FENCE, NONE, 0) }; /* SFENCE */

static const struct opdesc grp15_reg[8] = {
	[0] = PFX(grp15_r0, 0),
	[1] = PFX(grp15_r1, 0),
	[2] = PFX(grp15_r2, 0),
	[3] = PFX(grp15_r3, 0),
	/* [4]: F3 PTWRITE */
	[5] = PFX(grp15_r5, 0),
	[6] = PFX(grp15_r6, 0),
	[7] = PFX(grp15_r7, 0),
};

static const struct opdesc grp15[2] = {
	[0] = GRP(grp15_mem, 0),
	[1] = GRP(grp15_reg, 0),
};

/* Prefix-selected rows. */
static const struct opdesc op_b8[4] = {
	[2] = I(POPCNT, GE, 0),           /* F3 0F B8 POPCNT Gv, Ev (NP: JMPE, #UD) */
};
static const struct opdesc op_bc[4] = {
	[0] = I(BSF, GE, 0),              /* BSF Gv, Ev */
	[1] = I(BSF, GE, 0),
	[2] = I(TZCNT, GE, 0),            /* F3 0F BC TZCNT Gv, Ev */
	[3] = I(BSF, GE, 0),
};
static const struct opdesc op_bd[4] = {
	[0] = I(BSR, GE, 0),              /* BSR Gv, Ev */
	[1] = I(BSR, GE, 0),
	[2] = I(LZCNT, GE, 0),            /* F3 0F BD LZCNT Gv, Ev */
	[3] = I(BSR, GE, 0),
};
static const struct opdesc op_78[4] = {
	[0] = I(VMREAD, EG, Ey_Gy),       /* NP 0F 78 VMREAD Ey, Gy */
	[1] = UD_(IM_IW),                 /* 66: AMD EXTRQ Uq, Ib, Ib */
	[3] = UD_(IM_IW),                 /* F2: AMD INSERTQ Vq, Uq, Ib, Ib */
};
static const struct opdesc op_79[4] = {
	[0] = I(VMWRITE, GE, Gy_Ey),      /* NP 0F 79 VMWRITE Gy, Ey */
};

const struct opdesc decode_map0f[256] = {
	[0x00] = GRP(grp6, 0),                    /* Grp6 */
	[0x01] = MODSPLIT(grp7, 0),               /* Grp7 */
	[0x02] = I(LAR, GE, Gv_Ew),               /* LAR Gv, Ew */
	[0x03] = I(LSL, GE, Gv_Ew),               /* LSL Gv, Ew */
	[0x05] = I(SYSCALL, NONE, SZ_F64 | A_O64), /* SYSCALL (o64) */
	[0x06] = I(CLTS, NONE, 0),                /* CLTS */
	[0x07] = I(SYSRET, NONE, SZ_V | A_O64),   /* SYSRET (o64) */
	[0x08] = I(INVD, NONE, 0),                /* INVD */
	[0x09] = I(WBINVD, NONE, 0),              /* WBINVD (F3: WBNOINVD) */
	[0x0B] = UD_(0),                          /* UD2 */
	[0x0D] = I(NOP, NONE, Ev),                /* PREFETCHW Ev and the rest of 0F 0D: hints */
	[0x0E] = UD_(0),                          /* AMD FEMMS */
	[0x0F] = UD_(A_MODRM | IM_UB),            /* AMD 3DNow! Pq, Qq, ib-suffix */
	[0x10] = SSE(SAN, SAN, SAN, SAN, 0),      /* MOVUPS/MOVUPD/MOVSS/MOVSD V, W */
	[0x11] = SSE(SAN, SAN, SAN, SAN, 0),      /* MOVUPS/MOVUPD/MOVSS/MOVSD W, V */
	[0x12] = SSE(SAN, SMM, SAN, SAN, 0),      /* MOVLPS/MOVHLPS, MOVLPD, MOVSLDUP, MOVDDUP */
	[0x13] = SSE(SMM, SMM, S__, S__, 0),      /* MOVLPS/MOVLPD Mq, V */
	[0x14] = SSE(SAN, SAN, S__, S__, 0),      /* UNPCKLPS/PD */
	[0x15] = SSE(SAN, SAN, S__, S__, 0),      /* UNPCKHPS/PD */
	[0x16] = SSE(SAN, SMM, SAN, S__, 0),      /* MOVHPS/MOVLHPS, MOVHPD, MOVSHDUP */
	[0x17] = SSE(SMM, SMM, S__, S__, 0),      /* MOVHPS/MOVHPD Mq, V */
	[0x18] = I(NOP, NONE, Ev),                /* Grp16 PREFETCHh / reserved NOP */
	[0x19] = I(NOP, NONE, Ev),                /* NOP Ev (hint) */
	[0x1A] = I(NOP, NONE, Ev),                /* NOP Ev (MPX BND* without MPX) */
	[0x1B] = I(NOP, NONE, Ev),                /* NOP Ev (MPX BND* without MPX) */
	[0x1C] = I(NOP, NONE, Ev),                /* NOP Ev (CLDEMOTE without support) */
	[0x1D] = I(NOP, NONE, Ev),                /* NOP Ev (hint) */
	[0x1E] = I(NOP, NONE, Ev),                /* NOP Ev (ENDBR32/64, RDSSP without CET) */
	[0x1F] = I(NOP, NONE, Ev),                /* NOP Ev */
	[0x20] = IX(MOV_FROM_CR, EG, Rd_Cd, FX_CR), /* MOV Rd/q, Cd/q */
	[0x21] = IX(MOV_FROM_DR, EG, Rd_Cd, FX_DR), /* MOV Rd/q, Dd/q */
	[0x22] = IX(MOV_TO_CR, GE, Rd_Cd, FX_CR),   /* MOV Cd/q, Rd/q */
	[0x23] = IX(MOV_TO_DR, GE, Rd_Cd, FX_DR),   /* MOV Dd/q, Rd/q */
	[0x28] = SSE(SAN, SAN, S__, S__, 0),      /* MOVAPS/MOVAPD V, W */
	[0x29] = SSE(SAN, SAN, S__, S__, 0),      /* MOVAPS/MOVAPD W, V */
	[0x2A] = SSE(SAN, SAN, SAN, SAN, 0),      /* CVTPI2PS/PD, CVTSI2SS/SD */
	[0x2B] = SSE(SMM, SMM, S__, S__, 0),      /* MOVNTPS/PD M, V (F3/F2: AMD) */
	[0x2C] = SSE(SAN, SAN, SAN, SAN, 0),      /* CVTTPS2PI/PD2PI, CVTTSS2SI/SD2SI */
	[0x2D] = SSE(SAN, SAN, SAN, SAN, 0),      /* CVTPS2PI/PD2PI, CVTSS2SI/SD2SI */
	[0x2E] = SSE(SAN, SAN, S__, S__, 0),      /* UCOMISS/UCOMISD */
	[0x2F] = SSE(SAN, SAN, S__, S__, 0),      /* COMISS/COMISD */
	[0x30] = I(WRMSR, NONE, 0),               /* WRMSR */
	[0x31] = I(RDTSC, NONE, 0),               /* RDTSC */
	[0x32] = I(RDMSR, NONE, 0),               /* RDMSR */
	[0x33] = I(RDPMC, NONE, 0),               /* RDPMC */
	[0x34] = I(SYSENTER, NONE, 0),            /* SYSENTER */
	[0x35] = I(SYSEXIT, NONE, SZ_V),          /* SYSEXIT */
	[0x37] = I(GETSEC, NONE, A_NP),           /* NP 0F 37 GETSEC */
	/* 0x38, 0x3A: three-byte escapes */
	[0x40] = I(CMOVCC, GE, Gv_Ev | A_CC),     /* CMOVO Gv, Ev */
	[0x41] = I(CMOVCC, GE, Gv_Ev | A_CC),     /* CMOVNO Gv, Ev */
	[0x42] = I(CMOVCC, GE, Gv_Ev | A_CC),     /* CMOVB Gv, Ev */
	[0x43] = I(CMOVCC, GE, Gv_Ev | A_CC),     /* CMOVAE Gv, Ev */
	[0x44] = I(CMOVCC, GE, Gv_Ev | A_CC),     /* CMOVE Gv, Ev */
	[0x45] = I(CMOVCC, GE, Gv_Ev | A_CC),     /* CMOVNE Gv, Ev */
	[0x46] = I(CMOVCC, GE, Gv_Ev | A_CC),     /* CMOVBE Gv, Ev */
	[0x47] = I(CMOVCC, GE, Gv_Ev | A_CC),     /* CMOVA Gv, Ev */
	[0x48] = I(CMOVCC, GE, Gv_Ev | A_CC),     /* CMOVS Gv, Ev */
	[0x49] = I(CMOVCC, GE, Gv_Ev | A_CC),     /* CMOVNS Gv, Ev */
	[0x4A] = I(CMOVCC, GE, Gv_Ev | A_CC),     /* CMOVP Gv, Ev */
	[0x4B] = I(CMOVCC, GE, Gv_Ev | A_CC),     /* CMOVNP Gv, Ev */
	[0x4C] = I(CMOVCC, GE, Gv_Ev | A_CC),     /* CMOVL Gv, Ev */
	[0x4D] = I(CMOVCC, GE, Gv_Ev | A_CC),     /* CMOVNL Gv, Ev */
	[0x4E] = I(CMOVCC, GE, Gv_Ev | A_CC),     /* CMOVLE Gv, Ev */
	[0x4F] = I(CMOVCC, GE, Gv_Ev | A_CC),     /* CMOVNLE Gv, Ev */
	[0x50] = SSE(SRR, SRR, S__, S__, 0),      /* MOVMSKPS/PD Gd, U */
	[0x51] = SSE(SAN, SAN, SAN, SAN, 0),      /* SQRTPS/PD/SS/SD */
	[0x52] = SSE(SAN, S__, SAN, S__, 0),      /* RSQRTPS/SS */
	[0x53] = SSE(SAN, S__, SAN, S__, 0),      /* RCPPS/SS */
	[0x54] = SSE(SAN, SAN, S__, S__, 0),      /* ANDPS/PD */
	[0x55] = SSE(SAN, SAN, S__, S__, 0),      /* ANDNPS/PD */
	[0x56] = SSE(SAN, SAN, S__, S__, 0),      /* ORPS/PD */
	[0x57] = SSE(SAN, SAN, S__, S__, 0),      /* XORPS/PD */
	[0x58] = SSE(SAN, SAN, SAN, SAN, 0),      /* ADDPS/PD/SS/SD */
	[0x59] = SSE(SAN, SAN, SAN, SAN, 0),      /* MULPS/PD/SS/SD */
	[0x5A] = SSE(SAN, SAN, SAN, SAN, 0),      /* CVTPS2PD, CVTPD2PS, CVTSS2SD, CVTSD2SS */
	[0x5B] = SSE(SAN, SAN, SAN, S__, 0),      /* CVTDQ2PS, CVTPS2DQ, CVTTPS2DQ */
	[0x5C] = SSE(SAN, SAN, SAN, SAN, 0),      /* SUBPS/PD/SS/SD */
	[0x5D] = SSE(SAN, SAN, SAN, SAN, 0),      /* MINPS/PD/SS/SD */
	[0x5E] = SSE(SAN, SAN, SAN, SAN, 0),      /* DIVPS/PD/SS/SD */
	[0x5F] = SSE(SAN, SAN, SAN, SAN, 0),      /* MAXPS/PD/SS/SD */
	[0x60] = SSE(SAN, SAN, S__, S__, 0),      /* PUNPCKLBW P/V */
	[0x61] = SSE(SAN, SAN, S__, S__, 0),      /* PUNPCKLWD */
	[0x62] = SSE(SAN, SAN, S__, S__, 0),      /* PUNPCKLDQ */
	[0x63] = SSE(SAN, SAN, S__, S__, 0),      /* PACKSSWB */
	[0x64] = SSE(SAN, SAN, S__, S__, 0),      /* PCMPGTB */
	[0x65] = SSE(SAN, SAN, S__, S__, 0),      /* PCMPGTW */
	[0x66] = SSE(SAN, SAN, S__, S__, 0),      /* PCMPGTD */
	[0x67] = SSE(SAN, SAN, S__, S__, 0),      /* PACKUSWB */
	[0x68] = SSE(SAN, SAN, S__, S__, 0),      /* PUNPCKHBW */
	[0x69] = SSE(SAN, SAN, S__, S__, 0),      /* PUNPCKHWD */
	[0x6A] = SSE(SAN, SAN, S__, S__, 0),      /* PUNPCKHDQ */
	[0x6B] = SSE(SAN, SAN, S__, S__, 0),      /* PACKSSDW */
	[0x6C] = SSE(S__, SAN, S__, S__, 0),      /* 66: PUNPCKLQDQ */
	[0x6D] = SSE(S__, SAN, S__, S__, 0),      /* 66: PUNPCKHQDQ */
	[0x6E] = SSE(SAN, SAN, S__, S__, 0),      /* MOVD/MOVQ P/V, Ey */
	[0x6F] = SSE(SAN, SAN, SAN, S__, 0),      /* MOVQ, MOVDQA, MOVDQU */
	[0x70] = SSE(SAN, SAN, SAN, SAN, IM_UB),  /* PSHUFW, PSHUFD, PSHUFHW, PSHUFLW ib */
	[0x71] = GRP(grp12_13, IM_UB),            /* Grp12 */
	[0x72] = GRP(grp12_13, IM_UB),            /* Grp13 */
	[0x73] = GRP(grp14, IM_UB),               /* Grp14 */
	[0x74] = SSE(SAN, SAN, S__, S__, 0),      /* PCMPEQB */
	[0x75] = SSE(SAN, SAN, S__, S__, 0),      /* PCMPEQW */
	[0x76] = SSE(SAN, SAN, S__, S__, 0),      /* PCMPEQD */
	[0x77] = { .op = OP_SSE, .sse = SSEV(SAN, S__, S__, S__) }, /* EMMS (no ModRM) */
	[0x78] = PFX(op_78, A_MODRM),             /* VMREAD Ey, Gy */
	[0x79] = PFX(op_79, A_MODRM),             /* VMWRITE Gy, Ey */
	[0x7C] = SSE(S__, SAN, S__, SAN, 0),      /* HADDPD, HADDPS */
	[0x7D] = SSE(S__, SAN, S__, SAN, 0),      /* HSUBPD, HSUBPS */
	[0x7E] = SSE(SAN, SAN, SAN, S__, 0),      /* MOVD/Q Ey, P/V; F3 MOVQ V, W */
	[0x7F] = SSE(SAN, SAN, SAN, S__, 0),      /* MOVQ, MOVDQA, MOVDQU (stores) */
	[0x80] = I(JCC, I, Jz | A_CC),            /* JO Jz (f64) */
	[0x81] = I(JCC, I, Jz | A_CC),            /* JNO Jz */
	[0x82] = I(JCC, I, Jz | A_CC),            /* JB Jz */
	[0x83] = I(JCC, I, Jz | A_CC),            /* JNB Jz */
	[0x84] = I(JCC, I, Jz | A_CC),            /* JZ Jz */
	[0x85] = I(JCC, I, Jz | A_CC),            /* JNZ Jz */
	[0x86] = I(JCC, I, Jz | A_CC),            /* JBE Jz */
	[0x87] = I(JCC, I, Jz | A_CC),            /* JNBE Jz */
	[0x88] = I(JCC, I, Jz | A_CC),            /* JS Jz */
	[0x89] = I(JCC, I, Jz | A_CC),            /* JNS Jz */
	[0x8A] = I(JCC, I, Jz | A_CC),            /* JP Jz */
	[0x8B] = I(JCC, I, Jz | A_CC),            /* JNP Jz */
	[0x8C] = I(JCC, I, Jz | A_CC),            /* JL Jz */
	[0x8D] = I(JCC, I, Jz | A_CC),            /* JNL Jz */
	[0x8E] = I(JCC, I, Jz | A_CC),            /* JLE Jz */
	[0x8F] = I(JCC, I, Jz | A_CC),            /* JNLE Jz */
	[0x90] = I(SETCC, E, Eb | A_CC),          /* SETO Eb */
	[0x91] = I(SETCC, E, Eb | A_CC),          /* SETNO Eb */
	[0x92] = I(SETCC, E, Eb | A_CC),          /* SETB Eb */
	[0x93] = I(SETCC, E, Eb | A_CC),          /* SETNB Eb */
	[0x94] = I(SETCC, E, Eb | A_CC),          /* SETZ Eb */
	[0x95] = I(SETCC, E, Eb | A_CC),          /* SETNZ Eb */
	[0x96] = I(SETCC, E, Eb | A_CC),          /* SETBE Eb */
	[0x97] = I(SETCC, E, Eb | A_CC),          /* SETNBE Eb */
	[0x98] = I(SETCC, E, Eb | A_CC),          /* SETS Eb */
	[0x99] = I(SETCC, E, Eb | A_CC),          /* SETNS Eb */
	[0x9A] = I(SETCC, E, Eb | A_CC),          /* SETP Eb */
	[0x9B] = I(SETCC, E, Eb | A_CC),          /* SETNP Eb */
	[0x9C] = I(SETCC, E, Eb | A_CC),          /* SETL Eb */
	[0x9D] = I(SETCC, E, Eb | A_CC),          /* SETNL Eb */
	[0x9E] = I(SETCC, E, Eb | A_CC),          /* SETLE Eb */
	[0x9F] = I(SETCC, E, Eb | A_CC),          /* SETNLE Eb */
	[0xA0] = IX(PUSH_SEG, NONE, SZ_D64, FX_SREG_OPC), /* PUSH FS (d64) */
	[0xA1] = IX(POP_SEG, NONE, SZ_D64, FX_SREG_OPC),  /* POP FS (d64) */
	[0xA2] = I(CPUID, NONE, 0),               /* CPUID */
	[0xA3] = I(BT, EG, Ev_Gv),                /* BT Ev, Gv */
	[0xA4] = I(SHLD, EG, Ev_Gv_Ib),           /* SHLD Ev, Gv, Ib */
	[0xA5] = I(SHLD, EG, Ev_Gv_CL),           /* SHLD Ev, Gv, CL */
	[0xA6] = UD_(A_MODRM),                    /* VIA PadLock (XSHA, MONTMUL) */
	[0xA7] = UD_(A_MODRM),                    /* VIA PadLock (XSTORE, XCRYPT) */
	[0xA8] = IX(PUSH_SEG, NONE, SZ_D64, FX_SREG_OPC), /* PUSH GS (d64) */
	[0xA9] = IX(POP_SEG, NONE, SZ_D64, FX_SREG_OPC),  /* POP GS (d64) */
	[0xAA] = I(RSM, NONE, 0),                 /* RSM */
	[0xAB] = I(BTS, EG, Ev_Gv | A_LK),        /* BTS Ev, Gv */
	[0xAC] = I(SHRD, EG, Ev_Gv_Ib),           /* SHRD Ev, Gv, Ib */
	[0xAD] = I(SHRD, EG, Ev_Gv_CL),           /* SHRD Ev, Gv, CL */
	[0xAE] = MODSPLIT(grp15, 0),              /* Grp15 */
	[0xAF] = I(IMUL2, GE, Gv_Ev),             /* IMUL Gv, Ev */
	[0xB0] = I(CMPXCHG, EG, Eb_Gb | A_LK),    /* CMPXCHG Eb, Gb */
	[0xB1] = I(CMPXCHG, EG, Ev_Gv | A_LK),    /* CMPXCHG Ev, Gv */
	[0xB2] = I(LSS, GE, Gv_Mp),               /* LSS Gv, Mp */
	[0xB3] = I(BTR, EG, Ev_Gv | A_LK),        /* BTR Ev, Gv */
	[0xB4] = I(LFS, GE, Gv_Mp),               /* LFS Gv, Mp */
	[0xB5] = I(LGS, GE, Gv_Mp),               /* LGS Gv, Mp */
	[0xB6] = IX(MOVZX, GE, Gv_Eb, FX_SRC8),   /* MOVZX Gv, Eb */
	[0xB7] = IX(MOVZX, GE, Gv_Ew, FX_SRC16),  /* MOVZX Gv, Ew */
	[0xB8] = PFX(op_b8, Gv_Ev),               /* F3: POPCNT Gv, Ev */
	[0xB9] = UD_(A_MODRM),                    /* UD1 Gv, Ev */
	[0xBA] = GRP(grp8, Ev_Ub),                /* Grp8 Ev, Ib */
	[0xBB] = I(BTC, EG, Ev_Gv | A_LK),        /* BTC Ev, Gv */
	[0xBC] = PFX(op_bc, Gv_Ev),               /* BSF Gv, Ev; F3: TZCNT Gv, Ev */
	[0xBD] = PFX(op_bd, Gv_Ev),               /* BSR Gv, Ev; F3: LZCNT Gv, Ev */
	[0xBE] = IX(MOVSX, GE, Gv_Eb, FX_SRC8),   /* MOVSX Gv, Eb */
	[0xBF] = IX(MOVSX, GE, Gv_Ew, FX_SRC16),  /* MOVSX Gv, Ew */
	[0xC0] = I(XADD, EG, Eb_Gb | A_LK),       /* XADD Eb, Gb */
	[0xC1] = I(XADD, EG, Ev_Gv | A_LK),       /* XADD Ev, Gv */
	[0xC2] = SSE(SAN, SAN, SAN, SAN, IM_UB),  /* CMPPS/PD/SS/SD V, W, Ib */
	[0xC3] = SSE(SMM, S__, S__, S__, 0),      /* MOVNTI My, Gy */
	[0xC4] = SSE(SAN, SAN, S__, S__, IM_UB),  /* PINSRW P/V, Ry/Mw, Ib */
	[0xC5] = SSE(SRR, SRR, S__, S__, IM_UB),  /* PEXTRW Gd, N/U, Ib */
	[0xC6] = SSE(SAN, SAN, S__, S__, IM_UB),  /* SHUFPS/PD V, W, Ib */
	[0xC7] = MODSPLIT(grp9, 0),               /* Grp9 */
	[0xC8] = I(BSWAP, G, Zv),                 /* BSWAP rAX/r8 */
	[0xC9] = I(BSWAP, G, Zv),                 /* BSWAP rCX/r9 */
	[0xCA] = I(BSWAP, G, Zv),                 /* BSWAP rDX/r10 */
	[0xCB] = I(BSWAP, G, Zv),                 /* BSWAP rBX/r11 */
	[0xCC] = I(BSWAP, G, Zv),                 /* BSWAP rSP/r12 */
	[0xCD] = I(BSWAP, G, Zv),                 /* BSWAP rBP/r13 */
	[0xCE] = I(BSWAP, G, Zv),                 /* BSWAP rSI/r14 */
	[0xCF] = I(BSWAP, G, Zv),                 /* BSWAP rDI/r15 */
	[0xD0] = SSE(S__, SAN, S__, SAN, 0),      /* ADDSUBPD, ADDSUBPS */
	[0xD1] = SSE(SAN, SAN, S__, S__, 0),      /* PSRLW */
	[0xD2] = SSE(SAN, SAN, S__, S__, 0),      /* PSRLD */
	[0xD3] = SSE(SAN, SAN, S__, S__, 0),      /* PSRLQ */
	[0xD4] = SSE(SAN, SAN, S__, S__, 0),      /* PADDQ */
	[0xD5] = SSE(SAN, SAN, S__, S__, 0),      /* PMULLW */
	[0xD6] = SSE(S__, SAN, SRR, SRR, 0),      /* 66 MOVQ, F3 MOVQ2DQ, F2 MOVDQ2Q */
	[0xD7] = SSE(SRR, SRR, S__, S__, 0),      /* PMOVMSKB Gd, N/U */
	[0xD8] = SSE(SAN, SAN, S__, S__, 0),      /* PSUBUSB */
	[0xD9] = SSE(SAN, SAN, S__, S__, 0),      /* PSUBUSW */
	[0xDA] = SSE(SAN, SAN, S__, S__, 0),      /* PMINUB */
	[0xDB] = SSE(SAN, SAN, S__, S__, 0),      /* PAND */
	[0xDC] = SSE(SAN, SAN, S__, S__, 0),      /* PADDUSB */
	[0xDD] = SSE(SAN, SAN, S__, S__, 0),      /* PADDUSW */
	[0xDE] = SSE(SAN, SAN, S__, S__, 0),      /* PMAXUB */
	[0xDF] = SSE(SAN, SAN, S__, S__, 0),      /* PANDN */
	[0xE0] = SSE(SAN, SAN, S__, S__, 0),      /* PAVGB */
	[0xE1] = SSE(SAN, SAN, S__, S__, 0),      /* PSRAW */
	[0xE2] = SSE(SAN, SAN, S__, S__, 0),      /* PSRAD */
	[0xE3] = SSE(SAN, SAN, S__, S__, 0),      /* PAVGW */
	[0xE4] = SSE(SAN, SAN, S__, S__, 0),      /* PMULHUW */
	[0xE5] = SSE(SAN, SAN, S__, S__, 0),      /* PMULHW */
	[0xE6] = SSE(S__, SAN, SAN, SAN, 0),      /* CVTTPD2DQ, CVTDQ2PD, CVTPD2DQ */
	[0xE7] = SSE(SMM, SMM, S__, S__, 0),      /* MOVNTQ, MOVNTDQ M, V */
	[0xE8] = SSE(SAN, SAN, S__, S__, 0),      /* PSUBSB */
	[0xE9] = SSE(SAN, SAN, S__, S__, 0),      /* PSUBSW */
	[0xEA] = SSE(SAN, SAN, S__, S__, 0),      /* PMINSW */
	[0xEB] = SSE(SAN, SAN, S__, S__, 0),      /* POR */
	[0xEC] = SSE(SAN, SAN, S__, S__, 0),      /* PADDSB */
	[0xED] = SSE(SAN, SAN, S__, S__, 0),      /* PADDSW */
	[0xEE] = SSE(SAN, SAN, S__, S__, 0),      /* PMAXSW */
	[0xEF] = SSE(SAN, SAN, S__, S__, 0),      /* PXOR */
	[0xF0] = SSE(S__, S__, S__, SMM, 0),      /* F2: LDDQU V, M */
	[0xF1] = SSE(SAN, SAN, S__, S__, 0),      /* PSLLW */
	[0xF2] = SSE(SAN, SAN, S__, S__, 0),      /* PSLLD */
	[0xF3] = SSE(SAN, SAN, S__, S__, 0),      /* PSLLQ */
	[0xF4] = SSE(SAN, SAN, S__, S__, 0),      /* PMULUDQ */
	[0xF5] = SSE(SAN, SAN, S__, S__, 0),      /* PMADDWD */
	[0xF6] = SSE(SAN, SAN, S__, S__, 0),      /* PSADBW */
	[0xF7] = SSE(SRR, SRR, S__, S__, 0),      /* MASKMOVQ, MASKMOVDQU */
	[0xF8] = SSE(SAN, SAN, S__, S__, 0),      /* PSUBB */
	[0xF9] = SSE(SAN, SAN, S__, S__, 0),      /* PSUBW */
	[0xFA] = SSE(SAN, SAN, S__, S__, 0),      /* PSUBD */
	[0xFB] = SSE(SAN, SAN, S__, S__, 0),      /* PSUBQ */
	[0xFC] = SSE(SAN, SAN, S__, S__, 0),      /* PADDB */
	[0xFD] = SSE(SAN, SAN, S__, S__, 0),      /* PADDW */
	[0xFE] = SSE(SAN, SAN, S__, S__, 0),      /* PADDD */
	[0xFF] = UD_(A_MODRM),                    /* UD0 Gv, Ev */
};
