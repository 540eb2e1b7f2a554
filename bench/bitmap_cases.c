// SPDX-License-Identifier: MIT
/*
 * The bitmap allocator's own API timed directly (no adapter, no scrub):
 * the issue-3 figures, formerly bench/bitmap_timing.c. Every map has 1M
 * frames.
 *  - single-frame alloc and dealloc (target <= 10 ns), through the locked
 *    API and through the __hvmm_bitmap_* variants under one lock held
 *    around a whole batch (how hvisor's lock-free crate is used, so the
 *    fair comparison with it); the difference is the ticket lock; the
 *    _x64 cases time 64 deallocs together and give the mean of one;
 *  - alloc_contiguous(512, 9) on a half-full map (<= 1 us), the lower half
 *    taken one frame at a time so the search must skip it;
 *  - a failing 2-frame request on a checkerboard (<= 50 us): cold, the
 *    first request after building the board (512K single frees left every
 *    run summary stale, so it pays the whole lazy refresh); warm, the
 *    steady state of back-to-back failing requests; and after a
 *    single-frame alloc+dealloc that stales one path.
 */
#include <stdio.h>
#include <stdlib.h>

#include <hvmm/bitmap_alloc.h>

#include "bench.h"

#define NR_FRAMES	(1ULL << 20)
#define BASE_PFN	0x80000ULL
#define SINGLE_BATCH	(1ULL << 18)
/*
 * Deallocs timed together in the _x64 cases, whose figure is the mean of
 * one: a single dealloc is a few ns, of the order of the timer's own
 * overhead and its jitter, and issue 18 measured the crate that way.
 */
#define DEALLOC_X	64
#define CONTIG_BATCH	256

struct bm_bench {
	struct hvmm_bitmap bm;
	void *meta;
	uint64_t *pfn;		/* frames or runs held */
	size_t n, next;
	uint64_t failed;
	bool lock_held;		/* steps use __hvmm_bitmap_* with bm.lock held */
};

static struct bm_bench *bb(struct bench_state *s)
{
	return s->priv;
}

static int fresh_map(struct bench_state *s)
{
	uint64_t bytes = hvmm_bitmap_metadata_bytes(NR_FRAMES);
	struct bm_bench *b = bb(s);

	free(b->meta);
	b->meta = aligned_alloc(64, (bytes + 63) & ~63ULL);
	if (!b->meta || hvmm_bitmap_init_va(&b->bm, BASE_PFN, NR_FRAMES, b->meta, bytes) ||
	    hvmm_bitmap_insert(&b->bm, BASE_PFN, NR_FRAMES)) {
		snprintf(s->err, sizeof(s->err), "cannot set up a 1M-frame bitmap");
		return -1;
	}
	return 0;
}

static int setup_empty(struct bench_state *s)
{
	struct bm_bench *b = calloc(1, sizeof(*b));

	s->priv = b;
	if (!b || !(b->pfn = calloc(SINGLE_BATCH, sizeof(*b->pfn))))
		return -1;
	return fresh_map(s);
}

/*
 * The map is taken for the whole run; steps drop and retake the lock
 * between batches, where another CPU could get in.
 */
static int setup_empty_lock_held(struct bench_state *s)
{
	if (setup_empty(s))
		return -1;
	hvmm_spin_lock(&bb(s)->bm.lock);
	bb(s)->lock_held = true;
	return 0;
}

static void next_batch(struct bm_bench *b)
{
	if (b->lock_held) {
		hvmm_spin_unlock(&b->bm.lock);
		hvmm_spin_lock(&b->bm.lock);
	}
}

static int bm_alloc(struct bm_bench *b, uint64_t *pfn)
{
	return b->lock_held ? __hvmm_bitmap_alloc(&b->bm, pfn) : hvmm_bitmap_alloc(&b->bm, pfn);
}

static int bm_dealloc(struct bm_bench *b, uint64_t pfn)
{
	return b->lock_held ? __hvmm_bitmap_dealloc(&b->bm, pfn) : hvmm_bitmap_dealloc(&b->bm, pfn);
}

static int setup_half(struct bench_state *s)
{
	uint64_t pfn;

	if (setup_empty(s))
		return -1;
	for (uint64_t i = 0; i < NR_FRAMES / 2; i++)
		if (hvmm_bitmap_alloc(&bb(s)->bm, &pfn))
			return -1;
	return 0;
}

static int build_checkerboard(struct bench_state *s)
{
	struct bm_bench *b = bb(s);
	uint64_t pfn;

	if (fresh_map(s) || hvmm_bitmap_alloc_contiguous(&b->bm, NR_FRAMES, 0, &pfn))
		return -1;
	for (uint64_t i = 0; i < NR_FRAMES; i += 2)
		if (hvmm_bitmap_dealloc(&b->bm, BASE_PFN + i))
			return -1;
	return 0;
}

static int setup_checker(struct bench_state *s)
{
	return setup_empty(s) || build_checkerboard(s);
}

static void teardown(struct bench_state *s)
{
	struct bm_bench *b = bb(s);

	if (!b)
		return;
	if (b->lock_held)
		hvmm_spin_unlock(&b->bm.lock);
	free(b->meta);
	free(b->pfn);
	free(b);
	s->priv = NULL;
}

static void report(struct bench_state *s)
{
	bench_counter(s, "failed", (double)bb(s)->failed, false);
}

static uint64_t step_single_alloc(struct bench_state *s, struct bench_thread *t)
{
	struct bm_bench *b = bb(s);
	uint64_t t0, d;

	if (b->n == SINGLE_BATCH) {
		while (b->n)
			bm_dealloc(b, b->pfn[--b->n]);
		next_batch(b);
	}
	t0 = bench_time_begin();
	if (bm_alloc(b, &b->pfn[b->n]))
		b->failed++;
	else
		b->n++;
	d = bench_time_end(s, t0);
	return d;
}

