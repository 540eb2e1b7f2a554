// SPDX-License-Identifier: MIT
/*
 * Oracles for the cascaded bitmap allocator. Everything here is computed
 * from the bitmap's raw words and nodes with plain loops, so that a bug in
 * mm/bitmap_alloc.c's own arithmetic cannot hide itself. The bitmap is
 * read through oracle/mm_layout.h.
 */
#include "bitmap_check.h"

#include <stdbool.h>

#define FANOUT 64u
_Static_assert(FANOUT == 1u << SIM_MM_BITMAP_FANOUT_SHIFT, "the tree mm/ lays out");

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

static void check_frames(const struct sim_mm_bitmap *bm, const struct sim_alloc_shadow *s,
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

static const struct sim_mm_bitmap_node *node_at(const struct sim_mm_bitmap *bm,
					      unsigned int level, uint64_t j)
{
	return &bm->nodes[level][j];
}

/* Whether node (@level, @j) is marked stale (in its parent, or root_stale). */
static bool node_stale(const struct sim_mm_bitmap *bm, unsigned int level, uint64_t j)
{
	if (level == bm->top)
		return bm->root_stale;
	return (node_at(bm, level + 1, j / FANOUT)->stale >> (j % FANOUT)) & 1;
}

/*
 * Free run lengths of one word: prefix and suffix by counting trailing and
 * leading ones, longest by shrinking every run by one frame per step (the
 * step count is the longest run; fragmented words end fast).
 */
static void runs_of_word(uint64_t w, struct runs *out)
{
	uint64_t len = 0;

	if (w == ~0ULL) {
		out->prefix = out->suffix = out->longest = 64;
		return;
	}
	out->prefix = __builtin_ctzll(~w);
	out->suffix = __builtin_clzll(~w);
	for (; w; len++)
		w &= w >> 1;
	out->longest = len;
}

/*
 * Appends a segment of @seg_span frames with run summary @seg to the runs
 * being summed in @out; @run is the free run ending at the previous
 * segment's end, @head whether every segment so far was wholly free.
 */
static void runs_append(struct runs *out, const struct runs *seg, uint64_t seg_span,
			uint64_t *run, bool *head)
{
	if (seg->prefix == seg_span && seg->suffix == seg_span && seg->longest == seg_span) {
		*run += seg_span;
	} else {
		if (*head)
			out->prefix = *run + seg->prefix;
		*head = false;
		if (*run + seg->prefix > out->longest)
			out->longest = *run + seg->prefix;
		*run = seg->suffix;
	}
	if (seg->longest > out->longest)
		out->longest = seg->longest;
	if (*run > out->longest)
		out->longest = *run;
}

/*
 * Run summary of a level-1 node straight from its frames' free bits, word
 * by word (frames past the capacity count as not free); each word's
 * longest run in @word_longest.
 */
static void runs_from_frames(const struct sim_mm_bitmap *bm, uint64_t j, struct runs *out,
			     uint64_t word_longest[FANOUT])
{
	uint64_t first = j * FANOUT, run = 0;
	bool head = true;

	out->prefix = out->longest = 0;
	for (uint64_t w = first; w < first + FANOUT; w++) {
		uint64_t bits = 0, i = w * 64;
		struct runs seg;

		if (i < bm->nr_frames)
			bits = bm->free[w];
		if (i < bm->nr_frames && bm->nr_frames - i < 64)
			bits &= (1ULL << (bm->nr_frames - i)) - 1;
		runs_of_word(bits, &seg);
		word_longest[w - first] = seg.longest;
		runs_append(out, &seg, 64, &run, &head);
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
static void runs_from_children(const struct sim_mm_bitmap *bm, unsigned int level, uint64_t j,
			       struct runs *out)
{
	uint64_t cspan = span_of(level - 1), run = 0;
	bool head = true;

	out->prefix = out->longest = 0;
	for (uint64_t c = 0; c < FANOUT; c++) {
		uint64_t child = j * FANOUT + c;
		struct runs seg = { 0, 0, 0 };

		if (child < bm->nr_nodes[level - 1]) {
			const struct sim_mm_bitmap_node *n = node_at(bm, level - 1, child);

			seg.prefix = n->prefix;
			seg.suffix = n->suffix;
			seg.longest = n->longest;
		}
		runs_append(out, &seg, cspan, &run, &head);
	}
	if (head)
		out->prefix = run;
	out->suffix = run;
}

/* Children of node (@level, @j) that exist, as a mask. */
static uint64_t existing_children(const struct sim_mm_bitmap *bm, unsigned int level, uint64_t j)
{
	uint64_t nr = bm->nr_nodes[level - 1] - j * FANOUT;

	return nr >= FANOUT ? ~0ULL : (1ULL << nr) - 1;
}

/* Children of node (@level, @j) holding a free frame, read from each child. */
static uint64_t children_with_free(const struct sim_mm_bitmap *bm, unsigned int level, uint64_t j,
				   uint64_t exists)
{
	uint64_t first = j * FANOUT, mask = 0;

	if (exists != ~0ULL) {
		for (uint64_t c = 0; (exists >> c) & 1; c++)
			mask |= (uint64_t)(level == 1 ? bm->free[first + c] != 0 :
					   node_at(bm, level - 1, first + c)->avail != 0) << c;
		return mask;
	}
	/* Full nodes: branch-free loops the compiler can unroll. */
	if (level == 1) {
		const uint64_t *w = &bm->free[first];

		for (uint64_t c = 0; c < FANOUT; c++)
			mask |= (uint64_t)(w[c] != 0) << c;
	} else {
		const struct sim_mm_bitmap_node *n = node_at(bm, level - 1, first);

		for (uint64_t c = 0; c < FANOUT; c++)
			mask |= (uint64_t)(n[c].avail != 0) << c;
	}
	return mask;
}

/*
 * Every child's avail and stale bit, 64 at a time: the masks of what the
 * children say against the node's own bits, one report per wrong bit.
 */
static void check_child_bits(const struct sim_mm_bitmap *bm, struct sim_report *r,
			     unsigned int level, uint64_t j, bool stale)
{
	const struct sim_mm_bitmap_node *n = node_at(bm, level, j);
	uint64_t span = span_of(level);
	unsigned long long first_pfn = bm->base_pfn + j * span;
	uint64_t exists = existing_children(bm, level, j);
	uint64_t want = children_with_free(bm, level, j, exists);
	uint64_t bad_avail = n->avail ^ want;
	/* At level 1 the bits name changed words: the node must be stale too. */
	uint64_t no_summary = n->stale & ~exists;
	uint64_t stale_under_fresh = stale ? 0 : n->stale & ~no_summary;

	for (; bad_avail; bad_avail &= bad_avail - 1) {
		unsigned int c = __builtin_ctzll(bad_avail);
		bool want_has = (want >> c) & 1;

		sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
			"bitmap node L%u#%llu (pfn 0x%llx+%llu): avail bit %u is %d, "
			"but the child holds %s free frame",
			level, (unsigned long long)j, first_pfn, (unsigned long long)span,
			c, !want_has, want_has ? "a" : "no");
	}
	for (; no_summary; no_summary &= no_summary - 1)
		sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
			"bitmap node L%u#%llu: stale bit %u set for a child that does not exist",
			level, (unsigned long long)j, (unsigned int)__builtin_ctzll(no_summary));
	for (; stale_under_fresh; stale_under_fresh &= stale_under_fresh - 1)
		sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
			"bitmap node L%u#%llu: %s %u is stale but the node is not",
			level, (unsigned long long)j, level == 1 ? "word" : "child",
			(unsigned int)__builtin_ctzll(stale_under_fresh));
}

