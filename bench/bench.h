/* SPDX-License-Identifier: MIT */
/*
 * Benchmark cases, written in C. A case is a name, a setup, a step and a
 * teardown; bench/gbench.cc registers every case with Google Benchmark,
 * which decides how many steps to run and writes the results (console,
 * --benchmark_out JSON).
 *
 * A step performs one operation (an alloc/free pair, one replay of an op
 * stream, ...) and returns the ticks of the part it timed, with the
 * counter's overhead already subtracted (see bench_time_begin/end). The
 * harness puts every step into a histogram, so each case reports
 * p50/p99/p99.9/max beside Google Benchmark's mean.
 *
 * Cases come from tables (allocator workloads x sim_allocators[],
 * simulator throughput and scale, bundled traces); each module appends
 * its cases in a constructor-free register function listed in
 * bench_cases_build().
 *
 * The one place outside the executor that calls mm/ directly: the
 * micro-benchmark cases (alloc_cases.c, bitmap_cases.c, floor_cases.c,
 * heap_cases.c, parts of sim_cases.c) include mm/'s headers and call its
 * allocators on simulated memory, bypassing sim/machine.c, because they
 * measure mm/'s own cost per call, which the executor's validation,
 * shadows and oracles would drown. They judge nothing and record no
 * trace; what they run is also run through the executor, with every
 * oracle on, by the workloads and traces of the same names. The replay
 * cases go through the executor as every other driver does.
 */
#ifndef BENCH_BENCH_H
#define BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cycles.h"
#include "hist.h"
#include "workload.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_MAX_THREADS	4
#define BENCH_MAX_COUNTERS	16

struct bench_state;

/* What one thread of a case owns. */
struct bench_thread {
	unsigned int index;
	struct bench_hist hist;
	struct sim_rng rng;
	void *priv;
	uint64_t items;		/* operations done (ops/s = items / time) */
};

struct bench_case {
	char name[96];		/* group/workload/subject, as Google Benchmark shows it */
	const char *group;	/* "alloc", "sim", "scale", "replay" */
	char workload[48];
	char subject[48];	/* allocator or configuration */
	unsigned int threads;
	uint64_t arg;		/* the workload's parameter (order, pages, oracle level) */
	const void *ptr;	/* the workload's object (allocator ops, trace path) */
	double min_time;	/* seconds of timed steps per repetition; 0: default */
	/*
	 * Fixed step count (times --hvmm_scale) for cases whose untimed part
	 * dominates, where running to a minimum of timed seconds would take
	 * far longer in wall time; 0: Google Benchmark decides.
	 */
	uint64_t iterations;

	/* 0, or -1 with the reason in s->err: the case is skipped. */
	int (*setup)(struct bench_state *s);
	/* One operation by thread @t; returns its net ticks. */
	uint64_t (*step)(struct bench_state *s, struct bench_thread *t);
	/* Extra counters once the steps are done (optional). */
	void (*report)(struct bench_state *s);
	void (*teardown)(struct bench_state *s);
};

struct bench_counter {
	const char *name;
	double value;
	bool rate;		/* per second of benchmark time */
};

struct bench_state {
	const struct bench_case *c;
	unsigned int nr_threads;
	uint64_t overhead;		/* ticks of an empty timed region */
	uint64_t items_per_step;	/* default items a step adds (1) */
	void *priv;
	struct bench_thread thread[BENCH_MAX_THREADS];
	struct bench_counter counter[BENCH_MAX_COUNTERS];
	unsigned int nr_counters;
	char err[256];
};

/* Timing a region inside a step. */
static inline uint64_t bench_time_begin(void)
{
	return bench_ticks_begin();
}

static inline uint64_t bench_time_end(const struct bench_state *s, uint64_t begin)
{
	return bench_ticks_net(begin, bench_ticks_end(), s->overhead);
}

/* --- the case list ------------------------------------------------------ */

/* Appends a copy of @c; the list lives until exit. */
void bench_case_add(const struct bench_case *c);
/* Builds the list once and returns it. */
const struct bench_case *bench_cases(size_t *nr);

/*
 * The program's case list (bench/cases.c for hvmm-bench, heap_cases.c for
 * hvmm-bench-heap), built by calling the modules' register functions.
 */
void bench_register_cases(void);

/* Modules' register functions. */
void bench_register_heap(void);
void bench_register_alloc(void);
void bench_register_sim(void);
void bench_register_bitmap(void);
void bench_register_floor(void);

/* --- running a case (used by the shim) ----------------------------------- */

/* Sets a case up for @threads threads and warms it; NULL with @err on failure. */
struct bench_state *bench_open(const struct bench_case *c, unsigned int threads,
			       char *err, size_t errlen);
/* One step of thread @t into its histogram; returns the step's net ticks. */
static inline uint64_t bench_step(struct bench_state *s, struct bench_thread *t)
{
	uint64_t v = s->c->step(s, t);

	bench_hist_add(&t->hist, v);
	t->items += s->items_per_step;
	return v;
}
/* Forgets the samples taken so far (after warm-up). */
void bench_reset(struct bench_state *s);

struct bench_summary {
	uint64_t samples, items;
	double mean_ns, p50_ns, p99_ns, p999_ns, max_ns;
};
/* Merges the threads' histograms and fills the case's counters. */
void bench_summarize(struct bench_state *s, struct bench_summary *sum);
void bench_close(struct bench_state *s);

/* Adds a counter for the current run (teardown/report time). */
void bench_counter(struct bench_state *s, const char *name, double value, bool rate);

/* Resident memory of this process in bytes (/proc/self/statm). */
uint64_t bench_rss_bytes(void);

/*
 * Leaves nothing of what ran before in the data caches or the TLB: writes
 * every 64-byte line of a buffer twice the last-level cache. For cases
 * whose untimed set-up differs between the subjects compared, so that
 * what one subject's set-up left warm is not counted in its favour. The
 * buffer stays mapped; bench_rss_bytes() leaves it out.
 */
void bench_evict_caches(void);

#ifdef __cplusplus
}
#endif

#endif /* BENCH_BENCH_H */
