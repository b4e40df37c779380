/*
 * Event delivery: real-mode IVT (SDM 20.1.4), protected-mode gates with the TSS stack
 * switch (SDM 6.12.1), IA-32e gates with IST (SDM 6.14), error codes and the EXT bit
 * (SDM 6.13), double fault and shutdown (SDM 6.15 Table 6-5), pending events and HLT
 * (SDM 6.9, 6.8.3), INIT/SIPI (SDM 10.4), the single-step trap (SDM 17.3.1.4).
 */
#include "sys_harness.h"

#define HANDLER 0x5000ULL

static int int_n(int vec)
{
	struct insn in = insn();
	in.imm = (uint64_t)vec;
	return run_insn(exec_INT, &in);
}

static void test_real_mode(void)
{
	mode_real();
	*ram16(0x21 * 4) = 0x1234;
	*ram16(0x21 * 4 + 2) = 0x2000;
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_CF | RFLAGS_TF);
	CHECK_EQ(int_n(0x21), NO_FAULT);
	CHECK_EQ(C->seg[SEG_CS].sel, 0x2000);
	CHECK_EQ(C->seg[SEG_CS].base, 0x20000);
	CHECK_EQ(C->rip, 0x1234);
	CHECK_EQ(C->gpr[RSP], USTACK_TOP - 6);
	CHECK_EQ(stk16(0), 0x1002);  /* IP of the next instruction */
	CHECK_EQ(stk16(2), 0);       /* old CS */
	CHECK_EQ(stk16(4), RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_CF | RFLAGS_TF);
	CHECK(!(C->rflags & (RFLAGS_IF | RFLAGS_TF)));
	/* IRET comes back. */
	struct insn ir = insn();
	ir.osz = 1;
	CHECK_EQ(run_insn(exec_IRET, &ir), NO_FAULT);
	CHECK_EQ(C->rip, 0x1002);
	CHECK_EQ(C->gpr[RSP], USTACK_TOP);
	CHECK(C->rflags & RFLAGS_IF);
	/* Vector beyond the IVT limit: #GP, then #DF, then shutdown (SDM 20.1.4, 6.15). */
	mode_real();
	C->idtr.limit = 0;
	struct insn ud = insn();
	CHECK_EQ(run_deliver(exec_UD, &ud), EXC_UD);
	CHECK(C->shutdown);
	CHECK_EQ(C->delivering, EXC_DF);
	C->shutdown = C->halted = false;
}

static void test_prot_inner(void)
{
	mode_prot32(3);
	idt32_set(0x80, mkgate(SEL_CODE32, HANDLER, 0xF, 3, true, 0)); /* trap gate */
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_IF);
	CHECK_EQ(int_n(0x80), NO_FAULT);
	CHECK_EQ(C->cpl, 0);
	CHECK_EQ(C->seg[SEG_CS].sel, SEL_CODE32);
	CHECK_EQ(C->seg[SEG_SS].sel, SEL_DATA32);
	CHECK_EQ(C->rip, HANDLER);
	CHECK_EQ(C->gpr[RSP], KSTACK_TOP - 20);
	CHECK_EQ(stk32(0), CODE_BASE + 2);
	CHECK_EQ(stk32(4), SEL_UCODE32);
	CHECK_EQ(stk32(8), RFLAGS_FIXED1 | RFLAGS_IF);
	CHECK_EQ(stk32(12), USTACK_TOP);
	CHECK_EQ(stk32(16), SEL_UDATA32);
	CHECK(C->rflags & RFLAGS_IF); /* trap gate keeps IF */
	/* IRET back to ring 3 (SDM Vol.2 IRET "RETURN-TO-OUTER-PRIVILEGE-LEVEL"). */
	C->seg[SEG_DS] = C->seg[SEG_SS]; /* a DPL 0 data segment: nulled on return */
	struct insn ir = insn();
	CHECK_EQ(run_insn(exec_IRET, &ir), NO_FAULT);
	CHECK_EQ(C->cpl, 3);
	CHECK_EQ(C->rip, CODE_BASE + 2);
	CHECK_EQ(C->gpr[RSP], USTACK_TOP);
	CHECK_EQ(C->seg[SEG_SS].sel, SEL_UDATA32);
	CHECK_EQ(C->seg[SEG_DS].sel, 0);
	CHECK(C->seg[SEG_DS].ar & AR_UNUSABLE);
	/* Gate DPL < CPL for INT n: #GP(vector * 8 + 2), EXT = 0. */
	idt32_set(0x81, mkgate(SEL_CODE32, HANDLER, 0xE, 0, true, 0));
	CHECK_EXC(int_n(0x81), EXC_GP, 0x81 * 8 + 2);
	CHECK_EQ(C->cpl, 3); /* nothing changed */
	CHECK_EQ(C->gpr[RSP], USTACK_TOP);
	/* Not present: #NP(vector * 8 + 2). */
	idt32_set(0x82, mkgate(SEL_CODE32, HANDLER, 0xE, 3, false, 0));
	CHECK_EXC(int_n(0x82), EXC_NP, 0x82 * 8 + 2);
	/* Beyond the IDT limit: #GP(vector * 8 + 2). */
	CHECK_EXC(int_n(0x100 - 1), EXC_GP, 0xFF * 8 + 2);
	/* A bad ring-0 SS in the TSS: #TS(SS selector). */
	*ram32(TSS_BASE + 8) = SEL_UDATA32;
	CHECK_EXC(int_n(0x80), EXC_TS, SEL_UDATA32 & ~3);
}

