/*
 * Inside L0: the VM and vCPU structures and what the files of hv/ share.
 *
 *   pool.c        L0's page allocator over its reserved slice of silicon RAM
 *   ept01.c       EPT01: guest-physical -> silicon-physical, built and owned by L0
 *   vm.c          VM creation: guest bus alias, pool, EPT01, bitmaps, vCPUs
 *   vcpu.c        a vCPU's VMCS controls and the run loop (entry, exit, dispatch)
 *   vcpu_state.c  guest state: from the boot state, INIT/SIPI real mode; segment
 *                 registers and the guest's code mode (64-bit, decode mode)
 *   irqchip.c     the virtual LAPIC's outputs into the vCPU, event injection
 *   exit.c        the exit-handler table and its statistics; what handlers share
 *                 (skip/complete an instruction, inject an exception, shut down)
 *   exit_*.c      one file per topic of exit handlers (exit_task.c: task switches,
 *                 run by the silicon's task.c on an emulation context)
 *   gwalk.c       the guest's own paging; fetching the instruction at guest RIP
 *   emulate.c     completing an MMIO access with the silicon's decoder
 *   emulate_alu.c the read-modify-write and compare forms on MMIO, with flags
 *   emulate_insn.c any other instruction on MMIO, or fetched from it: run once on
 *                 the emulation context (the silicon's executor on the guest bus)
 *   emulate_insn.c any other instruction, run once on the emulation context
 *   debug.c       single-step and I/O-breakpoint traps of emulated instructions
 *   dump.c        a vCPU's guest state for shutdown reports
 *   stats.c       --stats table and JSON
 *
 * Guest registers: the VMCS holds RSP and RIP (SDM 26.4.1); the other GPRs stay in
 * the silicon's struct cpu across VM entries and exits, exactly as real hardware leaves
 * them in the processor's registers for KVM to save. L0 reads and writes
 * vcpu->cpu->gpr[] between exits as KVM uses vcpu->arch.regs (hv_gpr_read/hv_gpr_write
 * below). The other registers VMX leaves in the processor are reached the same way:
 * CR2 when L0 injects a #PF (exit_task.c, KVM's vcpu->arch.cr2), DR0-DR3 (debug.c,
 * vcpu->arch.db), DR6 and XCR0 (emulate_insn.c), IA32_TSC_AUX (RDTSCP) and the
 * pass-through MSRs (msr_read/msr_write, exit_msr.c). Task switches and emulated
 * instructions run on the emulation context, a struct cpu of L0's that the machine
 * never schedules (exit_task.c, emulate_insn.c). docs/architecture.md ("What L0
 * touches of the silicon") lists the rest (set-up, TSC offset, the stop request).
 */
#ifndef TURTLES_HV_HV_INTERNAL_H
#define TURTLES_HV_HV_INTERNAL_H

#include "cpu/vmx.h"
#include "hv/hv.h"

#define HV_PAGE 4096ULL

/* --- pool.c -------------------------------------------------------------------- */

/* Pages of silicon RAM in [base, base + size), handed out zeroed; never freed
 * individually (they live as long as the VM). */
struct hv_pool {
	struct bus *silicon;
	hpa_t base, size, next;
};
int hv_pool_init(struct hv_pool *p, struct bus *silicon, hpa_t base, uint64_t size);
hpa_t hv_pool_alloc(struct hv_pool *p); /* 0 when exhausted (0 is never in the pool) */
void *hv_pool_ptr(struct hv_pool *p, hpa_t hpa);

/* --- ept01.c ------------------------------------------------------------------- */

struct ept01 {
	struct hv_pool *pool;
	hpa_t pml4;
};
int ept01_init(struct ept01 *e, struct hv_pool *pool);
/* Map [gpa, gpa + size) to [hpa, hpa + size) with permissions perm (EPT_READ|...),
 * write-back; 2-MByte pages where both sides are aligned (SDM 30.3.2, Table 30-4). */
int ept01_map(struct ept01 *e, gpa_t gpa, hpa_t hpa, uint64_t size, uint64_t perm);
/* Every page of guest RAM [0, guest_ram) not overlaid by a device region of the guest
 * bus, identity-mapped read/write/execute (the guest's memslot). */
int ept01_map_guest_ram(struct ept01 *e, const struct bus *guest, uint64_t guest_ram);
/* The EPTP for the VMCS: WB, 4-level walk (SDM 26.6.11). */
uint64_t ept01_eptp(const struct ept01 *e);
/* Walk EPT01 as the silicon would: silicon-physical address and the leaf permissions,
 * or false if not present. */
bool ept01_lookup(const struct ept01 *e, gpa_t gpa, hpa_t *hpa, uint64_t *perm);

