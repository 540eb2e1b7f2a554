// SPDX-License-Identifier: MIT
/*
 * Floors: what an allocator operation cannot go below on this host, so its
 * figure can be read as floor + allocator work.
 *  - scrub_4k: zeroing one 4 KiB page, as the buddy does on every free
 *    (pKVM zero-on-free), with mm/'s hvmm_memzero and with glibc's memset
 *    for comparison. The page is the same every time, so it is L1/L2-hot,
 *    as the page of an alloc+free pair on an idle pool is.
 *  - scrub_4k_pool64m_x64: the same zeroing of pages picked at random in
 *    a 64 MiB pool (huge pages, every page touched first), 64 back to back,
 *    so that they are not in cache, as in a replay of the simulator's
 *    64 MiB pool, where a freed block was last written long before
 *    (bench/compare takes the replay's pages freed per op times this as
 *    its scrub floor). _nt: the same pages zeroed with non-temporal
 *    stores (SSE2 movntdq, then an sfence), which write whole lines
 *    without reading them first and leave them out of the cache (x86_64
 *    only; elsewhere the case is not registered).
 *  - scrub_2lines_pool64m_x64: of the same random pages, only the first
 *    and last 64-byte lines zeroed, as the simulator's clear stores into a
 *    page that only the executor's stamps wrote (sim/physmem.h).
 *  - spin_lock_unlock: one uncontended hvmm_spin_lock + hvmm_spin_unlock
 *    (a locked xadd, an acquire load, a release store), the cost every
 *    locked allocator call pays; _x64: the mean of 64 in one timed
 *    region, below the timer's resolution and jitter for one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

#include <hvmm/spinlock.h>
#include <hvmm/string.h>

#include "bench.h"

#define POOL64M_PAGES	(1u << 14)

struct floor_bench {
	void *page;
	hvmm_spinlock_t lock;
	uint8_t *pool;		/* scrub_4k_pool64m */
	uint64_t rng;
};

static struct floor_bench *fb(struct bench_state *s)
{
	return s->priv;
}

static int setup(struct bench_state *s)
{
	struct floor_bench *f = calloc(1, sizeof(*f));

	s->priv = f;
	if (!f || !(f->page = aligned_alloc(HVMM_PAGE_SIZE, HVMM_PAGE_SIZE))) {
		snprintf(s->err, sizeof(s->err), "out of memory");
		return -1;
	}
	memset(f->page, 0xa5, HVMM_PAGE_SIZE);
	hvmm_spin_lock_init(&f->lock);
	f->rng = 0x9e3779b97f4a7c15ULL;
	return 0;
}

/* As the simulator maps its pool: 2 MiB pages, every page written once. */
static int setup_pool64m(struct bench_state *s)
{
	size_t bytes = (size_t)POOL64M_PAGES << HVMM_PAGE_SHIFT;
	struct floor_bench *f;

	if (setup(s))
		return -1;
	f = fb(s);
	f->pool = aligned_alloc(2u << 20, bytes);
	if (!f->pool) {
		snprintf(s->err, sizeof(s->err), "out of memory");
		return -1;
	}
	madvise(f->pool, bytes, MADV_HUGEPAGE);
	memset(f->pool, 0xa5, bytes);
	return 0;
}

static void teardown(struct bench_state *s)
{
	struct floor_bench *f = fb(s);

	if (!f)
		return;
	free(f->page);
	free(f->pool);
	free(f);
	s->priv = NULL;
}

