// SPDX-License-Identifier: MIT
/*
 * Negative tests of the buddy oracles: each breaks one rule from the test
 * side (corrupting mm/ state, or wrapping the adapter with a fault) and
 * checks that the right oracle fires with a message that says what broke.
 * A clean run first shows that the oracles are quiet when nothing is wrong.
 */
#include <stdlib.h>
#include <string.h>

#include <hvmm/buddy.h>

#include "machine.h"
#include "oracle/mm_layout.h"
#include "tap.h"
#include "vmtest.h"
#include "vmemmap.h"
#include "workload.h"

#define POOL_PAGES 256

static const struct sim_allocator_ops *buddy;
static struct sim_allocator_ops faulty;	/* buddy with one fault injected */

static struct hvmm_page *meta(struct sim_machine *m, uint64_t pfn)
{
	return sim_vmemmap_page(sim_machine_vmemmap(m), pfn);
}

static struct hvmm_pool *pool_of(struct sim_machine *m)
{
	return sim_machine_allocator(m)->priv;
}

static void clean_run_is_quiet(void)
{
	struct sim_workload_params p = { .ops = 5000, .seed = 7, .pool_pages = POOL_PAGES, .max_order = 6 };
	struct sim_workload *w = sim_workload_create("alloc-random", &p);
	struct sim_machine *m = vmt_pool_machine(buddy, POOL_PAGES);
	struct sim_op op;

	while (sim_workload_next(w, &op))
		sim_workload_result(w, &op, sim_machine_exec(m, &op, NULL));
	sim_machine_finish(m);
	CHECK(sim_machine_stats(m)->ops == 5000);
	CHECK(most_ops_succeeded(m));
	CHECK(sim_report_clean(sim_machine_report(m)));
	sim_workload_destroy(w);
	sim_machine_destroy(m);
}

static void struct_fires_on_a_tail_with_an_order(void)
{
	struct sim_machine *m = vmt_pool_machine(buddy, POOL_PAGES);
	uint64_t pfn;

	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 2) == 0);
	CHECK(sim_machine_handle(m, 1, &pfn, NULL, NULL));
	hvmm_page_set_order(meta(m, pfn + 1), 0);	/* a second head inside the block */
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "lies inside the order-2 block"));
	sim_machine_destroy(m);
}

/* The list node of the free block of @order at @pfn, where mm/'s buddy keeps it. */
static struct hvmm_list *block_node(struct sim_machine *m, uint64_t pfn, unsigned int order)
{
	uint64_t off = sim_mm_buddy_node_offset(order);

	return (struct hvmm_list *)((uint8_t *)vmt_host(m, pfn + (off >> HVMM_PAGE_SHIFT)) +
				    (off & (HVMM_PAGE_SIZE - 1)));
}

/*
 * A fresh pool machine after one order-0 allocation (which leaves free
 * blocks of orders 0..7 behind it), and the page it handed out in @pfn.
 */
static struct sim_machine *machine_after_one_alloc(uint64_t *pfn)
{
	struct sim_machine *m = vmt_pool_machine(buddy, POOL_PAGES);

	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 0) == 0);
	CHECK(sim_machine_handle(m, 1, pfn, NULL, NULL));
	return m;
}

static void struct_fires_on_a_broken_back_link(void)
{
	uint64_t pfn;
	struct sim_machine *m = machine_after_one_alloc(&pfn);
	struct hvmm_list *node = block_node(m, pfn ^ 1, 0);	/* its free order-0 buddy */

	node->prev = node;
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "back link"));
	sim_machine_destroy(m);
}

/*
 * A free list whose node links to itself, a cycle that misses the list's
 * head: the oracle reports it, and the teardown, which walks the lists
 * to mark their nodes' pages for the next scrub, still ends (it once spun
 * there for good; the suite's timeout is this test's failure).
 */
static void teardown_ends_on_a_cycled_free_list(void)
{
	uint64_t pfn;
	struct sim_machine *m = machine_after_one_alloc(&pfn);
	struct hvmm_list *node = block_node(m, pfn ^ 1, 0);

	node->next = node;
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "free list"));
	sim_machine_destroy(m);
	CHECK(1);
}

