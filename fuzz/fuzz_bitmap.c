// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the cascaded bitmap allocator (mm/bitmap_alloc.c) through
 * the generic allocator ops and the bitmap-family ops (insert, remove,
 * contiguous and placed allocations, dealloc, test, next).
 */
#include "harness.h"

static const char *const allocators[] = { "bitmap", NULL };

const struct fuzz_target fuzz_target = {
	.name = "bitmap",
	.classes = SIM_OPC_ALLOC | SIM_OPC_BITMAP,
	.allocators = allocators,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_run(&fuzz_target, data, size);
}
