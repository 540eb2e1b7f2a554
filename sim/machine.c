// SPDX-License-Identifier: MIT
/*
 * The executor. Each op is checked for validity against the executor's own
 * handle table first (an invalid op gets an error code and never reaches
 * mm/, which would rightly panic on misuse; the one misuse handed to mm/ on
 * purpose is a double put, which it must refuse or stop: double_put()),
 * then run against mm/ with panics caught, then judged by the oracles. One concern per file: the
 * handle table (handle_table.c), allocation stamps (stamp.c), AVAIL
 * (oracle/avail.c), the bitmap-family ops (machine_bitmap.c), the VM side
 * (machine_vm.c), the heap (machine_heap.c); here set-up, dispatch and the
 * generic allocator ops.
 */
#include "machine.h"
#include "machine_priv.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <hvmm/types.h>

#include "event/event.h"
#include "machine_conc.h"
#include "machine_heap.h"
#include "machine_maptab.h"
#include "machine_vm.h"
#include "oracle/avail.h"
#include "oracle/linearize.h"
#include "pgtable/pgtable.h"
#include "platform.h"
#include "stamp.h"
#include "vmemmap.h"

static void conc_forget(struct sim_machine *m);
static bool conc_queued(const struct sim_machine *m);
static void conc_free(struct sim_machine *m);


void sim_machine_config_default(struct sim_machine_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->regions[0] = (struct sim_region_config){ SIM_REGION_RAM, 0x80000000ULL, 1ULL << 30 };
	cfg->nr_regions = 1;
	snprintf(cfg->allocator, sizeof(cfg->allocator), "buddy");
	snprintf(cfg->pgtable, sizeof(cfg->pgtable), "%s", sim_mm_pgtable_name());
	cfg->pool_pages = (64ULL << 20) >> HVMM_PAGE_SHIFT;
	cfg->pool_reserved = 0;
	cfg->vcpus = 1;
	cfg->seed = 1;
	cfg->oracles = SIM_ORACLES_INCREMENTAL;
	cfg->sweep_interval = 0;
	cfg->ipa_bits = 40;
	cfg->ipa_start_level = 4;
	cfg->host_ia_bits = 40;
	cfg->tlb_entries = 16;
	cfg->tlb_policy = 2;	/* SIM_TLB_LRU */
	cfg->hyp_pool_pages = 4096;
}

static const struct sim_region *first_ram(const struct sim_physmem *pm)
{
	for (unsigned int i = 0; i < pm->nr_regions; i++)
		if (pm->regions[i].kind == SIM_REGION_RAM)
			return &pm->regions[i];
	return NULL;
}

static uint64_t largest_ram_pages(const struct sim_physmem *pm)
{
	uint64_t size = 0;

	for (unsigned int i = 0; i < pm->nr_regions; i++)
		if (pm->regions[i].kind == SIM_REGION_RAM)
			size = hvmm_max(size, pm->regions[i].size);
	return size >> HVMM_PAGE_SHIFT;
}

/* The allocator and its pool on @pm: SIM_CONFIG_OK with @acfg filled, or the part at fault. */
static enum sim_config_part pool_config(const struct sim_machine_config *cfg,
					const struct sim_physmem *pm,
					const struct sim_allocator_ops **ops,
					struct sim_alloc_config *acfg, char *err, size_t errlen)
{
	const struct sim_region *ram = first_ram(pm);
	const struct sim_region *r;

	*ops = cfg->allocator_ops ? cfg->allocator_ops : sim_allocator_find(cfg->allocator);
	if (!*ops) {
		snprintf(err, errlen, "unknown allocator '%s'", cfg->allocator);
		return SIM_CONFIG_ALLOCATOR;
	}
	if (!ram) {
		snprintf(err, errlen, "no RAM region for the allocator pool");
		return SIM_CONFIG_POOL;
	}
	acfg->base_pfn = (cfg->pool_base ? cfg->pool_base : ram->base) >> HVMM_PAGE_SHIFT;
	acfg->nr_pages = cfg->pool_pages ? cfg->pool_pages : ram->size >> HVMM_PAGE_SHIFT;
	acfg->reserved_pages = cfg->pool_reserved;
	r = sim_physmem_region(pm, acfg->base_pfn << HVMM_PAGE_SHIFT);
	if (!r || r->kind != SIM_REGION_RAM ||
	    acfg->nr_pages > (r->base + r->size - (acfg->base_pfn << HVMM_PAGE_SHIFT)) >> HVMM_PAGE_SHIFT) {
		snprintf(err, errlen, "pool of %llu pages at 0x%llx does not fit in one RAM region",
			 (unsigned long long)acfg->nr_pages,
			 (unsigned long long)(acfg->base_pfn << HVMM_PAGE_SHIFT));
		return SIM_CONFIG_POOL;
	}
	if (acfg->reserved_pages > acfg->nr_pages) {
		snprintf(err, errlen, "pool reserves %llu of its %llu pages",
			 (unsigned long long)acfg->reserved_pages, (unsigned long long)acfg->nr_pages);
		return SIM_CONFIG_POOL_RESERVED;
	}
	return SIM_CONFIG_OK;
}

/* Only the page tables linked into this program can be built. */
static enum sim_config_part pgtable_config(const struct sim_machine_config *cfg,
					   char *err, size_t errlen)
{
	if (!strcmp(cfg->pgtable, sim_mm_pgtable_name()))
		return SIM_CONFIG_OK;
	snprintf(err, errlen, "page tables '%s', but this program's mm/ writes '%s' (hvmm runs "
		 "a trace that names other page tables in the program built with them)",
		 cfg->pgtable, sim_mm_pgtable_name());
	return SIM_CONFIG_PGTABLE;
}

/*
 * Where a run writes densely, one 2 MiB page costs one fault instead of
 * 512 (a first touch costs 10-20 us here, more than most ops): the low
 * end of the allocator's pool (its blocks are handed out lowest first and
 * every free scrubs the block) and the first host pages the executor
 * hands to guests, after the hypervisor's pool. Only there: the kernel
 * zeroes a whole 2 MiB page at its first touch, about 0.3 ms, and the
 * hypervisor's pool (a few dozen table pages in a replay of the default
 * trace) and the host's scattered accesses past the first guest pages
 * touched 10 such pages for 80 small ones, 22 MiB of zeroing. Bounded
 * windows, so a pool spanning all RAM, whose free-list nodes sit every
 * 4 MiB, does not turn each into a 2 MiB page: at most 68 MiB more
 * resident.
 */
#define HUGE_POOL_WINDOW	(1ULL << 14)	/* 64 MiB */
#define HUGE_HOST_WINDOW	(1ULL << 10)	/* 4 MiB */

static void hint_huge(struct sim_machine *m, const struct sim_alloc_config *acfg)
{
	uint64_t hyp = acfg->base_pfn + acfg->nr_pages;

	sim_physmem_hint_huge(&m->pm, acfg->base_pfn, hvmm_min(acfg->nr_pages, HUGE_POOL_WINDOW));
	sim_physmem_hint_huge(&m->pm, hyp + m->cfg.hyp_pool_pages, HUGE_HOST_WINDOW);
}

static int setup_allocator(struct sim_machine *m, char *err, size_t errlen)
{
	const struct sim_allocator_ops *ops;
	struct sim_alloc_config acfg;

	if (pool_config(&m->cfg, &m->pm, &ops, &acfg, err, errlen) != SIM_CONFIG_OK ||
	    pgtable_config(&m->cfg, err, errlen) != SIM_CONFIG_OK)
		return -1;
	/*
	 * One mapping for the largest pool the machine can have (a RAM
	 * region; NORESERVE, so only touched pages cost): a reset machine
	 * re-bases it wherever the next pool lies.
	 */
	if (m->shadow.state && !sim_alloc_shadow_rebase(&m->shadow, acfg.base_pfn, acfg.nr_pages))
		sim_alloc_shadow_fini(&m->shadow);
	if (!m->shadow.state &&
	    sim_alloc_shadow_init_cap(&m->shadow, acfg.base_pfn, acfg.nr_pages, largest_ram_pages(&m->pm))) {
		snprintf(err, errlen, "cannot map the allocator shadow");
		return -1;
	}
	hint_huge(m, &acfg);
	/* Only the executor writes the pool's blocks, and it marks every write (sim/physmem.h). */
	m->pm.clear_lo = acfg.base_pfn;
	m->pm.clear_hi = acfg.base_pfn + acfg.nr_pages;
	sim_platform_clear_range_set();
	m->alloc = (struct sim_allocator){
		.ops = ops, .pm = &m->pm, .vmemmap = &m->vmemmap, .base_pfn = acfg.base_pfn, .nr_pages = acfg.nr_pages,
	};
	if (ops->init(&m->alloc, &acfg, &m->shadow, err, errlen))
		return -1;
	m->alloc_ready = true;
	return 0;
}

/* Everything on top of the mapped physical memory: set up by create and reset. */
/*
 * The host's stage-2 maps physical memory one to one, so its input
 * address size follows the RAM asked for: a 1 TiB machine at the default
 * base needs 41 bits, not the default 40. Up to the 48 bits a 4 KiB
 * granule translates without FEAT_LPA2; the regions are checked against
 * the physical address space already.
 */
static void fit_host_ia_bits(struct sim_machine_config *cfg, const struct sim_physmem *pm)
{
	uint64_t end = pm->end_pfn << HVMM_PAGE_SHIFT;

	while (cfg->host_ia_bits < 48 && end > (1ULL << cfg->host_ia_bits))
		cfg->host_ia_bits++;
}

