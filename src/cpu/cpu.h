/*
 * The silicon: one x86-64 logical processor.
 *
 * struct cpu holds the architectural state (SDM Vol.1 ch.3, Vol.3A ch.2) plus the
 * silicon's private caches (TLB, decoded-instruction cache, lazy flags). Segment
 * attributes use the VMX access-rights layout (SDM 26.4.1, Table 26-2) so the VMCS
 * guest-state area can be filled without conversion later.
 *
 * Everything per-CPU lives here; everything per-machine in struct bus / struct clock.
 */
#ifndef TURTLES_CPU_CPU_H
#define TURTLES_CPU_CPU_H

#include <setjmp.h>

#include "cpu/bus.h"
#include "cpu/clock.h"
#include "cpu/insn.h"
#include "cpu/tlb.h"
#include "cpu/types.h"
#include "cpu/vmx/vmx_state.h"

/* General-purpose registers, SDM Vol.1 3.4.1 numbering (ModRM/REX order). */
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

/* Segment registers in the order of the Sreg encoding (SDM Vol.2 Table 3-6). */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT };

/* Access rights, VMX layout (SDM 26.4.1): type 3:0, S 4, DPL 6:5, P 7, AVL 12, L 13,
 * D/B 14, G 15, unusable 16. */
#define AR_TYPE_MASK 0xF
#define AR_S BIT(4)
#define AR_DPL_SHIFT 5
#define AR_DPL_MASK (3u << AR_DPL_SHIFT)
#define AR_P BIT(7)
#define AR_AVL BIT(12)
#define AR_L BIT(13)
#define AR_DB BIT(14)
#define AR_G BIT(15)
#define AR_UNUSABLE BIT(16)

struct seg {
	uint16_t sel;
	uint32_t ar;     /* access rights, VMX layout */
	uint32_t limit;  /* byte-granular, already expanded by G */
	uint64_t base;
};

struct dtr {
	uint64_t base;
	uint32_t limit;
};

/* RFLAGS bits, SDM Vol.1 3.4.3. */
#define RFLAGS_CF BIT(0)
#define RFLAGS_FIXED1 BIT(1)
#define RFLAGS_PF BIT(2)
#define RFLAGS_AF BIT(4)
#define RFLAGS_ZF BIT(6)
#define RFLAGS_SF BIT(7)
#define RFLAGS_TF BIT(8)
#define RFLAGS_IF BIT(9)
#define RFLAGS_DF BIT(10)
#define RFLAGS_OF BIT(11)
#define RFLAGS_IOPL_SHIFT 12
#define RFLAGS_IOPL (3ULL << 12)
#define RFLAGS_NT BIT(14)
#define RFLAGS_RF BIT(16)
#define RFLAGS_VM BIT(17)
#define RFLAGS_AC BIT(18)
#define RFLAGS_VIF BIT(19)
#define RFLAGS_VIP BIT(20)
#define RFLAGS_ID BIT(21)
#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

/* Control registers, SDM Vol.3A 2.5. */
#define CR0_PE BIT(0)
#define CR0_MP BIT(1)
#define CR0_EM BIT(2)
#define CR0_TS BIT(3)
#define CR0_ET BIT(4)
#define CR0_NE BIT(5)
#define CR0_WP BIT(16)
#define CR0_AM BIT(18)
#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define CR0_PG BIT(31)

#define CR4_VME BIT(0)
#define CR4_PVI BIT(1)
#define CR4_TSD BIT(2)
#define CR4_DE BIT(3)
#define CR4_PSE BIT(4)
#define CR4_PAE BIT(5)
#define CR4_MCE BIT(6)
#define CR4_PGE BIT(7)
#define CR4_PCE BIT(8)
#define CR4_OSFXSR BIT(9)
#define CR4_OSXMMEXCPT BIT(10)
#define CR4_UMIP BIT(11)
#define CR4_LA57 BIT(12)
#define CR4_VMXE BIT(13)
#define CR4_SMXE BIT(14)
#define CR4_FSGSBASE BIT(16)
#define CR4_PCIDE BIT(17)
#define CR4_OSXSAVE BIT(18)
#define CR4_SMEP BIT(20)
#define CR4_SMAP BIT(21)
#define CR4_PKE BIT(22)

