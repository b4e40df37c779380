/*
 * Segmentation: descriptor loads with their error codes (SDM Vol.2 MOV "Protected
 * Mode Exceptions"), the data-access checks (SDM 5.3), the interrupt shadow of MOV SS
 * (SDM 6.8.3), descriptor tables (LGDT/SGDT/LLDT/LTR) and LAR/LSL/VERR/VERW/ARPL.
 */
#include "sys_harness.h"

static int mov_seg(int sreg, uint16_t sel)
{
	struct insn in = insn();
	in.reg = (uint8_t)sreg;
	in.rm = RAX;
	in.osz = 1;
	C->gpr[RAX] = sel;
	return run_insn(exec_MOV_TO_SEG, &in);
}

static void test_data_loads(void)
{
	mode_prot32(0);
	/* Null into DS is fine and makes it unusable; into SS it is #GP(0). */
	CHECK_EQ(mov_seg(SEG_DS, 0), NO_FAULT);
	CHECK(C->seg[SEG_DS].ar & AR_UNUSABLE);
	CHECK_EXC(mov_seg(SEG_SS, 0), EXC_GP, 0);
	/* MOV CS is #UD. */
	CHECK_EQ(mov_seg(SEG_CS, SEL_CODE32), EXC_UD);
	/* Outside the GDT limit: #GP(selector with RPL cleared). */
	CHECK_EXC(mov_seg(SEG_ES, 0x83), EXC_GP, 0x80);
	/* TI = 1 with a null LDTR: #GP(selector). */
	C->ldtr.ar = AR_UNUSABLE;
	CHECK_EXC(mov_seg(SEG_ES, 0x0C), EXC_GP, 0x0C);
	/* Execute-only code into DS: #GP(sel). */
	gdt_set(SEL_SPARE, mkdesc(0, 0xFFFF, 0x8, true, 0, true, 0));
	CHECK_EXC(mov_seg(SEG_DS, SEL_SPARE), EXC_GP, SEL_SPARE);
	/* Readable code is fine in DS; not in SS (not writable data). */
	CHECK_EQ(mov_seg(SEG_DS, SEL_CODE32), NO_FAULT);
	CHECK_EXC(mov_seg(SEG_SS, SEL_CODE32), EXC_GP, SEL_CODE32);
	/* Not present data: #NP(sel); not present stack: #SS(sel). */
	gdt_set(SEL_SPARE2, mkdesc(0, 0xFFFF, 0x3, true, 0, false, 0));
	CHECK_EXC(mov_seg(SEG_FS, SEL_SPARE2), EXC_NP, SEL_SPARE2);
	CHECK_EXC(mov_seg(SEG_SS, SEL_SPARE2), EXC_SS, SEL_SPARE2);
	/* SS needs RPL = DPL = CPL. */
	CHECK_EXC(mov_seg(SEG_SS, SEL_DATA32 | 3), EXC_GP, SEL_DATA32);
	CHECK_EXC(mov_seg(SEG_SS, SEL_UDATA32), EXC_GP, SEL_UDATA32 & ~3);
	/* The accessed bit is set in memory (SDM 3.4.5.1). */
	gdt_set(SEL_SPARE3, mkdesc(0x1000, 0xFFFF, 0x2, true, 0, true, 0));
	CHECK_EQ(mov_seg(SEG_GS, SEL_SPARE3), NO_FAULT);
	CHECK((*ram64(GDT_BASE + SEL_SPARE3) >> 40) & 1);
	CHECK_EQ(C->seg[SEG_GS].base, 0x1000);
	CHECK_EQ(C->seg[SEG_GS].limit, 0xFFFF);
	/* At CPL 3, a DPL 0 data segment: #GP(sel); the DPL 3 one loads. */
	mode_prot32(3);
	CHECK_EXC(mov_seg(SEG_DS, SEL_DATA32), EXC_GP, SEL_DATA32);
	CHECK_EQ(mov_seg(SEG_DS, SEL_UDATA32), NO_FAULT);
	/* RPL > DPL: #GP(sel). */
	gdt_set(SEL_SPARE, mkdesc(0, 0xFFFF, 0x3, true, 2, true, 0));
	mode_prot32(0);
	gdt_set(SEL_SPARE, mkdesc(0, 0xFFFF, 0x3, true, 2, true, 0));
	CHECK_EXC(mov_seg(SEG_DS, SEL_SPARE | 3), EXC_GP, SEL_SPARE);
}

/* SDM Vol.2 MOV: in 64-bit mode a null SS is allowed at CPL < 3 with RPL = CPL. */
static void test_null_ss_64(void)
{
	mode_long64(0);
	CHECK_EQ(mov_seg(SEG_SS, 0), NO_FAULT);
	CHECK(C->seg[SEG_SS].ar & AR_UNUSABLE);
	CHECK_EQ(C->cpl, 0);
	CHECK_EXC(mov_seg(SEG_SS, 1), EXC_GP, 0);
	mode_long64(3);
	CHECK_EXC(mov_seg(SEG_SS, 3), EXC_GP, 0);
}