/* A fault delivered through an interrupt gate at the same privilege, with RF set in
 * the image (SDM 17.3.1.1) and the error code pushed. */
static void test_prot_fault(void)
{
	mode_prot32(0);
	idt32_set(EXC_GP, mkgate(SEL_CODE32, HANDLER, 0xE, 0, true, 0));
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_IF);
	struct insn in = insn();
	in.reg = SEG_SS;
	in.rm = RAX;
	C->gpr[RAX] = 0;
	CHECK_EQ(run_deliver(exec_MOV_TO_SEG, &in), EXC_GP);
	CHECK_EQ(C->rip, HANDLER);
	CHECK_EQ(C->gpr[RSP], KSTACK_TOP - 16);
	CHECK_EQ(stk32(0), 0);                 /* error code */
	CHECK_EQ(stk32(4), CODE_BASE);         /* the faulting instruction */
	CHECK_EQ(stk32(12), RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_RF);
	CHECK(!(C->rflags & RFLAGS_IF));       /* interrupt gate */
	/* An external interrupt through a not-present gate: #NP with EXT = 1. */
	mode_prot32(0);
	idt32_set(0x30, mkgate(SEL_CODE32, HANDLER, 0xE, 0, false, 0));
	CHECK_EXC(GUARD(cpu_deliver_event(C, 0x30, EVENT_EXTERNAL, NO_ERROR_CODE)), EXC_NP,
		  0x30 * 8 + 2 + 1);
	/* An all-zero gate has an invalid type: #GP(vector * 8 + 2 + EXT). */
	CHECK_EXC(GUARD(cpu_deliver_event(C, 0x31, EVENT_EXTERNAL, NO_ERROR_CODE)), EXC_GP,
		  0x31 * 8 + 2 + 1);
}

/* SDM 6.15 Table 6-5. */
static void test_double_fault(void)
{
	mode_prot32(0);
	struct insn ud = insn();
	/* #GP whose gate is not present: #NP during #GP delivery = contributory twice. */
	idt32_set(EXC_DF, mkgate(SEL_CODE32, HANDLER + 8, 0xE, 0, true, 0));
	idt32_set(EXC_GP, mkgate(SEL_CODE32, HANDLER, 0xE, 0, false, 0));
	C->gpr[RCX] = 0;
	CHECK_EQ(run_deliver(exec_MOV_TO_SEG, &(struct insn){ .len = 2, .reg = SEG_SS,
							     .rm = RCX, .osz = 1 }),
		 EXC_GP);
	CHECK_EQ(C->exc_error, EXC_GP * 8 + 2 + 1); /* the #NP that made the #DF */
	CHECK_EQ(C->rip, HANDLER + 8);
	CHECK_EQ(stk32(0), 0);                 /* #DF error code */
	CHECK_EQ(stk32(4), CODE_BASE);
	CHECK(!C->shutdown);
	/* Benign first (#UD with no gate): the #NP is delivered, not #DF. */
	mode_prot32(0);
	idt32_set(EXC_NP, mkgate(SEL_CODE32, HANDLER + 16, 0xE, 0, true, 0));
	idt32_set(EXC_DF, mkgate(SEL_CODE32, HANDLER + 8, 0xE, 0, true, 0));
	idt32_set(EXC_UD, mkgate(SEL_CODE32, HANDLER, 0xE, 0, false, 0));
	CHECK_EQ(run_deliver(exec_UD, &ud), EXC_UD);
	CHECK_EQ(C->rip, HANDLER + 16);
	CHECK_EQ(stk32(0), EXC_UD * 8 + 2 + 1); /* #NP(IDT, EXT) */
	/* #PF then #PF, #PF then #GP: #DF; #GP then #PF: serial. */
	static const struct { int first, second, expect; } rows[] = {
		{ EXC_PF, EXC_PF, EXC_DF }, { EXC_PF, EXC_GP, EXC_DF },
		{ EXC_GP, EXC_PF, EXC_PF }, { EXC_GP, EXC_TS, EXC_DF },
		{ EXC_DE, EXC_SS, EXC_DF }, { EXC_UD, EXC_GP, EXC_GP },
		{ EXC_PF, EXC_UD, EXC_UD },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++) {
		mode_prot32(0);
		for (int v = 0; v < 32; v++)
			idt32_set(v, mkgate(SEL_CODE32, HANDLER + (uint64_t)v * 16, 0xE, 0, true, 0));
		C->delivering = (int8_t)rows[i].first;
		C->exc_vector = (uint8_t)rows[i].second;
		C->exc_error = 0;
		C->exc_cr2 = 0x1234;
		CHECK_EQ(GUARD(cpu_deliver_fault(C)), NO_FAULT);
		CHECK_EQ(C->rip, HANDLER + (uint64_t)rows[i].expect * 16);
		CHECK_EQ(C->delivering, -1);
	}
	CHECK_EQ(C->cr2, 0x1234); /* the last row delivered #UD; an earlier #PF set CR2 */
	/* A fault while delivering #DF: shutdown (triple fault). */
	mode_prot32(0);
	C->idtr.limit = 0;
	CHECK_EQ(run_deliver(exec_UD, &ud), EXC_UD);
	CHECK(C->shutdown);
	CHECK(C->halted);
	C->shutdown = C->halted = false;
}