/* An order-0 block listed by a node at its start, where only an odd order keeps it. */
static void struct_fires_on_a_misplaced_node(void)
{
	uint64_t pfn;
	struct sim_machine *m = machine_after_one_alloc(&pfn);
	struct hvmm_pool *pool = pool_of(m);

	hvmm_list_del(block_node(m, pfn ^ 1, 0));	/* its free order-0 buddy */
	hvmm_list_add(block_node(m, pfn ^ 1, 1), &pool->free_area[0]);
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "not where a block of order 0 keeps its node"));
	sim_machine_destroy(m);
}

static void struct_fires_on_unscrubbed_free_memory(void)
{
	struct sim_machine *m = vmt_pool_machine(buddy, POOL_PAGES);
	uint64_t pfn;

	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 0) == 0);
	CHECK(sim_machine_handle(m, 1, &pfn, NULL, NULL));
	CHECK(vmt_alloc_op(m, SIM_OP_FREE, 1, 0) == 0);
	((uint8_t *)vmt_host(m, pfn))[100] = 0x42;	/* stale data in free memory */
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "must be scrubbed"));
	sim_machine_destroy(m);
}

static void struct_fires_on_unmerged_buddies(void)
{
	struct sim_machine *m = vmt_pool_machine(buddy, POOL_PAGES);
	struct hvmm_pool *pool = pool_of(m);
	uint64_t base = sim_machine_allocator(m)->base_pfn;
	struct hvmm_list *whole = block_node(m, base, 8);
	struct hvmm_list *lo = block_node(m, base, 7), *hi = block_node(m, base + 128, 7);

	/* The free pool is one order-8 block, listed once used: cut it into two order-7 halves. */
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 0) == 0);
	CHECK(vmt_alloc_op(m, SIM_OP_FREE, 1, 0) == 0);
	CHECK(hvmm_page_order(meta(m, base)) == 8);
	hvmm_list_del(whole);
	hvmm_page_set_order(meta(m, base), 7);
	hvmm_page_set_order(meta(m, base + 128), 7);
	hvmm_list_add(lo, &pool->free_area[7]);
	hvmm_list_add(hi, &pool->free_area[7]);
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "were not merged"));
	sim_machine_destroy(m);
}

/*
 * The pool's untouched range (its maximal blocks never listed): a fresh
 * 256-page pool is one such block, and the first allocation lists it.
 */
static void struct_fires_on_a_malformed_untouched_range(void)
{
	struct sim_machine *m = vmt_pool_machine(buddy, POOL_PAGES);
	struct hvmm_pool *pool = pool_of(m);

	CHECK(pool->untouched_end - pool->untouched == POOL_PAGES);
	pool->untouched_end -= 3;		/* not whole maximal blocks */
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "is not a run of whole order-8 blocks"));
	sim_machine_destroy(m);
}

static void struct_fires_on_metadata_in_the_untouched_range(void)
{
	struct sim_machine *m = vmt_pool_machine(buddy, POOL_PAGES);
	uint64_t base = sim_machine_allocator(m)->base_pfn;

	meta(m, base + 17)->refcount = 1;
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "lies in the pool's untouched range"));
	sim_machine_destroy(m);
}

static void struct_fires_on_written_untouched_memory(void)
{
	struct sim_machine *m = vmt_pool_machine(buddy, POOL_PAGES);
	uint64_t base = sim_machine_allocator(m)->base_pfn;

	((uint8_t *)vmt_host(m, base + 9))[5] = 1;
	sim_physmem_mark_dirty(sim_machine_physmem(m), base + 9, 1);
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "never handed out: it must be zero"));
	sim_machine_destroy(m);
}

static void struct_fires_on_a_listed_untouched_block(void)
{
	struct sim_machine *m = vmt_pool_machine(buddy, POOL_PAGES);
	struct hvmm_pool *pool = pool_of(m);
	uint64_t base = sim_machine_allocator(m)->base_pfn;

	/* Listed, but left in the range: two owners for one block. */
	hvmm_page_set_order(meta(m, base), 8);
	hvmm_list_add(block_node(m, base, 8), &pool->free_area[8]);
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "inside the pool's untouched range"));
	sim_machine_destroy(m);
}

/* Faults injected around the real adapter. */
static uint64_t last_pfn;

