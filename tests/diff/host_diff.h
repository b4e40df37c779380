/*
 * host_diff: differential testing of the integer executor against the host CPU.
 * Shared declarations of host_diff.c (driver, encoder, comparison) and
 * host_diff_tmpl.c (the instruction templates and their per-family set-up).
 */
#ifndef TURTLES_TESTS_HOST_DIFF_H
#define TURTLES_TESTS_HOST_DIFF_H

#include "cpu/exec.h"

/* Register state exchanged with host_tramp.S (offsets are fixed there). */
struct hstate {
	uint64_t gpr[16];
	uint64_t rflags;
	uint64_t taken; /* native: the instruction branched (landed on the second stub) */
};

/* Memory: one 8 KiB buffer below 2 GiB (so that 32-bit addressing reaches it):
 * [0, 4K) data, [4K, 8K) stack. */
#define MEMSZ 8192
#define DATA_LO 512
#define DATA_HI 3584
#define STACK_MID 6144

/* Operand sizes a template allows. */
enum { S_B, S_V, S_Y, S_D64, S_F64, S_W16 };
/* Immediate kinds (as encoded). */
enum { I_NONE, I_IB, I_UB, I_IZ, I_IV, I_IW, I_ONE, I_REL8, I_REL32, I_ENTER, I_MOFFS };
/* Whether E may be a register, memory, or both. */
enum { M_BOTH, M_REG, M_MEM };

/* Template flags. */
#define T_ACC 0x01   /* E is the accumulator, no ModRM */
#define T_ZR 0x02    /* G is in the opcode's low 3 bits (+REX.B) */
#define T_CL 0x04    /* count in CL */
#define T_VEX 0x08   /* VEX-encoded (pfx holds the implied prefix) */
#define T_CC 0x10    /* opcode + cc */
#define T_NOMODRM 0x20
#define T_REP 0x40   /* string op: REP prefixes allowed */
#define T_BRANCH 0x80 /* lands on the "taken" stub when it branches */
#define T_ANYFORM 0x100 /* the handler ignores insn.form: do not check the decoder's */
#define T_ANYOSZ 0x200  /* the handler ignores insn.osz */
#define T_LOCK 0x400    /* LOCK allowed with a memory E (SDM Vol.2 "LOCK") */

enum fam {
	F_GEN,      /* no special set-up */
	F_SHIFT,    /* count from CL or imm */
	F_DIV,      /* no #DE inputs */
	F_BT,       /* bounded register bit offset */
	F_CMPXCHG, F_CX8, F_XLAT, F_STRING, F_ENTER, F_LEAVE, F_MOFFS, F_JUMP, F_RET,
	F_LOOP, F_CRC, F_MOVX, F_VEXSHIFT, F_BMI_CTL,
};

struct tmpl {
	const char *name;
	uint16_t op;
	uint8_t map;   /* 0 primary, 1 0F, 2 0F38, 3 0F3A */
	uint8_t opc;
	int8_t ext;    /* ModRM.reg /digit, or -1 when it is G */
	uint8_t form;
	uint8_t sz;
	uint8_t imm;
	uint8_t pfx;   /* mandatory prefix (66, F2, F3) or 0 */
	uint8_t memo;
	uint16_t tf;
	uint8_t fam;
	int8_t src;    /* MOVZX/MOVSX/CRC32: source size log2 (insn.imm) */
};

extern const struct tmpl host_tmpls[];
extern const int host_n_tmpls;

/* One generated case. */
struct gen {
	int osz, asz;
	int reg, rm, vvvv, cc;
	bool mem, rex_force;
	int base, index, scale;
	int32_t disp;
	uint64_t imm;
	uint64_t target;       /* host address of the memory operand */
	int rep;               /* 0, 0xF3 or 0xF2 */
	bool lock;
	uint64_t count;        /* shift count (for the flag mask) */
};

/* Random numbers (fixed seed). */
uint64_t rnd(void);
static inline uint64_t rndn(uint64_t n) { return rnd() % n; }
uint64_t rnd_value(void); /* biased towards edge values */

extern uint8_t *membuf;
extern uint8_t mem_init[MEMSZ];

/* Set-up hooks by family (host_diff_tmpl.c): adjust registers/memory/imm after the
 * generic generation; in is the first encoding (for its REX), taken the address of
 * the branch-taken stub. Return false to discard the case. */
bool tmpl_prepare(const struct tmpl *t, struct gen *g, struct hstate *st,
		  const struct insn *in, uint64_t taken);
/* Registers a template's memory operand must not use as base or index. */
uint16_t tmpl_avoid(const struct tmpl *t, const struct gen *g);
/* The RFLAGS bits the SDM defines after this instruction (others are masked). */
uint64_t tmpl_defined_flags(const struct tmpl *t, const struct gen *g);

#endif
