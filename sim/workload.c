// SPDX-License-Identifier: MIT
/*
 * The workload generator's core: the scenario table, the PRNG, and the
 * bookkeeping every scenario shares (sim/workload/state.h). The scenarios
 * themselves are in sim/workload/.
 */
#include "workload.h"

#include <stdlib.h>
#include <string.h>

#include <hvmm/types.h>

#include "grow.h"
#include "machine.h"
#include "workload/state.h"
#include "workload/conc.h"
#include "workload/heap_churn.h"
#include "workload/vm_random.h"

static const struct wl_scenario scenarios[] = {
	{ "alloc-random", "random alloc/get/put/split/free, orders 0..max skewed low, "
			  "occupancy held between 40% and 85% of the pool", wl_plan_alloc_random },
	{ "frag-pressure", "fill the pool with small blocks, free every other one, then ask for "
			   "large blocks (allocator only)", wl_plan_frag_pressure },
	{ "balloon", "balloon inflate/deflate cycles: the hypervisor takes pages by the hundred "
		     "and gives them back, VMs share pages back to the host", wl_plan_balloon_vms },
	{ "boot", "boot N VMs (--vms): create, per-vCPU hypervisor state, donate guest RAM, "
		  "touch every page", wl_plan_boot },
	{ "vm-churn", "VMs created and destroyed continually, their memory reclaimed",
	  wl_plan_vm_churn },
	{ "share-storm", "two VMs; host pages shared and unshared in bursts, guest pages shared "
			 "back to the host", wl_plan_share_storm },
	{ "day", "a day in the life: VMs boot in the morning, churn, balloon and share during "
		 "the day amid hypervisor allocations, and shut down at night", wl_plan_day },
	/* Its own generator (sim/workload/vm_random.c), not the planning queue. */
	{ "vm-random", "several VMs at random: create, fault, map, unmap, protect, share, unshare, "
		       "donate, reclaim, destroy, guest and host reads and writes", NULL },
	/* Its own generator too (sim/workload/heap_churn.c). */
	{ "heap-churn", "hypervisor objects on the byte heap: VM and vCPU structures come and go "
			"with VMs, amid many small records", NULL },
	/* Concurrent blocks, made up front (sim/workload/conc.c). */
	{ "anaxagoros", "", NULL },
	{ "conc2seq", "", NULL },
	{ "conc-alloc", "", NULL },
	{ "conc-vm", "", NULL },
};

#define NR_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

const struct sim_workload_scenario sim_workload_scenarios[NR_SCENARIOS + 1] = {
	{ "alloc-random", "random alloc/get/put/split/free, orders 0..max skewed low, "
			  "occupancy held between 40% and 85% of the pool" },
	{ "frag-pressure", "fill the pool with small blocks, free every other one, then ask for "
			   "large blocks (allocator only)" },
	{ "balloon", "balloon inflate/deflate cycles of hypervisor pages; VMs share pages back" },
	{ "boot", "boot N VMs (--vms): create, hypervisor state, donate and touch guest RAM" },
	{ "vm-churn", "VMs created and destroyed continually, their memory reclaimed" },
	{ "share-storm", "host pages shared and unshared in bursts between the host and two VMs" },
	{ "day", "a day in the life: boot, churn, balloon, sharing and hypervisor allocations, "
		 "then shutdown" },
	{ "vm-random", "several VMs at random: create, fault, map, unmap, protect, share, "
		       "donate, reclaim, destroy, guest and host reads and writes" },
	{ "heap-churn", "hypervisor objects on the byte heap: VM and vCPU structures come and go "
			"with VMs, amid many small records (halloc, hfree, hreclaim)" },
	{ "anaxagoros", "the Anaxagoros paper's sizes: 1024 CPUs run set_entry on shared tables "
			"(4096 entries) of 2048 frames with mapping counters saturating at 256" },
	{ "conc2seq", "the Conc2Seq case study's sizes: 256 CPUs, 4096 pages, four tables of "
		      "1024 entries, max 256" },
	{ "conc-alloc", "two CPUs allocating and freeing on one buddy pool, interleaved" },
	{ "conc-vm", "two CPUs sharing, unsharing and donating the same four host pages to a VM, "
		     "interleaved and linearized" },
	{ NULL, NULL },
};

/* The first MMIO or reserved page, else the page below the lowest RAM (or above the highest). */
static uint64_t nonram_pfn(const struct sim_machine_config *cfg)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (unsigned int i = 0; i < cfg->nr_regions; i++) {
		const struct sim_region_config *r = &cfg->regions[i];

		if (r->kind != SIM_REGION_RAM)
			return r->base >> HVMM_PAGE_SHIFT;
		lo = hvmm_min(lo, r->base >> HVMM_PAGE_SHIFT);
		hi = hvmm_max(hi, (r->base + r->size) >> HVMM_PAGE_SHIFT);
	}
	return lo && lo != UINT64_MAX ? lo - 1 : hi;
}

