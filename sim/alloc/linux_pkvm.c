// SPDX-License-Identifier: MIT
/*
 * Adapter for the Linux kernel's pKVM page allocator
 * (arch/arm64/kvm/hyp/nvhe/page_alloc.c, built unchanged from the kernel
 * source the build was configured with; sim/linux/).
 *
 * The kernel's pool keeps its struct hyp_page array (4 bytes a page) in
 * its own vmemmap, apart from mm/'s: the adapter maps one for the pool's
 * range. Its linear map is one offset, so the pool must lie in one RAM
 * region, which the executor guarantees.
 */
#include <stdio.h>
#include <sys/mman.h>

#include <hvmm/types.h>

#include "alloc/allocator.h"
#include "linux/pkvm_glue.h"
#include "oracle/linux_pkvm_check.h"
#include "recycle.h"

/*
 * hyp_pool_init() computes (nr_pages + 1) << PAGE_SHIFT in 32 bits: from
 * 2^20 - 1 pages (4 GiB) on, the pool's max_order comes out wrong (0 at
 * exactly 2^20 pages: no allocation ever succeeds). docs/linux.md.
 */
#define LKP_MAX_POOL_PAGES	((1ULL << 20) - 2)

static struct lkp_state *state_of(struct sim_allocator *a)
{
	return a->priv;
}

/* Points the kernel's globals at this pool: cheap, so done before every call. */
static void install(struct sim_allocator *a)
{
	struct lkp_state *s = state_of(a);

	sim_lkp_install(s->vmemmap, a->base_pfn, s->physvirt_offset);
}

static void *pfn_to_va(struct sim_allocator *a, uint64_t pfn)
{
	return (void *)(uintptr_t)((pfn << HVMM_PAGE_SHIFT) - (uint64_t)state_of(a)->physvirt_offset);
}

static uint64_t va_to_pfn(struct sim_allocator *a, const void *va)
{
	return ((uint64_t)(uintptr_t)va + (uint64_t)state_of(a)->physvirt_offset) >> HVMM_PAGE_SHIFT;
}

