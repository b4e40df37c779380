/*
 * RDMSR/WRMSR policy (SDM 27.1.3: exits by the MSR bitmap, 26.6.9). The guest owns
 * the plain architectural MSRs outright (the bitmap lets them through: native L0 uses
 * none of the silicon's MSRs, so the silicon's registers are the guest's, as KVM's
 * pass-through MSRs). L0 keeps what is per-VM or belongs to its devices: the APIC
 * base, x2APIC registers and TSC deadline (the virtual LAPIC), the TSC (offsetting,
 * SDM 26.6.5), IA32_FEATURE_CONTROL and the VMX capability MSRs (no VMX for L1 yet:
 * #GP, as on a processor without VMX, SDM App. A). Anything else: #GP(0).
 */
#include "cpu/msr.h"
#include "hv/hv_internal.h"


bool hv_msr_passthrough(uint32_t msr)
{
	switch (msr) {
	case MSR_IA32_SYSENTER_CS: case MSR_IA32_SYSENTER_ESP: case MSR_IA32_SYSENTER_EIP:
	case MSR_IA32_PAT: case MSR_IA32_EFER: case MSR_IA32_STAR: case MSR_IA32_LSTAR:
	case MSR_IA32_CSTAR: case MSR_IA32_FMASK: case MSR_IA32_FS_BASE:
	case MSR_IA32_GS_BASE: case MSR_IA32_KERNEL_GS_BASE: case MSR_IA32_TSC_AUX:
	case MSR_IA32_SPEC_CTRL: case MSR_IA32_PRED_CMD: case MSR_IA32_MISC_ENABLE:
	case MSR_IA32_MTRRCAP: case MSR_IA32_MTRR_DEF_TYPE: case MSR_IA32_MCG_CAP:
	case MSR_IA32_MCG_STATUS: case MSR_IA32_BIOS_SIGN_ID: case MSR_PLATFORM_INFO:
	case MSR_IA32_ARCH_CAPABILITIES: case MSR_IA32_DEBUGCTL:
		return true;
	default:
		return (msr >= MSR_IA32_MTRR_PHYSBASE0 && msr <= MSR_IA32_MTRR_PHYSMASK7) ||
		       (msr >= MSR_IA32_MTRR_FIX64K_00000 && msr <= MSR_IA32_MTRR_FIX4K_F8000);
	}
}

/* MSRs that live in the guest-state area (SDM 26.4.1): an exit for them must go
 * through the VMCS, which the next entry loads. */
static uint32_t vmcs_field_of(uint32_t msr)
{
	switch (msr) {
	case MSR_IA32_SYSENTER_CS: return VMCS_GUEST_SYSENTER_CS;
	case MSR_IA32_SYSENTER_ESP: return VMCS_GUEST_SYSENTER_ESP;
	case MSR_IA32_SYSENTER_EIP: return VMCS_GUEST_SYSENTER_EIP;
	case MSR_IA32_PAT: return VMCS_GUEST_IA32_PAT;
	case MSR_IA32_EFER: return VMCS_GUEST_IA32_EFER;
	case MSR_IA32_FS_BASE: return VMCS_GUEST_FS_BASE;
	case MSR_IA32_GS_BASE: return VMCS_GUEST_GS_BASE;
	default: return 0;
	}
}

static bool x2apic_on(const struct hv_vcpu *v)
{
	return (v->apic_base & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD);
}

bool hv_msr_read(struct hv_vcpu *v, uint32_t msr, uint64_t *value)
{
	switch (msr) {
	case MSR_IA32_TSC:
		*value = clock_now(v->vm->clock) + v->tsc_offset;
		return true;
	case MSR_IA32_APIC_BASE:
		*value = v->apic_base;
		return true;
	case MSR_IA32_FEATURE_CONTROL:
		*value = FEATURE_CONTROL_LOCKED; /* locked with VMX off (SDM 24.7) */
		return true;
	case MSR_IA32_TSC_DEADLINE:
		*value = v->lapic ? lapic_tsc_deadline_read(v->lapic) : 0;
		return true;
	default:
		break;
	}
	if (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST)
		return x2apic_on(v) && v->lapic && lapic_ops.msr_read(v->lapic, msr, value);
	if (!hv_msr_passthrough(msr))
		return false;
	uint32_t field = vmcs_field_of(msr);
	if (field) {
		*value = hv_vmread(v, field);
		return true;
	}
	return msr_read(v->cpu, msr, value); /* the guest's own register (see above) */
}

