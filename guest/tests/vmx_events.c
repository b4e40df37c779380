/*
 * vmx_events - a hypervisor kernel whose guest runs into the event-driven VM exits of
 * VMX non-root operation, one after the other, and checks what each exit reports:
 *   - exceptions selected by the exception bitmap (SDM 27.2.1): UD2 (hardware
 *     exception 6), INT3 (software exception, with its length: SDM 29.2.5), a #GP
 *     with its error code (SDM 29.2.2); RIP at the instruction (SDM 29.3.3);
 *   - the VMX-preemption timer (SDM 27.5.1): exit 52 from a guest spinning in place,
 *     with "save VMX-preemption timer value" storing 0;
 *   - the interrupt window (SDM 26.6.2): STI; NOP; HLT exits after the NOP, the STI
 *     shadow having covered the boundary before it (SDM 6.8.3);
 *   - the NMI window with virtual NMIs: an exit before the next instruction when
 *     nothing blocks virtual NMIs;
 *   - the preemption timer waking a guest in the HLT activity state.
 * Everything about the processor comes from CPUID and the IA32_VMX_* MSRs, so the
 * image runs bare on the silicon (--level 0) and on L0's VMX.
 */
#include "cpu/vmx/vmx_arch.h"
#include "rt.h"
#include "vmx_lib.h"

enum { EXC_BP = 3, EXC_UD = 6, EXC_GP = 13 }; /* SDM Vol.3A Table 6-1 */

/* The guest. The hypervisor moves RIP past each exiting instruction itself. */
extern char g_ud2[], g_int3[], g_gp[], g_loop[], g_sti[], g_after[];
__asm__(".text\n"
	"g_ud2: ud2\n"
	"g_int3: int3\n"
	"	mov $0xfff8, %eax\n"
	"g_gp: mov %eax, %ds\n" /* selector beyond the GDT limit: #GP(FFF8H) */
	"g_loop: jmp g_loop\n"
	"g_sti: sti\n"
	"	nop\n"
	"g_after: hlt\n"
	"	jmp g_after\n");

/* Enter (VMLAUNCH or VMRESUME) and return at the next VM exit (0) or on VMfail
 * (1 invalid, 2 valid). The host's callee-saved registers and RFLAGS stay on its
 * stack, whose pointer is HOST_RSP; HOST_RIP is vmx_exit_stub (SDM 29.5.3: only RSP,
 * RIP come from the host-state area, RFLAGS is 2). */
int vmx_run(int resume);
void vmx_exit_stub(void);
__asm__(".text\n"
	".globl vmx_run\n"
	"vmx_run:\n"
	"	pushfq\n"
	"	push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
	"	mov $0x6c14, %eax\n" /* VMCS_HOST_RSP */
	"	vmwrite %rsp, %rax\n"
	"	test %edi, %edi\n"
	"	jnz 1f\n"
	"	vmlaunch\n"
	"	jmp 2f\n"
	"1:	vmresume\n"
	"2:	mov $1, %eax\n"
	"	jc 3f\n"
	"	mov $2, %eax\n"
	"3:	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
	"	popfq\n"
	"	ret\n"
	".globl vmx_exit_stub\n"
	"vmx_exit_stub:\n"
	"	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
	"	popfq\n"
	"	xor %eax, %eax\n"
	"	ret\n");

static uint64_t vr(uint64_t enc)
{
	uint64_t v = 0;
	vmread(enc, &v);
	return v;
}

