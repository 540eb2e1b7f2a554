// SPDX-License-Identifier: MIT
/*
 * Page cache for table pages: a stack of allocated pages linked through
 * their first word (the physical address of the next one).
 */
#include <hvmm/page_cache.h>

void hvmm_page_cache_init(struct hvmm_page_cache *c, struct hvmm_pool *pool)
{
	c->pool = pool;
	c->head = 0;
	c->nr = 0;
}

static void push(struct hvmm_page_cache *c, void *page)
{
	*(phys_addr_t *)page = c->head;
	c->head = hvmm_virt_to_phys(page);
	c->nr++;
}

int hvmm_page_cache_topup(struct hvmm_page_cache *c, u32 min)
{
	void *page;

	while (c->nr < min) {
		page = hvmm_alloc_pages(c->pool, 0);
		if (!page)
			return -HVMM_ENOMEM;
		push(c, page);
	}
	return HVMM_OK;
}

void *hvmm_page_cache_pop(struct hvmm_page_cache *c)
{
	phys_addr_t *page;

	HVMM_BUG_ON(!c->nr);
	page = hvmm_phys_to_virt(c->head);
	c->head = *page;
	c->nr--;
	*page = 0;
	return page;
}

void hvmm_page_cache_trim(struct hvmm_page_cache *c, u32 keep)
{
	while (c->nr > keep)
		hvmm_put_page(c->pool, hvmm_page_cache_pop(c));
}