/* IA32_APIC_BASE (SDM 11.4.4, 11.12.5): reserved bits and the invalid EXTD-without-EN
 * state #GP; the LAPIC follows the new mode. */
static bool write_apic_base(struct hv_vcpu *v, uint64_t value)
{
	/* The same rules as the silicon's own APIC (SDM 11.12.5): disabled -> x2APIC and
	 * x2APIC -> xAPIC directly are invalid, as KVM's kvm_set_apic_base() refuses. */
	if (!apic_base_write_valid(v->apic_base, value))
		return false;
	v->apic_base = value;
	if (v->lapic)
		lapic_ops.base_changed(v->lapic, value);
	return true;
}

/* IA32_EFER through the VMCS (SDM 2.2.1): LMA is read-only, LME cannot change while
 * paging is on (#GP, SDM Vol.3A 10.8.5). */
static bool write_efer(struct hv_vcpu *v, uint64_t value)
{
	uint64_t old = hv_vmread(v, VMCS_GUEST_IA32_EFER);
	if (value & ~(uint64_t)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
		return false;
	bool paging = hv_vmread(v, VMCS_GUEST_CR0) & CR0_PG;
	if (paging && ((value ^ old) & EFER_LME))
		return false;
	hv_vmwrite(v, VMCS_GUEST_IA32_EFER, (value & ~(uint64_t)EFER_LMA) | (old & EFER_LMA));
	return true;
}

bool hv_msr_write(struct hv_vcpu *v, uint32_t msr, uint64_t value)
{
	switch (msr) {
	case MSR_IA32_TSC:
		v->tsc_offset = value - clock_now(v->vm->clock);
		hv_vmwrite(v, VMCS_TSC_OFFSET, v->tsc_offset - v->cpu->tsc_offset);
		return true;
	case MSR_IA32_APIC_BASE:
		return write_apic_base(v, value);
	case MSR_IA32_TSC_DEADLINE:
		if (v->lapic)
			lapic_tsc_deadline_write(v->lapic, value);
		return true;
	case MSR_IA32_EFER:
		return write_efer(v, value);
	default:
		break;
	}
	if (msr >= MSR_X2APIC_FIRST && msr <= MSR_X2APIC_LAST)
		return x2apic_on(v) && v->lapic && lapic_ops.msr_write(v->lapic, msr, value);
	if (!hv_msr_passthrough(msr))
		return false;
	uint32_t field = vmcs_field_of(msr);
	if (field) {
		hv_vmwrite(v, field, value);
		return true;
	}
	return msr_write(v->cpu, msr, value);
}

/* RDMSR (exit reason 31) and WRMSR (32): MSR bitmap exits (SDM 27.1.3, 26.6.9), no
 * qualification; ECX the MSR, EDX:EAX the value (SDM Vol.2 RDMSR, WRMSR). As KVM's
 * kvm_emulate_rdmsr/wrmsr: an MSR the policy refuses is #GP(0), RIP unchanged. */
enum hv_action hv_exit_rdmsr(struct hv_vcpu *v)
{
	uint64_t value;
	if (!hv_msr_read(v, (uint32_t)v->cpu->gpr[RCX], &value)) {
		hv_inject_exception(v, EXC_GP, 0); /* SDM Vol.2 RDMSR: #GP(0) */
		return HV_RESUME;
	}
	hv_set_edx_eax(v, value);
	hv_skip_insn(v);
	return HV_RESUME;
}

enum hv_action hv_exit_wrmsr(struct hv_vcpu *v)
{
	if (!hv_msr_write(v, (uint32_t)v->cpu->gpr[RCX], hv_edx_eax(v))) {
		hv_inject_exception(v, EXC_GP, 0); /* SDM Vol.2 WRMSR: #GP(0) */
		return HV_RESUME;
	}
	hv_skip_insn(v);
	return HV_RESUME;
}
