/*
 * Descriptor-table exits (SDM 27.1.3 "LGDT, LIDT, LLDT, LTR, SGDT, SIDT, SLDT, STR":
 * "descriptor-table exiting", a secondary control), reasons 46 (GDTR/IDTR access) and
 * 47 (LDTR/TR access), with the displacement as qualification (SDM 29.2.1) and the
 * instruction-information layouts of SDM 29.2.x.
 *
 * Faults with priority (SDM 27.1.1): #UD (a register operand for LGDT/LIDT/SGDT/SIDT;
 * LLDT/LTR/SLDT/STR outside protected mode), #GP(0) at CPL > 0 for the loads, and the
 * UMIP #GP(0) for the stores. Faults of the memory operand itself come after the exit.
 */
#include "cpu/vmx/vmx_intercept.h"

#include "cpu/sys.h"

/* Instruction identities, bits 29:28. */
enum { ID_SGDT = 0, ID_SIDT = 1, ID_LGDT = 2, ID_LIDT = 3 };
enum { ID_SLDT = 0, ID_STR = 1, ID_LLDT = 2, ID_LTR = 3 };

/* SDM 27.1.3: LGDT ... STR exit with "descriptor-table exiting". */
static bool dtr_exits(const struct cpu *cpu)
{
	return vmx_proc2(cpu) & PROC2_DESC_TABLE_EXITING;
}

/* The #GP(0) that takes priority over the exit (SDM 27.1.1): loads at CPL > 0, and
 * stores at CPL > 0 with CR4.UMIP. */
static void privilege_checks(struct cpu *cpu, bool load)
{
	if (load ? cpu->cpl != 0 : ((cpu->cr4 & CR4_UMIP) && cpu->cpl > 0))
		cpu_gp(cpu, 0);
}

bool vmx_icept_dtr(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	unsigned id = in->op == OP_SGDT ? ID_SGDT : in->op == OP_SIDT ? ID_SIDT
		    : in->op == OP_LGDT ? ID_LGDT : ID_LIDT;
	if (!(in->flags & INSN_MEM))
		cpu_ud(cpu);
	privilege_checks(cpu, id >= ID_LGDT);
	x->reason = EXIT_REASON_GDTR_IDTR;
	x->qualification = vmx_info_displacement(cpu, in);
	/* Bit 11: operand size 0 = 16-bit, 1 = 32-bit (undefined in 64-bit mode). */
	x->insn_info = vmx_info_operand(in) | VMX_INFO_IDENTITY(id) |
		       (in->osz >= 2 ? VMX_INFO_OSZ32 : 0);
	return dtr_exits(cpu);
}

bool vmx_icept_ldtr_tr(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	unsigned id = in->op == OP_SLDT ? ID_SLDT : in->op == OP_STR ? ID_STR
		    : in->op == OP_LLDT ? ID_LLDT : ID_LTR;
	if (!cpu_is_prot(cpu))
		cpu_ud(cpu);
	privilege_checks(cpu, id >= ID_LLDT);
	x->reason = EXIT_REASON_LDTR_TR;
	x->qualification = vmx_info_displacement(cpu, in);
	x->insn_info = vmx_info_operand(in) | VMX_INFO_IDENTITY(id);
	return dtr_exits(cpu);
}
