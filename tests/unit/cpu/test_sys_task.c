/*
 * Hardware task switching (SDM Vol.3A ch.8; SDM Vol.2 JMP, CALL, INT n, IRET):
 *   - JMP to a TSS: the old TSS's dynamic fields exactly as SDM 8.2.1 (Figure 8-2)
 *     lists them, the new state loaded, the busy flags and NT of Table 8-2;
 *   - CALL through a task gate, then IRET back (NT, back link, busy flags);
 *   - an exception and INT n through an IDT task gate (error code on the new stack,
 *     SDM Vol.2 INT n "TASK-GATE"; EXT in error codes, SDM 6.13);
 *   - the failure conditions of Table 8-1 with their vectors and error codes, before
 *     the commit point (nothing changes) and after it (new task's context);
 *   - 16-bit TSSs (SDM 8.6), CR3 with 32-bit and PAE paging (SDM 4.4.1), CR0.TS
 *     (SDM 2.5), DR7.L0-L3 (SDM 17.2.4);
 *   - IA-32e mode: every cause is #GP (SDM 8.7).
 */
#include "sys_harness.h"

#define TSS_B 0x4000ULL     /* 32-bit TSS of task B */
#define TSS_C 0x4100ULL     /* 32-bit TSS of task C (failure tests) */
#define TSS_16 0x4200ULL    /* 16-bit TSS */
#define NEW_EIP 0x21000ULL
#define NEW_ESP 0x7000ULL
#define LDT_DATA_BASE 0x100000u

/* System descriptor types (SDM Table 3-2). */
enum {
	TY_TSS16 = 1, TY_LDT = 2, TY_TSS16_BUSY = 3, TY_TASK_GATE = 5, TY_TSS = 9,
	TY_TSS_BUSY = 11,
};

/* GDT entries above the harness's (the GDT limit is raised to 0xFF). */
enum {
	SEL_TSS_B = 0x80, SEL_GATE = 0x88, SEL_TSS16 = 0x90, SEL_LDT = 0x98,
	SEL_TSS_C = 0xA0, SEL_CODE_NP = 0xA8, SEL_DATA_NP = 0xB0, SEL_DATA_RO = 0xB8,
	SEL_CODE_XO = 0xC0, SEL_CODE_CONF = 0xC8, SEL_X = 0xD0, SEL_DATA16 = 0xD8,
	SEL_LDT_DATA = 0x0C, /* LDT entry 1, TI = 1 */
};

/* A TSS field (32-bit layout, SDM Figure 8-2). */
enum {
	T_LINK = 0x00, T_CR3 = 0x1C, T_EIP = 0x20, T_EFLAGS = 0x24, T_EAX = 0x28,
	T_ESP = 0x38, T_ES = 0x48, T_CS = 0x4C, T_SS = 0x50, T_DS = 0x54, T_FS = 0x58,
	T_GS = 0x5C, T_LDT = 0x60, T_IOMAP = 0x66,
};

static unsigned gdt_type(uint16_t sel)
{
	return (*ram64(GDT_BASE + (sel & 0xFFF8)) >> 40) & 0xF;
}

/* A ready-to-run 32-bit TSS: ring-0 flat code/data, EIP NEW_EIP, ESP NEW_ESP, the
 * GPRs 0x1000 + n, CF set, back link 0xBEEF (to see whether it is written). */
static void tss32_fill(uint64_t base)
{
	memset(B.ram + base, 0, 0x68);
	*ram16(base + T_LINK) = 0xBEEF;
	*ram32(base + T_EIP) = NEW_EIP;
	*ram32(base + T_EFLAGS) = RFLAGS_FIXED1 | RFLAGS_CF;
	for (int i = 0; i < 8; i++)
		*ram32(base + T_EAX + 4 * (uint64_t)i) = 0x1000 + (uint32_t)i;
	*ram32(base + T_ESP) = NEW_ESP;
	for (int i = 0; i < SEG_COUNT; i++)
		*ram16(base + T_ES + 4 * (uint64_t)i) = SEL_DATA32;
	*ram16(base + T_CS) = SEL_CODE32;
	*ram16(base + T_IOMAP) = 0x68;
}

/* 32-bit protected mode at cpl; the current task is the harness's busy TSS (SEL_TSS
 * at TSS_BASE); task B is available, with a task gate (DPL 3) to it. */
static void setup(unsigned cpl)
{
	mode_prot32(cpl);
	C->gdtr.limit = 0xFF;
	memset(B.ram + GDT_BASE + 0x80, 0, 0x80);
	gdt_set(SEL_TSS_B, mkdesc((uint32_t)TSS_B, 0x67, TY_TSS, false, 0, true, 0));
	gdt_set(SEL_TSS_C, mkdesc((uint32_t)TSS_C, 0x67, TY_TSS, false, 0, true, 0));
	gdt_set(SEL_GATE, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 3, true, 0));
	gdt_set(SEL_LDT, mkdesc((uint32_t)LDT_BASE, 0xF, TY_LDT, false, 0, true, 0));
	gdt_set(SEL_CODE_NP, mkdesc(0, 0xFFFFF, 0xB, true, 0, false, F_DB | F_G));
	gdt_set(SEL_DATA_NP, mkdesc(0, 0xFFFFF, 0x3, true, 0, false, F_DB | F_G));
	gdt_set(SEL_DATA_RO, mkdesc(0, 0xFFFFF, 0x1, true, 0, true, F_DB | F_G));
	gdt_set(SEL_CODE_XO, mkdesc(0, 0xFFFFF, 0x9, true, 0, true, F_DB | F_G));
	gdt_set(SEL_CODE_CONF, mkdesc(0, 0xFFFFF, 0xF, true, 0, true, F_DB | F_G));
	gdt_set(SEL_DATA16, mkdesc(0, 0xFFFF, 0x3, true, 0, true, 0));
	*ram64(LDT_BASE + 8) = mkdesc(LDT_DATA_BASE, 0xFFFF, 0x3, true, 0, true, F_DB);
	tss32_fill(TSS_B);
	tss32_fill(TSS_C);
	memset(B.ram + TSS_BASE, 0, 0x68); /* the old TSS: only what the switch saves */
	*ram16(TSS_BASE + T_IOMAP) = 0x68;
	for (int i = 0; i < 8; i++)
		C->gpr[i] = 0xA0 + (uint64_t)i;
	C->gpr[RSP] = (cpl ? USTACK_TOP : KSTACK_TOP) - 0x10;
	C->dr[7] = 0x4FF;
}