/* Physical-address width (CPUID.80000008H:EAX[7:0]); the MMU treats higher bits of
 * paging-structure entries and CR3 as reserved (SDM 4.1.4). */
#define CPU_MAXPHYADDR 39

#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)

/* Exception vectors, SDM Vol.3A Table 6-1. */
enum {
	EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5, EXC_UD = 6,
	EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12, EXC_GP = 13,
	EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19, EXC_VE = 20,
	EXC_CP = 21,
};
#define NO_ERROR_CODE UINT32_MAX

/* Page-fault error code bits, SDM Vol.3A 4.7. */
#define PFEC_P BIT(0)
#define PFEC_W BIT(1)
#define PFEC_U BIT(2)
#define PFEC_RSVD BIT(3)
#define PFEC_I BIT(4)
#define PFEC_PK BIT(5)

/* Operating mode, derived from CR0.PE, EFLAGS.VM, EFER.LMA and CS.L/D. Recomputed by
 * cpu_update_mode() whenever one of those changes; the decoder keys on it. */
enum cpu_mode {
	MODE_REAL,   /* 16-bit real-address mode */
	MODE_VM86,   /* virtual-8086 (not yet supported: entering it raises #GP) */
	MODE_PROT16, /* protected mode, CS.D = 0 */
	MODE_PROT32, /* protected mode, CS.D = 1 */
	MODE_COMPAT16, /* IA-32e compatibility mode, CS.D = 0 */
	MODE_COMPAT32, /* IA-32e compatibility mode, CS.D = 1 */
	MODE_LONG64, /* 64-bit mode */
};

/* Asynchronous events a device or another CPU signals to this CPU (cpu->events). */
#define CPU_EV_INTR BIT(0)  /* INTR line: a maskable interrupt is pending at the APIC/PIC */
#define CPU_EV_NMI BIT(1)
#define CPU_EV_INIT BIT(2)
#define CPU_EV_SIPI BIT(3)  /* vector in cpu->sipi_vector */
#define CPU_EV_SMI BIT(4)
#define CPU_EV_STOP BIT(5)  /* not an event: cpu_run() returns CPU_EXIT_STOP at the next
			       instruction boundary (cpu_request_stop) */
#define CPU_EV_DBTRAP BIT(6) /* not an event: a trap-class #DB is pending (cpu->dbg, debug.h) */
#define CPU_EV_VMEXIT BIT(7) /* not an event: a VM exit to a native VMM happened; cpu_run()
				returns CPU_EXIT_VMEXIT (cpu/vmx/vmx_run.c) */
#define CPU_EV_VMX BIT(8)    /* not an event: VMX non-root operation wants a look at every
				instruction boundary (MTF, interrupt/NMI windows, an expired
				preemption timer: cpu/vmx/vmx_events.c) */

/*
 * The local APIC as the core sees it. The APIC itself is a device model (dev/lapic.c);
 * the core reaches it for the xAPIC page at IA32_APIC_BASE, the x2APIC MSRs, CR8 and
 * the interrupt-acknowledge cycle.
 */
struct cpu_apic_ops {
	uint32_t (*mmio_read)(void *apic, uint32_t offset);             /* 4-byte aligned */
	void (*mmio_write)(void *apic, uint32_t offset, uint32_t value);
	/* x2APIC MSR 0x800-0x8FF; returns false to raise #GP (SDM Vol.3A 11.12). */
	bool (*msr_read)(void *apic, uint32_t msr, uint64_t *value);
	bool (*msr_write)(void *apic, uint32_t msr, uint64_t value);
	/* INTA: the vector of the highest-priority pending interrupt; it becomes in-service.
	 * Returns -1 if nothing is deliverable any more. */
	int (*intr_ack)(void *apic);
	uint8_t (*get_tpr)(void *apic);                 /* CR8 reads TPR[7:4] */
	void (*set_tpr)(void *apic, uint8_t tpr);
	/* IA32_APIC_BASE was written (enable, x2APIC mode, relocation). */
	void (*base_changed)(void *apic, uint64_t apic_base);
	/* IA32_TSC_DEADLINE (MSR 6E0H, SDM 11.5.4.1); optional: NULL reads 0, drops writes. */
	uint64_t (*tsc_deadline_read)(void *apic);
	void (*tsc_deadline_write)(void *apic, uint64_t tsc);
};

