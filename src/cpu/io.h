/*
 * Port I/O as instructions see it: the I/O permission check (IOPL, then the TSS I/O
 * bitmap, SDM Vol.1 19.5) and the bus access. Both raise #GP(0) through
 * cpu_exception() when access is denied.
 */
#ifndef TURTLES_CPU_IO_H
#define TURTLES_CPU_IO_H

#include "cpu/cpu.h"

/* size in bytes: 1, 2 or 4 */
void io_check_permission(struct cpu *cpu, uint16_t port, int size);
uint32_t io_in(struct cpu *cpu, uint16_t port, int size);
void io_out(struct cpu *cpu, uint16_t port, int size, uint32_t value);

#endif
