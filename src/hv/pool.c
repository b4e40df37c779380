/*
 * L0's pages: a bump allocator over the slice of silicon RAM reserved above the
 * guest's RAM (hv.h). The silicon walks EPT01 and reads the bitmaps there, so they must
 * be silicon-physical pages, not host heap. Pages live as long as the VM.
 */
#include <string.h>

#include "hv/hv_internal.h"

int hv_pool_init(struct hv_pool *p, struct bus *silicon, hpa_t base, uint64_t size)
{
	if (!base || (base & (HV_PAGE - 1)) || base > silicon->ram_size ||
	    size > silicon->ram_size - base)
		return -1;
	*p = (struct hv_pool){ .silicon = silicon, .base = base, .size = size, .next = base };
	return 0;
}

hpa_t hv_pool_alloc(struct hv_pool *p)
{
	if (p->next + HV_PAGE > p->base + p->size)
		return 0;
	hpa_t page = p->next;
	p->next += HV_PAGE;
	memset(p->silicon->ram + page, 0, HV_PAGE);
	return page;
}

void *hv_pool_ptr(struct hv_pool *p, hpa_t hpa)
{
	return bus_ram_ptr(p->silicon, hpa);
}