static int far(exec_fn fn, uint16_t sel)
{
	struct insn in = insn();
	in.form = FORM_I;
	in.imm = 0xDEAD; /* the offset is not used by a task switch */
	in.imm2 = sel;
	return run_insn(fn, &in);
}

static int iret(void)
{
	struct insn in = insn();
	return run_insn(exec_IRET, &in);
}

/* --- JMP ----------------------------------------------------------------------------- */

/* SDM 8.3 steps 6-12, Table 8-2 (JMP column), SDM 8.2.1 (dynamic fields saved). */
static void test_jmp_tss(void)
{
	setup(0);
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_ZF | RFLAGS_NT | RFLAGS_IF);
	CHECK_EQ(far(exec_JMP_FAR, SEL_TSS_B), NO_FAULT);
	/* The old TSS: EIP of the next instruction, EFLAGS with NT unchanged (Table 8-2:
	 * "No change" for JMP), the GPRs, the six selectors; static fields untouched. */
	CHECK_EQ(*ram32(TSS_BASE + T_EIP), CODE_BASE + 2);
	CHECK_EQ(*ram32(TSS_BASE + T_EFLAGS), RFLAGS_FIXED1 | RFLAGS_ZF | RFLAGS_NT | RFLAGS_IF);
	for (int i = 0; i < 8; i++)
		CHECK_EQ(*ram32(TSS_BASE + T_EAX + 4 * (uint64_t)i),
			 i == RSP ? KSTACK_TOP - 0x10 : 0xA0 + (uint64_t)i);
	CHECK_EQ(*ram16(TSS_BASE + T_ES), SEL_DATA32);
	CHECK_EQ(*ram16(TSS_BASE + T_CS), SEL_CODE32);
	CHECK_EQ(*ram16(TSS_BASE + T_SS), SEL_DATA32);
	CHECK_EQ(*ram16(TSS_BASE + T_DS), SEL_DATA32);
	CHECK_EQ(*ram16(TSS_BASE + T_FS), SEL_DATA32);
	CHECK_EQ(*ram16(TSS_BASE + T_GS), SEL_DATA32);
	CHECK_EQ(*ram16(TSS_BASE + T_LINK), 0);
	CHECK_EQ(*ram32(TSS_BASE + T_CR3), 0);
	CHECK_EQ(*ram16(TSS_BASE + T_LDT), 0);
	CHECK_EQ(*ram32(TSS_BASE + 4), 0); /* ESP0 is static */
	/* Busy flags: old cleared, new set (Table 8-2); the back link is not written. */
	CHECK_EQ(gdt_type(SEL_TSS), TY_TSS);
	CHECK_EQ(gdt_type(SEL_TSS_B), TY_TSS_BUSY);
	CHECK_EQ(*ram16(TSS_B + T_LINK), 0xBEEF);
	/* TR and its cache (step 11). */
	CHECK_EQ(C->tr.sel, SEL_TSS_B);
	CHECK_EQ(C->tr.base, TSS_B);
	CHECK_EQ(C->tr.limit, 0x67);
	CHECK_EQ(C->tr.ar & AR_TYPE_MASK, TY_TSS_BUSY);
	/* The new state (step 12): EFLAGS as in the TSS (NT = 0), EIP, GPRs, segments. */
	CHECK_EQ(C->rip, NEW_EIP);
	CHECK_EQ(cpu_get_rflags(C), RFLAGS_FIXED1 | RFLAGS_CF);
	for (int i = 0; i < 8; i++)
		CHECK_EQ(C->gpr[i], i == RSP ? NEW_ESP : 0x1000 + (uint64_t)i);
	CHECK_EQ(C->seg[SEG_CS].sel, SEL_CODE32);
	CHECK_EQ(C->seg[SEG_SS].sel, SEL_DATA32);
	CHECK(!(C->seg[SEG_GS].ar & AR_UNUSABLE));
	CHECK_EQ(C->seg[SEG_DS].limit, 0xFFFFFFFF);
	CHECK(C->ldtr.ar & AR_UNUSABLE);
	CHECK_EQ(C->mode, MODE_PROT32);
	CHECK_EQ(C->cpl, 0);
	/* SDM 2.5: CR0.TS set; SDM 17.2.4: DR7.L0-L3 cleared. */
	CHECK(C->cr0 & CR0_TS);
	CHECK_EQ(C->dr[7], 0x4AA);
	/* JMP back to the first task through its (now available) TSS descriptor. */
	CHECK_EQ(far(exec_JMP_FAR, SEL_TSS), NO_FAULT);
	CHECK_EQ(C->tr.sel, SEL_TSS);
	CHECK_EQ(C->rip, CODE_BASE + 2);
	CHECK_EQ(C->gpr[RAX], 0xA0);
	CHECK_EQ(cpu_get_rflags(C), RFLAGS_FIXED1 | RFLAGS_ZF | RFLAGS_NT | RFLAGS_IF);
	CHECK_EQ(gdt_type(SEL_TSS), TY_TSS_BUSY);
	CHECK_EQ(gdt_type(SEL_TSS_B), TY_TSS);
	CHECK_EQ(*ram32(TSS_B + T_EIP), NEW_EIP + 2);
}

/* JMP through a task gate: the gate's DPL is checked, the TSS's is not (SDM 8.2.5). */
static void test_jmp_gate(void)
{
	setup(3);
	CHECK_EQ(far(exec_JMP_FAR, SEL_GATE | 3), NO_FAULT);
	CHECK_EQ(C->tr.sel, SEL_TSS_B);
	CHECK_EQ(C->cpl, 0);
	CHECK_EQ(*ram16(TSS_BASE + T_CS), SEL_UCODE32);
	CHECK_EQ(*ram16(TSS_BASE + T_SS), SEL_UDATA32);
	CHECK_EQ(gdt_type(SEL_TSS), TY_TSS);
	CHECK_EQ(gdt_type(SEL_TSS_B), TY_TSS_BUSY);
	CHECK(!(C->rflags & RFLAGS_NT));
}

/* --- CALL and IRET ---------------------------------------------------------------- */