/* A new batch of single frames to free, once the last one is spent (untimed). */
static void refill_singles(struct bm_bench *b)
{
	b->n = b->next = 0;
	while (b->n < SINGLE_BATCH && !bm_alloc(b, &b->pfn[b->n]))
		b->n++;
	next_batch(b);
}

static uint64_t step_single_dealloc(struct bench_state *s, struct bench_thread *t)
{
	struct bm_bench *b = bb(s);
	uint64_t t0;

	if (b->next == b->n)
		refill_singles(b);
	t0 = bench_time_begin();
	if (bm_dealloc(b, b->pfn[b->next++]))
		b->failed++;
	return bench_time_end(s, t0);
}

/* DEALLOC_X single-frame deallocs in one timed region; returns the mean. */
static uint64_t step_dealloc_x64(struct bench_state *s, struct bench_thread *t)
{
	struct bm_bench *b = bb(s);
	uint64_t t0;

	/* SINGLE_BATCH frames always fit in the map: n is a multiple of DEALLOC_X. */
	if (b->next == b->n)
		refill_singles(b);
	t0 = bench_time_begin();
	for (unsigned int k = 0; k < DEALLOC_X; k++)
		if (bm_dealloc(b, b->pfn[b->next++]))
			b->failed++;
	return (bench_time_end(s, t0) + DEALLOC_X / 2) / DEALLOC_X;
}

static uint64_t step_contig_alloc(struct bench_state *s, struct bench_thread *t)
{
	struct bm_bench *b = bb(s);
	uint64_t t0, d;

	if (b->n == CONTIG_BATCH)
		while (b->n)
			hvmm_bitmap_dealloc_contiguous(&b->bm, b->pfn[--b->n], 512);
	t0 = bench_time_begin();
	if (hvmm_bitmap_alloc_contiguous(&b->bm, 512, 9, &b->pfn[b->n]))
		b->failed++;
	else
		b->n++;
	d = bench_time_end(s, t0);
	return d;
}

static uint64_t step_contig_dealloc(struct bench_state *s, struct bench_thread *t)
{
	struct bm_bench *b = bb(s);
	uint64_t t0;

	if (b->next == b->n) {
		b->n = b->next = 0;
		while (b->n < CONTIG_BATCH &&
		       !hvmm_bitmap_alloc_contiguous(&b->bm, 512, 9, &b->pfn[b->n]))
			b->n++;
	}
	t0 = bench_time_begin();
	if (hvmm_bitmap_dealloc_contiguous(&b->bm, b->pfn[b->next++], 512))
		b->failed++;
	return bench_time_end(s, t0);
}

static uint64_t step_checker_fail(struct bench_state *s, struct bench_thread *t)
{
	struct bm_bench *b = bb(s);
	uint64_t pfn, t0 = bench_time_begin(), d;
	int ret = hvmm_bitmap_alloc_contiguous(&b->bm, 2, 0, &pfn);

	d = bench_time_end(s, t0);
	if (ret != -HVMM_ENOMEM)
		b->failed++;	/* counts unexpected successes */
	return d;
}

static uint64_t step_checker_cold(struct bench_state *s, struct bench_thread *t)
{
	if (build_checkerboard(s))
		bb(s)->failed++;
	return step_checker_fail(s, t);
}

static uint64_t step_checker_triple(struct bench_state *s, struct bench_thread *t)
{
	struct bm_bench *b = bb(s);
	uint64_t pfn, free_pfn, t0 = bench_time_begin(), d;
	int ret = hvmm_bitmap_alloc(&b->bm, &free_pfn);

	ret |= hvmm_bitmap_dealloc(&b->bm, free_pfn);
	ret |= hvmm_bitmap_alloc_contiguous(&b->bm, 2, 0, &pfn) != -HVMM_ENOMEM;
	d = bench_time_end(s, t0);
	if (ret)
		b->failed++;
	return d;
}

static const struct {
	const char *name;
	uint64_t iterations;
	int (*setup)(struct bench_state *s);
	uint64_t (*step)(struct bench_state *s, struct bench_thread *t);
} cases[] = {
	{ "alloc_single", 0, setup_empty, step_single_alloc },
	{ "alloc_single_lock_held", 0, setup_empty_lock_held, step_single_alloc },
	{ "dealloc_single", 0, setup_empty, step_single_dealloc },
	{ "dealloc_single_lock_held", 0, setup_empty_lock_held, step_single_dealloc },
	{ "dealloc_x64", 0, setup_empty, step_dealloc_x64 },
	{ "dealloc_x64_lock_held", 0, setup_empty_lock_held, step_dealloc_x64 },
	{ "contig512_alloc_half", 0, setup_half, step_contig_alloc },
	{ "contig512_dealloc_half", 0, setup_half, step_contig_dealloc },
	{ "checker_fail2_cold", 20, setup_checker, step_checker_cold },
	{ "checker_fail2_warm", 0, setup_checker, step_checker_fail },
	{ "checker_triple", 0, setup_checker, step_checker_triple },
};

void bench_register_bitmap(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bench_case c = {
			.group = "bitmap",
			.threads = 1,
			.iterations = cases[i].iterations,
			.setup = cases[i].setup,
			.step = cases[i].step,
			.report = report,
			.teardown = teardown,
		};

		snprintf(c.workload, sizeof(c.workload), "%s", cases[i].name);
		snprintf(c.subject, sizeof(c.subject), "bitmap-direct");
		snprintf(c.name, sizeof(c.name), "bitmap/%s", cases[i].name);
		bench_case_add(&c);
	}
}