static void test_long_mode(void)
{
	mode_long64(3);
	idt64_set(0x80, SEL_CODE64, HANDLER, 0xE, 3, 0);
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_IF);
	C->gpr[RSP] = USTACK_TOP - 8;
	CHECK_EQ(int_n(0x80), NO_FAULT);
	CHECK_EQ(C->cpl, 0);
	CHECK_EQ(C->mode, MODE_LONG64);
	CHECK_EQ(C->gpr[RSP], KSTACK_TOP - 40);
	CHECK_EQ(stk64(0), CODE_BASE + 2);
	CHECK_EQ(stk64(8), SEL_UCODE64);
	CHECK_EQ(stk64(16), RFLAGS_FIXED1 | RFLAGS_IF);
	CHECK_EQ(stk64(24), USTACK_TOP - 8);
	CHECK_EQ(stk64(32), SEL_UDATA32);
	CHECK_EQ(C->seg[SEG_SS].sel, 0);       /* null SS with RPL = new CPL (6.14.4) */
	CHECK(!(C->rflags & RFLAGS_IF));
	/* IRETQ back to ring 3. */
	struct insn ir = insn();
	ir.osz = 3;
	CHECK_EQ(run_insn(exec_IRET, &ir), NO_FAULT);
	CHECK_EQ(C->cpl, 3);
	CHECK_EQ(C->gpr[RSP], USTACK_TOP - 8);
	CHECK_EQ(C->rip, CODE_BASE + 2);
	CHECK(C->rflags & RFLAGS_IF);
	/* A #GP from ring 3 into ring 0: error code on a 16-byte aligned frame. */
	idt64_set(EXC_GP, SEL_CODE64, HANDLER + 0x10, 0xE, 0, 0);
	struct insn lg = insn();
	lg.flags = INSN_MEM;
	CHECK_EQ(run_deliver(exec_LGDT, &lg), EXC_GP);
	CHECK_EQ(C->gpr[RSP], KSTACK_TOP - 48);
	CHECK_EQ(stk64(0), 0);
	CHECK_EQ(stk64(8), CODE_BASE + 2);
	/* NMI through IST1 at CPL 0: the IST stack, aligned; NMIs blocked until IRET. */
	mode_long64(0);
	idt64_set(EXC_NMI, SEL_CODE64, HANDLER + 0x20, 0xE, 0, 1);
	C->gpr[RSP] = KSTACK_TOP - 0x18;
	cpu_signal(C, CPU_EV_NMI, 0);
	CHECK(cpu_handle_events(C));
	CHECK_EQ(C->rip, HANDLER + 0x20);
	CHECK_EQ(C->gpr[RSP], ISTACK_TOP - 40);
	CHECK_EQ(stk64(24), KSTACK_TOP - 0x18);
	CHECK(C->nmi_blocked);
	cpu_signal(C, CPU_EV_NMI, 0);
	CHECK(!cpu_handle_events(C));          /* blocked */
	ir.osz = 3;
	CHECK_EQ(run_insn(exec_IRET, &ir), NO_FAULT);
	CHECK(!C->nmi_blocked);
	CHECK_EQ(C->gpr[RSP], KSTACK_TOP - 0x18);
	CHECK(cpu_handle_events(C));           /* now delivered */
	/* A gate to a non-64-bit code segment: #GP(selector + EXT). */
	idt64_set(0x40, SEL_CODE32, HANDLER, 0xE, 0, 0);
	CHECK_EXC(GUARD(cpu_deliver_event(C, 0x40, EVENT_EXTERNAL, NO_ERROR_CODE)), EXC_GP,
		  SEL_CODE32 + 1);
}

/* --- frames, gates and descriptors across a page boundary ------------------------ */

/* 4 KiB pages for [FP_BASE, FP_BASE + 2 MiB) (the rest stays mapped by 2 MiB pages):
 * the fast paths copy a whole frame, gate or descriptor when one TLB entry covers it,
 * and must fall back to item-by-item accesses, with their fault order and CR2, when
 * it spans two pages. FP_BOUND is the boundary between 4 KiB pages 1 and 2. */
#define FP_BASE 0x1000000ULL
#define FP_PT (PT_BASE + 0x3000)
#define FP_BOUND (FP_BASE + 2 * PAGE_SIZE)

static void fp_map(void)
{
	for (uint64_t i = 0; i < 512; i++)
		*ram64(FP_PT + i * 8) = (FP_BASE + i * PAGE_SIZE) | 7;
	*ram64(PT_BASE + 0x2000 + (FP_BASE >> 21) * 8) = FP_PT | 7;
	tlb_flush_all(C);
}

static void fp_present(int page, bool p)
{
	u64_un *pte = ram64(FP_PT + (uint64_t)page * 8);
	*pte = p ? *pte | 1 : *pte & ~1ULL;
	tlb_flush_page(C, FP_BASE + (uint64_t)page * PAGE_SIZE);
}

