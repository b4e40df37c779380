/*
 * Events in VMX non-root operation, each run as a real guest through vmx_vmlaunch()
 * (native VMM) on the vmx_harness 64-bit guest: exceptions through the exception
 * bitmap and the #PF error-code mask/match (SDM 27.2.1), IDT-vectoring information
 * for a fault during delivery (29.2.4) with the double- and triple-fault rules,
 * external interrupts with and without "acknowledge interrupt on exit", NMIs and
 * virtual NMIs, the interrupt and NMI windows, INIT and SIPI, the VMX-preemption
 * timer with its exact expiry in deterministic time (27.5.1), and the monitor trap
 * flag (27.5.2).
 */
#include "vmx_harness.h"

#include "cpu/debug.h"
#include "cpu/sys.h"
#include "cpu/vmx/vmx_internal.h"

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ })
#define CODE(...) put_bytes(CODE_BASE, BYTES(__VA_ARGS__), sizeof(BYTES(__VA_ARGS__)))
#define HANDLER (CODE_BASE + 0x100) /* every IDT vector lands on a HLT here */
#define UNMAPPED 0x4000000ULL       /* beyond the harness's 64 MiB identity map */

#define HW_EXC(v) (INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION << 8 | (v))
#define HW_EXC_CODE(v) (HW_EXC(v) | INTR_INFO_DELIVER_CODE)

/* --- a fake local APIC: one pending vector, acknowledged once --------------------- */
static int pending_vector = -1, acks;

static int fake_ack(void *apic)
{
	(void)apic;
	int v = pending_vector;
	pending_vector = -1;
	acks++;
	cpu_set_intr(C, false);
	return v;
}
static const struct cpu_apic_ops fake_apic = { .intr_ack = fake_ack };

static void raise_intr(int vector)
{
	pending_vector = vector;
	cpu_set_intr(C, true);
}

/* A fresh guest: 64-bit, HLT exiting, every IDT gate present and pointing at
 * HANDLER (a HLT), IF = 0, nothing pending. */
static void fresh(void)
{
	C->vmx.non_root = false;
	C->shutdown = C->halted = C->wait_for_sipi = false;
	C->events = 0;
	C->nmi_blocked = false;
	C->vmx.exit_pending = false;
	C->apic_ops = &fake_apic;
	pending_vector = -1;
	acks = 0;
	memset(V, 0, sizeof(*V));
	V->revision_id = VMX_REVISION_ID;
	vmcs_setup_guest64();
	for (int v = 0; v < 256; v++)
		idt64_set(v, SEL_CODE64, HANDLER, 0xE, 0, 0);
	put_bytes(HANDLER, BYTES(0xF4), 1);
}

static void set_bits(uint32_t field, uint64_t bits)
{
	vw(field, vr(field) | bits);
}

static uint32_t launch(void)
{
	enum vmx_result r = vmx_vmlaunch(C);
	CHECK_EQ(r, VMX_SUCCEED);
	return exit_reason();
}

static uint32_t resume(void)
{
	enum vmx_result r = vmx_vmresume(C);
	CHECK_EQ(r, VMX_SUCCEED);
	return exit_reason();
}

/* --- exceptions (SDM 27.2.1) ---------------------------------------------------------- */

