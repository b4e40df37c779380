/*
 * Far transfers: JMP/CALL/RET far with their checks (SDM Vol.2 JMP, CALL, RET), call
 * gates with the TSS stack switch and parameter copy (SDM 5.8.5, Figure 5-13),
 * 64-bit call gates (SDM 5.8.6), IRETQ to compatibility mode, SYSCALL/SYSRET and
 * SYSENTER/SYSEXIT (SDM Vol.2).
 */
#include "cpu/msr.h"
#include "sys_harness.h"

#define TARGET 0x6000ULL

static int far(exec_fn fn, uint16_t sel, uint64_t off, int osz)
{
	struct insn in = insn();
	in.form = FORM_I;
	in.osz = (uint8_t)osz;
	in.imm = off;
	in.imm2 = sel;
	return run_insn(fn, &in);
}

static void test_jmp_far(void)
{
	mode_prot32(0);
	CHECK_EXC(far(exec_JMP_FAR, 0, TARGET, 2), EXC_GP, 0);              /* null */
	CHECK_EXC(far(exec_JMP_FAR, SEL_DATA32, TARGET, 2), EXC_GP, SEL_DATA32); /* data */
	CHECK_EXC(far(exec_JMP_FAR, SEL_UCODE32, TARGET, 2), EXC_GP, SEL_UCODE32 & ~3);
	CHECK_EXC(far(exec_JMP_FAR, 0x400, TARGET, 2), EXC_GP, 0x400);       /* beyond GDT */
	gdt_set(SEL_SPARE, mkdesc(0, 0xFFFF, 0xB, true, 0, false, F_DB));
	CHECK_EXC(far(exec_JMP_FAR, SEL_SPARE, TARGET, 2), EXC_NP, SEL_SPARE);
	CHECK_EXC(far(exec_JMP_FAR, SEL_CODE16, 0x10000, 2), EXC_GP, 0);     /* limit */
	CHECK_EQ(far(exec_JMP_FAR, SEL_CODE16, TARGET, 2), NO_FAULT);
	CHECK_EQ(C->mode, MODE_PROT16);
	CHECK_EQ(C->rip, TARGET);
	/* SEL_TSS is the busy current TSS: #GP(selector) (SDM Vol.2 JMP; test_sys_task). */
	CHECK_EXC(far(exec_JMP_FAR, SEL_TSS, 0, 2), EXC_GP, SEL_TSS);
	/* Real mode: CS = sel, base = sel << 4. */
	mode_real();
	CHECK_EQ(far(exec_JMP_FAR, 0x1234, 0x10, 1), NO_FAULT);
	CHECK_EQ(C->seg[SEG_CS].base, 0x12340);
	CHECK_EQ(C->rip, 0x10);
}

static void test_call_ret_same(void)
{
	mode_prot32(0);
	CHECK_EQ(far(exec_CALL_FAR, SEL_CODE32, TARGET, 2), NO_FAULT);
	CHECK_EQ(C->gpr[RSP], KSTACK_TOP - 8);
	CHECK_EQ(stk32(0), CODE_BASE + 2);
	CHECK_EQ(stk32(4), SEL_CODE32);
	struct insn r = insn();
	r.imm = 4; /* RET 4: release 4 bytes of parameters */
	CHECK_EQ(run_insn(exec_RET_FAR, &r), NO_FAULT);
	CHECK_EQ(C->rip, CODE_BASE + 2);
	CHECK_EQ(C->gpr[RSP], KSTACK_TOP + 4);
	/* A return to a more privileged ring: #GP(selector). */
	mode_prot32(3);
	C->gpr[RSP] = USTACK_TOP - 8;
	*ram32(USTACK_TOP - 8) = TARGET;
	*ram32(USTACK_TOP - 4) = SEL_CODE32;
	r.imm = 0;
	CHECK_EXC(run_insn(exec_RET_FAR, &r), EXC_GP, SEL_CODE32);
	CHECK_EQ(C->gpr[RSP], USTACK_TOP - 8);
}

