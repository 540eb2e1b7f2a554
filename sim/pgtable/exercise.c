// SPDX-License-Identifier: MIT
/* See exercise.h. */
#include "pgtable/exercise.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <hvmm/pgtable.h>

#include "event/event.h"
#include "mmu/walk.h"
#include "oracle/bbm.h"
#include "oracle/report.h"
#include "physmem.h"
#include "platform.h"
#include "vmemmap.h"
#include "workload.h"

#define RAM_BASE	0x80000000ULL
#define RAM_BYTES	(1ULL << 30)
#define TABLE_PAGES	4096			/* per implementation, from the start of RAM */
#define IA_BITS		40			/* every implementation's input address size */
#define WINDOW_IPA	0x40000000ULL		/* 1 GiB: the window starts block-aligned */
#define WINDOW_PAGES	8192			/* 32 MiB of IPA: 16 blocks of 2 MiB */
#define BLOCK_PAGES	512
#define OUT_BASE	(RAM_BASE + (128ULL << 20))	/* output addresses: RAM past the table pools */

struct shadow_page {
	uint64_t pa;		/* 0: unmapped */
	uint32_t prot;
};

struct impl {
	const struct sim_pgtable_ops *ops;
	struct sim_pgtable t;
	struct sim_s2_regs regs;
	int ret;
};

struct pgx {
	struct sim_physmem pm;
	struct sim_vmemmap vmemmap;	/* mm/'s, for the tables' pages */
	struct impl im[SIM_PGX_MAX_IMPLS];
	unsigned int n;
	struct shadow_page shadow[WINDOW_PAGES];
	bool block_chunk[WINDOW_PAGES / BLOCK_PAGES];	/* may be mapped by a block */
	struct sim_rng rng;
	/* sim_pgx_run_input(): every choice is read from the input instead. */
	const uint8_t *in;
	size_t in_len, in_pos;
	FILE *report;
	struct sim_pgx_result *res;
	/* The event oracles: BBM on every descriptor write, TLB at each op's end. */
	struct sim_report oracle_report;
	struct sim_bbm *bbm;
};

static const uint32_t prots[] = {
	HVMM_PROT_R, HVMM_PROT_R | HVMM_PROT_W, HVMM_PROT_R | HVMM_PROT_X, HVMM_PROT_RWX,
	HVMM_PROT_R | HVMM_PROT_DEVICE, HVMM_PROT_R | HVMM_PROT_W | HVMM_PROT_DEVICE,
};

/* A choice in [0, n): from the PRNG, or from as few input bytes as @n needs (0 once it ran out). */
static uint64_t below(struct pgx *x, uint64_t n)
{
	uint64_t v = 0;

	if (!x->in)
		return sim_rng_below(&x->rng, n);
	for (uint64_t span = 1; span < n && x->in_pos < x->in_len; span <<= 8)
		v = v << 8 | x->in[x->in_pos++];
	return n ? v % n : 0;
}

