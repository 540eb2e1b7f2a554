// SPDX-License-Identifier: MIT
/*
 * Adapter for mm/bitmap_alloc.c: the cascaded bitmap (hvisor semantics) as
 * an allocator under test.
 *
 * The bitmap spans the whole configured range; the frames after the
 * reserved ones are inserted at start. The reserved frames stay absent and
 * hold the bitmap's metadata when there are enough of them (as a
 * hypervisor would keep it in its own pages); otherwise the metadata is
 * host memory passed by pointer. Because they are the adapter's own, an
 * insert that reaches a reserved frame is refused with EPERM.
 *
 * alloc(order) is alloc_contiguous(2^order, order) (order 0: the single
 * frame alloc); free is dealloc_contiguous. The bitmap does not scrub
 * memory, hvisor's does not either; the executor expects generic
 * allocations to come back zeroed, so the adapter zeroes frames after a
 * successful dealloc, standing in for a caller that scrubs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <hvmm/bitmap_alloc.h>

#include "alloc/allocator.h"
#include "recycle.h"
#include "oracle/bitmap_check.h"

struct bitmap_adapter {
	struct hvmm_bitmap bm;
	uint64_t reserved_end;		/* first pfn after the reserved frames */
	void *host_meta;		/* metadata mapping when not in reserved frames */
	uint64_t host_meta_bytes;	/* used by the bitmap */
	uint64_t host_meta_mapped;	/* the mapping's size: as much or more */
};

static struct bitmap_adapter *adapter_of(struct sim_allocator *a)
{
	return a->priv;
}

static struct hvmm_bitmap *bm_of(struct sim_allocator *a)
{
	return &adapter_of(a)->bm;
}

/*
 * The host metadata mapping of the last adapter torn down, zeroed, for the
 * next one (a fuzzer's reset machine): mapping it afresh made every run
 * fault its pages in again. Kept only if small: zeroing costs less than
 * faulting.
 */
#define SPARE_META_MAX	(1u << 20)
static _Thread_local struct { void *p; uint64_t bytes; } spare_meta;

