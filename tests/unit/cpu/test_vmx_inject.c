/*
 * VM entry: event injection (SDM 28.6). The event of the VM-entry interruption-
 * information field is delivered through the guest IDT as if the guest had raised it
 * (28.6.1): the tests enter with vmx_vmentry() (VMLAUNCH after its own checks), look
 * at the guest's state right after delivery, then let the guest run: every handler is
 * a HLT, which exits with reason 12 (HLT exiting, SDM 27.1.3; App. C).
 */
#include "vmx_harness.h"

#include "cpu/vmx/vmx_entry.h"

#define GUEST_RIP (CODE_BASE + 0x10)
#define HANDLER(v) (CODE_BASE + 0x400 + 0x10 * (uint64_t)(v)) /* each a HLT */

#define INFO(type, vec) (INTR_INFO_VALID | ((uint32_t)(type) << INTR_INFO_TYPE_SHIFT) | (vec))

/* A 64-bit guest at GUEST_RIP (a HLT) with interrupt gates for every vector, DPL 3
 * unless gate_dpl0 (for the INT n DPL check). */
static void reset(unsigned cpl, bool gate_dpl0)
{
	vmcs_clear_fields();
	C->vmx.non_root = false;
	C->nmi_blocked = false;
	vmcs_setup_guest64();
	for (int v = 0; v < 256; v++) {
		idt64_set(v, SEL_CODE64, HANDLER(v), 0xE, gate_dpl0 ? 0 : 3, 0);
		B.ram[HANDLER(v)] = 0xF4;
	}
	B.ram[GUEST_RIP] = 0xF4;
	vw(VMCS_GUEST_RIP, GUEST_RIP);
	vw(VMCS_GUEST_RSP, cpl ? USTACK_TOP : KSTACK_TOP);
	if (cpl) {
		vw(VMCS_GUEST_CS_SELECTOR, SEL_UCODE64);
		vw(VMCS_GUEST_CS_AR_BYTES, vr(VMCS_GUEST_CS_AR_BYTES) | (3u << AR_DPL_SHIFT));
		vw(VMCS_GUEST_SS_SELECTOR, SEL_UDATA32);
		vw(VMCS_GUEST_SS_AR_BYTES, vr(VMCS_GUEST_SS_AR_BYTES) | (3u << AR_DPL_SHIFT));
	}
}

static void inject(uint32_t info, uint32_t err, uint32_t len)
{
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, info);
	vw(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, err);
	vw(VMCS_VM_ENTRY_INSTRUCTION_LEN, len);
}

#define ENTER() vmx_entry_succeeds(__LINE__)

/* Run the guest to its next exit; expect the HLT at rip. */
static void runs_to_hlt(uint64_t rip, int line)
{
	enum vmx_result r = vmx_run_native(C);
	if (r != VMX_SUCCEED || exit_reason() != EXIT_REASON_HLT || vr(VMCS_GUEST_RIP) != rip)
		fprintf(stderr, "line %d: run %d reason %u rip 0x%" PRIx64 "\n", line, r,
			exit_reason(), vr(VMCS_GUEST_RIP));
	CHECK_EQ(r, VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_HLT);
	CHECK_EQ(vr(VMCS_GUEST_RIP), rip);
}
#define RUNS_TO_HLT(rip) runs_to_hlt((rip), __LINE__)

/* SDM 28.6.1.1: external interrupt 40H through an interrupt gate: the return address
 * is the guest RIP, IF cleared in the handler, the frame holds RIP, CS, RFLAGS (IF =
 * 1), RSP, SS (SDM 6.14.2). */
static void test_external_interrupt(void)
{
	reset(0, false);
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_CF);
	inject(INFO(INTR_TYPE_EXT_INTR, 0x40), 0, 0);
	ENTER();
	CHECK_EQ(C->rip, HANDLER(0x40));
	CHECK_EQ(C->gpr[RSP], KSTACK_TOP - 40);
	CHECK_EQ(stk64(0), GUEST_RIP);
	CHECK_EQ(stk64(8), SEL_CODE64);
	CHECK_EQ(stk64(16), RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_CF);
	CHECK_EQ(stk64(24), KSTACK_TOP);
	CHECK(!(cpu_get_rflags(C) & RFLAGS_IF));
	CHECK(C->vmx.non_root);
	RUNS_TO_HLT(HANDLER(0x40));
	/* SDM 29.2 (exit): the valid bit of the entry field is cleared by the exit. */
	CHECK(!(vr(VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID));
}

