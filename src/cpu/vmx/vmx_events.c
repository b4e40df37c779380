/*
 * Events in VMX non-root operation (SDM 27.2-27.5, 27.7): which exceptions,
 * interrupts, NMIs, INIT and SIPI cause VM exits, the exits at instruction
 * boundaries (interrupt and NMI windows, the VMX-preemption timer, the monitor trap
 * flag), and the IDT-vectoring information of an exit during event delivery.
 *
 * Virtual NMIs: cpu->vmx.virtual_nmi_blocked is virtual-NMI blocking (VM entry
 * loads it, NMI injection sets it, IRET clears it: exec_iret.c); cpu->nmi_blocked
 * stays the physical blocking by NMI.
 *
 * Hooks: cpu_deliver_event() (idt.c) calls vmx_event_delivery() before delivering
 * anything; cpu_deliver_fault() (exception.c) vmx_exception_exit_check() before the
 * double-fault rules, and enter_shutdown() vmx_triple_fault_exit(); in non-root
 * operation cpu_handle_events() is vmx_handle_events(); cpu_run() calls
 * vmx_slice_begin(), the run loop vmx_halted() for a guest in HLT; exec_IRET()
 * calls vmx_iret_begin(). The root-mode run loop pays nothing, and non-root code
 * runs in whole blocks: CPU_EV_VMX (a look at every instruction boundary) stays set
 * only while MTF or a window control is on, or once the preemption timer expired.
 * The timer is not checked per instruction: it bounds the slice (cpu_shorten_slice),
 * so that in deterministic mode its exit comes exactly at the TSC value where it
 * reaches 0, and a halted guest gets a clock timer at that value.
 *
 * Boundary priorities (SDM 6.9 Table 6-2 with SDM 27.2, 27.5.1, 27.5.2 and the
 * window controls of 26.6.2): APIC-write emulation after a virtualized write to the
 * APIC-access page (SDM 31.4.3.2, vmx_apic_access.c); INIT (exit 3) and SIPI in
 * wait-for-SIPI (exit 4);
 * MTF (37); pending #DB traps (a single-step trap waits for the boundary when MTF is
 * on, exception.c); the preemption timer (52); NMI window (8); NMI (exit 0 with "NMI
 * exiting", else delivered); interrupt window (7); external interrupts (exit 1 with
 * "external-interrupt exiting", else delivered).
 *
 * #DB exits are taken by debug.c before it writes DR6 (vmx_debug_exit_check).
 *
 * Not implemented (documented limits): INT1 with #DB in the bitmap exits after
 * debug.c reported held conditions in DR6; SMIs are dropped as in root operation;
 * the shutdown activity state (not offered in IA32_VMX_MISC).
 */
#include "cpu/debug.h"
#include "cpu/sys.h"
#include "cpu/vmx/ept.h"
#include "cpu/vmx/vmx_internal.h"

/* --- exceptions (SDM 27.2.1) ----------------------------------------------------- */

static bool fault_class(int vector)
{
	return vector < 32 && vector != EXC_DB && vector != EXC_NMI && vector != EXC_BP &&
	       vector != EXC_OF && vector != EXC_DF && vector != EXC_MC;
}

/* Interruption information (SDM 26.9.2 Table 26-19, 26.9.3 Table 26-20). An error
 * code exists for hardware exceptions that push one, not in real mode. */
static uint32_t event_info(const struct cpu *cpu, int vector, unsigned type, uint32_t err,
			   bool *has_code)
{
	*has_code = type == INTR_TYPE_HW_EXCEPTION && err != NO_ERROR_CODE &&
		    (cpu->cr0 & CR0_PE);
	return (uint32_t)(vector & 0xFF) | type << INTR_INFO_TYPE_SHIFT |
	       (*has_code ? INTR_INFO_DELIVER_CODE : 0) | INTR_INFO_VALID;
}

/* SDM 27.2.1: the exception bitmap; for #PF, bit 14 selects whether an error code
 * matching (PFEC & mask) == match exits (bit 14 = 1) or one not matching does. */
static bool bitmap_selects(const struct cpu *cpu, int vector, uint32_t err)
{
	const struct vmx_controls *c = &cpu->vmx.ctl;
	if (vector < 0 || vector >= 32)
		return false;
	bool bit = (c->exception_bitmap >> vector) & 1;
	if (vector != EXC_PF)
		return bit;
	bool match = (err & c->pfec_mask) == c->pfec_match;
	return bit ? match : !match;
}

