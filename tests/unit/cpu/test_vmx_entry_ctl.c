/*
 * VM entry: the checks on the VMX controls (SDM 28.2.1). Each case starts from the
 * harness's valid 64-bit guest, breaks one control and expects VMLAUNCH to fail with
 * VMfailValid and VM-instruction error 7, "VM entry with invalid control field(s)"
 * (SDM 32.4, Table 32-1), without entering the guest.
 */
#include "vmx_harness.h"

#include "cpu/vmx/vmx_entry.h"

/* A fresh, valid VMCS (every field zero, then the harness's guest). */
static void reset(void)
{
	vmcs_clear_fields();
	C->vmx.non_root = false;
	vmcs_setup_guest64();
}

static void set_bits(uint32_t field, uint64_t bits)
{
	vw(field, vr(field) | bits);
}

static void clear_bits(uint32_t field, uint64_t bits)
{
	vw(field, vr(field) & ~bits);
}

/* VMLAUNCH fails with VMfailValid(7) and the guest is not entered. */
static void fails_7(int line)
{
	vmx_check_fail_valid(vmx_vmlaunch(C), VMXERR_ENTRY_INVALID_CONTROL_FIELD, line);
	CHECK_EQ(V->launch_state, VMCS_STATE_CLEAR);
	CHECK(C->vmx.entry_failed_check != NULL);
}
#define FAILS_7() fails_7(__LINE__)

/* The controls pass (the guest-state checks may still be reached). */
static void controls_pass(int line)
{
	C->vmx.entry_failed_check = NULL;
	bool ok = vmx_check_controls(C, V);
	if (!ok)
		fprintf(stderr, "line %d: %s\n", line, C->vmx.entry_failed_check);
	CHECK(ok);
}
#define PASSES() controls_pass(__LINE__)

/* SDM 28.2.1.1: VM-execution control fields. */
static void test_exec_controls(void)
{
	reset();
	PASSES();
	/* Reserved bits against the capability MSRs (App. A.3). */
	reset(); set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, BIT(8)); FAILS_7();
	reset(); clear_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, BIT(1)); FAILS_7(); /* default1 */
	reset(); set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, BIT(0)); FAILS_7();
	reset(); clear_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, BIT(26)); FAILS_7();
	/* CR3-load/store exiting may be 0 (TRUE_PROCBASED_CTLS, A.3.2). */
	reset(); clear_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_CR3_LOAD_EXITING); PASSES();
	/* Unsupported secondary control: VMCS shadowing (A.3.3) ... */
	reset(); vmcs_set_proc2(PROC2_SHADOW_VMCS); FAILS_7();
	/* ... ignored while "activate secondary controls" is 0 (SDM 26.6.2). */
	reset(); vw(VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_SHADOW_VMCS); PASSES();
	/* CR3-target count at most 4 (IA32_VMX_MISC 24:16 = 4). */
	reset(); vw(VMCS_CR3_TARGET_COUNT, 4); PASSES();
	reset(); vw(VMCS_CR3_TARGET_COUNT, 5); FAILS_7();
	CHECK(strstr(C->vmx.entry_failed_check, "CR3_TARGET_COUNT") != NULL);
	/* I/O and MSR bitmaps: 4-KByte aligned, within MAXPHYADDR. */
	reset(); set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_USE_IO_BITMAPS);
	vw(VMCS_IO_BITMAP_A, 0x60000); vw(VMCS_IO_BITMAP_B, 0x61000); PASSES();
	vw(VMCS_IO_BITMAP_A, 0x60800); FAILS_7();
	vw(VMCS_IO_BITMAP_A, 0x60000); vw(VMCS_IO_BITMAP_B, 1ULL << CPU_MAXPHYADDR); FAILS_7();
	reset(); set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_USE_MSR_BITMAPS);
	vw(VMCS_MSR_BITMAP, 0x62000); PASSES();
	vw(VMCS_MSR_BITMAP, 0x62008); FAILS_7();
	/* NMI exiting 0 -> virtual NMIs 0; virtual NMIs 0 -> NMI-window exiting 0. */
	reset(); set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_VIRTUAL_NMIS); FAILS_7();
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING); PASSES();
	reset(); set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_NMI_WINDOW_EXITING); FAILS_7();
	/* Activate VMX-preemption timer is allowed; "save" needs it (28.2.1.2). */
	reset(); set_bits(VMCS_VM_EXIT_CONTROLS, EXIT_SAVE_PREEMPTION_TIMER); FAILS_7();
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPTION_TIMER); PASSES();
}

