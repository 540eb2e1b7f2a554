/* SPDX-License-Identifier: MIT */
/*
 * A small stack of free pages kept aside for page-table pages, as pKVM's
 * kvm_hyp_memcache: an operation tops the cache up before it changes
 * anything, so the table walk itself cannot run out of memory and an
 * operation either completes or leaves the tables untouched.
 *
 * Cached pages are allocated (refcount 1) from @pool; they are linked
 * through their first word and zeroed again when taken.
 *
 * Locking: a cache belongs to one page table and is used under that page
 * table's lock.
 */
#ifndef HVMM_PAGE_CACHE_H
#define HVMM_PAGE_CACHE_H

#include <hvmm/buddy.h>

struct hvmm_page_cache {
	struct hvmm_pool *pool;
	phys_addr_t head;	/* first cached page, 0 if empty */
	u32 nr;
};

void hvmm_page_cache_init(struct hvmm_page_cache *c, struct hvmm_pool *pool);
/* Fills the cache up to @min pages; -HVMM_ENOMEM (cache kept) if the pool runs dry. */
int hvmm_page_cache_topup(struct hvmm_page_cache *c, u32 min);
/* A zeroed page from the cache; BUG if empty (callers top up first). */
void *hvmm_page_cache_pop(struct hvmm_page_cache *c);
/* Returns pages to the pool until at most @keep remain. */
void hvmm_page_cache_trim(struct hvmm_page_cache *c, u32 keep);

#endif /* HVMM_PAGE_CACHE_H */
