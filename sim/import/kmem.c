// SPDX-License-Identifier: MIT
/*
 * Following pages across kmem events by the kernel's rules
 * (include/trace/events/kmem.h, mm/page_alloc.c of 4.x to 6.1):
 *
 * - mm_page_alloc is the allocation a caller sees: the alloc op. A pfn of
 *   -1UL (or a NULL page) is an allocation that failed: an alloc op that
 *   expects ENOMEM, on a handle of its own that nothing frees.
 * - mm_page_alloc_zone_locked is __rmqueue_smallest() handing a block out
 *   under the zone lock. With percpu_refill=1 (or, on kernels that do not
 *   print it, order 0: rmqueue_bulk() was the only order-0 path) it fills a
 *   per-CPU list, and the page reaches a caller, if ever, as a later
 *   mm_page_alloc; otherwise it precedes the mm_page_alloc of the same
 *   block. Either way it is not an allocation: counted, no op.
 * - free_unref_page_list() traces mm_page_free and then
 *   mm_page_free_batched for the same page (6.1); 4.x traced
 *   mm_page_free_batched first. The two events of one page are one free.
 * - A trace starts mid-run: a free of a page not allocated in it is a free
 *   of a page allocated before tracing began; an allocation of a pfn
 *   thought live means its free was not traced (another CPU's stream). In
 *   strict mode those are errors; otherwise they are counted, and a
 *   re-allocation frees the stale handle first.
 * - split_page() turns a live block of order k into 2^k order-0 pages that
 *   are freed one by one (alloc_pages_exact() frees its tail so), and
 *   __free_pages() of a block whose first page someone else still holds
 *   frees the rest as aligned sub-blocks of orders k-1 .. 0. Neither traces
 *   the split: it shows as a free of an aligned sub-block inside a live
 *   block (or spanning pages already split). The block is split into
 *   order-0 pages (a split op) and the free takes the pages it names.
 * - A free whose order is not the live block's (and is no split), a free
 *   inside a larger live block that no split explains, and an order beyond
 *   MAX_ORDER are reported with their line (errors in strict mode); a
 *   mismatched free frees the live block, an unexplained free inside one is
 *   not applied.
 *
 * Page identity is the pfn, or, for events that carry only a struct page
 * pointer, the pointer itself: no assumption about sizeof(struct page) can
 * merge two pages. That size is still worked out from the trace (page and
 * pfn printed together, else the greatest common divisor of the distances
 * between pointers) and reported; blocks of pointer-keyed pages span
 * 2^order times that size.
 */
#include <stdlib.h>
#include <string.h>

#include <hvmm/types.h>

#include "import/kmem.h"

enum slot_state {
	SLOT_EMPTY,
	SLOT_LIVE,		/* a block allocated in the trace, under handle h */
	SLOT_FREED_BY_FREE,	/* last freed by mm_page_free: a batched event may follow */
	SLOT_FREED_BY_BATCHED,	/* last freed by mm_page_free_batched: mm_page_free may follow */
	SLOT_FREED,		/* freed, both events seen */
};

struct slot {
	uint64_t pfn;
	uint64_t line;		/* where it was allocated or freed */
	uint32_t h;
	uint8_t order;
	uint8_t state;
};

struct kmem_import {
	struct sim_trace_writer *w;
	bool strict;
	struct kmem_counts c;
	struct slot *tab;
	uint64_t cap, used;	/* cap is a power of two */
	uint64_t live_blocks;
	uint32_t *free_handles;
	uint32_t nr_free, cap_free, next_handle;
	/* struct page size: page/pfn pairs, else the gcd of pointer distances */
	bool have_pair, have_ptr;
	uint64_t pair_page, pair_pfn, first_ptr, ptr_gcd;
};

static uint64_t hash(uint64_t pfn)
{
	pfn ^= pfn >> 33;
	pfn *= 0xff51afd7ed558ccdULL;
	return pfn ^ (pfn >> 33);
}

static struct slot *lookup(struct kmem_import *im, uint64_t pfn)
{
	for (uint64_t i = hash(pfn) & (im->cap - 1); ; i = (i + 1) & (im->cap - 1)) {
		if (im->tab[i].state == SLOT_EMPTY)
			return NULL;
		if (im->tab[i].pfn == pfn)
			return &im->tab[i];
	}
}

static int rehash(struct kmem_import *im, uint64_t cap)
{
	struct slot *old = im->tab;
	uint64_t old_cap = im->cap;

	im->tab = calloc(cap, sizeof(*im->tab));
	if (!im->tab) {
		im->tab = old;
		return -1;
	}
	im->cap = cap;
	for (uint64_t i = 0; i < old_cap; i++) {
		uint64_t j;

		if (old[i].state == SLOT_EMPTY)
			continue;
		for (j = hash(old[i].pfn) & (cap - 1); im->tab[j].state != SLOT_EMPTY;
		     j = (j + 1) & (cap - 1))
			;
		im->tab[j] = old[i];
	}
	free(old);
	return 0;
}

