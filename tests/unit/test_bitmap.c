// SPDX-License-Identifier: MIT
/* Edge cases of mm/bitmap_alloc.c, one function per property. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <hvmm/bitmap_alloc.h>

#include "physmem.h"
#include "platform.h"
#include "tap.h"

struct fixture {
	struct hvmm_bitmap bm;
	void *meta;
	uint64_t bytes;
};

static void *map_meta(uint64_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static void setup(struct fixture *f, uint64_t base, uint64_t n)
{
	f->bytes = hvmm_bitmap_metadata_bytes(n);
	f->meta = map_meta(f->bytes);
	CHECK_EQ(hvmm_bitmap_init_va(&f->bm, base, n, f->meta, f->bytes), 0);
}

static void teardown(struct fixture *f)
{
	munmap(f->meta, f->bytes);
}

static void test_metadata_size(void)
{
	struct hvmm_bitmap bm;
	uint64_t buf[64];

	CHECK_EQ(hvmm_bitmap_metadata_bytes(0), 0);
	CHECK_EQ(hvmm_bitmap_metadata_bytes(HVMM_BITMAP_MAX_FRAMES + 1), 0);
	CHECK_EQ(hvmm_bitmap_metadata_pages(0), 0);
	/* 16 frames: two words, their cached runs (8 bytes, keeping alignment) and a root. */
	CHECK_EQ(hvmm_bitmap_metadata_bytes(16), 2 * 8 + 8 + sizeof(struct hvmm_bitmap_node));
	/* 2^28 frames: 2 bits per frame, a byte per 64 frames, and under 1% of nodes. */
	CHECK(hvmm_bitmap_metadata_bytes(1ULL << 28) >= (1ULL << 26) + (1ULL << 22));
	CHECK(hvmm_bitmap_metadata_bytes(1ULL << 28) < (1ULL << 26) + (2ULL << 22));
	CHECK(hvmm_bitmap_metadata_bytes(HVMM_BITMAP_MAX_FRAMES) > 0);
	CHECK_EQ(hvmm_bitmap_metadata_pages(1), 1);

	CHECK_EQ(hvmm_bitmap_init_va(&bm, 0, 16, buf, 8), -HVMM_EINVAL);	/* too small */
	CHECK_EQ(hvmm_bitmap_init_va(&bm, 0, 16, (char *)buf + 4, sizeof(buf) - 4), -HVMM_EINVAL);
	CHECK_EQ(hvmm_bitmap_init_va(&bm, 0, 16, NULL, sizeof(buf)), -HVMM_EINVAL);
	CHECK_EQ(hvmm_bitmap_init_va(&bm, 0, 0, buf, sizeof(buf)), -HVMM_EINVAL);
	CHECK_EQ(hvmm_bitmap_init_va(&bm, 0, HVMM_BITMAP_MAX_FRAMES + 1, buf, sizeof(buf)),
		 -HVMM_EINVAL);
	CHECK_EQ(hvmm_bitmap_init_va(&bm, (1ULL << 52) - 8, 16, buf, sizeof(buf)), -HVMM_ERANGE);
	CHECK_EQ(hvmm_bitmap_init_va(&bm, UINT64_MAX - 3, 16, buf, sizeof(buf)), -HVMM_ERANGE);
	CHECK_EQ(hvmm_bitmap_init_va(&bm, 0, 16, buf, sizeof(buf)), 0);
}

static void test_initially_empty(void)
{
	struct fixture f;
	uint64_t pfn;

	setup(&f, 0x1000, 4096);
	CHECK_EQ(hvmm_bitmap_alloc(&f.bm, &pfn), -HVMM_ENOMEM);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 1, 0, &pfn), -HVMM_ENOMEM);
	CHECK_EQ(hvmm_bitmap_test(&f.bm, 0x1000), 0);
	CHECK_EQ(hvmm_bitmap_next(&f.bm, 0x1000, &pfn), -HVMM_ENOENT);
	CHECK_EQ(hvmm_bitmap_nr_free(&f.bm), 0);
	/* Nothing inserted: freeing is an error, not an insertion (hvisor adds it). */
	CHECK_EQ(hvmm_bitmap_dealloc(&f.bm, 0x1000), -HVMM_ENOENT);
	CHECK_EQ(hvmm_bitmap_dealloc_contiguous(&f.bm, 0x1000, 4), -HVMM_ENOENT);
	CHECK_EQ(hvmm_bitmap_test(&f.bm, 0x1000), 0);
	CHECK_EQ(hvmm_bitmap_nr_free(&f.bm), 0);
	teardown(&f);
}

