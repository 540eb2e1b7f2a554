/* SPDX-License-Identifier: MIT */
/*
 * Concurrent blocks of ops: the executor's side of the interleaver
 * (sim/sched/sched.h).
 *
 * In a trace, `sched vcpu=N` says that the ops after it are issued by
 * host CPU N; the first one starts a concurrent block: from there to the
 * end of the run, every op is queued on its CPU's program instead of run,
 * and the block runs when the run finishes (sim_machine_finish), every
 * CPU's program on a vCPU of its own, interleaved at every step mm/ takes
 * on shared memory. Ops before the first `sched` are the block's
 * sequential prologue (setup).
 *
 * `sched vcpu=N step=K` (K >= 1) is the schedule: at the next K decisions
 * (points where two or more vCPUs could run) the interleaver picks N.
 * Decisions beyond the written schedule, and decisions whose vCPU cannot
 * run, are taken by a PRNG seeded with the machine seed (sim_sched_prng:
 * its top bits say how often it preempts), so a trace without a schedule
 * is deterministic too. Recorders write the schedule they took back as
 * such lines, so a failing interleaving replays step for step.
 *
 * The CONC oracle judges the run as it goes: after every step, the
 * invariants registered as step checks (the Anaxagoros counter invariant);
 * an op that starts while no other vCPU is inside one by the per-op checks
 * of a sequential run, as it goes, until another op starts beside it;
 * once ops that overlapped have all returned, a full sweep of every state
 * oracle (the allocator's free lists under their lock, the tables, the
 * ownership); a deadlock or a run past the step limit. The block stops
 * at its first violation (the machine is then dead: mm/ is left mid-op). The history of invocations and responses
 * (sim_machine_conc_history) is what a linearizability check judges.
 */
#ifndef SIM_MACHINE_CONC_H
#define SIM_MACHINE_CONC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "op.h"
#include "sched/sched.h"

struct sim_machine;

/* One entry of the history of a concurrent block, in real-time order. */
enum sim_conc_hist_kind {
	SIM_CONC_INVOKE,
	SIM_CONC_RETURN,
};

struct sim_conc_hist {
	uint8_t kind;		/* enum sim_conc_hist_kind */
	uint16_t vcpu;
	int result;		/* RETURN: 0 or -HVMM_E* */
	uint64_t op_index;	/* the op's index in the run (its trace position) */
	const struct sim_op *op;
	uint64_t value;		/* RETURN: the op's output (sim_machine_exec's *value) */
	uint64_t step;		/* interleaver steps taken before it */
};

/* Largest host CPU number a `sched` line may name, plus one. */
#define SIM_CONC_MAX_VCPUS	SIM_SCHED_MAX_VCPUS

/* Whether the machine is queueing a concurrent block (a `sched` op was seen). */
bool sim_machine_conc_queued(const struct sim_machine *m);

/*
 * The chooser for the next concurrent block instead of the written
 * schedule and the seeded fallback (explorers, fuzz targets); NULL: back
 * to the default. Not copied: must live until the block has run.
 */
void sim_machine_conc_set_chooser(struct sim_machine *m, const struct sim_sched_chooser *c);

/*
 * Runs the queued block now (sim_machine_finish does). Returns enum
 * sim_sched_status (SIM_SCHED_DONE if there was none).
 */
int sim_machine_conc_run(struct sim_machine *m);

/* After a block ran: its history, the schedule it took, steps and vCPUs. */
const struct sim_conc_hist *sim_machine_conc_history(const struct sim_machine *m, size_t *n);
const uint16_t *sim_machine_conc_schedule(const struct sim_machine *m, size_t *n);
uint64_t sim_machine_conc_steps(const struct sim_machine *m);
/*
 * Whether the last block's run took its written schedule as written: every
 * written decision read (unless a violation stopped the run first), each
 * able to run the vCPU it names. A step is
 * a scheduling point of mm/'s instrumentation, which differs from one
 * compiler (and its options) to another, so a schedule recorded on one
 * build may not fit another: false then, with the counts. True when the
 * block had no written schedule (or a chooser replaced it).
 */
bool sim_machine_conc_schedule_fit(const struct sim_machine *m, size_t *written,
				   size_t *taken, uint64_t *mismatches);
unsigned int sim_machine_conc_vcpus(const struct sim_machine *m);
/* The interleaver of the block (for choosers that look at next accesses). */
struct sim_sched *sim_machine_conc_sched(struct sim_machine *m);

/*
 * A check that runs after every interleaver step (the machine's own CONC
 * checks run first). At most a few; the same fn/ctx once.
 */
bool sim_machine_conc_add_step_check(struct sim_machine *m, sim_sched_step_fn fn, void *ctx);

/*
 * Writes the schedule @choices as `sched vcpu=N step=K` runs through
 * @emit (called once per run, in order).
 */
void sim_conc_schedule_runs(const uint16_t *choices, size_t n,
			    void (*emit)(void *ctx, const struct sim_op *op), void *ctx);

#endif /* SIM_MACHINE_CONC_H */