static void test_exception_bitmap(void)
{
	/* #UD with its bit set: exit 0, hardware exception 6 without error code, RIP at
	 * the UD2 (fault), RF = 1 as the frame would have had it (SDM 29.3.3). */
	fresh();
	CODE(0x90, 0x0F, 0x0B);
	vw(VMCS_EXCEPTION_BITMAP, 1u << EXC_UD);
	CHECK_EQ(launch(), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO), HW_EXC(EXC_UD));
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 1);
	CHECK(vr(VMCS_GUEST_RFLAGS) & RFLAGS_RF);
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD), 0);
	/* Without the bit it is delivered through the guest IDT. */
	fresh();
	CODE(0x90, 0x0F, 0x0B);
	vw(VMCS_EXCEPTION_BITMAP, ~(1u << EXC_UD));
	CHECK_EQ(launch(), EXIT_REASON_HLT);
	CHECK_EQ(vr(VMCS_GUEST_RIP), HANDLER);

	/* #GP with an error code: mov ax, 0xFFF8; mov ds, ax (beyond the GDT limit). */
	fresh();
	CODE(0x66, 0xB8, 0xF8, 0xFF, 0x8E, 0xD8);
	vw(VMCS_EXCEPTION_BITMAP, 1u << EXC_GP);
	CHECK_EQ(launch(), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO), HW_EXC_CODE(EXC_GP));
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_ERROR_CODE), 0xFFF8);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 4);

	/* INT3 is a software exception (type 6): its length, RIP at the INT3. */
	fresh();
	CODE(0x90, 0xCC);
	vw(VMCS_EXCEPTION_BITMAP, 1u << EXC_BP);
	CHECK_EQ(launch(), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO), INTR_INFO_VALID | INTR_TYPE_SW_EXCEPTION << 8 | 3);
	CHECK_EQ(vr(VMCS_VM_EXIT_INSTRUCTION_LEN), 1);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 1);
	/* The single-step #DB trap (TF = 1): exit after the instruction, RIP at the next
	 * one, the DR6-style conditions in the qualification (SDM 29.2.1 Table 29-1:
	 * BS is bit 14). */
	fresh();
	CODE(0x90, 0xF4);
	vw(VMCS_EXCEPTION_BITMAP, 1u << EXC_DB);
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_TF);
	C->dr[6] = 0xFFFF0FF0;
	CHECK_EQ(launch(), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO), HW_EXC(EXC_DB));
	CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), BIT(14));
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 1);
	CHECK(vr(VMCS_GUEST_RFLAGS) & RFLAGS_TF);
	CHECK_EQ(C->dr[6], 0xFFFF0FF0); /* SDM 27.2.1: DR6 is not written */
	/* INT n never consults the bitmap. */
	fresh();
	CODE(0xCD, 0x03);
	vw(VMCS_EXCEPTION_BITMAP, 1u << EXC_BP);
	CHECK_EQ(launch(), EXIT_REASON_HLT);
}

/* SDM 27.2.1: #PF exits iff ((PFEC & mask) == match) equals bit 14 of the bitmap. The
 * guest writes an unmapped page: PFEC = W (2). */
static void pf_case(bool bit14, uint32_t mask, uint32_t match, bool exits)
{
	fresh();
	/* mov rax, UNMAPPED; mov [rax], eax */
	CODE(0x48, 0xB8, 0, 0, 0, 0x04, 0, 0, 0, 0, 0x89, 0x00);
	vw(VMCS_EXCEPTION_BITMAP, bit14 ? 1u << EXC_PF : 0);
	vw(VMCS_PAGE_FAULT_ERROR_CODE_MASK, mask);
	vw(VMCS_PAGE_FAULT_ERROR_CODE_MATCH, match);
	C->cr2 = 0x77;
	uint32_t r = launch();
	if (exits) {
		CHECK_EQ(r, EXIT_REASON_EXCEPTION_NMI);
		CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO), HW_EXC_CODE(EXC_PF));
		CHECK_EQ(vr(VMCS_VM_EXIT_INTR_ERROR_CODE), PFEC_W);
		CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), UNMAPPED); /* SDM 29.2.1 */
		CHECK_EQ(C->cr2, 0x77);                          /* CR2 not written */
		CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 10);
	} else {
		CHECK_EQ(r, EXIT_REASON_HLT);
		CHECK_EQ(C->cr2, UNMAPPED);
	}
}

