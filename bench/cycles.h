/* SPDX-License-Identifier: MIT */
/*
 * The cycle counter benchmarks time single operations with: rdtsc fenced
 * with lfence/rdtscp on x86_64 (so the timed instructions can neither start
 * before the first read nor finish after the second), cntvct_el0 after an
 * isb on aarch64, and clock_gettime elsewhere. The counter's own cost is
 * measured once and subtracted by the harness; ticks become nanoseconds
 * through a frequency calibrated against CLOCK_MONOTONIC_RAW.
 */
#ifndef BENCH_CYCLES_H
#define BENCH_CYCLES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__x86_64__)
static inline uint64_t bench_ticks_begin(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t bench_ticks_end(void)
{
	uint32_t lo, hi, aux;

	__asm__ volatile("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}
#elif defined(__aarch64__)
static inline uint64_t bench_ticks_begin(void)
{
	uint64_t v;

	__asm__ volatile("isb\n\tmrs %0, cntvct_el0\n\tisb" : "=r"(v) :: "memory");
	return v;
}

static inline uint64_t bench_ticks_end(void)
{
	uint64_t v;

	__asm__ volatile("isb\n\tmrs %0, cntvct_el0\n\tisb" : "=r"(v) :: "memory");
	return v;
}
#else
uint64_t bench_ticks_fallback(void);
static inline uint64_t bench_ticks_begin(void) { return bench_ticks_fallback(); }
static inline uint64_t bench_ticks_end(void) { return bench_ticks_fallback(); }
#endif

/* Measures the counter (frequency, overhead) once; later calls are free. */
void bench_ticks_calibrate(void);
/* Ticks per nanosecond. */
double bench_ticks_per_ns(void);
/* Median cost of an empty begin/end pair, in ticks. */
uint64_t bench_ticks_overhead(void);
/* The counter's step in ticks: every reading is a multiple of it. */
uint64_t bench_ticks_step(void);
/* A begin/end difference minus the overhead, never below zero. */
static inline uint64_t bench_ticks_net(uint64_t begin, uint64_t end, uint64_t overhead)
{
	uint64_t d = end - begin;

	return d > overhead ? d - overhead : 0;
}

/* Wall clock in nanoseconds (CLOCK_MONOTONIC). */
uint64_t bench_now_ns(void);

#ifdef __cplusplus
}
#endif

#endif /* BENCH_CYCLES_H */
