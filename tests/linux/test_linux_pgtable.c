// SPDX-License-Identifier: MIT
/*
 * Differential test of stage-2 page tables: the same map / unmap /
 * permission sequences through mm/'s tables (sim/pgtable/hvmm.c) and
 * KVM's own (arch/arm64/kvm/hyp/pgtable.c, sim/pgtable/linux_kvm.c) give
 * the same result op by op and the same translation for every IPA, as the
 * independent walker reads the descriptors each wrote, and the translation
 * a plain shadow of the sequence predicts (sim/pgtable/exercise.c). Each
 * implementation alone is clean too, so a disagreement is pinned on one.
 * KVM's own range check is tested by a direct call, which no adapter makes.
 */
#include <stdio.h>
#include <stdlib.h>

#include <hvmm/buddy.h>
#include <hvmm/pgtable.h>

#include "linux/kvm_glue.h"
#include "pgtable/exercise.h"
#include "tap.h"
#include "testmem.h"

#define RAM_BASE	0x80000000ULL

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

/*
 * _kvm_pgtable_walk() refuses a range whose end passes 2^ia_bits. Every
 * caller in the simulator (mm/'s transitions, both adapters) checks the
 * range before KVM sees it, so only a direct call exercises the kernel's
 * own check: the last page of a 32-bit input space maps, a range running
 * one page past it is -ERANGE and maps nothing (no entry past the input
 * size is written in the root).
 */
static void kvm_refuses_a_range_past_the_input_size(void)
{
	const uint64_t last = (1ULL << 32) - HVMM_PAGE_SIZE, pa = RAM_BASE + (1ULL << 20);
	void *kvm = calloc(1, sim_lkvm_state_bytes());
	struct sim_physmem pm;
	struct hvmm_pool pool;
	uint32_t level;
	uint64_t pte;

	testmem_init(&pm, RAM_BASE, 4ULL << 20);
	CHECK(kvm && hvmm_pool_init_zeroed(&pool, RAM_BASE >> HVMM_PAGE_SHIFT, 64, 0) == 0);
	CHECK(sim_lkvm_init(kvm, &pool, 32, 1, 1) == 0);
	CHECK(sim_lkvm_map(kvm, last, 2 * HVMM_PAGE_SIZE, pa, HVMM_PROT_R) == -HVMM_ERANGE);
	CHECK(sim_lkvm_get_leaf(kvm, last, &pte, &level) == 0 && !sim_lkvm_pte_valid(pte));
	CHECK(sim_lkvm_unmap(kvm, last, 2 * HVMM_PAGE_SIZE) == -HVMM_ERANGE);
	CHECK(sim_lkvm_map(kvm, last, HVMM_PAGE_SIZE, pa, HVMM_PROT_R) == 0);
	CHECK(sim_lkvm_get_leaf(kvm, last, &pte, &level) == 0 && sim_lkvm_pte_valid(pte));
	CHECK(sim_lkvm_unmap(kvm, last, HVMM_PAGE_SIZE) == 0);
	sim_lkvm_destroy(kvm);
	free(kvm);
	testmem_fini(&pm);
}

int main(void)
{
	if (!sim_pgtable_find("linux-kvm")) {
		printf("1..0 # SKIP KVM's page tables are not built (-Dlinux_source)\n");
		return 0;
	}
	TEST(each_alone_matches_the_sequence);
	TEST(both_translate_every_ipa_the_same);
	TEST(kvm_refuses_a_range_past_the_input_size);
	return tap_done();
}
