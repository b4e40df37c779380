/*
 * Inside the silicon's VMX: the VMCS layout and the functions the VMX files share.
 *
 *   vmcs.c              the VMCS region layout, field lookup, VMREAD/VMWRITE core
 *   vmx_caps.c          IA32_VMX_* capability MSRs and the EPTP rule (from vmx_caps.h)
 *   vmx_outcome.c       VMsucceed/VMfail (SDM 32.2), the checks the instructions share
 *   vmx_insn.c          VMXON, VMXOFF, VMCALL, VMFUNC as instructions (SDM 32.3)
 *   vmx_insn_vmcs.c     VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE as instructions
 *   vmx_insn_inv.c      INVEPT, INVVPID (instructions and the core the API shares)
 *   vmx_launch.c        VMLAUNCH, VMRESUME (instructions and native API)
 *   vmx_api.c           the other operations for native code (cpu/vmx.h)
 *   vmx_entry*.c        VM entry (SDM ch.28): see vmx_entry.h; vmx_inject.c (28.6)
 *   vmx_exit*.c         VM exits (SDM ch.29): information, guest state, MSR lists,
 *                       host state; vmx_run.c drives a native VMM's guest
 *   vmx_events.c        event-driven exits in non-root operation (SDM 27.2, 27.5)
 *   vmx_intercept*.c    instruction exits (SDM 27.1) and what SDM 27.3 changes for
 *                       instructions that do not exit (vmx_intercept.h; the
 *                       instruction-information layouts in vmx_insn_info.c)
 *   ept.c, vmx_tlb.c    EPT translation (SDM 30.3), the tagged TLB across entries and
 *                       exits, INVEPT/INVVPID invalidation (SDM 30.4)
 *   ept_cache.c         the cache of guest-physical mappings (SDM 30.4.1, ept_cache.h)
 *
 * A VMCS region (SDM 26.2): the revision identifier at byte 0 and the VMX-abort
 * indicator at byte 4, as software sees them; the rest is the silicon's own format:
 * one 64-bit slot per field in the order of vmcs_fields.def. The same layout serves a
 * region in guest-physical RAM (software VMM) and one from vmcs_alloc() (native VMM).
 * Software that writes the region directly gets what the SDM promises (undefined
 * results), never a crash: every value is checked when VM entry uses it.
 */
#ifndef TURTLES_CPU_VMX_VMX_INTERNAL_H
#define TURTLES_CPU_VMX_VMX_INTERNAL_H

#include <stdnoreturn.h>

#include "cpu/exec.h"
#include "cpu/vmx.h"
#include "cpu/vmx/vmx_caps.h"

/* Dense index of each field: storage slot and table row. */
enum vmcs_id {
#define VMCS_FIELD(name, enc, width, type) VMCS_ID_##name,
#include "cpu/vmx/vmcs_fields.def"
#undef VMCS_FIELD
	VMCS_FIELD_COUNT
};

enum vmcs_width { W16 = 0, W64 = 1, W32 = 2, WNAT = 3 };           /* encoding bits 14:13 */
enum vmcs_type { CONTROL = 0, EXITINFO = 1, GUEST = 2, HOST = 3 }; /* encoding bits 11:10 */

/* Launch state (SDM 26.11.3). */
enum vmcs_launch_state { VMCS_STATE_CLEAR = 0, VMCS_STATE_LAUNCHED = 1 };

struct vmcs {
	uint32_t revision_id;  /* bits 30:0; bit 31 = shadow-VMCS indicator */
	uint32_t abort;        /* VMX-abort indicator (SDM 29.7) */
	uint32_t launch_state; /* enum vmcs_launch_state */
	uint32_t reserved;
	uint64_t field[VMCS_FIELD_COUNT];
};
_Static_assert(sizeof(struct vmcs) <= VMX_VMCS_REGION_BYTES, "VMCS fits its region");

/* One row of vmcs_fields.def. */
struct vmcs_field_info {
	const char *name;
	uint16_t encoding;
	uint8_t width, type;
};
extern const struct vmcs_field_info vmcs_field_table[VMCS_FIELD_COUNT];

/* The field an encoding names, or -1 if this silicon has no such field; *high is set
 * for the high-half access to a 64-bit field (SDM 26.11.2). */
int vmcs_lookup(uint64_t encoding, bool *high);

