// SPDX-License-Identifier: MIT
/*
 * The buddy pool invariant (CN's Hyp_pool), checked from outside, for
 * every allocator a struct sim_buddy_contract describes:
 *  - every page of the range is either a block head (order set) or a tail
 *    of exactly one head's block (no order, refcount 0);
 *  - a head's block is aligned to its order, no larger than the pool's
 *    largest order and inside the pool;
 *  - free heads (refcount 0) are on the free list of their own order,
 *    exactly once, with consistent back links, and their buddy of the same
 *    order is not also free (maximal merging);
 *  - the bytes of a free block past its list node are zero (a sweep reads
 *    only the pages written since memory was last scrubbed: the others
 *    are zero by construction, sim/physmem.h's dirty pages);
 *  - an untouched range (maximal blocks the allocator has never listed,
 *    if its contract has one) is a run of whole maximal blocks inside the
 *    pool; no block and no list node lies in it, and no op hands out or
 *    frees a page of it; its pages are tails with refcount 0, zero, and
 *    free in the shadow;
 *  - ALLOC-CONSERVE: the pool's free pages are exactly the shadow's, the
 *    untouched range counted free.
 *
 * Every pointer found in the allocator's memory is validated before use,
 * so a corrupted list can be reported, not followed off a cliff.
 *
 * The contract of mm/'s buddy is at the end of this file (its pool and
 * vmemmap read through oracle/mm_layout.h); the kernel's is in
 * oracle/linux_pkvm_check.c.
 */
#include "oracle/buddy_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "oracle/mm_layout.h"
#include "recycle.h"

/* Bytes of a free block that may be non-zero: its list node. */
#define NODE_BYTES sizeof(struct sim_buddy_node)
#define PAGE_SHIFT 12
#define PAGE_SIZE (1ULL << PAGE_SHIFT)

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }
/*
 * How deep check_block() looks:
 *  FULL:      tails, shadow and every written page of free blocks (sweeps);
 *  TOUCHED:   tails and shadow of the block an op returned or freed, but
 *             only the first and last page of its contents;
 *  NEIGHBOUR: a free block an op split off or merged beside: its head,
 *             list node, buddy and shadow end pages, in O(1).
 */
enum depth { FULL, TOUCHED, NEIGHBOUR };

struct view {
	const struct sim_buddy_contract *c;
	const struct sim_allocator *a;
	const struct sim_physmem *pm;
	const struct sim_alloc_shadow *shadow;
	struct sim_report *r;
	uint64_t start, end;		/* pool PFN range */
	uint64_t ustart, uend;		/* untouched range; empty if the contract's is malformed */
	unsigned int max_order;		/* largest order of a block */
};

static void view_init(struct view *v, const struct sim_buddy_contract *c, struct sim_allocator *a,
		      const struct sim_alloc_shadow *shadow, struct sim_report *r)
{
	v->c = c;
	v->a = a;
	v->pm = a->pm;
	v->shadow = shadow;
	v->r = r;
	v->start = a->base_pfn;
	v->end = a->base_pfn + a->nr_pages;
	v->max_order = a->max_order;
	v->ustart = v->uend = v->end;
}

static bool in_pool(const struct view *v, uint64_t pfn)
{
	return pfn >= v->start && pfn < v->end;
}

/* struct hvmm_page's buddy fields, read in place where the layout unit says they are. */
static inline struct sim_buddy_meta hvmm_meta(const void *map, uint64_t pfn)
{
	struct sim_buddy_meta m = { 0 };

	m.valid = sim_mm_block_read(map, pfn, &m.order, &m.refcount);
	m.head = m.valid && m.order != SIM_MM_NO_ORDER;
	return m;
}

/* Always inlined: a call per entry read is what meta_is_mm_map is there to save. */
static inline __attribute__((always_inline))
struct sim_buddy_meta meta(const struct view *v, uint64_t pfn)
{
	if (v->c->meta_is_mm_map)
		return hvmm_meta(v->c->meta_ctx, pfn);
	return v->c->meta(v->c->meta_ctx, pfn);
}

/* A free head of order @order: what a buddy or a listed node must be. */
static bool free_head(const struct sim_buddy_meta *m, unsigned int order)
{
	return m->valid && m->head && m->order == order && !m->refcount;
}

