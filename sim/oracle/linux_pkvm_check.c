// SPDX-License-Identifier: MIT
/*
 * The CN Hyp_pool invariant on the Linux kernel's pKVM pool, checked from
 * outside through the layout in linux_pkvm_check.h: the pool's range is
 * the configured one and it uses as many free lists as the documented
 * rule gives (sim_lkp_expected_lists); then the buddy checker
 * (oracle/buddy_check.c) judges its blocks, lists and contents under the
 * kernel's contract below.
 *
 * Every pointer read from the kernel's memory is validated before use.
 */
#include "oracle/linux_pkvm_check.h"

unsigned int sim_lkp_expected_lists(uint64_t nr_pages)
{
	unsigned int order = 0;

	/* The order of a block of nr_pages + 1 pages, at most MAX_ORDER. */
	while (order < LKP_MAX_ORDER && (1ULL << order) < nr_pages + 1)
		order++;
	return order;
}

/* struct hyp_page: a 16-bit refcount and a 16-bit order, HYP_NO_ORDER for none. */
static struct sim_buddy_meta lkp_meta(const void *ctx, uint64_t pfn)
{
	const struct sim_allocator *a = ctx;
	const struct lkp_state *s = a->priv;
	const struct lkp_page *p;

	if (pfn - a->base_pfn >= a->nr_pages)
		return (struct sim_buddy_meta){ .valid = false };
	p = &s->vmemmap[pfn - a->base_pfn];
	return (struct sim_buddy_meta){
		.valid = true, .head = p->order != LKP_NO_ORDER, .order = p->order,
		.refcount = p->refcount,
	};
}

/* The kernel links free blocks by hyp VAs: PA = VA + hyp_physvirt_offset. */
static uint64_t lkp_node_pa(const struct sim_allocator *a, const void *node)
{
	const struct lkp_state *s = a->priv;

	return (uint64_t)(uintptr_t)node + (uint64_t)s->physvirt_offset;
}

/*
 * False (and reported) if the pool's own fields are not what was
 * configured; otherwise the kernel's contract: only the max_order lists
 * hyp_pool_init() set up, and every node a page of the pool (the
 * simulator never hands the kernel's pool foreign memory).
 */
static bool lkp_contract(struct sim_buddy_contract *c, struct sim_allocator *a, struct sim_report *r)
{
	const struct lkp_state *s = a->priv;
	const struct lkp_pool *pool = s->pool;
	uint64_t start = a->base_pfn << LKP_PAGE_SHIFT, end = (a->base_pfn + a->nr_pages) << LKP_PAGE_SHIFT;
	unsigned int lists = sim_lkp_expected_lists(a->nr_pages);

	if (pool->range_start != start || pool->range_end != end) {
		sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
				     "the pool's range is 0x%llx..0x%llx, configured 0x%llx..0x%llx",
				     (unsigned long long)pool->range_start, (unsigned long long)pool->range_end,
				     (unsigned long long)start, (unsigned long long)end);
		return false;
	}
	if (pool->max_order != lists) {
		sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
				     "a pool of %llu pages uses %u free lists (max_order), expected %u",
				     (unsigned long long)a->nr_pages, pool->max_order, lists);
		return false;
	}
	*c = (struct sim_buddy_contract){
		.lists = (const struct sim_buddy_node *)(const void *)pool->free_area,
		.nr_lists = lists,
		.meta = lkp_meta,
		.meta_ctx = a,
		.node_pa = lkp_node_pa,
		.outside_blocks = false,
	};
	return true;
}

void sim_lkp_check_touched(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			   struct sim_report *r, uint64_t pfn, uint64_t nr)
{
	struct sim_buddy_contract c;

	if (lkp_contract(&c, a, r))
		sim_buddy_struct_touched(&c, a, shadow, r, pfn, nr);
}

void sim_lkp_check_full(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			struct sim_report *r)
{
	struct sim_buddy_contract c;

	if (lkp_contract(&c, a, r))
		sim_buddy_struct_full(&c, a, shadow, r);
}