/* Direct access by dense index. Values are kept zero-extended to the field width. */
static inline uint64_t vmcs_get(const struct vmcs *v, enum vmcs_id id)
{
	return v->field[id];
}
void vmcs_set(struct vmcs *v, enum vmcs_id id, uint64_t value); /* truncates to width */
#define VMCS_GET(v, name) vmcs_get((v), VMCS_ID_##name)
#define VMCS_SET(v, name, val) vmcs_set((v), VMCS_ID_##name, (val))

/* The VMREAD/VMWRITE core shared by the instruction and the API: error number or 0.
 * VMWRITE to an exit-information field is allowed (IA32_VMX_MISC bit 29). */
enum vmx_insn_error vmcs_read_field(const struct vmcs *v, uint64_t encoding, uint64_t *value);
enum vmx_insn_error vmcs_write_field(struct vmcs *v, uint64_t encoding, uint64_t value);

/* Highest index in any supported encoding (IA32_VMX_VMCS_ENUM bits 9:1). */
unsigned vmcs_max_index(void);

/* --- outcomes and common checks of the VMX instructions (vmx_outcome.c) ---------- */

/* Record a VMfailValid error number in the current VMCS (SDM 32.2). */
void vmx_set_insn_error(struct cpu *cpu, enum vmx_insn_error err);

/* SDM 32.2 VMfail(ErrorNumber): VMfailValid with the error recorded if there is a
 * current VMCS, else VMfailInvalid. Returns which (the C API returns it as is). */
enum vmx_result vmx_fail(struct cpu *cpu, enum vmx_insn_error err);
/* The instruction's outcome in RFLAGS (SDM 32.2): VMsucceed clears CF, PF, AF, ZF,
 * SF and OF; VMfailInvalid sets CF; VMfailValid sets ZF (the others cleared). */
void vmx_set_rflags(struct cpu *cpu, enum vmx_result r);
/* #UD conditions shared by the VMX instructions other than VMXON and VMCALL (SDM
 * 32.3, each instruction's Operation): outside VMX operation, CR0.PE = 0, RFLAGS.VM
 * = 1, or IA32_EFER.LMA = 1 with CS.L = 0. For vmx_intercepted() too: these #UDs
 * take priority over the VM exit (SDM 27.1.1). */
void vmx_insn_check_ud(struct cpu *cpu);
/* The root-operation prologue of VMCLEAR ... INVVPID, VMLAUNCH, VMRESUME: the #UD
 * checks, then #GP(0) at CPL > 0 (SDM 32.3). */
void vmx_insn_root_checks(struct cpu *cpu);
/* CR0/CR4 values allowed in VMX operation (IA32_VMX_CR0/CR4_FIXED0/1, SDM A.7, A.8,
 * 25.8); MOV to CR0/CR4 raises #GP(0) for others. In non-root operation with
 * "unrestricted guest", CR0.PE and CR0.PG are not fixed (SDM 27.3). */
bool vmx_cr0_allowed(const struct cpu *cpu, uint64_t cr0);
bool vmx_cr4_allowed(const struct cpu *cpu, uint64_t cr4);
/* A VMXON/VMCS pointer as software gives it: 4-KByte aligned, no bits beyond
 * MAXPHYADDR, and (this silicon's rule for "invalid physical address") the whole
 * region in RAM. Returns the host view of the region or NULL (SDM 32.3 VMXON,
 * VMCLEAR, VMPTRLD). */
struct vmcs *vmx_region_ptr(struct cpu *cpu, uint64_t addr);
/* The m64 operand of VMXON/VMCLEAR/VMPTRLD, read through the instruction's segment
 * (faults as any data read). */
uint64_t vmx_insn_read_m64(struct cpu *cpu, const struct insn *in);
/* INIT is blocked in VMX root operation (SDM 25.8; VMXON blocks it, VMXOFF unblocks
 * it, SDM 32.3): it stays pending until VMXOFF or, in non-root operation, becomes a
 * VM exit. */
static inline bool vmx_init_blocked(const struct cpu *cpu)
{
	return cpu->vmx.host != VMX_HOST_NONE && !cpu->vmx.non_root;
}

/* --- capabilities (vmx_caps.c) ----------------------------------------------------- */

/* An EPTP that VM entry with "enable EPT" would accept (SDM 28.2.1.1, derived from
 * IA32_VMX_EPT_VPID_CAP); INVEPT single-context uses the same rule (SDM 32.3). */
bool vmx_eptp_valid(uint64_t eptp);

/* --- INVEPT/INVVPID core shared by the instructions and the C API (vmx_insn_inv.c):
 *     0 on success (invalidation done) or VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID ---- */