/* An allocator that takes an untouched block and forgets to move the range past it. */
static int alloc_keeps_untouched_range(struct sim_allocator *a, unsigned int order, uint64_t *pfn)
{
	struct hvmm_pool *pool = a->priv;
	u64 untouched = pool->untouched;
	int ret = buddy->alloc(a, order, pfn);

	pool->untouched = untouched;
	return ret;
}

static void struct_fires_when_the_untouched_range_is_not_moved(void)
{
	struct sim_machine *m;

	faulty = *buddy;
	faulty.alloc = alloc_keeps_untouched_range;
	m = vmt_pool_machine(&faulty, POOL_PAGES);
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 0) == 0);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "overlaps the pool's untouched range"));
	sim_report_init(sim_machine_report(m), NULL);
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_CONSERVE, "the shadow says it is in use"));
	sim_machine_destroy(m);
}

static int alloc_returns_last_block_again(struct sim_allocator *a, unsigned int order, uint64_t *pfn)
{
	if (last_pfn) {
		*pfn = last_pfn;
		return 0;
	}
	return buddy->alloc(a, order, pfn) ?: (last_pfn = *pfn, 0);
}

static int put_does_nothing(struct sim_allocator *a, uint64_t pfn)
{
	return 0;
}

static int alloc_fails_above_order_0(struct sim_allocator *a, unsigned int order, uint64_t *pfn)
{
	return order ? -HVMM_ENOMEM : buddy->alloc(a, order, pfn);
}

static int alloc_leaves_junk(struct sim_allocator *a, unsigned int order, uint64_t *pfn)
{
	int ret = buddy->alloc(a, order, pfn);

	if (!ret)
		((uint8_t *)sim_physmem_pa_to_host(a->pm, *pfn << HVMM_PAGE_SHIFT))[8] = 0x99;
	return ret;
}

/* Where put_leaves_a_store() stores into the freed page, marked as a user's store is. */
static uint64_t stale_offset;

static int put_leaves_a_store(struct sim_allocator *a, uint64_t pfn)
{
	int ret = buddy->put(a, pfn);
	uint64_t pa = (pfn << HVMM_PAGE_SHIFT) + stale_offset;

	((uint8_t *)sim_physmem_pa_to_host(a->pm, pa))[0] = 0x77;
	sim_physmem_mark_word(a->pm, pa);
	return ret;
}

/*
 * A byte a previous owner stored, left in a freed page, is found by the
 * op's own check, not only at the next sweep: in the page's middle (its
 * whole-page mark says to read all of it) as in its last line (a line
 * mark, where the stamps go).
 */
static void struct_fires_after_the_op_on_a_stale_store(void)
{
	static const uint64_t offsets[] = { 2000, HVMM_PAGE_SIZE - 6 };

	for (unsigned int i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		struct sim_machine *m;

		faulty = *buddy;
		faulty.put = put_leaves_a_store;
		stale_offset = offsets[i];
		m = vmt_pool_machine(&faulty, POOL_PAGES);
		CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 0) == 0);
		CHECK(vmt_alloc_op(m, SIM_OP_FREE, 1, 0) == 0);
		CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "must be scrubbed"));
		sim_machine_destroy(m);
	}
}

static void conserve_fires_on_a_double_allocation(void)
{
	struct sim_machine *m;

	faulty = *buddy;
	faulty.alloc = alloc_returns_last_block_again;
	last_pfn = 0;
	m = vmt_pool_machine(&faulty, POOL_PAGES);
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 0) == 0);
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 2, 0) == 0);
	CHECK(fired(m, SIM_ORACLE_ALLOC_CONSERVE, "handed out a block that is not free"));
	sim_machine_destroy(m);
}

static void conserve_fires_on_a_lost_free(void)
{
	struct sim_machine *m;

	faulty = *buddy;
	faulty.put = put_does_nothing;
	m = vmt_pool_machine(&faulty, POOL_PAGES);
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 3) == 0);
	CHECK(vmt_alloc_op(m, SIM_OP_FREE, 1, 0) == 0);	/* the pool never hears of it */
	CHECK(fired(m, SIM_ORACLE_ALLOC_CONSERVE, "a free was lost"));
	sim_machine_destroy(m);
}

