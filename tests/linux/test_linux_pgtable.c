// SPDX-License-Identifier: MIT
/*
 * Differential test of stage-2 page tables: the same map / unmap /
 * permission sequences through mm/'s tables (sim/pgtable/hvmm.c) and
 * KVM's own (arch/arm64/kvm/hyp/pgtable.c, sim/pgtable/linux_kvm.c) give
 * the same result op by op and the same translation for every IPA, as the
 * independent walker reads the descriptors each wrote, and the translation
 * a plain shadow of the sequence predicts (sim/pgtable/exercise.c). Each
 * implementation alone is clean too, so a disagreement is pinned on one.
 * Inside every op the event oracles judge break-before-make and TLB
 * maintenance (BBM, TLB), the sequences included blocks mapped over pages,
 * which KVM's map makes by replacing the table (its anchor path).
 * KVM's own range check is tested by a direct call, which no adapter makes.
 */
#include <stdio.h>
#include <stdlib.h>

#include <hvmm/buddy.h>
#include <hvmm/pgtable.h>

#include "event/event.h"
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
		CHECK_MSG(!r.violations, "%s: %llu BBM/TLB violations", names[i],
			  (unsigned long long)r.violations);
		CHECK(r.collapses > 0);
		printf("# %s: %llu ops (%llu succeeded, %llu blocks over pages), %llu page checks, "
		       "%llu table pages held at the end, event oracles %s\n",
		       names[i], (unsigned long long)r.ops, (unsigned long long)r.ok_ops,
		       (unsigned long long)r.collapses, (unsigned long long)r.pages_checked,
		       (unsigned long long)r.table_pages[0], r.event_oracles ? "on" : "off");
	}
}

static void both_translate_every_ipa_the_same(void)
{
	static const char *const both[] = { "hvmm", "linux-kvm" };

	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct sim_pgx_result r = run(both, 2, seed);

		CHECK_MSG(!r.mismatches, "seed %llu: %llu mismatches", (unsigned long long)seed,
			  (unsigned long long)r.mismatches);
		CHECK_MSG(!r.violations, "seed %llu: %llu BBM/TLB violations",
			  (unsigned long long)seed, (unsigned long long)r.violations);
		CHECK(r.ok_ops > r.ops / 4);	/* the sequence did things, not only fail */
		CHECK(r.past_end_ops > 0);	/* and ran ranges past the input space */
		CHECK(r.wrap_ops > 0);		/* and ranges wrapping past 2^64 */
		printf("# seed %llu: %llu ops (%llu succeeded on both), %llu page checks\n",
		       (unsigned long long)seed, (unsigned long long)r.ops, (unsigned long long)r.ok_ops,
		       (unsigned long long)r.pages_checked);
	}
}

/*
 * A block mapped over a range that a table of pages maps (KVM's callers:
 * user_mem_abort mapping a huge page where dirty logging had split it):
 * KVM's map detaches the table, invalidates the whole VMID, since leaves
 * anywhere under the table may be cached, frees the table and writes the
 * block (stage2_map_walk_table_pre, the anchor). The event oracles judge
 * it: an invalidation narrower than the table (by IPA, with a level hint,
 * KVM 3a0b870e3448's bug) leaves an obligation open when the block is
 * written and the table freed (BBM). The input is the choice stream of
 * sim_pgx_run_input(): pages in chunk 0 at pages 0..63 and 256..271, the
 * block over chunk 0; then, past an unmap of the block, pages crossing
 * chunks 1 and 2 and one map of two blocks over both.
 */
static void a_block_over_pages_replaces_the_table(void)
{
	static const uint8_t input[] = {
		0, 0, 1, 0x00, 0x00, 63, 3,	/* map pages 0..63 */
		0, 0, 2, 0x01, 0x00, 15, 5,	/* map pages 256..271 */
		0, 1, 1, 0, 0, 9,		/* a block over chunk 0 */
		5, 0x00, 0x10, 3,		/* unmap in it: widened to the chunk */
		0, 0, 1, 0x03, 0xfc, 39, 7,	/* map pages 1020..1059 */
		0, 1, 1, 1, 1, 13,		/* two blocks over chunks 1 and 2 */
	};
	static const char *const sets[][2] = { { "linux-kvm" }, { "hvmm" }, { "linux-kvm", "hvmm" } };
	static const unsigned int nr[] = { 1, 1, 2 };

	for (unsigned int s = 0; s < 3; s++) {
		struct sim_pgx_result r;
		char err[256];

		CHECK(sim_pgx_run_input(sets[s], nr[s], input, sizeof(input), 100, stdout, &r, err,
					sizeof(err)) == 0);
		CHECK_MSG(r.ops == 6 && r.ok_ops == 6 && r.collapses == 2,
			  "%s: %llu ops, %llu succeeded, %llu blocks over pages", sets[s][0],
			  (unsigned long long)r.ops, (unsigned long long)r.ok_ops,
			  (unsigned long long)r.collapses);
		CHECK_MSG(!r.mismatches, "%s: %llu mismatches", sets[s][0],
			  (unsigned long long)r.mismatches);
		/* The oracles are on wherever the event layer sees mm/ (not under TSan). */
		CHECK(r.event_oracles == sim_event_mm_instrumented());
		CHECK_MSG(!r.violations, "%s%s%s: %llu BBM/TLB violations, the first %s", sets[s][0],
			  nr[s] > 1 ? " and " : "", nr[s] > 1 ? sets[s][1] : "",
			  (unsigned long long)r.violations, r.first_oracle ? r.first_oracle : "-");
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
	TEST(a_block_over_pages_replaces_the_table);
	TEST(kvm_refuses_a_range_past_the_input_size);
	return tap_done();
}
