// SPDX-License-Identifier: MIT
/*
 * The CN Hyp_pool invariant on the Linux kernel's pKVM pool, checked from
 * outside through the layout in linux_pkvm_check.h:
 *  - the pool's range is the configured one and it uses as many free
 *    lists as the documented rule gives (sim_lkp_expected_lists);
 *  - every page of the range is a block head (order below the list count)
 *    or lies inside exactly one head's block with no order and refcount 0;
 *  - a head's block is aligned to its order and lies inside the range;
 *  - a free head (refcount 0) is on the free list of its order exactly
 *    once, its neighbours link back, and its buddy of the same order is
 *    not also free while a larger block could hold both;
 *  - a free block is zero past its list node;
 *  - ALLOC-CONSERVE: the pool's free pages are exactly the shadow's.
 *
 * Every pointer read from the kernel's memory is validated before use.
 */
#include "oracle/linux_pkvm_check.h"

#include <stdlib.h>
#include <string.h>

#define NODE_BYTES sizeof(struct lkp_list)

enum depth { FULL, TOUCHED, NEIGHBOUR };

unsigned int sim_lkp_expected_lists(uint64_t nr_pages)
{
	unsigned int order = 0;

	/* The order of a block of nr_pages + 1 pages, at most MAX_ORDER. */
	while (order < LKP_MAX_ORDER && (1ULL << order) < nr_pages + 1)
		order++;
	return order;
}

struct view {
	struct lkp_state *s;
	struct lkp_pool *pool;
	const struct sim_physmem *pm;
	const struct sim_alloc_shadow *shadow;
	struct sim_report *r;
	uint64_t start, end;		/* pool PFN range */
	unsigned int lists;		/* free lists in use */
};

#define FAIL(v, oracle, ...) sim_report_violation((v)->r, oracle, __VA_ARGS__)

/* False (and reported) if the pool's own fields are not what was configured. */
static bool view_init(struct view *v, struct sim_allocator *a,
		      const struct sim_alloc_shadow *shadow, struct sim_report *r)
{
	v->s = a->priv;
	v->pool = v->s->pool;
	v->pm = a->pm;
	v->shadow = shadow;
	v->r = r;
	v->start = a->base_pfn;
	v->end = a->base_pfn + a->nr_pages;
	v->lists = sim_lkp_expected_lists(a->nr_pages);
	if (v->pool->range_start != v->start << LKP_PAGE_SHIFT ||
	    v->pool->range_end != v->end << LKP_PAGE_SHIFT) {
		FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
		     "the pool's range is 0x%llx..0x%llx, configured 0x%llx..0x%llx",
		     (unsigned long long)v->pool->range_start, (unsigned long long)v->pool->range_end,
		     (unsigned long long)(v->start << LKP_PAGE_SHIFT),
		     (unsigned long long)(v->end << LKP_PAGE_SHIFT));
		return false;
	}
	if (v->pool->max_order != v->lists) {
		FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
		     "a pool of %llu pages uses %u free lists (max_order), expected %u",
		     (unsigned long long)a->nr_pages, v->pool->max_order, v->lists);
		return false;
	}
	return true;
}

static bool in_pool(const struct view *v, uint64_t pfn)
{
	return pfn >= v->start && pfn < v->end;
}

static const struct lkp_page *meta(const struct view *v, uint64_t pfn)
{
	return &v->s->vmemmap[pfn - v->start];
}

static bool is_head(const struct lkp_page *p)
{
	return p->order != LKP_NO_ORDER;
}

/* The pool PFN a list node pointer stands for (hyp VA + offset), or UINT64_MAX. */
static uint64_t node_pfn(const struct view *v, const struct lkp_list *node)
{
	uint64_t pa = (uint64_t)(uintptr_t)node + (uint64_t)v->s->physvirt_offset;

	if (pa & (LKP_PAGE_SIZE - 1) || !in_pool(v, pa >> LKP_PAGE_SHIFT))
		return UINT64_MAX;
	return pa >> LKP_PAGE_SHIFT;
}

static bool node_ptr_valid(const struct view *v, const struct lkp_list *p)
{
	return (p >= &v->pool->free_area[0] && p < &v->pool->free_area[v->lists]) ||
	       node_pfn(v, p) != UINT64_MAX;
}

static const uint8_t *page_bytes(const struct view *v, uint64_t pfn)
{
	return sim_physmem_pa_to_host(v->pm, pfn << LKP_PAGE_SHIFT);
}

