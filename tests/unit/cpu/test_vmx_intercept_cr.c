/*
 * Control- and debug-register accesses in VMX non-root operation: when MOV CR, CLTS,
 * LMSW and MOV DR exit (SDM 27.1.3) with their qualifications (SDM 29.2.1 Tables 29-3,
 * 29-4), the CR0/CR4 guest/host masks and read shadows when they do not (SDM 27.3),
 * the CR3-target values, the TPR shadow (SDM 27.3 MOV CR8, 31.1.1, 31.1.2) and TSC
 * offsetting (SDM 26.6.5, 27.3).
 */
#include "vmx_intercept_harness.h"

/* Table 29-3: CR 3:0, type 5:4 (0 to, 1 from, 2 CLTS, 3 LMSW), memory 6, GPR 11:8,
 * LMSW data 31:16. */
#define CRQ(cr, type, gpr) ((uint64_t)(cr) | (uint64_t)(type) << 4 | (uint64_t)(gpr) << 8)

static void test_mov_to_cr0_cr4(void)
{
	/* MOV CR0, RAX (0F 22 C0): exits iff RAX differs from the shadow in a masked bit
	 * (SDM 27.1.3); an all-clear mask never exits. */
	guest64(0, 0, 0);
	C->gpr[RAX] = C->cr0 | CR0_TS;
	CHECK_EQ(decide(0x0F, 0x22, 0xC0), NOEXIT);
	C->vmx.ctl.cr0_mask = CR0_TS;
	C->vmx.ctl.cr0_shadow = 0;
	CHECK_EXIT(decide(0x0F, 0x22, 0xC0), EXIT_REASON_CR_ACCESS, CRQ(0, 0, RAX), 3);
	C->gpr[RBX] = C->cr0 | CR0_TS;
	CHECK_EXIT(decide(0x0F, 0x22, 0xC3), EXIT_REASON_CR_ACCESS, CRQ(0, 0, RBX), 3);
	C->gpr[RAX] = C->cr0 & ~CR0_TS;
	CHECK_EQ(decide(0x0F, 0x22, 0xC0), NOEXIT);
	/* R12 (REX.B): GPR 12 in 11:8. */
	C->gpr[R12] = C->cr0 | CR0_TS;
	CHECK_EXIT(decide(0x41, 0x0F, 0x22, 0xC4), EXIT_REASON_CR_ACCESS, CRQ(0, 0, R12), 4);
	/* CPL 3: #GP(0) first (SDM 27.1.1). */
	guest64(3, 0, 0);
	C->vmx.ctl.cr0_mask = CR0_TS;
	C->gpr[RAX] = C->cr0 | CR0_TS;
	CHECK_EQ(decide(0x0F, 0x22, 0xC0), FAULT(EXC_GP));
	/* MOV CR4, RAX (0F 22 E0) against the CR4 mask and shadow. */
	guest64(0, 0, 0);
	C->vmx.ctl.cr4_mask = CR4_VMXE;
	C->vmx.ctl.cr4_shadow = 0;
	C->gpr[RAX] = C->cr4 & ~CR4_VMXE;
	CHECK_EQ(decide(0x0F, 0x22, 0xE0), NOEXIT);
	C->gpr[RAX] = C->cr4;
	CHECK_EXIT(decide(0x0F, 0x22, 0xE0), EXIT_REASON_CR_ACCESS, CRQ(4, 0, RAX), 3);
	/* MOV CR2 never exits; MOV from CR0/CR4 never exit. */
	CHECK_EQ(decide(0x0F, 0x22, 0xD0), NOEXIT);
	C->vmx.ctl.cr0_mask = ~0ULL;
	CHECK_EQ(decide(0x0F, 0x20, 0xC0), NOEXIT);
	CHECK_EQ(decide(0x0F, 0x20, 0xE0), NOEXIT);
	/* CR1 does not exist: #UD (the decoder's OP_UD, which never exits). */
	CHECK_EQ(decide(0x0F, 0x22, 0xC8), NOEXIT);
	CHECK_EQ(run(0x0F, 0x22, 0xC8), EXC_UD);
}

