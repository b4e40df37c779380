/*
 * VMLAUNCH and VMRESUME as instructions of a software VMM (SDM 32.3): the order of
 * their checks (#UD, #GP(0), VMfailInvalid, VMfailValid 26, 4/5, then VM entry's 7/8),
 * their outcome in RFLAGS (SDM 32.2), and a whole round trip through the run loop:
 * VMLAUNCH enters the guest, the guest's HLT exits (reason 12, HLT exiting), the VM
 * exit loads the host state and the VMM goes on at HOST_RIP.
 *
 * The VMCS is the harness's (built through the native API); the tests then switch the
 * CPU to software-VMM operation, where the silicon's own VMXON would have put it.
 */
#include "vmx_harness.h"

#include "cpu/vmx/vmx_entry.h"

#define GUEST_RIP (CODE_BASE + 0x10)
#define HOST_RIP (CODE_BASE + 0x100)

enum { OK = 0, FAIL_INVALID = 1, FAIL_VALID = 2 };

/* SDM 32.2: VMsucceed clears CF PF AF ZF SF OF; VMfailInvalid sets CF; VMfailValid
 * sets ZF. -1 for anything else. */
static int outcome(void)
{
	uint64_t f = cpu_get_rflags(C) & RFLAGS_ARITH;
	return f == 0 ? OK : f == RFLAGS_CF ? FAIL_INVALID : f == RFLAGS_ZF ? FAIL_VALID : -1;
}

/* A valid guest and host; the CPU as a 64-bit software VMM at CPL cpl. */
static void reset(unsigned cpl)
{
	C->vmx.host = VMX_HOST_NATIVE;
	C->vmx.non_root = false;
	C->vmx.current = V;
	C->halted = false;
	C->intr_shadow = 0;
	C->intr_shadow_kind = 0;
	vmcs_clear_fields();
	vmcs_setup_guest64();
	vw(VMCS_GUEST_RIP, GUEST_RIP);
	vmcs_setup_host64(KSTACK_TOP - 0x100, HOST_RIP);
	B.ram[GUEST_RIP] = 0xF4;        /* guest: HLT (exits) */
	B.ram[HOST_RIP] = 0xF4;         /* host: HLT (halts the CPU) */
	mode_long64(cpl);
	C->cr0 |= CR0_NE;
	C->cr4 |= CR4_VMXE;
	C->vmx.host = VMX_HOST_SOFTWARE;
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_ARITH); /* VMfail/VMsucceed rewrite them */
}

static int launch(bool resume)
{
	struct insn in = insn();
	in.len = 3;
	return run_insn(resume ? exec_VMRESUME : exec_VMLAUNCH, &in);
}

static uint64_t vmcs(enum vmcs_id id)
{
	return vmcs_get(V, id);
}

/* SDM 32.3 VMLAUNCH/VMRESUME "Operation": the checks before VM entry. */
static void test_checks(void)
{
	/* #UD outside VMX operation, and in compatibility mode. */
	reset(0); C->vmx.host = VMX_HOST_NONE;
	CHECK_EQ(launch(false), EXC_UD);
	reset(0); C->seg[SEG_CS].ar &= ~AR_L; C->seg[SEG_CS].ar |= AR_DB; cpu_update_mode(C);
	CHECK_EQ(launch(false), EXC_UD);
	/* #GP(0) at CPL > 0. */
	reset(3);
	CHECK_EXC(launch(false), EXC_GP, 0);
	/* VMfailInvalid without a current VMCS. */
	reset(0); C->vmx.current = NULL;
	CHECK_EQ(launch(false), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_INVALID);
	CHECK_EQ(C->rip, CODE_BASE + 3);
	C->vmx.current = V;
	/* VMfailValid(4): VMLAUNCH of a launched VMCS; (5): VMRESUME of a clear one. */
	reset(0); V->launch_state = VMCS_STATE_LAUNCHED;
	CHECK_EQ(launch(false), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_VALID);
	CHECK_EQ(vmcs(VMCS_ID_VM_INSTRUCTION_ERROR), VMXERR_VMLAUNCH_NONCLEAR_VMCS);
	reset(0);
	CHECK_EQ(launch(true), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_VALID);
	CHECK_EQ(vmcs(VMCS_ID_VM_INSTRUCTION_ERROR), VMXERR_VMRESUME_NONLAUNCHED_VMCS);
	/* VMfailValid(26) in a MOV-SS shadow: the run loop keeps the kind of the
	 * shadow the instruction runs in (exec.c run_single). */
	reset(0); C->intr_shadow = 1; C->intr_shadow_kind = SHADOW_MOVSS;
	CHECK_EQ(launch(false), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_VALID);
	CHECK_EQ(vmcs(VMCS_ID_VM_INSTRUCTION_ERROR), VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS);
	/* 26 comes before 4 (SDM 32.3 order). */
	reset(0); V->launch_state = VMCS_STATE_LAUNCHED;
	C->intr_shadow = 1; C->intr_shadow_kind = SHADOW_MOVSS;
	CHECK_EQ(launch(false), NO_FAULT);
	CHECK_EQ(vmcs(VMCS_ID_VM_INSTRUCTION_ERROR), VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS);
	/* An STI shadow does not block VM entry. */
	reset(0); C->intr_shadow = 1; C->intr_shadow_kind = SHADOW_STI;
	C->vmx.current->field[VMCS_ID_CR3_TARGET_COUNT] = 5; /* stop at the controls */
	CHECK_EQ(launch(false), NO_FAULT);
	CHECK_EQ(vmcs(VMCS_ID_VM_INSTRUCTION_ERROR), VMXERR_ENTRY_INVALID_CONTROL_FIELD);
	/* VM entry's own failures: 7 (controls), 8 (host state). */
	reset(0); V->field[VMCS_ID_HOST_TR_SELECTOR] = 0;
	CHECK_EQ(launch(false), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_VALID);
	CHECK_EQ(vmcs(VMCS_ID_VM_INSTRUCTION_ERROR), VMXERR_ENTRY_INVALID_HOST_STATE_FIELD);
	CHECK(!C->vmx.non_root);
	CHECK_EQ(C->rip, CODE_BASE + 3);
}