/* Deliver #GP(0x1234) at CPL 0 with RSP = top (all pages present) and check the frame. */
static void frame_at(uint64_t top)
{
	mode_long64(0);
	fp_map();
	idt64_set(EXC_GP, SEL_CODE64, HANDLER, 0xE, 0, 0);
	C->gpr[RSP] = top;
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_ZF);
	CHECK_EQ(GUARD(cpu_deliver_event(C, EXC_GP, EVENT_HW_EXCEPTION, 0x1234)), NO_FAULT);
	CHECK_EQ(C->rip, HANDLER);
	CHECK_EQ(C->gpr[RSP], top - 48);
	CHECK_EQ(stk64(0), 0x1234);
	CHECK_EQ(stk64(8), CODE_BASE);
	CHECK_EQ(stk64(16), SEL_CODE64);
	CHECK_EQ(stk64(24), RFLAGS_FIXED1 | RFLAGS_ZF | RFLAGS_RF);
	CHECK_EQ(stk64(32), top);
	CHECK_EQ(stk64(40), SEL_DATA32);
}

/* SDM 6.14.2: SS, RSP, RFLAGS, CS, RIP, error code pushed in that order; a frame that
 * runs into a not-present page faults on the first item there, RSP unchanged. */
static void test_frame_pages(void)
{
	mode_long64(0);
	fp_map();
	idt64_set(0x40, SEL_CODE64, HANDLER, 0xE, 0, 0);
	fp_present(1, false);
	C->gpr[RSP] = FP_BOUND + 16;
	CHECK_EQ(GUARD(cpu_deliver_event(C, 0x40, EVENT_EXTERNAL, NO_ERROR_CODE)), EXC_PF);
	CHECK_EQ(C->exc_cr2, FP_BOUND - 8);
	CHECK_EQ(C->exc_error, PFEC_W);
	CHECK_EQ(C->gpr[RSP], FP_BOUND + 16);
	CHECK_EQ(C->rip, CODE_BASE);
	CHECK_EQ(*ram64(FP_BOUND + 8), SEL_DATA32); /* the pushes before the fault */
	CHECK_EQ(*ram64(FP_BOUND), FP_BOUND + 16);
	/* The frame starts on a page the TLB holds for writing and its first item is on
	 * a not-present page: #PF there, nothing written. */
	fp_present(1, true);
	fp_present(2, false);
	*ram64(FP_BOUND - 24) = 0x5A5A;
	CHECK_EQ(GUARD(lin_write(C, FP_BOUND - 24, 3, 0x5A5A, ACC_WRITE)), NO_FAULT);
	CHECK_EQ(GUARD(cpu_deliver_event(C, 0x40, EVENT_EXTERNAL, NO_ERROR_CODE)), EXC_PF);
	CHECK_EQ(C->exc_cr2, FP_BOUND + 8);
	CHECK_EQ(C->exc_error, PFEC_W);
	CHECK_EQ(*ram64(FP_BOUND - 24), 0x5A5A);
	fp_present(2, true);
	/* Present: the same frame across the boundary, then one inside a page. */
	frame_at(FP_BOUND + 16);
	frame_at(FP_BOUND + 0x100);
}

/* IRETQ reads RIP, CS, RFLAGS, checks CS, then reads RSP and SS (SDM Vol.2 IRET). */
static void test_iret_pages(void)
{
	struct insn ir = insn();
	ir.osz = 3;
	for (int cs_ok = 0; cs_ok < 2; cs_ok++) {
		/* RFLAGS on a not-present page: #PF before the CS checks. */
		mode_long64(0);
		fp_map();
		fp_present(2, false);
		C->gpr[RSP] = FP_BOUND - 16;
		/* The frame's first page is in the TLB: the fault still comes. */
		CHECK_EQ(GUARD(lin_read(C, FP_BOUND - 16, 3, ACC_READ)), NO_FAULT);
		*ram64(FP_BOUND - 16) = HANDLER;
		*ram64(FP_BOUND - 8) = cs_ok ? SEL_CODE64 : 0;
		CHECK_EQ(run_insn(exec_IRET, &ir), EXC_PF);
		CHECK_EQ(C->exc_cr2, FP_BOUND);
		CHECK_EQ(C->exc_error, 0);
		/* RSP on a not-present page: a null CS is #GP(0) first, else #PF. */
		C->gpr[RSP] = FP_BOUND - 24;
		*ram64(FP_BOUND - 24) = HANDLER;
		*ram64(FP_BOUND - 16) = cs_ok ? SEL_CODE64 : 0;
		*ram64(FP_BOUND - 8) = RFLAGS_FIXED1;
		CHECK_EQ(run_insn(exec_IRET, &ir), cs_ok ? EXC_PF : EXC_GP);
		CHECK_EQ(C->exc_error, 0);
		if (cs_ok)
			CHECK_EQ(C->exc_cr2, FP_BOUND);
		CHECK_EQ(C->gpr[RSP], FP_BOUND - 24);
		CHECK_EQ(C->rip, CODE_BASE);
	}
	/* Present: across the boundary and inside a page. */
	fp_present(2, true);
	for (int i = 0; i < 2; i++) {
		uint64_t f = i ? FP_BOUND + 0x80 : FP_BOUND - 24;
		C->gpr[RSP] = f;
		*ram64(f) = HANDLER + 0x10;
		*ram64(f + 8) = SEL_CODE64;
		*ram64(f + 16) = RFLAGS_FIXED1 | RFLAGS_CF;
		*ram64(f + 24) = 0x7000 + (uint64_t)i;
		*ram64(f + 32) = SEL_DATA32;
		CHECK_EQ(run_insn(exec_IRET, &ir), NO_FAULT);
		CHECK_EQ(C->rip, HANDLER + 0x10);
		CHECK_EQ(C->gpr[RSP], 0x7000 + (uint64_t)i);
		CHECK_EQ(C->seg[SEG_SS].sel, SEL_DATA32);
		CHECK(cpu_get_rflags(C) & RFLAGS_CF);
	}
}

