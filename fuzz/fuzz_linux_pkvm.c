// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the Linux kernel's pKVM page allocator
 * (arch/arm64/kvm/hyp/nvhe/page_alloc.c, hosted unchanged; sim/linux/)
 * through the generic allocator ops, decoded exactly as the buddy
 * target's inputs are: alloc, free, get, put, split on a pool whose size,
 * base and reserved prefix come from the input's header. Built only when
 * a kernel source is configured (-Dlinux_source).
 */
#include "harness.h"

static const char *const allocators[] = { "linux-pkvm", NULL };

const struct fuzz_target fuzz_target = {
	.name = "linux-pkvm",
	.classes = SIM_OPC_ALLOC,
	.allocators = allocators,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_run(&fuzz_target, data, size);
}
