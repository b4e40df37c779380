/*
 * Task switches in VMX non-root operation (SDM 27.4.2 "Treatment of Task Switches"):
 * every attempt is a VM exit with reason 9 once the checks that come first have
 * passed, each run as a real 32-bit guest through vmx_vmlaunch() on the vmx_harness:
 *   - the four sources, with the exit qualification of SDM 29.2.1 Table 29-2 (bits
 *     15:0 the new TSS selector, 31:30 the source: 0 CALL, 1 IRET, 2 JMP, 3 task gate
 *     in the IDT), the instruction length for CALL, JMP, IRET and INT n (SDM 29.2.5),
 *     and the IDT-vectoring information of the event a task gate delivers (29.2.4);
 *   - nothing of the switch happens: TR, the TSSs, the busy flags, the registers and
 *     RIP are those before it (the guest state saved is the one before the switch);
 *   - the faults that take priority (SDM 27.4.2 items 1-4: the task gate's P flag and
 *     privilege, the TSS selector, type, busy flag, P flag and limit, and #GP in
 *     IA-32e mode) are raised instead of the exit (here exits through the exception
 *     bitmap, SDM 27.2.1, which report them).
 */
#include "vmx_harness.h"

#include "cpu/sys.h"

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ })
#define CODE(...) put_bytes(CODE_BASE, BYTES(__VA_ARGS__), sizeof(BYTES(__VA_ARGS__)))

#define TSS_B 0x4000ULL          /* the new task's 32-bit TSS */
#define SEL_TSS_B SEL_SPARE      /* its descriptor (0x60) */
#define SEL_GATE SEL_SPARE2      /* a task gate to it in the GDT (0x68) */
#define TY_TASK_GATE 5
#define TY_TSS 9
#define TY_TSS_BUSY 11

#define QUAL(sel, src) ((uint64_t)(sel) | (uint64_t)(src) << 30)
enum { SRC_CALL = 0, SRC_IRET = 1, SRC_JMP = 2, SRC_GATE = 3 };

#define HW_EXC(v) (INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION << 8 | (v))

/* Far JMP/CALL ptr16:32 (EA/9A: offset, then selector): 7 bytes. */
#define FAR(opc, sel) CODE(opc, 0, 0, 0, 0, (sel) & 0xFF, (sel) >> 8)

static uint8_t before[0x5000]; /* GDT, IDT, the current TSS and TSS_B, as set up */

static void tss_b_desc(unsigned type, uint32_t limit, bool p)
{
	gdt_set(SEL_TSS_B, mkdesc((uint32_t)TSS_B, limit, type, false, 0, p, 0));
}

/* A 32-bit protected-mode guest at CPL 0 whose TR is the harness's busy 32-bit TSS,
 * with task B available and a task gate (DPL 0) to it; recognisable GPRs. */
static void fresh(void)
{
	vmx_reset_cpu_and_vmcs();
	vmcs_setup_guest32(false);
	tss_b_desc(TY_TSS, 0x67, true);
	gdt_set(SEL_GATE, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 0, true, 0));
	memset(B.ram + TSS_B, 0x5A, 0x68);
	memset(B.ram + IDT_BASE, 0, 0x800);
	for (int r = 0; r < 8; r++)
		if (r != RSP)
			C->gpr[r] = 0x1000u + (unsigned)r;
}

/* Snapshot the system structures; after the exit they must be unchanged. */
static void snapshot(void)
{
	memcpy(before, B.ram, sizeof(before));
}

static uint32_t launch(void)
{
	snapshot();
	CHECK_EQ(vmx_vmlaunch(C), VMX_SUCCEED);
	return exit_reason();
}

/* SDM 27.4.2: no part of the switch happened. RIP at the instruction (or at the
 * instruction whose event vectored through the gate), TR, CR0.TS, GPRs, RFLAGS, and
 * the GDT, IDT and both TSSs in memory as they were. */
static void check_nothing_changed(uint64_t rflags)
{
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE);
	CHECK_EQ(vr(VMCS_GUEST_TR_SELECTOR), SEL_TSS);
	CHECK_EQ(vr(VMCS_GUEST_CR0) & CR0_TS, 0);
	CHECK_EQ(vr(VMCS_GUEST_RFLAGS) & ~(uint64_t)RFLAGS_RF, rflags);
	CHECK_EQ(vr(VMCS_GUEST_RSP), KSTACK_TOP);
	for (int r = 0; r < 8; r++)
		if (r != RSP)
			CHECK_EQ(C->gpr[r], 0x1000u + (unsigned)r);
	CHECK(memcmp(before, B.ram, sizeof(before)) == 0);
}

