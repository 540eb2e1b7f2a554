/* SPDX-License-Identifier: MIT */
/*
 * A latency histogram in ticks: exact below 2048 ticks, then 64 buckets
 * per power of two (under 1.6% error), so millions of samples cost a few
 * tens of KiB and percentiles stay exact where allocator operations live.
 */
#ifndef BENCH_HIST_H
#define BENCH_HIST_H

#include <stdint.h>

#define BENCH_HIST_EXACT	2048
#define BENCH_HIST_SUB		64
#define BENCH_HIST_BUCKETS	(BENCH_HIST_EXACT + (64 - 11) * BENCH_HIST_SUB)

struct bench_hist {
	uint64_t count, sum, max;
	uint64_t bucket[BENCH_HIST_BUCKETS];
};

void bench_hist_reset(struct bench_hist *h);

static inline unsigned int bench_hist_index(uint64_t v)
{
	unsigned int e;

	if (v < BENCH_HIST_EXACT)
		return (unsigned int)v;
	e = 63 - (unsigned int)__builtin_clzll(v);
	return BENCH_HIST_EXACT + (e - 11) * BENCH_HIST_SUB +
	       (unsigned int)((v >> (e - 6)) & (BENCH_HIST_SUB - 1));
}

static inline void bench_hist_add(struct bench_hist *h, uint64_t v)
{
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
	h->bucket[bench_hist_index(v)]++;
}

/* Adds @from's samples to @to. */
void bench_hist_merge(struct bench_hist *to, const struct bench_hist *from);
/* The value below which a fraction @q (0..1) of the samples lie, in ticks. */
double bench_hist_quantile(const struct bench_hist *h, double q);

#endif /* BENCH_HIST_H */
