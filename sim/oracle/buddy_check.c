// SPDX-License-Identifier: MIT
/*
 * The buddy pool invariant (CN's Hyp_pool), checked from outside:
 *  - every page of the range is either a block head (order set) or a tail
 *    of exactly one head's block (no order, refcount 0);
 *  - a head's block is aligned to its order and lies inside the pool;
 *  - free heads (refcount 0) are on the free list of their own order,
 *    exactly once, with consistent back links, and their buddy of the same
 *    order is not also free (maximal merging);
 *  - the bytes of a free block past its list node are zero (a sweep reads
 *    only the pages written since memory was last scrubbed: the others
 *    are zero by construction, sim/physmem.h's dirty pages);
 *  - ALLOC-CONSERVE: the pool's free pages are exactly the shadow's.
 *
 * All pointers found in mm/ memory are validated through sim/physmem
 * before use, so a corrupted list can be reported, not followed off a cliff.
 * mm/'s pool and vmemmap are read through oracle/mm_layout.h.
 */
#include "oracle/buddy_check.h"

#include <stdlib.h>
#include <string.h>

#include "oracle/mm_layout.h"

/* Bytes of a free block that may be non-zero: its list node. */
#define NODE_BYTES sizeof(struct sim_mm_list)
#define PAGE_SHIFT 12
#define PAGE_SIZE (1ULL << PAGE_SHIFT)
#define MAX_ORDER SIM_MM_BUDDY_MAX_ORDER

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }
/*
 * How deep check_block() looks:
 *  FULL:      tails, shadow and every byte of free blocks (sweeps);
 *  TOUCHED:   tails and shadow of the block an op returned or freed, but
 *             only the first and last page of its contents;
 *  NEIGHBOUR: a free block an op split off or merged beside: its head,
 *             list node, buddy and shadow end pages, in O(1).
 */
enum depth { FULL, TOUCHED, NEIGHBOUR };

unsigned int sim_buddy_expected_max_order(uint64_t nr_pages)
{
	unsigned int order = 0;

	/* Inclusive, so that a pool of exactly 2^k pages can return all of it. */
	while (order < MAX_ORDER && (1ULL << order) < nr_pages)
		order++;
	return order;
}

/* The order a vmemmap entry records (the layout unit decodes mm/'s encoding). */
#define NO_ORDER SIM_MM_NO_ORDER

static unsigned int meta_order(const struct sim_mm_page *p)
{
	return p->order;
}

struct view {
	struct sim_allocator *a;
	const struct sim_mm_list *lists;	/* the pool's free lists, order 0 first */
	const struct sim_physmem *pm;
	const struct sim_alloc_shadow *shadow;
	struct sim_report *r;
	uint64_t start, end;		/* pool PFN range */
	unsigned int max_order;
};

static void view_init(struct view *v, struct sim_allocator *a,
		      const struct sim_alloc_shadow *shadow, struct sim_report *r)
{
	v->a = a;
	v->lists = sim_mm_pool_free_lists(a->priv);
	v->pm = a->pm;
	v->shadow = shadow;
	v->r = r;
	v->start = a->base_pfn;
	v->end = a->base_pfn + a->nr_pages;
	v->max_order = a->max_order;
}

static bool in_pool(const struct view *v, uint64_t pfn)
{
	return pfn >= v->start && pfn < v->end;
}

/* The vmemmap entry of @pfn, as the simulator mapped it; .valid false if none. */
static struct sim_mm_page page_meta(const struct view *v, uint64_t pfn)
{
	return sim_mm_page(v->a->vmemmap, pfn);
}

#define FAIL(v, oracle, ...) sim_report_violation((v)->r, oracle, __VA_ARGS__)

/* PFN of a list node pointer, or UINT64_MAX if it is not a page in RAM. */
static uint64_t node_pfn(const struct view *v, const struct sim_mm_list *node)
{
	uint64_t pa = sim_physmem_host_to_pa(v->pm, node);

	if (pa == UINT64_MAX || (pa & (PAGE_SIZE - 1)))
		return UINT64_MAX;
	return pa >> PAGE_SHIFT;
}

static bool list_head_of_pool(const struct view *v, const struct sim_mm_list *p)
{
	return p >= &v->lists[0] && p <= &v->lists[MAX_ORDER];
}

