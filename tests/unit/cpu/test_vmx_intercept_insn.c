/*
 * Instruction VM exits decided by one control or none (SDM 27.1.2, 27.1.3), the
 * faults with priority over them (SDM 27.1.1), and what the exits report: reason
 * (App. C), qualification (SDM 29.2.1), instruction length (SDM 29.2.5) and
 * instruction information (SDM 29.2.x; layouts in vmx_intercept.h). Also the VMX
 * instructions and the descriptor-table exits.
 */
#include "vmx_intercept_harness.h"

#define P2(x) (x) /* secondary controls */

/* Instruction-information fields (SDM 29.2.x). */
#define ASZ64 (2u << 7)
#define ASZ32 (1u << 7)
#define SEGF(s) ((uint32_t)(s) << 15)
#define NOIDX BIT(22)
#define NOBASE BIT(27)
#define BASEF(r) ((uint32_t)(r) << 23)
#define IDXF(r) ((uint32_t)(r) << 18)
#define REG1F(r) ((uint32_t)(r) << 3)
#define REG2F(r) ((uint32_t)(r) << 28)
#define REGFORM BIT(10)

static void test_unconditional(void)
{
	/* SDM 27.1.2: CPUID exits unconditionally, at any CPL. */
	guest64(0, 0, 0);
	CHECK_EXIT(decide(0x0F, 0xA2), EXIT_REASON_CPUID, 0, 2);
	CHECK_EQ(X.insn_info, 0);
	guest64(3, 0, 0);
	CHECK_EXIT(decide(0x0F, 0xA2), EXIT_REASON_CPUID, 0, 2);
	/* INVD: unconditional, but #GP(0) at CPL 3 comes first (SDM 27.1.1). */
	CHECK_EQ(decide(0x0F, 0x08), FAULT(EXC_GP));
	guest64(0, 0, 0);
	CHECK_EXIT(decide(0x0F, 0x08), EXIT_REASON_INVD, 0, 2);
	/* GETSEC and XSETBV exit unconditionally, but CR4.SMXE = 0 and CR4.OSXSAVE = 0
	 * (the silicon has neither) make them #UD first (SDM 27.1.1). */
	CHECK_EQ(decide(0x0F, 0x37), FAULT(EXC_UD));
	CHECK_EQ(decide(0x0F, 0x01, 0xD1), FAULT(EXC_UD));
	/* An op without intercept class never exits. */
	CHECK_EQ(decide(0x90), NOEXIT);
}

static void test_hlt_pause(void)
{
	/* SDM 27.1.3 HLT: "HLT exiting"; length 1. */
	guest64(0, 0, 0);
	CHECK_EQ(decide(0xF4), NOEXIT);
	guest64(0, PROC_HLT_EXITING, 0);
	CHECK_EXIT(decide(0xF4), EXIT_REASON_HLT, 0, 1);
	/* SDM 27.1.1: HLT at CPL 3 is #GP(0), not an exit. */
	guest64(3, PROC_HLT_EXITING, 0);
	CHECK_EQ(decide(0xF4), FAULT(EXC_GP));
	/* PAUSE (F3 90): "PAUSE exiting", at any CPL; plain NOP (90) never. */
	CHECK_EQ(decide(0xF3, 0x90), NOEXIT);
	guest64(3, PROC_PAUSE_EXITING, 0);
	CHECK_EXIT(decide(0xF3, 0x90), EXIT_REASON_PAUSE_INSTRUCTION, 0, 2);
	CHECK_EQ(decide(0x90), NOEXIT);
}

static void test_invlpg(void)
{
	/* INVLPG [rax+10h]: the qualification is the linear address (SDM 29.2.1). */
	guest64(0, 0, 0);
	C->gpr[RAX] = 0xFFFF800000001000ULL;
	CHECK_EQ(decide(0x0F, 0x01, 0x78, 0x10), NOEXIT);
	guest64(0, PROC_INVLPG_EXITING, 0);
	C->gpr[RAX] = 0xFFFF800000001000ULL;
	CHECK_EXIT(decide(0x0F, 0x01, 0x78, 0x10), EXIT_REASON_INVLPG, 0xFFFF800000001010ULL, 4);
	/* FS:[rax]: in 64-bit mode FS and GS bases count. */
	C->seg[SEG_FS].base = 0x100000;
	C->gpr[RAX] = 0x234;
	CHECK_EXIT(decide(0x64, 0x0F, 0x01, 0x38), EXIT_REASON_INVLPG, 0x100234, 4);
	/* CPL 3: #GP(0) first. */
	guest64(3, PROC_INVLPG_EXITING, 0);
	CHECK_EQ(decide(0x0F, 0x01, 0x38), FAULT(EXC_GP));
	/* Outside 64-bit mode: segment base + offset, bits 63:32 clear (SDM 29.2.1). */
	guest32(0, PROC_INVLPG_EXITING, 0);
	C->seg[SEG_DS].base = 0xF0000000;
	C->gpr[RAX] = 0x20000010;
	CHECK_EXIT(decide(0x0F, 0x01, 0x38), EXIT_REASON_INVLPG, 0x10000010, 3);
}

