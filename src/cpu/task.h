/*
 * Hardware task switching (task.c; SDM Vol.3A ch.8 "Task Management"), for the far
 * transfers (exec_far.c), IRET (exec_iret.c) and event delivery (idt.c). Not part of
 * the executor contract.
 *
 * Protected mode only: in IA-32e mode task switches do not exist and every cause
 * raises #GP (SDM 8.7).
 */
#ifndef TURTLES_CPU_TASK_H
#define TURTLES_CPU_TASK_H

#include "cpu/sys.h"

/* The causes of a task switch (SDM 8.3), numbered as the source of a task-switch VM
 * exit (SDM 29.2.1 Table 29-2: exit qualification bits 31:30). */
enum task_cause { TASK_CALL = 0, TASK_IRET = 1, TASK_JMP = 2, TASK_EVENT = 3 };

/* Far JMP or CALL (call = true) to descriptor d of selector sel: if d is a TSS or a
 * task gate outside IA-32e mode, do the checks of SDM Vol.2 JMP/CALL "TASK-GATE" and
 * "TASK-STATE-SEGMENT" and switch tasks (the return address is next_rip), then
 * return true. Return false, doing nothing, for any other descriptor. */
bool task_far(struct cpu *cpu, uint16_t sel, const uint64_t d[2], bool call);

/* An event vectored through task gate g in the IDT (SDM Vol.2 INT n "TASK-GATE";
 * the caller checked the gate's type, DPL and P). ext: the EXT bit of error codes;
 * err: the error code to push on the new task's stack or NO_ERROR_CODE; eip/eflags:
 * the return address and EFLAGS image saved in the old TSS. */
void task_gate_event(struct cpu *cpu, const uint64_t g[2], uint32_t ext, uint32_t err,
		     uint32_t eip, uint32_t eflags);

/* IRET with EFLAGS.NT = 1: return to the task in the back link of the current TSS
 * (SDM Vol.2 IRET "TASK-RETURN"); #GP(0) in IA-32e mode. */
void task_iret(struct cpu *cpu);

/* For a VMM that emulates a task switch after a task-switch VM exit (SDM 27.4.2; L0,
 * as KVM's emulator does): cpu is an emulation context, outside VMX non-root
 * operation, holding the guest's state before the switch, with next_rip the EIP the
 * old TSS saves (the next instruction for CALL, JMP, IRET and software interrupts, RIP
 * for other events). sel is the TSS selector of the exit qualification; for
 * TASK_EVENT, ext is the EXT bit of error codes and err the event's error code (or
 * NO_ERROR_CODE). Runs SDM 8.3 on cpu; a fault is raised on cpu (cpu_exception), with
 * the state as the SDM leaves it at that point (before or after the commit point). */
void task_switch_emulate(struct cpu *cpu, uint16_t sel, enum task_cause cause, uint32_t ext,
			 uint32_t err);

#endif