/* Table 8-2, CALL and IRET columns; SDM Vol.2 IRET "TASK-RETURN". */
static void test_call_iret(void)
{
	setup(3);
	CHECK_EQ(far(exec_CALL_FAR, SEL_GATE | 3), NO_FAULT);
	CHECK_EQ(C->tr.sel, SEL_TSS_B);
	CHECK_EQ(C->rip, NEW_EIP);
	CHECK_EQ(C->cpl, 0);
	CHECK_EQ(C->gpr[RSP], NEW_ESP); /* nothing is pushed */
	CHECK(C->rflags & RFLAGS_NT);   /* set in the new task */
	CHECK_EQ(*ram16(TSS_B + T_LINK), SEL_TSS); /* back link = old TSS */
	CHECK_EQ(gdt_type(SEL_TSS), TY_TSS_BUSY); /* old stays busy */
	CHECK_EQ(gdt_type(SEL_TSS_B), TY_TSS_BUSY);
	CHECK_EQ(*ram32(TSS_BASE + T_EIP), CODE_BASE + 2);
	CHECK_EQ(*ram32(TSS_BASE + T_EFLAGS), RFLAGS_FIXED1);
	/* A CALL to a busy TSS (the caller's) is #GP(TSS selector). */
	CHECK_EXC(far(exec_CALL_FAR, SEL_TSS), EXC_GP, SEL_TSS);
	/* Task B runs a little, then IRET returns through the back link. */
	C->gpr[RAX] = 0x5555;
	C->rip = NEW_EIP + 0x10;
	CHECK_EQ(iret(), NO_FAULT);
	CHECK_EQ(C->tr.sel, SEL_TSS);
	CHECK_EQ(C->rip, CODE_BASE + 2);
	CHECK_EQ(C->cpl, 3);
	CHECK_EQ(C->seg[SEG_CS].sel, SEL_UCODE32);
	CHECK_EQ(C->seg[SEG_SS].sel, SEL_UDATA32);
	CHECK_EQ(C->gpr[RAX], 0xA0);
	CHECK_EQ(C->gpr[RSP], USTACK_TOP - 0x10);
	CHECK(!(C->rflags & RFLAGS_NT));
	/* Task B's state: EIP after the IRET, NT cleared in the saved image (step 7). */
	CHECK_EQ(*ram32(TSS_B + T_EIP), NEW_EIP + 0x12);
	CHECK_EQ(*ram32(TSS_B + T_EFLAGS), RFLAGS_FIXED1 | RFLAGS_CF);
	CHECK_EQ(*ram32(TSS_B + T_EAX), 0x5555);
	/* IRET: old (B) no longer busy, new (the caller) left busy. */
	CHECK_EQ(gdt_type(SEL_TSS_B), TY_TSS);
	CHECK_EQ(gdt_type(SEL_TSS), TY_TSS_BUSY);
	CHECK_EQ(*ram16(TSS_B + T_LINK), SEL_TSS);
}

/* IRET with NT = 1 and a bad back link (SDM 6.15 Table 6-6): #TS(link), #NP(link). */
static void test_iret_errors(void)
{
	setup(0);
	C->rflags |= RFLAGS_NT;
	*ram16(TSS_BASE + T_LINK) = 0;
	CHECK_EXC(iret(), EXC_TS, 0);                   /* null back link */
	*ram16(TSS_BASE + T_LINK) = SEL_TSS_B;
	CHECK_EXC(iret(), EXC_TS, SEL_TSS_B);           /* not busy */
	*ram16(TSS_BASE + T_LINK) = SEL_TSS_B | 4;
	CHECK_EXC(iret(), EXC_TS, SEL_TSS_B | 4);       /* TI = 1 */
	*ram16(TSS_BASE + T_LINK) = 0x400;
	CHECK_EXC(iret(), EXC_TS, 0x400);               /* beyond the GDT limit */
	*ram16(TSS_BASE + T_LINK) = SEL_DATA32;
	CHECK_EXC(iret(), EXC_TS, SEL_DATA32);          /* not a TSS */
	gdt_set(SEL_TSS_B, mkdesc((uint32_t)TSS_B, 0x67, TY_TSS_BUSY, false, 0, false, 0));
	*ram16(TSS_BASE + T_LINK) = SEL_TSS_B;
	CHECK_EXC(iret(), EXC_NP, SEL_TSS_B);           /* busy but not present */
	CHECK_EQ(C->tr.sel, SEL_TSS);
	CHECK_EQ(C->rip, CODE_BASE);
	CHECK_EQ(gdt_type(SEL_TSS), TY_TSS_BUSY);
	/* A busy, present back link with a short limit: #TS(link) (step 3). */
	gdt_set(SEL_TSS_B, mkdesc((uint32_t)TSS_B, 0x66, TY_TSS_BUSY, false, 0, true, 0));
	CHECK_EXC(iret(), EXC_TS, SEL_TSS_B);
	CHECK_EQ(gdt_type(SEL_TSS), TY_TSS_BUSY);
}

/* --- task gates in the IDT ----------------------------------------------------------- */

/* An exception with an error code through a task gate (SDM 6.12.2; INT n
 * "TASK-GATE": the error code is pushed on the new task's stack). */
