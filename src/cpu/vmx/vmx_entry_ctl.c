/*
 * VM entry: checks on the VMX controls (SDM 28.2.1). A failure is VMfailValid with
 * error 7, "VM entry with invalid control field(s)" (SDM 32.4), and nothing is loaded.
 *
 * The allowed settings of every control field are exactly those of vmx_caps.h, the
 * same values the capability MSRs report (SDM 28.2.1.1 first item, App. A.3-A.5), so
 * a control this silicon does not implement (posted interrupts, virtual-interrupt
 * delivery, VMCS shadowing, ...) fails here as a reserved bit and needs no rule of
 * its own.
 */
#include "cpu/vmx/vmx_entry.h"

/* A control field against its capability (SDM 28.2.1.1, 28.2.1.2, 28.2.1.3: "reserved
 * bits ... must be set properly", App. A.3-A.5). */
static bool ctl_fits(uint64_t value, uint64_t must1, uint64_t allowed1)
{
	return (value & must1) == must1 && !(value & ~allowed1);
}

/* An MSR-load/store area (SDM 28.2.1.2, 28.2.1.3): with a non-zero count, 16-byte
 * aligned, and its last byte within the physical-address width. */
static bool msr_area_ok(uint64_t addr, uint64_t count)
{
	if (!count)
		return true;
	return !(addr & 0xF) && vmx_phys_ok(addr) && vmx_phys_ok(addr + count * 16 - 1);
}

/* TPR shadow (SDM 28.2.1.1): the virtual-APIC page, and the TPR threshold against
 * VTPR without virtual-interrupt delivery (not supported) and without "virtualize APIC
 * accesses". */
static bool check_tpr_shadow(struct cpu *cpu, const struct vmcs *v, uint32_t proc2)
{
	uint64_t vapic = VMCS_GET(v, VIRTUAL_APIC_PAGE_ADDR);
	uint32_t threshold = (uint32_t)VMCS_GET(v, TPR_THRESHOLD);
	ENTRY_CHECK(cpu, vmx_page_addr_ok(vapic));
	ENTRY_CHECK(cpu, !(threshold & ~0xFu)); /* bits 31:4 */
	if (!(proc2 & PROC2_VIRTUALIZE_APIC_ACCESSES)) {
		/* VTPR is bits 7:4 of byte 80H of the virtual-APIC page. */
		uint8_t vtpr = (uint8_t)bus_read(cpu->bus, vapic + 0x80, 1);
		ENTRY_CHECK(cpu, threshold <= (uint32_t)(vtpr >> 4));
	}
	return true;
}

/* SDM 28.2.1.1: checks on VM-execution control fields. */
static bool check_exec_controls(struct cpu *cpu, const struct vmcs *v)
{
	uint32_t pin = (uint32_t)VMCS_GET(v, PIN_BASED_VM_EXEC_CONTROL);
	uint32_t proc = (uint32_t)VMCS_GET(v, CPU_BASED_VM_EXEC_CONTROL);
	uint32_t proc2 = vmx_proc2_of(v);
	ENTRY_CHECK(cpu, ctl_fits(pin, VMX_PIN_MUST1, VMX_PIN_ALLOWED1));
	ENTRY_CHECK(cpu, ctl_fits(proc, VMX_PROC_MUST1, VMX_PROC_ALLOWED1));
	ENTRY_CHECK(cpu, ctl_fits(proc2, 0, VMX_PROC2_ALLOWED1));
	/* CR3-target count not greater than 4 (IA32_VMX_MISC bits 24:16). */
	ENTRY_CHECK(cpu, VMCS_GET(v, CR3_TARGET_COUNT) <= VMX_CR3_TARGETS);
	if (proc & PROC_USE_IO_BITMAPS) {
		ENTRY_CHECK(cpu, vmx_page_addr_ok(VMCS_GET(v, IO_BITMAP_A)));
		ENTRY_CHECK(cpu, vmx_page_addr_ok(VMCS_GET(v, IO_BITMAP_B)));
	}
	if (proc & PROC_USE_MSR_BITMAPS)
		ENTRY_CHECK(cpu, vmx_page_addr_ok(VMCS_GET(v, MSR_BITMAP)));
	if (proc & PROC_TPR_SHADOW) {
		if (!check_tpr_shadow(cpu, v, proc2))
			return false;
	}
	/* "NMI exiting" 0 -> "virtual NMIs" 0; "virtual NMIs" 0 -> "NMI-window exiting" 0. */
	if (!(pin & PIN_NMI_EXITING))
		ENTRY_CHECK(cpu, !(pin & PIN_VIRTUAL_NMIS));
	if (!(pin & PIN_VIRTUAL_NMIS))
		ENTRY_CHECK(cpu, !(proc & PROC_NMI_WINDOW_EXITING));
	if (proc2 & PROC2_VIRTUALIZE_APIC_ACCESSES)
		ENTRY_CHECK(cpu, vmx_page_addr_ok(VMCS_GET(v, APIC_ACCESS_ADDR)));
	if (proc2 & PROC2_ENABLE_VPID)
		ENTRY_CHECK(cpu, VMCS_GET(v, VIRTUAL_PROCESSOR_ID) != 0);
	/* The EPT pointer: memory type, walk length, reserved bits against
	 * IA32_VMX_EPT_VPID_CAP (26.6.11; the rule lives with the capabilities). */
	if (proc2 & PROC2_ENABLE_EPT)
		ENTRY_CHECK(cpu, vmx_eptp_valid(VMCS_GET(v, EPT_POINTER)));
	if (proc2 & PROC2_ENABLE_PML) {
		ENTRY_CHECK(cpu, proc2 & PROC2_ENABLE_EPT);
		ENTRY_CHECK(cpu, vmx_page_addr_ok(VMCS_GET(v, PML_ADDRESS)));
	}
	if (proc2 & PROC2_UNRESTRICTED_GUEST)
		ENTRY_CHECK(cpu, proc2 & PROC2_ENABLE_EPT);
	return true;
}