static uint64_t va(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* --- controls from the capability MSRs (App. A.3-A.5) ---------------------------- */

static bool true_ctls;

static bool ctl(uint32_t msr, uint32_t true_msr, uint32_t want, uint32_t *out, const char *name)
{
	uint64_t cap = rdmsr(true_ctls ? true_msr : msr);
	if (want & ~(uint32_t)(cap >> 32)) {
		skipf("control not supported", "%s: bits 0x%x", name, want & ~(uint32_t)(cap >> 32));
		return false;
	}
	*out = want | (uint32_t)cap;
	return true;
}

static uint32_t pin_base, proc_base, exit_base;

static bool setup_controls(void)
{
	uint32_t entry_ctl;
	true_ctls = rdmsr(MSR_IA32_VMX_BASIC) & BIT(55);
	if (!(rdmsr(MSR_IA32_VMX_MISC) & BIT(6))) /* SDM A.6: activity state HLT */
		return false;
	if (!ctl(MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS,
		 PIN_NMI_EXITING | PIN_VIRTUAL_NMIS, &pin_base, "pin") ||
	    !ctl(MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, PROC_HLT_EXITING,
		 &proc_base, "primary") ||
	    !ctl(MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS,
		 EXIT_HOST_ADDR_SPACE_SIZE, &exit_base, "exit") ||
	    !ctl(MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS, ENTRY_IA32E_MODE,
		 &entry_ctl, "entry"))
		return false;
	/* The preemption timer and the windows are switched on one at a time below. */
	uint32_t pin_cap = (uint32_t)(rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS
						       : MSR_IA32_VMX_PINBASED_CTLS) >> 32);
	uint32_t proc_cap = (uint32_t)(rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
							: MSR_IA32_VMX_PROCBASED_CTLS) >> 32);
	uint32_t exit_cap = (uint32_t)(rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS
						       : MSR_IA32_VMX_EXIT_CTLS) >> 32);
	if (!(pin_cap & PIN_PREEMPTION_TIMER) || !(exit_cap & EXIT_SAVE_PREEMPTION_TIMER) ||
	    (proc_cap & (PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING)) !=
		    (PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING)) {
		skip("vmx_events", "no preemption timer or window exiting");
		return false;
	}
	vmwrite(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin_base);
	vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc_base);
	vmwrite(VMCS_VM_EXIT_CONTROLS, exit_base);
	vmwrite(VMCS_VM_ENTRY_CONTROLS, entry_ctl);
	vmwrite(VMCS_EXCEPTION_BITMAP, BIT(EXC_UD) | BIT(EXC_BP) | BIT(EXC_GP));
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, 0);
	vmwrite(VMCS_CR4_GUEST_HOST_MASK, 0);
	return true;
}

/* --- host and guest state: this kernel as it runs (SDM 28.2.3, 28.3.1) ----------- */

struct dtr { uint16_t limit; uint64_t base; } __attribute__((packed));

static uint16_t seg_sel(int s)
{
	uint16_t v = 0;
	switch (s) {
	case 0: __asm__ volatile("mov %%es, %0" : "=r"(v)); break;
	case 1: __asm__ volatile("mov %%cs, %0" : "=r"(v)); break;
	case 2: __asm__ volatile("mov %%ss, %0" : "=r"(v)); break;
	case 3: __asm__ volatile("mov %%ds, %0" : "=r"(v)); break;
	case 4: __asm__ volatile("mov %%fs, %0" : "=r"(v)); break;
	default: __asm__ volatile("mov %%gs, %0" : "=r"(v)); break;
	}
	return v;
}