static void test_exception_gate(void)
{
	setup(0);
	idt32_set(EXC_GP, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 0, true, 0));
	struct insn in = insn();
	in.form = FORM_I;
	in.imm2 = SEL_DATA32; /* JMP far to a data segment: #GP(selector) */
	CHECK_EQ(run_deliver(exec_JMP_FAR, &in), EXC_GP);
	CHECK_EQ(C->tr.sel, SEL_TSS_B);
	CHECK_EQ(C->rip, NEW_EIP);
	CHECK_EQ(C->gpr[RSP], NEW_ESP - 4);
	CHECK_EQ(stk32(0), SEL_DATA32); /* the error code, 4 bytes (32-bit TSS) */
	CHECK(C->rflags & RFLAGS_NT);
	CHECK_EQ(*ram16(TSS_B + T_LINK), SEL_TSS);
	CHECK_EQ(gdt_type(SEL_TSS), TY_TSS_BUSY);
	CHECK_EQ(gdt_type(SEL_TSS_B), TY_TSS_BUSY);
	/* The faulting instruction's EIP and EFLAGS with RF (a fault, SDM 17.3.1.1). */
	CHECK_EQ(*ram32(TSS_BASE + T_EIP), CODE_BASE);
	CHECK_EQ(*ram32(TSS_BASE + T_EFLAGS), RFLAGS_FIXED1 | RFLAGS_RF);
	CHECK_EQ(C->delivering, -1);
	CHECK(C->cr0 & CR0_TS);
	/* The handler task returns with IRET (after popping the error code). */
	C->gpr[RSP] += 4;
	CHECK_EQ(iret(), NO_FAULT);
	CHECK_EQ(C->tr.sel, SEL_TSS);
	CHECK_EQ(C->rip, CODE_BASE);
	CHECK_EQ(gdt_type(SEL_TSS_B), TY_TSS);

	/* A 16-bit handler TSS: a 2-byte error code (SDM Vol.2 INT n "TASK-GATE"). */
	setup(0);
	memset(B.ram + TSS_16, 0, 0x2C);
	*ram16(TSS_16 + 0x0E) = 0x1000;         /* IP */
	*ram16(TSS_16 + 0x10) = RFLAGS_FIXED1;  /* FLAGS */
	*ram16(TSS_16 + 0x1A) = 0x6000;         /* SP */
	*ram16(TSS_16 + 0x22) = SEL_DATA32;     /* ES */
	*ram16(TSS_16 + 0x24) = SEL_CODE16;     /* CS */
	*ram16(TSS_16 + 0x26) = SEL_DATA16;     /* SS: a 16-bit stack */
	*ram16(TSS_16 + 0x28) = SEL_DATA32;     /* DS */
	gdt_set(SEL_TSS16, mkdesc((uint32_t)TSS_16, 0x2B, TY_TSS16, false, 0, true, 0));
	idt32_set(EXC_NP, mkgate(SEL_TSS16, 0, TY_TASK_GATE, 0, true, 0));
	CHECK_EQ(GUARD(cpu_deliver_event(C, EXC_NP, EVENT_HW_EXCEPTION, 0x1234)), NO_FAULT);
	CHECK_EQ(C->tr.sel, SEL_TSS16);
	CHECK_EQ(C->rip, 0x1000);
	CHECK_EQ(C->gpr[RSP], 0xFFFF0000u | (0x6000 - 2)); /* SP; ESP[31:16] = FFFFH */
	CHECK_EQ(*ram16(0x6000 - 2), 0x1234);
	CHECK_EQ(*ram16(TSS_16), SEL_TSS); /* back link */
	CHECK_EQ(C->mode, MODE_PROT16);
	CHECK(C->rflags & RFLAGS_NT);
}

/* INT n through a task gate: gate DPL checked, no error code, EIP after INT n. */
static void test_int_gate(void)
{
	setup(3);
	idt32_set(0x40, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 3, true, 0));
	idt32_set(0x41, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 0, true, 0));
	idt32_set(0x42, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 3, false, 0));
	idt32_set(0x43, mkgate(SEL_TSS, 0, TY_TASK_GATE, 3, true, 0));
	struct insn in = insn();
	in.imm = 0x41;
	CHECK_EXC(run_insn(exec_INT, &in), EXC_GP, 0x41 * 8 + 2);  /* gate DPL < CPL */
	in.imm = 0x42;
	CHECK_EXC(run_insn(exec_INT, &in), EXC_NP, 0x42 * 8 + 2);  /* gate not present */
	in.imm = 0x43;
	CHECK_EXC(run_insn(exec_INT, &in), EXC_GP, SEL_TSS);       /* TSS busy */
	CHECK_EQ(C->tr.sel, SEL_TSS);
	in.imm = 0x40;
	CHECK_EQ(run_insn(exec_INT, &in), NO_FAULT);
	CHECK_EQ(C->tr.sel, SEL_TSS_B);
	CHECK_EQ(C->rip, NEW_EIP);
	CHECK_EQ(C->gpr[RSP], NEW_ESP); /* no error code */
	CHECK_EQ(*ram32(TSS_BASE + T_EIP), CODE_BASE + 2);
	CHECK(C->rflags & RFLAGS_NT);
	/* An external interrupt: a fault after the commit point carries EXT = 1. */
	setup(0);
	idt32_set(0x50, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 0, true, 0));
	*ram16(TSS_B + T_SS) = SEL_DATA_NP;
	CHECK_EXC(GUARD(cpu_deliver_event(C, 0x50, EVENT_EXTERNAL, NO_ERROR_CODE)), EXC_SS,
		  SEL_DATA_NP | 1);
	/* ... and so does one before it (busy TSS). */
	setup(0);
	idt32_set(0x50, mkgate(SEL_TSS, 0, TY_TASK_GATE, 0, true, 0));
	CHECK_EXC(GUARD(cpu_deliver_event(C, 0x50, EVENT_EXTERNAL, NO_ERROR_CODE)), EXC_GP,
		  SEL_TSS | 1);
}

/* --- failures before the commit point: nothing changes ----------------------------- */

static void check_unchanged(void)
{
	CHECK_EQ(C->tr.sel, SEL_TSS);
	CHECK_EQ(C->rip, CODE_BASE);
	CHECK_EQ(C->gpr[RAX], 0xA0);
	CHECK_EQ(gdt_type(SEL_TSS), TY_TSS_BUSY);
	CHECK_EQ(*ram32(TSS_BASE + T_EIP), 0);
	CHECK(!(C->cr0 & CR0_TS));
}

