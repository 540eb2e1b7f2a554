// SPDX-License-Identifier: MIT
/*
 * The heap side of the executor (see machine_heap.h). The heap's page
 * source is the allocator under test, reached through its adapter, so the
 * pages a heap holds are allocations the allocator oracles see like any
 * other, and the heap oracles learn what the heap holds at that boundary.
 */
#include "machine_heap.h"

#include <stdlib.h>
#include <string.h>

#include <hvmm/platform.h>

#include "machine.h"

#define STAMP_MAGIC 0x68656170ULL	/* "heap" */

static bool oracles_on(const struct sim_heapstate *hs)
{
	return sim_machine_config(hs->m)->oracles != SIM_ORACLES_OFF;
}

/* --- the page source ------------------------------------------------------------ */

static void *source_alloc_pages(void *arg, u8 order)
{
	struct sim_heapstate *hs = arg;
	struct sim_machine *m = hs->m;
	struct sim_allocator *a = sim_machine_allocator(m);
	struct sim_alloc_shadow *as = sim_machine_shadow(m);
	uint64_t pfn, nr = 1ULL << order;
	void *va;

	hs->asked++;
	if (a->ops->alloc(a, order, &pfn))
		return NULL;
	sim_alloc_shadow_move(as, sim_machine_report(m), SIM_ORACLE_ALLOC_CONSERVE,
			      "the allocator handed the heap pages that are not free",
			      pfn, nr, SIM_SHADOW_FREE, SIM_SHADOW_ALLOCATED);
	/* The heap writes anywhere in them through one pointer. */
	sim_physmem_mark_dirty(sim_machine_physmem(m), pfn, nr);
	va = hvmm_phys_to_virt(hvmm_pfn_to_phys(pfn));
	sim_heap_shadow_hold(&hs->shadow, (uintptr_t)va, pfn, nr);
	sim_machine_account_pages(m, (int64_t)nr);
	if (oracles_on(hs) && a->ops->check_touched)
		a->ops->check_touched(a, as, sim_machine_report(m), pfn, nr);
	return va;
}

static void source_free_pages(void *arg, void *va, u8 order)
{
	struct sim_heapstate *hs = arg;
	struct sim_machine *m = hs->m;
	struct sim_allocator *a = sim_machine_allocator(m);
	struct sim_alloc_shadow *as = sim_machine_shadow(m);
	uint64_t pfn = hvmm_phys_to_pfn(hvmm_virt_to_phys(va)), held = 0;
	int ret;

	if (!sim_heap_shadow_release(&hs->shadow, (uintptr_t)va, &held) || held != 1ULL << order) {
		sim_report_violation(sim_machine_report(m), SIM_ORACLE_HEAP_CONSERVE,
			"the heap gave back pfn 0x%llx (order %u), which is not a block it took "
			"from the page allocator", (unsigned long long)pfn, order);
		return;		/* not handed on: the allocator's own state stays sound */
	}
	ret = a->ops->put ? a->ops->put(a, pfn) : a->ops->free(a, pfn, held);
	if (ret) {
		sim_report_violation(sim_machine_report(m), SIM_ORACLE_ALLOC_CONSERVE,
			"the allocator refused pfn 0x%llx+%llu back from the heap: %s",
			(unsigned long long)pfn, (unsigned long long)held, sim_result_name(ret));
		return;
	}
	sim_alloc_shadow_move(as, sim_machine_report(m), SIM_ORACLE_ALLOC_CONSERVE,
			      "the heap gave back pages the shadow does not hold as allocated",
			      pfn, held, SIM_SHADOW_ALLOCATED, SIM_SHADOW_FREE);
	sim_machine_account_pages(m, -(int64_t)held);
	if (oracles_on(hs) && a->ops->check_touched)
		a->ops->check_touched(a, as, sim_machine_report(m), pfn, held);
}

static const struct hvmm_heap_page_ops source_ops = {
	.alloc_pages = source_alloc_pages,
	.free_pages = source_free_pages,
};

/* --- set-up ------------------------------------------------------------------------ */

int sim_heap_setup(struct sim_heapstate *hs, struct sim_machine *m)
{
	hs->m = m;
	hs->asked = 0;
	sim_heap_shadow_reset(&hs->shadow, HVMM_PAGE_SIZE << SIM_HEAP_CHUNK_PAGE_ORDER,
			      SIM_HEAP_MAX_CHUNKS);
	return hvmm_heap_init(&hs->heap, &source_ops, hs, SIM_HEAP_CHUNK_PAGE_ORDER,
			      SIM_HEAP_MAX_CHUNKS);
}

