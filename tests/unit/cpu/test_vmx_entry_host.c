/*
 * VM entry: the checks on the host-state area (SDM 28.2.2 control registers and
 * MSRs, 28.2.3 segment and descriptor-table registers, 28.2.4 address-space size).
 * They apply to a software VMM only (cpu/vmx.h: a native VMM has no host-state area):
 * the tests put the harness CPU into software-VMM VMX operation by hand and call
 * vmx_vmentry() as VMLAUNCH does after its own checks. Each broken field must give
 * VMfailValid with VM-instruction error 8, "VM entry with invalid host-state
 * field(s)" (SDM 32.4).
 */
#include "vmx_harness.h"

#include "cpu/vmx/vmx_entry.h"

static void reset(void)
{
	vmcs_clear_fields();
	C->vmx.host = VMX_HOST_NATIVE; /* for vw()/vr() */
	C->vmx.non_root = false;
	vmcs_setup_guest64();
	vmcs_setup_host64(KSTACK_TOP, CODE_BASE + 0x100);
}

/* VM entry by a software VMM; the harness's VMREAD/VMWRITE are native. */
static enum vmx_result enter_as_software(void)
{
	C->vmx.host = VMX_HOST_SOFTWARE;
	enum vmx_result r = vmx_vmentry(C, true);
	C->vmx.host = VMX_HOST_NATIVE;
	return r;
}

static void fails_8(int line)
{
	vmx_check_fail_valid(enter_as_software(), VMXERR_ENTRY_INVALID_HOST_STATE_FIELD, line);
}
#define FAILS_8() fails_8(__LINE__)

static void host_passes(int line)
{
	C->vmx.entry_failed_check = NULL;
	bool ok = vmx_check_host_state(C, V);
	if (!ok)
		fprintf(stderr, "line %d: %s\n", line, C->vmx.entry_failed_check);
	CHECK(ok);
}
#define PASSES() host_passes(__LINE__)

/* SDM 28.2.2: host control registers and MSRs. */
static void test_host_regs(void)
{
	reset(); PASSES();
	/* CR0/CR4 fixed bits in VMX operation (App. A.7, A.8; SDM 25.8). */
	reset(); vw(VMCS_HOST_CR0, vr(VMCS_HOST_CR0) & ~CR0_NE); FAILS_8();
	reset(); vw(VMCS_HOST_CR0, vr(VMCS_HOST_CR0) & ~CR0_PG); FAILS_8();
	reset(); vw(VMCS_HOST_CR0, vr(VMCS_HOST_CR0) | BIT(32)); FAILS_8();
	reset(); vw(VMCS_HOST_CR4, vr(VMCS_HOST_CR4) & ~CR4_VMXE); FAILS_8();
	reset(); vw(VMCS_HOST_CR4, vr(VMCS_HOST_CR4) | CR4_LA57); FAILS_8(); /* no LA57 */
	/* CR3: no bits beyond the physical-address width. */
	reset(); vw(VMCS_HOST_CR3, 1ULL << CPU_MAXPHYADDR); FAILS_8();
	/* IA32_SYSENTER_ESP/EIP canonical. */
	reset(); vw(VMCS_HOST_IA32_SYSENTER_ESP, 0x0000800000000000ULL); FAILS_8();
	reset(); vw(VMCS_HOST_IA32_SYSENTER_EIP, 0xFFFF7FFFFFFFFFFFULL); FAILS_8();
	reset(); vw(VMCS_HOST_IA32_SYSENTER_EIP, 0xFFFF800000000000ULL); PASSES();
	/* Load IA32_PERF_GLOBAL_CTRL: reserved bits (all: no counters) 0. */
	reset(); vw(VMCS_VM_EXIT_CONTROLS, vr(VMCS_VM_EXIT_CONTROLS) | EXIT_LOAD_PERF_GLOBAL_CTRL);
	PASSES();
	vw(VMCS_HOST_IA32_PERF_GLOBAL_CTRL, 1); FAILS_8();
	/* Load IA32_PAT: every entry a valid memory type (2 and 3 are reserved). */
	reset(); vw(VMCS_VM_EXIT_CONTROLS, vr(VMCS_VM_EXIT_CONTROLS) | EXIT_LOAD_PAT);
	PASSES();
	vw(VMCS_HOST_IA32_PAT, 0x0007040600070402ULL); FAILS_8();
	vw(VMCS_HOST_IA32_PAT, 0x0807040600070406ULL); FAILS_8();
	/* Load IA32_EFER: reserved bits 0; LMA and LME equal "host address-space size". */
	reset(); vw(VMCS_VM_EXIT_CONTROLS, vr(VMCS_VM_EXIT_CONTROLS) | EXIT_LOAD_EFER);
	PASSES();
	vw(VMCS_HOST_IA32_EFER, C->efer | BIT(2)); FAILS_8();
	vw(VMCS_HOST_IA32_EFER, C->efer & ~EFER_LMA); FAILS_8();
	vw(VMCS_HOST_IA32_EFER, C->efer & ~EFER_LME); FAILS_8();
	/* Without "load IA32_EFER" the field is not looked at. */
	reset(); vw(VMCS_HOST_IA32_EFER, BIT(2)); PASSES();
}