/* "order 3" or "no order", for reports. */
static const char *order_name(const struct sim_buddy_meta *m, char *buf, size_t len)
{
	if (!m->head)
		return "no order";
	snprintf(buf, len, "order %u", m->order);
	return buf;
}

#define FAIL(v, oracle, ...) sim_report_violation((v)->r, oracle, __VA_ARGS__)

/*
 * Takes the contract's untouched range into @v if it has the shape the
 * spec gives it: whole blocks of the pool's largest order (aligned in
 * PFNs), inside the pool. Otherwise reports it and judges the pool as if
 * the range were empty, so its pages are reported as in no block too.
 */
static void view_untouched(struct view *v)
{
	uint64_t lo = v->c->untouched_start, hi = v->c->untouched_end, max = 1ULL << v->max_order;

	if (lo == hi)
		return;
	if (lo > hi || lo < v->start || hi > v->end || (lo & (max - 1)) || (hi & (max - 1))) {
		FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
		     "the pool's untouched range, pfn 0x%llx..0x%llx, is not a run of whole order-%u "
		     "blocks inside the pool 0x%llx..0x%llx",
		     (unsigned long long)lo, (unsigned long long)hi, v->max_order,
		     (unsigned long long)v->start, (unsigned long long)v->end);
		return;
	}
	v->ustart = lo;
	v->uend = hi;
}

static bool untouched(const struct view *v, uint64_t pfn)
{
	return pfn >= v->ustart && pfn < v->uend;
}

/* True if [pfn, pfn + nr) shares a page with the untouched range. */
static bool overlaps_untouched(const struct view *v, uint64_t pfn, uint64_t nr)
{
	return pfn < v->uend && v->ustart < pfn + nr;
}

/* Byte offset from its start of the node of a free block of @order. */
static uint64_t node_offset(const struct view *v, unsigned int order)
{
	return v->c->mm_node_offsets ? sim_mm_buddy_node_offset(order) : 0;
}

/*
 * PFN of the page holding a list node pointer, or UINT64_MAX if it is not
 * a place in a page the lists may hold: where a node of order 0 or 1 sits
 * in its page (which block, the list walk works out from the list's
 * order; a larger block's node is at the same place in its page).
 */
static uint64_t node_pfn(const struct view *v, const struct sim_buddy_node *node)
{
	uint64_t pa = v->c->node_pa(v->a, node);
	uint64_t off = pa & (PAGE_SIZE - 1);

	if (pa == UINT64_MAX ||
	    (off != node_offset(v, 0) % PAGE_SIZE && off != node_offset(v, 1) % PAGE_SIZE))
		return UINT64_MAX;
	if (!v->c->outside_blocks && !in_pool(v, pa >> PAGE_SHIFT))
		return UINT64_MAX;
	return pa >> PAGE_SHIFT;
}

/* The head PFN of the block of @order listed by @node, or UINT64_MAX if it is not its node's place. */
static uint64_t node_head(const struct view *v, const struct sim_buddy_node *node, unsigned int order)
{
	uint64_t at = v->c->node_pa(v->a, node) - node_offset(v, order);

	return at & (PAGE_SIZE - 1) ? UINT64_MAX : at >> PAGE_SHIFT;
}

static bool list_head_of_pool(const struct view *v, const struct sim_buddy_node *p)
{
	return p >= &v->c->lists[0] && p < &v->c->lists[v->c->nr_lists];
}

/* A pointer a list node may hold: a pool list head or a page the lists may hold. */
static bool node_ptr_valid(const struct view *v, const struct sim_buddy_node *p)
{
	return list_head_of_pool(v, p) || node_pfn(v, p) != UINT64_MAX;
}

/*
 * Checks that bytes [from, to) of the block at @pfn are zero; reports the
 * first bad byte, and @why the block must be zero.
 */
static void check_zero_why(const struct view *v, uint64_t pfn, uint64_t from, uint64_t to,
			   const char *why)
{
	const uint8_t *base = sim_physmem_pa_to_host(v->pm, pfn << PAGE_SHIFT);

	if (!base || from >= to)
		return;
	if (sim_bytes_zero(base + from, to - from))
		return;
	for (uint64_t off = from; off < to; off++) {
		if (base[off]) {
			FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
			     "free block at pfn 0x%llx: byte at offset 0x%llx is 0x%02x, expected 0 (%s)",
			     (unsigned long long)pfn, (unsigned long long)off, base[off], why);
			return;
		}
	}
}

