/* SPDX-License-Identifier: MIT */
/*
 * What every workload scenario shares: the PRNG, the live handles and VMs
 * as the generator believes them to be (it learns each op's result, never
 * peeks into the machine), and a queue of planned ops. A scenario plans a
 * few ops at a time; an op whose handle or VM did not come to life (its
 * alloc or vm_create failed) is dropped when its turn comes.
 */
#ifndef SIM_WORKLOAD_STATE_H
#define SIM_WORKLOAD_STATE_H

#include "workload.h"

#define WL_QUEUE	512		/* planned ops */
#define WL_MAX_VMS	16		/* VMs a scenario keeps alive at once */
#define WL_GUEST_IPA	0x40000000ULL	/* where guest RAM starts */
#define WL_OWNER_HOST	0		/* a hyp allocation not tied to a VM */

struct wl_live {
	uint32_t h;
	uint8_t order;
	uint8_t owner;			/* WL_OWNER_HOST or VM number */
	uint32_t refs;
};

struct wl_page {			/* a page a VM holds */
	uint64_t ipa, pfn;
	uint8_t shared;			/* host-shared into the VM, or shared back to the host */
};

struct wl_vm {
	bool live, creating;
	unsigned int vcpus;
	struct wl_page *pages;
	uint32_t nr_pages, cap_pages;
	uint64_t next_ipa;
};

struct wl_planned {
	struct sim_op op;
	uint8_t owner;
};

struct sim_workload;

struct wl_scenario {
	const char *name;
	const char *description;
	/* Queues the next few ops (at least one), or nothing when the scenario has no more. */
	void (*plan)(struct sim_workload *w);
};

struct sim_vm_workload;

struct sim_workload {
	struct sim_vm_workload *vmr;	/* vm-random: its own generator (workload_vm.c) */
	struct sim_heap_workload *heapw;	/* heap-churn: its own generator (heap_churn.c) */
	struct sim_conc_workload *concw;	/* concurrent scenarios (conc.c) */
	struct sim_workload_params p;
	const struct wl_scenario *sc;
	struct sim_rng rng;
	uint64_t emitted;
	uint64_t frag_phase;		/* frag-pressure: cycle * 4 + step */
	uint64_t balloon_phase;		/* balloon: even inflating, odd deflating */
	uint64_t balloon_target;	/* pages */
	uint64_t attempts;		/* allocations tried in the current step */
	bool booted;			/* boot and share-storm: the VMs were planned */
	uint32_t next_handle;
	uint64_t pages_live;
	uint64_t refs_live;		/* references held over all live handles */
	bool night;			/* day: the shutdown began */
	struct wl_live *live;		/* live handles, unordered */
	uint32_t nr_live, cap_live;
	uint32_t *slot;			/* handle -> index in live[] + 1, 0 if not live */
	uint32_t cap_slot;
	uint32_t *recycled;		/* free handle numbers, reused to keep tables small */
	uint32_t nr_recycled, cap_recycled;
	struct wl_vm vms[WL_MAX_VMS + 1];	/* [0] unused: vm0 is the host */
	uint64_t *host_free;		/* host PFNs given back (stack) */
	uint32_t nr_host_free, cap_host_free;
	uint64_t host_next;		/* next never-used host PFN */
	struct wl_planned queue[WL_QUEUE];
	unsigned int q_head, q_len;
	struct wl_planned current;	/* the op in flight */
};

/* Planning. */
uint32_t wl_take_handle(struct sim_workload *w);
void wl_queue(struct sim_workload *w, const struct sim_op *op, uint8_t owner);
bool wl_queue_full(const struct sim_workload *w);
void wl_plan_alloc(struct sim_workload *w, unsigned int order, uint8_t owner);
void wl_plan_free(struct sim_workload *w, uint32_t h);
/* Puts for every reference @owner's handles hold (all handles if @owner < 0), at most @max_ops. */
void wl_plan_release(struct sim_workload *w, int owner, unsigned int max_ops);
unsigned int wl_pick_order(struct sim_workload *w);
uint64_t wl_occupancy_pct(const struct sim_workload *w);
/* Host PFN for a guest; UINT64_MAX if the host has none left. */
uint64_t wl_host_page(struct sim_workload *w);
void wl_host_page_back(struct sim_workload *w, uint64_t pfn);
/* A VM number that is not live, 0 if all are. */
unsigned int wl_free_vm(const struct sim_workload *w);
/* A random live VM, 0 if none. */
unsigned int wl_random_vm(struct sim_workload *w);
unsigned int wl_nr_vms(const struct sim_workload *w);

/* Scenario planners (sim/workload/alloc.c, sim/workload/vm.c). */
void wl_plan_alloc_random(struct sim_workload *w);
void wl_plan_frag_pressure(struct sim_workload *w);
void wl_plan_balloon(struct sim_workload *w);
void wl_plan_balloon_vms(struct sim_workload *w);
void wl_plan_boot(struct sim_workload *w);
void wl_plan_vm_churn(struct sim_workload *w);
void wl_plan_share_storm(struct sim_workload *w);
void wl_plan_day(struct sim_workload *w);
/* Building blocks of the VM scenarios. */
void wl_plan_vm_boot(struct sim_workload *w, unsigned int vm, unsigned int guest_pages);
void wl_plan_vm_teardown(struct sim_workload *w, unsigned int vm);

#endif /* SIM_WORKLOAD_STATE_H */