/* Table 8-1 rows 1-5 and SDM Vol.2 JMP/CALL "TASK-GATE", "TASK-STATE-SEGMENT". */
static void test_precommit_errors(void)
{
	setup(0);
	gdt_set(SEL_X, mkdesc((uint32_t)TSS_C, 0x67, TY_TSS, false, 0, false, 0));
	CHECK_EXC(far(exec_JMP_FAR, SEL_X), EXC_NP, SEL_X);             /* not present */
	check_unchanged();
	gdt_set(SEL_X, mkdesc((uint32_t)TSS_C, 0x67, TY_TSS_BUSY, false, 0, true, 0));
	CHECK_EXC(far(exec_JMP_FAR, SEL_X), EXC_GP, SEL_X);             /* busy */
	CHECK_EXC(far(exec_CALL_FAR, SEL_X), EXC_GP, SEL_X);
	gdt_set(SEL_X, mkdesc((uint32_t)TSS_C, 0x66, TY_TSS, false, 0, true, 0));
	CHECK_EXC(far(exec_JMP_FAR, SEL_X), EXC_TS, SEL_X);             /* limit < 67H */
	check_unchanged();
	CHECK_EQ(gdt_type(SEL_X), TY_TSS);
	gdt_set(SEL_X, mkdesc((uint32_t)TSS_16, 0x2A, TY_TSS16, false, 0, true, 0));
	CHECK_EXC(far(exec_JMP_FAR, SEL_X), EXC_TS, SEL_X);             /* limit < 2BH */
	check_unchanged();
	/* A TSS descriptor in the LDT: #GP(selector) (Table 8-1 row 1). */
	C->ldtr.ar = 0x82;
	C->ldtr.base = LDT_BASE;
	C->ldtr.limit = 0xF;
	*ram64(LDT_BASE + 8) = mkdesc((uint32_t)TSS_C, 0x67, TY_TSS, false, 0, true, 0);
	CHECK_EXC(far(exec_JMP_FAR, 0x0C), EXC_GP, 0x0C);
	check_unchanged();
	/* TSS DPL < CPL or < RPL: #GP(TSS selector) (SDM 8.2.2). */
	setup(3);
	CHECK_EXC(far(exec_JMP_FAR, SEL_TSS_B | 3), EXC_GP, SEL_TSS_B);
	setup(0);
	CHECK_EXC(far(exec_CALL_FAR, SEL_TSS_B | 3), EXC_GP, SEL_TSS_B);
	/* Task gates (SDM 8.2.5, Vol.2 JMP "TASK-GATE"). */
	setup(3);
	gdt_set(SEL_X, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 0, true, 0));
	CHECK_EXC(far(exec_CALL_FAR, SEL_X | 3), EXC_GP, SEL_X);        /* gate DPL < CPL */
	setup(0);
	gdt_set(SEL_X, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 3, true, 0));
	CHECK_EQ(far(exec_CALL_FAR, SEL_X | 3), NO_FAULT);              /* RPL 3 <= DPL 3 */
	setup(0);
	gdt_set(SEL_X, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 2, true, 0));
	CHECK_EXC(far(exec_JMP_FAR, SEL_X | 3), EXC_GP, SEL_X);         /* RPL > gate DPL */
	gdt_set(SEL_X, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 0, false, 0));
	CHECK_EXC(far(exec_JMP_FAR, SEL_X), EXC_NP, SEL_X);             /* gate not present */
	gdt_set(SEL_X, mkgate(SEL_TSS_B | 4, 0, TY_TASK_GATE, 0, true, 0));
	CHECK_EXC(far(exec_JMP_FAR, SEL_X), EXC_GP, SEL_TSS_B | 4);     /* TSS in the LDT */
	gdt_set(SEL_X, mkgate(0x400, 0, TY_TASK_GATE, 0, true, 0));
	CHECK_EXC(far(exec_JMP_FAR, SEL_X), EXC_GP, 0x400);             /* beyond the GDT */
	gdt_set(SEL_X, mkgate(SEL_DATA32, 0, TY_TASK_GATE, 0, true, 0));
	CHECK_EXC(far(exec_JMP_FAR, SEL_X), EXC_GP, SEL_DATA32);        /* not a TSS */
	gdt_set(SEL_X, mkgate(SEL_TSS, 0, TY_TASK_GATE, 0, true, 0));
	CHECK_EXC(far(exec_JMP_FAR, SEL_X), EXC_GP, SEL_TSS);           /* busy TSS */
	gdt_set(SEL_TSS_C, mkdesc((uint32_t)TSS_C, 0x67, TY_TSS, false, 0, false, 0));
	gdt_set(SEL_X, mkgate(SEL_TSS_C, 0, TY_TASK_GATE, 0, true, 0));
	CHECK_EXC(far(exec_JMP_FAR, SEL_X), EXC_NP, SEL_TSS_C);         /* TSS not present */
	check_unchanged();
	/* Not implemented: a virtual-8086 task (EFLAGS.VM = 1 in the new TSS): #GP(0). */
	setup(0);
	*ram32(TSS_B + T_EFLAGS) |= RFLAGS_VM;
	CHECK_EXC(far(exec_JMP_FAR, SEL_TSS_B), EXC_GP, 0);
	check_unchanged();
}

/* SDM 8.3 step 5: a page fault on the new TSS or on a write the switch must make
 * comes before any change. 32-bit paging with 4 MiB pages: 0-4M identity RW, 4-8M
 * read-only (CR0.WP = 1), 8-12M not present. */
static void paging32(void)
{
	memset(B.ram + PT_BASE, 0, PAGE_SIZE);
	*ram32(PT_BASE) = 0x000000 | 0x83;       /* P RW PS */
	*ram32(PT_BASE + 4) = 0x400000 | 0x81;   /* P PS, read-only */
	C->cr4 |= CR4_PSE;
	C->cr3 = PT_BASE;
	C->cr0 |= CR0_PG | CR0_WP;
	tlb_flush_all(C);
}

static void test_precommit_pf(void)
{
	setup(0);
	paging32();
	gdt_set(SEL_X, mkdesc(0x800000, 0x67, TY_TSS, false, 0, true, 0));
	CHECK_EXC(far(exec_JMP_FAR, SEL_X), EXC_PF, 0);                 /* read, not present */
	CHECK_EQ(C->exc_cr2, 0x800000 + T_CR3);
	check_unchanged();
	/* The back link of a read-only new TSS: a CALL faults before anything changes,
	 * a JMP (which does not write it) does not. */
	memcpy(B.ram + 0x400000, B.ram + TSS_B, 0x68);
	*ram32(0x400000 + T_CR3) = PT_BASE;
	gdt_set(SEL_X, mkdesc(0x400000, 0x67, TY_TSS, false, 0, true, 0));
	CHECK_EXC(far(exec_CALL_FAR, SEL_X), EXC_PF, PFEC_P | PFEC_W);
	CHECK_EQ(C->exc_cr2, 0x400000);
	check_unchanged();
	CHECK_EQ(gdt_type(SEL_X), TY_TSS);
	CHECK_EQ(far(exec_JMP_FAR, SEL_X), NO_FAULT);
	CHECK_EQ(C->tr.sel, SEL_X);
	CHECK_EQ(C->cr3, PT_BASE);
}

/* --- failures after the commit point: in the new task ------------------------------ */

/* JMP to task B with one TSS field changed: the fault comes after the commit point,
 * with TR, EIP and the GPRs of the new task (SDM 8.3 step 13 and its note). */
static int post(uint32_t off, uint16_t v)
{
	setup(0);
	*ram16(TSS_B + off) = v;
	int r = far(exec_JMP_FAR, SEL_TSS_B);
	CHECK_EQ(C->tr.sel, SEL_TSS_B);
	CHECK_EQ(C->rip, NEW_EIP);
	CHECK_EQ(C->gpr[RAX], 0x1000);
	CHECK_EQ(gdt_type(SEL_TSS), TY_TSS);
	CHECK(C->cr0 & CR0_TS);
	return r;
}

