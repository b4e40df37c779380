/*
 * Decoder unit tests: hand-written encodings with the fields the SDM says they decode to.
 *
 * Each case is "mode, bytes, expectation"; the expectation lists only the fields it
 * checks, as key=value words:
 *   len=N | err=MORE | err=LONG      return value (length or DECODE_NEED_MORE/TOO_LONG)
 *   avail=N                          pass only N of the bytes
 *   op= form= osz= asz= reg= rm= base= index= scale= seg= cc= disp= imm= imm2= vvvv=
 *   map= opc=                        fields of struct insn (base/index: number, - or rip;
 *                                    seg: ES CS SS DS FS GS; op: ops.def name)
 *   mem lock rep repne rex rexw opsize addrsize segovr cl dx vex far moffs
 *                                    flag set; with a leading '!' flag clear
 * References: SDM Vol.2 chapter 2 (2.1.1 prefixes, 2.1.5 and Tables 2-1/2-2/2-3
 * addressing forms, 2.2.1 REX and Table 2-4/2-5, 2.3 VEX, 2.3.11 length limit) and
 * Appendix A (opcode maps A-2..A-6, superscripts i64/o64/d64/f64), plus the named
 * instruction pages.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/insn.h"

enum { M16 = DMODE_16, M32 = DMODE_32, M64 = DMODE_64 };

struct tcase {
	int mode;
	const char *bytes;
	const char *expect;
};

static const struct tcase cases[] = {
	/* ---- prefixes: 2.1.1, 2.2.1 ---- */
	{ M32, "01 c8", "len=2 op=ADD form=EG osz=2 asz=2 reg=1 rm=0 !mem" },
	{ M32, "66 01 c8", "len=3 osz=1 opsize" },                 /* 66: 16-bit operands */
	{ M16, "01 c8", "len=2 osz=1 asz=1" },                     /* 16-bit default */
	{ M16, "66 01 c8", "len=3 osz=2" },
	{ M64, "01 c8", "len=2 osz=2 asz=3 !rex" },                /* 64-bit: default 32 */
	{ M64, "48 01 c8", "len=3 osz=3 rex rexw" },               /* REX.W */
	{ M64, "66 48 01 c8", "len=4 osz=3" },                     /* REX.W wins over 66 */
	{ M64, "48 66 01 c8", "len=4 osz=1 !rex !rexw" },          /* REX then 66: REX ignored */
	{ M64, "48 41 01 c8", "len=4 osz=2 rm=8 reg=1 rex !rexw" },/* only the last REX counts */
	{ M64, "45 01 c8", "len=3 reg=9 rm=8" },                   /* REX.R, REX.B */
	{ M64, "40 88 e0", "len=3 op=MOV osz=0 reg=4 rm=0 rex" },  /* REX: reg 4 = SPL */
	{ M64, "88 e0", "len=2 osz=0 reg=4 !rex" },                /* no REX: reg 4 = AH */
	{ M32, "2e 3e 64 8b 00", "len=5 seg=FS segovr mem" },      /* last override wins */
	{ M32, "64 2e 8b 00", "len=4 seg=CS" },
	{ M32, "26 8b 45 00", "len=4 seg=ES base=5" },             /* override beats SS default */
	{ M64, "2e 8b 45 00", "len=4 seg=SS !segovr" },            /* CS/DS/ES/SS ignored in 64 */
	{ M64, "2e 64 8b 00", "len=4 seg=FS segovr" },
	{ M64, "64 2e 8b 00", "len=4 seg=FS" },
	{ M64, "65 a4", "len=2 op=MOVS seg=GS" },
	{ M32, "f0 f2 f3 66 67 2e 26 36 3e 64 65 01 00", "len=13 op=ADD lock rep !repne opsize addrsize asz=1 seg=GS" },
	/* mandatory prefixes: the last of F2/F3 selects, 66 only without them */
	{ M64, "f3 0f b8 c1", "len=4 op=POPCNT form=GE reg=0 rm=1 osz=2" },
	{ M64, "f2 f3 0f b8 c1", "len=5 op=POPCNT" },
	{ M64, "f3 f2 0f b8 c1", "len=5 op=UD" },
	{ M64, "66 f3 0f b8 c1", "len=5 op=POPCNT osz=1" },        /* 66 stays operand size */
	{ M64, "0f b8 c1", "len=3 op=UD" },                        /* JMPE: IA-64 only */
	{ M64, "0f bc c1", "len=3 op=BSF" },
	{ M64, "f3 0f bc c1", "len=4 op=TZCNT" },
	{ M64, "f3 48 0f bd c1", "len=5 op=LZCNT osz=3" },
	{ M64, "f3 90", "len=2 op=PAUSE" },                        /* PAUSE */
	{ M64, "f2 f3 90", "len=3 op=PAUSE" },
	{ M64, "f3 f2 90", "len=3 op=NOP repne" },
	{ M64, "90", "len=1 op=NOP" },
	{ M64, "48 90", "len=2 op=NOP" },
	{ M64, "41 90", "len=2 op=XCHG form=EG reg=8 rm=0 !mem osz=2" },
	{ M64, "66 0f 58 c1", "len=4 op=SSE map=1 opc=0x58" },     /* ADDPD */
	{ M64, "f3 66 0f 58 c1", "len=5 op=SSE" },                 /* ADDSS */
	{ M64, "f2 0f 54 c1", "len=4 op=UD" },                     /* ANDPS has no F2 form */

	/* ---- 15-byte limit (2.3.11) and running out of bytes ---- */
	{ M32, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", "len=15 op=NOP" },
	{ M32, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 90", "err=LONG" },
	{ M32, "66 66 66 66 66 66 66 66 66 66 66 66 66 05 00 00", "err=LONG" }, /* imm16 to 16 */
	{ M32, "66 66 66 66 66 66 66 66 66 66 66 66 05 00 00", "len=15 osz=1 imm=0" },
	{ M32, "67 67 67 67 67 67 67 67 67 67 67 05 00 00 00 00", "err=LONG" },
	{ M32, "67 67 67 67 67 67 67 67 67 67 67 05 00 00 00 00", "avail=13 err=LONG" },
	{ M32, "67 67 67 67 67 67 67 67 67 67 05 00 00 00 00", "len=15 op=ADD" },
	{ M32, "05 78 56 34 12", "avail=4 err=MORE" },
	{ M32, "05 78 56 34 12", "len=5 imm=0x12345678" },
	{ M32, "", "avail=0 err=MORE" },
	{ M32, "66", "avail=1 err=MORE" },
	{ M64, "0f", "avail=1 err=MORE" },
	{ M64, "0f 38", "avail=2 err=MORE" },
	{ M32, "c4", "avail=1 err=MORE" },                         /* VEX or LES: needs ModRM */
	{ M32, "8b 04", "avail=2 err=MORE" },                      /* SIB missing */
	{ M32, "8b 44 24", "avail=3 err=MORE" },                   /* disp8 missing */
	{ M64, "48 b8 00 00 00 00 00 00 00", "avail=9 err=MORE" },
	{ M64, "c4 e2 78 f2", "avail=4 err=MORE" },

	/* ---- 16-bit addressing, Table 2-1 ---- */
	{ M16, "8b 00", "len=2 mem base=3 index=6 scale=0 seg=DS disp=0" },     /* [BX+SI] */
	{ M16, "8b 01", "len=2 base=3 index=7 seg=DS" },                        /* [BX+DI] */
	{ M16, "8b 02", "len=2 base=5 index=6 seg=SS" },                        /* [BP+SI] */
	{ M16, "8b 03", "len=2 base=5 index=7 seg=SS" },                        /* [BP+DI] */
	{ M16, "8b 04", "len=2 base=6 index=- seg=DS" },                        /* [SI] */
	{ M16, "8b 05", "len=2 base=7 index=- seg=DS" },                        /* [DI] */
	{ M16, "8b 06 34 12", "len=4 base=- index=- seg=DS disp=0x1234" },      /* disp16 */
	{ M16, "8b 07", "len=2 base=3 index=- seg=DS" },                        /* [BX] */
	{ M16, "8b 46 fe", "len=3 base=5 index=- seg=SS disp=-2" },             /* [BP+disp8] */
	{ M16, "8b 87 34 12", "len=4 base=3 disp=0x1234" },                     /* [BX+disp16] */
	{ M16, "3e 8b 46 00", "len=4 base=5 seg=DS segovr" },
	{ M16, "67 8b 04 24", "len=4 asz=2 base=4 seg=SS" },                    /* 67: 32-bit */
	{ M32, "67 8b 00", "len=3 asz=1 base=3 index=6" },                      /* 67: 16-bit */

	/* ---- 32-bit addressing, Tables 2-2/2-3 ---- */
	{ M32, "8b 00", "len=2 base=0 index=- seg=DS" },
	{ M32, "8b 04 24", "len=3 base=4 index=- seg=SS" },                     /* [ESP] */
	{ M32, "8b 45 08", "len=3 base=5 seg=SS disp=8" },                      /* [EBP+8] */
	{ M32, "8b 05 78 56 34 12", "len=6 base=- index=- seg=DS disp=0x12345678" },
	{ M32, "8b 04 8d 78 56 34 12", "len=7 base=- index=1 scale=2 disp=0x12345678 seg=DS" },
	{ M32, "8b 04 20", "len=3 base=0 index=-" },                            /* index 100: none */
	{ M32, "8b 44 88 10", "len=4 base=0 index=1 scale=2 disp=16" },
	{ M32, "8b 84 c5 00 01 00 00", "len=7 base=5 index=0 scale=3 disp=256 seg=SS" },
	{ M32, "8b 80 00 00 00 80", "len=6 base=0 disp=-2147483648" },

	/* ---- 64-bit addressing: 2.2.1.3, 2.2.1.6 RIP-relative, Table 2-5 ---- */
	{ M64, "8b 05 10 00 00 00", "len=6 base=rip index=- disp=16 seg=DS asz=3" },
	{ M64, "67 8b 05 10 00 00 00", "len=7 base=rip asz=2" },                /* EIP-relative */
	{ M64, "8b 04 25 10 00 00 00", "len=7 base=- index=- disp=16" },        /* SIB: absolute */
	{ M64, "41 8b 04 24", "len=4 base=12 index=- seg=DS" },                 /* R12 needs SIB */
	{ M64, "41 8b 45 00", "len=4 base=13 seg=DS disp=0" },                  /* R13 needs disp8 */
	{ M64, "41 8b 04 25 10 00 00 00", "len=8 base=- index=- disp=16" },     /* REX.B ignored */
	{ M64, "42 8b 04 25 10 00 00 00", "len=8 base=- index=12 scale=0" },    /* REX.X: R12 index */
	{ M64, "4b 8b 44 d5 f8", "len=5 osz=3 base=13 index=10 scale=3 disp=-8" },
	{ M64, "48 8b 04 24", "len=4 base=4 seg=SS" },
	{ M64, "64 48 8b 04 25 28 00 00 00", "len=9 seg=FS base=- disp=0x28" },

	/* ---- operand size, Appendix A.2.5 d64/f64 ---- */
	{ M64, "50", "len=1 op=PUSH form=G reg=0 osz=3" },
	{ M64, "66 50", "len=2 op=PUSH osz=1" },
	{ M64, "41 57", "len=2 op=PUSH reg=15 osz=3" },
	{ M64, "48 5d", "len=2 op=POP reg=5 osz=3" },
	{ M32, "50", "len=1 op=PUSH osz=2" },
	{ M64, "6a ff", "len=2 op=PUSH form=I osz=3 imm=-1" },
	{ M64, "66 68 34 12", "len=4 op=PUSH osz=1 imm=0x1234" },
	{ M64, "68 00 00 00 80", "len=5 op=PUSH osz=3 imm=0xffffffff80000000" },
	{ M64, "ff 30", "len=2 op=PUSH form=E mem osz=3" },
	{ M64, "8f c0", "len=2 op=POP form=E rm=0 osz=3" },
	{ M64, "e8 fb ff ff ff", "len=5 op=CALL form=I osz=3 imm=-5" },
	{ M64, "66 e8 00 00 00 00", "len=6 op=CALL osz=3" },       /* Intel: 66 ignored */
	{ M16, "e8 fd ff", "len=3 op=CALL osz=1 imm=-3" },
	{ M16, "66 e8 00 00 00 00", "len=6 op=CALL osz=2" },
	{ M64, "66 c3", "len=2 op=RET osz=3" },
	{ M64, "c2 08 00", "len=3 op=RET form=I imm=8" },
	{ M64, "ff d0", "len=2 op=CALL_IND form=E rm=0 osz=3" },
	{ M64, "66 ff e0", "len=3 op=JMP_IND osz=3" },
	{ M64, "ff 18", "len=2 op=CALL_FAR form=E mem far osz=2" },
	{ M64, "48 ff 28", "len=3 op=JMP_FAR mem far osz=3" },
	{ M64, "ff d8", "len=2 op=UD" },                           /* CALLF needs memory */
	{ M64, "ff f8", "len=2 op=UD" },                           /* FF /7 */
	{ M64, "9c", "len=1 op=PUSHF osz=3" },
	{ M64, "66 9d", "len=2 op=POPF osz=1" },
	{ M64, "c9", "len=1 op=LEAVE osz=3" },
	{ M64, "c8 10 00 02", "len=4 op=ENTER form=I imm=16 imm2=2 osz=3" },
	{ M64, "cf", "len=1 op=IRET osz=2" },
	{ M64, "48 cf", "len=2 op=IRET osz=3" },
	{ M64, "48 cb", "len=2 op=RET_FAR far osz=3" },
	{ M64, "ca 04 00", "len=3 op=RET_FAR form=I far imm=4 osz=2" },
	{ M64, "74 fe", "len=2 op=JCC form=I cc=4 imm=-2 osz=3" },
	{ M64, "0f 8f 00 01 00 00", "len=6 op=JCC cc=15 imm=256" },
	{ M32, "66 0f 84 10 00", "len=5 op=JCC cc=4 osz=1 imm=16" },
	{ M64, "e3 00", "len=2 op=JCXZ asz=3" },
	{ M64, "67 e2 00", "len=3 op=LOOP asz=2" },
	{ M64, "0f 20 d8", "len=3 op=MOV_FROM_CR form=EG reg=3 rm=0 osz=3 !mem" },
	{ M64, "44 0f 22 c0", "len=4 op=MOV_TO_CR form=GE reg=8 rm=0 osz=3" },  /* CR8 */
	{ M64, "41 0f 22 e0", "len=4 op=MOV_TO_CR reg=4 rm=8" },
	{ M64, "0f 20 00", "len=3 op=MOV_FROM_CR rm=0 reg=0 !mem" },            /* mod ignored */
	{ M64, "0f 22 05", "len=3 op=MOV_TO_CR reg=0 rm=5 !mem" },              /* no disp32 */
	{ M64, "0f 20 c8", "len=3 op=UD" },                                     /* CR1 */
	{ M64, "0f 22 e8", "len=3 op=UD" },                                     /* CR5 */
	{ M64, "44 0f 20 c8", "len=4 op=UD" },                                  /* CR9 */
	{ M32, "0f 20 d8", "len=3 op=MOV_FROM_CR osz=2" },
	{ M32, "66 0f 22 d8", "len=4 op=MOV_TO_CR osz=2" },
	{ M16, "0f 22 c0", "len=3 op=MOV_TO_CR osz=2" },
	{ M64, "0f 21 f8", "len=3 op=MOV_FROM_DR reg=7 rm=0 osz=3" },
	{ M64, "0f 23 c1", "len=3 op=MOV_TO_DR reg=0 rm=1" },
	{ M64, "44 0f 21 c0", "len=4 op=UD" },                                  /* DR8 */
	{ M64, "f0 0f 20 c0", "len=4 op=UD" },                                  /* no LOCK CR8 alias */
	{ M64, "0f 01 10", "len=3 op=LGDT form=E mem osz=3" },
	{ M32, "0f 01 18", "len=3 op=LIDT osz=2" },
	{ M64, "0f 00 c0", "len=3 op=SLDT form=E rm=0 osz=2" },
	{ M64, "0f 00 00", "len=3 op=SLDT mem osz=1" },                         /* m16 */
	{ M64, "48 0f 01 e0", "len=4 op=SMSW rm=0 osz=3" },
	{ M64, "0f 01 30", "len=3 op=LMSW mem osz=1" },
	{ M64, "0f 00 d8", "len=3 op=LTR rm=0 osz=1" },

	/* ---- segment registers, MOV Sreg (SDM MOV) ---- */
	{ M32, "8c d8", "len=2 op=MOV_FROM_SEG form=EG reg=3 rm=0 osz=2" },
	{ M32, "8c 18", "len=2 op=MOV_FROM_SEG mem osz=1 reg=3" },              /* m16 */
	{ M64, "48 8c c0", "len=3 op=MOV_FROM_SEG reg=0 osz=3" },
	{ M32, "8e d0", "len=2 op=MOV_TO_SEG form=GE reg=2 rm=0 osz=1" },       /* MOV SS */
	{ M32, "8e c8", "len=2 op=UD" },                                        /* MOV CS */
	{ M32, "8c f0", "len=2 op=UD" },                                        /* Sreg 6 */
	{ M64, "44 8e d8", "len=3 op=MOV_TO_SEG reg=3" },                       /* REX.R ignored */
	{ M32, "1e", "len=1 op=PUSH_SEG reg=3 osz=2" },
	{ M32, "17", "len=1 op=POP_SEG reg=2" },
	{ M32, "0e", "len=1 op=PUSH_SEG reg=1" },
	{ M64, "0f a0", "len=2 op=PUSH_SEG reg=4 osz=3" },
	{ M64, "66 0f a9", "len=3 op=POP_SEG reg=5 osz=1" },
	{ M64, "1e", "len=1 op=UD" },                                           /* i64 */
	{ M16, "c4 06 00 10", "len=4 op=LES form=GE reg=0 mem base=- disp=0x1000" },
	{ M32, "c5 18", "len=2 op=LDS reg=3 mem base=0" },
	{ M64, "0f b2 08", "len=3 op=LSS reg=1 mem" },
	{ M64, "48 0f b4 00", "len=4 op=LFS osz=3" },
	{ M64, "0f b5 c0", "len=3 op=UD" },                                     /* LGS needs m16:xx */

	/* ---- immediates, moffs, far pointers ---- */
	{ M64, "48 b8 88 77 66 55 44 33 22 11", "len=10 op=MOV form=GI reg=0 osz=3 imm=0x1122334455667788" },
	{ M64, "49 bf 01 00 00 00 00 00 00 00", "len=10 reg=15 imm=1" },
	{ M64, "b8 ff ff ff ff", "len=5 osz=2 imm=0xffffffff" },
	{ M64, "66 b8 34 12", "len=4 osz=1 imm=0x1234" },
	{ M64, "41 b4 7f", "len=3 op=MOV form=GI reg=12 osz=0 imm=0x7f rex" },
	{ M64, "48 c7 c0 ff ff ff ff", "len=7 op=MOV form=EI rm=0 osz=3 imm=-1" },
	{ M64, "48 05 00 00 00 80", "len=6 op=ADD form=EI rm=0 !mem osz=3 imm=0xffffffff80000000" },
	{ M64, "04 7f", "len=2 op=ADD form=EI osz=0 rm=0 !mem imm=0x7f" },
	{ M64, "83 c0 ff", "len=3 op=ADD form=EI rm=0 osz=2 imm=-1 cc=0" },
	{ M64, "80 f9 05", "len=3 op=CMP form=EI rm=1 osz=0 imm=5 cc=7" },
	{ M64, "6b c0 fe", "len=3 op=IMUL3 form=GEI reg=0 rm=0 imm=-2" },
	{ M64, "69 c0 00 01 00 00", "len=6 op=IMUL3 imm=256" },
	{ M64, "cd 80", "len=2 op=INT form=I imm=0x80" },                       /* unsigned */
	{ M64, "a1 08 07 06 05 04 03 02 01", "len=9 op=MOV form=GE reg=0 mem moffs base=- index=- imm=0x0102030405060708 seg=DS osz=2" },
	{ M64, "67 a1 04 03 02 01", "len=6 moffs imm=0x01020304 asz=2" },
	{ M64, "64 48 a3 00 00 00 00 00 00 00 00", "len=11 op=MOV form=EG moffs seg=FS osz=3" },
	{ M32, "a2 78 56 34 12", "len=5 op=MOV form=EG osz=0 moffs imm=0x12345678" },
	{ M16, "a0 34 12", "len=3 op=MOV osz=0 moffs imm=0x1234 asz=1" },
	{ M32, "ea 78 56 34 12 34 12", "len=7 op=JMP_FAR form=I far imm=0x12345678 imm2=0x1234" },
	{ M16, "9a 34 12 00 f0", "len=5 op=CALL_FAR form=I far imm=0x1234 imm2=0xf000 osz=1" },
	{ M64, "ea 00 00 00 00 00 00", "op=UD" },                               /* i64 */
	{ M32, "d4 0a", "len=2 op=AAM form=I imm=10" },
	{ M64, "d4 0a", "len=2 op=UD" },
	{ M32, "d6", "len=1 op=SALC" },

	/* ---- shifts, IN/OUT, strings, MOVZX/MOVSX ---- */
	{ M64, "d1 e0", "len=2 op=SHL form=EI rm=0 imm=1 !cl" },
	{ M64, "d3 f8", "len=2 op=SAR form=EI cl" },
	{ M64, "c1 e8 05", "len=3 op=SHR imm=5" },
	{ M64, "d0 f0", "len=2 op=SHL osz=0" },                                 /* /6 = SAL */
	{ M64, "0f a4 c1 04", "len=4 op=SHLD form=EG rm=1 reg=0 imm=4" },
	{ M64, "0f ad c1", "len=3 op=SHRD cl" },
	{ M64, "e4 60", "len=2 op=IN form=EI rm=0 imm=0x60 osz=0 !dx" },
	{ M64, "e7 80", "len=2 op=OUT form=EI imm=0x80 osz=2" },
	{ M64, "ed", "len=1 op=IN form=E dx osz=2" },
	{ M64, "48 ed", "len=2 op=IN osz=2" },                                  /* REX.W ignored */
	{ M64, "66 ef", "len=2 op=OUT dx osz=1" },
	{ M32, "a4", "len=1 op=MOVS osz=0 seg=DS" },
	{ M32, "26 a5", "len=2 op=MOVS osz=2 seg=ES segovr" },
	{ M64, "f3 48 a5", "len=3 op=MOVS osz=3 rep" },
	{ M64, "f2 ae", "len=2 op=SCAS osz=0 repne" },
	{ M32, "f3 6d", "len=2 op=INS osz=2 rep" },
	{ M16, "2e 6e", "len=2 op=OUTS osz=0 seg=CS" },
	{ M64, "0f b6 c1", "len=3 op=MOVZX form=GE osz=2 imm=0" },
	{ M64, "48 0f b7 c1", "len=4 op=MOVZX osz=3 imm=1" },
	{ M64, "66 0f be c1", "len=4 op=MOVSX osz=1 imm=0" },
	{ M64, "48 63 c1", "len=3 op=MOVSX form=GE osz=3 imm=2 reg=0 rm=1" },  /* MOVSXD */
	{ M32, "63 c1", "len=2 op=ARPL form=EG osz=1 rm=1 reg=0" },
	{ M64, "f2 0f 38 f0 c1", "len=5 op=CRC32 form=GE osz=2 imm=0" },
	{ M64, "f2 48 0f 38 f1 c1", "len=6 op=CRC32 osz=3 imm=3" },
	{ M64, "66 f2 0f 38 f1 c1", "len=6 op=CRC32 osz=2 imm=1" },
	{ M64, "0f 38 f0 00", "len=4 op=MOVBE form=GE mem osz=2" },
	{ M64, "66 0f 38 f1 00", "len=5 op=MOVBE form=EG osz=1" },
	{ M64, "0f 38 f0 c0", "len=4 op=UD" },                                  /* MOVBE needs m */
	{ M64, "0f 94 c0", "len=3 op=SETCC form=E cc=4 osz=0 rm=0" },
	{ M64, "48 0f 4c c1", "len=4 op=CMOVCC form=GE cc=12 osz=3" },
	{ M64, "8d 04 24", "len=3 op=LEA form=GE mem" },
	{ M64, "8d c0", "len=2 op=UD" },
	{ M64, "0f c8", "len=2 op=BSWAP form=G reg=0" },
	{ M64, "49 0f cf", "len=3 op=BSWAP reg=15 osz=3" },
	{ M64, "0f ba e0 1f", "len=4 op=BT form=EI imm=31" },
	{ M64, "0f ba c0 00", "len=4 op=UD" },                                  /* 0F BA /0 */
	{ M32, "40", "len=1 op=INC form=G reg=0 osz=2" },
	{ M16, "4f", "len=1 op=DEC form=G reg=7 osz=1" },
	{ M64, "fe c0", "len=2 op=INC form=E rm=0 osz=0" },
	{ M64, "fe d0", "len=2 op=UD" },                                        /* FE /2 */
	{ M64, "f6 c0 0f", "len=3 op=TEST form=EI imm=15" },
	{ M64, "f6 c8 0f", "len=3 op=TEST form=EI imm=15" },                    /* /1 alias */
	{ M64, "f7 e1", "len=2 op=MUL form=E rm=1" },
	{ M64, "f7 e9", "len=2 op=IMUL1" },
	{ M64, "0f af c1", "len=3 op=IMUL2 form=GE" },
	{ M64, "98", "len=1 op=CBW osz=2" },
	{ M64, "48 99", "len=2 op=CWD osz=3" },
	{ M64, "d7", "len=1 op=XLAT seg=DS" },
	{ M64, "9b", "len=1 op=FWAIT" },
	{ M64, "f1", "len=1 op=INT1" },
	{ M64, "c7 f8 00 00 00 00", "len=6 op=UD" },                            /* XBEGIN (RTM) */
	{ M64, "c6 f8 00", "len=3 op=UD" },                                     /* XABORT */

	/* ---- LOCK (SDM Vol.2 LOCK: listed ops with a memory destination) ---- */
	{ M64, "f0 01 00", "len=3 op=ADD lock mem" },
	{ M64, "f0 01 c0", "len=3 op=UD" },
	{ M64, "f0 8b 00", "len=3 op=UD" },                                     /* MOV */
	{ M64, "f0 39 00", "len=3 op=UD" },                                     /* CMP */
	{ M64, "f0 83 38 00", "len=4 op=UD" },                                  /* CMP /7 */
	{ M64, "f0 83 30 01", "len=4 op=XOR lock" },
	{ M64, "f0 86 00", "len=3 op=XCHG lock" },
	{ M64, "f0 87 c0", "len=3 op=UD" },
	{ M64, "f0 91", "len=2 op=UD" },
	{ M64, "f0 0f c7 08", "len=4 op=CMPXCHG8B lock osz=2" },
	{ M64, "f0 48 0f c7 08", "len=5 op=CMPXCHG8B lock osz=3" },             /* CMPXCHG16B */
	{ M64, "f0 0f b1 08", "len=4 op=CMPXCHG lock" },
	{ M64, "f0 0f c1 08", "len=4 op=XADD lock" },
	{ M64, "f0 0f a3 00", "len=4 op=UD" },                                  /* BT */
	{ M64, "f0 0f ab 00", "len=4 op=BTS lock" },
	{ M64, "f0 0f ba 30 05", "len=5 op=BTR lock" },
	{ M64, "f0 0f ba 20 05", "len=5 op=UD" },                               /* BT imm */
	{ M64, "f0 f6 10", "len=3 op=NOT lock" },
	{ M64, "f0 f7 18", "len=3 op=NEG lock" },
	{ M64, "f0 f6 00 05", "len=4 op=UD" },                                  /* TEST */
	{ M64, "f0 f7 20", "len=3 op=UD" },                                     /* MUL */
	{ M64, "f0 fe 08", "len=3 op=DEC lock" },
	{ M64, "f0 ff 00", "len=3 op=INC lock" },
	{ M64, "f0 ff 30", "len=3 op=UD" },                                     /* PUSH */
	{ M64, "f0 90", "len=2 op=UD" },
	{ M64, "f0 0f 58 00", "len=4 op=UD" },                                  /* SSE */
	{ M64, "f0 d9 00", "len=3 op=UD" },                                     /* x87 */

	/* ---- invalid/valid by mode (Appendix A i64/o64) ---- */
	{ M64, "06", "len=1 op=UD" },
	{ M64, "27", "len=1 op=UD" },
	{ M64, "60", "len=1 op=UD" },
	{ M64, "82 c0 01", "len=3 op=UD" },
	{ M64, "ce", "len=1 op=UD" },
	{ M32, "82 c0 01", "len=3 op=ADD" },
	{ M32, "0f 05", "len=2 op=UD" },                                        /* SYSCALL */
	{ M64, "0f 05", "len=2 op=SYSCALL" },
	{ M64, "48 0f 07", "len=3 op=SYSRET osz=3" },
	{ M32, "0f 01 f8", "len=3 op=UD" },                                     /* SWAPGS */
	{ M64, "0f 01 f8", "len=3 op=SWAPGS" },
	{ M32, "f3 0f ae c0", "len=4 op=UD" },                                  /* RDFSBASE */
	{ M64, "f3 0f ae c0", "len=4 op=RDFSBASE form=E rm=0 osz=2" },
	{ M64, "f3 49 0f ae d7", "len=5 op=WRFSBASE rm=15 osz=3" },
	{ M32, "62 00", "len=2 op=BOUND form=GE mem" },

	/* ---- groups 7, 9, 15 and the VMX instructions ---- */
	{ M64, "0f 01 c1", "len=3 op=VMCALL" },
	{ M64, "0f 01 c2", "len=3 op=VMLAUNCH" },
	{ M64, "0f 01 c3", "len=3 op=VMRESUME" },
	{ M64, "0f 01 c4", "len=3 op=VMXOFF" },
	{ M64, "66 0f 01 c1", "len=4 op=UD" },
	{ M64, "0f 01 c8", "len=3 op=MONITOR seg=DS" },
	{ M64, "0f 01 c9", "len=3 op=MWAIT" },
	{ M64, "0f 01 ca", "len=3 op=CLAC" },
	{ M64, "0f 01 cb", "len=3 op=STAC" },
	{ M64, "0f 01 d0", "len=3 op=XGETBV" },
	{ M64, "0f 01 d1", "len=3 op=XSETBV" },
	{ M64, "0f 01 d4", "len=3 op=VMFUNC" },
	{ M64, "0f 01 f9", "len=3 op=RDTSCP" },
	{ M64, "0f 01 d8", "len=3 op=UD" },                                     /* AMD VMRUN */
	{ M64, "0f 01 38", "len=3 op=INVLPG form=E mem" },
	{ M64, "0f c7 30", "len=3 op=VMPTRLD form=E mem" },
	{ M64, "66 0f c7 30", "len=4 op=VMCLEAR mem" },
	{ M64, "f3 0f c7 30", "len=4 op=VMXON mem" },
	{ M64, "0f c7 38", "len=3 op=VMPTRST mem" },
	{ M64, "0f c7 f0", "len=3 op=RDRAND form=E rm=0 osz=2" },
	{ M64, "48 0f c7 f8", "len=4 op=RDSEED osz=3" },
	{ M64, "f3 0f c7 f8", "len=4 op=RDPID osz=3" },
	{ M64, "0f c7 c8", "len=3 op=UD" },                                     /* CMPXCHG8B reg */
	{ M64, "0f 78 c1", "len=3 op=VMREAD form=EG rm=1 reg=0 osz=3" },
	{ M64, "0f 79 08", "len=3 op=VMWRITE form=GE reg=1 mem osz=3" },
	{ M32, "0f 79 c1", "len=3 op=VMWRITE osz=2" },
	{ M64, "66 0f 78 c1", "len=6 avail=15 op=UD" },                         /* AMD EXTRQ */
	{ M64, "66 0f 38 80 08", "len=5 op=INVEPT form=GE reg=1 mem osz=3" },
	{ M64, "66 0f 38 81 08", "len=5 op=INVVPID" },
	{ M64, "66 0f 38 82 08", "len=5 op=INVPCID" },
	{ M64, "66 0f 38 80 c8", "len=5 op=UD" },
	{ M64, "0f 38 80 08", "len=4 op=UD" },
	{ M64, "0f ae e8", "len=3 op=FENCE cc=5" },
	{ M64, "0f ae f0", "len=3 op=FENCE cc=6" },
	{ M64, "0f ae f8", "len=3 op=FENCE cc=7" },
	{ M64, "66 0f ae e8", "len=4 op=UD" },
	{ M64, "0f ae 38", "len=3 op=CLFLUSH form=E mem !opsize" },
	{ M64, "66 0f ae 38", "len=4 op=CLFLUSH opsize" },                      /* CLFLUSHOPT */
	{ M64, "0f ae 00", "len=3 op=SSE" },                                    /* FXSAVE */
	{ M64, "0f ae 10", "len=3 op=SSE" },                                    /* LDMXCSR */
	{ M64, "0f ae 20", "len=3 op=SSE" },                                    /* XSAVE */
	{ M64, "0f c7 28", "len=3 op=SSE" },                                    /* XSAVES */
	{ M64, "0f 37", "len=2 op=GETSEC" },
	{ M64, "0f 0b", "len=2 op=UD" },                                        /* UD2 */
	{ M64, "0f b9 c0", "len=3 op=UD" },                                     /* UD1 */
	{ M64, "0f ff 80 00 00 00 00", "len=7 op=UD" },                         /* UD0 */
	{ M64, "0f 1f 44 00 00", "len=5 op=NOP" },
	{ M64, "f3 0f 1e fa", "len=4 op=NOP" },                                 /* ENDBR64 */
	{ M64, "0f 18 08", "len=3 op=NOP" },                                    /* PREFETCHT0 */
	{ M64, "0f 0d 08", "len=3 op=NOP" },                                    /* PREFETCHW */

	/* ---- x87, SSE, 3DNow! lengths ---- */
	{ M64, "d9 c0", "len=2 op=FPU" },
	{ M64, "dd 05 00 00 00 00", "len=6 op=FPU mem base=rip" },
	{ M16, "d8 06 34 12", "len=4 op=FPU" },
	{ M64, "0f 58 c1", "len=3 op=SSE map=1" },
	{ M64, "66 0f 3a 0f c1 08", "len=6 op=SSE map=3 opc=0x0f" },
	{ M64, "66 0f 38 00 c1", "len=5 op=SSE map=2" },
	{ M64, "0f 70 c1 1b", "len=4 op=SSE" },                                 /* PSHUFW ib */
	{ M64, "0f 71 d0 03", "len=4 op=SSE" },                                 /* PSRLW ib */
	{ M64, "0f 71 10 03", "len=4 op=UD" },                                  /* needs reg */
	{ M64, "f3 0f 13 00", "len=4 op=UD" },
	{ M64, "0f 50 00", "len=3 op=UD" },                                     /* MOVMSKPS m */
	{ M64, "0f 77", "len=2 op=SSE" },                                       /* EMMS */
	{ M64, "0f 0f c1 b4", "len=4 op=UD" },                                  /* 3DNow! */
	{ M64, "0f 3a ff c1 00", "len=5 op=UD map=3" },
	{ M64, "0f 38 ff c1", "len=4 op=UD map=2" },

	/* ---- VEX (2.3) and BMI1/BMI2 ---- */
	{ M64, "c4 e2 78 f2 c1", "len=5 op=ANDN form=GEV reg=0 vvvv=0 rm=1 osz=2 vex map=2" },
	{ M64, "c4 e2 f0 f2 c3", "len=5 op=ANDN reg=0 vvvv=1 rm=3 osz=3" },
	{ M64, "c4 62 70 f2 00", "len=5 op=ANDN reg=8 vvvv=1 mem base=0" },     /* VEX.R */
	{ M64, "c4 c2 78 f2 c0", "len=5 op=ANDN rm=8" },                        /* VEX.B */
	{ M64, "c4 e2 78 f3 c9", "len=5 op=BLSR form=VE vvvv=0 rm=1" },
	{ M64, "c4 e2 70 f3 d0", "len=5 op=BLSMSK vvvv=1 rm=0" },
	{ M64, "c4 e2 70 f3 d8", "len=5 op=BLSI vvvv=1" },
	{ M64, "c4 e2 78 f3 c0", "len=5 op=UD" },                               /* group 17 /0 */
	{ M64, "c4 e2 70 f7 c2", "len=5 op=BEXTR form=GEV reg=0 rm=2 vvvv=1" },
	{ M64, "c4 e2 71 f7 c2", "len=5 op=SHLX" },
	{ M64, "c4 e2 72 f7 c2", "len=5 op=SARX" },
	{ M64, "c4 e2 73 f7 c2", "len=5 op=SHRX" },
	{ M64, "c4 e2 70 f5 c2", "len=5 op=BZHI" },
	{ M64, "c4 e2 72 f5 c2", "len=5 op=PEXT" },
	{ M64, "c4 e2 73 f5 c2", "len=5 op=PDEP" },
	{ M64, "c4 e2 f3 f6 c2", "len=5 op=MULX osz=3 vvvv=1" },
	{ M64, "c4 e3 7b f0 c8 05", "len=6 op=RORX form=GEI reg=1 rm=0 imm=5 map=3" },
	{ M64, "c4 e3 73 f0 c8 05", "len=6 op=UD" },                            /* vvvv != 1111 */
	{ M64, "c4 e2 7c f2 c1", "len=5 op=UD" },                               /* VEX.L = 1 */
	{ M64, "66 c4 e2 78 f2 c1", "len=6 op=UD" },                            /* 66 + VEX */
	{ M64, "f0 c4 e2 78 f2 c1", "len=6 op=UD" },
	{ M64, "48 c4 e2 78 f2 c1", "len=6 op=UD" },                            /* REX + VEX */
	{ M32, "c4 e2 f8 f2 c1", "len=5 op=ANDN osz=2" },                       /* W ignored */
	{ M32, "c4 e2 38 f2 c1", "len=5 op=ANDN vvvv=0" },                      /* 3-bit vvvv */
	{ M64, "c5 f8 77", "len=3 op=UD vex" },                                 /* VZEROUPPER */
	{ M64, "c5 f9 70 c1 1b", "len=5 op=UD" },                               /* VPSHUFD ib */
	{ M64, "c5 fc 58 44 24 08", "len=6 op=UD" },                            /* VADDPS */
	{ M64, "c4 e3 79 0f c1 08", "len=6 op=UD" },                            /* VPALIGNR */
	{ M32, "c5 f8 58 c1", "len=4 op=UD" },

	/* ---- EVEX (2.7) and XOP lengths ---- */
	{ M64, "62 f1 7c 48 58 c1", "len=6 op=UD" },
	{ M64, "62 f1 7c 48 58 40 01", "len=7 op=UD" },                         /* disp8*N */
	{ M64, "62 f3 7d 48 0f c1 08", "len=7 op=UD" },                         /* map 3: ib */
	{ M64, "62 f1 7d 48 72 e1 05", "len=7 op=UD" },                         /* map 1 72: ib */
	{ M32, "62 f1 7c 48 58 c1", "len=6 op=UD" },
	{ M64, "8f e8 78 c2 c1 05", "len=6 op=UD" },                            /* XOP map 8 */
	{ M64, "8f e9 78 80 c1", "len=5 op=UD" },                               /* XOP map 9 */
	{ M64, "8f ea 78 10 c1 01 00 00 00", "len=9 op=UD" },                   /* XOP map A */
	{ M64, "8f 40 08", "len=3 op=POP form=E mem disp=8 osz=3" },
	{ M64, "8f c0", "len=2 op=POP rm=0" },
	{ M64, "8f e0", "len=2 op=UD" },                                        /* 8F /4 */
};

/* ---- checking ---- */

static int parse_bytes(const char *s, uint8_t *out)
{
	int n = 0;
	while (*s) {
		unsigned v;
		int used;
		if (*s == ' ') {
			s++;
			continue;
		}
		if (sscanf(s, "%2x%n", &v, &used) != 1)
			break;
		out[n++] = (uint8_t)v;
		s += used;
	}
	return n;
}

static const char *const seg_names[] = { "ES", "CS", "SS", "DS", "FS", "GS" };
static const char *const form_names[] = {
	[FORM_NONE] = "NONE", [FORM_E] = "E",   [FORM_EG] = "EG", [FORM_GE] = "GE",
	[FORM_EI] = "EI",     [FORM_GEI] = "GEI", [FORM_G] = "G", [FORM_GI] = "GI",
	[FORM_I] = "I",       [FORM_GEV] = "GEV", [FORM_VE] = "VE",
};
static const struct {
	const char *name;
	uint16_t bit;
} flag_names[] = {
	{ "mem", INSN_MEM },       { "lock", INSN_LOCK },   { "rep", INSN_REP },
	{ "repne", INSN_REPNE },   { "rex", INSN_REX },     { "rexw", INSN_REXW },
	{ "opsize", INSN_OPSIZE }, { "addrsize", INSN_ADDRSIZE }, { "segovr", INSN_SEGOVR },
	{ "cl", INSN_CL },         { "dx", INSN_DX },       { "vex", INSN_VEX },
	{ "far", INSN_FAR },       { "moffs", INSN_MOFFS },
};

static int lookup(const char *const *names, int n, const char *v)
{
	for (int i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], v))
			return i;
	return -1;
}

