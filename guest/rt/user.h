/*
 * user.h - running code at CPL 3.
 *
 * user_call() enters ring 3 with IRETQ (SDM Vol.3A 6.14 / IRET pseudo-code) at fn(arg)
 * on the runtime's user stack. fn must live in USER_TEXT (pages mapped U/S=1). When fn
 * returns, it lands in a stub that executes INT 0x80 (gate DPL 3), which resumes the
 * kernel after user_call() and returns fn's RAX. Any fault in ring 3 while a
 * fault_try() is armed resumes that fault_try() instead.
 */
#ifndef RT_USER_H
#define RT_USER_H

#include <stdint.h>

typedef uint64_t (*user_fn_t)(uint64_t);

uint64_t user_call_flags(user_fn_t fn, uint64_t arg, uint64_t rflags);
static inline uint64_t user_call(user_fn_t fn, uint64_t arg) { return user_call_flags(fn, arg, 0x2); }

/* Top of the ring-3 stack user_call uses (16-byte aligned). */
extern uint64_t user_stack_top(void);
/* INT 0x80 from any ring also ends the current user_call (e.g. from a SYSCALL
 * entry point at CPL 0). */
extern char user_exit_stub[];

#endif
