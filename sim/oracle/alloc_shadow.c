// SPDX-License-Identifier: MIT
#include "alloc_shadow.h"

#include <string.h>
#include <sys/mman.h>

#include "physmem.h"

static inline uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static inline uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }
/* @x rounded up to a multiple of @align, a power of two. */
static inline uint64_t align_up(uint64_t x, uint64_t align) { return (x + align - 1) & ~(align - 1); }

static const char *const state_names[] = {
	[SIM_SHADOW_UNMANAGED] = "unmanaged",
	[SIM_SHADOW_FREE] = "free",
	[SIM_SHADOW_ALLOCATED] = "allocated",
	[SIM_SHADOW_RESERVED] = "reserved",
};

static void *map_zeroed(uint64_t bytes)
{
	return sim_map_sparse(bytes);
}

static uint64_t bits_bytes(uint64_t nr_pages)
{
	return ((nr_pages + 63) / 64 + 1) * sizeof(uint64_t);
}

int sim_alloc_shadow_init(struct sim_alloc_shadow *s, uint64_t base_pfn, uint64_t nr_pages)
{
	return sim_alloc_shadow_init_cap(s, base_pfn, nr_pages, nr_pages);
}

int sim_alloc_shadow_init_cap(struct sim_alloc_shadow *s, uint64_t base_pfn, uint64_t nr_pages,
			      uint64_t cap_pages)
{
	memset(s, 0, sizeof(*s));
	s->base_pfn = base_pfn;
	s->nr_pages = nr_pages;
	s->cap_pages = max_u64(cap_pages, nr_pages);
	s->state = map_zeroed(s->cap_pages);
	s->free_bits = map_zeroed(bits_bytes(s->cap_pages));
	s->written_lo = UINT64_MAX;
	if (!s->state || !s->free_bits) {
		sim_alloc_shadow_fini(s);
		return -1;
	}
	return 0;
}

void sim_alloc_shadow_fini(struct sim_alloc_shadow *s)
{
	if (s->state)
		sim_unmap_sparse(s->state, s->cap_pages);
	if (s->free_bits)
		sim_unmap_sparse(s->free_bits, bits_bytes(s->cap_pages));
	memset(s, 0, sizeof(*s));
}

void sim_alloc_shadow_reset(struct sim_alloc_shadow *s)
{
	/*
	 * Only what was written holds non-zero bytes (state and free bits
	 * change together). Small ranges stay resident: faulting them in
	 * again costs more than zeroing.
	 */
	if (s->written_lo >= s->written_hi) {
		/* nothing written */
	} else if (s->written_hi - s->written_lo <= (1u << 20)) {
		memset(s->state + s->written_lo, 0, s->written_hi - s->written_lo);
		memset(s->free_bits + s->written_lo / 64, 0,
		       ((s->written_hi + 63) / 64 - s->written_lo / 64) * sizeof(uint64_t));
	} else {
		madvise(s->state, s->cap_pages ? s->cap_pages : 1, MADV_DONTNEED);
		madvise(s->free_bits, bits_bytes(s->cap_pages), MADV_DONTNEED);
	}
	s->nr_free = s->nr_allocated = s->nr_reserved = 0;
	s->init_free_lo = s->init_free_hi = 0;
	s->written_lo = UINT64_MAX;
	s->written_hi = 0;
}

bool sim_alloc_shadow_rebase(struct sim_alloc_shadow *s, uint64_t base_pfn, uint64_t nr_pages)
{
	if (nr_pages > s->cap_pages)
		return false;
	sim_alloc_shadow_reset(s);
	s->base_pfn = base_pfn;
	s->nr_pages = nr_pages;
	return true;
}

static void count(struct sim_alloc_shadow *s, enum sim_shadow_state st, int64_t delta)
{
	sim_alloc_shadow_count(s, st, delta);
}

/* Bits of free_bits word @w that are initially free. */
static uint64_t initial_free_mask(const struct sim_alloc_shadow *s, uint64_t w)
{
	uint64_t lo = w * 64, hi = lo + 64;

	if (s->init_free_hi <= lo || s->init_free_lo >= hi)
		return 0;
	lo = max_u64(lo, s->init_free_lo) - w * 64;
	hi = min_u64(hi, s->init_free_hi) - w * 64;
	return (hi == 64 ? ~0ULL : (1ULL << hi) - 1) & ~((1ULL << lo) - 1);
}

/* Word @w of the free bits, as states: bit set <=> the page is free. */
static uint64_t free_word(const struct sim_alloc_shadow *s, uint64_t w)
{
	return s->free_bits[w] ^ initial_free_mask(s, w);
}

