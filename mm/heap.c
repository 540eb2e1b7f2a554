// SPDX-License-Identifier: MIT
/*
 * Byte-granular buddy heap (see hvmm/heap.h for the model and the API).
 *
 * Blocks are named inside their chunk by slot: the index of their first
 * minimum block. The buddy of the order-o block at slot s is at
 * s ^ (1 << o), and the two merge into the order-(o + 1) block at
 * s & ~(1 << o); slot arithmetic is relative to the chunk, so a chunk
 * needs only page alignment. Every state change of a block is mirrored
 * in its head's metadata byte, which is how free() and merging learn
 * what a block is without trusting the caller or the block's contents.
 */
#include <hvmm/bug.h>
#include <hvmm/buddy.h>
#include <hvmm/heap.h>
#include <hvmm/string.h>

static void heap_assert_locked(struct hvmm_heap *heap)
{
	HVMM_BUG_ON(!hvmm_spin_is_locked(&heap->lock));
}

static u64 chunk_bytes(const struct hvmm_heap *heap)
{
	return HVMM_PAGE_SIZE << heap->chunk_page_order;
}

static u64 order_bytes(u8 order)
{
	return HVMM_HEAP_MIN_SIZE << order;
}

/* --- chunks ---------------------------------------------------------------- */

/* The chunk holding @ptr, or NULL: binary search of the sorted table. */
static struct hvmm_heap_chunk *find_chunk(struct hvmm_heap *heap, const void *ptr)
{
	uintptr_t p = (uintptr_t)ptr;
	u32 lo = 0, hi = heap->nr_chunks;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		struct hvmm_heap_chunk *c = &heap->chunks[mid];

		if (p < (uintptr_t)c->va)
			hi = mid;
		else if (p - (uintptr_t)c->va >= chunk_bytes(heap))
			lo = mid + 1;
		else
			return c;
	}
	return NULL;
}

static u64 ptr_to_slot(const struct hvmm_heap_chunk *c, const void *ptr)
{
	return ((uintptr_t)ptr - (uintptr_t)c->va) >> HVMM_HEAP_MIN_SHIFT;
}

static struct hvmm_list *slot_to_node(const struct hvmm_heap_chunk *c, u64 slot)
{
	return (struct hvmm_list *)(c->va + (slot << HVMM_HEAP_MIN_SHIFT));
}

/* --- free lists ------------------------------------------------------------- */

static void block_add_free(struct hvmm_heap *heap, struct hvmm_heap_chunk *c, u64 slot, u8 order)
{
	c->meta[slot] = HVMM_HEAP_META_FREE | order;
	hvmm_list_add_tail(slot_to_node(c, slot), &heap->free_area[order]);
}

/* Unlinks a free block; it becomes the inside of whatever block contains it. */
static void block_del_free(struct hvmm_heap_chunk *c, u64 slot)
{
	hvmm_list_del(slot_to_node(c, slot));
	c->meta[slot] = 0;
}

/*
 * The buddy of the order-@order block at @slot, if it is a free block of
 * exactly that order, so that the two can merge; -1 otherwise.
 */
static s64 find_buddy_free(const struct hvmm_heap_chunk *c, u64 slot, u8 order)
{
	u64 buddy = slot ^ (1ULL << order);

	if (c->meta[buddy] != (HVMM_HEAP_META_FREE | order))
		return -1;
	return (s64)buddy;
}

/* Frees the order-@order block at @slot, merging it with its buddies. */
static void attach_block(struct hvmm_heap *heap, struct hvmm_heap_chunk *c, u64 slot, u8 order)
{
	s64 buddy;

	heap_assert_locked(heap);
	c->meta[slot] = 0;
	for (; order < heap->chunk_order; order++) {
		buddy = find_buddy_free(c, slot, order);
		if (buddy < 0)
			break;
		block_del_free(c, (u64)buddy);
		slot &= ~(1ULL << order);
	}
	block_add_free(heap, c, slot, order);
}

/*
 * Takes the free block at @slot off its list and splits it down to
 * @order, returning the upper halves to the free lists.
 */
static void *extract_block(struct hvmm_heap *heap, struct hvmm_heap_chunk *c, u64 slot, u8 order)
{
	u8 cur = c->meta[slot] & HVMM_HEAP_META_ORDER;

	heap_assert_locked(heap);
	block_del_free(c, slot);
	while (cur > order) {
		cur--;
		block_add_free(heap, c, slot + (1ULL << cur), cur);
	}
	c->meta[slot] = HVMM_HEAP_META_ALLOC | order;
	return slot_to_node(c, slot);
}

/* --- growing and shrinking ----------------------------------------------------- */