/*
 * While confined, mm/ allocates only in the executor's pool, and the
 * platform asks it for no PAGE_ALLOC call (sim/physmem.h).
 */
static void set_allocs_confined(struct sim_machine *m, bool confined)
{
	__atomic_store_n(&m->pm.allocs_confined, confined, __ATOMIC_RELAXED);
	sim_platform_clear_range_set();
}

static int machine_setup(struct sim_machine *m, const struct sim_machine_config *cfg,
			 char *err, size_t errlen)
{
	m->cfg = *cfg;
	fit_host_ia_bits(&m->cfg, &m->pm);
	sim_report_init(&m->report, cfg->report_stream);
	/* Set-up builds mm/'s own pools' tables: their blocks are marked. */
	__atomic_store_n(&m->pm.allocs_confined, false, __ATOMIC_RELAXED);
	sim_platform_install(&m->pm, NULL);
	sim_vmemmap_install(&m->vmemmap);
	if (setup_allocator(m, err, errlen))
		return -1;
	/* Kept across resets (sim_vm_setup clears it): no allocation per run. */
	if (!m->vms)
		m->vms = calloc(1, sizeof(*m->vms));
	if (!m->vms) {
		snprintf(err, errlen, "out of host memory");
		return -1;
	}
	if (!m->heap)
		m->heap = calloc(1, sizeof(*m->heap));
	if (!m->heap || sim_heap_setup(m->heap, m)) {
		snprintf(err, errlen, "cannot set up the heap");
		return -1;
	}
	if (sim_vm_setup(m->vms, &m->cfg, &m->pm, &m->vmemmap, &m->report, m->alloc.base_pfn,
			 m->alloc.nr_pages, err, errlen))
		return -1;
	/* Until an op that is not the allocator's (dispatch_other()). */
	set_allocs_confined(m, true);
	return 0;
}

/*
 * Undoes machine_setup() and forgets the run; physical memory, the
 * shadow's mapping and the host memory of the VM state and the handle
 * table stay (setup reuses or replaces the shadow).
 */
static void machine_teardown(struct sim_machine *m)
{
	if (m->alloc_ready && m->alloc.ops->fini)
		m->alloc.ops->fini(&m->alloc);
	m->alloc_ready = false;
	if (m->vms) {
		sim_vm_teardown(m->vms);
		memset(m->vms, 0, sizeof(*m->vms));	/* torn down: nothing to free twice */
	}
	sim_handles_clear(&m->handles);
	if (m->heap)
		sim_heap_teardown(m->heap);
	memset(&m->stats, 0, sizeof(m->stats));
	m->dead = false;
	m->misuse = false;
	conc_forget(m);
	sim_maptab_reset(m->maptab);
}

/* @cfg's regions into @pm: 0, or -1 with the index of the one at fault. */
static int add_regions(struct sim_physmem *pm, const struct sim_machine_config *cfg,
		       unsigned int *index, char *err, size_t errlen)
{
	/* RAM and MMIO first, so reserved regions can be carved out of RAM. */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < cfg->nr_regions; i++) {
			const struct sim_region_config *rc = &cfg->regions[i];

			if ((rc->kind == SIM_REGION_RESERVED) != (pass == 1))
				continue;
			if (sim_physmem_add(pm, rc->kind, rc->base, rc->size, err, errlen)) {
				*index = i;
				return -1;
			}
		}
	}
	return 0;
}

enum sim_config_part sim_machine_config_check(const struct sim_machine_config *cfg,
					      unsigned int *index, char *err, size_t errlen)
{
	const struct sim_allocator_ops *ops;
	struct sim_alloc_config acfg;
	struct sim_physmem pm;

	enum sim_config_part part;

	memset(&pm, 0, sizeof(pm));	/* regions only: nothing is mapped */
	if (add_regions(&pm, cfg, index, err, errlen))
		return SIM_CONFIG_REGION;
	part = pool_config(cfg, &pm, &ops, &acfg, err, errlen);
	return part == SIM_CONFIG_OK ? pgtable_config(cfg, err, errlen) : part;
}

struct sim_machine *sim_machine_create(const struct sim_machine_config *cfg,
				       char *err, size_t errlen)
{
	struct sim_machine *m = calloc(1, sizeof(*m));
	unsigned int index;

	if (!m) {
		snprintf(err, errlen, "out of host memory");
		return NULL;
	}
	if (add_regions(&m->pm, cfg, &index, err, errlen))
		goto fail;
	if (sim_physmem_map(&m->pm, err, errlen) ||
	    sim_vmemmap_map(&m->vmemmap, &m->pm, err, errlen))
		goto fail;
	if (machine_setup(m, cfg, err, errlen))
		goto fail;
	return m;
fail:
	sim_machine_destroy(m);
	return NULL;
}

int sim_machine_reset(struct sim_machine *m, const struct sim_machine_config *cfg,
		      char *err, size_t errlen)
{
	uint64_t pfn = m->alloc.base_pfn, nr = m->alloc.nr_pages;
	uint64_t below = m->vms ? m->vms->neighbour_below : 0;
	uint64_t above = m->vms ? m->vms->neighbour_above : 0;
	bool vms;

	if (cfg->nr_regions != m->cfg.nr_regions ||
	    memcmp(cfg->regions, m->cfg.regions, cfg->nr_regions * sizeof(cfg->regions[0]))) {
		snprintf(err, errlen, "a reset machine keeps its memory regions");
		return -1;
	}
	vms = m->vms && m->vms->enabled;
	machine_teardown(m);
	/*
	 * The pools are where a run writes most: zero them in place (the
	 * hypervisor's table pool follows the allocator's when VMs ran), drop
	 * everything else, wherever guests wrote. Same end state as a discard.
	 */
	sim_physmem_scrub(&m->pm);
	if (vms)
		sim_vmemmap_scrub(&m->vmemmap, pfn, nr + m->cfg.hyp_pool_pages);
	else
		/* Only the allocator wrote it, and the set-up of the bystander pools beside it. */
		sim_vmemmap_scrub_within(&m->vmemmap, pfn - below, below + nr + above);
	if (sim_physmem_check_scrubs)
		sim_vmemmap_check_zero(&m->vmemmap);
	return machine_setup(m, cfg, err, errlen);
}

void sim_machine_destroy(struct sim_machine *m)
{
	if (!m)
		return;
	machine_teardown(m);
	conc_free(m);
	sim_maptab_destroy(m->maptab);
	free(m->vms);
	sim_heap_destroy(m->heap);
	sim_handles_fini(&m->handles);
	sim_alloc_shadow_fini(&m->shadow);
	if (sim_platform_physmem() == &m->pm)
		sim_platform_install(NULL, NULL);
	sim_vmemmap_destroy(&m->vmemmap);
	sim_physmem_destroy(&m->pm);
	free(m);
}

bool sim_machine_dead(const struct sim_machine *m) { return m->dead; }
struct sim_report *sim_machine_report(struct sim_machine *m) { return &m->report; }
const struct sim_machine_stats *sim_machine_stats(const struct sim_machine *m) { return &m->stats; }
struct sim_allocator *sim_machine_allocator(struct sim_machine *m) { return &m->alloc; }
struct sim_alloc_shadow *sim_machine_shadow(struct sim_machine *m) { return &m->shadow; }
struct sim_physmem *sim_machine_physmem(struct sim_machine *m) { return &m->pm; }
struct sim_vmemmap *sim_machine_vmemmap(struct sim_machine *m) { return &m->vmemmap; }
struct sim_vmstate *sim_machine_vms(struct sim_machine *m) { return m->vms; }
struct sim_heapstate *sim_machine_heap(struct sim_machine *m) { return m->heap; }
const struct sim_machine_config *sim_machine_config(const struct sim_machine *m) { return &m->cfg; }

/* --- handles ------------------------------------------------------------ */

static struct sim_handle *handle_slot(struct sim_machine *m, uint32_t h)
{
	return sim_handles_slot(&m->handles, h);
}

static struct sim_handle *live_handle(struct sim_machine *m, uint32_t h)
{
	return sim_handles_live(&m->handles, h);
}

bool sim_machine_handle(const struct sim_machine *m, uint32_t h, uint64_t *pfn,
			uint64_t *pages, uint32_t *refs)
{
	const struct sim_handle *hd = sim_handles_live(&m->handles, h);

	if (!hd)
		return false;
	if (pfn)
		*pfn = hd->pfn;
	if (pages)
		*pages = hd->pages;
	if (refs)
		*refs = hd->refs;
	return true;
}

/* --- oracles -------------------------------------------------------------- */

/*
 * Whether the per-op checks judge an op now: not while other ops of a
 * concurrent block may be half-way through theirs (conc_alone), nor in a
 * commit, whose checks wait for the end of the batch.
 */
static bool judged_per_op(const struct sim_machine *m)
{
	return sim_machine_oracles_on(m) && (!m->conc_running || m->conc_alone) && !m->committing;
}

void sim_machine_check_touched(struct sim_machine *m, uint64_t pfn, uint64_t nr)
{
	if (judged_per_op(m) && m->alloc.ops->check_touched)
		m->alloc.ops->check_touched(&m->alloc, &m->shadow, &m->report, pfn, nr);
}

/* AVAIL: a failed allocation is only allowed if the shadow has no fitting block. */
static void check_avail(struct sim_machine *m, uint64_t count, uint64_t align, const char *what)
{
	if (judged_per_op(m))
		sim_check_avail(&m->shadow, &m->report, count, align, what);
}