static void check_zero(const struct view *v, uint64_t pfn, uint64_t from, uint64_t to)
{
	check_zero_why(v, pfn, from, to, "freed memory must be scrubbed");
}

/*
 * Page @i of the free block at @head, of its bytes [@lo, @hi) (all but a
 * list node at the block's start or end), as far as anything may have
 * written it: all of it if a store marked its inner lines since the last
 * scrub, else its first and last cache lines, the only ones the
 * executor's stamps write (sim/physmem.h).
 */
static void check_page_written(const struct view *v, uint64_t head, uint64_t i, uint64_t lo,
			       uint64_t hi)
{
	uint64_t start = i << PAGE_SHIFT, end = start + PAGE_SIZE;
	uint64_t from = max_u64(start, lo), to = min_u64(end, hi);

	if (sim_physmem_inner_written(v->pm, head + i)) {
		check_zero(v, head, from, to);
		return;
	}
	check_zero(v, head, from, start + SIM_PHYSMEM_LINE);
	check_zero(v, head, end - SIM_PHYSMEM_LINE, to);
}

/*
 * The contents of the free block at @head, as deep as @depth says (not
 * NEIGHBOUR): after an op its head page past the node and its last page,
 * where an owner's stamps are, as far as marked stores may have written
 * them; at a sweep the whole of every page anyone wrote, so that a byte an
 * allocator left unmarked in a page is found there. A page nobody wrote is
 * zero by construction: the allocators write only their nodes through
 * maps that mark nothing (and scrubbing covers those,
 * sim_buddy_mark_free_heads).
 */
static void check_contents(const struct view *v, uint64_t head, unsigned int order,
			   enum depth depth)
{
	uint64_t nr = 1ULL << order, bytes = nr << PAGE_SHIFT, node = node_offset(v, order);
	/* The bytes that must be zero: all but the node, at the block's start or its end. */
	uint64_t lo = node ? 0 : NODE_BYTES, hi = node ? node : bytes;

	if (depth == TOUCHED) {
		check_page_written(v, head, 0, lo, hi);
		if (nr > 1)
			check_page_written(v, head, nr - 1, lo, hi);
		return;
	}
	for (uint64_t i = 0; i < nr; i++)
		if (sim_physmem_dirty(v->pm, head + i))
			check_zero(v, head, max_u64(i << PAGE_SHIFT, lo),
				   min_u64((i + 1) << PAGE_SHIFT, hi));
}

/* The head of the block that contains @pfn, or UINT64_MAX. */
static uint64_t find_head(const struct view *v, uint64_t pfn)
{
	for (unsigned int o = 0; o < v->c->nr_lists; o++) {
		uint64_t head = pfn & ~((1ULL << o) - 1);
		struct sim_buddy_meta m;

		if (head < v->start)
			break;
		m = meta(v, head);
		if (m.valid && m.head && m.order == o)
			return head;
	}
	return UINT64_MAX;
}

/* The free-list node of a free head links to valid neighbours that link back. */
static void check_linked(const struct view *v, uint64_t pfn, unsigned int order)
{
	const struct sim_buddy_node *node =
		sim_physmem_pa_to_host(v->pm, (pfn << PAGE_SHIFT) + node_offset(v, order));

	if (!node->next || !node->prev) {
		FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
		     "free block at pfn 0x%llx order %u is on no free list (list node is empty)",
		     (unsigned long long)pfn, order);
		return;
	}
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

/* The shadow agrees with the block at @head (@nr pages, refcount @refcount). */
static void check_shadow(const struct view *v, uint64_t head, unsigned int order,
			 uint32_t refcount, enum depth depth)
{
	uint64_t nr = 1ULL << order;

	if (refcount) {
		/* Allocated: none of it may be free in the shadow. */
		for (uint64_t i = 0; depth != NEIGHBOUR && i < nr; i++) {
			if (sim_alloc_shadow_get(v->shadow, head + i) == SIM_SHADOW_FREE) {
				FAIL(v, SIM_ORACLE_ALLOC_CONSERVE,
				     "pfn 0x%llx is free in the shadow but part of the allocated block at pfn 0x%llx "
				     "(order %u, refcount %u): a free was lost",
				     (unsigned long long)(head + i), (unsigned long long)head, order, refcount);
				return;
			}
		}
		return;
	}
	if (depth == NEIGHBOUR) {
		if (sim_alloc_shadow_get(v->shadow, head) != SIM_SHADOW_FREE ||
		    sim_alloc_shadow_get(v->shadow, head + nr - 1) != SIM_SHADOW_FREE)
			FAIL(v, SIM_ORACLE_ALLOC_CONSERVE,
			     "the free block at pfn 0x%llx (order %u) holds pages the shadow says are in use",
			     (unsigned long long)head, order);
		return;
	}
	if (sim_alloc_shadow_all_free(v->shadow, head, nr))
		return;
	for (uint64_t i = 0; i < nr; i++) {
		if (sim_alloc_shadow_get(v->shadow, head + i) != SIM_SHADOW_FREE) {
			FAIL(v, SIM_ORACLE_ALLOC_CONSERVE,
			     "pfn 0x%llx is in the free block at pfn 0x%llx (order %u) but the shadow says it is in use",
			     (unsigned long long)(head + i), (unsigned long long)head, order);
			return;
		}
	}
}