/* Lazy arithmetic flags: the last flag-setting operation, evaluated on demand. */
struct lazy_flags {
	uint64_t res, src1, src2;
	uint8_t op;    /* enum lf_op in cpu/flags.h; LF_NONE = flags are in rflags */
	uint8_t size;  /* log2 bytes */
};

struct cpu_stats {
	uint64_t retired;
	uint64_t exceptions;
	uint64_t interrupts;
	uint64_t dcache_miss;
};

struct machine_cpus; /* the vmm's list, for IPIs and broadcast */

/* Hardware breakpoints (debug.c, SDM 18.2-18.3): what DR0-DR3, DR7 and CR4.DE arm,
 * recomputed by debug_update() on every write to them, and the trap-class debug
 * conditions not yet delivered, in the DR6 layout (B0-B3, BD, BS, BT). */
struct cpu_dbg {
	uint8_t armed;          /* DBG_EXEC | DBG_DATA | DBG_IO: kinds with an enabled breakpoint */
	uint8_t npages;         /* entries of page[] in use */
	uint32_t hits;          /* conditions met by the current instruction */
	uint32_t pending;       /* met earlier: held by a MOV SS shadow, or a task switch's T */
	gva_t page[8];          /* linear pages kept off the TLB fast path (tlb_retag_page) */
};

struct cpu {
	/* Hot state first. */
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t next_rip;      /* during execution: rip of the following instruction */
	uint64_t rflags;        /* arithmetic bits valid only when lf.op == LF_NONE */
	struct lazy_flags lf;
	enum cpu_mode mode;
	uint8_t cpl;
	bool halted;            /* in HLT (activity state HLT) */
	bool wait_for_sipi;     /* after INIT on an AP (activity state wait-for-SIPI) */
	bool shutdown;          /* triple fault: the machine decides what happens */
	/* STI / MOV SS shadow (SDM 6.8.3): the instruction sets intr_shadow = 1 and the
	 * kind; the run loop executes the next instruction on its own and clears the
	 * shadow as that instruction starts, so events are blocked at exactly one
	 * instruction boundary. */
	uint8_t intr_shadow;
	uint8_t intr_shadow_kind; /* SHADOW_STI or SHADOW_MOVSS */
	uint32_t events;        /* CPU_EV_* pending */
	uint8_t sipi_vector;
	bool nmi_blocked;       /* from NMI delivery until the next IRET */
	uint64_t run_left;      /* budget left in the current cpu_run(): one unit per
				   instruction retired, fault delivered or REP iteration */
	uint64_t slice_extra;   /* units of this cpu_run() that were not retired
				   instructions (faults delivered, REP iterations) */

	struct seg seg[SEG_COUNT];
	struct seg ldtr, tr;
	struct dtr gdtr, idtr;

	uint64_t cr0, cr2, cr3, cr4, xcr0;
	uint64_t dr[8];         /* DR4/DR5 alias DR6/DR7 when CR4.DE = 0 */
	struct cpu_dbg dbg;     /* breakpoints armed and #DB traps pending (debug.h) */
	uint64_t efer;

	/* MSRs, SDM Vol.4 Table 2-2. */
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base, tsc_aux, pat;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t apic_base, misc_enable, feature_control, spec_ctrl;
	uint64_t tsc_offset;    /* IA32_TSC writes move this; TSC = virtual time + offset */
	uint64_t mtrr_cap, mtrr_def_type, mtrr_fixed[11], mtrr_var[16];
	uint64_t debugctl;

	/* Exception delivery state for double/triple fault classification (SDM 6.15). */
	int8_t delivering;      /* vector being delivered, -1 when none */
	/* The fault cpu_exception() recorded before unwinding to the run loop. */
	uint8_t exc_vector;
	uint32_t exc_error;     /* NO_ERROR_CODE if none */
	uint64_t exc_cr2;       /* for #PF: loaded into CR2 at delivery */

