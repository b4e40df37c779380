/*
 * Specialised handlers (see exec_fast.h): register and simple memory forms of the
 * integer instructions at 32 and 64 bits, and Jcc with the common lazy-flag cases
 * evaluated inline. Flags are recorded exactly as the generic handlers record them
 * (flags.h), so the two are interchangeable at every instruction boundary.
 */
#include "cpu/exec_fast.h"

static const exec_fn generic_table[OP_COUNT] = {
#define OP(name, intercept) [OP_##name] = exec_##name,
#include "cpu/ops.def"
#undef OP
};

exec_fn exec_generic(enum op op)
{
	return generic_table[op];
}

/* --- two-operand ALU, register forms ------------------------------------------- */

#define ALU_RR(NAME, LF, WRITES, EXPR, SZ, T, D, S)                                \
	static void fast_##NAME##_##D##S##SZ(struct cpu *cpu, const struct insn *in) \
	{                                                                           \
		T d = (T)cpu->gpr[in->D], s = (T)cpu->gpr[in->S];                   \
		T r = (T)(EXPR);                                                    \
		if (WRITES)                                                         \
			cpu->gpr[in->D] = r;                                        \
		flags_record(cpu, LF, SZ == 64 ? 3 : 2, r, d, s);                   \
	}

#define ALU_RI(NAME, LF, WRITES, EXPR, SZ, T)                                      \
	static void fast_##NAME##_ri##SZ(struct cpu *cpu, const struct insn *in)   \
	{                                                                           \
		T d = (T)cpu->gpr[in->rm], s = (T)in->imm;                          \
		T r = (T)(EXPR);                                                    \
		if (WRITES)                                                         \
			cpu->gpr[in->rm] = r;                                       \
		flags_record(cpu, LF, SZ == 64 ? 3 : 2, r, d, s);                   \
	}

/* E op= G (rm is the destination) and G op= E (reg is), at 32 and 64 bits. */
#define ALU_ALL(NAME, LF, WRITES, EXPR)                                            \
	ALU_RR(NAME, LF, WRITES, EXPR, 64, uint64_t, rm, reg)                       \
	ALU_RR(NAME, LF, WRITES, EXPR, 32, uint32_t, rm, reg)                       \
	ALU_RR(NAME, LF, WRITES, EXPR, 64, uint64_t, reg, rm)                       \
	ALU_RR(NAME, LF, WRITES, EXPR, 32, uint32_t, reg, rm)                       \
	ALU_RI(NAME, LF, WRITES, EXPR, 64, uint64_t)                                \
	ALU_RI(NAME, LF, WRITES, EXPR, 32, uint32_t)

ALU_ALL(ADD, LF_ADD, true, d + s)
ALU_ALL(SUB, LF_SUB, true, d - s)
ALU_ALL(AND, LF_LOGIC, true, d & s)
ALU_ALL(OR, LF_LOGIC, true, d | s)
ALU_ALL(XOR, LF_LOGIC, true, d ^ s)
ALU_ALL(CMP, LF_SUB, false, d - s)
ALU_ALL(TEST, LF_LOGIC, false, d & s)

struct alu_fast {
	exec_fn eg64, eg32, ge64, ge32, ri64, ri32;
};