/* IRETQ at CPL 0 with the frame at KSTACK_TOP - 0x100: RIP, CS, RFLAGS, RSP, SS. Run
 * twice without a TLB flush: the first reads the frame and the descriptors into the
 * TLB, so the second takes the same-privilege fast path if it applies. Returns the
 * second's vector or NO_FAULT, the first's in *first. */
static uint64_t spare_desc; /* installed at SEL_SPARE before each run */
static unsigned iret_cpl;   /* the CPL the IRETQ runs at (0 or 3) */
static uint64_t gdt0_desc;  /* installed at GDT entry 0 (never used by the CPU) */

static int iretq(uint64_t rip, uint16_t cs, uint64_t fl, uint16_t ss, int *first)
{
	struct insn ir = insn();
	ir.osz = 3;
	int v = NO_FAULT;
	mode_long64(iret_cpl);
	/* The GDT in the TLB even when the first run faults before reading it. */
	CHECK_EQ(GUARD(lin_read(C, GDT_BASE, 3, ACC_READ | ACC_IMPLICIT)), NO_FAULT);
	for (int i = 0; i < 2; i++) {
		gdt_set(SEL_SPARE, spare_desc); /* the first run may have set its A bit */
		gdt_set(0, gdt0_desc);
		set_cpl_segs(iret_cpl, iret_cpl ? SEL_UCODE64 : SEL_CODE64,
			     iret_cpl ? SEL_UDATA32 : SEL_DATA32);
		cpu_set_rflags(C, RFLAGS_FIXED1);
		C->rip = CODE_BASE;
		uint64_t f = KSTACK_TOP - 0x100;
		C->gpr[RSP] = f;
		*ram64(f) = rip;
		*ram64(f + 8) = cs;
		*ram64(f + 16) = fl;
		*ram64(f + 24) = 0x7777;
		*ram64(f + 32) = ss;
		C->nmi_blocked = true;
		v = run_insn(exec_IRET, &ir);
		if (i == 0)
			*first = v;
	}
	return v;
}

/* SDM Vol.2 IRET "RETURN-TO-SAME-PRIVILEGE-LEVEL" in 64-bit mode: the checks of CS and
 * SS, whether the descriptors are already in the TLB (the fast path) or not. */
