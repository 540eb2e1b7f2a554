// SPDX-License-Identifier: MIT
#include "alloc_shadow.h"

#include <string.h>
#include <sys/mman.h>

static const char *const state_names[] = {
	[SIM_SHADOW_UNMANAGED] = "unmanaged",
	[SIM_SHADOW_FREE] = "free",
	[SIM_SHADOW_ALLOCATED] = "allocated",
	[SIM_SHADOW_RESERVED] = "reserved",
};

static void *map_zeroed(uint64_t bytes)
{
	void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static uint64_t bits_bytes(uint64_t nr_pages)
{
	return ((nr_pages + 63) / 64 + 1) * sizeof(uint64_t);
}

int sim_alloc_shadow_init(struct sim_alloc_shadow *s, uint64_t base_pfn, uint64_t nr_pages)
{
	memset(s, 0, sizeof(*s));
	s->base_pfn = base_pfn;
	s->nr_pages = nr_pages;
	s->state = map_zeroed(nr_pages);
	s->free_bits = map_zeroed(bits_bytes(nr_pages));
	if (!s->state || !s->free_bits) {
		sim_alloc_shadow_fini(s);
		return -1;
	}
	return 0;
}

void sim_alloc_shadow_fini(struct sim_alloc_shadow *s)
{
	if (s->state)
		munmap(s->state, s->nr_pages ? s->nr_pages : 1);
	if (s->free_bits)
		munmap(s->free_bits, bits_bytes(s->nr_pages));
	memset(s, 0, sizeof(*s));
}

void sim_alloc_shadow_reset(struct sim_alloc_shadow *s)
{
	/* Small shadows stay resident: faulting them in again costs more than zeroing. */
	if (s->nr_pages <= (1u << 20)) {
		memset(s->state, 0, s->nr_pages);
		memset(s->free_bits, 0, bits_bytes(s->nr_pages));
	} else {
		madvise(s->state, s->nr_pages ? s->nr_pages : 1, MADV_DONTNEED);
		madvise(s->free_bits, bits_bytes(s->nr_pages), MADV_DONTNEED);
	}
	s->nr_free = s->nr_allocated = s->nr_reserved = 0;
}

static void count(struct sim_alloc_shadow *s, enum sim_shadow_state st, int64_t delta)
{
	switch (st) {
	case SIM_SHADOW_FREE: s->nr_free += delta; break;
	case SIM_SHADOW_ALLOCATED: s->nr_allocated += delta; break;
	case SIM_SHADOW_RESERVED: s->nr_reserved += delta; break;
	default: break;
	}
}

static void set_one(struct sim_alloc_shadow *s, uint64_t i, enum sim_shadow_state to)
{
	uint64_t bit = 1ULL << (i & 63);

	count(s, s->state[i], -1);
	count(s, to, 1);
	s->state[i] = to;
	if (to == SIM_SHADOW_FREE)
		s->free_bits[i / 64] |= bit;
	else
		s->free_bits[i / 64] &= ~bit;
}

void sim_alloc_shadow_set(struct sim_alloc_shadow *s, uint64_t pfn, uint64_t nr,
			  enum sim_shadow_state to)
{
	if (!sim_alloc_shadow_covers(s, pfn, nr))
		return;
	for (uint64_t i = pfn - s->base_pfn; nr--; i++)
		set_one(s, i, to);
}

uint64_t sim_alloc_shadow_move(struct sim_alloc_shadow *s, struct sim_report *r,
			       enum sim_oracle_id oracle, const char *what,
			       uint64_t pfn, uint64_t nr,
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
		set_one(s, pfn + k - s->base_pfn, to);
	}
	return bad;
}

bool sim_alloc_shadow_all_free(const struct sim_alloc_shadow *s, uint64_t pfn, uint64_t nr)
{
	uint64_t i, end;

	if (!sim_alloc_shadow_covers(s, pfn, nr))
		return false;
	i = pfn - s->base_pfn;
	end = i + nr;
	for (; i < end && (i & 63); i++)
		if (!(s->free_bits[i / 64] >> (i & 63) & 1))
			return false;
	for (; i + 64 <= end; i += 64)
		if (s->free_bits[i / 64] != UINT64_MAX)
			return false;
	for (; i < end; i++)
		if (!(s->free_bits[i / 64] >> (i & 63) & 1))
			return false;
	return true;
}

/* Index of the first page at or after @i that is not free (or @end). */
static uint64_t next_busy(const struct sim_alloc_shadow *s, uint64_t i, uint64_t end)
{
	while (i < end) {
		uint64_t w = ~s->free_bits[i / 64] >> (i & 63);

		if (w)
			return hvmm_min(i + __builtin_ctzll(w), end);
		i = (i | 63) + 1;
	}
	return end;
}

/* Index of the first free page at or after @i (or @end). */
static uint64_t next_free(const struct sim_alloc_shadow *s, uint64_t i, uint64_t end)
{
	while (i < end) {
		uint64_t w = s->free_bits[i / 64] >> (i & 63);

		if (w)
			return hvmm_min(i + __builtin_ctzll(w), end);
		i = (i | 63) + 1;
	}
	return end;
}

uint64_t sim_alloc_shadow_find_free(const struct sim_alloc_shadow *s, uint64_t nr,
				    uint64_t align, uint64_t from)
{
	uint64_t end = s->nr_pages, i;

	/* nr > nr_pages never fits (and cand + nr below would wrap). */
	if (!nr || nr > s->nr_pages || !align || (align & (align - 1)))
		return UINT64_MAX;
	i = from > s->base_pfn ? from - s->base_pfn : 0;
	while (i < end) {
		uint64_t run_start = next_free(s, i, end), run_end, cand;

		if (run_start >= end)
			break;
		run_end = next_busy(s, run_start, end);
		/* First aligned (absolute pfn) candidate inside the run. */
		cand = HVMM_ALIGN_UP(s->base_pfn + run_start, align) - s->base_pfn;
		if (cand + nr <= run_end && cand >= run_start)
			return s->base_pfn + cand;
		i = run_end;
	}
	return UINT64_MAX;
}
