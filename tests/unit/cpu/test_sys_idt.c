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
	test_events();
	test_init_sipi();
	test_single_step();
	return report("sys_idt");
}
