/*
 * INVEPT and INVVPID (SDM 32.3): the operand checks shared by the instructions and
 * the C API (vmx_invept/vmx_invvpid in vmx_api.c), and the instructions themselves.
 * The invalidation is ept_invalidate()/vpid_invalidate() (vmx_tlb.c).
 */
#include "cpu/sys.h"
#include "cpu/vmx/vmx_internal.h"

/* The INVEPT/INVVPID types IA32_VMX_EPT_VPID_CAP reports (SDM A.10): bit 25 + (type
 * - 1) for INVEPT types 1 and 2, bit 40 + type for INVVPID types 0-3. */
static bool invept_type_supported(uint64_t type)
{
	return (type == INVEPT_SINGLE_CONTEXT || type == INVEPT_ALL_CONTEXT) &&
	       (VMX_EPT_VPID_CAP_VALUE & BIT(24 + type));
}

static bool invvpid_type_supported(uint64_t type)
{
	return type <= INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS &&
	       (VMX_EPT_VPID_CAP_VALUE & BIT(40 + type));
}

/* SDM 32.3 INVEPT: an unsupported type -> VMfail(28); single-context with an EPTP
 * that VM entry would reject (vmx_eptp_valid) -> VMfail(28); else invalidate the
 * mappings of that EPTP (type 1) or of all EPTPs (type 2). Bits 127:64 of the
 * descriptor are reserved, but the Operation section does not check them. */
enum vmx_insn_error vmx_do_invept(struct cpu *cpu, uint64_t type, uint64_t eptp)
{
	if (!invept_type_supported(type))
		return VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID;
	if (type == INVEPT_SINGLE_CONTEXT && !vmx_eptp_valid(eptp))
		return VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID;
	ept_invalidate(cpu, (int)type, eptp);
	return 0;
}

/* SDM 32.3 INVVPID: an unsupported type -> VMfail(28); descriptor bits 63:16 set ->
 * VMfail(28); VPID 0 for types 0, 1, 3 -> VMfail(28); a non-canonical linear address
 * for type 0 -> VMfail(28). */
enum vmx_insn_error vmx_do_invvpid(struct cpu *cpu, uint64_t type, uint64_t desc_lo,
				   uint64_t gla)
{
	uint16_t vpid = (uint16_t)desc_lo;
	if (!invvpid_type_supported(type) || (desc_lo >> 16))
		return VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID;
	if (type != INVVPID_ALL_CONTEXT && vpid == 0)
		return VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID;
	if (type == INVVPID_INDIVIDUAL_ADDRESS && !is_canonical(gla))
		return VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID;
	vpid_invalidate(cpu, (int)type, vpid, gla);
	return 0;
}

/* The register operand (the type): 64 bits in 64-bit mode, else 32 (SDM 32.3 INVEPT,
 * INVVPID). */
static uint64_t inv_type(const struct cpu *cpu, const struct insn *in)
{
	return cpu_is_64(cpu) ? cpu->gpr[in->reg] : (uint32_t)cpu->gpr[in->reg];
}

/* The 128-bit descriptor (m128): low and high quadwords. */
static void inv_descriptor(struct cpu *cpu, const struct insn *in, uint64_t d[2])
{
	uint64_t ea = insn_ea(cpu, in);
	d[0] = mem_read(cpu, in->seg, ea, 3);
	d[1] = mem_read(cpu, in->seg, (ea + 8) & size_mask(in->asz), 3);
}

static void inv_outcome(struct cpu *cpu, enum vmx_insn_error err)
{
	vmx_set_rflags(cpu, err ? vmx_fail(cpu, err) : VMX_SUCCEED);
}

/* The type is checked before the descriptor is read (SDM 32.3 INVEPT/INVVPID
 * Operation), so an unsupported type with a bad memory operand is VMfail, not a
 * fault. Both instructions exist here (IA32_VMX_EPT_VPID_CAP bits 20 and 32, with
 * "enable EPT"/"enable VPID" allowed); the #UD for an unsupported instruction is
 * kept, derived from vmx_caps.h like everything else. */
void exec_INVEPT(struct cpu *cpu, const struct insn *in)
{
	if (!(VMX_EPT_VPID_CAP_VALUE & BIT(20)) || !(VMX_PROC2_ALLOWED1 & PROC2_ENABLE_EPT))
		cpu_ud(cpu);
	vmx_insn_root_checks(cpu);
	uint64_t type = inv_type(cpu, in);
	if (!invept_type_supported(type)) {
		inv_outcome(cpu, VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID);
		return;
	}
	uint64_t d[2];
	inv_descriptor(cpu, in, d);
	inv_outcome(cpu, vmx_do_invept(cpu, type, d[0]));
}

void exec_INVVPID(struct cpu *cpu, const struct insn *in)
{
	if (!(VMX_EPT_VPID_CAP_VALUE & BIT(32)) || !(VMX_PROC2_ALLOWED1 & PROC2_ENABLE_VPID))
		cpu_ud(cpu);
	vmx_insn_root_checks(cpu);
	uint64_t type = inv_type(cpu, in);
	if (!invvpid_type_supported(type)) {
		inv_outcome(cpu, VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID);
		return;
	}
	uint64_t d[2];
	inv_descriptor(cpu, in, d);
	inv_outcome(cpu, vmx_do_invvpid(cpu, type, d[0], d[1]));
}
