/*
 * Control registers, debug registers and MSRs: every #GP(0)/#UD rule of SDM Vol.2 MOV
 * CR / MOV DR / RDMSR / WRMSR and SDM Vol.3A 2.5, 9.8.5 (IA-32e activation), 17.2.
 */
#include "cpu/msr.h"
#include "sys_harness.h"

static int mov_cr(unsigned n, uint64_t v)
{
	struct insn in = insn();
	in.reg = (uint8_t)n;
	in.rm = RAX;
	C->gpr[RAX] = v;
	return run_insn(exec_MOV_TO_CR, &in);
}

static uint64_t read_cr(unsigned n)
{
	struct insn in = insn();
	in.reg = (uint8_t)n;
	in.rm = RBX;
	CHECK_EQ(run_insn(exec_MOV_FROM_CR, &in), NO_FAULT);
	return C->gpr[RBX];
}

static void test_cr0(void)
{
	mode_prot32(0);
	uint64_t cr0 = C->cr0;
	/* Outside 64-bit mode the operand is 32 bits: bit 32 is not seen. */
	CHECK_EQ(mov_cr(0, cr0 | BIT(32)), NO_FAULT);
	/* PG without PE (SDM Vol.2 MOV CR: #GP(0)). */
	CHECK_EXC(mov_cr(0, (cr0 & ~CR0_PE) | CR0_PG), EXC_GP, 0);
	/* NW without CD. */
	CHECK_EXC(mov_cr(0, (cr0 & ~CR0_CD) | CR0_NW), EXC_GP, 0);
	/* ET reads 1, reserved low bits are ignored, CR0 is unchanged after a fault. */
	CHECK_EQ(mov_cr(0, (cr0 & ~CR0_ET) | BIT(6)), NO_FAULT);
	CHECK_EQ(C->cr0, cr0);
	/* Back to real mode: PE = 0 is allowed with PG = 0. */
	CHECK_EQ(mov_cr(0, cr0 & ~CR0_PE), NO_FAULT);
	CHECK_EQ(C->mode, MODE_REAL);
	CHECK_EQ(read_cr(0) & CR0_PE, 0);
	/* At CPL 3: #GP(0) (SDM Vol.2 MOV CR). */
	mode_prot32(3);
	CHECK_EXC(mov_cr(0, C->cr0), EXC_GP, 0);
	struct insn in = insn();
	in.reg = 0;
	CHECK_EXC(run_insn(exec_MOV_FROM_CR, &in), EXC_GP, 0);
	/* CR1, CR5-7, CR9-15 do not exist: #UD. */
	mode_prot32(0);
	CHECK_EQ(mov_cr(1, 0), EXC_UD);
	CHECK_EQ(mov_cr(5, 0), EXC_UD);
	CHECK_EQ(mov_cr(9, 0), EXC_UD);
}

/* SDM 9.8.5: IA-32e activation by setting CR0.PG with EFER.LME = 1. */
static void test_long_mode_activation(void)
{
	mode_prot32(0);
	build_identity_pt();
	C->cr3 = PT_BASE;
	C->efer = EFER_LME;
	/* PAE must be on first. */
	CHECK_EXC(mov_cr(0, C->cr0 | CR0_PG), EXC_GP, 0);
	CHECK_EQ(mov_cr(4, CR4_PAE), NO_FAULT);
	/* CS.L = 1 at activation: #GP(0). */
	C->seg[SEG_CS].ar |= AR_L;
	CHECK_EXC(mov_cr(0, C->cr0 | CR0_PG), EXC_GP, 0);
	C->seg[SEG_CS].ar &= ~AR_L;
	CHECK_EQ(mov_cr(0, C->cr0 | CR0_PG), NO_FAULT);
	CHECK(C->efer & EFER_LMA);
	CHECK_EQ(C->mode, MODE_COMPAT32);
	/* CR0[63:32] set in 64-bit mode: #GP(0) (checked below after the far jump). */
	/* PAE cannot be cleared, LME cannot change while paging (WRMSR #GP). */
	CHECK_EXC(mov_cr(4, 0), EXC_GP, 0);
	CHECK(!msr_write(C, MSR_IA32_EFER, 0));
	/* Far jump into 64-bit code, then PG cannot be cleared in 64-bit mode. */
	load_seg(&C->seg[SEG_CS], SEL_CODE64);
	cpu_update_mode(C);
	CHECK_EQ(C->mode, MODE_LONG64);
	CHECK_EXC(mov_cr(0, C->cr0 | BIT(32)), EXC_GP, 0);
	CHECK_EXC(mov_cr(0, C->cr0 & ~CR0_PG), EXC_GP, 0);
	/* From compatibility mode it works and LMA clears. */
	load_seg(&C->seg[SEG_CS], SEL_CODE32);
	cpu_update_mode(C);
	CHECK_EQ(mov_cr(0, C->cr0 & ~CR0_PG), NO_FAULT);
	CHECK(!(C->efer & EFER_LMA));
	CHECK_EQ(C->mode, MODE_PROT32);
}

