/*
 * modeswitch.S - leave IA-32e mode for 32-bit protected mode (paging off) and
 * optionally real mode, run a snippet, and return (SDM Vol.3A 10.8.5.4 "Switching
 * Out of IA-32e Mode Operation", 10.9.2 "Switching Back to Real-Address Mode",
 * 10.8.5 "Initializing IA-32e Mode").
 *
 * void mode_call(uint32_t mode, uint32_t target, uint32_t regs)
 *   mode 0: call target (32-bit code) in protected mode, regs = struct rm_regs *
 *   mode 1: far-call 1000:0000 in real mode, regs at LOW_MODESW_REGS
 * void compat_call(uint32_t target, struct rm_regs *r): far call into compatibility mode.
 */
#include "layout.h"

#define R_EAX 0
#define R_EBX 4
#define R_ECX 8
#define R_EDX 12
#define R_ESI 16
#define R_EDI 20
#define R_EBP 24
#define R_EFL 28
#define R_DS 32
#define R_ES 34
#define LOW(sym) (LOW_MODESW + (sym - lowblob_start))

	.text
	.code64
	.globl mode_call
mode_call:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, ms_rsp(%rip)
	movl %edi, ms_mode(%rip)
	movl %esi, ms_target(%rip)
	movl %edx, ms_regs(%rip)
	movq %cr0, %rax
	movq %rax, ms_cr0(%rip)
	movq %cr3, %rax
	movq %rax, ms_cr3(%rip)
	movq %cr4, %rax
	movq %rax, ms_cr4(%rip)
	sidt ms_idtr(%rip)
	sgdt ms_gdtr(%rip)
	cli
	/* CR0.PG cannot be cleared while CR4.PCIDE=1 (SDM Vol.2B MOV CR0 #GP); keep PAE only */
	movl $0x20, %eax
	movq %rax, %cr4
	pushq $SEL_KCODE32
	leaq ms_compat(%rip), %rax
	pushq %rax
	lretq

	.code32
ms_compat:
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl %cr0, %eax /* CR0.PG=0: IA32_EFER.LMA clears, legacy protected mode */
	andl $0x7fffffff, %eax
	movl %eax, %cr0
	movl $0xC0000080, %ecx
	rdmsr
	andl $~0x100, %eax /* EFER.LME=0 */
	wrmsr
	lidt ms_null_idt
	cmpl $1, ms_mode
	je ms_to_real

	movl ms_regs, %eax
	pushl %eax
	pushl R_EFL(%eax)
	popfl
	movl R_EBX(%eax), %ebx
	movl R_ECX(%eax), %ecx
	movl R_EDX(%eax), %edx
	movl R_ESI(%eax), %esi
	movl R_EDI(%eax), %edi
	movl R_EBP(%eax), %ebp
	movl R_EAX(%eax), %eax
	call *ms_target
	pushfl
	pushl %eax
	movl 8(%esp), %eax
	popl R_EAX(%eax)
	popl R_EFL(%eax)
	movl %ebx, R_EBX(%eax)
	movl %ecx, R_ECX(%eax)
	movl %edx, R_EDX(%eax)
	movl %esi, R_ESI(%eax)
	movl %edi, R_EDI(%eax)
	movl %ebp, R_EBP(%eax)
	addl $4, %esp
	cli
	jmp ms_back

ms_to_real:
	ljmp $SEL_CODE16, $LOW(rm_pm16)

	.globl ms_back
ms_back:
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl ms_rsp, %esp
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl ms_cr3, %eax
	andl $0xfffff000, %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax
	movl %eax, %cr0
	ljmp $SEL_KCODE64, $ms_long

	.code64
ms_long:
	lgdt ms_gdtr(%rip)
	lidt ms_idtr(%rip)
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movq ms_cr4(%rip), %rax
	movq %rax, %cr4
	movq ms_cr3(%rip), %rax
	movq %rax, %cr3
	movq ms_cr0(%rip), %rax
	movq %rax, %cr0
	movq ms_rsp(%rip), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/* void compat_call(uint32_t target, struct rm_regs *r) */
	.globl compat_call
