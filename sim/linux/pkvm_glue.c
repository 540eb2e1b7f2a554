// SPDX-License-Identifier: MIT
/*
 * The simulator's side of the kernel's pKVM page allocator: compiled with
 * the compat headers (sim/linux/include) and the kernel's own nvhe/gfp.h,
 * so it sees struct hyp_pool exactly as page_alloc.c does.
 */
#include <asm/kvm_hyp.h>
#include <nvhe/gfp.h>

#include "pkvm_glue.h"
#include "oracle/linux_pkvm_check.h"

/* The hyp linear map: defined at EL2 by the hyp's setup code, here by us. */
s64 hyp_physvirt_offset;

/* The oracle reads the kernel's structures through its own description of them. */
_Static_assert(sizeof(struct hyp_page) == sizeof(struct lkp_page), "struct hyp_page moved");
_Static_assert(offsetof(struct hyp_page, refcount) == offsetof(struct lkp_page, refcount), "hyp_page.refcount moved");
_Static_assert(offsetof(struct hyp_page, order) == offsetof(struct lkp_page, order), "hyp_page.order moved");
_Static_assert(HYP_NO_ORDER == LKP_NO_ORDER, "HYP_NO_ORDER changed");
_Static_assert(MAX_ORDER == LKP_MAX_ORDER, "MAX_ORDER changed");
_Static_assert(sizeof(struct list_head) == sizeof(struct lkp_list), "list_head moved");
_Static_assert(offsetof(struct list_head, next) == offsetof(struct lkp_list, next), "list_head.next moved");
_Static_assert(sizeof(struct hyp_pool) == sizeof(struct lkp_pool), "struct hyp_pool moved");
_Static_assert(offsetof(struct hyp_pool, free_area) == offsetof(struct lkp_pool, free_area), "hyp_pool.free_area moved");
_Static_assert(offsetof(struct hyp_pool, range_start) == offsetof(struct lkp_pool, range_start), "hyp_pool.range_start moved");
_Static_assert(offsetof(struct hyp_pool, range_end) == offsetof(struct lkp_pool, range_end), "hyp_pool.range_end moved");
_Static_assert(offsetof(struct hyp_pool, max_order) == offsetof(struct lkp_pool, max_order), "hyp_pool.max_order moved");

size_t sim_lkp_pool_bytes(void)
{
	return sizeof(struct hyp_pool);
}

void sim_lkp_install(void *vmemmap, uint64_t base_pfn, int64_t physvirt_offset)
{
	/* hyp_vmemmap is indexed by PFN from 0: its origin lies base_pfn entries before the pool's. */
	__hyp_vmemmap = (u64)(uintptr_t)vmemmap - base_pfn * sizeof(struct hyp_page);
	hyp_physvirt_offset = physvirt_offset;
}

int sim_lkp_pool_init(void *pool, uint64_t pfn, unsigned int nr_pages, unsigned int reserved_pages)
{
	return hyp_pool_init(pool, pfn, nr_pages, reserved_pages);
}

void *sim_lkp_alloc_pages(void *pool, unsigned short order)
{
	return hyp_alloc_pages(pool, order);
}

void sim_lkp_get_page(void *pool, void *va)
{
	hyp_get_page(pool, va);
}

void sim_lkp_put_page(void *pool, void *va)
{
	hyp_put_page(pool, va);
}

/*
 * Without the pool lock, as the kernel's callers do (host_s2_zalloc_pages_exact):
 * the block is the caller's, and so are the tails it turns into pages.
 */
void sim_lkp_split_page(void *pool, void *va)
{
	hyp_split_page(hyp_virt_to_page(va));
}
