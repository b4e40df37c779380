/*
 * VM entry: loading the guest state (SDM 28.3.2), the VM-entry MSR-load list (28.4)
 * and the state VM entry establishes (28.7), then a tiny guest run to its first exit.
 * The state is compared right after vmx_vmentry() (VMLAUNCH after its own checks);
 * vmx_run_native() then runs the guest, a HLT, to exit reason 12 (HLT exiting).
 */
#include "vmx_harness.h"

#include "cpu/debug.h"
#include "cpu/msr.h"
#include "cpu/vmx/vmx_entry.h"

#define GUEST_RIP (CODE_BASE + 0x10)
#define MSR_AREA 0x69000ULL

static void reset(void)
{
	vmcs_clear_fields();
	C->vmx.non_root = false;
	C->halted = C->wait_for_sipi = false;
	vmcs_setup_guest64();
	B.ram[GUEST_RIP] = 0xF4;     /* HLT */
	B.ram[GUEST_RIP + 1] = 0xF4; /* HLT */
	vw(VMCS_GUEST_RIP, GUEST_RIP);
}

static void enter(int line)
{
	vmx_entry_succeeds(line);
	CHECK(C->vmx.non_root);
}
#define ENTER() enter(__LINE__)

/* The guest-state area and controls test_load_64 enters with: values the harness CPU
 * does not hold, so that the checks below see them loaded. */
static void write_guest_state_64(void)
{
	C->cr0 |= CR0_CD | CR0_NW; /* never modified by VM entry */
	vw(VMCS_GUEST_CR0, CR0_PE | CR0_NE | CR0_PG | CR0_WP | CR0_MP);
	vw(VMCS_GUEST_CR4, CR4_PAE | CR4_VMXE | CR4_PGE);
	vw(VMCS_GUEST_RSP, 0x7777000);
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_CF | RFLAGS_ZF | RFLAGS_IF | RFLAGS_DF);
	vw(VMCS_GUEST_FS_SELECTOR, 0);
	vw(VMCS_GUEST_FS_AR_BYTES, AR_UNUSABLE);
	vw(VMCS_GUEST_FS_BASE, 0x123000);       /* loaded even though unusable */
	vw(VMCS_GUEST_GS_BASE, 0xFFFF800000001000ULL);
	vw(VMCS_GUEST_GDTR_LIMIT, 0x77);
	vw(VMCS_GUEST_IDTR_LIMIT, 0xABC);
	vw(VMCS_GUEST_SYSENTER_CS, 0x10);
	vw(VMCS_GUEST_SYSENTER_ESP, 0xABC000);
	vw(VMCS_GUEST_SYSENTER_EIP, 0xDEF000);
	vw(VMCS_VM_ENTRY_CONTROLS, vr(VMCS_VM_ENTRY_CONTROLS) | ENTRY_LOAD_PAT |
					   ENTRY_LOAD_DEBUG_CONTROLS);
	vw(VMCS_GUEST_IA32_PAT, 0x0606060606060606ULL);
	vw(VMCS_GUEST_DR7, 0x400 | BIT(8) | BIT(12) | BIT(14)); /* 12, 14 forced to 0 */
	vw(VMCS_GUEST_IA32_DEBUGCTL, 1);
	vw(VMCS_EXCEPTION_BITMAP, BIT(EXC_PF));
	vw(VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
	vw(VMCS_CR0_READ_SHADOW, CR0_TS);
	vw(VMCS_TSC_OFFSET, 0x1000);
}

