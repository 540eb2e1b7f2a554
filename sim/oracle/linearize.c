// SPDX-License-Identifier: MIT
/*
 * Linearizability checking (see linearize.h): a bounded depth-first search
 * for a sequential order, on SPEC and on the allocator shadow.
 */
#include "oracle/linearize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recycle.h"

#define PAGE_SHIFT	12

const char *sim_lin_verdict_name(enum sim_lin_verdict v)
{
	switch (v) {
	case SIM_LIN_OK: return "ok";
	case SIM_LIN_VIOLATION: return "violation";
	case SIM_LIN_GAVE_UP: return "gave up";
	case SIM_LIN_STATE: return "state violation";
	default: return "bad input";
	}
}

static const char *leaf_text(struct sim_lin_leaf l, char *buf, size_t len)
{
	if (l.prot == -1)
		return "nothing mapped";
	if (l.prot < 0)
		return "a walk that faults";
	snprintf(buf, len, "pfn 0x%llx prot %d", (unsigned long long)l.pfn, l.prot);
	return buf;
}

void sim_lin_report_state(struct sim_report *rep, const struct sim_lin_result *res, size_t n)
{
	char b1[48], b2[48];

	sim_report_violation(rep, SIM_ORACLE_CONC,
		"the %zu ops have orders consistent with real time that give each its result, "
		"but after none of them does SPEC hold the pages as the tables do; after the "
		"first, vm%u ipa 0x%llx: the tables hold %s, SPEC %s", n, res->mismatch.vm,
		(unsigned long long)res->mismatch.ipa, leaf_text(res->mismatch.tables, b1, sizeof(b1)),
		leaf_text(res->mismatch.model, b2, sizeof(b2)));
}

/* --- what the history can touch, saved before the search ---------------------- */

/* Consecutive pages' model entries, copied to saved[at, at + nr). */
struct saved_run {
	uint64_t pfn, nr;
	size_t at;
};

struct saved_space {
	unsigned int vm;
	struct sim_space space;		/* a copy: slots duplicated */
};

struct saved_apage {
	uint64_t pfn;
	uint8_t state;		/* enum sim_shadow_state */
};

struct overlay {
	uint32_t h;
	struct sim_lin_handle now, before;
};

/* A guest page as the tables hold it after the history. */
struct seen_leaf {
	unsigned int vm;
	uint64_t page;			/* IPA >> PAGE_SHIFT */
	struct sim_lin_leaf leaf;
};

struct search {
	const struct sim_lin_refs *refs;
	const struct sim_lin_event *h;
	size_t n;
	uint64_t max_nodes;
	struct sim_lin_result *out;

	/* SPEC: scalars, the VMs, the spaces of the VMs the ops name, the pages they can reach. */
	struct sim_spec spec_before;		/* the struct only: pointers are the live model's */
	struct saved_space *spaces;
	size_t nr_spaces;
	struct saved_run *runs;
	size_t nr_runs, cap_runs;
	struct sim_spec_page *saved;
	size_t nr_saved, cap_saved;

	/* The allocator shadow: the pages the ops can reach, and the handles they name. */
	struct sim_alloc_shadow shadow_before;
	struct saved_apage *apages;
	size_t nr_apages, cap_apages;
	struct overlay *handles;
	size_t nr_handles;

	/* The tables at the quiescent point, sorted by (vm, page). */
	struct seen_leaf *leaves;
	size_t nr_leaves;
	bool have_fit;			/* fit[] holds an order whose results fit */
	size_t *fit;

	/* The search. */
	uint64_t done[SIM_LIN_MAX_OPS / 64];
	size_t order[SIM_LIN_MAX_OPS];
	uint64_t *memo;			/* open addressing: 5 words a key, 0 = empty */
	size_t memo_cap, memo_nr;
	bool memo_on;			/* since the search first backed out of an op */
	bool gave_up;
};

static bool is_alloc_op(unsigned int kind)
{
	return kind == SIM_OP_ALLOC || kind == SIM_OP_FREE || kind == SIM_OP_GET ||
	       kind == SIM_OP_PUT;
}

static bool is_spec_op(unsigned int kind)
{
	return (sim_op_descs[kind].cls & SIM_OPC_VM) && kind != SIM_OP_SCHED;
}

