// SPDX-License-Identifier: MIT
/*
 * Differential test of stage-2 page tables: the same map / unmap /
 * permission sequences through mm/'s tables (sim/pgtable/hvmm.c) and
 * KVM's own (arch/arm64/kvm/hyp/pgtable.c, sim/pgtable/linux_kvm.c) give
 * the same result op by op and the same translation for every IPA, as the
 * independent walker reads the descriptors each wrote, and the translation
 * a plain shadow of the sequence predicts (sim/pgtable/exercise.c). Each
 * implementation alone is clean too, so a disagreement is pinned on one.
 */
#include <stdio.h>

#include "pgtable/exercise.h"
#include "tap.h"

static struct sim_pgx_result run(const char *const *impls, unsigned int n, uint64_t seed)
{
	struct sim_pgx_result res;
	char err[256];

	if (sim_pgx_run(impls, n, 3000, seed, stdout, &res, err, sizeof(err))) {
		printf("# %s\n", err);
		res.mismatches = ~0ULL;
	}
	return res;
}

static void each_alone_matches_the_sequence(void)
{
	static const char *const names[] = { "hvmm", "linux-kvm" };

	for (unsigned int i = 0; i < 2; i++) {
		struct sim_pgx_result r = run(&names[i], 1, 42);

		CHECK_MSG(!r.mismatches, "%s: %llu mismatches", names[i], (unsigned long long)r.mismatches);
		printf("# %s: %llu ops (%llu succeeded), %llu page checks, %llu table pages held at the end\n",
		       names[i], (unsigned long long)r.ops, (unsigned long long)r.ok_ops,
		       (unsigned long long)r.pages_checked, (unsigned long long)r.table_pages[0]);
	}
}

static void both_translate_every_ipa_the_same(void)
{
	static const char *const both[] = { "hvmm", "linux-kvm" };

	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct sim_pgx_result r = run(both, 2, seed);

		CHECK_MSG(!r.mismatches, "seed %llu: %llu mismatches", (unsigned long long)seed,
			  (unsigned long long)r.mismatches);
		CHECK(r.ok_ops > r.ops / 4);	/* the sequence did things, not only fail */
		printf("# seed %llu: %llu ops (%llu succeeded on both), %llu page checks\n",
		       (unsigned long long)seed, (unsigned long long)r.ops, (unsigned long long)r.ok_ops,
		       (unsigned long long)r.pages_checked);
	}
}

int main(void)
{
	if (!sim_pgtable_find("linux-kvm")) {
		printf("1..0 # SKIP KVM's page tables are not built (-Dlinux_source)\n");
		return 0;
	}
	TEST(each_alone_matches_the_sequence);
	TEST(both_translate_every_ipa_the_same);
	return tap_done();
}