/* A 32-bit call gate from ring 3 to ring 0 with 2 parameters (SDM 5.8.5). */
static void test_call_gate_legacy(void)
{
	mode_prot32(3);
	gdt_set(SEL_SPARE, mkgate(SEL_CODE32, TARGET, 0xC, 3, true, 2));
	C->gpr[RSP] = USTACK_TOP - 8;
	*ram32(USTACK_TOP - 8) = 0x11111111; /* parameter 1 (top of stack) */
	*ram32(USTACK_TOP - 4) = 0x22222222; /* parameter 2 */
	CHECK_EQ(far(exec_CALL_FAR, SEL_SPARE | 3, 0, 2), NO_FAULT);
	CHECK_EQ(C->cpl, 0);
	CHECK_EQ(C->rip, TARGET);
	CHECK_EQ(C->seg[SEG_SS].sel, SEL_DATA32);
	CHECK_EQ(C->gpr[RSP], KSTACK_TOP - 24);
	CHECK_EQ(stk32(0), CODE_BASE + 2);
	CHECK_EQ(stk32(4), SEL_UCODE32);
	CHECK_EQ(stk32(8), 0x11111111);
	CHECK_EQ(stk32(12), 0x22222222);
	CHECK_EQ(stk32(16), USTACK_TOP - 8);
	CHECK_EQ(stk32(20), SEL_UDATA32);
	/* RET 8 back to ring 3 releases the parameters on both stacks. */
	C->seg[SEG_ES] = C->seg[SEG_SS]; /* DPL 0: nulled by the return */
	struct insn r = insn();
	r.imm = 8;
	CHECK_EQ(run_insn(exec_RET_FAR, &r), NO_FAULT);
	CHECK_EQ(C->cpl, 3);
	CHECK_EQ(C->rip, CODE_BASE + 2);
	CHECK_EQ(C->gpr[RSP], USTACK_TOP);
	CHECK_EQ(C->seg[SEG_SS].sel, SEL_UDATA32);
	CHECK(C->seg[SEG_ES].ar & AR_UNUSABLE);
	/* Gate DPL < CPL: #GP(gate); target DPL > CPL through JMP: #GP(target). */
	gdt_set(SEL_SPARE2, mkgate(SEL_CODE32, TARGET, 0xC, 0, true, 0));
	CHECK_EXC(far(exec_CALL_FAR, SEL_SPARE2, 0, 2), EXC_GP, SEL_SPARE2);
	CHECK_EXC(far(exec_JMP_FAR, SEL_SPARE, 0, 2), EXC_GP, SEL_CODE32);
	/* A not-present gate: #NP(gate). */
	gdt_set(SEL_SPARE3, mkgate(SEL_CODE32, TARGET, 0xC, 3, false, 0));
	CHECK_EXC(far(exec_CALL_FAR, SEL_SPARE3, 0, 2), EXC_NP, SEL_SPARE3);
	/* TSS ring-0 stack beyond the TSS limit: #TS(TSS selector). */
	C->tr.limit = 4;
	CHECK_EXC(far(exec_CALL_FAR, SEL_SPARE | 3, 0, 2), EXC_TS, SEL_TSS);
	CHECK_EQ(C->cpl, 3);
	CHECK_EQ(C->gpr[RSP], USTACK_TOP);
}

/* SDM 5.8.6: 64-bit call gate, ring 3 -> 0, 8-byte pushes, null SS. */
static void test_call_gate_64(void)
{
	mode_long64(3);
	gdt_set(SEL_SPARE, mkgate(SEL_CODE64, TARGET, 0xC, 3, true, 0));
	*ram64(GDT_BASE + SEL_SPARE + 8) = 0; /* upper half: offset 63:32 = 0, type 0 */
	C->gpr[RSP] = USTACK_TOP - 16;
	CHECK_EQ(far(exec_CALL_FAR, SEL_SPARE | 3, 0, 2), NO_FAULT);
	CHECK_EQ(C->cpl, 0);
	CHECK_EQ(C->rip, TARGET);
	CHECK_EQ(C->seg[SEG_SS].sel, 0);
	CHECK_EQ(C->gpr[RSP], KSTACK_TOP - 32);
	CHECK_EQ(stk64(0), CODE_BASE + 2);
	CHECK_EQ(stk64(8), SEL_UCODE64);
	CHECK_EQ(stk64(16), USTACK_TOP - 16);
	CHECK_EQ(stk64(24), SEL_UDATA32);
	/* RETQ far back to ring 3. */
	struct insn r = insn();
	r.osz = 3;
	CHECK_EQ(run_insn(exec_RET_FAR, &r), NO_FAULT);
	CHECK_EQ(C->cpl, 3);
	CHECK_EQ(C->gpr[RSP], USTACK_TOP - 16);
	CHECK_EQ(C->mode, MODE_LONG64);
	/* Upper type field not 0: #GP(gate). */
	*ram64(GDT_BASE + SEL_SPARE + 8) = 0x0C0000000000ULL;
	CHECK_EXC(far(exec_CALL_FAR, SEL_SPARE | 3, 0, 2), EXC_GP, SEL_SPARE);
}

