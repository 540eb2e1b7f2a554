/* SPDX-License-Identifier: MIT */
/*
 * ALLOC-STRUCT and ALLOC-CONSERVE for the buddy allocator: the CN
 * Hyp_pool invariant made executable. Reads the pool, its free lists and
 * the vmemmap directly, through the simulator's own view of physical
 * memory; never calls mm/.
 */
#ifndef SIM_ORACLE_BUDDY_CHECK_H
#define SIM_ORACLE_BUDDY_CHECK_H

#include "alloc/allocator.h"

void sim_buddy_check_touched(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			     struct sim_report *r, uint64_t pfn, uint64_t nr);
void sim_buddy_check_full(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			  struct sim_report *r);

/* The largest order a pool of @nr_pages may return, per the spec. */
unsigned int sim_buddy_expected_max_order(uint64_t nr_pages);

#endif /* SIM_ORACLE_BUDDY_CHECK_H */
