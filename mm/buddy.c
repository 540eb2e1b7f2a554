// SPDX-License-Identifier: MIT
/*
 * Buddy page allocator with pKVM hyp_pool semantics.
 *
 * Every page of a pool has a struct hvmm_page in the vmemmap. The first
 * page of a block (its head) carries the block's order; the others (tails)
 * carry none (hvmm_page_set_tail: all-zero metadata is a tail). A free
 * block has refcount 0 and is linked, through a list node stored in its
 * first or its last bytes (node_offset), on free_area[order]. The rest of
 * a free block is zero: memory is scrubbed when it is freed, so that an
 * allocation never returns another owner's data.
 *
 * The pool's own range is one range of the linear map (pool_init checks),
 * so its pages are reached by index both ways: metadata at pool->pages[i],
 * contents at pool->va + (i << PAGE_SHIFT), as pKVM's hyp_page_to_virt()
 * is an offset. Splitting and merging make no platform call. Blocks from
 * outside the range (accepted, never merged) go through the linear map.
 *
 * The maximal blocks nobody has used yet sit in one untouched range
 * instead of on free_area[max_order] (see buddy.h): a block is listed from
 * it only when no list can serve a request, so neither set-up nor a run
 * writes a page of a block it never hands out. Untouched pages read as
 * what the rest of the allocator expects of pages it does not own a list
 * node in: zero memory, tail metadata, refcount 0. A block freed beside
 * the range never merges into it, since merging stops at max_order.
 *
 * The order-0 alloc+free pair is the common case (stage-2 table pages,
 * single guest pages). With a free order-0 block the alloc is one list
 * removal; the free is one scrub, one buddy test and one list insertion.
 * Both compute the page's index once and keep the pool's fields in
 * registers (list stores could alias them for the compiler).
 *
 * In steady state (no split, no merge) a pair runs 209 instructions of
 * this file to the 190 of the kernel's page_alloc.c, for what the kernel's
 * does not do, each measured by a build without it: the two lock-held
 * assertions, 8 (one vCPU's put without the lock is caught by them alone),
 * and the head test on put, 2; the trace points' tests take 7 more while
 * the platform records allocations. The rest is the range test that sends
 * memory from outside the pool down its own path, and the node's offset
 * by order.
 */
#include <hvmm/buddy.h>
#include <hvmm/string.h>

static u8 *index_to_page(u8 *va, u64 i)
{
	return va + (i << HVMM_PAGE_SHIFT);
}

/*
 * Where a free block of @order keeps its list node: in its last 16 bytes
 * for an even order, its first 16 for an odd one (an offset from the
 * block's start). A split lists the upper halves of a block, pages 1, 2,
 * 4, ... 512 above it; with every node at the start of its block they all
 * fell in one set of an 8-way level-1 cache (with the metadata of pages
 * 256 and 512), and an order-0 pair took 18 level-1 misses. Alternating
 * puts half of them in another set. A block's first and last lines are
 * the ones its user is likeliest to write first, so the allocation that
 * reads a node seldom brings in a line its user does not then use.
 */
#define NODE_BYTES	sizeof(struct hvmm_list)

/* All ones for an even @order, whose node is at the block's end; 0 for an odd one. */
static u64 node_at_end(u8 order)
{
	return (u64)(order & 1) - 1;
}

static u64 node_offset(u8 order)
{
	return node_at_end(order) & ((HVMM_PAGE_SIZE << order) - NODE_BYTES);
}

static struct hvmm_list *block_node(u8 *block, u8 order)
{
	return (struct hvmm_list *)(block + node_offset(order));
}

static struct hvmm_list *index_to_node(u8 *va, u64 i, u8 order)
{
	return block_node(index_to_page(va, i), order);
}

/* Index of the page at @addr in the pool's range; nr_pages or more outside it. */
static inline u64 addr_to_index(const struct hvmm_pool *pool, const void *addr)
{
	return ((uintptr_t)addr - (uintptr_t)pool->va) >> HVMM_PAGE_SHIFT;
}

