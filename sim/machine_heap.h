/* SPDX-License-Identifier: MIT */
/*
 * The executor's heap side: one byte heap (mm/heap.c) per machine, whose
 * chunks come from the allocator under test, driven by the ops halloc,
 * hfree and hreclaim and judged by HEAP-STRUCT, HEAP-CONSERVE and AVAIL
 * (sim/oracle/heap_check.h).
 *
 * Heap handles are a namespace of their own in the executor: "halloc h3"
 * and "alloc h3" name different things, and "free h3" of a heap handle
 * is ENOENT. An hfree of a handle that is not live never reaches mm/
 * (which would rightly refuse it): it is ENOENT. After a HEAP-STRUCT or
 * HEAP-CONSERVE violation, heap ops return EFAULT without reaching mm/.
 */
#ifndef SIM_MACHINE_HEAP_H
#define SIM_MACHINE_HEAP_H

#include <stdint.h>

#include <hvmm/heap.h>

#include "oracle/heap_check.h"
#include "op.h"

/* The heap every machine has: chunks of 16 pages, at most 64 of them (4 MiB). */
#define SIM_HEAP_CHUNK_PAGE_ORDER	4
#define SIM_HEAP_MAX_CHUNKS		64

struct sim_machine;

struct sim_heap_handle {
	uintptr_t addr;
	uint64_t size, align;
	uint8_t live;
};

struct sim_heapstate {
	struct sim_machine *m;
	struct hvmm_heap heap;
	struct sim_heap_shadow shadow;
	struct sim_heap_handle *handles;
	uint32_t nr_handles;
	int asked;		/* page-source calls during the current op */
	/*
	 * A heap oracle found the heap's structure broken: its lists can no
	 * longer be followed safely, so heap ops return EFAULT from then on
	 * (as every op does once mm/ has panicked).
	 */
	bool broken;
};

/* Sets up an empty heap for @m (no page is taken until the first halloc). */
int sim_heap_setup(struct sim_heapstate *hs, struct sim_machine *m);
/* Forgets the run; host memory is kept for the next setup. */
void sim_heap_teardown(struct sim_heapstate *hs);
void sim_heap_destroy(struct sim_heapstate *hs);

/* Executes one heap op (SIM_OPC_HEAP) and runs the incremental oracles. */
int sim_heap_exec(struct sim_heapstate *hs, const struct sim_op *op, uint64_t *value);
/* The full check of every heap oracle. */
void sim_heap_check_all(struct sim_heapstate *hs);

#endif /* SIM_MACHINE_HEAP_H */