/* SDM 28.2.1.2: checks on VM-exit control fields. */
static bool check_exit_controls(struct cpu *cpu, const struct vmcs *v)
{
	uint32_t exit = (uint32_t)VMCS_GET(v, VM_EXIT_CONTROLS);
	uint32_t pin = (uint32_t)VMCS_GET(v, PIN_BASED_VM_EXEC_CONTROL);
	ENTRY_CHECK(cpu, ctl_fits(exit, VMX_EXIT_MUST1, VMX_EXIT_ALLOWED1));
	/* "activate VMX-preemption timer" 0 -> "save VMX-preemption timer value" 0. */
	if (!(pin & PIN_PREEMPTION_TIMER))
		ENTRY_CHECK(cpu, !(exit & EXIT_SAVE_PREEMPTION_TIMER));
	ENTRY_CHECK(cpu, msr_area_ok(VMCS_GET(v, VM_EXIT_MSR_STORE_ADDR),
				     VMCS_GET(v, VM_EXIT_MSR_STORE_COUNT)));
	ENTRY_CHECK(cpu, msr_area_ok(VMCS_GET(v, VM_EXIT_MSR_LOAD_ADDR),
				     VMCS_GET(v, VM_EXIT_MSR_LOAD_COUNT)));
	return true;
}

/* Exceptions that deliver an error code (SDM 28.2.1.3: 8, 10-14, 17, 21). */
static bool has_error_code(unsigned vector)
{
	return vector == EXC_DF || (vector >= EXC_TS && vector <= EXC_PF) ||
	       vector == EXC_AC || vector == EXC_CP;
}

/* SDM 28.2.1.3: the VM-entry interruption-information field, when valid. */
static bool check_injection(struct cpu *cpu, const struct vmcs *v, uint32_t info)
{
	unsigned type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	unsigned vector = info & INTR_INFO_VECTOR_MASK;
	bool deliver = info & INTR_INFO_DELIVER_CODE;
	/* Type 1 is reserved; type 7 (other event) needs the monitor trap flag, which
	 * this silicon supports. */
	ENTRY_CHECK(cpu, type != 1);
	if (type == INTR_TYPE_NMI)
		ENTRY_CHECK(cpu, vector == EXC_NMI);
	if (type == INTR_TYPE_HW_EXCEPTION)
		ENTRY_CHECK(cpu, vector <= 31);
	if (type == INTR_TYPE_OTHER_EVENT)
		ENTRY_CHECK(cpu, vector == 0); /* pending MTF VM exit */
	/* Deliver-error-code is 1 iff "unrestricted guest" is 0 or guest CR0.PE is 1,
	 * the type is hardware exception and the vector is one with an error code. */
	bool prot = !(vmx_proc2_of(v) & PROC2_UNRESTRICTED_GUEST) ||
		    (VMCS_GET(v, GUEST_CR0) & CR0_PE);
	ENTRY_CHECK(cpu, deliver == (prot && type == INTR_TYPE_HW_EXCEPTION &&
				     has_error_code(vector)));
	ENTRY_CHECK(cpu, !(info & 0x7FFFF000u)); /* bits 30:12 reserved */
	if (deliver) /* bits 31:16 of the error code are 0 */
		ENTRY_CHECK(cpu, !(VMCS_GET(v, VM_ENTRY_EXCEPTION_ERROR_CODE) & 0xFFFF0000u));
	/* Software interrupts and exceptions: instruction length 0-15 (0 is allowed
	 * because IA32_VMX_MISC bit 30 is 1). */
	if (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_PRIV_SW_EXCEPTION ||
	    type == INTR_TYPE_SW_EXCEPTION)
		ENTRY_CHECK(cpu, VMCS_GET(v, VM_ENTRY_INSTRUCTION_LEN) <= 15);
	return true;
}

/* SDM 28.2.1.3: checks on VM-entry control fields. */
static bool check_entry_controls(struct cpu *cpu, const struct vmcs *v)
{
	uint32_t entry = (uint32_t)VMCS_GET(v, VM_ENTRY_CONTROLS);
	uint32_t info = (uint32_t)VMCS_GET(v, VM_ENTRY_INTR_INFO_FIELD);
	/* Reserved bits; "entry to SMM" and "deactivate dual-monitor treatment" are not
	 * allowed-1 (no SMM), which also covers their rules outside SMM. */
	ENTRY_CHECK(cpu, ctl_fits(entry, VMX_ENTRY_MUST1, VMX_ENTRY_ALLOWED1));
	if ((info & INTR_INFO_VALID) && !check_injection(cpu, v, info))
		return false;
	ENTRY_CHECK(cpu, msr_area_ok(VMCS_GET(v, VM_ENTRY_MSR_LOAD_ADDR),
				     VMCS_GET(v, VM_ENTRY_MSR_LOAD_COUNT)));
	return true;
}

bool vmx_check_controls(struct cpu *cpu, const struct vmcs *v)
{
	return check_exec_controls(cpu, v) && check_exit_controls(cpu, v) &&
	       check_entry_controls(cpu, v);
}
