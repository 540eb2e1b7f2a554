// SPDX-License-Identifier: MIT
/* The case list and the run-time harness around one case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

static struct bench_case *cases;
static size_t nr_cases, cap_cases;

void bench_case_add(const struct bench_case *c)
{
	if (nr_cases == cap_cases) {
		size_t cap = cap_cases ? cap_cases * 2 : 64;
		struct bench_case *n = realloc(cases, cap * sizeof(*n));

		if (!n) {
			fprintf(stderr, "bench: out of memory building the case list\n");
			exit(1);
		}
		cases = n;
		cap_cases = cap;
	}
	cases[nr_cases++] = *c;
}

const struct bench_case *bench_cases(size_t *nr)
{
	if (!nr_cases)
		bench_register_cases();
	*nr = nr_cases;
	return cases;
}

/* Warm-up: caches, branch predictors, page faults; samples are dropped. */
#define WARM_STEPS	1000
#define WARM_NS		20000000ULL

struct bench_state *bench_open(const struct bench_case *c, unsigned int threads,
			       char *err, size_t errlen)
{
	struct bench_state *s;

	if (threads == 0 || threads > BENCH_MAX_THREADS) {
		snprintf(err, errlen, "%u threads: 1..%d supported", threads, BENCH_MAX_THREADS);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->c = c;
	s->nr_threads = threads;
	s->overhead = bench_ticks_overhead();
	s->items_per_step = 1;
	for (unsigned int i = 0; i < threads; i++) {
		s->thread[i].index = i;
		sim_rng_seed(&s->thread[i].rng, 0x9e3779b97f4a7c15ULL * (i + 1));
	}
	if (c->setup && c->setup(s)) {
		snprintf(err, errlen, "%s", s->err[0] ? s->err : "setup failed");
		if (c->teardown)
			c->teardown(s);
		free(s);
		return NULL;
	}
	for (unsigned int i = 0; i < threads; i++) {
		uint64_t t0 = bench_now_ns();

		for (unsigned int n = 0; n < WARM_STEPS && bench_now_ns() - t0 < WARM_NS; n++)
			bench_step(s, &s->thread[i]);
	}
	bench_reset(s);
	return s;
}

void bench_reset(struct bench_state *s)
{
	for (unsigned int i = 0; i < s->nr_threads; i++) {
		bench_hist_reset(&s->thread[i].hist);
		s->thread[i].items = 0;
	}
	s->nr_counters = 0;
}

void bench_counter(struct bench_state *s, const char *name, double value, bool rate)
{
	if (s->nr_counters < BENCH_MAX_COUNTERS)
		s->counter[s->nr_counters++] = (struct bench_counter){ name, value, rate };
}

void bench_summarize(struct bench_state *s, struct bench_summary *sum)
{
	static struct bench_hist all;	/* big: keep it off the stack */
	double tpn = bench_ticks_per_ns();

	bench_hist_reset(&all);
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < s->nr_threads; i++) {
		bench_hist_merge(&all, &s->thread[i].hist);
		sum->items += s->thread[i].items;
	}
	sum->samples = all.count;
	if (!all.count)
		return;
	sum->mean_ns = (double)all.sum / (double)all.count / tpn;
	sum->p50_ns = bench_hist_quantile(&all, 0.50) / tpn;
	sum->p99_ns = bench_hist_quantile(&all, 0.99) / tpn;
	sum->p999_ns = bench_hist_quantile(&all, 0.999) / tpn;
	sum->max_ns = (double)all.max / tpn;
	if (s->c->report)
		s->c->report(s);
}

void bench_close(struct bench_state *s)
{
	if (!s)
		return;
	if (s->c->teardown)
		s->c->teardown(s);
	free(s);
}

/*
 * The eviction buffer (bench_evict_caches()): mapped and written once,
 * then rewritten by every eviction; a fresh mapping each time spent most
 * of a step in the kernel zeroing it.
 */
static uint8_t *evict_buf;
static size_t evict_len;

uint64_t bench_rss_bytes(void)
{
	unsigned long long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	uint64_t bytes;

	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	bytes = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
	/* The eviction buffer is the harness's, not a case's: every byte of it is resident. */
	return bytes > evict_len ? bytes - evict_len : 0;
}

/*
 * The largest cache the host OS's sysfs describes for CPU 0, in bytes; 0
 * if none. Not sysconf(_SC_LEVEL3_CACHE_SIZE): in a guest, glibc's CPUID
 * reading can report the whole machine's (320 MiB where sysfs and lscpu
 * say 32 MiB).
 */
static size_t last_level_cache_bytes(void)
{
	size_t best = 0;

	for (unsigned int i = 0; i < 8; i++) {
		char path[96], unit = 0;
		unsigned long long size;
		FILE *f;

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/cache/index%u/size", i);
		f = fopen(path, "r");
		if (!f)
			break;
		if (fscanf(f, "%llu%c", &size, &unit) >= 1) {
			size <<= unit == 'K' ? 10 : unit == 'M' ? 20 : 0;
			if (size > best)
				best = size;
		}
		fclose(f);
	}
	return best;
}

/* Twice the last-level cache, and no less than 64 MiB where the kernel does not say. */
static size_t evict_bytes(void)
{
	size_t llc = last_level_cache_bytes();

	return 2 * llc > (64u << 20) ? 2 * llc : 64u << 20;
}

void bench_evict_caches(void)
{
	if (!evict_buf) {
		size_t n = evict_bytes();
		void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			return;
		madvise(p, n, MADV_HUGEPAGE);
		evict_buf = p;
		evict_len = n;
	}
	for (size_t i = 0; i < evict_len; i += 64)
		((volatile uint8_t *)evict_buf)[i] = (uint8_t)i;
}
