/*
 * The MSRs the silicon implements, declared once as a table of index ranges (SDM
 * Vol.4 Table 2-2), and RDMSR/WRMSR (SDM Vol.2). Any index not in the table raises
 * #GP(0), as do reserved bits and invalid values.
 */
#include "cpu/msr.h"

#include "cpu/cpuid.h"
#include "cpu/sys.h"
#include "cpu/vmx.h"
#include "cpu/vmx/vmx_intercept.h"

#define PHYS_MASK ((1ULL << CPU_MAXPHYADDR) - 1)

typedef bool (*msr_rd)(struct cpu *cpu, uint32_t msr, uint64_t *v);
typedef bool (*msr_wr)(struct cpu *cpu, uint32_t msr, uint64_t v);

uint64_t cpu_read_tsc(struct cpu *cpu)
{
	unsigned __int128 t = (unsigned __int128)clock_now(cpu->clock) * CLOCK_TSC_HZ;
	return (uint64_t)(t / 1000000000u) + cpu->tsc_offset;
}

/* --- simple 64-bit registers --------------------------------------------------- */

static uint64_t *msr_field(struct cpu *cpu, uint32_t msr)
{
	switch (msr) {
	case MSR_IA32_SYSENTER_CS: return &cpu->sysenter_cs;
	case MSR_IA32_SYSENTER_ESP: return &cpu->sysenter_esp;
	case MSR_IA32_SYSENTER_EIP: return &cpu->sysenter_eip;
	case MSR_IA32_STAR: return &cpu->star;
	case MSR_IA32_LSTAR: return &cpu->lstar;
	case MSR_IA32_CSTAR: return &cpu->cstar;
	case MSR_IA32_FMASK: return &cpu->sfmask;
	case MSR_IA32_FS_BASE: return &cpu->seg[SEG_FS].base;
	case MSR_IA32_GS_BASE: return &cpu->seg[SEG_GS].base;
	case MSR_IA32_KERNEL_GS_BASE: return &cpu->kernel_gs_base;
	case MSR_IA32_TSC_AUX: return &cpu->tsc_aux;
	case MSR_IA32_PAT: return &cpu->pat;
	case MSR_IA32_MTRR_DEF_TYPE: return &cpu->mtrr_def_type;
	case MSR_IA32_MTRRCAP: return &cpu->mtrr_cap;
	case MSR_IA32_FEATURE_CONTROL: return &cpu->feature_control;
	case MSR_IA32_MISC_ENABLE: return &cpu->misc_enable;
	case MSR_IA32_SPEC_CTRL: return &cpu->spec_ctrl;
	case MSR_IA32_DEBUGCTL: return &cpu->debugctl;
	case MSR_IA32_APIC_BASE: return &cpu->apic_base;
	case MSR_IA32_EFER: return &cpu->efer;
	default: return NULL;
	}
}

static bool rd_field(struct cpu *cpu, uint32_t msr, uint64_t *v)
{
	*v = *msr_field(cpu, msr);
	return true;
}

static bool rd_zero(struct cpu *cpu, uint32_t msr, uint64_t *v)
{
	(void)cpu, (void)msr;
	*v = 0;
	return true;
}

static bool wr_ignore(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	(void)cpu, (void)msr, (void)v;
	return true;
}

/* SYSENTER_ESP/EIP, LSTAR, CSTAR, FS/GS/KERNEL_GS base: canonical or #GP(0) (SDM Vol.4
 * Table 2-2 and SDM Vol.2 WRMSR "non-canonical"). */
static bool wr_canonical(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	if (!is_canonical(v))
		return false;
	*msr_field(cpu, msr) = v;
	return true;
}

/* Registers with reserved high halves: SYSENTER_CS, TSC_AUX, FMASK (bits 63:32). */
static bool wr_low32(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	if (v >> 32)
		return false;
	*msr_field(cpu, msr) = v;
	return true;
}

static bool wr_star(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	*msr_field(cpu, msr) = v; /* STAR[31:0] is the legacy SYSCALL EIP: no checks */
	return true;
}

/* --- TSC ----------------------------------------------------------------------- */

static bool rd_tsc(struct cpu *cpu, uint32_t msr, uint64_t *v)
{
	(void)msr;
	*v = cpu_read_tsc(cpu);
	if (unlikely(cpu->vmx.non_root))
		*v = vmx_guest_tsc(cpu, *v); /* SDM 27.3 RDMSR: TSC offsetting */
	return true;
}

