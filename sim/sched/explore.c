// SPDX-License-Identifier: MIT
/* Bounded exhaustive exploration with sleep sets and state hashing, then PCT (explore.h). */
#include "explore.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "event/event.h"

#define MAX_EXPLORE_VCPUS 64

struct frame {
	uint64_t enabled;	/* vCPUs that could run here */
	uint64_t sleep;		/* asleep here: exploring them adds nothing */
	uint64_t done;		/* explored from here already */
	unsigned int chosen;
};

struct slot {
	uint64_t key, val;
	uint32_t gen;
};

struct table {
	struct slot *s;
	size_t cap, n;
	uint32_t gen;		/* slots of older generations are empty */
};

struct explorer {
	const struct sim_explore_config *cfg;
	struct sim_explore_stats *st;
	struct frame *stack;
	size_t len, cap;
	size_t depth;		/* decisions so far in this run */
	uint64_t cur_sleep;
	bool error;
	int pruned;		/* 0, 1: sleep set, 2: state */
	uint64_t mem_hash;
	uint64_t vhash[MAX_EXPLORE_VCPUS];
	struct table mem;	/* word -> value, this run's writes */
	struct table seen;	/* state hash -> sleep set it was explored with */
	uint64_t run_steps;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static bool table_grow(struct table *t)
{
	struct table n = { .cap = t->cap ? t->cap * 2 : 4096, .gen = 1 };

	n.s = calloc(n.cap, sizeof(*n.s));
	if (!n.s)
		return false;
	for (size_t i = 0; i < t->cap; i++) {
		const struct slot *o = &t->s[i];
		size_t j;

		if (o->gen != t->gen)
			continue;
		for (j = mix(o->key) & (n.cap - 1); n.s[j].gen == n.gen; j = (j + 1) & (n.cap - 1))
			;
		n.s[j] = (struct slot){ o->key, o->val, n.gen };
		n.n++;
	}
	free(t->s);
	*t = n;
	return true;
}

/* The slot of @key (found: *found), or where it goes; NULL if out of memory. */
static struct slot *table_find(struct table *t, uint64_t key, bool *found)
{
	size_t j;

