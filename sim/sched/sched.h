/* SPDX-License-Identifier: MIT */
/*
 * The deterministic interleaver: vCPUs that run mm/ operations at the same
 * time, one at a time, switching at every step mm/ takes on shared memory.
 *
 * Each vCPU is a coroutine (a ucontext with a stack of its own) on the one
 * host thread. The switch points are the event layer's scheduler calls
 * (sim/event/event.h): before every load, store and atomic mm/ performs
 * (READ_ONCE/WRITE_ONCE-style accesses and lock acquire and release
 * included, since mm/'s ticket lock is C11 atomics), and at every spin-wait
 * hint (hvmm_cpu_relax). So mm/ sources are the ones that ship, and the
 * code between two switch points runs as one step.
 *
 * Where two or more vCPUs could run next the scheduler takes a decision
 * from a chooser (a seeded PRNG, fuzzer bytes, a recorded schedule, PCT, or
 * the systematic explorer of sim/sched/explore.h); the decisions taken are
 * the schedule, and the same ops with the same schedule run the same steps.
 *
 * A vCPU that spins on a lock (hvmm_cpu_relax after a load) sleeps until
 * another vCPU writes what it last loaded, so a lock held by a preempted
 * vCPU costs one step, not an unbounded loop; if every live vCPU sleeps the
 * run ends as a deadlock.
 *
 * Per-thread state of the simulator that mm/ code relies on (the event
 * layer's, the panic catcher) is saved and restored at every switch, as a
 * real CPU's would be.
 */
#ifndef SIM_SCHED_SCHED_H
#define SIM_SCHED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_SCHED_MAX_VCPUS	4096u

struct sim_sched;

/* The access a vCPU is paused before (its next step). */
struct sim_sched_access {
	void *addr;
	uint32_t size;
	uint8_t kind;		/* enum sim_ev_kind: LOAD, STORE, ATOMIC, RELAX */
	uint8_t write;		/* changes memory (store, atomic other than a load) */
	uint8_t valid;		/* 0: not known yet (the vCPU has not started) */
	uint32_t flags;
};

/*
 * Picks the vCPU to run next among @enabled[0..n) (n >= 2, ascending);
 * @cur is the vCPU that took the last step (or -1). Returns an index into
 * @enabled.
 */
typedef unsigned int (*sim_sched_choose_fn)(void *ctx, struct sim_sched *s,
					    const unsigned int *enabled, unsigned int n, int cur);

struct sim_sched_chooser {
	sim_sched_choose_fn choose;
	void *ctx;
};

/* Called after every step of vCPU @vcpu (invariants that hold between steps). */
typedef void (*sim_sched_step_fn)(void *ctx, struct sim_sched *s, unsigned int vcpu);

enum sim_sched_status {
	SIM_SCHED_DONE,		/* every vCPU returned */
	SIM_SCHED_STOPPED,	/* sim_sched_stop(): a violation, or a pruned run */
	SIM_SCHED_DEADLOCK,	/* every live vCPU waits for a write nobody will make */
	SIM_SCHED_STEP_LIMIT,	/* more steps than the limit */
};

/* A vCPU's program: runs on the vCPU's own stack. */
typedef void (*sim_sched_body_fn)(void *arg, unsigned int vcpu);

struct sim_sched *sim_sched_create(void);
void sim_sched_destroy(struct sim_sched *s);

/*
 * Starts a new run of @nr vCPUs (stacks are kept from run to run): each
 * then needs its body (sim_sched_spawn) before sim_sched_run().
 */
int sim_sched_reset(struct sim_sched *s, unsigned int nr);
void sim_sched_spawn(struct sim_sched *s, unsigned int vcpu, sim_sched_body_fn fn, void *arg);
void sim_sched_set_chooser(struct sim_sched *s, const struct sim_sched_chooser *c);
void sim_sched_set_step_hook(struct sim_sched *s, sim_sched_step_fn fn, void *ctx);
/* Ends a run that takes more than @steps steps (0: no limit). */
void sim_sched_set_step_limit(struct sim_sched *s, uint64_t steps);

/* Runs every vCPU to its end (or until stopped); returns enum sim_sched_status. */
int sim_sched_run(struct sim_sched *s);

/*
 * From the running vCPU's own code (the executor, once mm/ returned): its
 * last access is done, so the step checks judge it now rather than at its
 * next switch point.
 */
void sim_sched_complete_step(struct sim_sched *s);

/*
 * How many times sim_sched_complete_step() was called in this run: the
 * executor calls it as each op of a vCPU returns, so it counts the ops
 * the vCPUs finished (an op may count more than once).
 */
uint64_t sim_sched_completed(const struct sim_sched *s);

/* From a step hook, an observer or a body: ends the run at the next switch point. */
void sim_sched_stop(struct sim_sched *s);