static void test_cr_shadows(void)
{
	/* SDM 27.3 MOV to CR4: a masked bit keeps its value (VMXE stays 1 while the guest
	 * writes 0 matching the shadow); MOV from CR4 reads the shadow for it. */
	guest64(0, 0, 0);
	C->vmx.ctl.cr4_mask = CR4_VMXE;
	C->vmx.ctl.cr4_shadow = 0;
	C->gpr[RAX] = (C->cr4 & ~CR4_VMXE) | CR4_PGE;
	CHECK_EQ(run(0x0F, 0x22, 0xE0), NO_FAULT);
	CHECK_EQ(C->cr4, CR4_PAE | CR4_PGE | CR4_VMXE);
	CHECK_EQ(run(0x0F, 0x20, 0xE1), NO_FAULT); /* mov rcx, cr4 */
	CHECK_EQ(C->gpr[RCX], CR4_PAE | CR4_PGE);
	/* Without the mask, clearing CR4.VMXE is #GP(0) (CR4 fixed bits, SDM 27.3). */
	C->vmx.ctl.cr4_mask = 0;
	C->gpr[RAX] = C->cr4 & ~CR4_VMXE;
	CHECK_EQ(run(0x0F, 0x22, 0xE0), EXC_GP);
	/* CR0: TS owned by the VMM (mask), shadow TS = 1: reads show TS, writes of TS = 1
	 * leave CR0.TS alone. */
	guest64(0, 0, 0);
	C->cr0 &= ~CR0_TS;
	C->vmx.ctl.cr0_mask = CR0_TS | CR0_MP;
	C->vmx.ctl.cr0_shadow = CR0_TS;
	CHECK_EQ(run(0x0F, 0x20, 0xC2), NO_FAULT); /* mov rdx, cr0 */
	CHECK_EQ(C->gpr[RDX], C->cr0 | CR0_TS);
	C->gpr[RAX] = C->cr0 | CR0_TS | CR0_AM;
	CHECK_EQ(run(0x0F, 0x22, 0xC0), NO_FAULT);
	CHECK_EQ(C->cr0 & (CR0_TS | CR0_AM), CR0_AM);
	/* SMSW r32 (0F 01 E0) reads the shadow too (SDM 27.3 SMSW). */
	CHECK_EQ(run(0x0F, 0x01, 0xE0), NO_FAULT);
	CHECK_EQ(C->gpr[RAX] & 0xFFFF, (C->cr0 | CR0_TS) & 0xFFFF);
	/* CLTS: TS in both mask and shadow exits (qualification type 2, SDM 29.2.1). */
	CHECK_EXIT(decide(0x0F, 0x06), EXIT_REASON_CR_ACCESS, CRQ(0, 2, 0), 2);
	/* TS in the mask, shadow clear: no exit and CR0.TS unchanged (SDM 27.3). */
	C->vmx.ctl.cr0_shadow = 0;
	C->cr0 |= CR0_TS;
	CHECK_EQ(decide(0x0F, 0x06), NOEXIT);
	CHECK_EQ(run(0x0F, 0x06), NO_FAULT);
	CHECK(C->cr0 & CR0_TS);
	/* TS not in the mask: CLTS clears it. */
	C->vmx.ctl.cr0_mask = 0;
	CHECK_EQ(run(0x0F, 0x06), NO_FAULT);
	CHECK(!(C->cr0 & CR0_TS));
	/* CR0 fixed bits: clearing CR0.NE is #GP(0) ... */
	C->gpr[RAX] = C->cr0 & ~CR0_NE;
	CHECK_EQ(run(0x0F, 0x22, 0xC0), EXC_GP);
	/* ... unless NE is masked: the write then leaves it set. */
	C->vmx.ctl.cr0_mask = CR0_NE;
	C->vmx.ctl.cr0_shadow = 0;
	CHECK_EQ(run(0x0F, 0x22, 0xC0), NO_FAULT);
	CHECK(C->cr0 & CR0_NE);
}