/* Entries the contract's tails_run() is asked about at once. */
#define META_RUN 256

/*
 * Checks one block headed at @head: alignment, bounds, tails, and for a
 * free block its list node, maximal merging, contents and shadow, as deep
 * as @depth says.
 */
static void check_block(const struct view *v, uint64_t head, enum depth depth)
{
	struct sim_buddy_meta p = meta(v, head);
	unsigned int order = p.order;
	uint64_t nr = 1ULL << min_u64(order, 63u);

	if (order > v->max_order) {
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
	if (overlaps_untouched(v, head, nr)) {
		FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
		     "block at pfn 0x%llx of order %u overlaps the pool's untouched range 0x%llx..0x%llx "
		     "(blocks never listed hold no block)",
		     (unsigned long long)head, order, (unsigned long long)v->ustart,
		     (unsigned long long)(v->uend - 1));
		return;
	}
	for (uint64_t i = 1; depth != NEIGHBOUR && i < nr; i++) {
		struct sim_buddy_meta t;
		char buf[24];

		/*
		 * A run the contract vouches for at once is skipped: the put
		 * that merges a page back into a large free block would
		 * otherwise read every entry of the block, one call each.
		 */
		if (!((i - 1) % META_RUN) && v->c->tails_run &&
		    v->c->tails_run(v->c->meta_ctx, head + i, min_u64(META_RUN, nr - i))) {
			i += min_u64(META_RUN, nr - i) - 1;
			continue;
		}
		t = meta(v, head + i);
		if (t.head || t.refcount) {
			FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
			     "pfn 0x%llx lies inside the order-%u block at pfn 0x%llx but has %s refcount %u "
			     "(expected no order, refcount 0)",
			     (unsigned long long)(head + i), order, (unsigned long long)head,
			     order_name(&t, buf, sizeof(buf)), t.refcount);
			return;
		}
	}
	check_shadow(v, head, order, p.refcount, depth);
	if (p.refcount)
		return;
	check_linked(v, head, order);
	if (order < v->max_order) {
		uint64_t buddy = head ^ nr;
		struct sim_buddy_meta b = meta(v, buddy);

		if (in_pool(v, buddy) && free_head(&b, order))
			FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
			     "free buddies at pfn 0x%llx and 0x%llx (order %u) were not merged",
			     (unsigned long long)min_u64(head, buddy),
			     (unsigned long long)max_u64(head, buddy), order);
	}
	if (depth != NEIGHBOUR)
		check_contents(v, head, order, depth);
}

