// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the whole machine. VMs, ownership transitions, stage-2,
 * guest accesses and vCPU scheduling steps, interleaved with allocator
 * ops, on either allocator (picked by the header). `sched` ops put the
 * ops after them on another CPU and carry the schedule: the input chooses
 * the vCPUs of a concurrent block step by step (sim/machine_conc.h).
 */
#include "harness.h"

static const char *const allocators[] = { "buddy", "bitmap", NULL };

const struct fuzz_target fuzz_target = {
	.name = "machine",
	.classes = SIM_OPC_ALLOC | SIM_OPC_VM | SIM_OPC_SCHED,
	.allocators = allocators,
	.extra_regions = true,
	/* sched ops: which CPU the ops after it run on, and the schedule (vCPU choices). */
	.max_vcpus = 4,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_run(&fuzz_target, data, size);
}