void sim_machine_sweep(struct sim_machine *m)
{
	if (m->dead)
		return;
	m->stats.sweeps++;
	if (m->alloc.ops->check_full)
		m->alloc.ops->check_full(&m->alloc, &m->shadow, &m->report);
	if (m->vms && m->vms->enabled)
		sim_vm_check_full(sim_vm_view(m->vms));
	if (m->vms)
		sim_vm_check_hyp_pools(m->vms);	/* or the bystander pools of a run without VMs */
	sim_heap_check_all(m->heap);
}

void sim_machine_finish(struct sim_machine *m)
{
	sim_machine_conc_run(m);
	sim_report_set_op(&m->report, m->stats.ops, "");
	if (sim_machine_oracles_on(m))
		sim_machine_sweep(m);
	/* The references the run's vm_pin ops left: given back while the run owns mm/. */
	if (m->vms && !m->dead)
		sim_vm_unpin_all(m->vms);
}

/* --- allocator ops -------------------------------------------------------- */

static void account(struct sim_machine *m, int64_t pages)
{
	m->stats.pages_in_use += pages;
	if (m->stats.pages_in_use > m->stats.peak_pages_in_use)
		m->stats.peak_pages_in_use = m->stats.pages_in_use;
}

void sim_machine_account_pages(struct sim_machine *m, int64_t pages)
{
	account(m, pages);
}

/* A block came back from the allocator: shadow, handle, stamp, checks. */
static void took_block(struct sim_machine *m, uint32_t h, uint64_t pfn, unsigned int order,
		       const char *what)
{
	struct sim_handle *hd = handle_slot(m, h);
	uint64_t nr = 1ULL << order;

	if (sim_machine_oracles_on(m)) {
		if (pfn & (nr - 1))
			sim_report_violation(&m->report, SIM_ORACLE_ALLOC_STRUCT,
				"%s returned pfn 0x%llx, not aligned to its order %u",
				what, (unsigned long long)pfn, order);
		if (!sim_alloc_shadow_covers(&m->shadow, pfn, nr))
			sim_report_violation(&m->report, SIM_ORACLE_ALLOC_CONSERVE,
				"%s returned pfn 0x%llx+%llu, outside the managed range",
				what, (unsigned long long)pfn, (unsigned long long)nr);
	}
	sim_alloc_shadow_move(&m->shadow, &m->report, SIM_ORACLE_ALLOC_CONSERVE,
			      "the allocator handed out a block that is not free",
			      pfn, nr, SIM_SHADOW_FREE, SIM_SHADOW_ALLOCATED);
	*hd = (struct sim_handle){ .pfn = pfn, .pages = nr, .live = 1, .refs = 1 };
	account(m, (int64_t)nr);
	/* A committed block may be another's by now: only its own run could look. */
	if (sim_alloc_shadow_covers(&m->shadow, pfn, nr) && !m->outcome)
		sim_stamp_block(&m->pm, &m->report, sim_machine_oracles_on(m), h, pfn, order);
	sim_machine_check_touched(m, pfn, nr);
}

/* A handle's last reference went: the block is free again. */
static void released_block(struct sim_machine *m, struct sim_handle *hd)
{
	uint64_t nr = hd->pages;

	sim_alloc_shadow_move(&m->shadow, &m->report, SIM_ORACLE_ALLOC_CONSERVE,
			      "freeing a block the shadow does not hold as allocated",
			      hd->pfn, nr, SIM_SHADOW_ALLOCATED, SIM_SHADOW_FREE);
	hd->live = 0;
	account(m, -(int64_t)nr);
	m->stats.pages_freed += nr;
	sim_machine_check_touched(m, hd->pfn, nr);
}

int sim_machine_new_handle(struct sim_machine *m, uint32_t h)
{
	if (h >= SIM_MAX_HANDLE)
		return -HVMM_EINVAL;
	if (live_handle(m, h))
		return -HVMM_EEXIST;
	if (!handle_slot(m, h))
		return -HVMM_ENOMEM;
	return 0;
}

static int op_alloc(struct sim_machine *m, const struct sim_op *op)
{
	uint64_t pfn;
	int ret = sim_machine_new_handle(m, op->h);

	if (ret)
		return ret;
	if (op->a > 63)
		return -HVMM_EINVAL;
	if (m->outcome) {
		ret = m->outcome->result;
		pfn = m->outcome->value;
	} else {
		ret = m->alloc.ops->alloc(&m->alloc, (unsigned int)op->a, &pfn);
	}
	/* The op named for AVAIL only when it looks (a snprintf was 22 instructions an op, oracles off). */
	if (ret == -HVMM_ENOMEM && op->a <= m->alloc.max_order && judged_per_op(m)) {
		char what[48];

		snprintf(what, sizeof(what), "alloc(order %llu)", (unsigned long long)op->a);
		check_avail(m, 1ULL << op->a, 1ULL << op->a, what);
	}
	if (ret)
		return ret;
	took_block(m, op->h, pfn, (unsigned int)op->a, "alloc");
	return 0;
}

/* The allocator's put of @hd's block, or the committed outcome of one. */
static int alloc_put(struct sim_machine *m, const struct sim_handle *hd)
{
	if (m->outcome)
		return m->outcome->result;
	return m->alloc.ops->put ? m->alloc.ops->put(&m->alloc, hd->pfn) : 0;
}

/* Drops one reference of @hd; frees at zero. */
static int drop_ref(struct sim_machine *m, struct sim_handle *hd)
{
	int ret;

	/*
	 * The reference is taken off before mm/'s call: in a concurrent block
	 * two puts of one block run at once, and the one that drops the last
	 * reference must know it is the last when it starts, not when the
	 * other returns.
	 */
	if (hd->refs > 1) {
		hd->refs--;
		ret = alloc_put(m, hd);
		if (ret)
			hd->refs++;
		else
			sim_machine_check_touched(m, hd->pfn, hd->pages);
		return ret;
	}
	if (m->outcome || m->alloc.ops->put)
		ret = alloc_put(m, hd);
	else
		ret = m->alloc.ops->free(&m->alloc, hd->pfn, hd->pages);
	if (!ret)
		released_block(m, hd);
	return ret;
}

/* True if no page of [pfn, pfn + nr) has been handed out since it was freed. */
static bool still_free(const struct sim_machine *m, uint64_t pfn, uint64_t nr)
{
	if (!sim_alloc_shadow_covers(&m->shadow, pfn, nr))
		return false;
	for (uint64_t i = 0; i < nr; i++)
		if (sim_alloc_shadow_get(&m->shadow, pfn + i) != SIM_SHADOW_FREE)
			return false;
	return true;
}

/*
 * A put or free of a handle whose last reference is gone: a buggy caller's
 * double put. While its block is still free it reaches the allocator as the
 * caller made it, and mm/ must refuse it (an error) or stop (its misuse
 * check panics, as pKVM's hyp_page_ref_dec() does since "Report corrupted
 * refcount at EL2"): a count that wraps leaves a free block counted as
 * held. Once a page of it was handed out again, the put would drop another
 * owner's reference, which no allocator can tell from a legal put: refused
 * here, as are double puts inside a concurrent or committed run.
 */
static int double_put(struct sim_machine *m, const struct sim_op *op)
{
	const struct sim_handle *hd = sim_handles_released(&m->handles, op->h);
	int ret;

	if (!hd || m->outcome || m->conc_running || m->committing ||
	    !still_free(m, hd->pfn, hd->pages))
		return -HVMM_ENOENT;
	m->misuse = true;
	if (m->alloc.ops->put)
		ret = m->alloc.ops->put(&m->alloc, hd->pfn);
	else
		ret = m->alloc.ops->free(&m->alloc, hd->pfn, hd->pages);
	m->misuse = false;
	if (!ret)
		sim_report_violation(&m->report, SIM_ORACLE_ROBUST,
			"%s h%u: the allocator took a double put (pfn 0x%llx+%llu, free since h%u's "
			"last reference went): it must refuse it or stop, not count a free block again",
			sim_op_descs[op->kind].name, op->h, (unsigned long long)hd->pfn,
			(unsigned long long)hd->pages, op->h);
	return ret;
}

static int op_free(struct sim_machine *m, const struct sim_op *op)
{
	struct sim_handle *hd = live_handle(m, op->h);

	if (!hd)
		return double_put(m, op);
	if (hd->refs > 1)
		return -HVMM_EBUSY;
	return drop_ref(m, hd);
}

static int op_put(struct sim_machine *m, const struct sim_op *op)
{
	struct sim_handle *hd = live_handle(m, op->h);

	return hd ? drop_ref(m, hd) : double_put(m, op);
}

static int op_get(struct sim_machine *m, const struct sim_op *op)
{
	struct sim_handle *hd = live_handle(m, op->h);
	int ret;

	if (!hd)
		return -HVMM_ENOENT;
	if (hd->refs >= UINT16_MAX)
		return -HVMM_ERANGE;	/* the buddy's refcount is 16 bits */
	if (m->outcome)
		ret = m->outcome->result;
	else
		ret = m->alloc.ops->get ? m->alloc.ops->get(&m->alloc, hd->pfn) : 0;
	if (!ret)
		hd->refs++;
	return ret;
}