/* --- the four sources ------------------------------------------------------------ */

static void test_jmp_call(void)
{
	/* JMP ptr16:32 to a TSS descriptor: source 2, length 7, not during delivery. */
	fresh();
	FAR(0xEA, SEL_TSS_B);
	CHECK_EQ(launch(), EXIT_REASON_TASK_SWITCH);
	CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), QUAL(SEL_TSS_B, SRC_JMP));
	CHECK_EQ(vr(VMCS_VM_EXIT_INSTRUCTION_LEN), 7);
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD), 0);
	check_nothing_changed(RFLAGS_FIXED1);
	/* CALL ptr16:32 to the TSS: source 0. */
	fresh();
	FAR(0x9A, SEL_TSS_B);
	CHECK_EQ(launch(), EXIT_REASON_TASK_SWITCH);
	CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), QUAL(SEL_TSS_B, SRC_CALL));
	CHECK_EQ(vr(VMCS_VM_EXIT_INSTRUCTION_LEN), 7);
	check_nothing_changed(RFLAGS_FIXED1);
	/* CALL through a task gate in the GDT: the qualification names the TSS the gate
	 * points to, not the gate (Table 29-2: "the TSS to which the guest attempted to
	 * switch"). */
	fresh();
	FAR(0x9A, SEL_GATE);
	CHECK_EQ(launch(), EXIT_REASON_TASK_SWITCH);
	CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), QUAL(SEL_TSS_B, SRC_CALL));
	check_nothing_changed(RFLAGS_FIXED1);
	/* JMP through the gate. */
	fresh();
	FAR(0xEA, SEL_GATE);
	CHECK_EQ(launch(), EXIT_REASON_TASK_SWITCH);
	CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), QUAL(SEL_TSS_B, SRC_JMP));
	check_nothing_changed(RFLAGS_FIXED1);
}

static void test_iret(void)
{
	/* IRET with NT = 1: the back link of the current TSS, a busy TSS; source 1,
	 * length 1; NT stays set in the saved RFLAGS. */
	fresh();
	tss_b_desc(TY_TSS_BUSY, 0x67, true);
	*ram16(TSS_BASE) = SEL_TSS_B;
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_NT);
	CODE(0xCF);
	CHECK_EQ(launch(), EXIT_REASON_TASK_SWITCH);
	CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), QUAL(SEL_TSS_B, SRC_IRET));
	CHECK_EQ(vr(VMCS_VM_EXIT_INSTRUCTION_LEN), 1);
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD), 0);
	check_nothing_changed(RFLAGS_FIXED1 | RFLAGS_NT);
}

static void test_idt_gate(void)
{
	/* INT 41H through a task gate in the IDT: source 3, the INT n as IDT-vectoring
	 * information (type 4), its length (SDM 29.2.5), RIP at the INT. */
	fresh();
	idt32_set(0x41, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 0, true, 0));
	CODE(0xCD, 0x41);
	CHECK_EQ(launch(), EXIT_REASON_TASK_SWITCH);
	CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), QUAL(SEL_TSS_B, SRC_GATE));
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD),
		 INTR_INFO_VALID | INTR_TYPE_SW_INTR << 8 | 0x41);
	CHECK_EQ(vr(VMCS_VM_EXIT_INSTRUCTION_LEN), 2);
	check_nothing_changed(RFLAGS_FIXED1);
	/* #UD (UD2) through a task gate: a hardware exception without error code; RF as
	 * the frame would have held it (SDM 29.3.3). */
	fresh();
	idt32_set(EXC_UD, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 0, true, 0));
	CODE(0x0F, 0x0B);
	CHECK_EQ(launch(), EXIT_REASON_TASK_SWITCH);
	CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), QUAL(SEL_TSS_B, SRC_GATE));
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD), HW_EXC(EXC_UD));
	CHECK(vr(VMCS_GUEST_RFLAGS) & RFLAGS_RF);
	check_nothing_changed(RFLAGS_FIXED1);
	/* #GP with an error code (MOV DS, AX with 0xFFF8 beyond the GDT limit): the
	 * error code is the IDT-vectoring error code. RIP at the faulting MOV. */
	fresh();
	idt32_set(EXC_GP, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 0, true, 0));
	put_bytes(CODE_BASE - 4, BYTES(0x66, 0xB8, 0xF8, 0xFF), 4);
	CODE(0x8E, 0xD8);
	vw(VMCS_GUEST_RIP, CODE_BASE - 4);
	C->gpr[RAX] = 0x1000;
	snapshot();
	CHECK_EQ(vmx_vmlaunch(C), VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_TASK_SWITCH);
	CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), QUAL(SEL_TSS_B, SRC_GATE));
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD), HW_EXC(EXC_GP) | INTR_INFO_DELIVER_CODE);
	CHECK_EQ(vr(VMCS_IDT_VECTORING_ERROR_CODE), 0xFFF8);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE);
	CHECK_EQ(vr(VMCS_GUEST_TR_SELECTOR), SEL_TSS);
	CHECK(memcmp(before, B.ram, sizeof(before)) == 0);
}

