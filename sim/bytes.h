/* SPDX-License-Identifier: MIT */
#ifndef SIM_BYTES_H
#define SIM_BYTES_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Byte compares for the oracles' sweeps, which compare whole pages and
 * runs of metadata many times per run. Not memcmp: under AddressSanitizer
 * every memcmp goes through its interceptor, which scans the shadow of
 * both buffers before comparing and hands the bytes to libFuzzer's
 * comparison hook; for the sweeps of a fuzz input that made it a fifth of
 * the CPU, and filled the engine's table of compared values, which its
 * mutations draw on, with the oracles' pages instead of the code under
 * test's. These read what they are given unchecked; their callers pass
 * simulated memory and the checkers' own arrays, whose bounds they know.
 */

/* Whether the @n bytes at @a and @b are equal. */
bool sim_bytes_equal(const void *a, const void *b, size_t n);

/* Whether the @n bytes at @p are all zero. */
bool sim_bytes_zero(const void *p, size_t n);

#endif
