// SPDX-License-Identifier: MIT
/*
 * Differential test: random op sequences, valid and invalid, run against
 * mm/bitmap_alloc.c and a linear-scan reference (bitmap_ref.h); every
 * result, every returned frame and the free count must agree, and the
 * whole free map is compared at intervals and at the end. Alloc and
 * dealloc go through the locked API or, half the time, through the
 * __hvmm_bitmap_* variants with the lock taken here; the lock must be free
 * after every operation.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <hvmm/bitmap_alloc.h>

#include "bitmap_ref.h"
#include "tap.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

struct block {
	uint64_t pfn, count;
};

struct run {
	struct hvmm_bitmap bm;
	void *meta;
	struct ref_bitmap ref;
	struct block *live;
	size_t nr_live, cap_live;
	uint64_t op;
	const char *name;
	int failures;
};

static uint64_t pick_count(struct run *t)
{
	uint64_t n = t->ref.n, c = below(100);

	if (c < 40)
		return 1 + below(8);
	if (c < 75)
		return 1ULL << below(13);
	if (c < 88)
		return 1 + below(n);
	switch (below(5)) {
	case 0: return 0;
	case 1: return n;
	case 2: return n + 1;
	case 3: return UINT64_MAX;
	default: return UINT64_MAX - below(16);
	}
}

static uint64_t pick_pfn(struct run *t)
{
	uint64_t base = t->ref.base, n = t->ref.n, c = below(100);

	if (c < 70)
		return base + below(n);
	if (c < 80) {
		uint64_t a = 1ULL << below(14);

		return (base + below(n)) & ~(a - 1);
	}
	if (c < 92) {
		uint64_t edges[] = { base - 1, base, base + n - 1, base + n, base + n + 1 };

		return edges[below(5)];
	}
	switch (below(3)) {
	case 0: return 0;
	case 1: return UINT64_MAX;
	default: return UINT64_MAX - below(64);
	}
}

static unsigned int pick_align(void)
{
	uint64_t c = below(100);

	if (c < 50)
		return (unsigned int)below(4);
	if (c < 85)
		return (unsigned int)below(11);
	if (c < 93)
		return (unsigned int)(11 + below(10));
	switch (below(4)) {
	case 0: return 63;
	case 1: return 64;
	case 2: return 1000;
	default: return UINT32_MAX;
	}
}

static void remember(struct run *t, uint64_t pfn, uint64_t count)
{
	if (t->nr_live == t->cap_live) {
		t->cap_live = t->cap_live ? 2 * t->cap_live : 256;
		t->live = realloc(t->live, t->cap_live * sizeof(*t->live));
		if (!t->live)
			abort();
	}
	t->live[t->nr_live++] = (struct block){ pfn, count };
}

static void fail(struct run *t, const char *what, int got, int want, uint64_t a, uint64_t b)
{
	if (t->failures++ < 10)
		TAP_FAIL("%s op %" PRIu64 ": %s(0x%" PRIx64 ", 0x%" PRIx64
			 "): bitmap %d, reference %d", t->name, t->op, what, a, b, got, want);
}

static void expect_same(struct run *t, const char *what, int got, int want,
			uint64_t a, uint64_t b)
{
	if (got != want)
		fail(t, what, got, want, a, b);
}

/* Either way of calling: the locked API (@locked) or lock-held variant (@held). */
#define EITHER(t, locked, held)						\
	({								\
		int __r;						\
		if (below(2)) {						\
			__r = (locked);					\
		} else {						\
			hvmm_spin_lock(&(t)->bm.lock);			\
			__r = (held);					\
			hvmm_spin_unlock(&(t)->bm.lock);		\
		}							\
		__r;							\
	})

static int bm_alloc(struct run *t, uint64_t *pfn)
{
	return EITHER(t, hvmm_bitmap_alloc(&t->bm, pfn), __hvmm_bitmap_alloc(&t->bm, pfn));
}