void sim_buddy_struct_touched(const struct sim_buddy_contract *c, struct sim_allocator *a,
			      const struct sim_alloc_shadow *shadow, struct sim_report *r,
			      uint64_t pfn, uint64_t nr)
{
	struct view v;
	uint64_t head, end = pfn + nr;

	view_init(&v, c, a, shadow, r);
	if (!in_pool(&v, pfn))
		return;
	if (end > v.end)
		end = v.end;
	view_untouched(&v);
	if (overlaps_untouched(&v, pfn, end - pfn)) {
		FAIL(&v, SIM_ORACLE_ALLOC_STRUCT,
		     "an op handed out or freed pfn 0x%llx..0x%llx, which overlaps the pool's untouched "
		     "range 0x%llx..0x%llx (blocks never listed are free and unused)",
		     (unsigned long long)pfn, (unsigned long long)(end - 1),
		     (unsigned long long)v.ustart, (unsigned long long)(v.uend - 1));
		return;
	}
	/* Every block overlapping the touched range. */
	for (uint64_t cur = pfn; cur < end;) {
		struct sim_buddy_meta p;

		head = find_head(&v, cur);
		if (head == UINT64_MAX) {
			FAIL(&v, SIM_ORACLE_ALLOC_STRUCT,
			     "pfn 0x%llx is in no block: no head of any order covers it",
			     (unsigned long long)cur);
			return;
		}
		p = meta(&v, head);
		if (head + (1ULL << p.order) <= cur) {
			FAIL(&v, SIM_ORACLE_ALLOC_STRUCT,
			     "pfn 0x%llx is in no block: the nearest head 0x%llx (order %u) ends before it",
			     (unsigned long long)cur, (unsigned long long)head, p.order);
			return;
		}
		check_block(&v, head, TOUCHED);
		cur = head + (1ULL << p.order);
	}
	/* Free blocks split off around it (alloc) or merged beside it (free). */
	for (unsigned int j = 0; j < v.max_order; j++) {
		uint64_t buddy = (pfn & ~((1ULL << j) - 1)) ^ (1ULL << j);
		struct sim_buddy_meta b;

		if ((1ULL << j) < nr || !in_pool(&v, buddy))
			continue;
		b = meta(&v, buddy);
		if (free_head(&b, j))
			check_block(&v, buddy, NEIGHBOUR);
	}
}

/* Walks every free list; marks listed in-pool heads in @listed and counts their pages. */
static void check_free_lists(const struct view *v, uint8_t *listed, uint64_t *free_pages)
{
	uint64_t bound = (v->end - v->start) + 2;

	for (unsigned int o = 0; o < v->c->nr_lists; o++) {
		const struct sim_buddy_node *head = &v->c->lists[o];
		const struct sim_buddy_node *prev = head, *node = head->next;
		uint64_t steps = 0;

		if (!node_ptr_valid(v, node)) {
			FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
			     "free list %u: its head links to %p, neither a pool page nor a list head",
			     o, (void *)node);
			continue;
		}
		while (node != head) {
			uint64_t pfn = node_pfn(v, node);
			struct sim_buddy_meta p;
			char buf[24];

			if (pfn == UINT64_MAX || !(p = meta(v, pfn)).valid) {
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
				     "free list %u: node %p is neither a pool page nor the list's head",
				     o, (void *)node);
				break;
			}
			pfn = node_head(v, node, o);
			if (pfn == UINT64_MAX || !(p = meta(v, pfn)).valid) {
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
				     "free list %u: node %p is not where a block of order %u keeps its node "
				     "(0x%llx bytes from its start)",
				     o, (void *)node, o, (unsigned long long)node_offset(v, o));
				break;
			}
			if (node->prev != prev) {
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
				     "free list %u: pfn 0x%llx has a back link that does not point at its predecessor",
				     o, (unsigned long long)pfn);
				break;
			}
			if (!free_head(&p, o))
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
				     "free list %u holds pfn 0x%llx, which has %s refcount %u "
				     "(expected a free head of order %u)",
				     o, (unsigned long long)pfn, order_name(&p, buf, sizeof(buf)), p.refcount, o);
			if (untouched(v, pfn))
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
				     "free list %u holds pfn 0x%llx, inside the pool's untouched range 0x%llx..0x%llx "
				     "(blocks there are never listed)",
				     o, (unsigned long long)pfn, (unsigned long long)v->ustart,
				     (unsigned long long)(v->uend - 1));
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
				     "free list %u: pfn 0x%llx links to %p, neither a pool page nor a list head",
				     o, (unsigned long long)pfn, (void *)node->next);
				break;
			}
			prev = node;
			node = node->next;
		}
	}
}

/*
 * The first page of [pfn, end) that a write marked dirty, or @end: word by
 * word over the dirty bits, only within the words that hold any, so a
 * terabyte range costs what was written.
 */
static uint64_t next_dirty(const struct sim_physmem *pm, uint64_t pfn, uint64_t end)
{
	uint64_t lo = pm->start_pfn + pm->dirty_lo * 64, hi = pm->start_pfn + pm->dirty_hi * 64;

	pfn = max_u64(pfn, lo);
	end = min_u64(end, hi);
	while (pfn < end) {
		uint64_t bit = pfn - pm->start_pfn;
		uint64_t w = __atomic_load_n(&pm->dirty[bit / 64], __ATOMIC_RELAXED) >> (bit % 64);

		if (w)
			return min_u64(pfn + __builtin_ctzll(w), end);
		pfn = (pfn | 63) + 1;
	}
	return end;
}

