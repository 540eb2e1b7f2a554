/* SPDX-License-Identifier: MIT */
/* mm/'s own byte helpers: mm/ links against no C library. */
#ifndef HVMM_STRING_H
#define HVMM_STRING_H

#include <hvmm/types.h>

void hvmm_memzero(void *dst, size_t len);
void hvmm_memcpy(void *dst, const void *src, size_t len);
bool hvmm_is_zero(const void *buf, size_t len);

/* Zero @nr_pages pages starting at the page-aligned @va. */
static inline void hvmm_zero_pages(void *va, u64 nr_pages)
{
	hvmm_memzero(va, nr_pages << HVMM_PAGE_SHIFT);
}

#endif /* HVMM_STRING_H */
