// SPDX-License-Identifier: MIT
/*
 * Negative tests of the heap oracles (HEAP-STRUCT, HEAP-CONSERVE, AVAIL):
 * each breaks one rule from the test side, by corrupting mm/heap.c's state
 * or the executor's shadow, and checks that the right oracle fires with a
 * message that says what broke. A clean churn with a full sweep every
 * five ops shows first that they are quiet when nothing is wrong.
 */
#include <stdlib.h>
#include <string.h>

#include <hvmm/heap.h>

#include "machine.h"
#include "machine_heap.h"
#include "tap.h"
#include "workload.h"

#define MIN HVMM_HEAP_MIN_SIZE

static struct sim_machine *new_machine(enum sim_oracle_level level)
{
	struct sim_machine_config cfg;
	struct sim_machine *m;
	char err[256];

	sim_machine_config_default(&cfg);
	cfg.pool_pages = 1024;
	cfg.oracles = level;
	cfg.sweep_interval = 5;	/* a full sweep every few ops (FULL: after every op is slow under ASan) */
	m = sim_machine_create(&cfg, err, sizeof(err));
	if (!m) {
		printf("# cannot create machine: %s\n", err);
		exit(99);
	}
	return m;
}

static struct sim_heapstate *hs(struct sim_machine *m)
{
	return sim_machine_heap(m);
}

static int halloc(struct sim_machine *m, uint32_t h, uint64_t size, uint64_t align)
{
	struct sim_op op = { .kind = SIM_OP_HALLOC, .h = h, .a = size, .b = align };

	return sim_machine_exec(m, &op, NULL);
}

static int hfree(struct sim_machine *m, uint32_t h)
{
	struct sim_op op = { .kind = SIM_OP_HFREE, .h = h };

	return sim_machine_exec(m, &op, NULL);
}

static int hreclaim(struct sim_machine *m)
{
	struct sim_op op = { .kind = SIM_OP_HRECLAIM };

	return sim_machine_exec(m, &op, NULL);
}

static uint8_t *addr_of(struct sim_machine *m, uint32_t h)
{
	return (uint8_t *)hs(m)->handles[h].addr;
}

/* True if @oracle reported a violation whose message contains @what. */
static bool fired(struct sim_machine *m, enum sim_oracle_id oracle, const char *what)
{
	const struct sim_report *r = sim_machine_report(m);

	for (unsigned int i = 0; i < r->kept; i++)
		if (r->first[i].oracle == oracle && strstr(r->first[i].msg, what))
			return true;
	for (unsigned int i = 0; i < r->kept; i++)
		printf("#   got: %s: %s\n", sim_oracle_name(r->first[i].oracle), r->first[i].msg);
	return false;
}

static bool only(struct sim_machine *m, enum sim_oracle_id oracle)
{
	const struct sim_report *r = sim_machine_report(m);

	return r->total && r->by_oracle[oracle] == r->total;
}

/* Free-list surgery, as a broken heap would leave it. */
static void link_free(struct hvmm_heap *heap, struct hvmm_heap_chunk *c, uint64_t off, unsigned int order)
{
	c->meta[off / MIN] = HVMM_HEAP_META_FREE | order;
	hvmm_list_add_tail((struct hvmm_list *)(c->va + off), &heap->free_area[order]);
}

static void unlink_free(struct hvmm_heap_chunk *c, uint64_t off)
{
	hvmm_list_del((struct hvmm_list *)(c->va + off));
	c->meta[off / MIN] = 0;
}

/* A machine whose heap holds h1 = 32 bytes at chunk offset 0 (the rest free: 32@32, 64@64, ...). */
static struct sim_machine *one_block(enum sim_oracle_level level)
{
	struct sim_machine *m = new_machine(level);

	CHECK(halloc(m, 1, 32, 0) == 0);
	CHECK(addr_of(m, 1) == hs(m)->heap.chunks[0].va);
	CHECK(sim_report_clean(sim_machine_report(m)));
	return m;
}