static void test_lmsw(void)
{
	/* LMSW ax (0F 01 F0). SDM 27.1.3: PE counts only if set in mask and source and
	 * clear in the shadow; MP/EM/TS if masked and source differs from shadow.
	 * Qualification: type 3, data in 31:16 (SDM 29.2.1). */
	guest64(0, 0, 0);
	C->vmx.ctl.cr0_mask = CR0_PE;
	C->vmx.ctl.cr0_shadow = 0;
	C->gpr[RAX] = 0xFFFF0001;
	CHECK_EXIT(decide(0x0F, 0x01, 0xF0), EXIT_REASON_CR_ACCESS, CRQ(0, 3, 0) | 1ULL << 16, 3);
	CHECK_EQ(X.guest_linear, 0);
	C->gpr[RAX] = 0;
	CHECK_EQ(decide(0x0F, 0x01, 0xF0), NOEXIT);
	C->vmx.ctl.cr0_shadow = CR0_PE; /* source PE = 0 vs shadow 1: LMSW cannot clear PE */
	CHECK_EQ(decide(0x0F, 0x01, 0xF0), NOEXIT);
	C->vmx.ctl.cr0_mask = CR0_PE | CR0_MP;
	C->gpr[RAX] = CR0_MP | CR0_PE;
	CHECK_EXIT(decide(0x0F, 0x01, 0xF0), EXIT_REASON_CR_ACCESS,
		   CRQ(0, 3, 0) | (uint64_t)(CR0_MP | CR0_PE) << 16, 3);
	/* Memory operand LMSW [rbx] (0F 01 33): bit 6 set, guest-linear address is the
	 * operand's (SDM 29.2.x). */
	C->gpr[RBX] = DATA_BASE + 0x10;
	*ram16(DATA_BASE + 0x10) = CR0_MP | CR0_PE;
	CHECK_EXIT(decide(0x0F, 0x01, 0x33), EXIT_REASON_CR_ACCESS,
		   CRQ(0, 3, 0) | BIT(6) | (uint64_t)(CR0_MP | CR0_PE) << 16, 3);
	CHECK_EQ(X.guest_linear, DATA_BASE + 0x10);
	/* The operand's #PF comes before the exit (SDM 27.1.1). */
	C->gpr[RBX] = 0x7F0000000000ULL;
	CHECK_EQ(decide(0x0F, 0x01, 0x33), FAULT(EXC_PF));
	/* Not exiting: masked bits are kept (SDM 27.3 LMSW). */
	C->vmx.ctl.cr0_mask = CR0_MP;
	C->vmx.ctl.cr0_shadow = 0;
	C->cr0 |= CR0_MP;
	C->gpr[RAX] = CR0_PE | CR0_EM; /* MP = 0 matches the shadow: no exit */
	CHECK_EQ(run(0x0F, 0x01, 0xF0), NO_FAULT);
	CHECK_EQ(C->cr0 & (CR0_MP | CR0_EM), CR0_MP | CR0_EM);
}