static void test_pf_mask_match(void)
{
	pf_case(true, PFEC_W, PFEC_W, true);    /* bit 1, matches: exit */
	pf_case(true, PFEC_W, 0, false);        /* bit 1, no match: delivered */
	pf_case(false, PFEC_W, PFEC_W, false);  /* bit 0, matches: delivered */
	pf_case(false, PFEC_W, 0, true);        /* bit 0, no match: exit */
	pf_case(true, 0, 0, true);              /* mask 0 = match 0: every #PF */
	pf_case(true, 0, 1, false);             /* mask 0, match != 0: none */
}

/* SDM 29.2.4, 27.2.1: a fault during event delivery; #DF; triple fault. */
static void test_vectoring(void)
{
	/* INT 0x30 through a not-present gate: #NP(0x30 << 3 | IDT: SDM 6.13) during
	 * delivery of a software interrupt (type 4, with the INT's length: SDM 29.2.5). */
	fresh();
	CODE(0xCD, 0x30);
	*ram64(IDT_BASE + 0x30 * 16) &= ~(1ULL << 47);
	vw(VMCS_EXCEPTION_BITMAP, 1u << EXC_NP);
	CHECK_EQ(launch(), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO), HW_EXC_CODE(EXC_NP));
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_ERROR_CODE), 0x30 * 8 + 2);
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD),
		 INTR_INFO_VALID | INTR_TYPE_SW_INTR << 8 | 0x30);
	CHECK_EQ(vr(VMCS_VM_EXIT_INSTRUCTION_LEN), 2);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE);

	/* #GP(0xFFF8) whose gate is not present: #NP(13 << 3 | IDT | EXT) during delivery of
	 * a hardware exception with an error code; RF = 1 for the #GP being delivered. */
	fresh();
	CODE(0x66, 0xB8, 0xF8, 0xFF, 0x8E, 0xD8);
	*ram64(IDT_BASE + EXC_GP * 16) &= ~(1ULL << 47);
	vw(VMCS_EXCEPTION_BITMAP, 1u << EXC_NP);
	CHECK_EQ(launch(), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO), HW_EXC_CODE(EXC_NP));
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_ERROR_CODE), EXC_GP * 8 + 3);
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD), HW_EXC_CODE(EXC_GP));
	CHECK_EQ(vr(VMCS_IDT_VECTORING_ERROR_CODE), 0xFFF8);
	CHECK(vr(VMCS_GUEST_RFLAGS) & RFLAGS_RF);

	/* The same with only #DF in the bitmap: #NP during #GP is a double fault (SDM
	 * 6.15), which exits directly: no IDT-vectoring information (29.2.4). */
	fresh();
	CODE(0x66, 0xB8, 0xF8, 0xFF, 0x8E, 0xD8);
	*ram64(IDT_BASE + EXC_GP * 16) &= ~(1ULL << 47);
	vw(VMCS_EXCEPTION_BITMAP, 1u << EXC_DF);
	CHECK_EQ(launch(), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO), HW_EXC_CODE(EXC_DF));
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_ERROR_CODE), 0);
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD), 0);

	/* A fault while VM entry delivers an injected event (SDM 28.6.1.2): the
	 * injected event is the IDT-vectoring information; an injected #UD is not
	 * itself checked against the bitmap (28.6.1.1). */
	fresh();
	CODE(0x90, 0xF4);
	*ram64(IDT_BASE + EXC_UD * 16) &= ~(1ULL << 47);
	vw(VMCS_EXCEPTION_BITMAP, 1u << EXC_NP | 1u << EXC_UD);
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, HW_EXC(EXC_UD));
	CHECK_EQ(launch(), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO), HW_EXC_CODE(EXC_NP));
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_ERROR_CODE), EXC_UD * 8 + 3);
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD), HW_EXC(EXC_UD));
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE);

	/* An injected NMI (virtual NMIs) whose delivery faults: the NMI is the vectoring
	 * event and virtual-NMI blocking is in effect at the exit (SDM 29.1). */
	fresh();
	CODE(0x90, 0xF4);
	*ram64(IDT_BASE + EXC_NMI * 16) &= ~(1ULL << 47);
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	vw(VMCS_EXCEPTION_BITMAP, 1u << EXC_NP);
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | INTR_TYPE_NMI << 8 | EXC_NMI);
	CHECK_EQ(launch(), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO), HW_EXC_CODE(EXC_NP));
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD),
		 INTR_INFO_VALID | INTR_TYPE_NMI << 8 | EXC_NMI);
	CHECK_EQ(vr(VMCS_GUEST_INTERRUPTIBILITY_INFO), INTERRUPTIBILITY_NMI);

	/* Not in the bitmap, #DF's gate not present either: a triple fault is exit
	 * reason 2, not a shutdown of the machine (SDM 27.2.1), without vectoring. */
	fresh();
	CODE(0x66, 0xB8, 0xF8, 0xFF, 0x8E, 0xD8);
	*ram64(IDT_BASE + EXC_GP * 16) &= ~(1ULL << 47);
	*ram64(IDT_BASE + EXC_DF * 16) &= ~(1ULL << 47);
	CHECK_EQ(launch(), EXIT_REASON_TRIPLE_FAULT);
	CHECK(!C->shutdown);
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD), 0);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 4);
}

