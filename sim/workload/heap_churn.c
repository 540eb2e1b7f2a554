// SPDX-License-Identifier: MIT
/*
 * The "heap-churn" workload: the hypervisor's own objects coming and
 * going on the byte heap. VMs are created and destroyed; each brings a VM
 * structure, one structure per vCPU, a stage-2, a memcache header and a
 * page-aligned block of state shared with the host, and
 * while it lives it allocates and frees many small records (mappings,
 * list nodes, per-fault bookkeeping) and now and then a larger buffer.
 * All of a VM's objects go when it does, and after some teardowns the
 * hypervisor gives whole free chunks back (hreclaim). Sizes are spread
 * over 16 B..4 KiB with the odd sizes real structures have.
 */
#include "heap_churn.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "rng.h"

#define HC_VMS		8		/* VM slots */
#define HC_MAX_LIVE	6000		/* objects alive at once, all VMs */
#define HC_QUEUE	256

struct hc_obj {
	uint32_t h;
	uint8_t owner;			/* VM slot + 1, 0: the hypervisor itself */
};

struct sim_heap_workload {
	struct sim_rng rng;
	uint64_t ops, emitted;
	uint32_t next_h;
	uint32_t *free_h;		/* handle numbers to reuse */
	uint32_t nr_free_h, cap_free_h;
	struct hc_obj *live;		/* unordered */
	uint32_t nr_live, cap_live;
	uint32_t *slot;			/* handle -> index in live[] + 1 */
	uint32_t cap_slot;
	bool vm_live[HC_VMS];
	struct sim_op queue[HC_QUEUE];
	uint8_t queue_owner[HC_QUEUE];
	unsigned int q_head, q_len;
	uint8_t current_owner;
	uint32_t target;		/* live objects the churn drifts towards */
};

static bool grow(void **arr, uint32_t *cap, uint32_t need, size_t size)
{
	return sim_grow(arr, cap, need, size, 256);
}

struct sim_heap_workload *sim_heap_workload_create(const struct sim_workload_params *p)
{
	struct sim_heap_workload *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	sim_rng_seed(&w->rng, p->seed);
	w->ops = p->ops;
	w->next_h = 1;
	w->target = 1000;
	return w;
}

void sim_heap_workload_destroy(struct sim_heap_workload *w)
{
	if (!w)
		return;
	free(w->free_h);
	free(w->live);
	free(w->slot);
	free(w);
}

static uint32_t take_handle(struct sim_heap_workload *w)
{
	return w->nr_free_h ? w->free_h[--w->nr_free_h] : w->next_h++;
}

static void give_handle(struct sim_heap_workload *w, uint32_t h)
{
	if (grow((void **)&w->free_h, &w->cap_free_h, w->nr_free_h + 1, sizeof(uint32_t)))
		w->free_h[w->nr_free_h++] = h;
}

static void queue(struct sim_heap_workload *w, const struct sim_op *op, uint8_t owner)
{
	unsigned int i;

	if (w->q_len == HC_QUEUE)
		return;
	i = (w->q_head + w->q_len++) % HC_QUEUE;
	w->queue[i] = *op;
	w->queue_owner[i] = owner;
}

static void plan_alloc(struct sim_heap_workload *w, uint64_t size, uint64_t align, uint8_t owner)
{
	struct sim_op op = { .kind = SIM_OP_HALLOC, .h = take_handle(w), .a = size, .b = align };

	queue(w, &op, owner);
}

static void plan_free(struct sim_heap_workload *w, uint32_t h)
{
	struct sim_op op = { .kind = SIM_OP_HFREE, .h = h };

	queue(w, &op, 0);
}

static uint64_t between(struct sim_heap_workload *w, uint64_t lo, uint64_t hi)
{
	return lo + sim_rng_below(&w->rng, hi - lo + 1);
}

/*
 * A small record: mostly 8..128 bytes, sometimes up to 512; 8-byte aligned
 * or not asked, and one in eight cache-line aligned (per-CPU counters and
 * locks kept off each other's lines: a few bytes, 64-byte alignment).
 */
static void plan_small(struct sim_heap_workload *w, uint8_t owner)
{
	uint64_t r = sim_rng_below(&w->rng, 16);
	uint64_t size = r < 12 ? between(w, 8, 128) : between(w, 129, 512);
	uint64_t align = sim_rng_below(&w->rng, 2) ? 8 : 0;

	if (!sim_rng_below(&w->rng, 8)) {
		size = between(w, 4, 48);
		align = 64;
	}
	plan_alloc(w, size, align, owner);
}

static void plan_vm_create(struct sim_heap_workload *w, unsigned int vm)
{
	unsigned int vcpus = 1 + (unsigned int)sim_rng_below(&w->rng, 8);
	uint8_t owner = (uint8_t)(vm + 1);

	plan_alloc(w, between(w, 1800, 3000), 64, owner);		/* struct vm */
	for (unsigned int i = 0; i < vcpus; i++)
		plan_alloc(w, between(w, 700, 1600), 64, owner);	/* struct vcpu */
	plan_alloc(w, 96, 8, owner);					/* stage-2 */
	plan_alloc(w, between(w, 256, 2048), 4096, owner);		/* page-aligned shared state */
	plan_alloc(w, 64, 64, owner);					/* memcache header */
	for (unsigned int i = between(w, 4, 24); i; i--)
		plan_small(w, owner);
	w->vm_live[vm] = true;
}

