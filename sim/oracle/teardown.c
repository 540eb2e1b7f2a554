// SPDX-License-Identifier: MIT
#include "oracle/teardown.h"

#include "op.h"

void sim_check_destroy(struct sim_report *r, unsigned int vm, uint64_t pages, uint32_t pins,
		       int ret)
{
	if (ret && !(ret == -SIM_EBUSY && pins))
		sim_report_violation(r, SIM_ORACLE_ROBUST,
			"vm%u: destroy refused (%s) although every one of its %llu pages can go back "
			"to its owner", vm, sim_result_name(ret), (unsigned long long)pages);
}