static void test_invpcid(void)
{
	/* INVPCID rcx, [rax+20h] (66 0F 38 82 48 20): #UD unless "enable INVPCID"
	 * (SDM 27.3), then "INVLPG exiting" decides (SDM 27.1.3). */
	guest64(0, PROC_INVLPG_EXITING, 0);
	CHECK_EQ(decide(0x66, 0x0F, 0x38, 0x82, 0x48, 0x20), FAULT(EXC_UD));
	guest64(0, 0, PROC2_ENABLE_INVPCID);
	CHECK_EQ(decide(0x66, 0x0F, 0x38, 0x82, 0x48, 0x20), NOEXIT);
	guest64(0, PROC_INVLPG_EXITING, PROC2_ENABLE_INVPCID);
	/* Qualification: the displacement; information: 64-bit address, DS, base RAX,
	 * no index, Reg2 = RCX (SDM 29.2.x INVEPT/INVPCID/INVVPID layout). */
	CHECK_EXIT(decide(0x66, 0x0F, 0x38, 0x82, 0x48, 0x20), EXIT_REASON_INVPCID, 0x20, 6);
	CHECK_EQ(X.insn_info, ASZ64 | SEGF(SEG_DS) | NOIDX | BASEF(RAX) | REG2F(RCX));
	/* INVPCID rdx, [rbx+rsi*4-8] (66 0F 38 82 54 B3 F8): scale 2, index RSI, base
	 * RBX, displacement sign-extended to 64 bits. */
	CHECK_EXIT(decide(0x66, 0x0F, 0x38, 0x82, 0x54, 0xB3, 0xF8), EXIT_REASON_INVPCID,
		   0xFFFFFFFFFFFFFFF8ULL, 7);
	CHECK_EQ(X.insn_info, 2u | ASZ64 | SEGF(SEG_DS) | IDXF(RSI) | BASEF(RBX) | REG2F(RDX));
	/* CPL 3: #GP(0) first. */
	guest64(3, PROC_INVLPG_EXITING, PROC2_ENABLE_INVPCID);
	CHECK_EQ(decide(0x66, 0x0F, 0x38, 0x82, 0x48, 0x20), FAULT(EXC_GP));
}

static void test_rdtsc_rdpmc(void)
{
	/* RDTSC: "RDTSC exiting" (SDM 27.1.3); CR4.TSD at CPL 3 is #GP first. */
	guest64(3, PROC_RDTSC_EXITING, 0);
	CHECK_EXIT(decide(0x0F, 0x31), EXIT_REASON_RDTSC, 0, 2);
	C->cr4 |= CR4_TSD;
	CHECK_EQ(decide(0x0F, 0x31), FAULT(EXC_GP));
	/* RDTSCP: #UD unless "enable RDTSCP" (SDM 27.3); exits with reason 51 on RDTSC
	 * exiting. */
	guest64(0, PROC_RDTSC_EXITING, 0);
	CHECK_EQ(decide(0x0F, 0x01, 0xF9), FAULT(EXC_UD));
	guest64(0, 0, PROC2_ENABLE_RDTSCP);
	CHECK_EQ(decide(0x0F, 0x01, 0xF9), NOEXIT);
	guest64(0, PROC_RDTSC_EXITING, PROC2_ENABLE_RDTSCP);
	CHECK_EXIT(decide(0x0F, 0x01, 0xF9), EXIT_REASON_RDTSCP, 0, 3);
	/* RDPID (rdpid rax) never exits; it is #UD unless "enable RDTSCP" (SDM 27.3
	 * RDPID, Table 26-7 bit 3), and otherwise reads IA32_TSC_AUX. */
	guest64(0, 0, 0);
	C->tsc_aux = 0x77;
	C->gpr[RAX] = 0;
	CHECK_EQ(decide(0xF3, 0x0F, 0xC7, 0xF8), NOEXIT);
	CHECK_EQ(run(0xF3, 0x0F, 0xC7, 0xF8), EXC_UD);
	CHECK_EQ(C->gpr[RAX], 0);
	guest64(0, 0, PROC2_ENABLE_RDTSCP);
	CHECK_EQ(run(0xF3, 0x0F, 0xC7, 0xF8), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0x77);
	/* RDPMC: CPL 3 with CR4.PCE = 0 is #GP first; with PCE, "RDPMC exiting". */
	guest64(3, PROC_RDPMC_EXITING, 0);
	CHECK_EQ(decide(0x0F, 0x33), FAULT(EXC_GP));
	C->cr4 |= CR4_PCE;
	CHECK_EXIT(decide(0x0F, 0x33), EXIT_REASON_RDPMC, 0, 2);
	guest64(0, 0, 0);
	CHECK_EQ(decide(0x0F, 0x33), NOEXIT);
}

