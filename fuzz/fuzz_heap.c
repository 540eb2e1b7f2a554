// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the byte heap (mm/heap.c) through halloc, hfree and
 * hreclaim, with page allocations interleaved so that the heap's chunks
 * compete with other users of the allocator under test (either
 * allocator, picked by the header): growth fails when the pool is full,
 * and reclaimed chunks go back to it.
 */
#include "harness.h"

static const char *const allocators[] = { "buddy", "bitmap", NULL };

const struct fuzz_target fuzz_target = {
	.name = "heap",
	.classes = SIM_OPC_HEAP | SIM_OPC_ALLOC,
	.allocators = allocators,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_run(&fuzz_target, data, size);
}
