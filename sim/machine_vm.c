// SPDX-License-Identifier: MIT
/*
 * The VM side of the executor: VM lifecycle, stage-2, ownership, faults
 * and guest accesses. Each op is validated against the executor's own
 * tables (unknown VM, vCPU out of range, misaligned access) before it
 * reaches mm/, which validates addresses and states itself. On success,
 * the ideal machine and the ownership shadow are updated with what the op
 * means, and the incremental oracles judge what it touched.
 */
#include "machine_vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event/event.h"
#include "hyp_pools.h"
#include "machine.h"
#include "oracle/teardown.h"
#include "platform.h"
#include "recycle.h"

#define RWX (SIM_PROT_R | SIM_PROT_W | SIM_PROT_X)

/* --- TLB maintenance from mm/ --------------------------------------------- */

static void hook_ipa(void *ctx, uint16_t vmid, uint64_t ipa, uint32_t level)
{
	struct sim_vmstate *vs = ctx;

	for (unsigned int c = 0; c < vs->nr_cpus; c++)
		sim_tlb_flush_ipa(&vs->tlbs[c], vmid, ipa, level ? (int)level : SIM_TLB_ANY_LEVEL);
}

static void hook_range(void *ctx, uint16_t vmid, uint64_t ipa, uint64_t size)
{
	struct sim_vmstate *vs = ctx;

	for (unsigned int c = 0; c < vs->nr_cpus; c++)
		sim_tlb_flush_range(&vs->tlbs[c], vmid, ipa, size);
}

static void hook_vmid(void *ctx, uint16_t vmid)
{
	struct sim_vmstate *vs = ctx;

	for (unsigned int c = 0; c < vs->nr_cpus; c++)
		sim_tlb_flush_vmid(&vs->tlbs[c], vmid);
}

/* --- set-up ---------------------------------------------------------------- */

/* Concatenated roots are indexed from one pointer: all of them may be written. */
static void mark_roots(struct sim_vmstate *vs, const struct hvmm_pgtable *pgt)
{
	if (pgt->pgd)
		sim_physmem_mark_dirty(vs->pm, pgt->pgd_pa >> HVMM_PAGE_SHIFT, pgt->nr_roots);
}

static void hide_boot(struct sim_vmstate *vs, uint64_t pfn, uint64_t nr)
{
	sim_spec_hyp_boot(&vs->spec, pfn, nr);
	/* Out of boot ranges (not with today's two pools): an entry per page then. */
	if (sim_ideal_host_hide_boot(&vs->ideal, pfn, nr))
		for (uint64_t i = 0; i < nr; i++)
			sim_ideal_host_hide(&vs->ideal, pfn + i);
}

/* --- the stage-2 oracles' view (oracle/vm_view.h) ----------------------------- */

/* VM @v's entry of the view, after it was created or destroyed. */
static void view_guest(struct sim_vmstate *vs, unsigned int v)
{
	vs->view.g[v] = (struct sim_vm_view_guest){
		.live = vs->g[v].live, .vmid = vs->g[v].vmid,
		.regs = vs->g[v].live ? sim_vm_regs(vs, v) : (struct sim_s2_regs){ 0 },
		.vm = vs->g[v].live ? vs->g[v].vm : NULL,
	};
}

static void view_setup(struct sim_vmstate *vs)
{
	vs->view = (struct sim_vm_view){
		.pm = vs->pm, .vmemmap = vs->vmemmap, .report = vs->report,
		.oracles = vs->oracles, .hyp_pfn = vs->hyp_pfn, .hyp_pages = vs->hyp_pages,
		.nr_cpus = vs->nr_cpus, .tlbs = vs->tlbs, .ideal = &vs->ideal, .spec = &vs->spec,
		.verdict = &vs->verdict,
	};
	view_guest(vs, 0);
}

struct sim_vm_view *sim_vm_view(struct sim_vmstate *vs)
{
	vs->view.touch = vs->touch;
	vs->view.nr_touch = vs->nr_touch;
	vs->view.deferred = vs->conc_deferred;
	return &vs->view;
}

struct sim_lin_leaf sim_vm_lin_leaf(void *vs, unsigned int vm, uint64_t ipa)
{
	struct sim_lin_leaf l = { .prot = 0 };

	l.prot = sim_vm_read_leaf(sim_vm_view(vs), vm, ipa, &l.pfn);
	return l;
}

/* --- oracles on the events inside ops (sim/event/) --------------------------- */

static void event_oracles_stop(struct sim_vmstate *vs)
{
	sim_event_end();
	if (vs->bbm)
		sim_event_unobserve(sim_bbm_event, vs->bbm);
	if (vs->hyp_conserve)
		sim_event_unobserve(sim_hyp_conserve_event, vs->hyp_conserve);
	if (vs->hyp_pools)
		sim_event_unobserve(sim_hyp_pools_event, vs->hyp_pools);
	sim_bbm_destroy(vs->bbm);
	sim_hyp_conserve_destroy(vs->hyp_conserve);
	sim_hyp_pools_destroy(vs->hyp_pools);
	vs->hyp_pools = NULL;
	free(vs->cached);
	vs->bbm = NULL;
	vs->hyp_conserve = NULL;
	vs->cached = NULL;
	vs->cached_cap = 0;
}

/* Armed before mm/ sets up the hypervisor pool, so every allocation from it is seen. */
static void event_oracles_start(struct sim_vmstate *vs)
{
	struct sim_memview mem;

	/* The last machine set up owns the event layer, as it owns the platform. */
	sim_event_reset_observers();
	sim_physmem_view(vs->pm, &mem);
	vs->bbm = sim_bbm_create(&mem, vs->report);
	vs->hyp_conserve = sim_hyp_conserve_create(vs->report, vs->hyp_pfn, vs->hyp_pages);
	vs->hyp_pools = sim_hyp_pools_create(vs->pm, vs->vmemmap, vs->report);
	if (!vs->bbm || !vs->hyp_conserve || !vs->hyp_pools ||
	    sim_hyp_pools_add(vs->hyp_pools, &vs->guest_pool, vs->hyp_pfn,
			      vs->hyp_pages - vs->host_s2_pages) ||
	    sim_hyp_pools_add(vs->hyp_pools, &vs->host_s2_pool,
			      vs->hyp_pfn + vs->hyp_pages - vs->host_s2_pages, vs->host_s2_pages) ||
	    !sim_event_observe(sim_hyp_pools_event, vs->hyp_pools, SIM_HYP_POOLS_EVENTS) ||
	    !sim_event_observe(sim_bbm_event, vs->bbm, SIM_BBM_EVENTS) ||
	    !sim_event_observe(sim_hyp_conserve_event, vs->hyp_conserve,
			       SIM_HYP_CONSERVE_EVENTS)) {
		event_oracles_stop(vs);
		return;
	}
	sim_bbm_count_range(vs->bbm, vs->hyp_pfn, vs->hyp_pages);
	sim_physmem_event_windows(vs->pm);
	sim_event_begin();
}

