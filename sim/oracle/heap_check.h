/* SPDX-License-Identifier: MIT */
/*
 * Oracles of the byte heap (mm/heap.c): HEAP-STRUCT, HEAP-CONSERVE and
 * AVAIL, made executable from the Verus buddy allocator's proofs (every
 * allocated pointer lies in the heap and respects its alignment; the same
 * memory is never allocated twice; free lists are well formed, their
 * blocks do not overlap, and splitting and merging keep the buddy
 * relation).
 *
 * They judge the heap against two shadows kept by the executor, never
 * against the heap's own bookkeeping: the pages the heap took from the
 * page allocator (seen at the page-source boundary), and an interval set
 * of the live allocations (address and block size, from what halloc
 * returned and the block-size rule below). From those alone the free
 * blocks are determined: every byte of a chunk outside a live block is
 * free, and maximally merged buddies make the free blocks the largest
 * aligned power-of-two nodes of the chunk's buddy tree that hold no live
 * byte. The heap's free lists and metadata bytes must say exactly that.
 */
#ifndef SIM_ORACLE_HEAP_CHECK_H
#define SIM_ORACLE_HEAP_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "oracle/report.h"

struct hvmm_heap;

/* A live allocation, as the executor saw it returned. */
struct sim_heap_live {
	uintptr_t addr;
	uint64_t bytes;		/* block size by the rule, not the request */
	uint32_t h;
};

/* Pages the heap holds from the page allocator. */
struct sim_heap_holding {
	uintptr_t addr;
	uint64_t pfn, pages;
};

struct sim_heap_shadow {
	uint64_t chunk_bytes;		/* as the machine configured the heap */
	unsigned int max_chunks;
	struct sim_heap_live *live;	/* sorted by address, never overlapping */
	uint32_t nr_live, cap_live;
	uint64_t live_bytes;
	struct sim_heap_holding *held;	/* unordered */
	uint32_t nr_held, cap_held;
	uint64_t held_pages;
};

/*
 * The block a request gets, by the heap's contract (hvmm/heap.h): the
 * smallest power of two of at least the minimum block, @size and @align
 * bytes; 0 if the request must be refused (size 0, alignment not a power
 * of two or above a page, block larger than a chunk).
 */
uint64_t sim_heap_block_bytes(const struct sim_heap_shadow *s, uint64_t size, uint64_t align);

/* Addresses in reports: the physical address of a heap pointer (the pointer itself if none). */
unsigned long long sim_heap_pa(uintptr_t addr);

void sim_heap_shadow_reset(struct sim_heap_shadow *s, uint64_t chunk_bytes, unsigned int max_chunks);
void sim_heap_shadow_fini(struct sim_heap_shadow *s);

/* Records a live block; false (nothing recorded) if it overlaps one, *@other set. */
bool sim_heap_shadow_add(struct sim_heap_shadow *s, uintptr_t addr, uint64_t bytes, uint32_t h,
			 struct sim_heap_live *other);
/* Forgets the live block at @addr; false if there is none. */
bool sim_heap_shadow_remove(struct sim_heap_shadow *s, uintptr_t addr);
/* True if a live block has a byte in [addr, addr + len). */
bool sim_heap_shadow_busy(const struct sim_heap_shadow *s, uintptr_t addr, uint64_t len);

void sim_heap_shadow_hold(struct sim_heap_shadow *s, uintptr_t addr, uint64_t pfn, uint64_t pages);
/* Forgets the holding at @addr; its pages in *@pages; false if none. */
bool sim_heap_shadow_release(struct sim_heap_shadow *s, uintptr_t addr, uint64_t *pages);

/* After halloc returned @addr for @bytes (the shadow already holds it). */
void sim_heap_check_alloc(const struct hvmm_heap *heap, const struct sim_heap_shadow *s,
			  struct sim_report *r, uintptr_t addr, uint64_t bytes, uint64_t align);
/* After hfree gave back the block at @addr of @bytes (the shadow no longer holds it). */
void sim_heap_check_free(const struct hvmm_heap *heap, const struct sim_heap_shadow *s,
			 struct sim_report *r, uintptr_t addr, uint64_t bytes);
/*
 * AVAIL after a valid request for @bytes failed: no chunk may hold a free
 * aligned block of that size, and the heap must have asked the page
 * source for more (@asked) unless it holds its limit of chunks.
 */
void sim_heap_check_avail(const struct hvmm_heap *heap, const struct sim_heap_shadow *s,
			  struct sim_report *r, uint64_t bytes, bool asked);
/* After a reclaim: no chunk the heap kept is free from end to end. */
void sim_heap_check_reclaimed(const struct hvmm_heap *heap, const struct sim_heap_shadow *s,
			      struct sim_report *r);
/* Everything: chunks against holdings, free lists, accounting, metadata. */
void sim_heap_check_full(const struct hvmm_heap *heap, const struct sim_heap_shadow *s,
			 struct sim_report *r);

#endif /* SIM_ORACLE_HEAP_CHECK_H */
