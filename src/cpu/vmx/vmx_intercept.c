/*
 * Which instructions cause VM exits in VMX non-root operation (SDM 27.1.2, 27.1.3),
 * with the exit qualification and instruction information they report (SDM 29.2).
 *
 * The run loop binds vmx_intercepted() instead of the op's handler to every decoded
 * instruction whose op has an intercept class (ops.def) when it decodes in non-root
 * operation. Placeholder: runs the handler.
 */
#include "cpu/exec_fast.h"
#include "cpu/vmx/vmx_internal.h"

void vmx_intercepted(struct cpu *cpu, const struct insn *in)
{
	exec_generic(in->op)(cpu, in);
}