/* IRETQ from 64-bit mode to a 32-bit (compatibility) ring-3 segment. */
static void test_iret_to_compat(void)
{
	mode_long64(0);
	C->gpr[RSP] = KSTACK_TOP - 40;
	*ram64(KSTACK_TOP - 40) = 0x1000;           /* RIP */
	*ram64(KSTACK_TOP - 32) = SEL_UCODE32;      /* CS */
	*ram64(KSTACK_TOP - 24) = RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_IOPL;
	*ram64(KSTACK_TOP - 16) = USTACK_TOP;       /* RSP */
	*ram64(KSTACK_TOP - 8) = SEL_UDATA32;       /* SS */
	struct insn ir = insn();
	ir.osz = 3;
	CHECK_EQ(run_insn(exec_IRET, &ir), NO_FAULT);
	CHECK_EQ(C->mode, MODE_COMPAT32);
	CHECK_EQ(C->cpl, 3);
	CHECK_EQ(C->rip, 0x1000);
	CHECK_EQ(C->gpr[RSP], USTACK_TOP);
	CHECK_EQ((C->rflags >> 12) & 3, 3); /* CPL 0 may set IOPL */
	/* IRET with NT = 1 in IA-32e mode: #GP(0). */
	mode_long64(0);
	C->rflags |= RFLAGS_NT;
	CHECK_EXC(run_insn(exec_IRET, &ir), EXC_GP, 0);
	/* A ring-3 IRET may not raise IOPL or set IF when CPL > IOPL. */
	mode_long64(3);
	C->gpr[RSP] = USTACK_TOP - 40;
	*ram64(USTACK_TOP - 40) = 0x1000;
	*ram64(USTACK_TOP - 32) = SEL_UCODE64;
	*ram64(USTACK_TOP - 24) = RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_IOPL | RFLAGS_CF;
	*ram64(USTACK_TOP - 16) = USTACK_TOP;
	*ram64(USTACK_TOP - 8) = SEL_UDATA32;
	CHECK_EQ(run_insn(exec_IRET, &ir), NO_FAULT);
	CHECK_EQ(C->rflags & (RFLAGS_IF | RFLAGS_IOPL | RFLAGS_CF), RFLAGS_CF);
}

static void test_syscall_sysret(void)
{
	mode_long64(3);
	C->star = ((uint64_t)0x13 << 48) | ((uint64_t)SEL_CODE64 << 32);
	C->lstar = 0xFFFF800000001000ULL;
	C->sfmask = RFLAGS_IF | RFLAGS_TF;
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_CF);
	struct insn in = insn();
	CHECK_EQ(run_insn(exec_SYSCALL, &in), NO_FAULT);
	CHECK_EQ(C->rip, 0xFFFF800000001000ULL);
	CHECK_EQ(C->gpr[RCX], CODE_BASE + 2);
	CHECK_EQ(C->gpr[R11], RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_CF);
	CHECK_EQ(C->rflags & RFLAGS_IF, 0);
	CHECK_EQ(C->cpl, 0);
	CHECK_EQ(C->seg[SEG_CS].sel, SEL_CODE64);
	CHECK_EQ(C->seg[SEG_SS].sel, SEL_CODE64 + 8);
	CHECK_EQ(C->mode, MODE_LONG64);
	/* SYSRET with REX.W to 64-bit: CS = STAR[63:48] + 16 | 3, SS = + 8 | 3. */
	in.osz = 3;
	C->gpr[RCX] = 0x0000800000000000ULL; /* non-canonical: #GP(0) at CPL 0 (Intel) */
	CHECK_EXC(run_insn(exec_SYSRET, &in), EXC_GP, 0);
	C->gpr[RCX] = 0x401000;
	C->gpr[R11] = RFLAGS_IF | RFLAGS_CF | RFLAGS_RF | RFLAGS_VM;
	CHECK_EQ(run_insn(exec_SYSRET, &in), NO_FAULT);
	CHECK_EQ(C->cpl, 3);
	CHECK_EQ(C->rip, 0x401000);
	CHECK_EQ(C->seg[SEG_CS].sel, (0x13 + 16) | 3);
	CHECK_EQ(C->seg[SEG_SS].sel, (0x13 + 8) | 3);
	CHECK_EQ(C->rflags, RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_CF); /* RF, VM cleared */
	/* SYSRET without REX.W: compatibility mode at STAR[63:48] | 3. */
	mode_long64(0);
	C->star = (uint64_t)0x13 << 48;
	in.osz = 2;
	C->gpr[RCX] = 0xFFFFFFFF00001234ULL;
	CHECK_EQ(run_insn(exec_SYSRET, &in), NO_FAULT);
	CHECK_EQ(C->mode, MODE_COMPAT32);
	CHECK_EQ(C->rip, 0x1234);
	/* SYSCALL in compatibility mode or with EFER.SCE = 0: #UD; SYSRET at CPL 3: #GP. */
	CHECK_EQ(run_insn(exec_SYSCALL, &in), EXC_UD);
	mode_long64(3);
	CHECK_EXC(run_insn(exec_SYSRET, &in), EXC_GP, 0);
	C->efer &= ~EFER_SCE;
	CHECK_EQ(run_insn(exec_SYSCALL, &in), EXC_UD);
}

