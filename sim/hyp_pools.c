// SPDX-License-Identifier: MIT
/* ALLOC-STRUCT and ALLOC-CONSERVE on the hypervisor's own pools (hyp_pools.h). */
#include "hyp_pools.h"

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

struct sim_hyp_pools *sim_hyp_pools_create(struct sim_physmem *pm,
					   const struct sim_vmemmap *vmemmap,
					   struct sim_report *report)
{
	struct sim_hyp_pools *hp = calloc(1, sizeof(*hp));

	if (!hp)
		return NULL;
	hp->pm = pm;
	hp->vmemmap = vmemmap;
	hp->report = report;
	return hp;
}

void sim_hyp_pools_destroy(struct sim_hyp_pools *hp)
{
	if (!hp)
		return;
	for (unsigned int i = 0; i < hp->nr_pools; i++)
		sim_alloc_shadow_fini(&hp->pools[i].shadow);
	free(hp);
}

int sim_hyp_pools_add(struct sim_hyp_pools *hp, void *pool, uint64_t pfn, uint64_t nr)
{
	struct hyp_pool *p;

	if (hp->nr_pools == MAX_POOLS || !nr)
		return -1;
	p = &hp->pools[hp->nr_pools];
	if (sim_alloc_shadow_init(&p->shadow, pfn, nr))
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
