/*
 * Which instructions cause VM exits in VMX non-root operation (SDM 27.1.2, 27.1.3),
 * with the exit qualification and instruction information they report (SDM 29.2).
 *
 * The run loop binds vmx_intercepted() instead of the op's handler to every decoded
 * instruction whose op has an intercept class (ops.def) when it decodes in non-root
 * operation. vmx_intercepted() asks the class's check (one table, by class) whether
 * the instruction exits; if not, it runs the op's ordinary handler, whose behaviour
 * SDM 27.3 changes through the hooks declared in vmx_intercept.h.
 *
 * This file holds the dispatch and the classes whose decision is one control bit;
 * CR/DR, I/O, MSR and descriptor-table exits have files of their own.
 */
#include "cpu/vmx/vmx_intercept.h"

#include <string.h>

#include "cpu/cpuid.h"
#include "cpu/exec_fast.h"
#include "cpu/sys.h"

/* Privilege-based faults have priority over VM exits (SDM 27.1.1). */
static void need_cpl0(struct cpu *cpu)
{
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
}

static bool proc_exit(const struct cpu *cpu, uint32_t control, struct vmx_exit_info *x,
		      uint32_t reason)
{
	x->reason = reason;
	return cpu->vmx.ctl.proc & control;
}

/* --- unconditional exits (SDM 27.1.2) ----------------------------------------------- */

static bool icept_cpuid(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	(void)cpu, (void)in;
	x->reason = EXIT_REASON_CPUID; /* SDM 27.1.2: at any CPL, in any mode */
	return true;
}

/* GETSEC: #UD while CR4.SMXE = 0 (SDM Vol.2 GETSEC; #UD first, SDM 27.1.1), which the
 * silicon cannot set (no SMX). */
static bool icept_getsec(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	(void)in;
	if (!(cpu->cr4 & CR4_SMXE))
		cpu_ud(cpu);
	x->reason = EXIT_REASON_GETSEC; /* SDM 27.1.2 */
	return true;
}

/* INVD: #GP(0) at CPL > 0 first (SDM 27.1.1), then always an exit (SDM 27.1.2). */
static bool icept_invd(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	(void)in;
	need_cpl0(cpu);
	x->reason = EXIT_REASON_INVD;
	return true;
}

/* XSETBV: #UD while CR4.OSXSAVE = 0 (never set here: no XSAVE), #GP(0) at CPL > 0,
 * then always an exit (SDM 27.1.2). */
static bool icept_xsetbv(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	(void)in;
	if (!(cpu->cr4 & CR4_OSXSAVE))
		cpu_ud(cpu);
	need_cpl0(cpu);
	x->reason = EXIT_REASON_XSETBV;
	return true;
}

/* --- the VMX instructions (SDM 27.1.2; SDM 32.3 "Operation" of each) ---------------- */

static const uint16_t vmx_insn_reason[OP_COUNT] = {
	[OP_VMCALL] = EXIT_REASON_VMCALL,     [OP_VMCLEAR] = EXIT_REASON_VMCLEAR,
	[OP_VMLAUNCH] = EXIT_REASON_VMLAUNCH, [OP_VMPTRLD] = EXIT_REASON_VMPTRLD,
	[OP_VMPTRST] = EXIT_REASON_VMPTRST,   [OP_VMREAD] = EXIT_REASON_VMREAD,
	[OP_VMRESUME] = EXIT_REASON_VMRESUME, [OP_VMWRITE] = EXIT_REASON_VMWRITE,
	[OP_VMXOFF] = EXIT_REASON_VMOFF,      [OP_VMXON] = EXIT_REASON_VMON,
	[OP_INVEPT] = EXIT_REASON_INVEPT,     [OP_INVVPID] = EXIT_REASON_INVVPID,
};

/* Which of them carry a (memory or register) operand described by the instruction
 * information and the displacement qualification (SDM 29.2.1, 29.2.x), and whether
 * the ModRM reg field is Reg2 (VMREAD/VMWRITE field encoding, INVEPT/INVVPID type). */
static const uint8_t vmx_insn_operand[OP_COUNT] = {
	[OP_VMCLEAR] = 1, [OP_VMPTRLD] = 1, [OP_VMPTRST] = 1, [OP_VMXON] = 1,
	[OP_VMREAD] = 2,  [OP_VMWRITE] = 2, [OP_INVEPT] = 2,  [OP_INVVPID] = 2,
};

