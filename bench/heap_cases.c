// SPDX-License-Identifier: MIT
/*
 * The byte heap (mm/heap.c) beside allocators a hypervisor developer could
 * pick instead, on the same request streams: Debian's mimalloc and
 * jemalloc as the speed references for small objects (where they were
 * found at build time), and the page buddy used at page granularity (a
 * whole page, or more, per object) as the naive alternative.
 *
 * Workloads: alloc+free pairs of one size with a neighbour held (the
 * steady state: the freed block's buddy is in use, so nothing merges), the
 * same on an empty heap (the buddy worst case: the pair splits a whole
 * chunk down and merges it back), pairs of random sizes amid a live set,
 * and churn (free one, allocate one, amid a live set) that reports the
 * bytes wasted per byte live, per size class, at the end.
 *
 * Built into hvmm-bench-heap, not hvmm-bench: linking mimalloc and
 * jemalloc replaces the process's malloc, which the simulator cases must
 * not be measured under.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvmm/buddy.h>
#include <hvmm/heap.h>

#include "bench.h"
#include "machine.h"

#ifdef HVMM_BENCH_MIMALLOC
#include <mimalloc.h>
#endif
#ifdef HVMM_BENCH_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#define POOL_PAGES	(1ULL << 14)	/* 64 MiB */
#define CHUNK_ORDER	8		/* 1 MiB chunks */
#define MAX_SIZE	4096
#define LIVE_PAIRS	2000		/* live set of the random-pair workload */
#define LIVE_CHURN	8000		/* live set of churn */
#define NR_CLASSES	9		/* request sizes up to 16, 32, ..., 4096 */

struct subject {
	const char *name;
	void *(*alloc)(void *ctx, uint64_t size);
	void (*free)(void *ctx, void *p, uint64_t size);
	/* Bytes really set aside for a request of @size at @p. */
	uint64_t (*usable)(void *ctx, void *p, uint64_t size);
	/* Bytes the allocator holds from below (0: not known). */
	uint64_t (*footprint)(void *ctx);
};

struct obj {
	void *p;
	uint64_t size;
};

struct heap_bench {
	struct sim_machine *m;
	struct hvmm_pool *pool;
	struct hvmm_heap heap;
	void *ctx;
	struct obj *live;
	size_t nr_live;
	uint64_t *sizes;	/* pre-drawn request sizes */
	size_t nr_sizes, next_size;
	void *neighbour;
	uint64_t failed;
};

static struct heap_bench *hb(struct bench_state *s)
{
	return s->priv;
}

static const struct subject *subject_of(const struct bench_state *s)
{
	return s->c->ptr;
}

/* --- subjects ----------------------------------------------------------------- */

static void *heap_alloc(void *ctx, uint64_t size)
{
	return hvmm_heap_alloc(ctx, size, 0);
}

static void heap_free(void *ctx, void *p, uint64_t size)
{
	hvmm_heap_free(ctx, p, size, 0);
}

static uint64_t heap_usable(void *ctx, void *p, uint64_t size)
{
	return HVMM_HEAP_MIN_SIZE << hvmm_heap_block_order(ctx, size, 0);
}

static uint64_t heap_footprint(void *ctx)
{
	const struct hvmm_heap *heap = ctx;

	return (uint64_t)heap->nr_chunks *
	       ((HVMM_PAGE_SIZE << heap->chunk_page_order) + (HVMM_PAGE_SIZE << heap->meta_page_order));
}

static u8 pages_order(uint64_t size)
{
	u8 order = 0;

	while ((HVMM_PAGE_SIZE << order) < size)
		order++;
	return order;
}

static void *buddy_alloc(void *ctx, uint64_t size)
{
	return hvmm_alloc_pages(ctx, pages_order(size));
}

static void buddy_free(void *ctx, void *p, uint64_t size)
{
	hvmm_put_page(ctx, p);
}

static uint64_t buddy_usable(void *ctx, void *p, uint64_t size)
{
	return HVMM_PAGE_SIZE << pages_order(size);
}

#ifdef HVMM_BENCH_MIMALLOC
static void *mi_alloc_(void *ctx, uint64_t size)
{
	return mi_malloc(size);
}

static void mi_free_(void *ctx, void *p, uint64_t size)
{
	mi_free(p);
}

static uint64_t mi_usable_(void *ctx, void *p, uint64_t size)
{
	return mi_usable_size(p);
}
#endif

#ifdef HVMM_BENCH_JEMALLOC
static void *je_alloc_(void *ctx, uint64_t size)
{
	return mallocx(size, 0);
}

/* Sized free, as the heap's own. */
static void je_free_(void *ctx, void *p, uint64_t size)
{
	sdallocx(p, size, 0);
}

static uint64_t je_usable_(void *ctx, void *p, uint64_t size)
{
	return sallocx(p, 0);
}
#endif

