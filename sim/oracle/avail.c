// SPDX-License-Identifier: MIT
#include "oracle/avail.h"

void sim_check_avail(const struct sim_alloc_shadow *s, struct sim_report *r, uint64_t count,
		     uint64_t align, const char *what)
{
	uint64_t pfn = sim_alloc_shadow_find_free(s, count, align, 0);

	if (pfn != UINT64_MAX)
		sim_report_violation(r, SIM_ORACLE_AVAIL,
			"%s failed, but pfn 0x%llx..0x%llx is free and aligned to %llu pages",
			what, (unsigned long long)pfn, (unsigned long long)(pfn + count - 1),
			(unsigned long long)align);
}