static void test_rdrand_wbinvd(void)
{
	/* RDRAND r: "RDRAND exiting"; information: register in 6:3, operand size in
	 * 12:11 (0 = 16, 1 = 32, 2 = 64 bits) (SDM 29.2.x). */
	guest64(0, 0, 0);
	CHECK_EQ(decide(0x0F, 0xC7, 0xF0), NOEXIT);
	guest64(0, 0, PROC2_RDRAND_EXITING);
	CHECK_EXIT(decide(0x0F, 0xC7, 0xF0), EXIT_REASON_RDRAND, 0, 3); /* rdrand eax */
	CHECK_EQ(X.insn_info, REG1F(RAX) | (1u << 11));
	CHECK_EXIT(decide(0x48, 0x0F, 0xC7, 0xF3), EXIT_REASON_RDRAND, 0, 4); /* rbx */
	CHECK_EQ(X.insn_info, REG1F(RBX) | (2u << 11));
	CHECK_EXIT(decide(0x66, 0x0F, 0xC7, 0xF1), EXIT_REASON_RDRAND, 0, 4); /* cx */
	CHECK_EQ(X.insn_info, REG1F(RCX) | (0u << 11));
	CHECK_EXIT(decide(0x41, 0x0F, 0xC7, 0xF0), EXIT_REASON_RDRAND, 0, 4); /* r8d */
	CHECK_EQ(X.insn_info, REG1F(R8) | (1u << 11));
	/* RDSEED is not advertised: #UD (SDM 27.1.1). */
	CHECK_EQ(decide(0x0F, 0xC7, 0xF8), FAULT(EXC_UD));
	/* WBINVD: "WBINVD exiting"; CPL 3 #GP first. */
	CHECK_EQ(decide(0x0F, 0x09), NOEXIT);
	guest64(0, 0, PROC2_WBINVD_EXITING);
	CHECK_EXIT(decide(0x0F, 0x09), EXIT_REASON_WBINVD, 0, 2);
	guest64(3, 0, PROC2_WBINVD_EXITING);
	CHECK_EQ(decide(0x0F, 0x09), FAULT(EXC_GP));
	/* Secondary controls count only with "activate secondary controls" (26.6.2). */
	guest64(0, 0, PROC2_WBINVD_EXITING);
	C->vmx.ctl.proc &= ~PROC_SECONDARY_CONTROLS;
	CHECK_EQ(decide(0x0F, 0x09), NOEXIT);
	/* MONITOR/MWAIT (CPUID.1:ECX.MONITOR = 1): "MONITOR exiting" gives exit reason
	 * 39, "MWAIT exiting" 36 (SDM 27.1.3, App. C); MONITOR's qualification is 0 and
	 * MWAIT's bit 0 says whether the monitoring hardware is armed (SDM 29.2.1). */
	guest64(0, 0, 0);
	C->monitor_armed = false;
	CHECK_EQ(decide(0x0F, 0x01, 0xC8), NOEXIT);
	CHECK_EQ(decide(0x0F, 0x01, 0xC9), NOEXIT);
	guest64(0, PROC_MONITOR_EXITING | PROC_MWAIT_EXITING, 0);
	CHECK_EXIT(decide(0x0F, 0x01, 0xC8), EXIT_REASON_MONITOR_INSTRUCTION, 0, 3);
	CHECK_EXIT(decide(0x0F, 0x01, 0xC9), EXIT_REASON_MWAIT_INSTRUCTION, 0, 3);
	C->monitor_armed = true;
	CHECK_EXIT(decide(0x0F, 0x01, 0xC9), EXIT_REASON_MWAIT_INSTRUCTION, 1, 3);
	C->monitor_armed = false;
	/* #UD at CPL > 0 (SDM Vol.2 MONITOR/MWAIT) has priority over the exit. */
	guest64(3, PROC_MONITOR_EXITING | PROC_MWAIT_EXITING, 0);
	CHECK_EQ(decide(0x0F, 0x01, 0xC8), FAULT(EXC_UD));
	CHECK_EQ(decide(0x0F, 0x01, 0xC9), FAULT(EXC_UD));
}

