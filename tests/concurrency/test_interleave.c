// SPDX-License-Identifier: MIT
/*
 * The interleaver (sim/sched/) under the executor: concurrent blocks of
 * allocator ops on two and three vCPUs, judged by every oracle at every
 * quiescent point; determinism; a recorded schedule replayed step for step.
 */
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "machine_conc.h"
#include "sched/sched.h"
#include "tap.h"
#include "vmtest.h"

#include <hvmm/platform.h>
#include <hvmm/types.h>

static struct sim_machine *small_machine(uint64_t seed)
{
	struct sim_machine_config cfg;

	sim_machine_config_default(&cfg);
	cfg.pool_pages = 64;
	cfg.seed = seed;
	return vmt_machine(&cfg);
}

static int op(struct sim_machine *m, enum sim_op_kind kind, uint32_t h, uint64_t a)
{
	struct sim_op o = { .kind = (uint16_t)kind, .h = h, .a = a };

	return sim_machine_exec(m, &o, NULL);
}

static void on_cpu(struct sim_machine *m, unsigned int cpu)
{
	struct sim_op o = { .kind = SIM_OP_SCHED, .vcpu = cpu };

	sim_machine_exec(m, &o, NULL);
}

/* @cpus vCPUs, each allocating and freeing blocks of its own handles. */
static void queue_churn(struct sim_machine *m, unsigned int cpus, unsigned int rounds)
{
	for (unsigned int c = 0; c < cpus; c++) {
		on_cpu(m, c);
		for (unsigned int r = 0; r < rounds; r++) {
			uint32_t h = 100 * (c + 1) + r;

			op(m, SIM_OP_ALLOC, h, (r + c) % 3);
			if (r % 3 != 2)
				op(m, SIM_OP_FREE, h, 0);
		}
	}
}

struct run_result {
	uint64_t steps;
	size_t decisions;
	uint16_t *schedule;
	int status;
	bool clean;
	bool overlapped;	/* an op ran while another vCPU was inside one */
	bool fit;		/* the written schedule applied (sim_machine_conc_schedule_fit) */
};

static void run_block(struct sim_machine *m, struct run_result *rr)
{
	const struct sim_conc_hist *h;
	const uint16_t *s;
	size_t n;
	int inside = 0;

	rr->status = sim_machine_conc_run(m);
	sim_machine_finish(m);
	rr->steps = sim_machine_conc_steps(m);
	s = sim_machine_conc_schedule(m, &rr->decisions);
	rr->schedule = malloc(rr->decisions * sizeof(*s) + 1);
	if (rr->decisions)	/* a block with no decision to take has no schedule */
		memcpy(rr->schedule, s, rr->decisions * sizeof(*s));
	rr->clean = sim_report_clean(sim_machine_report(m));
	{
		size_t written, taken;
		uint64_t mismatches;

		rr->fit = sim_machine_conc_schedule_fit(m, &written, &taken, &mismatches);
	}
	rr->overlapped = false;
	h = sim_machine_conc_history(m, &n);
	for (size_t i = 0; i < n; i++) {
		if (h[i].kind == SIM_CONC_INVOKE && inside)
			rr->overlapped = true;
		inside += h[i].kind == SIM_CONC_INVOKE ? 1 : -1;
	}
}

static void emit_into(void *m, const struct sim_op *o)
{
	sim_machine_exec(m, o, NULL);
}

static bool instrumented(void)
{
	return sim_event_mm_instrumented();
}

/*
 * A fresh machine of @seed with @cpus vCPUs churning @rounds rounds, run
 * as one block into @rr; if @sched is not NULL, under that schedule
 * (@n decisions, written as `sched vcpu=N step=K` ops).
 */
static void churn_block(uint64_t seed, unsigned int cpus, unsigned int rounds,
			const uint16_t *sched, size_t n, struct run_result *rr)
{
	struct sim_machine *m = small_machine(seed);

	queue_churn(m, cpus, rounds);
	if (sched)
		sim_conc_schedule_runs(sched, n, emit_into, m);
	run_block(m, rr);
	sim_machine_destroy(m);
}