/* The slot of @pfn, created empty-handed (state set by the caller) if absent. */
static struct slot *slot_for(struct kmem_import *im, uint64_t pfn)
{
	struct slot *s = lookup(im, pfn);
	uint64_t i;

	if (s)
		return s;
	if ((im->used + 1) * 2 > im->cap && rehash(im, im->cap * 2))
		return NULL;
	for (i = hash(pfn) & (im->cap - 1); im->tab[i].state != SLOT_EMPTY; i = (i + 1) & (im->cap - 1))
		;
	im->used++;
	im->tab[i].pfn = pfn;
	return &im->tab[i];
}

struct kmem_import *kmem_import_create(struct sim_trace_writer *w, bool strict)
{
	struct kmem_import *im = calloc(1, sizeof(*im));

	if (!im)
		return NULL;
	im->w = w;
	im->strict = strict;
	im->next_handle = 1;
	if (rehash(im, 1024)) {
		free(im);
		return NULL;
	}
	return im;
}

void kmem_import_destroy(struct kmem_import *im)
{
	if (!im)
		return;
	free(im->tab);
	free(im->free_handles);
	free(im);
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

const struct kmem_counts *kmem_import_counts(struct kmem_import *im)
{
	im->c.never_freed = im->live_blocks;
	im->c.never_freed_pages = im->c.live_pages;
	if (im->have_ptr && im->ptr_gcd)
		im->c.page_size = im->ptr_gcd;
	return &im->c;
}

/* Learns sizeof(struct page) from what the event shows. */
static void learn_page_size(struct kmem_import *im, const struct kmem_event *ev)
{
	if (ev->has_page && !ev->by_pointer && ev->page) {
		if (!im->have_pair) {
			im->have_pair = true;
			im->pair_page = ev->page;
			im->pair_pfn = ev->pfn;
		} else if (!im->c.page_size && ev->pfn != im->pair_pfn) {
			uint64_t dp = ev->page - im->pair_page, dn = ev->pfn - im->pair_pfn;

			/* Hashed %p values (ftrace since 4.15) give no size. */
			if (dp % dn == 0 && dp / dn >= 16 && dp / dn <= 1024) {
				im->c.page_size = dp / dn;
				im->c.page_size_from_pfn = true;
			}
		}
	}
	if (ev->by_pointer && !im->c.page_size_from_pfn) {
		if (!im->have_ptr) {
			im->have_ptr = true;
			im->first_ptr = ev->pfn;
		} else {
			uint64_t d = ev->pfn > im->first_ptr ? ev->pfn - im->first_ptr :
							      im->first_ptr - ev->pfn;

			im->ptr_gcd = gcd(im->ptr_gcd, d);
		}
	}
}

static uint32_t take_handle(struct kmem_import *im)
{
	return im->nr_free ? im->free_handles[--im->nr_free] : im->next_handle++;
}

static int give_handle(struct kmem_import *im, uint32_t h)
{
	if (im->nr_free == im->cap_free) {
		uint32_t cap = im->cap_free ? im->cap_free * 2 : 256;
		uint32_t *n = realloc(im->free_handles, cap * sizeof(*n));

		if (!n)
			return -1;
		im->free_handles = n;
		im->cap_free = cap;
	}
	im->free_handles[im->nr_free++] = h;
	return 0;
}

static int emit_alloc(struct kmem_import *im, struct slot *s, unsigned int order, uint64_t line)
{
	struct sim_op op = { .kind = SIM_OP_ALLOC, .a = order };

	if (im->next_handle >= SIM_MAX_HANDLE && !im->nr_free)
		return -1;
	op.h = s->h = take_handle(im);
	s->order = (uint8_t)order;
	s->state = SLOT_LIVE;
	s->line = line;
	im->c.allocs++;
	im->live_blocks++;
	im->c.live_pages += 1ULL << order;
	if (im->c.live_pages > im->c.peak_pages)
		im->c.peak_pages = im->c.live_pages;
	return sim_trace_write_op(im->w, &op);
}

static int emit_free(struct kmem_import *im, struct slot *s, enum slot_state freed_by,
		     uint64_t line)
{
	struct sim_op op = { .kind = SIM_OP_FREE, .h = s->h };

	im->c.free_ops++;
	im->live_blocks--;
	im->c.live_pages -= 1ULL << s->order;
	s->state = (uint8_t)freed_by;
	s->line = line;
	if (give_handle(im, s->h))
		return -1;
	return sim_trace_write_op(im->w, &op);
}

/* A failed allocation: its own handle, never given back, expecting ENOMEM. */
static int emit_failed_alloc(struct kmem_import *im, unsigned int order)
{
	struct sim_op op = { .kind = SIM_OP_ALLOC, .a = order };

	if (im->next_handle >= SIM_MAX_HANDLE)
		return -1;
	op.h = im->next_handle++;
	sim_trace_set_outcome(&op, -HVMM_ENOMEM);
	im->c.failed_allocs++;
	return sim_trace_write_op(im->w, &op);
}

/* The live block of order > 0 that contains @pfn without starting at it, if any. */
static struct slot *live_block_around(struct kmem_import *im, uint64_t pfn)
{
	for (unsigned int order = 1; order < 64 && order <= KMEM_MAX_ORDER + 2; order++) {
		uint64_t base = pfn & ~((1ULL << order) - 1);
		struct slot *s;

		if (base == pfn)
			continue;
		s = lookup(im, base);
		if (s && s->state == SLOT_LIVE && s->order >= order)
			return s;
	}
	return NULL;
}

/*
 * split_page() on the live block @s: page 0 keeps its handle, pages 1..
 * get fresh consecutive ones, all of order 0. Returns the slot of page 0
 * (the table may have moved), or NULL if out of handles or memory.
 */
static struct slot *split_block(struct kmem_import *im, struct slot *s)
{
	struct sim_op op = { .kind = SIM_OP_SPLIT, .h = s->h };
	uint64_t base = s->pfn, line = s->line, nr = 1ULL << s->order;

	if (im->next_handle >= SIM_MAX_HANDLE || SIM_MAX_HANDLE - im->next_handle < nr - 1)
		return NULL;
	op.h2 = im->next_handle;
	im->next_handle += (uint32_t)(nr - 1);
	s->order = 0;
	for (uint64_t i = 1; i < nr; i++) {
		struct slot *t = slot_for(im, base + i);

		if (!t)
			return NULL;
		*t = (struct slot){ .pfn = base + i, .line = line, .h = op.h2 + (uint32_t)(i - 1),
				    .order = 0, .state = SLOT_LIVE };
	}
	im->live_blocks += nr - 1;
	im->c.splits++;
	im->c.split_handles += nr - 1;
	if (sim_trace_write_op(im->w, &op))
		return NULL;
	return lookup(im, base);
}

/* True if every page of [@pfn, @pfn + @nr) is a live order-0 page (of a split block). */
static bool split_pages_live(struct kmem_import *im, uint64_t pfn, uint64_t nr)
{
	for (uint64_t i = 0; i < nr; i++) {
		struct slot *t = lookup(im, pfn + i);

		if (!t || t->state != SLOT_LIVE || t->order != 0)
			return false;
	}
	return true;
}

/* Frees the order-0 pages [@pfn, @pfn + @nr) of a split block, one free op each. */
static int free_split_pages(struct kmem_import *im, uint64_t pfn, uint64_t nr,
			    enum slot_state by, uint64_t line)
{
	im->c.split_frees++;
	im->c.split_free_ops += nr;
	for (uint64_t i = 0; i < nr; i++)
		if (emit_free(im, lookup(im, pfn + i), by, line))
			return -2;
	return 0;
}

/*
 * A free of the aligned block [@pfn, 2^@order) inside the live block
 * @around: split_page() or __free_pages() split it. 1 if applied so, 0 if
 * the free does not fit in it (unaligned, or sticking out), -2 on no room.
 */
static int free_inside(struct kmem_import *im, struct slot *around, uint64_t pfn,
		       unsigned int order, enum slot_state by, uint64_t line)
{
	uint64_t nr = 1ULL << order, end = around->pfn + (1ULL << around->order);

	if (order >= 64 || (pfn & (nr - 1)) || pfn + nr > end)
		return 0;
	if (!split_block(im, around))
		return -2;
	return free_split_pages(im, pfn, nr, by, line) ? -2 : 1;
}

/* 1 with a warning in @msg, or -1 with it as an error in strict mode. */
static int inconsistent(struct kmem_import *im)
{
	return im->strict ? -1 : 1;
}

static int on_alloc(struct kmem_import *im, const struct kmem_event *ev, uint64_t line,
		    char *msg, size_t msglen)
{
	struct slot *s;
	int ret = 0;

	if (ev->failed)
		return emit_failed_alloc(im, ev->order) ? -2 : 0;
	s = slot_for(im, ev->pfn);
	if (!s)
		return -2;
	if (s->state == SLOT_LIVE) {
		im->c.reallocs++;
		if (im->strict) {
			snprintf(msg, msglen, "allocation of pfn %s, already allocated at line %llu "
				 "and not freed in this trace (without --strict its free counts as "
				 "untraced)", ev->pfn_text, (unsigned long long)s->line);
			return -1;
		}
		if (emit_free(im, s, SLOT_FREED_BY_FREE, line))
			return -2;
	}
	return emit_alloc(im, s, ev->order, line) ? -2 : ret;
}

static int on_free(struct kmem_import *im, const struct kmem_event *ev, uint64_t line,
		   char *msg, size_t msglen)
{
	enum slot_state by = ev->kind == KMEM_FREE ? SLOT_FREED_BY_FREE : SLOT_FREED_BY_BATCHED;
	enum slot_state other = by == SLOT_FREED_BY_FREE ? SLOT_FREED_BY_BATCHED : SLOT_FREED_BY_FREE;
	unsigned int order = ev->kind == KMEM_FREE ? ev->order : 0;
	struct slot *s = lookup(im, ev->pfn), *around;
	int ret = 0;

	if (s && s->state == other) {
		/* The other event of the same free (free_unref_page_list()). */
		im->c.frees_paired++;
		s->state = SLOT_FREED;	/* a third event for this page is a free of its own */
		s->line = line;
		return 0;
	}
	if (s && s->state == SLOT_LIVE && s->order == 0 && order > 0 && order < 64 &&
	    !(ev->pfn & ((1ULL << order) - 1)) && split_pages_live(im, ev->pfn, 1ULL << order))
		/* __free_pages() of a tail sub-block, its pages already split. */
		return free_split_pages(im, ev->pfn, 1ULL << order, by, line);
	if (s && s->state == SLOT_LIVE && order < s->order) {
		/* The first pages of a block split by split_page(). */
		ret = free_inside(im, s, ev->pfn, order, by, line);
		if (ret)
			return ret < 0 ? ret : 0;
	}
	if (s && s->state == SLOT_LIVE) {
		im->c.frees_matched++;
		if (s->order != order) {
			im->c.order_mismatches++;
			snprintf(msg, msglen, "free of pfn %s with order %u; it was allocated with "
				 "order %u at line %llu", ev->pfn_text, order, s->order,
				 (unsigned long long)s->line);
			ret = inconsistent(im);
			if (ret < 0)
				return ret;
		}
		return emit_free(im, s, by, line) ? -2 : ret;
	}
	around = ev->by_pointer ? NULL : live_block_around(im, ev->pfn);
	if (around) {
		ret = free_inside(im, around, ev->pfn, order, by, line);
		if (ret)
			return ret < 0 ? ret : 0;
		im->c.inside_frees++;
		snprintf(msg, msglen, "free of pfn %s inside the order-%u block at pfn 0x%llx "
			 "allocated at line %llu (not applied)", ev->pfn_text, around->order,
			 (unsigned long long)around->pfn, (unsigned long long)around->line);
		return inconsistent(im);
	}
	im->c.frees_before++;
	if (im->strict) {
		snprintf(msg, msglen, "free of pfn %s, never allocated in this trace (without "
			 "--strict it counts as a page allocated before tracing began)", ev->pfn_text);
		return -1;
	}
	s = slot_for(im, ev->pfn);
	if (!s)
		return -2;
	s->state = (uint8_t)by;
	s->line = line;
	return 0;
}

int kmem_import_event(struct kmem_import *im, const struct kmem_event *ev, uint64_t line,
		      char *msg, size_t msglen)
{
	char why[256] = "";
	int ret = 0, ret2;

	im->c.events[ev->kind]++;
	if (ev->kind == KMEM_OTHER)
		return 0;
	learn_page_size(im, ev);
	if (ev->kind != KMEM_FREE_BATCHED && ev->order >= KMEM_MAX_ORDER) {
		im->c.big_orders++;
		snprintf(msg, msglen, "order %u, beyond the kernel's MAX_ORDER %d (orders 0..%d)",
			 ev->order, KMEM_MAX_ORDER, KMEM_MAX_ORDER - 1);
		ret = inconsistent(im);
		if (ret < 0)
			return ret;
	}
	switch (ev->kind) {
	case KMEM_ALLOC_ZONE_LOCKED:
		if (ev->percpu_refill == 1 || (ev->percpu_refill < 0 && ev->order == 0))
			im->c.pcp_refills++;
		else
			im->c.zone_direct++;
		return ret;
	case KMEM_ALLOC:
		ret2 = on_alloc(im, ev, line, why, sizeof(why));
		break;
	default:
		ret2 = on_free(im, ev, line, why, sizeof(why));
		break;
	}
	if (ret2 == -2) {
		snprintf(msg, msglen, "room for the output (out of memory or disk, or more than "
			 "%u live handles)", SIM_MAX_HANDLE);
		return -1;
	}
	if (ret2 && ret) {
		size_t n = strlen(msg);

		snprintf(msg + n, msglen - n, "; %s", why);
	} else if (ret2) {
		snprintf(msg, msglen, "%s", why);
	}
	return ret2 < 0 ? -1 : (ret || ret2);
}