static void plan_vm_destroy(struct sim_heap_workload *w, unsigned int vm)
{
	uint8_t owner = (uint8_t)(vm + 1);

	for (uint32_t i = 0; i < w->nr_live; i++)
		if (w->live[i].owner == owner)
			plan_free(w, w->live[i].h);
	w->vm_live[vm] = false;
	if (!sim_rng_below(&w->rng, 4)) {
		struct sim_op op = { .kind = SIM_OP_HRECLAIM };

		queue(w, &op, 0);
	}
}

static unsigned int pick_vm(struct sim_heap_workload *w, bool live)
{
	unsigned int n = 0, k;

	for (unsigned int v = 0; v < HC_VMS; v++)
		n += w->vm_live[v] == live;
	if (!n)
		return HC_VMS;
	k = (unsigned int)sim_rng_below(&w->rng, n);
	for (unsigned int v = 0; v < HC_VMS; v++)
		if (w->vm_live[v] == live && k-- == 0)
			return v;
	return HC_VMS;
}

/* Frees one random live object that is not a VM's (VM objects go with their VM). */
static void plan_free_some(struct sim_heap_workload *w, unsigned int tries)
{
	while (w->nr_live && tries--) {
		const struct hc_obj *o = &w->live[sim_rng_below(&w->rng, w->nr_live)];

		if (o->owner && w->vm_live[o->owner - 1] && sim_rng_below(&w->rng, 4))
			continue;	/* a VM's long-lived record: keep it most of the time */
		plan_free(w, o->h);
		return;
	}
}

static void plan(struct sim_heap_workload *w)
{
	uint64_t r = sim_rng_below(&w->rng, 100);
	/* Allocate more often below the target, less above it; the target wanders. */
	uint64_t alloc_pct = w->nr_live < w->target ? 65 : 40;
	unsigned int vm;

	if (!sim_rng_below(&w->rng, 2000))
		w->target = 200 + (uint32_t)sim_rng_below(&w->rng, HC_MAX_LIVE - 1000);
	if (r < 3 && (vm = pick_vm(w, false)) < HC_VMS && w->nr_live < HC_MAX_LIVE / 2) {
		plan_vm_create(w, vm);
	} else if (r < 5 && (vm = pick_vm(w, true)) < HC_VMS) {
		plan_vm_destroy(w, vm);
	} else if (r < 5 + alloc_pct && w->nr_live < HC_MAX_LIVE) {
		vm = pick_vm(w, true);
		if (!sim_rng_below(&w->rng, 20)) {
			/* One draw per statement: C leaves the order of arguments open. */
			uint64_t size = between(w, 513, 4096);
			uint64_t align = 1ULL << sim_rng_below(&w->rng, 7);

			plan_alloc(w, size, align, vm < HC_VMS ? (uint8_t)(vm + 1) : 0);
		} else {
			plan_small(w, vm < HC_VMS && sim_rng_below(&w->rng, 2) ? (uint8_t)(vm + 1) : 0);
		}
	} else {
		plan_free_some(w, 8);
	}
}

static struct hc_obj *find_live(struct sim_heap_workload *w, uint32_t h)
{
	return h < w->cap_slot && w->slot[h] ? &w->live[w->slot[h] - 1] : NULL;
}

bool sim_heap_workload_next(struct sim_heap_workload *w, struct sim_op *op)
{
	unsigned int empty = 0;

	while (w->emitted < w->ops) {
		if (!w->q_len) {
			plan(w);
			if (!w->q_len && ++empty > 64)
				return false;
			continue;
		}
		*op = w->queue[w->q_head];
		w->current_owner = w->queue_owner[w->q_head];
		w->q_head = (w->q_head + 1) % HC_QUEUE;
		w->q_len--;
		/* A free planned twice (a VM's object picked before its teardown) is dropped. */
		if (op->kind == SIM_OP_HFREE && !find_live(w, op->h))
			continue;
		w->emitted++;
		return true;
	}
	return false;
}

void sim_heap_workload_result(struct sim_heap_workload *w, const struct sim_op *op, int result)
{
	struct hc_obj *o = find_live(w, op->h);
	uint32_t i;

	switch (op->kind) {
	case SIM_OP_HALLOC:
		if (result || o ||
		    !grow((void **)&w->live, &w->cap_live, w->nr_live + 1, sizeof(*w->live)) ||
		    !grow((void **)&w->slot, &w->cap_slot, op->h + 1, sizeof(uint32_t))) {
			give_handle(w, op->h);
			return;
		}
		w->live[w->nr_live++] = (struct hc_obj){ .h = op->h, .owner = w->current_owner };
		w->slot[op->h] = w->nr_live;
		return;
	case SIM_OP_HFREE:
		if (result || !o)
			return;
		i = w->slot[op->h] - 1;
		w->slot[op->h] = 0;
		w->live[i] = w->live[--w->nr_live];
		if (i < w->nr_live)
			w->slot[w->live[i].h] = i + 1;
		give_handle(w, op->h);
		return;
	default:
		return;
	}
}
