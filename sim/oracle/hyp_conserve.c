// SPDX-License-Identifier: MIT
/*
 * HYP-CONSERVE (see hyp_conserve.h): a count at every op boundary, and a
 * page-by-page account only when the count disagrees.
 */
#include "hyp_conserve.h"

#include <stdlib.h>
#include <string.h>

#include "recycle.h"

#define PAGE_SHIFT 12

struct sim_hyp_conserve {
	struct sim_report *report;
	uint64_t pfn, nr;
	uint8_t *allocated;	/* per pool page: 0 free, 1 allocated, 2 reported leaked */
	uint64_t nr_reported;	/* pages reported leaked (not reported again) */
	uint64_t *last_op;	/* op that last allocated it */
	uint64_t nr_allocated;
	uint64_t op;
	uint8_t *mark;		/* scratch for the page-by-page account */
};

/*
 * Recycled, not freed (sim/recycle.h): a fuzzer sets a machine up again
 * for every input, and under AddressSanitizer fresh buffers each time
 * cycle through its quarantine cold.
 */
struct sim_hyp_conserve *sim_hyp_conserve_create(struct sim_report *report, uint64_t pfn,
						 uint64_t nr)
{
	struct sim_hyp_conserve *hc = sim_recycle_get(sizeof(*hc));
	uint64_t n = nr ? nr : 1;

	hc->report = report;
	hc->pfn = pfn;
	hc->nr = nr;
	hc->allocated = sim_recycle_get(n);
	hc->mark = sim_recycle_get(n);
	hc->last_op = sim_recycle_get(n * sizeof(*hc->last_op));
	return hc;
}

void sim_hyp_conserve_destroy(struct sim_hyp_conserve *hc)
{
	uint64_t n;

	if (!hc)
		return;
	n = hc->nr ? hc->nr : 1;
	sim_recycle_put(hc->allocated, n);
	sim_recycle_put(hc->mark, n);
	sim_recycle_put(hc->last_op, n * sizeof(*hc->last_op));
	sim_recycle_put(hc, sizeof(*hc));
}

void sim_hyp_conserve_set_op(struct sim_hyp_conserve *hc, uint64_t op_index)
{
	hc->op = op_index;
}

uint64_t sim_hyp_conserve_allocated(const struct sim_hyp_conserve *hc)
{
	return hc->nr_allocated;
}

void sim_hyp_conserve_event(void *ctx, const struct sim_event *ev)
{
	struct sim_hyp_conserve *hc = ctx;
	uint64_t pfn = ev->a >> PAGE_SHIFT, nr = 1ULL << (ev->b & 63);
	bool alloc = ev->kind == SIM_EV_PAGE_ALLOC;

	if (pfn >= hc->pfn + hc->nr || pfn + nr <= hc->pfn)
		return;
	for (uint64_t p = pfn; p < pfn + nr; p++) {
		uint64_t i = p - hc->pfn;

		if (p < hc->pfn || i >= hc->nr)
			continue;
		if (!!hc->allocated[i] == alloc) {
			sim_report_violation(hc->report, SIM_ORACLE_HYP_CONSERVE,
					     "hypervisor pool page pfn 0x%llx %s twice (event %llu)",
					     (unsigned long long)p, alloc ? "allocated" : "freed",
					     (unsigned long long)ev->index);
			continue;
		}
		if (hc->allocated[i] == 2)
			hc->nr_reported--;
		hc->allocated[i] = alloc;
		hc->nr_allocated += alloc ? 1 : -1;
		if (alloc)
			hc->last_op[i] = hc->op;
	}
}

/* The page-by-page account: name the first page that is not what it should be. */
static void account(struct sim_hyp_conserve *hc, const struct sim_bbm *bbm,
		    const uint64_t *cached, unsigned int nr)
{
	uint64_t leaked = 0, first = 0;

	memset(hc->mark, 0, hc->nr);
	for (unsigned int k = 0; cached && k < nr; k++) {
		uint64_t i = cached[k] - hc->pfn;

		if (cached[k] < hc->pfn || i >= hc->nr)
			continue;
		if (hc->mark[i] || !hc->allocated[i] || sim_bbm_is_table(bbm, cached[k]))
			sim_report_violation(hc->report, SIM_ORACLE_HYP_CONSERVE,
					     "page cache holds pfn 0x%llx, which is %s",
					     (unsigned long long)cached[k],
					     hc->mark[i] ? "in a page cache twice" :
					     !hc->allocated[i] ? "free in the allocator" :
					     "a linked table page");
		hc->mark[i] = 1;
	}
	for (uint64_t i = 0; i < hc->nr; i++) {
		bool table = sim_bbm_is_table(bbm, hc->pfn + i);

		if (table && !hc->allocated[i])
			sim_report_violation(hc->report, SIM_ORACLE_HYP_CONSERVE,
					     "table page pfn 0x%llx is free in the allocator",
					     (unsigned long long)(hc->pfn + i));
		if (hc->allocated[i] == 1 && !table && !hc->mark[i]) {
			if (!leaked++)
				first = i;
			hc->allocated[i] = 2;
			hc->nr_reported++;
		}
	}
	if (leaked)
		sim_report_violation(hc->report, SIM_ORACLE_HYP_CONSERVE,
				     "%llu hypervisor pool page(s) leaked: pfn 0x%llx (allocated by "
				     "op %llu) is neither free, nor a table reachable from a live "
				     "stage-2 root, nor in a page cache",
				     (unsigned long long)leaked, (unsigned long long)(hc->pfn + first),
				     (unsigned long long)hc->last_op[first]);
}

void sim_hyp_conserve_check(struct sim_hyp_conserve *hc, const struct sim_bbm *bbm,
			    const uint64_t *cached, unsigned int nr)
{
	uint64_t in_pool = 0;

	if (!nr)
		cached = NULL;
	for (unsigned int k = 0; cached && k < nr; k++)
		in_pool += cached[k] >= hc->pfn && cached[k] - hc->pfn < hc->nr;
	if (hc->nr_allocated - hc->nr_reported != sim_bbm_tables_counted(bbm) + in_pool)
		account(hc, bbm, cached, nr);
}
