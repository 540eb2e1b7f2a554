/* SPDX-License-Identifier: MIT */
/*
 * A trivially correct bitmap allocator for differential tests: one state
 * byte per frame and linear scans, with the error order documented in
 * hvmm/bitmap_alloc.h.
 */
#ifndef TESTS_BITMAP_REF_H
#define TESTS_BITMAP_REF_H

#include <stdint.h>
#include <stdlib.h>

#include <hvmm/types.h>

enum { REF_ABSENT, REF_FREE, REF_ALLOC };

struct ref_bitmap {
	uint64_t base, n, nr_free;
	uint8_t *st;
};

static inline int ref_init(struct ref_bitmap *r, uint64_t base, uint64_t n)
{
	r->base = base;
	r->n = n;
	r->nr_free = 0;
	r->st = calloc(n, 1);
	return r->st ? 0 : -1;
}

static inline int ref_frame(const struct ref_bitmap *r, uint64_t pfn, uint64_t *i)
{
	if (pfn < r->base || pfn - r->base >= r->n)
		return -HVMM_ERANGE;
	*i = pfn - r->base;
	return 0;
}

static inline int ref_range(const struct ref_bitmap *r, uint64_t pfn, uint64_t count, uint64_t *i)
{
	if (!count)
		return -HVMM_EINVAL;
	if (ref_frame(r, pfn, i) || count > r->n - *i)
		return -HVMM_ERANGE;
	return 0;
}

static inline int ref_any(const struct ref_bitmap *r, uint64_t i, uint64_t count, int state)
{
	for (uint64_t k = 0; k < count; k++)
		if (r->st[i + k] == state)
			return 1;
	return 0;
}

static inline void ref_set(struct ref_bitmap *r, uint64_t i, uint64_t count, int state)
{
	for (uint64_t k = 0; k < count; k++) {
		r->nr_free -= r->st[i + k] == REF_FREE;
		r->st[i + k] = (uint8_t)state;
		r->nr_free += state == REF_FREE;
	}
}

static inline int ref_insert(struct ref_bitmap *r, uint64_t pfn, uint64_t count)
{
	uint64_t i;
	int ret = ref_range(r, pfn, count, &i);

	if (ret)
		return ret;
	if (ref_any(r, i, count, REF_FREE) || ref_any(r, i, count, REF_ALLOC))
		return -HVMM_EEXIST;
	ref_set(r, i, count, REF_FREE);
	return 0;
}

static inline int ref_remove(struct ref_bitmap *r, uint64_t pfn, uint64_t count)
{
	uint64_t i;
	int ret = ref_range(r, pfn, count, &i);

	if (ret)
		return ret;
	if (ref_any(r, i, count, REF_ABSENT))
		return -HVMM_ENOENT;
	if (ref_any(r, i, count, REF_ALLOC))
		return -HVMM_EBUSY;
	ref_set(r, i, count, REF_ABSENT);
	return 0;
}

static inline int ref_alloc(struct ref_bitmap *r, uint64_t *pfn)
{
	for (uint64_t i = 0; i < r->n; i++) {
		if (r->st[i] == REF_FREE) {
			ref_set(r, i, 1, REF_ALLOC);
			*pfn = r->base + i;
			return 0;
		}
	}
	return -HVMM_ENOMEM;
}

/* Candidates in increasing order; a busy frame k rules out every start <= k. */
static inline int ref_alloc_contig(struct ref_bitmap *r, uint64_t count, unsigned int align,
				   uint64_t *pfn)
{
	uint64_t mask, i = 0;

	if (!count || align >= 64)
		return -HVMM_EINVAL;
	if (count > r->n)
		return -HVMM_ENOMEM;
	mask = (1ULL << align) - 1;
	while (i < r->n && count <= r->n - i) {
		uint64_t k, abs = r->base + i;

		if (abs & mask) {
			uint64_t up = (abs | mask) + 1;	/* next aligned pfn; no overflow below 2^63 */

			if (up < abs || up - r->base >= r->n)
				break;
			i = up - r->base;
			continue;
		}
		for (k = i; k < i + count && r->st[k] == REF_FREE; k++)
			;
		if (k == i + count) {
			ref_set(r, i, count, REF_ALLOC);
			*pfn = r->base + i;
			return 0;
		}
		i = k + 1;
	}
	return -HVMM_ENOMEM;
}

static inline int ref_alloc_at(struct ref_bitmap *r, uint64_t pfn, uint64_t count,
			       unsigned int align)
{
	uint64_t i;
	int ret;

	if (!count || align >= 64 || (pfn & ((1ULL << align) - 1)))
		return -HVMM_EINVAL;
	ret = ref_range(r, pfn, count, &i);
	if (ret)
		return ret;
	if (ref_any(r, i, count, REF_ABSENT))
		return -HVMM_ENOENT;
	if (ref_any(r, i, count, REF_ALLOC))
		return -HVMM_EBUSY;
	ref_set(r, i, count, REF_ALLOC);
	return 0;
}

static inline int ref_dealloc_range(struct ref_bitmap *r, uint64_t pfn, uint64_t count)
{
	uint64_t i;
	int ret = ref_range(r, pfn, count, &i);

	if (ret)
		return ret;
	if (ref_any(r, i, count, REF_ABSENT))
		return -HVMM_ENOENT;
	if (ref_any(r, i, count, REF_FREE))
		return -HVMM_EEXIST;
	ref_set(r, i, count, REF_FREE);
	return 0;
}

static inline int ref_test(const struct ref_bitmap *r, uint64_t pfn)
{
	uint64_t i;
	int ret = ref_frame(r, pfn, &i);

	return ret ? ret : r->st[i] == REF_FREE;
}

static inline int ref_next(const struct ref_bitmap *r, uint64_t pfn, uint64_t *out)
{
	uint64_t i;
	int ret = ref_frame(r, pfn, &i);

	if (ret)
		return ret;
	for (; i < r->n; i++) {
		if (r->st[i] == REF_FREE) {
			*out = r->base + i;
			return 0;
		}
	}
	return -HVMM_ENOENT;
}

#endif /* TESTS_BITMAP_REF_H */
