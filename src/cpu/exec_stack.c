/*
 * The stack (SDM Vol.1 6.2-6.5): stack_push/pop/peek for every executor, and PUSH POP
 * PUSHA POPA ENTER LEAVE (SDM Vol.2 pages of the same names).
 *
 * The stack address size is 64 in 64-bit mode, else SS.B (stack_asz()): rSP arithmetic
 * wraps at that size and only that part of rSP is written (SP alone for a 16-bit
 * stack). Every access goes through SS and happens before rSP changes, so a fault
 * leaves rSP as it was.
 */
#include "cpu/exec_util.h"

static inline uint64_t sp_read(const struct cpu *cpu, int sasz)
{
	return cpu->gpr[RSP] & size_mask(sasz);
}

static inline void sp_write(struct cpu *cpu, int sasz, uint64_t v)
{
	reg_write(cpu, RSP, sasz, false, v);
}

void stack_push(struct cpu *cpu, int osz, uint64_t v)
{
	int sasz = stack_asz(cpu);
	uint64_t sp = (cpu->gpr[RSP] - (1u << osz)) & size_mask(sasz);
	mem_write(cpu, SEG_SS, sp, osz, v);
	sp_write(cpu, sasz, sp);
}

uint64_t stack_pop(struct cpu *cpu, int osz)
{
	int sasz = stack_asz(cpu);
	uint64_t sp = sp_read(cpu, sasz);
	uint64_t v = mem_read(cpu, SEG_SS, sp, osz);
	sp_write(cpu, sasz, sp + (1u << osz));
	return v;
}

uint64_t stack_peek(struct cpu *cpu, int osz, uint64_t offset)
{
	int sasz = stack_asz(cpu);
	return mem_read(cpu, SEG_SS, (cpu->gpr[RSP] + offset) & size_mask(sasz), osz);
}

/* PUSH r (FORM_G), PUSH r/m (FORM_E), PUSH imm (FORM_I, sign-extended). PUSH rSP
 * pushes the value before the push; a memory source using rSP is addressed before. */
void exec_PUSH(struct cpu *cpu, const struct insn *in)
{
	uint64_t v;
	switch (in->form) {
	case FORM_G: v = opG_read(cpu, in); break;
	case FORM_E: v = opE_read(cpu, in); break;
	default: v = in->imm; break;
	}
	stack_push(cpu, in->osz, v);
}

/*
 * POP r / POP r/m. SDM POP: "If the ESP register is used as a base register for
 * addressing a destination operand in memory, the POP instruction computes the
 * effective address of the operand after it increments the ESP register", and POP rSP
 * loads rSP with the popped value (the increment is overwritten).
 */
void exec_POP(struct cpu *cpu, const struct insn *in)
{
	int sasz = stack_asz(cpu);
	uint64_t sp = sp_read(cpu, sasz);
	uint64_t v = mem_read(cpu, SEG_SS, sp, in->osz);
	uint64_t old_rsp = cpu->gpr[RSP];
	sp_write(cpu, sasz, sp + (1u << in->osz));
	if (in->form == FORM_G || !(in->flags & INSN_MEM)) {
		reg_write(cpu, in->form == FORM_G ? in->reg : in->rm, in->osz, insn_rex(in), v);
		return;
	}
	uint64_t ea = insn_ea(cpu, in); /* with the incremented rSP */
	uint64_t new_rsp = cpu->gpr[RSP];
	cpu->gpr[RSP] = old_rsp;        /* a faulting write must leave rSP unchanged */
	mem_write(cpu, in->seg, ea, in->osz, v);
	cpu->gpr[RSP] = new_rsp;
}

/* PUSHA/PUSHAD: AX CX DX BX (original SP) BP SI DI, then rSP -= 8 * size. */
void exec_PUSHA(struct cpu *cpu, const struct insn *in)
{
	int sasz = stack_asz(cpu), osz = in->osz;
	uint64_t sp = sp_read(cpu, sasz);
	for (int r = RAX; r <= RDI; r++) {
		sp = (sp - (1u << osz)) & size_mask(sasz);
		mem_write(cpu, SEG_SS, sp, osz, cpu->gpr[r]);
	}
	sp_write(cpu, sasz, sp);
}

/* POPA/POPAD: DI SI BP (skip SP) BX DX CX AX; all read before any register changes. */
void exec_POPA(struct cpu *cpu, const struct insn *in)
{
	int sasz = stack_asz(cpu), osz = in->osz;
	uint64_t sp = sp_read(cpu, sasz), v[8];
	for (int r = RDI; r >= RAX; r--) {
		v[r] = mem_read(cpu, SEG_SS, sp, osz);
		sp = (sp + (1u << osz)) & size_mask(sasz);
	}
	for (int r = RAX; r <= RDI; r++)
		if (r != RSP)
			reg_write(cpu, r, osz, false, v[r]);
	sp_write(cpu, sasz, sp);
}

/*
 * ENTER size, level (SDM ENTER, Operation): push rBP; FrameTemp = rSP; for level > 1
 * push level-1 frame pointers read from [rBP - k*size]; for level > 0 push FrameTemp;
 * then rBP = FrameTemp and rSP -= size. The level is taken modulo 32. Everything runs
 * on local copies and is committed at the end, so a fault changes no register.
 */
void exec_ENTER(struct cpu *cpu, const struct insn *in)
{
	int sasz = stack_asz(cpu), osz = in->osz;
	uint64_t m = size_mask(sasz), step = 1u << osz;
	unsigned level = in->imm2 & 31;
	uint64_t sp = sp_read(cpu, sasz), bp = cpu->gpr[RBP] & m;

	sp = (sp - step) & m;
	mem_write(cpu, SEG_SS, sp, osz, cpu->gpr[RBP]);
	uint64_t frame = sp;
	if (level > 0) {
		for (unsigned i = 1; i < level; i++) {
			bp = (bp - step) & m;
			uint64_t v = mem_read(cpu, SEG_SS, bp, osz);
			sp = (sp - step) & m;
			mem_write(cpu, SEG_SS, sp, osz, v);
		}
		sp = (sp - step) & m;
		mem_write(cpu, SEG_SS, sp, osz, frame);
	}
	reg_write(cpu, RBP, osz, false, frame);
	sp_write(cpu, sasz, sp - (in->imm & 0xFFFF));
}

/* LEAVE: rSP = rBP (stack address size), then rBP = pop (operand size). */
void exec_LEAVE(struct cpu *cpu, const struct insn *in)
{
	int sasz = stack_asz(cpu);
	uint64_t sp = cpu->gpr[RBP] & size_mask(sasz);
	uint64_t v = mem_read(cpu, SEG_SS, sp, in->osz);
	sp_write(cpu, sasz, sp + (1u << in->osz));
	reg_write(cpu, RBP, in->osz, false, v);
}