static void setup_state(void)
{
	struct dtr g, i;
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(g), "=m"(i));
	/* Host. */
	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	for (int s = 0; s < 6; s++)
		vmwrite(VMCS_HOST_ES_SELECTOR + 2 * s, seg_sel(s) & 0xf8);
	vmwrite(VMCS_HOST_TR_SELECTOR, str());
	vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmwrite(VMCS_HOST_TR_BASE, va(&tss));
	vmwrite(VMCS_HOST_GDTR_BASE, g.base);
	vmwrite(VMCS_HOST_IDTR_BASE, i.base);
	vmwrite(VMCS_HOST_IA32_SYSENTER_CS, rdmsr(MSR_SYSENTER_CS));
	vmwrite(VMCS_HOST_IA32_SYSENTER_ESP, rdmsr(MSR_SYSENTER_ESP));
	vmwrite(VMCS_HOST_IA32_SYSENTER_EIP, rdmsr(MSR_SYSENTER_EIP));
	vmwrite(VMCS_HOST_RIP, va(vmx_exit_stub));
	/* Guest: the same flat 64-bit world at CPL 0, on its own stack, IF = 0. */
	vmwrite(VMCS_GUEST_CR0, read_cr0());
	vmwrite(VMCS_GUEST_CR3, read_cr3());
	vmwrite(VMCS_GUEST_CR4, read_cr4());
	vmwrite(VMCS_GUEST_DR7, 0x400);
	for (int s = 0; s < 6; s++) {
		uint16_t sel = seg_sel(s);
		uint32_t ar = s == 1 ? 0xa09b : 0xc093; /* 64-bit code ER-A / flat data RW-A */
		vmwrite(VMCS_GUEST_ES_SELECTOR + 2 * s, sel);
		vmwrite(VMCS_GUEST_ES_AR_BYTES + 2 * s, sel ? ar : 0x10000);
		vmwrite(VMCS_GUEST_ES_LIMIT + 2 * s, 0xffffffff);
		vmwrite(VMCS_GUEST_ES_BASE + 2 * s, 0);
	}
	vmwrite(VMCS_GUEST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(VMCS_GUEST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmwrite(VMCS_GUEST_LDTR_AR_BYTES, 0x10000);
	uint64_t d = gdt[SEL_TSS >> 3];
	vmwrite(VMCS_GUEST_TR_SELECTOR, SEL_TSS);
	vmwrite(VMCS_GUEST_TR_AR_BYTES, 0x8b);
	vmwrite(VMCS_GUEST_TR_LIMIT, (d & 0xffff) | ((d >> 32) & 0xf0000));
	vmwrite(VMCS_GUEST_TR_BASE, va(&tss));
	vmwrite(VMCS_GUEST_GDTR_BASE, g.base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, g.limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, i.base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, i.limit);
	vmwrite(VMCS_GUEST_RSP, va(alloc_page()) + 4096);
	vmwrite(VMCS_GUEST_RIP, va(g_ud2));
	vmwrite(VMCS_GUEST_RFLAGS, 2);
	vmwrite(VMCS_VMCS_LINK_POINTER, ~0ull);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, 0);
}

/* --- the exits ----------------------------------------------------------------------- */

static bool resumed;

/* Run to the next exit; false (reported) if VM entry failed. */
static bool run(const char *what)
{
	int r = vmx_run(resumed);
	resumed = true;
	if (r)
		checkf(false, "%s: VM entry: %s, error %lu", what, vmx_outcome_name(r),
		       vr(VMCS_VM_INSTRUCTION_ERROR));
	return r == 0;
}

static bool expect_exit(const char *what, uint32_t reason, const char *rip)
{
	uint64_t got = vr(VMCS_VM_EXIT_REASON);
	check_eqf(got, reason, "%s: exit reason", what);
	check_eqf(vr(VMCS_GUEST_RIP), va(rip), "%s: guest RIP", what);
	return got == reason;
}

#define EXC_INFO(type, vec) (BIT(31) | (uint32_t)(type) << 8 | (vec))