static const struct subject subjects[] = {
	{ "hvmm-heap", heap_alloc, heap_free, heap_usable, heap_footprint },
	{ "page-buddy", buddy_alloc, buddy_free, buddy_usable, NULL },
#ifdef HVMM_BENCH_MIMALLOC
	{ "mimalloc", mi_alloc_, mi_free_, mi_usable_, NULL },
#endif
#ifdef HVMM_BENCH_JEMALLOC
	{ "jemalloc", je_alloc_, je_free_, je_usable_, NULL },
#endif
};

/* --- set-up -------------------------------------------------------------------------- */

/* Log-uniform over 16..4096 bytes, with odd sizes in between. */
static uint64_t random_size(struct sim_rng *rng)
{
	unsigned int k = 4 + (unsigned int)sim_rng_below(rng, 8);	/* 2^4 .. 2^11 */
	uint64_t lo = 1ULL << k;

	return lo + sim_rng_below(rng, lo + 1);
}

static int open_bench(struct bench_state *s)
{
	const struct subject *sub = subject_of(s);
	struct sim_machine_config cfg;
	struct heap_bench *b = calloc(1, sizeof(*b));

	if (!b) {
		snprintf(s->err, sizeof(s->err), "out of memory");
		return -1;
	}
	s->priv = b;
	sim_machine_config_default(&cfg);
	cfg.regions[0].size = POOL_PAGES << HVMM_PAGE_SHIFT;
	cfg.pool_pages = POOL_PAGES;
	cfg.oracles = SIM_ORACLES_OFF;
	b->m = sim_machine_create(&cfg, s->err, sizeof(s->err));
	if (!b->m)
		return -1;
	b->pool = sim_machine_allocator(b->m)->priv;	/* the buddy adapter's pool */
	if (hvmm_heap_init(&b->heap, &hvmm_heap_pool_pages, b->pool, CHUNK_ORDER, HVMM_HEAP_MAX_CHUNKS)) {
		snprintf(s->err, sizeof(s->err), "heap init failed");
		return -1;
	}
	b->ctx = !strcmp(sub->name, "hvmm-heap") ? (void *)&b->heap :
		 !strcmp(sub->name, "page-buddy") ? (void *)b->pool : NULL;
	b->nr_sizes = 1 << 16;
	b->sizes = malloc(b->nr_sizes * sizeof(*b->sizes));
	b->live = calloc(LIVE_CHURN, sizeof(*b->live));
	if (!b->sizes || !b->live) {
		snprintf(s->err, sizeof(s->err), "out of memory");
		return -1;
	}
	for (size_t i = 0; i < b->nr_sizes; i++)
		b->sizes[i] = random_size(&s->thread[0].rng);
	return 0;
}

static uint64_t next_size(struct heap_bench *b)
{
	uint64_t size = b->sizes[b->next_size++];

	if (b->next_size == b->nr_sizes)
		b->next_size = 0;
	return size;
}

static int fill_live(struct bench_state *s, size_t n)
{
	const struct subject *sub = subject_of(s);
	struct heap_bench *b = hb(s);

	for (; b->nr_live < n; b->nr_live++) {
		uint64_t size = next_size(b);
		void *p = sub->alloc(b->ctx, size);

		if (!p) {
			snprintf(s->err, sizeof(s->err), "%s: out of memory with %zu objects live",
				 sub->name, b->nr_live);
			return -1;
		}
		memset(p, 0xa5, size);
		b->live[b->nr_live] = (struct obj){ p, size };
	}
	return 0;
}

/* A pair of one size with a neighbour of that size held: the steady state. */
static int setup_pair(struct bench_state *s)
{
	const struct subject *sub = subject_of(s);
	struct heap_bench *b;

	if (open_bench(s))
		return -1;
	b = hb(s);
	b->neighbour = sub->alloc(b->ctx, s->c->arg);
	return b->neighbour ? 0 : -1;
}

/* A pair on an empty allocator. */
static int setup_empty(struct bench_state *s)
{
	return open_bench(s);
}

static int setup_random(struct bench_state *s)
{
	return open_bench(s) || fill_live(s, LIVE_PAIRS) ? -1 : 0;
}

static int setup_churn(struct bench_state *s)
{
	return open_bench(s) || fill_live(s, LIVE_CHURN) ? -1 : 0;
}

static void teardown(struct bench_state *s)
{
	const struct subject *sub = subject_of(s);
	struct heap_bench *b = hb(s);

	if (!b)
		return;
	for (size_t i = 0; i < b->nr_live && b->m; i++)
		sub->free(b->ctx, b->live[i].p, b->live[i].size);
	if (b->neighbour)
		sub->free(b->ctx, b->neighbour, s->c->arg);
	free(b->live);
	free(b->sizes);
	if (b->m)
		sim_machine_destroy(b->m);
	free(b);
	s->priv = NULL;
}

/* --- steps ----------------------------------------------------------------------------- */

static uint64_t timed_pair(struct bench_state *s, uint64_t size)
{
	const struct subject *sub = subject_of(s);
	struct heap_bench *b = hb(s);
	uint64_t t0 = bench_time_begin(), ticks;
	char *p = sub->alloc(b->ctx, size);

	if (p) {
		*(volatile char *)p = 1;
		sub->free(b->ctx, p, size);
	}
	ticks = bench_time_end(s, t0);
	b->failed += !p;
	return ticks;
}

