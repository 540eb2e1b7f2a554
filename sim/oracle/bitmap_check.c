// SPDX-License-Identifier: MIT
/*
 * Oracles for the cascaded bitmap allocator. Everything here is computed
 * from the bitmap's raw words and nodes with plain loops, so that a bug in
 * mm/bitmap_alloc.c's own arithmetic cannot hide itself.
 */
#include "bitmap_check.h"

#include <stdbool.h>

#define FANOUT 64u

struct runs {
	uint64_t prefix, suffix, longest;
};

static bool bit(const uint64_t *map, uint64_t i)
{
	return (map[i / 64] >> (i % 64)) & 1;
}

/* Frames spanned by one node of @level (0: a word), computed independently. */
static uint64_t span_of(unsigned int level)
{
	uint64_t span = 64;

	while (level--)
		span *= FANOUT;
	return span;
}

static const char *shadow_name(enum sim_shadow_state st)
{
	switch (st) {
	case SIM_SHADOW_FREE: return "free";
	case SIM_SHADOW_ALLOCATED: return "allocated";
	case SIM_SHADOW_RESERVED: return "reserved";
	default: return "unmanaged";
	}
}

static const char *bitmap_state(bool present, bool free)
{
	if (free)
		return present ? "free" : "free but absent";
	return present ? "allocated" : "absent";
}

/* ---- ALLOC-CONSERVE: frames against the shadow --------------------------- */

static void check_frames(const struct hvmm_bitmap *bm, const struct sim_alloc_shadow *s,
			 struct sim_report *r, uint64_t first, uint64_t end)
{
	uint64_t bad = 0;

	for (uint64_t i = first; i < end; i++) {
		uint64_t pfn = bm->base_pfn + i;
		bool present = bit(bm->present, i), free = bit(bm->free, i);
		enum sim_shadow_state st = sim_alloc_shadow_get(s, pfn);
		bool want_present = st == SIM_SHADOW_FREE || st == SIM_SHADOW_ALLOCATED;
		bool want_free = st == SIM_SHADOW_FREE;

		if (free && !present)
			sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
				"bitmap frame pfn 0x%llx: free bit set but not inserted",
				(unsigned long long)pfn);
		if (present == want_present && free == want_free)
			continue;
		if (!bad++)
			sim_report_violation(r, SIM_ORACLE_ALLOC_CONSERVE,
				"bitmap frame pfn 0x%llx: bitmap says %s, shadow says %s%s",
				(unsigned long long)pfn, bitmap_state(present, free),
				shadow_name(st),
				free && !want_free ? " (could be handed out twice)" :
				!free && want_free ? " (free frame lost)" : "");
	}
	if (bad > 1)
		sim_report_violation(r, SIM_ORACLE_ALLOC_CONSERVE,
			"bitmap frames 0x%llx..0x%llx: %llu frames disagree with the shadow in all",
			(unsigned long long)(bm->base_pfn + first),
			(unsigned long long)(bm->base_pfn + end - 1), (unsigned long long)bad);
}

/* ---- ALLOC-STRUCT: the node tree ------------------------------------------- */

static const struct hvmm_bitmap_node *node_at(const struct hvmm_bitmap *bm,
					      unsigned int level, uint64_t j)
{
	return &bm->nodes[level][j];
}

/* Whether node (@level, @j) is marked stale (in its parent, or root_stale). */
static bool node_stale(const struct hvmm_bitmap *bm, unsigned int level, uint64_t j)
{
	if (level == bm->top)
		return bm->root_stale;
	return (node_at(bm, level + 1, j / FANOUT)->stale >> (j % FANOUT)) & 1;
}

/* Extends the runs being summed in @out by one frame. */
static void runs_add_frame(struct runs *out, bool free, uint64_t *run, bool *head)
{
	if (free) {
		(*run)++;
		if (*run > out->longest)
			out->longest = *run;
		return;
	}
	if (*head)
		out->prefix = *run;
	*head = false;
	*run = 0;
}

/*
 * Run summary of a level-1 node straight from its frames' free bits, frame
 * by frame; a word that is all free or all taken is taken whole (the same
 * sums, 64 frames at a time).
 */
