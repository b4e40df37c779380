/*
 * VM entry: checks on the guest-state area (SDM 28.3.1) other than the segment and
 * descriptor-table registers (vmx_entry_seg.c): control and debug registers and MSRs
 * (28.3.1.1), RIP and RFLAGS (28.3.1.4), non-register state (28.3.1.5) and the PDPTEs
 * (28.3.1.6). A failure is a VM-entry failure exit, reason 33 with bit 31 set, and an
 * exit qualification of 0, 2 (PDPTEs) or 4 (VMCS link pointer) (SDM 28.8).
 */
#include "cpu/vmx/vmx_entry.h"

/* Guest IA32_DEBUGCTL bits this silicon implements (msr.c): LBR and BTF. */
#define DEBUGCTL_VALID (BIT(0) | BIT(1))
#define DEBUGCTL_BTF BIT(1)

/* SDM 28.3.1.1: guest control registers, debug registers and MSRs. */
static bool check_guest_regs(struct cpu *cpu, const struct vmcs *v)
{
	uint32_t entry = (uint32_t)VMCS_GET(v, VM_ENTRY_CONTROLS);
	bool ia32e = entry & ENTRY_IA32E_MODE;
	bool unrestricted = vmx_proc2_of(v) & PROC2_UNRESTRICTED_GUEST;
	uint64_t cr0 = VMCS_GET(v, GUEST_CR0), cr4 = VMCS_GET(v, GUEST_CR4);
	ENTRY_CHECK(cpu, vmx_cr0_fixed_ok(cr0, unrestricted));
	ENTRY_CHECK(cpu, !(cr0 & CR0_PG) || (cr0 & CR0_PE));
	ENTRY_CHECK(cpu, vmx_cr4_fixed_ok(cpu, cr4));
	if (entry & ENTRY_LOAD_DEBUG_CONTROLS) {
		ENTRY_CHECK(cpu, !(VMCS_GET(v, GUEST_IA32_DEBUGCTL) & ~DEBUGCTL_VALID));
		ENTRY_CHECK(cpu, !(VMCS_GET(v, GUEST_DR7) >> 32));
	}
	if (ia32e) {
		ENTRY_CHECK(cpu, cr0 & CR0_PG);
		ENTRY_CHECK(cpu, cr4 & CR4_PAE);
	} else {
		ENTRY_CHECK(cpu, !(cr4 & CR4_PCIDE));
	}
	ENTRY_CHECK(cpu, vmx_phys_ok(VMCS_GET(v, GUEST_CR3)));
	ENTRY_CHECK(cpu, is_canonical(VMCS_GET(v, GUEST_SYSENTER_ESP)));
	ENTRY_CHECK(cpu, is_canonical(VMCS_GET(v, GUEST_SYSENTER_EIP)));
	/* No performance counters (CPUID.0AH is zero): every bit is reserved. */
	if (entry & ENTRY_LOAD_PERF_GLOBAL_CTRL)
		ENTRY_CHECK(cpu, VMCS_GET(v, GUEST_IA32_PERF_GLOBAL_CTRL) == 0);
	if (entry & ENTRY_LOAD_PAT)
		ENTRY_CHECK(cpu, vmx_pat_ok(VMCS_GET(v, GUEST_IA32_PAT)));
	if (entry & ENTRY_LOAD_EFER) {
		uint64_t efer = VMCS_GET(v, GUEST_IA32_EFER);
		ENTRY_CHECK(cpu, !(efer & ~VMX_EFER_VALID));
		ENTRY_CHECK(cpu, !!(efer & EFER_LMA) == ia32e);
		if (cr0 & CR0_PG)
			ENTRY_CHECK(cpu, !!(efer & EFER_LME) == ia32e);
	}
	return true;
}