static u64 pool_first_pfn(const struct hvmm_pool *pool)
{
	return hvmm_phys_to_pfn(pool->range_start);
}

/*
 * The index of the order-@order buddy of the block at @pfn, if it lies in
 * the pool and is a free block of exactly @order, so that the two can
 * merge; otherwise nr_pages. Pages outside belong to someone else and
 * their metadata must not be touched. Buddies pair in physical address
 * space (@first is the pool's first PFN), not by index in a pool that
 * may start unaligned.
 */
static u64 find_buddy_avail(const struct hvmm_page *pages, u64 nr, u64 first, u64 pfn, u8 order)
{
	u64 bi = (pfn ^ (1ULL << order)) - first;

	if (bi >= nr || pages[bi].order_plus1 != order + 1 || pages[bi].refcount)
		return nr;
	return bi;
}

/*
 * Frees the block of order @order at index @i of the pool into it: merge
 * it with its buddy for as long as the buddy is free and whole, scrub it,
 * then list the merged block. hvmm_list_del clears a merged buddy's node,
 * so the merged block is all zero but for the node written in it.
 * The merge touches only the buddies' nodes and metadata, never the freed
 * block's memory, so the scrub can come after it: then only the merged
 * block's node and list live across the call, instead of every value the
 * merge loop needs.
 */
static void attach_block(struct hvmm_pool *pool, u64 i, u8 order)
{
	struct hvmm_page *pages = pool->pages;
	u64 nr = pool->nr_pages, first = pool_first_pfn(pool);
	u64 pfn = first + i, bi;
	u8 *va = pool->va, freed_order = order;
	u8 *freed = index_to_page(va, i);
	/* node_offset(order), kept up level by level: the block doubles, the end flips. */
	u64 last = (HVMM_PAGE_SIZE << order) - NODE_BYTES, at_end = node_at_end(order);
	struct hvmm_list *node;

	/* The freed head may stop being one while merging: it becomes a tail first. */
	hvmm_page_set_tail(&pages[i]);
	for (; order < pool->max_order; order++, last = 2 * last + NODE_BYTES, at_end = ~at_end) {
		bi = find_buddy_avail(pages, nr, first, pfn, order);
		if (bi == nr)
			break;
		hvmm_list_del((struct hvmm_list *)(index_to_page(va, bi) + (last & at_end)));
		hvmm_page_set_tail(&pages[bi]);
		pfn &= ~(1ULL << order);
	}
	i = pfn - first;
	hvmm_page_set_order(&pages[i], order);
	node = (struct hvmm_list *)(index_to_page(va, i) + (last & at_end));
	hvmm_zero_pages(freed, 1ULL << freed_order);
	hvmm_list_add_tail(node, &pool->free_area[order]);
}

/*
 * A block from outside the range (a put of memory the pool did not hand
 * out, as pKVM accepts): scrubbed and listed whole, never merged.
 */
static void attach_outside(struct hvmm_pool *pool, struct hvmm_page *p, void *addr)
{
	u8 order = hvmm_page_order(p);

	hvmm_zero_pages(addr, 1ULL << order);
	hvmm_list_add_tail(block_node(addr, order), &pool->free_area[order]);
}

/*
 * Takes the free block @p (memory @block, listed by @node) off its list
 * and splits it down to @order, returning the upper halves to the free
 * lists. The halves of a block are inside the block, so this works for
 * outside blocks too.
 */
static void extract_block(struct hvmm_pool *pool, struct hvmm_page *p, u8 *block,
			  struct hvmm_list *node, u8 order)
{
	u8 cur = hvmm_page_order(p);
	u64 half, at_end;

	hvmm_assert_spin_locked(&pool->lock);
	hvmm_list_del(node);
	if (cur == order)
		return;
	/* The upper half's size, and node_at_end() of its order: halved and flipped per level. */
	half = HVMM_PAGE_SIZE << cur;
	at_end = node_at_end(cur);
	do {
		cur--;
		half >>= 1;
		at_end = ~at_end;
		hvmm_page_set_order(p + (1ULL << cur), cur);
		hvmm_list_add_tail((struct hvmm_list *)(block + half + ((half - NODE_BYTES) & at_end)),
				   &pool->free_area[cur]);
	} while (cur > order);
	hvmm_page_set_order(p, order);
}