/* SDM 28.2.3: host segment and descriptor-table registers. */
static void test_host_segs(void)
{
	static const uint32_t sel[] = {
		VMCS_HOST_ES_SELECTOR, VMCS_HOST_CS_SELECTOR, VMCS_HOST_SS_SELECTOR,
		VMCS_HOST_DS_SELECTOR, VMCS_HOST_FS_SELECTOR, VMCS_HOST_GS_SELECTOR,
		VMCS_HOST_TR_SELECTOR,
	};
	for (unsigned i = 0; i < sizeof(sel) / sizeof(sel[0]); i++) {
		reset(); vw(sel[i], vr(sel[i]) | 3); FAILS_8(); /* RPL */
		reset(); vw(sel[i], vr(sel[i]) | 4); FAILS_8(); /* TI */
	}
	reset(); vw(VMCS_HOST_CS_SELECTOR, 0); FAILS_8();
	reset(); vw(VMCS_HOST_TR_SELECTOR, 0); FAILS_8();
	/* SS may be 0 with a 64-bit host ("host address-space size" = 1). */
	reset(); vw(VMCS_HOST_SS_SELECTOR, 0); PASSES();
	/* Canonical bases: FS, GS, GDTR, IDTR, TR. */
	static const uint32_t base[] = {
		VMCS_HOST_FS_BASE, VMCS_HOST_GS_BASE, VMCS_HOST_GDTR_BASE,
		VMCS_HOST_IDTR_BASE, VMCS_HOST_TR_BASE,
	};
	for (unsigned i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		reset(); vw(base[i], 0x0001000000000000ULL); FAILS_8();
	}
}

/* SDM 28.2.4: address-space size. */
static void test_addr_size(void)
{
	/* In IA-32e mode the host address-space size must be 1. */
	reset(); vw(VMCS_VM_EXIT_CONTROLS, vr(VMCS_VM_EXIT_CONTROLS) & ~EXIT_HOST_ADDR_SPACE_SIZE);
	FAILS_8();
	/* With it 1: CR4.PAE = 1 and a canonical RIP. */
	reset(); vw(VMCS_HOST_CR4, vr(VMCS_HOST_CR4) & ~CR4_PAE); FAILS_8();
	reset(); vw(VMCS_HOST_RIP, 0x0000900000000000ULL); FAILS_8();
	/* A VMM outside IA-32e mode (32-bit): neither an IA-32e guest nor a 64-bit
	 * host; with both 0, no CR4.PCIDE and RIP bits 63:32 zero. */
	reset(); vmcs_setup_guest32(false);
	vw(VMCS_VM_EXIT_CONTROLS, VMX_EXIT_MUST1);
	vw(VMCS_HOST_CR0, C->cr0 | CR0_NE | CR0_PG);
	vw(VMCS_HOST_CR4, CR4_VMXE);
	vw(VMCS_HOST_CS_SELECTOR, SEL_CODE32);
	vw(VMCS_HOST_RIP, CODE_BASE);
	PASSES();
	vw(VMCS_HOST_SS_SELECTOR, 0); FAILS_8(); /* SS != 0 with a 32-bit host */
	vw(VMCS_HOST_SS_SELECTOR, SEL_DATA32);
	vw(VMCS_HOST_RIP, 1ULL << 32); FAILS_8();
	vw(VMCS_HOST_RIP, CODE_BASE);
	vw(VMCS_HOST_CR4, CR4_VMXE | CR4_PCIDE); FAILS_8();
	vw(VMCS_HOST_CR4, CR4_VMXE);
	vw(VMCS_VM_EXIT_CONTROLS, VMX_EXIT_MUST1 | EXIT_HOST_ADDR_SPACE_SIZE); FAILS_8();
	vw(VMCS_VM_EXIT_CONTROLS, VMX_EXIT_MUST1);
	vw(VMCS_VM_ENTRY_CONTROLS, vr(VMCS_VM_ENTRY_CONTROLS) | ENTRY_IA32E_MODE); FAILS_8();
}

/* SDM 28.2: controls are checked before the host state (7 before 8); a native VMM
 * has no host-state area to check. */
static void test_order(void)
{
	reset(); vw(VMCS_HOST_CR0, 0); vw(VMCS_CR3_TARGET_COUNT, 5);
	CHECK_EQ(enter_as_software(), VMX_FAIL_VALID);
	CHECK_EQ(vr(VMCS_VM_INSTRUCTION_ERROR), VMXERR_ENTRY_INVALID_CONTROL_FIELD);
	/* Native: a broken host state is not looked at; the entry gets to the guest
	 * state, which fails on purpose here (CR0.NE = 0: exit reason 33). */
	reset(); vw(VMCS_HOST_CR0, 0); vw(VMCS_VM_INSTRUCTION_ERROR, 0);
	vw(VMCS_GUEST_CR0, vr(VMCS_GUEST_CR0) & ~CR0_NE);
	CHECK_EQ(vmx_vmlaunch(C), VMX_SUCCEED);
	CHECK_EQ(vr(VMCS_VM_INSTRUCTION_ERROR), 0);
	CHECK_EQ(vr(VMCS_VM_EXIT_REASON), EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_INVALID_STATE);
}

int main(void)
{
	vmx_init();
	B.ram[CODE_BASE] = 0xF4; /* HLT: a wrong success exits at once (reason 12) */
	test_host_regs();
	test_host_segs();
	test_addr_size();
	test_order();
	return report("vmx_entry_host");
}
