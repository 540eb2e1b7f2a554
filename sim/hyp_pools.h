/* SPDX-License-Identifier: MIT */
/*
 * ALLOC-STRUCT and ALLOC-CONSERVE on the hypervisor's own pools (the host
 * stage-2's pool and the guests' table pool), not only on the allocator
 * under test: the same buddy code hands out the pages every stage-2 table
 * lives in, and a corrupt free list or a lost free there breaks isolation
 * as surely as anywhere. The checker is the allocator under test's
 * (oracle/buddy_check.c); the shadow it judges against is kept here from
 * the allocator's own page events (sim/event/): a page allocated twice or
 * freed while free is an ALLOC-CONSERVE violation at the event. Pages are
 * checked where an op's events touched them, and every page at sweeps.
 * A pool's maximal blocks that it has never listed (its untouched range,
 * mm/buddy.c) need nothing here: the shadow starts with every page free
 * and changes only at the page events, and the checker reads the range
 * from the pool and judges it against the shadow.
 *
 * Needs the event stream: off when mm/ is built without instrumentation.
 */
#ifndef SIM_HYP_POOLS_H
#define SIM_HYP_POOLS_H

#include <stdint.h>

#include "event/event.h"
#include "oracle/report.h"
#include "physmem.h"

struct sim_vmemmap;
struct sim_hyp_pools;

struct sim_hyp_pools *sim_hyp_pools_create(struct sim_physmem *pm,
					   const struct sim_vmemmap *vmemmap,
					   struct sim_report *report);
void sim_hyp_pools_destroy(struct sim_hyp_pools *hp);

/*
 * Judges mm/'s pool object @pool over [@pfn, @pfn + @nr), all free now
 * (set up on zeroed memory, nothing reserved). 0, or -1 out of memory.
 */
int sim_hyp_pools_add(struct sim_hyp_pools *hp, void *pool, uint64_t pfn, uint64_t nr);

/* The observer to register with sim_event_observe(), and the kinds it needs. */
void sim_hyp_pools_event(void *ctx, const struct sim_event *ev);
#define SIM_HYP_POOLS_EVENTS ((1u << SIM_EV_PAGE_ALLOC) | (1u << SIM_EV_PAGE_FREE))

/* At an op boundary: the blocks the op's events touched. */
void sim_hyp_pools_check_touched(struct sim_hyp_pools *hp);
/* At a sweep: every page of every pool. */
void sim_hyp_pools_check_full(struct sim_hyp_pools *hp);

#endif /* SIM_HYP_POOLS_H */
