// SPDX-License-Identifier: MIT
/*
 * Functional tests of mm/heap.c through its own API, over a real buddy
 * pool as its page source: capacity cases, re-merging, alignment,
 * growth and reclaim, refused requests, and misuse reported by error code
 * with the heap left unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include <hvmm/buddy.h>
#include <hvmm/heap.h>

#include "tap.h"
#include "testmem.h"

#define RAM_BASE	0x80000000ULL
#define RAM_PFN		(RAM_BASE >> HVMM_PAGE_SHIFT)
#define POOL_PAGES	4096u

static struct sim_physmem pm;
static struct hvmm_pool pool;
static struct hvmm_heap heap;

static void setup(u8 chunk_page_order, u32 max_chunks)
{
	CHECK(hvmm_pool_init(&pool, RAM_PFN, POOL_PAGES, 0) == 0);
	CHECK(hvmm_heap_init(&heap, &hvmm_heap_pool_pages, &pool, chunk_page_order, max_chunks) == 0);
}

static uint64_t list_len(unsigned int order)
{
	uint64_t n = 0;

	for (struct hvmm_list *l = heap.free_area[order].next; l != &heap.free_area[order]; l = l->next)
		n++;
	return n;
}

/* Every chunk is one free block and no other list holds anything. */
static bool all_chunks_whole(void)
{
	for (unsigned int o = 0; o <= HVMM_HEAP_MAX_ORDER; o++)
		if (list_len(o) != (o == heap.chunk_order ? heap.nr_chunks : 0))
			return false;
	return true;
}

static void pow2_heap_is_one_block(void)
{
	for (u8 k = 0; k <= 6; k++) {
		u64 bytes = HVMM_PAGE_SIZE << k;
		void *all, *more;

		setup(k, 1);
		all = hvmm_heap_alloc(&heap, bytes, 1);
		CHECK_MSG(all && heap.nr_chunks == 1 && all == heap.chunks[0].va, "k=%u", k);
		more = hvmm_heap_alloc(&heap, 1, 1);
		CHECK_MSG(more == NULL, "k=%u: a full 2^k heap handed out more", k);
		CHECK(hvmm_heap_free_bytes(&heap) == 0);
		CHECK(hvmm_heap_free(&heap, all, bytes, 1) == 0);
		CHECK(hvmm_heap_free_bytes(&heap) == bytes);
		CHECK(list_len(heap.chunk_order) == 1);
		/* And once more: the merged block is whole again. */
		all = hvmm_heap_alloc(&heap, bytes, HVMM_PAGE_SIZE);
		CHECK(all == heap.chunks[0].va);
		CHECK(hvmm_heap_free(&heap, all, bytes, HVMM_PAGE_SIZE) == 0);
	}
}

static void minimum_blocks_fill_a_chunk(void)
{
	enum { N = HVMM_PAGE_SIZE / HVMM_HEAP_MIN_SIZE };
	static void *p[N];

	setup(0, 1);
	for (unsigned int i = 0; i < N; i++) {
		p[i] = hvmm_heap_alloc(&heap, 1 + i % HVMM_HEAP_MIN_SIZE, 0);
		CHECK(p[i] != NULL);
	}
	CHECK(hvmm_heap_alloc(&heap, 1, 1) == NULL);
	for (unsigned int i = 0; i < N; i++)
		CHECK(p[i] == heap.chunks[0].va + i * HVMM_HEAP_MIN_SIZE);	/* lowest first */
	for (unsigned int i = 0; i < N; i += 2)
		CHECK(hvmm_heap_free(&heap, p[i], 16, 1) == 0);
	CHECK(list_len(0) == N / 2);	/* no two free blocks are buddies */
	for (unsigned int i = 1; i < N; i += 2)
		CHECK(hvmm_heap_free(&heap, p[i], 1, 16) == 0);
	CHECK(all_chunks_whole());
}