/* --- interrupts, NMIs, windows (SDM 27.2.1, 26.6.2) --------------------------------- */

static void test_external_interrupts(void)
{
	/* Exiting with acknowledge: the vector in the exit information, whatever IF. */
	fresh();
	CODE(0xEB, 0xFE); /* jmp $ */
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR_EXITING);
	set_bits(VMCS_VM_EXIT_CONTROLS, EXIT_ACK_INTR_ON_EXIT);
	raise_intr(0x41);
	CHECK_EQ(launch(), EXIT_REASON_EXTERNAL_INTERRUPT);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO), INTR_INFO_VALID | INTR_TYPE_EXT_INTR << 8 | 0x41);
	CHECK_EQ(acks, 1);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE);
	/* Without acknowledge: information invalid, the interrupt stays pending. */
	fresh();
	CODE(0xEB, 0xFE);
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR_EXITING);
	raise_intr(0x42);
	CHECK_EQ(launch(), EXIT_REASON_EXTERNAL_INTERRUPT);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO), 0);
	CHECK_EQ(acks, 0);
	CHECK(C->events & CPU_EV_INTR);
	/* A HLT guest is woken by the exit; activity HLT, RIP after the HLT. */
	fresh();
	CODE(0xF4);
	vw(VMCS_CPU_BASED_VM_EXEC_CONTROL, VMX_PROC_MUST1);
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_EXT_INTR_EXITING);
	CHECK_EQ(vmx_vmlaunch(C), VMX_STOPPED); /* halted, nothing can wake it */
	raise_intr(0x43);
	CHECK_EQ(vmx_run_native(C), VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_EXTERNAL_INTERRUPT);
	CHECK_EQ(vr(VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_HLT);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 1);
	/* No exiting: delivered through the guest IDT when IF = 1. */
	fresh();
	CODE(0xEB, 0xFE);
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	raise_intr(0x44);
	CHECK_EQ(launch(), EXIT_REASON_HLT);
	CHECK_EQ(vr(VMCS_GUEST_RIP), HANDLER);
	CHECK_EQ(acks, 1);
}