/* SDM 28.2.1.1: the TPR shadow, the APIC-access page, VPID, EPT, PML, unrestricted. */
static void test_exec_features(void)
{
	/* Use TPR shadow: virtual-APIC page aligned; TPR threshold bits 31:4 zero and,
	 * without "virtualize APIC accesses", bits 3:0 not above VTPR (byte 80H 7:4). */
	reset(); set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_TPR_SHADOW);
	vw(VMCS_VIRTUAL_APIC_PAGE_ADDR, 0x63000);
	B.ram[0x63080] = 0x50; /* VTPR = 5 */
	vw(VMCS_TPR_THRESHOLD, 5); PASSES();
	vw(VMCS_TPR_THRESHOLD, 6); FAILS_7();
	vw(VMCS_TPR_THRESHOLD, 0x10); FAILS_7();
	vw(VMCS_TPR_THRESHOLD, 0); vw(VMCS_VIRTUAL_APIC_PAGE_ADDR, 0x63100); FAILS_7();
	/* With "virtualize APIC accesses" the threshold is not compared with VTPR. */
	vw(VMCS_VIRTUAL_APIC_PAGE_ADDR, 0x63000); vw(VMCS_TPR_THRESHOLD, 6);
	vmcs_set_proc2(PROC2_VIRTUALIZE_APIC_ACCESSES); vw(VMCS_APIC_ACCESS_ADDR, 0x64000);
	PASSES();
	vw(VMCS_APIC_ACCESS_ADDR, 0x64010); FAILS_7();
	/* Enable VPID: VPID != 0. */
	reset(); vmcs_set_proc2(PROC2_ENABLE_VPID); FAILS_7();
	vw(VMCS_VIRTUAL_PROCESSOR_ID, 1); PASSES();
	/* Enable EPT: the EPTP (26.6.11): WB/UC, walk length 4, bits 11:7 zero. */
	reset(); vmcs_set_proc2(PROC2_ENABLE_EPT);
	uint64_t eptp = vmx_ept_identity();
	vw(VMCS_EPT_POINTER, eptp); PASSES();
	vw(VMCS_EPT_POINTER, (eptp & ~7ULL) | 1); FAILS_7();          /* WC */
	vw(VMCS_EPT_POINTER, (eptp & ~0x38ULL) | (4ULL << 3)); FAILS_7(); /* 5 levels */
	vw(VMCS_EPT_POINTER, eptp | BIT(8)); FAILS_7();                /* reserved */
	vw(VMCS_EPT_POINTER, eptp | EPTP_AD_ENABLE); PASSES();         /* A/D: cap 21 */
	/* PML needs EPT and an aligned PML address. */
	reset(); vmcs_set_proc2(PROC2_ENABLE_PML); vw(VMCS_PML_ADDRESS, 0x65000); FAILS_7();
	vmcs_set_proc2(PROC2_ENABLE_PML | PROC2_ENABLE_EPT); vw(VMCS_EPT_POINTER, eptp); PASSES();
	vw(VMCS_PML_ADDRESS, 0x65001); FAILS_7();
	/* Unrestricted guest needs EPT. */
	reset(); vmcs_set_proc2(PROC2_UNRESTRICTED_GUEST); FAILS_7();
	vmcs_set_proc2(PROC2_UNRESTRICTED_GUEST | PROC2_ENABLE_EPT); vw(VMCS_EPT_POINTER, eptp);
	PASSES();
}

/* SDM 28.2.1.2: VM-exit control fields. */
static void test_exit_controls(void)
{
	reset(); set_bits(VMCS_VM_EXIT_CONTROLS, EXIT_CLEAR_BNDCFGS); FAILS_7(); /* not allowed-1 */
	reset(); clear_bits(VMCS_VM_EXIT_CONTROLS, BIT(0)); FAILS_7(); /* default1 */
	reset(); clear_bits(VMCS_VM_EXIT_CONTROLS, EXIT_SAVE_DEBUG_CONTROLS); PASSES();
	/* MSR-store and MSR-load areas: 16-byte aligned, last byte within MAXPHYADDR. */
	reset(); vw(VMCS_VM_EXIT_MSR_STORE_COUNT, 1); vw(VMCS_VM_EXIT_MSR_STORE_ADDR, 0x66008);
	FAILS_7();
	vw(VMCS_VM_EXIT_MSR_STORE_ADDR, 0x66010); PASSES();
	reset(); vw(VMCS_VM_EXIT_MSR_LOAD_COUNT, 2);
	vw(VMCS_VM_EXIT_MSR_LOAD_ADDR, (1ULL << CPU_MAXPHYADDR) - 16); FAILS_7();
	vw(VMCS_VM_EXIT_MSR_LOAD_COUNT, 1); PASSES();
	/* A zero count does not look at the address. */
	reset(); vw(VMCS_VM_EXIT_MSR_LOAD_ADDR, 0x66001); PASSES();
}

static void inject(uint32_t info, uint32_t err, uint32_t len)
{
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, info);
	vw(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, err);
	vw(VMCS_VM_ENTRY_INSTRUCTION_LEN, len);
}

#define INFO(type, vec) (INTR_INFO_VALID | ((uint32_t)(type) << INTR_INFO_TYPE_SHIFT) | (vec))