/* Two runs took the same decisions. */
static bool same_schedule(const struct run_result *a, const struct run_result *b)
{
	return a->decisions == b->decisions &&
	       !memcmp(a->schedule, b->schedule, a->decisions * sizeof(*a->schedule));
}

static void two_vcpus_churn_clean_over_seeds(void)
{
	unsigned int overlapped = 0;

	if (!instrumented())
		TAP_SKIP("mm/ built without the event instrumentation");
	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct sim_machine *m = small_machine(seed);
		struct run_result rr;

		queue_churn(m, 2 + (unsigned int)(seed % 2), 6);
		run_block(m, &rr);
		CHECK_MSG(rr.status == SIM_SCHED_DONE, "seed %llu: status %d",
			  (unsigned long long)seed, rr.status);
		CHECK_MSG(vmt_clean(m), "seed %llu", (unsigned long long)seed);
		CHECK(rr.decisions > 0);
		overlapped += rr.overlapped;
		CHECK(!sim_machine_dead(m));
		free(rr.schedule);
		sim_machine_destroy(m);
	}
	/* Ops did run inside each other, not one after the other. */
	CHECK_MSG(overlapped >= 30, "only %u of 40 runs overlapped ops", overlapped);
}

/*
 * Sweeps a block of @cpus vCPUs churning @rounds rounds made before the
 * run's end (more ops than a linearizability check takes, so that the
 * executor runs and judges each op); whether its ops overlapped in @rr.
 */
static uint64_t block_sweeps(uint64_t seed, unsigned int cpus, unsigned int rounds,
			     struct run_result *rr)
{
	struct sim_machine *m = small_machine(seed);
	uint64_t before, sweeps;

	queue_churn(m, cpus, rounds);
	before = sim_machine_stats(m)->sweeps;
	run_block(m, rr);
	sweeps = sim_machine_stats(m)->sweeps - before - 1;	/* less the run's end */
	CHECK_MSG(rr->status == SIM_SCHED_DONE, "seed %llu: status %d",
		  (unsigned long long)seed, rr->status);
	CHECK_MSG(vmt_clean(m), "seed %llu", (unsigned long long)seed);
	free(rr->schedule);
	sim_machine_destroy(m);
	return sweeps;
}

/*
 * An op that runs alone is judged as it goes, as in a sequential run: one
 * vCPU's block sweeps nothing before the run's end. Ops that ran inside
 * each other are swept once none is inside an op.
 */
static void only_overlapping_ops_are_swept(void)
{
	struct run_result rr;
	unsigned int overlapped = 0;

	if (!instrumented())
		TAP_SKIP("mm/ built without the event instrumentation");
	CHECK_EQ(block_sweeps(5, 1, 200, &rr), 0);
	CHECK(!rr.overlapped);
	for (uint64_t seed = 1; seed <= 10; seed++) {
		uint64_t sweeps = block_sweeps(seed, 2, 100, &rr);

		if (rr.overlapped)
			CHECK_MSG(sweeps > 0, "seed %llu", (unsigned long long)seed);
		overlapped += rr.overlapped;
	}
	CHECK(overlapped > 0);
}

static void same_seed_same_interleaving(void)
{
	struct run_result a, b, c;

	if (!instrumented())
		TAP_SKIP("mm/ built without the event instrumentation");
	churn_block(5, 2, 5, NULL, 0, &a);
	churn_block(5, 2, 5, NULL, 0, &b);
	CHECK_EQ(a.steps, b.steps);
	CHECK_EQ(a.decisions, b.decisions);
	CHECK(same_schedule(&a, &b));
	/* Another seed takes another interleaving. */
	churn_block(6, 2, 5, NULL, 0, &c);
	CHECK(!same_schedule(&a, &c));
	free(a.schedule);
	free(b.schedule);
	free(c.schedule);
}

