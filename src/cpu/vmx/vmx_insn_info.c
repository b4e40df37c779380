/*
 * The VM-exit instruction-information field and the displacement qualification for
 * instructions with a memory operand (SDM 29.2.1 "exit qualification", 29.2.x
 * "instruction-information field"; the layouts are in vmx_intercept.h).
 *
 * Every layout that describes a memory operand shares the same fields (scaling 1:0,
 * address size 9:7, bit 10 = 0, segment 17:15, index 21:18 and its invalid bit 22,
 * base 26:23 and its invalid bit 27); a register operand sets bit 10 and Reg1 in 6:3,
 * and leaves the memory fields undefined (0 here).
 */
#include "cpu/vmx/vmx_intercept.h"

uint32_t vmx_info_operand(const struct insn *in)
{
	if (!(in->flags & INSN_MEM))
		return VMX_INFO_REGFORM | VMX_INFO_REG1(in->rm);
	uint32_t info = VMX_INFO_ASZ(in->asz) | VMX_INFO_SEG(in->seg);
	/* RIP-relative addressing has neither base nor index register (SDM 29.2.1: it is
	 * reported through the qualification, displacement + RIP). */
	if (in->base == REG_NONE || in->base == REG_RIP || (in->flags & INSN_MOFFS))
		info |= VMX_INFO_NO_BASE;
	else
		info |= VMX_INFO_BASE(in->base);
	if (in->index == REG_NONE || (in->flags & INSN_MOFFS))
		info |= VMX_INFO_NO_INDEX;
	else
		info |= VMX_INFO_INDEX(in->index) | in->scale;
	return info;
}

/* SDM 29.2.1: "the value of the instruction's displacement field, sign-extended to 64
 * bits"; zero without one (a register operand); with RIP-relative addressing, the sum
 * of the displacement and the RIP of the next instruction. */
uint64_t vmx_info_displacement(const struct cpu *cpu, const struct insn *in)
{
	if (!(in->flags & INSN_MEM))
		return 0;
	uint64_t disp = (uint64_t)(int64_t)in->disp;
	if (in->base == REG_RIP)
		return disp + cpu->next_rip;
	return disp;
}

uint64_t vmx_operand_linear(const struct cpu *cpu, int seg, uint64_t offset)
{
	if (cpu->mode == MODE_LONG64)
		return offset + (seg == SEG_FS || seg == SEG_GS ? cpu->seg[seg].base : 0);
	return (uint32_t)(cpu->seg[seg].base + offset);
}
