/* SPDX-License-Identifier: MIT */
/*
 * Cascaded bitmap frame allocator with hvisor's semantics.
 *
 * A bitmap covers the frames [base_pfn, base_pfn + nr_frames). Initially no
 * frame is free: insert() adds frames to the managed set (free), remove()
 * withdraws free frames again. A frame is in one of three states:
 *
 *	absent		not inserted (present bit 0, free bit 0)
 *	free		inserted and free (present 1, free 1)
 *	allocated	inserted and handed out (present 1, free 0)
 *
 * Frames are named by PFN everywhere, and alignment is of the PFN (so of
 * the physical address), not of the index in the bitmap.
 *
 * Structure: one free bit and one present bit per frame, in u64 words
 * (level 0), and above them a tree of 64-ary nodes (levels 1..top, one
 * root). Each node keeps:
 *  - avail: bit c set <=> child c holds at least one free frame. This is
 *    hvisor's summary bit, kept exact at all times; single-frame alloc and
 *    next() descend along it.
 *  - prefix, suffix, longest: the free run lengths at the start, at the end
 *    and anywhere in the node's span (frames beyond nr_frames count as not
 *    free). Contiguous searches use them to skip whole subtrees.
 * A hint, first_free_word, lets single-frame alloc skip the descent: no
 * word below it holds a free frame.
 * Run summaries are refreshed lazily: an update marks the node path above
 * the changed word stale (stale bit of the child in its parent, root_stale
 * for the root) and the contiguous searches recompute the stale nodes they
 * read on their way (a search that fails reads them all; one for a window
 * inside a word reads only the words of the level-1 node that holds it).
 * Invariant: a node that is not stale has exact run summaries and no
 * stale descendant; a stale node's parent is stale.
 * A level-1 node's stale bits name its words that changed since its
 * summary (so the node is stale exactly when some are set), and
 * word_longest[] caches each word's longest free run, exact for every
 * word whose bit is clear: a refresh recomputes the changed words alone
 * and folds the node's non-empty words (its avail bits), and the in-word
 * window search skips the words too fragmented to hold a window.
 *
 * Metadata (bit words, cached run lengths and nodes) lives in memory the
 * caller provides, sized by hvmm_bitmap_metadata_bytes(); struct
 * hvmm_bitmap itself only holds pointers into it.
 *
 * Every operation returns 0 (or a documented positive value) or a negative
 * HVMM_E* code, and changes nothing when it fails. Checks are made in this
 * order, so that a reference model can agree on every result:
 *	EINVAL	count of 0, align_log2 >= 64, misaligned fixed base
 *	ERANGE	frame or range not inside [base_pfn, base_pfn + nr_frames)
 *	ENOENT	some frame is absent (dealloc, remove, alloc_at); no free
 *		frame at or after the given one (next)
 *	EEXIST	some frame already inserted (insert) or already free (dealloc)
 *	EBUSY	some frame is allocated (remove, alloc_at)
 *	ENOMEM	no fit (alloc, alloc_contiguous)
 *
 * Locking: bm->lock protects everything behind the struct; the hvmm_bitmap_*
 * functions take it. The __hvmm_bitmap_* variants of the hot operations are
 * the same operations without the lock: the caller must hold bm->lock
 * around them, e.g. one lock around a batch of allocations. Every
 * operation asserts that the lock is held (two loads of the lock's line,
 * which the locked API has just written anyway), so a caller that forgot
 * it is caught on its first call. Initialisation is done before the
 * bitmap is shared.
 */
#ifndef HVMM_BITMAP_ALLOC_H
#define HVMM_BITMAP_ALLOC_H

#include <hvmm/spinlock.h>
#include <hvmm/types.h>

/* Largest capacity: 2^31 frames (8 TiB of 4 KiB pages); run lengths fit a u32. */
#define HVMM_BITMAP_MAX_FRAMES	(1ULL << 31)
#define HVMM_BITMAP_FANOUT_SHIFT	6
#define HVMM_BITMAP_FANOUT	(1U << HVMM_BITMAP_FANOUT_SHIFT)
/* Levels of nodes above the words: 2^31 frames need 5. */
#define HVMM_BITMAP_MAX_LEVELS	6

struct hvmm_bitmap_node {
	u64 avail;	/* bit c: child c holds a free frame */
	u64 stale;	/* bit c: child c's run summary is out of date (level 1: word c changed) */
	u32 prefix;	/* free frames at the start of the node's span */
	u32 suffix;	/* free frames at its end */
	u32 longest;	/* longest free run inside the span */
	u32 unused;
};

