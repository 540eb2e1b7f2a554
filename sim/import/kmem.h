/* SPDX-License-Identifier: MIT */
/*
 * Importing production page-allocator traces: Linux kmem:mm_page_* events
 * as ftrace/trace-cmd text or LTTng's babeltrace2 text become ops on
 * symbolic handles (alloc hN order=K / free hN), so they replay on any
 * allocator.
 *
 * parse.c turns one line into a struct kmem_event; kmem.c follows page
 * ownership across events and writes the ops.
 */
#ifndef SIM_IMPORT_KMEM_H
#define SIM_IMPORT_KMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "trace/trace.h"

enum kmem_event_kind {
	KMEM_ALLOC,		/* mm_page_alloc: a caller got the block */
	KMEM_ALLOC_ZONE_LOCKED,	/* mm_page_alloc_zone_locked: the buddy handed it out (pcp refill) */
	KMEM_FREE,		/* mm_page_free */
	KMEM_FREE_BATCHED,	/* mm_page_free_batched (order 0) */
	KMEM_OTHER,		/* another mm_page_* event (extfrag, pcpu_drain): counted only */
	KMEM__COUNT,
};

struct kmem_event {
	enum kmem_event_kind kind;
	uint64_t pfn;		/* the PFN, or a pseudo-PFN from the struct page pointer */
	unsigned int order;
};

enum kmem_source {
	KMEM_FTRACE,		/* "mm_page_alloc: page=... pfn=0x... order=N ..." */
	KMEM_BABELTRACE,	/* "kmem_mm_page_alloc: { cpu_id = N }, { page = ..., pfn = N, ... }" */
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
	uint64_t allocs, frees;			/* ops written */
	uint64_t unknown_frees;			/* frees of pages allocated before the trace */
	uint64_t reallocs;			/* allocations of pages thought live */
	uint64_t pcp_handovers;			/* pcp-held page given to a caller */
	uint64_t live_pages, peak_pages;
	uint64_t never_freed;			/* handles live at the end */
};

struct kmem_import;

/* @pre_existing: unknown frees and re-allocations are pre-existing state, not errors. */
struct kmem_import *kmem_import_create(struct sim_trace_writer *w, bool pre_existing);
void kmem_import_destroy(struct kmem_import *im);
/* Applies one event; -1 with @err if it is inconsistent and pre-existing mode is off. */
int kmem_import_event(struct kmem_import *im, const struct kmem_event *ev, char *err, size_t errlen);
const struct kmem_counts *kmem_import_counts(struct kmem_import *im);

#endif /* SIM_IMPORT_KMEM_H */
