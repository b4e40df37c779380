/*
 * Near branches (SDM Vol.2 JMP, Jcc, CALL, RET, LOOP, JCXZ): target checks (#GP(0) for
 * a non-canonical target in 64-bit mode, beyond CS.limit elsewhere) made before any
 * other state changes; 16-bit IP wrap; counters at the address size.
 */
#include "sys_harness.h"

static struct insn rel(int osz, int asz, int64_t disp)
{
	struct insn in = insn();
	in.osz = (uint8_t)osz;
	in.asz = (uint8_t)asz;
	in.form = FORM_I;
	in.imm = (uint64_t)disp;
	return in;
}

static void test_canonical(void)
{
	mode_long64(3);
	C->rip = 0x00007FFFFFFFFFF0ULL;
	C->gpr[RSP] = DATA_BASE + 0x100;
	struct insn in = rel(3, 3, 0x100); /* next_rip + 0x100 = 0x8000_0000_00F2 */
	CHECK_EQ(run_insn(exec_JMP, &in), EXC_GP);
	CHECK_EQ(C->exc_error, 0);
	CHECK_EQ(C->rip, 0x00007FFFFFFFFFF0ULL);
	/* CALL: no push when the target faults. */
	*ram64(DATA_BASE + 0xF8) = 0x5555;
	CHECK_EQ(run_insn(exec_CALL, &in), EXC_GP);
	CHECK_EQ(C->gpr[RSP], DATA_BASE + 0x100);
	CHECK_EQ(*ram64(DATA_BASE + 0xF8), 0x5555);
	/* RET to a non-canonical address: #GP(0), RSP unchanged. */
	*ram64(DATA_BASE + 0x100) = 0x0000800000000000ULL;
	struct insn ret = rel(3, 3, 0);
	ret.imm = 16;
	CHECK_EQ(run_insn(exec_RET, &ret), EXC_GP);
	CHECK_EQ(C->gpr[RSP], DATA_BASE + 0x100);
	/* A canonical one: RSP += 8 + imm16. */
	*ram64(DATA_BASE + 0x100) = 0xFFFF800000001000ULL;
	CHECK_EQ(run_insn(exec_RET, &ret), NO_FAULT);
	CHECK_EQ(C->rip, 0xFFFF800000001000ULL);
	CHECK_EQ(C->gpr[RSP], DATA_BASE + 0x100 + 8 + 16);
	/* Jcc not taken never checks the target. */
	C->rip = 0x00007FFFFFFFFFF0ULL;
	cpu_set_rflags(C, RFLAGS_FIXED1);           /* ZF = 0 */
	in.cc = 4;                                   /* JE */
	CHECK_EQ(run_insn(exec_JCC, &in), NO_FAULT);
	CHECK_EQ(C->rip, 0x00007FFFFFFFFFF2ULL);
}

static void test_cs_limit(void)
{
	mode_prot32(0);
	C->seg[SEG_CS].limit = 0xFFFF;
	C->rip = 0xFF00;
	struct insn in = rel(2, 2, 0xFE);          /* 0xFF02 + 0xFE = 0x10000 */
	CHECK_EQ(run_insn(exec_JMP, &in), EXC_GP);
	in.imm = 0xFD;                              /* 0xFFFF: the last byte is fine */
	CHECK_EQ(run_insn(exec_JMP, &in), NO_FAULT);
	CHECK_EQ(C->rip, 0xFFFF);
	/* LOOP with a faulting target leaves ECX alone. */
	C->rip = 0xFF00;
	C->gpr[RCX] = 5;
	in.imm = 0x200;
	CHECK_EQ(run_insn(exec_LOOP, &in), EXC_GP);
	CHECK_EQ(C->gpr[RCX], 5);
}

/* 16-bit: IP wraps at 64K (the operand size truncates the target). */
static void test_ip_wrap(void)
{
	mode_real();
	C->rip = 0xFFF0;
	struct insn in = rel(1, 1, 0x20);
	CHECK_EQ(run_insn(exec_JMP, &in), NO_FAULT);
	CHECK_EQ(C->rip, 0x0012);
	/* CALL pushes the 16-bit return address. */
	C->rip = 0x1000;
	C->gpr[RSP] = 0x800;
	CHECK_EQ(run_insn(exec_CALL, &in), NO_FAULT);
	CHECK_EQ(C->rip, 0x1022);
	CHECK_EQ(C->gpr[RSP], 0x7FE);
	CHECK_EQ(stk16(0), 0x1002);
}

/* LOOP/JCXZ use CX, ECX or RCX by address size, and write only that part. */
static void test_counters(void)
{
	mode_real();
	C->rip = 0x1000;
	C->gpr[RCX] = 0x12340001;
	struct insn in = rel(1, 1, 0x10);
	CHECK_EQ(run_insn(exec_LOOP, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RCX], 0x12340000);         /* CX = 0: not taken */
	CHECK_EQ(C->rip, 0x1002);
	CHECK_EQ(run_insn(exec_JCXZ, &in), NO_FAULT);
	CHECK_EQ(C->rip, 0x1014);                  /* CX = 0: taken */
	in.asz = 2;                                /* JECXZ: ECX != 0 */
	C->rip = 0x1000;
	CHECK_EQ(run_insn(exec_JCXZ, &in), NO_FAULT);
	CHECK_EQ(C->rip, 0x1002);
	/* LOOPE: taken only while ZF = 1. */
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_ZF);
	C->gpr[RCX] = 3;
	in.asz = 1;
	C->rip = 0x1000;
	CHECK_EQ(run_insn(exec_LOOPE, &in), NO_FAULT);
	CHECK_EQ(C->rip, 0x1012);
	cpu_set_rflags(C, RFLAGS_FIXED1);
	C->rip = 0x1000;
	CHECK_EQ(run_insn(exec_LOOPE, &in), NO_FAULT);
	CHECK_EQ(C->rip, 0x1002);
	CHECK_EQ(C->gpr[RCX], 1);
	CHECK_EQ(run_insn(exec_LOOPNE, &in), NO_FAULT); /* CX -> 0: not taken */
	CHECK_EQ(C->gpr[RCX], 0);
}

int main(void)
{
	sys_init();
	test_canonical();
	test_cs_limit();
	test_ip_wrap();
	test_counters();
	return report("test_exec_branch");
}