/* SDM 28.3.2.1-28.3.2.3: exactly the guest-state area went into the CPU. */
static void check_loaded_state_64(void)
{
	CHECK_EQ(C->cr0, CR0_PE | CR0_NE | CR0_PG | CR0_WP | CR0_MP | CR0_ET | CR0_CD | CR0_NW);
	CHECK_EQ(C->cr3, PT_BASE);
	CHECK_EQ(C->cr4, CR4_PAE | CR4_VMXE | CR4_PGE);
	CHECK_EQ(C->efer, VMCS_GET(V, GUEST_IA32_EFER));
	CHECK_EQ(C->rip, GUEST_RIP);
	CHECK_EQ(C->gpr[RSP], 0x7777000);
	CHECK_EQ(cpu_get_rflags(C),
		 RFLAGS_FIXED1 | RFLAGS_CF | RFLAGS_ZF | RFLAGS_IF | RFLAGS_DF);
	CHECK_EQ(C->mode, MODE_LONG64);
	CHECK_EQ(C->cpl, 0);
	CHECK_EQ(C->seg[SEG_CS].sel, SEL_CODE64);
	CHECK_EQ(C->seg[SEG_CS].ar, VMCS_GET(V, GUEST_CS_AR_BYTES));
	CHECK_EQ(C->seg[SEG_SS].limit, VMCS_GET(V, GUEST_SS_LIMIT));
	CHECK(C->seg[SEG_FS].ar & AR_UNUSABLE);
	CHECK_EQ(C->seg[SEG_FS].base, 0x123000);
	CHECK_EQ(C->seg[SEG_GS].base, 0xFFFF800000001000ULL);
	CHECK_EQ(C->tr.sel, SEL_TSS);
	CHECK_EQ(C->tr.base, TSS_BASE);
	CHECK(C->ldtr.ar & AR_UNUSABLE);
	CHECK_EQ(C->gdtr.limit, 0x77);
	CHECK_EQ(C->idtr.limit, 0xABC);
	CHECK_EQ(C->idtr.base, IDT_BASE);
	CHECK_EQ(C->sysenter_cs, 0x10);
	CHECK_EQ(C->sysenter_esp, 0xABC000);
	CHECK_EQ(C->sysenter_eip, 0xDEF000);
	CHECK_EQ(C->pat, 0x0606060606060606ULL);
	CHECK_EQ(C->dr[7], 0x500);
	CHECK_EQ(C->debugctl, 1);
}

/* SDM 32.3 VMLAUNCH "Operation": the launch state, and what VM entry cached. */
static void check_launched(void)
{
	/* SDM 32.3 VMLAUNCH: the launch state becomes "launched". */
	CHECK_EQ(V->launch_state, VMCS_STATE_LAUNCHED);
	/* The cached controls (vmx_state.h). */
	CHECK_EQ(C->vmx.ctl.proc, VMCS_GET(V, CPU_BASED_VM_EXEC_CONTROL));
	CHECK_EQ(C->vmx.ctl.exception_bitmap, BIT(EXC_PF));
	CHECK_EQ(C->vmx.ctl.cr0_mask, CR0_TS);
	CHECK_EQ(C->vmx.ctl.cr0_shadow, CR0_TS);
	CHECK_EQ(C->vmx.ctl.tsc_offset, 0x1000);
	CHECK_EQ(C->vmx.ctl.proc2, 0); /* secondary controls not activated */
	CHECK(!C->halted);
	CHECK_EQ(C->intr_shadow, 0);
}

