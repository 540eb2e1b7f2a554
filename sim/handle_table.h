/* SPDX-License-Identifier: MIT */
/*
 * The executor's table of allocation handles: what each live handle of a
 * trace names (a block of pages and its references). Ops are validated
 * against it before they reach mm/, which would rightly panic on misuse.
 * Indexed by handle number, grown on demand up to SIM_MAX_HANDLE.
 */
#ifndef SIM_HANDLE_TABLE_H
#define SIM_HANDLE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An allocation: a buddy-style block (pages a power of two) or a bitmap run
 * of any length. Freeing it gives back all of its pages.
 */
struct sim_handle {
	uint64_t pfn;
	uint64_t pages;
	uint32_t refs;
	uint8_t live;
};

struct sim_handles {
	struct sim_handle *h;
	uint32_t cap;		/* entries of h[] */
};

/* sim_handles_slot() when the table must grow first. */
struct sim_handle *sim_handles_slot_grow(struct sim_handles *t, uint32_t h);

/*
 * The slot of handle @h, the table grown to hold it; NULL if @h is too
 * large or no memory. Inline, with the live lookup: the executor asks for
 * a handle several times an op.
 */
static inline struct sim_handle *sim_handles_slot(struct sim_handles *t, uint32_t h)
{
	if (__builtin_expect(h < t->cap, 1))
		return &t->h[h];
	return sim_handles_slot_grow(t, h);
}

/* Handle @h if it is live, else NULL. */
static inline struct sim_handle *sim_handles_live(const struct sim_handles *t, uint32_t h)
{
	if (h >= t->cap || !t->h[h].live)
		return NULL;
	return &t->h[h];
}
/* Handle @h if it named a block whose last reference is gone (the block as it was), else NULL. */
struct sim_handle *sim_handles_released(const struct sim_handles *t, uint32_t h);
/* Every handle dead; the table keeps its memory. */
void sim_handles_clear(struct sim_handles *t);
void sim_handles_fini(struct sim_handles *t);

#endif /* SIM_HANDLE_TABLE_H */
