// SPDX-License-Identifier: MIT
/*
 * Fuzz target: stage-2 page tables driven directly (map, unmap, protect of
 * VMs' IPA ranges), judged by the independent walker, the TLB model and
 * guest accesses through them. Pages enter a guest by a fault (one page)
 * and by the host's donations and shares of page ranges, whose maps span
 * several leaves and tables (a range crossing a 2 MiB boundary); the last
 * three kinds come after the others, so that an input written before them
 * decodes as it did (an op's selector byte below 8 picks the same kind).
 */
#include "harness.h"

static const char *const allocators[] = { "buddy", NULL };

static const uint16_t kinds[] = {
	SIM_OP_VM_CREATE, SIM_OP_VM_DESTROY, SIM_OP_S2_MAP, SIM_OP_S2_UNMAP,
	SIM_OP_S2_PROTECT, SIM_OP_FAULT, SIM_OP_LOAD, SIM_OP_STORE,
	SIM_OP_HOST_DONATE_GUEST, SIM_OP_HOST_SHARE_GUEST, SIM_OP_HOST_UNSHARE_GUEST,
	SIM_OP__COUNT,
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