/* The run in progress (NULL outside sim_sched_run). */
struct sim_sched *sim_sched_current(void);
/* The vCPU running now, -1 outside a vCPU. */
int sim_sched_vcpu(const struct sim_sched *s);
unsigned int sim_sched_nr_vcpus(const struct sim_sched *s);
const struct sim_sched_access *sim_sched_next_access(const struct sim_sched *s, unsigned int vcpu);
/* The access vCPU @vcpu took in its last step (valid = 0 if none). */
const struct sim_sched_access *sim_sched_last_access(const struct sim_sched *s, unsigned int vcpu);

/* Steps taken and decisions made in the current (or last) run. */
uint64_t sim_sched_steps(const struct sim_sched *s);
/* The schedule: the vCPU picked at each decision, in order. */
const uint16_t *sim_sched_schedule(const struct sim_sched *s, size_t *n);

/* --- choosers (sched_choose.c) ----------------------------------------------- */

/* Keeps the vCPU that ran last while it can run, else the lowest: no preemption. */
extern const struct sim_sched_chooser sim_sched_first;

/*
 * Random among the enabled vCPUs, from a seed. The seed's top three bits,
 * k, say how often it preempts: k = 0 (every seed below 2^61), uniformly
 * among the enabled vCPUs at every decision; k > 0, the vCPU that took
 * the last step goes on while it can, but for 1 decision in 2^k on
 * average, which switches to one of the others (uniformly). A race that
 * needs one vCPU to run many decisions on and then be preempted is rarely
 * run by a uniform pick at each decision.
 *
 * With k > 0, the first SIM_SCHED_RELEASE_WINDOW decisions after the
 * running vCPU's own atomic store (mm/'s lock release: the only atomic
 * store it makes) switch 1 in 2 instead: a check-then-act across a
 * dropped lock (a lookup made under the lock and acted on after it, a
 * range update that drops the lock between its pages) is open in the
 * steps just after the release, which a preemption of 1 in 2^k seldom
 * hits. The window ends at a switch, or after that many decisions. A
 * vCPU so preempted is then held back (not picked while another vCPU can
 * run), so that the others may run whole critical sections in its gap,
 * however many steps they take, before it takes the lock again: until
 * another vCPU finishes an op (sim_sched_completed(); 1 in 2: a range
 * update's gap needs the other's whole op in it, a check-then-act's gap
 * the other's op but not its next one), until no other vCPU can run (1
 * in 4), or for the next 2^j decisions, j uniform in
 * 0..SIM_SCHED_RELEASE_HOLD_LOG (1 in 4).
 */
#define SIM_SCHED_RELEASE_WINDOW	4u
#define SIM_SCHED_RELEASE_HOLD_LOG	12u
struct sim_sched_prng {
	uint64_t state;
	unsigned int stay_bits;
	int window_vcpu;		/* the vCPU whose release opened the window */
	unsigned int window;		/* decisions of it left */
	int held;			/* the vCPU held back */
	uint64_t hold;			/* decisions it is held back for */
	uint64_t hold_ops;		/* or until sim_sched_completed() reaches this (0: no) */
};
void sim_sched_prng_init(struct sim_sched_prng *p, struct sim_sched_chooser *c, uint64_t seed);

/*
 * A recorded schedule: the vCPU to pick at each decision; a decision whose
 * vCPU cannot run, and every decision after the end, go to @fallback.
 */
struct sim_sched_replay {
	const uint16_t *choices;
	size_t n, pos;
	struct sim_sched_chooser fallback;
	uint64_t mismatches;	/* decisions whose recorded vCPU could not run */
};
void sim_sched_replay_init(struct sim_sched_replay *r, struct sim_sched_chooser *c,
			   const uint16_t *choices, size_t n, const struct sim_sched_chooser *fallback);

/* Fuzzer bytes: one byte per decision (modulo the enabled count); then @fallback. */
struct sim_sched_bytes {
	const uint8_t *data;
	size_t n, pos;
	struct sim_sched_chooser fallback;
};
void sim_sched_bytes_init(struct sim_sched_bytes *b, struct sim_sched_chooser *c,
			  const uint8_t *data, size_t n, const struct sim_sched_chooser *fallback);

/*
 * PCT (Burckhardt et al., ASPLOS 2010): random distinct priorities for the
 * @nr vCPUs, d - 1 priority change points drawn among the first @k steps;
 * the highest-priority enabled vCPU runs; at the i-th change point the
 * running vCPU's priority drops to i (below every initial one). A bug of
 * depth d is found with probability at least 1 / (n k^(d-1)) per run.
 */
#define SIM_SCHED_PCT_MAX_DEPTH 16
struct sim_sched_pct {
	uint64_t prng;
	unsigned int nr, depth;
	uint64_t k;
	uint64_t change_at[SIM_SCHED_PCT_MAX_DEPTH];
	uint32_t *prio;		/* nr entries */
};
int sim_sched_pct_init(struct sim_sched_pct *p, struct sim_sched_chooser *c, uint64_t seed,
		       unsigned int nr, uint64_t k, unsigned int depth);
void sim_sched_pct_release(struct sim_sched_pct *p);
/* The guarantee per run, 1 / (n k^(d-1)). */
double sim_sched_pct_bound(unsigned int nr, uint64_t k, unsigned int depth);

#endif /* SIM_SCHED_SCHED_H */
