/*
 * Internals shared by the system-instruction files (seg.c, idt.c, exception.c,
 * exec_far*.c, exec_cr.c, exec_dtr.c, exec_segops.c, ...): descriptor fields, mode
 * tests, the stack-frame builder for far transfers and event delivery, and the TSS
 * stack look-ups. Not part of the executor contract.
 */
#ifndef TURTLES_CPU_SYS_H
#define TURTLES_CPU_SYS_H

#include "cpu/exec.h"
#include "cpu/seg.h"

/* --- modes ------------------------------------------------------------------- */

static inline bool cpu_is_64(const struct cpu *cpu)
{
	return cpu->mode == MODE_LONG64;
}

/* Protected mode proper: CR0.PE = 1 and EFLAGS.VM = 0. */
static inline bool cpu_is_prot(const struct cpu *cpu)
{
	return cpu->mode != MODE_REAL && cpu->mode != MODE_VM86;
}

static inline bool cpu_is_ia32e(const struct cpu *cpu)
{
	return cpu->efer & EFER_LMA;
}

/* SDM Vol.1 3.3.7.1: bits 63:47 all equal (48-bit linear addresses, no LA57). */
static inline bool is_canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static inline unsigned cpu_iopl(const struct cpu *cpu)
{
	return (cpu->rflags >> RFLAGS_IOPL_SHIFT) & 3;
}

/* --- descriptors (SDM 3.4.5, Figure 3-8), on the raw low quadword ------------ */

static inline unsigned desc_type(uint64_t d) { return (d >> 40) & 0xF; }
static inline bool desc_s(uint64_t d) { return (d >> 44) & 1; }
static inline unsigned desc_dpl(uint64_t d) { return (d >> 45) & 3; }
static inline bool desc_p(uint64_t d) { return (d >> 47) & 1; }
static inline bool desc_l(uint64_t d) { return (d >> 53) & 1; }
static inline bool desc_db(uint64_t d) { return (d >> 54) & 1; }

static inline bool desc_is_code(uint64_t d) { return desc_s(d) && (desc_type(d) & 8); }
static inline bool desc_is_data(uint64_t d) { return desc_s(d) && !(desc_type(d) & 8); }
static inline bool desc_conforming(uint64_t d) { return desc_is_code(d) && (desc_type(d) & 4); }
/* Readable code, or any data segment (SDM Table 3-1). */
static inline bool desc_readable(uint64_t d)
{
	return desc_is_data(d) || (desc_is_code(d) && (desc_type(d) & 2));
}
static inline bool desc_writable_data(uint64_t d)
{
	return desc_is_data(d) && (desc_type(d) & 2);
}

/* Gate fields (SDM 5.8.3 Figure 5-8, 6.11 Figure 6-2, 6.14.1 Figure 6-8). */
static inline uint16_t gate_selector(uint64_t d) { return (d >> 16) & 0xFFFF; }
static inline uint64_t gate_offset(const uint64_t d[2], bool wide)
{
	uint64_t off = (d[0] & 0xFFFF) | ((d[0] >> 32) & 0xFFFF0000);
	if (wide)
		off |= d[1] << 32;
	return off;
}

/* System-segment and gate types (SDM Table 3-2). */
enum {
	SYS_TSS16_AVAIL = 1, SYS_LDT = 2, SYS_TSS16_BUSY = 3, SYS_CALL16 = 4, SYS_TASK = 5,
	SYS_INT16 = 6, SYS_TRAP16 = 7, SYS_TSS_AVAIL = 9, SYS_TSS_BUSY = 11, SYS_CALL = 12,
	SYS_INT = 14, SYS_TRAP = 15,
};

/* Error code for a selector (SDM 6.13, Figure 6-7): index and TI, plus EXT. */
static inline uint32_t sel_err(uint16_t sel, uint32_t ext)
{
	return (sel & 0xFFFC) | ext;
}

/* Read a descriptor or raise vector(sel_err(sel, ext)) if sel is outside the table. */
void seg_fetch_desc(struct cpu *cpu, uint16_t sel, uint64_t d[2], bool wide, int vector,
		    uint32_t ext);
/* The 8-byte descriptor of sel, if reading it can neither fault nor have a side effect
 * (within the table limit, and a TLB hit: lin_hit); false otherwise, nothing read. For
 * fast paths that fall back to seg_fetch_desc() and its faults. */
bool seg_peek_desc(struct cpu *cpu, uint16_t sel, uint64_t *d);
/* Set the accessed bit in the descriptor in memory if it is clear (SDM 3.4.5.1). */
void seg_set_accessed(struct cpu *cpu, uint16_t sel, uint64_t d);
/* Load CS from a checked code descriptor at privilege cpl; updates the mode. */
void seg_load_cs(struct cpu *cpu, uint16_t sel, const uint64_t d[2], unsigned cpl);
/* Load SS from a checked descriptor with RPL = DPL = cpl. */
void seg_load_ss(struct cpu *cpu, uint16_t sel, const uint64_t d[2], unsigned cpl);
/* A null selector: the register becomes unusable (SDM 3.4.3, VMX AR bit 16). */
void seg_make_null(struct seg *s, uint16_t sel, unsigned dpl);
/* After a return to an outer ring: null ES/DS/FS/GS that the new CPL may not use
 * (SDM Vol.2 RET/IRET "FOR each SegReg in (ES, FS, GS, DS)"). */
