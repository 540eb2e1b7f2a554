// SPDX-License-Identifier: MIT
/*
 * The vmemmap: per-page metadata indexed by PFN, handed to mm/ by the host.
 */
#include <hvmm/memory.h>
#include <hvmm/string.h>

struct hvmm_page *hvmm_vmemmap;
u64 hvmm_vmemmap_start_pfn;
u64 hvmm_vmemmap_end_pfn;

void hvmm_memory_init(struct hvmm_page *vmemmap, u64 start_pfn, u64 end_pfn)
{
	HVMM_BUG_ON(!vmemmap || end_pfn < start_pfn);
	hvmm_vmemmap = vmemmap;
	hvmm_vmemmap_start_pfn = start_pfn;
	hvmm_vmemmap_end_pfn = end_pfn;
}

bool hvmm_page_map_get(struct hvmm_page *page)
{
	u32 count = atomic_load_explicit(&page->map_count, memory_order_relaxed);

	do {
		if (page->type != HVMM_PAGE_DATA || count >= HVMM_MAP_COUNT_MAX)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&page->map_count, &count, count + 1,
						       memory_order_acquire,
						       memory_order_relaxed));
	return true;
}

void hvmm_page_map_put(struct hvmm_page *page)
{
	u32 old = atomic_fetch_sub_explicit(&page->map_count, 1, memory_order_release);

	HVMM_BUG_ON(old == 0);
}

void hvmm_page_retype(struct hvmm_page *page, enum hvmm_page_type type)
{
	HVMM_BUG_ON(atomic_load_explicit(&page->map_count, memory_order_acquire));
	hvmm_zero_pages(hvmm_page_to_virt(page), 1);
	page->type = (u8)type;
}