enum vmx_insn_error vmx_do_invept(struct cpu *cpu, uint64_t type, uint64_t eptp);
enum vmx_insn_error vmx_do_invvpid(struct cpu *cpu, uint64_t type, uint64_t desc_lo,
				   uint64_t gla);

/* --- TLB invalidation by EPTP and VPID (vmx_tlb.c, SDM 30.4.3) ------------------- */

/* type: INVEPT_SINGLE_CONTEXT (eptp valid) or INVEPT_ALL_CONTEXT. */
void ept_invalidate(struct cpu *cpu, int type, uint64_t eptp);
/* type: INVVPID_*; vpid != 0 except for all-context; gla for individual-address. */
void vpid_invalidate(struct cpu *cpu, int type, uint16_t vpid, uint64_t gla);

/* --- EPT and the TLB across VM entries and exits (ept.c, vmx_tlb.c) --------------- */

/*
 * VM entry calls this after loading the guest state and setting vmx.non_root and
 * vmx.ctl; VM exit after clearing vmx.non_root and loading the host state (vmx.ctl
 * still holding the exited guest's controls). It makes the TLB context of the new
 * mode current (root; or the guest's VPID and EPTRTA: SDM 30.4.1) and, with "enable
 * VPID" = 0, invalidates the linear and combined mappings of VPID 0000H (SDM
 * 28.3.3.1, 29.5.5). With VPID on, the guest's entries survive the exit and the next
 * entry. It replaces tlb_ctl_written()/tlb_cr3_written() for the transition: those
 * would flush; call it instead of them. The PDPTE registers are not touched.
 */
void vmx_tlb_transition(struct cpu *cpu);

/* EPT translation without taking the exit (ept.c; ept_translate() in ept.h takes it):
 * true with *x filled, or false with *exit describing the EPT violation (reason 48:
 * qualification, guest-physical and guest-linear address), EPT misconfiguration (49)
 * or PML-full exit (62). Bit 12 of the qualification (NMI unblocking due to IRET,
 * SDM 29.2.3) stays 0: this silicon's IRET unblocks NMIs only after its last memory
 * access (exec_iret.c), so an exit during IRET saves NMIs still blocked, the state
 * the SDM's bit-12 protocol has the VMM restore. */
struct ept_access;
struct ept_xlate;
struct vmx_exit_info;
bool ept_walk(struct cpu *cpu, gpa_t gpa, const struct ept_access *a, struct ept_xlate *x,
	      struct vmx_exit_info *exit);

/* --- VM entry (vmx_entry*.c) ------------------------------------------------------ */

/*
 * VM entry from the current VMCS (VMLAUNCH if launch, else VMRESUME), after the
 * instruction's own checks (SDM 28.1). Returns VMX_SUCCEED when the guest runs (or a
 * VM-entry failure exit was taken, SDM 28.8), VMX_FAIL_VALID with the error recorded
 * when a control or host-state check fails (SDM 28.2). Does not run the guest.
 */
enum vmx_result vmx_vmentry(struct cpu *cpu, bool launch);

/* --- VM exit (vmx_exit*.c) -------------------------------------------------------- */

/* What a VM exit reports besides the reason (SDM 26.9). Zero means "not reported"
 * (the fields are then cleared or left as the SDM says). */
struct vmx_exit_info {
	uint32_t reason;        /* basic reason | EXIT_REASON_ENTRY_FAILURE etc. */
	uint64_t qualification;
	uint64_t guest_linear;  /* GUEST_LINEAR_ADDRESS, when the reason defines it */
	uint64_t guest_physical;/* GUEST_PHYSICAL_ADDRESS (EPT violation/misconfig) */
	uint32_t intr_info, intr_error; /* VM-exit interruption information */
	uint32_t insn_len, insn_info;   /* instruction length and information */
	uint64_t io_rcx, io_rsi, io_rdi, io_rip; /* SMI after I/O only */
};

/*
 * Take a VM exit (SDM 29.1-29.5): record the information, save the guest state,
 * store/load the MSR lists, then load the host state (software VMM) or mark the exit
 * for vmx_vmlaunch() to return (native VMM). The caller has left architectural
 * state as the SDM requires at the exit point (for instruction exits: before the
 * instruction; for traps: after it).
 */
void vmx_vmexit(struct cpu *cpu, const struct vmx_exit_info *info);

/* From inside an instruction handler or an event delivery: take the VM exit, then
 * unwind the instruction to the run loop (like cpu_exception()). */
noreturn void vmx_exit_unwind(struct cpu *cpu, const struct vmx_exit_info *info);

/* Shorthand for an exit caused by the current instruction (reason, qualification,
 * length from the decoded instruction). */