static void test_insert_remove(void)
{
	struct fixture f;
	uint64_t pfn;

	setup(&f, 100, 1000);
	CHECK_EQ(hvmm_bitmap_insert(&f.bm, 200, 10), 0);
	CHECK_EQ(hvmm_bitmap_nr_free(&f.bm), 10);
	CHECK_EQ(hvmm_bitmap_insert(&f.bm, 205, 10), -HVMM_EEXIST);	/* overlaps */
	CHECK_EQ(hvmm_bitmap_nr_free(&f.bm), 10);
	CHECK_EQ(hvmm_bitmap_test(&f.bm, 212), 0);	/* all or nothing */
	CHECK_EQ(hvmm_bitmap_insert(&f.bm, 99, 2), -HVMM_ERANGE);
	CHECK_EQ(hvmm_bitmap_insert(&f.bm, 1099, 2), -HVMM_ERANGE);
	CHECK_EQ(hvmm_bitmap_insert(&f.bm, 1099, 1), 0);
	CHECK_EQ(hvmm_bitmap_insert(&f.bm, 300, 0), -HVMM_EINVAL);
	CHECK_EQ(hvmm_bitmap_alloc(&f.bm, &pfn), 0);
	CHECK_EQ(pfn, 200);
	CHECK_EQ(hvmm_bitmap_remove(&f.bm, 200, 10), -HVMM_EBUSY);	/* 200 is allocated */
	CHECK_EQ(hvmm_bitmap_remove(&f.bm, 201, 10), -HVMM_ENOENT);	/* 210 absent */
	CHECK_EQ(hvmm_bitmap_test(&f.bm, 201), 1);
	CHECK_EQ(hvmm_bitmap_remove(&f.bm, 201, 9), 0);
	CHECK_EQ(hvmm_bitmap_test(&f.bm, 201), 0);
	CHECK_EQ(hvmm_bitmap_dealloc(&f.bm, 201), -HVMM_ENOENT);	/* removed, not allocated */
	CHECK_EQ(hvmm_bitmap_dealloc(&f.bm, 200), 0);
	CHECK_EQ(hvmm_bitmap_dealloc(&f.bm, 200), -HVMM_EEXIST);	/* double free */
	CHECK_EQ(hvmm_bitmap_nr_free(&f.bm), 2);
	teardown(&f);
}

static void test_alloc_lowest_and_next(void)
{
	struct fixture f;
	uint64_t pfn;

	setup(&f, 0, 300000);
	CHECK_EQ(hvmm_bitmap_insert(&f.bm, 250000, 10), 0);
	CHECK_EQ(hvmm_bitmap_insert(&f.bm, 70000, 1), 0);
	CHECK_EQ(hvmm_bitmap_next(&f.bm, 0, &pfn), 0);
	CHECK_EQ(pfn, 70000);
	CHECK_EQ(hvmm_bitmap_next(&f.bm, 70000, &pfn), 0);
	CHECK_EQ(pfn, 70000);
	CHECK_EQ(hvmm_bitmap_next(&f.bm, 70001, &pfn), 0);
	CHECK_EQ(pfn, 250000);
	CHECK_EQ(hvmm_bitmap_next(&f.bm, 250010, &pfn), -HVMM_ENOENT);
	CHECK_EQ(hvmm_bitmap_next(&f.bm, 300000, &pfn), -HVMM_ERANGE);
	CHECK_EQ(hvmm_bitmap_alloc(&f.bm, &pfn), 0);
	CHECK_EQ(pfn, 70000);
	CHECK_EQ(hvmm_bitmap_alloc(&f.bm, &pfn), 0);
	CHECK_EQ(pfn, 250000);
	CHECK_EQ(hvmm_bitmap_test(&f.bm, 300000), -HVMM_ERANGE);
	CHECK_EQ(hvmm_bitmap_test(&f.bm, UINT64_MAX), -HVMM_ERANGE);
	teardown(&f);
}

/* Alignment is of the PFN, not of the index in the bitmap. */
static void test_alignment_is_physical(void)
{
	struct fixture f;
	uint64_t pfn;

	setup(&f, 3, 64);
	CHECK_EQ(hvmm_bitmap_insert(&f.bm, 3, 64), 0);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 4, 2, &pfn), 0);
	CHECK_EQ(pfn, 4);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 1, 5, &pfn), 0);
	CHECK_EQ(pfn, 32);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 32, 5, &pfn), -HVMM_ENOMEM);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 1, 6, &pfn), 0);
	CHECK_EQ(pfn, 64);	/* pfns 3..66: 64 is the only 64-aligned one */
	teardown(&f);

	setup(&f, 0, 1 << 16);
	CHECK_EQ(hvmm_bitmap_insert(&f.bm, 0, 1 << 16), 0);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 1, 63, &pfn), 0);
	CHECK_EQ(pfn, 0);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 1, 63, &pfn), -HVMM_ENOMEM);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 512, 9, &pfn), 0);
	CHECK_EQ(pfn, 512);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 3, 0, &pfn), 0);
	CHECK_EQ(pfn, 1);
	teardown(&f);
}

