// SPDX-License-Identifier: MIT
/*
 * VM scenarios, written against the op vocabulary: VM lifecycle, donation
 * and sharing of host pages, guest loads and stores. Hypervisor state for
 * each VM (per-vCPU context, VM metadata) comes from the allocator under
 * test, so every scenario also exercises it.
 */
#include <hvmm/types.h>

#include "workload/state.h"

static void plan_access(struct sim_workload *w, unsigned int vm, uint64_t ipa, bool store)
{
	struct wl_vm *v = &w->vms[vm];
	struct sim_op op = {
		.kind = store ? SIM_OP_STORE : SIM_OP_LOAD, .vm = vm, .a = ipa,
		.vcpu = v->vcpus ? (uint32_t)sim_rng_below(&w->rng, v->vcpus) : 0,
	};

	if (store)
		op.b = sim_rng_next(&w->rng) | 1;	/* never 0: a store must be observable */
	wl_queue(w, &op, 0);
}

/* Guest RAM: host pages donated one by one, each written once. */
static void plan_donate(struct sim_workload *w, unsigned int vm, unsigned int pages)
{
	struct wl_vm *v = &w->vms[vm];

	for (unsigned int i = 0; i < pages && !wl_queue_full(w); i++) {
		uint64_t pfn = wl_host_page(w);
		struct sim_op op = {
			.kind = SIM_OP_HOST_DONATE_GUEST, .vm = vm, .a = v->next_ipa, .b = pfn, .c = 1,
		};

		if (pfn == UINT64_MAX)
			return;
		wl_queue(w, &op, 0);
		plan_access(w, vm, v->next_ipa, true);
		v->next_ipa += HVMM_PAGE_SIZE;
	}
}

void wl_plan_vm_boot(struct sim_workload *w, unsigned int vm, unsigned int guest_pages)
{
	struct wl_vm *v = &w->vms[vm];
	struct sim_op op = { .kind = SIM_OP_VM_CREATE, .vm = vm, .a = 2 };

	wl_queue(w, &op, 0);
	v->vcpus = 2;
	v->next_ipa = WL_GUEST_IPA;
	/* Per-vCPU context (two pages each) and the VM's own metadata page. */
	for (unsigned int c = 0; c < v->vcpus; c++)
		wl_plan_alloc(w, 1, (uint8_t)vm);
	wl_plan_alloc(w, 0, (uint8_t)vm);
	plan_donate(w, vm, guest_pages);
}

void wl_plan_vm_teardown(struct sim_workload *w, unsigned int vm)
{
	struct sim_op op = { .kind = SIM_OP_VM_DESTROY, .vm = vm };

	wl_queue(w, &op, 0);
	for (uint32_t i = 0; i < w->nr_live && !wl_queue_full(w); i++) {
		const struct wl_live *l = &w->live[i];

		for (uint32_t r = 0; l->owner == vm && r < l->refs; r++) {
			struct sim_op put = { .kind = SIM_OP_PUT, .h = l->h };

			wl_queue(w, &put, (uint8_t)vm);
		}
	}
}

/* Loads and stores over a random VM's memory. */
static void plan_guest_activity(struct sim_workload *w, unsigned int n)
{
	unsigned int vm = wl_random_vm(w);
	struct wl_vm *v = &w->vms[vm];

	for (unsigned int i = 0; vm && v->nr_pages && i < n; i++) {
		const struct wl_page *pg = &v->pages[sim_rng_below(&w->rng, v->nr_pages)];
		/*
		 * One draw per statement: C leaves the order of a call's
		 * arguments open, and compilers differ, so the same seed would
		 * make different traces.
		 */
		bool store = sim_rng_below(&w->rng, 3) == 0;
		uint64_t word = sim_rng_below(&w->rng, HVMM_PAGE_SIZE / 8);

		plan_access(w, vm, pg->ipa + 8 * word, store);
	}
	if (!w->q_len)
		wl_plan_alloc_random(w);	/* no VM ran: the host does something */
}

void wl_plan_boot(struct sim_workload *w)
{
	if (!w->booted) {
		for (unsigned int vm = 1; vm <= w->p.vms; vm++)
			wl_plan_vm_boot(w, vm, 64);
		w->booted = true;
		return;
	}
	plan_guest_activity(w, 16);
}

void wl_plan_vm_churn(struct sim_workload *w)
{
	unsigned int free_vm = wl_free_vm(w), live = wl_nr_vms(w);

	if (free_vm && (!live || sim_rng_below(&w->rng, 2))) {
		wl_plan_vm_boot(w, free_vm, 16 + (unsigned int)sim_rng_below(&w->rng, 48));
		return;
	}
	if (live && sim_rng_below(&w->rng, 3) == 0) {
		wl_plan_vm_teardown(w, wl_random_vm(w));
		return;
	}
	plan_guest_activity(w, 8);
}

