// SPDX-License-Identifier: MIT
/*
 * Cascaded bitmap frame allocator (hvisor semantics), see bitmap_alloc.h.
 *
 * Indices below are frame indices relative to base_pfn; "word" is an index
 * into free[]/present[], a node is named by (level, index). The children of
 * node (k, j) are (k - 1, 64 j .. 64 j + 63), the words for k = 1.
 *
 * Nothing here recurses: descents and the search, which refreshes stale
 * summaries on its way, walk the tree with an explicit (level, index)
 * cursor, since a parent's index is its child's shifted right.
 */
#include <hvmm/bitmap_alloc.h>
#include <hvmm/string.h>

#define FANOUT_MASK	(HVMM_BITMAP_FANOUT - 1)
#define MAX_PFN		(1ULL << (64 - HVMM_PAGE_SHIFT))

struct run_summary {
	u64 prefix, suffix, longest;
};

static u64 div_round_up(u64 n, u64 d)
{
	return n / d + (n % d != 0);
}

/* Number of words and nodes per level for @nr_frames; returns the top level. */
static u32 bitmap_layout(u64 nr_frames, u64 nr_nodes[HVMM_BITMAP_MAX_LEVELS + 1])
{
	u32 level = 0;

	nr_nodes[0] = div_round_up(nr_frames, 64);
	do {
		level++;
		nr_nodes[level] = div_round_up(nr_nodes[level - 1], HVMM_BITMAP_FANOUT);
	} while (nr_nodes[level] > 1);
	return level;
}

/* The word_longest[] cache: a byte a word, rounded up so that the nodes stay aligned. */
static u64 word_longest_bytes(u64 nr_words)
{
	return div_round_up(nr_words, sizeof(u64)) * sizeof(u64);
}

u64 hvmm_bitmap_metadata_bytes(u64 nr_frames)
{
	u64 nr_nodes[HVMM_BITMAP_MAX_LEVELS + 1];
	u64 bytes;
	u32 top, k;

	if (!nr_frames || nr_frames > HVMM_BITMAP_MAX_FRAMES)
		return 0;
	top = bitmap_layout(nr_frames, nr_nodes);
	bytes = 2 * nr_nodes[0] * sizeof(u64) + word_longest_bytes(nr_nodes[0]);
	for (k = 1; k <= top; k++)
		bytes += nr_nodes[k] * sizeof(struct hvmm_bitmap_node);
	return bytes;
}

u64 hvmm_bitmap_metadata_pages(u64 nr_frames)
{
	return div_round_up(hvmm_bitmap_metadata_bytes(nr_frames), HVMM_PAGE_SIZE);
}

int hvmm_bitmap_init_va(struct hvmm_bitmap *bm, u64 base_pfn, u64 nr_frames,
			void *meta, u64 meta_bytes)
{
	u64 need = hvmm_bitmap_metadata_bytes(nr_frames);
	u8 *p = meta;
	u32 k;

	if (!need || !meta || ((uintptr_t)meta & 7) || meta_bytes < need)
		return -HVMM_EINVAL;
	if (base_pfn >= MAX_PFN || nr_frames > MAX_PFN - base_pfn)
		return -HVMM_ERANGE;

	hvmm_memzero(meta, need);
	hvmm_spin_lock_init(&bm->lock);
	bm->base_pfn = base_pfn;
	bm->nr_frames = nr_frames;
	bm->nr_free = 0;
	bm->first_free_word = 0;
	bm->top = bitmap_layout(nr_frames, bm->nr_nodes);
	bm->free = (u64 *)p;
	p += bm->nr_nodes[0] * sizeof(u64);
	bm->present = (u64 *)p;
	p += bm->nr_nodes[0] * sizeof(u64);
	bm->word_longest = p;
	p += word_longest_bytes(bm->nr_nodes[0]);
	bm->nodes[0] = NULL;
	for (k = 1; k <= HVMM_BITMAP_MAX_LEVELS; k++) {
		if (k > bm->top) {
			bm->nodes[k] = NULL;
			bm->nr_nodes[k] = 0;
			continue;
		}
		bm->nodes[k] = (struct hvmm_bitmap_node *)p;
		p += bm->nr_nodes[k] * sizeof(struct hvmm_bitmap_node);
	}
	/* All-zero nodes and cached runs are exact for an empty bitmap: nothing is stale. */
	bm->root_stale = false;
	return HVMM_OK;
}

int hvmm_bitmap_init(struct hvmm_bitmap *bm, u64 base_pfn, u64 nr_frames,
		     phys_addr_t meta_pa, u64 meta_pages)
{
	if ((meta_pa & ~HVMM_PAGE_MASK) || !meta_pages ||
	    meta_pages > hvmm_phys_to_pfn(~0ULL) - hvmm_phys_to_pfn(meta_pa))
		return -HVMM_EINVAL;
	if (meta_pages < hvmm_bitmap_metadata_pages(nr_frames))
		return -HVMM_EINVAL;
	return hvmm_bitmap_init_va(bm, base_pfn, nr_frames, hvmm_phys_to_virt(meta_pa),
				   meta_pages << HVMM_PAGE_SHIFT);
}