static uint64_t step_pair(struct bench_state *s, struct bench_thread *t)
{
	return timed_pair(s, s->c->arg);
}

static uint64_t step_random(struct bench_state *s, struct bench_thread *t)
{
	return timed_pair(s, next_size(hb(s)));
}

/* Free a random live object and allocate one of a random size in its place. */
static uint64_t step_churn(struct bench_state *s, struct bench_thread *t)
{
	const struct subject *sub = subject_of(s);
	struct heap_bench *b = hb(s);
	struct obj *o = &b->live[sim_rng_below(&t->rng, b->nr_live)];
	uint64_t size = next_size(b), t0 = bench_time_begin(), ticks;
	void *p;

	sub->free(b->ctx, o->p, o->size);
	p = sub->alloc(b->ctx, size);
	ticks = bench_time_end(s, t0);
	if (!p) {
		b->failed++;
		*o = b->live[--b->nr_live];
		return ticks;
	}
	*(volatile char *)p = 1;
	*o = (struct obj){ p, size };
	return ticks;
}

/* --- reports ------------------------------------------------------------------------------ */

static unsigned int size_class(uint64_t size)
{
	unsigned int c = 0;

	while (c < NR_CLASSES - 1 && (16ULL << c) < size)
		c++;
	return c;
}

static void report(struct bench_state *s)
{
	bench_counter(s, "failed", (double)hb(s)->failed, false);
}

/*
 * Bytes wasted per byte live: inside blocks (what each request was rounded
 * up to) per size class of the request, and overall from the allocator's
 * footprint where it is known (for the page buddy, the pages it handed out).
 */
static void report_churn(struct bench_state *s)
{
	static const char *const names[NR_CLASSES] = {
		"waste_le16", "waste_le32", "waste_le64", "waste_le128", "waste_le256",
		"waste_le512", "waste_le1k", "waste_le2k", "waste_le4k",
	};
	const struct subject *sub = subject_of(s);
	struct heap_bench *b = hb(s);
	uint64_t live[NR_CLASSES] = { 0 }, held[NR_CLASSES] = { 0 }, all_live = 0, all_held = 0;
	uint64_t footprint;

	for (size_t i = 0; i < b->nr_live; i++) {
		unsigned int c = size_class(b->live[i].size);
		uint64_t u = sub->usable(b->ctx, b->live[i].p, b->live[i].size);

		live[c] += b->live[i].size;
		held[c] += u;
		all_live += b->live[i].size;
		all_held += u;
	}
	for (unsigned int c = 0; c < NR_CLASSES; c++)
		if (live[c])
			bench_counter(s, names[c], (double)(held[c] - live[c]) / (double)live[c], false);
	footprint = sub->footprint ? sub->footprint(b->ctx) : all_held;
	if (all_live)
		bench_counter(s, "waste_total", (double)(footprint - all_live) / (double)all_live, false);
	bench_counter(s, "failed", (double)b->failed, false);
}

/* --- the case table --------------------------------------------------------------------------- */

struct heap_workload {
	const char *name;
	uint64_t arg;
	int (*setup)(struct bench_state *s);
	uint64_t (*step)(struct bench_state *s, struct bench_thread *t);
	void (*report)(struct bench_state *s);
};

static const struct heap_workload workloads[] = {
	{ "pair_16", 16, setup_pair, step_pair, report },
	{ "pair_64", 64, setup_pair, step_pair, report },
	{ "pair_256", 256, setup_pair, step_pair, report },
	{ "pair_1k", 1024, setup_pair, step_pair, report },
	{ "pair_4k", 4096, setup_pair, step_pair, report },
	{ "pair_16_empty", 16, setup_empty, step_pair, report },
	{ "pair_random", 0, setup_random, step_random, report },
	{ "churn", 0, setup_churn, step_churn, report_churn },
};

void bench_register_heap(void)
{
	for (size_t w = 0; w < sizeof(workloads) / sizeof(workloads[0]); w++) {
		for (size_t i = 0; i < sizeof(subjects) / sizeof(subjects[0]); i++) {
			const struct heap_workload *wl = &workloads[w];
			struct bench_case c = {
				.group = "heap",
				.threads = 1,
				.arg = wl->arg,
				.ptr = &subjects[i],
				.setup = wl->setup,
				.step = wl->step,
				.report = wl->report,
				.teardown = teardown,
			};

			snprintf(c.workload, sizeof(c.workload), "%s", wl->name);
			snprintf(c.subject, sizeof(c.subject), "%s", subjects[i].name);
			snprintf(c.name, sizeof(c.name), "heap/%s/%s", wl->name, subjects[i].name);
			bench_case_add(&c);
		}
	}
}

/* hvmm-bench-heap registers these cases only. */
void bench_register_cases(void)
{
	bench_register_heap();
}