static void roots_to_bbm(struct sim_vmstate *vs, unsigned int v)
{
	struct sim_s2_regs regs = sim_vm_regs(vs, v);
	unsigned int shift = 12 + 9 * (3 - regs.start_level);
	unsigned int nr = regs.ia_bits > shift + 9 ? 1u << (regs.ia_bits - shift - 9) : 1;

	sim_bbm_add_roots(vs->bbm, regs.baddr, nr, regs.start_level, regs.vmid);
}

/*
 * Set-up is done. The platform's events arrive either way; mm/'s own
 * accesses only from an mm/ compiled with the instrumentation. mm/ mapped
 * the host's RAM, so its stores to the tables came if it was: none means
 * an mm/ without it (a ThreadSanitizer build, the benchmarks' plain mm/,
 * a build that lost it at the link), and the event oracles, which would
 * judge the platform's half of the stream alone, stay off.
 */
static void event_oracles_started(struct sim_vmstate *vs)
{
	if (!vs->bbm)
		return;
	sim_event_end();
	if (!sim_event_mm_instrumented() || !sim_event_memory_count()) {
		event_oracles_stop(vs);
		return;
	}
	roots_to_bbm(vs, 0);
}

static void list_cache(struct sim_vmstate *vs, const struct hvmm_page_cache *c, unsigned int *n)
{
	uint64_t pa = c->head;

	for (uint32_t i = 0; i < c->nr && pa; i++) {
		const uint64_t *page = sim_physmem_pa_to_host(vs->pm, pa);

		if (*n == vs->cached_cap) {
			vs->cached_cap = vs->cached_cap ? 2 * vs->cached_cap : 64;
			vs->cached = realloc(vs->cached, vs->cached_cap * sizeof(*vs->cached));
			if (!vs->cached)
				abort();
		}
		vs->cached[(*n)++] = pa >> HVMM_PAGE_SHIFT;
		if (!page)
			break;
		pa = page[0];
	}
}

/*
 * The pages in the page caches of every live stage-2 (mm/'s memcaches).
 * After every VM op: the guests are looked at up to the highest ever
 * made, not all 255.
 */
static unsigned int list_cached(struct sim_vmstate *vs)
{
	unsigned int n = 0;

	list_cache(vs, &hvmm_host.pgt.cache, &n);
	for (unsigned int v = 1; v <= vs->g_hi; v++)
		if (vs->g[v].live)
			list_cache(vs, &vs->g[v].vm->pgt.cache, &n);
	return n;
}

/* After an op: obligations left open, the tables of VMs made or gone, the pool's account. */
static void event_oracles_op_end(struct sim_vmstate *vs, const struct sim_op *op, int ret,
				 uint16_t vmid_gone)
{
	unsigned int nr;

	sim_event_end();
	if (!vs->in_block)
		sim_bbm_op_end(vs->bbm);
	if (!ret && op->kind == SIM_OP_VM_CREATE)
		roots_to_bbm(vs, op->vm);
	if (!ret && op->kind == SIM_OP_VM_DESTROY)
		sim_bbm_drop_vmid(vs->bbm, vmid_gone);
	if (vs->in_block)
		return;		/* other vCPUs may be mid-op: judged at the block's end */
	/* Listed first: the list may move. */
	nr = list_cached(vs);
	sim_hyp_conserve_check(vs->hyp_conserve, vs->bbm, vs->cached, nr);
	sim_hyp_pools_check_touched(vs->hyp_pools);
}

void sim_vm_block_end(struct sim_vmstate *vs)
{
	unsigned int nr;

	vs->in_block = false;
	if (!vs->bbm)
		return;
	sim_bbm_op_end(vs->bbm);
	nr = list_cached(vs);
	sim_hyp_conserve_check(vs->hyp_conserve, vs->bbm, vs->cached, nr);
	sim_hyp_pools_check_full(vs->hyp_pools);
}

void sim_vm_check_hyp_pools(struct sim_vmstate *vs)
{
	if (vs->hyp_pools)
		sim_hyp_pools_check_full(vs->hyp_pools);
}

/*
 * Pages of the host stage-2's pool, as pKVM sizes host_s2_pool: enough
 * tables to map every page of RAM one by one, at every level, plus 16 for
 * device memory. Never more than three quarters of the hypervisor's
 * pages, so that small pools given to test exhaustion leave guests some.
 */
static uint64_t host_s2_pool_pages(const struct hvmm_memblock *ram, unsigned int nr_ram,
				   uint64_t hyp_pages)
{
	uint64_t nr = 16;

	for (unsigned int i = 0; i < nr_ram; i++)
		for (uint64_t n = ram[i].size >> HVMM_PAGE_SHIFT; n > 1; )
			nr += n = (n + HVMM_S2_PTRS_PER_TABLE - 1) / HVMM_S2_PTRS_PER_TABLE;
	return nr < hyp_pages - hyp_pages / 4 ? nr : hyp_pages - hyp_pages / 4;
}

/* TLB maintenance goes to the TLB model. */
static void install_hooks(struct sim_vmstate *vs)
{
	const struct sim_platform_hooks hooks = {
		.tlb_flush_ipa = hook_ipa, .tlb_flush_range = hook_range,
		.tlb_flush_vmid = hook_vmid, .ctx = vs,
	};

	sim_platform_install(vs->pm, &hooks);
}