void sim_workload_params_for(struct sim_workload_params *p, const struct sim_machine_config *cfg)
{
	const struct sim_region_config *ram = NULL;

	for (unsigned int i = 0; i < cfg->nr_regions && !ram; i++)
		if (cfg->regions[i].kind == SIM_REGION_RAM)
			ram = &cfg->regions[i];
	p->seed = cfg->seed;
	p->pool_pages = cfg->pool_pages;
	p->host_base_pfn = p->host_pages = 0;
	p->nonram_pfn = nonram_pfn(cfg);
	if (ram) {
		uint64_t base = ram->base >> HVMM_PAGE_SHIFT, pages = ram->size >> HVMM_PAGE_SHIFT;
		uint64_t pool_end = (cfg->pool_base ? cfg->pool_base >> HVMM_PAGE_SHIFT : base) +
				    (cfg->pool_pages ? cfg->pool_pages : pages);

		/* Host RAM: what the first RAM bank holds beyond the pools. */
		pool_end += cfg->hyp_pool_pages;
		if (pool_end < base + pages && pool_end >= base) {
			p->host_base_pfn = pool_end;
			p->host_pages = base + pages - pool_end;
		}
	}
}

struct sim_workload *sim_workload_create(const char *scenario,
					 const struct sim_workload_params *params)
{
	struct sim_workload *w;
	unsigned int i;

	for (i = 0; i < NR_SCENARIOS && strcmp(scenarios[i].name, scenario); i++)
		;
	if (i == NR_SCENARIOS)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->sc = &scenarios[i];
	if (sim_conc_workload_is(w->sc->name)) {
		w->concw = sim_conc_workload_create(w->sc->name, params);
		if (!w->concw) {
			free(w);
			return NULL;
		}
	} else if (!strcmp(w->sc->name, "heap-churn")) {
		w->heapw = sim_heap_workload_create(params);
		if (!w->heapw) {
			free(w);
			return NULL;
		}
	} else if (!w->sc->plan) {
		w->vmr = sim_vm_workload_create(params);
		if (!w->vmr) {
			free(w);
			return NULL;
		}
	}
	w->p = *params;
	if (!w->p.vms)
		w->p.vms = 4;
	if (w->p.vms > WL_MAX_VMS)
		w->p.vms = WL_MAX_VMS;
	sim_rng_seed(&w->rng, params->seed);
	w->next_handle = 1;
	return w;
}

unsigned int sim_workload_vms(const struct sim_workload *w)
{
	return w->vmr ? sim_vm_workload_vms(w->vmr) : w->p.vms;
}

void sim_workload_destroy(struct sim_workload *w)
{
	if (!w)
		return;
	sim_vm_workload_destroy(w->vmr);
	sim_heap_workload_destroy(w->heapw);
	sim_conc_workload_destroy(w->concw);
	for (unsigned int v = 0; v <= WL_MAX_VMS; v++)
		free(w->vms[v].pages);
	free(w->live);
	free(w->slot);
	free(w->recycled);
	free(w->host_free);
	free(w);
}

/* --- growable arrays ------------------------------------------------------ */

static bool grow(void **arr, uint32_t *cap, uint32_t need, size_t size)
{
	return sim_grow(arr, cap, need, size, 64);
}

/* --- handles -------------------------------------------------------------- */

uint32_t wl_take_handle(struct sim_workload *w)
{
	if (w->nr_recycled)
		return w->recycled[--w->nr_recycled];
	return w->next_handle++;
}

static void give_handle(struct sim_workload *w, uint32_t h)
{
	if (!grow((void **)&w->recycled, &w->cap_recycled, w->nr_recycled + 1, sizeof(uint32_t)))
		return;	/* the handle number is simply not reused */
	w->recycled[w->nr_recycled++] = h;
}

static struct wl_live *find_live(struct sim_workload *w, uint32_t h)
{
	return h < w->cap_slot && w->slot[h] ? &w->live[w->slot[h] - 1] : NULL;
}

static void add_live(struct sim_workload *w, struct wl_live l)
{
	if (!grow((void **)&w->live, &w->cap_live, w->nr_live + 1, sizeof(*w->live)) ||
	    !grow((void **)&w->slot, &w->cap_slot, l.h + 1, sizeof(uint32_t)))
		return;
	w->live[w->nr_live++] = l;
	w->slot[l.h] = w->nr_live;
	w->pages_live += 1ULL << l.order;
	w->refs_live += l.refs;
}