static void test_iretq_same_level(void)
{
	int first;
	uint64_t fl = RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_CF | (3ULL << 12);
	CHECK_EQ(iretq(HANDLER, SEL_CODE64, fl, SEL_DATA32, &first), NO_FAULT);
	CHECK_EQ(first, NO_FAULT);
	CHECK_EQ(C->rip, HANDLER);
	CHECK_EQ(C->gpr[RSP], 0x7777);
	CHECK_EQ(C->seg[SEG_CS].sel, SEL_CODE64);
	CHECK_EQ(C->seg[SEG_SS].sel, SEL_DATA32);
	CHECK_EQ(cpu_get_rflags(C), fl);      /* IF and IOPL: CPL 0 may change them */
	CHECK(!C->nmi_blocked);
	CHECK_EQ(C->mode, MODE_LONG64);
	CHECK(*ram64(GDT_BASE + SEL_CODE64) & BIT(40)); /* accessed bits set */
	CHECK(*ram64(GDT_BASE + SEL_DATA32) & BIT(40));
	/* A null SS below CPL 3: unusable, RPL kept. */
	CHECK_EQ(iretq(HANDLER, SEL_CODE64, RFLAGS_FIXED1, 0, &first), NO_FAULT);
	CHECK(C->seg[SEG_SS].ar & AR_UNUSABLE);
	CHECK_EQ(C->seg[SEG_SS].sel, 0);
	/* Faults, each the same on both runs. */
	CHECK_EQ(iretq(HANDLER, 0, RFLAGS_FIXED1, SEL_DATA32, &first), EXC_GP);
	CHECK_EQ(first, EXC_GP);
	CHECK_EQ(C->exc_error, 0);
	CHECK_EQ(iretq(HANDLER, SEL_CODE32, RFLAGS_FIXED1, SEL_DATA32, &first), NO_FAULT);
	CHECK_EQ(C->mode, MODE_COMPAT32);     /* a 32-bit CS: compatibility mode */
	CHECK_EQ(iretq(0x0000800000000000ULL, SEL_CODE64, RFLAGS_FIXED1, SEL_DATA32, &first),
		 EXC_GP);
	CHECK_EQ(first, EXC_GP);
	CHECK_EQ(iretq(HANDLER, SEL_CODE64, RFLAGS_FIXED1, SEL_UDATA32 & ~3, &first), EXC_GP);
	CHECK_EQ(first, EXC_GP);
	CHECK_EQ(C->exc_error, SEL_UDATA32 & ~3);
	CHECK_EQ(iretq(HANDLER, SEL_CODE64, RFLAGS_FIXED1, SEL_CODE32, &first), EXC_GP);
	CHECK_EQ(C->exc_error, SEL_CODE32);
	CHECK_EQ(C->gpr[RSP], KSTACK_TOP - 0x100); /* nothing changed */
	CHECK_EQ(C->rip, CODE_BASE);
	/* Not present (accessed bits set): #NP(CS), #SS(SS). */
	struct { uint16_t cs, ss; int vec; uint16_t err; } rows[] = {
		{ SEL_SPARE, SEL_DATA32, EXC_NP, SEL_SPARE },
		{ SEL_CODE64, SEL_SPARE, EXC_SS, SEL_SPARE },
	};
	for (unsigned i = 0; i < 2; i++) {
		uint64_t code = mkdesc(0, 0xFFFFF, 0xB, true, 0, false, F_L | F_G);
		uint64_t data = mkdesc(0, 0xFFFFF, 0x3, true, 0, false, F_DB | F_G);
		spare_desc = i == 0 ? code : data;
		CHECK_EQ(iretq(HANDLER, rows[i].cs, RFLAGS_FIXED1, rows[i].ss, &first), rows[i].vec);
		CHECK_EQ(C->exc_error, rows[i].err);
	}
	/* Accessed bits clear (iretq() installs them anew for each run): the IRET sets
	 * them in memory (SDM 3.4.5.1). */
	spare_desc = mkdesc(0, 0xFFFFF, 0xA, true, 0, true, F_L | F_G);
	CHECK_EQ(iretq(HANDLER, SEL_SPARE, RFLAGS_FIXED1, SEL_DATA32, &first), NO_FAULT);
	CHECK_EQ(*ram64(GDT_BASE + SEL_SPARE), spare_desc | BIT(40));
	CHECK_EQ(C->seg[SEG_CS].sel, SEL_SPARE);
	spare_desc = mkdesc(0, 0xFFFFF, 0x2, true, 0, true, F_DB | F_G);
	CHECK_EQ(iretq(HANDLER, SEL_CODE64, RFLAGS_FIXED1, SEL_SPARE, &first), NO_FAULT);
	CHECK_EQ(*ram64(GDT_BASE + SEL_SPARE), spare_desc | BIT(40));
	CHECK_EQ(C->seg[SEG_SS].sel, SEL_SPARE);
	/* Rows the fast path must leave to the general path. */
	struct { uint64_t desc; unsigned cpl; uint16_t cs, ss; int vec; uint16_t err; } gp[] = {
		/* L = 1 with D = 1 is reserved in IA-32e mode (SDM 5.2.1) */
		{ mkdesc(0, 0xFFFFF, 0xB, true, 0, true, F_L | F_DB | F_G), 0, SEL_SPARE,
		  SEL_DATA32, EXC_GP, SEL_SPARE },
		/* conforming DPL 0 code with RPL 3: an outer return, where a null SS is #GP(0) */
		{ mkdesc(0, 0xFFFFF, 0xF, true, 0, true, F_L | F_G), 0, SEL_SPARE | 3, 0,
		  EXC_GP, 0 },
		/* SS RPL != CPL, read-only SS */
		{ 0, 0, SEL_CODE64, SEL_DATA32 | 3, EXC_GP, SEL_DATA32 },
		{ mkdesc(0, 0xFFFFF, 0x1, true, 0, true, F_DB | F_G), 0, SEL_CODE64, SEL_SPARE,
		  EXC_GP, SEL_SPARE },
		/* CPL 3: a null SS is #GP(0); an SS with DPL < CPL */
		{ 0, 3, SEL_UCODE64, 3, EXC_GP, 0 },
		{ 0, 3, SEL_UCODE64, SEL_DATA32 | 3, EXC_GP, SEL_DATA32 },
		/* non-conforming code with DPL != RPL */
		{ 0, 0, SEL_UCODE64 & ~3, SEL_DATA32, EXC_GP, SEL_UCODE64 & ~3 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(gp); i++) {
		spare_desc = gp[i].desc;
		iret_cpl = gp[i].cpl;
		CHECK_EQ(iretq(HANDLER, gp[i].cs, RFLAGS_FIXED1, gp[i].ss, &first), gp[i].vec);
		CHECK_EQ(first, gp[i].vec);
		CHECK_EQ(C->exc_error, gp[i].err);
	}
	/* A null CS is #GP(0) whatever GDT entry 0 holds. */
	gdt0_desc = mkdesc(0, 0xFFFFF, 0xB, true, 0, true, F_L | F_G);
	CHECK_EQ(iretq(HANDLER, 0, RFLAGS_FIXED1, SEL_DATA32, &first), EXC_GP);
	CHECK_EQ(C->exc_error, 0);
	gdt0_desc = 0;
	/* CPL 3 to CPL 3 with a DPL 3 SS: fine. */
	CHECK_EQ(iretq(HANDLER, SEL_UCODE64, RFLAGS_FIXED1, SEL_UDATA32, &first), NO_FAULT);
	CHECK_EQ(C->cpl, 3);
	CHECK_EQ(C->seg[SEG_SS].sel, SEL_UDATA32);
	iret_cpl = 0;
	spare_desc = 0;
}

/* A 16-byte gate and an 8-byte descriptor across a boundary: #PF on the second page
 * (CR2 = its first byte); present, both read whole. */
static void test_gate_desc_pages(void)
{
	mode_long64(0);
	fp_map();
	fp_present(2, false);
	uint64_t hi = 0xFFFFFFFF80001000ULL;
	C->idtr = (struct dtr){ FP_BOUND - 8 - 0x40 * 16, 0xFFF };
	*ram64(FP_BOUND - 8) = mkgate(SEL_CODE64, hi, 0xE, 0, true, 0);
	CHECK_EQ(GUARD(lin_read(C, FP_BOUND - 8, 3, ACC_READ | ACC_IMPLICIT)), NO_FAULT);
	CHECK_EQ(GUARD(cpu_deliver_event(C, 0x40, EVENT_EXTERNAL, NO_ERROR_CODE)), EXC_PF);
	CHECK_EQ(C->exc_cr2, FP_BOUND);
	CHECK_EQ(C->exc_error, 0);
	fp_present(2, true);
	*ram64(FP_BOUND) = hi >> 32;
	CHECK_EQ(GUARD(cpu_deliver_event(C, 0x40, EVENT_EXTERNAL, NO_ERROR_CODE)), NO_FAULT);
	CHECK_EQ(C->rip, hi);
	/* GDT entry 1 at [FP_BOUND - 4, FP_BOUND + 4): a data descriptor, accessed bit
	 * clear; loading it sets the bit (byte 5, on the second page: SDM 3.4.5.1). */
	mode_long64(0);
	fp_map();
	C->gdtr = (struct dtr){ FP_BOUND - 12, 0x7F };
	uint64_t d = mkdesc(0, 0xFFFFF, 0x2, true, 0, true, F_DB | F_G);
	memcpy(B.ram + FP_BOUND - 4, &d, 8);
	fp_present(2, false);
	CHECK_EQ(GUARD(lin_read(C, FP_BOUND - 4, 2, ACC_READ | ACC_IMPLICIT)), NO_FAULT);
	CHECK_EQ(GUARD(seg_load(C, SEG_DS, 0x08)), EXC_PF);
	CHECK_EQ(C->exc_cr2, FP_BOUND);
	fp_present(2, true);
	CHECK_EQ(GUARD(seg_load(C, SEG_DS, 0x08)), NO_FAULT);
	CHECK_EQ(C->seg[SEG_DS].sel, 0x08);
	CHECK(B.ram[FP_BOUND + 1] & 1);
	/* Inside one page: the same, and the bit is set in memory. */
	C->gdtr = (struct dtr){ FP_BASE, 0x7F };
	*ram64(FP_BASE + 8) = d;
	CHECK_EQ(GUARD(seg_load(C, SEG_ES, 0x08)), NO_FAULT);
	CHECK_EQ(*ram64(FP_BASE + 8), d | BIT(40));
}

/* SDM 4.6.1: implicit accesses (the IDT) are supervisor accesses that CR4.SMAP keeps
 * off user pages whatever EFLAGS.AC is, even when an explicit access with AC = 1 has
 * already put the page in the TLB. */
static void test_smap_implicit(void)
{
	mode_long64(0);
	idt64_set(0x40, SEL_CODE64, HANDLER, 0xE, 0, 0);
	C->cr4 |= CR4_SMAP;
	tlb_ctl_written(C);
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_AC);
	struct insn ld = insn_mem(3, IDT_BASE + 0x40 * 16);
	CHECK_EQ(run_insn(exec_MOV, &ld), NO_FAULT); /* explicit, AC = 1: allowed */
	CHECK_EQ(GUARD(cpu_deliver_event(C, 0x40, EVENT_EXTERNAL, NO_ERROR_CODE)), EXC_PF);
	CHECK_EQ(C->exc_cr2, IDT_BASE + 0x40 * 16);
	CHECK_EQ(C->exc_error, PFEC_P);
	C->cr4 &= ~CR4_SMAP;
	tlb_ctl_written(C);
}