/* Ops that name physical pages of their own (b = pfn, c = pages). */
static bool names_pfns(unsigned int kind)
{
	switch (kind) {
	case SIM_OP_HOST_DONATE_HYP:
	case SIM_OP_HYP_DONATE_HOST:
	case SIM_OP_HOST_DONATE_GUEST:
	case SIM_OP_HOST_SHARE_GUEST:
	case SIM_OP_HOST_UNSHARE_GUEST:
	case SIM_OP_S2_MAP:
		return true;
	default:
		return false;
	}
}

/*
 * Room for @need elements of @size in *@p. Recycled, not freed (sim/recycle.h):
 * a concurrent fuzz input checks a history every run, a history over many
 * pages saves tens of thousands, and under AddressSanitizer fresh buffers
 * each time cycle through its quarantine and page in cold.
 */
static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return true;
	while (c < need)
		c *= 2;
	q = sim_recycle_get_uninit(c * size);
	if (*cap)
		memcpy(q, *p, *cap * size);
	sim_recycle_put(*p, *cap * size);
	*p = q;
	*cap = c;
	return true;
}

/*
 * Saves the model's entries of [@pfn, @pfn + @nr) that it has (pages
 * outside it are never written), as one copy: a donation names up to
 * 2^18 pages, and a lookup and a copy each were an eighth of the time
 * the machine target spent on its fuzzers' inputs. A run that continues
 * the last one extends it.
 */
static bool save_spec_pages(struct search *s, uint64_t pfn, uint64_t nr)
{
	const struct sim_spec *spec = s->refs->spec;
	uint64_t base = spec->cfg.base_pfn, end = base + spec->cfg.nr_pfns;
	uint64_t lo = pfn > base ? pfn : base;
	uint64_t hi = pfn + nr < pfn || pfn + nr > end ? end : pfn + nr;
	struct saved_run *last = s->nr_runs ? &s->runs[s->nr_runs - 1] : NULL;

	if (lo >= hi)
		return true;
	if (!grow((void **)&s->saved, &s->cap_saved, s->nr_saved + (hi - lo), sizeof(*s->saved)))
		return false;
	memcpy(&s->saved[s->nr_saved], &spec->pages[lo - base], (hi - lo) * sizeof(*s->saved));
	if (last && last->pfn + last->nr == lo) {
		last->nr += hi - lo;
	} else {
		if (!grow((void **)&s->runs, &s->cap_runs, s->nr_runs + 1, sizeof(*s->runs)))
			return false;
		s->runs[s->nr_runs++] = (struct saved_run){ .pfn = lo, .nr = hi - lo, .at = s->nr_saved };
	}
	s->nr_saved += hi - lo;
	return true;
}

static bool save_space(struct search *s, unsigned int vm)
{
	const struct sim_space *sp = &s->refs->spec->spaces[vm];
	struct saved_space *c;

	for (size_t i = 0; i < s->nr_spaces; i++)
		if (s->spaces[i].vm == vm)
			return true;
	c = realloc(s->spaces, (s->nr_spaces + 1) * sizeof(*c));
	if (!c)
		return false;
	s->spaces = c;
	c = &s->spaces[s->nr_spaces++];
	c->vm = vm;
	c->space = *sp;
	c->space.slots = NULL;
	if (sp->cap) {
		c->space.slots = sim_recycle_get(sp->cap * sizeof(*sp->slots));
		memcpy(c->space.slots, sp->slots, sp->cap * sizeof(*sp->slots));
	}
	/* Every page the guest holds may change state (a destroy gives them all back). */
	for (uint64_t i = 0; i < sp->cap; i++)
		if (sp->slots[i].used && !save_spec_pages(s, sp->slots[i].pfn, 1))
			return false;
	return true;
}

static bool save_spec(struct search *s)
{
	s->spec_before = *s->refs->spec;
	for (size_t i = 0; i < s->n; i++) {
		const struct sim_op *op = &s->h[i].op;

		if (!is_spec_op(op->kind))
			continue;
		if (op->vm && op->vm <= SIM_MAX_VM && !save_space(s, op->vm))
			return false;
		if (names_pfns(op->kind) &&
		    !save_spec_pages(s, op->b, op->c < (1ULL << 18) ? op->c : 1ULL << 18))
			return false;
	}
	return true;
}