static void runs_from_frames(const struct hvmm_bitmap *bm, uint64_t j, struct runs *out)
{
	uint64_t span = span_of(1), first = j * span, run = 0;
	bool head = true;

	out->prefix = out->longest = 0;
	for (uint64_t i = first; i < first + span; i += 64) {
		uint64_t w = i < bm->nr_frames ? bm->free[i / 64] : 0;

		if (i + 64 <= bm->nr_frames && w == ~0ULL) {
			run += 64;
			if (run > out->longest)
				out->longest = run;
			continue;
		}
		if (w == 0) {
			runs_add_frame(out, false, &run, &head);
			continue;
		}
		for (uint64_t k = i; k < i + 64; k++)
			runs_add_frame(out, k < bm->nr_frames && bit(bm->free, k), &run, &head);
	}
	if (head)
		out->prefix = run;
	out->suffix = run;
}

/*
 * Run summary of a node of level >= 2 from its children's recorded ones:
 * the node is the concatenation of 64 segments (missing children are
 * segments with no free frame).
 */
static void runs_from_children(const struct hvmm_bitmap *bm, unsigned int level, uint64_t j,
			       struct runs *out)
{
	uint64_t cspan = span_of(level - 1), run = 0;
	bool head = true;

	out->prefix = out->longest = 0;
	for (uint64_t c = 0; c < FANOUT; c++) {
		uint64_t child = j * FANOUT + c;
		uint64_t p = 0, sfx = 0, l = 0;

		if (child < bm->nr_nodes[level - 1]) {
			const struct hvmm_bitmap_node *n = node_at(bm, level - 1, child);

			p = n->prefix;
			sfx = n->suffix;
			l = n->longest;
		}
		if (p == cspan && sfx == cspan && l == cspan) {
			run += cspan;
		} else {
			if (head)
				out->prefix = run + p;
			head = false;
			if (run + p > out->longest)
				out->longest = run + p;
			run = sfx;
		}
		if (l > out->longest)
			out->longest = l;
		if (run > out->longest)
			out->longest = run;
	}
	if (head)
		out->prefix = run;
	out->suffix = run;
}

static bool child_has_free(const struct hvmm_bitmap *bm, unsigned int level, uint64_t child)
{
	if (level == 1)
		return bm->free[child] != 0;
	return node_at(bm, level - 1, child)->avail != 0;
}

static void check_node(const struct hvmm_bitmap *bm, struct sim_report *r,
		       unsigned int level, uint64_t j)
{
	const struct hvmm_bitmap_node *n = node_at(bm, level, j);
	uint64_t span = span_of(level);
	unsigned long long first_pfn = bm->base_pfn + j * span;
	bool stale = node_stale(bm, level, j);
	struct runs want;

	for (uint64_t c = 0; c < FANOUT; c++) {
		uint64_t child = j * FANOUT + c;
		bool exists = child < bm->nr_nodes[level - 1];
		bool has = (n->avail >> c) & 1, want_has = exists && child_has_free(bm, level, child);
		bool cstale = (n->stale >> c) & 1;

		if (has != want_has)
			sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
				"bitmap node L%u#%llu (pfn 0x%llx+%llu): avail bit %llu is %d, "
				"child %s a free frame",
				level, (unsigned long long)j, first_pfn, (unsigned long long)span,
				(unsigned long long)c, has, want_has ? "holds" : "holds no");
		if (cstale && (level == 1 || !exists))
			sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
				"bitmap node L%u#%llu: stale bit %llu set for a child that has no summary",
				level, (unsigned long long)j, (unsigned long long)c);
		else if (cstale && !stale)
			sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
				"bitmap node L%u#%llu: child %llu is stale but the node is not",
				level, (unsigned long long)j, (unsigned long long)c);
	}
	if (stale)
		return;
	if (level == 1)
		runs_from_frames(bm, j, &want);
	else
		runs_from_children(bm, level, j, &want);
	if (n->prefix != want.prefix || n->suffix != want.suffix || n->longest != want.longest)
		sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
			"bitmap node L%u#%llu (pfn 0x%llx+%llu): runs prefix/suffix/longest "
			"found %u/%u/%u, expected %llu/%llu/%llu",
			level, (unsigned long long)j, first_pfn, (unsigned long long)span,
			n->prefix, n->suffix, n->longest, (unsigned long long)want.prefix,
			(unsigned long long)want.suffix, (unsigned long long)want.longest);
}

