/*
 * privilege_entry.S - ring-0 entry points and ring-3 stubs for the privilege kernel:
 * SYSCALL/SYSRET (SDM Vol.2B SYSCALL, SYSRET), SYSENTER/SYSEXIT (Vol.2B SYSENTER,
 * SYSEXIT) and a 64-bit call gate with far return (Vol.3A 5.8.3-5.8.6).
 * Each kernel entry records what it sees in a small array of qwords, then returns.
 */
#include "layout.h"

	.text
/* SYSCALL: RCX = return RIP, R11 = RFLAGS, CS/SS from STAR, RFLAGS &= ~FMASK */
	.globl syscall_entry
syscall_entry:
	movq %rcx, sc_rec+0(%rip)
	movq %r11, sc_rec+8(%rip)
	pushfq
	popq sc_rec+16(%rip)
	movw %cs, sc_rec+24(%rip)
	movw %ss, sc_rec+32(%rip)
	movq %rsp, sc_rec+40(%rip)
	sysretq

/* SYSENTER: RSP = IA32_SYSENTER_ESP, RIP = IA32_SYSENTER_EIP; SYSEXIT (REX.W):
 * RIP = RDX, RSP = RCX, CS = SYSENTER_CS+32, SS = SYSENTER_CS+40 */
	.globl sysenter_entry
sysenter_entry:
	movq %rsp, se_rec+0(%rip)
	movw %cs, se_rec+8(%rip)
	movw %ss, se_rec+16(%rip)
	pushfq
	popq se_rec+24(%rip)
	sysexitq

/* Call gate: the CPU switched to TSS.RSP0 and pushed SS, RSP, CS, RIP (8 bytes each) */
	.globl gate_entry
gate_entry:
	movq %rsp, cg_rec+0(%rip)
	movw %cs, cg_rec+8(%rip)
	movq 0(%rsp), %rax
	movq %rax, cg_rec+16(%rip)
	movq 8(%rsp), %rax
	movq %rax, cg_rec+24(%rip)
	movq 16(%rsp), %rax
	movq %rax, cg_rec+32(%rip)
	movq 24(%rsp), %rax
	movq %rax, cg_rec+40(%rip)
	lretq

	.data
	.globl sc_rec, se_rec, cg_rec
sc_rec: .skip 48
se_rec: .skip 32
cg_rec: .skip 48

	.section .user.text, "ax"
/* uint64_t u_syscall(uint64_t): DF=1 across SYSCALL; returns RFLAGS after SYSRET */
	.globl u_syscall, u_syscall_ret
u_syscall:
	std
	syscall
u_syscall_ret:
	pushfq
	popq %rax
	cld
	ret

/* returns (CS << 16) | SS after SYSEXIT */
	.globl u_sysenter
u_sysenter:
	movq %rsp, %rcx
	leaq 1f(%rip), %rdx
	sysenter
1:	xorl %eax, %eax
	movw %cs, %ax
	shll $16, %eax
	movw %ss, %ax
	ret

/* far call through the gate selector in gate_ptr; returns (CS << 16) | SS after LRET */
	.globl u_callgate, u_callgate_ret, gate_ptr
u_callgate:
	.byte 0x48 /* REX.W: m16:64 far pointer */
	lcall *gate_ptr(%rip)
u_callgate_ret:
	xorl %eax, %eax
	movw %cs, %ax
	shll $16, %eax
	movw %ss, %ax
	ret

	.section .user.data, "aw"
	.p2align 3
gate_ptr:
	.quad 0 /* offset: ignored for call gates */
	.word 0 /* selector, set by the kernel */
