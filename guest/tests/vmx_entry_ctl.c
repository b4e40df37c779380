/*
 * vmx_entry_ctl - a hypervisor kernel that makes VM entry fail on purpose on the
 * checks of the VMX controls (SDM 28.2.1: VMfailValid, error 7) and of the host-state
 * area (28.2.2-28.2.4: VMfailValid, error 8) that vmx_entry does not reach, one check
 * at a time (vmx_entry_cases.h). Every value that depends on the processor (allowed
 * control settings, fixed CR bits, physical-address width, EPT capabilities) comes
 * from CPUID and the IA32_VMX_* MSRs (App. A).
 */
#include "vmx_entry_cases.h"

#define PRIM MSR_IA32_VMX_PROCBASED_CTLS
#define SEC MSR_IA32_VMX_PROCBASED_CTLS2
#define CPU VMCS_CPU_BASED_VM_EXEC_CONTROL
#define CPU2 VMCS_SECONDARY_VM_EXEC_CONTROL
#define SEC_ON { EC_OR, CPU, PROC_SECONDARY_CONTROLS }

static void run_all(void)
{
	uint64_t bey = ec_beyond(), ept_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	uint64_t page = vmx_pa(alloc_page()), page2 = vmx_pa(alloc_page());
	uint64_t *pml4 = alloc_page();
	/* A valid EPTP (SDM 26.6.11): WB if supported else UC, 4-level walk, no A/D. */
	uint64_t eptp = vmx_pa(pml4) | (ept_cap & BIT(14) ? 6 : 0) | (3 << 3);
	/* Bits of each control that may not be 1 / must be 1 (App. A.3-A.5). */
	uint32_t prim_must1 = (uint32_t)vmx_ctl_cap(PRIM);
	uint32_t prim_not1 = ~(uint32_t)(vmx_ctl_cap(PRIM) >> 32);
	uint32_t pin_must1 = (uint32_t)vmx_ctl_cap(MSR_IA32_VMX_PINBASED_CTLS);
	uint32_t exit_must1 = (uint32_t)vmx_ctl_cap(MSR_IA32_VMX_EXIT_CTLS) & ~EXIT_HOST_ADDR_SPACE_SIZE;
	uint32_t entry_must1 = (uint32_t)vmx_ctl_cap(MSR_IA32_VMX_ENTRY_CTLS) & ~ENTRY_IA32E_MODE;
	uint32_t sec_not1 = ~(uint32_t)(vmx_ctl_cap(SEC) >> 32);
	uint32_t exit_not1 = ~(uint32_t)(vmx_ctl_cap(MSR_IA32_VMX_EXIT_CTLS) >> 32);
	uint32_t entry_not1 = ~(uint32_t)(vmx_ctl_cap(MSR_IA32_VMX_ENTRY_CTLS) >> 32);
	uint64_t cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0) & ~(uint64_t)CR0_NE;
	uint64_t cr4_not1 = ~rdmsr(MSR_IA32_VMX_CR4_FIXED1) & 0xffffffffull;
	uint8_t *vapic = phys_ptr(page2);
	memset(vapic, 0, 4096); /* VTPR 0 */
	const char *no_must1 = prim_must1 ? NULL : "no must-be-1 primary control";
	const char *all1 = "every bit may be 1";
	struct entry_case cases[] = {
		/* Controls: the settings the failing cases start from, valid. */
		{ "control: I/O bitmaps A and B aligned",
		  { { EC_OR, CPU, PROC_USE_IO_BITMAPS }, { EC_SET, VMCS_IO_BITMAP_A, page },
		    { EC_SET, VMCS_IO_BITMAP_B, page } }, OK, PRIM, PROC_USE_IO_BITMAPS },
		{ "control: MSR bitmap aligned",
		  { { EC_OR, CPU, PROC_USE_MSR_BITMAPS }, { EC_SET, VMCS_MSR_BITMAP, page } }, OK, PRIM,
		  PROC_USE_MSR_BITMAPS },
		{ "control: TPR shadow, threshold 0 <= VTPR",
		  { { EC_OR, CPU, PROC_TPR_SHADOW }, { EC_SET, VMCS_VIRTUAL_APIC_PAGE_ADDR, page2 },
		    { EC_SET, VMCS_TPR_THRESHOLD, 0 } }, OK, PRIM, PROC_TPR_SHADOW },
		{ "control: virtualize APIC accesses, aligned APIC-access address",
		  { SEC_ON, { EC_SET, CPU2, PROC2_VIRTUALIZE_APIC_ACCESSES },
		    { EC_SET, VMCS_APIC_ACCESS_ADDR, page } }, OK, SEC, PROC2_VIRTUALIZE_APIC_ACCESSES },
		{ "control: host IA32_PAT and IA32_EFER loaded at exit (valid)",
		  { { EC_OR, VMCS_VM_EXIT_CONTROLS, EXIT_LOAD_PAT | EXIT_LOAD_EFER } }, OK,
		  MSR_IA32_VMX_EXIT_CTLS, EXIT_LOAD_PAT | EXIT_LOAD_EFER },
		{ "control: guest RFLAGS.IF = 1", { { EC_SET, VMCS_GUEST_RFLAGS, 0x202 } }, OK },
		/* SDM 28.2.1.1: VM-execution control fields. */
		{ "28.2.1.1 primary control must-be-1 bit cleared",
		  { { EC_ANDN, CPU, ec_lowest(prim_must1) } }, V7, 0, 0, no_must1 },
		{ "28.2.1.1 primary control not allowed-1",
		  { { EC_OR, CPU, ec_lowest(prim_not1) } }, V7, 0, 0, prim_not1 ? NULL : all1 },
		{ "28.2.1.1 pin-based control must-be-1 bit cleared",
		  { { EC_ANDN, VMCS_PIN_BASED_VM_EXEC_CONTROL, ec_lowest(pin_must1) } }, V7, 0, 0,
		  pin_must1 ? NULL : "no must-be-1 pin-based control" },
		{ "28.2.1.1 PML address beyond the physical-address width",
		  { SEC_ON, { EC_SET, CPU2, PROC2_ENABLE_PML | PROC2_ENABLE_EPT },
		    { EC_SET, VMCS_EPT_POINTER, eptp }, { EC_SET, VMCS_PML_ADDRESS, bey } }, V7, SEC,
		  PROC2_ENABLE_PML | PROC2_ENABLE_EPT },
		{ "28.2.1.1 secondary control not allowed-1",
		  { SEC_ON, { EC_SET, CPU2, ec_lowest(sec_not1) } }, V7, 0, 0, sec_not1 ? NULL : all1 },
		{ "28.2.1.1 I/O bitmap B not 4-KByte aligned",
		  { { EC_OR, CPU, PROC_USE_IO_BITMAPS }, { EC_SET, VMCS_IO_BITMAP_A, page },
		    { EC_SET, VMCS_IO_BITMAP_B, page + 0x800 } }, V7, PRIM, PROC_USE_IO_BITMAPS },
		{ "28.2.1.1 I/O bitmap A beyond the physical-address width",
		  { { EC_OR, CPU, PROC_USE_IO_BITMAPS }, { EC_SET, VMCS_IO_BITMAP_A, bey },
		    { EC_SET, VMCS_IO_BITMAP_B, page } }, V7, PRIM, PROC_USE_IO_BITMAPS },
		{ "28.2.1.1 MSR bitmap not 4-KByte aligned",
		  { { EC_OR, CPU, PROC_USE_MSR_BITMAPS }, { EC_SET, VMCS_MSR_BITMAP, page + 8 } }, V7,
		  PRIM, PROC_USE_MSR_BITMAPS },
		{ "28.2.1.1 MSR bitmap beyond the physical-address width",
		  { { EC_OR, CPU, PROC_USE_MSR_BITMAPS }, { EC_SET, VMCS_MSR_BITMAP, bey } }, V7, PRIM,
		  PROC_USE_MSR_BITMAPS },
		{ "28.2.1.1 virtual-APIC address not 4-KByte aligned",
		  { { EC_OR, CPU, PROC_TPR_SHADOW }, { EC_SET, VMCS_VIRTUAL_APIC_PAGE_ADDR, page2 + 0x80 } },
		  V7, PRIM, PROC_TPR_SHADOW },
		{ "28.2.1.1 TPR threshold bits 31:4 not 0",
		  { { EC_OR, CPU, PROC_TPR_SHADOW }, { EC_SET, VMCS_VIRTUAL_APIC_PAGE_ADDR, page2 },
		    { EC_SET, VMCS_TPR_THRESHOLD, 0x10 } }, V7, PRIM, PROC_TPR_SHADOW },
		{ "28.2.1.1 TPR threshold above VTPR[7:4]",
		  { { EC_OR, CPU, PROC_TPR_SHADOW }, { EC_SET, VMCS_VIRTUAL_APIC_PAGE_ADDR, page2 },
		    { EC_SET, VMCS_TPR_THRESHOLD, 1 } }, V7, PRIM, PROC_TPR_SHADOW },
		{ "28.2.1.1 APIC-access address not 4-KByte aligned",
		  { SEC_ON, { EC_SET, CPU2, PROC2_VIRTUALIZE_APIC_ACCESSES },
		    { EC_SET, VMCS_APIC_ACCESS_ADDR, page + 0x10 } }, V7, SEC,
		  PROC2_VIRTUALIZE_APIC_ACCESSES },
		{ "28.2.1.1 APIC-access address beyond the physical-address width",
		  { SEC_ON, { EC_SET, CPU2, PROC2_VIRTUALIZE_APIC_ACCESSES },
		    { EC_SET, VMCS_APIC_ACCESS_ADDR, bey } }, V7, SEC, PROC2_VIRTUALIZE_APIC_ACCESSES },
		{ "28.2.1.1 EPTP memory type 2 (not UC or WB)",
		  { SEC_ON, { EC_SET, CPU2, PROC2_ENABLE_EPT },
		    { EC_SET, VMCS_EPT_POINTER, (eptp & ~7ull) | 2 } }, V7, SEC, PROC2_ENABLE_EPT },
		{ "28.2.1.1 EPTP page-walk length 1",
		  { SEC_ON, { EC_SET, CPU2, PROC2_ENABLE_EPT },
		    { EC_SET, VMCS_EPT_POINTER, eptp & ~0x38ull } }, V7, SEC, PROC2_ENABLE_EPT },
		{ "28.2.1.1 EPTP reserved bit 7",
		  { SEC_ON, { EC_SET, CPU2, PROC2_ENABLE_EPT },
		    { EC_SET, VMCS_EPT_POINTER, eptp | BIT(7) } }, V7, SEC, PROC2_ENABLE_EPT },
		{ "28.2.1.1 EPTP beyond the physical-address width",
		  { SEC_ON, { EC_SET, CPU2, PROC2_ENABLE_EPT },
		    { EC_SET, VMCS_EPT_POINTER, eptp | bey } }, V7, SEC, PROC2_ENABLE_EPT },
		{ "28.2.1.1 EPTP A/D enable without IA32_VMX_EPT_VPID_CAP[21]",
		  { SEC_ON, { EC_SET, CPU2, PROC2_ENABLE_EPT },
		    { EC_SET, VMCS_EPT_POINTER, eptp | EPTP_AD_ENABLE } }, V7, SEC, PROC2_ENABLE_EPT,
		  ept_cap & BIT(21) ? "EPT A/D flags supported" : NULL },
		{ "28.2.1.1 enable PML without enable EPT",
		  { SEC_ON, { EC_SET, CPU2, PROC2_ENABLE_PML }, { EC_SET, VMCS_PML_ADDRESS, page } }, V7,
		  SEC, PROC2_ENABLE_PML },
		{ "28.2.1.1 PML address not 4-KByte aligned",
		  { SEC_ON, { EC_SET, CPU2, PROC2_ENABLE_PML | PROC2_ENABLE_EPT },
		    { EC_SET, VMCS_PML_ADDRESS, page + 0x100 } }, V7, SEC,
		  PROC2_ENABLE_PML | PROC2_ENABLE_EPT },
		{ "28.2.1.1 virtualize x2APIC mode with virtualize APIC accesses",
		  { SEC_ON, { EC_SET, CPU2, PROC2_VIRTUALIZE_X2APIC_MODE | PROC2_VIRTUALIZE_APIC_ACCESSES },
		    { EC_OR, CPU, PROC_TPR_SHADOW } }, V7, SEC,
		  PROC2_VIRTUALIZE_X2APIC_MODE | PROC2_VIRTUALIZE_APIC_ACCESSES },
		{ "28.2.1.1 virtualize x2APIC mode without use TPR shadow",
		  { SEC_ON, { EC_SET, CPU2, PROC2_VIRTUALIZE_X2APIC_MODE } }, V7, SEC,
		  PROC2_VIRTUALIZE_X2APIC_MODE },
		/* SDM 28.2.1.2: VM-exit control fields. */
		{ "28.2.1.2 VM-exit control not allowed-1",
		  { { EC_OR, VMCS_VM_EXIT_CONTROLS, ec_lowest(exit_not1) } }, V7, 0, 0,
		  exit_not1 ? NULL : all1 },
		{ "28.2.1.2 VM-exit control must-be-1 bit cleared",
		  { { EC_ANDN, VMCS_VM_EXIT_CONTROLS, ec_lowest(exit_must1) } }, V7, 0, 0,
		  exit_must1 ? NULL : "no must-be-1 VM-exit control" },
		{ "28.2.1.2 VM-exit MSR-store area's last byte beyond the physical-address width",
		  { { EC_SET, VMCS_VM_EXIT_MSR_STORE_COUNT, 2 },
		    { EC_SET, VMCS_VM_EXIT_MSR_STORE_ADDR, bey - 16 } }, V7 },
		{ "28.2.1.2 VM-exit MSR-load area not 16-byte aligned",
		  { { EC_SET, VMCS_VM_EXIT_MSR_LOAD_COUNT, 1 },
		    { EC_SET, VMCS_VM_EXIT_MSR_LOAD_ADDR, page + 4 } }, V7 },
		{ "28.2.1.2 VM-exit MSR-store area beyond the physical-address width",
		  { { EC_SET, VMCS_VM_EXIT_MSR_STORE_COUNT, 1 },
		    { EC_SET, VMCS_VM_EXIT_MSR_STORE_ADDR, bey } }, V7 },
		{ "28.2.1.2 VM-exit MSR-load area beyond the physical-address width",
		  { { EC_SET, VMCS_VM_EXIT_MSR_LOAD_COUNT, 1 },
		    { EC_SET, VMCS_VM_EXIT_MSR_LOAD_ADDR, bey } }, V7 },
		/* SDM 28.2.1.3: VM-entry control fields. */
		{ "28.2.1.3 VM-entry control not allowed-1",
		  { { EC_OR, VMCS_VM_ENTRY_CONTROLS, ec_lowest(entry_not1) } }, V7, 0, 0,
		  entry_not1 ? NULL : all1 },
		{ "28.2.1.3 VM-entry control must-be-1 bit cleared",
		  { { EC_ANDN, VMCS_VM_ENTRY_CONTROLS, ec_lowest(entry_must1) } }, V7, 0, 0,
		  entry_must1 ? NULL : "no must-be-1 VM-entry control" },
		{ "28.2.1.3 VM-entry MSR-load area beyond the physical-address width",
		  { { EC_SET, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1 },
		    { EC_SET, VMCS_VM_ENTRY_MSR_LOAD_ADDR, bey } }, V7 },
		{ "28.2.1.3 injected NMI with vector 3",
		  { { EC_SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000203 } }, V7 },
		{ "28.2.1.3 injected hardware exception with vector 32",
		  { { EC_SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000320 } }, V7 },
		{ "28.2.1.3 injection with reserved bit 12",
		  { { EC_SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80001020 },
		    { EC_SET, VMCS_GUEST_RFLAGS, 0x202 } }, V7 },
		{ "28.2.1.3 external interrupt injected with deliver error code",
		  { { EC_SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000820 },
		    { EC_SET, VMCS_GUEST_RFLAGS, 0x202 } }, V7 },
		{ "28.2.1.3 #UD injected with deliver error code",
		  { { EC_SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000b06 } }, V7 },
		{ "28.2.1.3 injected error code with bits 31:16 set",
		  { { EC_SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000b0d },
		    { EC_SET, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0x10000 } }, V7 },
		{ "28.2.1.3 other event (type 7) with vector 1",
		  { { EC_SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000701 } }, V7 },
		{ "28.2.1.3 privileged software exception with length 0",
		  { { EC_SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000501 },
		    { EC_SET, VMCS_VM_ENTRY_INSTRUCTION_LEN, 0 } }, V7, 0, 0,
		  rdmsr(MSR_IA32_VMX_MISC) & BIT(30) ? "IA32_VMX_MISC[30]: length 0 allowed" : NULL },
		/* SDM 28.2.2: host control registers and MSRs. */
		{ "28.2.2 host CR0 fixed-0 bit cleared",
		  { { EC_ANDN, VMCS_HOST_CR0, ec_lowest(cr0_fixed0) } }, V8, 0, 0,
		  cr0_fixed0 ? NULL : "no CR0 fixed-0 bit but NE" },
		{ "28.2.2 host CR4 bit not allowed by IA32_VMX_CR4_FIXED1",
		  { { EC_OR, VMCS_HOST_CR4, ec_lowest(cr4_not1) } }, V8, 0, 0,
		  cr4_not1 ? NULL : "every CR4 bit allowed" },
		{ "28.2.2 host IA32_SYSENTER_ESP not canonical",
		  { { EC_SET, VMCS_HOST_IA32_SYSENTER_ESP, NC } }, V8 },
		{ "28.2.2 host IA32_PAT with memory type 2",
		  { { EC_OR, VMCS_VM_EXIT_CONTROLS, EXIT_LOAD_PAT }, { EC_SET, VMCS_HOST_IA32_PAT, 2 } },
		  V8, MSR_IA32_VMX_EXIT_CTLS, EXIT_LOAD_PAT },
		{ "28.2.2 host IA32_EFER reserved bit 3",
		  { { EC_OR, VMCS_VM_EXIT_CONTROLS, EXIT_LOAD_EFER }, { EC_OR, VMCS_HOST_IA32_EFER, 8 } },
		  V8, MSR_IA32_VMX_EXIT_CTLS, EXIT_LOAD_EFER },
		{ "28.2.2 host IA32_EFER.LMA differs from host address-space size",
		  { { EC_OR, VMCS_VM_EXIT_CONTROLS, EXIT_LOAD_EFER },
		    { EC_ANDN, VMCS_HOST_IA32_EFER, EFER_LMA } }, V8, MSR_IA32_VMX_EXIT_CTLS,
		  EXIT_LOAD_EFER },
		/* SDM 28.2.3: host segment and descriptor-table registers. */
		{ "28.2.3 host SS selector with TI = 1", { { EC_OR, VMCS_HOST_SS_SELECTOR, 4 } }, V8 },
		{ "28.2.3 host DS selector with RPL 1", { { EC_OR, VMCS_HOST_DS_SELECTOR, 1 } }, V8 },
		{ "28.2.3 host TR selector with TI = 1", { { EC_OR, VMCS_HOST_TR_SELECTOR, 4 } }, V8 },
		{ "28.2.3 host CS selector 0", { { EC_SET, VMCS_HOST_CS_SELECTOR, 0 } }, V8 },
		{ "28.2.3 host FS base not canonical", { { EC_SET, VMCS_HOST_FS_BASE, NC } }, V8 },
		{ "28.2.3 host GS base not canonical", { { EC_SET, VMCS_HOST_GS_BASE, NC } }, V8 },
		{ "28.2.3 host TR base not canonical", { { EC_SET, VMCS_HOST_TR_BASE, NC } }, V8 },
		{ "28.2.3 host IDTR base not canonical", { { EC_SET, VMCS_HOST_IDTR_BASE, NC } }, V8 },
		/* SDM 28.2.4: address-space size. */
		{ "28.2.4 host address-space size with host CR4.PAE = 0",
		  { { EC_ANDN, VMCS_HOST_CR4, CR4_PAE } }, V8 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		ec_run(&cases[i]);
}

int main(void)
{
	if (!ec_setup("vmx_entry_ctl") || !ec_baseline_enters())
		return 0;
	run_all();
	check_eq(read_cr4() & CR4_VMXE, CR4_VMXE, "host CR4 after the failed entries");
	return 0;
}