static void clean_churn_is_quiet(void)
{
	struct sim_workload_params p = { .ops = 3000, .seed = 3, .pool_pages = 1024 };
	struct sim_workload *w = sim_workload_create("heap-churn", &p);
	struct sim_machine *m = new_machine(SIM_ORACLES_INCREMENTAL);
	struct sim_op op;

	while (sim_workload_next(w, &op))
		sim_workload_result(w, &op, sim_machine_exec(m, &op, NULL));
	sim_machine_finish(m);
	CHECK(sim_machine_stats(m)->by_kind[SIM_OP_HALLOC] > 1000);
	CHECK(sim_machine_stats(m)->sweeps >= 600);
	CHECK(sim_report_clean(sim_machine_report(m)));
	sim_workload_destroy(w);
	sim_machine_destroy(m);
}

/* --- HEAP-STRUCT ----------------------------------------------------------------- */

static void struct_misaligned_alloc(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);
	struct hvmm_heap_chunk *c = &hs(m)->heap.chunks[0];

	unlink_free(c, 32);
	link_free(&hs(m)->heap, c, 48, 1);	/* a 32-byte block at an odd multiple of 16 */
	CHECK(halloc(m, 2, 32, 0) == 0);
	CHECK(fired(m, SIM_ORACLE_HEAP_STRUCT, "not aligned"));
	sim_machine_destroy(m);
}

static void struct_alloc_metadata(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);

	hs(m)->heap.chunks[0].meta[0] = HVMM_HEAP_META_ALLOC | 2;	/* recorded as 64 bytes */
	sim_heap_check_alloc(&hs(m)->heap, &hs(m)->shadow, sim_machine_report(m),
			     (uintptr_t)addr_of(m, 1), 32, 0);
	CHECK(fired(m, SIM_ORACLE_HEAP_STRUCT, "allocated block"));
	CHECK(only(m, SIM_ORACLE_HEAP_STRUCT));
	sim_machine_destroy(m);
}

static void struct_alloc_outside(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);

	hs(m)->shadow.held[0].addr ^= 1ULL << 40;	/* the shadow no longer vouches for it */
	hs(m)->shadow.held[1].addr ^= 1ULL << 40;
	CHECK(halloc(m, 2, 16, 0) == 0);
	CHECK(fired(m, SIM_ORACLE_HEAP_STRUCT, "not inside a chunk"));
	sim_machine_destroy(m);
}

static void struct_free_not_merged(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);
	struct hvmm_heap_chunk *c = &hs(m)->heap.chunks[0];

	CHECK(hfree(m, 1) == 0);
	CHECK(sim_report_clean(sim_machine_report(m)));
	/* Undo the last merge: the chunk as two free halves. */
	unlink_free(c, 0);
	link_free(&hs(m)->heap, c, 0, hs(m)->heap.chunk_order - 1);
	link_free(&hs(m)->heap, c, hs(m)->shadow.chunk_bytes / 2, hs(m)->heap.chunk_order - 1);
	sim_heap_check_free(&hs(m)->heap, &hs(m)->shadow, sim_machine_report(m),
			    (uintptr_t)c->va, 32);
	CHECK(fired(m, SIM_ORACLE_HEAP_STRUCT, "buddies maximally merged"));
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_HEAP_STRUCT, "free buddies were not merged"));
	sim_machine_destroy(m);
}

static void struct_free_unlinked(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);
	struct hvmm_list *node;

	CHECK(hfree(m, 1) == 0);
	node = (struct hvmm_list *)hs(m)->heap.chunks[0].va;
	node->prev = node;
	sim_heap_check_free(&hs(m)->heap, &hs(m)->shadow, sim_machine_report(m), (uintptr_t)node, 32);
	CHECK(fired(m, SIM_ORACLE_HEAP_STRUCT, "not linked on a free list both ways"));
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_HEAP_STRUCT, "prev link does not point back"));
	sim_machine_destroy(m);
}

static void struct_list_node_outside(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);
	static struct hvmm_list stray;

	hvmm_list_add_tail(&stray, &hs(m)->heap.free_area[0]);
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_HEAP_STRUCT, "not a block inside a chunk"));
	hvmm_list_del(&stray);
	sim_machine_destroy(m);
}

static void struct_free_blocks_overlap(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);

	link_free(&hs(m)->heap, &hs(m)->heap.chunks[0], 80, 0);	/* inside the free 64@64 */
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_HEAP_STRUCT, "overlap"));
	sim_machine_destroy(m);
}

static void struct_metadata(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);

	hs(m)->heap.chunks[0].meta[5] = HVMM_HEAP_META_ALLOC;	/* inside the free 64@64 */
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_HEAP_STRUCT, "metadata byte of"));
	CHECK(only(m, SIM_ORACLE_HEAP_STRUCT));
	sim_machine_destroy(m);
}

