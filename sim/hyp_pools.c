// SPDX-License-Identifier: MIT
/* ALLOC-STRUCT and ALLOC-CONSERVE on the hypervisor's own pools (hyp_pools.h). */
#include "hyp_pools.h"

#include <stdio.h>
#include <stdlib.h>

#include "alloc/allocator.h"
#include "oracle/alloc_shadow.h"
#include "oracle/buddy_check.h"

#define MAX_POOLS	2
#define MAX_TOUCHED	64	/* ranges kept per op; more and the op gets a full check */
#define PAGE_SHIFT	12

struct touched {
	uint64_t pfn, nr;
};

struct hyp_pool {
	struct sim_allocator a;		/* the checker's description of the pool */
	struct sim_alloc_shadow shadow;
};

struct sim_hyp_pools {
	struct sim_physmem *pm;
	const struct sim_vmemmap *vmemmap;
	struct sim_report *report;
	struct hyp_pool pools[MAX_POOLS];
	unsigned int nr_pools;
	struct touched touched[MAX_TOUCHED];
	unsigned int nr_touched;
	bool overflow;			/* more ranges than kept: check everything */
};

/*
 * The pools' shadows are mapped for at least this many pages, so that the
 * checker kept for the next machine (below) re-bases them whatever its
 * pools' sizes, as long as they stay below it (a fuzz input's are).
 */
#define SHADOW_MIN_CAP	4096

/*
 * One checker is kept for the next machine (a fuzz target's reset
 * machine sets up a new one per input), with its shadows mapped: mapping
 * them afresh per machine cost page faults at the first moves and a TLB
 * shootdown at the unmap. A shadow re-based is as a new one (its written
 * span zeroed, sim_alloc_shadow_rebase()).
 */
static _Thread_local struct sim_hyp_pools *spare;

/* Where scrubs are checked (regression runs): a re-based shadow reads as a new one. */
static void check_rebased(const struct sim_alloc_shadow *sh)
{
	for (uint64_t i = 0; i < sh->cap_pages; i++)
		if (sh->state[i] || sh->free_bits[i / 64]) {
			fprintf(stderr, "sim_hyp_pools: a kept shadow is not zero at page %llu "
				"after its re-basing\n", (unsigned long long)i);
			abort();
		}
}

static void hyp_pools_free(struct sim_hyp_pools *hp)
{
	for (unsigned int i = 0; i < MAX_POOLS; i++)
		sim_alloc_shadow_fini(&hp->pools[i].shadow);
	free(hp);
}

struct sim_hyp_pools *sim_hyp_pools_create(struct sim_physmem *pm,
					   const struct sim_vmemmap *vmemmap,
					   struct sim_report *report)
{
	struct sim_hyp_pools *hp = spare;

	spare = NULL;
	if (!hp)
		hp = calloc(1, sizeof(*hp));
	if (!hp)
		return NULL;
	hp->pm = pm;
	hp->vmemmap = vmemmap;
	hp->report = report;
	hp->nr_pools = 0;
	hp->nr_touched = 0;
	hp->overflow = false;
	return hp;
}

void sim_hyp_pools_destroy(struct sim_hyp_pools *hp)
{
	if (!hp)
		return;
	if (spare)
		hyp_pools_free(spare);
	spare = hp;
}

int sim_hyp_pools_add(struct sim_hyp_pools *hp, void *pool, uint64_t pfn, uint64_t nr)
{
	struct hyp_pool *p;

	if (hp->nr_pools == MAX_POOLS || !nr)
		return -1;
	p = &hp->pools[hp->nr_pools];
	if (p->shadow.state && !sim_alloc_shadow_rebase(&p->shadow, pfn, nr))
		sim_alloc_shadow_fini(&p->shadow);
	else if (p->shadow.state && sim_physmem_check_scrubs)
		check_rebased(&p->shadow);
	if (!p->shadow.state &&
	    sim_alloc_shadow_init_cap(&p->shadow, pfn, nr, nr > SHADOW_MIN_CAP ? nr : SHADOW_MIN_CAP))
		return -1;
	sim_alloc_shadow_set_initial_free(&p->shadow, pfn, nr);
	p->a = (struct sim_allocator){
		.pm = hp->pm, .vmemmap = hp->vmemmap, .base_pfn = pfn, .nr_pages = nr,
		.max_order = sim_buddy_expected_max_order(nr), .priv = pool,
	};
	hp->nr_pools++;
	return 0;
}

static struct hyp_pool *pool_of(struct sim_hyp_pools *hp, uint64_t pfn)
{
	for (unsigned int i = 0; i < hp->nr_pools; i++)
		if (pfn - hp->pools[i].a.base_pfn < hp->pools[i].a.nr_pages)
			return &hp->pools[i];
	return NULL;
}

static void touch(struct sim_hyp_pools *hp, uint64_t pfn, uint64_t nr)
{
	if (hp->nr_touched == MAX_TOUCHED) {
		hp->overflow = true;
		return;
	}
	hp->touched[hp->nr_touched++] = (struct touched){ pfn, nr };
}

void sim_hyp_pools_event(void *ctx, const struct sim_event *ev)
{
	struct sim_hyp_pools *hp = ctx;
	uint64_t pfn = ev->a >> PAGE_SHIFT, nr = 1ULL << (ev->b & 63);
	struct hyp_pool *p = pool_of(hp, pfn);

	if (!p)
		return;
	if (ev->kind == SIM_EV_PAGE_ALLOC)
		sim_alloc_shadow_move(&p->shadow, hp->report, SIM_ORACLE_ALLOC_CONSERVE,
				      "a hypervisor pool handed out a page that is not free",
				      pfn, nr, SIM_SHADOW_FREE, SIM_SHADOW_ALLOCATED);
	else
		sim_alloc_shadow_move(&p->shadow, hp->report, SIM_ORACLE_ALLOC_CONSERVE,
				      "a hypervisor pool took back a page that was not allocated",
				      pfn, nr, SIM_SHADOW_ALLOCATED, SIM_SHADOW_FREE);
	touch(hp, pfn, nr);
}

void sim_hyp_pools_check_touched(struct sim_hyp_pools *hp)
{
	if (hp->overflow) {
		sim_hyp_pools_check_full(hp);
	} else {
		for (unsigned int i = 0; i < hp->nr_touched; i++) {
			struct hyp_pool *p = pool_of(hp, hp->touched[i].pfn);

			sim_buddy_check_touched(&p->a, &p->shadow, hp->report, hp->touched[i].pfn,
						hp->touched[i].nr);
		}
	}
	hp->nr_touched = 0;
	hp->overflow = false;
}

void sim_hyp_pools_check_full(struct sim_hyp_pools *hp)
{
	for (unsigned int i = 0; i < hp->nr_pools; i++)
		sim_buddy_check_full(&hp->pools[i].a, &hp->pools[i].shadow, hp->report);
	hp->nr_touched = 0;
	hp->overflow = false;
}