/* The model's view of the machine: RAM as mm/ is told of it, and the limits. */
static int spec_setup(struct sim_vmstate *vs, const struct sim_machine_config *cfg,
		      const struct hvmm_memblock *ram, unsigned int nr_ram)
{
	struct sim_spec_config sc = {
		.nr_ram = nr_ram, .base_pfn = vs->pm->start_pfn,
		.nr_pfns = vs->pm->end_pfn - vs->pm->start_pfn,
		.guest_ia_size = 1ULL << cfg->ipa_bits, .host_ia_size = 1ULL << cfg->host_ia_bits,
		.host_vcpus = vs->nr_cpus, .max_vms = SIM_MAX_VMS, .max_vcpus = SIM_MAX_VCPUS,
		.pick_from = vs->hyp_pfn + vs->hyp_pages,
	};

	for (unsigned int i = 0; i < nr_ram; i++) {
		sc.ram[i].pfn = ram[i].base >> HVMM_PAGE_SHIFT;
		sc.ram[i].nr = ram[i].size >> HVMM_PAGE_SHIFT;
	}
	return sim_spec_init(&vs->spec, &sc);
}

/*
 * A run without VMs has no hypervisor pool beside the allocator's, so
 * the allocator's edge blocks would have no free neighbour of another
 * pool (outside the pool, vmemmap entries are zero: never a free block)
 * and a buddy computed outside the pool could never meet one. Bystander
 * pools of mm/'s buddy take the hypervisor pools' place, up to 64 pages
 * just below the allocator's pool (as much as its RAM region holds) and
 * 64 just above, set up all free and touched by no op: a block at the
 * pool's bottom edge whose buddy lies below, or one merged past its top,
 * meets a free block of theirs. The merge shows in the allocator's checks
 * (a free block outside its pool) and in the bystanders', which sweeps
 * judge as they judge the hypervisor's pools (every page free, each free
 * block on its list).
 */
#define SIM_NEIGHBOUR_PAGES 64

static void add_neighbour(struct sim_vmstate *vs, struct hvmm_pool *pool, uint64_t pfn,
			  uint64_t nr)
{
	void *held[4];
	unsigned int n = 0;

	if (!nr || hvmm_pool_init_zeroed(pool, pfn, nr, 0))
		return;
	/*
	 * A pool lists a maximal block only when an allocation needs it; until
	 * then the block has no head a wrong merge could meet. Handing each
	 * out once and taking it back lists them, as in a pool in use.
	 */
	while (n < 4 && (held[n] = hvmm_alloc_pages(pool, pool->max_order)))
		n++;
	while (n)
		hvmm_put_page(pool, held[--n]);
	if (!vs->hyp_pools)
		vs->hyp_pools = sim_hyp_pools_create(vs->pm, vs->vmemmap, vs->report);
	if (vs->hyp_pools && sim_hyp_pools_add(vs->hyp_pools, pool, pfn, nr)) {
		sim_hyp_pools_destroy(vs->hyp_pools);
		vs->hyp_pools = NULL;
	}
}

static void setup_neighbours(struct sim_vmstate *vs, const struct sim_machine_config *cfg,
			     const struct sim_region *r)
{
	uint64_t lo, hi;

	/* Buddy allocators only: a bitmap has no buddies to compute (and is cheap to run). */
	if (!vs->oracles || !r || (strcmp(cfg->allocator, "buddy") &&
				   strcmp(cfg->allocator, "linux-pkvm")))
		return;
	lo = r->base >> HVMM_PAGE_SHIFT;
	hi = (r->base + r->size) >> HVMM_PAGE_SHIFT;
	vs->neighbour_below = vs->alloc_pfn - lo < SIM_NEIGHBOUR_PAGES ? vs->alloc_pfn - lo :
			      SIM_NEIGHBOUR_PAGES;
	vs->neighbour_above = hi - vs->hyp_pfn < SIM_NEIGHBOUR_PAGES ? 0 : SIM_NEIGHBOUR_PAGES;
	add_neighbour(vs, &vs->host_s2_pool, vs->alloc_pfn - vs->neighbour_below,
		      vs->neighbour_below);
	add_neighbour(vs, &vs->guest_pool, vs->hyp_pfn, vs->neighbour_above);
}

