/*
 * The arithmetic and logic forms guests (and compilers) use on device registers:
 * ADD, OR, AND, SUB, XOR, CMP, TEST with a memory operand (E) and a register (G) or
 * an immediate. The flags they write are computed here from the SDM's definitions
 * (Vol.1 3.4.3.1 and each instruction's "Flags Affected"): logic ops clear CF and OF,
 * ADD/SUB/CMP set CF, OF and AF from the operands; SF, ZF and PF from the result. AF
 * is undefined after logic ops: cleared, as the silicon does.
 */
#include "cpu/exec.h"
#include "hv/hv_internal.h"

#define ARITH_FLAGS (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

static bool even_parity(uint8_t b)
{
	return !__builtin_parity(b);
}

/* Compute op(a, b) at operand size osz; *flags gets the arithmetic flags. */
static uint64_t alu(enum op op, uint64_t a, uint64_t b, int osz, uint64_t *flags)
{
	uint64_t m = size_mask(osz), sign = 1ULL << ((8 << osz) - 1), r, f = 0;
	a &= m;
	b &= m;
	switch (op) {
	case OP_ADD:
		r = (a + b) & m;
		f |= r < a ? RFLAGS_CF : 0;
		f |= ((a ^ r) & (b ^ r) & sign) ? RFLAGS_OF : 0;
		f |= (a ^ b ^ r) & 0x10 ? RFLAGS_AF : 0;
		break;
	case OP_SUB:
	case OP_CMP:
		r = (a - b) & m;
		f |= a < b ? RFLAGS_CF : 0;
		f |= ((a ^ b) & (a ^ r) & sign) ? RFLAGS_OF : 0;
		f |= (a ^ b ^ r) & 0x10 ? RFLAGS_AF : 0;
		break;
	case OP_OR: r = a | b; break;
	case OP_XOR: r = a ^ b; break;
	default: r = a & b; break; /* AND, TEST */
	}
	f |= r == 0 ? RFLAGS_ZF : 0;
	f |= (r & sign) ? RFLAGS_SF : 0;
	f |= even_parity((uint8_t)r) ? RFLAGS_PF : 0;
	*flags = f;
	return r;
}

bool hv_is_mmio_alu(enum op op)
{
	return op == OP_ADD || op == OP_OR || op == OP_AND || op == OP_SUB || op == OP_XOR ||
	       op == OP_CMP || op == OP_TEST;
}

bool hv_emulate_mmio_alu(struct hv_vcpu *v, const struct insn *in, uint64_t mem,
			 uint64_t reg, uint64_t *result, bool *write_mem, bool *write_reg)
{
	enum op op = (enum op)in->op;
	uint64_t a, b, flags;
	switch (in->form) {
	case FORM_EG: a = mem; b = reg; break;    /* op [mem], reg */
	case FORM_GE: a = reg; b = mem; break;    /* op reg, [mem] */
	case FORM_EI: a = mem; b = in->imm; break; /* op [mem], imm */
	default: return false;
	}
	*result = alu(op, a, b, in->osz, &flags);
	bool writes = op != OP_CMP && op != OP_TEST;
	*write_mem = writes && in->form != FORM_GE;
	*write_reg = writes && in->form == FORM_GE;
	uint64_t rflags = hv_vmread(v, VMCS_GUEST_RFLAGS);
	hv_vmwrite(v, VMCS_GUEST_RFLAGS, (rflags & ~(uint64_t)ARITH_FLAGS) | flags);
	return true;
}
