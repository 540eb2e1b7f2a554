/* SPDX-License-Identifier: MIT */
/*
 * Allocation stamps: the executor writes into every block it is handed,
 * as a user would, so that scrubbing on free is observable: a stamp at the
 * start of the first page (past the 16 bytes a free-list node takes) and
 * at the end of the last one. Before stamping, the words a previous owner
 * most likely left behind must read zero (ALLOC-STRUCT: allocations are
 * zeroed).
 */
#ifndef SIM_STAMP_H
#define SIM_STAMP_H

#include <stdbool.h>
#include <stdint.h>

#include "oracle/report.h"
#include "physmem.h"

/* Checks (if @check) that the order-@order block at @pfn is zero where it looks, then stamps it for handle @h. */
void sim_stamp_block(struct sim_physmem *pm, struct sim_report *r, bool check, uint32_t h,
		     uint64_t pfn, unsigned int order);

#endif /* SIM_STAMP_H */