int sim_vm_setup(struct sim_vmstate *vs, const struct sim_machine_config *cfg,
		 struct sim_physmem *pm, const struct sim_vmemmap *vmemmap,
		 struct sim_report *report,
		 uint64_t alloc_pfn, uint64_t alloc_pages, char *err, size_t errlen)
{
	struct hvmm_memblock ram[HVMM_MAX_MEMBLOCKS];
	const struct sim_region *r = sim_physmem_region(pm, alloc_pfn << HVMM_PAGE_SHIFT);
	unsigned int nr_ram = 0, start;
	int ret;

	memset(vs, 0, sizeof(*vs));
	sim_event_end();
	vs->pm = pm;
	vs->vmemmap = vmemmap;
	vs->report = report;
	vs->oracles = cfg->oracles != SIM_ORACLES_OFF;
	vs->alloc_pfn = alloc_pfn;
	vs->alloc_pages = alloc_pages;
	vs->hyp_pfn = alloc_pfn + alloc_pages;
	vs->hyp_pages = cfg->hyp_pool_pages;
	vs->tlb_entries = cfg->tlb_entries ? cfg->tlb_entries : 16;
	vs->tlb_policy = (enum sim_tlb_policy)cfg->tlb_policy;
	vs->nr_cpus = cfg->vcpus ? (cfg->vcpus < SIM_MAX_CPUS ? cfg->vcpus : SIM_MAX_CPUS) : 1;
	/* No room for the hypervisor pool after the allocator's: no VMs. */
	if (!vs->hyp_pages)
		setup_neighbours(vs, cfg, r);
	if (!r || !vs->hyp_pages ||
	    ((r->base + r->size) >> HVMM_PAGE_SHIFT) < vs->hyp_pfn + vs->hyp_pages)
		return 0;
	for (unsigned int i = 0; i < pm->nr_regions && nr_ram < HVMM_MAX_MEMBLOCKS; i++)
		if (pm->regions[i].kind == SIM_REGION_RAM)
			ram[nr_ram++] = (struct hvmm_memblock){ pm->regions[i].base, pm->regions[i].size };
	start = cfg->ipa_start_level <= 3 ? cfg->ipa_start_level :
		(unsigned int)hvmm_pgtable_default_start_level(cfg->ipa_bits);
	vs->host_s2_pages = host_s2_pool_pages(ram, nr_ram, vs->hyp_pages);
	if (vs->oracles)
		event_oracles_start(vs);
	/*
	 * Set up on fresh or scrubbed memory: the pools are zero already. The
	 * guests' table pool comes right after the allocator's pool and is
	 * free until a VM is made, so the allocator's last blocks have a free
	 * neighbour of another pool: a buddy computed outside its pool can
	 * meet a free block there and merge, where the oracles see it (the
	 * host stage-2 pool, whose first block is its root, comes last).
	 */
	if (!vs->host_s2_pages ||
	    hvmm_pool_init_zeroed(&vs->guest_pool, vs->hyp_pfn,
				  vs->hyp_pages - vs->host_s2_pages, 0) ||
	    hvmm_pool_init_zeroed(&vs->host_s2_pool, vs->hyp_pfn + vs->hyp_pages - vs->host_s2_pages,
				  vs->host_s2_pages, 0) ||
	    (ret = hvmm_mem_protect_init(&vs->host_s2_pool, ram, nr_ram, cfg->host_ia_bits)) ||
	    (ret = hvmm_host_reserve_hyp(alloc_pfn, alloc_pages)) ||
	    (ret = hvmm_host_reserve_hyp(vs->hyp_pfn, vs->hyp_pages - vs->host_s2_pages)) ||
	    (ret = hvmm_vms_init(&vs->guest_pool, cfg->ipa_bits, start))) {
		snprintf(err, errlen, "cannot set up VMs (IPA %u bits from level %u, host %u bits, "
			 "hypervisor pool of %llu pages)", cfg->ipa_bits, start, cfg->host_ia_bits,
			 (unsigned long long)vs->hyp_pages);
		return -1;
	}
	mark_roots(vs, &hvmm_host.pgt);
	event_oracles_started(vs);
	if (sim_ideal_init(&vs->ideal, pm->start_pfn, pm->end_pfn - pm->start_pfn) ||
	    spec_setup(vs, cfg, ram, nr_ram)) {
		snprintf(err, errlen, "cannot map the ownership shadow");
		return -1;
	}
	hide_boot(vs, alloc_pfn, alloc_pages);
	hide_boot(vs, vs->hyp_pfn, vs->hyp_pages);
	for (unsigned int c = 0; c < vs->nr_cpus; c++)
		if (sim_tlb_init(&vs->tlbs[c], vs->tlb_entries, vs->tlb_policy, cfg->seed + c)) {
			snprintf(err, errlen, "out of host memory");
			return -1;
		}
	vs->g[0] = (struct sim_guest){ .live = true, .vmid = HVMM_HOST_VMID, .nr_vcpus = vs->nr_cpus };
	install_hooks(vs);
	view_setup(vs);
	vs->enabled = true;
	return 0;
}

/*
 * Real-threads mode (sim/threads.h): while host threads run mm/, the TLB
 * model (one per CPU, updated by the flush hooks) is nobody's: the
 * threads make no guest access, so no TLB holds anything their flushes
 * would remove. The event oracles follow one op at a time and stop for
 * good.
 */
void sim_vm_threads_begin(struct sim_vmstate *vs)
{
	if (vs->bbm)
		event_oracles_stop(vs);
	sim_platform_install(vs->pm, NULL);
}

void sim_vm_threads_end(struct sim_vmstate *vs)
{
	install_hooks(vs);
}

void sim_vm_teardown(struct sim_vmstate *vs)
{
	if (vs->pm) {
		/* The free-list nodes mm/ wrote: physmem's scrub clears the pages they are in. */
		sim_buddy_mark_free_heads(vs->pm, &vs->host_s2_pool);
		sim_buddy_mark_free_heads(vs->pm, &vs->guest_pool);
	}
	event_oracles_stop(vs);
	for (unsigned int c = 0; c < SIM_MAX_CPUS; c++)
		sim_tlb_fini(&vs->tlbs[c]);
	sim_ideal_fini(&vs->ideal);
	sim_spec_fini(&vs->spec);
	sim_recycle_put(vs->touch, vs->touch_cap * sizeof(*vs->touch));
	vs->touch = NULL;
	vs->nr_touch = vs->touch_cap = 0;
}

unsigned int sim_vm_live(const struct sim_vmstate *vs, uint64_t *guest_pages)
{
	unsigned int n = 0;

	*guest_pages = 0;
	for (unsigned int v = 1; vs->enabled && v <= SIM_MAX_VM; v++) {
		n += vs->g[v].live;
		*guest_pages += vs->ideal.spaces[v].nr;
	}
	return n;
}

struct sim_s2_regs sim_vm_regs(const struct sim_vmstate *vs, unsigned int v)
{
	const struct hvmm_pgtable *pgt = v ? &vs->g[v].vm->pgt : &hvmm_host.pgt;

	return (struct sim_s2_regs){
		.baddr = pgt->pgd_pa, .ia_bits = pgt->ia_bits,
		.start_level = pgt->start_level, .vmid = pgt->vmid,
	};
}

/* --- helpers --------------------------------------------------------------- */

static void touch(struct sim_vmstate *vs, unsigned int vm, uint64_t ipa, uint64_t pages,
		  uint64_t pfn, uint64_t nr)
{
	struct sim_touch *last = vs->nr_touch ? &vs->touch[vs->nr_touch - 1] : NULL;

	/* Page after page of one range (a range op, a teardown) extends one entry. */
	if (last && last->vm == vm && last->nr && nr && last->pfn + last->nr == pfn &&
	    ((!last->pages && !pages) ||
	     (last->nr == last->pages && nr == pages &&
	      last->ipa + (last->pages << HVMM_PAGE_SHIFT) == ipa))) {
		last->pages += pages;
		last->nr += nr;
		return;
	}
	if (vs->nr_touch == vs->touch_cap) {
		unsigned int cap = vs->touch_cap ? 2 * vs->touch_cap : 16;
		struct sim_touch *t = sim_recycle_get(cap * sizeof(*t));

		if (vs->nr_touch)
			memcpy(t, vs->touch, vs->nr_touch * sizeof(*t));
		sim_recycle_put(vs->touch, vs->touch_cap * sizeof(*t));
		vs->touch = t;
		vs->touch_cap = cap;
	}
	vs->touch[vs->nr_touch++] = (struct sim_touch){ vm, ipa, pages, pfn, nr };
}