static void test_cr3_cr8(void)
{
	/* MOV CR3 (0F 22 D8): CR3-load exiting with count 0 always exits (SDM 27.1.3). */
	guest64(0, PROC_CR3_LOAD_EXITING, 0);
	C->gpr[RAX] = 0x5000;
	CHECK_EXIT(decide(0x0F, 0x22, 0xD8), EXIT_REASON_CR_ACCESS, CRQ(3, 0, RAX), 3);
	/* Only the first count target values count. */
	C->vmx.ctl.cr3_target_count = 2;
	C->vmx.ctl.cr3_target[0] = 0x1000;
	C->vmx.ctl.cr3_target[1] = 0x5000;
	C->vmx.ctl.cr3_target[2] = 0x6000;
	C->vmx.ctl.cr3_target[3] = 0x7000;
	CHECK_EQ(decide(0x0F, 0x22, 0xD8), NOEXIT);
	C->gpr[RAX] = 0x6000;
	CHECK_EQ(decide(0x0F, 0x22, 0xD8), EXIT);
	C->vmx.ctl.cr3_target_count = 4;
	C->gpr[RAX] = 0x7000;
	CHECK_EQ(decide(0x0F, 0x22, 0xD8), NOEXIT);
	C->gpr[RAX] = 0x7001;
	CHECK_EQ(decide(0x0F, 0x22, 0xD8), EXIT);
	guest64(0, 0, 0);
	CHECK_EQ(decide(0x0F, 0x22, 0xD8), NOEXIT);
	/* MOV RSI, CR3 (0F 20 DE): CR3-store exiting, type 1. */
	CHECK_EQ(decide(0x0F, 0x20, 0xDE), NOEXIT);
	guest64(0, PROC_CR3_STORE_EXITING, 0);
	CHECK_EXIT(decide(0x0F, 0x20, 0xDE), EXIT_REASON_CR_ACCESS, CRQ(3, 1, RSI), 3);
	/* MOV CR8, R9 (45 0F 22 C1) and MOV RAX, CR8 (44 0F 20 C0). */
	guest64(0, PROC_CR8_LOAD_EXITING, 0);
	CHECK_EXIT(decide(0x45, 0x0F, 0x22, 0xC1), EXIT_REASON_CR_ACCESS, CRQ(8, 0, R9), 4);
	CHECK_EQ(decide(0x44, 0x0F, 0x20, 0xC0), NOEXIT);
	guest64(0, PROC_CR8_STORE_EXITING, 0);
	CHECK_EXIT(decide(0x44, 0x0F, 0x20, 0xC0), EXIT_REASON_CR_ACCESS, CRQ(8, 1, RAX), 4);
	CHECK_EQ(decide(0x45, 0x0F, 0x22, 0xC1), NOEXIT);
}

static void test_tpr_shadow(void)
{
	/* "use TPR shadow": MOV from CR8 returns VTPR[7:4] (SDM 27.3). */
	guest64(0, PROC_TPR_SHADOW, 0);
	*ram32(VAPIC_PAGE + 0x80) = 0x5A;
	C->gpr[RAX] = ~0ULL;
	CHECK_EQ(run(0x44, 0x0F, 0x20, 0xC0), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 5);
	/* MOV to CR8: VTPR = source[3:0] << 4, bits 31:8 cleared; no exit when not below
	 * the threshold (SDM 31.1.2). */
	*ram32(VAPIC_PAGE + 0x80) = 0xFFFFFFFF;
	C->vmx.ctl.tpr_threshold = 3;
	C->gpr[R9] = 3;
	C->rip = CODE_BASE;
	CHECK_EQ(run(0x45, 0x0F, 0x22, 0xC1), NO_FAULT);
	CHECK_EQ(*ram32(VAPIC_PAGE + 0x80), 0x30);
	CHECK_EQ(C->rip, CODE_BASE + 4);
	CHECK(C->vmx.non_root);
	/* Reserved CR8 bits are still #GP(0). */
	C->gpr[R9] = 0x10;
	CHECK_EQ(run(0x45, 0x0F, 0x22, 0xC1), EXC_GP);
	CHECK_EQ(*ram32(VAPIC_PAGE + 0x80), 0x30);
}

