/*
 * Inside the silicon's VMX: the VMCS layout and the functions the VMX files share.
 *
 *   vmcs.c          the VMCS region layout, field lookup, VMREAD/VMWRITE core
 *   vmx_insn.c      VMXON/VMXOFF/VMCLEAR/VMPTRLD/VMPTRST/VMREAD/VMWRITE/INVEPT/INVVPID
 *                   as instructions (operands, checks, VMsucceed/VMfail in RFLAGS)
 *   vmx_api.c       the same operations for native code (cpu/vmx.h)
 *   vmx_caps.c      IA32_VMX_* capability MSRs (from vmx_caps.h)
 *   vmx_entry*.c    VM entry: checks (SDM 28.2, 28.3), loading guest state, MSR-load
 *                   list, event injection (SDM 28.6)
 *   vmx_exit*.c     VM exits: recording exit information, saving guest state, the
 *                   MSR-store/load lists, loading host state (SDM ch.29)
 *   vmx_intercept.c which instructions and events cause VM exits (SDM 27.1, 27.2) and
 *                   the qualification/instruction-information they report
 *   ept.c           EPT translation, violations and misconfigurations (SDM 30.3)
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

/* --- shared helpers: outcomes (vmx_api.c) -------------------------------------- */

/* Record a VMfailValid error number in the current VMCS (SDM 32.2). */
void vmx_set_insn_error(struct cpu *cpu, enum vmx_insn_error err);

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

/* --- instruction intercepts (vmx_intercept.c) -------------------------------------- */

/* Bound by the run loop to every op with an intercept class decoded in non-root
 * operation: takes the VM exit the controls select, or runs the op (SDM 27.1). */
void vmx_intercepted(struct cpu *cpu, const struct insn *in);

#endif
