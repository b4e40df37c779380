/*
 * Raising and delivering exceptions and interrupts (SDM Vol.3A ch.6).
 *
 * cpu_exception() is called from anywhere inside an instruction: it records the fault
 * and unwinds (longjmp) to the run loop, which delivers it through the IDT with the
 * double-fault and triple-fault rules of SDM 6.15 (Table 6-5). The event types follow
 * the VMX interruption-information types (SDM 26.8.3) so that VM entry injection and
 * IDT-vectoring information can reuse them.
 */
#ifndef TURTLES_CPU_EXCEPTION_H
#define TURTLES_CPU_EXCEPTION_H

#include "cpu/cpu.h"

enum event_type {
	EVENT_EXTERNAL = 0,   /* external interrupt */
	EVENT_NMI = 2,
	EVENT_HW_EXCEPTION = 3,
	EVENT_SW_INT = 4,     /* INT n */
	EVENT_PRIV_SW_EXC = 5, /* INT1 (ICEBP) */
	EVENT_SW_EXC = 6,     /* INT3, INTO */
};

/* The values cpu->fault_jmp is longjmp'd with: a fault to deliver (cpu_exception), or
 * a VM exit that ended the instruction or event delivery (vmx_exit_unwind: nothing
 * to deliver, the run loop goes on in the VMM or returns to a native one). */
#define CPU_UNWIND_FAULT 1
#define CPU_UNWIND_VMEXIT 2

/* Raise a fault or trap for the current instruction. error_code = NO_ERROR_CODE for
 * vectors without one. Never returns. */
_Noreturn void cpu_exception(struct cpu *cpu, int vector, uint32_t error_code);
/* #PF: records the faulting linear address for CR2 (written at delivery, SDM 4.7). */
_Noreturn void cpu_page_fault(struct cpu *cpu, gva_t addr, uint32_t error_code);

static inline _Noreturn void cpu_gp(struct cpu *cpu, uint32_t error_code)
{
	cpu_exception(cpu, EXC_GP, error_code);
}

static inline _Noreturn void cpu_ud(struct cpu *cpu)
{
	cpu_exception(cpu, EXC_UD, NO_ERROR_CODE);
}

/*
 * Deliver an event through the IDT now (real-mode IVT, protected-mode and IA-32e
 * gates, privilege and stack switches, IST). Called by the run loop for pending
 * faults, by INT n/INT3/INTO/INT1 handlers (rip/next_rip already set so that the
 * pushed return address is right), and for external interrupts and NMI. A fault during
 * delivery is classified per SDM 6.15 into a double fault or a shutdown.
 */
void cpu_deliver_event(struct cpu *cpu, int vector, enum event_type type,
		       uint32_t error_code);

/* The run loop calls this after cpu_exception() unwound to it: deliver the recorded
 * exception (exc_vector/exc_error/exc_cr2), combining with an event being delivered
 * into #DF or shutdown (SDM 6.15). */
void cpu_deliver_fault(struct cpu *cpu);

/* The run loop calls this after an instruction that began with RFLAGS.TF = 1: the
 * single-step #DB trap (SDM 18.3.1.4), delivered before any other pending event. */
void cpu_single_step_trap(struct cpu *cpu);

/*
 * At an instruction boundary: deliver the highest-priority pending event (SDM 6.9:
 * INIT/SIPI, NMI, maskable interrupt; honouring IF, the STI/MOV-SS shadow and NMI
 * blocking) and wake the CPU from HLT. Returns true if something was delivered.
 */
bool cpu_handle_events(struct cpu *cpu);

#endif
