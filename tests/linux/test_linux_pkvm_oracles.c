// SPDX-License-Identifier: MIT
/*
 * The oracles on the Linux kernel's pKVM allocator: quiet on a clean run,
 * and each fires when one rule is broken from the test side (the kernel's
 * pool corrupted through the oracle's own view of its layout, or a fault
 * wrapped around the adapter). A BUG_ON in the kernel's code becomes a
 * ROBUST violation naming the kernel's file and line.
 */
#include <stdlib.h>
#include <string.h>

#include "machine.h"
#include "oracle/linux_pkvm_check.h"
#include "tap.h"
#include "vmtest.h"
#include "workload.h"

#define POOL_PAGES 256

static const struct sim_allocator_ops *kernel;
static struct sim_allocator_ops faulty;

static struct lkp_state *state(struct sim_machine *m)
{
	return sim_machine_allocator(m)->priv;
}

static struct lkp_page *meta(struct sim_machine *m, uint64_t pfn)
{
	return &state(m)->vmemmap[pfn - sim_machine_allocator(m)->base_pfn];
}

static void list_del(struct lkp_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = NULL;
}

static void list_add(struct lkp_list *n, struct lkp_list *head)
{
	n->next = head->next;
	n->prev = head;
	head->next->prev = n;
	head->next = n;
}

static void clean_random_run_is_quiet(void)
{
	struct sim_workload_params p = { .ops = 5000, .seed = 7, .pool_pages = POOL_PAGES, .max_order = 8 };
	struct sim_workload *w = sim_workload_create("alloc-random", &p);
	struct sim_machine *m = vmt_pool_machine(kernel, POOL_PAGES);
	struct sim_op op;

	while (sim_workload_next(w, &op))
		sim_workload_result(w, &op, sim_machine_exec(m, &op, NULL));
	sim_machine_sweep(m);
	sim_machine_finish(m);
	CHECK(sim_machine_stats(m)->ops == 5000);
	CHECK(sim_report_clean(sim_machine_report(m)));
	sim_workload_destroy(w);
	sim_machine_destroy(m);
}

static void pool_has_the_documented_shape(void)
{
	struct sim_machine *m = vmt_pool_machine(kernel, POOL_PAGES);
	uint64_t base = sim_machine_allocator(m)->base_pfn;

	/* 256 pages: order(257 pages) = 9 lists, all of it one order-8 block. */
	CHECK(state(m)->pool->max_order == 9);
	CHECK(sim_machine_allocator(m)->max_order == 8);
	CHECK(meta(m, base)->order == 8 && meta(m, base)->refcount == 0);
	CHECK(meta(m, base + 1)->order == LKP_NO_ORDER);
	CHECK(state(m)->pool->free_area[8].next == vmt_host(m, base));
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 8) == 0);
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 2, 0) == -HVMM_ENOMEM);
	CHECK(sim_report_clean(sim_machine_report(m)));
	sim_machine_destroy(m);
}

static void struct_fires_on_a_tail_with_an_order(void)
{
	struct sim_machine *m = vmt_pool_machine(kernel, POOL_PAGES);
	uint64_t pfn;

	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 2) == 0);
	CHECK(sim_machine_handle(m, 1, &pfn, NULL, NULL));
	meta(m, pfn + 1)->order = 0;
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "lies inside the order-2 block"));
	sim_machine_destroy(m);
}

static void struct_fires_on_a_broken_back_link(void)
{
	struct sim_machine *m = vmt_pool_machine(kernel, POOL_PAGES);
	struct lkp_list *node;
	uint64_t pfn;

	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 0) == 0);
	CHECK(sim_machine_handle(m, 1, &pfn, NULL, NULL));
	node = vmt_host(m, pfn ^ 1);
	node->prev = node;
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "back link"));
	sim_machine_destroy(m);
}

static void struct_fires_on_unzeroed_free_memory(void)
{
	struct sim_machine *m = vmt_pool_machine(kernel, POOL_PAGES);
	uint64_t pfn;

	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 0) == 0);
	CHECK(sim_machine_handle(m, 1, &pfn, NULL, NULL));
	CHECK(vmt_alloc_op(m, SIM_OP_FREE, 1, 0) == 0);
	((uint8_t *)vmt_host(m, pfn))[100] = 0x42;
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "must be scrubbed"));
	sim_machine_destroy(m);
}

static void struct_fires_on_unmerged_buddies(void)
{
	struct sim_machine *m = vmt_pool_machine(kernel, POOL_PAGES);
	struct lkp_pool *pool = state(m)->pool;
	uint64_t base = sim_machine_allocator(m)->base_pfn;
	struct lkp_list *lo = vmt_host(m, base), *hi = vmt_host(m, base + 128);

	list_del(lo);
	meta(m, base)->order = 7;
	meta(m, base + 128)->order = 7;
	list_add(lo, &pool->free_area[7]);
	list_add(hi, &pool->free_area[7]);
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "were not merged"));
	sim_machine_destroy(m);
}

