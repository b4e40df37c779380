/*
 * VM entry, private to the vmx_entry*.c, vmx_inject.c and vmx_launch.c files.
 *
 * The order of SDM 28.1-28.4 and who does what:
 *   vmx_entry.c        the sequence (vmx_vmentry), the VM-entry failure exits (28.8)
 *   vmx_entry_ctl.c    checks on the VM-execution, VM-exit and VM-entry controls
 *                      (28.2.1) -> VMfailValid(7)
 *   vmx_entry_host.c   checks on the host-state area (28.2.2-28.2.4) -> VMfailValid(8),
 *                      software VMM only
 *   vmx_entry_guest.c  checks on guest control registers, MSRs, RIP/RFLAGS and
 *                      non-register state (28.3.1.1, 28.3.1.4-28.3.1.6)
 *   vmx_entry_seg.c    checks on guest segment and descriptor-table registers
 *                      (28.3.1.2, 28.3.1.3)
 *   vmx_entry_load.c   loading the guest state (28.3.2), the MSR-load list (28.4),
 *                      interruptibility, activity, pending debug exceptions (28.7)
 *   vmx_inject.c       event injection (28.6)
 *
 * Every consistency check goes through ENTRY_CHECK(), which records the condition
 * that failed as text (cpu->vmx.entry_failed_check) so that a failing entry can be
 * explained (traces, test failures), and makes the check function return false.
 */
#ifndef TURTLES_CPU_VMX_VMX_ENTRY_H
#define TURTLES_CPU_VMX_VMX_ENTRY_H

#include "cpu/sys.h"
#include "cpu/vmx/vmx_internal.h"

/* Record the failed condition; always returns false. */
bool vmx_entry_check_failed(struct cpu *cpu, const char *what);

#define ENTRY_STR2(x) #x
#define ENTRY_STR(x) ENTRY_STR2(x)
#define ENTRY_CHECK(cpu, cond)                                                       \
	do {                                                                         \
		if (unlikely(!(cond)))                                               \
			return vmx_entry_check_failed(                               \
				(cpu), __FILE__ ":" ENTRY_STR(__LINE__) ": " #cond); \
	} while (0)

/* The secondary processor-based controls in effect: 0 unless "activate secondary
 * controls" is 1 (SDM 26.6.2). */
static inline uint32_t vmx_proc2_of(const struct vmcs *v)
{
	if (!(VMCS_GET(v, CPU_BASED_VM_EXEC_CONTROL) & PROC_SECONDARY_CONTROLS))
		return 0;
	return (uint32_t)VMCS_GET(v, SECONDARY_VM_EXEC_CONTROL);
}

/* A physical address within the physical-address width (SDM 28.2.1.1: "bits beyond
 * the processor's physical-address width must be 0"). */
static inline bool vmx_phys_ok(uint64_t pa)
{
	return !(pa >> CPU_MAXPHYADDR);
}

/* 4-KByte aligned and within the physical-address width. */
static inline bool vmx_page_addr_ok(uint64_t pa)
{
	return !(pa & 0xFFF) && vmx_phys_ok(pa);
}

/* Valid PAT memory types (SDM 11.12.2): UC 0, WC 1, WT 4, WP 5, WB 6, UC- 7. */
static inline bool vmx_pat_ok(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		unsigned t = (pat >> (8 * i)) & 0xFF;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/* IA32_EFER bits this silicon implements (msr.c): SCE, LME, LMA, NXE; the others are
 * reserved (SDM 28.2.2, 28.3.1.1). */
#define VMX_EFER_VALID (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)

/* CR0 and CR4 against the bits fixed in VMX operation (SDM 25.8; App. A.7, A.8:
 * IA32_VMX_CR0_FIXED0/1, CR4_FIXED0/1). With "unrestricted guest", guest CR0.PE and
 * CR0.PG are not fixed (SDM 28.3.1.1). */
bool vmx_cr0_fixed_ok(uint64_t cr0, bool unrestricted);
bool vmx_cr4_fixed_ok(const struct cpu *cpu, uint64_t cr4);

/* The guest segment registers as the VMCS holds them: ES..GS (SEG_*), then LDTR and
 * TR. Their selector, limit, access-rights and base fields are consecutive in
 * vmcs_fields.def, in this order. */
enum { VSEG_LDTR = SEG_COUNT, VSEG_TR, VSEG_COUNT };
struct seg vmx_guest_seg(const struct vmcs *v, int which);

/* Is the VM entry "vectoring" (SDM 28.7: injecting an event of types 0, 2-6)? */
static inline bool vmx_entry_vectoring(const struct vmcs *v)
{
	uint32_t info = (uint32_t)VMCS_GET(v, VM_ENTRY_INTR_INFO_FIELD);
	unsigned type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	return (info & INTR_INFO_VALID) && type != INTR_TYPE_OTHER_EVENT;
}

static inline unsigned vmx_entry_intr_type(const struct vmcs *v)
{
	return ((uint32_t)VMCS_GET(v, VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_TYPE_MASK) >>
	       INTR_INFO_TYPE_SHIFT;
}

/* --- the checks: true if they pass ----------------------------------------------- */

bool vmx_check_controls(struct cpu *cpu, const struct vmcs *v);     /* 28.2.1 */
bool vmx_check_host_state(struct cpu *cpu, const struct vmcs *v);   /* 28.2.2-28.2.4 */
/* 28.3.1; on failure *qual is the exit qualification (SDM 28.8: 0, 2 for the PDPTEs,
 * 4 for the VMCS link pointer). */
bool vmx_check_guest_state(struct cpu *cpu, const struct vmcs *v, uint64_t *qual);
bool vmx_check_guest_segments(struct cpu *cpu, const struct vmcs *v); /* 28.3.1.2-3 */

/* Exit qualifications of a VM-entry failure due to invalid guest state (SDM 28.8). */
#define ENTRY_QUAL_DEFAULT 0
#define ENTRY_QUAL_PDPTE 2
#define ENTRY_QUAL_VMCS_LINK 4

/* --- loading (vmx_entry_load.c) ---------------------------------------------------- */

/* Load the guest-state area into the CPU (SDM 28.3.2) and tell the MMU. */
void vmx_load_guest_state(struct cpu *cpu, const struct vmcs *v);
/* Process the VM-entry MSR-load list (SDM 28.4): 0, or the 1-based index of the entry
 * that failed (its failed check recorded as by ENTRY_CHECK). */
uint32_t vmx_load_entry_msrs(struct cpu *cpu, const struct vmcs *v);
/* After the MSRs: interruptibility, activity state, pending debug exceptions, the
 * preemption timer (SDM 28.7). */
void vmx_load_event_state(struct cpu *cpu, const struct vmcs *v);
/* Cache the controls the non-root checks use (cpu->vmx.ctl). */
void vmx_cache_controls(struct cpu *cpu, const struct vmcs *v);

/* --- event injection (vmx_inject.c) ------------------------------------------------ */

/* Deliver the event of the VM-entry interruption-information field, if any, through
 * the guest IDT (SDM 28.6); a fault during delivery is handled as in the guest. */
void vmx_inject_event(struct cpu *cpu, const struct vmcs *v);

#endif
