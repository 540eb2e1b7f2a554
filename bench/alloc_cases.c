// SPDX-License-Identifier: MIT
/*
 * Allocator latency: the same workloads on every allocator in
 * sim_allocators[], driven through the allocator-under-test interface
 * (sim/alloc/allocator.h) of a machine with the oracles off, so the
 * figures are the allocator's own cost plus one indirect call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvmm/types.h>

#include "alloc/allocator.h"
#include "bench.h"
#include "machine.h"

#define SMALL_POOL	(1ULL << 14)	/* 64 MiB: fits the last-level cache's reach */
#define TINY_POOL	(1ULL << 10)	/* 4 MiB */
#define LARGE_MAP	(1ULL << 20)	/* 1M frames: the contiguous-request maps */
#define BULK		4096

struct block {
	uint64_t pfn;
	uint32_t count;		/* frames of a contiguous run; 0: a 2^order block */
	uint8_t order;
};

/* Blocks a thread holds. */
struct held {
	struct block *b;
	size_t n, cap, next;	/* next: the FIFO cursor of bulk frees */
	uint64_t pages;		/* pages held (churn workload) */
	uint64_t failed;	/* requests that found no memory */
};

struct alloc_bench {
	struct sim_machine *m;
	struct sim_allocator *a;
	struct held held[BENCH_MAX_THREADS];
	struct held fill;	/* what the set-up holds to shape the map */
};

static struct alloc_bench *ab(struct bench_state *s)
{
	return s->priv;
}

static const struct sim_allocator_ops *ops_of(const struct bench_state *s)
{
	return s->c->ptr;
}

static int held_push(struct held *h, struct block b)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 1024;
		struct block *n = realloc(h->b, cap * sizeof(*n));

		if (!n)
			return -1;
		h->b = n;
		h->cap = cap;
	}
	h->b[h->n++] = b;
	return 0;
}

static int alloc_block(struct sim_allocator *a, unsigned int order, struct block *b)
{
	b->order = (uint8_t)order;
	b->count = 0;
	return a->ops->alloc(a, order, &b->pfn);
}

/* 512 frames aligned to 2 MiB: alloc_contig where the allocator has it. */
static int alloc_2m(struct sim_allocator *a, struct block *b)
{
	if (!a->ops->alloc_contig)
		return alloc_block(a, 9, b);
	b->order = 9;
	b->count = 512;
	return a->ops->alloc_contig(a, 512, 9, &b->pfn);
}

static int release(struct sim_allocator *a, const struct block *b)
{
	if (b->count)
		return a->ops->dealloc_range(a, b->pfn, b->count);
	return a->ops->free(a, b->pfn, 1ULL << b->order);
}

/* A machine whose pool is exactly @pages pages of RAM, oracles off. */
static int open_machine(struct bench_state *s, uint64_t pages)
{
	struct sim_machine_config cfg;
	struct alloc_bench *b = calloc(1, sizeof(*b));
	uint8_t *host;

	if (!b) {
		snprintf(s->err, sizeof(s->err), "out of memory");
		return -1;
	}
	s->priv = b;
	sim_machine_config_default(&cfg);
	cfg.regions[0].size = pages << HVMM_PAGE_SHIFT;
	cfg.pool_pages = pages;
	cfg.oracles = SIM_ORACLES_OFF;
	snprintf(cfg.allocator, sizeof(cfg.allocator), "%s", ops_of(s)->name);
	b->m = sim_machine_create(&cfg, s->err, sizeof(s->err));
	if (!b->m)
		return -1;
	b->a = sim_machine_allocator(b->m);
	/*
	 * Pre-touch the pool so no timed operation takes a page fault: the
	 * last word of each page, which is zero in a free page whatever the
	 * allocator keeps in the first bytes. Large maps are left alone
	 * (their workloads touch what they use in set-up).
	 */
	host = sim_physmem_pa_to_host(sim_machine_physmem(b->m), cfg.regions[0].base);
	if (pages <= SMALL_POOL)
		for (uint64_t i = 0; i < pages; i++)
			((volatile uint64_t *)(host + ((i + 1) << HVMM_PAGE_SHIFT)))[-1] = 0;
	return 0;
}

static void teardown(struct bench_state *s)
{
	struct alloc_bench *b = ab(s);

	if (!b)
		return;
	for (unsigned int i = 0; i < BENCH_MAX_THREADS; i++)
		free(b->held[i].b);
	free(b->fill.b);
	sim_machine_destroy(b->m);
	free(b);
	s->priv = NULL;
}

static void report(struct bench_state *s)
{
	uint64_t failed = 0;

	for (unsigned int i = 0; i < s->nr_threads; i++)
		failed += ab(s)->held[i].failed;
	bench_counter(s, "failed", (double)failed, false);
}

/* --- map shapes -------------------------------------------------------- */

static int setup_small(struct bench_state *s)
{
	return open_machine(s, SMALL_POOL);
}