/* Bytes [from, to) of the block at @head are zero; reports the first that is not. */
static void check_zero(const struct view *v, uint64_t head, uint64_t from, uint64_t to)
{
	const uint8_t *base = page_bytes(v, head);

	if (!base || from >= to)
		return;
	if (!base[from] && !memcmp(base + from, base + from + 1, to - from - 1))
		return;
	for (uint64_t off = from; off < to; off++) {
		if (base[off]) {
			FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
			     "free block at pfn 0x%llx: byte at offset 0x%llx is 0x%02x, expected 0 "
			     "(freed memory must be zeroed)",
			     (unsigned long long)head, (unsigned long long)off, base[off]);
			return;
		}
	}
}

/*
 * The head page past its node always (the kernel writes nodes through its
 * own map, which marks nothing), the other pages where anyone wrote.
 */
static void check_contents(const struct view *v, uint64_t head, uint64_t nr, enum depth depth)
{
	check_zero(v, head, NODE_BYTES, LKP_PAGE_SIZE);
	for (uint64_t i = 1; i < nr; i++) {
		if (depth == TOUCHED && i != nr - 1)
			continue;
		if (sim_physmem_dirty(v->pm, head + i))
			check_zero(v, head, i << LKP_PAGE_SHIFT, (i + 1) << LKP_PAGE_SHIFT);
	}
}

static void check_linked(const struct view *v, uint64_t pfn, unsigned int order)
{
	const struct lkp_list *node = (const void *)page_bytes(v, pfn);

	if (!node_ptr_valid(v, node->next) || !node_ptr_valid(v, node->prev)) {
		FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
		     "free block at pfn 0x%llx order %u: list links %p/%p are neither pool pages nor list heads",
		     (unsigned long long)pfn, order, (void *)node->next, (void *)node->prev);
		return;
	}
	if (node->next->prev != node || node->prev->next != node)
		FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
		     "free block at pfn 0x%llx order %u: neighbours do not link back to it",
		     (unsigned long long)pfn, order);
}

/* The shadow agrees with the block at @head being free (or allocated). */
static void check_shadow(const struct view *v, uint64_t head, uint64_t nr, bool free,
			 enum depth depth)
{
	if (depth == NEIGHBOUR) {
		if (free && (sim_alloc_shadow_get(v->shadow, head) != SIM_SHADOW_FREE ||
			     sim_alloc_shadow_get(v->shadow, head + nr - 1) != SIM_SHADOW_FREE))
			FAIL(v, SIM_ORACLE_ALLOC_CONSERVE,
			     "the free block at pfn 0x%llx (%llu pages) holds pages the shadow says are in use",
			     (unsigned long long)head, (unsigned long long)nr);
		return;
	}
	if (free && sim_alloc_shadow_all_free(v->shadow, head, nr))
		return;
	for (uint64_t i = 0; i < nr; i++) {
		bool shadow_free = sim_alloc_shadow_get(v->shadow, head + i) == SIM_SHADOW_FREE;

		if (shadow_free != free) {
			FAIL(v, SIM_ORACLE_ALLOC_CONSERVE,
			     free ? "pfn 0x%llx is in the free block at pfn 0x%llx but the shadow says it is in use" :
				    "pfn 0x%llx is free in the shadow but part of the allocated block at pfn 0x%llx: a free was lost",
			     (unsigned long long)(head + i), (unsigned long long)head);
			return;
		}
	}
}

static void check_block(const struct view *v, uint64_t head, enum depth depth)
{
	const struct lkp_page *p = meta(v, head);
	unsigned int order = p->order;
	uint64_t nr = 1ULL << (order < 64 ? order : 63);

	if (order >= v->lists) {
		FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
		     "pfn 0x%llx heads a block of order %u; the pool's lists end at order %u",
		     (unsigned long long)head, order, v->lists - 1);
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
		const struct lkp_page *t = meta(v, head + i);

		if (is_head(t) || t->refcount) {
			FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
			     "pfn 0x%llx lies inside the order-%u block at pfn 0x%llx but has order 0x%x refcount %u "
			     "(expected no order, refcount 0)",
			     (unsigned long long)(head + i), order, (unsigned long long)head,
			     t->order, t->refcount);
			return;
		}
	}
	check_shadow(v, head, nr, !p->refcount, depth);
	if (p->refcount)
		return;
	check_linked(v, head, order);
	if (order + 1 < v->lists) {
		uint64_t buddy = head ^ nr;

		if (in_pool(v, buddy) && meta(v, buddy)->order == order && !meta(v, buddy)->refcount)
			FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
			     "free buddies at pfn 0x%llx and 0x%llx (order %u) were not merged",
			     (unsigned long long)(head < buddy ? head : buddy),
			     (unsigned long long)(head < buddy ? buddy : head), order);
	}
	if (depth != NEIGHBOUR)
		check_contents(v, head, nr, depth);
}

/* The head of the block that holds @pfn, or UINT64_MAX. */
static uint64_t find_head(const struct view *v, uint64_t pfn)
{
	for (unsigned int o = 0; o < v->lists; o++) {
		uint64_t head = pfn & ~((1ULL << o) - 1);

		if (head < v->start)
			break;
		if (meta(v, head)->order == o)
			return head;
	}
	return UINT64_MAX;
}

