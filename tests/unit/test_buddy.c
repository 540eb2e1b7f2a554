// SPDX-License-Identifier: MIT
/*
 * Functional tests of mm/buddy.c through its own API: capacity cases,
 * coalescing, zeroing, refcounting, splitting, outside pages, and misuse
 * that must end in the platform panic.
 */
#include <stdlib.h>
#include <string.h>

#include <hvmm/buddy.h>

#include "tap.h"
#include "testmem.h"

#define RAM_BASE	0x80000000ULL		/* pfn 0x80000: aligned to 2^19 pages */
#define RAM_PFN		(RAM_BASE >> HVMM_PAGE_SHIFT)

static struct sim_physmem pm;
static struct hvmm_pool pool;

static uint64_t pfn_of(void *va)
{
	return sim_physmem_host_to_pa(&pm, va) >> HVMM_PAGE_SHIFT;
}

static uint64_t count_free_blocks(struct hvmm_pool *p, unsigned int order)
{
	uint64_t n = 0;

	for (struct hvmm_list *l = p->free_area[order].next; l != &p->free_area[order]; l = l->next)
		n++;
	return n;
}

/* Maximal blocks the pool has never listed (mm/buddy.c lists them on demand). */
static uint64_t untouched_blocks(struct hvmm_pool *p)
{
	return (p->untouched_end - p->untouched) >> p->max_order;
}

/* Free blocks of @p's largest order, listed or not. */
static uint64_t free_max_blocks(struct hvmm_pool *p)
{
	return count_free_blocks(p, p->max_order) + untouched_blocks(p);
}

static void pow2_pool_is_one_block(void)
{
	for (unsigned int k = 0; k <= HVMM_BUDDY_MAX_ORDER; k++) {
		void *all, *one;

		CHECK(hvmm_pool_init(&pool, RAM_PFN, 1ULL << k, 0) == 0);
		CHECK_MSG(pool.max_order == k, "k=%u max_order=%u", k, pool.max_order);
		CHECK(count_free_blocks(&pool, k) == 0 && untouched_blocks(&pool) == 1);
		all = hvmm_alloc_pages(&pool, (u8)k);
		CHECK_MSG(all && pfn_of(all) == RAM_PFN, "k=%u", k);
		one = hvmm_alloc_pages(&pool, 0);
		CHECK(one == NULL);
		if (all)
			hvmm_put_page(&pool, all);
		CHECK(hvmm_pool_free_pages(&pool) == 1ULL << k);
		CHECK(count_free_blocks(&pool, k) == 1 && untouched_blocks(&pool) == 0);
	}
}

/* Twice the largest block: two blocks of the largest order, never merged. */
static void pool_of_two_max_blocks(void)
{
	enum { MAX = HVMM_BUDDY_MAX_ORDER };
	void *a, *b;

	CHECK(hvmm_pool_init(&pool, RAM_PFN, 2ULL << MAX, 0) == 0);
	CHECK(pool.max_order == MAX);
	CHECK(free_max_blocks(&pool) == 2);
	a = hvmm_alloc_pages(&pool, MAX);
	b = hvmm_alloc_pages(&pool, MAX);
	CHECK(a && b && a != b);
	CHECK(hvmm_alloc_pages(&pool, 0) == NULL);
	if (a)
		hvmm_put_page(&pool, a);
	if (b)
		hvmm_put_page(&pool, b);
	CHECK(count_free_blocks(&pool, MAX) == 2 && untouched_blocks(&pool) == 0);
}

static void max_order_is_capped(void)
{
	void *a;

	CHECK(hvmm_pool_init(&pool, RAM_PFN, 1ULL << (HVMM_BUDDY_MAX_ORDER + 2), 0) == 0);
	CHECK(pool.max_order == HVMM_BUDDY_MAX_ORDER);
	CHECK(hvmm_alloc_pages(&pool, HVMM_BUDDY_MAX_ORDER + 1) == NULL);
	CHECK(hvmm_alloc_pages(&pool, 255) == NULL);
	a = hvmm_alloc_pages(&pool, HVMM_BUDDY_MAX_ORDER);
	CHECK(a != NULL);
	if (a)
		hvmm_put_page(&pool, a);
	CHECK(count_free_blocks(&pool, HVMM_BUDDY_MAX_ORDER) == 1 && untouched_blocks(&pool) == 3);
}

