// SPDX-License-Identifier: MIT
/* hvmm-bench's case list. */
#include "bench.h"

void bench_register_cases(void)
{
	bench_register_alloc();
	bench_register_bitmap();
	bench_register_floor();
	bench_register_sim();
}
