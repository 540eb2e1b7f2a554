// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the buddy allocator (mm/buddy.c) through the generic
 * allocator ops: alloc, free, get, put, split on a pool whose size, base
 * and reserved prefix come from the input's header.
 */
#include "harness.h"

static const char *const allocators[] = { "buddy", NULL };

const struct fuzz_target fuzz_target = {
	.name = "buddy",
	.classes = SIM_OPC_ALLOC,
	.allocators = allocators,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_run(&fuzz_target, data, size);
}
