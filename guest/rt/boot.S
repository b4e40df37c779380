/*
 * boot.S - Multiboot v1 header and the 32-bit entry path into 64-bit mode.
 *
 * The loader enters in 32-bit protected mode, paging off, EAX = 0x2BADB002 and
 * EBX = physical address of the Multiboot information structure (Multiboot spec 3.2).
 * We identity-map the low 4 GiB with 2 MiB pages and enter IA-32e mode as described
 * in SDM Vol.3A 10.8.5 "Initializing IA-32e Mode": CR4.PAE=1, CR3=PML4,
 * IA32_EFER.LME=1, then CR0.PG=1, then a far jump to a 64-bit code segment.
 */
#include "layout.h"

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* bit 0: page-align modules, bit 1: memory info */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %eax, mb_magic
	movl %ebx, mb_info

	/* Zero .bss (the loader may not). */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl
	movl $boot_stack_top, %esp

	/* Long mode present? CPUID.80000001H:EDX[29] */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode
	movl %edx, %esi /* keep EDX (NX = bit 20) */

	call build_page_tables

	/* SDM Vol.3A 10.8.5 step 1-4 */
	movl %cr4, %eax
	orl $0x20, %eax /* CR4.PAE */
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx /* IA32_EFER */
	rdmsr
	orl $0x100, %eax /* LME */
	btl $20, %esi
	jnc 1f
	orl $0x800, %eax /* NXE, if CPUID.80000001H:EDX[20] */
1:	wrmsr
	lgdt gdt_desc
	movl %cr0, %eax
	orl $0x80010021, %eax /* PG | WP | NE | PE */
	movl %eax, %cr0
	ljmp $SEL_KCODE64, $long_entry

/* PML4[0] -> PDPT, PDPT[0..3] -> 4 PDs of 2 MiB pages covering 0..4 GiB.
 * Non-leaf entries allow user access so that leaves decide (SDM Vol.3A 4.6). */
build_page_tables:
	movl $boot_pdpt, %eax
	orl $0x7, %eax /* P | W | U */
	movl %eax, boot_pml4
	xorl %ecx, %ecx
	movl $boot_pd, %eax
	orl $0x7, %eax
1:	movl %eax, boot_pdpt(,%ecx,8)
	addl $4096, %eax
	incl %ecx
	cmpl $4, %ecx
	jb 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax /* P | W | PS */
	cmpl $1536, %ecx
	jb 3f
	orl $0x18, %eax /* PWT | PCD above 3 GiB (MMIO) */
3:	movl %eax, boot_pd(,%ecx,8)
	movl %ecx, %eax
	shrl $11, %eax
	movl %eax, boot_pd+4(,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jb 2b
	ret

no_long_mode:
	movl $0xf4, %edx
	movl $0x7f, %eax
	outl %eax, %dx /* isa-debug-exit: status (0x7f<<1)|1 */
4:	hlt
	jmp 4b

	.code64
long_entry:
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorl %eax, %eax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	call rt_start
5:	hlt
	jmp 5b

	.data
	.align 4
	.globl mb_magic, mb_info
mb_magic: .long 0
mb_info: .long 0

	.bss
	.align 4096
	.globl boot_pml4, boot_pdpt, boot_pd
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd: .skip 4 * 4096
	.globl boot_stack_top
	.align 16
boot_stack: .skip STACK_SIZE
boot_stack_top:
