/*
 * Raising exceptions, the double-fault and shutdown rules, pending events at
 * instruction boundaries, and the single-step trap (SDM Vol.3A ch.6, 18.3.1.4).
 * Delivery through the IDT itself is idt.c; breakpoints and the other debug
 * exceptions are debug.c, whose pending #DB traps are delivered here.
 *
 * Not implemented (documented limits): SMI/SMM (an SMI is dropped), machine checks
 * (#MC is never raised), the BTF block-step mode.
 */
#include <string.h>

#include "cpu/debug.h"
#include "cpu/sys.h"
#include "cpu/vmx/vmx_internal.h"

_Noreturn void cpu_exception(struct cpu *cpu, int vector, uint32_t error_code)
{
	cpu->exc_vector = (uint8_t)vector;
	cpu->exc_error = error_code;
	longjmp(cpu->fault_jmp, CPU_UNWIND_FAULT);
}

_Noreturn void cpu_page_fault(struct cpu *cpu, gva_t addr, uint32_t error_code)
{
	cpu->exc_cr2 = addr; /* loaded into CR2 when the #PF is delivered (SDM 4.7) */
	cpu_exception(cpu, EXC_PF, error_code);
}

/* SDM 6.15, Table 6-4: the three classes of exceptions. */
enum exc_class { EXC_BENIGN, EXC_CONTRIBUTORY, EXC_PAGE_FAULT };

static enum exc_class exc_class_of(int vector)
{
	switch (vector) {
	case EXC_DE: case EXC_TS: case EXC_NP: case EXC_SS: case EXC_GP: case EXC_CP:
		return EXC_CONTRIBUTORY;
	case EXC_PF: case EXC_VE:
		return EXC_PAGE_FAULT;
	default:
		return EXC_BENIGN;
	}
}

/* SDM 6.15, Table 6-5: does a second exception during delivery of the first make a
 * double fault? (Otherwise the two are handled serially: the second is delivered.) */
static bool makes_double_fault(int first, int second)
{
	enum exc_class a = exc_class_of(first), b = exc_class_of(second);
	if (a == EXC_CONTRIBUTORY)
		return b == EXC_CONTRIBUTORY;
	if (a == EXC_PAGE_FAULT)
		return b != EXC_BENIGN;
	return false;
}

/* SDM 6.15 "Interrupt 8": a fault while delivering #DF is a triple fault; the
 * processor enters shutdown. exc_vector/exc_error keep the last fault and delivering
 * stays EXC_DF for the report (cpu_dump). */
static void enter_shutdown(struct cpu *cpu)
{
	if (unlikely(cpu->vmx.non_root))
		vmx_triple_fault_exit(cpu); /* SDM 27.2: exit reason 2, not a shutdown */
	cpu->shutdown = true;
	cpu->halted = true;
	cpu->mwait = false;
	cpu->delivering = EXC_DF;
}

void cpu_deliver_fault(struct cpu *cpu)
{
	jmp_buf outer;
	memcpy(outer, cpu->fault_jmp, sizeof(jmp_buf));
	debug_drop_hits(cpu); /* the faulting instruction did not complete */
	/* The event whose delivery the recorded fault interrupted (-1: none, or a
	 * benign event such as an interrupt or INT n). */
	volatile int first = cpu->delivering;
	for (;;) {
		volatile int vector = cpu->exc_vector;
		volatile uint32_t err = cpu->exc_error;
		/* SDM 27.2.1: in VMX non-root operation the exception bitmap is consulted
		 * before the double-fault rules (the exit reports the event being
		 * delivered as IDT-vectoring information). */
		if (unlikely(cpu->vmx.non_root))
			vmx_exception_exit_check(cpu, vector, err, false);
		if (first == EXC_DF) {
			enter_shutdown(cpu);
			break;
		}
		if (first >= 0 && makes_double_fault(first, vector)) {
			vector = EXC_DF;
			err = 0; /* SDM 6.15: #DF pushes an error code of 0 */
			/* SDM 29.2.4: a #DF that exits does so directly, not "during
			 * delivery" of the events that made it. */
			if (unlikely(cpu->vmx.non_root))
				vmx_exception_exit_check(cpu, EXC_DF, 0, true);
		}
		if (vector == EXC_PF)
			cpu->cr2 = cpu->exc_cr2; /* SDM 4.7: CR2 holds the faulting address */
		switch (setjmp(cpu->fault_jmp)) {
		case 0:
			cpu_deliver_event(cpu, vector, EVENT_HW_EXCEPTION, err);
			cpu->delivering = -1;
			memcpy(cpu->fault_jmp, outer, sizeof(jmp_buf));
			return;
		case CPU_UNWIND_VMEXIT: /* the delivery ended in a VM exit: nothing more */
			cpu->delivering = -1;
			memcpy(cpu->fault_jmp, outer, sizeof(jmp_buf));
			longjmp(cpu->fault_jmp, CPU_UNWIND_VMEXIT);
		default:
			break;
		}
		first = cpu->delivering; /* a fault while delivering 'vector' */
	}
	memcpy(cpu->fault_jmp, outer, sizeof(jmp_buf));
}

void cpu_single_step_trap(struct cpu *cpu)
{
	/* INT n/INT3/INTO/INT1 clear TF and are not followed by a trap (SDM 18.3.1.4). */
	if (cpu->tf_no_trap) {
		cpu->tf_no_trap = false;
		return;
	}
	/* MOV SS/POP SS inhibit the single-step trap for one instruction (SDM 6.8.3); TF
	 * is still set, so the next instruction traps. */
	if (cpu->intr_shadow && (cpu->intr_shadow_kind & SHADOW_MOVSS))
		return;
	/* A trap: RIP already points to the next instruction. DR6.BS (SDM 18.2.3), with
	 * the data/I-O breakpoints and task-switch trap of the same instruction in one
	 * #DB (debug.c). A fault while delivering it unwinds to the run loop with
	 * delivering = #DB (benign: handled serially). */
	if (unlikely(cpu->vmx.non_root && (cpu->vmx.ctl.proc & PROC_MONITOR_TRAP_FLAG))) {
		/* SDM 27.5.2: an MTF VM exit comes before the #DB trap, which stays
		 * pending for the boundary (vmx_handle_events; the exit saves it). */
		cpu->dbg.hits |= DR6_BS;
		cpu->events |= CPU_EV_DBTRAP;
		return;
	}
	debug_deliver_trap(cpu, DR6_BS);
}

/* An NMI or interrupt was just delivered: a #DB trap its delivery raised (the T flag
 * of a task-gate's TSS, SDM 18.3.1.5; a data breakpoint on the frame) comes before the
 * handler's first instruction. */
static void after_event(struct cpu *cpu)
{
	if (unlikely(cpu->events & CPU_EV_DBTRAP))
		debug_deliver_trap(cpu, 0);
}

/* SIPI: start at vector << 12 in real mode (SDM 10.4.4.1; 11.6.1 "Start-up IPI"). */
static void start_from_sipi(struct cpu *cpu, uint8_t vector)
{
	struct seg *cs = &cpu->seg[SEG_CS];
	cs->sel = (uint16_t)(vector << 8);
	cs->base = (uint64_t)vector << 12;
	cs->limit = 0xFFFF;
	cs->ar = 0x9B;
	cpu->rip = cpu->next_rip = 0;
	cpu->wait_for_sipi = false;
	cpu->halted = false;
}

/* INIT, SIPI and SMI: not blocked by IF, the shadow or NMI blocking (SDM 6.9 Table
 * 6-2 priority 3, before NMI and INTR). Returns true if one took effect. */
static bool handle_init_sipi(struct cpu *cpu)
{
	uint32_t ev = cpu->events;
	cpu->events &= ~CPU_EV_SMI; /* no SMM: an SMI is dropped */
	if ((ev & CPU_EV_INIT) && !vmx_init_blocked(cpu)) {
		/* A SIPI still pending arrived after this INIT (cpu_signal() drops the
		 * earlier ones): keep it for the wait-for-SIPI state INIT enters, as an
		 * INIT-SIPI pair sent back to back must start the AP (SDM 10.4.4.1). */
		cpu->events &= ~CPU_EV_INIT;
		cpu_do_init(cpu);
		return true;
	}
	if (ev & CPU_EV_SIPI) {
		cpu->events &= ~CPU_EV_SIPI;
		if (cpu->wait_for_sipi) { /* a SIPI outside wait-for-SIPI is ignored */
			start_from_sipi(cpu, cpu->sipi_vector);
			return true;
		}
	}
	return false;
}

bool cpu_handle_events(struct cpu *cpu)
{
	/* VMX non-root operation has its own priorities and exits (vmx_events.c). */
	if (unlikely(cpu->vmx.non_root))
		return vmx_handle_events(cpu);
	if (cpu->events & (CPU_EV_INIT | CPU_EV_SIPI | CPU_EV_SMI)) {
		if (handle_init_sipi(cpu))
			return true;
	}
	/* Wait-for-SIPI and shutdown hold NMI and INTR pending (SDM 10.4.2, 6.15). */
	if (cpu->wait_for_sipi || cpu->shutdown)
		return false;
	bool shadow = cpu->intr_shadow != 0; /* SDM 6.8.3: blocks NMI and INTR too */
	/* SDM 6.9 Table 6-2: traps on the previous instruction (priority 4: breakpoints,
	 * single-step) come before NMI (5) and INTR (6); MOV SS holds them over the next
	 * instruction (SDM 6.8.3), STI does not. */
	if ((cpu->events & CPU_EV_DBTRAP) &&
	    !(shadow && (cpu->intr_shadow_kind & SHADOW_MOVSS))) {
		debug_deliver_trap(cpu, 0);
		return true;
	}
	if ((cpu->events & CPU_EV_NMI) && !cpu->nmi_blocked && !shadow) {
		cpu->events &= ~CPU_EV_NMI;
		cpu->halted = false; /* SDM Vol.2 HLT: NMI resumes execution */
		cpu_deliver_event(cpu, EXC_NMI, EVENT_NMI, NO_ERROR_CODE);
		after_event(cpu);
		return true;
	}
	/* Maskable interrupts need RFLAGS.IF = 1 and no shadow; with IF = 0 an INTR does
	 * not wake HLT either (SDM Vol.2 HLT: "an enabled interrupt"). */
	if ((cpu->events & CPU_EV_INTR) && (cpu->rflags & RFLAGS_IF) && !shadow &&
	    cpu->apic_ops && cpu->apic_ops->intr_ack) {
		int vector = cpu->apic_ops->intr_ack(cpu->apic);
		if (vector < 0)
			return false; /* withdrawn before the acknowledge: nothing happens */
		cpu->halted = false;
		cpu_deliver_event(cpu, vector, EVENT_EXTERNAL, NO_ERROR_CODE);
		after_event(cpu);
		return true;
	}
	return false;
}