static void test_cr3_cr4(void)
{
	mode_long64(0);
	/* CR3 bits at or above MAXPHYADDR are reserved in IA-32e mode. */
	CHECK_EXC(mov_cr(3, PT_BASE | BIT(CPU_MAXPHYADDR)), EXC_GP, 0);
	CHECK_EQ(mov_cr(3, PT_BASE), NO_FAULT);
	CHECK_EQ(C->cr3, PT_BASE);
	/* PCIDE: CR3[11:0] must be 0 when it is set (SDM 4.10.1). */
	C->cr3 = PT_BASE | 5;
	CHECK_EXC(mov_cr(4, C->cr4 | CR4_PCIDE), EXC_GP, 0);
	C->cr3 = PT_BASE;
	CHECK_EQ(mov_cr(4, C->cr4 | CR4_PCIDE), NO_FAULT);
	/* With PCIDE, bit 63 (no flush) is accepted and not stored. */
	CHECK_EQ(mov_cr(3, PT_BASE | 7 | BIT(63)), NO_FAULT);
	CHECK_EQ(C->cr3, PT_BASE | 7);
	/* Clearing PG with PCIDE = 1: #GP (checked from compatibility mode). */
	load_seg(&C->seg[SEG_CS], SEL_CODE32);
	cpu_update_mode(C);
	CHECK_EXC(mov_cr(0, C->cr0 & ~CR0_PG), EXC_GP, 0);
	/* PCIDE outside IA-32e mode: #GP. */
	mode_prot32(0);
	CHECK_EXC(mov_cr(4, CR4_PCIDE), EXC_GP, 0);
	/* Supported bits set and read back. */
	uint64_t ok = CR4_PSE | CR4_PGE | CR4_DE | CR4_TSD | CR4_UMIP | CR4_SMEP | CR4_SMAP |
		      CR4_FSGSBASE | CR4_MCE | CR4_PCE;
	CHECK_EQ(mov_cr(4, ok), NO_FAULT);
	CHECK_EQ(read_cr(4), ok);
	CHECK_EXC(mov_cr(4, ok | BIT(30)), EXC_GP, 0);
}

/* CR8 is TPR[7:4] (SDM 10.8.6.1). */
static uint8_t fake_tpr;
static uint8_t get_tpr(void *apic) { (void)apic; return fake_tpr; }
static void set_tpr(void *apic, uint8_t v) { (void)apic; fake_tpr = v; }
static const struct cpu_apic_ops fake_apic = { .get_tpr = get_tpr, .set_tpr = set_tpr };

static void test_cr8(void)
{
	mode_long64(0);
	C->apic_ops = &fake_apic;
	CHECK_EQ(mov_cr(8, 0xA), NO_FAULT);
	CHECK_EQ(fake_tpr, 0xA0);
	fake_tpr = 0x5F;
	CHECK_EQ(read_cr(8), 5);
	CHECK_EXC(mov_cr(8, 0x10), EXC_GP, 0); /* CR8[63:4] reserved */
	C->apic_ops = NULL;
}