static bool wr_tsc(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	(void)msr;
	cpu->tsc_offset += v - cpu_read_tsc(cpu); /* SDM 18.17: the TSC takes the value */
	return true;
}

static bool rd_tsc_deadline(struct cpu *cpu, uint32_t msr, uint64_t *v)
{
	(void)msr;
	const struct cpu_apic_ops *ops = cpu->apic_ops;
	*v = ops && ops->tsc_deadline_read ? ops->tsc_deadline_read(cpu->apic) : 0;
	return true;
}

static bool wr_tsc_deadline(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	(void)msr;
	const struct cpu_apic_ops *ops = cpu->apic_ops;
	if (ops && ops->tsc_deadline_write)
		ops->tsc_deadline_write(cpu->apic, v);
	return true;
}

/* --- APIC ---------------------------------------------------------------------- */

bool apic_base_write_valid(uint64_t old, uint64_t v)
{
	const uint64_t bsp = BIT(8), extd = BIT(10), en = BIT(11);
	uint64_t allowed = bsp | extd | en | (PHYS_MASK & ~0xFFFULL);
	if (v & ~allowed)
		return false;
	if ((v & bsp) != (old & bsp))
		return false; /* BSP flag is read-only */
	if ((v & (en | extd)) == extd)
		return false; /* x2APIC without EN: invalid */
	if ((old & extd) && (old & en) && (v & en) && !(v & extd))
		return false; /* x2APIC -> xAPIC directly: invalid */
	if (!(old & en) && (v & extd))
		return false; /* disabled -> x2APIC directly: invalid, via xAPIC only */
	return true;
}

/* IA32_APIC_BASE (SDM 11.4.4, 11.12.1 and Table 11-5 state transitions). */
static bool wr_apic_base(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	(void)msr;
	if (!apic_base_write_valid(cpu->apic_base, v))
		return false;
	cpu->apic_base = v;
	if (cpu->apic_ops && cpu->apic_ops->base_changed)
		cpu->apic_ops->base_changed(cpu->apic, v);
	tlb_ctl_written(cpu); /* the xAPIC page moved or was switched on/off */
	return true;
}

static bool rd_x2apic(struct cpu *cpu, uint32_t msr, uint64_t *v)
{
	/* SDM 11.12.1: x2APIC MSRs #GP unless x2APIC mode is enabled. */
	if ((cpu->apic_base & (BIT(10) | BIT(11))) != (BIT(10) | BIT(11)) || !cpu->apic_ops ||
	    !cpu->apic_ops->msr_read)
		return false;
	return cpu->apic_ops->msr_read(cpu->apic, msr, v);
}

static bool wr_x2apic(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	if ((cpu->apic_base & (BIT(10) | BIT(11))) != (BIT(10) | BIT(11)) || !cpu->apic_ops ||
	    !cpu->apic_ops->msr_write)
		return false;
	return cpu->apic_ops->msr_write(cpu->apic, msr, v);
}

/* --- EFER (SDM 2.2.1, Vol.4 Table 2-2) --------------------------------------------- */

static bool wr_efer(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	(void)msr;
	uint64_t allowed = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
	if (cpu->misc_enable & MISC_ENABLE_XD_DISABLE)
		allowed &= ~EFER_NXE; /* XD disabled: NX is not a feature (Vol.4 Table 2-2) */
	if (v & ~allowed)
		return false;
	/* LME may not change while paging is on (SDM 9.8.5). */
	if ((cpu->cr0 & CR0_PG) && ((v ^ cpu->efer) & EFER_LME))
		return false;
	/* LMA is read-only: the write keeps the current value. */
	cpu->efer = (v & ~EFER_LMA) | (cpu->efer & EFER_LMA);
	tlb_ctl_written(cpu); /* NXE changes the meaning of cached translations */
	return true;
}

/* --- memory types: PAT and MTRRs (SDM 11.11, 11.12) ------------------------------ */

/* Valid memory-type encodings: UC 0, WC 1, WT 4, WP 5, WB 6 (and UC- 7 in the PAT). */
static bool mtype_ok(unsigned t, bool pat)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || (pat && t == 7);
}

static bool wr_pat(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	(void)msr;
	for (int i = 0; i < 8; i++)
		if (!mtype_ok((v >> (i * 8)) & 0xFF, true))
			return false; /* SDM 11.12.2: reserved encodings #GP(0) */
	cpu->pat = v; /* memory types are not modelled: nothing cached depends on it */
	return true;
}