/* SDM 28.6.1.1: hardware exceptions, with and without an error code. */
static void test_hw_exceptions(void)
{
	/* #GP with an error code: pushed after RIP; RF = 1 in the image (fault). */
	reset(0, false);
	inject(INFO(INTR_TYPE_HW_EXCEPTION, EXC_GP) | INTR_INFO_DELIVER_CODE, 0x18, 0);
	ENTER();
	CHECK_EQ(C->rip, HANDLER(EXC_GP));
	CHECK_EQ(stk64(0), 0x18);
	CHECK_EQ(stk64(8), GUEST_RIP);
	CHECK(stk64(24) & RFLAGS_RF);
	RUNS_TO_HLT(HANDLER(EXC_GP));

	/* #PF: the error code is pushed; CR2 is not written by injection (the VMM
	 * loads CR2 itself: there is no CR2 field, SDM 26.4.1). */
	reset(0, false);
	C->cr2 = 0x1234;
	inject(INFO(INTR_TYPE_HW_EXCEPTION, EXC_PF) | INTR_INFO_DELIVER_CODE, PFEC_W, 0);
	ENTER();
	CHECK_EQ(C->rip, HANDLER(EXC_PF));
	CHECK_EQ(stk64(0), PFEC_W);
	CHECK_EQ(C->cr2, 0x1234);

	/* #UD: no error code. */
	reset(0, false);
	inject(INFO(INTR_TYPE_HW_EXCEPTION, EXC_UD), 0, 0);
	ENTER();
	CHECK_EQ(stk64(0), GUEST_RIP);
}

