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

/* --- controls from the capability MSRs (App. A.3-A.5) ---------------------------- */

static uint32_t pin_base, proc_base, exit_base;

static bool setup_controls(void)
{
	uint32_t entry_ctl;
	if (!(rdmsr(MSR_IA32_VMX_MISC) & BIT(6))) /* SDM A.6: activity state HLT */
		return false;
	if (!vmx_ctl_needed(MSR_IA32_VMX_PINBASED_CTLS, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS,
			    &pin_base, "pin") ||
	    !vmx_ctl_needed(MSR_IA32_VMX_PROCBASED_CTLS, PROC_HLT_EXITING, &proc_base, "primary") ||
	    !vmx_ctl_needed(MSR_IA32_VMX_EXIT_CTLS, EXIT_HOST_ADDR_SPACE_SIZE, &exit_base, "exit") ||
	    !vmx_ctl_needed(MSR_IA32_VMX_ENTRY_CTLS, ENTRY_IA32E_MODE, &entry_ctl, "entry"))
		return false;
	/* The preemption timer and the windows are switched on one at a time below. */
	uint32_t pin_cap = (uint32_t)(vmx_ctl_cap(MSR_IA32_VMX_PINBASED_CTLS) >> 32);
	uint32_t proc_cap = (uint32_t)(vmx_ctl_cap(MSR_IA32_VMX_PROCBASED_CTLS) >> 32);
	uint32_t exit_cap = (uint32_t)(vmx_ctl_cap(MSR_IA32_VMX_EXIT_CTLS) >> 32);
	if (!(pin_cap & PIN_PREEMPTION_TIMER) || !(exit_cap & EXIT_SAVE_PREEMPTION_TIMER) ||
	    (proc_cap & (PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING)) !=
		    (PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING)) {
		skip("vmx_events", "no preemption timer or window exiting");
		return false;
	}
	vmcs_write(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin_base);
	vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc_base);
	vmcs_write(VMCS_VM_EXIT_CONTROLS, exit_base);
	vmcs_write(VMCS_VM_ENTRY_CONTROLS, entry_ctl);
	vmcs_write(VMCS_EXCEPTION_BITMAP, BIT(EXC_UD) | BIT(EXC_BP) | BIT(EXC_GP));
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_CR0_GUEST_HOST_MASK, 0);
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK, 0);
	return true;
}

/* --- the exits ----------------------------------------------------------------------- */

static bool resumed;

/* Run to the next exit; false (reported) if VM entry failed. */
static bool run(const char *what)
{
	int r = vmx_guest_run(resumed ? VMX_RESUME : VMX_LAUNCH);
	resumed = true;
	if (r)
		checkf(false, "%s: VM entry: %s, error %lu", what, vmx_outcome_name(r),
		       vmcs_read(VMCS_VM_INSTRUCTION_ERROR));
	return r == 0;
}

static bool expect_exit(const char *what, uint32_t reason, const char *rip)
{
	uint64_t got = vmcs_read(VMCS_VM_EXIT_REASON);
	check_eqf(got, reason, "%s: exit reason", what);
	check_eqf(vmcs_read(VMCS_GUEST_RIP), vmx_pa(rip), "%s: guest RIP", what);
	return got == reason;
}

#define EXC_INFO(type, vec) (BIT(31) | (uint32_t)(type) << 8 | (vec))