/* In non-root operation the VMX instructions exit at any CPL, after the #UD checks
 * of their pseudocode: CR0.PE = 0, RFLAGS.VM = 1 or compatibility mode (SDM 32.3
 * VMXON ... "ELSIF in VMX non-root operation THEN VM exit" precedes the CPL check).
 * VMCALL has no mode check (SDM 32.3 VMCALL). */
static bool icept_vmx(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	if (in->op != OP_VMCALL)
		vmx_insn_check_ud(cpu);
	x->reason = vmx_insn_reason[in->op];
	if (vmx_insn_operand[in->op]) {
		x->qualification = vmx_info_displacement(cpu, in);
		x->insn_info = vmx_info_operand(in);
		if (vmx_insn_operand[in->op] == 2)
			x->insn_info |= VMX_INFO_REG2(in->reg);
	}
	return true;
}

/* --- conditional exits (SDM 27.1.3) ------------------------------------------------- */

static bool icept_hlt(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	(void)in;
	need_cpl0(cpu); /* SDM 27.1.1: HLT at CPL > 0 is #GP(0), not an exit */
	return proc_exit(cpu, PROC_HLT_EXITING, x, EXIT_REASON_HLT);
}

static bool icept_invlpg(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	if (in->op == OP_INVPCID) {
		/* SDM 27.3 INVPCID: #UD unless "enable INVPCID"; with it, the INVLPG-exiting
		 * control decides (SDM 27.1.3). The ordinary #UD and CPL checks first. */
		if (!(vmx_proc2(cpu) & PROC2_ENABLE_INVPCID) ||
		    !cpu_has_feature(cpu, FEAT_INVPCID) || !cpu_is_prot(cpu) ||
		    !(in->flags & INSN_MEM))
			cpu_ud(cpu);
		need_cpl0(cpu);
		x->qualification = vmx_info_displacement(cpu, in);
		x->insn_info = vmx_info_operand(in) | VMX_INFO_REG2(in->reg);
		return proc_exit(cpu, PROC_INVLPG_EXITING, x, EXIT_REASON_INVPCID);
	}
	if (!(in->flags & INSN_MEM))
		cpu_ud(cpu);
	need_cpl0(cpu);
	/* SDM 29.2.1: the linear-address operand (bits 63:32 clear outside 64-bit mode) */
	x->qualification = vmx_operand_linear(cpu, in->seg, insn_ea(cpu, in));
	return proc_exit(cpu, PROC_INVLPG_EXITING, x, EXIT_REASON_INVLPG);
}

/* RDPMC: #GP(0) at CPL > 0 with CR4.PCE = 0 is privilege-based and comes first. */
static bool icept_rdpmc(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	(void)in;
	if (cpu->cpl > 0 && !(cpu->cr4 & CR4_PCE))
		cpu_gp(cpu, 0);
	return proc_exit(cpu, PROC_RDPMC_EXITING, x, EXIT_REASON_RDPMC);
}

/* RDTSC/RDTSCP: CR4.TSD at CPL > 0 is #GP(0) first (SDM Vol.2 RDTSC). RDTSCP is #UD
 * unless "enable RDTSCP" (SDM 27.3); it exits with its own reason on RDTSC exiting. */
static bool icept_rdtsc(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	uint32_t reason = EXIT_REASON_RDTSC;
	if (in->op == OP_RDTSCP) {
		if (!cpu_has_feature(cpu, FEAT_RDTSCP) ||
		    !(vmx_proc2(cpu) & PROC2_ENABLE_RDTSCP))
			cpu_ud(cpu);
		reason = EXIT_REASON_RDTSCP;
	}
	if ((cpu->cr4 & CR4_TSD) && cpu->cpl > 0 && cpu_is_prot(cpu))
		cpu_gp(cpu, 0);
	return proc_exit(cpu, PROC_RDTSC_EXITING, x, reason);
}

/* RDRAND/RDSEED r: #UD when not advertised or with a memory operand; the instruction
 * information names the destination and its size (SDM 29.2.x). */
static bool icept_rdrand(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	bool seed = in->op == OP_RDSEED;
	if (!cpu_has_feature(cpu, seed ? FEAT_RDSEED : FEAT_RDRAND) || (in->flags & INSN_MEM))
		cpu_ud(cpu);
	x->reason = seed ? EXIT_REASON_RDSEED : EXIT_REASON_RDRAND;
	x->insn_info = VMX_INFO_REG1(in->rm) | VMX_INFO_RDRAND_OSZ(in->osz);
	return vmx_proc2(cpu) & (seed ? PROC2_RDSEED_EXITING : PROC2_RDRAND_EXITING);
}