static struct sim_guest *guest_of(struct sim_vmstate *vs, uint32_t vm)
{
	if (vm == 0 || vm > SIM_MAX_VM || !vs->g[vm].live)
		return NULL;
	return &vs->g[vm];
}

/* Pages of a refused op judged at most (a fuzzed count may be huge); the sweep sees all. */
#define REFUSED_CHECK_PAGES	64

/*
 * The host pages a refused ownership op named, as far as they are RAM (a
 * refused VM lifetime op: its VM): the
 * op must have left them as they were, which the incremental oracles judge
 * (OWNERSHIP, TYPE and REFCOUNT against the model, which a refused op does
 * not change). A transition half-applied before a later step failed shows
 * at the op, not only if no later op (a reclaim, a teardown) undoes it
 * before the sweep at the end.
 */
static void touch_refused(struct sim_vmstate *vs, const struct sim_op *op)
{
	uint64_t nr = 0;

	switch (op->kind) {
	case SIM_OP_VM_DESTROY:
	case SIM_OP_VM_PIN:
	case SIM_OP_VM_UNPIN:
		/* The VM must be as it was, its references (REFCOUNT) too. */
		if (guest_of(vs, op->vm))
			touch(vs, op->vm, 0, 0, 0, 0);
		return;
	case SIM_OP_HOST_DONATE_HYP:
	case SIM_OP_HYP_DONATE_HOST:
	case SIM_OP_HOST_DONATE_GUEST:
	case SIM_OP_HOST_SHARE_GUEST:
	case SIM_OP_HOST_UNSHARE_GUEST:
		break;
	default:
		return;
	}
	while (nr < op->c && nr < REFUSED_CHECK_PAGES && op->b + nr < (1ULL << 52) &&
	       sim_physmem_is_ram(vs->pm, (op->b + nr) << HVMM_PAGE_SHIFT))
		nr++;
	if (nr)
		touch(vs, 0, 0, 0, op->b, nr);
}

static struct sim_ipage *gpage(struct sim_vmstate *vs, unsigned int v, uint64_t ipa)
{
	return sim_space_find(&vs->ideal.spaces[v], ipa >> HVMM_PAGE_SHIFT);
}

static uint8_t prot_of(uint64_t d)
{
	return (uint8_t)(d & RWX);
}

/*
 * The op's one call into mm/; in commit mode (sim_machine_commit) the
 * outcome of the op's run on another host thread stands in for it.
 */
#define MM_CALL(vs, call)	((vs)->outcome ? (vs)->outcome->result : (call))

/* mm/'s transition for @op; @vm is its guest, NULL for the host's own ops. */
static int mm_call(struct hvmm_vm *vm, const struct sim_op *op)
{
	switch (op->kind) {
	case SIM_OP_HOST_SHARE_GUEST:
		return hvmm_host_share_guest(vm, op->a, op->b, op->c, (uint32_t)op->d);
	case SIM_OP_HOST_UNSHARE_GUEST:
		return hvmm_host_unshare_guest(vm, op->a, op->b, op->c);
	case SIM_OP_HOST_DONATE_GUEST:
		return hvmm_host_donate_guest(vm, op->a, op->b, op->c);
	case SIM_OP_GUEST_SHARE_HOST:
		return hvmm_guest_share_host(vm, op->a, op->c);
	case SIM_OP_GUEST_UNSHARE_HOST:
		return hvmm_guest_unshare_host(vm, op->a, op->c);
	case SIM_OP_S2_MAP:
		return hvmm_guest_map(vm, op->a, op->b, op->c, (uint32_t)op->d);
	case SIM_OP_S2_UNMAP:
		return hvmm_guest_unmap(vm, op->a, op->c);
	case SIM_OP_S2_PROTECT:
		return hvmm_guest_protect(vm, op->a, op->c, (uint32_t)op->d);
	case SIM_OP_HOST_DONATE_HYP:
		return hvmm_host_donate_hyp(op->b, op->c);
	case SIM_OP_HYP_DONATE_HOST:
		return hvmm_hyp_donate_host(op->b, op->c);
	default:
		return -HVMM_ENOTSUP;
	}
}

/* The host's own transitions, which name no guest. */
static bool host_op(const struct sim_op *op)
{
	return op->kind == SIM_OP_HOST_DONATE_HYP || op->kind == SIM_OP_HYP_DONATE_HOST;
}

/*
 * hvmm_vm_get() of guest @g's VMID: the pin a vm_pin takes. mm/ hands out
 * the slot of the VMID, which is the VM the executor created there.
 */
static int pin_call(struct sim_vmstate *vs, struct sim_guest *g)
{
	struct hvmm_vm *vm = hvmm_vm_get(g->vmid);

	if (!vm)
		return -HVMM_ENOENT;
	if (vm != g->vm) {
		sim_report_violation(vs->report, SIM_ORACLE_ROBUST,
			"hvmm_vm_get(%u) returned another VM than the one created with that VMID",
			g->vmid);
		hvmm_vm_put(vm);
		return -HVMM_EFAULT;
	}
	return 0;
}

static int unpin_call(struct sim_guest *g)
{
	hvmm_vm_put(g->vm);
	return 0;
}

/* sim_vm_call() of a VM lifetime op, on the block's view (sim_vm_raw_begin). */
static int raw_vm_call(struct sim_vmstate *vs, struct sim_guest *g, const struct sim_op *op)
{
	int ret;

	if (!g || !g->vm || g->raw_gone)
		return -HVMM_ENOENT;
	switch (op->kind) {
	case SIM_OP_VM_PIN:
		if (g->raw_pins >= SIM_MAX_VM_PINS)
			return -HVMM_ERANGE;
		ret = pin_call(vs, g);
		g->raw_pins += !ret;
		return ret;
	case SIM_OP_VM_UNPIN:
		if (!g->raw_pins)
			return -HVMM_ENOENT;
		/* Spent as the call starts, as a handle's reference is. */
		g->raw_pins--;
		return unpin_call(g);
	default:
		if (vs->bbm)
			sim_bbm_vmid_stopped(vs->bbm, g->vmid);
		ret = hvmm_vm_destroy(g->vm);
		if (vs->bbm && ret)
			sim_bbm_vmid_running(vs->bbm, g->vmid);
		g->raw_gone = !ret;
		return ret;
	}
}