static int op_split(struct sim_machine *m, const struct sim_op *op)
{
	struct sim_handle *hd = live_handle(m, op->h);
	uint64_t nr, i;
	int ret;

	if (!hd)
		return -HVMM_ENOENT;
	nr = hd->pages;
	if (nr > 1 && ((uint64_t)op->h2 + nr - 1 > SIM_MAX_HANDLE))
		return -HVMM_EINVAL;
	for (i = 1; i < nr; i++) {
		ret = sim_machine_new_handle(m, op->h2 + (uint32_t)(i - 1));
		if (ret)
			return ret;
		if (op->h2 + i - 1 == op->h)
			return -HVMM_EEXIST;
	}
	hd = live_handle(m, op->h);	/* handle_slot() may have moved the table */
	/* Only allocators that made the block a power-of-two block split it themselves. */
	ret = m->alloc.ops->split ? m->alloc.ops->split(&m->alloc, hd->pfn,
							(unsigned int)__builtin_ctzll(nr)) : 0;
	if (ret)
		return ret;
	for (i = 1; i < nr; i++)
		m->handles.h[op->h2 + i - 1] = (struct sim_handle){
			.pfn = hd->pfn + i, .pages = 1, .live = 1, .refs = 1,
		};
	hd->pages = 1;
	sim_machine_check_touched(m, hd->pfn, nr);
	return 0;
}

/* --- dispatch ------------------------------------------------------------- */

/*
 * Every op but the allocator's, out of line so that the allocator ops'
 * inline path stays as short as it was. Any of these may make mm/
 * allocate from a pool of its own, outside the executor's.
 */
static __attribute__((noinline)) int dispatch_other(struct sim_machine *m, const struct sim_op *op,
						   uint64_t *value)
{
	if (hvmm_unlikely(__atomic_load_n(&m->pm.allocs_confined, __ATOMIC_RELAXED)))
		set_allocs_confined(m, false);
	if (sim_op_descs[op->kind].cls & SIM_OPC_BITMAP)
		return sim_machine_bitmap_op(m, op, value);
	if (sim_op_descs[op->kind].cls & SIM_OPC_HEAP)
		return sim_heap_exec(m->heap, op, value);
	if (sim_op_descs[op->kind].cls & SIM_OPC_MAPTAB) {
		if (!m->maptab)
			m->maptab = sim_maptab_create();
		return m->maptab ? sim_maptab_exec(m->maptab, m, op) : -HVMM_ENOMEM;
	}
	return sim_vm_exec(m->vms, op, value);
}

/* Inline in both callers: a call and its frame were ~17 instructions an op. */
static inline __attribute__((always_inline)) int dispatch(struct sim_machine *m,
							 const struct sim_op *op,
							 uint64_t *value)
{
	switch (op->kind) {
	case SIM_OP_ALLOC: return op_alloc(m, op);
	case SIM_OP_FREE: return op_free(m, op);
	case SIM_OP_GET: return op_get(m, op);
	case SIM_OP_PUT: return op_put(m, op);
	case SIM_OP_SPLIT: return op_split(m, op);
	default:
		return dispatch_other(m, op, value);
	}
}

/* Before mm/ runs the @index-th op: counted, and named for the reports. */
static inline void exec_begin(struct sim_machine *m, const struct sim_op *op, uint64_t index)
{
	m->stats.by_kind[op->kind]++;
	if (sim_machine_oracles_on(m) || m->report.stream)
		sim_report_set_op_deferred(&m->report, index, op);
}

/* mm/ panicked while running the @index-th op: the machine is dead. */
static __attribute__((noinline, cold)) int panicked(struct sim_machine *m, uint64_t index,
						    const struct sim_panic_catcher *catcher)
{
	m->dead = true;
	if (m->misuse) {
		/* mm/ stopped a caller's misuse, as it must: the run ends here. */
		m->misuse = false;
		if (m->report.stream)
			fprintf(m->report.stream, "STOPPED at op %llu (%s): mm/ refused a misuse "
				"by panicking at %s:%u: %s; no later op runs\n",
				(unsigned long long)index, sim_report_op_text(&m->report),
				catcher->panic.file, catcher->panic.line, catcher->panic.what);
		return -HVMM_EFAULT;
	}
	sim_report_violation(&m->report, SIM_ORACLE_ROBUST,
			     "mm/ panicked at %s:%u: %s",
			     catcher->panic.file, catcher->panic.line, catcher->panic.what);
	return -HVMM_EFAULT;
}

/* After the @index-th op returned @ret: counted, checked against its recorded outcome, judged. */
static inline int exec_end(struct sim_machine *m, const struct sim_op *op, uint64_t index,
			   int ret)
{
	if (ret)
		m->stats.failed_by_kind[op->kind]++;
	m->stats.failed_enomem += ret == -HVMM_ENOMEM;
	m->stats.failed_enotsup += ret == -HVMM_ENOTSUP;
	if ((op->flags & SIM_OP_F_EXPECT) && ret != op->expect) {
		m->stats.expect_mismatches++;
		/* An op this machine cannot run is listed once; the summary says why. */
		if (m->report.stream && (ret != -HVMM_ENOTSUP || m->stats.failed_enotsup == 1))
			fprintf(m->report.stream, "MISMATCH at op %llu (%s): returned %s, recorded %s\n",
				(unsigned long long)index, sim_report_op_text(&m->report), sim_result_name(ret),
				sim_result_name(op->expect));
	}
	if (sim_machine_oracles_on(m) && (m->cfg.oracles == SIM_ORACLES_FULL ||
			      (m->cfg.sweep_interval && m->stats.ops % m->cfg.sweep_interval == 0)))
		sim_machine_sweep(m);
	return ret;
}

/* Runs @op, the @index-th op of the run, and judges it. */
static int exec_at(struct sim_machine *m, const struct sim_op *op, uint64_t *value,
		   uint64_t index)
{
	struct sim_panic_catcher catcher;
	volatile int ret = -HVMM_EINVAL;

	if (m->dead)
		return -HVMM_EFAULT;
	if (op->kind >= SIM_OP__COUNT)
		return -HVMM_EINVAL;
	exec_begin(m, op, index);
	if (sigsetjmp(catcher.env, 0) == 0) {
		sim_panic_arm(&catcher);
		ret = dispatch(m, op, value);
		sim_panic_disarm();
	} else {
		return panicked(m, index, &catcher);
	}
	return exec_end(m, op, index, ret);
}

static int conc_queue(struct sim_machine *m, const struct sim_op *op, uint64_t index);

/* --- commit mode ------------------------------------------------------------ */

/* Ops whose whole effect is mm/'s one call, so that its outcome can stand in for it. */
static bool committable(unsigned int kind)
{
	switch (kind) {
	case SIM_OP_ALLOC:
	case SIM_OP_FREE:
	case SIM_OP_GET:
	case SIM_OP_PUT:
	case SIM_OP_HOST_DONATE_HYP:
	case SIM_OP_HYP_DONATE_HOST:
	case SIM_OP_HOST_DONATE_GUEST:
	case SIM_OP_HOST_SHARE_GUEST:
	case SIM_OP_HOST_UNSHARE_GUEST:
	case SIM_OP_GUEST_SHARE_HOST:
	case SIM_OP_GUEST_UNSHARE_HOST:
	case SIM_OP_S2_MAP:
	case SIM_OP_S2_UNMAP:
	case SIM_OP_S2_PROTECT:
	case SIM_OP_VM_PIN:
	case SIM_OP_VM_UNPIN:
	case SIM_OP_VM_DESTROY:
		return true;
	default:
		return false;
	}
}

void sim_machine_commit_begin(struct sim_machine *m)
{
	m->committing = true;
	if (m->vms)
		m->vms->conc_deferred = true;
}

int sim_machine_commit(struct sim_machine *m, const struct sim_op *op, int result,
		       uint64_t value)
{
	struct sim_outcome o = { .result = result, .value = value };
	int ret;

	if (op->kind >= SIM_OP__COUNT || !committable(op->kind) || !m->committing)
		return -HVMM_ENOTSUP;
	m->outcome = &o;
	if (m->vms)
		m->vms->outcome = &o;
	ret = exec_at(m, op, NULL, m->stats.ops++);
	m->outcome = NULL;
	if (m->vms)
		m->vms->outcome = NULL;
	return ret;
}

void sim_machine_commit_end(struct sim_machine *m)
{
	m->committing = false;
	if (m->vms)
		m->vms->conc_deferred = false;
	if (sim_machine_oracles_on(m))
		sim_machine_sweep(m);
}

int sim_machine_exec(struct sim_machine *m, const struct sim_op *op, uint64_t *value)
{
	uint64_t index = m->stats.ops++;

	if (op->kind == SIM_OP_SCHED || conc_queued(m)) {
		if (m->dead)
			return -HVMM_EFAULT;
		if (op->kind >= SIM_OP__COUNT)
			return -HVMM_EINVAL;
		return conc_queue(m, op, index);
	}
	return exec_at(m, op, value, index);
}

/*
 * sim_machine_exec_many()'s ops under its catcher: the same steps as
 * exec_at() without a sigsetjmp() each. *@at is the op running (read
 * after a panic). An op for the concurrent machinery (a schedule, or any
 * op once a concurrent block is queued) goes through sim_machine_exec()
 * with the catcher put aside, as it arms its own.
 */
static __attribute__((noinline)) size_t exec_many(struct sim_machine *m, const struct sim_op *ops,
						  size_t n, int *results,
						  struct sim_panic_catcher *catcher,
						  volatile size_t *at)
{
	for (size_t i = 0; i < n; i++) {
		const struct sim_op *op = &ops[i];
		uint64_t index;

		*at = i;
		if (m->dead)
			return i;
		if (op->kind == SIM_OP_SCHED || conc_queued(m) || op->kind >= SIM_OP__COUNT) {
			sim_panic_disarm();
			results[i] = sim_machine_exec(m, op, NULL);
			sim_panic_arm(catcher);
			continue;
		}
		index = m->stats.ops++;
		exec_begin(m, op, index);
		results[i] = exec_end(m, op, index, dispatch(m, op, NULL));
	}
	return n;
}

