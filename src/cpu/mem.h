/*
 * Memory access as instructions see it: segmentation, then paging, then the bus.
 *
 * Data accesses take a segment (SEG_*) and an offset (an effective address already
 * truncated to the address size). They apply the SDM's checks in order — segment
 * usability, type and limit (not in 64-bit mode), canonical form in 64-bit mode
 * (#GP(0), or #SS(0) for SS), alignment check (#AC(0) at CPL 3 with CR0.AM and AC),
 * then paging (#PF) — and raise the exception with cpu_exception(), never returning
 * on a fault. The common case is a software-TLB hit: a compare and a host load.
 */
#ifndef TURTLES_CPU_MEM_H
#define TURTLES_CPU_MEM_H

#include "cpu/cpu.h"

/* osz = log2 bytes, 0..3 */
uint64_t mem_read(struct cpu *cpu, int seg, uint64_t off, int osz);
void mem_write(struct cpu *cpu, int seg, uint64_t off, int osz, uint64_t v);

/* Checks that a later mem_write to [off, off+size) will not fault (for instructions
 * that must fault before changing anything, e.g. a read-modify-write of memory that is
 * readable but not writable: the read must not happen without the write check). */
void mem_check_write(struct cpu *cpu, int seg, uint64_t off, int size);

/* Linear-address accesses for implicit supervisor accesses to system structures
 * (GDT, LDT, IDT, TSS: SDM 4.6 "implicit supervisor-mode access") and for anything
 * that has already done its own segmentation. acc = ACC_* below. */
#define ACC_READ 0
#define ACC_WRITE 1
#define ACC_EXEC 2
#define ACC_IMPLICIT 4 /* supervisor access regardless of CPL */
uint64_t lin_read(struct cpu *cpu, gva_t la, int osz, unsigned acc);
void lin_write(struct cpu *cpu, gva_t la, int osz, uint64_t v, unsigned acc);

/* Instruction fetch: a pointer to the code bytes at linear address la, with *avail
 * bytes readable until the end of the page, and the guest-physical address for the
 * decoded-instruction cache. Raises #PF (with I/D set when NX applies) on failure. */
const uint8_t *mem_fetch(struct cpu *cpu, gva_t la, int *avail, gpa_t *gpa);

/* Translate without side effects other than A/D updates; returns false and fills
 * *pfec on a fault (used by VMX later, and by the debugger). */
bool mmu_translate(struct cpu *cpu, gva_t la, unsigned acc, int cpl, gpa_t *gpa,
		   uint32_t *pfec);

/* TLB maintenance (SDM 4.10.4). */
void tlb_flush_all(struct cpu *cpu);          /* including global entries */
void tlb_flush_nonglobal(struct cpu *cpu);    /* MOV CR3 without PCID no-flush */
void tlb_flush_page(struct cpu *cpu, gva_t la); /* INVLPG */
void tlb_flush_pcid(struct cpu *cpu, uint16_t pcid, bool keep_global);
/* A RAM page became a code page: stop writing to it through the fast path. */
void tlb_drop_fast_writes(struct cpu *cpu, uint64_t pfn);

#endif