void sim_vm_raw_begin(struct sim_vmstate *vs)
{
	for (unsigned int v = 1; v <= vs->g_hi; v++) {
		vs->g[v].raw_pins = vs->g[v].pins;
		vs->g[v].raw_gone = false;
	}
}

void sim_vm_unpin_all(struct sim_vmstate *vs)
{
	for (unsigned int v = 1; vs->enabled && v <= vs->g_hi; v++) {
		struct sim_guest *g = &vs->g[v];

		for (; g->live && g->pins; g->pins--)
			unpin_call(g);
		if (vs->spec.vms[v].live)
			vs->spec.vms[v].pins = 0;
	}
}

int sim_vm_call(struct sim_vmstate *vs, const struct sim_op *op)
{
	struct sim_guest *g = guest_of(vs, op->vm);

	if (op->kind == SIM_OP_VM_PIN || op->kind == SIM_OP_VM_UNPIN ||
	    op->kind == SIM_OP_VM_DESTROY)
		return raw_vm_call(vs, g, op);
	if (op->vm && (!g || !g->vm || g->raw_gone))
		return -HVMM_ENOENT;
	if (!g && !host_op(op))
		return -HVMM_EINVAL;
	return mm_call(g ? g->vm : NULL, op);
}

/* --- ops ------------------------------------------------------------------- */

static int op_vm_create(struct sim_vmstate *vs, const struct sim_op *op)
{
	unsigned int vcpus = op->a ? (unsigned int)op->a : 1;
	struct hvmm_vm *vm;
	int ret;

	if (op->vm == 0 || op->vm > SIM_MAX_VM || op->a > SIM_MAX_VCPUS)
		return -HVMM_EINVAL;
	if (vs->g[op->vm].live)
		return -HVMM_EEXIST;
	ret = hvmm_vm_create(vcpus, &vm);
	if (ret)
		return ret;
	vs->g[op->vm] = (struct sim_guest){ .live = true, .vm = vm, .vmid = vm->vmid,
					    .nr_vcpus = vcpus };
	if (op->vm > vs->g_hi)
		vs->g_hi = op->vm;
	view_guest(vs, op->vm);
	mark_roots(vs, &vm->pgt);
	touch(vs, op->vm, 0, 0, 0, 0);
	return 0;
}

/* vm_pin: one more hvmm_vm_get() reference, held by the executor. */
static int op_vm_pin(struct sim_vmstate *vs, const struct sim_op *op)
{
	struct sim_guest *g = guest_of(vs, op->vm);
	int ret;

	if (!g)
		return -HVMM_ENOENT;
	if (g->pins >= SIM_MAX_VM_PINS)
		return -HVMM_ERANGE;
	ret = MM_CALL(vs, pin_call(vs, g));
	if (ret)
		return ret;
	g->pins++;
	touch(vs, op->vm, 0, 0, 0, 0);
	return 0;
}

/* vm_unpin: gives one back; with none held, the caller's error, refused here. */
static int op_vm_unpin(struct sim_vmstate *vs, const struct sim_op *op)
{
	struct sim_guest *g = guest_of(vs, op->vm);
	int ret;

	if (!g || !g->pins)
		return -HVMM_ENOENT;
	ret = MM_CALL(vs, unpin_call(g));
	if (ret)
		return ret;
	g->pins--;
	touch(vs, op->vm, 0, 0, 0, 0);
	return 0;
}

static int op_vm_destroy(struct sim_vmstate *vs, const struct sim_op *op)
{
	struct sim_guest *g = guest_of(vs, op->vm);
	struct sim_space *s;
	int ret;

	if (!g)
		return -HVMM_ENOENT;
	/* The host stopped the VM's vCPUs before asking: nothing runs its VMID. */
	if (vs->bbm)
		sim_bbm_vmid_stopped(vs->bbm, g->vmid);
	ret = MM_CALL(vs, hvmm_vm_destroy(g->vm));
	if (vs->bbm && ret)
		sim_bbm_vmid_running(vs->bbm, g->vmid);
	if (vs->oracles)
		sim_check_destroy(vs->report, op->vm, vs->ideal.spaces[op->vm].nr, g->pins, ret);
	if (ret)
		return ret;
	if (vs->oracles)
		sim_vm_check_vmid_gone(sim_vm_view(vs), g->vmid);
	/* The ideal machine: owned pages go back to the host, zeroed; borrowed ones are released. */
	s = &vs->ideal.spaces[op->vm];
	for (uint64_t i = 0; i < s->cap; i++) {
		struct sim_ipage *e = &s->slots[i];

		if (!e->used)
			continue;
		if (e->state != SIM_IDEAL_BORROWED)
			sim_ideal_host_reset(&vs->ideal, e->pfn);
		touch(vs, 0, 0, 0, e->pfn, 1);
		sim_cell_put(e->cell);
	}
	sim_space_free(s);
	memset(s, 0, sizeof(*s));
	g->live = false;
	view_guest(vs, op->vm);
	return 0;
}

static void ideal_guest_map(struct sim_vmstate *vs, unsigned int v, uint64_t ipa, uint64_t pfn,
			    struct sim_cell *cell, uint8_t prot, uint8_t state)
{
	struct sim_ipage *e = sim_space_insert(&vs->ideal.spaces[v], ipa >> HVMM_PAGE_SHIFT);

	e->cell = cell;
	e->pfn = pfn;
	e->prot = prot;
	e->state = state;
	e->parked = false;
}

