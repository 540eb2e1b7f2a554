/* SPDX-License-Identifier: MIT */
/*
 * The events mm/ emits through its trace hook (hvmm_trace(): page
 * allocations and frees, stage-2 map and unmap, ownership changes), written
 * as a production build of mm/ would write them: lines of the ftrace text
 * form (traces/FORMAT.md, "Events mm/ emits"). Page events of the allocator
 * under test are the kernel's own kmem:mm_page_alloc / mm_page_free lines,
 * so 'hvmm import' turns a recording back into a trace of ops; everything
 * else is an hvmm_* event the importer passes over.
 */
#ifndef SIM_TRACE_EVENTS_H
#define SIM_TRACE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

struct sim_events_writer;

/*
 * Starts writing to @path the events mm/ emits from now on (process-wide:
 * one writer at a time). Page events inside [@pool_pa, @pool_pa + @pool_size)
 * are the allocator under test's. NULL (after writing why into @err) on failure.
 */
struct sim_events_writer *sim_events_writer_open(const char *path, uint64_t pool_pa,
						 uint64_t pool_size, char *err, size_t errlen);
/* Stops, and puts the file in place: 0, or -1 after writing why into @err. */
int sim_events_writer_finish(struct sim_events_writer *w, char *err, size_t errlen);
/* Stops and removes what was written. */
void sim_events_writer_discard(struct sim_events_writer *w);

#endif /* SIM_TRACE_EVENTS_H */
