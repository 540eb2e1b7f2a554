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
 * Results alone do not always say which op came last: two protects of one
 * guest page from different vCPUs both succeed in either order and leave
 * the permissions of the last. So the state the tables hold once every op
 * has returned is an observation too, when the caller gives a reader of
 * it (@walk: the independent stage-2 walker, never mm/): every guest IPA
 * page a successful op named is read once before the search, and an order
 * is a witness only if the model, after it, holds each of those pages as
 * read (mapped or not, the same page, the same permissions). An order
 * whose results fit but whose state does not sends the search on to the
 * next order, within the same node budget and memoization (whether an
 * order from a (set of ops done, model state) pair can end in the state
 * read depends on that pair alone). Only when no order fits both is it a
 * violation; if some order fits the results, that one is handed back
 * (SIM_LIN_STATE) for the caller to commit, so that the state oracles'
 * sweep names the pages that differ.
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
#include "oracle/report.h"
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

/*
 * A guest IPA page as the tables hold it at the quiescent point: @prot
 * (SIM_PROT_*) and @pfn if a walk translates it, -1 if the walk ends in a
 * translation fault (nothing mapped, or the VM is gone), -2 if it ends in
 * any other fault (no model state matches that).
 */
struct sim_lin_leaf {
	int prot;
	uint64_t pfn;
};

/* Reads vm@vm's page at @ipa (page-aligned) from the tables as they are now. */
typedef struct sim_lin_leaf (*sim_lin_walk_fn)(void *ctx, unsigned int vm, uint64_t ipa);

/*
 * Most guest pages one check reads (pages named by the history's
 * successful ops, before duplicates are dropped): a history past it is
 * judged by its results alone (result .leaves 0), as without @walk.
 */
#define SIM_LIN_MAX_LEAVES	(1U << 18)

/* The references a check runs on; either may be NULL if the history has none of its ops. */
struct sim_lin_refs {
	struct sim_spec *spec;
	struct sim_alloc_shadow *shadow;
	uint64_t alloc_max_order;	/* largest order the allocator can return */
	sim_lin_handle_fn handle;
	void *handle_ctx;
	/* NULL: judged by results alone. Needs @spec. */
	sim_lin_walk_fn walk;
	void *walk_ctx;
};

enum sim_lin_verdict {
	SIM_LIN_OK,		/* order[] is a witness (results, and state if read) */
	SIM_LIN_VIOLATION,	/* no order gives every op its result */
	SIM_LIN_GAVE_UP,	/* node budget spent */
	SIM_LIN_BAD_INPUT,	/* too many ops, or call >= ret, or one vCPU's ops overlap */
	/*
	 * A violation: orders give every op its result, but after none of
	 * them does the model hold the pages as the tables do. order[] is
	 * the first such order the search found; mismatch says where it and
	 * the tables differ.
	 */
	SIM_LIN_STATE,
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
	/* STATE: a page where order[]'s model and the tables differ. */
	struct {
		unsigned int vm;
		uint64_t ipa;
		struct sim_lin_leaf model, tables;
	} mismatch;
	size_t leaves;			/* guest pages read from the tables */
	uint64_t state_misses;		/* complete orders whose state did not fit */
};

/*
 * Checks @h[0..n). The references are left as they were before the call
 * (the caller applies the witness order itself, e.g. through the executor).
 */
enum sim_lin_verdict sim_lin_check(const struct sim_lin_refs *refs,
				   const struct sim_lin_event *h, size_t n,
				   uint64_t max_nodes, struct sim_lin_result *out);

/*
 * Reports a STATE verdict as a CONC violation on @rep: of the @n ops, the
 * page of res->mismatch, as the tables hold it and as the model would.
 */
void sim_lin_report_state(struct sim_report *rep, const struct sim_lin_result *res, size_t n);

/* "ok", "violation", "gave up", "bad input", "state violation". */
const char *sim_lin_verdict_name(enum sim_lin_verdict v);

#endif /* SIM_ORACLE_LINEARIZE_H */