static void struct_fires_on_a_wrong_list_count(void)
{
	struct sim_machine *m = vmt_pool_machine(kernel, POOL_PAGES);

	state(m)->pool->max_order = 8;	/* would refuse order-8 requests the pool can meet */
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "uses 8 free lists (max_order), expected 9"));
	sim_machine_destroy(m);
}

static void struct_fires_on_a_block_on_no_list(void)
{
	struct sim_machine *m = vmt_pool_machine(kernel, POOL_PAGES);
	uint64_t base = sim_machine_allocator(m)->base_pfn;
	struct lkp_list *node = vmt_host(m, base);

	list_del(node);
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, "is on no free list"));
	sim_machine_destroy(m);
}

static int put_does_nothing(struct sim_allocator *a, uint64_t pfn)
{
	return 0;
}

static int alloc_fails_above_order_0(struct sim_allocator *a, unsigned int order, uint64_t *pfn)
{
	return order ? -HVMM_ENOMEM : kernel->alloc(a, order, pfn);
}

static void conserve_fires_on_a_lost_free(void)
{
	struct sim_machine *m;

	faulty = *kernel;
	faulty.put = put_does_nothing;
	m = vmt_pool_machine(&faulty, POOL_PAGES);
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 3) == 0);
	CHECK(vmt_alloc_op(m, SIM_OP_FREE, 1, 0) == 0);
	CHECK(fired(m, SIM_ORACLE_ALLOC_CONSERVE, "a free was lost"));
	sim_machine_destroy(m);
}

static void avail_fires_when_a_fitting_block_is_refused(void)
{
	struct sim_machine *m;

	faulty = *kernel;
	faulty.alloc = alloc_fails_above_order_0;
	m = vmt_pool_machine(&faulty, POOL_PAGES);
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 4) == -HVMM_ENOMEM);
	CHECK(fired(m, SIM_ORACLE_AVAIL, "is free and aligned"));
	sim_machine_destroy(m);
}

static void robust_fires_on_a_kernel_bug_on(void)
{
	struct sim_machine *m = vmt_pool_machine(kernel, POOL_PAGES);
	uint64_t pfn;

	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 0) == 0);
	CHECK(sim_machine_handle(m, 1, &pfn, NULL, NULL));
	meta(m, pfn)->refcount = 0;	/* the executor still holds a reference */
	CHECK(vmt_alloc_op(m, SIM_OP_PUT, 1, 0) == -HVMM_EFAULT);
	CHECK(fired(m, SIM_ORACLE_ROBUST, "page_alloc.c"));
	CHECK(fired(m, SIM_ORACLE_ROBUST, "BUG_ON(!p->refcount)"));
	CHECK(sim_machine_dead(m));
	sim_machine_destroy(m);
}

/*
 * The kernel writes free-list nodes through its own linear map; a reset
 * must still leave every pool page zero (the scrub checks it and aborts
 * otherwise), so the next run starts from what a fresh machine has.
 */
static void reset_leaves_memory_zero(void)
{
	struct sim_machine *m = vmt_pool_machine(kernel, POOL_PAGES);
	struct sim_machine_config cfg = *sim_machine_config(m);
	char err[256];

	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 0) == 0);	/* splits: list nodes in 8 more pages */
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 2, 3) == 0);
	sim_physmem_check_scrubs = true;
	CHECK(sim_machine_reset(m, &cfg, err, sizeof(err)) == 0);
	sim_physmem_check_scrubs = false;
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 8) == 0);	/* the whole pool again */
	sim_machine_finish(m);
	CHECK(sim_report_clean(sim_machine_report(m)));
	sim_machine_destroy(m);
}

int main(void)
{
	kernel = sim_allocator_find("linux-pkvm");
	if (!kernel) {
		printf("1..0 # SKIP the kernel allocator is not built (-Dlinux_source)\n");
		return 0;
	}
	TEST(clean_random_run_is_quiet);
	TEST(pool_has_the_documented_shape);
	TEST(struct_fires_on_a_tail_with_an_order);
	TEST(struct_fires_on_a_broken_back_link);
	TEST(struct_fires_on_unzeroed_free_memory);
	TEST(struct_fires_on_unmerged_buddies);
	TEST(struct_fires_on_a_wrong_list_count);
	TEST(struct_fires_on_a_block_on_no_list);
	TEST(conserve_fires_on_a_lost_free);
	TEST(avail_fires_when_a_fitting_block_is_refused);
	TEST(robust_fires_on_a_kernel_bug_on);
	TEST(reset_leaves_memory_zero);
	return tap_done();
}
