// SPDX-License-Identifier: MIT
/*
 * The interleaver (sched.h): ucontext coroutines switched at the event
 * layer's scheduler calls.
 *
 * Why coroutines and not baton-passing threads: a switch is a register
 * save and restore on one host thread, so the thread-local state of the
 * simulator is swapped explicitly and nothing depends on the host's
 * scheduler; the exploration re-runs the same ops thousands of times.
 */
#define _GNU_SOURCE
#include "sched.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "event/event.h"
#include "platform.h"

/*
 * AddressSanitizer keeps a shadow of the stack it believes is running:
 * every switch between the host thread's stack and a vCPU's is announced
 * (its fiber interface), or it would take one stack's frames for the
 * other's (false stack-buffer reports).
 */
#if defined(__SANITIZE_ADDRESS__)
#define SIM_SCHED_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_SCHED_ASAN 1
#endif
#endif
#ifdef SIM_SCHED_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#define STACK_SIZE	(256u << 10)

enum vcpu_state { V_IDLE, V_READY, V_SLEEPING, V_DONE };

struct vcpu {
	ucontext_t ctx;
	void *stack;
	enum vcpu_state state;
	sim_sched_body_fn fn;
	void *arg;
	/* Per-thread simulator state while the vCPU is switched out. */
	struct sim_event_cpu ev_cpu;
	bool forked;			/* ev_cpu counted by the event layer until retired */
	struct sim_panic_catcher *catcher;
	struct sim_sched_access next;	/* paused before it */
	struct sim_sched_access last;	/* taken in its last step */
	void *loaded;			/* what it loaded last (a spinner waits on it) */
	bool loaded_sync;		/* by an atomic or volatile load, since its last hint */
	bool loaded_stale;		/* another vCPU wrote there since: a spinner runs on */
	void *wait_addr;		/* sleeping until a write here */
};

struct sim_sched {
	struct vcpu *v;
	unsigned int nr, cap;
	int cur;			/* -1: the main context */
	ucontext_t main_ctx;
	const void *main_stack;		/* the host thread's stack, for ASan's fiber switches */
	size_t main_stack_size;
	int switch_from;		/* the context that switched to the one now running */
	struct sim_event_cpu main_ev_cpu;
	struct sim_panic_catcher *main_catcher;
	struct sim_sched_chooser chooser;
	sim_sched_step_fn step_fn;
	void *step_ctx;
	uint64_t steps, step_limit;
	uint64_t completed;		/* sim_sched_complete_step calls of this run */
	uint16_t *choices;
	size_t nr_choices, cap_choices;
	unsigned int *enabled;
	bool stop;
	int status;
};

static struct sim_sched *running;

struct sim_sched *sim_sched_create(void)
{
	struct sim_sched *s = calloc(1, sizeof(*s));

	if (s)
		s->chooser = sim_sched_first;
	return s;
}

void sim_sched_destroy(struct sim_sched *s)
{
	if (!s)
		return;
	for (unsigned int i = 0; i < s->cap; i++)
		if (s->v[i].stack) {
#ifdef SIM_SCHED_ASAN
			/* Else the stack's poison outlives it, on whatever is mapped there next. */
			__asan_unpoison_memory_region(s->v[i].stack, STACK_SIZE);
#endif
			munmap(s->v[i].stack, STACK_SIZE);
		}
	free(s->v);
	free(s->choices);
	free(s->enabled);
	free(s);
}

int sim_sched_reset(struct sim_sched *s, unsigned int nr)
{
	if (nr == 0 || nr > SIM_SCHED_MAX_VCPUS)
		return -1;
	if (nr > s->cap) {
		struct vcpu *v = realloc(s->v, nr * sizeof(*v));
		unsigned int *e = realloc(s->enabled, nr * sizeof(*e));

		if (v)
			s->v = v;
		if (e)
			s->enabled = e;
		if (!v || !e)
			return -1;
		memset(s->v + s->cap, 0, (nr - s->cap) * sizeof(*v));
		s->cap = nr;
	}
	s->nr = nr;
	for (unsigned int i = 0; i < nr; i++) {
		void *stack = s->v[i].stack;

		memset(&s->v[i], 0, sizeof(s->v[i]));
		s->v[i].stack = stack;
	}
	s->cur = -1;
	s->steps = 0;
	s->completed = 0;
	s->nr_choices = 0;
	s->stop = false;
	s->status = SIM_SCHED_DONE;
	return 0;
}