static int bm_alloc_contiguous(struct run *t, uint64_t count, unsigned int align,
			       uint64_t *pfn)
{
	return EITHER(t, hvmm_bitmap_alloc_contiguous(&t->bm, count, align, pfn),
		      __hvmm_bitmap_alloc_contiguous(&t->bm, count, align, pfn));
}

static int bm_dealloc(struct run *t, uint64_t pfn)
{
	return EITHER(t, hvmm_bitmap_dealloc(&t->bm, pfn), __hvmm_bitmap_dealloc(&t->bm, pfn));
}

static int bm_dealloc_contiguous(struct run *t, uint64_t pfn, uint64_t count)
{
	return EITHER(t, hvmm_bitmap_dealloc_contiguous(&t->bm, pfn, count),
		      __hvmm_bitmap_dealloc_contiguous(&t->bm, pfn, count));
}

static void step(struct run *t)
{
	uint64_t pfn = 0, rpfn = 0, count = 0, c = below(100);
	unsigned int align;
	int got, want;

	t->op++;
	if (c < 10) {
		pfn = pick_pfn(t);
		count = pick_count(t);
		got = hvmm_bitmap_insert(&t->bm, pfn, count);
		want = ref_insert(&t->ref, pfn, count);
		expect_same(t, "insert", got, want, pfn, count);
	} else if (c < 16) {
		pfn = pick_pfn(t);
		count = pick_count(t);
		got = hvmm_bitmap_remove(&t->bm, pfn, count);
		want = ref_remove(&t->ref, pfn, count);
		expect_same(t, "remove", got, want, pfn, count);
	} else if (c < 30) {
		got = bm_alloc(t, &pfn);
		want = ref_alloc(&t->ref, &rpfn);
		expect_same(t, "alloc", got, want, 0, 0);
		if (!got && !want && pfn != rpfn)
			fail(t, "alloc frame", (int)(pfn - t->ref.base), (int)(rpfn - t->ref.base), pfn, rpfn);
		if (!want)
			remember(t, rpfn, 1);
	} else if (c < 50) {
		count = below(3) ? 1 + below(16) : pick_count(t);
		align = pick_align();
		got = bm_alloc_contiguous(t, count, align, &pfn);
		want = ref_alloc_contig(&t->ref, count, align, &rpfn);
		expect_same(t, "alloc_contiguous", got, want, count, align);
		if (!got && !want && pfn != rpfn)
			fail(t, "alloc_contiguous frame", 0, 1, pfn, rpfn);
		if (!want)
			remember(t, rpfn, count);
	} else if (c < 58) {
		count = below(2) ? 1 + below(16) : pick_count(t);
		align = pick_align();
		pfn = pick_pfn(t);
		if (below(2) && align < 64)
			pfn &= ~((1ULL << align) - 1);
		got = hvmm_bitmap_alloc_at(&t->bm, pfn, count, align);
		want = ref_alloc_at(&t->ref, pfn, count, align);
		expect_same(t, "alloc_at", got, want, pfn, count);
		if (!want)
			remember(t, pfn, count);
	} else if (c < 80 && t->nr_live) {
		size_t k = below(t->nr_live);
		struct block b = t->live[k];

		t->live[k] = t->live[--t->nr_live];
		if (b.count == 1 && below(2)) {
			got = bm_dealloc(t, b.pfn);
			want = ref_dealloc_range(&t->ref, b.pfn, 1);
		} else {
			got = bm_dealloc_contiguous(t, b.pfn, b.count);
			want = ref_dealloc_range(&t->ref, b.pfn, b.count);
		}
		expect_same(t, "dealloc(tracked)", got, want, b.pfn, b.count);
	} else if (c < 88) {
		pfn = pick_pfn(t);
		count = below(2) ? 1 : pick_count(t);
		if (count == 1 && below(2)) {
			got = bm_dealloc(t, pfn);
			want = ref_dealloc_range(&t->ref, pfn, 1);
		} else {
			got = bm_dealloc_contiguous(t, pfn, count);
			want = ref_dealloc_range(&t->ref, pfn, count);
		}
		expect_same(t, "dealloc(random)", got, want, pfn, count);
	} else if (c < 94) {
		pfn = pick_pfn(t);
		got = hvmm_bitmap_test(&t->bm, pfn);
		want = ref_test(&t->ref, pfn);
		expect_same(t, "test", got, want, pfn, 0);
	} else {
		pfn = pick_pfn(t);
		got = hvmm_bitmap_next(&t->bm, pfn, &rpfn);
		want = ref_next(&t->ref, pfn, &count);
		expect_same(t, "next", got, want, pfn, 0);
		if (!got && !want && rpfn != count)
			fail(t, "next frame", 0, 1, rpfn, count);
	}
	if (hvmm_spin_is_locked(&t->bm.lock)) {
		fail(t, "lock free after the op", 1, 0, pfn, count);
		return;
	}
	if (hvmm_bitmap_nr_free(&t->bm) != t->ref.nr_free)
		fail(t, "nr_free", (int)hvmm_bitmap_nr_free(&t->bm), (int)t->ref.nr_free, 0, 0);
}