/* SDM 6.8.3: MOV SS blocks events until after the next instruction. */
static void test_movss_shadow(void)
{
	mode_prot32(0);
	struct insn nop = insn();
	CHECK_EQ(mov_seg(SEG_SS, SEL_DATA32), NO_FAULT);
	CHECK_EQ(C->intr_shadow, 1); /* the boundary right after MOV SS is blocked */
	CHECK(C->intr_shadow_kind & SHADOW_MOVSS);
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_IF);
	C->events |= CPU_EV_NMI;
	CHECK(!cpu_handle_events(C));
	CHECK_EQ(run_insn(exec_NOP, &nop), NO_FAULT);
	CHECK_EQ(C->intr_shadow, 0);
	C->events = 0;
	/* POP SS too. */
	*ram16(KSTACK_TOP - 4) = SEL_DATA32;
	C->gpr[RSP] = KSTACK_TOP - 4;
	struct insn pop = insn();
	pop.reg = SEG_SS;
	CHECK_EQ(run_insn(exec_POP_SEG, &pop), NO_FAULT);
	CHECK_EQ(C->gpr[RSP], KSTACK_TOP);
	CHECK_EQ(C->intr_shadow, 1);
	/* A faulting POP SS leaves RSP alone. */
	*ram16(KSTACK_TOP - 4) = 0;
	C->gpr[RSP] = KSTACK_TOP - 4;
	CHECK_EXC(run_insn(exec_POP_SEG, &pop), EXC_GP, 0);
	CHECK_EQ(C->gpr[RSP], KSTACK_TOP - 4);
}

/* SDM 5.3: limit and type checks of data accesses, via the MMU. */
static void test_access_checks(void)
{
	mode_prot32(0);
	struct seg *ds = &C->seg[SEG_DS];
	*ds = (struct seg){ .sel = 0x10, .base = DATA_BASE, .limit = 0xFF, .ar = 0x93 };
	CHECK_EQ(GUARD(mem_read(C, SEG_DS, 0xFC, 2)), NO_FAULT);
	CHECK_EXC(GUARD(mem_read(C, SEG_DS, 0xFE, 2)), EXC_GP, 0);  /* last byte > limit */
	/* Read-only data: writes #GP(0). */
	ds->ar = 0x91;
	CHECK_EXC(GUARD(mem_write(C, SEG_DS, 0, 0, 1)), EXC_GP, 0);
	/* Execute-only code: reads #GP(0); readable code: reads fine, writes #GP(0). */
	ds->ar = 0x99;
	CHECK_EXC(GUARD(mem_read(C, SEG_DS, 0, 0)), EXC_GP, 0);
	ds->ar = 0x9B;
	CHECK_EQ(GUARD(mem_read(C, SEG_DS, 0, 0)), NO_FAULT);
	CHECK_EXC(GUARD(mem_write(C, SEG_DS, 0, 0, 1)), EXC_GP, 0);
	/* Expand-down (type 7), B = 0: valid offsets limit+1 .. FFFFH. */
	ds->ar = 0x97;
	CHECK_EXC(GUARD(mem_read(C, SEG_DS, 0xFF, 0)), EXC_GP, 0);
	CHECK_EQ(GUARD(mem_read(C, SEG_DS, 0x100, 0)), NO_FAULT);
	CHECK_EXC(GUARD(mem_read(C, SEG_DS, 0xFFFF, 1)), EXC_GP, 0);
	/* Unusable: #GP(0); SS violations: #SS(0). */
	ds->ar = AR_UNUSABLE;
	CHECK_EXC(GUARD(mem_read(C, SEG_DS, 0, 0)), EXC_GP, 0);
	C->seg[SEG_SS].limit = 0xFFF;
	C->seg[SEG_SS].ar &= ~AR_G;
	CHECK_EXC(GUARD(mem_read(C, SEG_SS, 0x1000, 0)), EXC_SS, 0);
	/* 64-bit mode: no segment checks. */
	mode_long64(0);
	C->seg[SEG_DS].ar = AR_UNUSABLE;
	CHECK_EQ(GUARD(mem_read(C, SEG_DS, DATA_BASE, 3)), NO_FAULT);
}