void sim_lkp_check_touched(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			   struct sim_report *r, uint64_t pfn, uint64_t nr)
{
	struct view v;
	uint64_t end = pfn + nr;

	if (!view_init(&v, a, shadow, r) || !in_pool(&v, pfn))
		return;
	if (end > v.end)
		end = v.end;
	for (uint64_t cur = pfn; cur < end;) {
		uint64_t head = find_head(&v, cur);

		if (head == UINT64_MAX) {
			FAIL(&v, SIM_ORACLE_ALLOC_STRUCT,
			     "pfn 0x%llx is in no block: no head of any order covers it",
			     (unsigned long long)cur);
			return;
		}
		check_block(&v, head, TOUCHED);
		cur = head + (1ULL << meta(&v, head)->order);
	}
	/* Free blocks split off around it (alloc) or merged beside it (free). */
	for (unsigned int j = 0; j + 1 < v.lists; j++) {
		uint64_t buddy = (pfn & ~((1ULL << j) - 1)) ^ (1ULL << j);

		if ((1ULL << j) < nr || !in_pool(&v, buddy))
			continue;
		if (meta(&v, buddy)->order == j && !meta(&v, buddy)->refcount)
			check_block(&v, buddy, NEIGHBOUR);
	}
}

/* Walks the free lists in use; marks listed heads in @listed and counts their pages. */
static void check_free_lists(const struct view *v, uint8_t *listed, uint64_t *free_pages)
{
	uint64_t bound = (v->end - v->start) + 2;

	for (unsigned int o = 0; o < v->lists; o++) {
		const struct lkp_list *head = &v->pool->free_area[o];
		const struct lkp_list *prev = head, *node = head->next;
		uint64_t steps = 0;

		if (!node_ptr_valid(v, node)) {
			FAIL(v, SIM_ORACLE_ALLOC_STRUCT, "free list %u: its head links to %p, not a pool page",
			     o, (void *)node);
			continue;
		}
		while (node != head) {
			uint64_t pfn = node_pfn(v, node);

			if (pfn == UINT64_MAX) {
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
				     "free list %u: node %p is neither a pool page nor the list's head", o, (void *)node);
				break;
			}
			if (node->prev != prev) {
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
				     "free list %u: pfn 0x%llx has a back link that does not point at its predecessor",
				     o, (unsigned long long)pfn);
				break;
			}
			if (meta(v, pfn)->order != o || meta(v, pfn)->refcount)
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
				     "free list %u holds pfn 0x%llx, which has order 0x%x refcount %u "
				     "(expected a free head of order %u)",
				     o, (unsigned long long)pfn, meta(v, pfn)->order, meta(v, pfn)->refcount, o);
			if (listed[pfn - v->start]) {
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
				     "pfn 0x%llx is on the free lists more than once", (unsigned long long)pfn);
				break;
			}
			listed[pfn - v->start] = 1;
			*free_pages += 1ULL << o;
			if (++steps > bound) {
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT, "free list %u does not end: it has a cycle", o);
				break;
			}
			if (!node_ptr_valid(v, node->next)) {
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
				     "free list %u: pfn 0x%llx links to %p, neither a pool page nor a list head",
				     o, (unsigned long long)pfn, (void *)node->next);
				break;
			}
			prev = node;
			node = node->next;
		}
	}
}

void sim_lkp_check_full(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			struct sim_report *r)
{
	struct view v;
	uint8_t *listed;
	uint64_t listed_free = 0, walked_free = 0, walked_used = 0;

	if (!view_init(&v, a, shadow, r))
		return;
	listed = calloc(v.end - v.start, 1);
	if (!listed)
		return;
	check_free_lists(&v, listed, &listed_free);
	for (uint64_t pfn = v.start; pfn < v.end;) {
		const struct lkp_page *p = meta(&v, pfn);
		uint64_t nr;

		if (!is_head(p)) {
			FAIL(&v, SIM_ORACLE_ALLOC_STRUCT,
			     "pfn 0x%llx is in no block: it has no order and no head before it covers it",
			     (unsigned long long)pfn);
			pfn++;
			continue;
		}
		nr = 1ULL << (p->order < 64 ? p->order : 63);
		if (p->order >= v.lists || (pfn & (nr - 1)) || pfn + nr > v.end) {
			check_block(&v, pfn, FULL);	/* reports why */
			pfn++;
			continue;
		}
		if (!p->refcount && !listed[pfn - v.start])
			FAIL(&v, SIM_ORACLE_ALLOC_STRUCT, "free block at pfn 0x%llx (order %u) is on no free list",
			     (unsigned long long)pfn, p->order);
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