/* Every frame's test() against the reference, plus next() from a few points. */
static void compare_all(struct run *t)
{
	for (uint64_t i = 0; i < t->ref.n; i++) {
		int got = hvmm_bitmap_test(&t->bm, t->ref.base + i);

		if (got != (t->ref.st[i] == REF_FREE)) {
			fail(t, "test(sweep)", got, t->ref.st[i], t->ref.base + i, 0);
			return;
		}
	}
}

static void run_one(const char *name, uint64_t base, uint64_t n, uint64_t ops, uint64_t seed)
{
	static struct run t;
	uint64_t bytes = hvmm_bitmap_metadata_bytes(n);
	int ret;

	t = (struct run){ .name = name };
	rng_state = seed;
	t.meta = aligned_alloc(64, (bytes + 63) & ~63ULL);
	if (!t.meta || ref_init(&t.ref, base, n)) {
		fprintf(stderr, "%s: out of memory\n", name);
		exit(1);
	}
	ret = hvmm_bitmap_init_va(&t.bm, base, n, t.meta, bytes);
	if (ret) {
		TAP_FAIL("%s: init returned %d", name, ret);
		return;
	}
	/* Start from a mostly inserted map so that allocations have work to do. */
	expect_same(&t, "insert(initial)", hvmm_bitmap_insert(&t.bm, base + n / 8, n - n / 4),
		    ref_insert(&t.ref, base + n / 8, n - n / 4), base + n / 8, n - n / 4);
	for (uint64_t k = 0; k < ops && t.failures == 0; k++) {
		step(&t);
		if ((k & 1023) == 1023 && n <= 65536)
			compare_all(&t);
	}
	compare_all(&t);
	printf("# %-24s base 0x%-8" PRIx64 " %8" PRIu64 " frames %7" PRIu64
	       " ops (free %" PRIu64 ")\n", name, base, n, t.op, t.ref.nr_free);
	free(t.meta);
	free(t.ref.st);
	free(t.live);
}

/* One TAP case per run, named by its shape. */
#define RUN(name, ...)	TAP_CASE(name, run_one(name, __VA_ARGS__))

int main(void)
{
	RUN("16 frames", 0, 16, 20000, 1);
	RUN("16 frames, odd base", 0x80003, 16, 20000, 2);
	RUN("4K frames", 0x80000, 4096, 20000, 3);
	RUN("4K+3 frames, odd base", 0x12345, 4099, 20000, 4);
	RUN("64K frames", 0x100000, 65536, 8000, 5);
	RUN("64K-1 frames, odd base", 0x3, 65535, 8000, 6);
	RUN("1M frames", 0x80000, 1 << 20, 1500, 7);
	RUN("1M+65 frames, odd base", 0x40001, (1 << 20) + 65, 1500, 8);
	RUN("1 frame", 0x7, 1, 2000, 9);
	RUN("63 frames", 0x1, 63, 5000, 10);
	return tap_done();
}