struct hvmm_bitmap {
	hvmm_spinlock_t lock;
	u64 base_pfn;
	u64 nr_frames;
	u64 nr_free;
	u64 first_free_word;	/* hint: every word below it has no free frame */
	u64 *free;		/* one bit per frame: free */
	u64 *present;		/* one bit per frame: inserted */
	u8 *word_longest;	/* per word: its longest free run (cached, see above) */
	/* nodes[k] for k = 1..top; nr_nodes[0] is the number of words. */
	struct hvmm_bitmap_node *nodes[HVMM_BITMAP_MAX_LEVELS + 1];
	u64 nr_nodes[HVMM_BITMAP_MAX_LEVELS + 1];
	u32 top;		/* level of the root (>= 1) */
	bool root_stale;	/* the root's run summary is out of date */
};

/* Frames spanned by one node of @level (level 0: one word). */
static inline u64 hvmm_bitmap_span(u32 level)
{
	return 1ULL << (HVMM_BITMAP_FANOUT_SHIFT * (level + 1));
}

/*
 * Metadata a bitmap of @nr_frames needs, in bytes and in whole pages;
 * 0 if @nr_frames is 0 or above HVMM_BITMAP_MAX_FRAMES.
 */
u64 hvmm_bitmap_metadata_bytes(u64 nr_frames);
u64 hvmm_bitmap_metadata_pages(u64 nr_frames);

/*
 * Sets up an empty bitmap (no frame free) over [base_pfn, base_pfn +
 * nr_frames) with its metadata in @meta_pages pages at physical address
 * @meta_pa (reached through hvmm_phys_to_virt, so it must be one linear-map
 * range), or at the 8-byte aligned @meta of @meta_bytes bytes. The
 * metadata is zeroed here. EINVAL: bad capacity or metadata too small or
 * misaligned; ERANGE: the frame range leaves the 52-bit PA space.
 */
int hvmm_bitmap_init(struct hvmm_bitmap *bm, u64 base_pfn, u64 nr_frames,
		     phys_addr_t meta_pa, u64 meta_pages);
int hvmm_bitmap_init_va(struct hvmm_bitmap *bm, u64 base_pfn, u64 nr_frames,
			void *meta, u64 meta_bytes);

/* Adds absent frames as free / withdraws free frames. */
int hvmm_bitmap_insert(struct hvmm_bitmap *bm, u64 pfn, u64 count);
int hvmm_bitmap_remove(struct hvmm_bitmap *bm, u64 pfn, u64 count);

/* The lowest free frame. */
int hvmm_bitmap_alloc(struct hvmm_bitmap *bm, u64 *pfn);

/* The lowest free run of @count frames whose first PFN is a multiple of 2^@align_log2. */
int hvmm_bitmap_alloc_contiguous(struct hvmm_bitmap *bm, u64 count, u32 align_log2,
				 u64 *pfn);

/* Allocates exactly [pfn, pfn + count), which must be 2^@align_log2 aligned. */
int hvmm_bitmap_alloc_at(struct hvmm_bitmap *bm, u64 pfn, u64 count, u32 align_log2);

/* Frees allocated frames; absent frames (ENOENT) and free ones (EEXIST) refuse. */
int hvmm_bitmap_dealloc(struct hvmm_bitmap *bm, u64 pfn);
int hvmm_bitmap_dealloc_contiguous(struct hvmm_bitmap *bm, u64 pfn, u64 count);

/* 1 if @pfn is free, 0 if not (allocated or absent). */
int hvmm_bitmap_test(struct hvmm_bitmap *bm, u64 pfn);

/* The first free frame at or after @pfn. */
int hvmm_bitmap_next(struct hvmm_bitmap *bm, u64 pfn, u64 *out);

/* The operations above without taking bm->lock: the caller holds it. */
int __hvmm_bitmap_alloc(struct hvmm_bitmap *bm, u64 *pfn);
int __hvmm_bitmap_alloc_contiguous(struct hvmm_bitmap *bm, u64 count, u32 align_log2,
				   u64 *pfn);
int __hvmm_bitmap_dealloc(struct hvmm_bitmap *bm, u64 pfn);
int __hvmm_bitmap_dealloc_contiguous(struct hvmm_bitmap *bm, u64 pfn, u64 count);

/* Number of free frames. */
u64 hvmm_bitmap_nr_free(struct hvmm_bitmap *bm);

#endif /* HVMM_BITMAP_ALLOC_H */
