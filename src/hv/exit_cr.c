/*
 * Control-register exits (exit reason 28, SDM 27.1.3; qualification SDM 29.2.1 Table
 * 29-3; KVM's handle_cr): writes
 * to the CR0/CR4 bits L0 owns through the guest/host masks (CR0.NE, CR4.VMXE), and
 * CR8, which is the virtual LAPIC's TPR (CR8-load/store exiting: there is no TPR
 * shadow in this issue). L0 does what MOV to CR would have done, with its checks
 * (SDM Vol.2 MOV CR, Vol.3A 2.5).
 */
#include "hv/hv_internal.h"

/* The cached translations of this VPID may depend on the bits just changed. */
static void flush_guest_tlb(struct hv_vcpu *v)
{
	vmx_invvpid(v->cpu, INVVPID_SINGLE_CONTEXT, (uint16_t)(v->id + 1), 0);
}

/* The guest's CR0: only the owned bits are the shadow's; PG, PE, ... change without
 * exits, so the guest CR0 field holds them (SDM 26.6.6, 27.3). */
static uint64_t guest_cr0(struct hv_vcpu *v)
{
	uint64_t mask = hv_vmread(v, VMCS_CR0_GUEST_HOST_MASK);
	return (hv_vmread(v, VMCS_GUEST_CR0) & ~mask) | (hv_vmread(v, VMCS_CR0_READ_SHADOW) & mask);
}

/* MOV to CR0 (SDM Vol.2 MOV CR, Vol.3A 2.5, 10.8.5): #GP for reserved bits, PG
 * without PE, NW without CD, leaving long mode from 64-bit code; PG with EFER.LME
 * activates IA-32e mode (EFER.LMA and the "IA-32e mode guest" control, SDM 28.3.1.1). */
static bool write_cr0(struct hv_vcpu *v, uint64_t val)
{
	uint64_t old = guest_cr0(v);
	uint64_t efer = hv_vmread(v, VMCS_GUEST_IA32_EFER);
	uint64_t entry = hv_vmread(v, VMCS_VM_ENTRY_CONTROLS);
	if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) ||
	    ((val & CR0_NW) && !(val & CR0_CD)))
		return false;
	bool pg_on = (val & CR0_PG) && !(old & CR0_PG), pg_off = !(val & CR0_PG) && (old & CR0_PG);
	if (pg_on && (efer & EFER_LME)) {
		if (!(hv_vmread(v, VMCS_GUEST_CR4) & CR4_PAE))
			return false;
		efer |= EFER_LMA;
		entry |= ENTRY_IA32E_MODE;
	} else if (pg_off && (efer & EFER_LMA)) {
		if (hv_guest_64bit_code(v))
			return false;
		efer &= ~(uint64_t)EFER_LMA;
		entry &= ~(uint64_t)ENTRY_IA32E_MODE;
	}
	hv_vmwrite(v, VMCS_GUEST_IA32_EFER, efer);
	hv_vmwrite(v, VMCS_VM_ENTRY_CONTROLS, entry);
	hv_set_guest_cr0(v, val | CR0_ET); /* ET is fixed to 1 (SDM 2.5) */
	flush_guest_tlb(v);
	return true;
}

/* MOV to CR4: bits the silicon does not implement, and VMXE (no VMX for L1: as on a
 * processor without VMX, SDM Vol.2 MOV CR), are #GP; so is clearing PAE in IA-32e
 * mode (SDM 10.8.5). */
static bool write_cr4(struct hv_vcpu *v, uint64_t val)
{
	uint64_t fixed1 = 0;
	vmx_cap_msr(v->cpu, MSR_IA32_VMX_CR4_FIXED1, &fixed1);
	if ((val & ~fixed1) || (val & CR4_VMXE))
		return false;
	if ((hv_vmread(v, VMCS_GUEST_IA32_EFER) & EFER_LMA) && !(val & CR4_PAE))
		return false;
	hv_set_guest_cr4(v, val);
	flush_guest_tlb(v);
	return true;
}

static enum hv_action mov_to_cr(struct hv_vcpu *v, int cr, uint64_t val)
{
	bool ok;
	switch (cr) {
	case 0: ok = write_cr0(v, val); break;
	case 4: ok = write_cr4(v, val); break;
	case 8:
		ok = !(val & ~0xFULL); /* CR8[63:4] reserved (SDM 2.5) */
		if (ok && v->lapic)
			lapic_ops.set_tpr(v->lapic, (uint8_t)(val << 4)); /* TPR[7:4] */
		break;
	default:
		return hv_shutdown(v, "unexpected MOV to CR%d exit", cr);
	}
	if (!ok) {
		hv_inject_exception(v, EXC_GP, 0);
		return HV_RESUME;
	}
	hv_skip_insn(v);
	return HV_RESUME;
}

/* The control-register exit (see the top): the access type in the qualification
 * (Table 29-3) picks MOV to CR, MOV from CR, LMSW; CLTS never exits here. */
enum hv_action hv_exit_cr_access(struct hv_vcpu *v)
{
	uint64_t q = hv_vmread(v, VMCS_EXIT_QUALIFICATION);
	int cr = (int)CRQUAL_CR(q), gpr = (int)CRQUAL_GPR(q);
	switch (CRQUAL_TYPE(q)) {
	case CR_ACCESS_MOV_TO: {
		uint64_t val = hv_gpr_read(v, gpr);
		if (!hv_guest_64bit_code(v))
			val = (uint32_t)val; /* 32-bit operand outside 64-bit mode */
		return mov_to_cr(v, cr, val);
	}
	case CR_ACCESS_MOV_FROM:
		if (cr != 8)
			return hv_shutdown(v, "unexpected MOV from CR%d exit", cr);
		hv_gpr_write(v, gpr, v->lapic ? lapic_ops.get_tpr(v->lapic) >> 4 : 0);
		hv_skip_insn(v);
		return HV_RESUME;
	case CR_ACCESS_LMSW: {
		/* LMSW loads CR0[3:0] but cannot clear PE (SDM Vol.2 LMSW). */
		uint64_t old = guest_cr0(v);
		uint64_t data = CRQUAL_LMSW_DATA(q) & 0xF;
		return mov_to_cr(v, 0, (old & ~0xEULL) | data | (old & CR0_PE));
	}
	default: /* CLTS: TS is not an L0-owned bit, so this cannot exit */
		return hv_shutdown(v, "unexpected CLTS exit");
	}
}