size_t sim_machine_exec_many(struct sim_machine *m, const struct sim_op *ops, size_t n,
			     int *results)
{
	struct sim_panic_catcher catcher;
	volatile size_t at = 0;
	size_t ran;

	if (sigsetjmp(catcher.env, 0)) {
		/* exec_many() stored where it was before mm/ ran. */
		results[at] = panicked(m, m->stats.ops - 1, &catcher);
		return at + 1;
	}
	sim_panic_arm(&catcher);
	ran = exec_many(m, ops, n, results, &catcher, &at);
	sim_panic_disarm();
	return ran;
}

double sim_machine_fragmentation(const struct sim_machine *m)
{
	uint64_t largest = 0;

	if (!m->shadow.nr_free)
		return 0.0;
	for (unsigned int o = 0; o <= 63 && (1ULL << o) <= m->shadow.nr_free; o++) {
		if (sim_alloc_shadow_find_free(&m->shadow, 1ULL << o, 1ULL << o, 0) == UINT64_MAX)
			break;
		largest = 1ULL << o;
	}
	return 1.0 - (double)largest / (double)m->shadow.nr_free;
}

/* --- concurrent blocks (machine_conc.h) ------------------------------------- */

struct conc_op {
	struct sim_op op;
	uint64_t index;
};

struct conc_prog {
	struct conc_op *ops;
	size_t n, cap;
};

/*
 * A block's use of one handle (or of the mapping table) by one vCPU, or by
 * all of them together (vcpu CONC_USE_ALL): see conc_claim.
 */
#define CONC_USE_ALL		0x1fffu
#define CONC_USE_MAPTAB		SIM_MAX_HANDLE	/* the table, named as one more handle */
struct conc_use {
	uint64_t key;		/* 0: empty slot; else 1 + (h << 13 | vcpu) */
	int64_t bal;		/* one vCPU: its gets minus its puts so far */
	uint64_t need;		/* references it must own at the start; all: their sum */
	uint64_t pages;		/* one vCPU: pages of h's block as its ops left it */
	uint32_t nr_vcpus;	/* all: vCPUs that name it */
	bool excl;		/* an op that creates, ends or splits it (or maptab_init) */
	bool pages_known;
};

#define CONC_MAX_STEP_CHECKS	4
/* A block running longer than this is livelocked (a spin that never ends). */
#define CONC_STEP_LIMIT		(50ULL * 1000 * 1000)

#define CONC_NOBODY	(-1)
#define CONC_SEVERAL	(-2)

struct conc {
	bool queued;
	unsigned int cur;		/* CPU the next queued op goes to */
	unsigned int nr;		/* CPUs named so far (highest + 1) */
	struct conc_prog *prog;		/* SIM_CONC_MAX_VCPUS, allocated as named */
	unsigned int prog_cap;
	uint16_t *schedule;		/* the written schedule, expanded */
	size_t nr_sched, cap_sched;
	const struct sim_sched_chooser *override;
	struct sim_sched *sched;
	/* While a block runs. */
	struct sim_machine *m;
	unsigned int in_op;		/* vCPUs inside an op */
	bool overlapped;		/* two ops were inside at once since the last quiet point */
	const struct conc_op **cur_op;	/* per vCPU */
	uint64_t violations_before;
	struct sim_conc_hist *hist;
	size_t nr_hist, cap_hist;
	uint64_t steps;
	unsigned int ran_vcpus;
	struct {
		sim_sched_step_fn fn;
		void *ctx;
	} checks[CONC_MAX_STEP_CHECKS];
	unsigned int nr_checks;
	/*
	 * Linearized block (VM ops only): vCPUs run mm/'s calls alone, and the
	 * executor's bookkeeping follows once the history is linearized.
	 */
	bool linearize;
	struct raw_handle {
		uint32_t h;
		uint64_t pfn, pages;
		uint32_t refs;		/* 0: not live */
	} *raw;				/* the block's handles, as its mm/ calls left them */
	size_t nr_raw, cap_raw;
	uint64_t lin_nodes;
	int lin_verdict;		/* enum sim_lin_verdict of the last block, -1: none */
	/*
	 * Which CPUs of the queued block destroy each VM, and which name it
	 * in other ops than vm_pin/vm_unpin (conc_claim_vm): CONC_NOBODY,
	 * a CPU, or CONC_SEVERAL.
	 */
	struct conc_vmuse {
		int32_t destroyer, user;
	} vmuse[SIM_MAX_VM + 1];
	/* What the queued ops do with each handle and table (conc_claim). */
	struct conc_use *use;		/* open addressing, cap_use a power of two */
	size_t nr_use, cap_use;
	uint32_t max_h;			/* highest handle the block can name */
	/* How the written schedule fit the last block's run (sim_machine_conc_schedule_fit). */
	size_t fit_written, fit_used;
	uint64_t fit_mismatches;
	bool fit_done;
};

static struct conc *conc_get(struct sim_machine *m)
{
	if (!m->conc) {
		m->conc = calloc(1, sizeof(*m->conc));
		if (m->conc)
			m->conc->sched = sim_sched_create();
		for (unsigned int v = 0; m->conc && v <= SIM_MAX_VM; v++)
			m->conc->vmuse[v] = (struct conc_vmuse){ CONC_NOBODY, CONC_NOBODY };
		if (m->conc && !m->conc->sched) {
			free(m->conc);
			m->conc = NULL;
		}
	}
	return m->conc;
}

/*
 * Legal concurrent use of handles. A handle is the caller's reference to a
 * block: a correct caller never frees, splits or allocates into a block
 * another CPU is using, and takes or drops a reference only with one it
 * holds. A block that raced those would test the executor's bookkeeping
 * (which checks a handle, then calls mm/, then records the result, with
 * other vCPUs running in between) and hand mm/ a double free or a get on a
 * freed page that no sequential run lets through, not mm/. So a handle
 * named by two or more vCPUs of a block may only be taken and dropped
 * (get, put), and its references at the start of the block must cover
 * each vCPU's own: the most it drops beyond what it took before, plus one
 * for a get. The mapping table is one more such object: maptab_init makes
 * it anew, so it may not race set_entry. An op that would break the rule
 * is refused as it is queued (EBUSY, counted; the rest of the block runs),
 * the same for every schedule.
 */
static void conc_use_clear(struct conc *c)
{
	if (c->use)
		memset(c->use, 0, c->cap_use * sizeof(*c->use));
	c->nr_use = 0;
	c->max_h = 0;
	for (unsigned int v = 0; v <= SIM_MAX_VM; v++)
		c->vmuse[v] = (struct conc_vmuse){ CONC_NOBODY, CONC_NOBODY };
}

/*
 * A VM that a CPU of the block destroys may be named by other CPUs only
 * in vm_pin, vm_unpin and vm_destroy: those find it by VMID under mm/'s
 * table lock (or refuse it), where a map, a share or a fault uses the
 * VM's own pointer, which a correct host holds only while the VM is its
 * own or pinned, never across another CPU's destroy of it. 0 if @op of
 * @vcpu keeps to that (and is now counted), else -EBUSY.
 */
static int conc_claim_vm(struct conc *c, const struct sim_op *op, unsigned int vcpu)
{
	struct conc_vmuse next;
	int32_t *who;

	if (!op->vm || op->vm > SIM_MAX_VM || op->kind == SIM_OP_VM_PIN ||
	    op->kind == SIM_OP_VM_UNPIN)
		return 0;
	next = c->vmuse[op->vm];
	who = op->kind == SIM_OP_VM_DESTROY ? &next.destroyer : &next.user;
	if (*who == CONC_NOBODY)
		*who = (int32_t)vcpu;
	else if (*who != (int32_t)vcpu)
		*who = CONC_SEVERAL;
	if (next.destroyer != CONC_NOBODY && next.user != CONC_NOBODY &&
	    (next.destroyer != next.user || next.destroyer == CONC_SEVERAL))
		return -HVMM_EBUSY;
	c->vmuse[op->vm] = next;
	return 0;
}

static uint64_t conc_use_key(uint32_t h, unsigned int vcpu)
{
	return 1 + ((uint64_t)h << 13 | vcpu);
}

static struct conc_use *conc_use_slot(struct conc_use *t, size_t cap, uint64_t key)
{
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 17) & (cap - 1);

	while (t[i].key && t[i].key != key)
		i = (i + 1) & (cap - 1);
	return &t[i];
}

/* Room for @more entries without moving the table (pointers into it stay valid). */
static bool conc_use_reserve(struct conc *c, uint64_t more)
{
	size_t cap = c->cap_use ? c->cap_use : 64;
	struct conc_use *t;

	while ((c->nr_use + more) * 2 > cap)
		cap *= 2;
	if (cap == c->cap_use)
		return true;
	t = calloc(cap, sizeof(*t));
	if (!t)
		return false;
	for (size_t i = 0; i < c->cap_use; i++)
		if (c->use[i].key)
			*conc_use_slot(t, cap, c->use[i].key) = c->use[i];
	free(c->use);
	c->use = t;
	c->cap_use = cap;
	return true;
}

/* The entry for @h and @vcpu, an empty one (key 0) if none; after conc_use_reserve. */
static struct conc_use *conc_use_get(struct conc *c, uint32_t h, unsigned int vcpu)
{
	return conc_use_slot(c->use, c->cap_use, conc_use_key(h, vcpu));
}

/* @vcpu's next op on @h, applied to copies of its entry and the all-vCPUs one. */
struct conc_claim {
	uint32_t h;
	struct conc_use one, all;
};

