/*
 * vmx_entry_guest - a hypervisor kernel that makes VM entry fail on purpose on the
 * checks of the guest-state area (SDM 28.3.1) that vmx_entry does not reach, one
 * check at a time (vmx_entry_cases.h): each is a VM-entry failure VM exit, reason 33
 * with bit 31 set, qualification 0, or 4 for the VMCS link pointer (SDM 28.8). The
 * guest is this kernel's IA-32e world (IA-32e mode guest = 1, CS.L = 1). Processor-
 * dependent values (fixed CR bits, activity states, physical-address width, allowed
 * controls) come from CPUID and the IA32_VMX_* MSRs (App. A).
 */
#include "vmx_entry_cases.h"

#define ENTRY MSR_IA32_VMX_ENTRY_CTLS
#define PIN MSR_IA32_VMX_PINBASED_CTLS
#define ECTL VMCS_VM_ENTRY_CONTROLS
#define INTR VMCS_GUEST_INTERRUPTIBILITY_INFO
#define ACT VMCS_GUEST_ACTIVITY_STATE
#define PEND VMCS_GUEST_PENDING_DBG_EXCEPTIONS
#define IF_ON { EC_SET, VMCS_GUEST_RFLAGS, 0x202 }

static void run_all(void)
{
	uint64_t misc = rdmsr(MSR_IA32_VMX_MISC), bey = ec_beyond();
	uint64_t cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	uint64_t cr4_not1 = ~rdmsr(MSR_IA32_VMX_CR4_FIXED1) & 0xffffffffull;
	uint16_t ds = vmx_selector(VMX_DS);
	/* Activity states (SDM 26.4.2 Table 26-3): 1 HLT, 2 shutdown, 3 wait-for-SIPI,
	 * supported as IA32_VMX_MISC bits 6-8 say (App. A.6). */
	uint64_t unsupported = 0;
	for (int s = 3; s >= 1; s--)
		if (!(misc & BIT(5 + s)))
			unsupported = s;
	const char *no_hlt = misc & BIT(6) ? NULL : "activity state HLT not supported";
	const char *no_sipi = misc & BIT(8) ? NULL : "activity state wait-for-SIPI not supported";
	const char *no_ds = ds ? NULL : "DS holds a null selector";
	/* A region with the revision identifier and the shadow-VMCS indicator (bit 31),
	 * for the link pointer while "VMCS shadowing" is 0; a PAE page-directory-pointer
	 * table whose first entry is present with reserved bit 1 set (SDM 4.4.1). */
	uint32_t *shadow = vmx_region();
	shadow[0] |= BIT(31);
	uint64_t *pdpt = alloc_page();
	memset(pdpt, 0, 4096);
	pdpt[0] = vmx_pa(alloc_page()) | 1 | 2;
	bool pcide = rdmsr(MSR_IA32_VMX_CR4_FIXED1) & CR4_PCIDE;
	struct entry_case cases[] = {
		/* Controls: the settings the failing cases start from, valid. */
		{ "control: load debug controls, DEBUGCTL 0, DR7 400H",
		  { { EC_OR, ECTL, ENTRY_LOAD_DEBUG_CONTROLS }, { EC_SET, VMCS_GUEST_IA32_DEBUGCTL, 0 } },
		  OK, ENTRY, ENTRY_LOAD_DEBUG_CONTROLS },
		{ "control: load IA32_PAT and IA32_EFER with this kernel's values",
		  { { EC_OR, ECTL, ENTRY_LOAD_PAT | ENTRY_LOAD_EFER } }, OK, ENTRY,
		  ENTRY_LOAD_PAT | ENTRY_LOAD_EFER },
		{ "control: usable LDTR (selector 40H, LDT type 2, present)",
		  { { EC_SET, VMCS_GUEST_LDTR_SELECTOR, 0x40 }, { EC_SET, VMCS_GUEST_LDTR_AR_BYTES, 0x82 },
		    { EC_SET, VMCS_GUEST_LDTR_LIMIT, 0xff } }, OK },
		{ "control: compatibility-mode CS (L = 0, D = 1), RIP below 4G",
		  { { EC_SET, VMCS_GUEST_CS_AR_BYTES, 0xc09b } }, OK },
		{ "control: blocking by STI with RFLAGS.IF = 1",
		  { IF_ON, { EC_SET, INTR, INTERRUPTIBILITY_STI } }, OK },
		{ "control: blocking by MOV SS",
		  { { EC_SET, INTR, INTERRUPTIBILITY_MOV_SS } }, OK },
		{ "control: blocking by NMI with virtual NMIs, nothing injected",
		  { { EC_OR, VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS },
		    { EC_SET, INTR, INTERRUPTIBILITY_NMI } }, OK, PIN, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS },
		{ "control: DS type 3 (accessed read/write data)",
		  { { EC_SET, VMCS_GUEST_DS_AR_BYTES, 0xc093 } }, OK, 0, 0, no_ds },
		{ "control: CS type 9 (execute-only, accessed)",
		  { { EC_SET, VMCS_GUEST_CS_AR_BYTES, 0xa099 } }, OK },
		{ "control: CS type 15 (conforming), DPL 0 = SS.DPL",
		  { { EC_SET, VMCS_GUEST_CS_AR_BYTES, 0xa09f } }, OK },
		{ "control: TR limit FFFFFH with G = 0", { { EC_SET, VMCS_GUEST_TR_LIMIT, 0xfffff } },
		  OK },
		/* SDM 28.3.1.1: control registers, debug registers and MSRs. */
		{ "28.3.1.1 guest CR0.PE = 0 with CR0.PG = 1", { { EC_ANDN, VMCS_GUEST_CR0, CR0_PE } },
		  X33(0) },
		{ "28.3.1.1 guest CR4 fixed-0 bit cleared",
		  { { EC_ANDN, VMCS_GUEST_CR4, ec_lowest(cr4_fixed0) } }, X33(0), 0, 0,
		  cr4_fixed0 ? NULL : "no CR4 fixed-0 bit" },
		{ "28.3.1.1 guest CR4 bit not allowed by IA32_VMX_CR4_FIXED1",
		  { { EC_OR, VMCS_GUEST_CR4, ec_lowest(cr4_not1) } }, X33(0), 0, 0,
		  cr4_not1 ? NULL : "every CR4 bit allowed" },
		{ "28.3.1.1 guest CR3 beyond the physical-address width",
		  { { EC_OR, VMCS_GUEST_CR3, bey } }, X33(0) },
		{ "28.3.1.1 guest DR7 bit 32 with load debug controls",
		  { { EC_OR, ECTL, ENTRY_LOAD_DEBUG_CONTROLS }, { EC_SET, VMCS_GUEST_IA32_DEBUGCTL, 0 },
		    { EC_SET, VMCS_GUEST_DR7, 0x400 | BIT(32) } }, X33(0), ENTRY,
		  ENTRY_LOAD_DEBUG_CONTROLS },
		{ "28.3.1.1 guest IA32_DEBUGCTL reserved bit 2 with load debug controls",
		  { { EC_OR, ECTL, ENTRY_LOAD_DEBUG_CONTROLS }, { EC_SET, VMCS_GUEST_IA32_DEBUGCTL, 4 } },
		  X33(0), ENTRY, ENTRY_LOAD_DEBUG_CONTROLS },
		{ "28.3.1.1 guest IA32_SYSENTER_ESP not canonical",
		  { { EC_SET, VMCS_GUEST_SYSENTER_ESP, NC } }, X33(0) },
		{ "28.3.1.1 guest IA32_SYSENTER_EIP not canonical",
		  { { EC_SET, VMCS_GUEST_SYSENTER_EIP, NC } }, X33(0) },
		{ "28.3.1.1 guest IA32_PAT with memory type 2 (load IA32_PAT)",
		  { { EC_OR, ECTL, ENTRY_LOAD_PAT }, { EC_SET, VMCS_GUEST_IA32_PAT, 0x0606060606060602ull } },
		  X33(0), ENTRY, ENTRY_LOAD_PAT },
		{ "28.3.1.1 guest IA32_EFER.LMA = 0 in an IA-32e guest (load IA32_EFER)",
		  { { EC_OR, ECTL, ENTRY_LOAD_EFER }, { EC_ANDN, VMCS_GUEST_IA32_EFER, EFER_LMA } },
		  X33(0), ENTRY, ENTRY_LOAD_EFER },
		{ "28.3.1.1 guest IA32_EFER reserved bit 3 (load IA32_EFER)",
		  { { EC_OR, ECTL, ENTRY_LOAD_EFER }, { EC_OR, VMCS_GUEST_IA32_EFER, 8 } }, X33(0),
		  ENTRY, ENTRY_LOAD_EFER },
		/* SDM 28.3.1.2: segment registers (IA-32e guest, not virtual-8086). */
		{ "28.3.1.2 guest SS.RPL differs from CS.RPL",
		  { { EC_OR, VMCS_GUEST_SS_SELECTOR, 3 } }, X33(0) },
		{ "28.3.1.2 guest CS type 10 (not accessed)",
		  { { EC_ANDN, VMCS_GUEST_CS_AR_BYTES, 1 } }, X33(0) },
		{ "28.3.1.2 guest CS.S = 0", { { EC_ANDN, VMCS_GUEST_CS_AR_BYTES, 0x10 } }, X33(0) },
		{ "28.3.1.2 guest CS not present", { { EC_ANDN, VMCS_GUEST_CS_AR_BYTES, 0x80 } },
		  X33(0) },
		{ "28.3.1.2 guest CS access rights bits 11:8 not 0",
		  { { EC_OR, VMCS_GUEST_CS_AR_BYTES, 0xf00 } }, X33(0) },
		{ "28.3.1.2 guest CS access rights bit 17 set",
		  { { EC_OR, VMCS_GUEST_CS_AR_BYTES, 0x20000 } }, X33(0) },
		{ "28.3.1.2 guest CS limit FFFFFFFFH with G = 0",
		  { { EC_ANDN, VMCS_GUEST_CS_AR_BYTES, 0x8000 } }, X33(0) },
		{ "28.3.1.2 guest CS limit bits 11:0 not all 1 with G = 1",
		  { { EC_SET, VMCS_GUEST_CS_LIMIT, 0xfffff000 } }, X33(0) },
		{ "28.3.1.2 guest CS.DPL 3 differs from SS.DPL (type 11)",
		  { { EC_OR, VMCS_GUEST_CS_AR_BYTES, 0x60 } }, X33(0) },
		{ "28.3.1.2 guest CS base bits 63:32 not 0",
		  { { EC_SET, VMCS_GUEST_CS_BASE, 1ull << 32 } }, X33(0) },
		{ "28.3.1.2 guest SS type 1 (read-only data)",
		  { { EC_SET, VMCS_GUEST_SS_AR_BYTES, 0xc091 } }, X33(0) },
		{ "28.3.1.2 guest SS.DPL 3 differs from its RPL",
		  { { EC_OR, VMCS_GUEST_SS_AR_BYTES, 0x60 } }, X33(0) },
		{ "28.3.1.2 guest DS type 2 (usable, not accessed)",
		  { { EC_SET, VMCS_GUEST_DS_AR_BYTES, 0xc092 } }, X33(0), 0, 0, no_ds },
		{ "28.3.1.2 guest DS execute-only code",
		  { { EC_SET, VMCS_GUEST_DS_AR_BYTES, 0xc099 } }, X33(0), 0, 0, no_ds },
		{ "28.3.1.2 guest DS.DPL 0 below its RPL 3",
		  { { EC_OR, VMCS_GUEST_DS_SELECTOR, 3 } }, X33(0), 0, 0, no_ds },
		{ "28.3.1.2 guest DS.S = 0 (usable)",
		  { { EC_ANDN, VMCS_GUEST_DS_AR_BYTES, 0x10 } }, X33(0), 0, 0, no_ds },
		{ "28.3.1.2 guest DS not present (usable)",
		  { { EC_ANDN, VMCS_GUEST_DS_AR_BYTES, 0x80 } }, X33(0), 0, 0, no_ds },
		{ "28.3.1.2 guest DS base bits 63:32 not 0 (usable)",
		  { { EC_SET, VMCS_GUEST_DS_BASE, 1ull << 32 } }, X33(0), 0, 0, no_ds },
		{ "28.3.1.2 guest FS base not canonical (usable or not)",
		  { { EC_SET, VMCS_GUEST_FS_BASE, NC } }, X33(0) },
		{ "28.3.1.2 guest GS base not canonical (usable or not)", { { EC_SET, VMCS_GUEST_GS_BASE, NC } },
		  X33(0) },
		{ "28.3.1.2 guest TR.S = 1", { { EC_OR, VMCS_GUEST_TR_AR_BYTES, 0x10 } }, X33(0) },
		{ "28.3.1.2 guest TR not present", { { EC_ANDN, VMCS_GUEST_TR_AR_BYTES, 0x80 } },
		  X33(0) },
		{ "28.3.1.2 guest TR unusable", { { EC_OR, VMCS_GUEST_TR_AR_BYTES, 0x10000 } }, X33(0) },
		{ "28.3.1.2 guest TR base not canonical", { { EC_SET, VMCS_GUEST_TR_BASE, NC } },
		  X33(0) },
		{ "28.3.1.2 guest TR limit 100000H with G = 0",
		  { { EC_SET, VMCS_GUEST_TR_LIMIT, 0x100000 } }, X33(0) },
		{ "28.3.1.2 guest LDTR usable with TI = 1",
		  { { EC_SET, VMCS_GUEST_LDTR_SELECTOR, 0x44 }, { EC_SET, VMCS_GUEST_LDTR_AR_BYTES, 0x82 },
		    { EC_SET, VMCS_GUEST_LDTR_LIMIT, 0xff } }, X33(0) },
		{ "28.3.1.2 guest LDTR usable with type 3",
		  { { EC_SET, VMCS_GUEST_LDTR_SELECTOR, 0x40 }, { EC_SET, VMCS_GUEST_LDTR_AR_BYTES, 0x83 },
		    { EC_SET, VMCS_GUEST_LDTR_LIMIT, 0xff } }, X33(0) },
		{ "28.3.1.2 guest LDTR usable with S = 1",
		  { { EC_SET, VMCS_GUEST_LDTR_SELECTOR, 0x40 }, { EC_SET, VMCS_GUEST_LDTR_AR_BYTES, 0x92 },
		    { EC_SET, VMCS_GUEST_LDTR_LIMIT, 0xff } }, X33(0) },
		{ "28.3.1.2 guest TR type 3 (16-bit busy TSS) in an IA-32e guest",
		  { { EC_SET, VMCS_GUEST_TR_AR_BYTES, 0x83 } }, X33(0) },
		{ "28.3.1.2 guest LDTR base not canonical (usable)",
		  { { EC_SET, VMCS_GUEST_LDTR_SELECTOR, 0x40 }, { EC_SET, VMCS_GUEST_LDTR_AR_BYTES, 0x82 },
		    { EC_SET, VMCS_GUEST_LDTR_LIMIT, 0xff }, { EC_SET, VMCS_GUEST_LDTR_BASE, NC } },
		  X33(0) },
		{ "28.3.1.2 guest conforming CS.DPL 3 above SS.DPL 0",
		  { { EC_SET, VMCS_GUEST_CS_AR_BYTES, 0xa0ff } }, X33(0) },
		/* SDM 28.3.1.3: descriptor-table registers. */
		{ "28.3.1.3 guest IDTR limit above FFFFH", { { EC_SET, VMCS_GUEST_IDTR_LIMIT, 0x10000 } },
		  X33(0) },
		{ "28.3.1.3 guest IDTR base not canonical", { { EC_SET, VMCS_GUEST_IDTR_BASE, NC } },
		  X33(0) },
		{ "28.3.1.3 guest GDTR base not canonical", { { EC_SET, VMCS_GUEST_GDTR_BASE, NC } },
		  X33(0) },
		/* SDM 28.3.1.4: RIP and RFLAGS. */
		{ "28.3.1.4 guest RFLAGS reserved bit 3", { { EC_SET, VMCS_GUEST_RFLAGS, 0xa } }, X33(0) },
		{ "28.3.1.4 guest RFLAGS reserved bit 15", { { EC_SET, VMCS_GUEST_RFLAGS, 0x8002 } },
		  X33(0) },
		{ "28.3.1.4 guest RFLAGS reserved bit 22", { { EC_SET, VMCS_GUEST_RFLAGS, 0x400002 } },
		  X33(0) },
		{ "28.3.1.4 guest RIP bits 63:32 with CS.L = 0",
		  { { EC_SET, VMCS_GUEST_CS_AR_BYTES, 0xc09b },
		    { EC_SET, VMCS_GUEST_RIP, (uint64_t)(uintptr_t)ec_guest | (1ull << 32) } }, X33(0) },
		/* SDM 28.3.1.5: non-register state. */
		{ "28.3.1.5 activity state not supported by IA32_VMX_MISC[8:6]",
		  { { EC_SET, ACT, unsupported } }, X33(0), 0, 0,
		  unsupported ? NULL : "every activity state supported" },
		{ "28.3.1.5 activity state HLT with blocking by STI",
		  { IF_ON, { EC_SET, INTR, INTERRUPTIBILITY_STI }, { EC_SET, ACT, 1 } }, X33(0), 0, 0,
		  no_hlt },
		{ "28.3.1.5 activity state HLT with SS.DPL 3 (CPL 3 guest, conforming CS)",
		  { { EC_SET, VMCS_GUEST_CS_AR_BYTES, 0xa09f }, { EC_OR, VMCS_GUEST_CS_SELECTOR, 3 },
		    { EC_OR, VMCS_GUEST_SS_SELECTOR, 3 }, { EC_OR, VMCS_GUEST_SS_AR_BYTES, 0x60 },
		    { EC_SET, ACT, 1 } }, X33(0), 0, 0, no_hlt },
		{ "28.3.1.5 blocking by STI and by MOV SS both",
		  { IF_ON, { EC_SET, INTR, INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS } }, X33(0) },
		{ "28.3.1.5 blocking by SMI outside SMM", { { EC_SET, INTR, INTERRUPTIBILITY_SMI } },
		  X33(0) },
		{ "28.3.1.5 external interrupt injected with blocking by STI",
		  { IF_ON, { EC_SET, INTR, INTERRUPTIBILITY_STI },
		    { EC_SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000040 } }, X33(0) },
		{ "28.3.1.5 external interrupt injected with blocking by MOV SS",
		  { IF_ON, { EC_SET, INTR, INTERRUPTIBILITY_MOV_SS },
		    { EC_SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000040 } }, X33(0) },
		{ "28.3.1.5 NMI injected with blocking by MOV SS",
		  { { EC_SET, INTR, INTERRUPTIBILITY_MOV_SS },
		    { EC_SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000202 } }, X33(0) },
		{ "28.3.1.5 NMI injected with blocking by NMI and virtual NMIs",
		  { { EC_OR, VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS },
		    { EC_SET, INTR, INTERRUPTIBILITY_NMI },
		    { EC_SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000202 } }, X33(0), PIN,
		  PIN_NMI_EXITING | PIN_VIRTUAL_NMIS },
		{ "28.3.1.5 event injected into the wait-for-SIPI state",
		  { IF_ON, { EC_SET, ACT, 3 }, { EC_SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000040 } },
		  X33(0), 0, 0, no_sipi },
		{ "28.3.1.5 pending BS = 0 with RFLAGS.TF = 1 and blocking by STI",
		  { { EC_SET, VMCS_GUEST_RFLAGS, 0x302 }, { EC_SET, INTR, INTERRUPTIBILITY_STI } },
		  X33(0) },
		{ "28.3.1.5 pending BS = 1 with RFLAGS.TF = 0 and blocking by STI",
		  { IF_ON, { EC_SET, INTR, INTERRUPTIBILITY_STI }, { EC_SET, PEND, PENDING_DBG_BS } },
		  X33(0) },
		{ "28.3.1.5 pending debug exceptions reserved bit 17",
		  { { EC_SET, PEND, BIT(17) } }, X33(0) },
		{ "28.3.1.5 pending debug exceptions bit 16 (RTM) without bit 12",
		  { { EC_SET, PEND, BIT(16) } }, X33(0) },
		{ "28.3.1.5 VMCS link pointer to a shadow VMCS without VMCS shadowing (qualification 4)",
		  { { EC_SET, VMCS_VMCS_LINK_POINTER, vmx_pa(shadow) } }, X33(4) },
		{ "28.3.1.5 VMCS link pointer beyond the physical-address width (qualification 4)",
		  { { EC_SET, VMCS_VMCS_LINK_POINTER, bey } }, X33(4) },
		/* A 32-bit PAE guest (IA-32e mode guest = 0, compatibility CS, CR3 at the PDPT). */
		{ "28.3.1.1 CR4.PCIDE = 1 in a guest outside IA-32e mode",
		  { { EC_ANDN, ECTL, ENTRY_IA32E_MODE }, { EC_SET, VMCS_GUEST_CS_AR_BYTES, 0xc09b },
		    { EC_OR, VMCS_GUEST_CR4, CR4_PCIDE }, { EC_SET, VMCS_GUEST_CR3, vmx_pa(pdpt) } },
		  X33(0), 0, 0, pcide ? NULL : "CR4.PCIDE not allowed by IA32_VMX_CR4_FIXED1" },
		{ "28.3.1.6 PAE PDPTE 0 with reserved bit 1 (qualification 2)",
		  { { EC_ANDN, ECTL, ENTRY_IA32E_MODE }, { EC_SET, VMCS_GUEST_CS_AR_BYTES, 0xc09b },
		    { EC_ANDN, VMCS_GUEST_CR4, CR4_PCIDE }, { EC_SET, VMCS_GUEST_CR3, vmx_pa(pdpt) } },
		  X33(2) },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		ec_run(&cases[i]);
}

int main(void)
{
	if (!ec_setup("vmx_entry_guest") || !ec_baseline_enters())
		return 0;
	run_all();
	check_eq(read_cr4() & CR4_VMXE, CR4_VMXE, "host CR4 after the failed entries");
	return 0;
}