#define ALU_ROW(NAME)                                                              \
	[OP_##NAME] = { fast_##NAME##_rmreg64, fast_##NAME##_rmreg32,               \
			fast_##NAME##_regrm64, fast_##NAME##_regrm32,               \
			fast_##NAME##_ri64, fast_##NAME##_ri32 }

static const struct alu_fast alu_fast[OP_COUNT] = {
	ALU_ROW(ADD), ALU_ROW(SUB), ALU_ROW(AND), ALU_ROW(OR), ALU_ROW(XOR), ALU_ROW(CMP),
	ALU_ROW(TEST),
};

/* --- MOV ---------------------------------------------------------------------- */

static void fast_mov_rr64(struct cpu *cpu, const struct insn *in)
{
	if (in->form == FORM_EG)
		cpu->gpr[in->rm] = cpu->gpr[in->reg];
	else
		cpu->gpr[in->reg] = cpu->gpr[in->rm];
}

static void fast_mov_rr32(struct cpu *cpu, const struct insn *in)
{
	if (in->form == FORM_EG)
		cpu->gpr[in->rm] = (uint32_t)cpu->gpr[in->reg];
	else
		cpu->gpr[in->reg] = (uint32_t)cpu->gpr[in->rm];
}

/* MOV r, imm (B8+r is FORM_GI; C7 /0 with a register is FORM_EI). */
static void fast_mov_gi64(struct cpu *cpu, const struct insn *in)
{
	cpu->gpr[in->reg] = in->imm;
}

static void fast_mov_gi32(struct cpu *cpu, const struct insn *in)
{
	cpu->gpr[in->reg] = (uint32_t)in->imm;
}

static void fast_mov_ei64(struct cpu *cpu, const struct insn *in)
{
	cpu->gpr[in->rm] = in->imm;
}

static void fast_mov_ei32(struct cpu *cpu, const struct insn *in)
{
	cpu->gpr[in->rm] = (uint32_t)in->imm;
}

/* Loads and stores: the address, then the (inline) TLB fast path of mem.h. */
static void fast_load64(struct cpu *cpu, const struct insn *in)
{
	cpu->gpr[in->reg] = mem_read(cpu, in->seg, insn_ea(cpu, in), 3);
}

static void fast_load32(struct cpu *cpu, const struct insn *in)
{
	cpu->gpr[in->reg] = (uint32_t)mem_read(cpu, in->seg, insn_ea(cpu, in), 2);
}

static void fast_store64(struct cpu *cpu, const struct insn *in)
{
	mem_write(cpu, in->seg, insn_ea(cpu, in), 3, cpu->gpr[in->reg]);
}

static void fast_store32(struct cpu *cpu, const struct insn *in)
{
	mem_write(cpu, in->seg, insn_ea(cpu, in), 2, (uint32_t)cpu->gpr[in->reg]);
}

static void fast_lea64(struct cpu *cpu, const struct insn *in)
{
	cpu->gpr[in->reg] = insn_ea(cpu, in);
}

static exec_fn select_mov(const struct insn *in)
{
	bool q = in->osz == 3;
	switch (in->form) {
	case FORM_GI:
		return q ? fast_mov_gi64 : fast_mov_gi32;
	case FORM_EI:
		if (in->flags & INSN_MEM)
			return NULL;
		return q ? fast_mov_ei64 : fast_mov_ei32;
	case FORM_EG:
		if (in->flags & INSN_MEM)
			return q ? fast_store64 : fast_store32;
		return q ? fast_mov_rr64 : fast_mov_rr32;
	case FORM_GE:
		if (in->flags & INSN_MEM)
			return q ? fast_load64 : fast_load32;
		return q ? fast_mov_rr64 : fast_mov_rr32;
	default:
		return NULL;
	}
}

/* --- shifts by an immediate count ----------------------------------------------- */

#define SHIFT_RI(NAME, LF, SZ, T, EXPR)                                            \
	static void fast_##NAME##_ri##SZ(struct cpu *cpu, const struct insn *in)   \
	{                                                                           \
		unsigned n = (unsigned)in->imm & (SZ - 1);                          \
		T d = (T)cpu->gpr[in->rm];                                          \
		T r = (T)(EXPR);                                                    \
		cpu->gpr[in->rm] = r;                                               \
		flags_record(cpu, LF, SZ == 64 ? 3 : 2, r, d, n);                   \
	}

SHIFT_RI(SHL, LF_SHL, 64, uint64_t, d << n)
SHIFT_RI(SHL, LF_SHL, 32, uint32_t, d << n)
SHIFT_RI(SHR, LF_SHR, 64, uint64_t, d >> n)
SHIFT_RI(SHR, LF_SHR, 32, uint32_t, d >> n)
SHIFT_RI(SAR, LF_SAR, 64, uint64_t, (int64_t)d >> n)
SHIFT_RI(SAR, LF_SAR, 32, uint32_t, (int32_t)d >> n)

/* Only a non-zero masked count sets flags (SDM SAL/SAR/SHL/SHR), so only those forms
 * are specialised. */
static exec_fn select_shift(const struct insn *in)
{
	if (in->form != FORM_EI || (in->flags & (INSN_MEM | INSN_CL)))
		return NULL;
	if ((in->imm & (in->osz == 3 ? 63 : 31)) == 0)
		return NULL;
	bool q = in->osz == 3;
	switch (in->op) {
	case OP_SHL: return q ? fast_SHL_ri64 : fast_SHL_ri32;
	case OP_SHR: return q ? fast_SHR_ri64 : fast_SHR_ri32;
	case OP_SAR: return q ? fast_SAR_ri64 : fast_SAR_ri32;
	default: return NULL;
	}
}

/* --- Jcc ------------------------------------------------------------------------ */

/* The condition without materialising RFLAGS in the common cases: ZF after any
 * recorded result, and every comparison after CMP/SUB (SDM Vol.2 Appendix B.1.4.7). */
static inline bool fast_cond(struct cpu *cpu, int cc)
{
	const struct lazy_flags *lf = &cpu->lf;
	bool r;
	if (lf->op == LF_NONE)
		return cpu_cond(cpu, cc);
	if ((cc >> 1) == 2) /* E / NE */
		return (lf->res == 0) ^ (cc & 1);
	if (lf->op != LF_SUB)
		return cpu_cond(cpu, cc);
	int64_t a = (int64_t)sign_extend(lf->src1, lf->size);
	int64_t b = (int64_t)sign_extend(lf->src2, lf->size);
	switch (cc >> 1) {
	case 1: r = lf->src1 < lf->src2; break;   /* B / AE */
	case 3: r = lf->src1 <= lf->src2; break;  /* BE / A */
	case 6: r = a < b; break;                 /* L / GE */
	case 7: r = a <= b; break;                /* LE / G */
	default: return cpu_cond(cpu, cc);
	}
	return r ^ (cc & 1);
}

static void fast_jcc(struct cpu *cpu, const struct insn *in)
{
	if (fast_cond(cpu, in->cc))
		branch_near(cpu, cpu->next_rip + in->imm, in->osz);
}

/* --- INC / DEC ------------------------------------------------------------------ */

/* INC and DEC keep CF (SDM INC, DEC): park the current CF in rflags, inline for the
 * results that usually precede them; flags_set_lazy() does the same out of line. */
static inline void park_cf(struct cpu *cpu)
{
	const struct lazy_flags *lf = &cpu->lf;
	uint64_t cf;
	switch (lf->op) {
	case LF_NONE: case LF_INC: case LF_DEC: return;
	case LF_LOGIC: cf = 0; break;
	case LF_ADD: cf = lf->res < lf->src1; break;
	case LF_SUB: cf = lf->src1 < lf->src2; break;
	default: cf = flags_cf(cpu); break;
	}
	cpu->rflags = (cpu->rflags & ~RFLAGS_CF) | cf;
}

#define INCDEC(NAME, LF, SZ, T, DELTA, R)                                          	static void fast_##NAME##SZ(struct cpu *cpu, const struct insn *in)        	{                                                                           		T d = (T)cpu->gpr[in->R];                                           		T r = (T)(d DELTA 1);                                               		cpu->gpr[in->R] = r;                                                		park_cf(cpu);                                                       		flags_record(cpu, LF, SZ == 64 ? 3 : 2, r, d, 1);                   	}

/* FE/FF /0 /1 name the register in rm; 40+r (outside 64-bit mode) in reg. */
INCDEC(inc_e, LF_INC, 64, uint64_t, +, rm)
INCDEC(inc_e, LF_INC, 32, uint32_t, +, rm)
INCDEC(dec_e, LF_DEC, 64, uint64_t, -, rm)
INCDEC(dec_e, LF_DEC, 32, uint32_t, -, rm)
INCDEC(inc_g, LF_INC, 32, uint32_t, +, reg)
INCDEC(dec_g, LF_DEC, 32, uint32_t, -, reg)

static exec_fn select_incdec(const struct insn *in)
{
	bool inc = in->op == OP_INC, q = in->osz == 3;
	if (in->flags & INSN_MEM)
		return NULL;
	if (in->form == FORM_G)
		return q ? NULL : inc ? fast_inc_g32 : fast_dec_g32;
	if (in->form != FORM_E)
		return NULL;
	return inc ? (q ? fast_inc_e64 : fast_inc_e32) : (q ? fast_dec_e64 : fast_dec_e32);
}

/* --- 64-bit stack and near calls (osz 3 implies 64-bit mode: the stack address
 * size is 64 and SS.base is 0, SDM 3.4.2.1) --------------------------------------- */

static void fast_push64(struct cpu *cpu, const struct insn *in)
{
	uint64_t sp = cpu->gpr[RSP] - 8;
	mem_write(cpu, SEG_SS, sp, 3, cpu->gpr[in->reg]); /* PUSH RSP pushes the old value */
	cpu->gpr[RSP] = sp;
}

static void fast_pop64(struct cpu *cpu, const struct insn *in)
{
	uint64_t sp = cpu->gpr[RSP];
	uint64_t v = mem_read(cpu, SEG_SS, sp, 3);
	cpu->gpr[RSP] = sp + 8;
	cpu->gpr[in->reg] = v; /* POP RSP: the popped value wins (SDM POP) */
}

static void fast_call64(struct cpu *cpu, const struct insn *in)
{
	uint64_t ret = cpu->next_rip, sp = cpu->gpr[RSP] - 8;
	branch_near(cpu, ret + in->imm, 3); /* #GP(0) if non-canonical, before the push */
	mem_write(cpu, SEG_SS, sp, 3, ret);
	cpu->gpr[RSP] = sp;
}

static void fast_ret64(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	uint64_t sp = cpu->gpr[RSP];
	branch_near(cpu, mem_read(cpu, SEG_SS, sp, 3), 3);
	cpu->gpr[RSP] = sp + 8;
}

static exec_fn select_stack(const struct insn *in)
{
	if (in->osz != 3)
		return NULL;
	switch (in->op) {
	case OP_PUSH: return in->form == FORM_G ? fast_push64 : NULL;
	case OP_POP: return in->form == FORM_G ? fast_pop64 : NULL;
	case OP_CALL: return fast_call64;
	case OP_RET: return in->imm == 0 ? fast_ret64 : NULL;
	default: return NULL;
	}
}

/* --- selection ------------------------------------------------------------------ */

static exec_fn select_alu(const struct insn *in)
{
	const struct alu_fast *f = &alu_fast[in->op];
	bool q = in->osz == 3;
	if (!f->eg64 || (in->flags & INSN_MEM))
		return NULL;
	switch (in->form) {
	case FORM_EG: return q ? f->eg64 : f->eg32;
	case FORM_GE: return q ? f->ge64 : f->ge32;
	case FORM_EI: return q ? f->ri64 : f->ri32;
	default: return NULL;
	}
}

exec_fn exec_select(const struct insn *in)
{
	exec_fn f = NULL;
	if (in->osz >= 2 && !(in->flags & INSN_LOCK)) {
		switch (in->op) {
		case OP_ADD: case OP_SUB: case OP_AND: case OP_OR: case OP_XOR: case OP_CMP:
		case OP_TEST:
			f = select_alu(in);
			break;
		case OP_MOV:
			f = select_mov(in);
			break;
		case OP_SHL: case OP_SHR: case OP_SAR:
			f = select_shift(in);
			break;
		case OP_INC: case OP_DEC:
			f = select_incdec(in);
			break;
		case OP_LEA:
			if (in->osz == 3 && in->asz == 3)
				f = fast_lea64;
			break;
		default:
			break;
		}
	}
	if (in->op == OP_JCC)
		f = fast_jcc;
	else if (in->op == OP_PUSH || in->op == OP_POP || in->op == OP_CALL || in->op == OP_RET)
		f = select_stack(in);
	return f ? f : generic_table[in->op];
}