static void test_sysenter_sysexit(void)
{
	mode_prot32(3);
	struct insn in = insn();
	CHECK_EXC(run_insn(exec_SYSENTER, &in), EXC_GP, 0); /* SYSENTER_CS = 0 */
	C->sysenter_cs = SEL_CODE32;
	C->sysenter_esp = KSTACK_TOP;
	C->sysenter_eip = TARGET;
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_IF);
	CHECK_EQ(run_insn(exec_SYSENTER, &in), NO_FAULT);
	CHECK_EQ(C->cpl, 0);
	CHECK_EQ(C->rip, TARGET);
	CHECK_EQ(C->gpr[RSP], KSTACK_TOP);
	CHECK_EQ(C->seg[SEG_SS].sel, SEL_CODE32 + 8);
	CHECK(!(C->rflags & RFLAGS_IF));
	/* SYSEXIT: CS = SYSENTER_CS + 16 | 3, SS = + 24 | 3, EIP = EDX, ESP = ECX. */
	C->gpr[RDX] = 0x1000;
	C->gpr[RCX] = USTACK_TOP;
	CHECK_EQ(run_insn(exec_SYSEXIT, &in), NO_FAULT);
	CHECK_EQ(C->cpl, 3);
	CHECK_EQ(C->seg[SEG_CS].sel, (SEL_CODE32 + 16) | 3);
	CHECK_EQ(C->seg[SEG_SS].sel, (SEL_CODE32 + 24) | 3);
	CHECK_EQ(C->rip, 0x1000);
	CHECK_EXC(run_insn(exec_SYSEXIT, &in), EXC_GP, 0); /* CPL 3 */
	/* 64-bit mode: SYSENTER to 64-bit code, SYSEXIT with REX.W to 64-bit user. */
	mode_long64(3);
	C->sysenter_cs = SEL_CODE64;
	C->sysenter_eip = 0xFFFF800000002000ULL;
	C->sysenter_esp = KSTACK_TOP;
	CHECK_EQ(run_insn(exec_SYSENTER, &in), NO_FAULT);
	CHECK_EQ(C->mode, MODE_LONG64);
	CHECK_EQ(C->rip, 0xFFFF800000002000ULL);
	in.osz = 3;
	C->gpr[RDX] = 0x0000800000000000ULL;
	CHECK_EXC(run_insn(exec_SYSEXIT, &in), EXC_GP, 0);
	C->gpr[RDX] = 0x401000;
	CHECK_EQ(run_insn(exec_SYSEXIT, &in), NO_FAULT);
	CHECK_EQ(C->mode, MODE_LONG64);
	CHECK_EQ(C->seg[SEG_CS].sel, (SEL_CODE64 + 32) | 3);
}

int main(void)
{
	sys_init();
	test_jmp_far();
	test_call_ret_same();
	test_call_gate_legacy();
	test_call_gate_64();
	test_iret_to_compat();
	test_syscall_sysret();
	test_sysenter_sysexit();
	return report("sys_far");
}