/* Mixed sizes over several chunks, freed in random order: back to whole chunks. */
static void freeing_everything_remerges(void)
{
	enum { N = 3000 };
	static void *p[N];
	static u64 size[N], align[N];
	u32 chunks;

	srand(7);
	setup(4, 64);
	for (unsigned int i = 0; i < N; i++) {
		size[i] = 1 + (u64)(rand() % 700);
		align[i] = 1ULL << (rand() % 8);
		p[i] = hvmm_heap_alloc(&heap, size[i], align[i]);
		CHECK(p[i] && ((uintptr_t)p[i] & (align[i] - 1)) == 0);
		if (p[i])
			memset(p[i], (int)i, size[i]);
	}
	chunks = heap.nr_chunks;
	CHECK(chunks > 1);
	/* Nothing overlapped: every block still holds its own pattern. */
	for (unsigned int i = 0; i < N; i++)
		CHECK(p[i] && ((unsigned char *)p[i])[size[i] - 1] == (unsigned char)i);
	for (unsigned int i = N - 1; i > 0; i--) {
		unsigned int j = (unsigned int)rand() % (i + 1);
		void *tp = p[i]; u64 ts = size[i], ta = align[i];

		p[i] = p[j]; size[i] = size[j]; align[i] = align[j];
		p[j] = tp; size[j] = ts; align[j] = ta;
	}
	for (unsigned int i = 0; i < N; i++)
		CHECK(hvmm_heap_free(&heap, p[i], size[i], align[i]) == 0);
	CHECK(heap.nr_chunks == chunks);
	CHECK(all_chunks_whole());
	CHECK(hvmm_heap_free_bytes(&heap) == (u64)chunks * (HVMM_PAGE_SIZE << 4));
}

static void block_sizes_and_alignment(void)
{
	static const struct { u64 size, align; int order; } cases[] = {
		{ 1, 0, 0 }, { 16, 1, 0 }, { 17, 1, 1 }, { 32, 32, 1 }, { 1, 64, 2 },
		{ 100, 8, 3 }, { 4096, 1, 8 }, { 1, 4096, 8 }, { 4097, 1, 9 },
	};

	setup(2, 4);
	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		void *p = hvmm_heap_alloc(&heap, cases[i].size, cases[i].align);
		u64 a = cases[i].align ? cases[i].align : 1;

		CHECK_MSG(hvmm_heap_block_order(&heap, cases[i].size, cases[i].align) == cases[i].order,
			  "size %llu align %llu", (unsigned long long)cases[i].size,
			  (unsigned long long)cases[i].align);
		CHECK(p && ((uintptr_t)p & (a - 1)) == 0);
		CHECK(p && ((uintptr_t)p & (HVMM_HEAP_MIN_SIZE - 1)) == 0);
		CHECK(hvmm_heap_free(&heap, p, cases[i].size, cases[i].align) == 0);
	}
	CHECK(all_chunks_whole());
}

static void refused_requests(void)
{
	setup(1, 2);
	CHECK(hvmm_heap_alloc(&heap, 0, 1) == NULL);
	CHECK(hvmm_heap_alloc(&heap, 8, 3) == NULL);
	CHECK(hvmm_heap_alloc(&heap, 8, HVMM_PAGE_SIZE * 2) == NULL);
	CHECK(hvmm_heap_alloc(&heap, (HVMM_PAGE_SIZE << 1) + 1, 1) == NULL);
	CHECK(heap.nr_chunks == 0);	/* nothing refused took a page */
	CHECK(hvmm_heap_init(&heap, &hvmm_heap_pool_pages, &pool, HVMM_HEAP_MAX_CHUNK_PAGE_ORDER + 1, 1) == -HVMM_EINVAL);
	CHECK(hvmm_heap_init(&heap, &hvmm_heap_pool_pages, &pool, 0, 0) == -HVMM_EINVAL);
	CHECK(hvmm_heap_init(&heap, &hvmm_heap_pool_pages, &pool, 0, HVMM_HEAP_MAX_CHUNKS + 1) == -HVMM_EINVAL);
}

static void misuse_is_an_error_and_changes_nothing(void)
{
	void *a, *b;
	u64 free_before;
	char outside[32];

	setup(0, 1);
	a = hvmm_heap_alloc(&heap, 100, 1);	/* 128-byte block */
	b = hvmm_heap_alloc(&heap, 16, 1);
	free_before = hvmm_heap_free_bytes(&heap);
	CHECK(hvmm_heap_free(&heap, a, 200, 1) == -HVMM_EINVAL);	/* wrong size */
	CHECK(hvmm_heap_free(&heap, a, 100, 256) == -HVMM_EINVAL);	/* wrong alignment */
	CHECK(hvmm_heap_free(&heap, (char *)a + 16, 16, 1) == -HVMM_ENOENT);	/* never returned */
	CHECK(hvmm_heap_free(&heap, (char *)a + 1, 16, 1) == -HVMM_ENOENT);
	CHECK(hvmm_heap_free(&heap, outside, 16, 1) == -HVMM_ERANGE);
	CHECK(hvmm_heap_free(&heap, a, 0, 1) == -HVMM_EINVAL);
	CHECK(hvmm_heap_free_bytes(&heap) == free_before);
	CHECK(hvmm_heap_free(&heap, b, 16, 1) == 0);
	CHECK(hvmm_heap_free(&heap, b, 16, 1) == -HVMM_ENOENT);	/* double free */
	/* The freed block is merged now: a free inside a larger free block. */
	CHECK(hvmm_heap_free(&heap, (char *)b + 16, 16, 1) == -HVMM_ENOENT);
	CHECK(hvmm_heap_free(&heap, a, 128, 1) == 0);
	CHECK(hvmm_heap_free(&heap, a, 128, 1) == -HVMM_ENOENT);
	CHECK(all_chunks_whole());
}