static void avail_fires_when_a_fitting_block_is_refused(void)
{
	struct sim_machine *m;

	faulty = *buddy;
	faulty.alloc = alloc_fails_above_order_0;
	m = vmt_pool_machine(&faulty, POOL_PAGES);
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 0) == 0);
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 2, 4) == -HVMM_ENOMEM);
	CHECK(fired(m, SIM_ORACLE_AVAIL, "alloc(order 4) failed, but pfn"));
	/* And stays quiet when nothing fits: the pool is 256 pages. */
	sim_report_init(sim_machine_report(m), NULL);
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 3, 9) == -HVMM_ENOMEM);
	CHECK(sim_machine_report(m)->by_oracle[SIM_ORACLE_AVAIL] == 0);
	sim_machine_destroy(m);
}

static void struct_fires_on_a_dirty_allocation(void)
{
	struct sim_machine *m;

	faulty = *buddy;
	faulty.alloc = alloc_leaves_junk;
	m = vmt_pool_machine(&faulty, POOL_PAGES);
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 1) == 0);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "allocations must be zeroed"));
	sim_machine_destroy(m);
}

static void robust_fires_when_mm_panics(void)
{
	struct sim_machine *m = vmt_pool_machine(buddy, POOL_PAGES);
	uint64_t pfn;

	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 0) == 0);
	CHECK(sim_machine_handle(m, 1, &pfn, NULL, NULL));
	meta(m, pfn)->refcount = 0;	/* the executor still holds a reference */
	CHECK(vmt_alloc_op(m, SIM_OP_PUT, 1, 0) == -HVMM_EFAULT);
	CHECK(fired(m, SIM_ORACLE_ROBUST, "mm/ panicked"));
	CHECK(sim_machine_dead(m));
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 2, 0) == -HVMM_EFAULT);
	sim_machine_destroy(m);
}

/*
 * mm/'s buddy writes free-list nodes and hands out blocks by its pool's
 * offset, not through hvmm_phys_to_virt(): a reset must still leave every
 * page zero (the scrub reads all RAM back and aborts otherwise), in the
 * allocator's pool and in the hypervisor's, whose tables a VM took and
 * gave back.
 */
static void reset_leaves_memory_zero(void)
{
	struct sim_machine *m = vmt_machine(NULL);
	struct sim_machine_config cfg = *sim_machine_config(m);
	char err[256];

	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 0) == 0);	/* splits: list nodes in 8 more pages */
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 2, 3) == 0);
	CHECK(vmt_alloc_op(m, SIM_OP_PUT, 1, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 1, 0x10000, 0x90000, 1, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_VM_DESTROY, 1, 0, 0, 0, 0) == 0);
	sim_physmem_check_scrubs = true;
	CHECK(sim_machine_reset(m, &cfg, err, sizeof(err)) == 0);
	sim_physmem_check_scrubs = false;
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 0) == 0);
	sim_machine_finish(m);
	CHECK(sim_report_clean(sim_machine_report(m)));
	sim_machine_destroy(m);
}

int main(void)
{
	buddy = sim_allocator_find("buddy");
	TEST(clean_run_is_quiet);
	TEST(struct_fires_on_a_tail_with_an_order);
	TEST(struct_fires_on_a_broken_back_link);
	TEST(teardown_ends_on_a_cycled_free_list);
	TEST(struct_fires_on_a_misplaced_node);
	TEST(struct_fires_on_unscrubbed_free_memory);
	TEST(struct_fires_after_the_op_on_a_stale_store);
	TEST(struct_fires_on_unmerged_buddies);
	TEST(struct_fires_on_a_dirty_allocation);
	TEST(struct_fires_on_a_malformed_untouched_range);
	TEST(struct_fires_on_metadata_in_the_untouched_range);
	TEST(struct_fires_on_written_untouched_memory);
	TEST(struct_fires_on_a_listed_untouched_block);
	TEST(struct_fires_when_the_untouched_range_is_not_moved);
	TEST(conserve_fires_on_a_double_allocation);
	TEST(conserve_fires_on_a_lost_free);
	TEST(avail_fires_when_a_fitting_block_is_refused);
	TEST(robust_fires_when_mm_panics);
	TEST(reset_leaves_memory_zero);
	return tap_done();
}