static bool wr_mtrr_def(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	(void)msr;
	if ((v & ~0xCFFULL) || !mtype_ok(v & 0xFF, false))
		return false; /* type 7:0, FE 10, E 11 (SDM 11.11.2.1) */
	cpu->mtrr_def_type = v;
	return true;
}

static int fixed_index(uint32_t msr)
{
	if (msr == MSR_IA32_MTRR_FIX64K_00000)
		return 0;
	if (msr == MSR_IA32_MTRR_FIX16K_80000 || msr == MSR_IA32_MTRR_FIX16K_A0000)
		return 1 + (int)(msr - MSR_IA32_MTRR_FIX16K_80000);
	return 3 + (int)(msr - MSR_IA32_MTRR_FIX4K_C0000);
}

static bool rd_mtrr_fixed(struct cpu *cpu, uint32_t msr, uint64_t *v)
{
	*v = cpu->mtrr_fixed[fixed_index(msr)];
	return true;
}

static bool wr_mtrr_fixed(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		if (!mtype_ok((v >> (i * 8)) & 0xFF, false))
			return false;
	cpu->mtrr_fixed[fixed_index(msr)] = v;
	return true;
}

static bool rd_mtrr_var(struct cpu *cpu, uint32_t msr, uint64_t *v)
{
	*v = cpu->mtrr_var[msr - MSR_IA32_MTRR_PHYSBASE0];
	return true;
}

/* PHYSBASEn: type 7:0, base MAXPHYADDR-1:12; PHYSMASKn: valid 11, mask (SDM 11.11.2.3). */
static bool wr_mtrr_var(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	bool is_mask = (msr - MSR_IA32_MTRR_PHYSBASE0) & 1;
	uint64_t allowed = (PHYS_MASK & ~0xFFFULL) | (is_mask ? BIT(11) : 0xFF);
	if ((v & ~allowed) || (!is_mask && !mtype_ok(v & 0xFF, false)))
		return false;
	cpu->mtrr_var[msr - MSR_IA32_MTRR_PHYSBASE0] = v;
	return true;
}

/* --- miscellaneous --------------------------------------------------------------- */

static bool wr_feature_control(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	(void)msr;
	/* Lock 0, VMX in SMX 1, VMX outside SMX 2 (SDM 24.7). Locked: #GP. */
	uint64_t allowed = BIT(0) | (cpu_has_feature(cpu, FEAT_VMX) ? BIT(2) : 0);
	if ((cpu->feature_control & BIT(0)) || (v & ~allowed))
		return false;
	cpu->feature_control = v;
	return true;
}

static bool wr_misc_enable(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	(void)msr;
	/* R/W (SDM Vol.4 Table 2-2): fast strings 0, automatic thermal control 3,
	 * Enhanced SpeedStep 16, MONITOR FSM 18, limit CPUID maxval 22, xTPR message
	 * disable 23, XD bit disable 34. 3, 16, 18 and 23 are stored without effect (no
	 * thermal control, P-states, MONITOR or xTPR messages), as KVM and QEMU accept
	 * them; 22 and 34 change CPUID (cpuid.c) and 34 makes EFER.NXE reserved. The
	 * rest (7, 11, 12: RO) is fixed. */
	uint64_t rw = BIT(0) | BIT(3) | BIT(16) | BIT(18) | BIT(22) | BIT(23) |
		      MISC_ENABLE_XD_DISABLE;
	if ((v ^ cpu->misc_enable) & ~rw)
		return false;
	cpu->misc_enable = v;
	return true;
}

static bool wr_spec_ctrl(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	(void)msr;
	if (v & ~(BIT(0) | BIT(1) | BIT(2))) /* IBRS, STIBP, SSBD */
		return false;
	cpu->spec_ctrl = v;
	return true;
}

static bool wr_pred_cmd(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	(void)cpu, (void)msr;
	return !(v & ~BIT(0)); /* IBPB: no predictors to flush */
}

static bool wr_debugctl(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	(void)msr;
	if (v & ~(BIT(0) | BIT(1))) /* LBR, BTF: stored, no effect (not implemented) */
		return false;
	cpu->debugctl = v;
	return true;
}

static bool wr_mcg_status(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	(void)cpu, (void)msr;
	return v == 0; /* no machine checks: only 0 may be written */
}

static bool rd_arch_cap(struct cpu *cpu, uint32_t msr, uint64_t *v)
{
	(void)cpu, (void)msr;
	/* RDCL_NO, SKIP_L1DFL_VMENTRY, SSB_NO, MDS_NO, PSCHANGE_MC_NO, TAA_NO: an
	 * interpreter has no speculative side channels (SDM Vol.4 Table 2-2). */
	*v = BIT(0) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(8);
	return true;
}