/* SDM 28.2.1.3: VM-entry control fields and the event to inject. */
static void test_entry_controls(void)
{
	reset(); set_bits(VMCS_VM_ENTRY_CONTROLS, ENTRY_SMM); FAILS_7(); /* no SMM */
	reset(); set_bits(VMCS_VM_ENTRY_CONTROLS, BIT(20)); FAILS_7();    /* reserved */
	reset(); clear_bits(VMCS_VM_ENTRY_CONTROLS, BIT(12)); FAILS_7();  /* default1 */
	reset(); clear_bits(VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG_CONTROLS); PASSES();
	/* Interruption type 1 is reserved. */
	reset(); inject(INFO(1, 0x20), 0, 0); FAILS_7();
	/* NMI: vector 2. Hardware exception: vector <= 31. Other event: vector 0. */
	reset(); inject(INFO(INTR_TYPE_NMI, 2), 0, 0); PASSES();
	reset(); inject(INFO(INTR_TYPE_NMI, 3), 0, 0); FAILS_7();
	reset(); inject(INFO(INTR_TYPE_HW_EXCEPTION, 32), 0, 0); FAILS_7();
	reset(); inject(INFO(INTR_TYPE_OTHER_EVENT, 0), 0, 0); PASSES();
	reset(); inject(INFO(INTR_TYPE_OTHER_EVENT, 1), 0, 0); FAILS_7();
	/* Deliver-error-code iff a protected-mode hardware exception 8, 10-14, 17, 21. */
	reset(); inject(INFO(INTR_TYPE_HW_EXCEPTION, EXC_GP) | INTR_INFO_DELIVER_CODE, 0, 0);
	PASSES();
	reset(); inject(INFO(INTR_TYPE_HW_EXCEPTION, EXC_GP), 0, 0); FAILS_7();
	reset(); inject(INFO(INTR_TYPE_HW_EXCEPTION, EXC_UD) | INTR_INFO_DELIVER_CODE, 0, 0);
	FAILS_7();
	reset(); inject(INFO(INTR_TYPE_SW_INTR, 0x80) | INTR_INFO_DELIVER_CODE, 0, 2); FAILS_7();
	/* Real-mode unrestricted guest: no error code, even for #GP. */
	reset(); vmcs_setup_guest_real();
	inject(INFO(INTR_TYPE_HW_EXCEPTION, EXC_GP), 0, 0); PASSES();
	inject(INFO(INTR_TYPE_HW_EXCEPTION, EXC_GP) | INTR_INFO_DELIVER_CODE, 0, 0); FAILS_7();
	/* Reserved bits 30:12; error code bits 31:16. */
	reset(); inject(INFO(INTR_TYPE_EXT_INTR, 0x20) | BIT(12), 0, 0); FAILS_7();
	reset(); inject(INFO(INTR_TYPE_HW_EXCEPTION, EXC_PF) | INTR_INFO_DELIVER_CODE,
			0x10000, 0);
	FAILS_7();
	/* Software interrupt/exceptions: length 0-15 (0 allowed: IA32_VMX_MISC bit 30). */
	reset(); inject(INFO(INTR_TYPE_SW_INTR, 0x80), 0, 0); PASSES();
	reset(); inject(INFO(INTR_TYPE_SW_EXCEPTION, EXC_BP), 0, 15); PASSES();
	reset(); inject(INFO(INTR_TYPE_PRIV_SW_EXCEPTION, EXC_DB), 0, 16); FAILS_7();
	/* An invalid field is ignored when the valid bit is 0. */
	reset(); inject(0x7FFFFFFF, 0xFFFFFFFF, 99); PASSES();
	/* VM-entry MSR-load area: 16-byte aligned. */
	reset(); vw(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1); vw(VMCS_VM_ENTRY_MSR_LOAD_ADDR, 0x67004);
	FAILS_7();
}

/* SDM 28.2.1 precedes everything, and VMRESUME uses the same checks. */
static void test_order(void)
{
	/* A control error wins over a guest-state error (CR0.NE = 0). */
	reset(); vw(VMCS_GUEST_CR0, vr(VMCS_GUEST_CR0) & ~CR0_NE);
	vw(VMCS_CR3_TARGET_COUNT, 9); FAILS_7();
	reset(); V->launch_state = VMCS_STATE_LAUNCHED; vw(VMCS_CR3_TARGET_COUNT, 9);
	CHECK_EQ(vmx_vmresume(C), VMX_FAIL_VALID);
	CHECK_EQ(vr(VMCS_VM_INSTRUCTION_ERROR), VMXERR_ENTRY_INVALID_CONTROL_FIELD);
}

int main(void)
{
	vmx_init();
	B.ram[CODE_BASE] = 0xF4; /* HLT: a wrong success exits at once (reason 12) */
	test_exec_controls();
	test_exec_features();
	test_exit_controls();
	test_entry_controls();
	test_order();
	return report("vmx_entry_ctl");
}
