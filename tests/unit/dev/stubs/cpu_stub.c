/*
 * Test-only cpu_set_intr / cpu_signal with the semantics cpu.h documents: they set
 * bits in cpu->events (CPU_EV_INTR follows the line level; NMI, INIT, SIPI latch) and
 * SIPI records its vector. Tests observe exactly these fields.
 */
#include "cpu/cpu.h"

void cpu_set_intr(struct cpu *cpu, bool asserted)
{
	if (asserted)
		cpu->events |= CPU_EV_INTR;
	else
		cpu->events &= ~(uint32_t)CPU_EV_INTR;
}

void cpu_signal(struct cpu *cpu, uint32_t event, uint8_t sipi_vector)
{
	cpu->events |= event;
	if (event & CPU_EV_SIPI)
		cpu->sipi_vector = sipi_vector;
}

void cpu_request_stop(struct cpu *cpu)
{
	cpu->stop_requested = true;
}