/* --- the VM and its vCPUs ---------------------------------------------------------- */

enum hv_mp_state {
	HV_MP_RUNNABLE,
	HV_MP_HALTED,    /* executed HLT: waits for an interrupt (L0-emulated, SDM 27.1.2) */
	HV_MP_WAIT_SIPI, /* after INIT (APs at power-on): waits for a SIPI (SDM 10.4) */
};

struct hv_exit_stat {
	uint64_t count, ticks; /* ticks of the host's time-stamp counter (stats.c) */
};
#define HV_EXIT_SLOTS (EXIT_REASON_MAX + 1) /* last slot: VM-entry failures */

struct hv_vcpu {
	struct hv_vm *vm;
	int id;
	struct cpu *cpu;          /* the silicon CPU this vCPU runs on */
	struct vmcs *vmcs;        /* vmcs01, current on cpu for the VM's life */
	struct lapic *lapic;      /* L0's virtual LAPIC, NULL until hv_vcpu_set_lapic */
	bool launched;
	bool stopped;             /* vmlaunch/vmresume returned VMX_STOPPED */
	bool in_guest;            /* between VM entry and VM exit (irqchip.c kicks) */
	bool kicked;              /* L0 raised the silicon CPU's INTR pin to get it out */
	enum hv_mp_state mp;
	bool halted_if;           /* RFLAGS.IF when it halted (hang detection) */

	/* Events from the virtual LAPIC (irqchip.c). */
	bool intr_line;           /* a maskable interrupt is pending at the LAPIC/PIC */
	bool nmi_pending;
	bool init_pending, sipi_pending;
	uint8_t sipi_vector;

	/* An event whose delivery a VM exit interrupted (IDT-vectoring information, SDM
	 * 29.2.4): L0 re-injects it at the next entry (SDM 28.6). */
	uint32_t reinject_info, reinject_error, reinject_len;

	uint64_t apic_base;       /* the guest's IA32_APIC_BASE */
	uint64_t tsc_offset;      /* guest TSC = virtual ns + tsc_offset */
	uint32_t proc;            /* primary processor-based controls as last written */
	unsigned preempt_shift;   /* preemption timer rate: TSC >> this (IA32_VMX_MISC) */
};

struct hv_vm {
	struct bus *silicon, *guest;
	struct clock *clock;
	uint64_t guest_ram;
	struct hv_pool pool;
	struct ept01 ept;
	hpa_t msr_bitmap;
	hpa_t scratch_page;       /* backs unassigned pages an event delivery touched */
	int ncpus;
	struct hv_vcpu vcpu[HV_MAX_VCPUS];
	const char *shutdown;     /* why the VM shut down, NULL while it runs */
	char shutdown_why[192];
	int shutdown_vcpu;        /* the vCPU that shut it down */
	bool triple_fault;
	struct cpu *task_emu;     /* emulation context of task switches (exit_task.c) */
	struct hv_exit_stat stats[HV_EXIT_SLOTS];
	uint64_t stats_tsc0, stats_ns0; /* host TSC and ns at creation: ticks -> ns */
};

/* --- VMCS access: the VMCS of v is current on v->cpu (vm.c keeps it so) ---------- */
uint64_t hv_vmread(struct hv_vcpu *v, uint32_t field);
void hv_vmwrite(struct hv_vcpu *v, uint32_t field, uint64_t value);

/* Guest GPRs (see the comment at the top). r in 0..15; RSP goes to the VMCS. */
uint64_t hv_gpr_read(struct hv_vcpu *v, int r);
void hv_gpr_write(struct hv_vcpu *v, int r, uint64_t value);
/* EDX:EAX, the 64-bit operand of RDMSR, WRMSR, RDTSC(P) (SDM Vol.2); the write
 * clears bits 63:32 of RAX and RDX, as those instructions do in 64-bit mode. */
uint64_t hv_edx_eax(struct hv_vcpu *v);
void hv_set_edx_eax(struct hv_vcpu *v, uint64_t value);

/* vcpu.c: the VMCS and controls of a new vCPU (vm.c creates them). */
int hv_vcpu_setup(struct hv_vcpu *v);

/* --- exits ------------------------------------------------------------------------ */

enum hv_action {
	HV_RESUME,     /* re-enter the guest */
	HV_YIELD,      /* give the silicon back to the vmm (slice over, halted) */
	HV_SHUTDOWN,   /* the VM is dead: vm->shutdown says why */
	HV_STOPPED,    /* the silicon returned VMX_STOPPED: never resume this VMCS */
};
typedef enum hv_action (*hv_exit_fn)(struct hv_vcpu *v);
extern const hv_exit_fn hv_exit_handlers[EXIT_REASON_MAX];
/* Dispatch the exit just taken, counting it. */
enum hv_action hv_handle_exit(struct hv_vcpu *v, uint32_t reason);

