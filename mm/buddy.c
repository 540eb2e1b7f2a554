// SPDX-License-Identifier: MIT
/*
 * Buddy page allocator with pKVM hyp_pool semantics.
 *
 * Every page of a pool has a struct hvmm_page in the vmemmap. The first
 * page of a block (its head) carries the block's order; the others (tails)
 * carry none (hvmm_page_set_tail: all-zero metadata is a tail). A free
 * block has refcount 0 and is linked, through a list node stored in its
 * first bytes, on free_area[order]. The rest of a free block is zero:
 * memory is scrubbed when it is freed, so that an allocation never returns
 * another owner's data.
 *
 * Metadata of the pool's own range is reached by index (pool->pages), and
 * node pointers map back to pages by the range's linear-map offset
 * (pool->va), so finding buddies makes no platform call. Page contents go
 * through hvmm_phys_to_virt(). Blocks from outside the range (accepted,
 * never merged) go through the linear map both ways.
 */
#include <hvmm/buddy.h>
#include <hvmm/string.h>

static u64 pool_first_pfn(const struct hvmm_pool *pool)
{
	return hvmm_phys_to_pfn(pool->range_start);
}

/* Index of @p in the pool's range; nr_pages or more for a page outside it. */
static u64 pool_index(const struct hvmm_pool *pool, const struct hvmm_page *p)
{
	return (u64)(p - pool->pages);
}

/*
 * Page contents are always reached through the platform's linear map (a
 * host may track what mm/ writes there); only the way back, from a node
 * pointer to its page, is computed from the pool's own range.
 */
static struct hvmm_list *page_to_node(struct hvmm_page *p)
{
	return hvmm_page_to_virt(p);
}

static struct hvmm_page *node_to_page(struct hvmm_pool *pool, const void *node)
{
	uintptr_t off = (uintptr_t)node - (uintptr_t)pool->va;

	if (hvmm_likely(off < (pool->nr_pages << HVMM_PAGE_SHIFT)))
		return &pool->pages[off >> HVMM_PAGE_SHIFT];
	return hvmm_virt_to_page(node);
}

/*
 * The buddy of the order-@order block at index @i, if it lies in the pool
 * and is a free block of exactly @order, so that the two can merge. Pages
 * outside belong to someone else and their metadata must not be touched.
 */
static struct hvmm_page *find_buddy_avail(struct hvmm_pool *pool, u64 i, u8 order)
{
	u64 first = pool_first_pfn(pool);
	u64 bi = ((first + i) ^ (1ULL << order)) - first;
	struct hvmm_page *buddy;

	if (bi >= pool->nr_pages)
		return NULL;
	buddy = &pool->pages[bi];
	if (buddy->order_plus1 != order + 1 || buddy->refcount)
		return NULL;
	return buddy;
}

static void page_add_to_list(struct hvmm_pool *pool, struct hvmm_page *p, u8 order)
{
	hvmm_page_set_order(p, order);
	hvmm_list_add_tail(page_to_node(p), &pool->free_area[order]);
}

/* Unlinks a free block; hvmm_list_del clears the node so the block is all zero. */
static void page_remove_from_list(struct hvmm_page *p)
{
	hvmm_list_del(page_to_node(p));
}

/*
 * Frees the block headed by @p into the pool: scrub it, then merge it with
 * its buddy for as long as the buddy is free and whole.
 */
static void attach_page(struct hvmm_pool *pool, struct hvmm_page *p)
{
	u8 order = hvmm_page_order(p);
	u64 i = pool_index(pool, p);
	struct hvmm_page *buddy;

	hvmm_zero_pages(page_to_node(p), 1ULL << order);

	/* Blocks from outside the pool are accepted as they are, never merged. */
	if (i >= pool->nr_pages)
		goto insert;

	/* @p may stop being the head while merging: it becomes a tail first. */
	hvmm_page_set_tail(p);
	for (; order < pool->max_order; order++) {
		buddy = find_buddy_avail(pool, i, order);
		if (!buddy)
			break;
		page_remove_from_list(buddy);
		hvmm_page_set_tail(buddy);
		if (buddy < p) {
			p = buddy;
			i = pool_index(pool, p);
		}
	}
insert:
	page_add_to_list(pool, p, order);
}