static void struct_chunk_order(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);
	struct hvmm_heap *heap = &hs(m)->heap;
	struct hvmm_heap_chunk t;

	CHECK(halloc(m, 2, hs(m)->shadow.chunk_bytes, 0) == 0);	/* a second chunk */
	CHECK(heap->nr_chunks == 2);
	t = heap->chunks[0];
	heap->chunks[0] = heap->chunks[1];
	heap->chunks[1] = t;
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_HEAP_STRUCT, "chunk table out of order"));
	sim_machine_destroy(m);
}

static void struct_refusal(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);

	hs(m)->shadow.chunk_bytes /= 2;	/* by the contract, this request is now too large */
	CHECK(halloc(m, 2, hs(m)->shadow.chunk_bytes + 1, 0) == 0);
	CHECK(fired(m, SIM_ORACLE_HEAP_STRUCT, "must be refused"));
	sim_machine_destroy(m);
}

/* --- HEAP-CONSERVE ---------------------------------------------------------------- */

static void conserve_free_list_holds_live(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);

	link_free(&hs(m)->heap, &hs(m)->heap.chunks[0], 0, 1);	/* h1's block listed as free */
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_HEAP_CONSERVE, "overlaps live allocation h1"));
	/* The heap is known broken now: the executor no longer calls into it. */
	CHECK(halloc(m, 2, 32, 0) == -HVMM_EFAULT);
	CHECK(hfree(m, 1) == -HVMM_EFAULT);
	sim_machine_destroy(m);
}

static void conserve_handed_out_twice(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);

	link_free(&hs(m)->heap, &hs(m)->heap.chunks[0], 0, 1);	/* h1's block listed as free */
	/* Lists are taken from the front: the genuine 32@32 goes first, then h1's block. */
	CHECK(halloc(m, 2, 32, 0) == 0);
	CHECK(halloc(m, 3, 32, 0) == 0);
	CHECK(fired(m, SIM_ORACLE_HEAP_CONSERVE, "overlapping live allocation h1"));
	sim_machine_destroy(m);
}

static void conserve_chunk_count(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);

	hs(m)->heap.nr_chunks++;
	sim_machine_sweep(m);
	hs(m)->heap.nr_chunks--;
	CHECK(fired(m, SIM_ORACLE_HEAP_CONSERVE, "page blocks from the page allocator"));
	sim_machine_destroy(m);
}

static void conserve_chunk_not_taken(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);
	uint8_t *meta = hs(m)->heap.chunks[0].meta;

	hs(m)->heap.chunks[0].meta = meta + HVMM_PAGE_SIZE;
	sim_machine_sweep(m);
	hs(m)->heap.chunks[0].meta = meta;
	CHECK(fired(m, SIM_ORACLE_HEAP_CONSERVE, "is not a chunk and metadata pages"));
	sim_machine_destroy(m);
}

static void conserve_live_outside(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);
	static uint64_t elsewhere[8];
	struct sim_heap_live other;

	CHECK(sim_heap_shadow_add(&hs(m)->shadow, (uintptr_t)elsewhere, 64, 9, &other));
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_HEAP_CONSERVE, "not inside any chunk"));
	sim_machine_destroy(m);
}

static void conserve_lost_free_block(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);

	hvmm_list_del((struct hvmm_list *)(hs(m)->heap.chunks[0].va + 64));	/* meta kept */
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_HEAP_CONSERVE, "!= 1 chunks of"));
	sim_machine_destroy(m);
}

static void conserve_reclaim_keeps_free_chunk(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);
	struct hvmm_heap_chunk *c = &hs(m)->heap.chunks[0];
	uint64_t half = hs(m)->shadow.chunk_bytes / 2;

	CHECK(hfree(m, 1) == 0);
	unlink_free(c, 0);
	link_free(&hs(m)->heap, c, 0, hs(m)->heap.chunk_order - 1);
	link_free(&hs(m)->heap, c, half, hs(m)->heap.chunk_order - 1);
	CHECK(hreclaim(m) == 0);
	CHECK(fired(m, SIM_ORACLE_HEAP_CONSERVE, "reclaim kept chunk"));
	sim_machine_destroy(m);
}