/* host_donate_guest of @op (from a trace, or the host's answer to a guest's fault). */
static int donate_guest(struct sim_vmstate *vs, const struct sim_op *op)
{
	unsigned int v = op->vm;
	uint64_t ipa = op->a, pfn = op->b, nr = op->c;
	int ret = MM_CALL(vs, mm_call(vs->g[v].vm, op));

	if (ret)
		return ret;
	for (uint64_t i = 0; i < nr; i++) {
		struct sim_cell *c = sim_cell_get(sim_ideal_host_cell(&vs->ideal, pfn + i, true));

		sim_ideal_host_hide(&vs->ideal, pfn + i);
		ideal_guest_map(vs, v, ipa + (i << HVMM_PAGE_SHIFT), pfn + i, c, RWX, SIM_IDEAL_OWNED);
	}
	touch(vs, v, ipa, nr, pfn, nr);
	return 0;
}

static int op_share_guest(struct sim_vmstate *vs, unsigned int v, const struct sim_op *op)
{
	int ret = MM_CALL(vs, mm_call(vs->g[v].vm, op));

	if (ret)
		return ret;
	for (uint64_t i = 0; i < op->c; i++) {
		struct sim_cell *c = sim_cell_get(sim_ideal_host_cell(&vs->ideal, op->b + i, true));

		ideal_guest_map(vs, v, op->a + (i << HVMM_PAGE_SHIFT), op->b + i, c,
				prot_of(op->d), SIM_IDEAL_BORROWED);
	}
	touch(vs, v, op->a, op->c, op->b, op->c);
	return 0;
}

static int op_unshare_guest(struct sim_vmstate *vs, unsigned int v, const struct sim_op *op)
{
	int ret = MM_CALL(vs, mm_call(vs->g[v].vm, op));

	if (ret)
		return ret;
	for (uint64_t i = 0; i < op->c; i++) {
		struct sim_ipage *e = gpage(vs, v, op->a + (i << HVMM_PAGE_SHIFT));

		if (e)
			sim_cell_put(e->cell);
		sim_space_remove(&vs->ideal.spaces[v], (op->a >> HVMM_PAGE_SHIFT) + i);
	}
	touch(vs, v, op->a, op->c, op->b, op->c);
	return 0;
}

/* Ops on a guest's range that change the ideal page by page. */
static int guest_range_op(struct sim_vmstate *vs, unsigned int v, const struct sim_op *op)
{
	int ret;

	switch (op->kind) {
	case SIM_OP_GUEST_SHARE_HOST:
	case SIM_OP_GUEST_UNSHARE_HOST:
	case SIM_OP_S2_MAP:
	case SIM_OP_S2_UNMAP:
	case SIM_OP_S2_PROTECT:
		break;
	default:
		return -HVMM_EINVAL;
	}
	ret = MM_CALL(vs, mm_call(vs->g[v].vm, op));
	if (ret)
		return ret;
	for (uint64_t i = 0; i < op->c; i++) {
		struct sim_ipage *e = gpage(vs, v, op->a + (i << HVMM_PAGE_SHIFT));

		if (!e) {
			sim_report_violation(vs->report, SIM_ORACLE_OWNERSHIP,
				"vm%u: mm/ accepted the op at ipa 0x%llx, where the guest has no page",
				v, (unsigned long long)(op->a + (i << HVMM_PAGE_SHIFT)));
			continue;
		}
		switch (op->kind) {
		case SIM_OP_GUEST_SHARE_HOST:
			e->state = SIM_IDEAL_SHARED_OWNED;
			sim_ideal_host_set(&vs->ideal, e->pfn, sim_cell_get(e->cell));
			break;
		case SIM_OP_GUEST_UNSHARE_HOST:
			e->state = SIM_IDEAL_OWNED;
			sim_ideal_host_hide(&vs->ideal, e->pfn);
			break;
		case SIM_OP_S2_MAP:
			e->parked = false;
			e->prot = prot_of(op->d);
			break;
		case SIM_OP_S2_UNMAP:
			e->parked = true;
			break;
		default:
			e->prot = prot_of(op->d);
			break;
		}
		touch(vs, v, op->a + (i << HVMM_PAGE_SHIFT), 1, e->pfn, 1);
	}
	return 0;
}

/*
 * A guest fault on an empty IPA exits to the host, which donates a page
 * there: the one the op names (pfn=), else one of its choosing, which
 * *@value returns so that a recorded trace names it and replays without
 * depending on how the executor chooses.
 */
static int op_fault(struct sim_vmstate *vs, const struct sim_op *op, uint64_t *value)
{
	struct sim_ipage *e;
	uint64_t pfn, ipa = op->a & HVMM_PAGE_MASK;
	int ret;

	if (op->vm == 0)
		return hvmm_host_handle_fault(op->a);
	if (!guest_of(vs, op->vm))
		return -HVMM_ENOENT;
	ret = hvmm_guest_handle_fault(vs->g[op->vm].vm, op->a);
	e = gpage(vs, op->vm, ipa);
	if (ret == -HVMM_ENOENT) {
		/* The page the op names, else the host's choice (the model's). */
		pfn = op->b ? op->b : vs->verdict.pfn != SPEC_NO_PFN ? vs->verdict.pfn :
		      sim_spec_pick_host_page(&vs->spec);
		if (pfn == SPEC_NO_PFN)
			return -HVMM_ENOMEM;
		if (value)
			*value = pfn;
		return donate_guest(vs, &(struct sim_op){ .kind = SIM_OP_HOST_DONATE_GUEST, .vm = op->vm,
						      .a = ipa, .b = pfn, .c = 1 });
	}
	if (!ret && e && e->parked) {
		e->parked = false;
		e->prot = RWX;
		touch(vs, op->vm, ipa, 1, e->pfn, 1);
	}
	return ret;
}