static void test_nmi(void)
{
	/* NMI exiting: vector 2, type NMI. */
	fresh();
	CODE(0xEB, 0xFE);
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING);
	cpu_signal(C, CPU_EV_NMI, 0);
	CHECK_EQ(launch(), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO), INTR_INFO_VALID | INTR_TYPE_NMI << 8 | EXC_NMI);
	CHECK(!(C->events & CPU_EV_NMI));
	/* Blocking by NMI (virtual NMIs off) holds it: the guest reaches its HLT. */
	fresh();
	CODE(0xF4);
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING);
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_NMI);
	cpu_signal(C, CPU_EV_NMI, 0);
	CHECK_EQ(launch(), EXIT_REASON_HLT);
	CHECK(C->events & CPU_EV_NMI);
	/* With virtual NMIs that bit is virtual-NMI blocking: real NMIs still exit. */
	fresh();
	CODE(0xF4);
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_NMI);
	cpu_signal(C, CPU_EV_NMI, 0);
	CHECK_EQ(launch(), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(vr(VMCS_GUEST_INTERRUPTIBILITY_INFO), INTERRUPTIBILITY_NMI);
	/* No NMI exiting: delivered through the IDT, and blocking by NMI is saved. */
	fresh();
	CODE(0xEB, 0xFE);
	cpu_signal(C, CPU_EV_NMI, 0);
	CHECK_EQ(launch(), EXIT_REASON_HLT);
	CHECK_EQ(vr(VMCS_GUEST_RIP), HANDLER);
	CHECK_EQ(vr(VMCS_GUEST_INTERRUPTIBILITY_INFO), INTERRUPTIBILITY_NMI);
	C->nmi_blocked = false;
}

static void test_windows(void)
{
	/* Interrupt window with IF = 1: exit before the first instruction. */
	fresh();
	CODE(0x90, 0xF4);
	set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_INTR_WINDOW_EXITING);
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	CHECK_EQ(launch(), EXIT_REASON_INTERRUPT_WINDOW);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE);
	/* IF = 0: sti; nop; hlt -- the STI shadow covers the boundary before the NOP,
	 * so the window opens after it (SDM 26.6.2, 6.8.3). */
	fresh();
	CODE(0xFB, 0x90, 0xF4);
	set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_INTR_WINDOW_EXITING);
	CHECK_EQ(launch(), EXIT_REASON_INTERRUPT_WINDOW);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 2);
	CHECK_EQ(vr(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0);
	/* An instruction exit in the STI shadow saves blocking by STI (SDM 29.3.4):
	 * sti; hlt with HLT exiting. Likewise MOV SS: mov ss, ax; hlt. */
	fresh();
	CODE(0xFB, 0xF4);
	CHECK_EQ(launch(), EXIT_REASON_HLT);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 1);
	CHECK_EQ(vr(VMCS_GUEST_INTERRUPTIBILITY_INFO), INTERRUPTIBILITY_STI);
	fresh();
	CODE(0x8C, 0xD0, 0x8E, 0xD0, 0xF4); /* mov ax, ss; mov ss, ax; hlt */
	CHECK_EQ(launch(), EXIT_REASON_HLT);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 4);
	CHECK_EQ(vr(VMCS_GUEST_INTERRUPTIBILITY_INFO), INTERRUPTIBILITY_MOV_SS);
	/* ... but not an exit at the boundary after the shadowed instruction. */
	fresh();
	CODE(0xFB, 0x90, 0x0F, 0xA2); /* sti; nop; cpuid */
	CHECK_EQ(launch(), EXIT_REASON_CPUID);
	CHECK_EQ(vr(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0);
	/* An NMI has priority over the interrupt window; the NMI window over both. */
	fresh();
	CODE(0x90, 0xF4);
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_INTR_WINDOW_EXITING);
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	cpu_signal(C, CPU_EV_NMI, 0);
	CHECK_EQ(launch(), EXIT_REASON_EXCEPTION_NMI);
	fresh();
	CODE(0x90, 0xF4);
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_NMI_WINDOW_EXITING);
	cpu_signal(C, CPU_EV_NMI, 0);
	CHECK_EQ(launch(), EXIT_REASON_NMI_WINDOW);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE);
	C->events = 0;
	/* Virtual-NMI blocking closes the NMI window until IRET. The guest IRETs to
	 * its own next instruction: push ss; push rsp+8; pushf; push cs; push next;
	 * iretq, then nop; hlt. */
	fresh();
	CODE(0x6A, 0x10, 0x54, 0x48, 0x83, 0x04, 0x24, 0x08, 0x9C, 0x6A, 0x28, 0x68,
	     0x12, 0x00, 0x02, 0x00, 0x48, 0xCF, 0x90, 0xF4);
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_NMI_WINDOW_EXITING);
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_NMI);
	CHECK_EQ(launch(), EXIT_REASON_NMI_WINDOW);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 0x12); /* right after the IRETQ */
	CHECK_EQ(vr(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0);
}