static void test_clts_lmsw_smsw(void)
{
	mode_prot32(0);
	struct insn in = insn();
	C->cr0 |= CR0_TS;
	CHECK_EQ(run_insn(exec_CLTS, &in), NO_FAULT);
	CHECK(!(C->cr0 & CR0_TS));
	/* LMSW cannot clear PE (SDM Vol.2 LMSW). */
	in.rm = RAX;
	C->gpr[RAX] = CR0_MP;
	CHECK_EQ(run_insn(exec_LMSW, &in), NO_FAULT);
	CHECK(C->cr0 & CR0_PE);
	CHECK(C->cr0 & CR0_MP);
	/* SMSW: 16 bits to memory; UMIP at CPL 3 is #GP(0) (SDM 2.5). */
	struct insn m = insn_mem(1, DATA_BASE);
	*ram32(DATA_BASE) = 0xFFFFFFFF;
	CHECK_EQ(run_insn(exec_SMSW, &m), NO_FAULT);
	CHECK_EQ(*ram32(DATA_BASE), 0xFFFF0000 | (C->cr0 & 0xFFFF));
	mode_prot32(3);
	CHECK_EQ(run_insn(exec_SMSW, &m), NO_FAULT); /* no UMIP: allowed at CPL 3 */
	CHECK_EXC(run_insn(exec_CLTS, &in), EXC_GP, 0);
	C->cr4 |= CR4_UMIP;
	CHECK_EXC(run_insn(exec_SMSW, &m), EXC_GP, 0);
	CHECK_EXC(run_insn(exec_SGDT, &m), EXC_GP, 0);
	CHECK_EXC(run_insn(exec_SIDT, &m), EXC_GP, 0);
	CHECK_EXC(run_insn(exec_SLDT, &m), EXC_GP, 0);
	CHECK_EXC(run_insn(exec_STR, &m), EXC_GP, 0);
}

static int mov_dr(unsigned n, uint64_t v, bool to)
{
	struct insn in = insn();
	in.reg = (uint8_t)n;
	in.rm = RAX;
	C->gpr[RAX] = v;
	return run_insn(to ? exec_MOV_TO_DR : exec_MOV_FROM_DR, &in);
}

/* SDM 17.2 and Vol.2 MOV DR. */
static void test_dr(void)
{
	mode_long64(0);
	CHECK_EQ(mov_dr(0, 0x1234, true), NO_FAULT);
	CHECK_EQ(C->dr[0], 0x1234);
	/* DR4/DR5 alias DR6/DR7 with CR4.DE = 0, #UD with CR4.DE = 1. */
	CHECK_EQ(mov_dr(5, 0x401, true), NO_FAULT);
	CHECK_EQ(C->dr[7], 0x401);
	C->cr4 |= CR4_DE;
	CHECK_EQ(mov_dr(4, 0, false), EXC_UD);
	/* DR6/DR7 bits 63:32 must be 0. */
	CHECK_EXC(mov_dr(7, BIT(32), true), EXC_GP, 0);
	CHECK_EQ(mov_dr(6, 0, true), NO_FAULT);
	CHECK_EQ(C->dr[6], 0xFFFF0FF0); /* reserved bits read as 1 */
	/* DR7.GD: the next access is a #DB fault with DR6.BD and GD cleared. */
	CHECK_EQ(mov_dr(7, 0x400 | BIT(13), true), NO_FAULT);
	CHECK_EQ(mov_dr(0, 0, false), EXC_DB);
	CHECK(C->dr[6] & BIT(13));
	CHECK(!(C->dr[7] & BIT(13)));
	/* CPL 3: #GP(0). */
	mode_long64(3);
	CHECK_EXC(mov_dr(0, 0, false), EXC_GP, 0);
}

static int wrmsr(uint32_t msr, uint64_t v)
{
	struct insn in = insn();
	C->gpr[RCX] = msr;
	C->gpr[RAX] = (uint32_t)v;
	C->gpr[RDX] = v >> 32;
	return run_insn(exec_WRMSR, &in);
}

static uint64_t rdmsr(uint32_t msr)
{
	struct insn in = insn();
	C->gpr[RCX] = msr;
	CHECK_EQ(run_insn(exec_RDMSR, &in), NO_FAULT);
	return (C->gpr[RDX] << 32) | (uint32_t)C->gpr[RAX];
}

