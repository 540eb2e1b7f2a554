// SPDX-License-Identifier: MIT
/*
 * Fuzz target: small concurrent blocks through the interleaver. The input
 * is a set-up, then the programs of up to four CPUs (`sched vcpu=N`) of
 * allocator and Anaxagoros set_entry ops, and the schedule (`sched vcpu=N
 * step=K`): the bytes choose which vCPU takes each contended step. The
 * CONC oracle judges every step (the counter invariant) and every point
 * where no vCPU is inside an op (every state oracle). A handle an op of the
 * block names is one its CPU may name there (decode.h, vcpu_names).
 */
#include "harness.h"

static const char *const allocators[] = { "buddy", "bitmap", NULL };

const struct fuzz_target fuzz_target = {
	.name = "conc",
	.classes = SIM_OPC_ALLOC | SIM_OPC_SCHED | SIM_OPC_MAPTAB,
	.allocators = allocators,
	.max_vcpus = 4,
	.vcpu_names = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_run(&fuzz_target, data, size);
}
