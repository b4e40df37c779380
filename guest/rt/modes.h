/*
 * modes.h - leave 64-bit mode to run a snippet in 32-bit protected mode (paging
 * off) or in real mode, then come back (SDM Vol.3A 10.8.5.4 and 10.9.2).
 *
 * run_pm32(): fn is 32-bit code (.code32) anywhere in the image; it is called with
 * the registers from r, flat segments (CS=SEL_KCODE32), must end with `ret`; the
 * registers are stored back to r.
 * run_real(): code[0..len) is copied to LOW_RM_CODE and far-called at 1000:0000
 * with the registers and DS/ES from r, SS:SP=0000:LOW_RM_STACK and the IVT at 0;
 * it must end with `lretw`. Interrupts stay disabled unless the snippet enables them.
 * run_compat(): fn is 32-bit code run in compatibility mode (CS=SEL_KCODE32,
 * paging on); it must end with `lret` (32-bit far return).
 */
#ifndef RT_MODES_H
#define RT_MODES_H

#include <stdint.h>

struct rm_regs {
	uint32_t eax, ebx, ecx, edx, esi, edi, ebp, eflags;
	uint16_t ds, es;
} __attribute__((packed));

void run_pm32(void (*fn)(void), struct rm_regs *r);
void run_real(const void *code, uint32_t len, struct rm_regs *r);
void run_compat(void (*fn)(void), struct rm_regs *r);

#endif