/* The guest runs to its exits; VMLAUNCH/VMRESUME against the launch state (SDM 32.3). */
static void check_run_and_relaunch(void)
{
	/* The tiny guest: HLT exits with reason 12 at its own RIP, length 1 (SDM
	 * 27.1.3, 29.2.5). */
	CHECK_EQ(vmx_run_native(C), VMX_SUCCEED);
	CHECK_EQ(vr(VMCS_VM_EXIT_REASON), EXIT_REASON_HLT);
	CHECK_EQ(vr(VMCS_GUEST_RIP), GUEST_RIP);
	CHECK_EQ(vr(VMCS_VM_EXIT_INSTRUCTION_LEN), 1);
	CHECK(!C->vmx.non_root);
	/* VMRESUME of the launched VMCS, one instruction further: the second HLT. */
	vw(VMCS_GUEST_RIP, GUEST_RIP + 1);
	CHECK_EQ(vmx_vmresume(C), VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_HLT);
	CHECK_EQ(vr(VMCS_GUEST_RIP), GUEST_RIP + 1);
	/* VMLAUNCH of a launched VMCS: VMfailValid(4) (SDM 32.3). */
	CHECK_EQ(vmx_vmlaunch(C), VMX_FAIL_VALID);
	CHECK_EQ(vr(VMCS_VM_INSTRUCTION_ERROR), VMXERR_VMLAUNCH_NONCLEAR_VMCS);
	/* VMRESUME of a clear one: VMfailValid(5). */
	CHECK_EQ(vmx_vmclear(C, V), VMX_SUCCEED);
	CHECK_EQ(vmx_vmptrld(C, V), VMX_SUCCEED);
	CHECK_EQ(vmx_vmresume(C), VMX_FAIL_VALID);
	CHECK_EQ(vr(VMCS_VM_INSTRUCTION_ERROR), VMXERR_VMRESUME_NONLAUNCHED_VMCS);
	/* No current VMCS: VMfailInvalid. */
	CHECK_EQ(vmx_vmclear(C, V), VMX_SUCCEED);
	CHECK_EQ(vmx_vmlaunch(C), VMX_FAIL_INVALID);
	CHECK_EQ(vmx_vmptrld(C, V), VMX_SUCCEED);
}

static void test_load_64(void)
{
	reset();
	write_guest_state_64();
	ENTER();
	check_loaded_state_64();
	check_launched();
	check_run_and_relaunch();
}

/* SDM 28.3.2.1: without "load IA32_EFER", LMA and LME follow "IA-32e mode guest". */
static void test_efer_from_control(void)
{
	reset();
	vw(VMCS_VM_ENTRY_CONTROLS, vr(VMCS_VM_ENTRY_CONTROLS) & ~ENTRY_LOAD_EFER);
	C->efer = EFER_SCE; /* the host's: LMA/LME replaced, the rest kept */
	ENTER();
	CHECK_EQ(C->efer, EFER_SCE | EFER_LMA | EFER_LME);
	CHECK_EQ(C->mode, MODE_LONG64);
}

/* SDM 28.3.2.4 (28.3.1.6): 32-bit PAE guests get their PDPTE registers from CR3
 * without EPT, from the guest PDPTE fields with EPT. */
static void test_load_32(void)
{
	vmcs_clear_fields();
	C->vmx.non_root = false;
	vmcs_setup_guest32(true);
	B.ram[CODE_BASE] = 0xF4;
	vw(VMCS_GUEST_RIP, CODE_BASE);
	ENTER();
	CHECK_EQ(C->mode, MODE_PROT32);
	CHECK_EQ(C->efer, 0);
	CHECK_EQ(C->tlb.pdpte[0], (VMX_PDPT_BASE + PAGE_SIZE) | 1);
	CHECK_EQ(C->tlb.pdpte_cr3, VMX_PDPT_BASE | 1);
	CHECK_EQ(vmx_run_native(C), VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_HLT);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE);
	/* With EPT: the fields (here a present entry the table at CR3 does not have). */
	V->launch_state = VMCS_STATE_CLEAR;
	vmcs_set_proc2(PROC2_ENABLE_EPT);
	vw(VMCS_EPT_POINTER, vmx_ept_identity());
	vw(VMCS_GUEST_PDPTR0, (VMX_PDPT_BASE + PAGE_SIZE) | 1);
	vw(VMCS_GUEST_PDPTR2, 0x71000 | 1);
	ENTER();
	CHECK_EQ(C->tlb.pdpte[2], 0x71000 | 1);
	CHECK_EQ(C->vmx.ctl.eptp, VMCS_GET(V, EPT_POINTER));
	CHECK_EQ(vmx_run_native(C), VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_HLT);
}

/* A real-mode guest with "unrestricted guest" runs its HLT too. */
static void test_load_real(void)
{
	vmcs_clear_fields();
	C->vmx.non_root = false;
	vmcs_setup_guest_real();
	B.ram[CODE_BASE] = 0xF4;
	ENTER();
	CHECK_EQ(C->mode, MODE_REAL);
	CHECK_EQ(C->cr0 & (CR0_PE | CR0_PG), 0);
	CHECK_EQ(C->seg[SEG_CS].base, CODE_BASE);
	CHECK_EQ(vmx_run_native(C), VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_HLT);
	CHECK_EQ(vr(VMCS_GUEST_RIP), 0);
}

/* SDM 28.7.1: interruptibility state (blocking by STI, MOV SS, NMI). */
static void test_interruptibility(void)
{
	reset();
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI | INTERRUPTIBILITY_NMI);
	ENTER();
	CHECK_EQ(C->intr_shadow, 1);
	CHECK_EQ(C->intr_shadow_kind, SHADOW_STI);
	CHECK(C->nmi_blocked);
	reset();
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS);
	ENTER();
	CHECK_EQ(C->intr_shadow_kind, SHADOW_MOVSS);
	CHECK(!C->nmi_blocked);
}

/* SDM 28.7.2: activity state HLT and wait-for-SIPI (IA32_VMX_MISC bits 6, 8). */
static void test_activity(void)
{
	reset();
	vw(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	ENTER();
	CHECK(C->halted);
	reset();
	vw(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI);
	ENTER();
	CHECK(C->wait_for_sipi);
	C->wait_for_sipi = false;
}

/* SDM 28.7.3: pending debug exceptions. */
static void test_pending_dbg(void)
{
	/* A pending single-step (BS) is a #DB trap before the first instruction; with
	 * bit 1 of the exception bitmap it exits (reason 0) at the guest RIP with the
	 * condition as qualification (SDM 28.7.3, 29.2.1 Table 29-1). */
	reset();
	vw(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
	vw(VMCS_EXCEPTION_BITMAP, BIT(EXC_DB));
	ENTER();
	CHECK_EQ(C->dbg.pending, DR6_BS);
	CHECK(C->events & CPU_EV_DBTRAP);
	CHECK_EQ(vmx_run_native(C), VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO) & 0xFFF, (INTR_TYPE_HW_EXCEPTION << 8) | EXC_DB);
	CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), DR6_BS);
	CHECK_EQ(vr(VMCS_GUEST_RIP), GUEST_RIP);
	/* B0-B3 alone are not valid pending debug exceptions; with the enabled-
	 * breakpoint bit (12) they are (SDM 28.7.3). */
	reset();
	vw(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 1);
	ENTER();
	CHECK(!(C->events & CPU_EV_DBTRAP));
	reset();
	vw(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 1 | PENDING_DBG_ENABLED_BP);
	ENTER();
	CHECK_EQ(C->dbg.pending, 1);
	CHECK(C->events & CPU_EV_DBTRAP);
	/* Ignored by an entry into wait-for-SIPI. */
	reset();
	vw(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
	vw(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI);
	ENTER();
	CHECK(!(C->events & CPU_EV_DBTRAP));
	C->wait_for_sipi = false;
}

/* SDM 28.7.4, 27.5.1: the VMX-preemption timer at 0 exits (reason 52) before the
 * first instruction. */
static void test_preemption_timer_at_entry(void)
{
	reset();
	vw(VMCS_PIN_BASED_VM_EXEC_CONTROL, VMX_PIN_MUST1 | PIN_PREEMPTION_TIMER);
	vw(VMCS_VMX_PREEMPTION_TIMER_VALUE, 0);
	ENTER();
	CHECK(C->vmx.preempt_active);
	CHECK_EQ(vmx_run_native(C), VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_PREEMPTION_TIMER);
	CHECK_EQ(vr(VMCS_GUEST_RIP), GUEST_RIP);
}

static void msr_entry(unsigned i, uint64_t index, uint64_t data)
{
	*ram64(MSR_AREA + 16 * i) = index;
	*ram64(MSR_AREA + 16 * i + 8) = data;
}

/* The VM-entry MSR-load list must fail with exit reason 34 | bit 31 and the 1-based
 * index of the bad entry as qualification (SDM 28.4, 28.8). */