/* Nodes above words [w0, w1], level by level. */
static void check_paths(const struct hvmm_bitmap *bm, struct sim_report *r,
			uint64_t w0, uint64_t w1)
{
	for (unsigned int level = 1; level <= bm->top; level++) {
		w0 /= FANOUT;
		w1 /= FANOUT;
		for (uint64_t j = w0; j <= w1; j++)
			check_node(bm, r, level, j);
	}
}

/* Bits past the capacity in the last word must stay clear. */
static void check_tail(const struct hvmm_bitmap *bm, struct sim_report *r)
{
	uint64_t last = bm->nr_nodes[0] - 1, used = bm->nr_frames - last * 64;
	uint64_t beyond = used == 64 ? 0 : ~0ULL << used;

	if ((bm->free[last] | bm->present[last]) & beyond)
		sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
			"bitmap word %llu: bits set beyond the capacity of %llu frames",
			(unsigned long long)last, (unsigned long long)bm->nr_frames);
}

/* No word below the lowest-free hint may hold a free frame. */
static void check_hint(const struct hvmm_bitmap *bm, struct sim_report *r, uint64_t w0, uint64_t w1)
{
	for (uint64_t w = w0; w <= w1 && w < bm->first_free_word && w < bm->nr_nodes[0]; w++) {
		if (bm->free[w]) {
			sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
				"bitmap word %llu (pfn 0x%llx) holds free frames below the "
				"lowest-free hint %llu", (unsigned long long)w,
				(unsigned long long)(bm->base_pfn + w * 64),
				(unsigned long long)bm->first_free_word);
			return;
		}
	}
}

void sim_bitmap_check_touched(const struct hvmm_bitmap *bm, const struct sim_alloc_shadow *s,
			      struct sim_report *r, uint64_t pfn, uint64_t nr)
{
	uint64_t first, end;

	if (!nr || pfn >= bm->base_pfn + bm->nr_frames || pfn + nr <= bm->base_pfn ||
	    pfn + nr < pfn)
		return;
	first = pfn > bm->base_pfn ? pfn - bm->base_pfn : 0;
	end = pfn + nr - bm->base_pfn;
	if (end > bm->nr_frames)
		end = bm->nr_frames;
	check_frames(bm, s, r, first, end);
	check_paths(bm, r, first / 64, (end - 1) / 64);
	check_hint(bm, r, first / 64, (end - 1) / 64);
	check_tail(bm, r);
}

void sim_bitmap_check_full(const struct hvmm_bitmap *bm, const struct sim_alloc_shadow *s,
			   struct sim_report *r)
{
	uint64_t nr_free = 0;

	check_frames(bm, s, r, 0, bm->nr_frames);
	check_paths(bm, r, 0, bm->nr_nodes[0] - 1);
	check_hint(bm, r, 0, bm->nr_nodes[0] - 1);
	check_tail(bm, r);
	for (uint64_t i = 0; i < bm->nr_frames; i++)
		nr_free += bit(bm->free, i);
	if (nr_free != bm->nr_free)
		sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
			"bitmap free counter is %llu, %llu free bits are set",
			(unsigned long long)bm->nr_free, (unsigned long long)nr_free);
	if (bm->nr_nodes[bm->top] != 1)
		sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
			"bitmap level %u has %llu nodes, expected one root", bm->top,
			(unsigned long long)bm->nr_nodes[bm->top]);
}

void sim_bitmap_check_avail(const struct sim_alloc_shadow *s, struct sim_report *r,
			    uint64_t count, unsigned int align_log2, int result, uint64_t pfn)
{
	uint64_t lowest;

	if (!count || align_log2 >= 64 || (result && result != -HVMM_ENOMEM))
		return;
	lowest = sim_alloc_shadow_find_free(s, count, 1ULL << align_log2, 0);
	if (result == -HVMM_ENOMEM && lowest != UINT64_MAX)
		sim_report_violation(r, SIM_ORACLE_AVAIL,
			"alloc_contiguous(%llu, align 2^%u) failed, but pfn 0x%llx..0x%llx is free "
			"and aligned", (unsigned long long)count, align_log2,
			(unsigned long long)lowest, (unsigned long long)(lowest + count - 1));
	else if (!result && pfn != lowest)
		sim_report_violation(r, SIM_ORACLE_AVAIL,
			"alloc_contiguous(%llu, align 2^%u) returned pfn 0x%llx, the lowest "
			"aligned free window starts at 0x%llx", (unsigned long long)count,
			align_log2, (unsigned long long)pfn, (unsigned long long)lowest);
}