/* A 4 MiB pool: one block of the largest order, the same tree in both buddies. */
static int setup_tiny(struct bench_state *s)
{
	return open_machine(s, TINY_POOL);
}

/* Everything allocated but one order-0 page. */
static int setup_full_but_one(struct bench_state *s)
{
	struct alloc_bench *b;
	struct block blk;

	if (open_machine(s, SMALL_POOL))
		return -1;
	b = ab(s);
	while (!alloc_block(b->a, 0, &blk))
		if (held_push(&b->fill, blk))
			return -1;
	if (!b->fill.n)
		return -1;
	return release(b->a, &b->fill.b[--b->fill.n]);
}

static int setup_fragmented(struct bench_state *s)
{
	struct alloc_bench *b;
	struct block blk;
	struct sim_rng *rng = &s->thread[0].rng;

	if (open_machine(s, SMALL_POOL))
		return -1;
	b = ab(s);
	/* Fill with mixed orders, then free a random 40%: holes everywhere. */
	while (!alloc_block(b->a, (unsigned int)sim_rng_below(rng, 4), &blk)) {
		if (held_push(&b->held[0], blk))
			return -1;
		b->held[0].pages += 1ULL << blk.order;
	}
	for (size_t i = 0; i < b->held[0].n;) {
		if (sim_rng_below(rng, 10) < 4) {
			b->held[0].pages -= 1ULL << b->held[0].b[i].order;
			release(b->a, &b->held[0].b[i]);
			b->held[0].b[i] = b->held[0].b[--b->held[0].n];
		} else {
			i++;
		}
	}
	return 0;
}

static int setup_contig_empty(struct bench_state *s)
{
	return open_machine(s, LARGE_MAP);
}

/* The lower half of the map allocated in 2 MiB runs. */
static int setup_contig_half(struct bench_state *s)
{
	struct alloc_bench *b;
	struct block blk;

	if (open_machine(s, LARGE_MAP))
		return -1;
	b = ab(s);
	for (uint64_t i = 0; i < LARGE_MAP / 2 / 512; i++) {
		if (alloc_2m(b->a, &blk) || held_push(&b->fill, blk)) {
			snprintf(s->err, sizeof(s->err), "cannot fill half the map");
			return -1;
		}
	}
	return 0;
}

/* Every other frame allocated: no two free frames are adjacent. */
static int setup_contig_checker(struct bench_state *s)
{
	struct alloc_bench *b;
	struct block blk;
	size_t kept = 0;

	if (open_machine(s, LARGE_MAP))
		return -1;
	b = ab(s);
	while (!alloc_block(b->a, 0, &blk))
		if (held_push(&b->fill, blk))
			return -1;
	for (size_t i = 0; i < b->fill.n; i++) {
		if (b->fill.b[i].pfn & 1)
			release(b->a, &b->fill.b[i]);
		else
			b->fill.b[kept++] = b->fill.b[i];
	}
	b->fill.n = kept;
	return 0;
}

/* --- steps ------------------------------------------------------------- */

/* alloc(order) then free, timed together. */
static uint64_t step_pair(struct bench_state *s, struct bench_thread *t)
{
	struct sim_allocator *a = ab(s)->a;
	unsigned int order = (unsigned int)s->c->arg;
	uint64_t pfn, t0 = bench_time_begin(), d;
	int ret = a->ops->alloc(a, order, &pfn);

	if (!ret)
		a->ops->free(a, pfn, 1ULL << order);
	d = bench_time_end(s, t0);
	if (ret)
		ab(s)->held[t->index].failed++;
	return d;
}

/* BULK order-0 allocations in a row, each timed; then all freed untimed. */
static uint64_t step_bulk_alloc(struct bench_state *s, struct bench_thread *t)
{
	struct alloc_bench *b = ab(s);
	struct held *h = &b->held[t->index];
	struct block blk;
	uint64_t t0, d;
	int ret;

	if (h->n == BULK) {
		while (h->n)
			release(b->a, &h->b[--h->n]);
	}
	t0 = bench_time_begin();
	ret = alloc_block(b->a, 0, &blk);
	d = bench_time_end(s, t0);
	if (ret || held_push(h, blk))
		h->failed++;
	return d;
}

/* BULK order-0 blocks allocated untimed, then freed in order, each timed. */
static uint64_t step_bulk_free(struct bench_state *s, struct bench_thread *t)
{
	struct alloc_bench *b = ab(s);
	struct held *h = &b->held[t->index];
	struct block blk;
	uint64_t t0;

	if (h->next == h->n) {
		h->n = h->next = 0;
		for (unsigned int i = 0; i < BULK && !alloc_block(b->a, 0, &blk); i++)
			held_push(h, blk);
		if (s->c->arg)	/* random order: shuffle */
			for (size_t i = h->n; i > 1; i--) {
				size_t j = sim_rng_below(&t->rng, i);
				struct block tmp = h->b[i - 1];

				h->b[i - 1] = h->b[j];
				h->b[j] = tmp;
			}
		if (!h->n) {
			h->failed++;
			return 0;
		}
	}
	t0 = bench_time_begin();
	release(b->a, &h->b[h->next++]);
	return bench_time_end(s, t0);
}