static bool conc_claim_one(struct conc *c, struct sim_machine *m, struct conc_claim *cl,
			   uint32_t h, unsigned int vcpu, unsigned int kind)
{
	struct conc_use *one = conc_use_get(c, h, vcpu), *all = conc_use_get(c, h, CONC_USE_ALL);
	uint32_t refs = 0;

	cl->h = h;
	cl->one = one->key ? *one : (struct conc_use){ .key = conc_use_key(h, vcpu) };
	cl->all = all->key ? *all : (struct conc_use){ .key = conc_use_key(h, CONC_USE_ALL) };
	if (!one->key)
		cl->all.nr_vcpus++;
	if (kind == SIM_OP_GET || kind == SIM_OP_PUT) {
		uint64_t need = cl->one.bal < 1 ? (uint64_t)(1 - cl->one.bal) : 0;

		if (need > cl->one.need) {
			cl->all.need += need - cl->one.need;
			cl->one.need = need;
		}
		cl->one.bal += kind == SIM_OP_GET ? 1 : -1;
	} else if (kind != SIM_OP_SET_ENTRY) {
		cl->one.excl = cl->all.excl = true;
	}
	if (cl->all.nr_vcpus <= 1)
		return true;
	if (cl->all.excl)
		return false;
	if (h == CONC_USE_MAPTAB)
		return true;
	sim_machine_handle(m, h, NULL, NULL, &refs);
	return cl->all.need <= refs;
}

static void conc_claim_commit(struct conc *c, const struct conc_claim *cl, unsigned int vcpu)
{
	struct conc_use *one = conc_use_get(c, cl->h, vcpu);

	if (!one->key)
		c->nr_use++;
	*one = cl->one;
	one = conc_use_get(c, cl->h, CONC_USE_ALL);
	if (!one->key)
		c->nr_use++;
	*one = cl->all;
	if (cl->h != CONC_USE_MAPTAB && cl->h > c->max_h)
		c->max_h = cl->h;
}

/* The pages of @h's block when @vcpu's next op runs (it alone names h). */
static uint64_t conc_use_pages(struct conc *c, struct sim_machine *m, uint32_t h,
			       unsigned int vcpu)
{
	struct conc_use *one = conc_use_get(c, h, vcpu);
	uint64_t pages = 0;

	if (one->key && one->pages_known)
		return one->pages;
	sim_machine_handle(m, h, NULL, &pages, NULL);
	return pages;
}

/* 0 if @op of @vcpu is legal beside the ops queued so far (and now counted), else -EBUSY. */
static int conc_claim(struct conc *c, struct sim_machine *m, const struct sim_op *op,
		      unsigned int vcpu)
{
	struct conc_claim *cl;
	uint64_t pages = 0, n = 0;
	int ret = 0;

	switch (op->kind) {
	case SIM_OP_ALLOC:
	case SIM_OP_FREE:
	case SIM_OP_GET:
	case SIM_OP_PUT:
	case SIM_OP_SPLIT:
		if (op->h >= SIM_MAX_HANDLE)
			return 0;	/* the op itself refuses it */
		break;
	default:
		if (sim_op_descs[op->kind].cls & SIM_OPC_VM) {
			ret = conc_claim_vm(c, op, vcpu);
			m->stats.conc_refused += ret != 0;
			return ret;
		}
		if (!(sim_op_descs[op->kind].cls & SIM_OPC_MAPTAB))
			return 0;
		break;
	}
	if (!conc_use_reserve(c, 2))
		return -HVMM_ENOMEM;
	if (op->kind == SIM_OP_SPLIT) {
		pages = conc_use_pages(c, m, op->h, vcpu);
		/* The handles a split makes, if it can make them (else it fails). */
		if (pages > 1 && (uint64_t)op->h2 + pages - 1 <= SIM_MAX_HANDLE)
			n = pages - 1;
	}
	cl = calloc(n + 1, sizeof(*cl));
	if (!cl || !conc_use_reserve(c, 2 * (n + 1))) {
		free(cl);
		return -HVMM_ENOMEM;
	}
	for (uint64_t i = 0; i <= n && !ret; i++) {
		uint32_t h = i ? op->h2 + (uint32_t)(i - 1) : op->h;

		if (sim_op_descs[op->kind].cls & SIM_OPC_MAPTAB)
			h = CONC_USE_MAPTAB;
		if (!conc_claim_one(c, m, &cl[i], h, vcpu, i ? SIM_OP_ALLOC : op->kind))
			ret = -HVMM_EBUSY;
		/* What the op leaves: a block of its order, or single pages after a split. */
		if (i || (op->kind == SIM_OP_SPLIT && pages)) {
			cl[i].one.pages = 1;
			cl[i].one.pages_known = true;
		} else if (op->kind == SIM_OP_ALLOC) {
			cl[i].one.pages = 1ULL << (op->a < m->alloc.max_order ? op->a : m->alloc.max_order);
			cl[i].one.pages_known = true;
		}
	}
	/* A split whose new handles include its own is refused by the op (EEXIST): alike. */
	for (uint64_t i = 0; i <= n && !ret; i++)
		conc_claim_commit(c, &cl[i], vcpu);
	free(cl);
	m->stats.conc_refused += ret != 0;
	return ret;
}

/* Forgets the queued block (a reset machine starts sequential). */
static void conc_forget(struct sim_machine *m)
{
	struct conc *c = m->conc;

	if (!c)
		return;
	for (unsigned int i = 0; i < c->prog_cap; i++)
		c->prog[i].n = 0;
	c->queued = false;
	c->cur = 0;
	c->nr = 0;
	c->nr_sched = 0;
	c->nr_checks = 0;
	conc_use_clear(c);
}

static void conc_free(struct sim_machine *m)
{
	struct conc *c = m->conc;

	if (!c)
		return;
	for (unsigned int i = 0; i < c->prog_cap; i++)
		free(c->prog[i].ops);
	free(c->prog);
	free(c->schedule);
	free(c->cur_op);
	free(c->hist);
	free(c->raw);
	free(c->use);
	sim_sched_destroy(c->sched);
	free(c);
	m->conc = NULL;
}

static bool conc_queued(const struct sim_machine *m)
{
	return m->conc && m->conc->queued;
}

bool sim_machine_conc_queued(const struct sim_machine *m)
{
	return conc_queued(m);
}

void sim_machine_conc_set_chooser(struct sim_machine *m, const struct sim_sched_chooser *c)
{
	struct conc *cc = conc_get(m);

	if (cc)
		cc->override = c;
}

