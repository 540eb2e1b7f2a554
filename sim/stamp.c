// SPDX-License-Identifier: MIT
#include "stamp.h"

#define STAMP_MAGIC 0x68766d6d00000000ULL	/* "hvmm" */
/* The first stamp's byte offset: past the 16 bytes a free-list node may take at the start. */
#define STAMP_FIRST 16

/* The stamp words of the order-@order block at @pfn: past the list node, and the last word. */
static uint64_t *stamp_slots(struct sim_physmem *pm, uint64_t pfn, unsigned int order,
			     uint64_t **last)
{
	uint8_t *first = sim_physmem_pa_to_host(pm, pfn << SIM_PAGE_SHIFT);
	uint64_t bytes = SIM_PAGE_SIZE << order;

	*last = (uint64_t *)(first + bytes) - 1;
	return (uint64_t *)(first + STAMP_FIRST);
}

void sim_stamp_block(struct sim_physmem *pm, struct sim_report *r, bool check, uint32_t h,
		     uint64_t pfn, unsigned int order)
{
	uint64_t *last, *first = stamp_slots(pm, pfn, order, &last);

	if (check) {
		const uint64_t *head = sim_physmem_pa_to_host(pm, pfn << SIM_PAGE_SHIFT);
		/*
		 * The words a previous owner could most likely have left behind:
		 * the stamps, and a stale list node in the block's first 16 bytes
		 * (where the kernel's allocator keeps it, and mm/'s buddy for an
		 * odd order) or its last 16 (mm/'s buddy, an even order).
		 */
		const uint64_t *words[] = { &head[0], &head[1], first, last - 1, last };

		for (unsigned int i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			if (!*words[i])
				continue;
			sim_report_violation(r, SIM_ORACLE_ALLOC_STRUCT,
				"alloc returned pfn 0x%llx (order %u) holding 0x%llx at byte offset 0x%llx: "
				"allocations must be zeroed",
				(unsigned long long)pfn, order, (unsigned long long)*words[i],
				(unsigned long long)((const uint8_t *)words[i] - (const uint8_t *)head));
			break;
		}
	}
	*first = STAMP_MAGIC | h;
	*last = STAMP_MAGIC | h;
	/*
	 * The stamps are all the executor writes: the pages between stay
	 * zero, and of the first and last pages all but the stamps' lines.
	 */
	_Static_assert(STAMP_FIRST < SIM_PHYSMEM_LINE, "the first stamp is in its page's first line");
	sim_physmem_mark_lines(pm, pfn, pfn + (1ULL << order) - 1);
}