static void drop_live(struct sim_workload *w, uint32_t h)
{
	uint32_t i = w->slot[h] - 1;

	w->pages_live -= 1ULL << w->live[i].order;
	w->refs_live -= w->live[i].refs;
	w->slot[h] = 0;
	w->live[i] = w->live[--w->nr_live];
	if (i < w->nr_live)
		w->slot[w->live[i].h] = i + 1;
	give_handle(w, h);
}

/* --- host pages and VMs ------------------------------------------------------ */

uint64_t wl_host_page(struct sim_workload *w)
{
	if (w->nr_host_free)
		return w->host_free[--w->nr_host_free];
	if (w->host_next >= w->p.host_pages)
		return UINT64_MAX;
	return w->p.host_base_pfn + w->host_next++;
}

void wl_host_page_back(struct sim_workload *w, uint64_t pfn)
{
	if (grow((void **)&w->host_free, &w->cap_host_free, w->nr_host_free + 1, sizeof(uint64_t)))
		w->host_free[w->nr_host_free++] = pfn;
}

unsigned int wl_free_vm(const struct sim_workload *w)
{
	for (unsigned int v = 1; v <= w->p.vms; v++)
		if (!w->vms[v].live && !w->vms[v].creating)
			return v;
	return 0;
}

unsigned int wl_nr_vms(const struct sim_workload *w)
{
	unsigned int n = 0;

	for (unsigned int v = 1; v <= w->p.vms; v++)
		n += w->vms[v].live || w->vms[v].creating;
	return n;
}

unsigned int wl_random_vm(struct sim_workload *w)
{
	unsigned int n = 0, pick;

	for (unsigned int v = 1; v <= w->p.vms; v++)
		n += w->vms[v].live;
	if (!n)
		return 0;
	pick = (unsigned int)sim_rng_below(&w->rng, n);
	for (unsigned int v = 1; v <= w->p.vms; v++)
		if (w->vms[v].live && pick-- == 0)
			return v;
	return 0;
}

static struct wl_page *vm_page(struct wl_vm *vm, uint64_t ipa)
{
	for (uint32_t i = 0; i < vm->nr_pages; i++)
		if (vm->pages[i].ipa == ipa)
			return &vm->pages[i];
	return NULL;
}

static void vm_add_page(struct wl_vm *vm, uint64_t ipa, uint64_t pfn, uint8_t shared)
{
	if (grow((void **)&vm->pages, &vm->cap_pages, vm->nr_pages + 1, sizeof(*vm->pages)))
		vm->pages[vm->nr_pages++] = (struct wl_page){ ipa, pfn, shared };
}

static void vm_drop_page(struct wl_vm *vm, uint64_t ipa)
{
	struct wl_page *pg = vm_page(vm, ipa);

	if (pg)
		*pg = vm->pages[--vm->nr_pages];
}

/* --- planning ---------------------------------------------------------------- */

bool wl_queue_full(const struct sim_workload *w)
{
	return w->q_len >= WL_QUEUE - 8;
}

void wl_queue(struct sim_workload *w, const struct sim_op *op, uint8_t owner)
{
	if (w->q_len == WL_QUEUE)
		return;
	w->queue[(w->q_head + w->q_len++) % WL_QUEUE] = (struct wl_planned){ *op, owner };
	if (op->kind == SIM_OP_VM_CREATE && op->vm <= WL_MAX_VMS)
		w->vms[op->vm].creating = true;
}

void wl_plan_alloc(struct sim_workload *w, unsigned int order, uint8_t owner)
{
	struct sim_op op = { .kind = SIM_OP_ALLOC, .h = wl_take_handle(w), .a = order };

	wl_queue(w, &op, owner);
}

void wl_plan_free(struct sim_workload *w, uint32_t h)
{
	struct sim_op op = { .kind = SIM_OP_FREE, .h = h };

	wl_queue(w, &op, 0);
}

unsigned int wl_pick_order(struct sim_workload *w)
{
	uint64_t r = sim_rng_next(&w->rng);
	unsigned int order = (unsigned int)__builtin_ctzll(r | (1ULL << 63));

	return order > w->p.max_order ? w->p.max_order : order;
}

uint64_t wl_occupancy_pct(const struct sim_workload *w)
{
	return w->p.pool_pages ? w->pages_live * 100 / w->p.pool_pages : 0;
}

/* Still meaningful now? A planned op whose handle or VM never came to life is dropped. */
static bool still_valid(struct sim_workload *w, const struct wl_planned *pl)
{
	const struct sim_op *op = &pl->op;
	const struct sim_op_desc *d = &sim_op_descs[op->kind];

	switch (op->kind) {
	case SIM_OP_ALLOC:
		/* Hypervisor state for a VM that failed to come up is not allocated. */
		return pl->owner == WL_OWNER_HOST ||
		       (pl->owner <= WL_MAX_VMS && w->vms[pl->owner].live);
	case SIM_OP_FREE: case SIM_OP_GET: case SIM_OP_PUT: case SIM_OP_SPLIT:
		return find_live(w, op->h) != NULL;
	case SIM_OP_VM_CREATE:
		return true;
	default:
		break;
	}
	for (unsigned int i = 0; i < d->nargs; i++)
		if (d->args[i].type == SIM_ARG_VM && op->vm &&
		    (op->vm > WL_MAX_VMS || !w->vms[op->vm].live))
			return false;
	return true;
}

