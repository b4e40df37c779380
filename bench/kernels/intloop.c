/*
 * intloop - a tight integer loop: the interpreter's per-instruction cost with no
 * memory operands, no faults and no I/O.
 *
 * One iteration is exactly INSNS_PER_ITER instructions (adds, xors, shifts, a
 * compare-and-branch), written in assembly so the compiler can neither change the
 * count nor remove the work; the checksum depends on every iteration.
 */
#include "bench.h"

#define INSNS_PER_ITER 10

int main(void)
{
	uint64_t n = bench_iterations();
	uint64_t a = 0x0123456789abcdefull, b = 0xfedcba9876543210ull, t, i = 0;

	__asm__ volatile("1:\n\t"
			 "add  %[i], %[a]\n\t"  /*  1: a += i          */
			 "xor  %[a], %[b]\n\t"  /*  2: b ^= a          */
			 "mov  %[b], %[t]\n\t"  /*  3: t = b           */
			 "shl  $13, %[t]\n\t"   /*  4: t <<= 13        */
			 "xor  %[t], %[b]\n\t"  /*  5: b ^= t          */
			 "shr  $7, %[t]\n\t"    /*  6: t >>= 7         */
			 "add  %[t], %[a]\n\t"  /*  7: a += t          */
			 "inc  %[i]\n\t"        /*  8: i++             */
			 "cmp  %[n], %[i]\n\t"  /*  9: i == n ?        */
			 "jne  1b"              /* 10: loop            */
			 : [a] "+r"(a), [b] "+r"(b), [t] "=&r"(t), [i] "+r"(i)
			 : [n] "r"(n)
			 : "cc");
	bench_done("intloop", n, INSNS_PER_ITER, a ^ b);
}