static void test_bad_arguments(void)
{
	struct fixture f;
	uint64_t pfn = 0x5a5a;

	setup(&f, 0x100, 256);
	CHECK_EQ(hvmm_bitmap_insert(&f.bm, 0x100, 256), 0);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 0, 0, &pfn), -HVMM_EINVAL);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 1, 64, &pfn), -HVMM_EINVAL);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 1, UINT32_MAX, &pfn), -HVMM_EINVAL);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 257, 0, &pfn), -HVMM_ENOMEM);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, UINT64_MAX, 0, &pfn), -HVMM_ENOMEM);
	CHECK_EQ(pfn, 0x5a5a);	/* untouched on failure */
	CHECK_EQ(hvmm_bitmap_alloc_at(&f.bm, 0x100, 0, 0), -HVMM_EINVAL);
	CHECK_EQ(hvmm_bitmap_alloc_at(&f.bm, 0x104, 4, 3), -HVMM_EINVAL);	/* misaligned */
	CHECK_EQ(hvmm_bitmap_alloc_at(&f.bm, 0x100, 4, 64), -HVMM_EINVAL);
	CHECK_EQ(hvmm_bitmap_alloc_at(&f.bm, UINT64_MAX - 1, 4, 0), -HVMM_ERANGE);
	CHECK_EQ(hvmm_bitmap_alloc_at(&f.bm, 0x1fe, 4, 1), -HVMM_ERANGE);
	CHECK_EQ(hvmm_bitmap_dealloc_contiguous(&f.bm, 0x100, UINT64_MAX), -HVMM_ERANGE);
	CHECK_EQ(hvmm_bitmap_dealloc_contiguous(&f.bm, UINT64_MAX, 2), -HVMM_ERANGE);
	CHECK_EQ(hvmm_bitmap_dealloc_contiguous(&f.bm, 0x100, 0), -HVMM_EINVAL);
	CHECK_EQ(hvmm_bitmap_remove(&f.bm, 0x1ff, UINT64_MAX - 0x1fe), -HVMM_ERANGE);
	CHECK_EQ(hvmm_bitmap_insert(&f.bm, UINT64_MAX, UINT64_MAX), -HVMM_ERANGE);
	CHECK_EQ(hvmm_bitmap_dealloc(&f.bm, 0x200), -HVMM_ERANGE);
	CHECK_EQ(hvmm_bitmap_dealloc(&f.bm, 0xff), -HVMM_ERANGE);
	CHECK_EQ(hvmm_bitmap_nr_free(&f.bm), 256);
	teardown(&f);
}

/* Range ops change nothing on a conflict (hvisor frees part, then stops). */
static void test_all_or_nothing(void)
{
	struct fixture f;
	uint64_t pfn;

	setup(&f, 0, 4096);
	CHECK_EQ(hvmm_bitmap_insert(&f.bm, 0, 4096), 0);
	CHECK_EQ(hvmm_bitmap_alloc_at(&f.bm, 64, 128, 6), 0);
	CHECK_EQ(hvmm_bitmap_dealloc(&f.bm, 150), 0);
	CHECK_EQ(hvmm_bitmap_dealloc_contiguous(&f.bm, 64, 128), -HVMM_EEXIST);
	CHECK_EQ(hvmm_bitmap_test(&f.bm, 64), 0);
	CHECK_EQ(hvmm_bitmap_test(&f.bm, 149), 0);
	CHECK_EQ(hvmm_bitmap_nr_free(&f.bm), 4096 - 127);
	CHECK_EQ(hvmm_bitmap_alloc_at(&f.bm, 128, 64, 6), -HVMM_EBUSY);
	CHECK_EQ(hvmm_bitmap_test(&f.bm, 150), 1);
	CHECK_EQ(hvmm_bitmap_remove(&f.bm, 100, 100), -HVMM_EBUSY);
	CHECK_EQ(hvmm_bitmap_test(&f.bm, 150), 1);
	CHECK_EQ(hvmm_bitmap_remove(&f.bm, 4000, 96), 0);
	CHECK_EQ(hvmm_bitmap_alloc_at(&f.bm, 3968, 64, 6), -HVMM_ENOENT);
	CHECK_EQ(hvmm_bitmap_test(&f.bm, 3968), 1);
	CHECK_EQ(hvmm_bitmap_insert(&f.bm, 3990, 20), -HVMM_EEXIST);
	CHECK_EQ(hvmm_bitmap_test(&f.bm, 4005), 0);
	CHECK_EQ(hvmm_bitmap_alloc(&f.bm, &pfn), 0);
	CHECK_EQ(pfn, 0);
	teardown(&f);
}