/* Host pages shared into a VM, written, and unshared again; guest pages shared back. */
static void plan_share_burst(struct sim_workload *w)
{
	unsigned int vm = wl_random_vm(w);
	struct wl_vm *v = &w->vms[vm];

	if (!vm) {
		wl_plan_alloc_random(w);
		return;
	}
	for (unsigned int i = 0; i < 8; i++) {
		uint64_t pfn = wl_host_page(w);
		struct sim_op op = {
			.kind = SIM_OP_HOST_SHARE_GUEST, .vm = vm, .a = v->next_ipa, .b = pfn, .c = 1,
			.d = SIM_PROT_R | SIM_PROT_W,
		};

		if (pfn == UINT64_MAX)
			break;
		wl_queue(w, &op, 0);
		plan_access(w, vm, v->next_ipa, true);
		v->next_ipa += HVMM_PAGE_SIZE;
	}
	for (uint32_t i = 0; i < v->nr_pages && !wl_queue_full(w); i++) {
		const struct wl_page *pg = &v->pages[i];
		struct sim_op op = { .vm = vm, .a = pg->ipa, .b = pg->pfn, .c = 1 };

		if (pg->shared == 1 && sim_rng_below(&w->rng, 2)) {
			op.kind = SIM_OP_HOST_UNSHARE_GUEST;
			wl_queue(w, &op, 0);
		} else if (pg->shared != 1 && sim_rng_below(&w->rng, 8) == 0) {
			op.kind = pg->shared ? SIM_OP_GUEST_UNSHARE_HOST : SIM_OP_GUEST_SHARE_HOST;
			op.b = 0;
			wl_queue(w, &op, 0);
		}
	}
}

/* Two VMs (one if --vms 1) with @pages of guest RAM each; false once they were planned. */
static bool boot_two(struct sim_workload *w, unsigned int pages)
{
	if (w->booted)
		return false;
	wl_plan_vm_boot(w, 1, pages);
	if (w->p.vms > 1)
		wl_plan_vm_boot(w, 2, pages);
	w->booted = true;
	return true;
}

void wl_plan_share_storm(struct sim_workload *w)
{
	if (!boot_two(w, 16))
		plan_share_burst(w);
}

/* The balloon scenario: two VMs to share pages back to the host while it runs. */
void wl_plan_balloon_vms(struct sim_workload *w)
{
	if (!boot_two(w, 64))
		wl_plan_balloon(w);
}

/* The host alone, reading and writing its own memory. */
static void plan_host_idle(struct sim_workload *w)
{
	for (unsigned int i = 0; i < 8 && w->p.host_pages; i++) {
		uint64_t pfn = w->p.host_base_pfn + sim_rng_below(&w->rng, w->p.host_pages);
		bool store = sim_rng_below(&w->rng, 2);	/* one draw per statement, as above */
		uint64_t word = sim_rng_below(&w->rng, 512);

		plan_access(w, 0, (pfn << HVMM_PAGE_SHIFT) + 8 * word, store);
	}
	if (!w->q_len)
		wl_plan_alloc(w, 0, WL_OWNER_HOST);	/* no host RAM: something all the same */
}

/*
 * Night: every VM shuts down, the hypervisor frees everything it holds,
 * and the host idles on its own memory until the day's ops are spent.
 */
static void plan_night(struct sim_workload *w)
{
	unsigned int vm = wl_random_vm(w);

	if (vm) {
		wl_plan_vm_teardown(w, vm);
		return;
	}
	wl_plan_release(w, -1, WL_QUEUE - 8);
	if (!w->q_len)
		plan_host_idle(w);
}

/* Night falls at 90% of the ops, or earlier if the shutdown would not fit in what is left. */
static bool nightfall(struct sim_workload *w)
{
	uint64_t left = w->p.ops - hvmm_min(w->emitted, w->p.ops);
	/* One op per VM and per reference held, and room for what one plan may add. */
	uint64_t need = wl_nr_vms(w) + w->refs_live + hvmm_min(2 * WL_QUEUE, w->p.ops / 20);

	if (!w->night)
		w->night = left * 10 <= w->p.ops || left <= need;
	return w->night;
}

/*
 * Morning (first 10% of the ops): VMs boot amid host activity. Day: a mix
 * of everything. Night (the last 10%, or as much as the shutdown needs):
 * every VM shuts down and all memory is returned.
 */
void wl_plan_day(struct sim_workload *w)
{
	uint64_t pct = w->p.ops ? w->emitted * 100 / w->p.ops : 100, dice;
	unsigned int vm;

	if (nightfall(w)) {
		plan_night(w);
		return;
	}
	if (pct < 10) {
		vm = wl_free_vm(w);
		if (vm && sim_rng_below(&w->rng, 4) == 0)
			wl_plan_vm_boot(w, vm, 32 + (unsigned int)sim_rng_below(&w->rng, 96));
		else
			wl_plan_alloc_random(w);
		return;
	}
	dice = sim_rng_below(&w->rng, 100);
	if (dice < 55)
		wl_plan_alloc_random(w);
	else if (dice < 63)
		wl_plan_vm_churn(w);
	else if (dice < 75)
		plan_guest_activity(w, 8);
	else if (dice < 85)
		wl_plan_balloon(w);
	else if (dice < 93)
		plan_share_burst(w);
	else
		wl_plan_frag_pressure(w);
}