/* SDM Vol.4 Table 2-2 and Vol.2 WRMSR. */
static void test_msr(void)
{
	mode_long64(0);
	CHECK_EXC(wrmsr(0xDEAD, 0), EXC_GP, 0); /* unknown MSR */
	CHECK_EXC(wrmsr(MSR_IA32_EFER, C->efer | BIT(2)), EXC_GP, 0); /* reserved */
	CHECK_EQ(wrmsr(MSR_IA32_EFER, (C->efer & ~EFER_LMA)), NO_FAULT); /* LMA read-only */
	CHECK(C->efer & EFER_LMA);
	CHECK_EXC(wrmsr(MSR_IA32_LSTAR, 0x0000800000000000ULL), EXC_GP, 0);
	CHECK_EQ(wrmsr(MSR_IA32_LSTAR, 0xFFFF800000001000ULL), NO_FAULT);
	CHECK_EQ(rdmsr(MSR_IA32_LSTAR), 0xFFFF800000001000ULL);
	CHECK_EXC(wrmsr(MSR_IA32_FS_BASE, 0x0001000000000000ULL), EXC_GP, 0);
	CHECK_EQ(wrmsr(MSR_IA32_GS_BASE, 0x5000), NO_FAULT);
	CHECK_EQ(C->seg[SEG_GS].base, 0x5000);
	CHECK_EXC(wrmsr(MSR_IA32_TSC_AUX, BIT(32)), EXC_GP, 0);
	/* PAT: encodings 2 and 3 are reserved (SDM 11.12.2). */
	CHECK_EXC(wrmsr(MSR_IA32_PAT, 0x0007040600070402ULL), EXC_GP, 0);
	CHECK_EQ(wrmsr(MSR_IA32_PAT, 0x0007010600070106ULL), NO_FAULT);
	/* MTRRs. */
	CHECK_EQ(rdmsr(MSR_IA32_MTRRCAP) & 0xFF, 8);
	CHECK_EXC(wrmsr(MSR_IA32_MTRR_PHYSBASE0, 0x1000 | 2), EXC_GP, 0);
	CHECK_EQ(wrmsr(MSR_IA32_MTRR_PHYSBASE0, 0x1000 | 6), NO_FAULT);
	CHECK_EXC(wrmsr(MSR_IA32_MTRR_PHYSBASE0 + 1, BIT(CPU_MAXPHYADDR)), EXC_GP, 0);
	CHECK_EXC(wrmsr(MSR_IA32_MTRR_DEF_TYPE, BIT(12)), EXC_GP, 0);
	/* TSC writes move the counter (SDM 18.17). */
	CHECK_EQ(wrmsr(MSR_IA32_TSC, 1000000), NO_FAULT);
	uint64_t t = rdmsr(MSR_IA32_TSC);
	CHECK(t >= 1000000 && t < 1001000);
	/* APIC base: BSP bit is read-only, x2APIC without EN is invalid. */
	uint64_t ab = C->apic_base;
	CHECK_EXC(wrmsr(MSR_IA32_APIC_BASE, ab ^ BIT(8)), EXC_GP, 0);
	CHECK_EXC(wrmsr(MSR_IA32_APIC_BASE, (ab & ~BIT(11)) | BIT(10)), EXC_GP, 0);
	CHECK_EQ(wrmsr(MSR_IA32_APIC_BASE, ab | BIT(10)), NO_FAULT);
	CHECK_EXC(wrmsr(MSR_IA32_APIC_BASE, ab & ~BIT(10)), EXC_GP, 0); /* x2 -> x */
	/* Feature control locks (SDM 25.7); VMX outside SMX (bit 2) exists with VMX,
	 * VMX inside SMX (bit 1) does not without SMX. */
	CHECK_EXC(wrmsr(MSR_IA32_FEATURE_CONTROL, BIT(1)), EXC_GP, 0);
	CHECK_EQ(wrmsr(MSR_IA32_FEATURE_CONTROL, BIT(2)), NO_FAULT);
	CHECK_EQ(wrmsr(MSR_IA32_FEATURE_CONTROL, 1), NO_FAULT);
	CHECK_EXC(wrmsr(MSR_IA32_FEATURE_CONTROL, 1), EXC_GP, 0);
	/* PRED_CMD is write-only; MCG_CAP reports no banks. */
	CHECK_EQ(wrmsr(MSR_IA32_PRED_CMD, 1), NO_FAULT);
	struct insn in = insn();
	C->gpr[RCX] = MSR_IA32_PRED_CMD;
	CHECK_EXC(run_insn(exec_RDMSR, &in), EXC_GP, 0);
	CHECK_EQ(rdmsr(MSR_IA32_MCG_CAP), 0);
	/* CPL 3: #GP(0). */
	mode_long64(3);
	CHECK_EXC(wrmsr(MSR_IA32_STAR, 0), EXC_GP, 0);
}

int main(void)
{
	sys_init();
	test_cr0();
	test_long_mode_activation();
	test_cr3_cr4();
	test_cr8();
	test_clts_lmsw_smsw();
	test_dr();
	test_msr();
	return report("sys_cr");
}