bool sim_machine_conc_add_step_check(struct sim_machine *m, sim_sched_step_fn fn, void *ctx)
{
	struct conc *c = conc_get(m);

	if (!c || c->nr_checks == CONC_MAX_STEP_CHECKS)
		return false;
	for (unsigned int i = 0; i < c->nr_checks; i++)
		if (c->checks[i].fn == fn && c->checks[i].ctx == ctx)
			return true;
	c->checks[c->nr_checks].fn = fn;
	c->checks[c->nr_checks++].ctx = ctx;
	return true;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	q = realloc(*p, n * elem);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

static int conc_prog_for(struct conc *c, unsigned int cpu)
{
	if (cpu >= SIM_CONC_MAX_VCPUS)
		return -HVMM_EINVAL;
	if (cpu >= c->prog_cap) {
		unsigned int cap = c->prog_cap ? c->prog_cap : 4;
		struct conc_prog *p;

		while (cap <= cpu)
			cap *= 2;
		p = realloc(c->prog, cap * sizeof(*p));
		if (!p)
			return -HVMM_ENOMEM;
		memset(p + c->prog_cap, 0, (cap - c->prog_cap) * sizeof(*p));
		c->prog = p;
		c->prog_cap = cap;
	}
	if (cpu >= c->nr)
		c->nr = cpu + 1;
	return 0;
}

static int conc_queue(struct sim_machine *m, const struct sim_op *op, uint64_t index)
{
	struct conc *c = conc_get(m);
	struct conc_prog *p;
	int ret;

	if (!c)
		return -HVMM_ENOMEM;
	if (op->kind == SIM_OP_SCHED) {
		m->stats.by_kind[op->kind]++;
		ret = conc_prog_for(c, op->vcpu);
		if (ret)
			return ret;
		c->queued = true;
		if (!op->a) {
			c->cur = op->vcpu;
			return 0;
		}
		if (op->a > (1u << 20) || !grow((void **)&c->schedule, &c->cap_sched,
						 c->nr_sched + op->a, sizeof(*c->schedule)))
			return -HVMM_EINVAL;
		for (uint64_t i = 0; i < op->a; i++)
			c->schedule[c->nr_sched++] = (uint16_t)op->vcpu;
		return 0;
	}
	ret = conc_prog_for(c, c->cur);
	if (!ret)
		ret = conc_claim(c, m, op, c->cur);
	if (ret)
		return ret;
	p = &c->prog[c->cur];
	if (!grow((void **)&p->ops, &p->cap, p->n + 1, sizeof(*p->ops)))
		return -HVMM_ENOMEM;
	p->ops[p->n++] = (struct conc_op){ .op = *op, .index = index };
	return 0;
}

static void conc_record(struct conc *c, enum sim_conc_hist_kind kind, unsigned int vcpu,
			const struct conc_op *co, int result, uint64_t value)
{
	if (!grow((void **)&c->hist, &c->cap_hist, c->nr_hist + 1, sizeof(*c->hist)))
		return;
	c->hist[c->nr_hist++] = (struct sim_conc_hist){
		.kind = (uint8_t)kind, .vcpu = (uint16_t)vcpu, .result = result,
		.op_index = co->index, .op = &co->op, .value = value,
		.step = sim_sched_steps(c->sched),
	};
}

/* Violations found so far stop the block: mm/ is then left mid-op. */
static bool conc_violated(struct conc *c)
{
	return c->m->report.total != c->violations_before || c->m->dead;
}

/* The block's view of handle @h: its own ops' effects over the executor's table. */
static struct raw_handle *raw_handle(struct conc *c, uint32_t h)
{
	struct raw_handle *r;
	uint32_t refs = 0;

	for (size_t i = 0; i < c->nr_raw; i++)
		if (c->raw[i].h == h)
			return &c->raw[i];
	if (!grow((void **)&c->raw, &c->cap_raw, c->nr_raw + 1, sizeof(*c->raw)))
		return NULL;
	r = &c->raw[c->nr_raw++];
	*r = (struct raw_handle){ .h = h };
	if (sim_machine_handle(c->m, h, &r->pfn, &r->pages, &refs))
		r->refs = refs;
	return r;
}

/* The allocator's own call for an allocator op, as the executor would make it. */
static int raw_alloc_call(struct conc *c, const struct sim_op *op, uint64_t *value)
{
	struct sim_allocator *a = &c->m->alloc;
	struct raw_handle *r = raw_handle(c, op->h);
	size_t ri;
	int ret;

	if (!r || op->h >= SIM_MAX_HANDLE)
		return -HVMM_EINVAL;
	/*
	 * Other vCPUs run inside the allocator call and may grow c->raw: the
	 * entry is named by its index across it, never by a pointer.
	 */
	ri = (size_t)(r - c->raw);
	switch (op->kind) {
	case SIM_OP_ALLOC:
		if (r->refs)
			return -HVMM_EEXIST;
		if (op->a > 63)
			return -HVMM_EINVAL;
		ret = a->ops->alloc(a, (unsigned int)op->a, value);
		if (!ret)
			c->raw[ri] = (struct raw_handle){ .h = op->h, .pfn = *value,
							  .pages = 1ULL << op->a, .refs = 1 };
		return ret;
	case SIM_OP_GET:
		if (!r->refs)
			return -HVMM_ENOENT;
		if (r->refs >= UINT16_MAX)
			return -HVMM_ERANGE;
		ret = a->ops->get ? a->ops->get(a, r->pfn) : 0;
		c->raw[ri].refs += !ret;
		return ret;
	default:
		if (!r->refs)
			return -HVMM_ENOENT;
		if (op->kind == SIM_OP_FREE && r->refs > 1)
			return -HVMM_EBUSY;
		/*
		 * The caller's reference is spent as the call starts, not when
		 * it returns: another vCPU dropping the same handle's last
		 * reference meanwhile finds none (ENOENT, as in a sequential
		 * run), instead of calling mm/ a second time for it.
		 */
		c->raw[ri].refs--;
		if (a->ops->put)
			ret = a->ops->put(a, r->pfn);
		else
			ret = c->raw[ri].refs ? 0 : a->ops->free(a, r->pfn, r->pages);
		c->raw[ri].refs += !!ret;
		return ret;
	}
}

static int raw_exec(struct conc *c, const struct conc_op *co, uint64_t *value)
{
	struct sim_machine *m = c->m;
	struct sim_panic_catcher catcher;
	volatile int ret = -HVMM_EINVAL;

	if (m->dead)
		return -HVMM_EFAULT;
	sim_report_set_op_deferred(&m->report, co->index, &co->op);
	if (sigsetjmp(catcher.env, 0) == 0) {
		sim_panic_arm(&catcher);
		if (sim_op_descs[co->op.kind].cls & SIM_OPC_ALLOC)
			ret = raw_alloc_call(c, &co->op, value);
		else
			ret = sim_vm_call(m->vms, &co->op);
		sim_panic_disarm();
	} else {
		m->dead = true;
		sim_report_violation(&m->report, SIM_ORACLE_ROBUST, "mm/ panicked at %s:%u: %s",
				     catcher.panic.file, catcher.panic.line, catcher.panic.what);
		return -HVMM_EFAULT;
	}
	return ret;
}

/*
 * Whether the op a vCPU is starting runs alone. An op that starts while no
 * other is inside one is judged as a sequential op is, by the per-op
 * checks as it goes, for as long as it stays alone: the state they see is
 * its own. The first op to start beside it defers every check to the next
 * quiet point, where a full sweep judges what the overlapping ops left
 * (the checks of the hypervisor's pools and of break-before-make
 * obligations wait for the block's end in either case).
 */
static void conc_set_alone(struct conc *c, bool alone)
{
	struct sim_machine *m = c->m;

	if (c->linearize)
		return;		/* checks follow the linearized history */
	m->conc_alone = alone;
	if (m->vms)
		m->vms->conc_deferred = !alone;
}

static void conc_body(void *arg, unsigned int vcpu)
{
	struct conc *c = arg;
	struct sim_machine *m = c->m;
	struct conc_prog *p = &c->prog[vcpu];

	for (size_t i = 0; i < p->n; i++) {
		const struct conc_op *co = &p->ops[i];
		uint64_t value = 0;
		int ret;

		c->cur_op[vcpu] = co;
		conc_record(c, SIM_CONC_INVOKE, vcpu, co, 0, 0);
		c->in_op++;
		c->overlapped |= c->in_op > 1;
		conc_set_alone(c, c->in_op == 1);
		sim_event_begin();
		if (c->linearize)
			ret = raw_exec(c, co, &value);
		else
			ret = exec_at(m, &co->op, &value, co->index);
		sim_sched_complete_step(c->sched);
		sim_event_end();
		c->in_op--;
		if (!c->in_op)
			conc_set_alone(c, false);
		c->cur_op[vcpu] = NULL;
		conc_record(c, SIM_CONC_RETURN, vcpu, co, ret, value);
		if (conc_violated(c)) {
			sim_sched_stop(c->sched);
			return;
		}
		/*
		 * Nobody inside an op: the state oracles judge what overlapping
		 * ops left as between sequential ops (an op that ran alone was
		 * judged as it went).
		 */
		if (!c->in_op && c->overlapped && sim_machine_oracles_on(m) && !c->linearize) {
			c->overlapped = false;
			sim_machine_sweep(m);
			if (conc_violated(c)) {
				sim_sched_stop(c->sched);
				return;
			}
		}
	}
}

static void conc_step(void *ctx, struct sim_sched *s, unsigned int vcpu)
{
	struct conc *c = ctx;
	const struct conc_op *co = c->cur_op[vcpu];

	if (co)
		sim_report_set_op_deferred(&c->m->report, co->index, &co->op);
	for (unsigned int i = 0; i < c->nr_checks; i++)
		c->checks[i].fn(c->checks[i].ctx, s, vcpu);
	if (conc_violated(c))
		sim_sched_stop(s);
}

static void conc_report_end(struct conc *c, int status)
{
	struct sim_machine *m = c->m;
	char who[128];
	size_t n = 0;

	if (status == SIM_SCHED_DONE || status == SIM_SCHED_STOPPED)
		return;
	who[0] = '\0';
	for (unsigned int i = 0; i < c->nr && n < sizeof(who) - 16; i++)
		if (c->cur_op[i])
			n += (size_t)snprintf(who + n, sizeof(who) - n, " %u", i);
	sim_report_set_op(&m->report, m->stats.ops, "");
	sim_report_violation(&m->report, SIM_ORACLE_CONC, "%s: vCPUs%s stuck inside an op after %llu steps",
			     status == SIM_SCHED_DEADLOCK ? "deadlock" : "livelock (step limit)",
			     who[0] ? who : " (none)",
			     (unsigned long long)sim_sched_steps(c->sched));
}

/*
 * A racing mm/ may follow a pointer another vCPU left half-written: the
 * fault is mm/'s, reported as a panic of the vCPU that took it (ROBUST),
 * not a crash of the simulator. SA_NODEFER: the jump leaves the handler
 * without unblocking the signal.
 */
static void conc_fault(int sig, siginfo_t *si, void *uc)
{
	struct sim_panic_catcher *c = sim_panic_catcher;

	(void)si;
	(void)uc;
	if (!c) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	sim_panic_catcher = NULL;
	c->panic = (struct sim_panic){ .file = "mm/", .line = 0,
				       .what = "memory fault inside mm/ (SIGSEGV or SIGBUS)" };
	siglongjmp(c->env, 1);
}

/*
 * Blocks of VM and allocator ops are judged by linearizability: the
 * executor's models (SPEC, the ideal machine, the shadows, the handle
 * table) take each op's effect at once,
 * after mm/'s call, and under preemption the order in which ops finish is
 * not the order in which they took effect. So their vCPUs run mm/'s calls
 * alone, and once the block is done the history must have an order,
 * consistent with real time, in which SPEC gives every op the result it
 * had and after which SPEC holds the guest pages the ops named as the
 * independent walker reads them from the tables (oracle/linearize.h: two
 * protects of one page succeed in either order, and only the tables say
 * which came last); that order is committed to the executor, whose sweep
 * then compares mm/'s state with the models.
 */
static bool conc_linearizable(struct conc *c, struct sim_machine *m)
{
	size_t n = 0;

	for (unsigned int i = 0; i < c->nr; i++)
		for (size_t j = 0; j < c->prog[i].n; j++) {
			unsigned int kind = c->prog[i].ops[j].op.kind;

			if (!committable(kind))
				return false;
			if ((sim_op_descs[kind].cls & SIM_OPC_VM) && (!m->vms || !m->vms->enabled))
				return false;
			n++;
		}
	return n && n <= SIM_LIN_MAX_OPS;
}

/*
 * SPEC predicts a VM op's result from the model as the op starts and
 * judges it as it ends: with another op of the block in between, the
 * prediction is made against a state that is not the one the op ran on.
 * Blocks linearizability judges do not need it; any other block with an
 * op SPEC judges (a fault, a load or store, VM ops beside set_entry) runs
 * its ops one after another, so that every op's start and end are
 * boundaries again.
 */
static bool conc_needs_serial(struct conc *c)
{
	if (c->linearize)
		return false;
	for (unsigned int i = 0; i < c->nr; i++)
		for (size_t j = 0; j < c->prog[i].n; j++)
			if (sim_op_descs[c->prog[i].ops[j].op.kind].cls & SIM_OPC_VM)
				return true;
	return false;
}

static bool lin_handle(void *ctx, uint32_t h, struct sim_lin_handle *out)
{
	return sim_machine_handle(ctx, h, &out->pfn, &out->pages, &out->refs);
}

static void conc_linearize(struct conc *c, struct sim_machine *m)
{
	struct sim_lin_refs refs = {
		.spec = m->vms && m->vms->enabled ? &m->vms->spec : NULL, .shadow = &m->shadow,
		.alloc_max_order = m->alloc.max_order, .handle = lin_handle, .handle_ctx = m,
		.walk = m->vms && m->vms->enabled ? sim_vm_lin_leaf : NULL, .walk_ctx = m->vms,
	};
	struct sim_lin_event *h = calloc(c->nr_hist / 2 + 1, sizeof(*h));
	struct sim_lin_result *res = malloc(sizeof(*res));
	size_t *slot = calloc(c->nr + 1, sizeof(*slot)), n = 0;
	uint64_t *index = calloc(c->nr_hist / 2 + 1, sizeof(*index));
	enum sim_lin_verdict v;

	if (!h || !res || !slot || !index) {
		free(h);
		free(res);
		free(slot);
		free(index);
		return;
	}
	/* INVOKE/RETURN entries: an op's call and ret are its two positions in the log. */
	for (size_t i = 0; i < c->nr_hist; i++) {
		const struct sim_conc_hist *e = &c->hist[i];

		if (e->kind == SIM_CONC_INVOKE) {
			slot[e->vcpu] = n;
			index[n] = e->op_index;
			h[n++] = (struct sim_lin_event){ .op = *e->op, .vcpu = e->vcpu, .call = i };
		} else {
			h[slot[e->vcpu]].ret = i;
			h[slot[e->vcpu]].result = e->result;
			h[slot[e->vcpu]].value = e->value;
		}
	}
	v = sim_lin_check(&refs, h, n, 1000000, res);
	c->lin_verdict = v;
	c->lin_nodes = res->nodes;
	if (v == SIM_LIN_OK || v == SIM_LIN_STATE) {
		uint64_t before = m->report.total;

		sim_machine_commit_begin(m);
		for (size_t k = 0; k < res->n; k++) {
			const struct sim_lin_event *e = &h[res->order[k]];
			int ret = sim_machine_commit(m, &e->op, e->result, e->value);

			if (ret != e->result)
				sim_report_violation(&m->report, SIM_ORACLE_CONC,
					"committed in linearization order, the op returned %s; it returned "
					"%s when it ran", sim_result_name(ret), sim_result_name(e->result));
		}
		/* STATE: the sweep names the pages that differ; CONC if it does not. */
		sim_machine_commit_end(m);
		if (v == SIM_LIN_STATE && m->report.total == before) {
			sim_report_set_op(&m->report, m->stats.ops, "");
			sim_lin_report_state(&m->report, res, n);
		}
	} else if (v == SIM_LIN_VIOLATION) {
		size_t stuck = res->stuck < n ? res->stuck : 0;
		const struct sim_lin_event *e = &h[stuck];

		/* Blamed on the op no order could place, at its place in the trace. */
		sim_report_set_op_deferred(&m->report, index[stuck], &e->op);
		sim_report_violation(&m->report, SIM_ORACLE_CONC,
			"the block's %zu ops have no order consistent with real time in which SPEC "
			"gives each its result: after %zu ops in order, this one (vCPU %u) returned %s, "
			"which no next place allows", n, res->longest, e->vcpu,
			sim_result_name(e->result));
		m->dead = true;
	} else {
		/* Undecided: nothing after the block can be judged against the models. */
		sim_report_set_op(&m->report, m->stats.ops, "");
		sim_report_violation(&m->report, SIM_ORACLE_CONC,
			"linearizability %s after %llu nodes (%zu ops)", sim_lin_verdict_name(v),
			(unsigned long long)res->nodes, n);
		m->dead = true;
	}
	free(h);
	free(res);
	free(slot);
	free(index);
}

int sim_machine_conc_run(struct sim_machine *m)
{
	struct sigaction sa = { .sa_sigaction = conc_fault, .sa_flags = SA_SIGINFO | SA_NODEFER };
	struct sigaction old_segv, old_bus;
	struct conc *c = m->conc;
	struct sim_sched_prng prng;
	struct sim_sched_replay replay;
	struct sim_sched_chooser fallback, chooser;
	int status;

	if (!c || !c->queued || m->dead)
		return SIM_SCHED_DONE;
	c->queued = false;
	if (!grow((void **)&c->cur_op, &(size_t){ 0 }, c->nr, sizeof(*c->cur_op)) ||
	    sim_sched_reset(c->sched, c->nr)) {
		m->dead = true;
		return SIM_SCHED_DEADLOCK;
	}
	memset(c->cur_op, 0, c->nr * sizeof(*c->cur_op));
	/*
	 * The handle table may not move while a block runs: an op holds a
	 * pointer into it across its mm/ call, where others run. conc_claim
	 * saw every handle the block can name, a split's new ones included.
	 */
	handle_slot(m, c->max_h);
	for (unsigned int i = 0; i < c->nr; i++)
		if (c->prog[i].n)
			sim_sched_spawn(c->sched, i, conc_body, c);
	c->linearize = conc_linearizable(c, m);
	if (c->linearize && m->vms)
		sim_vm_raw_begin(m->vms);
	c->lin_verdict = -1;
	c->nr_raw = 0;
	sim_sched_prng_init(&prng, &fallback, m->cfg.seed);
	sim_sched_replay_init(&replay, &chooser, c->schedule, c->nr_sched, &fallback);
	if (conc_needs_serial(c))
		sim_sched_set_chooser(c->sched, &sim_sched_first);
	else
		sim_sched_set_chooser(c->sched, c->override ? c->override : &chooser);
	sim_sched_set_step_hook(c->sched, conc_step, c);
	sim_sched_set_step_limit(c->sched, CONC_STEP_LIMIT);
	c->m = m;
	c->in_op = 0;
	c->overlapped = false;
	c->nr_hist = 0;
	c->violations_before = m->report.total;
	c->ran_vcpus = c->nr;
	m->vms->conc_deferred = true;
	m->vms->in_block = true;
	m->conc_running = true;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	status = sim_sched_run(c->sched);
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	m->conc_running = false;
	m->conc_alone = false;
	m->vms->conc_deferred = false;
	if (status == SIM_SCHED_DONE)
		sim_vm_block_end(m->vms);
	else
		m->vms->in_block = false;
	c->steps = sim_sched_steps(c->sched);
	c->fit_written = c->nr_sched;
	c->fit_used = replay.pos;
	c->fit_mismatches = replay.mismatches;
	c->fit_done = status == SIM_SCHED_DONE;
	conc_report_end(c, status);
	if (c->linearize && status == SIM_SCHED_DONE && !m->dead)
		conc_linearize(c, m);
	if (status != SIM_SCHED_DONE)
		m->dead = true;		/* mm/ left mid-op, locks perhaps held */
	for (unsigned int i = 0; i < c->prog_cap; i++)
		c->prog[i].n = 0;
	c->nr_sched = 0;
	c->cur = 0;
	conc_use_clear(c);
	return status;
}

const struct sim_conc_hist *sim_machine_conc_history(const struct sim_machine *m, size_t *n)
{
	*n = m->conc ? m->conc->nr_hist : 0;
	return m->conc ? m->conc->hist : NULL;
}

const uint16_t *sim_machine_conc_schedule(const struct sim_machine *m, size_t *n)
{
	if (!m->conc) {
		*n = 0;
		return NULL;
	}
	return sim_sched_schedule(m->conc->sched, n);
}

bool sim_machine_conc_schedule_fit(const struct sim_machine *m, size_t *written,
				   size_t *taken, uint64_t *mismatches)
{
	const struct conc *c = m->conc;

	*written = *taken = 0;
	*mismatches = 0;
	if (!c || !c->ran_vcpus || c->override)
		return true;
	*written = c->fit_written;
	*taken = c->fit_used;
	*mismatches = c->fit_mismatches;
	/* A run stopped at a violation leaves the rest unread: that fits. */
	return !c->fit_mismatches && (c->fit_used == c->fit_written || !c->fit_done);
}

uint64_t sim_machine_conc_steps(const struct sim_machine *m)
{
	return m->conc ? m->conc->steps : 0;
}

unsigned int sim_machine_conc_vcpus(const struct sim_machine *m)
{
	return m->conc ? m->conc->ran_vcpus : 0;
}

struct sim_sched *sim_machine_conc_sched(struct sim_machine *m)
{
	struct conc *c = conc_get(m);

	return c ? c->sched : NULL;
}

void sim_conc_schedule_runs(const uint16_t *choices, size_t n,
			    void (*emit)(void *ctx, const struct sim_op *op), void *ctx)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;
		struct sim_op op = { .kind = SIM_OP_SCHED };

		while (j < n && choices[j] == choices[i])
			j++;
		op.vcpu = choices[i];
		op.a = j - i;
		emit(ctx, &op);
		i = j;
	}
}
