/*
 * Lazy flags and the integer handlers' corner cases that the host cannot show:
 *   - cpu_cond() on the lazy state (its CMP/TEST fast paths) agrees with the
 *     materialised RFLAGS for every condition, op and size;
 *   - INC/DEC keep CF (SDM INC, DEC);
 *   - byte registers: AH..BH without REX, SPL..DIL with it (SDM Vol.1 3.7.2.1);
 *   - a read-modify-write of a read-only page faults as a write (PFEC.W) and changes
 *     nothing; CMPXCHG16B needs 16-byte alignment (#GP(0));
 *   - BT with a negative register offset addresses below the operand;
 *   - CMOVcc reads its source (and faults) even when false, and zero-extends;
 *   - the BCD adjusts with the SDM's examples (DAA, DAS pages);
 *   - CPUID gating: CRC32 #UD (SSE4.2 is not advertised, cpuid.c), BMI/POPCNT run.
 */
#include "sys_harness.h"

static struct insn rr(int osz, int form, int reg, int rm)
{
	struct insn in = insn();
	in.osz = (uint8_t)osz;
	in.form = (uint8_t)form;
	in.reg = (uint8_t)reg;
	in.rm = (uint8_t)rm;
	return in;
}

static uint64_t seed = 88172645463325252ULL;
static uint64_t xrand(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static uint64_t edge(void)
{
	static const uint64_t v[] = { 0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF,
				      0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1ULL << 63, ~0ULL };
	return xrand() % 3 ? v[xrand() % ARRAY_SIZE(v)] : xrand();
}

/* After each op, every condition from the lazy state equals the one from the
 * materialised flags. */
static void test_cond_consistency(void)
{
	static exec_fn const ops[] = { exec_ADD, exec_ADC, exec_SUB, exec_SBB, exec_AND,
				       exec_XOR, exec_CMP, exec_TEST, exec_INC, exec_DEC,
				       exec_NEG, exec_SHL, exec_SHR, exec_SAR, exec_IMUL2 };
	mode_long64(3);
	for (int iter = 0; iter < 20000; iter++) {
		exec_fn fn = ops[xrand() % ARRAY_SIZE(ops)];
		int osz = (int)(xrand() % 4);
		struct insn in = rr(osz, FORM_GE, RAX, RBX);
		if (fn == exec_INC || fn == exec_DEC || fn == exec_NEG)
			in.form = FORM_E;
		in.flags = INSN_REX;
		in.imm = xrand() % 70;
		C->gpr[RAX] = edge();
		C->gpr[RBX] = edge();
		cpu_set_rflags(C, RFLAGS_FIXED1 | (xrand() & RFLAGS_ARITH));
		if (run_insn(fn, &in) != NO_FAULT) {
			CHECK(0);
			continue;
		}
		struct lazy_flags lf = C->lf;
		uint64_t rf = C->rflags;
		bool lazy[16];
		for (int cc = 0; cc < 16; cc++) {
			C->lf = lf;
			C->rflags = rf;
			lazy[cc] = cpu_cond(C, cc);
		}
		C->lf = lf;
		C->rflags = rf;
		flags_materialize(C);
		for (int cc = 0; cc < 16; cc++)
			CHECK_EQ(lazy[cc], cpu_cond(C, cc));
	}
}

static void test_inc_keeps_cf(void)
{
	mode_long64(3);
	struct insn add = rr(2, FORM_GE, RAX, RBX);
	C->gpr[RAX] = 0xFFFFFFFF;
	C->gpr[RBX] = 1;
	CHECK_EQ(run_insn(exec_ADD, &add), NO_FAULT);  /* CF = 1 */
	struct insn inc = rr(2, FORM_E, 0, RCX);
	C->gpr[RCX] = 0x7FFFFFFF;
	CHECK_EQ(run_insn(exec_INC, &inc), NO_FAULT);
	uint64_t f = cpu_get_rflags(C);
	CHECK(f & RFLAGS_CF);
	CHECK(f & RFLAGS_OF);                           /* 0x7FFFFFFF + 1 */
	CHECK(f & RFLAGS_AF);
	CHECK_EQ(run_insn(exec_DEC, &inc), NO_FAULT);   /* from LF_NONE */
	CHECK(cpu_get_rflags(C) & RFLAGS_CF);
	CHECK(cpu_get_rflags(C) & RFLAGS_OF);           /* 0x80000000 - 1 */
	/* 40+r / 48+r outside 64-bit mode: the register is G (FORM_G). */
	mode_prot32(0);
	struct insn zr = rr(1, FORM_G, RDX, 0);
	C->gpr[RDX] = 0x1234FFFF;
	C->gpr[RAX] = 0;
	CHECK_EQ(run_insn(exec_INC, &zr), NO_FAULT);
	CHECK_EQ(C->gpr[RDX], 0x12340000);
	CHECK_EQ(C->gpr[RAX], 0);
	CHECK(cpu_cond(C, 4));                          /* ZF */
	CHECK_EQ(run_insn(exec_DEC, &zr), NO_FAULT);
	CHECK_EQ(C->gpr[RDX], 0x1234FFFF);
}

static void test_byte_regs(void)
{
	mode_long64(3);
	C->gpr[RAX] = 0x1111;
	C->gpr[RSP] = 0x2222;
	struct insn mov = rr(0, FORM_GI, 4, 0);
	mov.imm = 0xAB;
	CHECK_EQ(run_insn(exec_MOV, &mov), NO_FAULT);   /* no REX: AH */
	CHECK_EQ(C->gpr[RAX], 0xAB11);
	CHECK_EQ(C->gpr[RSP], 0x2222);
	mov.flags = INSN_REX;
	CHECK_EQ(run_insn(exec_MOV, &mov), NO_FAULT);   /* REX: SPL */
	CHECK_EQ(C->gpr[RSP], 0x22AB);
	/* SETcc into BH (rm 7, no REX) vs DIL (REX). */
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_ZF);
	C->gpr[RBX] = 0xFF00;
	C->gpr[RDI] = 0xFF;
	struct insn set = rr(0, FORM_E, 0, 7);
	set.cc = 5;                                     /* NE: false */
	CHECK_EQ(run_insn(exec_SETCC, &set), NO_FAULT);
	CHECK_EQ(C->gpr[RBX], 0x0000);
	set.flags = INSN_REX;
	CHECK_EQ(run_insn(exec_SETCC, &set), NO_FAULT);
	CHECK_EQ(C->gpr[RDI], 0);
}