static bool rd_platform_info(struct cpu *cpu, uint32_t msr, uint64_t *v)
{
	(void)cpu, (void)msr;
	*v = (CLOCK_TSC_HZ / 100000000u) << 8; /* maximum non-turbo ratio x 100 MHz */
	return true;
}

static bool wr_readonly(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	(void)cpu, (void)msr, (void)v;
	return false;
}

/* IA32_VMX_BASIC ... IA32_VMX_VMFUNC (0x480-0x491, SDM App. A): read-only; an MSR of
 * the range that this silicon does not have (vmx_cap_msr() says) raises #GP(0). */
static bool rd_vmx_cap(struct cpu *cpu, uint32_t msr, uint64_t *v)
{
	return vmx_cap_msr(cpu, msr, v);
}

/* IA32_PERF_GLOBAL_CTRL (38FH) exists with architectural perfmon version 2 (SDM Vol.4
 * Table 2-2), which CPUID leaf 0AH reports with zero general-purpose and zero fixed
 * counters (cpuid.c): bit n enables GP counter n, bit 32+n fixed counter n, so every
 * bit is reserved. Reads 0; writing anything but 0 is #GP(0). The VM-entry/VM-exit
 * "load IA32_PERF_GLOBAL_CTRL" controls load it through msr_write() and so get the
 * same reserved-bit rule (SDM 28.3.1.1, 28.2.2). */
static bool wr_perf_global_ctrl(struct cpu *cpu, uint32_t msr, uint64_t v)
{
	(void)cpu, (void)msr;
	return v == 0;
}

/* --- the list ------------------------------------------------------------------ */

struct msr_row {
	uint32_t first, last;
	const char *name;
	msr_rd rd; /* NULL: write-only (#GP on read) */
	msr_wr wr;
};