/* Instruction exits: step RIP over the instruction (VM-exit instruction length, SDM
 * 29.2.5) and complete it (hv_complete_insn). */
void hv_skip_insn(struct hv_vcpu *v);
/* The instruction at guest RIP completed and the next one is at rip: write RIP, raise
 * its single-step trap, end the STI/MOV-SS blocking it ended (SDM 26.4.2). */
void hv_complete_insn(struct hv_vcpu *v, uint64_t rip);
/* Debug traps of an instruction L0 completed (debug.c): single-step (TF) and the
 * I/O breakpoints on [port, port + size). */
void hv_single_step_trap(struct hv_vcpu *v);
void hv_io_breakpoints(struct hv_vcpu *v, uint16_t port, int size);
/* Make the next entry deliver a hardware exception (SDM 28.6.1). */
void hv_inject_exception(struct hv_vcpu *v, uint8_t vector, uint32_t error_code);
/* Shut the VM down with a report naming why (L0 never crashes). */
enum hv_action hv_shutdown(struct hv_vcpu *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* exit handlers, by file */
enum hv_action hv_exit_cpuid(struct hv_vcpu *v);
enum hv_action hv_exit_rdmsr(struct hv_vcpu *v);
enum hv_action hv_exit_wrmsr(struct hv_vcpu *v);
enum hv_action hv_exit_io(struct hv_vcpu *v);
enum hv_action hv_exit_ept_violation(struct hv_vcpu *v);
enum hv_action hv_exit_ept_misconfig(struct hv_vcpu *v);
enum hv_action hv_exit_cr_access(struct hv_vcpu *v);
enum hv_action hv_exit_hlt(struct hv_vcpu *v);
enum hv_action hv_exit_resume(struct hv_vcpu *v);
enum hv_action hv_exit_exception_nmi(struct hv_vcpu *v);
enum hv_action hv_exit_preemption_timer(struct hv_vcpu *v);
enum hv_action hv_exit_triple_fault(struct hv_vcpu *v);
enum hv_action hv_exit_undefined_insn(struct hv_vcpu *v);
enum hv_action hv_exit_vmcall(struct hv_vcpu *v);
enum hv_action hv_exit_nop_insn(struct hv_vcpu *v);
enum hv_action hv_exit_rdtscp(struct hv_vcpu *v);
enum hv_action hv_exit_rdtsc(struct hv_vcpu *v);
enum hv_action hv_exit_unexpected(struct hv_vcpu *v);
enum hv_action hv_exit_task_switch(struct hv_vcpu *v);
/* exit_task.c: free the VM's task-switch emulation context, if any. */
void hv_task_emu_free(struct hv_vm *vm);
/* exit_task.c: the emulation context (a struct cpu on the guest bus, never run by the
 * vmm), loaded from and stored back to the vCPU's guest state. */
struct cpu *hv_emu_context(struct hv_vcpu *v);
void hv_emu_load(struct hv_vcpu *v, struct cpu *c, uint64_t next_rip);
void hv_emu_store(struct hv_vcpu *v, struct cpu *c);
/* emulate_insn.c: run the guest's instruction at RIP on the emulation context (any
 * instruction that never exits on its own), for what emulate.c does not complete. */
enum hv_action hv_emulate_insn(struct hv_vcpu *v, const char *what, gpa_t gpa);
enum hv_action hv_emulate_string_io(struct hv_vcpu *v, gpa_t la);

/* CPUID and MSR policy (what L1 sees), separate from the exits so tests reach them. */
void hv_cpuid_policy(struct hv_vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
bool hv_msr_read(struct hv_vcpu *v, uint32_t msr, uint64_t *value);
bool hv_msr_write(struct hv_vcpu *v, uint32_t msr, uint64_t value);
/* MSRs the guest reads and writes without exiting (the silicon's own registers are
 * the guest's: native L0 uses none of them). */
bool hv_msr_passthrough(uint32_t msr);

/* Port I/O against the guest bus; string forms move through guest memory. */
uint32_t hv_io_in(struct hv_vm *vm, uint16_t port, int size);
void hv_io_out(struct hv_vm *vm, uint16_t port, int size, uint32_t value);

/* --- stats.c: a cheap host timestamp for the per-exit statistics ----------------- */
uint64_t hv_host_ticks(void);
void hv_stats_start(struct hv_vm *vm);

/* --- irqchip.c ---------------------------------------------------------------------- */
extern const struct lapic_sink hv_lapic_sink;
/* Before each entry: re-inject, or inject a pending NMI/interrupt, or ask for the
 * window exit that will let one in (SDM 28.6, 27.2 windows). */
void hv_inject_pending(struct hv_vcpu *v);
/* Drop the kick after a VM exit (irqchip.c). */
void hv_unkick(struct hv_vcpu *v);
/* A halted vCPU has something to wake it. */
bool hv_vcpu_has_wakeup(struct hv_vcpu *v);
/* After an exit: save an interrupted event delivery for re-injection (SDM 29.2.4). */
void hv_save_vectoring(struct hv_vcpu *v);

/* CR0/CR4 as the guest sees them (read shadows) and as the silicon runs them: CR0.NE
 * and CR4.VMXE are fixed to 1 in VMX operation (SDM 24.8, App. A.7/A.8), hidden by the
 * guest/host masks (SDM 26.6.6). Unrestricted guest lets PE and PG be 0 (28.3.1.1). */
void hv_set_guest_cr0(struct hv_vcpu *v, uint64_t cr0);
void hv_set_guest_cr4(struct hv_vcpu *v, uint64_t cr4);

/* --- vcpu_state.c ------------------------------------------------------------------- */
/* The guest-state area from the silicon CPU's current architectural state (the boot
 * state the vmm put there, as at level 0). */
void hv_state_from_cpu(struct hv_vcpu *v, const struct cpu *c);
/* INIT (SDM 10.1.1 Table 10-1, wait-for-SIPI) and SIPI: real mode at vector << 12. */
void hv_state_init(struct hv_vcpu *v);
void hv_state_sipi(struct hv_vcpu *v, uint8_t vector);
/* Guest segment registers in the guest-state area: seg is SEG_ES..SEG_GS (cpu.h),
 * HV_SEG_LDTR or HV_SEG_TR, the order of their encodings (SDM App. B: each field of
 * one register is 2 above the same field of the one before). */
#define HV_SEG_LDTR 6
#define HV_SEG_TR 7
void hv_seg_read(struct hv_vcpu *v, int seg, struct seg *s);
void hv_seg_write(struct hv_vcpu *v, int seg, const struct seg *s);
/* The guest runs 64-bit code: IA-32e mode guest and CS.L (SDM 3.4.5, 28.3.1.4). */
bool hv_guest_64bit_code(struct hv_vcpu *v);
/* Its default operand and address size (SDM 5.2.1): CR0.PE, 64-bit code, CS.D. */
enum decode_mode hv_guest_decode_mode(struct hv_vcpu *v);
/* The guest-physical page of its xAPIC registers (IA32_APIC_BASE, SDM 11.4.4). */
static inline gpa_t hv_apic_page(const struct hv_vcpu *v)
{
	return v->apic_base & ((1ULL << CPU_MAXPHYADDR) - 1) & ~0xFFFULL;
}
/* The guest's paging mode bits for gwalk. */
struct hv_guest_paging {
	uint64_t cr0, cr3, cr4, efer;
};
void hv_guest_paging(struct hv_vcpu *v, struct hv_guest_paging *pg);

/* --- gwalk.c ------------------------------------------------------------------------ */
/* Translate a guest-linear address through the guest's paging (SDM 4.3-4.5) reading
 * guest-physical memory through L0's guest bus. false if not mapped (L0 then reflects
 * nothing: the caller injects #PF or gives up). */
bool hv_gwalk(struct bus *guest, const struct hv_guest_paging *pg, uint64_t la, bool write,
	      gpa_t *gpa);
/* Copy n bytes from guest-linear la (may cross pages); returns bytes copied. */
int hv_read_guest_linear(struct hv_vcpu *v, uint64_t la, void *dst, int n);
int hv_write_guest_linear(struct hv_vcpu *v, uint64_t la, const void *src, int n);
/* Fetch the instruction at the guest's CS:RIP (in decode mode dm) through its paging
 * and decode it with the silicon's decoder: its length, <= 0 if it cannot be fetched
 * or decoded; *la gets its linear address. */
int hv_fetch_insn(struct hv_vcpu *v, enum decode_mode dm, struct insn *in, uint64_t *la);

/* --- emulate.c ---------------------------------------------------------------------- */
/* Complete the access of the instruction at guest RIP to MMIO address gpa on the guest
 * bus (or the virtual LAPIC page), then step over it. */
enum hv_action hv_emulate_mmio(struct hv_vcpu *v, gpa_t gpa);
/* emulate_alu.c: ADD/OR/AND/SUB/XOR/CMP/TEST with a memory operand of value mem and
 * a register operand reg: the result, where it goes, and the guest's RFLAGS. */
bool hv_is_mmio_alu(enum op op);
bool hv_emulate_mmio_alu(struct hv_vcpu *v, const struct insn *in, uint64_t mem,
			 uint64_t reg, uint64_t *result, bool *write_mem, bool *write_reg);

#endif