/* MONITOR/MWAIT: #UD while CPUID.1:ECX.MONITOR = 0 or at CPL > 0 (SDM Vol.2 MONITOR),
 * which has priority; MWAIT reports in bit 0 whether the monitoring hardware is armed
 * (SDM 29.2.1; exec_misc.c keeps the arming). */
static bool icept_monitor(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	(void)in;
	if (!cpu_has_feature(cpu, FEAT_MONITOR) || cpu->cpl != 0)
		cpu_ud(cpu); /* SDM Vol.2 MONITOR/MWAIT: #UD at CPL > 0 too */
	return proc_exit(cpu, PROC_MONITOR_EXITING, x, EXIT_REASON_MONITOR_INSTRUCTION);
}

static bool icept_mwait(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	(void)in;
	if (!cpu_has_feature(cpu, FEAT_MONITOR) || cpu->cpl != 0)
		cpu_ud(cpu); /* SDM Vol.2 MONITOR/MWAIT: #UD at CPL > 0 too */
	x->qualification = cpu->monitor_armed; /* SDM 29.2.1: bit 0 = monitor armed */
	return proc_exit(cpu, PROC_MWAIT_EXITING, x, EXIT_REASON_MWAIT_INSTRUCTION);
}

/* PAUSE exits at any CPL with "PAUSE exiting" (SDM 27.1.3); PAUSE-loop exiting is
 * not supported (vmx_caps.h). */
static bool icept_pause(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	(void)in;
	return proc_exit(cpu, PROC_PAUSE_EXITING, x, EXIT_REASON_PAUSE_INSTRUCTION);
}

static bool icept_wbinvd(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	(void)in;
	need_cpl0(cpu);
	x->reason = EXIT_REASON_WBINVD;
	return vmx_proc2(cpu) & PROC2_WBINVD_EXITING;
}

/* --- dispatch ------------------------------------------------------------------------ */

/* One check per intercept class (insn.h). IC_XSAVES has no op on this silicon
 * (no XSAVE); IC_NONE never reaches here. */
static const vmx_intercept_fn intercept_check[IC_COUNT] = {
	[IC_CPUID] = icept_cpuid,     [IC_GETSEC] = icept_getsec,
	[IC_INVD] = icept_invd,       [IC_XSETBV] = icept_xsetbv,
	[IC_VMX] = icept_vmx,         [IC_HLT] = icept_hlt,
	[IC_INVLPG] = icept_invlpg,   [IC_INVPCID] = icept_invlpg,
	[IC_RDPMC] = icept_rdpmc,     [IC_RDTSC] = icept_rdtsc,
	[IC_RDTSCP] = icept_rdtsc,    [IC_RDRAND] = icept_rdrand,
	[IC_RDSEED] = icept_rdrand,   [IC_MONITOR] = icept_monitor,
	[IC_MWAIT] = icept_mwait,     [IC_PAUSE] = icept_pause,
	[IC_WBINVD] = icept_wbinvd,   [IC_CR] = vmx_icept_cr,
	[IC_DR] = vmx_icept_dr,       [IC_IO] = vmx_icept_io,
	[IC_RDMSR] = vmx_icept_rdmsr, [IC_WRMSR] = vmx_icept_wrmsr,
	[IC_DTR] = vmx_icept_dtr,     [IC_LDTR_TR] = vmx_icept_ldtr_tr,
};

bool vmx_insn_exits(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	vmx_intercept_fn check = intercept_check[op_intercept[in->op]];
	memset(x, 0, sizeof(*x));
	x->insn_len = in->len; /* SDM 29.2.5: length of the instruction that exited */
	return check && check(cpu, in, x);
}

void vmx_intercepted(struct cpu *cpu, const struct insn *in)
{
	struct vmx_exit_info x;
	if (vmx_insn_exits(cpu, in, &x))
		vmx_exit_unwind(cpu, &x); /* fault-like: RIP still at the instruction */
	exec_generic(in->op)(cpu, in);
	/* MOV to CR8 through the TPR shadow: the TPR-below-threshold trap follows the
	 * instruction (SDM 31.1.2). */
	if (in->op == OP_MOV_TO_CR && in->reg == 8 && (cpu->vmx.ctl.proc & PROC_TPR_SHADOW))
		vmx_tpr_threshold_check(cpu);
}
