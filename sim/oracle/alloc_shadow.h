/* SPDX-License-Identifier: MIT */
/*
 * The allocator shadow: a plain, obviously right model of which pages an
 * allocator manages and which of them are free, kept by the executor from
 * the ops' own meaning (never from the allocator's data). The allocator
 * oracles (ALLOC-STRUCT, ALLOC-CONSERVE, AVAIL) compare the real
 * allocator's state to it.
 *
 * Storage is one byte of state per page plus one bit "free" per page, over
 * [base_pfn, base_pfn + nr_pages), in NORESERVE mappings: a large, mostly
 * untouched range costs only what is touched. Both are stored relative to
 * an initial state: pages in [init_free_lo, init_free_hi) start FREE, the
 * others UNMANAGED, and a stored 0 (byte or bit) means "still the initial
 * state" (the stored value is the state XOR the initial one). So declaring
 * a huge range initially free (sim_alloc_shadow_set_initial_free) writes
 * nothing per page.
 */
#ifndef SIM_ORACLE_ALLOC_SHADOW_H
#define SIM_ORACLE_ALLOC_SHADOW_H

#include <stdbool.h>
#include <stdint.h>

#include "report.h"

enum sim_shadow_state {
	SIM_SHADOW_UNMANAGED = 0,	/* not (or no longer) the allocator's */
	SIM_SHADOW_FREE,
	SIM_SHADOW_ALLOCATED,
	SIM_SHADOW_RESERVED,		/* managed but never handed out */
};

struct sim_alloc_shadow {
	uint64_t base_pfn;
	uint64_t nr_pages;
	uint64_t cap_pages;		/* what the mapping can hold: nr_pages or more */
	uint8_t *state;			/* enum sim_shadow_state per page, XOR initial */
	uint64_t *free_bits;		/* bit set <=> (state == FREE) XOR initially free */
	uint64_t init_free_lo, init_free_hi;	/* initially free pages (indices) */
	uint64_t written_lo, written_hi;	/* indices written since init/reset */
	uint64_t nr_free, nr_allocated, nr_reserved;
};

int sim_alloc_shadow_init(struct sim_alloc_shadow *s, uint64_t base_pfn, uint64_t nr_pages);
/* The same, mapped (NORESERVE) for up to @cap_pages, so it can be re-based. */
int sim_alloc_shadow_init_cap(struct sim_alloc_shadow *s, uint64_t base_pfn, uint64_t nr_pages,
			      uint64_t cap_pages);
void sim_alloc_shadow_fini(struct sim_alloc_shadow *s);
/* Forgets everything (all pages unmanaged) without unmapping. */
void sim_alloc_shadow_reset(struct sim_alloc_shadow *s);
/* Resets and moves to @nr_pages at @base_pfn; false if beyond the mapping. */
bool sim_alloc_shadow_rebase(struct sim_alloc_shadow *s, uint64_t base_pfn, uint64_t nr_pages);

static inline bool sim_alloc_shadow_covers(const struct sim_alloc_shadow *s,
					   uint64_t pfn, uint64_t nr)
{
	return pfn >= s->base_pfn && nr <= s->nr_pages &&
	       pfn - s->base_pfn <= s->nr_pages - nr;
}

/* The initial state of page index @i (see the top of the file). */
static inline uint8_t sim_alloc_shadow_initial(const struct sim_alloc_shadow *s, uint64_t i)
{
	return i - s->init_free_lo < s->init_free_hi - s->init_free_lo ? SIM_SHADOW_FREE :
									 SIM_SHADOW_UNMANAGED;
}

static inline enum sim_shadow_state
sim_alloc_shadow_get(const struct sim_alloc_shadow *s, uint64_t pfn)
{
	uint64_t i = pfn - s->base_pfn;

	if (!sim_alloc_shadow_covers(s, pfn, 1))
		return SIM_SHADOW_UNMANAGED;
	return (enum sim_shadow_state)(s->state[i] ^ sim_alloc_shadow_initial(s, i));
}

