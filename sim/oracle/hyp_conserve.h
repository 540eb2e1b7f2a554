/* SPDX-License-Identifier: MIT */
/*
 * HYP-CONSERVE: the hypervisor's own memory accounted for, the CN and Verus
 * conservation properties applied to the pool mm/ takes its table pages
 * from. At every op boundary each page of the pool is exactly one of:
 * free in the allocator, a table page reachable from a live stage-2 root,
 * or in a page cache (a memcache) of a live stage-2. Anything else is a
 * leak, reported with the page and the op that last allocated it.
 *
 * What is allocated is followed from the allocator's own events (page
 * allocations and frees, sim/event/) since the pool was created, not read
 * from its free lists; what is reachable comes from the BBM oracle's table
 * tracking (built from the descriptor writes it saw); the page caches are
 * listed by the executor, the only part read from mm/'s own objects.
 */
#ifndef SIM_ORACLE_HYP_CONSERVE_H
#define SIM_ORACLE_HYP_CONSERVE_H

#include <stdint.h>

#include "event/event.h"
#include "oracle/bbm.h"
#include "oracle/report.h"

struct sim_hyp_conserve;

struct sim_hyp_conserve *sim_hyp_conserve_create(struct sim_report *report, uint64_t pfn,
						 uint64_t nr);
void sim_hyp_conserve_destroy(struct sim_hyp_conserve *hc);

/* The observer to register with sim_event_observe(), and the kinds it needs. */
void sim_hyp_conserve_event(void *ctx, const struct sim_event *ev);
#define SIM_HYP_CONSERVE_EVENTS ((1u << SIM_EV_PAGE_ALLOC) | (1u << SIM_EV_PAGE_FREE))

/* The op being executed (for "last allocated by op N"). */
void sim_hyp_conserve_set_op(struct sim_hyp_conserve *hc, uint64_t op_index);

/*
 * The check at an op boundary: @cached lists the pfns of every page in a
 * live stage-2's page cache (@nr of them).
 */
void sim_hyp_conserve_check(struct sim_hyp_conserve *hc, const struct sim_bbm *bbm,
			    const uint64_t *cached, unsigned int nr);

/* Pages of the pool allocated now, as the events tell. */
uint64_t sim_hyp_conserve_allocated(const struct sim_hyp_conserve *hc);

#endif /* SIM_ORACLE_HYP_CONSERVE_H */