static void test_mov_dr(void)
{
	/* MOV DR7, RAX (0F 23 F8): "MOV-DR exiting"; Table 29-4: DR 2:0, direction 4,
	 * GPR 11:8. */
	guest64(0, 0, 0);
	CHECK_EQ(decide(0x0F, 0x23, 0xF8), NOEXIT);
	guest64(0, PROC_MOV_DR_EXITING, 0);
	CHECK_EXIT(decide(0x0F, 0x23, 0xF8), EXIT_REASON_DR_ACCESS, 7, 3);
	CHECK_EXIT(decide(0x0F, 0x21, 0xF1), EXIT_REASON_DR_ACCESS, 6 | BIT(4) | 1 << 8, 3);
	/* MOV R11, DR0 (41 0F 21 C3). */
	CHECK_EXIT(decide(0x41, 0x0F, 0x21, 0xC3), EXIT_REASON_DR_ACCESS, 0 | BIT(4) | 11 << 8, 4);
	/* DR4 with CR4.DE is #UD first; without DE the exit reports DR4 as encoded. */
	CHECK_EXIT(decide(0x0F, 0x21, 0xE0), EXIT_REASON_DR_ACCESS, 4 | BIT(4), 3);
	C->cr4 |= CR4_DE;
	CHECK_EQ(decide(0x0F, 0x21, 0xE0), FAULT(EXC_UD));
	/* DR7.GD: the exit comes before the general-detect #DB. */
	C->dr[7] |= BIT(13);
	CHECK_EQ(decide(0x0F, 0x23, 0xF8), EXIT);
	C->dr[7] &= ~BIT(13);
	/* CPL 3: #GP(0) first. */
	guest64(3, PROC_MOV_DR_EXITING, 0);
	CHECK_EQ(decide(0x0F, 0x23, 0xF8), FAULT(EXC_GP));
}

static void test_tsc_offsetting(void)
{
	/* SDM 27.3 RDTSC: with "use TSC offsetting" the guest reads TSC + offset (the
	 * deterministic clock does not move between the reads here). */
	guest64(0, PROC_USE_TSC_OFFSETTING, 0);
	C->vmx.ctl.tsc_offset = 1ULL << 40;
	uint64_t before = cpu_read_tsc(C);
	CHECK_EQ(run(0x0F, 0x31), NO_FAULT);
	uint64_t t = C->gpr[RDX] << 32 | (uint32_t)C->gpr[RAX];
	CHECK_EQ(t - before, 1ULL << 40);
	/* A negative offset (two's complement). */
	C->vmx.ctl.tsc_offset = 0 - before;
	CHECK_EQ(run(0x0F, 0x31), NO_FAULT);
	CHECK_EQ(C->gpr[RDX] << 32 | (uint32_t)C->gpr[RAX], cpu_read_tsc(C) - before);
	/* RDMSR IA32_TSC (0F 32, ECX = 10H) with an MSR bitmap that lets it through. */
	C->vmx.ctl.proc |= PROC_USE_MSR_BITMAPS;
	C->vmx.ctl.tsc_offset = 1ULL << 40;
	C->gpr[RCX] = 0x10;
	CHECK_EQ(run(0x0F, 0x32), NO_FAULT);
	CHECK_EQ((C->gpr[RDX] << 32 | (uint32_t)C->gpr[RAX]) - cpu_read_tsc(C), 1ULL << 40);
	/* RDTSCP with "enable RDTSCP" too. */
	C->vmx.ctl.proc |= PROC_SECONDARY_CONTROLS;
	C->vmx.ctl.proc2 = PROC2_ENABLE_RDTSCP;
	CHECK_EQ(run(0x0F, 0x01, 0xF9), NO_FAULT);
	CHECK_EQ((C->gpr[RDX] << 32 | (uint32_t)C->gpr[RAX]) - cpu_read_tsc(C), 1ULL << 40);
	/* Without the control, no offset. */
	C->vmx.ctl.proc &= ~PROC_USE_TSC_OFFSETTING;
	CHECK_EQ(run(0x0F, 0x31), NO_FAULT);
	CHECK_EQ(C->gpr[RDX] << 32 | (uint32_t)C->gpr[RAX], cpu_read_tsc(C));
}