/* SDM 28.6.1.1, 6.7.1: an injected NMI blocks NMIs ... */
static void test_nmi(void)
{
	reset(0, false);
	inject(INFO(INTR_TYPE_NMI, EXC_NMI), 0, 0);
	ENTER();
	CHECK_EQ(C->rip, HANDLER(EXC_NMI));
	CHECK(C->nmi_blocked);
	/* ... or, with virtual NMIs, virtual-NMI blocking is set instead. */
	reset(0, false);
	vw(VMCS_PIN_BASED_VM_EXEC_CONTROL, VMX_PIN_MUST1 | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	inject(INFO(INTR_TYPE_NMI, EXC_NMI), 0, 0);
	ENTER();
	CHECK(C->vmx.virtual_nmi_blocked);
	CHECK(!C->nmi_blocked);
}

/* SDM 28.6.1.1: software interrupts and exceptions push RIP + the VM-entry
 * instruction length; INT n and INT3/INTO check the gate DPL, INT1 does not. */
static void test_sw_events(void)
{
	reset(0, false);
	inject(INFO(INTR_TYPE_SW_INTR, 0x80), 0, 2);
	ENTER();
	CHECK_EQ(C->rip, HANDLER(0x80));
	CHECK_EQ(stk64(0), GUEST_RIP + 2);
	RUNS_TO_HLT(HANDLER(0x80));

	reset(0, false);
	inject(INFO(INTR_TYPE_SW_EXCEPTION, EXC_BP), 0, 1);
	ENTER();
	CHECK_EQ(stk64(0), GUEST_RIP + 1);
	CHECK(!(stk64(16) & RFLAGS_RF));

	/* Length 0 (IA32_VMX_MISC bit 30): the return address is RIP itself. */
	reset(0, false);
	inject(INFO(INTR_TYPE_SW_INTR, 0x81), 0, 0);
	ENTER();
	CHECK_EQ(stk64(0), GUEST_RIP);

	/* CPL 3, gates of DPL 0: INT n raises #GP(vector * 8 + 2), delivered in the
	 * guest (SDM 6.12.1.1, error code per 6.13: IDT bit set, EXT = 0). */
	reset(3, true);
	inject(INFO(INTR_TYPE_SW_INTR, 0x80), 0, 2);
	ENTER();
	CHECK_EQ(C->rip, HANDLER(EXC_GP));
	CHECK_EQ(stk64(0), 0x80 * 8 + 2);
	CHECK_EQ(stk64(8), GUEST_RIP); /* the fault's RIP: the "instruction" */
	CHECK_EQ(C->cpl, 0);
	RUNS_TO_HLT(HANDLER(EXC_GP));
	/* INT3 as a software exception: the same DPL check. */
	reset(3, true);
	inject(INFO(INTR_TYPE_SW_EXCEPTION, EXC_BP), 0, 1);
	ENTER();
	CHECK_EQ(C->rip, HANDLER(EXC_GP));
	/* INT1 (privileged software exception): no DPL check. */
	reset(3, true);
	inject(INFO(INTR_TYPE_PRIV_SW_EXCEPTION, EXC_DB), 0, 1);
	ENTER();
	CHECK_EQ(C->rip, HANDLER(EXC_DB));
	CHECK_EQ(stk64(0), GUEST_RIP + 1);
	CHECK_EQ(stk64(24), USTACK_TOP); /* stack switch to ring 0 */
}

/* SDM 28.7.1, 28.7.2, 28.6.2: a vectoring entry leaves no STI/MOV-SS blocking and
 * the processor active; "other event" makes an MTF VM exit pending, delivering
 * nothing. */
static void test_special(void)
{
	reset(0, false);
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	vw(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	inject(INFO(INTR_TYPE_EXT_INTR, 0x41), 0, 0);
	ENTER();
	CHECK(!C->halted);
	CHECK_EQ(C->rip, HANDLER(0x41));
	RUNS_TO_HLT(HANDLER(0x41));

	reset(0, false);
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI);
	inject(INFO(INTR_TYPE_HW_EXCEPTION, EXC_UD), 0, 0);
	ENTER();
	CHECK_EQ(C->intr_shadow, 0);

	/* Not vectoring: the blocking stays. */
	reset(0, false);
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI);
	ENTER();
	CHECK_EQ(C->intr_shadow, 1);
	CHECK_EQ(C->intr_shadow_kind, SHADOW_STI);

	/* Pending MTF VM exit (reason 37) before the first guest instruction (the HLT
	 * there would exit with reason 12), with the MTF control on and, SDM 28.6.2,
	 * "even if the monitor trap flag VM-execution control is 0". */
	for (int mtf = 1; mtf >= 0; mtf--) {
		reset(0, false);
		if (mtf)
			vw(VMCS_CPU_BASED_VM_EXEC_CONTROL,
			   vr(VMCS_CPU_BASED_VM_EXEC_CONTROL) | PROC_MONITOR_TRAP_FLAG);
		inject(INFO(INTR_TYPE_OTHER_EVENT, 0), 0, 0);
		ENTER();
		CHECK_EQ(C->rip, GUEST_RIP);
		CHECK(C->vmx.mtf_pending);
		CHECK_EQ(vmx_run_native(C), VMX_SUCCEED);
		CHECK_EQ(exit_reason(), EXIT_REASON_MONITOR_TRAP_FLAG);
		CHECK_EQ(vr(VMCS_GUEST_RIP), GUEST_RIP);
	}
}

/* SDM 28.6.1.2: a fault while delivering the injected event is handled as in the
 * guest: a contributory fault during a contributory exception is a #DF (SDM 6.15);
 * with the exception bitmap, the nested fault exits with the injected event as the
 * IDT-vectoring information (SDM 29.2.4). */