/* Read-only 2 MiB page at 10 MiB (user, RW = 0): RMW faults as a write. */
static void test_rmw_fault(void)
{
	mode_long64(3);
	uint64_t ro = 10ULL << 20;
	*ram64(PT_BASE + 0x2000 + 5 * 8) = ro | 0x85; /* P US PS, not RW */
	tlb_flush_all(C);
	*ram32(ro) = 41;
	struct insn in = insn_mem(2, ro);
	in.form = FORM_EG;
	in.reg = RAX;
	C->gpr[RAX] = 1;
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_CF);
	CHECK_EQ(run_insn(exec_ADD, &in), EXC_PF);
	CHECK_EQ(C->exc_error & (PFEC_P | PFEC_W | PFEC_U), PFEC_P | PFEC_W | PFEC_U);
	CHECK_EQ(*ram32(ro), 41);
	CHECK_EQ(cpu_get_rflags(C) & RFLAGS_ARITH, RFLAGS_CF);
	/* CMP only reads: no fault. */
	CHECK_EQ(run_insn(exec_CMP, &in), NO_FAULT);
	/* XCHG, CMPXCHG (even when unequal: it writes back), BTS: all write faults. */
	CHECK_EQ(run_insn(exec_XCHG, &in), EXC_PF);
	CHECK_EQ(C->gpr[RAX], 1);
	C->gpr[RAX] = 0;
	CHECK_EQ(run_insn(exec_CMPXCHG, &in), EXC_PF);
	CHECK_EQ(C->gpr[RAX], 0);
	struct insn bts = in;
	bts.form = FORM_EI;
	bts.imm = 3;
	CHECK_EQ(run_insn(exec_BTS, &bts), EXC_PF);
	CHECK_EQ(run_insn(exec_BT, &bts), NO_FAULT);
	CHECK(cpu_get_rflags(C) & RFLAGS_CF);           /* bit 3 of 41 */
	build_identity_pt();
	tlb_flush_all(C);
}

static void test_cmpxchg16b(void)
{
	mode_long64(3);
	struct insn in = insn_mem(3, DATA_BASE + 8);
	in.form = FORM_E;
	CHECK_EQ(run_insn(exec_CMPXCHG8B, &in), EXC_GP);
	CHECK_EQ(C->exc_error, 0);
	in.disp = DATA_BASE;
	*ram64(DATA_BASE) = 1;
	*ram64(DATA_BASE + 8) = 2;
	C->gpr[RAX] = 1;
	C->gpr[RDX] = 2;
	C->gpr[RBX] = 3;
	C->gpr[RCX] = 4;
	CHECK_EQ(run_insn(exec_CMPXCHG8B, &in), NO_FAULT);
	CHECK(cpu_cond(C, 4));
	CHECK_EQ(*ram64(DATA_BASE), 3);
	CHECK_EQ(*ram64(DATA_BASE + 8), 4);
}