/* Inserts @va's chunk into the sorted table; the caller checked there is room. */
static struct hvmm_heap_chunk *chunk_insert(struct hvmm_heap *heap, u8 *va, u8 *meta)
{
	u32 i = heap->nr_chunks;

	while (i && (uintptr_t)heap->chunks[i - 1].va > (uintptr_t)va) {
		heap->chunks[i] = heap->chunks[i - 1];
		i--;
	}
	heap->chunks[i] = (struct hvmm_heap_chunk){ .va = va, .meta = meta };
	heap->nr_chunks++;
	return &heap->chunks[i];
}

static void chunk_remove(struct hvmm_heap *heap, struct hvmm_heap_chunk *c)
{
	u32 i = (u32)(c - heap->chunks);

	for (; i + 1 < heap->nr_chunks; i++)
		heap->chunks[i] = heap->chunks[i + 1];
	heap->nr_chunks--;
}

static int heap_grow_locked(struct hvmm_heap *heap)
{
	struct hvmm_heap_chunk *c;
	u8 *va, *meta;

	heap_assert_locked(heap);
	if (heap->nr_chunks >= heap->max_chunks)
		return -HVMM_ENOMEM;
	meta = heap->pages->alloc_pages(heap->pages_arg, heap->meta_page_order);
	if (!meta)
		return -HVMM_ENOMEM;
	va = heap->pages->alloc_pages(heap->pages_arg, heap->chunk_page_order);
	if (!va) {
		heap->pages->free_pages(heap->pages_arg, meta, heap->meta_page_order);
		return -HVMM_ENOMEM;
	}
	HVMM_BUG_ON((uintptr_t)va & (HVMM_PAGE_SIZE - 1));
	/* A chunk overlapping one we hold means the page source handed it out twice. */
	HVMM_BUG_ON(find_chunk(heap, va) || find_chunk(heap, va + chunk_bytes(heap) - 1));
	hvmm_memzero(meta, chunk_bytes(heap) >> HVMM_HEAP_MIN_SHIFT);
	c = chunk_insert(heap, va, meta);
	block_add_free(heap, c, 0, heap->chunk_order);
	return HVMM_OK;
}

int hvmm_heap_grow(struct hvmm_heap *heap)
{
	int ret;

	hvmm_spin_lock(&heap->lock);
	ret = heap_grow_locked(heap);
	hvmm_spin_unlock(&heap->lock);
	return ret;
}

/*
 * A whole free chunk is one free block of chunk_order at slot 0: those are
 * exactly the nodes on free_area[chunk_order].
 */
u64 hvmm_heap_reclaim(struct hvmm_heap *heap)
{
	struct hvmm_list *head = &heap->free_area[heap->chunk_order];
	struct hvmm_heap_chunk *c;
	u8 *va, *meta;
	u64 pages = 0;

	hvmm_spin_lock(&heap->lock);
	while (!hvmm_list_empty(head)) {
		c = find_chunk(heap, head->next);
		HVMM_BUG_ON(!c || (void *)head->next != c->va);
		va = c->va;
		meta = c->meta;
		block_del_free(c, 0);
		chunk_remove(heap, c);
		heap->pages->free_pages(heap->pages_arg, va, heap->chunk_page_order);
		heap->pages->free_pages(heap->pages_arg, meta, heap->meta_page_order);
		pages += (1ULL << heap->chunk_page_order) + (1ULL << heap->meta_page_order);
	}
	hvmm_spin_unlock(&heap->lock);
	return pages;
}

/* --- allocation ------------------------------------------------------------------ */

static u8 ceil_log2(u64 x)
{
	return x <= 1 ? 0 : (u8)(64 - __builtin_clzll(x - 1));
}

int hvmm_heap_block_order(const struct hvmm_heap *heap, u64 size, u64 align)
{
	u64 bytes;

	if (!align)
		align = 1;
	if (!size || (align & (align - 1)) || align > HVMM_HEAP_MAX_ALIGN)
		return -1;
	if (size > order_bytes(heap->chunk_order))
		return -1;
	bytes = hvmm_max(hvmm_max(size, align), HVMM_HEAP_MIN_SIZE);
	return ceil_log2(bytes) - HVMM_HEAP_MIN_SHIFT;
}

