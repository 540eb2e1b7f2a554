/* SPDX-License-Identifier: MIT */
/* mm/'s own byte helpers: mm/ links against no C library. */
#ifndef HVMM_STRING_H
#define HVMM_STRING_H

#include <hvmm/types.h>

void hvmm_memzero(void *dst, size_t len);
void hvmm_memcpy(void *dst, const void *src, size_t len);
bool hvmm_is_zero(const void *buf, size_t len);
/*
 * Index of the first non-zero word of @words[@from, @to), or @to. Each word
 * is read once, atomically (relaxed): tables scanned with it may be read
 * by other CPUs' walks meanwhile.
 */
u64 hvmm_next_nonzero_u64(const u64 *words, u64 from, u64 to);

/*
 * Zero @nr_pages pages starting at the page-aligned @va: the buddy's scrub,
 * once per free. Whole aligned pages need none of hvmm_memzero()'s edge
 * handling; a plain word loop, inline, which an optimising hosted build
 * may turn into the C library's memset, as the kernel's page allocator
 * calls its own.
 */
static inline void hvmm_zero_pages(void *va, u64 nr_pages)
{
	u64 *w = va, *end = w + (nr_pages << (HVMM_PAGE_SHIFT - 3));

	for (; w < end; w++)
		*w = 0;
}

#endif /* HVMM_STRING_H */