/* A pointer a list node may hold: a pool list head or a page in RAM. */
static bool node_ptr_valid(const struct view *v, const struct sim_mm_list *p)
{
	return list_head_of_pool(v, p) || node_pfn(v, p) != UINT64_MAX;
}

/* Checks that bytes [from, to) of the block at @pfn are zero; reports the first bad byte. */
static void check_zero(const struct view *v, uint64_t pfn, uint64_t from, uint64_t to)
{
	const uint8_t *base = sim_physmem_pa_to_host(v->pm, pfn << PAGE_SHIFT);

	if (!base || from >= to)
		return;
	if (!base[from] && !memcmp(base + from, base + from + 1, to - from - 1))
		return;
	for (uint64_t off = from; off < to; off++) {
		if (base[off]) {
			FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
			     "free block at pfn 0x%llx: byte at offset 0x%llx is 0x%02x, expected 0 "
			     "(freed memory must be scrubbed)",
			     (unsigned long long)pfn, (unsigned long long)off, base[off]);
			return;
		}
	}
}

/* check_zero() over the pages of the free block at @head that may have been written. */
static void check_zero_dirty(const struct view *v, uint64_t head, uint64_t nr)
{
	for (uint64_t i = 0; i < nr; i++)
		if (sim_physmem_dirty(v->pm, head + i))
			check_zero(v, head, max_u64(i << PAGE_SHIFT, (uint64_t)NODE_BYTES),
				   (i + 1) << PAGE_SHIFT);
}

/* The head of the block that contains @pfn, or UINT64_MAX. */
static uint64_t find_head(const struct view *v, uint64_t pfn)
{
	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		uint64_t head = pfn & ~((1ULL << o) - 1);
		struct sim_mm_page pm = page_meta(v, head), *p = &pm;

		if (head < v->start)
			break;
		if (p->valid && meta_order(p) == o)
			return head;
	}
	return UINT64_MAX;
}

/* The free-list node of a free head links to valid neighbours that link back. */
static void check_linked(const struct view *v, uint64_t pfn, unsigned int order)
{
	const struct sim_mm_list *node = sim_physmem_pa_to_host(v->pm, pfn << PAGE_SHIFT);

	if (!node->next || !node->prev) {
		FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
		     "free block at pfn 0x%llx order %u is on no free list (list node is empty)",
		     (unsigned long long)pfn, order);
		return;
	}
	if (!node_ptr_valid(v, node->next) || !node_ptr_valid(v, node->prev)) {
		FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
		     "free block at pfn 0x%llx order %u: list links %p/%p point outside RAM and the pool",
		     (unsigned long long)pfn, order, (void *)node->next, (void *)node->prev);
		return;
	}
	if (node->next->prev != node || node->prev->next != node)
		FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
		     "free block at pfn 0x%llx order %u: neighbours do not link back to it",
		     (unsigned long long)pfn, order);
}

/*
 * Checks one block headed at @head: alignment, bounds, tails, and for a
 * free block its list node, maximal merging, contents and shadow, as deep
 * as @depth says.
 */