/* Table 8-1 rows 6-17 and SDM 6.15 Table 6-6, one condition at a time. */
static void test_postcommit_errors(void)
{
	/* CS: null, outside the GDT, not code, DPL != RPL, not present. */
	CHECK_EXC(post(T_CS, 0), EXC_TS, 0);
	CHECK_EXC(post(T_CS, 0x400), EXC_TS, 0x400);
	CHECK_EXC(post(T_CS, SEL_DATA32), EXC_TS, SEL_DATA32);
	CHECK_EXC(post(T_CS, SEL_UCODE32 & ~3), EXC_TS, SEL_UCODE32 & ~3);
	CHECK_EXC(post(T_CS, SEL_CODE32 | 3), EXC_TS, SEL_CODE32);
	CHECK_EXC(post(T_CS, SEL_CODE_NP), EXC_NP, SEL_CODE_NP);
	/* SS: null, not writable data, not present (#SS), DPL != CPL, RPL != DPL. */
	CHECK_EXC(post(T_SS, 0), EXC_TS, 0);
	CHECK_EXC(post(T_SS, SEL_DATA_RO), EXC_TS, SEL_DATA_RO);
	CHECK_EXC(post(T_SS, SEL_CODE32), EXC_TS, SEL_CODE32);
	CHECK_EXC(post(T_SS, SEL_DATA_NP), EXC_SS, SEL_DATA_NP);
	CHECK_EXC(post(T_SS, SEL_UDATA32), EXC_TS, SEL_UDATA32 & ~3);
	CHECK_EXC(post(T_SS, SEL_DATA32 | 3), EXC_TS, SEL_DATA32);
	/* The registers not yet checked keep the new selectors, unusable. */
	CHECK_EQ(C->seg[SEG_DS].sel, SEL_DATA32);
	CHECK(C->seg[SEG_DS].ar & AR_UNUSABLE);
	CHECK_EQ(C->seg[SEG_SS].sel, SEL_DATA32 | 3);
	CHECK_EQ(C->cpl, 0); /* the new CS.RPL */
	/* LDT: TI = 1, not an LDT, not present. */
	CHECK_EXC(post(T_LDT, SEL_LDT | 4), EXC_TS, SEL_LDT | 4);
	CHECK_EXC(post(T_LDT, SEL_DATA32), EXC_TS, SEL_DATA32);
	CHECK_EXC(post(T_LDT, 0x400), EXC_TS, 0x400);
	setup(0);
	gdt_set(SEL_X, mkdesc((uint32_t)LDT_BASE, 0xF, TY_LDT, false, 0, false, 0));
	*ram16(TSS_B + T_LDT) = SEL_X;
	CHECK_EXC(far(exec_JMP_FAR, SEL_TSS_B), EXC_TS, SEL_X); /* not present */
	CHECK(C->ldtr.ar & AR_UNUSABLE);
	/* DS (then ES, FS, GS): not readable, not present (#NP), DPL < CPL. */
	CHECK_EXC(post(T_DS, SEL_CODE_XO), EXC_TS, SEL_CODE_XO);
	CHECK_EXC(post(T_DS, SEL_DATA_NP), EXC_NP, SEL_DATA_NP);
	CHECK_EXC(post(T_GS, SEL_DATA_NP), EXC_NP, SEL_DATA_NP);
	CHECK_EXC(post(T_FS, SEL_TSS_C), EXC_TS, SEL_TSS_C);          /* a system segment */
	CHECK_EXC(post(T_ES, SEL_LDT_DATA), EXC_TS, SEL_LDT_DATA);    /* no LDT */
	CHECK_EXC(post(T_DS, SEL_DATA32 | 3), EXC_TS, SEL_DATA32);    /* RPL > DPL */
	CHECK_EQ(C->seg[SEG_CS].sel, SEL_CODE32);                     /* CS, SS loaded */
	CHECK(!(C->seg[SEG_SS].ar & AR_UNUSABLE));
	/* A ring-3 task: DS with DPL 0 < CPL 3 is #TS; null DS/ES/FS/GS are fine. */
	setup(0);
	*ram16(TSS_B + T_CS) = SEL_UCODE32;
	*ram16(TSS_B + T_SS) = SEL_UDATA32;
	*ram16(TSS_B + T_ES) = 0;
	*ram16(TSS_B + T_FS) = 0;
	*ram16(TSS_B + T_GS) = 3;
	CHECK_EXC(far(exec_JMP_FAR, SEL_TSS_B), EXC_TS, SEL_DATA32);
	CHECK_EQ(C->cpl, 3);
	setup(0);
	*ram16(TSS_B + T_CS) = SEL_UCODE32;
	*ram16(TSS_B + T_SS) = SEL_UDATA32;
	*ram16(TSS_B + T_ES) = 0;
	*ram16(TSS_B + T_DS) = SEL_CODE_CONF | 3; /* conforming readable code: no DPL check */
	*ram16(TSS_B + T_FS) = 0;
	*ram16(TSS_B + T_GS) = 3;
	CHECK_EQ(far(exec_JMP_FAR, SEL_TSS_B), NO_FAULT);
	CHECK_EQ(C->cpl, 3);
	CHECK(C->seg[SEG_ES].ar & AR_UNUSABLE);
	CHECK_EQ(C->seg[SEG_GS].sel, 3);
	CHECK_EQ(C->seg[SEG_DS].sel, SEL_CODE_CONF | 3);
	/* A conforming CS with DPL 0 <= RPL 3 runs at CPL 3. */
	setup(0);
	*ram16(TSS_B + T_CS) = SEL_CODE_CONF | 3;
	*ram16(TSS_B + T_SS) = SEL_UDATA32;
	for (uint32_t f = T_DS; f <= T_GS; f += 4)
		*ram16(TSS_B + f) = SEL_UDATA32;
	*ram16(TSS_B + T_ES) = SEL_UDATA32;
	CHECK_EQ(far(exec_JMP_FAR, SEL_TSS_B), NO_FAULT);
	CHECK_EQ(C->cpl, 3);
	CHECK_EQ(C->seg[SEG_CS].sel, SEL_CODE_CONF | 3);
	/* EIP beyond the new CS limit: #GP(0) in the new task (Vol.2 JMP). */
	setup(0);
	*ram16(TSS_B + T_CS) = SEL_CODE16;
	*ram32(TSS_B + T_EIP) = 0x10000;
	CHECK_EXC(far(exec_JMP_FAR, SEL_TSS_B), EXC_GP, 0);
	CHECK_EQ(C->tr.sel, SEL_TSS_B);
	CHECK_EQ(C->rip, 0x10000);
}