static void freeing_everything_recoalesces(void)
{
	enum { N = 1024 };
	void **pages = calloc(N, sizeof(*pages));
	uint64_t seed = 12345;

	CHECK(hvmm_pool_init(&pool, RAM_PFN, N, 0) == 0);
	for (int i = 0; i < N; i++) {
		pages[i] = hvmm_alloc_pages(&pool, 0);
		CHECK(pages[i] != NULL);
	}
	CHECK(hvmm_alloc_pages(&pool, 0) == NULL);
	/* Free in a shuffled order. */
	for (int i = N - 1; i > 0; i--) {
		int j;
		void *t;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		j = (int)((seed >> 33) % (uint64_t)(i + 1));
		t = pages[i];
		pages[i] = pages[j];
		pages[j] = t;
	}
	for (int i = 0; i < N; i++)
		if (pages[i])
			hvmm_put_page(&pool, pages[i]);
	for (unsigned int o = 0; o < 10; o++)
		CHECK_MSG(count_free_blocks(&pool, o) == 0, "order %u", o);
	CHECK(count_free_blocks(&pool, 10) == 1);
	free(pages);
}

static void reserved_pages_are_never_handed_out(void)
{
	uint64_t got = 0;
	void *p;

	CHECK(hvmm_pool_init(&pool, RAM_PFN, 64, 5) == 0);
	CHECK(hvmm_pool_free_pages(&pool) == 59);
	while ((p = hvmm_alloc_pages(&pool, 0))) {
		CHECK(pfn_of(p) >= RAM_PFN + 5 && pfn_of(p) < RAM_PFN + 64);
		got++;
	}
	CHECK(got == 59);
}

static void unaligned_pool_blocks_are_physically_aligned(void)
{
	void *p;

	/*
	 * 100 pages from pfn 0x80003: blocks must still be aligned in PA space.
	 * The range holds aligned blocks of every order up to 5 (two of 32
	 * pages, at +32 and +64), so each of these allocations must succeed.
	 */
	CHECK(hvmm_pool_init(&pool, RAM_PFN + 3, 100, 0) == 0);
	for (unsigned int o = 0; o <= 5; o++) {
		p = hvmm_alloc_pages(&pool, (u8)o);
		CHECK_MSG(p != NULL, "order %u", o);
		if (!p)
			continue;
		CHECK_MSG((pfn_of(p) & ((1ULL << o) - 1)) == 0, "order %u pfn 0x%llx", o,
			  (unsigned long long)pfn_of(p));
		CHECK(pfn_of(p) >= RAM_PFN + 3 && pfn_of(p) + (1ULL << o) <= RAM_PFN + 103);
	}
	/* ... but no aligned 64-page block. */
	CHECK(hvmm_alloc_pages(&pool, 6) == NULL);
	CHECK(hvmm_alloc_pages(&pool, 7) == NULL);
}

static void freed_memory_is_zeroed(void)
{
	uint8_t *p, *q;

	CHECK(hvmm_pool_init(&pool, RAM_PFN, 16, 0) == 0);
	p = hvmm_alloc_pages(&pool, 2);
	CHECK(p != NULL);
	memset(p, 0xa5, 4 * HVMM_PAGE_SIZE);
	hvmm_put_page(&pool, p);
	q = hvmm_alloc_pages(&pool, 4);
	CHECK(q != NULL);
	for (size_t i = 0; q && i < 16 * HVMM_PAGE_SIZE; i++) {
		if (q[i]) {
			CHECK_MSG(q[i] == 0, "byte %zu is 0x%02x", i, q[i]);
			break;
		}
	}
}

static void refcount_frees_at_zero(void)
{
	void *p;

	CHECK(hvmm_pool_init(&pool, RAM_PFN, 4, 0) == 0);
	p = hvmm_alloc_pages(&pool, 2);
	CHECK(p != NULL);
	hvmm_get_page(&pool, p);
	hvmm_get_page(&pool, p);
	CHECK(hvmm_virt_to_page(p)->refcount == 3);
	hvmm_put_page(&pool, p);
	hvmm_put_page(&pool, p);
	CHECK(hvmm_alloc_pages(&pool, 0) == NULL);	/* still held */
	hvmm_put_page(&pool, p);
	CHECK(hvmm_pool_free_pages(&pool) == 4);
}