static void check_block(const struct view *v, uint64_t head, enum depth depth)
{
	struct sim_mm_page pm = page_meta(v, head), *p = &pm;
	unsigned int order = meta_order(p);
	uint64_t nr = 1ULL << order;

	if (order > MAX_ORDER || order > v->max_order) {
		FAIL(v, SIM_ORACLE_ALLOC_STRUCT, "pfn 0x%llx heads a block of order %u, above the pool's max order %u",
		     (unsigned long long)head, order, v->max_order);
		return;
	}
	if (head & (nr - 1)) {
		FAIL(v, SIM_ORACLE_ALLOC_STRUCT, "block at pfn 0x%llx of order %u is not aligned to its order",
		     (unsigned long long)head, order);
		return;
	}
	if (head + nr > v->end) {
		FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
		     "block at pfn 0x%llx of order %u ends at pfn 0x%llx, past the pool end 0x%llx",
		     (unsigned long long)head, order, (unsigned long long)(head + nr),
		     (unsigned long long)v->end);
		return;
	}
	for (uint64_t i = 1; depth != NEIGHBOUR && i < nr; i++) {
		struct sim_mm_page t = page_meta(v, head + i);

		if (t.order != NO_ORDER || t.refcount) {
			FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
			     "pfn 0x%llx lies inside the order-%u block at pfn 0x%llx but has order %u refcount %u "
			     "(expected no order, refcount 0)",
			     (unsigned long long)(head + i), order, (unsigned long long)head,
			     meta_order(&t), t.refcount);
			return;
		}
	}
	if (p->refcount) {
		/* Allocated: none of it may be free in the shadow. */
		for (uint64_t i = 0; depth != NEIGHBOUR && i < nr; i++) {
			if (sim_alloc_shadow_get(v->shadow, head + i) == SIM_SHADOW_FREE) {
				FAIL(v, SIM_ORACLE_ALLOC_CONSERVE,
				     "pfn 0x%llx is free in the shadow but part of the allocated block at pfn 0x%llx "
				     "(order %u, refcount %u): a free was lost",
				     (unsigned long long)(head + i), (unsigned long long)head, order, p->refcount);
				return;
			}
		}
		return;
	}
	/* Free. */
	if (depth == NEIGHBOUR) {
		if (sim_alloc_shadow_get(v->shadow, head) != SIM_SHADOW_FREE ||
		    sim_alloc_shadow_get(v->shadow, head + nr - 1) != SIM_SHADOW_FREE)
			FAIL(v, SIM_ORACLE_ALLOC_CONSERVE,
			     "the free block at pfn 0x%llx (order %u) holds pages the shadow says are in use",
			     (unsigned long long)head, order);
	} else if (!sim_alloc_shadow_all_free(v->shadow, head, nr)) {
		for (uint64_t i = 0; i < nr; i++) {
			if (sim_alloc_shadow_get(v->shadow, head + i) != SIM_SHADOW_FREE) {
				FAIL(v, SIM_ORACLE_ALLOC_CONSERVE,
				     "pfn 0x%llx is in the free block at pfn 0x%llx (order %u) but the shadow says it is in use",
				     (unsigned long long)(head + i), (unsigned long long)head, order);
				return;
			}
		}
	}
	check_linked(v, head, order);
	if (order < v->max_order) {
		uint64_t buddy = head ^ nr;
		struct sim_mm_page b = page_meta(v, buddy);

		if (in_pool(v, buddy) && b.valid && meta_order(&b) == order && !b.refcount)
			FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
			     "free buddies at pfn 0x%llx and 0x%llx (order %u) were not merged",
			     (unsigned long long)min_u64(head, buddy),
			     (unsigned long long)max_u64(head, buddy), order);
	}
	if (depth == FULL) {
		check_zero_dirty(v, head, nr);
	} else if (depth == TOUCHED) {
		/* The head page past the node, and the last page. */
		check_zero(v, head, NODE_BYTES, PAGE_SIZE);
		check_zero(v, head, max_u64((nr - 1) << PAGE_SHIFT, (uint64_t)NODE_BYTES),
			   nr << PAGE_SHIFT);
	}
}

void sim_buddy_check_touched(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			     struct sim_report *r, uint64_t pfn, uint64_t nr)
{
	struct view v;
	uint64_t head, end = pfn + nr;

	view_init(&v, a, shadow, r);
	if (!in_pool(&v, pfn))
		return;
	if (end > v.end)
		end = v.end;
	/* Every block overlapping the touched range. */
	for (uint64_t cur = pfn; cur < end;) {
		struct sim_mm_page pm, *p = &pm;

		head = find_head(&v, cur);
		if (head == UINT64_MAX) {
			FAIL(&v, SIM_ORACLE_ALLOC_STRUCT,
			     "pfn 0x%llx is in no block: no head of any order covers it",
			     (unsigned long long)cur);
			return;
		}
		pm = page_meta(&v, head);
		if (head + (1ULL << meta_order(p)) <= cur) {
			FAIL(&v, SIM_ORACLE_ALLOC_STRUCT,
			     "pfn 0x%llx is in no block: the nearest head 0x%llx (order %u) ends before it",
			     (unsigned long long)cur, (unsigned long long)head, meta_order(p));
			return;
		}
		check_block(&v, head, TOUCHED);
		cur = head + (1ULL << meta_order(p));
	}
	/* Free blocks split off around it (alloc) or merged into it (free). */
	for (unsigned int j = 0; j < v.max_order; j++) {
		uint64_t buddy = (pfn & ~((1ULL << j) - 1)) ^ (1ULL << j);
		struct sim_mm_page b = page_meta(&v, buddy);

		if ((1ULL << j) < nr || !in_pool(&v, buddy) || !b.valid)
			continue;
		if (meta_order(&b) == j && !b.refcount)
			check_block(&v, buddy, NEIGHBOUR);
	}
}

