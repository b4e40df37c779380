/*
 * isr.S - 256 interrupt entry stubs, the common save/restore path, and the
 * setjmp-like context save used by fault capture and ring-3 calls.
 * In 64-bit mode the CPU aligns RSP to 16 and always pushes SS:RSP, RFLAGS, CS:RIP
 * and, for some exceptions, an error code (SDM Vol.3A 7.14.2, 7.14.4).
 */
#include "layout.h"

	.text
	.align 16
	.globl isr_stubs
isr_stubs:
	vector = 0
	.rept 256
	.align 16
	/* error-code vectors: 8 10 11 12 13 14 17 21 29 30 (SDM Vol.3A Table 7-1) */
	.if (vector == 8) || (vector >= 10 && vector <= 14) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
	.else
	pushq $0
	.endif
	pushq $vector
	jmp isr_common
	vector = vector + 1
	.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	call isr_dispatch
	.globl isr_return
isr_return:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

/* int ctx_save(uint64_t ctx[9]) -- like setjmp: rbx rbp r12-r15 rsp rip rflags */
	.globl ctx_save
ctx_save:
	movq %rbx, 0(%rdi)
	movq %rbp, 8(%rdi)
	movq %r12, 16(%rdi)
	movq %r13, 24(%rdi)
	movq %r14, 32(%rdi)
	movq %r15, 40(%rdi)
	leaq 8(%rsp), %rax
	movq %rax, 48(%rdi)
	movq (%rsp), %rax
	movq %rax, 56(%rdi)
	pushfq
	popq %rax
	movq %rax, 64(%rdi)
	xorl %eax, %eax
	ret

/* Entered by IRETQ with RDI = ctx, RAX = value for ctx_save's second return. */
	.globl ctx_resume
ctx_resume:
	movq 0(%rdi), %rbx
	movq 8(%rdi), %rbp
	movq 16(%rdi), %r12
	movq 24(%rdi), %r13
	movq 32(%rdi), %r14
	movq 40(%rdi), %r15
	jmp *56(%rdi)

/* int fault_try(struct fault *f): arm capture, then save context (tail call). */
	.globl fault_try
fault_try:
	movq %rdi, fault_armed(%rip)
	movl $-1, (%rdi) /* f->vector = NO_FAULT */
	addq $72, %rdi   /* offsetof(struct fault, ctx), checked in trap.c */
	jmp ctx_save

	.bss
	.align 8
	.globl fault_armed
fault_armed: .quad 0