/* Bytes at CODE_BASE, then the run loop until the CPU halts. */
static enum cpu_exit run_code(const uint8_t *code, size_t n)
{
	put_bytes(CODE_BASE, code, n);
	C->rip = CODE_BASE;
	return cpu_run(C, 1000);
}

static const uint8_t vmlaunch[] = { 0x0F, 0x01, 0xC2 };
static const uint8_t vmresume[] = { 0x0F, 0x01, 0xC3 };

/* The whole round trip through the run loop. */
static void test_round_trip(void)
{
	reset(0);
	CHECK_EQ(run_code(vmlaunch, sizeof(vmlaunch)), CPU_EXIT_HALTED);
	CHECK_EQ(vmcs(VMCS_ID_VM_EXIT_REASON), EXIT_REASON_HLT);
	CHECK_EQ(vmcs(VMCS_ID_GUEST_RIP), GUEST_RIP);
	CHECK_EQ(V->launch_state, VMCS_STATE_LAUNCHED);
	CHECK(!C->vmx.non_root);
	/* Back in the VMM at HOST_RIP, whose HLT halted the CPU (SDM 29.5.3: RIP and
	 * RSP from the host-state area, RFLAGS = 2). */
	CHECK_EQ(C->rip, HOST_RIP + 1);
	CHECK_EQ(C->gpr[RSP], KSTACK_TOP - 0x100);
	CHECK_EQ(cpu_get_rflags(C), RFLAGS_FIXED1);
	/* VMRESUME: the guest's HLT again. */
	C->halted = false;
	CHECK_EQ(run_code(vmresume, sizeof(vmresume)), CPU_EXIT_HALTED);
	CHECK_EQ(vmcs(VMCS_ID_VM_EXIT_REASON), EXIT_REASON_HLT);
	CHECK_EQ(C->rip, HOST_RIP + 1);
}

/* SDM 32.3: VMRESUME right after MOV SS is VMfailValid(26); out of the shadow it
 * enters. Continues with the VMCS test_round_trip launched. */
static void test_blocked_by_mov_ss(void)
{
	/* MOV SS, AX; VMRESUME: blocked; the next HLT halts the VMM itself. */
	static const uint8_t movss[] = { 0x8E, 0xD0, 0x0F, 0x01, 0xC3, 0xF4 };
	C->halted = false;
	C->gpr[RAX] = SEL_DATA32;
	CHECK_EQ(run_code(movss, sizeof(movss)), CPU_EXIT_HALTED);
	CHECK_EQ(outcome(), FAIL_VALID);
	CHECK_EQ(vmcs(VMCS_ID_VM_INSTRUCTION_ERROR), VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS);
	CHECK_EQ(C->rip, CODE_BASE + sizeof(movss));
	CHECK(!C->vmx.non_root);
	/* A later VMRESUME, out of the shadow, enters again. */
	C->halted = false;
	CHECK_EQ(run_code(vmresume, sizeof(vmresume)), CPU_EXIT_HALTED);
	CHECK_EQ(vmcs(VMCS_ID_VM_EXIT_REASON), EXIT_REASON_HLT);
	/* MOV SS, AX; NOP; VMRESUME: the shadow covers the NOP only. */
	static const uint8_t movss_nop[] = { 0x8E, 0xD0, 0x90, 0x0F, 0x01, 0xC3 };
	C->halted = false;
	V->field[VMCS_ID_VM_EXIT_REASON] = 0;
	CHECK_EQ(run_code(movss_nop, sizeof(movss_nop)), CPU_EXIT_HALTED);
	CHECK_EQ(vmcs(VMCS_ID_VM_EXIT_REASON), EXIT_REASON_HLT);
	CHECK_EQ(C->rip, HOST_RIP + 1);
}

/* The VMM single-steps its VMLAUNCH: no #DB follows into the guest, which runs its
 * HLT (debug traps after entry come from the pending-debug-exceptions field only,
 * SDM 28.7.3). */
static void test_single_stepped_launch(void)
{
	reset(0);
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_TF);
	CHECK_EQ(run_code(vmlaunch, sizeof(vmlaunch)), CPU_EXIT_HALTED);
	CHECK_EQ(vmcs(VMCS_ID_VM_EXIT_REASON), EXIT_REASON_HLT);
	CHECK_EQ(vmcs(VMCS_ID_GUEST_RIP), GUEST_RIP);
}

/* A guest-state failure is a failure exit to HOST_RIP (SDM 28.8). */
static void test_failure_exit(void)
{
	reset(0);
	V->field[VMCS_ID_GUEST_CR0] &= ~(uint64_t)CR0_NE;
	CHECK_EQ(run_code(vmlaunch, sizeof(vmlaunch)), CPU_EXIT_HALTED);
	CHECK_EQ(vmcs(VMCS_ID_VM_EXIT_REASON), EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_INVALID_STATE);
	CHECK_EQ(C->rip, HOST_RIP + 1);
	CHECK_EQ(V->launch_state, VMCS_STATE_CLEAR);
}

int main(void)
{
	vmx_init();
	test_checks();
	test_round_trip();
	test_blocked_by_mov_ss();
	test_single_stepped_launch();
	test_failure_exit();
	return report("vmx_launch");
}