noreturn void vmx_exit_insn(struct cpu *cpu, const struct insn *in, uint32_t reason,
			    uint64_t qualification);

/* Native VMM: after a successful VM entry, run the guest until the next VM exit
 * (VMX_SUCCEED; at once if the exit already happened during entry), or VMX_STOPPED
 * if the machine asked to stop, a VMX abort shut the CPU down, or the guest waits
 * (HLT, wait-for-SIPI) with nothing that could ever wake it (vmx_run.c). */
enum vmx_result vmx_run_native(struct cpu *cpu);

/* The guest-state area from the CPU, for exits and tests (vmx_exit_state.c). */
void vmx_save_guest_state(struct cpu *cpu, struct vmcs *v, const struct vmx_exit_info *info);

/* --- events in non-root operation (vmx_events.c) ------------------------------------
 * VM entry (vmx_entry_load.c, vmx_inject.c) arms what these look at: preempt_active
 * and preempt_deadline (TSC at entry + value << IA32_VMX_MISC[4:0]), mtf_pending for a
 * pending MTF exit (injection of type 7), virtual_nmi_blocked, and CPU_EV_VMX when MTF,
 * a window control or the timer needs a look at instruction boundaries; during
 * injection vectoring_info holds the injected event (the bitmap is then not
 * consulted, SDM 28.6.1.1). cpu->vmx.vectoring_info is 0 when nothing is being
 * delivered. */

/* cpu_handle_events() in non-root operation: INIT/SIPI, MTF, pending #DB traps, the
 * preemption timer, NMI window, NMI, interrupt window, external interrupts, in the
 * SDM's priority order (SDM 6.9, 27.2, 27.5). True if something happened. */
bool vmx_handle_events(struct cpu *cpu);
/* cpu_run() in non-root operation: bound the slice by the preemption timer. */
void vmx_slice_begin(struct cpu *cpu);
/* The run loop stops a halted guest (HLT activity): a clock timer at the preemption
 * timer's expiry wakes it then (the machine idles until the next clock deadline).
 * vmx_preempt_disarm() cancels it at the exit. */
void vmx_halted(struct cpu *cpu);
void vmx_preempt_disarm(struct cpu *cpu);
/* cpu_deliver_event() in non-root operation, before delivering: the exception bitmap
 * for exceptions, INT3/INTO and INT1 (SDM 27.2.1), then record the event as the one
 * being delivered (IDT-vectoring information, SDM 29.2.4). */
void vmx_event_delivery(struct cpu *cpu, int vector, enum event_type type, uint32_t err);
/* cpu_deliver_fault(): exit if the exception bitmap (and #PF error-code mask/match)
 * selects this exception (SDM 27.2.1). direct: a #DF made of two exceptions, which
 * does not report IDT-vectoring information (SDM 29.2.4). */
void vmx_exception_exit_check(struct cpu *cpu, int vector, uint32_t err, bool direct);
/* debug.c, before it writes DR6 for a #DB (dr6: the conditions; rf: a fault-class
 * #DB that pushes RF = 1): exit instead if the exception bitmap selects #DB. */
void vmx_debug_exit_check(struct cpu *cpu, uint32_t dr6, bool rf);
/* exec_IRET() in non-root operation, before anything can fault: note whether NMIs
 * (virtual NMIs) are blocked, for bit 12 of an exit caused by one of its faults. */
void vmx_iret_begin(struct cpu *cpu);
/* An exit for a fault of that IRET: report "NMI unblocking due to IRET" in the
 * interruption information (exception exits) or the qualification (EPT violations)
 * and clear the blocking first (SDM 29.1, 29.2.2, 29.2.1 Table 29-7). Called by
 * vmx_vmexit(). */
void vmx_iret_unblocking(struct cpu *cpu, struct vmx_exit_info *info);
/* A triple fault in non-root operation: VM exit, reason 2 (SDM 27.2.1). */
noreturn void vmx_triple_fault_exit(struct cpu *cpu);
/* The preemption timer's current value (SDM 27.5.1), for "save preemption timer", and
 * the TSC value at which it reaches 0. */
uint32_t vmx_preempt_value(struct cpu *cpu);
uint64_t vmx_preempt_deadline(const struct cpu *cpu);

/* --- instruction intercepts (vmx_intercept.c) -------------------------------------- */

/* Bound by the run loop to every op with an intercept class decoded in non-root
 * operation: takes the VM exit the controls select, or runs the op (SDM 27.1). */
void vmx_intercepted(struct cpu *cpu, const struct insn *in);

#endif