static void conserve_gives_back_unknown(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);

	CHECK(hfree(m, 1) == 0);
	for (uint32_t i = 0; i < hs(m)->shadow.nr_held; i++)
		hs(m)->shadow.held[i].addr ^= 1ULL << 40;
	CHECK(hreclaim(m) == 0);
	CHECK(fired(m, SIM_ORACLE_HEAP_CONSERVE, "not a block it took"));
	sim_machine_destroy(m);
}

static void conserve_free_refused(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);

	hs(m)->heap.chunks[0].meta[0] = HVMM_HEAP_META_FREE | 1;
	CHECK(hfree(m, 1) == -HVMM_ENOENT);
	CHECK(fired(m, SIM_ORACLE_HEAP_CONSERVE, "refused"));
	sim_machine_destroy(m);
}

/* --- AVAIL --------------------------------------------------------------------------- */

static void avail_free_memory_unused(void)
{
	struct sim_machine *m = one_block(SIM_ORACLES_INCREMENTAL);
	struct hvmm_heap *heap = &hs(m)->heap;

	/* Every free block off its list (metadata kept), and no room to grow. */
	for (unsigned int o = 0; o <= HVMM_HEAP_MAX_ORDER; o++)
		while (!hvmm_list_empty(&heap->free_area[o]))
			hvmm_list_del(heap->free_area[o].next);
	heap->max_chunks = heap->nr_chunks;
	hs(m)->shadow.max_chunks = heap->nr_chunks;
	CHECK(halloc(m, 2, 100, 0) == -HVMM_ENOMEM);
	CHECK(fired(m, SIM_ORACLE_AVAIL, "holds no live allocation"));
	CHECK(only(m, SIM_ORACLE_AVAIL));
	sim_machine_destroy(m);
}

static void avail_did_not_grow(void)
{
	struct sim_machine *m = new_machine(SIM_ORACLES_INCREMENTAL);

	CHECK(halloc(m, 1, hs(m)->shadow.chunk_bytes, 0) == 0);	/* one full chunk */
	hs(m)->heap.max_chunks = 1;	/* the heap believes it may not grow */
	CHECK(halloc(m, 2, 16, 0) == -HVMM_ENOMEM);
	CHECK(fired(m, SIM_ORACLE_AVAIL, "without asking the page allocator"));
	CHECK(only(m, SIM_ORACLE_AVAIL));
	sim_machine_destroy(m);
}

static void failure_at_the_limit_is_allowed(void)
{
	struct sim_machine *m = new_machine(SIM_ORACLES_INCREMENTAL);
	uint32_t h = 1;

	/* Chunks until the pool (1024 pages, 17 per chunk) or the heap's limit runs out. */
	while (h <= SIM_HEAP_MAX_CHUNKS && halloc(m, h, hs(m)->shadow.chunk_bytes, 0) == 0)
		h++;
	CHECK(h > 50);
	CHECK(halloc(m, 100, 16, 0) == -HVMM_ENOMEM);
	CHECK(halloc(m, 101, 0, 0) == -HVMM_EINVAL);
	CHECK(halloc(m, 102, 16, 3) == -HVMM_EINVAL);
	CHECK(hfree(m, 100) == -HVMM_ENOENT);
	CHECK(sim_report_clean(sim_machine_report(m)));
	sim_machine_destroy(m);
}

int main(void)
{
	TEST(clean_churn_is_quiet);
	TEST(struct_misaligned_alloc);
	TEST(struct_alloc_metadata);
	TEST(struct_alloc_outside);
	TEST(struct_free_not_merged);
	TEST(struct_free_unlinked);
	TEST(struct_list_node_outside);
	TEST(struct_free_blocks_overlap);
	TEST(struct_metadata);
	TEST(struct_chunk_order);
	TEST(struct_refusal);
	TEST(conserve_free_list_holds_live);
	TEST(conserve_handed_out_twice);
	TEST(conserve_chunk_count);
	TEST(conserve_chunk_not_taken);
	TEST(conserve_live_outside);
	TEST(conserve_lost_free_block);
	TEST(conserve_reclaim_keeps_free_chunk);
	TEST(conserve_gives_back_unknown);
	TEST(conserve_free_refused);
	TEST(avail_free_memory_unused);
	TEST(avail_did_not_grow);
	TEST(failure_at_the_limit_is_allowed);
	return tap_done();
}
