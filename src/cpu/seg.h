/*
 * Segmentation (SDM Vol.3A ch.3 and 5): loading segment registers with the SDM's
 * checks, reading descriptors, and the segment checks of data accesses.
 */
#ifndef TURTLES_CPU_SEG_H
#define TURTLES_CPU_SEG_H

#include "cpu/cpu.h"

/* MOV/POP Sreg, LxS: load a data or stack segment register (not CS) as the current
 * mode requires; faults #GP/#SS/#NP(selector) per SDM Vol.2 MOV. Real mode and
 * virtual-8086 mode go to seg_load_real(). */
void seg_load(struct cpu *cpu, int seg, uint16_t sel);

/* Real-mode and virtual-8086 style load: base = sel << 4, other attributes kept
 * (SDM 20.1.1; the limit and attributes stay what they were: "unreal" mode works). */
void seg_load_real(struct cpu *cpu, int seg, uint16_t sel);

/* Read the 8-byte descriptor for sel from the GDT or LDT (16 bytes when wide: system
 * descriptors in IA-32e mode, SDM 8.2.3/3.5.2). Returns false, reading nothing, if
 * the selector is outside the table limit or names the LDT while LDTR is unusable;
 * the caller raises #GP, #TS or #NP with the selector as the SDM says for it. A fault
 * of the memory read itself (#PF) is raised by the MMU. */
bool seg_read_descriptor(struct cpu *cpu, uint16_t sel, uint64_t desc[2], bool wide);

/* Convert a descriptor to the cached form (VMX access-rights layout). For wide system
 * descriptors desc[1] supplies base[63:32]. */
void seg_from_descriptor(struct seg *s, uint16_t sel, const uint64_t desc[2]);

/*
 * The segment part of a data access (SDM 5.3, 5.4.1; SDM Vol.2 "Protected Mode
 * Exceptions: #GP(0) if a memory operand effective address is outside the segment
 * limit, ... #SS(0) ... SS"), for the MMU (mem.c) to call before paging:
 *
 *   - 64-bit mode: no check at all (the MMU checks the canonical form of the linear
 *     address; FS/GS contribute their base, the others base 0 — SDM 3.4.4).
 *   - unusable (null) segment: #GP(0) (#SS(0) for SS);
 *   - write to a code segment or a read-only data segment, read of an execute-only
 *     code segment: #GP(0) (#SS(0) for SS);
 *   - limit: expand-up needs off + size - 1 <= limit; expand-down (data type bit 2)
 *     needs off > limit and off + size - 1 <= 0xFFFF (B = 0) or 0xFFFFFFFF (B = 1):
 *     #GP(0), or #SS(0) for SS (SDM 5.3, 3.4.5.1).
 *   - real mode uses the same cached limit (64 KiB normally, SDM 20.1.3 #GP/#SS).
 *
 * Returns true when the access is allowed; on a violation it raises the fault through
 * cpu_exception() and does not return. off is the effective address (already
 * truncated to the address size); size is 1..16 bytes.
 */
bool seg_check_access(struct cpu *cpu, int seg, uint64_t off, int size, bool write);

#endif
