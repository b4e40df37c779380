/*
 * Runs one instruction natively for host_diff.c.
 *
 *   void host_run(struct hstate *st, void *code)
 *
 * Loads RFLAGS and all 16 GPRs (RSP included) from *st, jumps to code (the instruction
 * followed by "jmp *host_return" or, for a taken branch, "jmp *host_return_taken"),
 * then stores the GPRs and RFLAGS back. struct hstate: gpr[16] at 0, rflags at 128,
 * taken at 136. Only MOVs run between the instruction and PUSHFQ, so the flags are the
 * instruction's.
 */
	.text
	.globl host_run
	.type host_run, @function
host_run:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, saved_rsp(%rip)
	mov %rdi, saved_st(%rip)
	mov %rsi, code_ptr(%rip)
	movq $0, 136(%rdi)
	pushq 128(%rdi)
	popfq
	mov 0(%rdi), %rax
	mov 8(%rdi), %rcx
	mov 16(%rdi), %rdx
	mov 24(%rdi), %rbx
	mov 32(%rdi), %rsp
	mov 40(%rdi), %rbp
	mov 48(%rdi), %rsi
	mov 64(%rdi), %r8
	mov 72(%rdi), %r9
	mov 80(%rdi), %r10
	mov 88(%rdi), %r11
	mov 96(%rdi), %r12
	mov 104(%rdi), %r13
	mov 112(%rdi), %r14
	mov 120(%rdi), %r15
	mov 56(%rdi), %rdi
	jmp *code_ptr(%rip)

	.globl host_return_taken
host_return_taken:
	mov %rdi, tmp_rdi(%rip)
	mov saved_st(%rip), %rdi
	movq $1, 136(%rdi)
	mov tmp_rdi(%rip), %rdi

	.globl host_return
host_return:
	mov %rdi, tmp_rdi(%rip)
	mov saved_st(%rip), %rdi
	mov %rax, 0(%rdi)
	mov %rcx, 8(%rdi)
	mov %rdx, 16(%rdi)
	mov %rbx, 24(%rdi)
	mov %rsp, 32(%rdi)
	mov %rbp, 40(%rdi)
	mov %rsi, 48(%rdi)
	mov tmp_rdi(%rip), %rax
	mov %rax, 56(%rdi)
	mov %r8, 64(%rdi)
	mov %r9, 72(%rdi)
	mov %r10, 80(%rdi)
	mov %r11, 88(%rdi)
	mov %r12, 96(%rdi)
	mov %r13, 104(%rdi)
	mov %r14, 112(%rdi)
	mov %r15, 120(%rdi)
	mov saved_rsp(%rip), %rsp
	pushfq
	popq 128(%rdi)
	cld
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret
	.size host_run, .-host_run

	.data
	.balign 8
saved_rsp: .quad 0
saved_st: .quad 0
code_ptr: .quad 0
tmp_rdi: .quad 0

	.section .note.GNU-stack,"",@progbits
