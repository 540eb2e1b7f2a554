/* SPDX-License-Identifier: MIT */
/*
 * Buddy page allocator with pKVM hyp_pool semantics.
 *
 * A pool manages the PFN range [range_start, range_end); its first
 * reserved_pages pages are never handed out (the caller keeps them, as
 * pKVM keeps its early allocations). Free blocks are kept on per-order
 * lists whose nodes live in the free pages themselves; every free block is
 * order-aligned in physical address space and maximally merged with its
 * buddy. Freed memory is zeroed, so allocations come back zeroed.
 *
 * The maximal blocks that nobody has used yet are not listed: they form
 * one range, [untouched, untouched_end), from which the allocator lists a
 * block only when every list that could serve a request is empty. Setting
 * up a large pool on zeroed memory then writes nothing in those blocks,
 * neither a list node nor a vmemmap entry, and the pages a run never uses
 * cost nothing (a terabyte pool has 2^18 blocks of 4 MiB).
 *
 * Locking: pool->lock protects free_area, the untouched range and the
 * refcount and order of every page in the pool.
 */
#ifndef HVMM_BUDDY_H
#define HVMM_BUDDY_H

#include <hvmm/list.h>
#include <hvmm/memory.h>
#include <hvmm/spinlock.h>

/*
 * Largest block order any pool supports: 2^10 pages = 4 MiB, the kernel's
 * (pKVM's MAX_ORDER 11, exclusive). Larger pools are handed out as several
 * blocks of this order. The order bounds the work done under pool->lock:
 * freeing a block scrubs all of it with the lock held (pKVM does the
 * same), so the worst-case hold time is one 4 MiB memset plus a merge of
 * at most 10 buddies, about 0.4 ms at 10 GB/s of store bandwidth; a split
 * of an allocated block writes at most 1024 page descriptors.
 */
#define HVMM_BUDDY_MAX_ORDER	10

struct hvmm_pool {
	hvmm_spinlock_t lock;
	struct hvmm_list free_area[HVMM_BUDDY_MAX_ORDER + 1];
	phys_addr_t range_start;
	phys_addr_t range_end;
	/*
	 * The range as the allocator reaches it, fixed at init: its vmemmap
	 * entries and its linear-map address. In-pool metadata is found by
	 * index and node pointers map back to pages by offset, so finding
	 * buddies makes no platform call.
	 */
	struct hvmm_page *pages;	/* vmemmap entry of range_start */
	u8 *va;				/* hvmm_phys_to_virt(range_start) */
	u64 nr_pages;
	/*
	 * Page indices of the maximal blocks never listed: free, their memory
	 * zero and their vmemmap entries tails with refcount 0, as on a freshly
	 * zeroed pool. Both ends are aligned to 2^max_order pages in physical
	 * address space; listing takes blocks from the low end.
	 */
	u64 untouched;
	u64 untouched_end;
	u8 max_order;		/* inclusive: largest order this pool can return */
};

/*
 * Takes ownership of @nr_pages pages from @pfn; the first @reserved_pages
 * stay allocated (refcount 1 each). The range must be one range of the
 * linear map (contiguous hypervisor virtual addresses), as a hypervisor's
 * linear map is. Returns HVMM_EINVAL if the range is empty or overflows,
 * HVMM_ERANGE if it leaves the vmemmap or is not one linear-map range.
 */
int hvmm_pool_init(struct hvmm_pool *pool, u64 pfn, u64 nr_pages, u64 reserved_pages);

/*
 * The same for memory whose contents AND vmemmap entries the caller
 * guarantees are zero (fresh from the host): the free pages are not
 * scrubbed, and since zeroed metadata already reads as tails with refcount
 * 0, only the reserved pages and the heads of the free blocks below the
 * maximal order are written (at most two per order, at the ends of the
 * range); the maximal blocks stay untouched until an allocation needs
 * one. A large pool costs no page of memory or metadata that nobody uses.
 */
int hvmm_pool_init_zeroed(struct hvmm_pool *pool, u64 pfn, u64 nr_pages, u64 reserved_pages);

/* A zeroed block of 2^@order pages with refcount 1, or NULL. */
void *hvmm_alloc_pages(struct hvmm_pool *pool, u8 order);

/* Take and drop a reference on the page at @addr; the last put frees it. */
void hvmm_get_page(struct hvmm_pool *pool, void *addr);
void hvmm_put_page(struct hvmm_pool *pool, void *addr);

/* Turns the allocated block at @addr into 2^order refcounted order-0 pages. */
void hvmm_split_page(struct hvmm_pool *pool, void *addr);

/* Number of free pages, counted under the lock (for statistics). */
u64 hvmm_pool_free_pages(struct hvmm_pool *pool);

#endif /* HVMM_BUDDY_H */