/* The schedule written as `sched vcpu=N step=K` ops replays the run step for step, whatever the seed. */
static void written_schedule_replays(void)
{
	struct run_result a, b;

	if (!instrumented())
		TAP_SKIP("mm/ built without the event instrumentation");
	churn_block(11, 3, 5, NULL, 0, &a);
	churn_block(999, 3, 5, a.schedule, a.decisions, &b);
	CHECK_EQ(a.steps, b.steps);
	CHECK_EQ(a.decisions, b.decisions);
	CHECK(same_schedule(&a, &b));
	CHECK(b.fit);
	free(b.schedule);
	/* Decisions past the end of the run, as a schedule from another build has: said so. */
	a.schedule = realloc(a.schedule, (a.decisions + 8) * sizeof(*a.schedule));
	for (size_t i = 0; i < 8; i++)
		a.schedule[a.decisions + i] = 0;
	churn_block(999, 3, 5, a.schedule, a.decisions + 8, &b);
	CHECK(!b.fit);
	free(a.schedule);
	free(b.schedule);
}

/* A step hook sees every step; the lock holder is never two vCPUs at once. */
struct lock_watch {
	uint64_t steps;
};

static void count_steps(void *ctx, struct sim_sched *s, unsigned int vcpu)
{
	struct lock_watch *w = ctx;

	(void)s;
	(void)vcpu;
	w->steps++;
}

static void step_checks_see_every_step(void)
{
	struct lock_watch w = { 0 };
	struct sim_machine *m;
	struct run_result rr;

	if (!instrumented())
		TAP_SKIP("mm/ built without the event instrumentation");
	m = small_machine(3);
	CHECK(sim_machine_conc_add_step_check(m, count_steps, &w));
	queue_churn(m, 2, 4);
	run_block(m, &rr);
	CHECK(rr.clean);
	CHECK(w.steps > 0);
	CHECK_EQ(w.steps, rr.steps);
	free(rr.schedule);
	sim_machine_destroy(m);
}


/*
 * A spinner that takes a step between its load and its spin-wait hint (as
 * a coverage counter the compiler put in the loop does) must not sleep on
 * a value another vCPU changed in between: here vCPU 1 sets the flag while
 * vCPU 0 is between its load (0) and its hint.
 */
static volatile uint32_t spin_flag;
static uint8_t spin_other;

static void spinner(void *arg, unsigned int vcpu)
{
	(void)arg;
	(void)vcpu;
	for (;;) {
		sim_event_access((void *)&spin_flag, 4, false, 0);
		if (spin_flag)
			return;
		sim_event_access(&spin_other, 1, true, 0);
		spin_other++;
		sim_event_relax();
	}
}

static void setter(void *arg, unsigned int vcpu)
{
	(void)arg;
	(void)vcpu;
	sim_event_access((void *)&spin_flag, 4, true, 0);
	spin_flag = 1;
}

/*
 * Runs @spin as vCPU 0 against setter() as vCPU 1 on the four scheduling
 * @choices; the spinner must wake and the run end (a spinner asleep on the
 * wrong word is a DEADLOCK). Returns the choices the run could not follow.
 */
static uint64_t run_spinner_against_setter(void (*spin)(void *, unsigned int),
					       const uint16_t choices[4])
{
	struct sim_sched *s = sim_sched_create();
	struct sim_sched_replay replay = { 0 };
	struct sim_sched_chooser c;
	int status;

	CHECK(s != NULL);
	if (!s)
		return UINT64_MAX;
	spin_flag = 0;
	CHECK_EQ(sim_sched_reset(s, 2), 0);
	sim_sched_spawn(s, 0, spin, NULL);
	sim_sched_spawn(s, 1, setter, NULL);
	sim_sched_replay_init(&replay, &c, choices, 4, NULL);
	sim_sched_set_chooser(s, &c);
	sim_event_begin();
	status = sim_sched_run(s);
	sim_event_end();
	CHECK_EQ(status, SIM_SCHED_DONE);
	CHECK_EQ(spin_flag, 1);
	sim_sched_destroy(s);
	return replay.mismatches;
}

