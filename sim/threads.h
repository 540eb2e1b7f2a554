/* SPDX-License-Identifier: MIT */
/*
 * Real-threads mode: vCPUs as host threads (pthreads) running random ops
 * on mm/ at the same time, on one machine's shared allocator pool, host
 * stage-2 and guest stage-2 tables, with mm/'s real locks (its ticket lock
 * on C11 atomics: in this mode nothing schedules the threads but the host).
 *
 * The run goes in epochs. In each, every thread runs up to @epoch_ops ops
 * straight on mm/ (the allocator under test, the ownership transitions on
 * two shared VMs, over small windows of pages and IPAs so that threads
 * collide), stamping each op's invocation and response on one atomic
 * clock. Then all threads wait at a barrier (a quiescent point: no thread
 * is inside mm/) while the main thread judges the epoch:
 *  1. linearizability (oracle/linearize.h): an order of the epoch's ops,
 *     consistent with real time, in which SPEC and the allocator shadow
 *     give every op the result it had;
 *  2. that order is committed to the executor (sim_machine_commit), which
 *     does each op's bookkeeping and SPEC's judgement as in a sequential
 *     run, then a full sweep of every state oracle compares mm/ with the
 *     shadows (ALLOC-*, OWNERSHIP, REFCOUNT, TYPE, PT-WALK, IDEAL...).
 * Between epochs the main thread may destroy and create a VM through the
 * executor, so donated pages come back. The event oracles (BBM,
 * HYP-CONSERVE) watch one op at a time and are off in this mode; no
 * thread makes guest accesses, so the TLB model has nothing to judge.
 *
 * Built with -Db_sanitize=thread (the real ThreadSanitizer runtime, mm/
 * instrumented for it) the same run is a data-race check of mm/ and of
 * the simulator code the threads share; with address it is an ASan run.
 */
#ifndef SIM_THREADS_H
#define SIM_THREADS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "machine.h"

#define SIM_THREADS_MAX		8

struct sim_threads_config {
	unsigned int threads;		/* 1..SIM_THREADS_MAX */
	uint64_t ops;			/* per thread */
	unsigned int epoch_ops;		/* ops per thread between quiescent points (0: 64 / threads) */
	uint64_t seed;
	bool check;			/* linearize, commit and sweep at each quiescent point */
	uint64_t max_nodes;		/* search budget per epoch (0: 1,000,000) */
	FILE *report;			/* a violation's history is printed here (may be NULL) */
	/*
	 * If not NULL, the run is written here as a trace: every op the
	 * executor ran or committed, in that order, with its outcome (a
	 * sequential trace that replays clean); an epoch found at fault
	 * ends it as a concurrent block, each thread's ops after a `sched
	 * vcpu=N` line, for the interleaver (hvmm replay, hvmm explore).
	 */
	struct sim_trace_writer *trace;
};

struct sim_threads_stats {
	uint64_t ops, failed;		/* failed: returned an error (legal or not) */
	uint64_t by_kind[SIM_OP__COUNT];
	uint64_t ok_by_kind[SIM_OP__COUNT];
	uint64_t overlapped;		/* ops that overlapped in time with another thread's */
	uint64_t epochs;
	uint64_t search_nodes;		/* linearizability search, all epochs */
	uint64_t undecided;		/* epochs whose search ran out of budget */
	/*
	 * Epochs whose first order of fitting results left SPEC unlike the
	 * tables, where a later order fitted both (judged by results alone,
	 * the sweep would have blamed mm/ for the first).
	 */
	uint64_t state_reordered;
	uint64_t vm_recycles;
	double run_seconds;		/* threads running ops (between barriers) */
	double total_seconds;		/* everything, checks included */
};

/*
 * Runs on @m, a machine with VMs and a buddy or bitmap allocator, before
 * any op ran on it. 0: the run finished (violations, if any, are in @m's
 * report; an undecided epoch ends the run, counted in @st); -1 with @err
 * set if the machine cannot run this mode or threads cannot be made.
 */
int sim_threads_run(struct sim_machine *m, const struct sim_threads_config *cfg,
		    struct sim_threads_stats *st, char *err, size_t errlen);

#endif /* SIM_THREADS_H */