static void restore_spec(struct search *s)
{
	struct sim_spec *spec = s->refs->spec;

	for (size_t i = 0; i < s->nr_spaces; i++) {
		struct sim_space *sp = &spec->spaces[s->spaces[i].vm];
		const struct sim_space *c = &s->spaces[i].space;

		if (sp->cap != c->cap) {
			if (sp->cap)
				sim_space_free(sp);
			sp->slots = c->cap ? sim_recycle_get(c->cap * sizeof(*c->slots)) : NULL;
		}
		if (c->cap)
			memcpy(sp->slots, c->slots, c->cap * sizeof(*c->slots));
		sp->cap = c->cap;
		sp->nr = c->nr;
	}
	/* Backwards: a page saved twice gets its first (oldest) copy. */
	for (size_t i = s->nr_runs; i--;)
		memcpy(&spec->pages[s->runs[i].pfn - spec->cfg.base_pfn], &s->saved[s->runs[i].at],
		       s->runs[i].nr * sizeof(*s->saved));
	memcpy(spec->vms, s->spec_before.vms, sizeof(spec->vms));
	spec->nr_live = s->spec_before.nr_live;
	spec->pick_cursor = s->spec_before.pick_cursor;
	spec->lo = s->spec_before.lo;
	spec->hi = s->spec_before.hi;
}

static int leaf_cmp(const void *a, const void *b)
{
	const struct seen_leaf *x = a, *y = b;

	if (x->vm != y->vm)
		return x->vm < y->vm ? -1 : 1;
	return x->page < y->page ? -1 : x->page > y->page;
}

/*
 * Reads from the tables every guest page a successful op named (only those
 * can differ from the state before the history, which the sweep before it
 * judged); none if they are more than SIM_LIN_MAX_LEAVES. False: out of
 * host memory.
 */
static bool read_leaves(struct search *s)
{
	const struct sim_lin_refs *r = s->refs;
	size_t n = 0, k = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct sim_op *op = &s->h[i].op;

		if (s->h[i].result || !sim_spec_op_changes_ipas(op->kind) || !op->vm || op->vm > SIM_MAX_VM)
			continue;
		if (op->c > SIM_LIN_MAX_LEAVES - n)
			return true;		/* judged by results alone */
		n += op->c;
	}
	s->leaves = malloc((n ? n : 1) * sizeof(*s->leaves));
	if (!s->leaves)
		return false;
	for (size_t i = 0; i < s->n; i++) {
		const struct sim_op *op = &s->h[i].op;

		if (s->h[i].result || !sim_spec_op_changes_ipas(op->kind) || !op->vm || op->vm > SIM_MAX_VM)
			continue;
		for (uint64_t p = 0; p < op->c; p++)
			s->leaves[k++] = (struct seen_leaf){ .vm = op->vm,
							     .page = (op->a >> PAGE_SHIFT) + p };
	}
	qsort(s->leaves, k, sizeof(*s->leaves), leaf_cmp);
	n = 0;
	for (size_t i = 0; i < k; i++) {
		if (n && !leaf_cmp(&s->leaves[n - 1], &s->leaves[i]))
			continue;
		s->leaves[n] = s->leaves[i];
		s->leaves[n].leaf = r->walk(r->walk_ctx, s->leaves[n].vm,
					    s->leaves[n].page << PAGE_SHIFT);
		n++;
	}
	s->nr_leaves = n;
	s->out->leaves = n;
	return true;
}

/* What the model says vm@v holds at @page now, as a leaf. */
static struct sim_lin_leaf model_leaf(struct search *s, unsigned int v, uint64_t page)
{
	const struct sim_ipage *e = sim_spec_ipa(s->refs->spec, v, page << PAGE_SHIFT);

	if (!e || e->parked)
		return (struct sim_lin_leaf){ .prot = -1 };
	return (struct sim_lin_leaf){ .prot = e->prot, .pfn = e->pfn };
}

static bool same_leaf(struct sim_lin_leaf a, struct sim_lin_leaf b)
{
	return a.prot == b.prot && (a.prot < 0 || a.pfn == b.pfn);
}

