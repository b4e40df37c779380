/* Tables derived from cpu/ops.def: op names for traces and the VMX intercept column. */
#include "cpu/insn.h"

static const char *const op_names[OP_COUNT] = {
#define OP(name, intercept) [OP_##name] = #name,
#include "cpu/ops.def"
#undef OP
};

const char *op_name(enum op op)
{
	if ((unsigned)op >= OP_COUNT)
		return "?";
	return op_names[op];
}

const uint8_t op_intercept[OP_COUNT] = {
#define OP(name, intercept) [OP_##name] = intercept,
#include "cpu/ops.def"
#undef OP
};
