/*
 * vmx_entry_cases.h - a table-driven VM-entry failure harness shared by the kernels
 * vmx_entry_ctl and vmx_entry_guest: every case starts from a valid VMCS (this
 * kernel's own 64-bit world as host and guest, controls from the capability MSRs),
 * changes up to five fields and expects VM entry to fail in one way:
 *   - VMfailValid with VM-instruction error 7 (controls, SDM 28.2.1) or 8 (host state,
 *     28.2.2-28.2.4), SDM 32.4;
 *   - a VM-entry failure VM exit (SDM 28.8): exit reason 33 | bit 31 (guest state,
 *     28.3.1) with its qualification (0, or 4 for the VMCS link pointer).
 * A case may need controls (allowed-1 bits of a capability MSR, App. A) or be
 * skipped for a reason known only at run time. Header-only, one kernel per image.
 */
#ifndef GUEST_TESTS_VMX_ENTRY_CASES_H
#define GUEST_TESTS_VMX_ENTRY_CASES_H

#include "vmx_lib.h"

/* Case tables leave the trailing fields (need_msr, need_bits, skip_why) out when they
 * are 0. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define ENTRY_FAIL(reason) (0x80000000u | (reason)) /* SDM 26.9.1: bit 31 */
#define NC 0x0000800000000000ull                   /* a non-canonical address */

enum ec_op_kind { EC_NONE, EC_SET, EC_OR, EC_ANDN };
struct ec_op {
	enum ec_op_kind kind;
	uint32_t field;
	uint64_t value;
};
enum { EC_FAILVALID, EC_FAILEXIT, EC_ENTERS };
struct entry_case {
	const char *name; /* with the SDM section */
	struct ec_op op[5];
	int how;
	uint64_t code, qual;
	uint32_t need_msr, need_bits; /* control bits that must be allowed-1 */
	const char *skip_why;         /* non-NULL: skipped for this reason */
};

#define V7 EC_FAILVALID, VMXERR_ENTRY_INVALID_CONTROL_FIELD, 0
#define V8 EC_FAILVALID, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD, 0
#define X33(q) EC_FAILEXIT, ENTRY_FAIL(EXIT_REASON_INVALID_STATE), (q)
/* A control case: the same settings made valid enter the guest (its HLT exits), so
 * that the failing cases fail for the one change they make. */
#define OK EC_ENTERS, EXIT_REASON_HLT, 0

static uint32_t ec_pin, ec_proc, ec_exit, ec_entry; /* the valid baseline */
static uint32_t *ec_vmcs;
static uint8_t *ec_stack;

extern char ec_guest[];
__asm__(".text\nec_guest: hlt\n	jmp ec_guest\n");

/* Physical-address width (CPUID.80000008H:EAX[7:0]) and an aligned address just
 * beyond it (SDM 28.2.1: "bits beyond the processor's physical-address width"). */
static inline unsigned ec_maxphys(void)
{
	return cpuid(0x80000000u, 0).a >= 0x80000008u ? cpuid(0x80000008u, 0).a & 0xff : 36;
}
static inline uint64_t ec_beyond(void)
{
	return 1ull << ec_maxphys();
}

/* Into VMX operation with the baseline controls; false (reported) if impossible. */
static inline bool ec_setup(const char *kernel)
{
	if (!(cpuid(1, 0).c & BIT(5))) {
		skip(kernel, "CPUID.1:ECX.VMX = 0");
		return false;
	}
	ec_stack = alloc_page();
	ec_vmcs = vmx_enter_baseline(&ec_pin, &ec_proc, &ec_exit, &ec_entry);
	return ec_vmcs != NULL;
}