/* SDM 29.2.2 bit 12, 29.1: an IRET that faults (a bad CS in its frame: #GP) while
 * virtual-NMI blocking is in effect: the exit reports "NMI unblocking due to IRET"
 * and the blocking is gone from the saved interruptibility state. */
static void iret_fault(bool blocked)
{
	fresh();
	/* push 10h; push rsp; pushf; push 0FFF8h; push 0; iretq */
	CODE(0x6A, 0x10, 0x54, 0x9C, 0x68, 0xF8, 0xFF, 0x00, 0x00, 0x6A, 0x00, 0x48, 0xCF);
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	vw(VMCS_EXCEPTION_BITMAP, 1u << EXC_GP);
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, blocked ? INTERRUPTIBILITY_NMI : 0);
	CHECK_EQ(launch(), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 11);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO),
		 HW_EXC_CODE(EXC_GP) | (blocked ? INTR_INFO_NMI_UNBLOCKED_BY_IRET : 0));
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_ERROR_CODE), 0xFFF8);
	CHECK_EQ(vr(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0);
}

static void test_iret_unblocking(void)
{
	iret_fault(true);
	iret_fault(false);
}

/* SDM 27.2.1: INIT exits (reason 3); SIPI exits in wait-for-SIPI (reason 4). */
static void test_init_sipi(void)
{
	fresh();
	CODE(0xEB, 0xFE);
	cpu_signal(C, CPU_EV_INIT, 0);
	CHECK_EQ(launch(), EXIT_REASON_INIT_SIGNAL);
	CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), 0);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE);
	CHECK(!(C->events & CPU_EV_INIT));
	/* wait-for-SIPI: NMIs and interrupts are held; a SIPI exits with its vector. */
	fresh();
	CODE(0xEB, 0xFE);
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING);
	vw(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI);
	cpu_signal(C, CPU_EV_NMI, 0);
	CHECK_EQ(vmx_vmlaunch(C), VMX_STOPPED);
	CHECK(C->wait_for_sipi);
	cpu_signal(C, CPU_EV_SIPI, 0x9A);
	CHECK_EQ(vmx_run_native(C), VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_SIPI_SIGNAL);
	CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), 0x9A);
	CHECK_EQ(vr(VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_WAIT_SIPI);
	C->events = 0;
}

/* --- the VMX-preemption timer (SDM 27.5.1) -------------------------------------------- */