static void test_vmx_insns(void)
{
	/* SDM 27.1.2: every VMX instruction but VMFUNC exits, at any CPL (the CPL check
	 * of SDM 32.3 follows "in VMX non-root operation THEN VM exit"). */
	guest64(3, 0, 0);
	CHECK_EXIT(decide(0x0F, 0x01, 0xC1), EXIT_REASON_VMCALL, 0, 3);
	CHECK_EQ(X.insn_info, 0);
	CHECK_EXIT(decide(0x0F, 0x01, 0xC2), EXIT_REASON_VMLAUNCH, 0, 3);
	CHECK_EXIT(decide(0x0F, 0x01, 0xC3), EXIT_REASON_VMRESUME, 0, 3);
	CHECK_EXIT(decide(0x0F, 0x01, 0xC4), EXIT_REASON_VMOFF, 0, 3);
	/* VMPTRLD [rax]: qualification 0 (no displacement), information with base RAX
	 * (SDM 29.2.x VMCLEAR/VMPTRLD/VMPTRST/VMXON layout). */
	guest64(0, 0, 0);
	CHECK_EXIT(decide(0x0F, 0xC7, 0x30), EXIT_REASON_VMPTRLD, 0, 3);
	CHECK_EQ(X.insn_info, ASZ64 | SEGF(SEG_DS) | NOIDX | BASEF(RAX));
	CHECK_EXIT(decide(0x66, 0x0F, 0xC7, 0x30), EXIT_REASON_VMCLEAR, 0, 4);
	CHECK_EXIT(decide(0xF3, 0x0F, 0xC7, 0x30), EXIT_REASON_VMON, 0, 4);
	/* VMPTRST [rsp+10h] (0F C7 7C 24 10): SS segment by default. */
	CHECK_EXIT(decide(0x0F, 0xC7, 0x7C, 0x24, 0x10), EXIT_REASON_VMPTRST, 0x10, 5);
	CHECK_EQ(X.insn_info, ASZ64 | SEGF(SEG_SS) | NOIDX | BASEF(RSP));
	/* VMREAD rcx, rdx (0F 78 D1): register form, Reg1 = RCX, Reg2 = RDX (field). */
	CHECK_EXIT(decide(0x0F, 0x78, 0xD1), EXIT_REASON_VMREAD, 0, 3);
	CHECK_EQ(X.insn_info, REGFORM | REG1F(RCX) | REG2F(RDX));
	/* VMWRITE rdx, [rip+100h] (0F 79 15 imm32): RIP-relative, so the qualification is
	 * displacement + next RIP and there is no base register (SDM 29.2.1). */
	CHECK_EXIT(decide(0x0F, 0x79, 0x15, 0x00, 0x01, 0x00, 0x00), EXIT_REASON_VMWRITE,
		   CODE_BASE + 7 + 0x100, 7);
	CHECK_EQ(X.insn_info, ASZ64 | SEGF(SEG_DS) | NOIDX | NOBASE | REG2F(RDX));
	/* INVEPT rax, [rcx] / INVVPID r9, [r10] (REX.RB). */
	CHECK_EXIT(decide(0x66, 0x0F, 0x38, 0x80, 0x01), EXIT_REASON_INVEPT, 0, 5);
	CHECK_EQ(X.insn_info, ASZ64 | SEGF(SEG_DS) | NOIDX | BASEF(RCX) | REG2F(RAX));
	CHECK_EXIT(decide(0x66, 0x45, 0x0F, 0x38, 0x81, 0x0A), EXIT_REASON_INVVPID, 0, 6);
	CHECK_EQ(X.insn_info, ASZ64 | SEGF(SEG_DS) | NOIDX | BASEF(R10) | REG2F(R9));
	/* Compatibility mode: #UD before the exit, except VMCALL (SDM 32.3). */
	load_seg(&C->seg[SEG_CS], SEL_CODE32);
	cpu_update_mode(C);
	CHECK_EQ(decide(0x0F, 0xC7, 0x30), FAULT(EXC_UD));
	CHECK_EQ(decide(0x0F, 0x01, 0xC2), FAULT(EXC_UD));
	CHECK_EXIT(decide(0x0F, 0x01, 0xC1), EXIT_REASON_VMCALL, 0, 3);
	/* 32-bit protected mode: VMPTRLD [eax] with a 32-bit address size. */
	guest32(0, 0, 0);
	CHECK_EXIT(decide(0x0F, 0xC7, 0x30), EXIT_REASON_VMPTRLD, 0, 3);
	CHECK_EQ(X.insn_info, ASZ32 | SEGF(SEG_DS) | NOIDX | BASEF(RAX));
}