/* Whether the model, after a complete order, holds every page as the tables do. */
static bool state_fits(struct search *s)
{
	for (size_t i = 0; i < s->nr_leaves; i++)
		if (!same_leaf(model_leaf(s, s->leaves[i].vm, s->leaves[i].page),
			       s->leaves[i].leaf))
			return false;
	return true;
}

/* The first page where the model after the current order and the tables differ. */
static void note_mismatch(struct search *s)
{
	for (size_t i = 0; i < s->nr_leaves; i++) {
		const struct seen_leaf *l = &s->leaves[i];
		struct sim_lin_leaf m = model_leaf(s, l->vm, l->page);

		if (same_leaf(m, l->leaf))
			continue;
		s->out->mismatch.vm = l->vm;
		s->out->mismatch.ipa = l->page << PAGE_SHIFT;
		s->out->mismatch.model = m;
		s->out->mismatch.tables = l->leaf;
		return;
	}
}

static struct overlay *handle_of(struct search *s, uint32_t h)
{
	for (size_t i = 0; i < s->nr_handles; i++)
		if (s->handles[i].h == h)
			return &s->handles[i];
	return NULL;
}

static bool save_apage(struct search *s, uint64_t pfn)
{
	if (!grow((void **)&s->apages, &s->cap_apages, s->nr_apages + 1, sizeof(*s->apages)))
		return false;
	s->apages[s->nr_apages++] = (struct saved_apage){
		.pfn = pfn, .state = (uint8_t)sim_alloc_shadow_get(s->refs->shadow, pfn),
	};
	return true;
}

static bool save_apages(struct search *s, uint64_t pfn, uint64_t nr)
{
	for (uint64_t i = 0; i < nr && i < (1ULL << 20); i++)
		if (!save_apage(s, pfn + i))
			return false;
	return true;
}

static bool save_alloc(struct search *s)
{
	const struct sim_lin_refs *r = s->refs;

	s->shadow_before = *r->shadow;
	s->handles = calloc(s->n ? s->n : 1, sizeof(*s->handles));
	if (!s->handles)
		return false;
	for (size_t i = 0; i < s->n; i++) {
		const struct sim_lin_event *e = &s->h[i];
		struct overlay *o;

		if (!is_alloc_op(e->op.kind))
			continue;
		if (e->op.kind == SIM_OP_ALLOC && !e->result && e->op.a < 64 &&
		    !save_apages(s, e->value, 1ULL << e->op.a))
			return false;
		if (handle_of(s, e->op.h))
			continue;
		o = &s->handles[s->nr_handles++];
		o->h = e->op.h;
		if (!r->handle || !r->handle(r->handle_ctx, e->op.h, &o->before))
			o->before = (struct sim_lin_handle){ 0 };
		o->now = o->before;
		if (o->before.refs && !save_apages(s, o->before.pfn, o->before.pages))
			return false;
	}
	return true;
}

static void restore_alloc(struct search *s)
{
	struct sim_alloc_shadow *sh = s->refs->shadow;

	for (size_t i = s->nr_apages; i--;)
		sim_alloc_shadow_set(sh, s->apages[i].pfn, 1,
				     (enum sim_shadow_state)s->apages[i].state);
	sh->nr_free = s->shadow_before.nr_free;
	sh->nr_allocated = s->shadow_before.nr_allocated;
	sh->nr_reserved = s->shadow_before.nr_reserved;
	sh->written_lo = s->shadow_before.written_lo;
	sh->written_hi = s->shadow_before.written_hi;
	for (size_t i = 0; i < s->nr_handles; i++)
		s->handles[i].now = s->handles[i].before;
}

static void restore(struct search *s)
{
	if (s->refs->spec)
		restore_spec(s);
	if (s->refs->shadow)
		restore_alloc(s);
}

/* --- the references: one op, if its result is allowed --------------------------- */

static bool step_spec(struct search *s, const struct sim_lin_event *e)
{
	struct sim_spec_verdict v = sim_spec_predict(s->refs->spec, &e->op);

	if (!v.judged)
		return true;
	if (e->result != v.result && !(e->result == -SIM_ENOMEM && v.may_enomem))
		return false;
	if (!e->result)
		sim_spec_apply(s->refs->spec, &e->op, &v);
	return true;
}