/* ---- argument checks ---------------------------------------------------- */

static int frame_index(const struct hvmm_bitmap *bm, u64 pfn, u64 *idx)
{
	/* One compare: below base_pfn, the difference wraps past nr_frames. */
	if (pfn - bm->base_pfn >= bm->nr_frames)
		return -HVMM_ERANGE;
	*idx = pfn - bm->base_pfn;
	return HVMM_OK;
}

/* Written so that no pfn + count can overflow. */
static int range_index(const struct hvmm_bitmap *bm, u64 pfn, u64 count, u64 *idx)
{
	if (!count)
		return -HVMM_EINVAL;
	if (frame_index(bm, pfn, idx))
		return -HVMM_ERANGE;
	if (count > bm->nr_frames - *idx)
		return -HVMM_ERANGE;
	return HVMM_OK;
}

static u64 align_mask(u32 align_log2)
{
	return (1ULL << align_log2) - 1;
}

/* ---- bit ranges ----------------------------------------------------------- */

static bool test_bit(const u64 *map, u64 i)
{
	return (map[i >> 6] >> (i & 63)) & 1;
}

/* Mask of bits [lo, hi] of one word, 0 <= lo <= hi <= 63. */
static u64 word_mask(u64 lo, u64 hi)
{
	return (~0ULL << lo) & (~0ULL >> (63 - hi));
}

/*
 * True if every bit of [i, i + n) in @map equals @want. The range walks
 * word by word: each iteration covers the rest of one word.
 */
static bool range_all(const u64 *map, u64 i, u64 n, bool want)
{
	u64 end = i + n;

	while (i < end) {
		u64 last = hvmm_min(end - 1, i | 63);
		u64 mask = word_mask(i & 63, last & 63);
		u64 bits = want ? ~map[i >> 6] : map[i >> 6];

		if (bits & mask)
			return false;
		i = last + 1;
	}
	return true;
}

/* ---- summaries and propagation ------------------------------------------ */

/*
 * Length of the longest run of ones in @w (not 0), by doubling run lengths
 * for as long as some run is twice as long, then refining the length
 * downwards: O(log longest) steps, so the fragmented words that make a
 * refresh expensive are also the cheapest.
 */
static inline __attribute__((always_inline)) u64 word_longest_run(u64 w)
{
	u64 starts[6];	/* starts[s]: bits that start a run of >= 2^s ones */
	u64 cur, len;
	int s, top;

	if (w == ~0ULL)
		return 64;
	starts[0] = w;
	for (top = 0; top < 5; top++) {
		u64 longer = starts[top] & (starts[top] >> (1U << top));

		if (!longer)
			break;
		starts[top + 1] = longer;
	}
	/* Every run counted in cur is at least len long; none reaches 2^(top + 1). */
	cur = starts[top];
	len = 1ULL << top;
	for (s = top - 1; s >= 0; s--) {
		u64 t = cur & (starts[s] >> len);

		if (t) {
			cur = t;
			len += 1ULL << s;
		}
	}
	return len;
}

/* A free run carried across the children of a node, left to right. */
struct run_fold {
	u64 run;	/* free frames ending at the current child's end */
	u64 prefix, longest;
	bool head;	/* every child so far was wholly free */
};

static void fold_child(struct run_fold *f, const struct run_summary *rs, u64 child_span)
{
	if (rs->prefix == child_span) {
		f->run += child_span;
		return;
	}
	if (f->head) {
		f->prefix = f->run + rs->prefix;
		f->head = false;
	}
	f->longest = hvmm_max(f->longest, hvmm_max(f->run + rs->prefix, rs->longest));
	f->run = rs->suffix;
}

/* A level-1 node's longest run and the free run at its end (its suffix if it has 64 words). */
struct leaf_runs {
	u64 longest, run;
};

/*
 * The runs of the @nr words from @words, all of them changed: every
 * word's longest run is computed, and cached, on the way. An empty word
 * ends any run; a word that is neither empty nor full ends one with its
 * leading ones and starts one with its trailing ones, both within its own
 * longest run.
 */
static void fold_all_words(const u64 *words, u8 *cached, u64 nr, struct leaf_runs *lr)
{
	u64 c, run = 0, longest = 0;

	for (c = 0; c < nr; c++) {
		u64 w = words[c], len;

		if (!w || w == ~0ULL) {
			cached[c] = w ? 64 : 0;
			longest = hvmm_max(longest, run);
			run = w ? run + 64 : 0;
			continue;
		}
		len = word_longest_run(w);
		cached[c] = (u8)len;
		longest = hvmm_max(longest, hvmm_max(run + __builtin_ctzll(~w), len));
		run = __builtin_clzll(~w);
	}
	lr->longest = hvmm_max(longest, run);
	lr->run = run;
}