static void grows_to_its_limit_then_fails(void)
{
	u64 pool_free = 0;
	void *p[5];

	setup(3, 4);
	pool_free = hvmm_pool_free_pages(&pool);
	for (unsigned int i = 0; i < 5; i++)
		p[i] = hvmm_heap_alloc(&heap, HVMM_PAGE_SIZE << 3, 1);
	CHECK(p[0] && p[1] && p[2] && p[3] && !p[4]);
	CHECK(heap.nr_chunks == 4);
	/* Each chunk: 8 pages and one page of metadata. */
	CHECK(hvmm_pool_free_pages(&pool) == pool_free - 4 * (8 + 1));
	for (unsigned int i = 1; i < heap.nr_chunks; i++)
		CHECK(heap.chunks[i - 1].va < heap.chunks[i].va);
	for (unsigned int i = 0; i < 4; i++)
		CHECK(hvmm_heap_free(&heap, p[i], HVMM_PAGE_SIZE << 3, 1) == 0);
	CHECK(hvmm_heap_reclaim(&heap) == 4 * (8 + 1));
	CHECK(heap.nr_chunks == 0);
	CHECK(hvmm_pool_free_pages(&pool) == pool_free);
}

static void reclaim_keeps_chunks_in_use(void)
{
	void *a, *b, *c;
	u64 pool_free;

	setup(0, 8);
	pool_free = hvmm_pool_free_pages(&pool);
	a = hvmm_heap_alloc(&heap, HVMM_PAGE_SIZE, 1);
	b = hvmm_heap_alloc(&heap, 16, 1);
	c = hvmm_heap_alloc(&heap, HVMM_PAGE_SIZE, 1);
	CHECK(heap.nr_chunks == 3);
	CHECK(hvmm_heap_free(&heap, a, HVMM_PAGE_SIZE, 1) == 0);
	CHECK(hvmm_heap_free(&heap, c, HVMM_PAGE_SIZE, 1) == 0);
	CHECK(hvmm_heap_reclaim(&heap) == 2 * 2);
	CHECK(heap.nr_chunks == 1);
	CHECK(hvmm_heap_free(&heap, b, 16, 1) == 0);
	CHECK(hvmm_heap_reclaim(&heap) == 2);
	CHECK(hvmm_pool_free_pages(&pool) == pool_free);
	CHECK(hvmm_heap_free(&heap, b, 16, 1) == -HVMM_ERANGE);	/* its chunk went back */
}

static void page_source_exhaustion(void)
{
	void *hog[POOL_PAGES];
	unsigned int n = 0;

	setup(1, 4);
	/* Leave the pool one page: enough for metadata, not for a chunk. */
	while (hvmm_pool_free_pages(&pool) > 1 && (hog[n] = hvmm_alloc_pages(&pool, 0)))
		n++;
	CHECK(hvmm_heap_alloc(&heap, 16, 1) == NULL);
	CHECK(heap.nr_chunks == 0);
	CHECK(hvmm_pool_free_pages(&pool) == 1);	/* the metadata page went back */
	hvmm_put_page(&pool, hog[--n]);
	hvmm_put_page(&pool, hog[--n]);
	CHECK(hvmm_heap_alloc(&heap, 16, 1) != NULL);
	CHECK(heap.nr_chunks == 1);
	while (n)
		hvmm_put_page(&pool, hog[--n]);
}

int main(void)
{
	testmem_init(&pm, RAM_BASE, 64ULL << 20);
	TEST(pow2_heap_is_one_block);
	TEST(minimum_blocks_fill_a_chunk);
	TEST(freeing_everything_remerges);
	TEST(block_sizes_and_alignment);
	TEST(refused_requests);
	TEST(misuse_is_an_error_and_changes_nothing);
	TEST(grows_to_its_limit_then_fails);
	TEST(reclaim_keeps_chunks_in_use);
	TEST(page_source_exhaustion);
	testmem_fini(&pm);
	return tap_done();
}