static bool block_free(const struct sim_alloc_shadow *sh, uint64_t pfn, uint64_t nr)
{
	return !(pfn & (nr - 1)) && sim_alloc_shadow_covers(sh, pfn, nr) &&
	       sim_alloc_shadow_all_free(sh, pfn, nr);
}

static bool step_alloc(struct search *s, const struct sim_lin_event *e)
{
	struct sim_alloc_shadow *sh = s->refs->shadow;
	struct overlay *o = handle_of(s, e->op.h);
	uint64_t nr;

	switch (e->op.kind) {
	case SIM_OP_ALLOC:
		/* The executor's checks first, in its order. */
		if (e->op.h >= SIM_MAX_HANDLE)
			return e->result == -SIM_EINVAL;
		if (o->now.refs)
			return e->result == -SIM_EEXIST;
		if (e->op.a > 63)
			return e->result == -SIM_EINVAL;
		nr = 1ULL << e->op.a;
		if (e->result == -SIM_ENOMEM)
			return e->op.a > s->refs->alloc_max_order ||
			       sim_alloc_shadow_find_free(sh, nr, nr, 0) == UINT64_MAX;
		if (e->result || !block_free(sh, e->value, nr))
			return false;
		sim_alloc_shadow_set(sh, e->value, nr, SIM_SHADOW_ALLOCATED);
		o->now = (struct sim_lin_handle){ .pfn = e->value, .pages = nr, .refs = 1 };
		return true;
	case SIM_OP_GET:
		if (!o->now.refs)
			return e->result == -SIM_ENOENT;
		if (o->now.refs >= UINT16_MAX)
			return e->result == -SIM_ERANGE;
		if (e->result)
			return false;
		o->now.refs++;
		return true;
	case SIM_OP_FREE:
	case SIM_OP_PUT:
		if (!o->now.refs)
			return e->result == -SIM_ENOENT;
		if (e->op.kind == SIM_OP_FREE && o->now.refs > 1)
			return e->result == -SIM_EBUSY;
		if (e->result)
			return false;
		if (--o->now.refs == 0)
			sim_alloc_shadow_set(sh, o->now.pfn, o->now.pages, SIM_SHADOW_FREE);
		return true;
	default:
		return true;
	}
}

/* Applies op @i if the reference allows its result; false, and nothing changed, if not. */
static bool step(struct search *s, size_t i)
{
	const struct sim_lin_event *e = &s->h[i];

	s->out->nodes++;
	if (is_alloc_op(e->op.kind))
		return s->refs->shadow ? step_alloc(s, e) : true;
	if (is_spec_op(e->op.kind))
		return s->refs->spec ? step_spec(s, e) : true;
	return true;		/* not judged */
}

/* --- memoization: (ops done, state) pairs already explored ----------------------- */

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

/*
 * A digest of the references' state over what the history can touch (the
 * rest is the same in every branch). Two different states may share a
 * digest only with probability about 2^-64, and then a branch is skipped:
 * the check could report a violation that is not one. That is the price of
 * not keeping whole states.
 */
static uint64_t state_digest(struct search *s)
{
	const struct sim_spec *spec = s->refs->spec;
	uint64_t h = 0x2545f4914f6cdd1dULL;

	if (spec) {
		for (size_t i = 0; i < s->nr_runs; i++) {
			const struct sim_spec_page *p = &spec->pages[s->runs[i].pfn - spec->cfg.base_pfn];

			for (uint64_t k = 0; k < s->runs[i].nr; k++, p++) {
				h = mix(h, p->state | (uint64_t)p->vm << 8 | (uint64_t)p->shares << 16);
				h = mix(h, p->maps);
			}
		}
		for (size_t i = 0; i < s->nr_spaces; i++) {
			unsigned int v = s->spaces[i].vm;
			const struct sim_space *sp = &spec->spaces[v];

			h = mix(h, spec->vms[v].live | (uint64_t)spec->vms[v].vcpus << 1 |
				   (uint64_t)spec->vms[v].pins << 32);
			for (uint64_t j = 0; j < sp->cap; j++) {
				const struct sim_ipage *e = &sp->slots[j];

				if (e->used)
					h = mix(mix(h, e->page), e->pfn << 8 | e->state << 4 |
							      e->prot << 1 | e->parked);
			}
		}
		h = mix(h, spec->nr_live);
	}
	if (s->refs->shadow) {
		for (size_t i = 0; i < s->nr_apages; i++)
			h = mix(h, sim_alloc_shadow_get(s->refs->shadow, s->apages[i].pfn));
		for (size_t i = 0; i < s->nr_handles; i++)
			h = mix(mix(h, s->handles[i].now.pfn), s->handles[i].now.refs);
	}
	return h ? h : 1;
}

#define MEMO_WORDS	(SIM_LIN_MAX_OPS / 64 + 1)

static uint64_t *memo_slot(struct search *s, const uint64_t *key)
{
	uint64_t h = key[MEMO_WORDS - 1];
	size_t i;

	for (unsigned int w = 0; w < MEMO_WORDS - 1; w++)
		h = mix(h, key[w]);
	for (i = h & (s->memo_cap - 1);; i = (i + 1) & (s->memo_cap - 1)) {
		uint64_t *slot = &s->memo[i * MEMO_WORDS];

		if (!slot[MEMO_WORDS - 1] || !memcmp(slot, key, MEMO_WORDS * sizeof(*key)))
			return slot;
	}
}

/* The memo's buffer, recycled as grow()'s are. */
static size_t memo_bytes(size_t cap)
{
	return cap * MEMO_WORDS * sizeof(uint64_t);
}

/*
 * True if the pair was seen before; records it otherwise. Only once the
 * search has backed out of an op: until then it has followed one order
 * and reached no state twice, and most histories fit the first order
 * they try. A digest reads every page the history can touch (hundreds of
 * thousands after a large donation), where a step reads only its op's:
 * digesting on the way down made the check of such a history cost a
 * digest per op for nothing. A state of the first path seen again after
 * a backtrack is explored again, which costs time, never a verdict.
 */
static bool memo_seen(struct search *s)
{
	uint64_t key[MEMO_WORDS], *slot;

	if (!s->memo_on)
		return false;
	memcpy(key, s->done, sizeof(s->done));
	key[MEMO_WORDS - 1] = state_digest(s);
	if (2 * (s->memo_nr + 1) > s->memo_cap) {
		uint64_t *old = s->memo;
		size_t old_cap = s->memo_cap;

		s->memo_cap = old_cap ? 2 * old_cap : 1024;
		s->memo = sim_recycle_get(memo_bytes(s->memo_cap));
		for (size_t i = 0; i < old_cap; i++)
			if (old[i * MEMO_WORDS + MEMO_WORDS - 1])
				memcpy(memo_slot(s, &old[i * MEMO_WORDS]), &old[i * MEMO_WORDS],
				       MEMO_WORDS * sizeof(*old));
		sim_recycle_put(old, memo_bytes(old_cap));
	}
	slot = memo_slot(s, key);
	if (slot[MEMO_WORDS - 1])
		return true;
	memcpy(slot, key, sizeof(key));
	s->memo_nr++;
	return false;
}

/* --- the search ------------------------------------------------------------------ */

static bool is_done(const struct search *s, size_t i)
{
	return s->done[i / 64] >> (i % 64) & 1;
}

static void set_done(struct search *s, size_t i, bool on)
{
	if (on)
		s->done[i / 64] |= 1ULL << (i % 64);
	else
		s->done[i / 64] &= ~(1ULL << (i % 64));
}

/* Back to the state after order[0..depth). */
static void back_to(struct search *s, size_t depth)
{
	restore(s);
	for (size_t k = 0; k < depth; k++)
		step(s, s->order[k]);
}

static void note_stuck(struct search *s, size_t depth, size_t i)
{
	struct sim_lin_result *out = s->out;

	if (depth < out->longest || (depth == out->longest && out->stuck != SIZE_MAX))
		return;
	out->longest = depth;
	out->stuck = i;
	memcpy(out->order, s->order, depth * sizeof(*s->order));
}

static bool search(struct search *s, size_t depth)
{
	uint64_t first_ret = UINT64_MAX;

	if (depth == s->n) {
		if (!s->nr_leaves || state_fits(s))
			return true;
		/* The results fit; the state does not: on to the next order. */
		s->out->state_misses++;
		if (!s->have_fit) {
			s->have_fit = true;
			memcpy(s->fit, s->order, s->n * sizeof(*s->order));
			note_mismatch(s);
		}
		return false;
	}
	if (s->out->nodes >= s->max_nodes || s->gave_up) {
		s->gave_up = true;
		return false;
	}
	/* Only an op invoked before every pending op returned can be next. */
	for (size_t j = 0; j < s->n; j++)
		if (!is_done(s, j) && s->h[j].ret < first_ret)
			first_ret = s->h[j].ret;
	for (size_t i = 0; i < s->n && !s->gave_up; i++) {
		if (is_done(s, i) || s->h[i].call > first_ret)
			continue;
		/* A result the reference does not allow leaves it as it was. */
		if (!step(s, i)) {
			note_stuck(s, depth, i);
			continue;
		}
		set_done(s, i, true);
		s->order[depth] = i;
		if (!memo_seen(s) && search(s, depth + 1))
			return true;
		s->memo_on = true;
		set_done(s, i, false);
		back_to(s, depth);
	}
	return false;
}

static bool valid_history(const struct sim_lin_event *h, size_t n)
{
	if (n > SIM_LIN_MAX_OPS)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (h[i].call >= h[i].ret || h[i].op.kind >= SIM_OP__COUNT)
			return false;
		/* A fault's page is the host's choice, which a reordering would change. */
		if (h[i].op.kind == SIM_OP_FAULT || h[i].op.kind == SIM_OP_SPLIT)
			return false;
		for (size_t j = i + 1; j < n; j++)
			if (h[i].vcpu == h[j].vcpu && h[i].call < h[j].ret && h[j].call < h[i].ret)
				return false;
	}
	return true;
}

static void search_fini(struct search *s)
{
	for (size_t i = 0; i < s->nr_spaces; i++)
		sim_recycle_put(s->spaces[i].space.slots,
				s->spaces[i].space.cap * sizeof(*s->spaces[i].space.slots));
	free(s->spaces);
	sim_recycle_put(s->runs, s->cap_runs * sizeof(*s->runs));
	sim_recycle_put(s->saved, s->cap_saved * sizeof(*s->saved));
	sim_recycle_put(s->apages, s->cap_apages * sizeof(*s->apages));
	free(s->handles);
	free(s->leaves);
	free(s->fit);
	sim_recycle_put(s->memo, memo_bytes(s->memo_cap));
}

enum sim_lin_verdict sim_lin_check(const struct sim_lin_refs *refs,
				   const struct sim_lin_event *h, size_t n,
				   uint64_t max_nodes, struct sim_lin_result *out)
{
	struct search s = { .refs = refs, .h = h, .n = n, .max_nodes = max_nodes, .out = out };
	bool ok, saved;

	memset(out, 0, sizeof(*out));
	out->stuck = SIZE_MAX;
	if (!valid_history(h, n)) {
		out->verdict = SIM_LIN_BAD_INPUT;
		return out->verdict;
	}
	saved = (!refs->spec || save_spec(&s)) && (!refs->shadow || save_alloc(&s));
	if (saved && refs->spec && refs->walk) {
		s.fit = malloc((n ? n : 1) * sizeof(*s.fit));
		saved = s.fit && read_leaves(&s);
	}
	if (!saved) {
		search_fini(&s);
		out->verdict = SIM_LIN_GAVE_UP;	/* out of host memory */
		return out->verdict;
	}
	ok = search(&s, 0);
	restore(&s);
	if (ok) {
		memcpy(out->order, s.order, n * sizeof(*s.order));
		out->n = n;
		out->verdict = SIM_LIN_OK;
	} else if (s.gave_up) {
		out->n = out->longest;
		out->verdict = SIM_LIN_GAVE_UP;
	} else if (s.have_fit) {
		memcpy(out->order, s.fit, n * sizeof(*s.fit));
		out->n = n;
		out->verdict = SIM_LIN_STATE;
	} else {
		out->n = out->longest;
		out->verdict = SIM_LIN_VIOLATION;
	}
	search_fini(&s);
	return out->verdict;
}
