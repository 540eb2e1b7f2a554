// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the Linux kernel's KVM stage-2 page tables
 * (arch/arm64/kvm/hyp/pgtable.c, hosted unchanged; sim/linux/) and hvmm's
 * own (mm/pgtable.c) driven by the same map / unmap / permission sequence,
 * every choice of which (kind, range, output address, permissions) is read
 * from the input (sim/pgtable/exercise.h). After every op the independent
 * walker reads both implementations' tables and compares every page the
 * op touched with a plain shadow of the sequence (PT-WALK), and the two
 * implementations' results with each other; inside every op the event
 * oracles judge break-before-make and TLB maintenance (BBM, TLB), so a
 * block mapped over pages (KVM replacing the table) with too narrow an
 * invalidation is caught. Built only when a kernel source is configured
 * (-Dlinux_source).
 */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "pgtable/exercise.h"

#define MAX_OPS 512	/* a few bytes an op: inputs up to a few KiB are used whole */

/* The input is a choice stream, not decoded ops: no trace to print. */
const struct fuzz_target fuzz_target = {
	.name = "linux-kvm-pgtable",
	.raw_trace = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const impls[] = { "linux-kvm", "hvmm" };
	struct sim_pgx_result res;
	char err[256];

	if (sim_pgx_run_input(impls, 2, data, size, MAX_OPS, stderr, &res, err, sizeof(err))) {
		fprintf(stderr, "fuzz-linux-kvm-pgtable: cannot start: %s\n", err);
		abort();
	}
	if (res.violations) {
		fprintf(stderr, "VIOLATION %s at record 0: %llu protocol violations (the first are "
			"above)\n==hvmm-fuzz== linux-kvm-pgtable: the input is the reproducer\n",
			res.first_oracle ? res.first_oracle : "BBM",
			(unsigned long long)res.violations);
		abort();
	}
	if (res.mismatches) {
		fprintf(stderr, "VIOLATION PT-WALK at record 0: the page tables and the sequence "
			"disagree on %llu pages or results (the first are above)\n"
			"==hvmm-fuzz== linux-kvm-pgtable: the input is the reproducer\n",
			(unsigned long long)res.mismatches);
		abort();
	}
	return 0;
}