static void test_descriptor_tables(void)
{
	/* LGDT [rax] (0F 01 10): "descriptor-table exiting" (SDM 27.1.3). */
	guest64(0, 0, 0);
	CHECK_EQ(decide(0x0F, 0x01, 0x10), NOEXIT);
	guest64(0, 0, PROC2_DESC_TABLE_EXITING);
	CHECK_EXIT(decide(0x0F, 0x01, 0x10), EXIT_REASON_GDTR_IDTR, 0, 3);
	/* Identity 29:28: 0 SGDT, 1 SIDT, 2 LGDT, 3 LIDT. Bit 11 (operand size) is
	 * undefined in 64-bit mode and not checked there. */
	CHECK_EQ(X.insn_info & ~BIT(11), ASZ64 | SEGF(SEG_DS) | NOIDX | BASEF(RAX) | (2u << 28));
	CHECK_EXIT(decide(0x0F, 0x01, 0x18), EXIT_REASON_GDTR_IDTR, 0, 3);
	CHECK_EQ(X.insn_info >> 28, 3);
	CHECK_EXIT(decide(0x0F, 0x01, 0x40, 0x7F), EXIT_REASON_GDTR_IDTR, 0x7F, 4); /* sgdt */
	CHECK_EQ(X.insn_info >> 28, 0);
	CHECK_EXIT(decide(0x0F, 0x01, 0x48, 0x80), EXIT_REASON_GDTR_IDTR,
		   0xFFFFFFFFFFFFFF80ULL, 4); /* sidt [rax-80h] */
	CHECK_EQ(X.insn_info >> 28, 1);
	/* LLDT ax (0F 00 D0): register form, Reg1 in 6:3; identity 2. */
	CHECK_EXIT(decide(0x0F, 0x00, 0xD0), EXIT_REASON_LDTR_TR, 0, 3);
	CHECK_EQ(X.insn_info, REGFORM | REG1F(RAX) | (2u << 28));
	/* LTR [rbx+8] (0F 00 5B 08): identity 3, base RBX, displacement 8. */
	CHECK_EXIT(decide(0x0F, 0x00, 0x5B, 0x08), EXIT_REASON_LDTR_TR, 8, 4);
	CHECK_EQ(X.insn_info, ASZ64 | SEGF(SEG_DS) | NOIDX | BASEF(RBX) | (3u << 28));
	CHECK_EXIT(decide(0x0F, 0x00, 0xC1), EXIT_REASON_LDTR_TR, 0, 3); /* sldt ecx */
	CHECK_EQ(X.insn_info, REGFORM | REG1F(RCX) | (0u << 28));
	CHECK_EXIT(decide(0x0F, 0x00, 0xCA), EXIT_REASON_LDTR_TR, 0, 3); /* str edx */
	CHECK_EQ(X.insn_info, REGFORM | REG1F(RDX) | (1u << 28));
	/* 32-bit mode: bit 11 = 1 for a 32-bit operand, 0 with 66H (SDM 29.2.x). */
	guest32(0, 0, PROC2_DESC_TABLE_EXITING);
	CHECK_EXIT(decide(0x0F, 0x01, 0x10), EXIT_REASON_GDTR_IDTR, 0, 3);
	CHECK_EQ(X.insn_info, ASZ32 | SEGF(SEG_DS) | NOIDX | BASEF(RAX) | BIT(11) | (2u << 28));
	CHECK_EXIT(decide(0x66, 0x0F, 0x01, 0x10), EXIT_REASON_GDTR_IDTR, 0, 4);
	CHECK_EQ(X.insn_info & BIT(11), 0);
	/* Priority (SDM 27.1.1): LGDT/LLDT at CPL 3 #GP; SGDT at CPL 3 only with UMIP;
	 * a register operand for LGDT is #UD. */
	guest64(3, 0, PROC2_DESC_TABLE_EXITING);
	CHECK_EQ(decide(0x0F, 0x01, 0x10), FAULT(EXC_GP));
	CHECK_EQ(decide(0x0F, 0x00, 0xD0), FAULT(EXC_GP));
	CHECK_EXIT(decide(0x0F, 0x01, 0x00), EXIT_REASON_GDTR_IDTR, 0, 3);
	C->cr4 |= CR4_UMIP;
	CHECK_EQ(decide(0x0F, 0x01, 0x00), FAULT(EXC_GP));
	CHECK_EQ(decide(0x0F, 0x00, 0xC1), FAULT(EXC_GP));
}

