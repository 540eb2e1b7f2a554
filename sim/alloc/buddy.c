// SPDX-License-Identifier: MIT
/*
 * Adapter for mm/buddy.c: the pKVM-style hyp_pool as an allocator under test.
 */
#include <stdio.h>
#include <stdlib.h>

#include <hvmm/buddy.h>

#include "alloc/allocator.h"
#include "recycle.h"
#include "oracle/buddy_check.h"

static struct hvmm_pool *pool_of(struct sim_allocator *a)
{
	return a->priv;
}

/*
 * Block addresses are the pool's linear map: the pool lies in one region
 * (the executor checks), so PFN and address convert by the pool's offset.
 */
static void *pfn_to_host(struct sim_allocator *a, uint64_t pfn)
{
	struct hvmm_pool *pool = pool_of(a);

	if (pfn - a->base_pfn < a->nr_pages)
		return pool->va + ((pfn - a->base_pfn) << HVMM_PAGE_SHIFT);
	return sim_physmem_pa_to_host(a->pm, pfn << HVMM_PAGE_SHIFT);
}

static uint64_t host_to_pfn(struct sim_allocator *a, const void *va)
{
	uintptr_t off = (uintptr_t)va - (uintptr_t)pool_of(a)->va;

	if (off < (a->nr_pages << HVMM_PAGE_SHIFT))
		return a->base_pfn + (off >> HVMM_PAGE_SHIFT);
	return sim_physmem_host_to_pa(a->pm, va) >> HVMM_PAGE_SHIFT;
}

static int buddy_init(struct sim_allocator *a, const struct sim_alloc_config *cfg,
		      struct sim_alloc_shadow *shadow, char *err, size_t errlen)
{
	struct hvmm_pool *pool = sim_recycle_get(sizeof(*pool));
	int ret;

	/*
	 * The machine sets the allocator up on freshly mapped (zero) RAM:
	 * nothing to scrub, so a large pool costs only the pages it uses.
	 * The executor's zeroed-allocation check would catch a dirty page.
	 */
	ret = hvmm_pool_init_zeroed(pool, cfg->base_pfn, cfg->nr_pages, cfg->reserved_pages);
	if (ret) {
		snprintf(err, errlen, "hvmm_pool_init(pfn 0x%llx, %llu pages, %llu reserved) failed: %d",
			 (unsigned long long)cfg->base_pfn, (unsigned long long)cfg->nr_pages,
			 (unsigned long long)cfg->reserved_pages, ret);
		sim_recycle_put(pool, sizeof(*pool));
		return -1;
	}
	a->priv = pool;
	a->max_order = sim_buddy_expected_max_order(cfg->nr_pages);
	sim_alloc_shadow_set(shadow, cfg->base_pfn, cfg->reserved_pages, SIM_SHADOW_RESERVED);
	sim_alloc_shadow_set_initial_free(shadow, cfg->base_pfn + cfg->reserved_pages,
					  cfg->nr_pages - cfg->reserved_pages);
	return 0;
}

/*
 * The walk trusts nothing of the lists it is handed: a broken allocator
 * (a mutant, a bug the oracles have just reported) may have linked a node
 * outside simulated memory or into a cycle that misses the head. It stops
 * at a node outside RAM, which it does not read, and after as many nodes
 * as RAM has pages (a list of distinct blocks is no longer, blocks put in
 * from outside the pool's range included), so the teardown after such a
 * run ends.
 */
void sim_buddy_mark_free_heads(struct sim_physmem *pm, const struct hvmm_pool *pool)
{
	for (unsigned int o = 0; pool->nr_pages && o <= HVMM_BUDDY_MAX_ORDER; o++) {
		const struct hvmm_list *head = &pool->free_area[o], *n;
		uint64_t left = pm->end_pfn - pm->start_pfn;

		for (n = head->next; n && n != head && left; n = n->next, left--) {
			uint64_t pa = sim_physmem_host_to_pa(pm, n);

			if (pa == UINT64_MAX)
				break;
			sim_physmem_mark_dirty(pm, pa >> HVMM_PAGE_SHIFT, 1);
		}
	}
}

static void buddy_fini(struct sim_allocator *a)
{
	sim_buddy_mark_free_heads(a->pm, a->priv);
	sim_recycle_put(a->priv, sizeof(struct hvmm_pool));
	a->priv = NULL;
}

static int buddy_alloc(struct sim_allocator *a, unsigned int order, uint64_t *pfn)
{
	void *va;

	if (order > 0xff)
		return -HVMM_EINVAL;
	va = hvmm_alloc_pages(pool_of(a), (u8)order);
	if (!va)
		return -HVMM_ENOMEM;
	*pfn = host_to_pfn(a, va);
	return 0;
}

static int buddy_get(struct sim_allocator *a, uint64_t pfn)
{
	hvmm_get_page(pool_of(a), pfn_to_host(a, pfn));
	return 0;
}

static int buddy_put(struct sim_allocator *a, uint64_t pfn)
{
	hvmm_put_page(pool_of(a), pfn_to_host(a, pfn));
	return 0;
}

static int buddy_free(struct sim_allocator *a, uint64_t pfn, uint64_t pages)
{
	return buddy_put(a, pfn);
}

static int buddy_split(struct sim_allocator *a, uint64_t pfn, unsigned int order)
{
	hvmm_split_page(pool_of(a), pfn_to_host(a, pfn));
	return 0;
}

const struct sim_allocator_ops sim_buddy_allocator = {
	.name = "buddy",
	.description = "pKVM-style buddy allocator (mm/buddy.c)",
	.init = buddy_init,
	.fini = buddy_fini,
	.alloc = buddy_alloc,
	.free = buddy_free,
	.get = buddy_get,
	.put = buddy_put,
	.split = buddy_split,
	.check_touched = sim_buddy_check_touched,
	.check_full = sim_buddy_check_full,
};