/*
 * Misuse checks beyond the kernel's (which tests only the refcount): a get
 * or put on a tail, or on a page no pool claimed, is caught here instead
 * of corrupting the count of a page that is not a block. The head test
 * reads the byte beside the refcount, in the same cache line: two
 * instructions per call, no extra memory access.
 */
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

/* Out of line: memory the pool did not hand out is the rare case. */
static void __attribute__((noinline)) put_outside(struct hvmm_pool *pool, void *addr)
{
	struct hvmm_page *p = hvmm_virt_to_page(addr);

	hvmm_spin_lock(&pool->lock);
	if (page_ref_dec_and_test(p)) {
		hvmm_trace(HVMM_TRACE_PAGE_FREE, hvmm_page_to_phys(p), hvmm_page_order(p), 0, 0);
		attach_outside(pool, p, addr);
	}
	hvmm_spin_unlock(&pool->lock);
}

/* The refcounts and the free lists are pool->lock's, and so is attach_block(). */
static void put_page_locked(struct hvmm_pool *pool, struct hvmm_page *p, u64 i)
{
	hvmm_assert_spin_locked(&pool->lock);
	if (!page_ref_dec_and_test(p))
		return;
	hvmm_trace(HVMM_TRACE_PAGE_FREE, pool->range_start + (i << HVMM_PAGE_SHIFT),
		   hvmm_page_order(p), 0, 0);
	attach_block(pool, i, hvmm_page_order(p));
}

void hvmm_put_page(struct hvmm_pool *pool, void *addr)
{
	u64 i = addr_to_index(pool, addr);

	if (hvmm_unlikely(i >= pool->nr_pages)) {
		put_outside(pool, addr);
		return;
	}
	hvmm_spin_lock(&pool->lock);
	put_page_locked(pool, &pool->pages[i], i);
	hvmm_spin_unlock(&pool->lock);
}

static struct hvmm_page *addr_to_page(struct hvmm_pool *pool, const void *addr)
{
	u64 i = addr_to_index(pool, addr);

	if (hvmm_likely(i < pool->nr_pages))
		return &pool->pages[i];
	return hvmm_virt_to_page(addr);
}

void hvmm_get_page(struct hvmm_pool *pool, void *addr)
{
	struct hvmm_page *p = addr_to_page(pool, addr);

	hvmm_spin_lock(&pool->lock);
	page_ref_inc(p);
	hvmm_spin_unlock(&pool->lock);
}