/*
 * Steady churn between 40% and 85% occupancy: random orders 0..3 skewed
 * low, frees of random held blocks. Allocs and frees share the histogram.
 */
static uint64_t step_fragment(struct bench_state *s, struct bench_thread *t)
{
	struct alloc_bench *b = ab(s);
	struct held *h = &b->held[t->index];
	uint64_t t0, d;
	bool do_alloc = h->pages < SMALL_POOL * 2 / 5 ||
			(h->pages < SMALL_POOL * 17 / 20 && sim_rng_below(&t->rng, 2));
	struct block blk;

	if (do_alloc || !h->n) {
		unsigned int order = (unsigned int)__builtin_ctzll(sim_rng_next(&t->rng) | 8);
		int ret;

		t0 = bench_time_begin();
		ret = alloc_block(b->a, order, &blk);
		d = bench_time_end(s, t0);
		if (ret || held_push(h, blk))
			h->failed++;
		else
			h->pages += 1ULL << order;
		return d;
	}
	{
		size_t i = sim_rng_below(&t->rng, h->n);

		blk = h->b[i];
		h->b[i] = h->b[--h->n];
		h->pages -= 1ULL << blk.order;
		t0 = bench_time_begin();
		release(b->a, &blk);
		return bench_time_end(s, t0);
	}
}

/* 512 frames aligned to 2 MiB; freed untimed when it succeeds. */
static uint64_t step_contig(struct bench_state *s, struct bench_thread *t)
{
	struct alloc_bench *b = ab(s);
	struct block blk;
	uint64_t t0 = bench_time_begin(), d;
	int ret = alloc_2m(b->a, &blk);

	d = bench_time_end(s, t0);
	if (ret)
		b->held[t->index].failed++;
	else
		release(b->a, &blk);
	return d;
}

/* --- the table --------------------------------------------------------- */

struct alloc_workload {
	const char *name;
	unsigned int threads;
	uint64_t arg;
	uint64_t iterations;	/* fixed steps (slow untimed frees) or 0 */
	int (*setup)(struct bench_state *s);
	uint64_t (*step)(struct bench_state *s, struct bench_thread *t);
};

static const struct alloc_workload workloads[] = {
	{ "pair_o0", 1, 0, 0, setup_small, step_pair },
	{ "pair_o0_pool2^10", 1, 0, 0, setup_tiny, step_pair },
	{ "pair_o0_2threads", 2, 0, 0, setup_small, step_pair },
	{ "pair_o1", 1, 1, 0, setup_small, step_pair },
	{ "pair_o2", 1, 2, 0, setup_small, step_pair },
	{ "pair_o3", 1, 3, 0, setup_small, step_pair },
	{ "pair_o4", 1, 4, 0, setup_small, step_pair },
	{ "pair_o5", 1, 5, 0, setup_small, step_pair },
	{ "pair_o6", 1, 6, 0, setup_small, step_pair },
	{ "pair_o7", 1, 7, 0, setup_small, step_pair },
	{ "pair_o8", 1, 8, 0, setup_small, step_pair },
	{ "pair_o9", 1, 9, 0, setup_small, step_pair },
	{ "pair_o10", 1, 10, 0, setup_small, step_pair },
	{ "same_block_full", 1, 0, 0, setup_full_but_one, step_pair },
	{ "bulk_alloc", 1, 0, 0, setup_small, step_bulk_alloc },
	{ "bulk_free", 1, 0, 0, setup_small, step_bulk_free },
	{ "random_free", 1, 1, 0, setup_small, step_bulk_free },
	{ "fragmented_churn", 1, 0, 0, setup_fragmented, step_fragment },
	{ "contig512_empty", 1, 0, 2000, setup_contig_empty, step_contig },
	{ "contig512_half", 1, 0, 2000, setup_contig_half, step_contig },
	{ "contig512_checker", 1, 0, 0, setup_contig_checker, step_contig },
};

void bench_register_alloc(void)
{
	for (unsigned int i = 0; sim_allocators[i]; i++) {
		for (size_t w = 0; w < sizeof(workloads) / sizeof(workloads[0]); w++) {
			const struct alloc_workload *wl = &workloads[w];
			struct bench_case c = {
				.group = "alloc",
				.threads = wl->threads,
				.arg = wl->arg,
				.iterations = wl->iterations,
				.ptr = sim_allocators[i],
				.setup = wl->setup,
				.step = wl->step,
				.report = report,
				.teardown = teardown,
			};

			snprintf(c.workload, sizeof(c.workload), "%s", wl->name);
			snprintf(c.subject, sizeof(c.subject), "%s", sim_allocators[i]->name);
			snprintf(c.name, sizeof(c.name), "alloc/%s/%s", wl->name,
				 sim_allocators[i]->name);
			bench_case_add(&c);
		}
	}
}
