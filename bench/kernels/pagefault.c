/*
 * pagefault - page-fault-heavy loop. Each iteration writes to a page whose PTE has
 * P=0; the #PF handler sets P and returns, the write is retried and succeeds; then
 * the loop clears P again and INVLPGs the page. So one iteration is one exception
 * delivery through the IDT, the runtime's handler, an IRETQ, a PTE edit and an
 * INVLPG (SDM Vol.3A 4.10.4.1).
 */
#include "bench.h"

#define PAGE_VA 0x5000000000ull /* 320 GiB: a 4 KiB page of its own */

static uint64_t *volatile pf_pte;
static volatile uint64_t pf_count;

static void pf_handler(struct frame *f)
{
	/* Only the benchmark page may fault, and only as not present. (The W bit is not
	 * checked: for a read-modify-write QEMU TCG reports the read.) */
	if (read_cr2() != PAGE_VA || (f->error & PF_P)) {
		printf("FAIL: pagefault: unexpected #PF at RIP 0x%lx, CR2 0x%lx, error 0x%lx\n",
		       f->rip, read_cr2(), f->error);
		exit_qemu(1);
	}
	*pf_pte |= PTE_P;
	pf_count++;
}

int main(void)
{
	uint64_t n = bench_iterations();
	uint64_t pa = (uintptr_t)alloc_page(), i = n;
	uint64_t *pte = pte_get(PAGE_VA, 1);

	*pte = pa | PTE_W; /* present bit clear: the first write faults */
	invlpg(PAGE_VA);
	pf_pte = pte;
	irq_register(14, pf_handler);

	__asm__ volatile("1:\n\t"
			 "addq  $1, (%[page])\n\t" /* faults; the handler sets P      */
			 "andq  $-2, (%[pte])\n\t" /* clear P again (bit 0)           */
			 "invlpg (%[page])\n\t"    /* and drop the cached translation */
			 "dec   %[i]\n\t"
			 "jnz   1b"
			 : [i] "+r"(i)
			 : [page] "r"(PAGE_VA), [pte] "r"(pte)
			 : "cc", "memory");

	uint64_t counter = *(volatile uint64_t *)(uintptr_t)pa;
	if (counter != n || pf_count != n)
		bench_fail("pagefault", "the counter or the fault count is not n");
	bench_done("pagefault", n, 0, counter * 0x9e3779b97f4a7c15ull ^ pf_count);
}