static void test_preemption_timer(void)
{
	/* Deterministic time: one TSC tick per instruction. The timer counts down each
	 * time TSC bit 5 changes, so V = 3 expires at the third multiple of 32 after
	 * entry, exactly there. */
	fresh();
	CODE(0xEB, 0xFE);
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPTION_TIMER);
	set_bits(VMCS_VM_EXIT_CONTROLS, EXIT_SAVE_PREEMPTION_TIMER);
	vw(VMCS_VMX_PREEMPTION_TIMER_VALUE, 3);
	uint64_t t0 = cpu_read_tsc(C);
	CHECK_EQ(launch(), EXIT_REASON_PREEMPTION_TIMER);
	CHECK_EQ(cpu_read_tsc(C), ((t0 >> 5) + 3) << 5);
	CHECK_EQ(vr(VMCS_VMX_PREEMPTION_TIMER_VALUE), 0);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE);
	/* Value 0: the exit comes before the first guest instruction. */
	fresh();
	CODE(0x90, 0xEB, 0xFE);
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPTION_TIMER);
	vw(VMCS_VMX_PREEMPTION_TIMER_VALUE, 0);
	CHECK_EQ(launch(), EXIT_REASON_PREEMPTION_TIMER);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE);
	/* Value 0 with a pending debug exception (BS): the #DB is delivered first, then
	 * the timer exits before the handler's first instruction (SDM 28.7.4), which
	 * would be a HLT exit. With MTF, the MTF exit keeps its priority over the
	 * timer (SDM 27.5.2). */
	for (int mtf = 0; mtf < 2; mtf++) {
		fresh();
		CODE(0x90, 0xEB, 0xFE);
		set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPTION_TIMER);
		if (mtf)
			set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_MONITOR_TRAP_FLAG);
		vw(VMCS_VMX_PREEMPTION_TIMER_VALUE, 0);
		vw(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
		CHECK_EQ(launch(), mtf ? EXIT_REASON_MONITOR_TRAP_FLAG
				       : EXIT_REASON_PREEMPTION_TIMER);
		CHECK_EQ(vr(VMCS_GUEST_RIP), HANDLER);
		CHECK_EQ(vr(VMCS_GUEST_PENDING_DBG_EXCEPTIONS), 0);
		CHECK(C->dr[6] & DR6_BS);
	}
	/* Another exit first: the value left is saved. nop x3; cpuid. */
	fresh();
	CODE(0x90, 0x90, 0x90, 0x0F, 0xA2);
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPTION_TIMER);
	set_bits(VMCS_VM_EXIT_CONTROLS, EXIT_SAVE_PREEMPTION_TIMER);
	vw(VMCS_VMX_PREEMPTION_TIMER_VALUE, 1000);
	t0 = cpu_read_tsc(C);
	CHECK_EQ(launch(), EXIT_REASON_CPUID);
	uint64_t t1 = cpu_read_tsc(C), deadline = ((t0 >> 5) + 1000) << 5;
	CHECK_EQ(vr(VMCS_VMX_PREEMPTION_TIMER_VALUE), (deadline >> 5) - (t1 >> 5));
	/* A halted guest is woken by the expiry (time skipped to it). */
	fresh();
	CODE(0xF4);
	vw(VMCS_CPU_BASED_VM_EXEC_CONTROL, VMX_PROC_MUST1);
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPTION_TIMER);
	vw(VMCS_VMX_PREEMPTION_TIMER_VALUE, 100);
	t0 = cpu_read_tsc(C);
	CHECK_EQ(launch(), EXIT_REASON_PREEMPTION_TIMER);
	CHECK_EQ(cpu_read_tsc(C), ((t0 >> 5) + 100) << 5);
	CHECK_EQ(vr(VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_HLT);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 1);
	/* A long count in a loop: exact too, across many slices. */
	fresh();
	CODE(0xEB, 0xFE);
	set_bits(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_PREEMPTION_TIMER);
	vw(VMCS_VMX_PREEMPTION_TIMER_VALUE, 5000);
	t0 = cpu_read_tsc(C);
	CHECK_EQ(launch(), EXIT_REASON_PREEMPTION_TIMER);
	CHECK_EQ(cpu_read_tsc(C), ((t0 >> 5) + 5000) << 5);
}

/* --- the monitor trap flag (SDM 27.5.2) ----------------------------------------------- */