/* SDM 27.2.1, 29.2.2, 29.2.5: exceptions through the exception bitmap. */
static bool exceptions(void)
{
	if (!run("UD2") || !expect_exit("UD2", EXIT_REASON_EXCEPTION_NMI, g_ud2))
		return false;
	check_eq(vr(VMCS_VM_EXIT_INTR_INFO), EXC_INFO(INTR_TYPE_HW_EXCEPTION, EXC_UD),
		 "UD2: hardware exception 6, no error code");
	check_eq(vr(VMCS_IDT_VECTORING_INFO_FIELD) & BIT(31), 0, "UD2: not during delivery");
	vmwrite(VMCS_GUEST_RIP, va(g_int3));
	if (!run("INT3") || !expect_exit("INT3", EXIT_REASON_EXCEPTION_NMI, g_int3))
		return false;
	check_eq(vr(VMCS_VM_EXIT_INTR_INFO), EXC_INFO(INTR_TYPE_SW_EXCEPTION, EXC_BP),
		 "INT3: software exception 3");
	check_eq(vr(VMCS_VM_EXIT_INSTRUCTION_LEN), 1, "INT3: instruction length");
	vmwrite(VMCS_GUEST_RIP, va(g_int3) + 1);
	if (!run("#GP") || !expect_exit("#GP", EXIT_REASON_EXCEPTION_NMI, g_gp))
		return false;
	check_eq(vr(VMCS_VM_EXIT_INTR_INFO),
		 EXC_INFO(INTR_TYPE_HW_EXCEPTION, EXC_GP) | BIT(11), "#GP: with an error code");
	check_eq(vr(VMCS_VM_EXIT_INTR_ERROR_CODE), 0xfff8, "#GP: error code FFF8H");
	vmwrite(VMCS_GUEST_RIP, va(g_loop));
	return true;
}

/* SDM 27.5.1: the guest spins; the timer ends it. ("Save VMX-preemption timer value"
 * needs the timer active: SDM 28.2.1.2.) */
static bool preemption_timer(void)
{
	vmwrite(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin_base | PIN_PREEMPTION_TIMER);
	vmwrite(VMCS_VM_EXIT_CONTROLS, exit_base | EXIT_SAVE_PREEMPTION_TIMER);
	vmwrite(VMCS_VMX_PREEMPTION_TIMER_VALUE, 50);
	if (!run("preemption timer") ||
	    !expect_exit("preemption timer", EXIT_REASON_PREEMPTION_TIMER, g_loop))
		return false;
	check_eq(vr(VMCS_VMX_PREEMPTION_TIMER_VALUE), 0, "preemption timer: value saved 0");
	vmwrite(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin_base);
	vmwrite(VMCS_VM_EXIT_CONTROLS, exit_base);
	vmwrite(VMCS_GUEST_RIP, va(g_sti));
	return true;
}

/* SDM 26.6.2: the interrupt window opens after STI's shadow; the NMI window at once
 * (virtual NMIs, nothing blocking them); then the guest's HLT exits. */
static void windows(void)
{
	vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc_base | PROC_INTR_WINDOW_EXITING);
	if (!run("interrupt window") ||
	    !expect_exit("interrupt window", EXIT_REASON_INTERRUPT_WINDOW, g_after))
		return;
	check_eq(vr(VMCS_GUEST_RFLAGS) & FL_IF, FL_IF, "interrupt window: IF = 1");
	check_eq(vr(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0, "interrupt window: no blocking");
	vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc_base | PROC_NMI_WINDOW_EXITING);
	if (!run("NMI window") || !expect_exit("NMI window", EXIT_REASON_NMI_WINDOW, g_after))
		return;
	vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc_base);
	if (run("HLT"))
		expect_exit("HLT", EXIT_REASON_HLT, g_after);
}

/* SDM 27.5.1: the timer counts in the HLT state and its exit wakes the guest, whose
 * activity state is saved as HLT (SDM 29.3.4) with RIP after the HLT. */
static void halted_timer(void)
{
	vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc_base & ~PROC_HLT_EXITING);
	vmwrite(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin_base | PIN_PREEMPTION_TIMER);
	vmwrite(VMCS_VMX_PREEMPTION_TIMER_VALUE, 1000);
	if (!run("HLT, timer") ||
	    !expect_exit("HLT, timer", EXIT_REASON_PREEMPTION_TIMER, g_after + 1))
		return;
	check_eq(vr(VMCS_GUEST_ACTIVITY_STATE), 1, "HLT, timer: activity state HLT");
}

int main(void)
{
	if (!vmx_enter()) {
		skip("vmx_events", "VMX not available");
		return 0;
	}
	if (!setup_controls())
		return 0;
	setup_state();
	if (exceptions() && preemption_timer()) {
		windows();
		halted_timer();
	}
	return 0;
}