/*
 * The longest free run mm/ keeps for each word of level-1 node @j, which
 * must be exact for every word not marked changed in the node (a search
 * skips the words whose cached run is too short): the words [@w0, @w1] of
 * the node, against @want (indexed from the node's first word) if given,
 * else each computed here.
 */
static void check_word_cache(const struct sim_mm_bitmap *bm, struct sim_report *r, uint64_t j,
			     uint64_t w0, uint64_t w1, const uint64_t *want)
{
	uint64_t first = j * FANOUT, changed = node_at(bm, 1, j)->stale;

	if (w0 < first)
		w0 = first;
	if (w1 > first + FANOUT - 1)
		w1 = first + FANOUT - 1;
	for (uint64_t w = w0; w <= w1 && w < bm->nr_nodes[0]; w++) {
		struct runs runs;
		uint64_t longest;

		if ((changed >> (w - first)) & 1)
			continue;
		if (want) {
			longest = want[w - first];
		} else {
			runs_of_word(bm->free[w], &runs);
			longest = runs.longest;
		}
		if (bm->word_longest[w] != longest)
			sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
				"bitmap word %llu (pfn 0x%llx): cached longest run %u, the word's "
				"is %llu, and the word is not marked changed",
				(unsigned long long)w, (unsigned long long)(bm->base_pfn + w * 64),
				bm->word_longest[w], (unsigned long long)longest);
	}
}

/*
 * Node (@level, @j), above the touched words [@w0, @w1]. The cached runs
 * of an up-to-date level-1 node's words are all checked, from the runs
 * its summary is checked against; a stale one's, the touched words'.
 */
