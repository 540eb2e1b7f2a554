/* SPDX-License-Identifier: MIT */
#ifndef SIM_RECYCLE_H
#define SIM_RECYCLE_H

#include <stddef.h>

/*
 * Host memory the simulator needs per run (ideal-model cells and tables,
 * TLBs, the touch log, allocator adapters), kept on per-thread free lists
 * by power-of-two size instead of going back to malloc: a reset machine
 * reuses the last run's buffers, so a run does no net malloc (libFuzzer
 * counts mallocs against frees per input and re-runs an input that
 * allocates more than it frees, with leak checking). Nothing is ever
 * returned to malloc: the lists hold at most what one run held at once.
 */

/* @size bytes, zeroed; aborts when out of host memory. */
void *sim_recycle_get(size_t size);

/* The same, not zeroed: for a caller that writes all @size bytes itself. */
void *sim_recycle_get_uninit(size_t size);

/* Gives back @p (NULL is fine), got with the same @size. */
void sim_recycle_put(void *p, size_t size);

#endif
