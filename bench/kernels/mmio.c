/*
 * mmio - the cost of a device register read through MMIO: the local APIC's version
 * register (offset 0x30 of the xAPIC page at 0xFEE00000, SDM Vol.3A 12.4.8), which
 * every PC machine has and which has no side effects. At level 1 the APIC page is not
 * mapped in L0's EPT, so each read is an EPT violation that L0 completes by emulating
 * the instruction against its virtual LAPIC.
 */
#include "bench.h"

#define INSNS_PER_ITER 4
#define APIC_VERSION_REG 0xFEE00030ULL

int main(void)
{
	uint64_t n = bench_iterations();
	uint64_t sum = 0, i = n;
	volatile uint32_t *ver = phys_ptr(APIC_VERSION_REG);

	__asm__ volatile("1:\n\t"
			 "movl (%[p]), %%eax\n\t"  /* 1: the MMIO read      */
			 "add  %%rax, %[sum]\n\t"  /* 2                     */
			 "dec  %[i]\n\t"           /* 3                     */
			 "jnz  1b"                 /* 4                     */
			 : [sum] "+r"(sum), [i] "+r"(i)
			 : [p] "r"(ver)
			 : "rax", "cc", "memory");
	bench_done("mmio", n, INSNS_PER_ITER, sum & 0xFF00FF);
}