static void set_one(struct sim_alloc_shadow *s, uint64_t i, enum sim_shadow_state to)
{
	uint8_t initial = sim_alloc_shadow_initial(s, i);
	uint64_t bit = 1ULL << (i & 63);
	bool free_now = (to == SIM_SHADOW_FREE) != (initial == SIM_SHADOW_FREE);

	count(s, s->state[i] ^ initial, -1);
	count(s, to, 1);
	s->state[i] = to ^ initial;
	if (free_now)
		s->free_bits[i / 64] |= bit;
	else
		s->free_bits[i / 64] &= ~bit;
}

static void note_written(struct sim_alloc_shadow *s, uint64_t i, uint64_t nr)
{
	s->written_lo = min_u64(s->written_lo, i);
	s->written_hi = max_u64(s->written_hi, i + nr);
}

void sim_alloc_shadow_set(struct sim_alloc_shadow *s, uint64_t pfn, uint64_t nr,
			  enum sim_shadow_state to)
{
	if (!sim_alloc_shadow_covers(s, pfn, nr))
		return;
	note_written(s, pfn - s->base_pfn, nr);
	for (uint64_t i = pfn - s->base_pfn; nr--; i++)
		set_one(s, i, to);
}

void sim_alloc_shadow_set_initial_free(struct sim_alloc_shadow *s, uint64_t pfn, uint64_t nr)
{
	uint64_t i = pfn - s->base_pfn;

	if (!nr || !sim_alloc_shadow_covers(s, pfn, nr))
		return;
	/* Only one initial range, and only over pages that still hold their 0. */
	if (s->init_free_hi != s->init_free_lo ||
	    (i < s->written_hi && s->written_lo < i + nr)) {
		sim_alloc_shadow_set(s, pfn, nr, SIM_SHADOW_FREE);
		return;
	}
	s->init_free_lo = i;
	s->init_free_hi = i + nr;
	s->nr_free += nr;
}

/* Page by page, reporting the pages not in @from (sim_alloc_shadow_move()). */
static uint64_t move_each(struct sim_alloc_shadow *s, struct sim_report *r,
			  enum sim_oracle_id oracle, const char *what, uint64_t pfn, uint64_t nr,
			  enum sim_shadow_state from, enum sim_shadow_state to)
{
	uint64_t bad = 0;

	for (uint64_t k = 0; k < nr; k++) {
		enum sim_shadow_state st = sim_alloc_shadow_get(s, pfn + k);

		if (st != from) {
			if (!bad)
				sim_report_violation(r, oracle,
					"%s: pfn 0x%llx of block 0x%llx+%llu is %s, expected %s",
					what, (unsigned long long)(pfn + k),
					(unsigned long long)pfn, (unsigned long long)nr,
					state_names[st], state_names[from]);
			bad++;
			continue;
		}
		note_written(s, pfn + k - s->base_pfn, 1);
		set_one(s, pfn + k - s->base_pfn, to);
	}
	return bad;
}

/*
 * Every page of a block the executor moves is, when nothing is wrong, in
 * @from and on one side of the initially free range: then the pages are
 * checked in one pass and stored in a second, the counts and the written
 * range updated once and the free bits a word at a time (the page-by-page
 * walk was about 100 instructions a page, run for every block allocated
 * and freed even with the oracles off). Anything else takes the walk.
 */
uint64_t sim_alloc_shadow_move_blocks(struct sim_alloc_shadow *s, struct sim_report *r,
				      enum sim_oracle_id oracle, const char *what,
				      uint64_t pfn, uint64_t nr,
				      enum sim_shadow_state from, enum sim_shadow_state to)
{
	uint64_t i0 = pfn - s->base_pfn, end = i0 + nr;
	uint8_t initial, want, put;
	uint64_t fill;

	if (!nr || !sim_alloc_shadow_covers(s, pfn, nr))
		return move_each(s, r, oracle, what, pfn, nr, from, to);
	initial = sim_alloc_shadow_initial(s, i0);
	/* Both ends inside the initially free range, or the whole block on one side of it. */
	if (initial == SIM_SHADOW_FREE ? sim_alloc_shadow_initial(s, end - 1) != initial :
	    s->init_free_lo < s->init_free_hi && i0 < s->init_free_lo && end > s->init_free_lo)
		return move_each(s, r, oracle, what, pfn, nr, from, to);
	want = (uint8_t)(from ^ initial);
	for (uint64_t i = i0; i < end; i++)
		if (s->state[i] != want)
			return move_each(s, r, oracle, what, pfn, nr, from, to);
	put = (uint8_t)(to ^ initial);
	if (nr == 1)
		s->state[i0] = put;
	else
		memset(s->state + i0, put, nr);
	note_written(s, i0, nr);
	count(s, from, -(int64_t)nr);
	count(s, to, (int64_t)nr);
	/* The stored bit: (the page is free) XOR (it was initially free). */
	fill = (to == SIM_SHADOW_FREE) != (initial == SIM_SHADOW_FREE) ? ~0ULL : 0;
	if (i0 / 64 == (end - 1) / 64) {
		uint64_t mask = (nr == 64 ? ~0ULL : (1ULL << nr) - 1) << (i0 % 64);

		s->free_bits[i0 / 64] = (s->free_bits[i0 / 64] & ~mask) | (fill & mask);
		return 0;
	}
	for (uint64_t w = i0 / 64; w <= (end - 1) / 64; w++) {
		uint64_t lo = w == i0 / 64 ? i0 % 64 : 0, hi = w == (end - 1) / 64 ? (end - 1) % 64 : 63;
		uint64_t mask = (hi == 63 ? ~0ULL : (1ULL << (hi + 1)) - 1) & ~((1ULL << lo) - 1);

		s->free_bits[w] = (s->free_bits[w] & ~mask) | (fill & mask);
	}
	return 0;
}

