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

#include <string.h>

#include "cpu/cpu.h"

/* osz = log2 bytes, 0..3. mem_read/mem_write are inline (below): a TLB hit in 64-bit
 * mode is a compare and a host load or store; everything else goes to the out-of-line
 * halves, which do the whole job (segment checks, TLB fills, page crossings, MMIO). */
static inline uint64_t mem_read(struct cpu *cpu, int seg, uint64_t off, int osz);
static inline void mem_write(struct cpu *cpu, int seg, uint64_t off, int osz, uint64_t v);
uint64_t mem_read_slow(struct cpu *cpu, int seg, uint64_t off, int osz);
void mem_write_slow(struct cpu *cpu, int seg, uint64_t off, int osz, uint64_t v);

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
 * decoded-instruction cache, or MEM_GPA_ALONE (beyond any RAM) for a page whose
 * instructions must run one at a time and not be cached (an armed instruction
 * breakpoint on it: debug.h). Raises #PF (with I/D set when NX applies) on failure,
 * and the instruction-breakpoint #DB. */
#define MEM_GPA_ALONE (~0ULL & PAGE_MASK)
static inline const uint8_t *mem_fetch(struct cpu *cpu, gva_t la, int *avail, gpa_t *gpa);
const uint8_t *mem_fetch_slow(struct cpu *cpu, gva_t la, int *avail, gpa_t *gpa);

/* Translate without side effects other than A/D updates; returns false and fills
 * *pfec on a fault (used by VMX later, and by the debugger). In VMX non-root operation
 * with EPT, *gpa is the silicon-physical address after EPT (an EPT violation or
 * misconfiguration takes its VM exit). */
bool mmu_translate(struct cpu *cpu, gva_t la, unsigned acc, int cpl, gpa_t *gpa,
		   uint32_t *pfec);

/* TLB maintenance (SDM 4.10.4). */
void tlb_flush_all(struct cpu *cpu);          /* including global entries */
void tlb_flush_nonglobal(struct cpu *cpu);    /* MOV CR3 without PCID no-flush */
void tlb_flush_page(struct cpu *cpu, gva_t la); /* INVLPG */
void tlb_flush_pcid(struct cpu *cpu, uint16_t pcid, bool keep_global);
/* A RAM page became a code page: stop writing to it through the fast path. */
void tlb_drop_fast_writes(struct cpu *cpu, uint64_t pfn);
/* A hardware breakpoint was armed or disarmed on the linear page of la (debug.c):
 * recompute that page's fast-path tags wherever it is cached. */
void tlb_retag_page(struct cpu *cpu, gva_t la);

/* Notifications from the writers of CR0/CR3/CR4/EFER/IA32_APIC_BASE (MOV CR, LMSW,
 * CLTS, WRMSR, task switch, RSM, VM entry/exit), after the new value is in struct cpu.
 * They do every invalidation SDM 4.10.4.1 requires, so no tlb_flush_* is needed too.
 *   tlb_cr3_written: MOV to CR3. noflush = CR4.PCIDE = 1 and bit 63 of the source set
 *     (the caller clears bit 63 before storing CR3). Without it, the new PCID's
 *     non-global entries are invalidated; either way the new PCID becomes current.
 *   tlb_ctl_written: anything else that may have changed CR0.PG/WP, CR4.PSE/PAE/PGE/
 *     PCIDE/SMEP/LA57, EFER.NXE/LMA or IA32_APIC_BASE. Cheap when nothing did.
 *     (CR4.SMAP, EFLAGS.AC, CR0.AM and CPL need no call: they select TLB contexts.) */
void tlb_cr3_written(struct cpu *cpu, bool noflush);
void tlb_ctl_written(struct cpu *cpu);

/* PAE paging (SDM 4.4.1): load the PDPTE registers from the 32-byte table at CR3[31:5].
 * Call with cpu->cr3 (and CR0/CR4) already holding the new values, whenever PAE paging
 * is or will be in use after: MOV to CR3; MOV to CR0/CR4 that changes CR0.CD/NW/PG or
 * CR4.PAE/PGE/PSE/SMEP. Returns false, leaving the registers unchanged, if a present
 * PDPTE sets a reserved bit: the caller restores the old control-register value and
 * raises #GP(0). Not used in IA-32e mode. */
bool mmu_load_pdptrs(struct cpu *cpu);

/* --- the inline fast paths ----------------------------------------------------- */

_Static_assert(ACC_READ == TLB_READ && ACC_WRITE == TLB_WRITE && ACC_EXEC == TLB_EXEC,
	       "access kinds index the TLB tags");

/* TLB context of an explicit data access at the current CPL (tlb.h): CPL 3 is user
 * mode; with CR4.SMAP = 1 and EFLAGS.AC = 0 supervisor accesses may not touch user
 * pages (SDM 4.6.1). -1: alignment checking is on (CR0.AM, EFLAGS.AC, CPL 3: SDM 6.15
 * #AC), every access takes the slow path. */
