/* user_entry.S - IRETQ into ring 3 (SDM Vol.3A 6.14.3: 64-bit IRET pops RIP, CS,
 * RFLAGS, RSP, SS) and the ring-3 return stub. */
#include "layout.h"

	.text
	.globl user_enter
/* void user_enter(fn, arg, rsp, rflags) */
user_enter:
	movw $(SEL_UDATA | 3), %ax
	movw %ax, %ds
	movw %ax, %es
	pushq $(SEL_UDATA | 3)
	pushq %rdx
	pushq %rcx
	pushq $(SEL_UCODE64 | 3)
	pushq %rdi
	movq %rsi, %rdi
	xorl %eax, %eax
	xorl %ecx, %ecx
	xorl %edx, %edx
	iretq

	.section .user.text, "ax"
	.globl user_exit_stub
user_exit_stub:
	int $VEC_USER_EXIT
	ud2