/* Walks every free list; marks listed in-pool heads in @listed. */
static void check_free_lists(const struct view *v, uint8_t *listed, uint64_t *free_pages)
{
	uint64_t bound = (v->end - v->start) + 2;

	for (unsigned int o = 0; o <= MAX_ORDER; o++) {
		const struct sim_mm_list *head = &v->lists[o];
		const struct sim_mm_list *prev = head, *node = head->next;
		uint64_t steps = 0;

		while (node != head) {
			uint64_t pfn = node_pfn(v, node);
			struct sim_mm_page pm = page_meta(v, pfn), *p = &pm;

			if (pfn == UINT64_MAX || !p->valid) {
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
				     "free list %u: node %p after pfn 0x%llx is not a page of RAM",
				     o, (void *)node, (unsigned long long)node_pfn(v, prev));
				break;
			}
			if (node->prev != prev) {
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
				     "free list %u: pfn 0x%llx has a back link that does not point at its predecessor",
				     o, (unsigned long long)pfn);
				break;
			}
			if (meta_order(p) != o || p->refcount) {
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
				     "free list %u holds pfn 0x%llx, which has order %u refcount %u "
				     "(expected a free head of order %u)",
				     o, (unsigned long long)pfn, meta_order(p),
				     p->refcount, o);
			}
			if (in_pool(v, pfn)) {
				if (listed[pfn - v->start]) {
					FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
					     "pfn 0x%llx is on the free lists more than once", (unsigned long long)pfn);
					break;
				}
				listed[pfn - v->start] = 1;
				*free_pages += 1ULL << o;
			}
			if (++steps > bound) {
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT, "free list %u does not end: it has a cycle", o);
				break;
			}
			if (!node_ptr_valid(v, node->next)) {
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
				     "free list %u: pfn 0x%llx links to %p, outside RAM and the pool",
				     o, (unsigned long long)pfn, (void *)node->next);
				break;
			}
			prev = node;
			node = node->next;
		}
	}
}

void sim_buddy_check_full(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			  struct sim_report *r)
{
	struct view v;
	uint8_t *listed;
	uint64_t listed_free = 0, walked_free = 0, walked_used = 0;

	view_init(&v, a, shadow, r);
	listed = calloc(v.end - v.start, 1);
	if (!listed)
		return;
	check_free_lists(&v, listed, &listed_free);

	for (uint64_t pfn = v.start; pfn < v.end;) {
		struct sim_mm_page pm = page_meta(&v, pfn), *p = &pm;
		uint64_t nr;

		if (meta_order(p) == NO_ORDER) {
			FAIL(&v, SIM_ORACLE_ALLOC_STRUCT,
			     "pfn 0x%llx is in no block: it has no order and no head before it covers it",
			     (unsigned long long)pfn);
			pfn++;
			continue;
		}
		nr = 1ULL << min_u64(meta_order(p), 63u);
		if (meta_order(p) > v.max_order || (pfn & (nr - 1)) || pfn + nr > v.end) {
			check_block(&v, pfn, FULL);	/* reports why */
			pfn++;
			continue;
		}
		if (!p->refcount && !listed[pfn - v.start])
			FAIL(&v, SIM_ORACLE_ALLOC_STRUCT,
			     "free block at pfn 0x%llx (order %u) is on no free list",
			     (unsigned long long)pfn, meta_order(p));
		check_block(&v, pfn, FULL);
		if (p->refcount)
			walked_used += nr;
		else
			walked_free += nr;
		pfn += nr;
	}
	if (walked_free != shadow->nr_free || listed_free != shadow->nr_free)
		FAIL(&v, SIM_ORACLE_ALLOC_CONSERVE,
		     "the pool has %llu free pages by its blocks and %llu on its free lists; the shadow has %llu",
		     (unsigned long long)walked_free, (unsigned long long)listed_free,
		     (unsigned long long)shadow->nr_free);
	if (walked_used != shadow->nr_allocated + shadow->nr_reserved)
		FAIL(&v, SIM_ORACLE_ALLOC_CONSERVE,
		     "the pool has %llu pages in use; the shadow has %llu allocated + %llu reserved",
		     (unsigned long long)walked_used, (unsigned long long)shadow->nr_allocated,
		     (unsigned long long)shadow->nr_reserved);
	free(listed);
}