/* Brings the cached longest runs of the @changed words from @words up to date. */
static void update_changed_words(const u64 *words, u8 *cached, u64 changed)
{
	for (; changed; changed &= changed - 1) {
		u64 c = __builtin_ctzll(changed), w = words[c];

		cached[c] = (u8)(w ? word_longest_run(w) : 0);
	}
}

/*
 * The same from the cached longest runs, once the @changed words' are
 * brought up to date, visiting the non-empty words alone (the @avail
 * bits): a gap of empty words ends the run as one would. A refresh
 * usually follows a few ops that touched a few words, and a node in use
 * has many empty ones.
 */
static void fold_nonempty_words(const u64 *words, u8 *cached, u64 nr, u64 changed, u64 avail,
				struct leaf_runs *lr)
{
	u64 c, run = 0, longest = 0, next = 0;

	update_changed_words(words, cached, changed);
	for (; avail; avail &= avail - 1) {
		u64 w;

		c = __builtin_ctzll(avail);
		w = words[c];
		if (c != next) {
			longest = hvmm_max(longest, run);
			run = 0;
		}
		next = c + 1;
		if (w == ~0ULL) {
			run += 64;
			continue;
		}
		longest = hvmm_max(longest, hvmm_max(run + __builtin_ctzll(~w), (u64)cached[c]));
		run = __builtin_clzll(~w);
	}
	if (next != nr) {
		longest = hvmm_max(longest, run);
		run = 0;
	}
	lr->longest = hvmm_max(longest, run);
	lr->run = run;
}

/*
 * Recomputes the run summary of level-1 node @j. Only the words changed
 * since its last summary get their longest run computed again, the
 * costly part: all words after a node was filled or emptied or every
 * word was touched, usually a few. The prefix is the full words from the
 * first on and the next one's leading ones. Words past the last do not
 * exist.
 */
static void recompute_leaf(struct hvmm_bitmap *bm, u64 j)
{
	struct hvmm_bitmap_node *node = &bm->nodes[1][j];
	const u64 *words = &bm->free[j << HVMM_BITMAP_FANOUT_SHIFT];
	u8 *cached = &bm->word_longest[j << HVMM_BITMAP_FANOUT_SHIFT];
	u64 nr = hvmm_min((u64)HVMM_BITMAP_FANOUT,
			  bm->nr_nodes[0] - (j << HVMM_BITMAP_FANOUT_SHIFT));
	struct leaf_runs lr;
	u64 c;

	for (c = 0; c < nr && words[c] == ~0ULL; c++)
		;
	node->prefix = (u32)(c * 64 + (c < nr ? __builtin_ctzll(~words[c]) : 0));
	if (node->stale == ~0ULL)
		fold_all_words(words, cached, nr, &lr);
	else
		fold_nonempty_words(words, cached, nr, node->stale, node->avail, &lr);
	node->stale = 0;
	node->longest = (u32)lr.longest;
	/* A node cut short by the end of the bitmap ends in frames that are not free. */
	node->suffix = nr == HVMM_BITMAP_FANOUT ? (u32)lr.run : 0;
}

/*
 * Recomputes the run summary of node (@level, @j) from its children, which
 * must be up to date. Children that do not exist (past the last word or
 * node) count as not free. A child without its avail bit has no free frame
 * and an all-zero summary.
 */
static void recompute_node(struct hvmm_bitmap *bm, u32 level, u64 j)
{
	struct hvmm_bitmap_node *node = &bm->nodes[level][j];
	u64 child_span = hvmm_bitmap_span(level - 1);
	u64 first = j << HVMM_BITMAP_FANOUT_SHIFT;
	u64 nr = hvmm_min((u64)HVMM_BITMAP_FANOUT, bm->nr_nodes[level - 1] - first);
	struct run_fold f = { .run = 0, .prefix = 0, .longest = 0, .head = true };
	struct run_summary rs;
	u64 c;

	if (level == 1) {
		recompute_leaf(bm, j);
		return;
	}
	for (c = 0; c < nr; c++) {
		const struct hvmm_bitmap_node *child = &bm->nodes[level - 1][first + c];

		rs.prefix = rs.suffix = rs.longest = 0;
		if (node->avail & (1ULL << c)) {
			rs.prefix = child->prefix;
			rs.suffix = child->suffix;
			rs.longest = child->longest;
		}
		fold_child(&f, &rs, child_span);
	}
	if (f.head)
		f.prefix = f.run;
	node->prefix = (u32)f.prefix;
	node->longest = (u32)hvmm_max(f.longest, f.run);
	/* A node cut short by the end of the bitmap ends in frames that are not free. */
	node->suffix = nr < HVMM_BITMAP_FANOUT ? 0 : (u32)f.run;
}

