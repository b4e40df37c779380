/*
 * cpuid - the cost of CPUID. At level 1 every CPUID is a VM exit to L0 and back
 * (SDM 27.1.2: CPUID exits unconditionally in VMX non-root operation), so the time
 * per iteration is the exit round trip plus L0's handler; at level 0 and under QEMU it
 * is the instruction alone.
 */
#include "bench.h"

#define INSNS_PER_ITER 5

int main(void)
{
	uint64_t n = bench_iterations();
	uint64_t sum = 0, i = n;

	/* Leaf 0: vendor string and the highest basic leaf, the same on every level. */
	__asm__ volatile("1:\n\t"
			 "xor  %%eax, %%eax\n\t"   /* 1: leaf 0              */
			 "cpuid\n\t"               /* 2                      */
			 "add  %[i], %[sum]\n\t"   /* 3: sum += i (the vendor differs between emulators) */
			 "dec  %[i]\n\t"           /* 4                      */
			 "jnz  1b"                 /* 5                      */
			 : [sum] "+r"(sum), [i] "+r"(i)
			 :
			 : "rax", "rbx", "rcx", "rdx", "cc");
	bench_done("cpuid", n, INSNS_PER_ITER, sum);
}