static int64_t number(const char *v)
{
	if (!strcmp(v, "-"))
		return REG_NONE;
	if (!strcmp(v, "rip"))
		return REG_RIP;
	if (v[0] == '-')
		return strtoll(v, NULL, 0);
	return (int64_t)strtoull(v, NULL, 0);
}

/* Checks one case; prints and returns 1 on failure. */
static int run_case(const struct tcase *t)
{
	uint8_t b[32] = { 0 };
	int n = parse_bytes(t->bytes, b);
	int avail = n;
	char buf[512];
	const char *p;

	/* avail= first, as it changes the call */
	p = strstr(t->expect, "avail=");
	if (p)
		avail = atoi(p + 6);

	struct insn in;
	int ret = decode(b, avail, (enum decode_mode)t->mode, &in);

	snprintf(buf, sizeof(buf), "%s", t->expect);
	int fails = 0;
	for (char *w = strtok(buf, " "); w; w = strtok(NULL, " ")) {
		char *eq = strchr(w, '=');
		const char *k = w, *v = eq ? eq + 1 : NULL;
		int64_t want = 0, got = 0;
		bool ok = true;

		if (eq)
			*eq = 0;
		if (!strcmp(k, "avail"))
			continue;
		if (!strcmp(k, "err")) {
			want = !strcmp(v, "MORE") ? DECODE_NEED_MORE : DECODE_TOO_LONG;
			got = ret;
			ok = want == got;
		} else if (!strcmp(k, "len")) {
			want = atoi(v);
			got = ret;
			ok = want == got && in.len == want;
		} else if (ret <= 0) {
			ok = false; /* field checks need a decoding */
		} else if (!v) {
			bool neg = k[0] == '!';
			const char *name = neg ? k + 1 : k;
			size_t i;
			for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
				if (!strcmp(flag_names[i].name, name))
					break;
			if (i == sizeof(flag_names) / sizeof(flag_names[0])) {
				printf("FAIL %s: unknown flag %s\n", t->bytes, name);
				return 1;
			}
			want = !neg;
			got = (in.flags & flag_names[i].bit) != 0;
			ok = want == got;
		} else if (!strcmp(k, "op")) {
			ok = !strcmp(op_name((enum op)in.op), v);
			if (!ok) {
				printf("FAIL %d-bit %s: op %s, expected %s\n", 16 << t->mode, t->bytes,
				       op_name((enum op)in.op), v);
				fails++;
			}
			continue;
		} else if (!strcmp(k, "form")) {
			want = lookup(form_names, sizeof(form_names) / sizeof(form_names[0]), v);
			got = in.form;
			ok = want == got;
		} else if (!strcmp(k, "seg")) {
			want = lookup(seg_names, 6, v);
			got = in.seg;
			ok = want == got;
		} else {
			want = number(v);
#define FIELD(f) else if (!strcmp(k, #f)) got = (int64_t)in.f;
			if (0) {
			}
			FIELD(osz) FIELD(asz) FIELD(reg) FIELD(rm) FIELD(base) FIELD(index)
			FIELD(scale) FIELD(cc) FIELD(disp) FIELD(imm2) FIELD(vvvv) FIELD(map)
			FIELD(opc)
			else if (!strcmp(k, "imm")) got = (int64_t)in.imm;
			else {
				printf("FAIL %s: unknown key %s\n", t->bytes, k);
				return 1;
			}
#undef FIELD
			ok = want == got;
		}
		if (!ok) {
			printf("FAIL %d-bit %s: %s = %" PRId64 " (%#" PRIx64 "), expected %" PRId64
			       " (%#" PRIx64 ") [op %s, ret %d]\n",
			       16 << t->mode, t->bytes, k, got, (uint64_t)got, want, (uint64_t)want,
			       ret > 0 ? op_name((enum op)in.op) : "-", ret);
			fails++;
		}
	}
	return fails ? 1 : 0;
}

int main(void)
{
	int failed = 0, total = (int)(sizeof(cases) / sizeof(cases[0]));

	for (int i = 0; i < total; i++)
		failed += run_case(&cases[i]);

	/* The names and intercept columns derived from ops.def. */
	if (strcmp(op_name(OP_UD), "UD") || strcmp(op_name(OP_VMLAUNCH), "VMLAUNCH") ||
	    strcmp(op_name((enum op)OP_COUNT), "?")) {
		printf("FAIL op_name\n");
		failed++;
	}
	if (op_intercept[OP_CPUID] != IC_CPUID || op_intercept[OP_ADD] != IC_NONE ||
	    op_intercept[OP_VMREAD] != IC_VMX || op_intercept[OP_IN] != IC_IO) {
		printf("FAIL op_intercept\n");
		failed++;
	}

	printf("test_decode: %d cases, %d failed\n", total, failed);
	return failed ? 1 : 0;
}
