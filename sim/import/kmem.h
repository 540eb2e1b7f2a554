/* SPDX-License-Identifier: MIT */
/*
 * Importing production page-allocator traces: Linux kmem:mm_page_* events
 * as ftrace/trace-cmd text or LTTng's babeltrace2 text become ops on
 * symbolic handles (alloc hN order=K / free hN), so they replay on any
 * allocator.
 *
 * parse.c turns one line into a struct kmem_event; kmem.c follows page
 * ownership across events by the kernel's rules (include/trace/events/kmem.h,
 * mm/page_alloc.c) and writes the ops.
 */
#ifndef SIM_IMPORT_KMEM_H
#define SIM_IMPORT_KMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/trace.h"

/*
 * Orders 0..KMEM_MAX_ORDER-1: MAX_ORDER of x86_64 and of arm64 with 4K
 * pages (include/linux/mmzone.h, 6.1). A larger order= is reported.
 */
#define KMEM_MAX_ORDER		11
/* The largest pfn of a 64-bit physical address with 4K pages. */
#define KMEM_MAX_PFN		((1ULL << 52) - 1)

enum kmem_event_kind {
	KMEM_ALLOC,		/* mm_page_alloc: a caller got the block (or nothing) */
	KMEM_ALLOC_ZONE_LOCKED,	/* mm_page_alloc_zone_locked: the buddy handed a block out */
	KMEM_FREE,		/* mm_page_free */
	KMEM_FREE_BATCHED,	/* mm_page_free_batched (order 0) */
	KMEM_OTHER,		/* another mm_page_* event (extfrag, pcpu_drain): counted only */
	KMEM__COUNT,
};

struct kmem_event {
	enum kmem_event_kind kind;
	/* The pfn, or, for events that carry only a struct page pointer, the pointer. */
	uint64_t pfn;
	bool by_pointer;	/* .pfn is a struct page pointer */
	bool failed;		/* an allocation that returned no page */
	bool has_page;		/* .page is the struct page pointer printed beside the pfn */
	int percpu_refill;	/* 1, 0, or -1 when the kernel does not print it */
	unsigned int order;
	uint64_t page;
	char pfn_text[64];	/* the pfn (or page) as written, for messages */
};

enum kmem_source {
	KMEM_FTRACE,		/* "task-pid [cpu] ts: mm_page_alloc: page=... pfn=0x... order=N ..." */
	KMEM_BABELTRACE,	/* "[ts] (+d) host kmem_mm_page_alloc: { cpu_id = N }, { page = ..., ... }" */
};

/*
 * Parses one line. 1: an event in @ev; 0: not a page-allocator event (other
 * events, comments, headers); -1: a page-allocator event with missing or bad
 * fields (@err says what was expected).
 */
int kmem_parse_line(enum kmem_source src, const char *line, struct kmem_event *ev,
		    char *err, size_t errlen);

struct kmem_counts {
	uint64_t events[KMEM__COUNT];
	uint64_t lines_skipped;
	uint64_t allocs;		/* mm_page_alloc that returned a page: alloc ops */
	uint64_t failed_allocs;		/* mm_page_alloc that returned none: alloc ops expecting ENOMEM */
	uint64_t frees_matched;		/* frees of a block allocated in the trace: free ops */
	uint64_t frees_before;		/* frees of pages allocated before tracing began */
	uint64_t frees_paired;		/* mm_page_free_batched + mm_page_free of one page: one free */
	uint64_t reallocs;		/* allocations of a pfn thought live: its free was not traced */
	uint64_t pcp_refills;		/* zone_locked moving pages to a per-CPU list */
	uint64_t zone_direct;		/* zone_locked just before the mm_page_alloc of the block */
	uint64_t order_mismatches;	/* frees whose order is not the live block's */
	uint64_t inside_frees;		/* frees inside a larger live block that no split explains (not applied) */
	uint64_t splits;		/* blocks split into order-0 pages (split_page()): split ops */
	uint64_t split_frees;		/* frees of pages of a split block */
	uint64_t split_handles;		/* handles the splits made (pages 1.. of each block) */
	uint64_t split_free_ops;	/* free ops those frees wrote (one per page) */
	uint64_t big_orders;		/* order= at or beyond KMEM_MAX_ORDER */
	uint64_t free_ops;		/* free ops written (matched frees and re-allocations) */
	uint64_t live_pages, peak_pages;
	uint64_t never_freed;		/* blocks live at the end */
	uint64_t never_freed_pages;
	uint64_t page_size;		/* struct page size found from the trace; 0: none needed */
	bool page_size_from_pfn;	/* from page and pfn printed together, else from pointers */
};

struct kmem_import;

/* @strict: frees of unknown pages, re-allocations and mismatches are errors. */
struct kmem_import *kmem_import_create(struct sim_trace_writer *w, bool strict);
void kmem_import_destroy(struct kmem_import *im);
/*
 * Applies one event from line @line. 0: applied; 1: applied with a warning
 * in @msg (a counted inconsistency); -1: an error in @msg (strict mode, or
 * out of memory or disk).
 */
int kmem_import_event(struct kmem_import *im, const struct kmem_event *ev, uint64_t line,
		      char *msg, size_t msglen);
const struct kmem_counts *kmem_import_counts(struct kmem_import *im);

#endif /* SIM_IMPORT_KMEM_H */