void *hvmm_heap_alloc(struct hvmm_heap *heap, u64 size, u64 align)
{
	int order = hvmm_heap_block_order(heap, size, align);
	struct hvmm_heap_chunk *c;
	struct hvmm_list *node;
	void *ptr;
	u8 i;

	if (order < 0)
		return NULL;
	hvmm_spin_lock(&heap->lock);
	i = (u8)order;
	while (i <= heap->chunk_order && hvmm_list_empty(&heap->free_area[i]))
		i++;
	if (i > heap->chunk_order) {
		if (heap_grow_locked(heap)) {
			hvmm_spin_unlock(&heap->lock);
			return NULL;
		}
		i = heap->chunk_order;
	}
	node = heap->free_area[i].next;
	c = find_chunk(heap, node);
	HVMM_BUG_ON(!c);
	ptr = extract_block(heap, c, ptr_to_slot(c, node), (u8)order);
	hvmm_spin_unlock(&heap->lock);
	return ptr;
}

/*
 * The slot of the allocated order-@order block at @ptr in @c, or a
 * negative error saying why @ptr is not one (see hvmm/heap.h).
 */
static s64 allocated_slot(const struct hvmm_heap_chunk *c, const void *ptr, u8 order)
{
	uintptr_t off = (uintptr_t)ptr - (uintptr_t)c->va;
	u64 slot = off >> HVMM_HEAP_MIN_SHIFT;
	u8 meta;

	if (off & (HVMM_HEAP_MIN_SIZE - 1))
		return -HVMM_ENOENT;
	meta = c->meta[slot];
	if (!(meta & HVMM_HEAP_META_ALLOC))
		return -HVMM_ENOENT;	/* inside a block, or a free block: never returned or freed */
	if ((meta & HVMM_HEAP_META_ORDER) != order)
		return -HVMM_EINVAL;	/* allocated with another size or alignment */
	return (s64)slot;
}

int hvmm_heap_free(struct hvmm_heap *heap, void *ptr, u64 size, u64 align)
{
	int order = hvmm_heap_block_order(heap, size, align);
	struct hvmm_heap_chunk *c;
	s64 slot;

	if (order < 0)
		return -HVMM_EINVAL;
	hvmm_spin_lock(&heap->lock);
	c = find_chunk(heap, ptr);
	if (!c) {
		hvmm_spin_unlock(&heap->lock);
		return -HVMM_ERANGE;
	}
	slot = allocated_slot(c, ptr, (u8)order);
	if (slot >= 0)
		attach_block(heap, c, (u64)slot, (u8)order);
	hvmm_spin_unlock(&heap->lock);
	return slot < 0 ? (int)slot : HVMM_OK;
}

u64 hvmm_heap_free_bytes(struct hvmm_heap *heap)
{
	struct hvmm_list *node;
	u64 bytes = 0;
	u8 order;

	hvmm_spin_lock(&heap->lock);
	for (order = 0; order <= heap->chunk_order; order++)
		for (node = heap->free_area[order].next; node != &heap->free_area[order];
		     node = node->next)
			bytes += order_bytes(order);
	hvmm_spin_unlock(&heap->lock);
	return bytes;
}

/* --- set-up -------------------------------------------------------------------------- */

int hvmm_heap_init(struct hvmm_heap *heap, const struct hvmm_heap_page_ops *pages,
		   void *pages_arg, u8 chunk_page_order, u32 max_chunks)
{
	u64 meta_bytes;
	u32 i;

	if (!pages || chunk_page_order > HVMM_HEAP_MAX_CHUNK_PAGE_ORDER ||
	    !max_chunks || max_chunks > HVMM_HEAP_MAX_CHUNKS)
		return -HVMM_EINVAL;
	hvmm_spin_lock_init(&heap->lock);
	for (i = 0; i <= HVMM_HEAP_MAX_ORDER; i++)
		hvmm_list_init(&heap->free_area[i]);
	heap->pages = pages;
	heap->pages_arg = pages_arg;
	heap->chunk_page_order = chunk_page_order;
	heap->chunk_order = (u8)(chunk_page_order + HVMM_PAGE_SHIFT - HVMM_HEAP_MIN_SHIFT);
	meta_bytes = (HVMM_PAGE_SIZE << chunk_page_order) >> HVMM_HEAP_MIN_SHIFT;
	heap->meta_page_order = ceil_log2((meta_bytes + HVMM_PAGE_SIZE - 1) >> HVMM_PAGE_SHIFT);
	heap->max_chunks = max_chunks;
	heap->nr_chunks = 0;
	return HVMM_OK;
}

/* --- a page source over a buddy pool ----------------------------------------------------- */

static void *pool_alloc_pages(void *arg, u8 order)
{
	return hvmm_alloc_pages(arg, order);
}

static void pool_free_pages(void *arg, void *va, u8 order)
{
	(void)order;	/* the pool knows the order of the block it handed out */
	hvmm_put_page(arg, va);
}

const struct hvmm_heap_page_ops hvmm_heap_pool_pages = {
	.alloc_pages = pool_alloc_pages,
	.free_pages = pool_free_pages,
};
