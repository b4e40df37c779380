/*
 * VMX for native code (cpu/vmx.h): the C API's VMXON/VMXOFF, VMCLEAR, VMPTRLD,
 * VMPTRST, VMREAD, VMWRITE, INVEPT and INVVPID. The checks are those of the
 * instructions (SDM 32.3) that make sense without guest-physical operands, in the
 * same order; outcomes follow SDM 32.2 (vmx_fail, vmx_outcome.c). The VMCS core is
 * vmcs.c, the INVEPT/INVVPID operand checks vmx_insn_inv.c. Calls made outside
 * native VMX root operation (a misuse by L0, not a guest error) are VMfailInvalid.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu/vmx/vmx_internal.h"

struct vmcs *vmcs_alloc(void)
{
	struct vmcs *v = aligned_alloc(VMX_VMCS_REGION_BYTES, VMX_VMCS_REGION_BYTES);
	if (!v)
		return NULL;
	memset(v, 0, VMX_VMCS_REGION_BYTES);
	v->revision_id = VMX_REVISION_ID;
	return v;
}

void vmcs_free(struct vmcs *vmcs)
{
	free(vmcs);
}

/* SDM 32.3 VMXON: in VMX operation already -> VMfail(15); else enter VMX operation
 * with no current VMCS. */
enum vmx_result vmx_native_on(struct cpu *cpu)
{
	if (cpu->vmx.host != VMX_HOST_NONE)
		return vmx_fail(cpu, VMXERR_VMXON_IN_VMX_ROOT_OPERATION);
	cpu->vmx.host = VMX_HOST_NATIVE;
	cpu->vmx.non_root = false;
	cpu->vmx.vmxon_ptr = 0; /* no VMXON region: the VMM is native code */
	cpu->vmx.current = NULL;
	cpu->vmx.current_ptr = VMX_NO_VMCS;
	return VMX_SUCCEED;
}

/* SDM 32.3 VMXOFF: leave VMX operation (only from native root operation). */
enum vmx_result vmx_native_off(struct cpu *cpu)
{
	if (cpu->vmx.host != VMX_HOST_NATIVE || cpu->vmx.non_root)
		return VMX_FAIL_INVALID;
	cpu->vmx.host = VMX_HOST_NONE;
	cpu->vmx.current = NULL;
	cpu->vmx.current_ptr = VMX_NO_VMCS;
	return VMX_SUCCEED;
}

static bool native_root(const struct cpu *cpu)
{
	return cpu->vmx.host == VMX_HOST_NATIVE && !cpu->vmx.non_root;
}

/* A host VMCS pointer is an "invalid physical address" (SDM 32.3 VMCLEAR error 2,
 * VMPTRLD error 9) if it is NULL or not 4-KByte aligned like a region must be. */
static bool bad_region(const struct vmcs *vmcs)
{
	return !vmcs || ((uintptr_t)vmcs & (VMX_VMCS_REGION_BYTES - 1));
}

/* SDM 32.3 VMCLEAR: the launch state becomes "clear"; a current VMCS stops being
 * current. (Error 3, the VMXON pointer, cannot happen: native VMX operation has no
 * VMXON region.) */
enum vmx_result vmx_vmclear(struct cpu *cpu, struct vmcs *vmcs)
{
	if (!native_root(cpu))
		return VMX_FAIL_INVALID;
	if (bad_region(vmcs))
		return vmx_fail(cpu, VMXERR_VMCLEAR_INVALID_ADDRESS);
	vmcs->launch_state = VMCS_STATE_CLEAR;
	if (cpu->vmx.current == vmcs) {
		cpu->vmx.current = NULL;
		cpu->vmx.current_ptr = VMX_NO_VMCS;
	}
	return VMX_SUCCEED;
}

/* SDM 32.3 VMPTRLD: the region's revision identifier must match IA32_VMX_BASIC (bit 31,
 * the shadow-VMCS indicator, must be 0 without VMCS shadowing). */
enum vmx_result vmx_vmptrld(struct cpu *cpu, struct vmcs *vmcs)
{
	if (!native_root(cpu))
		return VMX_FAIL_INVALID;
	if (bad_region(vmcs))
		return vmx_fail(cpu, VMXERR_VMPTRLD_INVALID_ADDRESS);
	if (vmcs->revision_id != VMX_REVISION_ID)
		return vmx_fail(cpu, VMXERR_VMPTRLD_INCORRECT_REVISION_ID);
	cpu->vmx.current = vmcs;
	cpu->vmx.current_ptr = VMX_NO_VMCS; /* not in guest-physical memory */
	return VMX_SUCCEED;
}

/* SDM 32.3 VMPTRST: the current VMCS (NULL when the pointer is all ones). */
struct vmcs *vmx_vmptrst(const struct cpu *cpu)
{
	return cpu->vmx.host == VMX_HOST_NATIVE ? cpu->vmx.current : NULL;
}

/* SDM 32.3 VMREAD/VMWRITE: no current VMCS -> VMfailInvalid; an unsupported
 * component -> VMfail(12); read-only fields are writable (IA32_VMX_MISC[29]). */
enum vmx_result vmx_vmread(struct cpu *cpu, uint32_t field, uint64_t *value)
{
	if (!native_root(cpu) || !cpu->vmx.current)
		return VMX_FAIL_INVALID;
	enum vmx_insn_error err = vmcs_read_field(cpu->vmx.current, field, value);
	return err ? vmx_fail(cpu, err) : VMX_SUCCEED;
}

enum vmx_result vmx_vmwrite(struct cpu *cpu, uint32_t field, uint64_t value)
{
	if (!native_root(cpu) || !cpu->vmx.current)
		return VMX_FAIL_INVALID;
	enum vmx_insn_error err = vmcs_write_field(cpu->vmx.current, field, value);
	return err ? vmx_fail(cpu, err) : VMX_SUCCEED;
}

/* SDM 32.3 INVEPT/INVVPID with the operands as values (vmx_insn_inv.c checks them as
 * the instructions do): VMfail(28) for an unsupported type or invalid operand. */
enum vmx_result vmx_invept(struct cpu *cpu, uint64_t type, uint64_t eptp)
{
	if (!native_root(cpu))
		return VMX_FAIL_INVALID;
	enum vmx_insn_error err = vmx_do_invept(cpu, type, eptp);
	return err ? vmx_fail(cpu, err) : VMX_SUCCEED;
}

enum vmx_result vmx_invvpid(struct cpu *cpu, uint64_t type, uint16_t vpid, uint64_t gla)
{
	if (!native_root(cpu))
		return VMX_FAIL_INVALID;
	enum vmx_insn_error err = vmx_do_invvpid(cpu, type, vpid, gla);
	return err ? vmx_fail(cpu, err) : VMX_SUCCEED;
}
