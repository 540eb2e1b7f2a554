/* SPDX-License-Identifier: MIT */
/*
 * AVAIL for allocators that return aligned blocks (the buddy, the kernel's
 * pKVM pool): an allocation of @count pages aligned to @align may fail
 * only if the shadow has no free, aligned run of that size (hvisor's
 * availability property). The bitmap allocator's contiguous allocations
 * have their own (oracle/bitmap_check.h: the lowest window too).
 */
#ifndef SIM_ORACLE_AVAIL_H
#define SIM_ORACLE_AVAIL_H

#include <stdint.h>

#include "oracle/alloc_shadow.h"
#include "oracle/report.h"

/* @what failed: reports a violation if the shadow holds a fitting block. */
void sim_check_avail(const struct sim_alloc_shadow *s, struct sim_report *r, uint64_t count,
		     uint64_t align, const char *what);

#endif /* SIM_ORACLE_AVAIL_H */
