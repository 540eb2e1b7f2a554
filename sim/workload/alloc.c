// SPDX-License-Identifier: MIT
/* Allocator-only scenarios: random use, fragmentation pressure, balloon. */
#include <hvmm/types.h>

#include "workload/state.h"

/* One op at a time, each chosen knowing every earlier result. */
void wl_plan_alloc_random(struct sim_workload *w)
{
	uint64_t occupancy_pct = wl_occupancy_pct(w), dice = sim_rng_below(&w->rng, 100);
	struct sim_op op = { 0 };
	struct wl_live *l;

	/* Below 40% mostly allocate, above 85% mostly free. */
	if (occupancy_pct < 40)
		dice = dice < 70 ? 0 : dice;
	else if (occupancy_pct > 85)
		dice = dice < 70 ? 99 : dice;
	if (!w->nr_live || dice < 40) {
		wl_plan_alloc(w, wl_pick_order(w), WL_OWNER_HOST);
		return;
	}
	l = &w->live[sim_rng_below(&w->rng, w->nr_live)];
	op.h = l->h;
	if (dice < 55 && l->refs < 8) {
		op.kind = SIM_OP_GET;
	} else if (dice < 62 && l->order > 0 &&
		   w->next_handle < SIM_MAX_HANDLE - (1u << l->order)) {
		op.kind = SIM_OP_SPLIT;
		op.h2 = w->next_handle;
		w->next_handle += (1u << l->order) - 1;
	} else if (l->refs > 1) {
		op.kind = SIM_OP_PUT;
	} else {
		op.kind = dice & 1 ? SIM_OP_PUT : SIM_OP_FREE;
	}
	wl_queue(w, &op, l->owner);
}

/* Every reference of every live handle of @owner (all if @owner < 0) dropped. */
void wl_plan_release(struct sim_workload *w, int owner, unsigned int max_ops)
{
	for (uint32_t i = 0; i < w->nr_live && max_ops; i++) {
		const struct wl_live *l = &w->live[i];

		if (owner >= 0 && l->owner != owner)
			continue;
		for (uint32_t r = 0; r < l->refs && max_ops; r++, max_ops--) {
			struct sim_op op = { .kind = SIM_OP_PUT, .h = l->h };

			wl_queue(w, &op, l->owner);
		}
	}
}

/*
 * Cycle: fill to 99% with single pages, free every other one (by handle
 * parity, alternating between cycles), ask for larger and larger blocks
 * (most fail: AVAIL judges each failure), then free everything.
 */
void wl_plan_frag_pressure(struct sim_workload *w)
{
	unsigned int step = w->frag_phase % 4, cycle = (unsigned int)(w->frag_phase / 4);

	switch (step) {
	case 0:
		if (wl_occupancy_pct(w) < 99 && w->attempts < w->p.pool_pages) {
			for (unsigned int i = 0; i < 64; i++)
				wl_plan_alloc(w, 0, WL_OWNER_HOST);
			w->attempts += 64;
			return;
		}
		break;
	case 1:
		for (uint32_t i = 0; i < w->nr_live && !wl_queue_full(w); i++)
			if (w->live[i].order == 0 && (w->live[i].h & 1) == (cycle & 1))
				wl_plan_free(w, w->live[i].h);
		if (w->q_len)
			return;
		break;
	case 2:
		if (w->attempts < 256) {
			for (unsigned int i = 0; i < 32; i++)
				wl_plan_alloc(w, 1 + (unsigned int)(w->attempts + i) %
					      (w->p.max_order ? w->p.max_order : 1), WL_OWNER_HOST);
			w->attempts += 32;
			return;
		}
		break;
	case 3:
		wl_plan_release(w, -1, WL_QUEUE - 8);
		if (w->q_len)
			return;
		break;
	}
	w->frag_phase++;
	w->attempts = 0;
	wl_plan_alloc(w, 0, WL_OWNER_HOST);	/* plan at least one op */
}

/* A VM page not yet shared back to the host (@shared 0) or one that is (2). */
static struct wl_page *pick_vm_page(struct sim_workload *w, unsigned int vm, uint8_t shared)
{
	struct wl_vm *v = &w->vms[vm];

	for (uint32_t tries = 0; tries < 8 && v->nr_pages; tries++) {
		struct wl_page *pg = &v->pages[sim_rng_below(&w->rng, v->nr_pages)];

		if (pg->shared == shared)
			return pg;
	}
	return NULL;
}

/*
 * Inflate to a random 30..70% of the pool in batches of single pages, then
 * deflate to 10%; live VMs share a page back to the host as their balloon
 * grows and take it back as it shrinks.
 */
void wl_plan_balloon(struct sim_workload *w)
{
	bool inflating = !(w->balloon_phase & 1);
	unsigned int vm = wl_random_vm(w);
	struct wl_page *pg = vm ? pick_vm_page(w, vm, inflating ? 0 : 2) : NULL;

	if (!w->balloon_target)
		w->balloon_target = w->p.pool_pages * (30 + sim_rng_below(&w->rng, 41)) / 100;
	if (pg) {
		struct sim_op op = {
			.kind = inflating ? SIM_OP_GUEST_SHARE_HOST : SIM_OP_GUEST_UNSHARE_HOST,
			.vm = vm, .a = pg->ipa, .c = 1,
		};

		wl_queue(w, &op, 0);
	}
	if (inflating && w->pages_live < w->balloon_target && w->attempts < w->p.pool_pages) {
		for (unsigned int i = 0; i < 32; i++)
			wl_plan_alloc(w, 0, WL_OWNER_HOST);
		w->attempts += 32;
		return;
	}
	if (!inflating && wl_occupancy_pct(w) > 10 && w->nr_live) {
		for (unsigned int i = 0; i < 32 && i < w->nr_live; i++) {
			const struct wl_live *l = &w->live[sim_rng_below(&w->rng, w->nr_live)];
			struct sim_op op = { .kind = SIM_OP_PUT, .h = l->h };

			wl_queue(w, &op, l->owner);
		}
		return;
	}
	w->balloon_phase++;
	w->balloon_target = 0;
	w->attempts = 0;
	if (!w->q_len)
		wl_plan_alloc(w, 0, WL_OWNER_HOST);
}
