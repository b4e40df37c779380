/*
 * What the VMX instructions share: the VMsucceed/VMfail conventions (SDM 32.2), the
 * #UD and #GP(0) prologue of the instructions (SDM 32.3), the CR0/CR4 values VMX
 * operation allows (SDM 25.8, A.7, A.8) and the mapping of a VMXON/VMCS pointer to
 * its region in guest RAM.
 */
#include "cpu/sys.h"
#include "cpu/vmx/vmx_internal.h"

void vmx_set_insn_error(struct cpu *cpu, enum vmx_insn_error err)
{
	if (cpu->vmx.current)
		VMCS_SET(cpu->vmx.current, VM_INSTRUCTION_ERROR, err);
}

/* SDM 32.2 VMfail(error): VMfailValid, with the error number in the current VMCS, if
 * there is a current VMCS; otherwise VMfailInvalid. */
enum vmx_result vmx_fail(struct cpu *cpu, enum vmx_insn_error err)
{
	if (!cpu->vmx.current)
		return VMX_FAIL_INVALID;
	vmx_set_insn_error(cpu, err);
	return VMX_FAIL_VALID;
}

/* SDM 32.2: VMsucceed clears CF, PF, AF, ZF, SF, OF; VMfailInvalid sets CF and clears
 * the rest; VMfailValid sets ZF and clears the rest. */
void vmx_set_rflags(struct cpu *cpu, enum vmx_result r)
{
	uint64_t bits = 0;
	if (r == VMX_FAIL_INVALID)
		bits = RFLAGS_CF;
	else if (r == VMX_FAIL_VALID)
		bits = RFLAGS_ZF;
	flags_set_arith(cpu, bits);
}

/* SDM 32.3 (VMCLEAR ... VMXOFF, Operation): #UD outside VMX operation, in real mode
 * (CR0.PE = 0), in virtual-8086 mode (RFLAGS.VM = 1) and in compatibility mode
 * (IA32_EFER.LMA = 1 with CS.L = 0). */
void vmx_insn_check_ud(struct cpu *cpu)
{
	if (cpu->vmx.host == VMX_HOST_NONE || !cpu_is_prot(cpu) ||
	    cpu->mode == MODE_COMPAT16 || cpu->mode == MODE_COMPAT32)
		cpu_ud(cpu);
}

void vmx_insn_root_checks(struct cpu *cpu)
{
	vmx_insn_check_ud(cpu);
	/* Next in SDM 32.3 comes the VM exit in non-root operation: vmx_intercepted()
	 * takes it before the handler runs (ops.def IC_VMX), so a handler never sees
	 * non-root operation; should it, #UD keeps the guest from touching the VMCS. */
	if (cpu->vmx.non_root)
		cpu_ud(cpu);
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0); /* then #GP(0) above CPL 0 */
}

/* IA32_VMX_CR0_FIXED0/1 (SDM A.7): bits set in FIXED0 must be 1, bits clear in FIXED1
 * must be 0. With "unrestricted guest" in non-root operation, PE and PG may be 0
 * (SDM 27.3 "MOV to CR0", A.7). */
bool vmx_cr0_allowed(const struct cpu *cpu, uint64_t cr0)
{
	uint64_t fixed0 = VMX_CR0_FIXED0;
	if (cpu->vmx.non_root && (cpu->vmx.ctl.proc2 & PROC2_UNRESTRICTED_GUEST))
		fixed0 &= ~(CR0_PE | CR0_PG);
	return (cr0 & fixed0) == fixed0 && !(cr0 & ~(uint64_t)VMX_CR0_FIXED1);
}

/* IA32_VMX_CR4_FIXED0/1 (SDM A.8): VMXE must stay 1; the bits that may be 1 are those
 * MOV to CR4 accepts anyway (cpu_cr4_allowed), so only FIXED0 adds a rule. */
bool vmx_cr4_allowed(const struct cpu *cpu, uint64_t cr4)
{
	return (cr4 & VMX_CR4_FIXED0) == VMX_CR4_FIXED0 && !(cr4 & ~cpu_cr4_allowed(cpu));
}

/* Does an MMIO region (which takes precedence over RAM on the bus) overlap the
 * 4-KByte region at addr? */
static bool region_hits_mmio(const struct bus *bus, gpa_t addr)
{
	gpa_t end = addr + VMX_VMCS_REGION_BYTES;
	if (end <= bus->mmio_low)
		return false;
	for (int i = 0; i < bus->n_mmio; i++) {
		const struct bus_mmio_region *r = &bus->mmio[i];
		if (addr < r->base + r->size && r->base < end)
			return true;
	}
	return false;
}

/* SDM 32.3 VMXON/VMCLEAR/VMPTRLD: the pointer must be 4-KByte aligned and set no bit
 * beyond the physical-address width (CPU_MAXPHYADDR). A region that is not entirely
 * RAM (MMIO, or beyond the end of memory) is also an invalid physical address here:
 * the silicon keeps the VMCS in the region itself (vmx_internal.h). */
struct vmcs *vmx_region_ptr(struct cpu *cpu, uint64_t addr)
{
	if ((addr & (VMX_VMCS_REGION_BYTES - 1)) || (addr >> CPU_MAXPHYADDR))
		return NULL;
	if (addr + VMX_VMCS_REGION_BYTES > cpu->bus->ram_size || region_hits_mmio(cpu->bus, addr))
		return NULL;
	return (struct vmcs *)bus_ram_ptr(cpu->bus, addr);
}