/* --- pending events ------------------------------------------------------------- */

static int ack_vector = -1;
static int intr_ack(void *apic) { (void)apic; return ack_vector; }
static const struct cpu_apic_ops apic = { .intr_ack = intr_ack };

static void test_events(void)
{
	mode_prot32(0);
	C->apic_ops = &apic;
	idt32_set(0x40, mkgate(SEL_CODE32, HANDLER, 0xE, 0, true, 0));
	struct insn in = insn();
	/* HLT with IF = 0: an INTR neither wakes nor is delivered (SDM Vol.2 HLT). */
	CHECK_EQ(run_insn(exec_HLT, &in), NO_FAULT);
	CHECK(C->halted);
	ack_vector = 0x40;
	cpu_set_intr(C, true);
	CHECK(!cpu_handle_events(C));
	CHECK(C->halted);
	/* STI: blocked for one more instruction (the shadow), then delivered. */
	C->halted = false;
	CHECK_EQ(run_insn(exec_STI, &in), NO_FAULT);
	CHECK(!cpu_handle_events(C));
	CHECK_EQ(run_insn(exec_HLT, &in), NO_FAULT);
	CHECK(C->halted);
	uint64_t after_hlt = C->rip;
	CHECK(cpu_handle_events(C));
	CHECK(!C->halted);
	CHECK_EQ(C->rip, HANDLER);
	CHECK_EQ(stk32(0), after_hlt);
	/* A withdrawn interrupt (-1 from the acknowledge): nothing happens. */
	mode_prot32(0);
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_IF);
	ack_vector = -1;
	CHECK(!cpu_handle_events(C));
	CHECK_EQ(C->rip, CODE_BASE);
	cpu_set_intr(C, false);
	/* STI when IF is already 1: no shadow. */
	CHECK_EQ(run_insn(exec_STI, &in), NO_FAULT);
	CHECK_EQ(C->intr_shadow, 0);
	C->apic_ops = NULL;
}

