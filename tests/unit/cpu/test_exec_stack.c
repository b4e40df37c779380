/*
 * Stack instructions beyond what the host shows (SDM Vol.1 6.2, Vol.2 PUSH, POP,
 * PUSHA, POPA, ENTER, LEAVE): 16-bit stack wrap, POP into an rSP-based operand, PUSHA
 * order, ENTER nesting on a 16-bit stack, and fault atomicity (rSP unchanged).
 */
#include "sys_harness.h"

static struct insn reg_insn(int osz, int form, int r)
{
	struct insn in = insn();
	in.osz = (uint8_t)osz;
	in.form = (uint8_t)form;
	in.reg = (uint8_t)r;
	in.rm = (uint8_t)r;
	return in;
}

/* Real mode: SP wraps 0 -> FFFE; the upper half of ESP is untouched. */
static void test_wrap16(void)
{
	mode_real();
	C->seg[SEG_SS].base = 0x50000;
	C->gpr[RSP] = 0xABCD0000;
	C->gpr[RAX] = 0x1234;
	struct insn push = reg_insn(1, FORM_G, RAX);
	CHECK_EQ(run_insn(exec_PUSH, &push), NO_FAULT);
	CHECK_EQ(C->gpr[RSP], 0xABCDFFFE);
	CHECK_EQ(*ram16(0x50000 + 0xFFFE), 0x1234);
	struct insn pop = reg_insn(1, FORM_G, RBX);
	CHECK_EQ(run_insn(exec_POP, &pop), NO_FAULT);
	CHECK_EQ(C->gpr[RBX] & 0xFFFF, 0x1234);
	CHECK_EQ(C->gpr[RSP], 0xABCD0000);
	/* A word at SP = FFFF would cross the 64K limit: #SS(0). */
	C->gpr[RSP] = 0xFFFF;
	CHECK_EQ(run_insn(exec_POP, &pop), EXC_SS);
	CHECK_EQ(C->gpr[RSP], 0xFFFF);
}

/* POP m with rSP as base: the address uses the incremented rSP; POP rSP loads it. */
static void test_pop_rsp(void)
{
	mode_long64(3);
	C->gpr[RSP] = DATA_BASE;
	*ram64(DATA_BASE) = 0x1111;
	*ram64(DATA_BASE + 8) = 0;
	struct insn in = insn_mem(3, 0);
	in.base = RSP;
	in.disp = 0;
	in.form = FORM_E;
	CHECK_EQ(run_insn(exec_POP, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RSP], DATA_BASE + 8);
	CHECK_EQ(*ram64(DATA_BASE + 8), 0x1111);

	C->gpr[RSP] = DATA_BASE;
	struct insn prsp = reg_insn(3, FORM_G, RSP);
	CHECK_EQ(run_insn(exec_POP, &prsp), NO_FAULT);
	CHECK_EQ(C->gpr[RSP], 0x1111);

	/* PUSH rSP pushes the value before the push. */
	C->gpr[RSP] = DATA_BASE + 0x100;
	CHECK_EQ(run_insn(exec_PUSH, &prsp), NO_FAULT);
	CHECK_EQ(*ram64(DATA_BASE + 0xF8), DATA_BASE + 0x100);
}

/* PUSH into a not-present page: #PF with W, rSP unchanged. */
static void test_push_fault(void)
{
	mode_long64(3);
	*ram64(PT_BASE + 0x2000 + 5 * 8) = 0; /* 10-12 MiB not present */
	tlb_flush_all(C);
	C->gpr[RSP] = (12ULL << 20) - 0x10000;
	struct insn push = reg_insn(3, FORM_G, RAX);
	CHECK_EQ(run_insn(exec_PUSH, &push), EXC_PF);
	CHECK(C->exc_error & PFEC_W);
	CHECK_EQ(C->gpr[RSP], (12ULL << 20) - 0x10000);
	/* CALL: the push faults, RSP and RIP unchanged. */
	struct insn call = insn();
	call.osz = 3;
	call.imm = 0x100;
	uint64_t rip = C->rip;
	CHECK_EQ(run_insn(exec_CALL, &call), EXC_PF);
	CHECK_EQ(C->rip, rip);
	CHECK_EQ(C->gpr[RSP], (12ULL << 20) - 0x10000);
	build_identity_pt();
	tlb_flush_all(C);
}