/* BT m32, r32 with offset -1: bit 31 of the dword below the operand (SDM BT). */
static void test_bt_negative(void)
{
	mode_long64(3);
	*ram32(DATA_BASE + 0x100 - 4) = 0x80000000;
	struct insn in = insn_mem(2, DATA_BASE + 0x100);
	in.form = FORM_EG;
	in.reg = RCX;
	C->gpr[RCX] = 0xFFFFFFFF;
	CHECK_EQ(run_insn(exec_BTR, &in), NO_FAULT);
	CHECK(cpu_get_rflags(C) & RFLAGS_CF);
	CHECK_EQ(*ram32(DATA_BASE + 0x100 - 4), 0);
	/* 16-bit operand: offset -17 is bit 15 of the word at -4. */
	in.osz = 1;
	C->gpr[RCX] = (uint16_t)-17;
	*ram16(DATA_BASE + 0x100 - 4) = 0;
	CHECK_EQ(run_insn(exec_BTS, &in), NO_FAULT);
	CHECK_EQ(*ram16(DATA_BASE + 0x100 - 4), 0x8000);
}

static void test_cmov(void)
{
	mode_long64(3);
	cpu_set_rflags(C, RFLAGS_FIXED1);               /* ZF = 0 */
	struct insn in = rr(2, FORM_GE, RAX, RBX);
	in.cc = 4;                                      /* CMOVE: false */
	C->gpr[RAX] = 0xFFFFFFFF12345678ULL;
	CHECK_EQ(run_insn(exec_CMOVCC, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0x12345678);              /* zero-extended anyway */
	struct insn m = insn_mem(3, 0);                  /* [RBX], non-canonical */
	m.base = RBX;
	C->gpr[RBX] = 1ULL << 62;
	m.form = FORM_GE;
	m.reg = RAX;
	m.cc = 4;
	CHECK_EQ(run_insn(exec_CMOVCC, &m), EXC_GP);
}

/* SDM DAA and DAS examples, plus AAA/AAS/AAD. 32-bit protected mode. */
static void test_bcd(void)
{
	mode_prot32(0);
	struct insn in = insn();
	C->gpr[RAX] = 0xAE;                             /* ADD AL, BL: 79H + 35H */
	cpu_set_rflags(C, RFLAGS_FIXED1);
	CHECK_EQ(run_insn(exec_DAA, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0x14);
	CHECK_EQ(cpu_get_rflags(C) & (RFLAGS_CF | RFLAGS_AF), RFLAGS_CF | RFLAGS_AF);
	C->gpr[RAX] = 0xEE;                             /* SUB AL, BL: 35H - 47H */
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_CF | RFLAGS_AF);
	CHECK_EQ(run_insn(exec_DAS, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0x88);
	CHECK_EQ(cpu_get_rflags(C) & (RFLAGS_CF | RFLAGS_AF), RFLAGS_CF | RFLAGS_AF);
	C->gpr[RAX] = 0x000B;
	cpu_set_rflags(C, RFLAGS_FIXED1);
	CHECK_EQ(run_insn(exec_AAA, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0x0101);
	CHECK_EQ(cpu_get_rflags(C) & (RFLAGS_CF | RFLAGS_AF), RFLAGS_CF | RFLAGS_AF);
	C->gpr[RAX] = 0x02FF;
	cpu_set_rflags(C, RFLAGS_FIXED1);
	CHECK_EQ(run_insn(exec_AAS, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0x0109);
	C->gpr[RAX] = 0x0603;
	in.imm = 10;
	CHECK_EQ(run_insn(exec_AAD, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0x003F);
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_CF);
	CHECK_EQ(run_insn(exec_SALC, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0x00FF);
}

static void test_features(void)
{
	mode_long64(3);
	struct insn in = rr(2, FORM_GE, RAX, RBX);
	in.imm = 0;
	CHECK_EQ(run_insn(exec_CRC32, &in), EXC_UD);
	C->gpr[RBX] = 0xF0F0;
	CHECK_EQ(run_insn(exec_POPCNT, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 8);
	in.vvvv = RCX;
	C->gpr[RCX] = 0xFF00;
	CHECK_EQ(run_insn(exec_ANDN, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0xF0);
	C->gpr[RCX] = 4;
	CHECK_EQ(run_insn(exec_SHRX, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0xF0F);
}

int main(void)
{
	sys_init();
	test_cond_consistency();
	test_inc_keeps_cf();
	test_byte_regs();
	test_rmw_fault();
	test_cmpxchg16b();
	test_bt_negative();
	test_cmov();
	test_bcd();
	test_features();
	return report("test_exec_flags");
}