/* The exception exits instead of being delivered (SDM 27.2.1, 29.2.1, 29.2.2):
 * reason 0; qualification the #PF linear address (CR2 is not written) or the #DB
 * conditions (Table 29-1); RF as the frame would have held it (SDM 29.3.3); INT3,
 * INTO and INT1 report their length (SDM 29.2.5) with RIP at the instruction. */
static noreturn void exception_exit(struct cpu *cpu, int vector, unsigned type, uint32_t err)
{
	bool code;
	struct vmx_exit_info info = { .reason = EXIT_REASON_EXCEPTION_NMI };
	info.intr_info = event_info(cpu, vector, type, err, &code);
	info.intr_error = code ? err : 0;
	if (vector == EXC_PF)
		info.qualification = cpu->exc_cr2;
	else if (vector == EXC_DB && type == INTR_TYPE_HW_EXCEPTION)
		info.qualification = cpu->dr[6] & (DR6_BMASK | DR6_BD | DR6_BS);
	if (type == INTR_TYPE_SW_EXCEPTION || type == INTR_TYPE_PRIV_SW_EXCEPTION)
		info.insn_len = (uint32_t)(cpu->next_rip - cpu->rip) & 0xF;
	if (type == INTR_TYPE_HW_EXCEPTION && fault_class(vector))
		cpu->rflags |= RFLAGS_RF;
	cpu->delivering = -1;
	vmx_exit_unwind(cpu, &info);
}

void vmx_debug_exit_check(struct cpu *cpu, uint32_t dr6, bool rf)
{
	if ((cpu->vmx.vectoring_info & INTR_INFO_VALID) || !bitmap_selects(cpu, EXC_DB, 0))
		return;
	/* SDM 27.2.1: DR6 and DR7 are left alone; the conditions go to the exit
	 * qualification (SDM 29.2.1 Table 29-1: B0-B3, BD, BS). */
	struct vmx_exit_info info = {
		.reason = EXIT_REASON_EXCEPTION_NMI,
		.qualification = dr6 & (DR6_BMASK | DR6_BD | DR6_BS),
		.intr_info = EXC_DB | INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT | INTR_INFO_VALID,
	};
	if (rf) /* a fault-class #DB other than an instruction breakpoint (SDM 29.3.3) */
		cpu->rflags |= RFLAGS_RF;
	cpu->delivering = -1;
	vmx_exit_unwind(cpu, &info);
}

void vmx_exception_exit_check(struct cpu *cpu, int vector, uint32_t err, bool direct)
{
	if (!bitmap_selects(cpu, vector, err))
		return;
	if (direct) /* SDM 29.2.4: a #DF exit is not "during delivery" */
		cpu->vmx.vectoring_info = 0;
	exception_exit(cpu, vector, INTR_TYPE_HW_EXCEPTION, err);
}

void vmx_event_delivery(struct cpu *cpu, int vector, enum event_type type, uint32_t err)
{
	/* The bitmap is consulted here only for an event raised while nothing is being
	 * delivered. With an event in delivery already, this is either the injection of
	 * an event by VM entry, which never consults the bitmap (SDM 28.6.1.1: vmx_inject.c
	 * records it as the vectoring event first), or an exception during delivery,
	 * which cpu_deliver_fault() checked (vmx_exception_exit_check). */
	bool exception = type == EVENT_HW_EXCEPTION || type == EVENT_SW_EXC ||
			 type == EVENT_PRIV_SW_EXC;
	if (!(cpu->vmx.vectoring_info & INTR_INFO_VALID) && exception &&
	    bitmap_selects(cpu, vector, err))
		exception_exit(cpu, vector, (unsigned)type, err);
	cpu->vmx.iret_unblocking = false; /* an IRET fault delivered, not an exit */
	/* With virtual NMIs an NMI delivered here is an injected one: virtual-NMI
	 * blocking holds from the start of its delivery, so an exit during it saves
	 * the blocking (SDM 29.1). */
	if (type == EVENT_NMI && (cpu->vmx.ctl.pin & PIN_VIRTUAL_NMIS))
		cpu->vmx.virtual_nmi_blocked = true;
	/* SDM 29.2.4: from here until delivery completes, an exit reports this event. */
	bool code;
	cpu->vmx.vectoring_info = event_info(cpu, vector, (unsigned)type, err, &code);
	cpu->vmx.vectoring_error = code ? err : 0;
}