void sim_sched_spawn(struct sim_sched *s, unsigned int vcpu, sim_sched_body_fn fn, void *arg)
{
	s->v[vcpu].fn = fn;
	s->v[vcpu].arg = arg;
	s->v[vcpu].state = V_READY;
}

void sim_sched_set_chooser(struct sim_sched *s, const struct sim_sched_chooser *c)
{
	s->chooser = c ? *c : sim_sched_first;
}

void sim_sched_set_step_hook(struct sim_sched *s, sim_sched_step_fn fn, void *ctx)
{
	s->step_fn = fn;
	s->step_ctx = ctx;
}

void sim_sched_set_step_limit(struct sim_sched *s, uint64_t steps)
{
	s->step_limit = steps;
}

void sim_sched_stop(struct sim_sched *s)
{
	s->stop = true;
	if (s->status == SIM_SCHED_DONE)
		s->status = SIM_SCHED_STOPPED;
}

struct sim_sched *sim_sched_current(void)
{
	return running;
}

int sim_sched_vcpu(const struct sim_sched *s)
{
	return s->cur;
}

unsigned int sim_sched_nr_vcpus(const struct sim_sched *s)
{
	return s->nr;
}

const struct sim_sched_access *sim_sched_next_access(const struct sim_sched *s, unsigned int vcpu)
{
	return &s->v[vcpu].next;
}

const struct sim_sched_access *sim_sched_last_access(const struct sim_sched *s, unsigned int vcpu)
{
	return &s->v[vcpu].last;
}

uint64_t sim_sched_steps(const struct sim_sched *s)
{
	return s->steps;
}

const uint16_t *sim_sched_schedule(const struct sim_sched *s, size_t *n)
{
	*n = s->nr_choices;
	return s->choices;
}

/* --- switching ------------------------------------------------------------- */

static void save_thread_state(struct sim_sched *s)
{
	if (s->cur < 0) {
		s->main_ev_cpu = sim_event_cpu;
		s->main_catcher = sim_panic_catcher;
	} else {
		s->v[s->cur].ev_cpu = sim_event_cpu;
		s->v[s->cur].catcher = sim_panic_catcher;
	}
}

static void load_thread_state(struct sim_sched *s)
{
	if (s->cur < 0) {
		sim_event_cpu = s->main_ev_cpu;
		sim_panic_catcher = s->main_catcher;
	} else {
		sim_event_cpu = s->v[s->cur].ev_cpu;
		sim_panic_catcher = s->v[s->cur].catcher;
	}
}

static ucontext_t *ctx_of(struct sim_sched *s, int vcpu)
{
	return vcpu < 0 ? &s->main_ctx : &s->v[vcpu].ctx;
}

/* Tells ASan which stack runs from now on (a no-op in other builds). */
static void fiber_leave(struct sim_sched *s, int next, void **fake)
{
#ifdef SIM_SCHED_ASAN
	if (next < 0)
		__sanitizer_start_switch_fiber(fake, s->main_stack, s->main_stack_size);
	else
		__sanitizer_start_switch_fiber(fake, s->v[next].stack, STACK_SIZE);
#else
	(void)s, (void)next, (void)fake;
#endif
}

static void fiber_arrived(struct sim_sched *s, void *fake)
{
#ifdef SIM_SCHED_ASAN
	const void *bottom;
	size_t size;

	__sanitizer_finish_switch_fiber(fake, &bottom, &size);
	if (s->switch_from < 0) {
		s->main_stack = bottom;
		s->main_stack_size = size;
	}
#else
	(void)s, (void)fake;
#endif
}