static void test_mtf(void)
{
	/* After each instruction: nop; nop; hlt. */
	fresh();
	CODE(0x90, 0x90, 0xF4);
	set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_MONITOR_TRAP_FLAG);
	CHECK_EQ(launch(), EXIT_REASON_MONITOR_TRAP_FLAG);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 1);
	CHECK_EQ(resume(), EXIT_REASON_MONITOR_TRAP_FLAG);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 2);
	CHECK_EQ(resume(), EXIT_REASON_HLT); /* the instruction's own exit comes first */
	/* After a HLT that does not exit: the MTF exit, with activity state HLT and RIP
	 * after the HLT (SDM 27.5.2, 29.3.4). */
	fresh();
	CODE(0xF4, 0x90);
	vw(VMCS_CPU_BASED_VM_EXEC_CONTROL, VMX_PROC_MUST1 | PROC_MONITOR_TRAP_FLAG);
	CHECK_EQ(launch(), EXIT_REASON_MONITOR_TRAP_FLAG);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 1);
	CHECK_EQ(vr(VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_HLT);
	/* Entered in the HLT state, nothing runs: no MTF exit; an INIT ends the wait. */
	fresh();
	CODE(0x90);
	vw(VMCS_CPU_BASED_VM_EXEC_CONTROL, VMX_PROC_MUST1 | PROC_MONITOR_TRAP_FLAG);
	vw(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	CHECK_EQ(vmx_vmlaunch(C), VMX_STOPPED);
	cpu_signal(C, CPU_EV_INIT, 0);
	CHECK_EQ(vmx_run_native(C), VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_INIT_SIGNAL);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE);
	/* An interrupt delivered before the first instruction: the MTF exit follows
	 * its delivery (SDM 27.5.2), before the handler's first instruction. */
	fresh();
	CODE(0x90, 0xF4);
	set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_MONITOR_TRAP_FLAG);
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	raise_intr(0x45);
	CHECK_EQ(launch(), EXIT_REASON_MONITOR_TRAP_FLAG);
	CHECK_EQ(vr(VMCS_GUEST_RIP), HANDLER);
	CHECK_EQ(acks, 1);
	/* Single-stepping too: the MTF exit comes first and the #DB trap is saved as
	 * a pending debug exception (BS, SDM 26.4.2 Table 26-4). */
	fresh();
	CODE(0x90, 0xF4);
	set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_MONITOR_TRAP_FLAG);
	vw(VMCS_EXCEPTION_BITMAP, 1u << EXC_DB);
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_TF);
	CHECK_EQ(launch(), EXIT_REASON_MONITOR_TRAP_FLAG);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 1);
	CHECK_EQ(vr(VMCS_GUEST_PENDING_DBG_EXCEPTIONS), PENDING_DBG_BS);
	/* A faulting instruction: the MTF exit follows delivery of the fault. */
	fresh();
	CODE(0x0F, 0x0B);
	set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_MONITOR_TRAP_FLAG);
	CHECK_EQ(launch(), EXIT_REASON_MONITOR_TRAP_FLAG);
	CHECK_EQ(vr(VMCS_GUEST_RIP), HANDLER);
	/* A pending MTF exit injected by VM entry (type 7, vector 0): before anything. */
	fresh();
	CODE(0x90, 0xF4);
	set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_MONITOR_TRAP_FLAG);
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | INTR_TYPE_OTHER_EVENT << 8);
	CHECK_EQ(launch(), EXIT_REASON_MONITOR_TRAP_FLAG);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE);
	/* An injected vectored event: MTF exit right after its delivery. */
	fresh();
	CODE(0x90, 0xF4);
	set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_MONITOR_TRAP_FLAG);
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | INTR_TYPE_EXT_INTR << 8 | 0x50);
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	CHECK_EQ(launch(), EXIT_REASON_MONITOR_TRAP_FLAG);
	CHECK_EQ(vr(VMCS_GUEST_RIP), HANDLER);
	CHECK_EQ(vr(VMCS_VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID, 0);
}

int main(void)
{
	vmx_init();
	test_exception_bitmap();
	test_pf_mask_match();
	test_vectoring();
	test_external_interrupts();
	test_nmi();
	test_windows();
	test_iret_unblocking();
	test_init_sipi();
	test_preemption_timer();
	test_mtf();
	return report("vmx_events");
}
