// SPDX-License-Identifier: MIT
/*
 * Following pages across kmem events. A block is live from its allocation
 * to its free, under one symbolic handle. mm_page_alloc_zone_locked is the
 * buddy handing pages to a per-CPU list (or straight to a caller): the
 * block leaves the allocator there, so that is the alloc op, and the
 * mm_page_alloc that later gives the same page to a caller is a hand-over
 * inside the kernel, not a second allocation.
 *
 * A real trace starts mid-run: a free of a page never seen allocated, or an
 * allocation of a page thought live (its free happened on an untraced CPU),
 * is pre-existing state. In pre-existing mode those are counted and
 * skipped (a re-allocation frees the stale handle first if the order
 * differs); otherwise they are errors.
 */
#include <stdlib.h>
#include <string.h>

#include "import/kmem.h"

struct block {
	uint64_t pfn;		/* key; UINT64_MAX: empty slot */
	uint32_t h;
	uint8_t order;
	uint8_t pcp;		/* taken by zone_locked, not yet given to a caller */
};

struct kmem_import {
	struct sim_trace_writer *w;
	bool pre_existing;
	struct kmem_counts c;
	struct block *tab;
	uint64_t cap, used;	/* cap is a power of two */
	uint32_t *free_handles;
	uint32_t nr_free, cap_free, next_handle;
};

static uint64_t hash(uint64_t pfn)
{
	pfn ^= pfn >> 33;
	pfn *= 0xff51afd7ed558ccdULL;
	return pfn ^ (pfn >> 33);
}

static struct block *lookup(struct kmem_import *im, uint64_t pfn)
{
	for (uint64_t i = hash(pfn) & (im->cap - 1); ; i = (i + 1) & (im->cap - 1)) {
		if (im->tab[i].pfn == pfn)
			return &im->tab[i];
		if (im->tab[i].pfn == UINT64_MAX)
			return NULL;
	}
}

static int rehash(struct kmem_import *im, uint64_t cap)
{
	struct block *old = im->tab;
	uint64_t old_cap = im->cap;

	im->tab = malloc(cap * sizeof(*im->tab));
	if (!im->tab) {
		im->tab = old;
		return -1;
	}
	memset(im->tab, 0xff, cap * sizeof(*im->tab));
	im->cap = cap;
	for (uint64_t i = 0; i < old_cap; i++) {
		uint64_t j;

		if (old[i].pfn == UINT64_MAX)
			continue;
		for (j = hash(old[i].pfn) & (cap - 1); im->tab[j].pfn != UINT64_MAX; j = (j + 1) & (cap - 1))
			;
		im->tab[j] = old[i];
	}
	free(old);
	return 0;
}

static struct block *insert(struct kmem_import *im, uint64_t pfn)
{
	uint64_t i;

	if ((im->used + 1) * 2 > im->cap && rehash(im, im->cap * 2))
		return NULL;
	for (i = hash(pfn) & (im->cap - 1); im->tab[i].pfn != UINT64_MAX; i = (i + 1) & (im->cap - 1))
		;
	im->used++;
	im->tab[i].pfn = pfn;
	return &im->tab[i];
}

/* Linear-probing delete: shift later entries of the cluster back. */
static void erase(struct kmem_import *im, struct block *b)
{
	uint64_t i = (uint64_t)(b - im->tab), j = i;

	for (;;) {
		uint64_t k;

		im->tab[i].pfn = UINT64_MAX;
		for (;;) {
			j = (j + 1) & (im->cap - 1);
			if (im->tab[j].pfn == UINT64_MAX) {
				im->used--;
				return;
			}
			k = hash(im->tab[j].pfn) & (im->cap - 1);
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			break;
		}
		im->tab[i] = im->tab[j];
		i = j;
	}
}

struct kmem_import *kmem_import_create(struct sim_trace_writer *w, bool pre_existing)
{
	struct kmem_import *im = calloc(1, sizeof(*im));

	if (!im)
		return NULL;
	im->w = w;
	im->pre_existing = pre_existing;
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

const struct kmem_counts *kmem_import_counts(struct kmem_import *im)
{
	im->c.never_freed = im->used;
	return &im->c;
}

static uint32_t take_handle(struct kmem_import *im)
{
	return im->nr_free ? im->free_handles[--im->nr_free] : im->next_handle++;
}

static void give_handle(struct kmem_import *im, uint32_t h)
{
	if (im->nr_free == im->cap_free) {
		uint32_t cap = im->cap_free ? im->cap_free * 2 : 256;
		uint32_t *n = realloc(im->free_handles, cap * sizeof(*n));

		if (!n)
			return;
		im->free_handles = n;
		im->cap_free = cap;
	}
	im->free_handles[im->nr_free++] = h;
}

static int emit_alloc(struct kmem_import *im, uint64_t pfn, unsigned int order, bool pcp)
{
	struct block *b = insert(im, pfn);
	struct sim_op op = { .kind = SIM_OP_ALLOC, .a = order };

	if (!b)
		return -1;
	op.h = b->h = take_handle(im);
	b->order = (uint8_t)order;
	b->pcp = pcp;
	im->c.allocs++;
	im->c.live_pages += 1ULL << order;
	if (im->c.live_pages > im->c.peak_pages)
		im->c.peak_pages = im->c.live_pages;
	return sim_trace_write_op(im->w, &op);
}

static int emit_free(struct kmem_import *im, struct block *b)
{
	struct sim_op op = { .kind = SIM_OP_FREE, .h = b->h };

	im->c.frees++;
	im->c.live_pages -= 1ULL << b->order;
	give_handle(im, b->h);
	erase(im, b);
	return sim_trace_write_op(im->w, &op);
}

static int inconsistent(struct kmem_import *im, char *err, size_t errlen, const char *what,
			uint64_t pfn)
{
	if (im->pre_existing)
		return 0;
	snprintf(err, errlen, "%s pfn %llu (use pre-existing mode for traces that start mid-run)",
		 what, (unsigned long long)pfn);
	return -1;
}

int kmem_import_event(struct kmem_import *im, const struct kmem_event *ev, char *err, size_t errlen)
{
	struct block *b;

	im->c.events[ev->kind]++;
	switch (ev->kind) {
	case KMEM_ALLOC:
	case KMEM_ALLOC_ZONE_LOCKED:
		b = lookup(im, ev->pfn);
		if (b && b->pcp && ev->kind == KMEM_ALLOC && b->order == ev->order) {
			b->pcp = 0;
			im->c.pcp_handovers++;
			return 0;
		}
		if (b) {
			im->c.reallocs++;
			if (inconsistent(im, err, errlen, "allocation of live", ev->pfn))
				return -1;
			if (b->order == ev->order) {
				b->pcp = ev->kind == KMEM_ALLOC_ZONE_LOCKED;
				return 0;
			}
			if (emit_free(im, b))
				goto write_error;
		}
		if (emit_alloc(im, ev->pfn, ev->order, ev->kind == KMEM_ALLOC_ZONE_LOCKED))
			goto write_error;
		return 0;
	case KMEM_FREE:
	case KMEM_FREE_BATCHED:
		b = lookup(im, ev->pfn);
		if (!b) {
			im->c.unknown_frees++;
			return inconsistent(im, err, errlen, "free of never allocated", ev->pfn);
		}
		if (emit_free(im, b))
			goto write_error;
		return 0;
	default:
		return 0;
	}
write_error:
	snprintf(err, errlen, "output written (out of memory or disk)");
	return -1;
}