static void switch_to(struct sim_sched *s, int next)
{
	int prev = s->cur;
	void *fake = NULL;

	if (next == prev)
		return;
	save_thread_state(s);
	s->cur = next;
	load_thread_state(s);
	s->switch_from = prev;
	fiber_leave(s, next, &fake);
	swapcontext(ctx_of(s, prev), ctx_of(s, next));
	fiber_arrived(s, fake);
}

/*
 * Wakes the spinners waiting on what @a wrote, and marks the loads it made
 * stale: a vCPU may take steps between its load and its spin-wait hint
 * (whatever else the compiler put in the loop), and a write in between
 * must keep it from sleeping on a value that already changed.
 */
static void wake_writers_waiters(struct sim_sched *s, const struct sim_sched_access *a)
{
	uintptr_t lo = (uintptr_t)a->addr, hi = lo + a->size;

	if (!a->valid || !a->write)
		return;
	for (unsigned int i = 0; i < s->nr; i++) {
		struct vcpu *w = &s->v[i];

		if ((uintptr_t)w->loaded >= lo && (uintptr_t)w->loaded < hi)
			w->loaded_stale = true;
		if (w->state == V_SLEEPING && (uintptr_t)w->wait_addr >= lo &&
		    (uintptr_t)w->wait_addr < hi)
			w->state = V_READY;
	}
}

/* Picks who runs next and switches there; returns when the caller is picked again. */
static void reschedule(struct sim_sched *s)
{
	unsigned int n = 0, all_done = 1, pick;

	if (s->stop || (s->step_limit && s->steps > s->step_limit)) {
		if (!s->stop && s->status == SIM_SCHED_DONE)
			s->status = SIM_SCHED_STEP_LIMIT;
		s->stop = true;
		if (s->cur < 0)
			return;
		switch_to(s, -1);
		abort();	/* a stopped run is never resumed */
	}
	for (unsigned int i = 0; i < s->nr; i++) {
		if (s->v[i].state == V_READY)
			s->enabled[n++] = i;
		if (s->v[i].state == V_READY || s->v[i].state == V_SLEEPING)
			all_done = 0;
	}
	if (n == 0) {
		if (!all_done)
			s->status = SIM_SCHED_DEADLOCK;
		s->stop = true;
		if (s->cur < 0)
			return;
		switch_to(s, -1);
		abort();
	}
	pick = 0;
	if (n > 1) {
		pick = s->chooser.choose(s->chooser.ctx, s, s->enabled, n, s->cur);
		if (pick >= n)
			pick = 0;
		if (s->nr_choices == s->cap_choices) {
			size_t cap = s->cap_choices ? s->cap_choices * 2 : 1024;
			uint16_t *c = realloc(s->choices, cap * sizeof(*c));

			if (!c)
				abort();
			s->choices = c;
			s->cap_choices = cap;
		}
		s->choices[s->nr_choices++] = (uint16_t)s->enabled[pick];
	}
	switch_to(s, (int)s->enabled[pick]);
}

/* The step the vCPU took since its last switch point is over. */
static void step_done(struct sim_sched *s, struct vcpu *v)
{
	s->steps++;
	v->last = v->next;
	wake_writers_waiters(s, &v->last);
	if (s->step_fn)
		s->step_fn(s->step_ctx, s, (unsigned int)s->cur);
}

void sim_sched_complete_step(struct sim_sched *s)
{
	struct vcpu *v;

	if (!s || s->cur < 0)
		return;
	s->completed++;
	v = &s->v[s->cur];
	if (v->next.valid)
		step_done(s, v);
	v->next.valid = 0;
}

uint64_t sim_sched_completed(const struct sim_sched *s)
{
	return s->completed;
}