/* Through the binding and the real exit: a CR access exit saves the instruction's
 * RIP (fault-like), TPR below threshold the next one (trap-like, SDM 31.1.2), with
 * qualification 0 and no instruction length. */
static void test_exits_taken(void)
{
	guest64(0, 0, 0);
	C->vmx.ctl.cr0_mask = CR0_TS;
	C->gpr[RBX] = C->cr0 | CR0_TS;
	C->rip = CODE_BASE;
	run(0x0F, 0x22, 0xC3);
	CHECK_VMCS_EXIT(EXIT_REASON_CR_ACCESS, CRQ(0, 0, RBX), 3, 0, CODE_BASE);
	CHECK(!(C->cr0 & CR0_TS));
	/* LMSW [rbx]: the guest-linear address field (SDM 29.2.x). */
	guest64(0, 0, 0);
	C->vmx.ctl.cr0_mask = CR0_MP;
	C->gpr[RBX] = DATA_BASE + 0x20;
	*ram16(DATA_BASE + 0x20) = CR0_MP;
	C->rip = CODE_BASE;
	run(0x0F, 0x01, 0x33);
	CHECK_VMCS_EXIT(EXIT_REASON_CR_ACCESS, CRQ(0, 3, 0) | BIT(6) | (uint64_t)CR0_MP << 16,
			3, 0, CODE_BASE);
	CHECK_EQ(vr(VMCS_GUEST_LINEAR_ADDRESS), DATA_BASE + 0x20);
	/* MOV CR8 below the TPR threshold: VTPR written, then the trap-like exit. */
	guest64(0, PROC_TPR_SHADOW, 0);
	C->vmx.ctl.tpr_threshold = 4;
	C->gpr[R9] = 3;
	C->rip = CODE_BASE;
	run(0x45, 0x0F, 0x22, 0xC1);
	CHECK_VMCS_EXIT(EXIT_REASON_TPR_BELOW_THRESHOLD, 0, 0, 0, CODE_BASE + 4);
	CHECK_EQ(*ram32(VAPIC_PAGE + 0x80), 0x30);
	CHECK_EQ(vr(VMCS_GUEST_PENDING_DBG_EXCEPTIONS), 0);
	/* With RFLAGS.TF the single-step trap of the completed instruction is pending
	 * at the trap-like exit: BS in the pending debug exceptions (SDM 29.3.4). */
	guest64(0, PROC_TPR_SHADOW, 0);
	C->vmx.ctl.tpr_threshold = 4;
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_TF);
	C->gpr[R9] = 3;
	C->rip = CODE_BASE;
	run(0x45, 0x0F, 0x22, 0xC1);
	CHECK_VMCS_EXIT(EXIT_REASON_TPR_BELOW_THRESHOLD, 0, 0, 0, CODE_BASE + 4);
	CHECK_EQ(vr(VMCS_GUEST_PENDING_DBG_EXCEPTIONS), PENDING_DBG_BS);
	CHECK_EQ(vr(VMCS_GUEST_RFLAGS) & RFLAGS_TF, RFLAGS_TF);
	cpu_set_rflags(C, RFLAGS_FIXED1);
	/* MOV DR exit. */
	guest64(0, PROC_MOV_DR_EXITING, 0);
	C->rip = CODE_BASE;
	run(0x0F, 0x21, 0xF1);
	CHECK_VMCS_EXIT(EXIT_REASON_DR_ACCESS, 6 | BIT(4) | 1 << 8, 3, 0, CODE_BASE);
}

int main(void)
{
	vmx_init();
	test_mov_to_cr0_cr4();
	test_cr_shadows();
	test_lmsw();
	test_cr3_cr8();
	test_tpr_shadow();
	test_mov_dr();
	test_tsc_offsetting();
	test_exits_taken();
	C->vmx.non_root = false;
	return report("vmx_intercept_cr");
}