/* --- NMI unblocking due to IRET (SDM 29.1, 29.2.2) --------------------------------- */

void vmx_iret_begin(struct cpu *cpu)
{
	cpu->vmx.iret_unblocking = (cpu->vmx.ctl.pin & PIN_VIRTUAL_NMIS)
					   ? cpu->vmx.virtual_nmi_blocked
					   : cpu->nmi_blocked;
}

/* SDM 29.1: the exits that IRET's own faults cause: an exception exit for a hardware
 * exception, EPT violations and misconfigurations, a full page-modification log. */
static bool iret_fault_exit(const struct vmx_exit_info *info)
{
	unsigned type = (info->intr_info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	switch (info->reason & 0xFFFF) {
	case EXIT_REASON_EXCEPTION_NMI:
		return (info->intr_info & INTR_INFO_VALID) && type == INTR_TYPE_HW_EXCEPTION;
	case EXIT_REASON_EPT_VIOLATION:
	case EXIT_REASON_EPT_MISCONFIG:
	case EXIT_REASON_PML_FULL:
		return true;
	default:
		return false;
	}
}

void vmx_iret_unblocking(struct cpu *cpu, struct vmx_exit_info *info)
{
	bool was_blocked = cpu->vmx.iret_unblocking;
	cpu->vmx.iret_unblocking = false;
	if (!was_blocked || !iret_fault_exit(info))
		return;
	uint32_t pin = cpu->vmx.ctl.pin;
	bool virtual_nmis = pin & PIN_VIRTUAL_NMIS;
	/* SDM 29.1: the blocking is cleared before the exit (with "NMI exiting" = 0, or
	 * the virtual-NMI blocking with virtual NMIs). */
	if (virtual_nmis)
		cpu->vmx.virtual_nmi_blocked = false;
	else if (!(pin & PIN_NMI_EXITING))
		cpu->nmi_blocked = false;
	/* SDM 29.2.2: bit 12 is undefined with NMI exiting and no virtual NMIs, for an
	 * exit during event delivery and for #DF; it is set otherwise. */
	if (((pin & PIN_NMI_EXITING) && !virtual_nmis) ||
	    (cpu->vmx.vectoring_info & INTR_INFO_VALID))
		return;
	uint32_t basic = info->reason & 0xFFFF;
	if (basic == EXIT_REASON_EXCEPTION_NMI) {
		if ((info->intr_info & INTR_INFO_VECTOR_MASK) != EXC_DF)
			info->intr_info |= INTR_INFO_NMI_UNBLOCKED_BY_IRET;
	} else if (basic != EXIT_REASON_EPT_MISCONFIG) { /* no qualification there */
		info->qualification |= EPTQUAL_NMI_UNBLOCKED_BY_IRET; /* Table 29-7 bit 12 */
	}
}

noreturn void vmx_triple_fault_exit(struct cpu *cpu)
{
	/* SDM 27.2.1 (triple fault: exit reason 2); SDM 29.2.4: not "during delivery". */
	struct vmx_exit_info info = { .reason = EXIT_REASON_TRIPLE_FAULT };
	cpu->vmx.vectoring_info = 0;
	cpu->delivering = -1;
	vmx_exit_unwind(cpu, &info);
}

/* --- the VMX-preemption timer (SDM 27.5.1) ---------------------------------------- */

/* The timer counts down by 1 each time bit X of the TSC changes, X = IA32_VMX_MISC
 * bits 4:0. VM entry (vmx_entry_load.c) arms it as preempt_deadline = TSC at entry +
 * (value << X); the V-th change of bit X after entry happens at that value rounded
 * down to a multiple of 2^X, which is when the timer reaches 0. */
#define PREEMPT_SHIFT (VMX_MISC_VALUE & 0x1F)

uint64_t vmx_preempt_deadline(const struct cpu *cpu)
{
	return cpu->vmx.preempt_deadline & ~((1ULL << PREEMPT_SHIFT) - 1);
}

static bool preempt_expired(struct cpu *cpu)
{
	return cpu->vmx.preempt_active && cpu_read_tsc(cpu) >= vmx_preempt_deadline(cpu);
}

uint32_t vmx_preempt_value(struct cpu *cpu)
{
	if (!cpu->vmx.preempt_active)
		return (uint32_t)VMCS_GET(cpu->vmx.current, VMX_PREEMPTION_TIMER_VALUE);
	uint64_t tsc = cpu_read_tsc(cpu), deadline = vmx_preempt_deadline(cpu);
	if (tsc >= deadline)
		return 0;
	return (uint32_t)((deadline >> PREEMPT_SHIFT) - (tsc >> PREEMPT_SHIFT));
}

/* End the slice when the timer expires (one unit is one TSC tick in deterministic
 * mode, clock.h; with host time this is an upper bound, rechecked every slice), or
 * ask for a boundary check if it has. */
static void preempt_bound_slice(struct cpu *cpu)
{
	if (!cpu->vmx.preempt_active)
		return;
	uint64_t tsc = cpu_read_tsc(cpu), deadline = vmx_preempt_deadline(cpu);
	if (tsc >= deadline)
		cpu->events |= CPU_EV_VMX;
	else
		cpu_shorten_slice(cpu, deadline - tsc);
}

void vmx_slice_begin(struct cpu *cpu)
{
	preempt_bound_slice(cpu);
}

static void preempt_wake(void *opaque, uint64_t now_ns)
{
	struct cpu *cpu = opaque;
	(void)now_ns;
	cpu->vmx.preempt_timer_armed = false;
	cpu->events |= CPU_EV_VMX; /* the boundary check takes the exit */
}

void vmx_halted(struct cpu *cpu)
{
	/* SDM 27.5.1: the timer counts in HLT and its exit wakes the guest; not in
	 * wait-for-SIPI. */
	if (!cpu->vmx.preempt_active || cpu->wait_for_sipi)
		return;
	struct clock *c = cpu->clock;
	if (!cpu->vmx.preempt_timer) {
		int id = clock_timer_new(c, preempt_wake, cpu);
		if (id < 0)
			return; /* none left: the check at each slice start still sees it */
		cpu->vmx.preempt_timer = id + 1;
	}
	/* One TSC tick per virtual ns (clock.h). */
	uint64_t deadline = vmx_preempt_deadline(cpu), tsc = cpu_read_tsc(cpu);
	uint64_t now = clock_now(c);
	clock_timer_arm(c, cpu->vmx.preempt_timer - 1, deadline > tsc ? now + (deadline - tsc) : now);
	cpu->vmx.preempt_timer_armed = true;
}

void vmx_preempt_disarm(struct cpu *cpu)
{
	if (!cpu->vmx.preempt_timer_armed)
		return;
	cpu->vmx.preempt_timer_armed = false;
	clock_timer_cancel(cpu->clock, cpu->vmx.preempt_timer - 1);
}

/* No boundary work left but a counting timer: stop looking at every boundary and
 * let the slice end at its expiry instead (VM entry sets CPU_EV_VMX whenever the
 * timer counts, vmx_entry_load.c). */
static void drop_boundary_work(struct cpu *cpu)
{
	if (cpu->vmx.ctl.proc &
	    (PROC_MONITOR_TRAP_FLAG | PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING))
		return;
	cpu->events &= ~CPU_EV_VMX;
	preempt_bound_slice(cpu);
}

/* --- boundary events ----------------------------------------------------------------- */

/* A VM exit at an instruction boundary (trap-like: RIP is the next instruction). */
static bool boundary_exit(struct cpu *cpu, uint32_t reason, uint64_t qualification,
			  uint32_t intr_info)
{
	struct vmx_exit_info info = {
		.reason = reason, .qualification = qualification, .intr_info = intr_info,
	};
	vmx_vmexit(cpu, &info);
	return true;
}

/* An event was delivered through the guest IDT at this boundary; the next boundary
 * comes before the handler's first instruction, and the exits due there are taken
 * now. With MTF that can only be the first boundary after entry (later, the MTF exit
 * comes first), and an MTF exit is then pending right after the delivery (SDM
 * 27.5.2). An expired preemption timer exits after the delivery of a pending debug
 * exception, before any instruction (SDM 28.7.4, 27.5.1). */
static bool delivered(struct cpu *cpu)
{
	if (!cpu->vmx.non_root)
		return true;
	if (cpu->vmx.ctl.proc & PROC_MONITOR_TRAP_FLAG)
		return boundary_exit(cpu, EXIT_REASON_MONITOR_TRAP_FLAG, 0, 0);
	if (preempt_expired(cpu))
		return boundary_exit(cpu, EXIT_REASON_PREEMPTION_TIMER, 0, 0);
	return true;
}

/* SDM 27.2 (INIT signals, Start-up IPIs): INIT always exits (qualification 0); a
 * SIPI exits in the wait-for-SIPI state with its vector in qualification bits 7:0
 * (SDM 29.2.1) and is dropped otherwise. */
static bool init_sipi(struct cpu *cpu, uint32_t ev)
{
	if (ev & CPU_EV_INIT) {
		cpu->events &= ~CPU_EV_INIT;
		return boundary_exit(cpu, EXIT_REASON_INIT_SIGNAL, 0, 0);
	}
	if (ev & CPU_EV_SIPI) {
		cpu->events &= ~CPU_EV_SIPI;
		if (cpu->wait_for_sipi)
			return boundary_exit(cpu, EXIT_REASON_SIPI_SIGNAL, cpu->sipi_vector, 0);
	}
	return false;
}

/* SDM 27.5.2: an MTF exit is pending once an instruction has run since entry (or at
 * once after injection, when VM entry set mtf_pending). Each boundary in non-root
 * operation with MTF passes here exactly once: CPU_EV_VMX ends every block after one
 * instruction, and vmx_handle_events() defers a boundary whose slice is spent. A
 * halted guest executes nothing, so it does not arm the flag. */
static bool mtf_due(struct cpu *cpu)
{
	if (cpu->vmx.mtf_pending)
		return true;
	if (cpu->halted)
		return false;
	/* The first boundary after entry. An injected vectored event (the VM-entry
	 * interruption information stays valid until the exit) makes it pending now. */
	uint32_t inj = (uint32_t)VMCS_GET(cpu->vmx.current, VM_ENTRY_INTR_INFO_FIELD);
	if ((inj & INTR_INFO_VALID) &&
	    (inj & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT != INTR_TYPE_OTHER_EVENT)
		return true;
	cpu->vmx.mtf_pending = true;
	return false;
}

/* An NMI (SDM 27.2.1 "NMI exiting"): the exit reports vector 2, type NMI. */
static bool nmi_event(struct cpu *cpu, bool shadow)
{
	const struct vmx_controls *c = &cpu->vmx.ctl;
	if (c->pin & PIN_NMI_EXITING) {
		/* Virtual-NMI blocking does not hold back real NMIs (SDM 27.3). */
		bool blocked = shadow || cpu->nmi_blocked;
		if (blocked)
			return false;
		cpu->events &= ~CPU_EV_NMI;
		return boundary_exit(cpu, EXIT_REASON_EXCEPTION_NMI, 0,
				     EXC_NMI | INTR_TYPE_NMI << INTR_INFO_TYPE_SHIFT | INTR_INFO_VALID);
	}
	if (cpu->nmi_blocked || shadow)
		return false;
	cpu->events &= ~CPU_EV_NMI;
	cpu->halted = false; /* SDM Vol.2 HLT: an NMI resumes execution */
	cpu_deliver_event(cpu, EXC_NMI, EVENT_NMI, NO_ERROR_CODE);
	return delivered(cpu);
}

/* A maskable interrupt (SDM 27.2.1 "external-interrupt exiting"): exits whatever
 * RFLAGS.IF; with "acknowledge interrupt on exit" the CPU acknowledges it and the
 * exit reports its vector (SDM 29.2.2), else it stays pending at the controller. */
static bool intr_event(struct cpu *cpu)
{
	const struct cpu_apic_ops *ops = cpu->apic_ops;
	bool exiting = cpu->vmx.ctl.pin & PIN_EXT_INTR_EXITING;
	if (!exiting && !(cpu->rflags & RFLAGS_IF))
		return false;
	if (exiting && !(cpu->vmx.ctl.exit & EXIT_ACK_INTR_ON_EXIT))
		return boundary_exit(cpu, EXIT_REASON_EXTERNAL_INTERRUPT, 0, 0);
	if (!ops || !ops->intr_ack)
		return false;
	int vector = ops->intr_ack(cpu->apic);
	if (vector < 0)
		return false; /* withdrawn before the acknowledge: nothing happens */
	if (exiting)
		return boundary_exit(cpu, EXIT_REASON_EXTERNAL_INTERRUPT, 0,
				     (uint32_t)vector | INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT |
					     INTR_INFO_VALID);
	cpu->halted = false;
	cpu_deliver_event(cpu, vector, EVENT_EXTERNAL, NO_ERROR_CODE);
	return delivered(cpu);
}

/* NMI, the windows and interrupts, in priority order (see the top of the file). */
static bool nmi_and_interrupts(struct cpu *cpu, uint32_t ev, bool shadow)
{
	const struct vmx_controls *c = &cpu->vmx.ctl;
	/* SDM 26.6.2 "NMI-window exiting": no virtual-NMI blocking and no STI/MOV-SS
	 * blocking; wakes HLT like an NMI. */
	if ((c->proc & PROC_NMI_WINDOW_EXITING) && !cpu->vmx.virtual_nmi_blocked && !shadow)
		return boundary_exit(cpu, EXIT_REASON_NMI_WINDOW, 0, 0);
	if ((ev & CPU_EV_NMI) && nmi_event(cpu, shadow))
		return true;
	/* SDM 26.6.2 "interrupt-window exiting": RFLAGS.IF = 1 and no STI/MOV-SS
	 * blocking; wakes HLT like an interrupt. */
	if ((c->proc & PROC_INTR_WINDOW_EXITING) && (cpu->rflags & RFLAGS_IF) && !shadow)
		return boundary_exit(cpu, EXIT_REASON_INTERRUPT_WINDOW, 0, 0);
	if ((ev & CPU_EV_INTR) && !shadow)
		return intr_event(cpu);
	return false;
}

bool vmx_handle_events(struct cpu *cpu)
{
	/* A boundary reached with the slice spent is looked at in the next slice, so
	 * that it is looked at once (mtf_due). A waiting guest runs nothing, so its
	 * events are looked at now (else it would be reported as halted). */
	if (cpu->run_left == 0 && !cpu->halted && !cpu->wait_for_sipi)
		return false;
	/* SDM 31.4.3.2: APIC-write emulation comes before SMIs, INIT and every lower
	 * priority event. */
	if (unlikely(cpu->vmx.apic_write_size) && vmx_apic_write_emulation(cpu))
		return true;
	uint32_t ev = cpu->events;
	cpu->events &= ~CPU_EV_SMI; /* no SMM: an SMI is dropped */
	if ((ev & (CPU_EV_INIT | CPU_EV_SIPI)) && init_sipi(cpu, ev))
		return true;
	/* Wait-for-SIPI holds everything else, the timer and the windows included
	 * (SDM 27.5.1, 26.6.2). */
	if (cpu->wait_for_sipi)
		return false;
	bool shadow = cpu->intr_shadow != 0;
	bool movss = shadow && (cpu->intr_shadow_kind & SHADOW_MOVSS);
	/* A pending MTF exit injected by VM entry exits even with the MTF control 0
	 * (SDM 28.6.2). */
	if (((cpu->vmx.ctl.proc & PROC_MONITOR_TRAP_FLAG) || cpu->vmx.mtf_pending) &&
	    mtf_due(cpu))
		return boundary_exit(cpu, EXIT_REASON_MONITOR_TRAP_FLAG, 0, 0);
	/* SDM 6.9 priority 4: #DB traps of the previous instruction, held over one
	 * more instruction by MOV SS (SDM 6.8.3). Delivery may exit (bitmap). */
	if ((ev & CPU_EV_DBTRAP) && !movss) {
		debug_deliver_trap(cpu, 0);
		return delivered(cpu);
	}
	if (preempt_expired(cpu))
		return boundary_exit(cpu, EXIT_REASON_PREEMPTION_TIMER, 0, 0);
	if (nmi_and_interrupts(cpu, ev, shadow))
		return true;
	if (cpu->events & CPU_EV_VMX)
		drop_boundary_work(cpu);
	return false;
}
