/* SPDX-License-Identifier: MIT */
/*
 * Oracle backend for mm/bitmap_alloc.c. It reads struct hvmm_bitmap's words
 * and nodes directly and compares them with plain models, never calling
 * the allocator:
 *  ALLOC-CONSERVE	each frame's present/free bits agree with the shadow
 *			(disjointness: nothing free is also in use; reclaimability:
 *			nothing freed is lost), and the free counter adds up;
 *  ALLOC-STRUCT	every avail bit says whether its child holds a free frame,
 *			every up-to-date run summary (prefix, suffix, longest)
 *			equals what its span implies, stale marks reach the root,
 *			no free bit without a present bit or beyond the capacity,
 *			no free frame below the lowest-free hint;
 *  AVAIL		a failed contiguous allocation had no aligned free window
 *			in the shadow, and a successful one returned the lowest.
 */
#ifndef SIM_ORACLE_BITMAP_CHECK_H
#define SIM_ORACLE_BITMAP_CHECK_H

#include <stdint.h>

#include "alloc_shadow.h"
#include "mm_layout.h"
#include "report.h"

/* Frames [pfn, pfn + nr) and the node paths above them. */
void sim_bitmap_check_touched(const struct hvmm_bitmap *bm, const struct sim_alloc_shadow *s,
			      struct sim_report *r, uint64_t pfn, uint64_t nr);
/* Every frame and node. */
void sim_bitmap_check_full(const struct hvmm_bitmap *bm, const struct sim_alloc_shadow *s,
			   struct sim_report *r);

/*
 * AVAIL for alloc_contiguous(@count, @align_log2) on the shadow as it was
 * before the op: @result is what the allocator returned and @pfn the frame
 * it gave on success. Results other than 0 and -SIM_ENOMEM are not judged.
 */
void sim_bitmap_check_avail(const struct sim_alloc_shadow *s, struct sim_report *r,
			    uint64_t count, unsigned int align_log2, int result, uint64_t pfn);

/*
 * AVAIL for the bitmap's answers about one frame, on the shadow: test(@pfn)
 * must say free exactly when the shadow has the frame free; next(@pfn) must
 * give the first frame at or after @pfn the shadow has free (@found), or
 * -SIM_ENOENT when there is none. Frames outside the shadow, and other
 * errors, are not judged.
 */
void sim_bitmap_check_test(const struct sim_alloc_shadow *s, struct sim_report *r,
			   uint64_t pfn, int result);
void sim_bitmap_check_next(const struct sim_alloc_shadow *s, struct sim_report *r,
			   uint64_t pfn, int result, uint64_t found);

#endif /* SIM_ORACLE_BITMAP_CHECK_H */