static void spinner_wakes_on_a_write_before_its_hint(void)
{
	/* v0 to its load, v0 loads, v1 to its store, v1 stores and ends. */
	static const uint16_t choices[] = { 0, 0, 1, 1 };

	CHECK_EQ(run_spinner_against_setter(spinner, choices), 0);
}

/*
 * A spin-wait's lock word is read atomically; a plain load after it (a
 * coverage guard the compiler put in the loop, which nobody writes) must
 * not become what the spinner sleeps on, or it never wakes: vCPU 0 reads
 * the flag (volatile), then the guard, then hints; vCPU 1 sets the flag.
 */
static uint32_t never_written_guard;

static void guarded_spinner(void *arg, unsigned int vcpu)
{
	(void)arg;
	(void)vcpu;
	for (;;) {
		sim_event_access((void *)&spin_flag, 4, false, SIM_EV_F_VOLATILE);
		if (spin_flag)
			return;
		sim_event_access(&never_written_guard, 4, false, 0);
		sim_event_relax();
	}
}

static void spinner_sleeps_on_its_lock_word_not_a_later_plain_load(void)
{
	/* v0 to its flag load, v0 loads it, the guard, hints and sleeps; v1 sets the flag. */
	static const uint16_t choices[] = { 0, 0, 0, 0 };

	run_spinner_against_setter(guarded_spinner, choices);
}

/*
 * The event layer's state (armed, the op's event index, pending stores) is
 * each vCPU's own: vCPU 0 ends its short op while vCPU 1 is inside a long
 * one, and vCPU 1 stays armed, its accesses still reach the interleaver
 * (one step each) and its event index runs on from its own begin. A
 * global flag would disarm vCPU 1 there and lose its steps.
 */
static uint64_t armed_words[2];
static bool short_done;
static unsigned int long_armed_after, long_steps[2];
static uint64_t long_index;

static void short_op(void *arg, unsigned int vcpu)
{
	(void)arg;
	(void)vcpu;
	sim_event_begin();
	sim_event_access(&armed_words[0], 8, true, 0);
	armed_words[0]++;
	sim_event_end();
	short_done = true;
}

static void long_op(void *arg, unsigned int vcpu)
{
	(void)arg;
	(void)vcpu;
	sim_event_begin();
	for (unsigned int i = 0; i < 4; i++) {
		sim_event_access(&armed_words[1], 8, true, 0);
		armed_words[1]++;
		long_armed_after += short_done && sim_event_armed();
	}
	long_index = sim_event_count();
	sim_event_end();
}

static void count_vcpu_steps(void *ctx, struct sim_sched *s, unsigned int vcpu)
{
	(void)ctx;
	(void)s;
	long_steps[vcpu]++;
}

static void armed_is_per_vcpu(void)
{
	/* v1 to its first access, v0 to its access, v0 on to its end; then v1 alone. */
	static const uint16_t choices[] = { 1, 0, 0 };
	struct sim_sched *s = sim_sched_create();
	struct sim_sched_replay replay;
	struct sim_sched_chooser c;
	uint32_t wanted = hvmm_trace_wanted;

	CHECK(s != NULL);
	short_done = false;
	long_armed_after = 0;
	long_steps[0] = long_steps[1] = 0;
	CHECK_EQ(sim_sched_reset(s, 2), 0);
	sim_sched_spawn(s, 0, short_op, NULL);
	sim_sched_spawn(s, 1, long_op, NULL);
	sim_sched_replay_init(&replay, &c, choices, 3, NULL);
	sim_sched_set_chooser(s, &c);
	sim_sched_set_step_hook(s, count_vcpu_steps, NULL);
	CHECK_EQ(sim_sched_run(s), SIM_SCHED_DONE);
	CHECK_EQ(replay.mismatches, 0);
	CHECK(short_done);
	/* vCPU 0 ran its op inside vCPU 1's first access: all four seen armed, each a step. */
	CHECK_EQ(long_armed_after, 4);
	CHECK_EQ(long_steps[1], 4);
	CHECK_EQ(long_steps[0], 1);
	CHECK_EQ(armed_words[1], 4);
	CHECK(!sim_event_armed());
	CHECK_EQ(hvmm_trace_wanted, wanted);
	sim_sched_destroy(s);
}

