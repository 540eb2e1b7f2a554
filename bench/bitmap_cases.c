// SPDX-License-Identifier: MIT
/*
 * The bitmap allocator's own API timed directly (no adapter, no scrub):
 * the issue-3 figures, formerly bench/bitmap_timing.c.
 *  - single-frame alloc and dealloc on a 1M-frame map (target <= 10 ns);
 *  - alloc_contiguous(512, 9) on a half-full 1M-frame map (<= 1 us), the
 *    lower half taken one frame at a time so the search must skip it;
 *  - a failing 2-frame request on a 1M-frame checkerboard (<= 50 us):
 *    warm, the first one after building the board (every summary stale),
 *    and after a single-frame alloc+dealloc that stales one path.
 */
#include <stdio.h>
#include <stdlib.h>

#include <hvmm/bitmap_alloc.h>

#include "bench.h"

#define NR_FRAMES	(1ULL << 20)
#define BASE_PFN	0x80000ULL
#define SINGLE_BATCH	(1ULL << 18)
#define CONTIG_BATCH	256

struct bm_bench {
	struct hvmm_bitmap bm;
	void *meta;
	uint64_t *pfn;		/* frames or runs held */
	size_t n, next;
	uint64_t failed;
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

	if (b->n == SINGLE_BATCH)
		while (b->n)
			hvmm_bitmap_dealloc(&b->bm, b->pfn[--b->n]);
	t0 = bench_time_begin();
	if (hvmm_bitmap_alloc(&b->bm, &b->pfn[b->n]))
		b->failed++;
	else
		b->n++;
	d = bench_time_end(s, t0);
	return d;
}

static uint64_t step_single_dealloc(struct bench_state *s, struct bench_thread *t)
{
	struct bm_bench *b = bb(s);
	uint64_t t0;

	if (b->next == b->n) {
		b->n = b->next = 0;
		while (b->n < SINGLE_BATCH && !hvmm_bitmap_alloc(&b->bm, &b->pfn[b->n]))
			b->n++;
	}
	t0 = bench_time_begin();
	if (hvmm_bitmap_dealloc(&b->bm, b->pfn[b->next++]))
		b->failed++;
	return bench_time_end(s, t0);
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
	{ "single_alloc_1M", 0, setup_empty, step_single_alloc },
	{ "single_dealloc_1M", 0, setup_empty, step_single_dealloc },
	{ "contig512_alloc_half_1M", 0, setup_half, step_contig_alloc },
	{ "contig512_dealloc_half_1M", 0, setup_half, step_contig_dealloc },
	{ "checker_fail2_1M", 0, setup_checker, step_checker_fail },
	{ "checker_fail2_cold_1M", 20, setup_checker, step_checker_cold },
	{ "checker_triple_1M", 0, setup_checker, step_checker_triple },
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