static void check_node(const struct sim_mm_bitmap *bm, struct sim_report *r,
		       unsigned int level, uint64_t j, uint64_t w0, uint64_t w1)
{
	const struct sim_mm_bitmap_node *n = node_at(bm, level, j);
	uint64_t span = span_of(level);
	unsigned long long first_pfn = bm->base_pfn + j * span;
	bool stale = node_stale(bm, level, j);
	uint64_t word_longest[FANOUT];
	struct runs want;

	check_child_bits(bm, r, level, j, stale);
	if (stale) {
		if (level == 1)
			check_word_cache(bm, r, j, w0, w1, NULL);
		return;
	}
	if (level == 1) {
		runs_from_frames(bm, j, &want, word_longest);
		check_word_cache(bm, r, j, 0, UINT64_MAX, word_longest);
	} else {
		runs_from_children(bm, level, j, &want);
	}
	if (n->prefix != want.prefix || n->suffix != want.suffix || n->longest != want.longest)
		sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
			"bitmap node L%u#%llu (pfn 0x%llx+%llu): runs prefix/suffix/longest "
			"found %u/%u/%u, expected %llu/%llu/%llu",
			level, (unsigned long long)j, first_pfn, (unsigned long long)span,
			n->prefix, n->suffix, n->longest, (unsigned long long)want.prefix,
			(unsigned long long)want.suffix, (unsigned long long)want.longest);
}

/* Nodes above words [w0, w1], level by level. */
static void check_paths(const struct sim_mm_bitmap *bm, struct sim_report *r,
			uint64_t w0, uint64_t w1)
{
	uint64_t j0 = w0, j1 = w1;

	for (unsigned int level = 1; level <= bm->top; level++) {
		j0 /= FANOUT;
		j1 /= FANOUT;
		for (uint64_t j = j0; j <= j1; j++)
			check_node(bm, r, level, j, w0, w1);
	}
}

/* Bits past the capacity in the last word must stay clear. */
static void check_tail(const struct sim_mm_bitmap *bm, struct sim_report *r)
{
	uint64_t last = bm->nr_nodes[0] - 1, used = bm->nr_frames - last * 64;
	uint64_t beyond = used == 64 ? 0 : ~0ULL << used;

	if ((bm->free[last] | bm->present[last]) & beyond)
		sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
			"bitmap word %llu: bits set beyond the capacity of %llu frames",
			(unsigned long long)last, (unsigned long long)bm->nr_frames);
}

/* No word below the lowest-free hint may hold a free frame. */
static void check_hint(const struct sim_mm_bitmap *bm, struct sim_report *r, uint64_t w0, uint64_t w1)
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

void sim_bitmap_check_touched(const struct hvmm_bitmap *mbm, const struct sim_alloc_shadow *s,
			      struct sim_report *r, uint64_t pfn, uint64_t nr)
{
	struct sim_mm_bitmap view, *bm = &view;
	uint64_t first, end;

	sim_mm_bitmap_read(mbm, &view);
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

void sim_bitmap_check_full(const struct hvmm_bitmap *mbm, const struct sim_alloc_shadow *s,
			   struct sim_report *r)
{
	struct sim_mm_bitmap view, *bm = &view;
	uint64_t nr_free = 0;

	sim_mm_bitmap_read(mbm, &view);
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

	if (!count || align_log2 >= 64 || (result && result != -SIM_ENOMEM))
		return;
	lowest = sim_alloc_shadow_find_free(s, count, 1ULL << align_log2, 0);
	if (result == -SIM_ENOMEM && lowest != UINT64_MAX)
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

void sim_bitmap_check_test(const struct sim_alloc_shadow *s, struct sim_report *r,
			   uint64_t pfn, int result)
{
	bool free_now;

	if (result < 0 || !sim_alloc_shadow_covers(s, pfn, 1))
		return;
	free_now = sim_alloc_shadow_get(s, pfn) == SIM_SHADOW_FREE;
	if ((result != 0) != free_now)
		sim_report_violation(r, SIM_ORACLE_AVAIL,
			"test(pfn 0x%llx) answered %s, but the frame is %s",
			(unsigned long long)pfn, result ? "free" : "not free",
			free_now ? "free" : "not free");
}

void sim_bitmap_check_next(const struct sim_alloc_shadow *s, struct sim_report *r,
			   uint64_t pfn, int result, uint64_t found)
{
	uint64_t lowest;

	if ((result && result != -SIM_ENOENT) || !sim_alloc_shadow_covers(s, pfn, 1))
		return;
	lowest = sim_alloc_shadow_find_free(s, 1, 1, pfn);
	if (result == -SIM_ENOENT && lowest != UINT64_MAX)
		sim_report_violation(r, SIM_ORACLE_AVAIL,
			"next(pfn 0x%llx) found no free frame, but pfn 0x%llx is free",
			(unsigned long long)pfn, (unsigned long long)lowest);
	else if (!result && found != lowest)
		sim_report_violation(r, SIM_ORACLE_AVAIL,
			"next(pfn 0x%llx) answered pfn 0x%llx, the first free frame from there is %s0x%llx",
			(unsigned long long)pfn, (unsigned long long)found,
			lowest == UINT64_MAX ? "none, not " : "",
			(unsigned long long)(lowest == UINT64_MAX ? found : lowest));
}