/* The order of Table 8-1 (P6 order) when several conditions hold. */
static void test_check_order(void)
{
	setup(0); /* CS not code and SS not present: #SS first (rows 9-10 before 13) */
	*ram16(TSS_B + T_CS) = SEL_DATA32;
	*ram16(TSS_B + T_SS) = SEL_DATA_NP;
	CHECK_EXC(far(exec_JMP_FAR, SEL_TSS_B), EXC_SS, SEL_DATA_NP);
	setup(0); /* CS DPL != RPL and SS not present: #TS(CS) first (row 6) */
	*ram16(TSS_B + T_CS) = SEL_UCODE32 & ~3;
	*ram16(TSS_B + T_SS) = SEL_DATA_NP;
	CHECK_EXC(far(exec_JMP_FAR, SEL_TSS_B), EXC_TS, SEL_UCODE32 & ~3);
	setup(0); /* LDT not present and SS DPL != CPL: #TS(SS) first (row 9 before 10) */
	gdt_set(SEL_X, mkdesc((uint32_t)LDT_BASE, 0xF, TY_LDT, false, 0, false, 0));
	*ram16(TSS_B + T_LDT) = SEL_X;
	*ram16(TSS_B + T_SS) = SEL_UDATA32 & ~3;
	CHECK_EXC(far(exec_JMP_FAR, SEL_TSS_B), EXC_TS, SEL_UDATA32 & ~3);
	setup(0); /* LDT not present and CS not present: #TS(LDT) first */
	*ram16(TSS_B + T_LDT) = SEL_X;
	gdt_set(SEL_X, mkdesc((uint32_t)LDT_BASE, 0xF, TY_LDT, false, 0, false, 0));
	*ram16(TSS_B + T_CS) = SEL_CODE_NP;
	CHECK_EXC(far(exec_JMP_FAR, SEL_TSS_B), EXC_TS, SEL_X);
	setup(0); /* CS not present and SS RPL != DPL: #NP(CS) first (row 12 before 13) */
	*ram16(TSS_B + T_CS) = SEL_CODE_NP;
	*ram16(TSS_B + T_SS) = SEL_DATA32 | 3;
	CHECK_EXC(far(exec_JMP_FAR, SEL_TSS_B), EXC_NP, SEL_CODE_NP);
	setup(0); /* DS bad and ES bad: DS first (the table's order) */
	*ram16(TSS_B + T_DS) = SEL_DATA_NP;
	*ram16(TSS_B + T_ES) = SEL_CODE_XO;
	CHECK_EXC(far(exec_JMP_FAR, SEL_TSS_B), EXC_NP, SEL_DATA_NP);
}

/* --- LDT, 16-bit TSS, CR3 -------------------------------------------------------------- */

static void test_ldt(void)
{
	setup(0);
	*ram16(TSS_B + T_LDT) = SEL_LDT;
	*ram16(TSS_B + T_DS) = SEL_LDT_DATA;
	CHECK_EQ(far(exec_JMP_FAR, SEL_TSS_B), NO_FAULT);
	CHECK_EQ(C->ldtr.sel, SEL_LDT);
	CHECK_EQ(C->ldtr.base, LDT_BASE);
	CHECK_EQ(C->ldtr.limit, 0xF);
	CHECK(!(C->ldtr.ar & AR_UNUSABLE));
	CHECK_EQ(C->seg[SEG_DS].sel, SEL_LDT_DATA);
	CHECK_EQ(C->seg[SEG_DS].base, LDT_DATA_BASE);
	CHECK(*ram64(LDT_BASE + 8) & BIT(40)); /* accessed (SDM 3.4.5.1) */
	/* Back to the first task: its LDT field is 0, so LDTR becomes unusable. */
	CHECK_EQ(far(exec_JMP_FAR, SEL_TSS), NO_FAULT);
	CHECK(C->ldtr.ar & AR_UNUSABLE);
	CHECK_EQ(C->ldtr.sel, 0);
}

/* SDM 8.6: a 16-bit TSS (Figure 8-10). */
static void test_tss16(void)
{
	setup(0);
	memset(B.ram + TSS_16, 0, 0x2C);
	*ram16(TSS_16 + 0x0E) = 0x1000;                        /* IP */
	*ram16(TSS_16 + 0x10) = RFLAGS_FIXED1 | RFLAGS_ZF;     /* FLAGS */
	for (int i = 0; i < 8; i++)
		*ram16(TSS_16 + 0x12 + 2 * (uint64_t)i) = (uint16_t)(0x100 + i);
	*ram16(TSS_16 + 0x22) = SEL_DATA32;                    /* ES */
	*ram16(TSS_16 + 0x24) = SEL_CODE16;                    /* CS */
	*ram16(TSS_16 + 0x26) = SEL_DATA32;                    /* SS */
	*ram16(TSS_16 + 0x28) = SEL_DATA32;                    /* DS */
	*ram16(TSS_16 + 0x2A) = SEL_LDT;                       /* LDT */
	gdt_set(SEL_TSS16, mkdesc((uint32_t)TSS_16, 0x2B, TY_TSS16, false, 0, true, 0));
	C->cr3 = 0x5000; /* paging off: not used; a 16-bit TSS has no CR3 anyway */
	CHECK_EQ(far(exec_CALL_FAR, SEL_TSS16), NO_FAULT);
	CHECK_EQ(C->tr.ar & AR_TYPE_MASK, TY_TSS16_BUSY);
	CHECK_EQ(gdt_type(SEL_TSS16), TY_TSS16_BUSY);
	CHECK_EQ(C->rip, 0x1000);
	CHECK_EQ(C->mode, MODE_PROT16);
	CHECK_EQ(cpu_get_rflags(C), RFLAGS_FIXED1 | RFLAGS_ZF | RFLAGS_NT);
	for (int i = 0; i < 8; i++)
		CHECK_EQ(C->gpr[i], 0xFFFF0000u | (0x100 + (uint64_t)i));
	CHECK(C->seg[SEG_FS].ar & AR_UNUSABLE); /* no FS, GS in a 16-bit TSS */
	CHECK(C->seg[SEG_GS].ar & AR_UNUSABLE);
	CHECK_EQ(C->ldtr.sel, SEL_LDT);
	CHECK_EQ(C->cr3, 0x5000);
	CHECK_EQ(*ram16(TSS_16), SEL_TSS);
	/* The 16-bit task saves into its 16-bit TSS on the way back (IRET). */
	C->gpr[RCX] = 0x12345678;
	C->rip = 0x1010;
	CHECK_EQ(iret(), NO_FAULT);
	CHECK_EQ(C->tr.sel, SEL_TSS);
	CHECK_EQ(*ram16(TSS_16 + 0x0E), 0x1012);                 /* IP */
	CHECK_EQ(*ram16(TSS_16 + 0x10), RFLAGS_FIXED1 | RFLAGS_ZF); /* NT cleared */
	CHECK_EQ(*ram16(TSS_16 + 0x14), 0x5678);                 /* CX */
	CHECK_EQ(*ram16(TSS_16 + 0x24), SEL_CODE16);             /* CS */
	CHECK_EQ(*ram16(TSS_16 + 0x2A), SEL_LDT);                /* LDT: static */
	CHECK_EQ(*ram16(TSS_16 + 0x2C), 0);                      /* nothing beyond */
	CHECK_EQ(C->mode, MODE_PROT32);
	CHECK_EQ(gdt_type(SEL_TSS16), TY_TSS16);
}

