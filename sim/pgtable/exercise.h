/* SPDX-License-Identifier: MIT */
/*
 * A random map / unmap / permission sequence run through one or more
 * stage-2 page-table implementations at once, each judged after every
 * operation by the independent walker against a plain shadow of the
 * sequence (PT-WALK): the output address, permissions and memory type of
 * every page the operation touched (every page of the window at intervals
 * and at the end). With several implementations their results must also
 * agree op by op, so a clean run means they translate every IPA the same.
 * Inside every op, the event oracles judge the protocol (sim/oracle/bbm.h):
 * break-before-make on each descriptor write, and TLB maintenance that
 * covers what each break or removed table leaves cached (BBM, TLB).
 *
 * The sequence keeps to what every implementation must do alike (maps
 * onto unmapped ranges, except a 2 MiB block mapped where pages are, which
 * KVM's callers do to collapse pages into a huge page: an implementation
 * whose map replaces the table by the block does so, one whose map refuses
 * a mapped range by design (mm/) gets an unmap first; unmaps that would cut
 * a range a block may map are widened to whole blocks, where
 * implementations may legitimately differ: docs/linux.md).
 */
#ifndef SIM_PGTABLE_EXERCISE_H
#define SIM_PGTABLE_EXERCISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pgtable/pgtable.h"

#define SIM_PGX_MAX_IMPLS	4

struct sim_pgx_result {
	uint64_t ops;
	uint64_t ok_ops;		/* ops every implementation completed */
	uint64_t pages_checked;
	uint64_t mismatches;		/* pages or results that disagreed */
	uint64_t table_pages[SIM_PGX_MAX_IMPLS];	/* held at the end */
	uint64_t collapses;		/* blocks mapped over pages (ops that succeeded) */
	uint64_t past_end_ops;		/* ranges across the end of the input space (refused) */
	uint64_t wrap_ops;		/* ranges whose end wraps past 2^64 (refused) */
	/*
	 * The event oracles (BBM, TLB: sim/oracle/bbm.h) judged every op's
	 * descriptor writes and TLB maintenance: false only in a build the
	 * event layer cannot see (ThreadSanitizer). Their violations, and the
	 * oracle of the first (NULL if none).
	 */
	bool event_oracles;
	uint64_t violations;
	const char *first_oracle;
};

/*
 * Runs @ops random operations (seeded by @seed) on each of @impls (names
 * from sim_pgtables[]) over a 32 MiB IPA window, in simulated memory of
 * its own. Disagreements are described on @report (may be NULL). Returns
 * 0 (see res->mismatches) or -1 with @err set if it could not start.
 */
int sim_pgx_run(const char *const *impls, unsigned int nr_impls, uint64_t ops, uint64_t seed,
		FILE *report, struct sim_pgx_result *res, char *err, size_t errlen);

/*
 * The same, with every choice (op kind, range, output address, permission)
 * read from @data instead of a PRNG, for at most @max_ops ops or until the
 * input runs out: a fuzzer's bytes become the sequence.
 */
int sim_pgx_run_input(const char *const *impls, unsigned int nr_impls, const uint8_t *data,
		      size_t size, uint64_t max_ops, FILE *report, struct sim_pgx_result *res,
		      char *err, size_t errlen);

#endif /* SIM_PGTABLE_EXERCISE_H */