/* The exit itself through the run loop's binding (vmx_intercepted, then the VM exit
 * of "vmx-exit"): a fault-like exit saves the RIP of the instruction, which does not
 * execute (SDM 27.1, 29.3.3), and the VMCS holds what the decision reported. */
static void test_exit_through_binding(void)
{
	guest64(0, PROC_HLT_EXITING, 0);
	C->rip = CODE_BASE;
	run(0xF4);
	CHECK_VMCS_EXIT(EXIT_REASON_HLT, 0, 1, 0, CODE_BASE);
	CHECK(!C->halted);
	guest64(3, 0, 0);
	C->rip = CODE_BASE + 0x10;
	C->gpr[RAX] = 0x1234;
	run(0x0F, 0xA2);
	CHECK_VMCS_EXIT(EXIT_REASON_CPUID, 0, 2, 0, CODE_BASE + 0x10);
	CHECK_EQ(C->gpr[RAX], 0x1234); /* CPUID did not run */
	guest64(0, PROC_INVLPG_EXITING, PROC2_ENABLE_INVPCID);
	C->rip = CODE_BASE;
	run(0x66, 0x0F, 0x38, 0x82, 0x54, 0xB3, 0xF8);
	CHECK_VMCS_EXIT(EXIT_REASON_INVPCID, 0xFFFFFFFFFFFFFFF8ULL, 7,
			2u | ASZ64 | SEGF(SEG_DS) | IDXF(RSI) | BASEF(RBX) | REG2F(RDX), CODE_BASE);
	guest64(0, 0, 0);
	C->rip = CODE_BASE;
	run(0x0F, 0x78, 0xD1);
	CHECK_VMCS_EXIT(EXIT_REASON_VMREAD, 0, 3, REGFORM | REG1F(RCX) | REG2F(RDX), CODE_BASE);
}

static void test_no_exit_runs_handler(void)
{
	/* CPUID-free check that a non-exiting instruction runs normally: RDTSC with no
	 * exiting control writes EDX:EAX. */
	guest64(0, 0, 0);
	C->gpr[RAX] = C->gpr[RDX] = 0xDEADBEEFDEADBEEFULL;
	CHECK_EQ(run(0x0F, 0x31), NO_FAULT);
	CHECK_EQ(C->gpr[RAX] >> 32, 0);
	CHECK_EQ(C->rip, CODE_BASE + 2);
	/* HLT without HLT exiting halts as usual. */
	C->halted = false;
	CHECK_EQ(run(0xF4), NO_FAULT);
	CHECK(C->halted);
	C->halted = false;
}

int main(void)
{
	vmx_init();
	test_unconditional();
	test_hlt_pause();
	test_invlpg();
	test_invpcid();
	test_rdtsc_rdpmc();
	test_rdrand_wbinvd();
	test_vmx_insns();
	test_descriptor_tables();
	test_no_exit_runs_handler();
	test_exit_through_binding();
	C->vmx.non_root = false;
	return report("vmx_intercept_insn");
}
