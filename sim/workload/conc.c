// SPDX-License-Identifier: MIT
/*
 * Concurrent scenarios (conc.h):
 *  - anaxagoros: the Anaxagoros paper's sizes, 2048 frames, 1024 CPUs,
 *    mapping counters saturating at 256, set_entry on shared tables (4096
 *    entries); most mappings go to a few hot frames, so counters reach max;
 *  - conc2seq: the Conc2Seq case study's, 4096 pages, tables of 1024
 *    entries (four of them), max 256, 256 CPUs;
 *  - conc-alloc: two CPUs allocating and freeing on one buddy pool;
 *  - conc-vm: two CPUs sharing, unsharing and donating the same four host
 *    pages to one VM (at most 64 ops each: the block is linearized).
 */
#include "conc.h"

#include <stdlib.h>
#include <string.h>

#include "rng.h"

struct sim_conc_workload {
	struct sim_op *ops;
	size_t n, cap, pos;
	struct sim_rng rng;
};

static const char *const names[] = { "anaxagoros", "conc2seq", "conc-alloc", "conc-vm" };

bool sim_conc_workload_is(const char *scenario)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(scenario, names[i]))
			return true;
	return false;
}

static bool push(struct sim_conc_workload *w, struct sim_op op)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 1024;
		struct sim_op *n = realloc(w->ops, cap * sizeof(*n));

		if (!n)
			return false;
		w->ops = n;
		w->cap = cap;
	}
	w->ops[w->n++] = op;
	return true;
}

static bool on_cpu(struct sim_conc_workload *w, unsigned int cpu)
{
	return push(w, (struct sim_op){ .kind = SIM_OP_SCHED, .vcpu = cpu });
}

static bool maptab(struct sim_conc_workload *w, uint64_t ops, unsigned int cpus, uint32_t frames,
		   uint32_t entries, uint32_t max)
{
	uint64_t per = ops / cpus ? ops / cpus : 1;

	if (!push(w, (struct sim_op){ .kind = SIM_OP_MAPTAB_INIT, .a = frames, .b = entries,
				      .c = max }))
		return false;
	for (unsigned int c = 0; c < cpus; c++) {
		if (!on_cpu(w, c))
			return false;
		for (uint64_t i = 0; i < per; i++) {
			uint64_t r = sim_rng_below(&w->rng, 100);
			uint64_t frame = r < 60 ? 1 + sim_rng_below(&w->rng, 2) :
					 r < 70 ? 0 : 1 + sim_rng_below(&w->rng, frames);

			if (!push(w, (struct sim_op){ .kind = SIM_OP_SET_ENTRY,
						      .a = sim_rng_below(&w->rng, entries),
						      .b = frame }))
				return false;
		}
	}
	return true;
}

static bool conc_alloc(struct sim_conc_workload *w, uint64_t ops)
{
	for (unsigned int c = 0; c < 2; c++) {
		if (!on_cpu(w, c))
			return false;
		for (uint64_t i = 0; i < ops / 2; i += 2) {
			uint32_t h = (uint32_t)(1 + c + 2 * i);

			if (!push(w, (struct sim_op){ .kind = SIM_OP_ALLOC, .h = h,
						      .a = sim_rng_below(&w->rng, 3) }) ||
			    !push(w, (struct sim_op){ .kind = SIM_OP_FREE, .h = h }))
				return false;
		}
	}
	return true;
}

/* Shares, unshares and donations of four host pages to one VM, from two CPUs. */
static bool conc_vm(struct sim_conc_workload *w, const struct sim_workload_params *p,
		    uint64_t ops)
{
	static const uint16_t kinds[] = {
		SIM_OP_HOST_SHARE_GUEST, SIM_OP_HOST_UNSHARE_GUEST, SIM_OP_HOST_DONATE_GUEST,
	};

	if (!p->host_pages)
		return true;
	if (!push(w, (struct sim_op){ .kind = SIM_OP_VM_CREATE, .vm = 1, .a = 1 }))
		return false;
	for (unsigned int c = 0; c < 2; c++) {
		if (!on_cpu(w, c))
			return false;
		for (uint64_t i = 0; i < ops / 2 && i < 64; i++) {
			uint64_t k = kinds[sim_rng_below(&w->rng, 3)];
			uint64_t page = sim_rng_below(&w->rng, 4);
			/* A donation goes to an IPA of its own: it cannot be undone. */
			uint64_t ipa = 0x40000000ULL + (page << 12) +
				       (k == SIM_OP_HOST_DONATE_GUEST ? (1 + i + 64 * c) << 16 : 0);

			if (!push(w, (struct sim_op){ .kind = (uint16_t)k, .vm = 1, .a = ipa,
						      .b = p->host_base_pfn + page, .c = 1,
						      .d = 3 }))
				return false;
		}
	}
	return true;
}

struct sim_conc_workload *sim_conc_workload_create(const char *scenario,
						   const struct sim_workload_params *p)
{
	struct sim_conc_workload *w;
	bool ok;

	if (!sim_conc_workload_is(scenario))
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	sim_rng_seed(&w->rng, p->seed);
	if (!strcmp(scenario, "anaxagoros"))
		ok = maptab(w, p->ops, 1024, 2048, 4096, 256);
	else if (!strcmp(scenario, "conc2seq"))
		ok = maptab(w, p->ops, 256, 4096, 4 * 1024, 256);
	else if (!strcmp(scenario, "conc-vm"))
		ok = conc_vm(w, p, p->ops);
	else
		ok = conc_alloc(w, p->ops);
	if (!ok) {
		sim_conc_workload_destroy(w);
		return NULL;
	}
	return w;
}

void sim_conc_workload_destroy(struct sim_conc_workload *w)
{
	if (!w)
		return;
	free(w->ops);
	free(w);
}

bool sim_conc_workload_next(struct sim_conc_workload *w, struct sim_op *op)
{
	if (w->pos == w->n)
		return false;
	*op = w->ops[w->pos++];
	return true;
}
