/*
 * Specialised handlers for the hottest operand forms.
 *
 * The generic handlers (exec_alu.c, exec_mov.c, ...) serve every form of an op and
 * look at the form, operand size and operand kinds on every execution. When the block
 * cache decodes an instruction, exec_select() binds it to a handler specialised for
 * its form if there is one (ADD r64, r64; MOV r32, [mem]; Jcc after CMP ...), else to
 * the generic handler. A specialised handler must behave exactly like the generic one;
 * tests/unit/cpu/test_exec_fast.c runs both on random states and compares.
 */
#ifndef TURTLES_CPU_EXEC_FAST_H
#define TURTLES_CPU_EXEC_FAST_H

#include "cpu/exec.h"

/* The handler to run for in: specialised if one exists, else the generic exec_<op>. */
exec_fn exec_select(const struct insn *in);
/* The generic handler of an op (the dispatch table). */
exec_fn exec_generic(enum op op);

#endif
