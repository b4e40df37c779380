/*
 * Hardware breakpoints and the debug exceptions they raise (SDM Vol.3B 18.2 "Debug
 * Registers", 18.3 "Debug Exceptions"; Vol.3A 6.8.3 and Table 6-2 for their timing).
 *
 * The common case, no breakpoint enabled, costs nothing on the hot paths: everything
 * here is reached through slow paths that exist anyway, and only when cpu->dbg.armed
 * says that a kind of breakpoint is enabled.
 *
 *   instruction (R/W = 00)  a linear page holding one has no execute tag in the TLB,
 *                           so every fetch on it goes to mem_fetch_slow(), which
 *                           checks CS:RIP (debug_fetch: a fault-class #DB before the
 *                           instruction, suppressed by RFLAGS.RF) and makes the run
 *                           loop execute that page's instructions one at a time;
 *   data (R/W = 01, 11)     a linear page holding one has no write (and, for 11, no
 *                           read) tag, so accesses to it take the out-of-line paths
 *                           of mem.c, which report matches (debug_data) after the
 *                           access is known not to fault;
 *   I/O (R/W = 10, CR4.DE)  io_in/io_out report matches (debug_io).
 *
 * Data and I/O matches, the task-switch T flag and single-stepping are trap-class:
 * their DR6 bits collect in cpu->dbg (hits for the current instruction, pending for
 * conditions a MOV SS shadow holds over), CPU_EV_DBTRAP in cpu->events makes the run
 * loop stop at the next instruction boundary, and one #DB reports them all
 * (debug_deliver_trap). A fault drops what the faulting instruction collected: it
 * did not complete.
 *
 * RFLAGS.RF (SDM 18.3.1.1): cleared at the start of each instruction, after the
 * instruction-breakpoint check: by run_single() (debug_insn_begin) on a page with an
 * instruction breakpoint, else by run_next() before the block (debug_rf_only).
 * Fault-class exceptions push RF = 1 (idt.c), except an instruction-breakpoint #DB;
 * the general-detect #DB is fault-class and pushes 1 too. A REP string instruction
 * interrupted after an iteration other than its last keeps RF = 1 (exec_string.c), so
 * that an interrupt or a #DB trap taken there pushes RF = 1 and the resumed iteration
 * does not hit the instruction breakpoint again.
 */
#ifndef TURTLES_CPU_DEBUG_H
#define TURTLES_CPU_DEBUG_H

#include "cpu/cpu.h"

/* DR6, SDM 18.2.3 (Figure 18-1). Bits 4-11 and 17-31 read 1, bit 12 reads 0; BLD
 * (bit 11) reads 1 without bus-lock detection, RTM (bit 16) reads 1 without RTM. */
#define DR6_B(n) (1u << (n))
#define DR6_BMASK 0xFu
#define DR6_BD BIT(13)
#define DR6_BS BIT(14)
#define DR6_BT BIT(15)
#define DR6_RTM BIT(16)
#define DR6_FIXED1 0xFFFF0FF0ULL
#define DR6_STATUS (DR6_BMASK | DR6_BD | DR6_BS | DR6_BT)

/* DR7, SDM 18.2.4: L0/G0 in bits 0-1 (breakpoint n at 2n), R/W0 and LEN0 at 16 (n at
 * 16 + 4n), GD at 13; bit 10 reads 1, bits 11, 12, 14, 15 read 0. */
#define DR7_GD BIT(13)
#define DR7_FIXED1 BIT(10)
#define DR7_LOCAL_ENABLES 0x55ULL

/* cpu->dbg.armed */
#define DBG_EXEC BIT(0)
#define DBG_DATA BIT(1)
#define DBG_IO BIT(2)

/* Recompute cpu->dbg.armed and the TLB tags of the pages concerned. Call after every
 * change of DR0-DR3, DR7 or CR4.DE (MOV DR, MOV CR4, task switch, RESET/INIT; VM
 * entry and exit when they load DR7 or CR4). */
void debug_update(struct cpu *cpu);
/* RESET/INIT, after DR0-DR7 got their initial values: nothing pending, nothing armed. */
void debug_reset(struct cpu *cpu);

/* A TLB entry for the linear page 'page' got its fast-path tags (tlb.c): clear those
 * of the access kinds an armed breakpoint on the page watches (execute for R/W = 00,
 * write for 01, read and write for 11), so that those accesses take the slow paths.
 * Only when armed. */
void debug_tlb_strip(const struct cpu *cpu, gva_t page, uint64_t tag[3]);

/* mem_fetch_slow() with DBG_EXEC armed, before translating la: raises the
 * instruction-breakpoint #DB if la is CS:RIP and matches. True if la's page holds an
 * armed instruction breakpoint (its instructions must run one at a time). */
bool debug_fetch(struct cpu *cpu, gva_t la);

/* A data access of size bytes at la (kind ACC_READ or ACC_WRITE) that is about to
 * happen and cannot fault any more; only with DBG_DATA armed. */
void debug_data(struct cpu *cpu, gva_t la, int size, int kind);

/* An I/O access to size ports from port; only with DBG_IO armed. */
void debug_io(struct cpu *cpu, uint16_t port, int size);

/* A fault-class #DB now (general detect: dr6 = DR6_BD, rf = true). Never returns. */
_Noreturn void debug_fault(struct cpu *cpu, uint32_t dr6, bool rf);

/* Deliver the pending trap-class conditions, plus extra (DR6_BS for single-step),
 * as one #DB. */
void debug_deliver_trap(struct cpu *cpu, uint32_t extra);

/* The recorded fault is about to be delivered: the faulting instruction did not
 * complete, so the conditions it met are not reported. */
static inline void debug_drop_hits(struct cpu *cpu)
{
	if (unlikely(cpu->dbg.hits)) {
		cpu->dbg.hits = 0;
		if (!cpu->dbg.pending)
			cpu->events &= ~CPU_EV_DBTRAP;
	}
}

/* Task switch to a TSS whose T flag is set: #DB with BT before the new task's first
 * instruction (SDM 18.3.1.5). */
void debug_task_trap(struct cpu *cpu);

/* INT1 (ICEBP) is itself a trap-like #DB: it reports the pending conditions. Every
 * #DB clears DR7.GD on entry to its handler (SDM 18.2.4). */
void debug_icebp(struct cpu *cpu);

/* run_next(), when a block cannot start at once: true if the only reason is RF = 1
 * (after IRET from a fault handler), which then ends here, as the next instruction
 * starts (SDM 18.3.1.1), and the block runs. A page with an instruction breakpoint
 * came back from the fetch as MEM_GPA_ALONE (pfn beyond RAM): never RF alone there.
 * Out of line so that the run loop's test stays one instruction. */
bool debug_rf_only(struct cpu *cpu, uint64_t pfn);

/* The run loop, as an instruction starts on its own (run_single): RF is cleared now
 * (SDM 18.3.1.1), and conditions still held from the instruction before (a MOV SS /
 * POP SS shadow, SDM 6.8.3) stop being this instruction's. */
static inline void debug_insn_begin(struct cpu *cpu)
{
	cpu->rflags &= ~RFLAGS_RF;
	if (unlikely(cpu->dbg.hits)) {
		cpu->dbg.pending |= cpu->dbg.hits;
		cpu->dbg.hits = 0;
	}
}

#endif
