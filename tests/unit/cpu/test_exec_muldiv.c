/*
 * MUL/IMUL/DIV/IDIV and AAM edge cases the host cannot show: #DE conditions (SDM Vol.2
 * DIV and IDIV "Protected Mode Exceptions": divisor 0, quotient too large), with every
 * register unchanged after the fault, and the flag results.
 */
#include "sys_harness.h"

static struct insn op_e(int osz, int rm)
{
	struct insn in = insn();
	in.osz = (uint8_t)osz;
	in.form = FORM_E;
	in.rm = (uint8_t)rm;
	return in;
}

/* Run DIV/IDIV r/m with the given registers; returns the vector or NO_FAULT and checks
 * that a fault leaves rAX/rDX/RIP as they were. */
static int div_case(exec_fn fn, int osz, uint64_t rax, uint64_t rdx, uint64_t divisor)
{
	struct insn in = op_e(osz, RBX);
	C->gpr[RAX] = rax;
	C->gpr[RDX] = rdx;
	C->gpr[RBX] = divisor;
	uint64_t rip = C->rip;
	int v = run_insn(fn, &in);
	if (v != NO_FAULT) {
		CHECK_EQ(C->gpr[RAX], rax);
		CHECK_EQ(C->gpr[RDX], rdx);
		CHECK_EQ(C->rip, rip);
		CHECK_EQ(C->exc_error, NO_ERROR_CODE);
	}
	return v;
}

static void test_div_errors(void)
{
	/* Divisor 0, every size. */
	for (int osz = 0; osz < 4; osz++) {
		CHECK_EQ(div_case(exec_DIV, osz, 1, 0, 0), EXC_DE);
		CHECK_EQ(div_case(exec_IDIV, osz, 1, 0, 0), EXC_DE);
	}
	/* Quotient too large: AX / BL = 0x100. */
	CHECK_EQ(div_case(exec_DIV, 0, 0x1000, 0, 0x10), EXC_DE);
	CHECK_EQ(div_case(exec_DIV, 0, 0x0FFF, 0, 0x10), NO_FAULT);
	CHECK_EQ(C->gpr[RAX] & 0xFFFF, 0x0FFF); /* AL = 0xFF, AH = 0x0F */
	CHECK_EQ(div_case(exec_DIV, 1, 0, 0x10, 0x10), EXC_DE);
	CHECK_EQ(div_case(exec_DIV, 2, 0, 7, 7), EXC_DE);
	CHECK_EQ(div_case(exec_DIV, 3, 0, 5, 5), EXC_DE);
	CHECK_EQ(div_case(exec_DIV, 3, ~0ULL, 4, 5), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], ~0ULL);   /* (4 * 2^64 + 2^64 - 1) / 5 = 2^64 - 1 */
	CHECK_EQ(C->gpr[RDX], 4);
	/* The most negative dividend divided by -1 (SDM IDIV: quotient too large). */
	CHECK_EQ(div_case(exec_IDIV, 0, 0xFF80, 0, 0xFF), EXC_DE);
	CHECK_EQ(div_case(exec_IDIV, 1, 0x8000, 0xFFFF, 0xFFFF), EXC_DE);
	CHECK_EQ(div_case(exec_IDIV, 2, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFF), EXC_DE);
	CHECK_EQ(div_case(exec_IDIV, 3, 1ULL << 63, ~0ULL, ~0ULL), EXC_DE);
	CHECK_EQ(div_case(exec_IDIV, 3, 0, 1ULL << 63, ~0ULL), EXC_DE); /* -2^127 / -1 */
	/* ... but -(2^63 - 1) / -1 fits. */
	CHECK_EQ(div_case(exec_IDIV, 3, (1ULL << 63) + 1, ~0ULL, ~0ULL), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], (1ULL << 63) - 1);
	CHECK_EQ(C->gpr[RDX], 0);
	/* Positive overflow: 2^63 / 1. */
	CHECK_EQ(div_case(exec_IDIV, 3, 1ULL << 63, 0, 1), EXC_DE);
	/* Truncation toward zero, remainder with the dividend's sign: -7 / 2. */
	CHECK_EQ(div_case(exec_IDIV, 2, (uint32_t)-7, 0xFFFFFFFF, 2), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], (uint32_t)-3);
	CHECK_EQ(C->gpr[RDX], (uint32_t)-1);
	/* IDIV 8-bit: AX = -128 / 2 = -64 (fits). */
	CHECK_EQ(div_case(exec_IDIV, 0, 0xFF80, 0, 2), NO_FAULT);
	CHECK_EQ(C->gpr[RAX] & 0xFFFF, 0x00C0);
}

/* A memory divisor: a #DE raised after the read leaves memory and registers alone. */
static void test_div_memory(void)
{
	struct insn in = insn_mem(2, DATA_BASE);
	*ram32(DATA_BASE) = 0;
	C->gpr[RAX] = 0x1234;
	C->gpr[RDX] = 0;
	CHECK_EQ(run_insn(exec_DIV, &in), EXC_DE);
	CHECK_EQ(C->gpr[RAX], 0x1234);
	*ram32(DATA_BASE) = 0x10;
	CHECK_EQ(run_insn(exec_DIV, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0x123);
	CHECK_EQ(C->gpr[RDX], 4);
}

/* MUL/IMUL: CF = OF = the upper half is significant (SDM MUL, IMUL). */
static void test_mul_flags(void)
{
	struct insn in = op_e(2, RBX);
	C->gpr[RAX] = 0x10000;
	C->gpr[RBX] = 0x10000;
	CHECK_EQ(run_insn(exec_MUL, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0);
	CHECK_EQ(C->gpr[RDX], 1);
	CHECK_EQ(cpu_get_rflags(C) & (RFLAGS_CF | RFLAGS_OF), RFLAGS_CF | RFLAGS_OF);
	C->gpr[RAX] = 0xFFFFFFFF; /* -1 * 2 = -2 fits in 32 bits signed */
	C->gpr[RBX] = 2;
	CHECK_EQ(run_insn(exec_IMUL1, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0xFFFFFFFE);
	CHECK_EQ(C->gpr[RDX], 0xFFFFFFFF);
	CHECK_EQ(cpu_get_rflags(C) & (RFLAGS_CF | RFLAGS_OF), 0);
	/* IMUL r64, r/m64, imm: 2^62 * 2 overflows the signed range. */
	struct insn i3 = op_e(3, RBX);
	i3.form = FORM_GEI;
	i3.reg = RCX;
	i3.imm = 2;
	C->gpr[RBX] = 1ULL << 62;
	CHECK_EQ(run_insn(exec_IMUL3, &i3), NO_FAULT);
	CHECK_EQ(C->gpr[RCX], 1ULL << 63);
	CHECK_EQ(cpu_get_rflags(C) & (RFLAGS_CF | RFLAGS_OF), RFLAGS_CF | RFLAGS_OF);
}

/* AAM imm8 = 0: #DE (SDM AAM); valid outside 64-bit mode only. */
static void test_aam(void)
{
	mode_prot32(0);
	struct insn in = insn();
	in.imm = 0;
	C->gpr[RAX] = 0x3F;
	CHECK_EQ(run_insn(exec_AAM, &in), EXC_DE);
	CHECK_EQ(C->gpr[RAX], 0x3F);
	in.imm = 10;
	CHECK_EQ(run_insn(exec_AAM, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0x0603);
}

int main(void)
{
	sys_init();
	mode_long64(3);
	test_div_errors();
	test_div_memory();
	test_mul_flags();
	test_aam();
	return report("test_exec_muldiv");
}