/*
 * Takes the free block @p off its list and splits it down to @order,
 * returning the upper halves to the free lists. The halves of a block are
 * inside the block, so this works for outside blocks too.
 */
static struct hvmm_page *extract_page(struct hvmm_pool *pool,
				      struct hvmm_page *p, u8 order)
{
	u8 cur = hvmm_page_order(p);

	hvmm_assert_spin_locked(&pool->lock);
	page_remove_from_list(p);
	while (cur > order) {
		cur--;
		page_add_to_list(pool, p + (1ULL << cur), cur);
	}
	hvmm_page_set_order(p, order);
	return p;
}

static void page_ref_inc(struct hvmm_page *p)
{
	if (hvmm_unlikely(!hvmm_page_is_head(p)))
		HVMM_BUG("get on a page that heads no block");
	if (hvmm_unlikely(!p->refcount))
		HVMM_BUG("get on a free page");
	if (hvmm_unlikely(p->refcount == UINT16_MAX))
		HVMM_BUG("page refcount overflow");
	p->refcount++;
}

static bool page_ref_dec_and_test(struct hvmm_page *p)
{
	if (hvmm_unlikely(!hvmm_page_is_head(p)))
		HVMM_BUG("put on a page that heads no block");
	if (hvmm_unlikely(!p->refcount))
		HVMM_BUG("put on a page with refcount 0 (double free)");
	p->refcount--;
	return p->refcount == 0;
}

static void set_page_refcounted(struct hvmm_page *p)
{
	HVMM_BUG_ON(p->refcount);
	p->refcount = 1;
}

/* The refcounts and the free lists are pool->lock's, and so is attach_page(). */
static void put_page_locked(struct hvmm_pool *pool, struct hvmm_page *p)
{
	hvmm_assert_spin_locked(&pool->lock);
	if (!page_ref_dec_and_test(p))
		return;
	hvmm_trace(HVMM_TRACE_PAGE_FREE, hvmm_page_to_phys(p), hvmm_page_order(p), 0, 0);
	attach_page(pool, p);
}

void hvmm_put_page(struct hvmm_pool *pool, void *addr)
{
	struct hvmm_page *p = node_to_page(pool, addr);

	hvmm_spin_lock(&pool->lock);
	put_page_locked(pool, p);
	hvmm_spin_unlock(&pool->lock);
}

void hvmm_get_page(struct hvmm_pool *pool, void *addr)
{
	struct hvmm_page *p = node_to_page(pool, addr);

	hvmm_spin_lock(&pool->lock);
	page_ref_inc(p);
	hvmm_spin_unlock(&pool->lock);
}

void hvmm_split_page(struct hvmm_pool *pool, void *addr)
{
	struct hvmm_page *p = node_to_page(pool, addr);
	u64 i, nr;

	hvmm_spin_lock(&pool->lock);
	if (hvmm_unlikely(!hvmm_page_is_head(p) || !p->refcount))
		HVMM_BUG("split of a page that is not an allocated block");
	nr = 1ULL << hvmm_page_order(p);
	hvmm_page_set_order(p, 0);
	for (i = 1; i < nr; i++) {
		hvmm_page_set_order(&p[i], 0);
		set_page_refcounted(&p[i]);
	}
	hvmm_spin_unlock(&pool->lock);
}

void *hvmm_alloc_pages(struct hvmm_pool *pool, u8 order)
{
	struct hvmm_page *p;
	u8 i = order;

	hvmm_spin_lock(&pool->lock);
	while (i <= pool->max_order && hvmm_list_empty(&pool->free_area[i]))
		i++;
	if (i > pool->max_order) {
		hvmm_spin_unlock(&pool->lock);
		return NULL;
	}
	p = node_to_page(pool, pool->free_area[i].next);
	p = extract_page(pool, p, order);
	set_page_refcounted(p);
	hvmm_trace(HVMM_TRACE_PAGE_ALLOC, hvmm_page_to_phys(p), order, 0, 0);
	hvmm_spin_unlock(&pool->lock);

	return page_to_node(p);
}