/* SDM 27.2.1, 29.2.2, 29.2.5: exceptions through the exception bitmap. */
static bool exceptions(void)
{
	if (!run("UD2") || !expect_exit("UD2", EXIT_REASON_EXCEPTION_NMI, g_ud2))
		return false;
	check_eq(vmcs_read(VMCS_VM_EXIT_INTR_INFO), EXC_INFO(INTR_TYPE_HW_EXCEPTION, EXC_UD),
		 "UD2: hardware exception 6, no error code");
	check_eq(vmcs_read(VMCS_IDT_VECTORING_INFO_FIELD) & BIT(31), 0, "UD2: not during delivery");
	vmcs_write(VMCS_GUEST_RIP, vmx_pa(g_int3));
	if (!run("INT3") || !expect_exit("INT3", EXIT_REASON_EXCEPTION_NMI, g_int3))
		return false;
	check_eq(vmcs_read(VMCS_VM_EXIT_INTR_INFO), EXC_INFO(INTR_TYPE_SW_EXCEPTION, EXC_BP),
		 "INT3: software exception 3");
	check_eq(vmcs_read(VMCS_VM_EXIT_INSTRUCTION_LEN), 1, "INT3: instruction length");
	vmcs_write(VMCS_GUEST_RIP, vmx_pa(g_int3) + 1);
	if (!run("#GP") || !expect_exit("#GP", EXIT_REASON_EXCEPTION_NMI, g_gp))
		return false;
	check_eq(vmcs_read(VMCS_VM_EXIT_INTR_INFO),
		 EXC_INFO(INTR_TYPE_HW_EXCEPTION, EXC_GP) | BIT(11), "#GP: with an error code");
	check_eq(vmcs_read(VMCS_VM_EXIT_INTR_ERROR_CODE), 0xfff8, "#GP: error code FFF8H");
	vmcs_write(VMCS_GUEST_RIP, vmx_pa(g_loop));
	return true;
}

/* SDM 27.5.1: the guest spins; the timer ends it. ("Save VMX-preemption timer value"
 * needs the timer active: SDM 28.2.1.2.) */
static bool preemption_timer(void)
{
	vmcs_write(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin_base | PIN_PREEMPTION_TIMER);
	vmcs_write(VMCS_VM_EXIT_CONTROLS, exit_base | EXIT_SAVE_PREEMPTION_TIMER);
	vmcs_write(VMCS_VMX_PREEMPTION_TIMER_VALUE, 50);
	if (!run("preemption timer") ||
	    !expect_exit("preemption timer", EXIT_REASON_PREEMPTION_TIMER, g_loop))
		return false;
	check_eq(vmcs_read(VMCS_VMX_PREEMPTION_TIMER_VALUE), 0, "preemption timer: value saved 0");
	vmcs_write(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin_base);
	vmcs_write(VMCS_VM_EXIT_CONTROLS, exit_base);
	vmcs_write(VMCS_GUEST_RIP, vmx_pa(g_sti));
	return true;
}

/* SDM 26.6.2: the interrupt window opens after STI's shadow; the NMI window at once
 * (virtual NMIs, nothing blocking them); then the guest's HLT exits. */
static void windows(void)
{
	vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc_base | PROC_INTR_WINDOW_EXITING);
	if (!run("interrupt window") ||
	    !expect_exit("interrupt window", EXIT_REASON_INTERRUPT_WINDOW, g_after))
		return;
	check_eq(vmcs_read(VMCS_GUEST_RFLAGS) & FL_IF, FL_IF, "interrupt window: IF = 1");
	check_eq(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0, "interrupt window: no blocking");
	vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc_base | PROC_NMI_WINDOW_EXITING);
	if (!run("NMI window") || !expect_exit("NMI window", EXIT_REASON_NMI_WINDOW, g_after))
		return;
	vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc_base);
	if (run("HLT"))
		expect_exit("HLT", EXIT_REASON_HLT, g_after);
}

/* SDM 27.5.1: the timer counts in the HLT state and its exit wakes the guest, whose
 * activity state is saved as HLT (SDM 29.3.4) with RIP after the HLT. */
static void halted_timer(void)
{
	vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc_base & ~PROC_HLT_EXITING);
	vmcs_write(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin_base | PIN_PREEMPTION_TIMER);
	vmcs_write(VMCS_VMX_PREEMPTION_TIMER_VALUE, 1000);
	if (!run("HLT, timer") ||
	    !expect_exit("HLT, timer", EXIT_REASON_PREEMPTION_TIMER, g_after + 1))
		return;
	check_eq(vmcs_read(VMCS_GUEST_ACTIVITY_STATE), 1, "HLT, timer: activity state HLT");
}

int main(void)
{
	if (!vmx_enter()) {
		skip("vmx_events", "VMX not available");
		return 0;
	}
	if (!setup_controls())
		return 0;
	/* Host and guest: this kernel's own 64-bit world (vmx_lib.h), the guest at g_ud2 on
	 * its own stack with IF = 0. */
	vmx_write_host_state();
	vmx_write_guest_state(vmx_pa(g_ud2), vmx_pa(alloc_page()) + 4096);
	if (exceptions() && preemption_timer()) {
		windows();
		halted_timer();
	}
	return 0;
}
