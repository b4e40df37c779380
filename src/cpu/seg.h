/*
 * Segmentation (SDM Vol.3A ch.3 and 5): loading segment registers with the SDM's
 * checks, reading descriptors, and privilege checks shared by far transfers.
 */
#ifndef TURTLES_CPU_SEG_H
#define TURTLES_CPU_SEG_H

#include "cpu/cpu.h"

/* MOV/POP Sreg, LxS: load a data or stack segment register (not CS) as the current
 * mode requires; faults #GP/#SS/#NP(selector) per SDM Vol.2 MOV. */
void seg_load(struct cpu *cpu, int seg, uint16_t sel);

/* Real-mode and virtual-8086 style load: base = sel << 4, other attributes kept. */
void seg_load_real(struct cpu *cpu, int seg, uint16_t sel);

/* Read the 8-byte (or 16-byte system, in IA-32e mode) descriptor for sel from the GDT
 * or LDT; raises #GP(sel & ~3) if outside the table limit (err_vec chooses #TS etc.). */
bool seg_read_descriptor(struct cpu *cpu, uint16_t sel, uint64_t desc[2], bool wide);

/* Convert a descriptor to the cached form (VMX access-rights layout). */
void seg_from_descriptor(struct seg *s, uint16_t sel, const uint64_t desc[2]);

#endif