compat_call:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rsi
	movl %edi, compat_ptr(%rip)
	movq %rsi, %rax
	pushq %rax
	movl R_EFL(%rax), %ecx
	pushq %rcx
	popfq
	popq %rax
	movl R_EBX(%rax), %ebx
	movl R_ECX(%rax), %ecx
	movl R_EDX(%rax), %edx
	movl R_ESI(%rax), %esi
	movl R_EDI(%rax), %edi
	movl R_EBP(%rax), %ebp
	movl R_EAX(%rax), %eax
	lcall *compat_ptr(%rip) /* m16:32: pushes CS and EIP as 32-bit values */
	pushfq
	pushq %rax
	movq 16(%rsp), %rax
	popq %r8
	movl %r8d, R_EAX(%rax)
	popq %r8
	movl %r8d, R_EFL(%rax)
	movl %ebx, R_EBX(%rax)
	movl %ecx, R_ECX(%rax)
	movl %edx, R_EDX(%rax)
	movl %esi, R_ESI(%rax)
	movl %edi, R_EDI(%rax)
	movl %ebp, R_EBP(%rax)
	popq %rsi
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/* Copied to LOW_MODESW by modes.c. Runs with CS base 0 so offsets are absolute. */
	.code16
	.globl lowblob_start, lowblob_end, lowblob_gdtr
lowblob_start:
rm_pm16:
	/* 16-bit protected mode: load 64 KiB segments so real mode inherits sane limits */
	movw $SEL_DATA16, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movl %cr0, %eax
	andl $~1, %eax /* CR0.PE=0 */
	movl %eax, %cr0
	ljmp $0, $LOW(rm_real)
rm_real:
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	movw %ax, %ss
	movw $LOW_RM_STACK, %sp
	lidt LOW(rm_ivt)
	pushl LOW_MODESW_REGS + R_EFL
	popfl
	movl LOW_MODESW_REGS + R_EBX, %ebx
	movl LOW_MODESW_REGS + R_ECX, %ecx
	movl LOW_MODESW_REGS + R_EDX, %edx
	movl LOW_MODESW_REGS + R_ESI, %esi
	movl LOW_MODESW_REGS + R_EDI, %edi
	movl LOW_MODESW_REGS + R_EBP, %ebp
	movl LOW_MODESW_REGS + R_EAX, %eax
	movw LOW_MODESW_REGS + R_ES, %es
	movw LOW_MODESW_REGS + R_DS, %ds
	lcall $(LOW_RM_CODE >> 4), $0
	movl %eax, %cs:LOW_MODESW_REGS + R_EAX
	movl %ebx, %cs:LOW_MODESW_REGS + R_EBX
	movl %ecx, %cs:LOW_MODESW_REGS + R_ECX
	movl %edx, %cs:LOW_MODESW_REGS + R_EDX
	movl %esi, %cs:LOW_MODESW_REGS + R_ESI
	movl %edi, %cs:LOW_MODESW_REGS + R_EDI
	movl %ebp, %cs:LOW_MODESW_REGS + R_EBP
	movw %ds, %cs:LOW_MODESW_REGS + R_DS
	movw %es, %cs:LOW_MODESW_REGS + R_ES
	pushfl
	popl %cs:LOW_MODESW_REGS + R_EFL
	cli
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl LOW(lowblob_gdtr)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEL_KCODE32, $ms_back
	.p2align 2
rm_ivt:
	.word 0x3ff
	.long 0
lowblob_gdtr:
	.word 0
	.long 0
lowblob_end:

	.data
	.p2align 3
ms_rsp: .quad 0
ms_cr0: .quad 0
ms_cr3: .quad 0
ms_cr4: .quad 0
ms_mode: .long 0
ms_target: .long 0
ms_regs: .long 0
ms_gdtr: .skip 10
ms_idtr: .skip 10
ms_null_idt: .word 0
	.long 0
compat_ptr: .long 0
	.word SEL_KCODE32
