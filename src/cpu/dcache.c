#include "cpu/dcache.h"

#include <sys/mman.h>

int dcache_init(struct dcache *dc, unsigned log2_blocks)
{
	size_t bytes = sizeof(struct dblock) << log2_blocks;
	/* Lazily committed: only the blocks a guest uses cost host memory. */
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	dc->b = p == MAP_FAILED ? NULL : p;
	dc->mask = (1u << log2_blocks) - 1;
	dc->misses = 0;
	return dc->b ? 0 : -1;
}

void dcache_destroy(struct dcache *dc)
{
	if (dc->b)
		munmap(dc->b, sizeof(struct dblock) * ((size_t)dc->mask + 1));
	dc->b = NULL;
}