/* The valid VMCS every case starts from (VMCLEAR: a clear launch state). */
static inline void ec_reset(void)
{
	struct vmx_ctls c = { ec_pin, ec_proc, 0, ec_exit, ec_entry };
	vmx_reset_vmcs(ec_vmcs, &c, (uint64_t)(uintptr_t)ec_guest, vmx_pa(ec_stack) + 4096);
	vmcs_write(VMCS_GUEST_IA32_EFER, rdmsr(MSR_EFER));
	vmcs_write(VMCS_HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmcs_write(VMCS_GUEST_IA32_PAT, rdmsr(0x277));
	vmcs_write(VMCS_HOST_IA32_PAT, rdmsr(0x277));
	/* Fields vmx_write_guest_state() leaves alone that a case may have changed
	 * (VMCLEAR need not reset the VMCS data, SDM 26.11.3). */
	vmcs_write(VMCS_GUEST_SYSENTER_CS, rdmsr(MSR_SYSENTER_CS));
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, rdmsr(MSR_SYSENTER_ESP));
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, rdmsr(MSR_SYSENTER_EIP));
	vmcs_write(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(VMCS_GUEST_LDTR_LIMIT, 0);
	vmcs_write(VMCS_GUEST_LDTR_BASE, 0);
	vmcs_write(VMCS_TPR_THRESHOLD, 0);
	vmcs_write(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, 0);
	vmcs_write(VMCS_VM_ENTRY_INSTRUCTION_LEN, 0);
}

static inline void ec_apply(const struct ec_op *op)
{
	switch (op->kind) {
	case EC_SET: vmcs_write(op->field, op->value); break;
	case EC_OR: vmcs_write(op->field, vmcs_read(op->field) | op->value); break;
	case EC_ANDN: vmcs_write(op->field, vmcs_read(op->field) & ~op->value); break;
	default: break;
	}
}

/* The baseline itself must enter (a HLT exit), or every case is meaningless. */
static inline bool ec_baseline_enters(void)
{
	ec_reset();
	int r = vmx_guest_run(VMX_LAUNCH);
	checkf(r == 0 && vmcs_read(VMCS_VM_EXIT_REASON) == EXIT_REASON_HLT,
	       "baseline VMCS enters the guest (HLT exit): %s, error %lu, reason %lx",
	       vmx_outcome_name(r), r ? vmx_insn_error() : 0, vmcs_read(VMCS_VM_EXIT_REASON));
	return r == 0;
}

static inline void ec_run(const struct entry_case *c)
{
	if (c->skip_why) {
		skip(c->name, c->skip_why);
		return;
	}
	if (c->need_msr && (c->need_bits & ~(uint32_t)(vmx_ctl_cap(c->need_msr) >> 32))) {
		skipf("control not supported", "%s", c->name);
		return;
	}
	ec_reset();
	for (int i = 0; i < 5; i++)
		ec_apply(&c->op[i]);
	vmcs_write(VMCS_VM_EXIT_REASON, 0);
	int r = vmx_guest_run(VMX_LAUNCH);
	if (c->how == EC_FAILVALID) {
		if (r != VMX_FAIL_VALID) {
			checkf(false, "%s: %s (expected VMfailValid(%lu)); exit reason %lx", c->name,
			       r ? vmx_outcome_name(r) : "entered", c->code,
			       vmcs_read(VMCS_VM_EXIT_REASON));
			return;
		}
		check_eqf(vmx_insn_error(), c->code, "%s: VMfailValid, error", c->name);
		return;
	}
	if (c->how == EC_ENTERS) {
		checkf(r == 0 && vmcs_read(VMCS_VM_EXIT_REASON) == EXIT_REASON_HLT,
		       "%s: enters (HLT exit): %s, error %lu, exit reason %lx", c->name,
		       vmx_outcome_name(r), r ? vmx_insn_error() : 0, vmcs_read(VMCS_VM_EXIT_REASON));
		return;
	}
	if (r != 0) {
		checkf(false, "%s: %s, error %lu (expected exit %lx)", c->name, vmx_outcome_name(r),
		       vmx_insn_error(), c->code);
		return;
	}
	uint64_t reason = vmcs_read(VMCS_VM_EXIT_REASON);
	if (reason != c->code) {
		check_eqf(reason, c->code, "%s: exit reason", c->name);
		return;
	}
	check_eqf(vmcs_read(VMCS_EXIT_QUALIFICATION), c->qual, "%s: exit reason %lx, qualification",
		  c->name, c->code);
}

/* The lowest bit set in mask (0 if none). */
static inline uint64_t ec_lowest(uint64_t mask)
{
	return mask & -mask;
}

#endif