static u8 order_covering(u64 nr_pages)
{
	u8 order = 0;

	while (order < HVMM_BUDDY_MAX_ORDER && (1ULL << order) < nr_pages)
		order++;
	return order;
}

/*
 * Frees [pfn, end) as the largest naturally aligned blocks that fit: the
 * state that putting every page in turn reaches (buddies maximally
 * merged), in one list insertion per block instead of one put per page.
 */
static void attach_range(struct hvmm_pool *pool, u64 pfn, u64 end, bool scrub)
{
	struct hvmm_page *p;
	u8 order;

	while (pfn < end) {
		order = 0;
		while (order < pool->max_order && !(pfn & (1ULL << order)) &&
		       pfn + (2ULL << order) <= end)
			order++;
		p = hvmm_pfn_to_page(pfn);
		if (scrub)
			hvmm_zero_pages(page_to_node(p), 1ULL << order);
		page_add_to_list(pool, p, order);
		pfn += 1ULL << order;
	}
}

/*
 * @zeroed: the caller guarantees the range's memory and vmemmap entries
 * are zero, so free pages are neither scrubbed nor marked as tails again.
 */
static int pool_init(struct hvmm_pool *pool, u64 pfn, u64 nr_pages, u64 reserved_pages,
		     bool zeroed)
{
	struct hvmm_page *p;
	u64 i;

	if (!nr_pages || reserved_pages > nr_pages || pfn + nr_pages < pfn ||
	    nr_pages > hvmm_phys_to_pfn(~0ULL) - pfn)
		return -HVMM_EINVAL;
	if (!hvmm_pfn_valid(pfn) || !hvmm_pfn_valid(pfn + nr_pages - 1))
		return -HVMM_ERANGE;
	pool->va = hvmm_phys_to_virt(hvmm_pfn_to_phys(pfn));
	if ((u8 *)hvmm_phys_to_virt(hvmm_pfn_to_phys(pfn + nr_pages - 1)) !=
	    pool->va + ((nr_pages - 1) << HVMM_PAGE_SHIFT))
		return -HVMM_ERANGE;
	pool->pages = hvmm_pfn_to_page(pfn);
	pool->nr_pages = nr_pages;

	hvmm_spin_lock_init(&pool->lock);
	/* Inclusive, so a pool of exactly 2^k pages can return all of it. */
	pool->max_order = order_covering(nr_pages);
	for (i = 0; i <= HVMM_BUDDY_MAX_ORDER; i++)
		hvmm_list_init(&pool->free_area[i]);
	pool->range_start = hvmm_pfn_to_phys(pfn);
	pool->range_end = hvmm_pfn_to_phys(pfn + nr_pages);

	/* Reserved pages stay allocated; the rest start as tails, heads set below. */
	p = pool->pages;
	for (i = 0; i < nr_pages; i++) {
		if (i >= reserved_pages && zeroed)
			break;
		if (i < reserved_pages)
			hvmm_page_set_order(&p[i], 0);
		else
			hvmm_page_set_tail(&p[i]);
		p[i].refcount = i < reserved_pages ? 1 : 0;
	}
	attach_range(pool, pfn + reserved_pages, pfn + nr_pages, !zeroed);
	return HVMM_OK;
}

int hvmm_pool_init(struct hvmm_pool *pool, u64 pfn, u64 nr_pages, u64 reserved_pages)
{
	return pool_init(pool, pfn, nr_pages, reserved_pages, false);
}

int hvmm_pool_init_zeroed(struct hvmm_pool *pool, u64 pfn, u64 nr_pages, u64 reserved_pages)
{
	return pool_init(pool, pfn, nr_pages, reserved_pages, true);
}

u64 hvmm_pool_free_pages(struct hvmm_pool *pool)
{
	struct hvmm_list *node;
	u64 nr = 0;
	u32 order;

	hvmm_spin_lock(&pool->lock);
	for (order = 0; order <= HVMM_BUDDY_MAX_ORDER; order++) {
		for (node = pool->free_area[order].next;
		     node != &pool->free_area[order]; node = node->next)
			nr += 1ULL << order;
	}
	hvmm_spin_unlock(&pool->lock);
	return nr;
}
