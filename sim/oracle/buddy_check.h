/* SPDX-License-Identifier: MIT */
/*
 * ALLOC-STRUCT and ALLOC-CONSERVE for buddy allocators: the CN Hyp_pool
 * invariant made executable, once, for every allocator whose contract is
 * pKVM's hyp_pool. Reads the pool, its free lists and its vmemmap
 * directly, through the simulator's own view of physical memory; never
 * calls the allocator.
 *
 * mm/'s buddy and the Linux kernel's hyp_pool keep the same structure: a
 * vmemmap entry per page with an order (a block head) or none (a tail)
 * and a refcount (0 while free); one free list per order, of list_head
 * nodes in the first bytes of each free block; buddies merged up to the
 * largest order; free memory zero past its node. They differ in where
 * that lives and how it is encoded, which a struct sim_buddy_contract
 * says; the checks themselves are one code.
 */
#ifndef SIM_ORACLE_BUDDY_CHECK_H
#define SIM_ORACLE_BUDDY_CHECK_H

#include "alloc/allocator.h"

/* A free-list node as both lay it out: two pointers, next first (list_head). */
struct sim_buddy_node {
	const struct sim_buddy_node *next, *prev;
};

/* One vmemmap entry in the checker's terms. */
struct sim_buddy_meta {
	bool valid;		/* false: the PFN has no entry the checker may read */
	bool head;		/* heads a block */
	unsigned int order;	/* the block's order (heads only) */
	uint32_t refcount;	/* widened from the entry's own width */
};

/*
 * What one allocator's contract says of its pool. The largest order a
 * block may have is the allocator's a->max_order (each adapter translates
 * its own convention into it: mm/ names the largest order, the kernel
 * counts free lists).
 */
struct sim_buddy_contract {
	/* The pool's free-list heads in place, order 0 first, and how many it keeps. */
	const struct sim_buddy_node *lists;
	unsigned int nr_lists;
	/*
	 * The vmemmap entry of @pfn: the layout, the no-order value and the
	 * refcount width. @meta_ctx is the contract's own (where its entries lie).
	 */
	struct sim_buddy_meta (*meta)(const void *meta_ctx, uint64_t pfn);
	/*
	 * Optional fast path: true only if every entry of [pfn, pfn + nr) is a
	 * tail with refcount 0 (false: ask meta() entry by entry).
	 */
	bool (*tails_run)(const void *meta_ctx, uint64_t pfn, uint64_t nr);
	const void *meta_ctx;
	/*
	 * Optional: meta_ctx is a struct sim_mm_block_map (mm/'s layout) and
	 * meta() reads it as the checker may inline: the check of an op reads
	 * a dozen entries, and a call each was a fifth of its cost.
	 */
	bool meta_is_mm_map;
	/* The physical address a list pointer stands for, or UINT64_MAX if none. */
	uint64_t (*node_pa)(const struct sim_allocator *a, const void *node);
	/*
	 * The lists may hold blocks from outside the pool's range (a put of
	 * memory the pool did not hand out, accepted and never merged): such a
	 * node is checked but not counted. Otherwise every node is a pool page.
	 */
	bool outside_blocks;
	/*
	 * A free block keeps its node where mm/'s buddy keeps it, at
	 * sim_mm_buddy_node_offset() of its order (oracle/mm_layout.h);
	 * otherwise every block keeps it in its first bytes.
	 */
	bool mm_node_offsets;
	/*
	 * PFNs [untouched_start, untouched_end) of maximal blocks the pool has
	 * never listed (mm/'s buddy): free, never written, on no list. Equal
	 * for a pool that lists every free block (the kernel's).
	 */
	uint64_t untouched_start, untouched_end;
};

/* After an op: the blocks overlapping [pfn, pfn + nr) and the free blocks beside them. */
void sim_buddy_struct_touched(const struct sim_buddy_contract *c, struct sim_allocator *a,
			      const struct sim_alloc_shadow *shadow, struct sim_report *r,
			      uint64_t pfn, uint64_t nr);
/* A sweep: every page of the pool, every free list, and the shadow's counts. */
void sim_buddy_struct_full(const struct sim_buddy_contract *c, struct sim_allocator *a,
			   const struct sim_alloc_shadow *shadow, struct sim_report *r);

/* mm/'s buddy (struct hvmm_pool, read through oracle/mm_layout.h). */
void sim_buddy_check_touched(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			     struct sim_report *r, uint64_t pfn, uint64_t nr);
void sim_buddy_check_full(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			  struct sim_report *r);

/* The largest order an mm/ pool of @nr_pages may return, per the spec. */
unsigned int sim_buddy_expected_max_order(uint64_t nr_pages);

#endif /* SIM_ORACLE_BUDDY_CHECK_H */