void sim_heap_teardown(struct sim_heapstate *hs)
{
	hs->broken = false;
	if (hs->handles)
		memset(hs->handles, 0, (size_t)hs->nr_handles * sizeof(*hs->handles));
	sim_heap_shadow_reset(&hs->shadow, hs->shadow.chunk_bytes, hs->shadow.max_chunks);
}

void sim_heap_destroy(struct sim_heapstate *hs)
{
	if (!hs)
		return;
	free(hs->handles);
	sim_heap_shadow_fini(&hs->shadow);
	free(hs);
}

/* --- handles -------------------------------------------------------------------------- */

static struct sim_heap_handle *handle_slot(struct sim_heapstate *hs, uint32_t h)
{
	if (h >= SIM_MAX_HANDLE)
		return NULL;
	if (h >= hs->nr_handles) {
		uint32_t cap = hs->nr_handles ? hs->nr_handles : 256;
		struct sim_heap_handle *n;

		while (cap <= h)
			cap *= 2;
		n = realloc(hs->handles, (size_t)cap * sizeof(*n));
		if (!n)
			return NULL;
		memset(n + hs->nr_handles, 0, (size_t)(cap - hs->nr_handles) * sizeof(*n));
		hs->handles = n;
		hs->nr_handles = cap;
	}
	return &hs->handles[h];
}

static struct sim_heap_handle *live_handle(struct sim_heapstate *hs, uint32_t h)
{
	return h < hs->nr_handles && hs->handles[h].live ? &hs->handles[h] : NULL;
}

/* --- ops ---------------------------------------------------------------------------------- */

/* The user writes into what it got: a stamp at each end, which a heap that still lists the block would trip over. */
static void stamp(struct sim_heapstate *hs, uint32_t h, uintptr_t addr, uint64_t bytes)
{
	struct sim_physmem *pm = sim_machine_physmem(hs->m);
	uint64_t *first = (uint64_t *)addr, *last = (uint64_t *)(addr + bytes) - 1;

	*first = STAMP_MAGIC << 32 | h;
	*last = STAMP_MAGIC << 32 | h;
	sim_physmem_mark_dirty(pm, hvmm_phys_to_pfn(hvmm_virt_to_phys(first)), 1);
	sim_physmem_mark_dirty(pm, hvmm_phys_to_pfn(hvmm_virt_to_phys(last)), 1);
}

static int op_halloc(struct sim_heapstate *hs, const struct sim_op *op, uint64_t *value)
{
	struct sim_report *r = sim_machine_report(hs->m);
	uint64_t bytes = sim_heap_block_bytes(&hs->shadow, op->a, op->b);
	struct sim_heap_handle *hd;
	struct sim_heap_live other;
	uintptr_t addr;

	if (live_handle(hs, op->h))
		return -HVMM_EEXIST;
	hd = handle_slot(hs, op->h);
	if (!hd)
		return op->h >= SIM_MAX_HANDLE ? -HVMM_EINVAL : -HVMM_ENOMEM;
	hs->asked = 0;
	addr = (uintptr_t)hvmm_heap_alloc(&hs->heap, op->a, op->b);
	if (!addr) {
		if (!bytes)
			return -HVMM_EINVAL;
		if (oracles_on(hs))
			sim_heap_check_avail(&hs->heap, &hs->shadow, r, bytes, hs->asked);
		return -HVMM_ENOMEM;
	}
	if (!bytes) {
		sim_report_violation(r, SIM_ORACLE_HEAP_STRUCT,
			"halloc of size %llu align %llu must be refused, but returned %#llx",
			(unsigned long long)op->a, (unsigned long long)op->b, sim_heap_pa(addr));
		bytes = HVMM_HEAP_MIN_SIZE;
	}
	if (!sim_heap_shadow_add(&hs->shadow, addr, bytes, op->h, &other)) {
		sim_report_violation(r, SIM_ORACLE_HEAP_CONSERVE,
			"halloc returned %#llx+%llu, overlapping live allocation h%u at %#llx+%llu",
			sim_heap_pa(addr), (unsigned long long)bytes, other.h,
			sim_heap_pa(other.addr), (unsigned long long)other.bytes);
		return 0;	/* not made live: the shadow keeps the first owner */
	}
	*hd = (struct sim_heap_handle){ .addr = addr, .size = op->a, .align = op->b, .live = 1 };
	if (oracles_on(hs))
		sim_heap_check_alloc(&hs->heap, &hs->shadow, r, addr, bytes, op->b);
	stamp(hs, op->h, addr, bytes);
	if (value)
		*value = bytes;
	return 0;
}

