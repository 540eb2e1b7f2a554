/* SPDX-License-Identifier: MIT */
/*
 * The simulator's PRNG (xoshiro256**, seeded through splitmix64): one
 * definition for the workload generators, the page-table exerciser and
 * the benchmarks, so that a seed means the same stream everywhere.
 */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stdint.h>

struct sim_rng {
	uint64_t s[4];
};

void sim_rng_seed(struct sim_rng *rng, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *rng);
/* Uniform in [0, bound). */
uint64_t sim_rng_below(struct sim_rng *rng, uint64_t bound);

#endif /* SIM_RNG_H */
