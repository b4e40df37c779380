/*
 * The VMCS-maintenance instructions executed by software on the silicon: VMCLEAR,
 * VMPTRLD, VMPTRST, VMREAD and VMWRITE (SDM 32.3; VMCS regions SDM 26.2, 26.11).
 *
 * A software VMM's VMCS lives in its region in guest-physical RAM: cpu->vmx.current
 * is the host view of the region at cpu->vmx.current_ptr (vmx_region_ptr), so VMREAD
 * and VMWRITE go through the same vmcs.c core as the C API.
 */
#include "cpu/sys.h"
#include "cpu/vmx/vmx_internal.h"

/* SDM 32.3 VMCLEAR: an unaligned pointer or one beyond MAXPHYADDR is VMfail(2), the
 * VMXON pointer VMfail(3); otherwise the region's launch state becomes clear and, if
 * it was the current VMCS, there is no current VMCS any more. */
static enum vmx_result vmclear(struct cpu *cpu, uint64_t addr)
{
	struct vmcs *region = vmx_region_ptr(cpu, addr);
	if (!region)
		return vmx_fail(cpu, VMXERR_VMCLEAR_INVALID_ADDRESS);
	if (addr == cpu->vmx.vmxon_ptr)
		return vmx_fail(cpu, VMXERR_VMCLEAR_VMXON_POINTER);
	region->launch_state = VMCS_STATE_CLEAR;
	if (addr == cpu->vmx.current_ptr) {
		cpu->vmx.current_ptr = VMX_NO_VMCS;
		cpu->vmx.current = NULL;
	}
	return VMX_SUCCEED;
}

void exec_VMCLEAR(struct cpu *cpu, const struct insn *in)
{
	vmx_insn_root_checks(cpu);
	vmx_set_rflags(cpu, vmclear(cpu, vmx_insn_read_m64(cpu, in)));
}

/* SDM 32.3 VMPTRLD: invalid address (error 9), the VMXON pointer (error 10), then the
 * first 32 bits of the region: bits 30:0 must be the revision identifier and bit 31
 * (shadow-VMCS indicator) 0 without VMCS shadowing, else error 11; otherwise the
 * region becomes the current VMCS. */
static enum vmx_result vmptrld(struct cpu *cpu, uint64_t addr)
{
	struct vmcs *region = vmx_region_ptr(cpu, addr);
	if (!region)
		return vmx_fail(cpu, VMXERR_VMPTRLD_INVALID_ADDRESS);
	if (addr == cpu->vmx.vmxon_ptr)
		return vmx_fail(cpu, VMXERR_VMPTRLD_VMXON_POINTER);
	if (region->revision_id != VMX_REVISION_ID)
		return vmx_fail(cpu, VMXERR_VMPTRLD_INCORRECT_REVISION_ID);
	cpu->vmx.current_ptr = addr;
	cpu->vmx.current = region;
	return VMX_SUCCEED;
}

void exec_VMPTRLD(struct cpu *cpu, const struct insn *in)
{
	vmx_insn_root_checks(cpu);
	vmx_set_rflags(cpu, vmptrld(cpu, vmx_insn_read_m64(cpu, in)));
}

/* SDM 32.3 VMPTRST: stores the current-VMCS pointer (all ones when there is none) to
 * its 64-bit memory operand. */
void exec_VMPTRST(struct cpu *cpu, const struct insn *in)
{
	vmx_insn_root_checks(cpu);
	mem_write(cpu, in->seg, insn_ea(cpu, in), 3, cpu->vmx.current_ptr);
	vmx_set_rflags(cpu, VMX_SUCCEED);
}

/* VMREAD/VMWRITE operand size: 64 bits in 64-bit mode, 32 bits outside it whatever
 * CS.D says (SDM 32.3 VMREAD, VMWRITE); the field encoding is the register operand at
 * that size, so in 64-bit mode bits 63:32 set name an unsupported component
 * (vmcs_lookup). */
static int vmx_osz(const struct cpu *cpu)
{
	return cpu_is_64(cpu) ? 3 : 2;
}

/* SDM 32.3 VMREAD: no current VMCS -> VMfailInvalid; an encoding that names no field
 * -> VMfailValid(12); else the field, zero-extended to the operand size or truncated
 * to it (a 64-bit field read with a 32-bit operand gives its low half), goes to the
 * register or memory destination. A fault on a memory destination can occur only
 * after both checks (SDM 32.3 VMREAD); it is written before RFLAGS, so the fault
 * leaves everything unchanged. */
void exec_VMREAD(struct cpu *cpu, const struct insn *in)
{
	vmx_insn_root_checks(cpu);
	if (!cpu->vmx.current) {
		vmx_set_rflags(cpu, VMX_FAIL_INVALID);
		return;
	}
	int osz = vmx_osz(cpu);
	uint64_t enc = reg_read(cpu, in->reg, osz, true);
	uint64_t value;
	enum vmx_insn_error err = vmcs_read_field(cpu->vmx.current, enc, &value);
	if (err) {
		vmx_set_rflags(cpu, vmx_fail(cpu, err));
		return;
	}
	if (in->flags & INSN_MEM)
		mem_write(cpu, in->seg, insn_ea(cpu, in), osz, value & size_mask(osz));
	else
		reg_write(cpu, in->rm, osz, true, value);
	vmx_set_rflags(cpu, VMX_SUCCEED);
}

/* SDM 32.3 VMWRITE: no current VMCS -> VMfailInvalid; then the primary source
 * (register or memory, operand size as VMREAD) is read, so that a fault on a memory
 * source comes after the VMCS-pointer check and before the field check (as the SDM
 * orders them); an unsupported encoding ->
 * VMfailValid(12), a read-only field without IA32_VMX_MISC[29] -> VMfailValid(13)
 * (vmcs_write_field). A field shorter than the operand drops the high bits; a longer
 * one gets them cleared. */
void exec_VMWRITE(struct cpu *cpu, const struct insn *in)
{
	vmx_insn_root_checks(cpu);
	if (!cpu->vmx.current) {
		vmx_set_rflags(cpu, VMX_FAIL_INVALID);
		return;
	}
	int osz = vmx_osz(cpu);
	uint64_t value = (in->flags & INSN_MEM) ? mem_read(cpu, in->seg, insn_ea(cpu, in), osz)
						: reg_read(cpu, in->rm, osz, true);
	uint64_t enc = reg_read(cpu, in->reg, osz, true);
	enum vmx_insn_error err = vmcs_write_field(cpu->vmx.current, enc, value);
	vmx_set_rflags(cpu, err ? vmx_fail(cpu, err) : VMX_SUCCEED);
}
