// SPDX-License-Identifier: MIT
#include "workload.h"

#include <stdlib.h>
#include <string.h>

const struct sim_workload_scenario sim_workload_scenarios[] = {
	{ "alloc-random", "random alloc/get/put/split/free, orders 0..max skewed low, "
			  "occupancy held between 40% and 85% of the pool" },
	{ NULL, NULL },
};

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void sim_rng_seed(struct sim_rng *rng, uint64_t seed)
{
	/* splitmix64 to spread the seed over the state. */
	for (int i = 0; i < 4; i++) {
		uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		rng->s[i] = z ^ (z >> 31);
	}
}

uint64_t sim_rng_next(struct sim_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t sim_rng_below(struct sim_rng *rng, uint64_t bound)
{
	return bound ? (uint64_t)(((unsigned __int128)sim_rng_next(rng) * bound) >> 64) : 0;
}

struct live {
	uint32_t h;
	uint8_t order;
	uint32_t refs;
};

struct sim_workload {
	struct sim_workload_params p;
	struct sim_rng rng;
	uint64_t emitted;
	uint32_t next_handle;
	uint64_t pages_live;
	struct live *live;		/* live handles, unordered */
	uint32_t nr_live, cap_live;
	uint32_t pending;		/* index into live[] of the op in flight, or UINT32_MAX */
	uint32_t *recycled;		/* free handle numbers, reused to keep the table small */
	uint32_t nr_recycled, cap_recycled;
};

struct sim_workload *sim_workload_create(const char *scenario,
					 const struct sim_workload_params *params)
{
	struct sim_workload *w;

	if (strcmp(scenario, "alloc-random"))
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->p = *params;
	if (!w->p.max_order)
		w->p.max_order = 10;
	sim_rng_seed(&w->rng, params->seed);
	w->next_handle = 1;
	return w;
}

void sim_workload_destroy(struct sim_workload *w)
{
	if (!w)
		return;
	free(w->live);
	free(w->recycled);
	free(w);
}

static uint32_t take_handle(struct sim_workload *w)
{
	if (w->nr_recycled)
		return w->recycled[--w->nr_recycled];
	return w->next_handle++;
}

static void give_handle(struct sim_workload *w, uint32_t h)
{
	if (w->nr_recycled == w->cap_recycled) {
		uint32_t cap = w->cap_recycled ? 2 * w->cap_recycled : 256;
		uint32_t *n = realloc(w->recycled, cap * sizeof(*n));

		if (!n)
			return;	/* the handle number is simply not reused */
		w->recycled = n;
		w->cap_recycled = cap;
	}
	w->recycled[w->nr_recycled++] = h;
}

static bool push_live(struct sim_workload *w, struct live l)
{
	if (w->nr_live == w->cap_live) {
		uint32_t cap = w->cap_live ? 2 * w->cap_live : 256;
		struct live *n = realloc(w->live, cap * sizeof(*n));

		if (!n)
			return false;
		w->live = n;
		w->cap_live = cap;
	}
	w->live[w->nr_live++] = l;
	return true;
}

static void drop_live(struct sim_workload *w, uint32_t i)
{
	w->pages_live -= 1ULL << w->live[i].order;
	give_handle(w, w->live[i].h);
	w->live[i] = w->live[--w->nr_live];
}

/* Orders skewed low: each higher order half as likely. */
static unsigned int pick_order(struct sim_workload *w)
{
	uint64_t r = sim_rng_next(&w->rng);
	unsigned int order = (unsigned int)__builtin_ctzll(r | (1ULL << 63));

	return order > w->p.max_order ? w->p.max_order : order;
}

bool sim_workload_next(struct sim_workload *w, struct sim_op *op)
{
	uint64_t occupancy_pct, dice;
	uint32_t i;

	if (w->emitted >= w->p.ops)
		return false;
	w->emitted++;
	memset(op, 0, sizeof(*op));
	occupancy_pct = w->p.pool_pages ? w->pages_live * 100 / w->p.pool_pages : 0;
	dice = sim_rng_below(&w->rng, 100);
	/* Below 40% mostly allocate, above 85% mostly free. */
	if (occupancy_pct < 40)
		dice = dice < 70 ? 0 : dice;
	else if (occupancy_pct > 85)
		dice = dice < 70 ? 99 : dice;

	if (!w->nr_live || dice < 40) {
		op->kind = SIM_OP_ALLOC;
		op->h = take_handle(w);
		op->a = pick_order(w);
		w->pending = UINT32_MAX;
		return true;
	}
	i = (uint32_t)sim_rng_below(&w->rng, w->nr_live);
	w->pending = i;
	op->h = w->live[i].h;
	if (dice < 55 && w->live[i].refs < 8) {
		op->kind = SIM_OP_GET;
	} else if (dice < 62 && w->live[i].order > 0 &&
		   w->next_handle < SIM_MAX_HANDLE - (1u << w->live[i].order)) {
		op->kind = SIM_OP_SPLIT;
		op->h2 = w->next_handle;
		w->next_handle += (1u << w->live[i].order) - 1;
	} else if (w->live[i].refs > 1) {
		op->kind = SIM_OP_PUT;
	} else {
		op->kind = dice & 1 ? SIM_OP_PUT : SIM_OP_FREE;
	}
	return true;
}

void sim_workload_result(struct sim_workload *w, const struct sim_op *op, int result)
{
	struct live *l = w->pending == UINT32_MAX ? NULL : &w->live[w->pending];

	switch (op->kind) {
	case SIM_OP_ALLOC:
		if (result || !push_live(w, (struct live){ op->h, (uint8_t)op->a, 1 })) {
			give_handle(w, op->h);
			return;
		}
		w->pages_live += 1ULL << op->a;
		return;
	case SIM_OP_GET:
		if (!result)
			l->refs++;
		return;
	case SIM_OP_PUT:
	case SIM_OP_FREE:
		if (result)
			return;
		if (--l->refs == 0)
			drop_live(w, w->pending);
		return;
	case SIM_OP_SPLIT: {
		uint32_t nr = 1u << l->order;

		if (result)
			return;
		l->order = 0;
		w->pages_live -= nr - 1;
		for (uint32_t k = 1; k < nr; k++) {
			if (push_live(w, (struct live){ op->h2 + k - 1, 0, 1 }))
				w->pages_live++;
		}
		return;
	}
	default:
		return;
	}
}