/* Every vmemmap entry of the untouched range is a tail with refcount 0. */
#define SPARSE_PROBE_PAGES (1ULL << 18)

static void check_untouched_meta(const struct view *v)
{
	for (uint64_t pfn = v->ustart; pfn < v->uend; pfn += META_RUN) {
		uint64_t n = min_u64(META_RUN, v->uend - pfn);

		if (v->c->tails_run && v->c->tails_run(v->c->meta_ctx, pfn, n))
			continue;
		for (uint64_t i = pfn; i < pfn + n; i++) {
			struct sim_buddy_meta t = meta(v, i);
			char buf[24];

			if (!t.valid || t.head || t.refcount) {
				FAIL(v, SIM_ORACLE_ALLOC_STRUCT,
				     "pfn 0x%llx lies in the pool's untouched range 0x%llx..0x%llx but has %s "
				     "refcount %u (expected no order, refcount 0)",
				     (unsigned long long)i, (unsigned long long)v->ustart,
				     (unsigned long long)(v->uend - 1), order_name(&t, buf, sizeof(buf)),
				     t.refcount);
				return;
			}
		}
	}
}

/*
 * The untouched range as a sweep sees it: its metadata, every page free in
 * the shadow, and every page a write marked dirty zero.
 */
static void check_untouched(const struct view *v)
{
	/*
	 * A pool spanning a terabyte has gigabytes of metadata nobody wrote:
	 * ask which of it was touched rather than read it all (nothing is
	 * written during a sweep).
	 */
	bool probe = v->uend - v->ustart >= SPARSE_PROBE_PAGES;

	if (probe)
		sim_sparse_probe_begin();
	check_untouched_meta(v);
	if (probe)
		sim_sparse_probe_end();
	if (!sim_alloc_shadow_all_free(v->shadow, v->ustart, v->uend - v->ustart)) {
		for (uint64_t i = v->ustart; i < v->uend; i++) {
			if (sim_alloc_shadow_get(v->shadow, i) != SIM_SHADOW_FREE) {
				FAIL(v, SIM_ORACLE_ALLOC_CONSERVE,
				     "pfn 0x%llx lies in the pool's untouched range 0x%llx..0x%llx but the shadow "
				     "says it is in use",
				     (unsigned long long)i, (unsigned long long)v->ustart,
				     (unsigned long long)(v->uend - 1));
				return;
			}
		}
	}
	for (uint64_t pfn = next_dirty(v->pm, v->ustart, v->uend); pfn < v->uend;
	     pfn = next_dirty(v->pm, pfn + 1, v->uend))
		check_zero_why(v, pfn, 0, PAGE_SIZE,
			       "a page of the untouched range was never handed out: it must be zero");
}