/* --- faults with priority over the exit (SDM 27.4.2 items 1-4) --------------------- */

/* The guest faults with (vector, error code) and the bitmap makes that the exit. */
static void check_fault_first(int vector, uint32_t err)
{
	vw(VMCS_EXCEPTION_BITMAP, 1u << vector);
	CHECK_EQ(launch(), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO), HW_EXC(vector) | INTR_INFO_DELIVER_CODE);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_ERROR_CODE), err);
	CHECK(memcmp(before, B.ram, sizeof(before)) == 0);
}

static void test_priority(void)
{
	/* Item 4: a busy TSS for JMP is #GP(TSS), not present #NP(TSS), a limit below
	 * 67H #TS(TSS) (SDM 8.3 step 3). */
	fresh();
	tss_b_desc(TY_TSS_BUSY, 0x67, true);
	FAR(0xEA, SEL_TSS_B);
	check_fault_first(EXC_GP, SEL_TSS_B);
	fresh();
	tss_b_desc(TY_TSS, 0x67, false);
	FAR(0x9A, SEL_TSS_B);
	check_fault_first(EXC_NP, SEL_TSS_B);
	fresh();
	tss_b_desc(TY_TSS, 0x50, true);
	FAR(0xEA, SEL_TSS_B);
	check_fault_first(EXC_TS, SEL_TSS_B);
	/* Item 1: privilege on the task gate (RPL 3 > gate DPL 0: the error code is the
	 * selector's index and TI, SDM 6.13), then its P flag. */
	fresh();
	FAR(0x9A, SEL_GATE | 3);
	check_fault_first(EXC_GP, SEL_GATE);
	fresh();
	gdt_set(SEL_GATE, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 0, false, 0));
	FAR(0xEA, SEL_GATE);
	check_fault_first(EXC_NP, SEL_GATE);
	/* Items 2-3: the gate's TSS selector outside the GDT is #GP(selector). */
	fresh();
	gdt_set(SEL_GATE, mkgate(0x1F8, 0, TY_TASK_GATE, 0, true, 0));
	FAR(0xEA, SEL_GATE);
	check_fault_first(EXC_GP, 0x1F8);
	/* IRET: a back link to an available TSS is #TS(link). */
	fresh();
	*ram16(TSS_BASE) = SEL_TSS_B;
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_NT);
	CODE(0xCF);
	check_fault_first(EXC_TS, SEL_TSS_B);
	/* Task gate in the IDT not present: #NP(IDT vector, EXT 0 for INT n) during the
	 * INT's delivery, reported as IDT-vectoring information. */
	fresh();
	idt32_set(0x41, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 0, false, 0));
	CODE(0xCD, 0x41);
	check_fault_first(EXC_NP, 0x41 * 8 + 2);
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD),
		 INTR_INFO_VALID | INTR_TYPE_SW_INTR << 8 | 0x41);
	/* The gate's TSS is busy: #GP(TSS | EXT) for a hardware exception (EXT = 1). */
	fresh();
	tss_b_desc(TY_TSS_BUSY, 0x67, true);
	idt32_set(EXC_UD, mkgate(SEL_TSS_B, 0, TY_TASK_GATE, 0, true, 0));
	CODE(0x0F, 0x0B);
	check_fault_first(EXC_GP, SEL_TSS_B | 1);
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD), HW_EXC(EXC_UD));
}

/* SDM 27.4.2 items g (and 8.7): IRET with NT = 1 in IA-32e mode is #GP(0), no exit. */
static void test_ia32e(void)
{
	fresh();
	memset(V, 0, sizeof(*V));
	V->revision_id = VMX_REVISION_ID;
	vmcs_setup_guest64();
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_NT);
	CODE(0xCF);
	check_fault_first(EXC_GP, 0);
}

int main(void)
{
	vmx_init();
	test_jmp_call();
	test_iret();
	test_idt_gate();
	test_priority();
	test_ia32e();
	return report("vmx_taskswitch");
}
