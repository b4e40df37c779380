/*
 * portio - port-I/O-heavy loop: one `out` to port 0x80 (the POST-code port, which
 * both QEMU's pc and turtles accept and ignore) per iteration, so the figure is the
 * cost of a port write going from the executor through the I/O bus to a device.
 */
#include "bench.h"

#define INSNS_PER_ITER 4

int main(void)
{
	uint64_t n = bench_iterations();
	uint64_t sum = 0, i = n;

	__asm__ volatile("1:\n\t"
			 "outb %%al, $0x80\n\t"  /* 1: the port write (AL = low byte of sum) */
			 "add  %[i], %[sum]\n\t" /* 2: sum += i                           */
			 "dec  %[i]\n\t"         /* 3                                     */
			 "jnz  1b"               /* 4                                     */
			 : [sum] "+a"(sum), [i] "+r"(i)
			 :
			 : "cc");
	bench_done("portio", n, INSNS_PER_ITER, sum);
}