void hvmm_split_page(struct hvmm_pool *pool, void *addr)
{
	struct hvmm_page *p = addr_to_page(pool, addr);
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

/*
 * Every list that could serve a request is empty: list the lowest
 * untouched maximal block on free_area[max_order], or return false if
 * none is left. Out of line, as it runs once per maximal block a pool
 * ever hands out. The block's memory is zero and its pages are tails
 * already; only its head needs an order.
 */
static bool __attribute__((noinline)) list_untouched_block(struct hvmm_pool *pool)
{
	u8 order = pool->max_order;
	u64 i = pool->untouched;

	hvmm_assert_spin_locked(&pool->lock);
	if (i == pool->untouched_end)
		return false;
	pool->untouched = i + (1ULL << order);
	hvmm_page_set_order(&pool->pages[i], order);
	hvmm_list_add_tail(index_to_node(pool->va, i, order), &pool->free_area[order]);
	return true;
}

void *hvmm_alloc_pages(struct hvmm_pool *pool, u8 order)
{
	struct hvmm_list *head, *node;
	unsigned int i = order;
	u8 *block;
	struct hvmm_page *p;
	phys_addr_t pa;
	/* Widened once: the list index and the trace both need it as a u64. */
	u64 idx, o = order;

	hvmm_spin_lock(&pool->lock);
	if (hvmm_unlikely(o > pool->max_order))
		goto fail;
	/* Only now: free_area has no head for an order above the largest. */
	head = &pool->free_area[o];
	/*
	 * Unlikely: the common pair finds its own list non-empty, and the hint
	 * keeps that path's load of head->next straight-line code.
	 */
	while (hvmm_unlikely(hvmm_list_empty(head))) {
		if (++i > pool->max_order) {
			/* Nothing listed fits: an untouched block, if any is left. */
			if (!list_untouched_block(pool))
				goto fail;
			i = pool->max_order;
			head = &pool->free_area[i];
			break;
		}
		head++;
	}
	node = head->next;
	block = (u8 *)node - node_offset((u8)i);
	idx = addr_to_index(pool, block);
	if (hvmm_likely(idx < pool->nr_pages)) {
		p = &pool->pages[idx];
		pa = pool->range_start + (idx << HVMM_PAGE_SHIFT);
	} else {
		p = hvmm_virt_to_page(block);
		pa = hvmm_page_to_phys(p);
	}
	extract_block(pool, p, block, node, order);
	set_page_refcounted(p);
	hvmm_trace(HVMM_TRACE_PAGE_ALLOC, pa, o, 0, 0);
	hvmm_spin_unlock(&pool->lock);
	return block;
fail:
	hvmm_spin_unlock(&pool->lock);
	return NULL;
}

static u8 order_covering(u64 nr_pages)
{
	u8 order = 0;

	while (order < HVMM_BUDDY_MAX_ORDER && (1ULL << order) < nr_pages)
		order++;
	return order;
}

/*
 * Lists [pfn, end) as the largest naturally aligned blocks that fit, in
 * one list insertion per block instead of one put per page.
 */
static void list_range(struct hvmm_pool *pool, u64 pfn, u64 end, bool scrub)
{
	u64 first = pool_first_pfn(pool);
	struct hvmm_list *node;
	u8 order;

	while (pfn < end) {
		order = 0;
		while (order < pool->max_order && !(pfn & (1ULL << order)) &&
		       pfn + (2ULL << order) <= end)
			order++;
		node = index_to_node(pool->va, pfn - first, order);
		if (scrub)
			hvmm_zero_pages(index_to_page(pool->va, pfn - first), 1ULL << order);
		hvmm_page_set_order(&pool->pages[pfn - first], order);
		hvmm_list_add_tail(node, &pool->free_area[order]);
		pfn += 1ULL << order;
	}
}

/*
 * Frees [pfn, end) into the pool in the state that putting every page in
 * turn reaches (buddies maximally merged). Its maximal blocks are the
 * aligned run [lo, hi) in its middle: they become the untouched range,
 * and only the smaller blocks before and after it are listed. The pages
 * of [lo, hi) must already be tails with refcount 0.
 */
static void attach_range(struct hvmm_pool *pool, u64 pfn, u64 end, bool scrub)
{
	u64 first = pool_first_pfn(pool), max = 1ULL << pool->max_order;
	u64 lo = HVMM_ALIGN_UP(pfn, max), hi = HVMM_ALIGN_DOWN(end, max);

	if (lo >= hi) {
		/* No whole maximal block: an empty untouched range at the end. */
		lo = end;
		hi = end;
	}
	list_range(pool, pfn, lo, scrub);
	if (scrub && hi > lo)
		hvmm_zero_pages(index_to_page(pool->va, lo - first), hi - lo);
	pool->untouched = lo - first;
	pool->untouched_end = hi - first;
	list_range(pool, hi, end, scrub);
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
	u32 order;
	u64 nr;

	hvmm_spin_lock(&pool->lock);
	nr = pool->untouched_end - pool->untouched;
	for (order = 0; order <= HVMM_BUDDY_MAX_ORDER; order++) {
		for (node = pool->free_area[order].next;
		     node != &pool->free_area[order]; node = node->next)
			nr += 1ULL << order;
	}
	hvmm_spin_unlock(&pool->lock);
	return nr;
}