void sim_buddy_struct_full(const struct sim_buddy_contract *c, struct sim_allocator *a,
			   const struct sim_alloc_shadow *shadow, struct sim_report *r)
{
	struct view v;
	uint8_t *listed;
	uint64_t listed_free = 0, walked_free = 0, walked_used = 0;

	view_init(&v, c, a, shadow, r);
	view_untouched(&v);
	/* Recycled, not freed: a concurrent block sweeps after every op (sim/recycle.h). */
	listed = sim_recycle_get(v.end - v.start);
	check_free_lists(&v, listed, &listed_free);
	listed_free += v.uend - v.ustart;

	for (uint64_t pfn = v.start; pfn < v.end;) {
		struct sim_buddy_meta p = meta(&v, pfn);
		uint64_t nr;

		if (untouched(&v, pfn)) {
			/* Entered in its middle only past a block overlapping it (reported). */
			if (pfn == v.ustart) {
				check_untouched(&v);
				walked_free += v.uend - v.ustart;
			}
			pfn = v.uend;
			continue;
		}

		if (!p.valid || !p.head) {
			FAIL(&v, SIM_ORACLE_ALLOC_STRUCT,
			     "pfn 0x%llx is in no block: it has no order and no head before it covers it",
			     (unsigned long long)pfn);
			pfn++;
			continue;
		}
		nr = 1ULL << min_u64(p.order, 63u);
		if (p.order > v.max_order || (pfn & (nr - 1)) || pfn + nr > v.end) {
			check_block(&v, pfn, FULL);	/* reports why */
			pfn++;
			continue;
		}
		if (!p.refcount && !listed[pfn - v.start])
			FAIL(&v, SIM_ORACLE_ALLOC_STRUCT,
			     "free block at pfn 0x%llx (order %u) is on no free list",
			     (unsigned long long)pfn, p.order);
		check_block(&v, pfn, FULL);
		if (p.refcount)
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
	sim_recycle_put(listed, v.end - v.start);
}

/* --- mm/'s buddy ---------------------------------------------------------------- */

unsigned int sim_buddy_expected_max_order(uint64_t nr_pages)
{
	unsigned int order = 0;

	/* Inclusive, so that a pool of exactly 2^k pages can return all of it. */
	while (order < SIM_MM_BUDDY_MAX_ORDER && (1ULL << order) < nr_pages)
		order++;
	return order;
}

/* mm/ links free blocks by host pointers into simulated RAM (struct hvmm_list). */
_Static_assert(sizeof(struct sim_mm_list) == sizeof(struct sim_buddy_node) &&
	       offsetof(struct sim_mm_list, next) == offsetof(struct sim_buddy_node, next) &&
	       offsetof(struct sim_mm_list, prev) == offsetof(struct sim_buddy_node, prev),
	       "list nodes differ");

static uint64_t hvmm_node_pa(const struct sim_allocator *a, const void *node)
{
	return sim_physmem_host_to_pa(a->pm, node);
}

/*
 * Entries all zero are tails with refcount 0 if a zero order byte means no
 * order (mm/ boots on zeroed metadata): never touched (sim_sparse_untouched,
 * inside a probe) or compared as bytes; else entry by entry.
 */
static bool hvmm_tails_run(const void *ctx, uint64_t pfn, uint64_t nr)
{
	const struct sim_mm_block_map *map = ctx;
	const struct sim_mm_block_entry *e;
	const uint8_t *bytes;

	if (!nr)
		return true;
	if (pfn - map->start_pfn >= map->nr || nr > map->nr - (pfn - map->start_pfn))
		return false;
	e = &map->entries[pfn - map->start_pfn];
	bytes = (const uint8_t *)e;
	if (map->order_of[0] == SIM_MM_NO_ORDER &&
	    (sim_sparse_untouched(bytes, nr * sizeof(*e)) ||
	     sim_bytes_zero(bytes, nr * sizeof(*e))))
		return true;
	for (uint64_t i = 0; i < nr; i++)
		if (map->order_of[e[i].order_byte] != SIM_MM_NO_ORDER || e[i].refcount)
			return false;
	return true;
}

/*
 * mm/'s pool keeps every list 0..HVMM_BUDDY_MAX_ORDER whatever its size,
 * accepts blocks from outside its range (pKVM's put of foreign memory),
 * and lists its maximal blocks only as it needs them (its untouched range).
 * Its entries are read through @map, which must outlive the check.
 */
static void hvmm_contract(struct sim_buddy_contract *c, struct sim_mm_block_map *map,
			  const struct sim_allocator *a)
{
	sim_mm_block_map(a->vmemmap, map);
	*c = (struct sim_buddy_contract){
		.lists = (const struct sim_buddy_node *)sim_mm_pool_free_lists(a->priv),
		.nr_lists = SIM_MM_BUDDY_MAX_ORDER + 1,
		.meta = hvmm_meta,
		.tails_run = hvmm_tails_run,
		.meta_ctx = map,
		.meta_is_mm_map = true,
		.node_pa = hvmm_node_pa,
		.outside_blocks = true,
		.mm_node_offsets = true,
	};
	sim_mm_pool_untouched(a->priv, &c->untouched_start, &c->untouched_end);
}

void sim_buddy_check_touched(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			     struct sim_report *r, uint64_t pfn, uint64_t nr)
{
	struct sim_buddy_contract c;
	struct sim_mm_block_map map;

	hvmm_contract(&c, &map, a);
	sim_buddy_struct_touched(&c, a, shadow, r, pfn, nr);
}

void sim_buddy_check_full(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			  struct sim_report *r)
{
	struct sim_buddy_contract c;
	struct sim_mm_block_map map;

	hvmm_contract(&c, &map, a);
	sim_buddy_struct_full(&c, a, shadow, r);
}