/* SDM 28.3.1.4: RIP and RFLAGS. */
static bool check_guest_rip_rflags(struct cpu *cpu, const struct vmcs *v)
{
	bool ia32e = VMCS_GET(v, VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE;
	bool cs_l = VMCS_GET(v, GUEST_CS_AR_BYTES) & AR_L;
	uint64_t rip = VMCS_GET(v, GUEST_RIP), rflags = VMCS_GET(v, GUEST_RFLAGS);
	uint32_t info = (uint32_t)VMCS_GET(v, VM_ENTRY_INTR_INFO_FIELD);
	if (ia32e && cs_l)
		ENTRY_CHECK(cpu, is_canonical(rip)); /* bits 63:N identical */
	else
		ENTRY_CHECK(cpu, !(rip >> 32));
	/* Reserved bits 63:22, 15, 5 and 3 are 0; bit 1 is 1. */
	ENTRY_CHECK(cpu, !(rflags & (~0x3FFFFFULL | BIT(15) | BIT(5) | BIT(3))));
	ENTRY_CHECK(cpu, rflags & RFLAGS_FIXED1);
	if (ia32e || !(VMCS_GET(v, GUEST_CR0) & CR0_PE))
		ENTRY_CHECK(cpu, !(rflags & RFLAGS_VM));
	/* Injecting an external interrupt needs IF = 1. */
	if ((info & INTR_INFO_VALID) && vmx_entry_intr_type(v) == INTR_TYPE_EXT_INTR)
		ENTRY_CHECK(cpu, rflags & RFLAGS_IF);
	return true;
}

/* SDM 28.3.1.5: which events may be injected into an inactive guest. */
static bool injection_allowed_in(const struct vmcs *v, uint32_t activity)
{
	uint32_t info = (uint32_t)VMCS_GET(v, VM_ENTRY_INTR_INFO_FIELD);
	unsigned type = vmx_entry_intr_type(v), vector = info & INTR_INFO_VECTOR_MASK;
	if (!(info & INTR_INFO_VALID) || activity == ACTIVITY_ACTIVE)
		return true;
	if (activity == ACTIVITY_HLT) /* ext. interrupt, NMI, #DB, #MC, pending MTF */
		return type == INTR_TYPE_EXT_INTR || type == INTR_TYPE_NMI ||
		       (type == INTR_TYPE_HW_EXCEPTION &&
			(vector == EXC_DB || vector == EXC_MC)) ||
		       (type == INTR_TYPE_OTHER_EVENT && vector == 0);
	return false; /* wait-for-SIPI: no event may be injected */
}

/* SDM 28.3.1.5: activity and interruptibility state. */
static bool check_guest_activity(struct cpu *cpu, const struct vmcs *v)
{
	uint64_t activity = VMCS_GET(v, GUEST_ACTIVITY_STATE);
	uint32_t intr = (uint32_t)VMCS_GET(v, GUEST_INTERRUPTIBILITY_INFO);
	uint32_t info = (uint32_t)VMCS_GET(v, VM_ENTRY_INTR_INFO_FIELD);
	unsigned type = vmx_entry_intr_type(v);
	bool injecting = info & INTR_INFO_VALID;
	/* Activity states supported by IA32_VMX_MISC bits 8:6: HLT and wait-for-SIPI
	 * (not shutdown). */
	ENTRY_CHECK(cpu, activity == ACTIVITY_ACTIVE || activity == ACTIVITY_HLT ||
				 activity == ACTIVITY_WAIT_SIPI);
	if (activity == ACTIVITY_HLT)
		ENTRY_CHECK(cpu, !(VMCS_GET(v, GUEST_SS_AR_BYTES) & AR_DPL_MASK));
	if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		ENTRY_CHECK(cpu, activity == ACTIVITY_ACTIVE);
	ENTRY_CHECK(cpu, injection_allowed_in(v, (uint32_t)activity));
	/* Bits 31:4 reserved (bit 4, enclave interruption, needs SGX). */
	ENTRY_CHECK(cpu, !(intr & ~0xFu));
	ENTRY_CHECK(cpu, (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) !=
				 (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
	if (!(VMCS_GET(v, GUEST_RFLAGS) & RFLAGS_IF))
		ENTRY_CHECK(cpu, !(intr & INTERRUPTIBILITY_STI));
	if (injecting && type == INTR_TYPE_EXT_INTR)
		ENTRY_CHECK(cpu, !(intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)));
	if (injecting && type == INTR_TYPE_NMI)
		ENTRY_CHECK(cpu, !(intr & INTERRUPTIBILITY_MOV_SS));
	ENTRY_CHECK(cpu, !(intr & INTERRUPTIBILITY_SMI)); /* never in SMM */
	if (injecting && type == INTR_TYPE_NMI &&
	    (VMCS_GET(v, PIN_BASED_VM_EXEC_CONTROL) & PIN_VIRTUAL_NMIS))
		ENTRY_CHECK(cpu, !(intr & INTERRUPTIBILITY_NMI));
	return true;
}

/* SDM 28.3.1.5: pending debug exceptions. */
static bool check_guest_pending_dbg(struct cpu *cpu, const struct vmcs *v)
{
	uint64_t pend = VMCS_GET(v, GUEST_PENDING_DBG_EXCEPTIONS);
	uint32_t intr = (uint32_t)VMCS_GET(v, GUEST_INTERRUPTIBILITY_INFO);
	/* Bits 11:4, 13, 15 and 63:17 reserved; bit 16 (RTM) too: no RTM. */
	ENTRY_CHECK(cpu, !(pend & ~(PENDING_DBG_B0_B3 | PENDING_DBG_ENABLED_BP |
				     PENDING_DBG_BS)));
	if ((intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) ||
	    VMCS_GET(v, GUEST_ACTIVITY_STATE) == ACTIVITY_HLT) {
		/* BS set iff a single-step trap is due: TF = 1 and DEBUGCTL.BTF = 0. */
		bool tf = VMCS_GET(v, GUEST_RFLAGS) & RFLAGS_TF;
		bool btf = VMCS_GET(v, GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF;
		ENTRY_CHECK(cpu, !!(pend & PENDING_DBG_BS) == (tf && !btf));
	}
	return true;
}

/* SDM 28.3.1.5: the VMCS link pointer, unless all ones: 4-KByte aligned, within the
 * physical-address width, pointing to a region whose first 32 bits are the revision
 * identifier with bit 31 (the shadow-VMCS indicator) equal to "VMCS shadowing", that
 * is 0 here, and (outside SMM) not the current-VMCS pointer. A native VMM's VMCS has
 * no physical address (current_ptr is all ones). */
static bool check_vmcs_link(struct cpu *cpu, const struct vmcs *v)
{
	uint64_t link = VMCS_GET(v, VMCS_LINK_POINTER);
	if (link == ~0ULL)
		return true;
	ENTRY_CHECK(cpu, vmx_page_addr_ok(link));
	ENTRY_CHECK(cpu, (uint32_t)bus_read(cpu->bus, link, 4) == VMX_REVISION_ID);
	ENTRY_CHECK(cpu, link != cpu->vmx.current_ptr);
	return true;
}

/* A present PAE PDPTE with a reserved bit set: bits 2:1, 8:5 and 63:MAXPHYADDR
 * (SDM 4.4.1, Table 4-8). */
static bool pdpte_ok(uint64_t e)
{
	return !(e & 1) || !(e & (0x1E6ULL | (~0ULL << CPU_MAXPHYADDR)));
}

/* SDM 28.3.1.6: with PAE paging outside IA-32e mode, the PDPTEs: the guest PDPTE
 * fields with EPT, else the four entries at CR3[31:5], which VM entry loads. */
static bool check_guest_pdptes(struct cpu *cpu, const struct vmcs *v)
{
	uint64_t cr0 = VMCS_GET(v, GUEST_CR0), cr4 = VMCS_GET(v, GUEST_CR4);
	if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) ||
	    (VMCS_GET(v, VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE))
		return true;
	uint64_t e[4];
	if (vmx_proc2_of(v) & PROC2_ENABLE_EPT) {
		for (int i = 0; i < 4; i++)
			e[i] = vmcs_get(v, (enum vmcs_id)(VMCS_ID_GUEST_PDPTR0 + i));
	} else {
		gpa_t table = (uint32_t)VMCS_GET(v, GUEST_CR3) & ~0x1FULL;
		for (int i = 0; i < 4; i++)
			e[i] = bus_read(cpu->bus, table + 8 * (gpa_t)i, 8);
	}
	ENTRY_CHECK(cpu, pdpte_ok(e[0]) && pdpte_ok(e[1]) && pdpte_ok(e[2]) && pdpte_ok(e[3]));
	return true;
}

bool vmx_check_guest_state(struct cpu *cpu, const struct vmcs *v, uint64_t *qual)
{
	*qual = ENTRY_QUAL_DEFAULT;
	if (!check_guest_regs(cpu, v) || !vmx_check_guest_segments(cpu, v) ||
	    !check_guest_rip_rflags(cpu, v) || !check_guest_activity(cpu, v) ||
	    !check_guest_pending_dbg(cpu, v))
		return false;
	*qual = ENTRY_QUAL_VMCS_LINK;
	if (!check_vmcs_link(cpu, v))
		return false;
	*qual = ENTRY_QUAL_PDPTE;
	if (!check_guest_pdptes(cpu, v))
		return false;
	*qual = ENTRY_QUAL_DEFAULT;
	return true;
}
