/*
 * randmem - random 8-byte reads and writes over an array mapped with 4 KiB pages,
 * so that nearly every access needs a fresh translation: the cost of the software
 * TLB (and of the page walk behind it).
 *
 *	size=BYTES   array size, a power of two from 4k to 128m (default 64m)
 *
 * With size=4k the same loop stays inside one page: that is the "tight" reference,
 * and random/tight is the price of translation misses. 64m and 128m need `-m 256`.
 * (64 MiB is also exactly the reach of turtles' software TLB, 16384 entries of
 * 4 KiB; run.sh adds a 128m row to show what its misses cost.)
 *
 * The array lives at guest-physical ARRAY_PA (above everything the runtime's page
 * allocator hands out) and is mapped at ARRAY_VA with 4 KiB pages (not the 2 MiB
 * identity map the runtime boots with). It is not taken from alloc_pages(), which
 * would zero it byte by byte: a large fixed start-up cost.
 */
#include "bench.h"

#define INSNS_PER_ITER 11
#define ARRAY_PA 0x4000000ull     /* 64 MiB */
#define ARRAY_VA 0x4000000000ull  /* 256 GiB: a region of its own */
#define DEFAULT_SIZE (64ull << 20)
#define MAX_SIZE (128ull << 20)

/* Knuth's MMIX LCG; the index comes from the high bits, the good ones. */
#define LCG_A 6364136223846793005ull
#define LCG_C 1442695040888963407ull

static uint64_t *map_array(uint64_t size)
{
	struct mb_info *mbi = multiboot_info();
	uint64_t ram_top = 0x100000 + (uint64_t)mbi->mem_upper * 1024;

	if (!(mbi->flags & MBI_MEM) || ARRAY_PA + size > ram_top)
		bench_fail("randmem", "not enough memory for the array (run with -m 256)");
	for (uint64_t off = 0; off < size; off += PAGE_4K)
		map_page(ARRAY_VA + off, ARRAY_PA + off, PTE_P | PTE_W);
	/* The allocator, which gave the page tables, must still be below the array. */
	if ((uintptr_t)alloc_page() >= ARRAY_PA)
		bench_fail("randmem", "page allocator reached the array");

	uint64_t *a = (uint64_t *)(uintptr_t)ARRAY_VA;
	for (uint64_t i = 0; i < size / 8; i++)
		a[i] = i * 0x9e3779b97f4a7c15ull; /* known contents, whatever RAM held */
	return a;
}

int main(void)
{
	uint64_t n = bench_iterations();
	uint64_t size = bench_arg("size", DEFAULT_SIZE);

	if (size < PAGE_4K || size > MAX_SIZE || (size & (size - 1)))
		bench_fail("randmem", "size must be a power of two from 4096 to 128 MiB");

	uint64_t *base = map_array(size);
	uint64_t x = 1, sum = 0, i = n, idx, t;

	__asm__ volatile("1:\n\t"
			 "imul %[A], %[x]\n\t"                /*  1: x = x * A        */
			 "add  %[C], %[x]\n\t"                /*  2:     + C          */
			 "mov  %[x], %[idx]\n\t"              /*  3                   */
			 "shr  $33, %[idx]\n\t"               /*  4: idx = x >> 33    */
			 "and  %[mask], %[idx]\n\t"           /*  5:   & mask         */
			 "mov  (%[base],%[idx],8), %[t]\n\t"  /*  6: t = a[idx]       */
			 "add  %[t], %[sum]\n\t"              /*  7: sum += t         */
			 "xor  %[x], %[t]\n\t"                /*  8: t ^= x           */
			 "mov  %[t], (%[base],%[idx],8)\n\t"  /*  9: a[idx] = t       */
			 "dec  %[i]\n\t"                      /* 10                   */
			 "jnz  1b"                            /* 11                   */
			 : [x] "+r"(x), [sum] "+r"(sum), [i] "+r"(i), [idx] "=&r"(idx),
			   [t] "=&r"(t)
			 : [A] "r"(LCG_A), [C] "r"(LCG_C), [mask] "r"(size / 8 - 1),
			   [base] "r"(base)
			 : "cc", "memory");
	bench_done(size == PAGE_4K ? "randmem-tight" : "randmem", n, INSNS_PER_ITER, sum);
}