	int id;                 /* APIC id and index in the machine */
	bool bsp;
	int nr_cpus;            /* CPUs in the machine, for CPUID topology (cpu_init sets 1) */
	uint64_t rng_state;     /* RDRAND generator (seeded by cpu_init) */
	bool tf_no_trap;        /* INT n/INT3/INTO/INT1 cleared TF: no single-step trap
				 * after it (SDM 17.3.1.4); cleared by cpu_single_step_trap */

	struct bus *bus;
	struct clock *clock;
	const struct cpu_apic_ops *apic_ops;
	void *apic;

	/* The monitor line size, smallest and largest (CPUID.05H:EAX/EBX, SDM Vol.2 CPUID). */
#define CPU_MONITOR_LINE 64
	/* MONITOR/MWAIT (SDM Vol.2 MONITOR, MWAIT; exec_misc.c). MWAIT waits with halted
	 * set, like HLT; the run loop also wakes it when the armed line's content differs
	 * from the snapshot MONITOR took (a store of the same bytes is not seen). */
	bool monitor_armed;     /* armed by MONITOR, not yet triggered */
	bool mwait;             /* halted by MWAIT (not HLT) */
	bool mwait_intr_break;  /* MWAIT ECX[0]: an interrupt wakes it even with IF = 0 */
	gpa_t monitor_pa;       /* physical address of the armed 64-byte line */
	uint8_t monitor_line[CPU_MONITOR_LINE];

	struct cpu_vmx vmx;     /* VMX operation (cpu/vmx/vmx_state.h) */

	struct tlb tlb;
	struct dcache *dcache;  /* shared by the machine's CPUs (keyed by physical address) */
	jmp_buf fault_jmp;      /* cpu_exception() unwinds the current instruction to here */
	struct cpu_stats stats;
};

/* MWAIT: wake the CPU if the armed line changed (exec_misc.c); true if it woke. */
bool cpu_mwait_check(struct cpu *cpu);

#define SHADOW_STI BIT(0)
#define SHADOW_MOVSS BIT(1)

/* Power-on / RESET state, SDM Vol.3A 10.1.1 Table 10-1 (BSP) and INIT for APs. */
void cpu_init(struct cpu *cpu, int id, struct bus *bus, struct clock *clock,
	      struct dcache *dcache);
void cpu_reset(struct cpu *cpu);
/* INIT: like RESET but keeps some state (SDM 10.1.1); APs then wait for SIPI. */
void cpu_do_init(struct cpu *cpu);

/* Why cpu_run() returned. */
enum cpu_exit {
	CPU_EXIT_BUDGET,    /* ran its instruction budget */
	CPU_EXIT_HALTED,    /* in HLT or wait-for-SIPI with nothing to wake it */
	CPU_EXIT_SHUTDOWN,  /* triple fault */
	CPU_EXIT_STOP,      /* a device asked the machine to stop (debug-exit, reset) */
	CPU_EXIT_VMEXIT,    /* VMX non-root operation ended in a VM exit to a native VMM
			       (vmx_run_native() returns to vmx_vmlaunch's caller) */
};

/* Execute up to budget instructions; returns early on halt, shutdown or stop. */
enum cpu_exit cpu_run(struct cpu *cpu, uint64_t budget);
/* Inside cpu_run(): end the running slice after at most max_left more units (the
 * VMX-preemption timer bounds non-root slices this way). No-op outside a slice. */
void cpu_shorten_slice(struct cpu *cpu, uint64_t max_left);

/* Device side: assert or deassert the INTR line; raise NMI, INIT, SIPI. */
void cpu_set_intr(struct cpu *cpu, bool asserted);
void cpu_signal(struct cpu *cpu, uint32_t event, uint8_t sipi_vector);

/* Ask the current cpu_run() to return at the next instruction boundary. */
void cpu_request_stop(struct cpu *cpu);

/* Register dump for shutdown reports. */
void cpu_dump(const struct cpu *cpu, void *file);

#endif