static void test_init_sipi(void)
{
	mode_long64(0);
	C->bsp = false;
	cpu_signal(C, CPU_EV_INIT, 0);
	CHECK(cpu_handle_events(C));
	CHECK(C->wait_for_sipi);
	CHECK_EQ(C->mode, MODE_REAL);
	CHECK_EQ(C->efer, 0);
	CHECK_EQ(C->gpr[RDX], CPUID_SIGNATURE);
	cpu_signal(C, CPU_EV_NMI, 0);
	CHECK(!cpu_handle_events(C));           /* held while waiting for SIPI */
	cpu_signal(C, CPU_EV_SIPI, 0x9A);
	CHECK(cpu_handle_events(C));
	CHECK(!C->wait_for_sipi);
	CHECK_EQ(C->seg[SEG_CS].sel, 0x9A00);
	CHECK_EQ(C->seg[SEG_CS].base, 0x9A000);
	CHECK_EQ(C->rip, 0);
	/* A second SIPI is ignored. */
	cpu_signal(C, CPU_EV_SIPI, 0x10);
	C->events &= ~CPU_EV_NMI;
	CHECK(!cpu_handle_events(C));
	CHECK_EQ(C->seg[SEG_CS].sel, 0x9A00);
	/* INIT and SIPI sent back to back, both pending when the AP next runs (as
	 * kvm-unit-tests' ap_init does): the INIT, then the SIPI, take effect. */
	cpu_signal(C, CPU_EV_INIT, 0);
	cpu_signal(C, CPU_EV_SIPI, 0x01);
	CHECK(cpu_handle_events(C));
	CHECK(C->wait_for_sipi);
	CHECK(cpu_handle_events(C));
	CHECK(!C->wait_for_sipi);
	CHECK_EQ(C->seg[SEG_CS].sel, 0x0100);
	/* A SIPI that arrived before the INIT is void. */
	cpu_signal(C, CPU_EV_SIPI, 0x02);
	cpu_signal(C, CPU_EV_INIT, 0);
	CHECK(cpu_handle_events(C));
	CHECK(C->wait_for_sipi);
	CHECK(!cpu_handle_events(C));
	CHECK(C->wait_for_sipi);
	C->bsp = true;
}

/* SDM 17.3.1.4: #DB trap after an instruction that began with TF = 1. */
static void test_single_step(void)
{
	mode_prot32(0);
	idt32_set(EXC_DB, mkgate(SEL_CODE32, HANDLER, 0xE, 0, true, 0));
	idt32_set(0x80, mkgate(SEL_CODE32, HANDLER + 0x40, 0xE, 0, true, 0));
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_TF);
	struct insn nop = insn();
	CHECK_EQ(run_insn(exec_NOP, &nop), NO_FAULT);
	CHECK_EQ(GUARD(cpu_single_step_trap(C)), NO_FAULT);
	CHECK_EQ(C->rip, HANDLER);
	CHECK_EQ(stk32(0), CODE_BASE + 2);
	CHECK(C->dr[6] & BIT(14));
	CHECK(!(C->rflags & RFLAGS_TF));
	/* INT n with TF: TF cleared by the gate, no trap after INT n. */
	mode_prot32(0);
	idt32_set(EXC_DB, mkgate(SEL_CODE32, HANDLER, 0xE, 0, true, 0));
	idt32_set(0x80, mkgate(SEL_CODE32, HANDLER + 0x40, 0xE, 0, true, 0));
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_TF);
	CHECK_EQ(int_n(0x80), NO_FAULT);
	CHECK_EQ(GUARD(cpu_single_step_trap(C)), NO_FAULT);
	CHECK_EQ(C->rip, HANDLER + 0x40);
	CHECK(!C->tf_no_trap);
}

int main(void)
{
	sys_init();
	test_real_mode();
	test_prot_inner();
	test_prot_fault();
	test_double_fault();
	test_long_mode();
	test_frame_pages();
	test_iret_pages();
	test_iretq_same_level();
	test_gate_desc_pages();
	test_smap_implicit();
	test_events();
	test_init_sipi();
	test_single_step();
	return report("sys_idt");
}