static inline int mem_data_ctx(const struct cpu *cpu)
{
	bool ac = cpu->rflags & RFLAGS_AC;
	if (cpu->cpl == 3)
		return ac && (cpu->cr0 & CR0_AM) ? -1 : TLB_CTX_USER;
	return ac || !(cpu->cr4 & CR4_SMAP) ? TLB_CTX_SUP : TLB_CTX_SUP_SMAP;
}

/* Host loads and stores of 1 << osz bytes (the host is little-endian like the guest). */
static inline uint64_t mem_host_load(const uint8_t *p, int osz)
{
	uint8_t b; uint16_t w; uint32_t d; uint64_t q;
	switch (osz) {
	case 0: memcpy(&b, p, 1); return b;
	case 1: memcpy(&w, p, 2); return w;
	case 2: memcpy(&d, p, 4); return d;
	default: memcpy(&q, p, 8); return q;
	}
}

static inline void mem_host_store(uint8_t *p, int osz, uint64_t v)
{
	uint8_t b = (uint8_t)v; uint16_t w = (uint16_t)v; uint32_t d = (uint32_t)v;
	switch (osz) {
	case 0: memcpy(p, &b, 1); break;
	case 1: memcpy(p, &w, 2); break;
	case 2: memcpy(p, &d, 4); break;
	default: memcpy(p, &v, 8); break;
	}
}

/* 64-bit mode: FS and GS add their base, the others none (SDM 3.4.4). A non-canonical
 * address never matches a tag, so the canonical check is in the slow path. */
static inline bool mem_fast64(struct cpu *cpu, int seg, uint64_t off, int osz, int kind,
			      uint8_t **host)
{
	if (unlikely(cpu->mode != MODE_LONG64))
		return false;
	int ctx = mem_data_ctx(cpu);
	if (unlikely(ctx < 0))
		return false;
	gva_t la = seg >= SEG_FS ? off + cpu->seg[seg].base : off;
	return tlb_lookup(&cpu->tlb, ctx, la, 1 << osz, kind, host);
}

static inline uint64_t mem_read(struct cpu *cpu, int seg, uint64_t off, int osz)
{
	uint8_t *p;
	if (likely(mem_fast64(cpu, seg, off, osz, ACC_READ, &p)))
		return mem_host_load(p, osz);
	return mem_read_slow(cpu, seg, off, osz);
}

static inline void mem_write(struct cpu *cpu, int seg, uint64_t off, int osz, uint64_t v)
{
	uint8_t *p;
	if (likely(mem_fast64(cpu, seg, off, osz, ACC_WRITE, &p)))
		mem_host_store(p, osz, v);
	else
		mem_write_slow(cpu, seg, off, osz, v);
}

/* TLB context of a linear access acc (ACC_*), as lin_read/lin_write choose it: implicit
 * accesses are supervisor accesses that SMAP keeps off user pages whenever CR4.SMAP = 1
 * (SDM 4.6.1), fetches use the CPL, data accesses mem_data_ctx() (-1: #AC applies). */
static inline int lin_ctx(const struct cpu *cpu, unsigned acc)
{
	if (acc & ACC_IMPLICIT)
		return (cpu->cr4 & CR4_SMAP) ? TLB_CTX_SUP_SMAP : TLB_CTX_SUP;
	if ((acc & 3) == ACC_EXEC)
		return cpu->cpl == 3 ? TLB_CTX_USER : TLB_CTX_SUP;
	return mem_data_ctx(cpu);
}

/*
 * The host pointer for an access acc to all of [la, la+size) (size <= 4096) if the
 * TLB fast path allows it, else NULL; no side effects. A hit means that lin_read /
 * lin_write of those bytes could not fault (a tag exists only for a canonical page
 * that was translated with these rights, and a range that leaves the page misses) and
 * would touch plain RAM only, so system-structure code may copy several items at once
 * (IDT gates, descriptors, exception frames) and fall back to the item-by-item
 * accesses, with their exact fault order, on a miss.
 */
static inline uint8_t *lin_hit(struct cpu *cpu, gva_t la, int size, unsigned acc)
{
	int ctx = lin_ctx(cpu, acc);
	return ctx < 0 ? NULL : tlb_hit(&cpu->tlb, ctx, la, size, (int)(acc & 3));
}

static inline const uint8_t *mem_fetch(struct cpu *cpu, gva_t la, int *avail, gpa_t *gpa)
{
	int ctx = cpu->cpl == 3 ? TLB_CTX_USER : TLB_CTX_SUP;
	const struct tlb_entry *e = tlb_entry_of(&cpu->tlb, ctx, la);
	if (likely(e->tag[ACC_EXEC] == ((la & PAGE_MASK) | cpu->tlb.stamp))) {
		unsigned off = la & ~PAGE_MASK;
		*avail = (int)(PAGE_SIZE - off);
		*gpa = e->gpa | off;
		return (const uint8_t *)(uintptr_t)(la + e->addend);
	}
	return mem_fetch_slow(cpu, la, avail, gpa);
}

#endif