/* sim_alloc_shadow_move() but for its inline case. */
uint64_t sim_alloc_shadow_move_blocks(struct sim_alloc_shadow *s, struct sim_report *r,
				      enum sim_oracle_id oracle, const char *what,
				      uint64_t pfn, uint64_t nr,
				      enum sim_shadow_state from, enum sim_shadow_state to);

/* Adds @delta to the count of pages in @st. */
static inline void sim_alloc_shadow_count(struct sim_alloc_shadow *s, enum sim_shadow_state st,
					  int64_t delta)
{
	switch (st) {
	case SIM_SHADOW_FREE: s->nr_free += (uint64_t)delta; break;
	case SIM_SHADOW_ALLOCATED: s->nr_allocated += (uint64_t)delta; break;
	case SIM_SHADOW_RESERVED: s->nr_reserved += (uint64_t)delta; break;
	default: break;
	}
}

/*
 * Moves [pfn, pfn + nr) from state @from to state @to. Pages not in @from
 * are left alone and reported under @oracle with @what (for example "alloc
 * returned a page that is not free"); returns the number of such pages.
 *
 * Inline for one page of the initially free range that is in @from (most
 * of what an allocator hands out and takes back): its byte and bit
 * stored and the counts moved, with @from and @to known to the compiler,
 * instead of a call that finds the case first (about 60 instructions).
 */
static inline uint64_t sim_alloc_shadow_move(struct sim_alloc_shadow *s, struct sim_report *r,
					     enum sim_oracle_id oracle, const char *what,
					     uint64_t pfn, uint64_t nr,
					     enum sim_shadow_state from,
					     enum sim_shadow_state to)
{
	uint64_t i = pfn - s->base_pfn, mask;

	if (nr == 1 && i < s->nr_pages &&
	    i - s->init_free_lo < s->init_free_hi - s->init_free_lo &&
	    s->state[i] == (uint8_t)(from ^ SIM_SHADOW_FREE)) {
		s->state[i] = (uint8_t)(to ^ SIM_SHADOW_FREE);
		if (i < s->written_lo)
			s->written_lo = i;
		if (i >= s->written_hi)
			s->written_hi = i + 1;
		sim_alloc_shadow_count(s, from, -1);
		sim_alloc_shadow_count(s, to, 1);
		/* The stored bit: (the page is free) XOR (it was initially free, as it was). */
		mask = 1ULL << (i % 64);
		s->free_bits[i / 64] = (s->free_bits[i / 64] & ~mask) |
				       (to == SIM_SHADOW_FREE ? 0 : mask);
		return 0;
	}
	return sim_alloc_shadow_move_blocks(s, r, oracle, what, pfn, nr, from, to);
}

/* Sets pages to @to whatever they were (initial state, test set-up). */
void sim_alloc_shadow_set(struct sim_alloc_shadow *s, uint64_t pfn, uint64_t nr,
			  enum sim_shadow_state to);

/*
 * Declares [pfn, pfn + nr) free, as an allocator's initial state: O(1) when
 * no page of the range has been written since init or reset (the usual
 * set-up), else the same as sim_alloc_shadow_set(..., SIM_SHADOW_FREE).
 */
void sim_alloc_shadow_set_initial_free(struct sim_alloc_shadow *s, uint64_t pfn, uint64_t nr);

/* True if every page of [pfn, pfn + nr) is free in the shadow. */
bool sim_alloc_shadow_all_free(const struct sim_alloc_shadow *s, uint64_t pfn, uint64_t nr);

/*
 * The lowest pfn >= @from such that [pfn, pfn + nr) is free and
 * pfn % align == 0 (align a power of two, in pages); UINT64_MAX if none.
 */
uint64_t sim_alloc_shadow_find_free(const struct sim_alloc_shadow *s, uint64_t nr,
				    uint64_t align, uint64_t from);

#endif /* SIM_ORACLE_ALLOC_SHADOW_H */
