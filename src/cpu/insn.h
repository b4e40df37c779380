/*
 * The decoded form of one instruction: what the decoder produces and the executor reads.
 *
 * The decoder resolves everything that depends on the encoding (prefixes, REX/VEX, the
 * operating mode's default sizes, ModRM/SIB, the effective segment), so an executor
 * never looks at instruction bytes. Operands are addressed uniformly:
 *
 *   E  = the ModRM r/m operand: a register (rm) or memory (base/index/scale/disp/seg)
 *   G  = the ModRM reg operand (or the register in the opcode's low bits)
 *   I  = the immediate(s)
 *
 * Forms with an implicit accumulator (ADD AL, imm8 ...) are normalised to E = register 0
 * so that one handler serves both encodings. The form says which operand is the
 * destination.
 *
 * Layout (40 bytes):
 *    0  op      u16   enum op (cpu/ops.def)
 *    2  len     u8    length in bytes, 1..15
 *    3  form    u8    enum insn_form
 *    4  osz     u8    operand size, log2 bytes (0 = 8-bit ... 3 = 64-bit)
 *    5  asz     u8    address size, log2 bytes (1 = 16, 2 = 32, 3 = 64)
 *    6  reg     u8    G register number 0..15 (8-bit: see INSN_REX)
 *    7  rm      u8    E register number when !(flags & INSN_MEM)
 *    8  base    u8    memory base register, REG_NONE, or REG_RIP
 *    9  index   u8    memory index register or REG_NONE
 *   10  scale   u8    log2 of the SIB scale
 *   11  seg     u8    effective segment (SEG_*), after overrides and SS defaults
 *   12  flags   u16   INSN_*
 *   14  cc      u8    condition code (Jcc/SETcc/CMOVcc), or a sub-operation
 *   15  opc     u8    the last opcode byte (for handlers serving several encodings)
 *   16  disp    i32   displacement (sign-extended per address size when used)
 *   20  imm2    u16   second immediate: ENTER nesting level, far-pointer selector
 *   22  map     u8    opcode map (enum insn_map)
 *   23  vvvv    u8    VEX.vvvv register (BMI), else 0
 *   24  imm     u64   immediate, sign- or zero-extended to 64 bits as the SDM says
 *   32  (pad / JIT use later)
 */
#ifndef TURTLES_CPU_INSN_H
#define TURTLES_CPU_INSN_H

#include "cpu/types.h"

enum op {
#define OP(name, intercept) OP_##name,
#include "cpu/ops.def"
#undef OP
	OP_COUNT
};

/* Which VMX control can turn an op into a VM exit (filled in by the VMX issue; one
 * column per op row in ops.def so that every interceptable instruction has one place). */
enum intercept {
	IC_NONE, IC_CPUID, IC_HLT, IC_INVD, IC_INVLPG, IC_RDPMC, IC_RDTSC, IC_RDTSCP,
	IC_RDMSR, IC_WRMSR, IC_CR, IC_DR, IC_IO, IC_MWAIT, IC_MONITOR, IC_PAUSE, IC_XSETBV,
	IC_WBINVD, IC_DTR, IC_LDTR_TR, IC_INVPCID, IC_RDRAND, IC_RDSEED, IC_VMX, IC_GETSEC,
	IC_XSAVES, IC_COUNT
};

enum insn_form {
	FORM_NONE,  /* no explicit operands, or operands implied by the op */
	FORM_E,     /* one operand: E (read, write or both) */
	FORM_EG,    /* E is the destination, G the source */
	FORM_GE,    /* G is the destination, E the source */
	FORM_EI,    /* E destination, immediate source */
	FORM_GEI,   /* G destination, E and immediate sources (IMUL r, r/m, imm; RORX) */
	FORM_G,     /* one operand: G (PUSH/POP/BSWAP reg, MOV reg, imm uses GI) */
	FORM_GI,    /* G destination, immediate source (MOV r, imm; B0-BF) */
	FORM_I,     /* immediate only (PUSH imm, INT n, Jcc rel, RET imm, ENTER) */
	FORM_GEV,   /* VEX: G destination, E and vvvv sources (ANDN, BEXTR, SHLX, ...) */
	FORM_VE,    /* VEX: vvvv destination, E source (BLSI, BLSMSK, BLSR) */
};

enum insn_map { MAP_PRIMARY, MAP_0F, MAP_0F38, MAP_0F3A };

#define REG_NONE 0xFF
#define REG_RIP 0xFE /* base for RIP-relative addressing: next instruction's RIP */

#define INSN_MEM BIT(0)      /* E is memory */
#define INSN_LOCK BIT(1)     /* LOCK prefix (the decoder already raised #UD if invalid) */
#define INSN_REP BIT(2)      /* F3: REP / REPE */
#define INSN_REPNE BIT(3)    /* F2: REPNE */
#define INSN_REX BIT(4)      /* a REX prefix is present: 8-bit regs 4-7 are SPL..DIL */
#define INSN_REXW BIT(5)
#define INSN_OPSIZE BIT(6)   /* 66 prefix present */
#define INSN_ADDRSIZE BIT(7) /* 67 prefix present */
#define INSN_SEGOVR BIT(8)   /* a segment override prefix is present */
#define INSN_CL BIT(9)       /* shift/rotate count is CL (else imm, 1 for the D0/D1 forms) */
#define INSN_DX BIT(10)      /* IN/OUT port in DX (else imm8) */
#define INSN_VEX BIT(11)
#define INSN_FAR BIT(12)     /* far form (CALL/JMP m16:xx, RET far) */
#define INSN_MOFFS BIT(13)   /* A0-A3: the memory offset is imm (up to 64 bits), no base */

struct insn {
	uint16_t op;
	uint8_t len;
	uint8_t form;
	uint8_t osz;
	uint8_t asz;
	uint8_t reg;
	uint8_t rm;
	uint8_t base;
	uint8_t index;
	uint8_t scale;
	uint8_t seg;
	uint16_t flags;
	uint8_t cc;
	uint8_t opc;
	int32_t disp;
	uint16_t imm2;
	uint8_t map;
	uint8_t vvvv;
	uint64_t imm;
};

/* Decoder results (negative) besides a positive length. */
#define DECODE_NEED_MORE (-1) /* bytes ran out before the instruction ended */
#define DECODE_TOO_LONG (-2)  /* more than 15 bytes: #GP(0) (SDM Vol.2 2.3.11) */

/* The decode mode: the code-segment default size and whether we are in 64-bit mode. */
enum decode_mode { DMODE_16, DMODE_32, DMODE_64 };

/*
 * Decode one instruction from bytes[0..avail). Returns its length (1..15) and fills *in,
 * or a DECODE_* error. Undefined and unsupported encodings decode to OP_UD with their
 * length (VEX/EVEX included) so that the executor raises #UD; invalid LOCK prefixes
 * decode to OP_UD too.
 */
int decode(const uint8_t *bytes, int avail, enum decode_mode mode, struct insn *in);

/* Name of an op for traces and tests. */
const char *op_name(enum op op);
extern const uint8_t op_intercept[OP_COUNT];

#endif
