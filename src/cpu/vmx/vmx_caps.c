/*
 * The IA32_VMX_* capability MSRs (SDM Appendix A), built from vmx_caps.h only, so
 * that what RDMSR reports and what VM entry checks are the same facts. Read-only:
 * msr.c raises #GP(0) on WRMSR to any of them.
 */
#include "cpu/cpuid.h"
#include "cpu/sys.h"
#include "cpu/vmx/vmx_internal.h"

/* A control MSR (SDM A.3-A.5): allowed-0 settings in bits 31:0 (bit X = 1: control X
 * must be 1), allowed-1 settings in bits 63:32 (bit 32+X = 0: control X must be 0). */
static uint64_t ctls(uint64_t allowed0, uint64_t allowed1)
{
	return (uint32_t)allowed0 | (allowed1 << 32);
}

/* IA32_VMX_BASIC (SDM A.1): revision identifier in 30:0 (bit 31 = 0), region size in
 * 44:32, bit 48 = 0 (addresses are not limited to 32 bits), bit 49 = 0 (no dual-monitor
 * treatment), memory type WB in 53:50, bit 54: INS/OUTS exits report instruction
 * information, bit 55 = 1: some default1 controls may be 0, so the TRUE_*_CTLS MSRs
 * exist (A.2), bit 56 = 0 (the error-code consistency checks of VM entry apply). */
static uint64_t vmx_basic(void)
{
	bool true_ctls = VMX_PIN_MUST1 != VMX_PIN_DEFAULT1 || VMX_PROC_MUST1 != VMX_PROC_DEFAULT1 ||
			 VMX_EXIT_MUST1 != VMX_EXIT_DEFAULT1 ||
			 VMX_ENTRY_MUST1 != VMX_ENTRY_DEFAULT1;
	_Static_assert((VMX_REVISION_ID & BIT(31)) == 0, "revision identifier bit 31 is 0");
	return VMX_REVISION_ID | ((uint64_t)VMX_VMCS_REGION_BYTES << 32) |
	       (VMX_BASIC_MEMTYPE_WB << 50) | ((uint64_t)VMX_BASIC_INS_OUTS_INFO << 54) |
	       ((uint64_t)true_ctls << 55);
}

/* IA32_VMX_PROCBASED_CTLS2 exists only if "activate secondary controls" may be 1
 * (SDM A.3.3); IA32_VMX_EPT_VPID_CAP only if "enable EPT" or "enable VPID" may be 1
 * (SDM A.10). */
static bool has_ctls2(void)
{
	return VMX_PROC_ALLOWED1 & PROC_SECONDARY_CONTROLS;
}

static bool has_ept_vpid_cap(void)
{
	return has_ctls2() && (VMX_PROC2_ALLOWED1 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID));
}

bool vmx_cap_msr(const struct cpu *cpu, uint32_t msr, uint64_t *value)
{
	/* The capability MSRs exist only with CPUID.1:ECX.VMX = 1 (SDM A.1). */
	if (!cpu_has_feature(cpu, FEAT_VMX))
		return false;
	switch (msr) {
	case MSR_IA32_VMX_BASIC: *value = vmx_basic(); return true;
	case MSR_IA32_VMX_PINBASED_CTLS: *value = ctls(VMX_PIN_DEFAULT1, VMX_PIN_ALLOWED1); return true;
	case MSR_IA32_VMX_PROCBASED_CTLS: *value = ctls(VMX_PROC_DEFAULT1, VMX_PROC_ALLOWED1); return true;
	case MSR_IA32_VMX_EXIT_CTLS: *value = ctls(VMX_EXIT_DEFAULT1, VMX_EXIT_ALLOWED1); return true;
	case MSR_IA32_VMX_ENTRY_CTLS: *value = ctls(VMX_ENTRY_DEFAULT1, VMX_ENTRY_ALLOWED1); return true;
	case MSR_IA32_VMX_TRUE_PINBASED_CTLS: *value = ctls(VMX_PIN_MUST1, VMX_PIN_ALLOWED1); return true;
	case MSR_IA32_VMX_TRUE_PROCBASED_CTLS: *value = ctls(VMX_PROC_MUST1, VMX_PROC_ALLOWED1); return true;
	case MSR_IA32_VMX_TRUE_EXIT_CTLS: *value = ctls(VMX_EXIT_MUST1, VMX_EXIT_ALLOWED1); return true;
	case MSR_IA32_VMX_TRUE_ENTRY_CTLS: *value = ctls(VMX_ENTRY_MUST1, VMX_ENTRY_ALLOWED1); return true;
	case MSR_IA32_VMX_MISC: *value = VMX_MISC_VALUE; return true; /* SDM A.6; MSEG id 0 */
	case MSR_IA32_VMX_CR0_FIXED0: *value = VMX_CR0_FIXED0; return true; /* SDM A.7 */
	case MSR_IA32_VMX_CR0_FIXED1: *value = VMX_CR0_FIXED1; return true;
	case MSR_IA32_VMX_CR4_FIXED0: *value = VMX_CR4_FIXED0; return true; /* SDM A.8 */
	case MSR_IA32_VMX_CR4_FIXED1: *value = cpu_cr4_allowed(cpu); return true;
	/* SDM A.9: bits 9:1 = the highest index used in any field encoding. */
	case MSR_IA32_VMX_VMCS_ENUM: *value = (uint64_t)vmcs_max_index() << 1; return true;
	case MSR_IA32_VMX_PROCBASED_CTLS2:
		*value = ctls(0, VMX_PROC2_ALLOWED1); /* no default1 class (SDM A.3.3) */
		return has_ctls2();
	case MSR_IA32_VMX_EPT_VPID_CAP:
		*value = VMX_EPT_VPID_CAP_VALUE;
		return has_ept_vpid_cap();
	/* IA32_VMX_VMFUNC exists only if "enable VM functions" may be 1 (SDM A.11): it
	 * may not, so RDMSR raises #GP(0), like the tertiary and secondary-exit MSRs. */
	default: return false;
	}
}

/* SDM 28.2.1.1, with "enable EPT" = 1 (EPTP layout SDM 26.6.11): the memory type must
 * be one IA32_VMX_EPT_VPID_CAP reports (UC bit 8, WB bit 14); bits 5:3 the walk
 * length minus 1, 3 (4-level, bit 6) or 4 (5-level, bit 7); bit 6 only with EPT A/D
 * flags (bit 21); bit 7 only with supervisor shadow-stack control (bit 23); bits 11:8
 * and 63:MAXPHYADDR reserved. */
bool vmx_eptp_valid(uint64_t eptp)
{
	uint64_t cap = VMX_EPT_VPID_CAP_VALUE;
	uint64_t type = eptp & EPTP_MEMTYPE_MASK;
	uint64_t walk = (eptp >> EPTP_WALK_LENGTH_SHIFT) & 7;
	if (!((type == EPTP_MEMTYPE_UC && (cap & BIT(8))) ||
	      (type == EPTP_MEMTYPE_WB && (cap & BIT(14)))))
		return false;
	if (!((walk == 3 && (cap & BIT(6))) || (walk == 4 && (cap & BIT(7)))))
		return false;
	if ((eptp & EPTP_AD_ENABLE) && !(cap & BIT(21)))
		return false;
	if ((eptp & BIT(7)) && !(cap & BIT(23)))
		return false;
	return !(eptp & 0xF00) && !(eptp >> CPU_MAXPHYADDR);
}