/*
 * mm/ emits every trace event while any vCPU is armed (the platform counts
 * them). A run stopped inside an op leaves that vCPU's sim_event_end()
 * unreached, and a vCPU that starts from the executor's armed state and
 * ends it would end one the count never had: after each, the count, and
 * so what mm/ emits, must be what it was before the run.
 */
static void stop_at_first_step(void *ctx, struct sim_sched *s, unsigned int vcpu)
{
	(void)ctx;
	(void)vcpu;
	sim_sched_stop(s);
}

static void ends_armed_op(void *arg, unsigned int vcpu)
{
	(void)arg;
	(void)vcpu;
	sim_event_access(&armed_words[0], 8, true, 0);
	armed_words[0]++;
	sim_event_end();
}

static void run_bodies(sim_sched_body_fn fn, sim_sched_step_fn hook)
{
	struct sim_sched *s = sim_sched_create();

	CHECK(s != NULL);
	CHECK_EQ(sim_sched_reset(s, 2), 0);
	sim_sched_spawn(s, 0, fn, NULL);
	sim_sched_spawn(s, 1, fn, NULL);
	sim_sched_set_chooser(s, &sim_sched_first);
	sim_sched_set_step_hook(s, hook, NULL);
	sim_sched_run(s);
	sim_sched_destroy(s);
}

#define TRACE_ALL ((1u << (HVMM_TRACE_OWNERSHIP + 1)) - 1)

static void armed_count_survives_stopped_and_inherited_runs(void)
{
	uint32_t wanted = hvmm_trace_wanted;

	/* Nothing armed, no sink: not every event (else the checks tell nothing). */
	CHECK(wanted != TRACE_ALL);
	sim_event_begin();
	CHECK_EQ(hvmm_trace_wanted, TRACE_ALL);
	sim_event_end();
	CHECK_EQ(hvmm_trace_wanted, wanted);

	/* Both vCPUs armed inside long_op when the first step stops the run. */
	run_bodies(long_op, stop_at_first_step);
	CHECK(!sim_event_armed());
	CHECK_EQ(hvmm_trace_wanted, wanted);

	/* Armed by the executor before the run; each vCPU ends what it inherited. */
	sim_event_begin();
	run_bodies(ends_armed_op, NULL);
	CHECK(sim_event_armed());
	sim_event_end();
	CHECK_EQ(hvmm_trace_wanted, wanted);
}

/* Switches the PRNG chooser makes over @n decisions between two vCPUs, each pick run next. */
static unsigned int prng_switches(uint64_t seed, unsigned int n)
{
	static const unsigned int enabled[] = { 0, 1 };
	struct sim_sched_prng p;
	struct sim_sched_chooser c;
	unsigned int switches = 0;
	int cur = -1;

	sim_sched_prng_init(&p, &c, seed);
	for (unsigned int i = 0; i < n; i++) {
		unsigned int pick = c.choose(c.ctx, NULL, enabled, 2, cur);

		CHECK(pick < 2);
		switches += cur >= 0 && (int)pick != cur;
		cur = (int)pick;
	}
	return switches;
}

static void prng_seed_top_bits_set_the_preemption_rate(void)
{
	/* Below 2^61: uniform at each decision, about half the decisions switch. */
	unsigned int uniform = prng_switches(12345, 8192);
	/* Top bits 3: 1 decision in 8; 7: 1 in 128. */
	unsigned int k3 = prng_switches((3ULL << 61) | 12345, 8192);
	unsigned int k7 = prng_switches((7ULL << 61) | 12345, 8192);

	printf("# switches over 8192 decisions: uniform %u, 1 in 8: %u, 1 in 128: %u\n",
	     uniform, k3, k7);
	CHECK(uniform > 3600 && uniform < 4600);
	CHECK(k3 > 700 && k3 < 1400);
	CHECK(k7 > 20 && k7 < 140);
}

