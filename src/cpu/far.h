/*
 * Internals of the far control transfers (exec_far.c, exec_gate.c, exec_iret.c,
 * exec_syscall.c). Not part of the executor contract.
 */
#ifndef TURTLES_CPU_FAR_H
#define TURTLES_CPU_FAR_H

#include "cpu/sys.h"

/* Is off a valid RIP in the code segment of descriptor d (limit, or canonical for a
 * 64-bit code segment in IA-32e mode)? */
bool far_target_ok(const struct cpu *cpu, const uint64_t d[2], uint64_t off);
/* JMP/CALL to a code segment: SDM 5.8.1 privilege rules, #NP, the L/D check; sets the
 * accessed bit. */
void far_check_code(struct cpu *cpu, uint16_t sel, const uint64_t d[2]);
/* RET/IRET return CS checks (RPL >= CPL, DPL rules, #NP, L/D); sets the accessed bit. */
void far_check_return_cs(struct cpu *cpu, uint16_t sel, uint64_t d[2]);
/* RET/IRET outer-ring SS checks; sets the accessed bit. d = 0 for a null SS. */
void far_check_outer_ss(struct cpu *cpu, uint16_t ss, unsigned rpl, bool to64, uint64_t d[2]);
/* Commit: CS = sel at cpl, next_rip = rip. */
void far_enter(struct cpu *cpu, uint16_t sel, const uint64_t d[2], unsigned cpl, uint64_t rip);
/* Commit: SS (or a null SS at rpl) and RSP for a return to an outer ring. */
void far_load_outer_stack(struct cpu *cpu, uint16_t ss, const uint64_t d[2], unsigned rpl,
			  uint64_t rsp, bool to64);

/* Far JMP / CALL through a call gate g (descriptor of gate selector gsel). */
void gate_jmp(struct cpu *cpu, uint16_t gsel, uint64_t g[2]);
void gate_call(struct cpu *cpu, uint16_t gsel, uint64_t g[2]);

#endif