/*
 * Marks the run summaries of level-1 node @j and its ancestors stale. A
 * stale node's ancestors are already stale, so the walk stops at the first
 * one that is.
 */
static inline __attribute__((always_inline)) void mark_stale_walk(struct hvmm_bitmap *bm, u64 j)
{
	u32 level, top = bm->top;	/* read once: the stores below may alias it */

	for (level = 1; level < top; level++) {
		struct hvmm_bitmap_node *parent = &bm->nodes[level + 1][j >> 6];
		u64 bit = 1ULL << (j & FANOUT_MASK);

		if (parent->stale & bit)
			return;
		parent->stale |= bit;
		j >>= HVMM_BITMAP_FANOUT_SHIFT;
	}
	bm->root_stale = true;
}

/*
 * Word @w of free[] went from empty to non-empty or back: fix the avail
 * bits above it for as long as a node's emptiness changes.
 */
static void word_emptiness_changed(struct hvmm_bitmap *bm, u64 w)
{
	bool nonempty = bm->free[w] != 0;
	u64 j = w;
	u32 level;

	for (level = 1; level <= bm->top; level++) {
		struct hvmm_bitmap_node *node = &bm->nodes[level][j >> 6];
		u64 bit = 1ULL << (j & FANOUT_MASK);
		bool was_nonempty = node->avail != 0;

		if (nonempty)
			node->avail |= bit;
		else
			node->avail &= ~bit;
		if ((node->avail != 0) == was_nonempty)
			break;
		nonempty = node->avail != 0;
		j >>= HVMM_BITMAP_FANOUT_SHIFT;
	}
}

/*
 * Records word @w as changed in its level-1 node. Returns whether the
 * node had changed words already, and so is marked stale up the tree.
 */
static inline __attribute__((always_inline)) bool mark_word_changed(struct hvmm_bitmap *bm,
								    u64 w)
{
	u64 *changed = &bm->nodes[1][w >> HVMM_BITMAP_FANOUT_SHIFT].stale;
	u64 was = *changed;

	*changed = was | (1ULL << (w & FANOUT_MASK));
	return was != 0;
}

/*
 * The stale marks, and the avail bits if the word's emptiness changed:
 * inline in range_assign(), which changes whole words, and out of line
 * (word_changed_walk) past the single-frame ops' common case.
 */
static inline __attribute__((always_inline)) void word_marks_update(struct hvmm_bitmap *bm,
								    u64 w, u64 old, u64 new)
{
	mark_stale_walk(bm, w >> HVMM_BITMAP_FANOUT_SHIFT);
	if (!old != !new)
		word_emptiness_changed(bm, w);
}

static void __attribute__((noinline)) word_changed_walk(struct hvmm_bitmap *bm, u64 w,
							u64 old, u64 new)
{
	word_marks_update(bm, w, old, new);
}

/*
 * Word @w of free[] changed from @old to @new: keep the avail bits, the
 * lowest-free hint, the changed-word bits and the stale marks right.
 * Inlined into the single-frame ops: a run of frees or allocations in one
 * level-1 node finds the node stale already after the first, and a word
 * keeps its emptiness but at its first and last frame, so the common case
 * is a load, an OR and a store, and the rest one call with nothing of the
 * caller's live across it.
 */
static inline __attribute__((always_inline)) void word_changed(struct hvmm_bitmap *bm, u64 w,
							       u64 old, u64 new)
{
	if (new && w < bm->first_free_word)
		bm->first_free_word = w;
	if (hvmm_likely(mark_word_changed(bm, w) && !old == !new))
		return;
	word_changed_walk(bm, w, old, new);
}

/* Sets (@set) or clears bits [i, i + n) of @map; free[] changes are propagated. */
static void range_assign(struct hvmm_bitmap *bm, u64 *map, u64 i, u64 n, bool set)
{
	u64 end = i + n;

	while (i < end) {
		u64 last = hvmm_min(end - 1, i | 63);
		u64 mask = word_mask(i & 63, last & 63);

		u64 old = map[i >> 6];

		if (set)
			map[i >> 6] |= mask;
		else
			map[i >> 6] &= ~mask;
		if (map == bm->free) {
			if (map[i >> 6] && (i >> 6) < bm->first_free_word)
				bm->first_free_word = i >> 6;
			mark_word_changed(bm, i >> 6);
			word_marks_update(bm, i >> 6, old, map[i >> 6]);
		}
		i = last + 1;
	}
}

/* Whether the run summary of node (@level, @j) is out of date. */
static bool node_stale(const struct hvmm_bitmap *bm, u32 level, u64 j)
{
	if (level == bm->top)
		return bm->root_stale;
	return (bm->nodes[level + 1][j >> HVMM_BITMAP_FANOUT_SHIFT].stale >> (j & FANOUT_MASK)) & 1;
}

