/* SPDX-License-Identifier: MIT */
/*
 * Linearizability of a concurrent history (the CONC oracle's result check):
 * every op's result must equal its result in some sequential order of the
 * ops that respects real time (an op that returned before another was
 * invoked comes first), run on the sequential reference.
 *
 * The search is Wing and Gong's, with Lowe's memoization: depth first over
 * the ops that may come next (those invoked before every pending op
 * returned), each applied to the reference model if the model allows the
 * result it returned; a (set of ops done, model state) pair already tried
 * is not tried again. Backtracking restores a snapshot of everything the
 * history's ops can touch, taken before the search, and applies the prefix
 * again, so a model needs no undo of its own. The search is bounded by a
 * budget of nodes: past it the answer is "gave up", never a verdict.
 *
 * References (each a plain model that never looks at mm/):
 *  - SPEC (oracle/spec.h) for VM, ownership and stage-2 ops: the result
 *    must be what SPEC predicts, or -ENOMEM where SPEC allows it;
 *  - the allocator shadow (oracle/alloc_shadow.h) with a table of handles
 *    for alloc, free, get and put: an allocation may return any free,
 *    aligned block of its order, and fail only if no such block exists
 *    (AVAIL); a free or put must name a live handle.
 * Ops of other kinds are not judged (they are placed, but any result goes).
 *
 * The history format is shared with the interleaver (sim/machine_conc.h):
 * an INVOKE/RETURN log in real-time order converts with call and ret set to
 * the positions of an op's two entries.
 */
#ifndef SIM_ORACLE_LINEARIZE_H
#define SIM_ORACLE_LINEARIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "op.h"
#include "oracle/alloc_shadow.h"
#include "oracle/spec.h"

/* One completed op of a concurrent history. */
struct sim_lin_event {
	struct sim_op op;	/* as in traces: handles, vm<N> */
	uint32_t vcpu;		/* the ops of one vCPU never overlap */
	uint64_t call, ret;	/* instants on one clock for every vCPU; call < ret */
	int result;		/* 0 or -SIM_E* */
	uint64_t value;		/* alloc: the first pfn handed out */
};

/* Most ops one check takes (the set of ops done is a bitmap of this size). */
#define SIM_LIN_MAX_OPS		256

/* A handle of the allocator reference, as the search sees it. */
struct sim_lin_handle {
	uint64_t pfn, pages;
	uint32_t refs;		/* 0: not live */
};

/*
 * Where the allocator reference finds a handle's state before the history
 * (the executor's handle table); false if @h is not live.
 */
typedef bool (*sim_lin_handle_fn)(void *ctx, uint32_t h, struct sim_lin_handle *out);

/* The references a check runs on; either may be NULL if the history has none of its ops. */
struct sim_lin_refs {
	struct sim_spec *spec;
	struct sim_alloc_shadow *shadow;
	uint64_t alloc_max_order;	/* largest order the allocator can return */
	sim_lin_handle_fn handle;
	void *handle_ctx;
};

enum sim_lin_verdict {
	SIM_LIN_OK,		/* order[] is a witness */
	SIM_LIN_VIOLATION,	/* no order exists */
	SIM_LIN_GAVE_UP,	/* node budget spent */
	SIM_LIN_BAD_INPUT,	/* too many ops, or call >= ret, or one vCPU's ops overlap */
};

struct sim_lin_result {
	enum sim_lin_verdict verdict;
	size_t order[SIM_LIN_MAX_OPS];	/* OK: indices into the history, in sequential order */
	size_t n;
	uint64_t nodes;			/* ops applied in the search */
	/*
	 * VIOLATION: the longest prefix of a legal order the search found
	 * (order[0..longest)) and the op no continuation of it could place
	 * with its result: the op to blame.
	 */
	size_t longest;
	size_t stuck;
};

/*
 * Checks @h[0..n). The references are left as they were before the call
 * (the caller applies the witness order itself, e.g. through the executor).
 */
enum sim_lin_verdict sim_lin_check(const struct sim_lin_refs *refs,
				   const struct sim_lin_event *h, size_t n,
				   uint64_t max_nodes, struct sim_lin_result *out);

/* "ok", "violation", "gave up", "bad input". */
const char *sim_lin_verdict_name(enum sim_lin_verdict v);

#endif /* SIM_ORACLE_LINEARIZE_H */
