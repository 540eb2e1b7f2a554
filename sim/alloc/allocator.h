/* SPDX-License-Identifier: MIT */
/*
 * The allocator under test, as the executor sees it. Each mm/ allocator
 * has an adapter here (sim/alloc/<name>.c) that drives it, and an oracle
 * backend (sim/oracle/<name>_*.c) that judges it by reading its data
 * structures directly, never by calling it.
 *
 * Blocks are named by PFN and order. Refcounting and splitting are
 * optional: an allocator without them gets them from the executor, which
 * keeps the count per handle and frees page by page after a split, so one
 * trace replays on any allocator.
 */
#ifndef SIM_ALLOC_ALLOCATOR_H
#define SIM_ALLOC_ALLOCATOR_H

#include <stddef.h>
#include <stdint.h>

#include "oracle/alloc_shadow.h"
#include "oracle/report.h"
#include "physmem.h"

struct sim_allocator;
struct sim_vmemmap;

struct sim_alloc_config {
	uint64_t base_pfn;	/* managed range */
	uint64_t nr_pages;
	uint64_t reserved_pages;	/* at the start of the range, never handed out */
};

struct sim_allocator_ops {
	const char *name;
	const char *description;

	/*
	 * Creates the allocator over the range and sets up @shadow with what
	 * is initially free and reserved. @err says why on failure.
	 */
	int (*init)(struct sim_allocator *a, const struct sim_alloc_config *cfg,
		    struct sim_alloc_shadow *shadow, char *err, size_t errlen);
	void (*fini)(struct sim_allocator *a);

	/* Generic ops; return 0 or -HVMM_E*. */
	int (*alloc)(struct sim_allocator *a, unsigned int order, uint64_t *pfn);
	/* Gives back all @pages of a block alloc() or alloc_contig() returned. */
	int (*free)(struct sim_allocator *a, uint64_t pfn, uint64_t pages);

	/* Optional (NULL: emulated by the executor). */
	int (*get)(struct sim_allocator *a, uint64_t pfn);
	/* Drops a reference; the allocator frees the block at zero. */
	int (*put)(struct sim_allocator *a, uint64_t pfn);
	int (*split)(struct sim_allocator *a, uint64_t pfn, unsigned int order);

	/* Optional bitmap-family ops (NULL: -HVMM_ENOTSUP). Frames are PFNs. */
	int (*insert)(struct sim_allocator *a, uint64_t pfn, uint64_t count);
	int (*remove)(struct sim_allocator *a, uint64_t pfn, uint64_t count);
	int (*alloc_contig)(struct sim_allocator *a, uint64_t count, unsigned int align_log2,
			    uint64_t *pfn);
	int (*alloc_at)(struct sim_allocator *a, uint64_t pfn, uint64_t count,
			unsigned int align_log2);
	int (*dealloc_range)(struct sim_allocator *a, uint64_t pfn, uint64_t count);
	/* 1 if free, 0 if not, <0 on error. */
	int (*test)(struct sim_allocator *a, uint64_t pfn);
	int (*next)(struct sim_allocator *a, uint64_t pfn, uint64_t *out);

	/*
	 * Oracle backend (independent of the allocator's code): ALLOC-STRUCT
	 * and ALLOC-CONSERVE on the pages an op touched, and on everything.
	 */
	void (*check_touched)(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			      struct sim_report *r, uint64_t pfn, uint64_t nr);
	void (*check_full)(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			   struct sim_report *r);
};

struct sim_allocator {
	const struct sim_allocator_ops *ops;
	struct sim_physmem *pm;
	const struct sim_vmemmap *vmemmap;	/* mm/'s page metadata (sim/vmemmap.h) */
	uint64_t base_pfn, nr_pages;	/* managed range */
	unsigned int max_order;		/* largest order alloc() can ever return */
	void *priv;			/* the adapter's state (the mm/ object) */
};

/* Every allocator the simulator knows, NULL-terminated. */
extern const struct sim_allocator_ops *const sim_allocators[];
const struct sim_allocator_ops *sim_allocator_find(const char *name);

struct hvmm_pool;
/*
 * mm/'s buddy writes free-list nodes into its pool's pages through the
 * pool's linear-map offset, not through hvmm_phys_to_virt(), so they are
 * not marked dirty as they are written. The nodes of the free blocks'
 * heads are the only bytes it leaves non-zero in pages nobody else
 * wrote (a node is cleared as its block leaves the list): this marks
 * those heads, which makes every non-zero page dirty again before a
 * scrub. A pool never set up (no lists) is skipped.
 */
void sim_buddy_mark_free_heads(struct sim_physmem *pm, const struct hvmm_pool *pool);

#endif /* SIM_ALLOC_ALLOCATOR_H */
