/*
 * VMX for native code (cpu/vmx.h): the C API's VMXON/VMXOFF, VMCLEAR, VMPTRLD,
 * VMPTRST, VMREAD and VMWRITE. The checks are those of the instructions (SDM 32.3)
 * that make sense without guest-physical operands; the VMCS core is vmcs.c.
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

/* VMfailValid if there is a current VMCS to report to, else VMfailInvalid. */
static enum vmx_result fail(struct cpu *cpu, enum vmx_insn_error err)
{
	if (!cpu->vmx.current)
		return VMX_FAIL_INVALID;
	vmx_set_insn_error(cpu, err);
	return VMX_FAIL_VALID;
}

enum vmx_result vmx_native_on(struct cpu *cpu)
{
	if (cpu->vmx.host != VMX_HOST_NONE)
		return fail(cpu, VMXERR_VMXON_IN_VMX_ROOT_OPERATION);
	cpu->vmx.host = VMX_HOST_NATIVE;
	cpu->vmx.non_root = false;
	cpu->vmx.current = NULL;
	cpu->vmx.current_ptr = VMX_NO_VMCS;
	return VMX_SUCCEED;
}

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

/* SDM 32.3 VMCLEAR: the launch state becomes "clear"; a current VMCS stops being
 * current. */
enum vmx_result vmx_vmclear(struct cpu *cpu, struct vmcs *vmcs)
{
	if (!native_root(cpu) || !vmcs)
		return VMX_FAIL_INVALID;
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
	if (!native_root(cpu) || !vmcs)
		return VMX_FAIL_INVALID;
	if (vmcs->revision_id != VMX_REVISION_ID)
		return fail(cpu, VMXERR_VMPTRLD_INCORRECT_REVISION_ID);
	cpu->vmx.current = vmcs;
	cpu->vmx.current_ptr = VMX_NO_VMCS; /* not in guest-physical memory */
	return VMX_SUCCEED;
}

struct vmcs *vmx_vmptrst(const struct cpu *cpu)
{
	return cpu->vmx.host == VMX_HOST_NATIVE ? cpu->vmx.current : NULL;
}

enum vmx_result vmx_vmread(struct cpu *cpu, uint32_t field, uint64_t *value)
{
	if (!native_root(cpu) || !cpu->vmx.current)
		return VMX_FAIL_INVALID;
	enum vmx_insn_error err = vmcs_read_field(cpu->vmx.current, field, value);
	return err ? fail(cpu, err) : VMX_SUCCEED;
}

enum vmx_result vmx_vmwrite(struct cpu *cpu, uint32_t field, uint64_t value)
{
	if (!native_root(cpu) || !cpu->vmx.current)
		return VMX_FAIL_INVALID;
	enum vmx_insn_error err = vmcs_write_field(cpu->vmx.current, field, value);
	return err ? fail(cpu, err) : VMX_SUCCEED;
}

void vmx_set_insn_error(struct cpu *cpu, enum vmx_insn_error err)
{
	if (cpu->vmx.current)
		VMCS_SET(cpu->vmx.current, VM_INSTRUCTION_ERROR, err);
}
