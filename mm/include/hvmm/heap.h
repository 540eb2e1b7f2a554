/* SPDX-License-Identifier: MIT */
/*
 * Byte-granular buddy heap for the hypervisor's own objects (VM and vCPU
 * structures, memcache headers, small bookkeeping records), in the manner
 * of the Verus-verified Buddy<ORDER> allocator and of pKVM's hypervisor
 * heap: memory comes from the page allocator in chunks of 2^chunk_page_order
 * pages, and every chunk is carved into naturally aligned power-of-two
 * blocks of HVMM_HEAP_MIN_SIZE bytes and up.
 *
 * Block orders count from the minimum block: a block of order o is
 * HVMM_HEAP_MIN_SIZE << o bytes, aligned to its size relative to its
 * chunk (chunks are page aligned, so to min(size, page) absolutely).
 * Free blocks sit on free_area[o] through a list node stored in their
 * first 16 bytes; every free block is maximally merged with its buddy.
 *
 * Each chunk has one metadata byte per minimum block, in pages of its own
 * taken from the same page allocator (so that a chunk of exactly 2^k bytes
 * can hand out one 2^k block): 0 for a byte inside a block, else the head
 * state and order of the block starting there (HVMM_HEAP_META_*). The
 * metadata is what lets free and merge run in O(log) without trusting the
 * caller, and what makes misuse detectable.
 *
 * hvmm_heap_free() takes the size and alignment the block was allocated
 * with, as Verus' deallocate(ptr, size, align) and Rust's
 * GlobalAlloc::dealloc(ptr, layout) do. The heap does not need them to find
 * the block (the metadata records its order), but the caller always knows
 * the type it frees, and checking the order they imply against the
 * recorded one turns type confusion and frees of the wrong pointer into an
 * error instead of a silent free of someone else's memory. Sizes that round
 * to the same block are indistinguishable and accepted.
 *
 * Misuse is reported by error code and leaves the heap unchanged:
 * -HVMM_ERANGE for a pointer outside every chunk, -HVMM_ENOENT for one
 * that is not an allocated block (never returned, or freed already),
 * -HVMM_EINVAL for a size or alignment whose block is not the one that
 * was allocated there. A caller that cannot recover wraps the call in
 * HVMM_BUG_ON.
 *
 * The heap gives memory back to the page allocator a whole chunk at a
 * time, when asked (hvmm_heap_reclaim(), as pKVM's hyp_alloc_reclaim() is
 * driven by the host's memory pressure): an alloc/free pair at the edge of
 * a chunk must not cost a page-allocator round trip.
 *
 * Locking: heap->lock protects free_area, the chunk table and every
 * metadata byte. The page source is called with it held, so it must not
 * call back into this heap.
 */
#ifndef HVMM_HEAP_H
#define HVMM_HEAP_H

#include <hvmm/list.h>
#include <hvmm/spinlock.h>
#include <hvmm/types.h>

struct hvmm_pool;

/* Smallest block: a free block holds its list node (two pointers). */
#define HVMM_HEAP_MIN_SHIFT	4
#define HVMM_HEAP_MIN_SIZE	(1ULL << HVMM_HEAP_MIN_SHIFT)
/* Largest chunk, in pages (as a page order): 16 MiB. */
#define HVMM_HEAP_MAX_CHUNK_PAGE_ORDER	12
/* Largest block order: a whole chunk of the largest size. */
#define HVMM_HEAP_MAX_ORDER	(HVMM_HEAP_MAX_CHUNK_PAGE_ORDER + HVMM_PAGE_SHIFT - HVMM_HEAP_MIN_SHIFT)
/* Chunks one heap holds at most. */
#define HVMM_HEAP_MAX_CHUNKS	64
/* Largest alignment a request may ask for: chunks are only page aligned. */
#define HVMM_HEAP_MAX_ALIGN	HVMM_PAGE_SIZE

/* Metadata byte of a block head: state bit | order. 0: inside a block. */
#define HVMM_HEAP_META_FREE	0x40
#define HVMM_HEAP_META_ALLOC	0x80
#define HVMM_HEAP_META_ORDER	0x3f

/*
 * Where chunks and their metadata come from. alloc_pages returns the
 * linear-map address of 2^order contiguous pages, or NULL; free_pages
 * takes back exactly what one alloc_pages returned.
 */
struct hvmm_heap_page_ops {
	void *(*alloc_pages)(void *arg, u8 order);
	void (*free_pages)(void *arg, void *va, u8 order);
};

/* A page source over a buddy pool (mm/buddy.c): arg is the struct hvmm_pool. */
extern const struct hvmm_heap_page_ops hvmm_heap_pool_pages;

struct hvmm_heap_chunk {
	u8 *va;			/* chunk_bytes, page aligned */
	u8 *meta;		/* one byte per minimum block */
};

struct hvmm_heap {
	hvmm_spinlock_t lock;
	struct hvmm_list free_area[HVMM_HEAP_MAX_ORDER + 1];
	const struct hvmm_heap_page_ops *pages;
	void *pages_arg;
	u8 chunk_page_order;	/* a chunk is 2^chunk_page_order pages */
	u8 meta_page_order;	/* its metadata, 2^meta_page_order pages */
	u8 chunk_order;		/* block order of a whole chunk */
	u32 max_chunks;
	u32 nr_chunks;
	/* Sorted by address, so a pointer finds its chunk by binary search. */
	struct hvmm_heap_chunk chunks[HVMM_HEAP_MAX_CHUNKS];
};

/*
 * Sets up an empty heap that takes chunks of 2^@chunk_page_order pages
 * from @pages, at most @max_chunks of them (1..HVMM_HEAP_MAX_CHUNKS).
 * No page is taken until the first allocation. Returns -HVMM_EINVAL for a
 * chunk size or count out of range.
 */
int hvmm_heap_init(struct hvmm_heap *heap, const struct hvmm_heap_page_ops *pages,
		   void *pages_arg, u8 chunk_page_order, u32 max_chunks);

/*
 * A block of at least @size bytes aligned to @align (a power of two up to
 * HVMM_HEAP_MAX_ALIGN; 0 means 1), or NULL if the request is malformed,
 * larger than a chunk, or no block is free and the heap cannot grow.
 * The block is the smallest power of two of at least HVMM_HEAP_MIN_SIZE,
 * @size and @align bytes. Its contents are undefined.
 */
void *hvmm_heap_alloc(struct hvmm_heap *heap, u64 size, u64 align);

/* Gives back a block hvmm_heap_alloc(@size, @align) returned (see above). */
int hvmm_heap_free(struct hvmm_heap *heap, void *ptr, u64 size, u64 align);

/* Takes one more chunk from the page source now: 0 or -HVMM_ENOMEM. */
int hvmm_heap_grow(struct hvmm_heap *heap);

/* Gives every entirely free chunk back to the page source; returns the pages given. */
u64 hvmm_heap_reclaim(struct hvmm_heap *heap);

/* Free bytes in the heap's chunks, counted under the lock (for statistics). */
u64 hvmm_heap_free_bytes(struct hvmm_heap *heap);

/*
 * The block order hvmm_heap_alloc(@size, @align) uses for @heap, or -1 for
 * a request it refuses.
 */
int hvmm_heap_block_order(const struct hvmm_heap *heap, u64 size, u64 align);

#endif /* HVMM_HEAP_H */