/* CR3 from a 32-bit TSS with paging on (SDM 8.3 step 12, 4.10.4.1, 4.4.1). */
static void test_cr3(void)
{
	setup(0);
	paging32();
	memcpy(B.ram + PT_BASE + 0x1000, B.ram + PT_BASE, PAGE_SIZE);
	*ram32(TSS_B + T_CR3) = PT_BASE + 0x1000;
	CHECK_EQ(far(exec_JMP_FAR, SEL_TSS_B), NO_FAULT);
	CHECK_EQ(C->cr3, PT_BASE + 0x1000);
	CHECK_EQ(lin_read(C, DATA_BASE, 2, ACC_READ), *ram32(DATA_BASE));
	/* Paging off: the field is not loaded. */
	setup(0);
	C->cr3 = 0x5000;
	*ram32(TSS_B + T_CR3) = PT_BASE;
	CHECK_EQ(far(exec_JMP_FAR, SEL_TSS_B), NO_FAULT);
	CHECK_EQ(C->cr3, 0x5000);
	/* PAE paging: the PDPTEs are loaded from the new CR3; a reserved bit in a present
	 * one is #GP(0), raised in the old task's context (after the commit point). */
	setup(0);
	uint64_t pdpt = PT_BASE, pd = PT_BASE + 0x1000;
	memset(B.ram + pdpt, 0, 2 * PAGE_SIZE);
	for (int i = 0; i < 4; i++)
		*ram64(pdpt + 8 * (uint64_t)i) = i ? 0 : pd | 1;
	for (uint64_t i = 0; i < 32; i++)
		*ram64(pd + 8 * i) = (i << 21) | 0x83;
	memcpy(B.ram + pdpt + 0x20, B.ram + pdpt, 0x20);
	C->cr4 |= CR4_PAE;
	C->cr3 = pdpt;
	C->cr0 |= CR0_PG;
	CHECK(mmu_load_pdptrs(C));
	tlb_flush_all(C);
	*ram32(TSS_B + T_CR3) = (uint32_t)pdpt + 0x20;
	CHECK_EQ(far(exec_JMP_FAR, SEL_TSS_B), NO_FAULT);
	CHECK_EQ(C->cr3, pdpt + 0x20);
	CHECK_EQ(C->tlb.pdpte[0], pd | 1);
	CHECK_EQ(lin_read(C, DATA_BASE, 2, ACC_READ), *ram32(DATA_BASE));
	*ram32(TSS_BASE + T_CR3) = (uint32_t)pdpt;
	CHECK_EQ(far(exec_JMP_FAR, SEL_TSS), NO_FAULT);
	CHECK_EQ(C->cr3, pdpt);
	*ram64(pdpt + 0x40) = pd | 1 | BIT(1);          /* a reserved PDPTE bit */
	*ram32(TSS_B + T_CR3) = (uint32_t)pdpt + 0x40;
	CHECK_EQ(gdt_type(SEL_TSS_B), TY_TSS);
	CHECK_EXC(far(exec_JMP_FAR, SEL_TSS_B), EXC_GP, 0);
	CHECK_EQ(C->tr.sel, SEL_TSS_B);
	CHECK_EQ(C->rip, CODE_BASE + 2);
}

/* --- IA-32e mode: no task switches (SDM 8.7) ----------------------------------------- */

static void test_ia32e(void)
{
	mode_long64(0);
	gdt_set(SEL_SPARE, mkdesc((uint32_t)TSS_B, 0x67, TY_TSS, false, 0, true, 0));
	*ram64(GDT_BASE + SEL_SPARE + 8) = 0;
	gdt_set(SEL_SPARE3, mkgate(SEL_SPARE, 0, TY_TASK_GATE, 3, true, 0));
	CHECK_EXC(far(exec_JMP_FAR, SEL_SPARE), EXC_GP, SEL_SPARE);
	CHECK_EXC(far(exec_CALL_FAR, SEL_SPARE), EXC_GP, SEL_SPARE);
	CHECK_EXC(far(exec_JMP_FAR, SEL_SPARE3), EXC_GP, SEL_SPARE3);
	CHECK_EXC(far(exec_CALL_FAR, SEL_SPARE3), EXC_GP, SEL_SPARE3);
	*ram64(IDT_BASE + 0x40 * 16) = mkgate(SEL_SPARE, 0, TY_TASK_GATE, 3, true, 0);
	*ram64(IDT_BASE + 0x40 * 16 + 8) = 0;
	struct insn in = insn();
	in.imm = 0x40;
	CHECK_EXC(run_insn(exec_INT, &in), EXC_GP, 0x40 * 8 + 2);
	C->rflags |= RFLAGS_NT;
	in = insn();
	in.osz = 3;
	CHECK_EXC(run_insn(exec_IRET, &in), EXC_GP, 0);
	CHECK_EQ(C->tr.sel, SEL_TSS);
	CHECK_EQ(gdt_type(SEL_SPARE), TY_TSS);
}

int main(void)
{
	sys_init();
	test_jmp_tss();
	test_jmp_gate();
	test_call_iret();
	test_iret_errors();
	test_exception_gate();
	test_int_gate();
	test_precommit_errors();
	test_precommit_pf();
	test_postcommit_errors();
	test_check_order();
	test_ldt();
	test_tss16();
	test_cr3();
	test_ia32e();
	return report("sys_task");
}