static void mismatch(struct pgx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void mismatch(struct pgx *x, const char *fmt, ...)
{
	va_list ap;

	if (x->res->mismatches++ >= 8 || !x->report)
		return;
	va_start(ap, fmt);
	vfprintf(x->report, fmt, ap);
	va_end(ap);
}

/*
 * What a translation says about @ipa, in the shadow's terms; false on an
 * unknown memory type. @w faulted: unmapped.
 */
static bool translate(const struct sim_walk *w, uint64_t ipa, struct shadow_page *p)
{
	*p = (struct shadow_page){ 0 };
	if (w->fault != SIM_FAULT_NONE)
		return true;
	p->pa = w->t.pa_base + (ipa - w->t.ipa_base);
	p->prot = (w->t.read ? HVMM_PROT_R : 0) | (w->t.write ? HVMM_PROT_W : 0) |
		  (w->t.exec ? HVMM_PROT_X : 0);
	/* Stage-2 MemAttr (Arm ARM D8.5.5): 0b0001 Device-nGnRE, 0b1111 Normal write-back. */
	if (w->t.memattr == 0x1)
		p->prot |= HVMM_PROT_DEVICE;
	return w->t.memattr == 0x1 || w->t.memattr == 0xf;
}

/*
 * The end (exclusive) of the IPA range a walk's answer holds for: the
 * block or page it found, or, when it read an invalid descriptor at level
 * L, everything that descriptor would have mapped (Arm ARM D8.2: level L
 * resolves IA bits [20 + 9 * (3 - L) : 12 + 9 * (3 - L)]). Any other
 * fault holds for the one page.
 */
static uint64_t answer_end(const struct sim_walk *w, uint64_t ipa)
{
	uint64_t span = HVMM_PAGE_SIZE;

	if (w->fault == SIM_FAULT_NONE)
		return w->t.ipa_base + w->t.size;
	if (w->fault == SIM_FAULT_TRANSLATION && w->nr_tables && w->level >= 0 && w->level <= 3)
		span = 1ULL << (12 + 9 * (3 - w->level));
	return (ipa & ~(span - 1)) + span;
}

/* Pages [first, end) as @im's tables translate them, one walk per block, page or hole. */
static void check_impl(struct pgx *x, const struct impl *im, uint64_t first, uint64_t end,
		       uint64_t op)
{
	uint64_t i = first;

	while (i < end) {
		uint64_t ipa = WINDOW_IPA + (i << HVMM_PAGE_SHIFT), last;
		struct sim_walk w;

		sim_s2_walk(&x->pm, &im->regs, ipa, &w);
		last = (answer_end(&w, ipa) - WINDOW_IPA) >> HVMM_PAGE_SHIFT;
		for (; i < end && i < last; i++, ipa += HVMM_PAGE_SIZE) {
			struct shadow_page p;
			bool attr_ok = translate(&w, ipa, &p);

			if (attr_ok && p.pa == x->shadow[i].pa && p.prot == x->shadow[i].prot)
				continue;
			mismatch(x, "op %llu: ipa 0x%llx: %s translates to pa 0x%llx prot 0x%x%s, "
				 "the sequence says pa 0x%llx prot 0x%x\n", (unsigned long long)op,
				 (unsigned long long)ipa, im->ops->name, (unsigned long long)p.pa,
				 p.prot, attr_ok ? "" : " (unknown MemAttr)",
				 (unsigned long long)x->shadow[i].pa, x->shadow[i].prot);
		}
	}
}

/*
 * Table pages reachable from the table at @pa of @level: itself and, for
 * each valid table descriptor in it (levels 0 to 2: bits[1:0] 0b11), the
 * tables under that (Arm ARM D8.3).
 */
static uint64_t tables_under(const struct sim_physmem *pm, uint64_t pa, int level)
{
	const uint64_t *t = sim_physmem_pa_to_host(pm, pa);
	uint64_t n = 1;

	if (!t || level >= 3)
		return 1;
	for (unsigned int i = 0; i < 512; i++)
		if ((t[i] & 3) == 3)
			n += tables_under(pm, t[i] & 0x0000fffffffff000ULL, level + 1);
	return n;
}

/*
 * Every table page an implementation holds from its pool is a root, a
 * table linked under one, or a page it keeps for tables to come: a table
 * unlinked and never freed (a block replacing a table whose page is not
 * put) is a leak, which no walk of the tables can see.
 */
static void check_table_pages(struct pgx *x, uint64_t op)
{
	for (unsigned int k = 0; k < x->n; k++) {
		struct impl *im = &x->im[k];
		uint64_t held = im->ops->table_pages(&im->t), linked = 0, cached = 0;
		unsigned int roots = sim_s2_root_tables(im->regs.ia_bits, im->regs.start_level);

		for (unsigned int r = 0; r < roots; r++)
			linked += tables_under(&x->pm, im->regs.baddr + (uint64_t)r * HVMM_PAGE_SIZE,
					       (int)im->regs.start_level);
		if (im->ops->cached_pages)
			cached = im->ops->cached_pages(&im->t);
		if (held != linked + cached)
			mismatch(x, "op %llu: %s holds %llu table pages, but %llu are linked from its "
				 "root and %llu kept for later tables: %lld leaked\n",
				 (unsigned long long)op, im->ops->name, (unsigned long long)held,
				 (unsigned long long)linked, (unsigned long long)cached,
				 (long long)(held - linked - cached));
	}
}

static void check_pages(struct pgx *x, uint64_t first, uint64_t count, uint64_t op)
{
	uint64_t end = first + count < WINDOW_PAGES ? first + count : WINDOW_PAGES;

	if (first >= end)
		return;
	x->res->pages_checked += end - first;
	for (unsigned int k = 0; k < x->n; k++)
		check_impl(x, &x->im[k], first, end, op);
}

/* COLLAPSE: a block mapped over a range that pages map now (below). */
enum kind { MAP, UNMAP, PROTECT, COLLAPSE };

static const char *const kind_names[] = { "map", "unmap", "protect", "map over pages" };

/*
 * A collapse goes to an implementation's replace (KVM's map replacing the
 * table by the block, as user_mem_abort does when a huge page is mapped
 * again where dirty logging had split it); one whose map refuses a mapped
 * range by design (mm/: replace is NULL) gets the range unmapped and then
 * mapped, as its callers would do it.
 */
static int collapse(struct impl *im, uint64_t ipa, uint64_t size, uint64_t pa, uint32_t prot)
{
	int ret;

	if (im->ops->replace)
		return im->ops->replace(&im->t, ipa, size, pa, prot);
	ret = im->ops->unmap(&im->t, ipa, size);
	return ret ? ret : im->ops->map(&im->t, ipa, size, pa, prot);
}

/* The op the oracles' reports name. */
static void name_op(struct pgx *x, uint64_t op, enum kind kind, uint64_t ipa, uint64_t n,
		    uint64_t pa, uint32_t prot)
{
	char text[128];

	if (!x->bbm)
		return;
	snprintf(text, sizeof(text), "%s ipa 0x%llx pages %llu pa 0x%llx prot 0x%x", kind_names[kind],
		 (unsigned long long)ipa, (unsigned long long)n, (unsigned long long)pa, prot);
	sim_report_set_op(&x->oracle_report, op, text);
}

/* Op @op on every implementation, inside the event oracles' bracket. */
static void apply(struct pgx *x, uint64_t op, enum kind kind, uint64_t ipa, uint64_t n,
		  uint64_t pa, uint32_t prot)
{
	uint64_t size = n << HVMM_PAGE_SHIFT;

	name_op(x, op, kind, ipa, n, pa, prot);
	if (x->bbm)
		sim_event_begin();
	for (unsigned int k = 0; k < x->n; k++) {
		struct impl *im = &x->im[k];

		im->ret = kind == MAP ? im->ops->map(&im->t, ipa, size, pa, prot) :
			  kind == UNMAP ? im->ops->unmap(&im->t, ipa, size) :
			  kind == COLLAPSE ? collapse(im, ipa, size, pa, prot) :
			  im->ops->protect(&im->t, ipa, size, prot);
	}
	if (x->bbm) {
		sim_event_end();
		sim_bbm_op_end(x->bbm);
	}
}

/*
 * Whether pages [i, i + n) (whole 2 MiB chunks) hold pages and no block:
 * what a block map there replaces is a table of pages.
 */
static bool pages_mapped(const struct pgx *x, uint64_t i, uint64_t n)
{
	bool any = false;

	for (uint64_t c = i / BLOCK_PAGES; c < (i + n) / BLOCK_PAGES; c++)
		if (x->block_chunk[c])
			return false;
	for (uint64_t k = i; k < i + n && !any; k++)
		any = x->shadow[k].pa != 0;
	return any;
}

/*
 * A map or protect whose permission byte is one of its top four values
 * (which pick the same permissions as the others) names a range that no
 * implementation may accept, instead of one in the window. Every
 * implementation must refuse it whole, whatever error it names, and leave
 * every page as it was. Two shapes, KVM f71f7afd0a0c's class both:
 *  - 252, 253: from up to 64 pages below 2^IA_BITS to past it, which a
 *    walk that checks only where a range starts runs past its root table;
 *  - 254, 255: from a page of the window with a size that wraps past 2^64,
 *    its end 1 to 64 pages into the input space, which a bound check on
 *    the end alone passes.
 */
#define PAST_END_BYTE	252
#define WRAP_BYTE	254

/* Nothing is ever mapped outside the window: a refusal must leave it so. */
static void check_unmapped(struct pgx *x, uint64_t op, enum kind kind, const char *where,
			   uint64_t from, uint64_t to)
{
	for (unsigned int k = 0; k < x->n; k++) {
		const struct impl *im = &x->im[k];

		for (uint64_t a = from; a < to; a += HVMM_PAGE_SIZE) {
			struct sim_walk w;

			sim_s2_walk(&x->pm, &im->regs, a, &w);
			if (w.fault == SIM_FAULT_NONE)
				mismatch(x, "op %llu (%s %s): %s maps ipa 0x%llx to pa 0x%llx, where "
					 "nothing is mapped\n", (unsigned long long)op,
					 kind_names[kind], where, im->ops->name,
					 (unsigned long long)a,
					 (unsigned long long)(w.t.pa_base + (a - w.t.ipa_base)));
		}
	}
}

static void check_refused(struct pgx *x, uint64_t op, enum kind kind, const char *what,
			  uint64_t ipa, uint64_t n)
{
	for (unsigned int k = 0; k < x->n; k++)
		if (!x->im[k].ret)
			mismatch(x, "op %llu (%s of %llu pages from ipa 0x%llx, %s): %s accepted it\n",
				 (unsigned long long)op, kind_names[kind], (unsigned long long)n,
				 (unsigned long long)ipa, what, x->im[k].ops->name);
}

static void past_end(struct pgx *x, uint64_t op, enum kind kind, uint64_t i, uint64_t n,
		     uint64_t pa, uint32_t prot)
{
	uint64_t below_end = 1 + i % 64;
	uint64_t ipa = (1ULL << IA_BITS) - (below_end << HVMM_PAGE_SHIFT);

	apply(x, op, kind, ipa, below_end + n, pa, prot);
	x->res->past_end_ops++;
	check_refused(x, op, kind, "past the input space", ipa, below_end + n);
	check_unmapped(x, op, kind, "past the input space", ipa, 1ULL << IA_BITS);
}

/* The window's pages it starts on are compared with the shadow by the caller. */
static void wrapping(struct pgx *x, uint64_t op, enum kind kind, uint64_t i, uint64_t pa,
		     uint32_t prot)
{
	uint64_t ipa = WINDOW_IPA + (i << HVMM_PAGE_SHIFT);
	uint64_t end_pages = 1 + i % 64;
	/* n << HVMM_PAGE_SHIFT is 2^64 - ipa + end_pages pages: the end wraps. */
	uint64_t n = (1ULL << (64 - HVMM_PAGE_SHIFT)) - (ipa >> HVMM_PAGE_SHIFT) + end_pages;

	apply(x, op, kind, ipa, n, pa, prot);
	x->res->wrap_ops++;
	check_refused(x, op, kind, "its end past 2^64", ipa, n);
	check_unmapped(x, op, kind, "wrapping past 2^64", 0, end_pages << HVMM_PAGE_SHIFT);
}

/* One random op on every implementation; the shadow follows the first's result. */
static void step(struct pgx *x, uint64_t op, uint64_t *first, uint64_t *count)
{
	uint64_t r = below(x, 10), i, n, pa = 0, prot_byte = 0;
	enum kind kind = r < 5 ? MAP : r < 8 ? UNMAP : PROTECT;
	bool blocky = false;
	uint32_t prot = 0;

	if (kind == MAP) {
		blocky = below(x, 2);
		prot_byte = below(x, 256);
		prot = prots[prot_byte % (sizeof(prots) / sizeof(prots[0]))];
		if (blocky) {		/* whole aligned 2 MiB chunks, block-aligned output */
			i = below(x, WINDOW_PAGES / BLOCK_PAGES) * BLOCK_PAGES;
			n = BLOCK_PAGES * (1 + below(x, 2));
		} else {
			i = below(x, WINDOW_PAGES);
			n = 1 + below(x, 64);
		}
		if (i + n > WINDOW_PAGES)
			n = WINDOW_PAGES - i;
		/* A whole number of 2 MiB chunks away (+ one page: never block-aligned). */
		pa = OUT_BASE + below(x, 128) * (BLOCK_PAGES << HVMM_PAGE_SHIFT) +
		     ((i << HVMM_PAGE_SHIFT) & ((BLOCK_PAGES << HVMM_PAGE_SHIFT) - 1)) +
		     (blocky ? 0 : HVMM_PAGE_SIZE);
		/*
		 * A block where pages are mapped: the block replaces them (their
		 * output addresses are never block-aligned, so every page changes).
		 */
		if (blocky && pages_mapped(x, i, n))
			kind = COLLAPSE;
	} else {
		i = below(x, WINDOW_PAGES);
		n = 1 + below(x, kind == UNMAP ? 64 : 1024);
		if (i + n > WINDOW_PAGES)
			n = WINDOW_PAGES - i;
		if (kind == UNMAP) {	/* widened over chunks a block may map */
			uint64_t lo = i / BLOCK_PAGES, hi = (i + n - 1) / BLOCK_PAGES, end = i + n;

			if (x->block_chunk[lo])
				i = lo * BLOCK_PAGES;
			if (x->block_chunk[hi])
				end = (hi + 1) * BLOCK_PAGES;
			n = end - i;
		} else {
			prot_byte = below(x, 256);
			prot = prots[prot_byte % 4];
		}
	}
	*first = i;
	*count = 0;
	if (prot_byte >= WRAP_BYTE) {
		wrapping(x, op, kind, i, pa, prot);
		*count = 64;
		return;
	}
	if (prot_byte >= PAST_END_BYTE) {
		past_end(x, op, kind, i, n, pa, prot);
		return;
	}
	apply(x, op, kind, WINDOW_IPA + (i << HVMM_PAGE_SHIFT), n, pa, prot);
	*count = n;
	for (unsigned int k = 1; k < x->n; k++)
		if (x->im[k].ret != x->im[0].ret)
			mismatch(x, "op %llu (%s of pages %llu+%llu): %s returned %d, %s %d\n",
				 (unsigned long long)op,
				 kind_names[kind],
				 (unsigned long long)i, (unsigned long long)n, x->im[0].ops->name,
				 x->im[0].ret, x->im[k].ops->name, x->im[k].ret);
	if (x->im[0].ret)
		return;
	x->res->ok_ops++;
	x->res->collapses += kind == COLLAPSE;
	for (uint64_t k = i; k < i + n; k++) {
		if (kind == MAP || kind == COLLAPSE)
			x->shadow[k] = (struct shadow_page){ pa + ((k - i) << HVMM_PAGE_SHIFT), prot };
		else if (kind == UNMAP)
			x->shadow[k] = (struct shadow_page){ 0 };
		else if (kind == PROTECT && x->shadow[k].pa)
			x->shadow[k].prot = prot;
		if (k % BLOCK_PAGES == 0 && k + BLOCK_PAGES <= i + n)
			x->block_chunk[k / BLOCK_PAGES] = kind == MAP || kind == COLLAPSE ? blocky :
							  kind == UNMAP ? false :
							  x->block_chunk[k / BLOCK_PAGES];
	}
}

/*
 * The event oracles, armed as a whole machine arms them (sim/machine_vm.c):
 * the event layer's windows on simulated RAM, the BBM oracle observing
 * every descriptor write, barrier, TLBI and page free of each op, the
 * tables' roots registered from their registers, the obligations left open
 * judged at the op's end (TLB). Armed before the tables are made, so every
 * table page is seen from its allocation.
 */
static void oracles_start(struct pgx *x)
{
	struct sim_memview mem;

	sim_event_end();
	sim_event_reset_observers();
	sim_report_init(&x->oracle_report, x->report);
	sim_physmem_view(&x->pm, &mem);
	x->bbm = sim_bbm_create(&mem, &x->oracle_report);
	if (!x->bbm)
		return;
	if (!sim_event_observe(sim_bbm_event, x->bbm, SIM_BBM_EVENTS)) {
		sim_bbm_destroy(x->bbm);
		x->bbm = NULL;
		return;
	}
	sim_physmem_event_windows(&x->pm);
	sim_event_begin();
}

static void oracles_stop(struct pgx *x)
{
	sim_event_end();
	if (!x->bbm)
		return;
	sim_event_unobserve(sim_bbm_event, x->bbm);
	sim_bbm_destroy(x->bbm);
	x->bbm = NULL;
}

/*
 * The tables are made: their roots go to the oracle. A build whose mm/ and
 * hosted code the event layer cannot see (a ThreadSanitizer build) sent no
 * memory event: translations alone are judged then.
 */
static void oracles_started(struct pgx *x)
{
	if (!x->bbm)
		return;
	sim_event_end();
	if (!sim_event_count() || !sim_event_mm_instrumented()) {
		oracles_stop(x);
		return;
	}
	for (unsigned int k = 0; k < x->n; k++) {
		const struct sim_s2_regs *r = &x->im[k].regs;

		sim_bbm_add_roots(x->bbm, r->baddr, sim_s2_root_tables(r->ia_bits, r->start_level),
				  r->start_level, r->vmid);
		sim_bbm_vmid_no_guest(x->bbm, r->vmid);
	}
	x->res->event_oracles = true;
}

/* The run itself, choices from x->rng or x->in. */
static int run(struct pgx *x, const char *const *impls, unsigned int nr_impls, uint64_t ops,
	       struct sim_pgx_result *res, char *err, size_t errlen)
{
	int ret = -1;

	if (!nr_impls || nr_impls > SIM_PGX_MAX_IMPLS) {
		snprintf(err, errlen, "1 to %d page-table implementations at once", SIM_PGX_MAX_IMPLS);
		goto out;
	}
	if (sim_physmem_add(&x->pm, SIM_REGION_RAM, RAM_BASE, RAM_BYTES, err, errlen) ||
	    sim_physmem_map(&x->pm, err, errlen) ||
	    sim_vmemmap_map(&x->vmemmap, &x->pm, err, errlen))
		goto out_pm;
	sim_platform_install(&x->pm, NULL);
	sim_vmemmap_install(&x->vmemmap);
	oracles_start(x);
	for (; x->n < nr_impls; x->n++) {
		struct impl *im = &x->im[x->n];
		struct sim_pgtable_config cfg = {
			.ia_bits = IA_BITS, .start_level = 1, .vmid = (uint16_t)(1 + x->n),
			.pool_pfn = (RAM_BASE >> HVMM_PAGE_SHIFT) + x->n * TABLE_PAGES,
			.pool_pages = TABLE_PAGES,
		};

		im->ops = sim_pgtable_find(impls[x->n]);
		if (!im->ops) {
			snprintf(err, errlen, "unknown page-table implementation '%s'", impls[x->n]);
			goto out_impls;
		}
		im->t = (struct sim_pgtable){ .ops = im->ops, .pm = &x->pm };
		if (im->ops->init(&im->t, &cfg, err, errlen))
			goto out_impls;
		im->ops->regs(&im->t, &im->regs);
	}
	oracles_started(x);
	for (uint64_t op = 0; op < ops && (!x->in || x->in_pos < x->in_len); op++) {
		uint64_t first, count;

		res->ops++;
		step(x, op, &first, &count);
		check_pages(x, first, count, op);
		check_table_pages(x, op);
		if (op % 500 == 499)
			check_pages(x, 0, WINDOW_PAGES, op);
	}
	check_pages(x, 0, WINDOW_PAGES, ops);
	for (unsigned int k = 0; k < x->n; k++)
		res->table_pages[k] = x->im[k].ops->table_pages(&x->im[k].t);
	res->violations = x->oracle_report.total;
	if (x->oracle_report.kept)
		res->first_oracle = sim_oracle_name(x->oracle_report.first[0].oracle);
	ret = 0;
out_impls:
	/* The tables go without the protocol: nothing runs with their VMIDs. */
	oracles_stop(x);
	while (x->n) {
		struct impl *im = &x->im[--x->n];

		im->ops->fini(&im->t);
	}
	sim_platform_install(NULL, NULL);
out_pm:
	sim_vmemmap_destroy(&x->vmemmap);
	sim_physmem_destroy(&x->pm);
out:
	return ret;
}

/* A run in its own state: choices from @data if given, else from a PRNG seeded with @seed. */
static int run_fresh(const char *const *impls, unsigned int nr_impls, uint64_t ops, uint64_t seed,
		     const uint8_t *data, size_t size, FILE *report, struct sim_pgx_result *res,
		     char *err, size_t errlen)
{
	struct pgx *x = calloc(1, sizeof(*x));
	int ret;

	memset(res, 0, sizeof(*res));
	if (!x) {
		snprintf(err, errlen, "out of host memory");
		return -1;
	}
	x->report = report;
	x->res = res;
	sim_rng_seed(&x->rng, seed);
	x->in = data;
	x->in_len = size;
	ret = run(x, impls, nr_impls, ops, res, err, errlen);
	free(x);
	return ret;
}

int sim_pgx_run(const char *const *impls, unsigned int nr_impls, uint64_t ops, uint64_t seed,
		FILE *report, struct sim_pgx_result *res, char *err, size_t errlen)
{
	return run_fresh(impls, nr_impls, ops, seed, NULL, 0, report, res, err, errlen);
}

int sim_pgx_run_input(const char *const *impls, unsigned int nr_impls, const uint8_t *data,
		      size_t size, uint64_t max_ops, FILE *report, struct sim_pgx_result *res,
		      char *err, size_t errlen)
{
	return run_fresh(impls, nr_impls, max_ops, 0, data, size, report, res, err, errlen);
}
