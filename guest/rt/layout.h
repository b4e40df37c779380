/*
 * layout.h - selectors and fixed addresses shared by C and assembly.
 *
 * GDT layout satisfies both SYSCALL/SYSRET (SDM Vol.2B SYSCALL/SYSRET: SYSCALL loads
 * CS=STAR[47:32], SS=+8; 64-bit SYSRET loads CS=STAR[63:48]+16, SS=STAR[63:48]+8) and
 * SYSENTER/SYSEXIT (SDM Vol.2B: SS=SYSENTER_CS+8; 64-bit SYSEXIT CS=+32, SS=+40).
 */
#ifndef RT_LAYOUT_H
#define RT_LAYOUT_H

#define SEL_KCODE64 0x08 /* STAR[47:32], SYSENTER_CS */
#define SEL_KDATA 0x10   /* flat 4 GiB data, D/B=1 (also usable in 32-bit PM) */
#define SEL_UCODE32 0x18 /* STAR[63:48] */
#define SEL_UDATA 0x20   /* SYSRET SS */
#define SEL_UCODE64 0x28 /* SYSRET CS, SYSEXIT CS */
#define SEL_UDATA2 0x30  /* SYSEXIT SS */
#define SEL_TSS 0x38     /* 16-byte system descriptor: slots 7 and 8 */
#define SEL_KCODE32 0x48 /* flat 32-bit code: compat mode / legacy PM */
#define SEL_CODE16 0x50  /* 16-bit code, base 0, limit 0xffff */
#define SEL_DATA16 0x58  /* 16-bit data, base 0, limit 0xffff */
#define GDT_FIRST_FREE 12 /* slots 12.. are for tests */
#define GDT_ENTRIES 32

/* Low-memory areas (below 1 MiB, for real-mode and AP start-up code). */
#define LOW_MODESW 0x7000   /* mode-switch trampoline page */
#define LOW_MODESW_REGS 0x7e00 /* struct rm_regs exchange area */
#define LOW_RM_STACK 0x6ff0 /* real-mode SP (SS=0) */
#define LOW_AP_TRAMP 0x8000 /* SIPI vector 0x08 */
#define LOW_RM_CODE 0x10000 /* real-mode snippets run at 1000:0000 */

/* TSS interrupt-stack-table slots used by the runtime. */
#define IST_DF 1
#define IST_NMI 2
#define IST_TEST 3

#define STACK_SIZE 32768
#define KSTACK_SIZE 16384

/* Vector used by ring-3 code to return to the kernel (IDT gate DPL 3). */
#define VEC_USER_EXIT 0x80

#endif