/* Recomputes node (@level, @j), whose children are up to date, and clears its stale mark. */
static void refresh_node(struct hvmm_bitmap *bm, u32 level, u64 j)
{
	recompute_node(bm, level, j);
	if (level == bm->top)
		bm->root_stale = false;
	else
		bm->nodes[level + 1][j >> HVMM_BITMAP_FANOUT_SHIFT].stale &=
			~(1ULL << (j & FANOUT_MASK));
}

/* ---- contiguous search ---------------------------------------------------- */

/*
 * Left-to-right scan state: the free run that ends at the cursor, if any,
 * started at run_start.
 */
struct fit_search {
	u64 count;
	u64 mask;		/* alignment - 1, in frames */
	u64 base_pfn;
	u64 run_start;
	bool in_run;
	u64 found;
	u64 starts;		/* in-word windows: bits where one may start, else 0 */
};

/*
 * True (and the window in s->found) if the run [s->run_start, end) holds
 * an aligned window of s->count frames. The lowest such window starts at
 * the first aligned PFN in the run. base_pfn + run_start < 2^52 and the
 * mask < 2^63, so the rounding cannot overflow.
 */
static bool run_fits(struct fit_search *s, u64 end)
{
	u64 pfn = s->base_pfn + s->run_start;
	u64 cand = ((pfn + s->mask) & ~s->mask) - s->base_pfn;

	if (cand >= end || end - cand < s->count)
		return false;
	s->found = cand;
	return true;
}

/*
 * Bit p of the result is set when @bits has @count ones from bit p up,
 * all inside the word: the AND of the word shifted by 0 .. count - 1,
 * in log2(count) steps.
 */
static u64 word_windows(u64 bits, u64 count)
{
	u64 done = 1;

	while (done < count) {
		u64 step = hvmm_min(done, count - done);

		bits &= bits >> step;
		done += step;
	}
	return bits;
}

/*
 * A window no wider than its alignment, aligned to at most a word, in a
 * map whose base is so aligned, never crosses a word: in level-1 node @j,
 * only the non-empty words whose own longest run could hold one are
 * looked at (their cached runs must be up to date, the node's summary
 * need not be), and the lowest window in such a word is a few shifts and
 * a count of trailing zeros.
 */
static bool find_leaf_window(const struct hvmm_bitmap *bm, struct fit_search *s, u64 j)
{
	u64 first = j << HVMM_BITMAP_FANOUT_SHIFT, avail;

	for (avail = bm->nodes[1][j].avail; avail; avail &= avail - 1) {
		u64 w = first + __builtin_ctzll(avail), hits;

		if (bm->word_longest[w] < s->count)
			continue;
		hits = word_windows(bm->free[w], s->count) & s->starts;
		if (hits) {
			s->found = (w << 6) + __builtin_ctzll(hits);
			return true;
		}
	}
	return false;
}

/* Past level-1 node @j, up to date, without a window: the run at its end is carried on. */
static void leave_leaf(const struct hvmm_bitmap *bm, struct fit_search *s, u64 j)
{
	u64 suffix = bm->nodes[1][j].suffix;

	s->in_run = suffix != 0;
	s->run_start = (j + 1) * hvmm_bitmap_span(1) - suffix;
}

/* The in-word window search in level-1 node @j, whose summary says it could hold one. */
static bool scan_leaf_windows(const struct hvmm_bitmap *bm, struct fit_search *s, u64 j)
{
	if (find_leaf_window(bm, s, j))
		return true;
	leave_leaf(bm, s, j);
	return false;
}

/*
 * The same in stale level-1 node @j: the scan needs the changed words'
 * cached runs alone, so the node whose window is found is left stale,
 * without its fold. A node without one is brought up to date, as the
 * search leaves it (and its parent's refresh will read its summary).
 */
static bool scan_stale_leaf(struct hvmm_bitmap *bm, struct fit_search *s, u64 j)
{
	struct hvmm_bitmap_node *node = &bm->nodes[1][j];
	u64 first = j << HVMM_BITMAP_FANOUT_SHIFT;

	update_changed_words(&bm->free[first], &bm->word_longest[first], node->stale);
	node->stale = 0;
	if (find_leaf_window(bm, s, j))
		return true;
	refresh_node(bm, 1, j);
	leave_leaf(bm, s, j);
	return false;
}

/* Extends the scan over word @w, bit by bit run by run. */
static bool scan_word(struct fit_search *s, u64 w, u64 bits)
{
	u64 start = w << 6, pos = 0;

	while (pos < 64) {
		u64 rest = bits >> pos;
		u64 ones = ~rest ? (u64)__builtin_ctzll(~rest) : 64;

		if (ones) {
			if (!s->in_run) {
				s->in_run = true;
				s->run_start = start + pos;
			}
			pos += ones;
			if (run_fits(s, start + pos))
				return true;
			if (pos >= 64)
				break;
		}
		s->in_run = false;
		rest = bits >> pos;
		if (!rest)
			break;
		pos += __builtin_ctzll(rest);
	}
	return false;
}