/* A checkerboard has no two adjacent free frames: every longer request fails. */
static void test_checkerboard(void)
{
	struct fixture f;
	uint64_t pfn, n = 1 << 20;

	setup(&f, 0, n);
	CHECK_EQ(hvmm_bitmap_insert(&f.bm, 0, n), 0);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, n, 0, &pfn), 0);
	for (uint64_t i = 0; i < n; i += 2)
		CHECK_EQ(hvmm_bitmap_dealloc(&f.bm, i), 0);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 2, 0, &pfn), -HVMM_ENOMEM);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 2, 1, &pfn), -HVMM_ENOMEM);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 1, 1, &pfn), 0);
	CHECK_EQ(pfn, 0);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 1, 0, &pfn), 0);
	CHECK_EQ(pfn, 2);
	/* Freeing 5 joins 4 and 6: the run 4..6 appears, aligned to 2 at 4. */
	CHECK_EQ(hvmm_bitmap_dealloc(&f.bm, 5), 0);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 3, 2, &pfn), 0);
	CHECK_EQ(pfn, 4);
	CHECK_EQ(hvmm_bitmap_dealloc(&f.bm, n - 1), 0);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 2, 1, &pfn), 0);
	CHECK_EQ(pfn, n - 2);
	teardown(&f);
}

/* 2^28 frames (1 TiB of 4 KiB pages) work end to end. */
static void test_large_capacity(void)
{
	struct fixture f;
	uint64_t pfn, n = 1ULL << 28;

	setup(&f, 0x80000, n);
	CHECK_EQ(hvmm_bitmap_insert(&f.bm, 0x80000 + n - 4096, 4096), 0);
	CHECK_EQ(hvmm_bitmap_alloc(&f.bm, &pfn), 0);
	CHECK_EQ(pfn, 0x80000 + n - 4096);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 2048, 11, &pfn), 0);
	CHECK_EQ(pfn, 0x80000 + n - 2048);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&f.bm, 2048, 11, &pfn), -HVMM_ENOMEM);
	CHECK_EQ(hvmm_bitmap_next(&f.bm, 0x80000, &pfn), 0);
	CHECK_EQ(pfn, 0x80000 + n - 4095);
	CHECK_EQ(hvmm_bitmap_test(&f.bm, 0x80000 + n - 1), 0);
	CHECK_EQ(hvmm_bitmap_dealloc_contiguous(&f.bm, 0x80000 + n - 2048, 2048), 0);
	CHECK_EQ(hvmm_bitmap_nr_free(&f.bm), 4095);
	teardown(&f);
}

/* Metadata in simulated physical pages, reached through hvmm_phys_to_virt. */
static void test_phys_metadata(void)
{
	struct sim_physmem pm = { 0 };
	struct hvmm_bitmap bm;
	char err[128];
	uint64_t pfn, pages = hvmm_bitmap_metadata_pages(1 << 20);

	if (sim_physmem_add(&pm, SIM_REGION_RAM, 0x80000000ULL, 1ULL << 32, err, sizeof(err)) ||
	    sim_physmem_map(&pm, err, sizeof(err))) {
		TAP_FAIL("physmem: %s", err);
		return;
	}
	sim_platform_install(&pm, NULL);
	CHECK_EQ(hvmm_bitmap_init(&bm, 0x80000, 1 << 20, 0x80000000ULL + 1, pages), -HVMM_EINVAL);
	CHECK_EQ(hvmm_bitmap_init(&bm, 0x80000, 1 << 20, 0x80000000ULL, pages - 1), -HVMM_EINVAL);
	CHECK_EQ(hvmm_bitmap_init(&bm, 0x80000, 1 << 20, 0x80000000ULL, pages), 0);
	CHECK((void *)bm.free == sim_physmem_pa_to_host(&pm, 0x80000000ULL));
	CHECK_EQ(hvmm_bitmap_insert(&bm, 0x80000 + pages, (1 << 20) - pages), 0);
	CHECK_EQ(hvmm_bitmap_alloc_contiguous(&bm, 512, 9, &pfn), 0);
	CHECK_EQ(pfn, 0x80000 + 512);
	sim_platform_install(NULL, NULL);
	sim_physmem_destroy(&pm);
}

int main(void)
{
	TEST(test_metadata_size);
	TEST(test_initially_empty);
	TEST(test_insert_remove);
	TEST(test_alloc_lowest_and_next);
	TEST(test_alignment_is_physical);
	TEST(test_bad_arguments);
	TEST(test_all_or_nothing);
	TEST(test_checkerboard);
	TEST(test_large_capacity);
	TEST(test_phys_metadata);
	return tap_done();
}