bool sim_workload_next(struct sim_workload *w, struct sim_op *op)
{
	unsigned int empty_plans = 0;

	if (w->vmr)
		return sim_vm_workload_next(w->vmr, op);
	if (w->heapw)
		return sim_heap_workload_next(w->heapw, op);
	if (w->concw)
		return sim_conc_workload_next(w->concw, op);

	while (w->emitted < w->p.ops) {
		if (!w->q_len) {
			w->sc->plan(w);
			if (!w->q_len && ++empty_plans > 4)
				return false;	/* the scenario is over */
			continue;
		}
		w->current = w->queue[w->q_head];
		w->q_head = (w->q_head + 1) % WL_QUEUE;
		w->q_len--;
		if (!still_valid(w, &w->current)) {
			const struct sim_op *dropped = &w->current.op;

			if (dropped->kind == SIM_OP_ALLOC)
				give_handle(w, dropped->h);
			if (dropped->kind == SIM_OP_HOST_DONATE_GUEST ||
			    dropped->kind == SIM_OP_HOST_SHARE_GUEST)
				wl_host_page_back(w, dropped->b);
			continue;
		}
		w->emitted++;
		*op = w->current.op;
		return true;
	}
	return false;
}

static void vm_result(struct sim_workload *w, const struct sim_op *op, int result)
{
	struct wl_vm *vm = op->vm <= WL_MAX_VMS ? &w->vms[op->vm] : NULL;
	struct wl_page *pg;

	if (!vm)
		return;
	switch (op->kind) {
	case SIM_OP_VM_CREATE:
		vm->creating = false;
		vm->live = !result;
		vm->vcpus = (unsigned int)op->a;
		vm->nr_pages = 0;
		return;
	case SIM_OP_VM_DESTROY:
		if (result)
			return;
		/* Teardown gives every page back to the host. */
		for (uint32_t i = 0; i < vm->nr_pages; i++)
			if (vm->pages[i].shared != 1)
				wl_host_page_back(w, vm->pages[i].pfn);
		vm->nr_pages = 0;
		vm->live = false;
		return;
	case SIM_OP_HOST_DONATE_GUEST:
	case SIM_OP_HOST_SHARE_GUEST:
		if (result) {
			wl_host_page_back(w, op->b);
			return;
		}
		vm_add_page(vm, op->a, op->b, op->kind == SIM_OP_HOST_SHARE_GUEST);
		return;
	case SIM_OP_HOST_UNSHARE_GUEST:
		if (!result) {
			vm_drop_page(vm, op->a);
			wl_host_page_back(w, op->b);
		}
		return;
	case SIM_OP_GUEST_SHARE_HOST:
	case SIM_OP_GUEST_UNSHARE_HOST:
		pg = vm_page(vm, op->a);
		if (!result && pg)
			pg->shared = op->kind == SIM_OP_GUEST_SHARE_HOST ? 2 : 0;
		return;
	default:
		return;
	}
}

void sim_workload_result(struct sim_workload *w, const struct sim_op *op, int result)
{
	if (w->vmr) {
		sim_vm_workload_result(w->vmr, op, result);
		return;
	}
	if (w->heapw) {
		sim_heap_workload_result(w->heapw, op, result);
		return;
	}
	if (w->concw)
		return;
	struct wl_live *l = find_live(w, op->h);

	switch (op->kind) {
	case SIM_OP_ALLOC:
		if (result || l)
			give_handle(w, op->h);
		else
			add_live(w, (struct wl_live){ op->h, (uint8_t)op->a, w->current.owner, 1 });
		return;
	case SIM_OP_GET:
		if (!result && l) {
			l->refs++;
			w->refs_live++;
		}
		return;
	case SIM_OP_PUT:
	case SIM_OP_FREE:
		if (result || !l)
			return;
		w->refs_live--;
		if (--l->refs == 0)
			drop_live(w, op->h);
		return;
	case SIM_OP_SPLIT: {
		uint32_t nr;
		uint8_t owner;

		if (result || !l)
			return;
		nr = 1u << l->order;
		owner = l->owner;
		w->pages_live -= nr - 1;
		l->order = 0;
		for (uint32_t k = 1; k < nr; k++)
			add_live(w, (struct wl_live){ op->h2 + k - 1, 0, owner, 1 });
		return;
	}
	default:
		vm_result(w, op, result);
		return;
	}
}