static const struct msr_row msrs[] = {
	{ MSR_IA32_TSC, MSR_IA32_TSC, "IA32_TIME_STAMP_COUNTER", rd_tsc, wr_tsc },
	{ MSR_IA32_APIC_BASE, MSR_IA32_APIC_BASE, "IA32_APIC_BASE", rd_field, wr_apic_base },
	{ MSR_IA32_FEATURE_CONTROL, MSR_IA32_FEATURE_CONTROL, "IA32_FEATURE_CONTROL", rd_field,
	  wr_feature_control },
	{ MSR_IA32_SPEC_CTRL, MSR_IA32_SPEC_CTRL, "IA32_SPEC_CTRL", rd_field, wr_spec_ctrl },
	{ MSR_IA32_PRED_CMD, MSR_IA32_PRED_CMD, "IA32_PRED_CMD", NULL, wr_pred_cmd },
	{ MSR_IA32_BIOS_SIGN_ID, MSR_IA32_BIOS_SIGN_ID, "IA32_BIOS_SIGN_ID", rd_zero, wr_ignore },
	{ MSR_PLATFORM_INFO, MSR_PLATFORM_INFO, "MSR_PLATFORM_INFO", rd_platform_info,
	  wr_readonly },
	{ MSR_IA32_MTRRCAP, MSR_IA32_MTRRCAP, "IA32_MTRRCAP", rd_field, wr_readonly },
	{ MSR_IA32_ARCH_CAPABILITIES, MSR_IA32_ARCH_CAPABILITIES, "IA32_ARCH_CAPABILITIES",
	  rd_arch_cap, wr_readonly },
	{ MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_CS, "IA32_SYSENTER_CS", rd_field, wr_low32 },
	{ MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP, "IA32_SYSENTER_ESP/EIP", rd_field,
	  wr_canonical },
	{ MSR_IA32_MCG_CAP, MSR_IA32_MCG_CAP, "IA32_MCG_CAP", rd_zero, wr_readonly },
	{ MSR_IA32_MCG_STATUS, MSR_IA32_MCG_STATUS, "IA32_MCG_STATUS", rd_zero, wr_mcg_status },
	{ MSR_IA32_MISC_ENABLE, MSR_IA32_MISC_ENABLE, "IA32_MISC_ENABLE", rd_field,
	  wr_misc_enable },
	{ MSR_IA32_DEBUGCTL, MSR_IA32_DEBUGCTL, "IA32_DEBUGCTL", rd_field, wr_debugctl },
	{ MSR_IA32_MTRR_PHYSBASE0, MSR_IA32_MTRR_PHYSMASK7, "IA32_MTRR_PHYSBASE/MASKn",
	  rd_mtrr_var, wr_mtrr_var },
	{ MSR_IA32_MTRR_FIX64K_00000, MSR_IA32_MTRR_FIX64K_00000, "IA32_MTRR_FIX64K",
	  rd_mtrr_fixed, wr_mtrr_fixed },
	{ MSR_IA32_MTRR_FIX16K_80000, MSR_IA32_MTRR_FIX16K_A0000, "IA32_MTRR_FIX16K",
	  rd_mtrr_fixed, wr_mtrr_fixed },
	{ MSR_IA32_MTRR_FIX4K_C0000, MSR_IA32_MTRR_FIX4K_F8000, "IA32_MTRR_FIX4K",
	  rd_mtrr_fixed, wr_mtrr_fixed },
	{ MSR_IA32_PAT, MSR_IA32_PAT, "IA32_PAT", rd_field, wr_pat },
	{ MSR_IA32_MTRR_DEF_TYPE, MSR_IA32_MTRR_DEF_TYPE, "IA32_MTRR_DEF_TYPE", rd_field,
	  wr_mtrr_def },
	{ MSR_IA32_PERF_GLOBAL_CTRL, MSR_IA32_PERF_GLOBAL_CTRL, "IA32_PERF_GLOBAL_CTRL", rd_zero,
	  wr_perf_global_ctrl },
	{ MSR_IA32_VMX_BASIC, MSR_IA32_VMX_VMFUNC, "IA32_VMX_*", rd_vmx_cap, wr_readonly },
	{ MSR_IA32_TSC_DEADLINE, MSR_IA32_TSC_DEADLINE, "IA32_TSC_DEADLINE", rd_tsc_deadline,
	  wr_tsc_deadline },
	{ MSR_X2APIC_FIRST, MSR_X2APIC_LAST, "x2APIC", rd_x2apic, wr_x2apic },
	{ MSR_IA32_EFER, MSR_IA32_EFER, "IA32_EFER", rd_field, wr_efer },
	{ MSR_IA32_STAR, MSR_IA32_STAR, "IA32_STAR", rd_field, wr_star },
	{ MSR_IA32_LSTAR, MSR_IA32_CSTAR, "IA32_LSTAR/CSTAR", rd_field, wr_canonical },
	{ MSR_IA32_FMASK, MSR_IA32_FMASK, "IA32_FMASK", rd_field, wr_low32 },
	{ MSR_IA32_FS_BASE, MSR_IA32_KERNEL_GS_BASE, "IA32_FS/GS/KERNEL_GS_BASE", rd_field,
	  wr_canonical },
	{ MSR_IA32_TSC_AUX, MSR_IA32_TSC_AUX, "IA32_TSC_AUX", rd_field, wr_low32 },
};

static const struct msr_row *msr_find(uint32_t index)
{
	for (unsigned i = 0; i < ARRAY_SIZE(msrs); i++)
		if (index >= msrs[i].first && index <= msrs[i].last)
			return &msrs[i];
	return NULL;
}

const char *msr_name(uint32_t index)
{
	const struct msr_row *r = msr_find(index);
	return r ? r->name : NULL;
}

bool msr_read(struct cpu *cpu, uint32_t index, uint64_t *value)
{
	const struct msr_row *r = msr_find(index);
	return r && r->rd && r->rd(cpu, index, value);
}

bool msr_write(struct cpu *cpu, uint32_t index, uint64_t value)
{
	const struct msr_row *r = msr_find(index);
	return r && r->wr(cpu, index, value);
}

/* SDM Vol.2 RDMSR/WRMSR: CPL 0 only; unknown MSR or reserved bits #GP(0). */
void exec_RDMSR(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	uint64_t v;
	if (cpu->cpl != 0 || !msr_read(cpu, (uint32_t)cpu->gpr[RCX], &v))
		cpu_gp(cpu, 0);
	cpu->gpr[RAX] = (uint32_t)v;
	cpu->gpr[RDX] = v >> 32;
}

void exec_WRMSR(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	uint64_t v = ((uint64_t)(uint32_t)cpu->gpr[RDX] << 32) | (uint32_t)cpu->gpr[RAX];
	if (cpu->cpl != 0 || !msr_write(cpu, (uint32_t)cpu->gpr[RCX], v))
		cpu_gp(cpu, 0);
}