	if ((t->n + 1) * 2 > t->cap && !table_grow(t))
		return NULL;
	for (j = mix(key) & (t->cap - 1); t->s[j].gen == t->gen; j = (j + 1) & (t->cap - 1))
		if (t->s[j].key == key) {
			*found = true;
			return &t->s[j];
		}
	*found = false;
	return &t->s[j];
}

static void table_put(struct table *t, struct slot *s, uint64_t key, uint64_t val, bool found)
{
	if (!found)
		t->n++;
	*s = (struct slot){ key, val, t->gen };
}

static void table_clear(struct table *t)
{
	t->n = 0;
	if (++t->gen == 0) {
		memset(t->s, 0, t->cap * sizeof(*t->s));
		t->gen = 1;
	}
}

/* Steps of two vCPUs commute if they touch disjoint memory or both only read. */
static bool independent(const struct sim_sched_access *a, const struct sim_sched_access *b)
{
	uintptr_t a0, a1, b0, b1;

	if (!a->valid || !b->valid || a->kind == SIM_EV_RELAX || b->kind == SIM_EV_RELAX)
		return false;
	if (!a->write && !b->write)
		return true;
	a0 = (uintptr_t)a->addr;
	a1 = a0 + (a->size ? a->size : 1);
	b0 = (uintptr_t)b->addr;
	b1 = b0 + (b->size ? b->size : 1);
	return a1 <= b0 || b1 <= a0;
}

static uint64_t state_hash(struct explorer *e, struct sim_sched *s)
{
	uint64_t h = e->mem_hash;
	unsigned int n = sim_sched_nr_vcpus(s);

	for (unsigned int v = 0; v < n && v < MAX_EXPLORE_VCPUS; v++) {
		const struct sim_sched_access *a = sim_sched_next_access(s, v);
		uint64_t pos = a->valid ? mix((uintptr_t)a->addr ^ ((uint64_t)a->kind << 56) ^
					      ((uint64_t)a->write << 60)) : 0;

		/* Where each vCPU stands (before which access) and what it has seen. */
		h ^= mix(e->vhash[v] + pos + 0x9e3779b97f4a7c15ULL * (v + 1));
	}
	return h;
}

static unsigned int index_of(const unsigned int *enabled, unsigned int n, unsigned int v)
{
	for (unsigned int i = 0; i < n; i++)
		if (enabled[i] == v)
			return i;
	return 0;
}

static void prune(struct explorer *e, struct sim_sched *s, int why)
{
	e->pruned = why;
	sim_sched_stop(s);
}

static unsigned int choose(void *ctx, struct sim_sched *s, const unsigned int *enabled,
			   unsigned int n, int cur)
{
	struct explorer *e = ctx;
	uint64_t mask = 0, avail, sleep;
	size_t d = e->depth++;
	struct frame *f;

	if (e->pruned || e->error)
		return 0;
	if (sim_sched_nr_vcpus(s) > MAX_EXPLORE_VCPUS) {
		e->error = true;
		sim_sched_stop(s);
		return 0;
	}
	for (unsigned int i = 0; i < n; i++)
		mask |= 1ULL << enabled[i];
	if (d < e->len) {
		f = &e->stack[d];
		if (!(mask & (1ULL << f->chosen)) || mask != f->enabled) {
			e->error = true;	/* the same decisions took another path */
			sim_sched_stop(s);
			return 0;
		}
		e->cur_sleep = f->sleep | f->done;
		return index_of(enabled, n, f->chosen);
	}
	if (d >= e->cfg->depth) {
		e->st->depth_reached = true;
		for (unsigned int i = 0; i < n; i++)
			if ((int)enabled[i] == cur)
				return i;
		return 0;
	}
	sleep = e->cfg->sleep_sets ? e->cur_sleep : 0;
	if (e->cfg->hashing) {
		uint64_t h = state_hash(e, s);
		bool found;
		struct slot *sl = table_find(&e->seen, h, &found);

		if (sl && found && !(sl->val & ~sleep)) {
			prune(e, s, 2);
			return 0;
		}
		if (sl) {
			e->st->distinct_states += !found;
			table_put(&e->seen, sl, h, found ? sl->val & sleep : sleep, found);
		}
	}
	avail = mask & ~sleep;
	if (!avail) {
		prune(e, s, 1);
		return 0;
	}
	if (e->len == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 256;
		struct frame *st = realloc(e->stack, cap * sizeof(*st));

		if (!st) {
			e->error = true;
			sim_sched_stop(s);
			return 0;
		}
		e->stack = st;
		e->cap = cap;
	}
	f = &e->stack[e->len++];
	*f = (struct frame){ .enabled = mask, .sleep = sleep, .chosen = (unsigned int)__builtin_ctzll(avail) };
	e->cur_sleep = sleep;
	return index_of(enabled, n, f->chosen);
}

/*
 * The aligned 8-byte word holding an access, for the state hash. An access
 * of fewer bytes to a stack object (a vCPU's locals) shares its word with
 * the bytes around it, which ASan poisons as the object's redzone: the read
 * is deliberate and in mapped memory, so it is left out of ASan's checks.
 */
__attribute__((no_sanitize_address))
static uint64_t word_at(uintptr_t w)
{
	return __atomic_load_n((const uint64_t *)w, __ATOMIC_RELAXED);
}

static void step(void *ctx, struct sim_sched *s, unsigned int vcpu)
{
	struct explorer *e = ctx;
	const struct sim_sched_access *a = sim_sched_last_access(s, vcpu);

	e->run_steps++;
	if (e->cfg->sleep_sets && e->cur_sleep) {
		uint64_t m = e->cur_sleep;

		while (m) {
			unsigned int u = (unsigned int)__builtin_ctzll(m);

			m &= m - 1;
			if (!independent(sim_sched_next_access(s, u), a))
				e->cur_sleep &= ~(1ULL << u);
		}
	}
	if (e->cfg->hashing && a->valid && a->addr && vcpu < MAX_EXPLORE_VCPUS) {
		uintptr_t w = (uintptr_t)a->addr & ~(uintptr_t)7;
		uint64_t v = word_at(w);

		if (a->write) {
			bool found;
			struct slot *sl = table_find(&e->mem, w, &found);
			uint64_t old = found ? sl->val : 0x5a5a5a5a5a5a5a5aULL;

			e->mem_hash ^= mix(w ^ mix(old)) ^ mix(w ^ mix(v));
			if (sl)
				table_put(&e->mem, sl, w, v, found);
		}
		e->vhash[vcpu] = mix(e->vhash[vcpu] ^ mix(w + a->kind) ^ v);
	}
}

/* The next schedule: the deepest decision with an unexplored, awake choice. */
static bool backtrack(struct explorer *e)
{
	while (e->len) {
		struct frame *f = &e->stack[e->len - 1];
		uint64_t avail;

		f->done |= 1ULL << f->chosen;
		avail = f->enabled & ~f->done & ~(e->cfg->sleep_sets ? f->sleep : 0);
		if (avail) {
			f->chosen = (unsigned int)__builtin_ctzll(avail);
			return true;
		}
		e->len--;
	}
	return false;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void account(struct explorer *e)
{
	struct sim_explore_stats *st = e->st;

	st->schedules++;
	st->steps += e->run_steps;
	if (e->run_steps > st->max_steps)
		st->max_steps = e->run_steps;
	if (e->pruned == 1)
		st->sleep_pruned++;
	else if (e->pruned == 2)
		st->state_pruned++;
	else
		st->complete++;
}

static void pct_step(void *ctx, struct sim_sched *s, unsigned int vcpu)
{
	struct explorer *e = ctx;
	unsigned int n = sim_sched_nr_vcpus(s);

	(void)vcpu;
	e->run_steps++;
	if (n > e->st->max_vcpus)
		e->st->max_vcpus = n;
}

static unsigned int count_vcpus(void *ctx, struct sim_sched *s, const unsigned int *enabled,
				unsigned int n, int cur)
{
	struct explorer *e = ctx;

	if (sim_sched_nr_vcpus(s) > e->st->max_vcpus)
		e->st->max_vcpus = sim_sched_nr_vcpus(s);
	return choose(ctx, s, enabled, n, cur);
}

int sim_explore(const struct sim_explore_config *cfg, sim_explore_run_fn run, void *ctx,
		struct sim_explore_stats *st)
{
	struct explorer e = { .cfg = cfg, .st = st };
	struct sim_sched_chooser c = { count_vcpus, &e };
	double t0 = now_s();
	int ret = 0;

	memset(st, 0, sizeof(*st));
	while (st->schedules < cfg->max_schedules) {
		e.depth = 0;
		e.cur_sleep = 0;
		e.pruned = 0;
		e.mem_hash = 0;
		e.run_steps = 0;
		memset(e.vhash, 0, sizeof(e.vhash));
		table_clear(&e.mem);
		ret = run(ctx, &c, step, &e);
		account(&e);
		if (ret || e.error)
			break;
		if (!backtrack(&e)) {
			st->exhaustive = true;
			break;
		}
	}
	if (e.error && !ret)
		ret = -1;
	if (!ret && !st->exhaustive && cfg->pct_runs && st->max_vcpus) {
		uint64_t k = st->max_steps ? st->max_steps : 1;

		st->pct_bound = sim_sched_pct_bound(st->max_vcpus, k, cfg->pct_depth);
		for (uint64_t i = 0; i < cfg->pct_runs && !ret; i++) {
			struct sim_sched_pct pct;
			struct sim_sched_chooser pc;

			if (sim_sched_pct_init(&pct, &pc, cfg->seed + i, st->max_vcpus, k, cfg->pct_depth)) {
				ret = -1;
				break;
			}
			e.run_steps = 0;
			ret = run(ctx, &pc, pct_step, &e);
			sim_sched_pct_release(&pct);
			st->pct_runs++;
			st->steps += e.run_steps;
		}
	}
	st->seconds = now_s() - t0;
	free(e.stack);
	free(e.mem.s);
	free(e.seen.s);
	return ret;
}
