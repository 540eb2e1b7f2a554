// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the ftrace text importer (sim/import, 'hvmm import ftrace').
 * The input is the text; fuzz/import.c says what must hold.
 */
#include "harness.h"
#include "import.h"

const struct fuzz_target fuzz_target = {
	.name = "ftrace",
	.raw_trace = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(KMEM_FTRACE, data, size);
	return 0;
}