bool sim_alloc_shadow_all_free(const struct sim_alloc_shadow *s, uint64_t pfn, uint64_t nr)
{
	uint64_t i, end;

	if (!sim_alloc_shadow_covers(s, pfn, nr))
		return false;
	i = pfn - s->base_pfn;
	end = i + nr;
	for (; i < end && (i & 63); i++)
		if (!(free_word(s, i / 64) >> (i & 63) & 1))
			return false;
	for (; i + 64 <= end; i += 64)
		if (free_word(s, i / 64) != UINT64_MAX)
			return false;
	for (; i < end; i++)
		if (!(free_word(s, i / 64) >> (i & 63) & 1))
			return false;
	return true;
}

/* Index of the first page at or after @i that is not free (or @end). */
static uint64_t next_busy(const struct sim_alloc_shadow *s, uint64_t i, uint64_t end)
{
	while (i < end) {
		uint64_t w = ~free_word(s, i / 64) >> (i & 63);

		if (w)
			return min_u64(i + __builtin_ctzll(w), end);
		i = (i | 63) + 1;
	}
	return end;
}

/* Index of the first free page at or after @i (or @end). */
static uint64_t next_free(const struct sim_alloc_shadow *s, uint64_t i, uint64_t end)
{
	while (i < end) {
		uint64_t w = free_word(s, i / 64) >> (i & 63);

		if (w)
			return min_u64(i + __builtin_ctzll(w), end);
		i = (i | 63) + 1;
	}
	return end;
}

/*
 * find_free for a naturally aligned block (nr == align, a power of two) of
 * a shadow whose base is aligned to it: blocks are then aligned in page
 * indices too, so a block below 64 pages lies in one word and the ones
 * above are whole words. Word by word, not run by run, so a fragmented
 * shadow costs no more than an empty one. Pages past nr_pages have no
 * free bit, so no block found here leaves the shadow.
 */
static uint64_t find_free_block(const struct sim_alloc_shadow *s, uint64_t nr, uint64_t i)
{
	uint64_t nr_words = (s->nr_pages + 63) / 64;

	i = (i + nr - 1) & ~(nr - 1);
	if (nr < 64) {
		/* Bits at multiples of nr: the block starts a word may hold. */
		uint64_t starts = ~0ULL / ((1ULL << nr) - 1);

		for (uint64_t w = i / 64; w < nr_words; w++) {
			uint64_t m = free_word(s, w);

			if (w == i / 64)
				m &= ~0ULL << (i & 63);
			/* After the step for sh, bit p: pages p .. p + 2 sh - 1 are free. */
			for (uint64_t sh = 1; sh < nr && m; sh <<= 1)
				m &= m >> sh;
			m &= starts;
			if (m)
				return s->base_pfn + w * 64 + __builtin_ctzll(m);
		}
		return UINT64_MAX;
	}
	for (uint64_t w = i / 64; w + nr / 64 <= nr_words; w += nr / 64) {
		uint64_t k = 0;

		while (k < nr / 64 && free_word(s, w + k) == UINT64_MAX)
			k++;
		if (k == nr / 64)
			return s->base_pfn + w * 64;
	}
	return UINT64_MAX;
}

uint64_t sim_alloc_shadow_find_free(const struct sim_alloc_shadow *s, uint64_t nr,
				    uint64_t align, uint64_t from)
{
	uint64_t end = s->nr_pages, i;

	/* nr > nr_pages never fits (and cand + nr below would wrap). */
	if (!nr || nr > s->nr_pages || !align || (align & (align - 1)))
		return UINT64_MAX;
	i = from > s->base_pfn ? from - s->base_pfn : 0;
	if (nr == align && !(s->base_pfn & (nr - 1)))
		return i < end ? find_free_block(s, nr, i) : UINT64_MAX;
	while (i < end) {
		uint64_t run_start = next_free(s, i, end), run_end, cand;

		if (run_start >= end)
			break;
		run_end = next_busy(s, run_start, end);
		/* First aligned (absolute pfn) candidate inside the run. */
		cand = align_up(s->base_pfn + run_start, align) - s->base_pfn;
		if (cand + nr <= run_end && cand >= run_start)
			return s->base_pfn + cand;
		i = run_end;
	}
	return UINT64_MAX;
}