void seg_null_outer(struct cpu *cpu);
/* Offset check of [off, off+size) against a cached segment (type, limit, expand-down). */
bool seg_access_ok(const struct seg *s, uint64_t off, int size, bool write);

/* Check a target code descriptor for a far transfer's new CS: the checks common to
 * JMP/CALL/RET/IRET/interrupts (SDM Vol.2 JMP, 64-bit code needs L=1 D=0 in IA-32e). */
bool code_desc_long_ok(const struct cpu *cpu, uint64_t d);

/* --- stack frames ------------------------------------------------------------ */

/*
 * A stack that is about to be written: the current one, or the inner one of a stack
 * switch. Pushes are written to memory at once but RSP changes only when the caller
 * commits (stk_commit), so a fault leaves the registers alone (SDM Vol.2 CALL: "if a
 * fault occurs ... the processor state is unchanged").
 */
struct stk {
	struct seg ss;      /* the segment the pushes go through */
	uint64_t rsp;       /* running value */
	uint64_t mask;      /* 0xFFFF, 0xFFFFFFFF or ~0 (SS.B, 64-bit mode) */
	bool lm64;          /* 64-bit stack: canonical checks, base 0, no limit */
	int vector;         /* #SS normally */
	uint32_t err;       /* its error code: 0/EXT, or the new SS selector | EXT */
	unsigned acc;       /* ACC_* for lin_write: ACC_IMPLICIT for an inner stack */
};

void stk_current(struct cpu *cpu, struct stk *s);
void stk_push(struct cpu *cpu, struct stk *s, int bytes, uint64_t v);
/* Push n quadwords v[0], v[1], ... on a stack (64-bit event delivery, SDM 6.14.2):
 * the same effects and faults as n stk_push(cpu, s, 8, v[i]), in one copy when the
 * frame lies in one page the TLB allows writing. */
void stk_push_frame(struct cpu *cpu, struct stk *s, int n, const uint64_t v[]);
/* Fast path of n reads of bytes each at RSP + off, RSP + off + bytes, ... on a 64-bit
 * stack: true and the items in v[] if one TLB hit covers them all (then no read could
 * fault); false, nothing read, and the caller reads with stk_read. */
bool stk_peek(struct cpu *cpu, const struct stk *s, uint64_t off, int bytes, int n,
	      uint64_t v[]);
/* Read bytes at RSP + off without moving (RET/IRET frames, call-gate parameters). */
uint64_t stk_read(struct cpu *cpu, const struct stk *s, uint64_t off, int bytes);
/* Store the new stack pointer into RSP, merging by width (16-bit SP keeps RSP[63:16]). */
void stk_commit(struct cpu *cpu, const struct stk *s);

/* --- TSS (SDM 8.2.1 Figure 8-2, 8.7 Figure 8-11) ------------------------------ */

/* Inner stack for privilege level dpl from a 16/32-bit TSS: raises #TS(TR | ext). */
void tss_legacy_stack(struct cpu *cpu, unsigned dpl, uint16_t *ss, uint32_t *sp,
		      uint32_t ext);
/* RSPn (n = 0..2) or ISTn (ist = 1..7) from the 64-bit TSS: raises #TS(TR | ext). */
uint64_t tss64_stack(struct cpu *cpu, unsigned dpl, unsigned ist, uint32_t ext);

/* --- misc -------------------------------------------------------------------- */

/* Flat segments as SYSCALL/SYSENTER load them (SDM Vol.2 SYSCALL "CS.Base := 0 ..."). */
void seg_set_flat(struct seg *s, uint16_t sel, unsigned type, unsigned dpl, bool code64);

/* The TSC as RDTSC/RDMSR see it: virtual time at CLOCK_TSC_HZ plus IA32_TSC's offset. */
uint64_t cpu_read_tsc(struct cpu *cpu);

/* MOV CR0 / CR4 with every #GP(0) rule, TLB flushes and the mode update (exec_cr.c;
 * LMSW, CLTS and later VM entry/exit use them). */
void cpu_write_cr0(struct cpu *cpu, uint64_t v);
void cpu_write_cr4(struct cpu *cpu, uint64_t v);
/* The CR4 bits MOV to CR4 may set: those of advertised features (exec_cr.c). */
uint64_t cpu_cr4_allowed(const struct cpu *cpu);
/* CR4.UMIP: SGDT/SIDT/SLDT/STR/SMSW at CPL > 0 raise #GP(0). */
void cpu_umip_check(struct cpu *cpu);

/* Set or clear ZF alone (LAR/LSL/VERR/VERW/ARPL). */
static inline void set_zf(struct cpu *cpu, bool zf)
{
	uint64_t f = cpu_get_rflags(cpu);
	cpu_set_rflags(cpu, zf ? f | RFLAGS_ZF : f & ~RFLAGS_ZF);
}

#endif