/* A zeroed mapping of at least @bytes; its size in *@mapped. */
static void *get_meta(uint64_t bytes, uint64_t *mapped)
{
	void *p;

	if (spare_meta.p && spare_meta.bytes >= bytes) {
		p = spare_meta.p;
		*mapped = spare_meta.bytes;
		spare_meta.p = NULL;
		return p;
	}
	*mapped = bytes;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/* @bytes used of a mapping of @mapped bytes. */
static void put_meta(void *p, uint64_t bytes, uint64_t mapped)
{
	if (mapped <= SPARE_META_MAX && (!spare_meta.p || spare_meta.bytes < mapped)) {
		memset(p, 0, bytes);
		if (spare_meta.p)
			munmap(spare_meta.p, spare_meta.bytes);
		spare_meta.p = p;
		spare_meta.bytes = mapped;
	} else {
		munmap(p, mapped);
	}
}

static int place_metadata(struct sim_allocator *a, struct bitmap_adapter *ad,
			  const struct sim_alloc_config *cfg, char *err, size_t errlen)
{
	uint64_t pages = hvmm_bitmap_metadata_pages(cfg->nr_pages);
	int ret;

	if (!pages) {
		snprintf(err, errlen, "bitmap: %llu frames is not a valid capacity (1..%llu)",
			 (unsigned long long)cfg->nr_pages,
			 (unsigned long long)HVMM_BITMAP_MAX_FRAMES);
		return -1;
	}
	if (cfg->reserved_pages >= pages) {
		ret = hvmm_bitmap_init(&ad->bm, cfg->base_pfn, cfg->nr_pages,
				       cfg->base_pfn << HVMM_PAGE_SHIFT, pages);
		/* mm/ indexes all of them from one pointer. */
		sim_physmem_mark_dirty(a->pm, cfg->base_pfn, pages);
	} else {
		ad->host_meta_bytes = pages << HVMM_PAGE_SHIFT;
		ad->host_meta = get_meta(ad->host_meta_bytes, &ad->host_meta_mapped);
		if (!ad->host_meta) {
			snprintf(err, errlen, "bitmap: cannot map %llu bytes of metadata",
				 (unsigned long long)ad->host_meta_bytes);
			return -1;
		}
		ret = hvmm_bitmap_init_va(&ad->bm, cfg->base_pfn, cfg->nr_pages,
					  ad->host_meta, ad->host_meta_bytes);
	}
	if (ret) {
		snprintf(err, errlen, "hvmm_bitmap_init(pfn 0x%llx, %llu frames) failed: %d",
			 (unsigned long long)cfg->base_pfn, (unsigned long long)cfg->nr_pages, ret);
		return -1;
	}
	return 0;
}

static void bitmap_fini(struct sim_allocator *a)
{
	struct bitmap_adapter *ad = a->priv;

	if (!ad)
		return;
	if (ad->host_meta)
		put_meta(ad->host_meta, ad->host_meta_bytes, ad->host_meta_mapped);
	sim_recycle_put(ad, sizeof(*ad));
	a->priv = NULL;
}

static unsigned int floor_log2(uint64_t x)
{
	return 63 - (unsigned int)__builtin_clzll(x);
}

static int bitmap_init(struct sim_allocator *a, const struct sim_alloc_config *cfg,
		       struct sim_alloc_shadow *shadow, char *err, size_t errlen)
{
	struct bitmap_adapter *ad = sim_recycle_get(sizeof(*ad));
	uint64_t nr_free = cfg->nr_pages - cfg->reserved_pages;
	int ret;

	a->priv = ad;
	if (place_metadata(a, ad, cfg, err, errlen))
		goto fail;
	ad->reserved_end = cfg->base_pfn + cfg->reserved_pages;
	if (nr_free) {
		ret = hvmm_bitmap_insert(&ad->bm, ad->reserved_end, nr_free);
		if (ret) {
			snprintf(err, errlen, "bitmap: inserting %llu frames failed: %d",
				 (unsigned long long)nr_free, ret);
			goto fail;
		}
	}
	a->max_order = floor_log2(cfg->nr_pages);
	sim_alloc_shadow_set(shadow, cfg->base_pfn, cfg->reserved_pages, SIM_SHADOW_RESERVED);
	sim_alloc_shadow_set_initial_free(shadow, ad->reserved_end, nr_free);
	return 0;
fail:
	bitmap_fini(a);
	return -1;
}

/*
 * Zeroes frames being returned to the bitmap (see the top of the file).
 * Only their owner may do it, before it lets them go: once the bitmap has
 * them, another thread may already have been handed them.
 *
 * As mm/'s scrub and the kernel allocator's are (hvmm_clear_pages(),
 * sim_linux_zero()): a page nobody wrote since memory was last reset is
 * skipped, and of the others only what was written since their last
 * clear is stored into (sim_physmem_clear_pages()), so that a block
 * whose stamps touched two lines costs two lines, not a memset a page.
 */
static void scrub(struct sim_allocator *a, uint64_t pfn, uint64_t count)
{
	const uint64_t end = pfn + count;

	while (pfn < end) {
		uint8_t *host = NULL;
		uint64_t run = 1;

		if (sim_physmem_dirty(a->pm, pfn))
			host = sim_physmem_pa_to_host(a->pm, pfn << HVMM_PAGE_SHIFT);
		if (!host) {
			pfn++;
			continue;
		}
		/* A run of written pages contiguous in the host mapping: one clear. */
		while (pfn + run < end && sim_physmem_dirty(a->pm, pfn + run) &&
		       sim_physmem_pa_to_host(a->pm, (pfn + run) << HVMM_PAGE_SHIFT) ==
			       host + (run << HVMM_PAGE_SHIFT))
			run++;
		sim_physmem_clear_pages(a->pm, host, pfn, run);
		pfn += run;
	}
}

static int bitmap_alloc(struct sim_allocator *a, unsigned int order, uint64_t *pfn)
{
	if (order >= 64)
		return -HVMM_EINVAL;
	if (!order)
		return hvmm_bitmap_alloc(bm_of(a), pfn);
	return hvmm_bitmap_alloc_contiguous(bm_of(a), 1ULL << order, order, pfn);
}

static int dealloc(struct sim_allocator *a, uint64_t pfn, uint64_t count)
{
	return count == 1 ? hvmm_bitmap_dealloc(bm_of(a), pfn) :
			    hvmm_bitmap_dealloc_contiguous(bm_of(a), pfn, count);
}

/*
 * Raw frames named by a trace, which may not be allocated at all: scrubbed
 * only once the bitmap has accepted them. The executor runs raw ops on one
 * thread, so nobody can have been handed them in between.
 */
static int bitmap_dealloc_range(struct sim_allocator *a, uint64_t pfn, uint64_t count)
{
	int ret = dealloc(a, pfn, count);

	if (!ret)
		scrub(a, pfn, count);
	return ret;
}

/* A block the caller owns: scrubbed before it is given back. */
static int bitmap_free(struct sim_allocator *a, uint64_t pfn, uint64_t pages)
{
	scrub(a, pfn, pages);
	return dealloc(a, pfn, pages);
}

/* True if [pfn, pfn + count) reaches into the reserved frames. */
static bool hits_reserved(struct sim_allocator *a, uint64_t pfn, uint64_t count)
{
	return count && pfn < adapter_of(a)->reserved_end && pfn + count > a->base_pfn &&
	       pfn + count > pfn;
}

static int bitmap_insert(struct sim_allocator *a, uint64_t pfn, uint64_t count)
{
	if (hits_reserved(a, pfn, count))
		return -HVMM_EPERM;
	return hvmm_bitmap_insert(bm_of(a), pfn, count);
}

static int bitmap_remove(struct sim_allocator *a, uint64_t pfn, uint64_t count)
{
	return hvmm_bitmap_remove(bm_of(a), pfn, count);
}

static int bitmap_alloc_contig(struct sim_allocator *a, uint64_t count, unsigned int align_log2,
			       uint64_t *pfn)
{
	return hvmm_bitmap_alloc_contiguous(bm_of(a), count, align_log2, pfn);
}

static int bitmap_alloc_at(struct sim_allocator *a, uint64_t pfn, uint64_t count,
			   unsigned int align_log2)
{
	return hvmm_bitmap_alloc_at(bm_of(a), pfn, count, align_log2);
}

static int bitmap_test(struct sim_allocator *a, uint64_t pfn)
{
	return hvmm_bitmap_test(bm_of(a), pfn);
}

static int bitmap_next(struct sim_allocator *a, uint64_t pfn, uint64_t *out)
{
	return hvmm_bitmap_next(bm_of(a), pfn, out);
}

static void bitmap_check_touched(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
				 struct sim_report *r, uint64_t pfn, uint64_t nr)
{
	sim_bitmap_check_touched(bm_of(a), shadow, r, pfn, nr);
}

static void bitmap_check_full(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			      struct sim_report *r)
{
	sim_bitmap_check_full(bm_of(a), shadow, r);
}

const struct sim_allocator_ops sim_bitmap_allocator = {
	.name = "bitmap",
	.description = "cascaded bitmap frame allocator, hvisor semantics (mm/bitmap_alloc.c)",
	.init = bitmap_init,
	.fini = bitmap_fini,
	.alloc = bitmap_alloc,
	.free = bitmap_free,
	.insert = bitmap_insert,
	.remove = bitmap_remove,
	.alloc_contig = bitmap_alloc_contig,
	.alloc_at = bitmap_alloc_at,
	.dealloc_range = bitmap_dealloc_range,
	.test = bitmap_test,
	.next = bitmap_next,
	.check_touched = bitmap_check_touched,
	.check_full = bitmap_check_full,
};
