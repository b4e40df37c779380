/* alloc.c - bump allocator of zeroed, identity-mapped 4 KiB pages */
#include "rt.h"

static uint64_t next, limit;
static spinlock_t lock;

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

/* Start above the image and the multiboot data the loader placed after it;
 * end at the top of the contiguous RAM above 1 MiB (mem_upper), below 3 GiB. */
static void alloc_init(void)
{
	struct mb_info *mbi = multiboot_info();
	uint64_t lo = 0x400000, top = 0x100000 + 0x1000000; /* 16 MiB if no info */

	if (mb_magic == MB_BOOT_MAGIC && (mbi->flags & MBI_MEM))
		top = 0x100000 + (uint64_t)mbi->mem_upper * 1024;
	if ((uint64_t)(uintptr_t)__image_end + 0x100000 > lo)
		lo = (uint64_t)(uintptr_t)__image_end + 0x100000;
	next = align_up(lo, PAGE_4K);
	limit = top < 0xC0000000ull ? top : 0xC0000000ull;
}

void *alloc_pages(size_t n)
{
	uint64_t p;

	spin_lock(&lock);
	if (!next)
		alloc_init();
	p = next;
	next += n * PAGE_4K;
	spin_unlock(&lock);
	if (next > limit) {
		printf("FAIL: out of memory allocating %lu pages\n", (unsigned long)n);
		exit_qemu(1);
	}
	memset((void *)(uintptr_t)p, 0, n * PAGE_4K);
	return (void *)(uintptr_t)p;
}

void spin_lock(spinlock_t *l)
{
	while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE))
		while (l->v)
			pause();
}

void spin_unlock(spinlock_t *l) { __atomic_store_n(&l->v, 0, __ATOMIC_RELEASE); }