static void test_lxs(void)
{
	mode_prot32(0);
	struct insn in = insn_mem(2, DATA_BASE);
	in.reg = RBX;
	*ram32(DATA_BASE) = 0x12345678;
	*ram16(DATA_BASE + 4) = SEL_SPARE3;
	gdt_set(SEL_SPARE3, mkdesc(0x4000, 0xFFFF, 0x3, true, 0, true, 0));
	CHECK_EQ(run_insn(exec_LFS, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RBX], 0x12345678);
	CHECK_EQ(C->seg[SEG_FS].base, 0x4000);
	/* A fault in the segment load leaves the register alone. */
	*ram16(DATA_BASE + 4) = 0x200;
	C->gpr[RBX] = 0;
	CHECK_EXC(run_insn(exec_LGS, &in), EXC_GP, 0x200);
	CHECK_EQ(C->gpr[RBX], 0);
	/* Register operand: #UD. */
	in.flags = 0;
	CHECK_EQ(run_insn(exec_LDS, &in), EXC_UD);
}

static void test_tables(void)
{
	mode_prot32(0);
	struct insn m = insn_mem(2, DATA_BASE);
	*ram16(DATA_BASE) = 0x3FF;
	*ram32(DATA_BASE + 2) = 0x00ABCDEF;
	CHECK_EQ(run_insn(exec_LIDT, &m), NO_FAULT);
	CHECK_EQ(C->idtr.base, 0xABCDEF);
	CHECK_EQ(C->idtr.limit, 0x3FF);
	m.osz = 1; /* 16-bit operand: 24-bit base (SDM Vol.2 LGDT) */
	*ram32(DATA_BASE + 2) = 0x12ABCDEF;
	CHECK_EQ(run_insn(exec_LIDT, &m), NO_FAULT);
	CHECK_EQ(C->idtr.base, 0xABCDEF);
	struct insn s = insn_mem(2, DATA_BASE + 0x10);
	CHECK_EQ(run_insn(exec_SGDT, &s), NO_FAULT);
	CHECK_EQ(*ram16(DATA_BASE + 0x10), C->gdtr.limit);
	CHECK_EQ(*ram32(DATA_BASE + 0x12), C->gdtr.base);
	/* 64-bit: 10 bytes, base canonical. */
	mode_long64(0);
	m = insn_mem(3, DATA_BASE);
	*ram16(DATA_BASE) = 0xFFF;
	*ram64(DATA_BASE + 2) = 0x0000800000000000ULL;
	CHECK_EXC(run_insn(exec_LGDT, &m), EXC_GP, 0);
	*ram64(DATA_BASE + 2) = 0xFFFF800000000000ULL;
	CHECK_EQ(run_insn(exec_LGDT, &m), NO_FAULT);
	CHECK_EQ(C->gdtr.base, 0xFFFF800000000000ULL);
	/* CPL 3: #GP(0); register operand: #UD. */
	mode_prot32(3);
	m = insn_mem(2, DATA_BASE);
	CHECK_EXC(run_insn(exec_LGDT, &m), EXC_GP, 0);
	m.flags = 0;
	CHECK_EQ(run_insn(exec_LIDT, &m), EXC_UD);
}

static int sel_insn(exec_fn fn, uint16_t sel)
{
	struct insn in = insn();
	in.rm = RAX;
	in.reg = RBX;
	in.osz = 2;
	C->gpr[RAX] = sel;
	return run_insn(fn, &in);
}