static void on_event(void *ctx, const struct sim_event *ev)
{
	struct sim_sched *s = ctx;
	struct vcpu *v;

	if (s->cur < 0)
		return;		/* the executor between runs, outside any vCPU */
	v = &s->v[s->cur];
	if (v->next.valid)
		step_done(s, v);
	if (ev->kind == SIM_EV_RELAX) {
		v->next = (struct sim_sched_access){ .kind = SIM_EV_RELAX, .valid = 1 };
		if (v->loaded && !v->loaded_stale) {
			v->wait_addr = v->loaded;
			v->state = V_SLEEPING;
		}
		v->loaded_sync = false;
	} else {
		bool load = ev->kind == SIM_EV_LOAD ||
			    (ev->kind == SIM_EV_ATOMIC &&
			     (ev->flags & SIM_EV_F_OP_MASK) == SIM_EV_AT_LOAD);

		v->next = (struct sim_sched_access){
			.addr = ev->addr, .size = ev->size, .kind = (uint8_t)ev->kind,
			.write = !load, .valid = 1, .flags = ev->flags,
		};
		/*
		 * A spin-wait reads its lock word atomically (or READ_ONCE):
		 * a plain load after it (a coverage guard or map pointer of
		 * the compiler's, which no vCPU writes) is not what it waits on.
		 */
		if (load && (ev->kind == SIM_EV_ATOMIC || (ev->flags & SIM_EV_F_VOLATILE))) {
			v->loaded = ev->addr;
			v->loaded_sync = true;
			v->loaded_stale = false;
		} else if (load && !v->loaded_sync) {
			v->loaded = ev->addr;
			v->loaded_stale = false;
		}
	}
	reschedule(s);
}

static void trampoline(void)
{
	struct sim_sched *s = running;
	struct vcpu *v;

	fiber_arrived(s, NULL);
	v = &s->v[s->cur];
	v->fn(v->arg, (unsigned int)s->cur);
	v = &s->v[s->cur];
	if (v->next.valid)
		step_done(s, v);
	v->next = (struct sim_sched_access){ 0 };
	v->state = V_DONE;
	reschedule(s);
	abort();
}

/* A fresh context at the start of the vCPU's body (getcontext returns twice: alone here). */
static int prepare(struct vcpu *v)
{
	if (!v->stack) {
		v->stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (v->stack == MAP_FAILED) {
			v->stack = NULL;
			return -1;
		}
	}
	if (getcontext(&v->ctx))
		return -1;
	v->ctx.uc_stack.ss_sp = v->stack;
	v->ctx.uc_stack.ss_size = STACK_SIZE;
	v->ctx.uc_link = NULL;
	makecontext(&v->ctx, trampoline, 0);
	/* Each vCPU starts with the event layer as the executor left it. */
	sim_event_cpu_fork(&v->ev_cpu);
	v->forked = true;
	v->catcher = NULL;
	return 0;
}

/*
 * The run is over: a vCPU stopped inside an operation never reaches its
 * sim_event_end(), and one may end armed as it started; either way its
 * armed state goes with it, or mm/ would go on emitting every trace event
 * for an armed thread that no longer exists.
 */
static void retire_all(struct sim_sched *s)
{
	for (unsigned int i = 0; i < s->nr; i++) {
		if (!s->v[i].forked)
			continue;
		sim_event_cpu_retire(&s->v[i].ev_cpu);
		s->v[i].forked = false;
	}
}

int sim_sched_run(struct sim_sched *s)
{
	struct sim_sched *outer = running;

	for (unsigned int i = 0; i < s->nr; i++)
		if (s->v[i].state == V_READY && prepare(&s->v[i])) {
			retire_all(s);
			return SIM_SCHED_DEADLOCK;
		}
	running = s;
	sim_event_set_scheduler(on_event, s);
	s->cur = -1;
	reschedule(s);
	/* Back on the main context: every vCPU is done, or the run was stopped. */
	sim_event_set_scheduler(NULL, NULL);
	retire_all(s);
	running = outer;
	return s->status;
}
