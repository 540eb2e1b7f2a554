// SPDX-License-Identifier: MIT
/*
 * The vmemmap: per-page metadata indexed by PFN, handed to mm/ by the host.
 */
#include <hvmm/memory.h>

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