/*
 * Two vCPUs, each taking twelve plain stores and then an atomic store (a
 * lock release, as mm/'s unlock) in a loop, on words of its own: whether
 * a switch follows a release more often than a plain step past the
 * window a release opens, and whether a vCPU so preempted stays off long.
 */
static uint64_t release_words[2][2];

static void stores_then_release(void *arg, unsigned int vcpu)
{
	(void)arg;
	for (unsigned int i = 0; i < 600; i++) {
		for (unsigned int k = 0; k < 12; k++) {
			sim_event_access(&release_words[vcpu][0], 8, true, 0);
			release_words[vcpu][0]++;
		}
		sim_event_atomic_before(&release_words[vcpu][1], 8, SIM_EV_AT_STORE);
		release_words[vcpu][1]++;
	}
}

struct switch_count {
	const struct sim_sched_prng *p;
	int prev;			/* the vCPU of the last step, -1 before the first */
	bool prev_release, prev_free;
	unsigned int since;		/* steps since the last release, without a switch */
	unsigned int releases, after_release, plain, after_plain;
	unsigned int steps_run, longest_run;
};

static void count_switches(void *ctx, struct sim_sched *s, unsigned int vcpu)
{
	struct switch_count *c = ctx;
	const struct sim_sched_access *a = sim_sched_last_access(s, vcpu);

	if (c->prev >= 0) {
		bool sw = (unsigned int)c->prev != vcpu;

		/* Only decisions where neither vCPU was held back count. */
		if (c->prev_free && c->prev_release) {
			c->releases++;
			c->after_release += sw;
		} else if (c->prev_free && c->since > SIM_SCHED_RELEASE_WINDOW) {
			c->plain++;
			c->after_plain += sw;
		}
		c->since = sw ? SIM_SCHED_RELEASE_WINDOW + 1 : c->since + 1;
		c->steps_run = sw ? 1 : c->steps_run + 1;
		if (c->steps_run > c->longest_run)
			c->longest_run = c->steps_run;
	}
	c->prev = (int)vcpu;
	c->prev_free = !c->p->hold;
	c->prev_release = a->kind == SIM_EV_ATOMIC &&
			  (a->flags & SIM_EV_F_OP_MASK) == SIM_EV_AT_STORE;
	if (c->prev_release)
		c->since = 0;
}

/* Two vCPUs both running @body to the end under the PRNG chooser seeded with @seed. */
static void run_two_prng(struct sim_sched *s, struct sim_sched_prng *p, struct sim_sched_chooser *ch,
			 uint64_t seed, sim_sched_body_fn body, sim_sched_step_fn hook, void *ctx)
{
	sim_sched_prng_init(p, ch, seed);
	CHECK_EQ(sim_sched_reset(s, 2), 0);
	sim_sched_spawn(s, 0, body, NULL);
	sim_sched_spawn(s, 1, body, NULL);
	sim_sched_set_chooser(s, ch);
	sim_sched_set_step_hook(s, hook, ctx);
	sim_event_begin();
	CHECK_EQ(sim_sched_run(s), SIM_SCHED_DONE);
	sim_event_end();
}

static void prng_preempts_after_a_release(void)
{
	struct sim_sched_prng p;
	struct switch_count c = { .p = &p };
	struct sim_sched_chooser ch;

	/* Top bits 7: a plain step is followed by a switch 1 time in 128. */
	for (uint64_t seed = 1; seed <= 256; seed++) {
		struct sim_sched *s = sim_sched_create();

		CHECK(s != NULL);
		if (!s)
			return;
		c.prev = -1;
		c.since = SIM_SCHED_RELEASE_WINDOW + 1;
		run_two_prng(s, &p, &ch, (7ULL << 61) | seed, stores_then_release, count_switches, &c);
		sim_sched_destroy(s);
	}
	printf("# switches after %u releases: %u; after %u plain steps: %u; longest run %u steps\n",
	       c.releases, c.after_release, c.plain, c.after_plain, c.longest_run);
	CHECK(c.releases > 200 && c.plain > 2000);
	/* Half of the decisions just after a release switch (1 in 128 before). */
	CHECK(c.after_release * 4 > c.releases);
	CHECK(c.after_plain * 16 < c.plain);
	/* A vCPU preempted there is held back: the other runs hundreds of its loops. */
	CHECK(c.longest_run > 1000);
}

