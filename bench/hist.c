// SPDX-License-Identifier: MIT
#include "hist.h"

#include <string.h>

void bench_hist_reset(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
}

void bench_hist_merge(struct bench_hist *to, const struct bench_hist *from)
{
	to->count += from->count;
	to->sum += from->sum;
	if (from->max > to->max)
		to->max = from->max;
	for (unsigned int i = 0; i < BENCH_HIST_BUCKETS; i++)
		to->bucket[i] += from->bucket[i];
}

/* The middle of bucket @i (its value, below the exact limit). */
static double bucket_value(unsigned int i)
{
	unsigned int e, sub;
	double lo, width;

	if (i < BENCH_HIST_EXACT)
		return i;
	e = (i - BENCH_HIST_EXACT) / BENCH_HIST_SUB + 11;
	sub = (i - BENCH_HIST_EXACT) % BENCH_HIST_SUB;
	width = (double)(1ULL << (e - 6));
	lo = (double)(1ULL << e) + sub * width;
	return lo + width / 2;
}

double bench_hist_quantile(const struct bench_hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	for (unsigned int i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen > rank) {
			double v = bucket_value(i);

			return v > (double)h->max ? (double)h->max : v;
		}
	}
	return (double)h->max;
}
