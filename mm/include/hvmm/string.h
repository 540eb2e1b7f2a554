/* SPDX-License-Identifier: MIT */
/* mm/'s own byte helpers: mm/ links against no C library. */
#ifndef HVMM_STRING_H
#define HVMM_STRING_H

#include <hvmm/platform.h>
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
 * Zero @nr_pages pages starting at the page-aligned @va (the buddy's
 * scrub, once per free): the platform's page-clearing primitive, as the
 * kernel's page allocator calls its arch-optimised memset.
 */
static inline void hvmm_zero_pages(void *va, u64 nr_pages)
{
	hvmm_clear_pages(va, nr_pages);
}

#endif /* HVMM_STRING_H */
