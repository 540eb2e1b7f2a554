// SPDX-License-Identifier: MIT
/*
 * Buddy page allocator with pKVM hyp_pool semantics.
 *
 * Every page of a pool has a struct hvmm_page in the vmemmap. The first
 * page of a block (its head) carries the block's order; the others (tails)
 * carry HVMM_NO_ORDER. A free block has refcount 0 and is linked, through a
 * list node stored in its first bytes, on free_area[order]. The rest of a
 * free block is zero: memory is scrubbed when it is freed, so that an
 * allocation never returns another owner's data.
 */
#include <hvmm/buddy.h>
#include <hvmm/string.h>

static struct hvmm_list *page_to_node(struct hvmm_page *p)
{
	return hvmm_page_to_virt(p);
}

static struct hvmm_page *node_to_page(struct hvmm_list *node)
{
	return hvmm_virt_to_page(node);
}

static bool pool_contains(struct hvmm_pool *pool, phys_addr_t phys)
{
	return phys >= pool->range_start && phys < pool->range_end;
}

/*
 * The buddy of the order-@order block at @p, if it lies in the pool: pages
 * outside belong to someone else and their metadata must not be touched.
 */
static struct hvmm_page *find_buddy_nocheck(struct hvmm_pool *pool,
					     struct hvmm_page *p, u8 order)
{
	phys_addr_t addr = hvmm_page_to_phys(p) ^ (HVMM_PAGE_SIZE << order);

	if (!pool_contains(pool, addr))
		return NULL;
	return hvmm_phys_to_page(addr);
}

/* The buddy, if it is a free block of exactly @order and so can merge. */
static struct hvmm_page *find_buddy_avail(struct hvmm_pool *pool,
					  struct hvmm_page *p, u8 order)
{
	struct hvmm_page *buddy = find_buddy_nocheck(pool, p, order);

	if (!buddy || buddy->order != order || buddy->refcount)
		return NULL;
	return buddy;
}

static void page_add_to_list(struct hvmm_pool *pool, struct hvmm_page *p)
{
	hvmm_list_add_tail(page_to_node(p), &pool->free_area[p->order]);
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
	u8 order = p->order;
	struct hvmm_page *buddy;

	hvmm_zero_pages(hvmm_page_to_virt(p), 1ULL << order);

	/* Blocks from outside the pool are accepted as they are, never merged. */
	if (!pool_contains(pool, hvmm_page_to_phys(p)))
		goto insert;

	/* @p may stop being the head while merging: clear its order first. */
	p->order = HVMM_NO_ORDER;
	for (; order < pool->max_order; order++) {
		buddy = find_buddy_avail(pool, p, order);
		if (!buddy)
			break;
		page_remove_from_list(buddy);
		buddy->order = HVMM_NO_ORDER;
		if (buddy < p)
			p = buddy;
	}
insert:
	p->order = order;
	page_add_to_list(pool, p);
}

/*
 * Takes the free block @p off its list and splits it down to @order,
 * returning the upper halves to the free lists. The halves of a block are
 * inside the block, so this works for outside blocks too.
 */
static struct hvmm_page *extract_page(struct hvmm_pool *pool,
				      struct hvmm_page *p, u8 order)
{
	struct hvmm_page *buddy;

	page_remove_from_list(p);
	while (p->order > order) {
		p->order--;
		buddy = p + (1ULL << p->order);
		buddy->order = p->order;
		page_add_to_list(pool, buddy);
	}
	return p;
}

static void page_ref_inc(struct hvmm_page *p)
{
	if (hvmm_unlikely(p->order == HVMM_NO_ORDER))
		HVMM_BUG("get on a page that heads no block");
	if (hvmm_unlikely(!p->refcount))
		HVMM_BUG("get on a free page");
	if (hvmm_unlikely(p->refcount == UINT16_MAX))
		HVMM_BUG("page refcount overflow");
	p->refcount++;
}

static bool page_ref_dec_and_test(struct hvmm_page *p)
{
	if (hvmm_unlikely(p->order == HVMM_NO_ORDER))
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

static void put_page_locked(struct hvmm_pool *pool, struct hvmm_page *p)
{
	if (page_ref_dec_and_test(p))
		attach_page(pool, p);
}

void hvmm_put_page(struct hvmm_pool *pool, void *addr)
{
	struct hvmm_page *p = hvmm_virt_to_page(addr);

	hvmm_spin_lock(&pool->lock);
	put_page_locked(pool, p);
	hvmm_spin_unlock(&pool->lock);
}

void hvmm_get_page(struct hvmm_pool *pool, void *addr)
{
	struct hvmm_page *p = hvmm_virt_to_page(addr);

	hvmm_spin_lock(&pool->lock);
	page_ref_inc(p);
	hvmm_spin_unlock(&pool->lock);
}

void hvmm_split_page(struct hvmm_pool *pool, void *addr)
{
	struct hvmm_page *p = hvmm_virt_to_page(addr);
	u64 i, nr;

	hvmm_spin_lock(&pool->lock);
	if (hvmm_unlikely(p->order == HVMM_NO_ORDER || !p->refcount))
		HVMM_BUG("split of a page that is not an allocated block");
	nr = 1ULL << p->order;
	p->order = 0;
	for (i = 1; i < nr; i++) {
		p[i].order = 0;
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
	p = node_to_page(pool->free_area[i].next);
	p = extract_page(pool, p, order);
	set_page_refcounted(p);
	hvmm_spin_unlock(&pool->lock);

	return hvmm_page_to_virt(p);
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
			hvmm_zero_pages(hvmm_page_to_virt(p), 1ULL << order);
		p->order = order;
		page_add_to_list(pool, p);
		pfn += 1ULL << order;
	}
}

static int pool_init(struct hvmm_pool *pool, u64 pfn, u64 nr_pages, u64 reserved_pages,
		     bool scrub)
{
	struct hvmm_page *p;
	u64 i;

	if (!nr_pages || reserved_pages > nr_pages || pfn + nr_pages < pfn)
		return -HVMM_EINVAL;
	if (!hvmm_pfn_valid(pfn) || !hvmm_pfn_valid(pfn + nr_pages - 1))
		return -HVMM_ERANGE;

	hvmm_spin_lock_init(&pool->lock);
	/* Inclusive, so a pool of exactly 2^k pages can return all of it. */
	pool->max_order = order_covering(nr_pages);
	for (i = 0; i <= HVMM_BUDDY_MAX_ORDER; i++)
		hvmm_list_init(&pool->free_area[i]);
	pool->range_start = hvmm_pfn_to_phys(pfn);
	pool->range_end = hvmm_pfn_to_phys(pfn + nr_pages);

	/* Reserved pages stay allocated; the rest start as tails, heads set below. */
	p = hvmm_pfn_to_page(pfn);
	for (i = 0; i < nr_pages; i++) {
		p[i].order = i < reserved_pages ? 0 : HVMM_NO_ORDER;
		p[i].refcount = i < reserved_pages ? 1 : 0;
	}
	attach_range(pool, pfn + reserved_pages, pfn + nr_pages, scrub);
	return HVMM_OK;
}

int hvmm_pool_init(struct hvmm_pool *pool, u64 pfn, u64 nr_pages, u64 reserved_pages)
{
	return pool_init(pool, pfn, nr_pages, reserved_pages, true);
}

int hvmm_pool_init_zeroed(struct hvmm_pool *pool, u64 pfn, u64 nr_pages, u64 reserved_pages)
{
	return pool_init(pool, pfn, nr_pages, reserved_pages, false);
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
