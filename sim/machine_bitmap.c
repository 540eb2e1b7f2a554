// SPDX-License-Identifier: MIT
/*
 * The executor's bitmap-family ops (insert, remove, contiguous and fixed
 * allocations, raw deallocation, test, next): each validated against the
 * handle table, run through the allocator's optional ops, and kept in the
 * allocator shadow; AVAIL on contiguous allocations
 * (oracle/bitmap_check.h).
 */
#include "machine_priv.h"
#include "oracle/bitmap_check.h"

int sim_machine_bitmap_op(struct sim_machine *m, const struct sim_op *op, uint64_t *value)
{
	const struct sim_allocator_ops *ops = m->alloc.ops;
	uint64_t pfn = 0;
	int ret;

	switch (op->kind) {
	case SIM_OP_BM_INSERT:
		if (!ops->insert)
			return -SIM_ENOTSUP;
		ret = ops->insert(&m->alloc, op->a, op->b);
		if (!ret) {
			sim_alloc_shadow_move(&m->shadow, &m->report, SIM_ORACLE_ALLOC_CONSERVE,
					      "insert accepted frames that were already managed",
					      op->a, op->b, SIM_SHADOW_UNMANAGED, SIM_SHADOW_FREE);
			sim_machine_check_touched(m, op->a, op->b);
		}
		return ret;
	case SIM_OP_BM_REMOVE:
		if (!ops->remove)
			return -SIM_ENOTSUP;
		ret = ops->remove(&m->alloc, op->a, op->b);
		if (!ret) {
			sim_alloc_shadow_move(&m->shadow, &m->report, SIM_ORACLE_ALLOC_CONSERVE,
					      "remove withdrew frames that were not free",
					      op->a, op->b, SIM_SHADOW_FREE, SIM_SHADOW_UNMANAGED);
			sim_machine_check_touched(m, op->a, op->b);
		}
		return ret;
	case SIM_OP_BM_ALLOC:
	case SIM_OP_BM_ALLOC_CONTIG:
	case SIM_OP_BM_ALLOC_AT: {
		uint64_t count = op->kind == SIM_OP_BM_ALLOC ? 1 : op->a;
		unsigned int align = op->kind == SIM_OP_BM_ALLOC ? 0 : (unsigned int)(op->b < 64 ? op->b : 64);
		struct sim_handle *hd;

		ret = sim_machine_new_handle(m, op->h);
		if (ret)
			return ret;
		if (op->kind == SIM_OP_BM_ALLOC_AT) {
			if (!ops->alloc_at)
				return -SIM_ENOTSUP;
			pfn = op->c;
			ret = ops->alloc_at(&m->alloc, pfn, count, align);
		} else {
			if (!ops->alloc_contig)
				return -SIM_ENOTSUP;
			ret = ops->alloc_contig(&m->alloc, count, align, &pfn);
			/* AVAIL: a failure had no aligned window, a success returned the lowest. */
			if (sim_machine_oracles_on(m))
				sim_bitmap_check_avail(&m->shadow, &m->report, count, align, ret, pfn);
		}
		if (ret)
			return ret;
		/* A contiguous run is tracked as pages of its own handle. */
		sim_alloc_shadow_move(&m->shadow, &m->report, SIM_ORACLE_ALLOC_CONSERVE,
				      "the allocator handed out frames that are not free",
				      pfn, count, SIM_SHADOW_FREE, SIM_SHADOW_ALLOCATED);
		hd = sim_handles_slot(&m->handles, op->h);
		*hd = (struct sim_handle){ .pfn = pfn, .pages = count, .live = 1, .refs = 1 };
		sim_machine_account_pages(m, (int64_t)count);
		sim_machine_check_touched(m, pfn, count);
		if (value)
			*value = pfn;
		return 0;
	}
	case SIM_OP_BM_DEALLOC:
		if (!ops->dealloc_range)
			return -SIM_ENOTSUP;
		ret = ops->dealloc_range(&m->alloc, op->a, op->b);
		if (!ret) {
			sim_alloc_shadow_move(&m->shadow, &m->report, SIM_ORACLE_ALLOC_CONSERVE,
					      "dealloc accepted frames that were not allocated",
					      op->a, op->b, SIM_SHADOW_ALLOCATED, SIM_SHADOW_FREE);
			sim_machine_account_pages(m, -(int64_t)op->b);
			sim_machine_check_touched(m, op->a, op->b);
		}
		return ret;
	case SIM_OP_BM_TEST:
		if (!ops->test)
			return -SIM_ENOTSUP;
		ret = ops->test(&m->alloc, op->a);
		if (sim_machine_oracles_on(m))
			sim_bitmap_check_test(&m->shadow, &m->report, op->a, ret);
		if (ret < 0)
			return ret;
		if (value)
			*value = (uint64_t)ret;
		return 0;
	case SIM_OP_BM_NEXT:
		if (!ops->next)
			return -SIM_ENOTSUP;
		ret = ops->next(&m->alloc, op->a, &pfn);
		if (sim_machine_oracles_on(m))
			sim_bitmap_check_next(&m->shadow, &m->report, op->a, ret, pfn);
		if (!ret && value)
			*value = pfn;
		return ret;
	}
	return -SIM_EINVAL;
}