/* The vmemmap: NORESERVE, so a large pool costs only the entries written. */
static struct lkp_page *map_vmemmap(uint64_t entries)
{
	void *p = mmap(NULL, entries * sizeof(struct lkp_page), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void lkp_fini(struct sim_allocator *a);

static int lkp_init(struct sim_allocator *a, const struct sim_alloc_config *cfg,
		    struct sim_alloc_shadow *shadow, char *err, size_t errlen)
{
	struct lkp_state *s = sim_recycle_get(sizeof(*s));
	uint64_t pa = cfg->base_pfn << HVMM_PAGE_SHIFT;
	uint8_t *host = sim_physmem_pa_to_host(a->pm, pa);
	int ret;

	a->priv = s;
	if (cfg->nr_pages > LKP_MAX_POOL_PAGES || !cfg->nr_pages) {
		snprintf(err, errlen,
			 "linux-pkvm: a pool of %llu pages is outside what hyp_pool_init() computes right "
			 "(1..%llu pages; see docs/linux.md)",
			 (unsigned long long)cfg->nr_pages, LKP_MAX_POOL_PAGES);
		goto fail;
	}
	if (!host) {
		snprintf(err, errlen, "linux-pkvm: pool at 0x%llx is not backed memory",
			 (unsigned long long)pa);
		goto fail;
	}
	s->pool = sim_recycle_get(sim_lkp_pool_bytes());
	s->vmemmap_entries = cfg->nr_pages;
	s->vmemmap = map_vmemmap(cfg->nr_pages);
	if (!s->vmemmap) {
		snprintf(err, errlen, "linux-pkvm: cannot map a vmemmap of %llu pages",
			 (unsigned long long)cfg->nr_pages);
		goto fail;
	}
	s->physvirt_offset = (int64_t)(pa - (uint64_t)(uintptr_t)host);
	install(a);
	/*
	 * Like mm/'s pool, on freshly mapped (zero) RAM. The kernel's init
	 * zeroes every page it frees into the pool, so it touches the whole
	 * pool once.
	 */
	ret = sim_lkp_pool_init(s->pool, cfg->base_pfn, (unsigned int)cfg->nr_pages,
				(unsigned int)cfg->reserved_pages);
	if (ret) {
		snprintf(err, errlen, "linux-pkvm: hyp_pool_init(pfn 0x%llx, %llu pages, %llu reserved) failed: %d",
			 (unsigned long long)cfg->base_pfn, (unsigned long long)cfg->nr_pages,
			 (unsigned long long)cfg->reserved_pages, ret);
		goto fail;
	}
	a->max_order = sim_lkp_expected_lists(cfg->nr_pages) - 1;
	sim_alloc_shadow_set(shadow, cfg->base_pfn, cfg->reserved_pages, SIM_SHADOW_RESERVED);
	sim_alloc_shadow_set_initial_free(shadow, cfg->base_pfn + cfg->reserved_pages,
					  cfg->nr_pages - cfg->reserved_pages);
	return 0;
fail:
	lkp_fini(a);
	return -1;
}

/*
 * The kernel writes free-list nodes into free pages through its own
 * linear map, which marks nothing dirty: before a reset scrubs memory,
 * mark the head page of every free block (where nodes live).
 */
static void mark_free_heads_dirty(struct sim_allocator *a)
{
	struct lkp_state *s = state_of(a);

	for (uint64_t i = 0; i < a->nr_pages; i++)
		if (s->vmemmap[i].order != LKP_NO_ORDER && !s->vmemmap[i].refcount)
			sim_physmem_mark_dirty(a->pm, a->base_pfn + i, 1);
}

static void lkp_fini(struct sim_allocator *a)
{
	struct lkp_state *s = state_of(a);

	if (!s)
		return;
	if (s->vmemmap) {
		mark_free_heads_dirty(a);
		munmap(s->vmemmap, s->vmemmap_entries * sizeof(struct lkp_page));
	}
	sim_recycle_put(s->pool, sim_lkp_pool_bytes());
	sim_recycle_put(s, sizeof(*s));
	a->priv = NULL;
}

static int lkp_alloc(struct sim_allocator *a, unsigned int order, uint64_t *pfn)
{
	void *va;

	if (order > 0xffff)
		return -HVMM_EINVAL;
	install(a);
	va = sim_lkp_alloc_pages(state_of(a)->pool, (unsigned short)order);
	if (!va)
		return -HVMM_ENOMEM;
	*pfn = va_to_pfn(a, va);
	return 0;
}

static int lkp_get(struct sim_allocator *a, uint64_t pfn)
{
	install(a);
	sim_lkp_get_page(state_of(a)->pool, pfn_to_va(a, pfn));
	return 0;
}

static int lkp_put(struct sim_allocator *a, uint64_t pfn)
{
	install(a);
	sim_lkp_put_page(state_of(a)->pool, pfn_to_va(a, pfn));
	return 0;
}

static int lkp_free(struct sim_allocator *a, uint64_t pfn, uint64_t pages)
{
	return lkp_put(a, pfn);
}

static int lkp_split(struct sim_allocator *a, uint64_t pfn, unsigned int order)
{
	install(a);
	sim_lkp_split_page(state_of(a)->pool, pfn_to_va(a, pfn));
	return 0;
}

const struct sim_allocator_ops sim_linux_pkvm_allocator = {
	.name = "linux-pkvm",
	.description = "the Linux kernel's pKVM buddy allocator (arch/arm64/kvm/hyp/nvhe/page_alloc.c, unchanged)",
	.init = lkp_init,
	.fini = lkp_fini,
	.alloc = lkp_alloc,
	.free = lkp_free,
	.get = lkp_get,
	.put = lkp_put,
	.split = lkp_split,
	.check_touched = sim_lkp_check_touched,
	.check_full = sim_lkp_check_full,
};