static void test_nested(void)
{
	reset(0, false);
	*ram64(IDT_BASE + 16 * EXC_GP) &= ~(1ULL << 47); /* #GP gate not present */
	inject(INFO(INTR_TYPE_HW_EXCEPTION, EXC_GP) | INTR_INFO_DELIVER_CODE, 0, 0);
	ENTER();
	CHECK_EQ(C->rip, HANDLER(EXC_DF));
	CHECK_EQ(stk64(0), 0); /* #DF error code */
	RUNS_TO_HLT(HANDLER(EXC_DF));

	/* An external interrupt whose gate is not present: #NP(vector * 8 + 2 + EXT),
	 * benign first event: delivered serially; with bit 11 of the bitmap it exits. */
	reset(0, false);
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	*ram64(IDT_BASE + 16 * 0x42) &= ~(1ULL << 47);
	vw(VMCS_EXCEPTION_BITMAP, BIT(EXC_NP));
	inject(INFO(INTR_TYPE_EXT_INTR, 0x42), 0, 0);
	CHECK_EQ(vmx_vmlaunch(C), VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO),
		 INFO(INTR_TYPE_HW_EXCEPTION, EXC_NP) | INTR_INFO_DELIVER_CODE);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_ERROR_CODE), 0x42 * 8 + 2 + 1);
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD), INFO(INTR_TYPE_EXT_INTR, 0x42));
	CHECK_EQ(vr(VMCS_GUEST_RIP), GUEST_RIP);
	/* The injected event itself never consults the bitmap (SDM 28.6.1.1). */
	reset(0, false);
	vw(VMCS_EXCEPTION_BITMAP, BIT(EXC_UD));
	inject(INFO(INTR_TYPE_HW_EXCEPTION, EXC_UD), 0, 0);
	ENTER();
	CHECK_EQ(C->rip, HANDLER(EXC_UD));
}

/* SDM 28.6.1.1: real mode (unrestricted guest, CR0.PE = 0) delivers through the IVT
 * (SDM 20.1.4): FLAGS, CS, IP pushed, no error code. */
static void test_real_mode(void)
{
	vmcs_clear_fields();
	C->vmx.non_root = false;
	vmcs_setup_guest_real();
	*ram16(0x20 * 4) = 0x200;                    /* IVT[20H] = CS:IP */
	*ram16(0x20 * 4 + 2) = (uint16_t)(CODE_BASE >> 4);
	*ram16(EXC_GP * 4) = 0x300;
	*ram16(EXC_GP * 4 + 2) = (uint16_t)(CODE_BASE >> 4);
	B.ram[CODE_BASE + 0x200] = 0xF4;
	B.ram[CODE_BASE + 0x300] = 0xF4;
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	vw(VMCS_GUEST_RIP, 0x10);
	inject(INFO(INTR_TYPE_EXT_INTR, 0x20), 0, 0);
	ENTER();
	CHECK_EQ(C->mode, MODE_REAL);
	CHECK_EQ(C->rip, 0x200);
	CHECK_EQ(C->seg[SEG_CS].base, CODE_BASE);
	CHECK_EQ(C->gpr[RSP], USTACK_TOP - 6);
	CHECK_EQ(*ram16(USTACK_TOP - 6), 0x10);
	CHECK_EQ(*ram16(USTACK_TOP - 4), CODE_BASE >> 4);
	CHECK_EQ(*ram16(USTACK_TOP - 2), RFLAGS_FIXED1 | RFLAGS_IF);
	RUNS_TO_HLT(0x200);
	/* #GP in real mode: no error code (deliver-error-code must be 0, 28.2.1.3). */
	V->launch_state = VMCS_STATE_CLEAR;
	vw(VMCS_GUEST_RSP, USTACK_TOP);
	vw(VMCS_GUEST_RIP, 0x10);
	inject(INFO(INTR_TYPE_HW_EXCEPTION, EXC_GP), 0, 0);
	ENTER();
	CHECK_EQ(C->rip, 0x300);
	CHECK_EQ(C->gpr[RSP], USTACK_TOP - 6);
	CHECK_EQ(*ram16(USTACK_TOP - 6), 0x10);
}

int main(void)
{
	vmx_init();
	test_external_interrupt();
	test_hw_exceptions();
	test_nmi();
	test_sw_events();
	test_special();
	test_nested();
	test_real_mode();
	return report("vmx_inject");
}