/*
 * Two vCPUs, each one op: a few stores, a lock release (an atomic store),
 * then a long critical section (5000 stores) and the op's end. A range
 * update that drops its lock between pages races only if another vCPU
 * runs its whole op in that gap: the preempted vCPU must stay off for the
 * rest of the other's op, longer here than any hold of 2^j decisions
 * (j <= SIM_SCHED_RELEASE_HOLD_LOG). Counts the runs where one vCPU's op
 * ends between the other's release and its next step.
 */
static uint64_t gap_words[2][2];

static void release_then_long_op(void *arg, unsigned int vcpu)
{
	(void)arg;
	for (unsigned int k = 0; k < 50; k++) {
		sim_event_access(&gap_words[vcpu][0], 8, true, 0);
		gap_words[vcpu][0]++;
	}
	sim_event_atomic_before(&gap_words[vcpu][1], 8, SIM_EV_AT_STORE);
	gap_words[vcpu][1]++;
	for (unsigned int k = 0; k < 5000; k++) {
		sim_event_access(&gap_words[vcpu][0], 8, true, 0);
		gap_words[vcpu][0]++;
	}
	sim_sched_complete_step(sim_sched_current());
}

struct gap_count {
	bool in_gap[2];			/* released, and not stepped since */
	uint64_t completed;
	bool hit;
};

static void count_ops_in_gaps(void *ctx, struct sim_sched *s, unsigned int vcpu)
{
	struct gap_count *c = ctx;
	const struct sim_sched_access *a = sim_sched_last_access(s, vcpu);

	if (sim_sched_completed(s) != c->completed) {
		c->completed = sim_sched_completed(s);
		if (c->in_gap[!vcpu])
			c->hit = true;
	}
	c->in_gap[vcpu] = a->valid && a->kind == SIM_EV_ATOMIC &&
			  (a->flags & SIM_EV_F_OP_MASK) == SIM_EV_AT_STORE;
}

static void prng_holds_a_preempted_vcpu_until_another_op_ends(void)
{
	unsigned int hits = 0, runs = 0;

	for (uint64_t seed = 1; seed <= 70; seed++) {
		struct sim_sched *s = sim_sched_create();
		struct gap_count c = { 0 };
		struct sim_sched_prng p;
		struct sim_sched_chooser ch;

		CHECK(s != NULL);
		if (!s)
			return;
		/* Top bits 1 to 7: every preemption rate of the fuzz targets' seeds. */
		run_two_prng(s, &p, &ch, ((1 + seed % 7) << 61) | seed, release_then_long_op,
			     count_ops_in_gaps, &c);
		CHECK_EQ(sim_sched_completed(s), 2);
		sim_sched_destroy(s);
		hits += c.hit;
		runs++;
	}
	printf("# runs where one vCPU's whole op ran in the other's gap: %u of %u\n", hits, runs);
	/* Held until the other's op ends 3 times in 4: most runs. */
	CHECK(hits * 3 > runs);
}

int main(void)
{
	TEST(two_vcpus_churn_clean_over_seeds);
	TEST(only_overlapping_ops_are_swept);
	TEST(same_seed_same_interleaving);
	TEST(written_schedule_replays);
	TEST(step_checks_see_every_step);
	TEST(spinner_wakes_on_a_write_before_its_hint);
	TEST(spinner_sleeps_on_its_lock_word_not_a_later_plain_load);
	TEST(armed_is_per_vcpu);
	TEST(armed_count_survives_stopped_and_inherited_runs);
	TEST(prng_seed_top_bits_set_the_preemption_rate);
	TEST(prng_preempts_after_a_release);
	TEST(prng_holds_a_preempted_vcpu_until_another_op_ends);
	return tap_done();
}
