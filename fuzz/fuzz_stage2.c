// SPDX-License-Identifier: MIT
/*
 * Fuzz target: stage-2 page tables driven directly (map, unmap, protect of
 * VMs' IPA ranges), judged by the independent walker, the TLB model and
 * guest accesses through them.
 */
#include "harness.h"

static const char *const allocators[] = { "buddy", NULL };

static const uint16_t kinds[] = {
	SIM_OP_VM_CREATE, SIM_OP_VM_DESTROY, SIM_OP_S2_MAP, SIM_OP_S2_UNMAP,
	SIM_OP_S2_PROTECT, SIM_OP_FAULT, SIM_OP_LOAD, SIM_OP_STORE, SIM_OP__COUNT,
};

const struct fuzz_target fuzz_target = {
	.name = "stage2",
	.kinds = kinds,
	.allocators = allocators,
	.extra_regions = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_run(&fuzz_target, data, size);
}
