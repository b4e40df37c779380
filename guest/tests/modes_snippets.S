/*
 * modes_snippets.S - code run outside 64-bit mode by the modes kernel.
 */
#include "layout.h"

	.text
/* 32-bit protected mode, paging off (run_pm32). Out: EAX = CR0, EBX = EFER[31:0],
 * ECX = CS, EDX = 0xffffffff + 2 (wraps to 1 in 32 bits), ESI = value read back
 * through a 32-bit stack push/pop. */
	.code32
	.globl pm32_snippet
pm32_snippet:
	movl %cr0, %eax
	pushl %eax
	movl $0xC0000080, %ecx
	rdmsr
	movl %eax, %ebx
	popl %eax
	xorl %ecx, %ecx
	movw %cs, %cx
	movl $0xffffffff, %edx
	addl $2, %edx
	pushl $0x5a5a1234
	popl %esi
	ret

/* Task switches in 32-bit protected mode (run_pm32; SDM Vol.3A 8.3), with the TSSs,
 * the GDT entries and the IDT that modes.c built. Task A is this code (LTR'd here);
 * B is CALLed through its TSS descriptor, C through a task gate for INT 0x41, D
 * through a task gate for #GP. Each of B, C and D records what it sees in task_out[]
 * and returns with IRET (NT = 1). At the end TR is the runtime's 64-bit TSS again
 * (its descriptor made available, then LTR). */
#define SEL_TSS_A (GDT_FIRST_FREE * 8)
#define SEL_TSS_B (SEL_TSS_A + 8)
#define OUT(n) (task_out + 4 * (n))
	.globl task_snippet, task_b_entry, task_c_entry, task_d_entry, task_gp_fault
task_snippet:
	movw $SEL_TSS_A, %ax
	ltr %ax
	movl $0x12345678, %ebx
	lcall $SEL_TSS_B, $0 /* CALL to a TSS: the offset is ignored */
	str %ax
	movzwl %ax, %eax
	movl %eax, OUT(5)
	pushfl
	popl OUT(6)
	movl %ebx, OUT(7)
	lidt task_idtr
	int $0x41
	movw $0x100, %ax /* beyond the GDT limit: #GP(0x100) */
task_gp_fault:
	movw %ax, %ds
task_gp_resume: /* task D points task A's saved EIP here */
	andb $0xfd, gdt + SEL_TSS + 5 /* the 64-bit TSS descriptor: available again */
	movw $SEL_TSS, %ax
	ltr %ax
	ret

task_b_entry:
	str %ax
	movzwl %ax, %eax
	movl %eax, OUT(0)
	pushfl
	popl OUT(1)
	movl %cr0, %eax
	movl %eax, OUT(3)
	movl %ebx, OUT(4)
	movl $0xdeadbeef, %ebx
	iret
	jmp task_b_entry

task_c_entry:
	str %ax
	movzwl %ax, %eax
	movl %eax, OUT(8)
	movl %esp, OUT(9)
	iret
	jmp task_c_entry

task_d_entry:
	movl %esp, OUT(11)
	popl OUT(10) /* the error code */
	movl task_tss + 0x20, %eax /* task A's saved EIP */
	movl %eax, OUT(13)
	movl $task_gp_resume, task_tss + 0x20
	iret
	jmp task_d_entry

/* Compatibility mode (run_compat): 0x40 is INC EAX here, a REX prefix in 64-bit
 * mode (SDM Vol.2A 2.2.1). Out: EAX = 2, EBX = EFER[31:0], ECX = CS, EDX = CR0. */
	.globl compat_snippet
compat_snippet:
	movl $0xC0000080, %ecx
	rdmsr
	movl %eax, %ebx
	xorl %eax, %eax
	.byte 0x40, 0x40 /* inc %eax; inc %eax */
	xorl %ecx, %ecx
	movw %cs, %cx
	movl %cr0, %edx
	lret

/* Real mode (run_real), copied to 1000:0000. Installs an IVT handler for vector 0x60
 * and executes INT 0x60 (SDM Vol.3A 22.1.4 "Interrupt and Exception Handling" in
 * real-address mode: push FLAGS, CS, IP; CS:IP from the IVT at vector*4).
 * Out: AX = MSW (CR0 low), BX = handler-seen return IP, CX = value written at
 * 2000:0010 and read back via 2001:0000, DX = 0xbeef from the handler,
 * SI = SP before INT, DI = SP after IRET, EBP = 32-bit sum with operand-size prefix. */
	.code16
	.globl rm_snippet, rm_snippet_end, rm_after_int
#define OFF(x) ((x) - rm_snippet)
rm_snippet:
	xorw %ax, %ax
	movw %ax, %es
	movw $OFF(rm_handler), %es:(0x60 * 4)
	movw $(LOW_RM_CODE >> 4), %es:(0x60 * 4 + 2)
	movw %sp, %si
	int $0x60
rm_after_int:
	movw %sp, %di
	movw $0x2000, %ax
	movw %ax, %es
	movw $0x7e57, %es:0x10
	movw $0x2001, %ax
	movw %ax, %ds
	movw (0), %cx
	movl $0x7fffffff, %ebp
	addl $0x7fffffff, %ebp
	smsw %ax
	lretw
rm_handler:
	movw %sp, %bp
	movw (%bp), %bx /* pushed IP (SS-relative via BP) */
	movw $0xbeef, %dx
	iretw
rm_snippet_end:
