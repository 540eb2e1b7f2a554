// SPDX-License-Identifier: MIT
#include "cycles.h"

#include <stdlib.h>
#include <time.h>

static double ticks_per_ns;
static uint64_t overhead;
static uint64_t step;

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t bench_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

#if !defined(__x86_64__) && !defined(__aarch64__)
uint64_t bench_ticks_fallback(void)
{
	return clock_ns(CLOCK_MONOTONIC_RAW);
}
#endif

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Ticks against the raw monotonic clock over a few 20 ms windows; the
 * median window wins, so one preempted window (the machine is shared)
 * does not skew the result.
 */
static double calibrate_frequency(void)
{
	double rates[5];

	for (int i = 0; i < 5; i++) {
		uint64_t t0 = clock_ns(CLOCK_MONOTONIC_RAW), c0 = bench_ticks_begin(), t1, c1;

		do
			t1 = clock_ns(CLOCK_MONOTONIC_RAW);
		while (t1 - t0 < 20000000);
		c1 = bench_ticks_end();
		rates[i] = (double)(c1 - c0) / (double)(t1 - t0);
	}
	for (int i = 1; i < 5; i++)
		for (int j = i; j > 0 && rates[j] < rates[j - 1]; j--) {
			double t = rates[j];

			rates[j] = rates[j - 1];
			rates[j - 1] = t;
		}
	return rates[2];
}

/* The median of many back-to-back begin/end pairs. */
static uint64_t measure_overhead(void)
{
	enum { N = 20001 };
	uint64_t *d = malloc(N * sizeof(*d)), med;

	if (!d)
		return 0;
	for (int i = 0; i < N; i++) {
		uint64_t b = bench_ticks_begin();

		d[i] = bench_ticks_end() - b;
	}
	qsort(d, N, sizeof(*d), cmp_u64);
	med = d[N / 2];
	free(d);
	return med;
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * The counter's step: the greatest common divisor of the differences
 * between reads around regions of varying length. A fine counter gives a
 * tick or two; one a hypervisor advances in coarse steps (some virtual
 * TSCs move 10 ns at a time) gives that step, and every single-operation
 * figure is then a multiple of it.
 */
static uint64_t measure_step(void)
{
	uint64_t g = 0;

	for (int i = 0; i < 20000; i++) {
		volatile int spin = 0;
		uint64_t b = bench_ticks_begin(), e;

		for (int k = 0; k < i % 7; k++)
			spin++;
		e = bench_ticks_end();
		if (e != b)
			g = gcd_u64(e - b, g);
	}
	return g;
}

void bench_ticks_calibrate(void)
{
	if (ticks_per_ns > 0)
		return;
	measure_overhead();	/* warm the code and the counter */
	overhead = measure_overhead();
	step = measure_step();
	ticks_per_ns = calibrate_frequency();
}

double bench_ticks_per_ns(void)
{
	bench_ticks_calibrate();
	return ticks_per_ns;
}

uint64_t bench_ticks_overhead(void)
{
	bench_ticks_calibrate();
	return overhead;
}

uint64_t bench_ticks_step(void)
{
	bench_ticks_calibrate();
	return step;
}