static void msr_load_fails(uint32_t count, uint64_t qual, int line)
{
	vw(VMCS_VM_ENTRY_MSR_LOAD_ADDR, MSR_AREA);
	vw(VMCS_VM_ENTRY_MSR_LOAD_COUNT, count);
	V->launch_state = VMCS_STATE_CLEAR;
	C->nmi_blocked = true; /* SDM 28.8: as before the entry afterwards */
	CHECK_EQ(vmx_vmlaunch(C), VMX_SUCCEED);
	uint64_t reason = vr(VMCS_VM_EXIT_REASON), q = vr(VMCS_EXIT_QUALIFICATION);
	if (reason != (EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_MSR_LOAD_FAIL) || q != qual)
		fprintf(stderr, "line %d: reason 0x%" PRIx64 " qual %" PRIu64 "\n", line,
			reason, q);
	CHECK_EQ(reason, EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_MSR_LOAD_FAIL);
	CHECK_EQ(q, qual);
	CHECK_EQ(V->launch_state, VMCS_STATE_CLEAR);
	CHECK(!C->vmx.non_root);
	CHECK(C->nmi_blocked);
	C->nmi_blocked = false;
}
#define MSR_LOAD_FAILS(n, q) msr_load_fails((n), (q), __LINE__)

static void test_msr_load(void)
{
	/* Entries are loaded in order, after the guest-state fields (SYSENTER_CS). */
	reset();
	msr_entry(0, MSR_IA32_SYSENTER_CS, 0x33);
	msr_entry(1, MSR_IA32_STAR, 0x0023001000000000ULL);
	vw(VMCS_GUEST_SYSENTER_CS, 0x10);
	vw(VMCS_VM_ENTRY_MSR_LOAD_ADDR, MSR_AREA);
	vw(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 2);
	ENTER();
	CHECK_EQ(C->sysenter_cs, 0x33);
	CHECK_EQ(C->star, 0x0023001000000000ULL);
	/* Failures: FS.base/GS.base; the x2APIC range; reserved bits 63:32 of the
	 * entry; an MSR WRMSR would refuse (unknown, or a reserved EFER bit). */
	reset();
	msr_entry(1, MSR_IA32_FS_BASE, 0); MSR_LOAD_FAILS(2, 2);
	msr_entry(1, MSR_IA32_GS_BASE, 0); MSR_LOAD_FAILS(2, 2);
	msr_entry(1, 0x808, 0); MSR_LOAD_FAILS(2, 2);
	msr_entry(1, MSR_IA32_STAR | (1ULL << 32), 0); MSR_LOAD_FAILS(2, 2);
	msr_entry(0, 0x12345678, 0); MSR_LOAD_FAILS(1, 1);
	msr_entry(0, MSR_IA32_EFER, EFER_LMA | EFER_LME | BIT(3)); MSR_LOAD_FAILS(2, 1);
	/* More than the recommended maximum of 512 entries (IA32_VMX_MISC 27:25):
	 * this silicon fails at the first extra one. */
	for (unsigned i = 0; i < 513; i++)
		msr_entry(i, MSR_IA32_SYSENTER_CS, i);
	MSR_LOAD_FAILS(513, 513);
	/* A guest-state failure comes before any MSR is loaded (SDM 28.3 before 28.4). */
	reset();
	msr_entry(0, MSR_IA32_FS_BASE, 0);
	vw(VMCS_GUEST_CR0, vr(VMCS_GUEST_CR0) & ~CR0_NE);
	vw(VMCS_VM_ENTRY_MSR_LOAD_ADDR, MSR_AREA);
	vw(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1);
	CHECK_EQ(vmx_vmlaunch(C), VMX_SUCCEED);
	CHECK_EQ(vr(VMCS_VM_EXIT_REASON), EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_INVALID_STATE);
}

int main(void)
{
	vmx_init();
	test_load_64();
	test_efer_from_control();
	test_load_32();
	test_load_real();
	test_interruptibility();
	test_activity();
	test_pending_dbg();
	test_preemption_timer_at_entry();
	test_msr_load();
	return report("vmx_entry_load");
}