/*
 * Looks at node (@level, @j) as a whole. Returns true if the search must
 * descend into it; otherwise it has been accounted for (s->found is set
 * when a window was found, which *hit reports).
 */
static bool visit_node(struct fit_search *s, const struct hvmm_bitmap_node *node,
		       u32 level, u64 j, bool *hit)
{
	u64 span = hvmm_bitmap_span(level), start = j * span;

	if (node->prefix == span) {
		if (!s->in_run) {
			s->in_run = true;
			s->run_start = start;
		}
		*hit = run_fits(s, start + span);
		return false;
	}
	if (node->longest >= s->count)
		return true;
	/* No window inside: only the run coming in, extended by the prefix. */
	if (s->in_run && run_fits(s, start + node->prefix)) {
		*hit = true;
		return false;
	}
	s->in_run = node->suffix != 0;
	s->run_start = start + span - node->suffix;
	return false;
}

/*
 * Finds the lowest aligned window, walking the tree left to right and
 * entering only nodes whose longest run could hold it. The cursor moves
 * to the next sibling, or up when a node's children are done.
 *
 * Run summaries are brought up to date on the way, only where the walk
 * reads them: a stale level-1 node is recomputed before it is looked at;
 * a stale node above is entered whatever its summary says, and recomputed
 * once the walk leaves its last child (all of them are up to date then).
 * So a failed search leaves every summary exact, and one that finds its
 * window leaves the nodes after it stale, for the search that needs them.
 */
static bool find_fit(struct hvmm_bitmap *bm, struct fit_search *s)
{
	u32 level = bm->top;
	u64 j = 0;
	bool hit;

	for (;;) {
		hit = false;
		if (level == 0) {
			hit = scan_word(s, j, bm->free[j]);
		} else if (level >= 2 && node_stale(bm, level, j)) {
			level--;
			j <<= HVMM_BITMAP_FANOUT_SHIFT;
			continue;
		} else if (level == 1 && node_stale(bm, 1, j)) {
			if (!s->starts) {
				refresh_node(bm, 1, j);
				continue;
			}
			hit = scan_stale_leaf(bm, s, j);
		} else if (visit_node(s, &bm->nodes[level][j], level, j, &hit)) {
			if (level == 1 && s->starts) {
				hit = scan_leaf_windows(bm, s, j);
			} else {
				level--;
				j <<= HVMM_BITMAP_FANOUT_SHIFT;
				continue;
			}
		}
		if (hit)
			return true;
		/* Next sibling; past the last child of a parent, the parent's next. */
		j++;
		while ((j & FANOUT_MASK) == 0 || j >= bm->nr_nodes[level]) {
			if (level == bm->top)
				return false;
			level++;
			j = ((j - 1) >> HVMM_BITMAP_FANOUT_SHIFT) + 1;
			if (node_stale(bm, level, j - 1))
				refresh_node(bm, level, j - 1);
		}
	}
}

/* ---- operations ------------------------------------------------------------ */

/*
 * Every operation relies on bm->lock, taken by the locked API or held by
 * the caller of the __hvmm_bitmap_* variants; the checks assert it.
 */
static void bitmap_assert_locked(struct hvmm_bitmap *bm)
{
	hvmm_assert_spin_locked(&bm->lock);
}

static void take_range(struct hvmm_bitmap *bm, u64 i, u64 n)
{
	bitmap_assert_locked(bm);
	range_assign(bm, bm->free, i, n, false);
	bm->nr_free -= n;
}

static void give_range(struct hvmm_bitmap *bm, u64 i, u64 n)
{
	bitmap_assert_locked(bm);
	range_assign(bm, bm->free, i, n, true);
	bm->nr_free += n;
}

int hvmm_bitmap_insert(struct hvmm_bitmap *bm, u64 pfn, u64 count)
{
	u64 i;
	int ret;

	hvmm_spin_lock(&bm->lock);
	ret = range_index(bm, pfn, count, &i);
	if (!ret && !range_all(bm->present, i, count, false))
		ret = -HVMM_EEXIST;
	if (!ret) {
		range_assign(bm, bm->present, i, count, true);
		give_range(bm, i, count);
	}
	hvmm_spin_unlock(&bm->lock);
	return ret;
}

