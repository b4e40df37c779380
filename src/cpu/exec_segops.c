/*
 * Segment-register instructions: MOV Sreg, PUSH/POP Sreg, LDS/LES/LFS/LGS/LSS (SDM
 * Vol.2 MOV, PUSH, POP, "LDS/LES/LFS/LGS/LSS"). The descriptor checks are seg_load()
 * (seg.c). MOV SS and POP SS start an interrupt shadow (SDM 6.8.3).
 */
#include "cpu/sys.h"

/* Sreg encodings 6 and 7 do not exist (SDM Vol.2 Table 3-6 note: #UD). */
static void check_sreg(struct cpu *cpu, unsigned sreg)
{
	if (sreg >= SEG_COUNT)
		cpu_ud(cpu);
}

static void movss_shadow(struct cpu *cpu)
{
	/* Interrupts, NMI, debug exceptions and single-step wait until after the next
	 * instruction (SDM 6.8.3). */
	cpu->intr_shadow = 1;
	cpu->intr_shadow_kind = SHADOW_MOVSS;
}

void exec_MOV_TO_SEG(struct cpu *cpu, const struct insn *in)
{
	check_sreg(cpu, in->reg);
	if (in->reg == SEG_CS)
		cpu_ud(cpu); /* MOV CS is #UD */
	uint16_t sel = (in->flags & INSN_MEM)
			       ? (uint16_t)mem_read(cpu, in->seg, insn_ea(cpu, in), 1)
			       : (uint16_t)cpu->gpr[in->rm];
	seg_load(cpu, in->reg, sel);
	if (in->reg == SEG_SS)
		movss_shadow(cpu);
}

/* Memory takes 16 bits; a 32/64-bit register takes the selector zero-extended. */
void exec_MOV_FROM_SEG(struct cpu *cpu, const struct insn *in)
{
	check_sreg(cpu, in->reg);
	uint16_t sel = cpu->seg[in->reg].sel;
	if (in->flags & INSN_MEM)
		mem_write(cpu, in->seg, insn_ea(cpu, in), 1, sel);
	else
		reg_write(cpu, in->rm, in->osz, false, sel);
}

/* PUSH Sreg: a 32/64-bit push writes the selector zero-extended (one of the two
 * behaviours SDM Vol.2 PUSH allows). */
void exec_PUSH_SEG(struct cpu *cpu, const struct insn *in)
{
	check_sreg(cpu, in->reg);
	stack_push(cpu, in->osz, cpu->seg[in->reg].sel);
}

/* POP Sreg: load first (it may fault), then move rSP. */
void exec_POP_SEG(struct cpu *cpu, const struct insn *in)
{
	check_sreg(cpu, in->reg);
	if (in->reg == SEG_CS)
		cpu_ud(cpu);
	uint16_t sel = (uint16_t)stack_peek(cpu, in->osz, 0);
	seg_load(cpu, in->reg, sel);
	stack_pop(cpu, in->osz);
	if (in->reg == SEG_SS)
		movss_shadow(cpu);
}

/* LxS r, m16:16/32/64: offset at [ea], selector at [ea + operand size]. */
static void load_far_pointer(struct cpu *cpu, const struct insn *in, int seg)
{
	if (!(in->flags & INSN_MEM))
		cpu_ud(cpu);
	uint64_t ea = insn_ea(cpu, in);
	uint64_t off = mem_read(cpu, in->seg, ea, in->osz);
	uint16_t sel = (uint16_t)mem_read(cpu, in->seg, (ea + (1u << in->osz)) & size_mask(in->asz), 1);
	seg_load(cpu, seg, sel);
	opG_write(cpu, in, off);
}

void exec_LES(struct cpu *cpu, const struct insn *in) { load_far_pointer(cpu, in, SEG_ES); }
void exec_LDS(struct cpu *cpu, const struct insn *in) { load_far_pointer(cpu, in, SEG_DS); }
void exec_LSS(struct cpu *cpu, const struct insn *in) { load_far_pointer(cpu, in, SEG_SS); }
void exec_LFS(struct cpu *cpu, const struct insn *in) { load_far_pointer(cpu, in, SEG_FS); }
void exec_LGS(struct cpu *cpu, const struct insn *in) { load_far_pointer(cpu, in, SEG_GS); }
