/* SPDX-License-Identifier: MIT */
/*
 * Systematic exploration of the interleavings of a small concurrent block.
 *
 * Stateless: each schedule is a fresh run of the block (the caller's @run
 * resets the machine and runs it with the chooser given), steered by a
 * depth-first search over the decisions.
 *
 *  - Sleep sets (Godefroid) prune schedules that only reorder independent
 *    steps: two steps are independent when they touch disjoint memory or
 *    both only read. After the search has explored vCPU t at a decision,
 *    the schedules that run t's same step later are explored only if a
 *    step dependent with it came first.
 *  - State hashing: at each decision the state is hashed (memory as the
 *    runs' writes left it, Zobrist-style, and every vCPU's history of the
 *    values it saw); a state already explored with a sleep set no larger
 *    is not explored again.
 *  - The search is exhaustive up to @depth decisions per run (later
 *    decisions: no preemption) and @max_schedules runs. If it does not
 *    complete within that budget, PCT runs follow: a bug of depth d is
 *    found by one PCT run with probability at least 1 / (n k^(d-1)).
 */
#ifndef SIM_SCHED_EXPLORE_H
#define SIM_SCHED_EXPLORE_H

#include <stdbool.h>
#include <stdint.h>

#include "sched.h"

struct sim_explore_config {
	unsigned int depth;		/* decisions searched exhaustively per run */
	uint64_t max_schedules;		/* budget of the exhaustive search */
	bool sleep_sets;
	bool hashing;
	uint64_t pct_runs;		/* after an incomplete search */
	unsigned int pct_depth;
	uint64_t seed;
};

struct sim_explore_stats {
	uint64_t schedules;		/* runs, complete or pruned */
	uint64_t complete;		/* runs to the end of the block */
	uint64_t sleep_pruned;		/* runs cut: every runnable vCPU asleep */
	uint64_t state_pruned;		/* runs cut: state already explored */
	uint64_t distinct_states;	/* states hashed at decisions */
	uint64_t steps;			/* interleaver steps over all runs */
	uint64_t max_steps;		/* longest run */
	unsigned int max_vcpus;
	bool exhaustive;		/* the bounded search completed */
	bool depth_reached;		/* some run had more decisions than @depth */
	uint64_t pct_runs;
	double pct_bound;		/* per PCT run, for a bug of depth pct_depth */
	double seconds;
};

/*
 * One run: reset, run the block with @chooser and with @step as one more
 * step check, and return 1 if it showed a violation (the search stops;
 * the caller keeps what it needs of that run), 0 if not, -1 on error.
 */
typedef int (*sim_explore_run_fn)(void *ctx, const struct sim_sched_chooser *chooser,
				  sim_sched_step_fn step, void *step_ctx);

/* Returns 1 if a run showed a violation, 0 if none did, -1 on error. */
int sim_explore(const struct sim_explore_config *cfg, sim_explore_run_fn run, void *ctx,
		struct sim_explore_stats *st);

#endif /* SIM_SCHED_EXPLORE_H */
