// SPDX-License-Identifier: MIT
/*
 * Timing of mm/bitmap_alloc.c against the targets of issue 3 (plain C,
 * clock_gettime; not a test, nothing is asserted):
 *  - single-frame alloc and dealloc on a 1M-frame map (target <= 10 ns);
 *  - alloc_contiguous(512, 9) on a half-full 1M-frame map (<= 1 us);
 *  - a failing 2-frame request on a 1M-frame checkerboard (<= 50 us;
 *    hvisor's bitmap-allocator takes 12.6 ms).
 * Each figure is the best of several rounds, each round a batch of calls.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <hvmm/bitmap_alloc.h>

#define NR_FRAMES	(1ULL << 20)
#define BASE_PFN	0x80000ULL
#define ROUNDS		7

static struct hvmm_bitmap bm;
static void *meta;
static uint64_t pfns[NR_FRAMES];

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void must(int ret, const char *what)
{
	if (ret) {
		fprintf(stderr, "%s failed: %d\n", what, ret);
		exit(1);
	}
}

static void fresh_map(void)
{
	uint64_t bytes = hvmm_bitmap_metadata_bytes(NR_FRAMES);

	free(meta);
	meta = aligned_alloc(64, (bytes + 63) & ~63ULL);
	must(!meta, "aligned_alloc");
	must(hvmm_bitmap_init_va(&bm, BASE_PFN, NR_FRAMES, meta, bytes), "init");
	must(hvmm_bitmap_insert(&bm, BASE_PFN, NR_FRAMES), "insert");
}

static double min_of(const double *v, int n)
{
	double m = v[0];

	for (int i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

/* Allocates @batch frames one by one, then frees them in the same order. */
static void bench_single(void)
{
	const uint64_t batch = 1 << 18;
	double a[ROUNDS], d[ROUNDS], t;

	fresh_map();
	for (int r = 0; r < ROUNDS; r++) {
		t = now_ns();
		for (uint64_t i = 0; i < batch; i++)
			hvmm_bitmap_alloc(&bm, &pfns[i]);
		a[r] = (now_ns() - t) / batch;
		t = now_ns();
		for (uint64_t i = 0; i < batch; i++)
			hvmm_bitmap_dealloc(&bm, pfns[i]);
		d[r] = (now_ns() - t) / batch;
	}
	printf("single alloc, 1M-frame map:                      %8.1f ns/op  (target <= 10 ns)\n",
	       min_of(a, ROUNDS));
	printf("single dealloc, 1M-frame map:                    %8.1f ns/op  (target <= 10 ns)\n",
	       min_of(d, ROUNDS));
}

/*
 * Half full: the lower half taken one frame at a time, so the first fit is
 * at the middle of the map and the search has to skip the full half.
 */
static void bench_contig_512(void)
{
	const uint64_t batch = 256;
	double a[ROUNDS], d[ROUNDS], t;
	uint64_t pfn;

	fresh_map();
	for (uint64_t i = 0; i < NR_FRAMES / 2; i++)
		must(hvmm_bitmap_alloc(&bm, &pfn), "alloc");
	for (int r = 0; r < ROUNDS; r++) {
		t = now_ns();
		for (uint64_t i = 0; i < batch; i++)
			must(hvmm_bitmap_alloc_contiguous(&bm, 512, 9, &pfns[i]), "alloc_contiguous");
		a[r] = (now_ns() - t) / batch;
		t = now_ns();
		for (uint64_t i = 0; i < batch; i++)
			must(hvmm_bitmap_dealloc_contiguous(&bm, pfns[i], 512), "dealloc_contiguous");
		d[r] = (now_ns() - t) / batch;
	}
	printf("alloc_contiguous(512, 9), half-full 1M map:      %8.1f ns/op  (target <= 1000 ns)\n",
	       min_of(a, ROUNDS));
	printf("dealloc_contiguous(512), half-full 1M map:       %8.1f ns/op\n", min_of(d, ROUNDS));
}

static void bench_checkerboard(void)
{
	const int batch = 10000;
	double cold, warm[ROUNDS], mixed[ROUNDS], t;
	uint64_t pfn, free_pfn = BASE_PFN;

	fresh_map();
	must(hvmm_bitmap_alloc_contiguous(&bm, NR_FRAMES, 0, &pfn), "alloc all");
	for (uint64_t i = 0; i < NR_FRAMES; i += 2)
		must(hvmm_bitmap_dealloc(&bm, BASE_PFN + i), "dealloc");

	/* First request after a million single ops: refreshes every summary. */
	t = now_ns();
	if (hvmm_bitmap_alloc_contiguous(&bm, 2, 0, &pfn) != -HVMM_ENOMEM)
		must(1, "checkerboard request");
	cold = now_ns() - t;
	for (int r = 0; r < ROUNDS; r++) {
		t = now_ns();
		for (int i = 0; i < batch; i++)
			if (hvmm_bitmap_alloc_contiguous(&bm, 2, 0, &pfn) != -HVMM_ENOMEM)
				must(1, "checkerboard request");
		warm[r] = (now_ns() - t) / batch;
	}
	/* Worst steady state: a single-frame op before each request stales a path. */
	for (int r = 0; r < ROUNDS; r++) {
		t = now_ns();
		for (int i = 0; i < batch; i++) {
			must(hvmm_bitmap_alloc(&bm, &free_pfn), "alloc");
			must(hvmm_bitmap_dealloc(&bm, free_pfn), "dealloc");
			if (hvmm_bitmap_alloc_contiguous(&bm, 2, 0, &pfn) != -HVMM_ENOMEM)
				must(1, "checkerboard request");
		}
		mixed[r] = (now_ns() - t) / batch;
	}
	printf("failing 2-frame request, 1M checkerboard:        %8.1f ns/op  (target <= 50000 ns)\n",
	       min_of(warm, ROUNDS));
	printf("  first request after building it (full refresh): %8.1f ns\n", cold);
	printf("  alloc+dealloc+failing request, per triple:       %8.1f ns\n", min_of(mixed, ROUNDS));
}

int main(void)
{
	bench_single();
	bench_contig_512();
	bench_checkerboard();
	free(meta);
	return 0;
}
