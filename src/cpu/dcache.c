#include "cpu/dcache.h"

#include <stdlib.h>

int dcache_init(struct dcache *dc, unsigned log2_entries)
{
	dc->mask = (1u << log2_entries) - 1;
	dc->e = calloc((size_t)dc->mask + 1, sizeof(*dc->e));
	dc->hits = dc->misses = 0;
	return dc->e ? 0 : -1;
}

void dcache_destroy(struct dcache *dc)
{
	free(dc->e);
	dc->e = NULL;
}