/* The compiler must believe the page is read afterwards. */
static inline void keep(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static uint64_t step_memzero(struct bench_state *s, struct bench_thread *t)
{
	void *page = fb(s)->page;
	uint64_t t0 = bench_time_begin();

	hvmm_memzero(page, HVMM_PAGE_SIZE);
	keep(page);
	return bench_time_end(s, t0);
}

static uint64_t step_memset(struct bench_state *s, struct bench_thread *t)
{
	void *page = fb(s)->page;
	uint64_t t0 = bench_time_begin();

	memset(page, 0, HVMM_PAGE_SIZE);
	keep(page);
	return bench_time_end(s, t0);
}

static void zero_memset(uint8_t *page)
{
	memset(page, 0, HVMM_PAGE_SIZE);
}

#if defined(__x86_64__)
static void zero_nt(uint8_t *page)
{
	__m128i z = _mm_setzero_si128();

	for (unsigned int i = 0; i < HVMM_PAGE_SIZE; i += 64) {
		_mm_stream_si128((__m128i *)(void *)(page + i), z);
		_mm_stream_si128((__m128i *)(void *)(page + i + 16), z);
		_mm_stream_si128((__m128i *)(void *)(page + i + 32), z);
		_mm_stream_si128((__m128i *)(void *)(page + i + 48), z);
	}
}
#endif

static void zero_2lines(uint8_t *page)
{
	memset(page, 0, 64);
	memset(page + HVMM_PAGE_SIZE - 64, 0, 64);
}

/*
 * 64 pages at random (xorshift) out of the 64 MiB, chosen before the timed
 * region and zeroed back to back in it by @zero: the mean of one, at the
 * rate the memory takes a stream of scrubs (timed one at a time, a scrub's
 * stores would still drain after the timer stopped). The fence makes
 * non-temporal stores visible before the timer stops, as a clear must
 * before the page is handed on; after ordinary stores it costs nothing.
 */
static uint64_t pool64m_x64(struct bench_state *s, void (*zero)(uint8_t *page))
{
	struct floor_bench *f = fb(s);
	uint8_t *page[64];
	uint64_t t0;

	for (unsigned int k = 0; k < 64; k++) {
		f->rng ^= f->rng << 13;
		f->rng ^= f->rng >> 7;
		f->rng ^= f->rng << 17;
		page[k] = f->pool + ((f->rng % POOL64M_PAGES) << HVMM_PAGE_SHIFT);
	}
	t0 = bench_time_begin();
	for (unsigned int k = 0; k < 64; k++) {
		zero(page[k]);
		keep(page[k]);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return (bench_time_end(s, t0) + 32) / 64;
}

static uint64_t step_memset_pool64m_x64(struct bench_state *s, struct bench_thread *t)
{
	return pool64m_x64(s, zero_memset);
}

#if defined(__x86_64__)
static uint64_t step_nt_pool64m_x64(struct bench_state *s, struct bench_thread *t)
{
	return pool64m_x64(s, zero_nt);
}
#endif

static uint64_t step_2lines_pool64m_x64(struct bench_state *s, struct bench_thread *t)
{
	return pool64m_x64(s, zero_2lines);
}

static uint64_t step_lock_unlock(struct bench_state *s, struct bench_thread *t)
{
	hvmm_spinlock_t *lock = &fb(s)->lock;
	uint64_t t0 = bench_time_begin();

	hvmm_spin_lock(lock);
	hvmm_spin_unlock(lock);
	return bench_time_end(s, t0);
}

/* 64 lock+unlock pairs in one timed region, the mean of one (as bitmap/dealloc_x64). */
static uint64_t step_lock_unlock_x64(struct bench_state *s, struct bench_thread *t)
{
	hvmm_spinlock_t *lock = &fb(s)->lock;
	uint64_t t0 = bench_time_begin();

	for (unsigned int k = 0; k < 64; k++) {
		hvmm_spin_lock(lock);
		hvmm_spin_unlock(lock);
	}
	return (bench_time_end(s, t0) + 32) / 64;
}

static const struct {
	const char *name;
	uint64_t (*step)(struct bench_state *s, struct bench_thread *t);
	int (*setup)(struct bench_state *s);
} cases[] = {
	{ "scrub_4k_hvmm_memzero", step_memzero, setup },
	{ "scrub_4k_memset", step_memset, setup },
	{ "scrub_4k_pool64m_x64", step_memset_pool64m_x64, setup_pool64m },
#if defined(__x86_64__)
	{ "scrub_4k_pool64m_x64_nt", step_nt_pool64m_x64, setup_pool64m },
#endif
	{ "scrub_2lines_pool64m_x64", step_2lines_pool64m_x64, setup_pool64m },
	{ "spin_lock_unlock", step_lock_unlock, setup },
	{ "spin_lock_unlock_x64", step_lock_unlock_x64, setup },
};

void bench_register_floor(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bench_case c = {
			.group = "floor",
			.threads = 1,
			.setup = cases[i].setup,
			.step = cases[i].step,
			.teardown = teardown,
		};

		snprintf(c.workload, sizeof(c.workload), "%s", cases[i].name);
		snprintf(c.subject, sizeof(c.subject), "host");
		snprintf(c.name, sizeof(c.name), "floor/%s", cases[i].name);
		bench_case_add(&c);
	}
}