static void split_pages_free_independently(void)
{
	uint8_t *p;

	CHECK(hvmm_pool_init(&pool, RAM_PFN, 8, 0) == 0);
	p = hvmm_alloc_pages(&pool, 3);
	CHECK(p != NULL);
	hvmm_split_page(&pool, p);
	for (int i = 0; i < 8; i++) {
		struct hvmm_page *pg = hvmm_virt_to_page(p + i * HVMM_PAGE_SIZE);

		CHECK(hvmm_page_is_head(pg) && hvmm_page_order(pg) == 0 && pg->refcount == 1);
	}
	/* Free all but page 5: nothing reaches order 3. */
	for (int i = 0; i < 8; i++)
		if (i != 5)
			hvmm_put_page(&pool, p + i * HVMM_PAGE_SIZE);
	CHECK(hvmm_alloc_pages(&pool, 3) == NULL);
	CHECK(count_free_blocks(&pool, 2) == 1 && count_free_blocks(&pool, 1) == 1 &&
	      count_free_blocks(&pool, 0) == 1);
	hvmm_put_page(&pool, p + 5 * HVMM_PAGE_SIZE);
	CHECK(count_free_blocks(&pool, 3) == 1);
}

static void outside_pages_are_accepted_without_coalescing(void)
{
	struct hvmm_pool other;
	void *foreign, *again;

	/* Pool A at the start of RAM, pool B beyond it. */
	CHECK(hvmm_pool_init(&pool, RAM_PFN, 16, 0) == 0);
	CHECK(hvmm_pool_init(&other, RAM_PFN + 64, 16, 0) == 0);
	foreign = hvmm_alloc_pages(&pool, 0);
	CHECK(foreign != NULL);
	memset(foreign, 0x5a, HVMM_PAGE_SIZE);
	hvmm_put_page(&other, foreign);
	CHECK(count_free_blocks(&other, 0) == 1);	/* not merged with anything */
	CHECK(free_max_blocks(&other) == 1);	/* B's own range is intact */
	CHECK(hvmm_pool_free_pages(&other) == 17);
	/* The only order-0 block is the foreign page: it comes back, scrubbed. */
	again = hvmm_alloc_pages(&other, 0);
	CHECK(again == foreign);
	CHECK(again && ((uint8_t *)again)[100] == 0);
	CHECK(free_max_blocks(&other) == 1);
}

/*
 * A pool's maximal blocks are listed only when nothing smaller is free,
 * lowest first, and a maximal block given back is used again before a
 * new one: set-up on zeroed memory writes nothing in them, so their
 * vmemmap entries and memory stay as the host gave them.
 */
static void untouched_blocks_are_listed_on_demand(void)
{
	enum { MAX = HVMM_BUDDY_MAX_ORDER };
	/* From pfn +3: blocks of orders 0..9 below +1024, then three maximal blocks, then 100 pages. */
	uint64_t nr = (4ULL << MAX) - 3 + 100, lo = RAM_PFN + (1ULL << MAX);
	void *p, *big;

	CHECK(hvmm_pool_init_zeroed(&pool, RAM_PFN + 3, nr, 0) == 0);
	CHECK(untouched_blocks(&pool) == 3 && count_free_blocks(&pool, MAX) == 0);
	CHECK(pool.untouched == lo - RAM_PFN - 3);
	CHECK(hvmm_pool_free_pages(&pool) == nr);
	for (uint64_t pfn = lo; pfn < lo + (3ULL << MAX); pfn++)
		if (hvmm_page_is_head(hvmm_pfn_to_page(pfn)) || *(u64 *)testmem_pfn(&pm, pfn))
			CHECK_MSG(0, "set-up wrote pfn 0x%llx", (unsigned long long)pfn);
	/* An order-9 request takes the listed order-9 block below the range. */
	p = hvmm_alloc_pages(&pool, 9);
	CHECK(p && pfn_of(p) < lo && untouched_blocks(&pool) == 3);
	/* Nothing of order 9 or 10 is listed any more: the lowest untouched block is. */
	big = hvmm_alloc_pages(&pool, 9);
	CHECK(big && pfn_of(big) == lo && untouched_blocks(&pool) == 2);
	CHECK(count_free_blocks(&pool, 9) == 1);	/* its upper half */
	hvmm_put_page(&pool, big);
	CHECK(count_free_blocks(&pool, MAX) == 1 && untouched_blocks(&pool) == 2);
	big = hvmm_alloc_pages(&pool, MAX);
	CHECK(big && pfn_of(big) == lo && untouched_blocks(&pool) == 2);
	CHECK(hvmm_pool_free_pages(&pool) == nr - (1ULL << 9) - (1ULL << MAX));
	for (int i = 0; i < 2; i++) {
		p = hvmm_alloc_pages(&pool, MAX);
		CHECK(p && pfn_of(p) == lo + ((1ULL + i) << MAX));
	}
	CHECK(untouched_blocks(&pool) == 0 && hvmm_alloc_pages(&pool, MAX) == NULL);
}

