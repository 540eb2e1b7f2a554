// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the babeltrace2 (LTTng) text importer (sim/import, 'hvmm import lttng').
 * The input is the text; fuzz/import.c says what must hold.
 */
#include "harness.h"
#include "import.h"

const struct fuzz_target fuzz_target = {
	.name = "lttng",
	.raw_trace = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(KMEM_BABELTRACE, data, size);
	return 0;
}