int hvmm_bitmap_remove(struct hvmm_bitmap *bm, u64 pfn, u64 count)
{
	u64 i;
	int ret;

	hvmm_spin_lock(&bm->lock);
	ret = range_index(bm, pfn, count, &i);
	if (!ret && !range_all(bm->present, i, count, true))
		ret = -HVMM_ENOENT;
	if (!ret && !range_all(bm->free, i, count, true))
		ret = -HVMM_EBUSY;
	if (!ret) {
		take_range(bm, i, count);
		range_assign(bm, bm->present, i, count, false);
	}
	hvmm_spin_unlock(&bm->lock);
	return ret;
}

/*
 * Index of the lowest word holding a free frame, if any. Every word below
 * first_free_word is empty, so the hint's word is usually the answer and
 * the tree is only descended when it has run dry.
 */
static bool lowest_free_word(struct hvmm_bitmap *bm, u64 *word)
{
	u64 w = bm->first_free_word, j = 0;
	u32 level;

	if (w < bm->nr_nodes[0] && bm->free[w]) {
		*word = w;
		return true;
	}
	if (!bm->nodes[bm->top][0].avail)
		return false;
	for (level = bm->top; level >= 1; level--)
		j = (j << HVMM_BITMAP_FANOUT_SHIFT) +
		    __builtin_ctzll(bm->nodes[level][j].avail);
	bm->first_free_word = j;
	*word = j;
	return true;
}

/*
 * The bodies of the operations that have a lock-held variant are static,
 * so that both the locked API and the __hvmm_bitmap_* entry points inline
 * them: with -fPIC a call to an exported function could not be inlined
 * (it might be interposed), and the single-frame ops are a few ns.
 */
static inline __attribute__((always_inline)) int alloc_frame(struct hvmm_bitmap *bm, u64 *pfn)
{
	u64 w, old, bit;

	bitmap_assert_locked(bm);
	if (!lowest_free_word(bm, &w))
		return -HVMM_ENOMEM;
	old = bm->free[w];
	bit = __builtin_ctzll(old);
	bm->free[w] = old & (old - 1);
	bm->nr_free--;
	word_changed(bm, w, old, old & (old - 1));
	*pfn = bm->base_pfn + (w << 6) + bit;
	return HVMM_OK;
}

int hvmm_bitmap_alloc(struct hvmm_bitmap *bm, u64 *pfn)
{
	int ret;

	hvmm_spin_lock(&bm->lock);
	ret = alloc_frame(bm, pfn);
	hvmm_spin_unlock(&bm->lock);
	return ret;
}

int __hvmm_bitmap_alloc(struct hvmm_bitmap *bm, u64 *pfn)
{
	return alloc_frame(bm, pfn);
}

static int alloc_fit(struct hvmm_bitmap *bm, u64 count, u32 align_log2, u64 *pfn)
{
	struct fit_search s;

	bitmap_assert_locked(bm);
	if (!count || align_log2 >= 64)
		return -HVMM_EINVAL;
	if (count > bm->nr_frames)
		return -HVMM_ENOMEM;
	s.count = count;
	s.mask = align_mask(align_log2);
	s.base_pfn = bm->base_pfn;
	s.in_run = false;
	s.run_start = 0;
	s.found = 0;
	s.starts = 0;
	if (s.mask < 64 && count <= s.mask + 1 && !(bm->base_pfn & s.mask))
		s.starts = ~0ULL / (s.mask == 63 ? ~0ULL : (1ULL << (s.mask + 1)) - 1);

	if (!find_fit(bm, &s))
		return -HVMM_ENOMEM;
	take_range(bm, s.found, count);
	*pfn = bm->base_pfn + s.found;
	return HVMM_OK;
}

int hvmm_bitmap_alloc_contiguous(struct hvmm_bitmap *bm, u64 count, u32 align_log2,
				 u64 *pfn)
{
	int ret;

	hvmm_spin_lock(&bm->lock);
	ret = alloc_fit(bm, count, align_log2, pfn);
	hvmm_spin_unlock(&bm->lock);
	return ret;
}

int __hvmm_bitmap_alloc_contiguous(struct hvmm_bitmap *bm, u64 count, u32 align_log2,
				   u64 *pfn)
{
	return alloc_fit(bm, count, align_log2, pfn);
}

int hvmm_bitmap_alloc_at(struct hvmm_bitmap *bm, u64 pfn, u64 count, u32 align_log2)
{
	u64 i;
	int ret;

	if (!count || align_log2 >= 64 || (pfn & align_mask(align_log2)))
		return -HVMM_EINVAL;
	hvmm_spin_lock(&bm->lock);
	ret = range_index(bm, pfn, count, &i);
	if (!ret && !range_all(bm->present, i, count, true))
		ret = -HVMM_ENOENT;
	if (!ret && !range_all(bm->free, i, count, true))
		ret = -HVMM_EBUSY;
	if (!ret)
		take_range(bm, i, count);
	hvmm_spin_unlock(&bm->lock);
	return ret;
}

