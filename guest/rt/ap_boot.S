/*
 * ap_boot.S - application-processor start-up path. The SIPI vector 0x08 starts an AP
 * in real mode at 0800:0000 (SDM Vol.3A 11.4.4.1); the blob below is copied to
 * LOW_AP_TRAMP. It enters protected mode, then IA-32e mode exactly like boot.S, and
 * calls ap_main_c(index) on a private stack.
 */
#include "layout.h"

#define AP_LOW(sym) (LOW_AP_TRAMP + (sym - ap_blob_start))

	.text
	.code16
	.globl ap_blob_start, ap_blob_end, ap_blob_gdtr
ap_blob_start:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl AP_LOW(ap_blob_gdtr)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEL_KCODE32, $ap_pm32
	.p2align 2
ap_blob_gdtr:
	.word 0
	.long 0
ap_blob_end:

	.code32
ap_pm32:
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl ap_cr3, %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx
	rdmsr
	orl ap_efer, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010021, %eax
	movl %eax, %cr0
	ljmp $SEL_KCODE64, $ap_long

	.code64
ap_long:
	movl $1, %eax
	lock xaddl %eax, ap_next_idx(%rip)
	movl %eax, %edi
	movq %rdi, %rax
	imulq $KSTACK_SIZE, %rax
	addq ap_stack_base(%rip), %rax
	movq %rax, %rsp
	xorl %ebp, %ebp
	call ap_main_c
1:	cli
	hlt
	jmp 1b