static void init_rejects_bad_ranges(void)
{
	CHECK(hvmm_pool_init(&pool, RAM_PFN, 0, 0) == -HVMM_EINVAL);
	CHECK(hvmm_pool_init(&pool, RAM_PFN, 4, 5) == -HVMM_EINVAL);
	CHECK(hvmm_pool_init(&pool, UINT64_MAX - 2, 8, 0) == -HVMM_EINVAL);
	CHECK(hvmm_pool_init(&pool, RAM_PFN - 1, 8, 0) == -HVMM_ERANGE);
	CHECK(hvmm_pool_init(&pool, RAM_PFN + (64ULL << 20 >> 12) - 4, 8, 0) == -HVMM_ERANGE);
}

/* --- misuse: reported through the platform panic ----------------------- */

static void *misuse_page;

static void do_put(void *arg) { hvmm_put_page(&pool, arg); }
static void do_get(void *arg) { hvmm_get_page(&pool, arg); }
static void do_split(void *arg) { hvmm_split_page(&pool, arg); }

static void misuse_panics(void)
{
	const char *what = NULL;
	int on_stack;
	uint8_t *blk;

	CHECK(hvmm_pool_init(&pool, RAM_PFN, 16, 0) == 0);
	misuse_page = hvmm_alloc_pages(&pool, 0);
	CHECK(misuse_page != NULL);
	if (misuse_page)
		hvmm_put_page(&pool, misuse_page);

	CHECK(testmem_panics(do_put, misuse_page, &what));
	CHECK_MSG(what && strstr(what, "refcount 0"), "double free said: %s", what ? what : "nothing");

	CHECK(hvmm_pool_init(&pool, RAM_PFN, 16, 0) == 0);
	CHECK(testmem_panics(do_get, testmem_pfn(&pm, RAM_PFN + 3), &what));
	CHECK_MSG(what && (strstr(what, "free page") || strstr(what, "heads no block")),
		  "get on free page said: %s", what ? what : "nothing");

	/* A panic leaves the pool as it was, lock held: start afresh each time. */
	CHECK(hvmm_pool_init(&pool, RAM_PFN, 16, 0) == 0);
	CHECK(testmem_panics(do_put, &on_stack, &what));
	CHECK_MSG(what && strstr(what, "not in the linear map"), "wild put said: %s",
		  what ? what : "nothing");

	CHECK(hvmm_pool_init(&pool, RAM_PFN, 16, 0) == 0);
	CHECK(testmem_panics(do_split, testmem_pfn(&pm, RAM_PFN), &what));
	CHECK_MSG(what && strstr(what, "split"), "split of free block said: %s",
		  what ? what : "nothing");

	CHECK(hvmm_pool_init(&pool, RAM_PFN, 16, 0) == 0);
	blk = hvmm_alloc_pages(&pool, 2);
	CHECK(blk != NULL);
	CHECK(testmem_panics(do_put, blk + HVMM_PAGE_SIZE, &what));
	CHECK_MSG(what && strstr(what, "heads no block"), "put on tail said: %s",
		  what ? what : "nothing");
}

int main(void)
{
	testmem_init(&pm, RAM_BASE, 64ULL << 20);
	TEST(pow2_pool_is_one_block);
	TEST(pool_of_two_max_blocks);
	TEST(freeing_everything_recoalesces);
	TEST(reserved_pages_are_never_handed_out);
	TEST(unaligned_pool_blocks_are_physically_aligned);
	TEST(freed_memory_is_zeroed);
	TEST(refcount_frees_at_zero);
	TEST(split_pages_free_independently);
	TEST(outside_pages_are_accepted_without_coalescing);
	TEST(init_rejects_bad_ranges);
	TEST(misuse_panics);
	testmem_fini(&pm);

	/* A machine big enough for four blocks of the largest order. */
	testmem_init(&pm, RAM_BASE, HVMM_PAGE_SIZE << (HVMM_BUDDY_MAX_ORDER + 2));
	TEST(max_order_is_capped);
	testmem_fini(&pm);

	/* Fresh (zero) memory and metadata, as hvmm_pool_init_zeroed() asks. */
	testmem_init(&pm, RAM_BASE, HVMM_PAGE_SIZE << (HVMM_BUDDY_MAX_ORDER + 3));
	TEST(untouched_blocks_are_listed_on_demand);
	testmem_fini(&pm);
	return tap_done();
}