/*
 * Beyond the lock-free crate hvisor uses (which checks nothing), a free
 * is refused for a frame outside the map, one never inserted and one
 * already free (a double free): the range is one compare, the other two a
 * load and a bit test each, and the free word is read once for the test
 * and the update. With the lock assertion, the checks are about a dozen
 * of the instructions of a lock-held single free.
 */
static inline __attribute__((always_inline)) int free_frame(struct hvmm_bitmap *bm, u64 pfn)
{
	u64 i, w, bit, old, *word;
	int ret;

	bitmap_assert_locked(bm);
	ret = frame_index(bm, pfn, &i);
	if (ret)
		return ret;
	w = i >> 6;
	bit = 1ULL << (i & 63);
	if (!(bm->present[w] & bit))
		return -HVMM_ENOENT;
	word = &bm->free[w];
	old = *word;
	if (old & bit)
		return -HVMM_EEXIST;
	*word = old | bit;
	bm->nr_free++;
	word_changed(bm, w, old, old | bit);
	return HVMM_OK;
}

int hvmm_bitmap_dealloc(struct hvmm_bitmap *bm, u64 pfn)
{
	int ret;

	hvmm_spin_lock(&bm->lock);
	ret = free_frame(bm, pfn);
	hvmm_spin_unlock(&bm->lock);
	return ret;
}

int __hvmm_bitmap_dealloc(struct hvmm_bitmap *bm, u64 pfn)
{
	return free_frame(bm, pfn);
}

static int free_run(struct hvmm_bitmap *bm, u64 pfn, u64 count)
{
	u64 i;
	int ret;

	bitmap_assert_locked(bm);
	ret = range_index(bm, pfn, count, &i);
	if (ret)
		return ret;
	if (!range_all(bm->present, i, count, true))
		return -HVMM_ENOENT;
	if (!range_all(bm->free, i, count, false))
		return -HVMM_EEXIST;
	give_range(bm, i, count);
	return HVMM_OK;
}

int hvmm_bitmap_dealloc_contiguous(struct hvmm_bitmap *bm, u64 pfn, u64 count)
{
	int ret;

	hvmm_spin_lock(&bm->lock);
	ret = free_run(bm, pfn, count);
	hvmm_spin_unlock(&bm->lock);
	return ret;
}

int __hvmm_bitmap_dealloc_contiguous(struct hvmm_bitmap *bm, u64 pfn, u64 count)
{
	return free_run(bm, pfn, count);
}

int hvmm_bitmap_test(struct hvmm_bitmap *bm, u64 pfn)
{
	u64 i;
	int ret;

	hvmm_spin_lock(&bm->lock);
	ret = frame_index(bm, pfn, &i);
	if (!ret)
		ret = test_bit(bm->free, i);
	hvmm_spin_unlock(&bm->lock);
	return ret;
}

/* Goes down from node (@level, @j), which holds a free frame, to the lowest one. */
static u64 first_free_below(const struct hvmm_bitmap *bm, u32 level, u64 j)
{
	for (; level >= 1; level--)
		j = (j << HVMM_BITMAP_FANOUT_SHIFT) + __builtin_ctzll(bm->nodes[level][j].avail);
	return (j << 6) + __builtin_ctzll(bm->free[j]);
}

/*
 * The first free frame at or after index @i: the rest of its word, then
 * up the tree to the first later sibling with a free frame, then down.
 */
static bool next_free(const struct hvmm_bitmap *bm, u64 i, u64 *out)
{
	u64 j = i >> 6, bits = bm->free[j] & (~0ULL << (i & 63));
	u32 level;

	if (bits) {
		*out = (j << 6) + __builtin_ctzll(bits);
		return true;
	}
	for (level = 1; level <= bm->top; level++) {
		u64 slot = j & FANOUT_MASK;
		u64 later = slot == 63 ? 0 : ~0ULL << (slot + 1);
		u64 avail = bm->nodes[level][j >> 6].avail & later;

		j >>= HVMM_BITMAP_FANOUT_SHIFT;
		if (avail) {
			j = (j << HVMM_BITMAP_FANOUT_SHIFT) + __builtin_ctzll(avail);
			*out = first_free_below(bm, level - 1, j);
			return true;
		}
	}
	return false;
}

int hvmm_bitmap_next(struct hvmm_bitmap *bm, u64 pfn, u64 *out)
{
	u64 i, found;
	int ret;

	hvmm_spin_lock(&bm->lock);
	ret = frame_index(bm, pfn, &i);
	if (!ret && !next_free(bm, i, &found))
		ret = -HVMM_ENOENT;
	hvmm_spin_unlock(&bm->lock);
	if (!ret)
		*out = bm->base_pfn + found;
	return ret;
}

u64 hvmm_bitmap_nr_free(struct hvmm_bitmap *bm)
{
	u64 nr;

	hvmm_spin_lock(&bm->lock);
	nr = bm->nr_free;
	hvmm_spin_unlock(&bm->lock);
	return nr;
}