/* SDM Vol.2 LLDT, LTR; SDM 8.2.4 (busy flag), 8.2.3 (16-byte descriptors). */
static void test_ldt_tr(void)
{
	mode_prot32(0);
	gdt_set(SEL_SPARE, mkdesc((uint32_t)LDT_BASE, 0xFF, 0x2, false, 0, true, 0));
	CHECK_EQ(sel_insn(exec_LLDT, SEL_SPARE), NO_FAULT);
	CHECK_EQ(C->ldtr.base, LDT_BASE);
	CHECK_EXC(sel_insn(exec_LLDT, SEL_DATA32), EXC_GP, SEL_DATA32); /* not an LDT */
	CHECK_EXC(sel_insn(exec_LLDT, SEL_SPARE | 4), EXC_GP, SEL_SPARE | 4); /* TI = 1 */
	CHECK_EQ(sel_insn(exec_LLDT, 0), NO_FAULT);
	CHECK(C->ldtr.ar & AR_UNUSABLE);
	/* A data segment in the LDT, used through TI = 1. */
	gdt_set(SEL_SPARE, mkdesc((uint32_t)LDT_BASE, 0xFF, 0x2, false, 0, true, 0));
	*ram64(LDT_BASE + 8) = mkdesc(0x7000, 0xFFFF, 0x3, true, 0, true, 0);
	CHECK_EQ(sel_insn(exec_LLDT, SEL_SPARE), NO_FAULT);
	CHECK_EQ(mov_seg(SEG_ES, 0x0C), NO_FAULT);
	CHECK_EQ(C->seg[SEG_ES].base, 0x7000);
	/* LTR: available TSS only; it becomes busy in the GDT. */
	gdt_set(SEL_SPARE2, mkdesc((uint32_t)TSS_BASE, 0x67, 0x9, false, 0, true, 0));
	CHECK_EQ(sel_insn(exec_LTR, SEL_SPARE2), NO_FAULT);
	CHECK_EQ((*ram64(GDT_BASE + SEL_SPARE2) >> 40) & 0xF, 0xB);
	CHECK_EQ(C->tr.ar & 0xF, 0xB);
	CHECK_EXC(sel_insn(exec_LTR, SEL_SPARE2), EXC_GP, SEL_SPARE2); /* busy now */
	CHECK_EXC(sel_insn(exec_LTR, 0), EXC_GP, 0);
	gdt_set(SEL_SPARE3, mkdesc((uint32_t)TSS_BASE, 0x67, 0x9, false, 0, false, 0));
	CHECK_EXC(sel_insn(exec_LTR, SEL_SPARE3), EXC_NP, SEL_SPARE3);
	/* STR/SLDT store the selectors; real mode: #UD. */
	CHECK_EQ(sel_insn(exec_STR, 0), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], SEL_SPARE2);
	/* IA-32e: 16-byte TSS descriptor, upper type must be 0. */
	mode_long64(0);
	gdt_set(SEL_SPARE2, mkdesc((uint32_t)TSS_BASE, 0x67, 0x9, false, 0, true, 0));
	*ram64(GDT_BASE + SEL_SPARE3) = 0x1F0000000000ULL;
	CHECK_EXC(sel_insn(exec_LTR, SEL_SPARE2), EXC_GP, SEL_SPARE2);
	*ram64(GDT_BASE + SEL_SPARE3) = 0xFFFFFFFF;
	CHECK_EQ(sel_insn(exec_LTR, SEL_SPARE2), NO_FAULT);
	CHECK_EQ(C->tr.base, 0xFFFFFFFF00000000ULL | TSS_BASE);
	mode_real();
	CHECK_EQ(sel_insn(exec_LTR, SEL_SPARE2), EXC_UD);
	CHECK_EQ(sel_insn(exec_SLDT, 0), EXC_UD);
}

/* SDM Vol.2 LAR/LSL/VERR/VERW/ARPL: ZF reports, nothing faults. */
static void test_lar_lsl_verr(void)
{
	mode_prot32(3);
	CHECK_EQ(sel_insn(exec_LAR, SEL_UCODE32), NO_FAULT);
	CHECK(C->rflags & RFLAGS_ZF);
	CHECK_EQ(C->gpr[RBX], 0x00CFFB00);
	CHECK_EQ(sel_insn(exec_LAR, SEL_CODE32), NO_FAULT); /* DPL 0 < CPL 3 */
	CHECK(!(C->rflags & RFLAGS_ZF));
	CHECK_EQ(sel_insn(exec_LAR, 0x400), NO_FAULT);      /* beyond the GDT */
	CHECK(!(C->rflags & RFLAGS_ZF));
	CHECK_EQ(sel_insn(exec_LSL, SEL_UDATA32), NO_FAULT);
	CHECK(C->rflags & RFLAGS_ZF);
	CHECK_EQ(C->gpr[RBX], 0xFFFFFFFF);
	CHECK_EQ(sel_insn(exec_VERR, SEL_UCODE32), NO_FAULT); /* readable code */
	CHECK(C->rflags & RFLAGS_ZF);
	CHECK_EQ(sel_insn(exec_VERW, SEL_UCODE32), NO_FAULT);
	CHECK(!(C->rflags & RFLAGS_ZF));
	CHECK_EQ(sel_insn(exec_VERW, SEL_UDATA32), NO_FAULT);
	CHECK(C->rflags & RFLAGS_ZF);
	mode_prot32(0);
	CHECK_EQ(sel_insn(exec_LSL, SEL_TSS), NO_FAULT); /* system: TSS is allowed */
	CHECK(C->rflags & RFLAGS_ZF);
	/* ARPL: raise RPL. */
	struct insn in = insn();
	in.rm = RAX;
	in.reg = RBX;
	in.osz = 1;
	C->gpr[RAX] = 0x10;
	C->gpr[RBX] = 0x3;
	CHECK_EQ(run_insn(exec_ARPL, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0x13);
	CHECK(C->rflags & RFLAGS_ZF);
	mode_real();
	CHECK_EQ(sel_insn(exec_LAR, SEL_CODE32), EXC_UD);
}

int main(void)
{
	sys_init();
	test_data_loads();
	test_null_ss_64();
	test_movss_shadow();
	test_access_checks();
	test_lxs();
	test_tables();
	test_ldt_tr();
	test_lar_lsl_verr();
	return report("sys_seg");
}