/*
 * HEAP-STRUCT: a free that does not name the block as it was allocated
 * is refused (hvmm/heap.h): the block's address with a size of another
 * block order (-EINVAL: half the block, and twice it), or an address
 * inside the block (-ENOENT). Tried on the live block of @hd, of @bytes,
 * before it is freed; false if the heap took one (a refusal with another
 * error is left to the free that follows, which must then succeed).
 */
static bool misfrees_refused(struct sim_heapstate *hs, const struct sim_heap_handle *hd,
			     uint64_t bytes)
{
	struct {
		uint64_t off, size;
		int want;
	} probe[3] = {
		{ 0, bytes / 2, -HVMM_EINVAL },
		{ 0, bytes * 2, -HVMM_EINVAL },
		{ bytes / 2, bytes / 2, -HVMM_ENOENT },
	};
	int ret;

	for (unsigned int i = 0; i < 3; i++) {
		/* Half a minimum block is the same order as a whole one, and has no inside. */
		if (bytes <= HVMM_HEAP_MIN_SIZE && i != 1)
			continue;
		ret = hvmm_heap_free(&hs->heap, (void *)(hd->addr + probe[i].off), probe[i].size, 0);
		if (ret)
			continue;
		sim_report_violation(sim_machine_report(hs->m), SIM_ORACLE_HEAP_STRUCT,
			"hfree of %#llx, size %llu, inside live allocation %#llx of a %llu-byte "
			"block: accepted, expected %s", sim_heap_pa(hd->addr + probe[i].off),
			(unsigned long long)probe[i].size, sim_heap_pa(hd->addr),
			(unsigned long long)bytes, sim_result_name(probe[i].want));
		return false;
	}
	return true;
}

static int op_hfree(struct sim_heapstate *hs, const struct sim_op *op)
{
	struct sim_heap_handle *hd = live_handle(hs, op->h);
	struct sim_report *r = sim_machine_report(hs->m);
	uint64_t bytes;
	int ret;

	if (!hd)
		return -HVMM_ENOENT;
	bytes = sim_heap_block_bytes(&hs->shadow, hd->size, hd->align);
	if (oracles_on(hs) && bytes && !misfrees_refused(hs, hd, bytes))
		return -HVMM_EFAULT;
	ret = hvmm_heap_free(&hs->heap, (void *)hd->addr, hd->size, hd->align);
	if (ret) {
		sim_report_violation(r, SIM_ORACLE_HEAP_CONSERVE,
			"hfree of live allocation %#llx (size %llu align %llu) refused: %s",
			sim_heap_pa(hd->addr), (unsigned long long)hd->size,
			(unsigned long long)hd->align, sim_result_name(ret));
		return ret;
	}
	sim_heap_shadow_remove(&hs->shadow, hd->addr);
	hd->live = 0;
	if (oracles_on(hs) && bytes)
		sim_heap_check_free(&hs->heap, &hs->shadow, r, hd->addr, bytes);
	return 0;
}

static uint64_t structural_violations(struct sim_heapstate *hs)
{
	const struct sim_report *r = sim_machine_report(hs->m);

	return r->by_oracle[SIM_ORACLE_HEAP_STRUCT] + r->by_oracle[SIM_ORACLE_HEAP_CONSERVE];
}

static int exec_op(struct sim_heapstate *hs, const struct sim_op *op, uint64_t *value)
{
	uint64_t pages;

	switch (op->kind) {
	case SIM_OP_HALLOC:
		return op_halloc(hs, op, value);
	case SIM_OP_HFREE:
		return op_hfree(hs, op);
	case SIM_OP_HRECLAIM:
		pages = hvmm_heap_reclaim(&hs->heap);
		if (oracles_on(hs))
			sim_heap_check_reclaimed(&hs->heap, &hs->shadow, sim_machine_report(hs->m));
		if (value)
			*value = pages;
		return 0;
	default:
		return -HVMM_EINVAL;
	}
}

int sim_heap_exec(struct sim_heapstate *hs, const struct sim_op *op, uint64_t *value)
{
	uint64_t before = structural_violations(hs);
	int ret;

	if (hs->broken)
		return -HVMM_EFAULT;
	ret = exec_op(hs, op, value);
	hs->broken = structural_violations(hs) != before;
	return ret;
}

void sim_heap_check_all(struct sim_heapstate *hs)
{
	uint64_t before = structural_violations(hs);

	if (hs->broken)
		return;
	sim_heap_check_full(&hs->heap, &hs->shadow, sim_machine_report(hs->m));
	hs->broken = structural_violations(hs) != before;
}