/* PUSHA/POPA (32-bit): EAX ECX EDX EBX (original ESP) EBP ESI EDI; POPA skips ESP. */
static void test_pusha(void)
{
	mode_prot32(0);
	for (int r = 0; r < 8; r++)
		C->gpr[r] = 0x100 + r;
	C->gpr[RSP] = DATA_BASE + 0x100;
	struct insn in = insn();
	CHECK_EQ(run_insn(exec_PUSHA, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RSP], DATA_BASE + 0x100 - 32);
	CHECK_EQ(*ram32(DATA_BASE + 0x100 - 4), 0x100);          /* EAX first */
	CHECK_EQ(*ram32(DATA_BASE + 0x100 - 20), DATA_BASE + 0x100); /* original ESP */
	CHECK_EQ(*ram32(DATA_BASE + 0x100 - 32), 0x107);         /* EDI last */
	for (int r = 0; r < 8; r++)
		if (r != RSP)
			C->gpr[r] = 0;
	*ram32(DATA_BASE + 0x100 - 20) = 0xDEAD;                  /* ignored by POPA */
	CHECK_EQ(run_insn(exec_POPA, &in), NO_FAULT);
	for (int r = 0; r < 8; r++)
		if (r != RSP)
			CHECK_EQ(C->gpr[r], 0x100 + (uint64_t)r);
	CHECK_EQ(C->gpr[RSP], DATA_BASE + 0x100);
}

/* ENTER 8, 3 with a 16-bit operand and stack (real mode), then LEAVE. */
static void test_enter16(void)
{
	mode_real();
	C->seg[SEG_SS].base = 0x50000;
	C->gpr[RSP] = 0x1000;
	C->gpr[RBP] = 0xFFFF2000; /* upper half must survive */
	*ram16(0x50000 + 0x2000 - 2) = 0xAAAA;
	*ram16(0x50000 + 0x2000 - 4) = 0xBBBB;
	struct insn in = insn();
	in.osz = 1;
	in.imm = 8;
	in.imm2 = 3;
	CHECK_EQ(run_insn(exec_ENTER, &in), NO_FAULT);
	/* push BP; push [BP-2]; push [BP-4]; push FrameTemp; SP -= 8 */
	CHECK_EQ(*ram16(0x50000 + 0x0FFE), 0x2000);
	CHECK_EQ(*ram16(0x50000 + 0x0FFC), 0xAAAA);
	CHECK_EQ(*ram16(0x50000 + 0x0FFA), 0xBBBB);
	CHECK_EQ(*ram16(0x50000 + 0x0FF8), 0x0FFE);
	CHECK_EQ(C->gpr[RBP], 0xFFFF0FFE);
	CHECK_EQ(C->gpr[RSP], 0x0FF8 - 8);
	struct insn leave = insn();
	leave.osz = 1;
	CHECK_EQ(run_insn(exec_LEAVE, &leave), NO_FAULT);
	CHECK_EQ(C->gpr[RSP], 0x1000);
	CHECK_EQ(C->gpr[RBP], 0xFFFF2000);
	/* Level 33 is level 1 (taken modulo 32). */
	in.imm = 0;
	in.imm2 = 33;
	CHECK_EQ(run_insn(exec_ENTER, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RSP], 0x0FFC);
	CHECK_EQ(*ram16(0x50000 + 0x0FFC), 0x0FFE);
}

int main(void)
{
	sys_init();
	test_wrap16();
	test_pop_rsp();
	test_push_fault();
	test_pusha();
	test_enter16();
	return report("test_exec_stack");
}