static int op_access(struct sim_vmstate *vs, const struct sim_op *op, uint64_t *value)
{
	bool write = op->kind == SIM_OP_STORE;
	struct sim_guest *g = op->vm ? guest_of(vs, op->vm) : &vs->g[0];
	struct sim_s2_regs regs;
	enum sim_fault f;
	uint64_t pa = 0, v = op->b, *host;

	if (!g)
		return -HVMM_ENOENT;
	if (op->vcpu >= g->nr_vcpus || (op->a & 7))
		return -HVMM_EINVAL;
	regs = sim_vm_regs(vs, op->vm);
	f = sim_mmu_access(&vs->tlbs[op->vcpu % vs->nr_cpus], vs->pm, &regs, op->a,
			   write ? SIM_ACCESS_WRITE : SIM_ACCESS_READ, &pa);
	/* The host's stage-2 fills in on demand: fault, then retry once. */
	if (f == SIM_FAULT_TRANSLATION && op->vm == 0 && !hvmm_host_handle_fault(op->a))
		f = sim_mmu_access(&vs->tlbs[op->vcpu % vs->nr_cpus], vs->pm, &regs, op->a,
				   write ? SIM_ACCESS_WRITE : SIM_ACCESS_READ, &pa);
	host = f ? NULL : sim_physmem_pa_to_host(vs->pm, pa);
	if (host) {
		if (write) {
			*host = v;
			sim_physmem_mark_dirty(vs->pm, pa >> HVMM_PAGE_SHIFT, 1);
		} else {
			/*
			 * A page nothing wrote is zero: not reading it keeps a
			 * load from faulting in a page of the host's RAM.
			 */
			v = sim_physmem_dirty(vs->pm, pa >> HVMM_PAGE_SHIFT) ? *host : 0;
		}
	}
	if (vs->oracles)
		sim_vm_check_access(sim_vm_view(vs), op->vm, op->a, write, host != NULL, v, pa);
	if (!host)
		return -HVMM_EFAULT;
	if (value && !write)
		*value = v;
	return 0;
}

/*
 * The hypervisor uses the pages the host donates to it: pKVM keeps a VM's
 * and its vCPUs' state there, and its guests' stage-2 tables, so they hold
 * the hypervisor's (and through it the guests') data when they are donated
 * back. The simulated hypervisor does the same, writing a word of its own
 * at each end of every page it is given (outside mm/: no event, nothing
 * for an oracle to judge), so a page handed back unscrubbed shows. Not in
 * commit mode: the op ran on a vCPU, and a later op of its block may have
 * handed the page back already.
 */
#define SIM_HYP_DATA 0x6879702d64617461ULL	/* "hyp-data" */

static void hyp_uses_pages(struct sim_vmstate *vs, uint64_t pfn, uint64_t nr)
{
	for (uint64_t i = 0; i < nr; i++) {
		uint64_t *w = sim_physmem_pa_to_host(vs->pm, (pfn + i) << HVMM_PAGE_SHIFT);

		if (!w)
			continue;
		w[0] = SIM_HYP_DATA ^ (pfn + i);
		w[HVMM_PAGE_SIZE / sizeof(*w) - 1] = SIM_HYP_DATA;
		sim_physmem_mark_dirty(vs->pm, pfn + i, 1);
	}
}

static int exec_op(struct sim_vmstate *vs, const struct sim_op *op, uint64_t *value)
{
	unsigned int v = op->vm;
	int ret;

	vs->nr_touch = 0;
	vs->verdict = sim_spec_predict(&vs->spec, op);
	switch (op->kind) {
	case SIM_OP_VM_CREATE: ret = op_vm_create(vs, op); break;
	case SIM_OP_VM_DESTROY: ret = op_vm_destroy(vs, op); break;
	case SIM_OP_VM_PIN: ret = op_vm_pin(vs, op); break;
	case SIM_OP_VM_UNPIN: ret = op_vm_unpin(vs, op); break;
	case SIM_OP_HOST_DONATE_HYP:
		ret = MM_CALL(vs, mm_call(NULL, op));
		for (uint64_t i = 0; !ret && i < op->c; i++)
			sim_ideal_host_hide(&vs->ideal, op->b + i);
		if (!ret && !vs->outcome)
			hyp_uses_pages(vs, op->b, op->c);
		if (!ret)
			touch(vs, 0, 0, 0, op->b, op->c);
		break;
	case SIM_OP_HYP_DONATE_HOST:
		ret = MM_CALL(vs, mm_call(NULL, op));
		for (uint64_t i = 0; !ret && i < op->c; i++)
			sim_ideal_host_reset(&vs->ideal, op->b + i);
		if (!ret)
			touch(vs, 0, 0, 0, op->b, op->c);
		break;
	case SIM_OP_FAULT: ret = op_fault(vs, op, value); break;
	case SIM_OP_LOAD:
	case SIM_OP_STORE:
		ret = op_access(vs, op, value);
		sim_vm_spec_judge(sim_vm_view(vs), op, ret);
		return ret;
	case SIM_OP_SCHED:
		return -HVMM_ENOTSUP;
	default:
		if (!guest_of(vs, v))
			ret = v ? -HVMM_ENOENT : -HVMM_EINVAL;
		else if (op->kind == SIM_OP_HOST_DONATE_GUEST)
			ret = donate_guest(vs, op);
		else if (op->kind == SIM_OP_HOST_SHARE_GUEST)
			ret = op_share_guest(vs, v, op);
		else if (op->kind == SIM_OP_HOST_UNSHARE_GUEST)
			ret = op_unshare_guest(vs, v, op);
		else
			ret = guest_range_op(vs, v, op);
		break;
	}
	sim_vm_spec_judge(sim_vm_view(vs), op, ret);
	if (vs->oracles && !vs->conc_deferred) {
		if (ret) {
			vs->nr_touch = 0;
			touch_refused(vs, op);
		}
		sim_vm_check_touched(sim_vm_view(vs));
	}
	return ret;
}

int sim_vm_exec(struct sim_vmstate *vs, const struct sim_op *op, uint64_t *value)
{
	uint16_t vmid = 0;
	int ret;

	if (!vs->enabled)
		return -HVMM_ENOTSUP;
	/*
	 * A guest's load or store runs no hypervisor code; the host's may run
	 * its stage-2 fault handler, whose table updates the event oracles
	 * judge as any other op's.
	 */
	if (!vs->bbm || ((op->kind == SIM_OP_LOAD || op->kind == SIM_OP_STORE) && op->vm))
		return exec_op(vs, op, value);
	if (op->kind == SIM_OP_VM_DESTROY && op->vm <= SIM_MAX_VM && op->vm && vs->g[op->vm].live)
		vmid = vs->g[op->vm].vmid;
	sim_hyp_conserve_set_op(vs->hyp_conserve, vs->report->op_index);
	sim_event_begin();
	ret = exec_op(vs, op, value);
	event_oracles_op_end(vs, op, ret, vmid);
	return ret;
}
