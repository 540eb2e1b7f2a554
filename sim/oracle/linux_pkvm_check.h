/* SPDX-License-Identifier: MIT */
/*
 * ALLOC-STRUCT and ALLOC-CONSERVE for the Linux kernel's pKVM hyp_pool
 * (arch/arm64/kvm/hyp/nvhe/page_alloc.c, hosted unchanged): the CN
 * Hyp_pool invariant, which was stated about exactly this code.
 *
 * The oracle reads the pool and its vmemmap through the layout below,
 * written here from the kernel's documented structures (nvhe/gfp.h and
 * nvhe/memory.h in 6.1) and not from its headers: the kernel's side of the
 * simulator (sim/linux/pkvm_glue.c) checks at compile time that the
 * kernel's structures have exactly this layout, so a kernel whose layout
 * moved fails to build instead of being misjudged.
 */
#ifndef SIM_ORACLE_LINUX_PKVM_CHECK_H
#define SIM_ORACLE_LINUX_PKVM_CHECK_H

#include "oracle/mm_layout.h"

#include "alloc/allocator.h"
#include "oracle/buddy_check.h"

/* struct hyp_page: 4 bytes; a tail (or a page inside a block) has order 0xffff. */
struct lkp_page {
	uint16_t refcount;
	uint16_t order;
};
#define LKP_NO_ORDER	0xffffu
/* MAX_ORDER for 4 KiB pages: free lists 0..10, blocks up to 4 MiB. */
#define LKP_MAX_ORDER	11
#define LKP_PAGE_SHIFT	12
#define LKP_PAGE_SIZE	(1ULL << LKP_PAGE_SHIFT)

/* struct list_head, living in the first bytes of each free block. */
struct lkp_list {
	struct lkp_list *next, *prev;
};
_Static_assert(sizeof(struct lkp_list) == sizeof(struct sim_buddy_node), "list_head is two pointers");

/*
 * struct hyp_pool, with the hyp spinlock replaced by hvmm's
 * (sim/linux/include/nvhe/spinlock.h), whose size the layout unit vouches for.
 */
struct lkp_pool {
	sim_mm_spinlock_t lock;
	struct lkp_list free_area[LKP_MAX_ORDER];
	uint64_t range_start, range_end;	/* physical addresses */
	uint16_t max_order;			/* free lists in use: 0..max_order-1 */
};

/* The adapter's state (a->priv), as the oracle finds it. */
struct lkp_state {
	struct lkp_pool *pool;
	struct lkp_page *vmemmap;	/* entry of the pool's first PFN */
	uint64_t vmemmap_entries;	/* capacity of the mapping */
	int64_t physvirt_offset;	/* hyp VA = PA - offset */
};

/*
 * The number of free lists the kernel's pool should use for @nr_pages, by
 * the rule the kernel documents (order of nr_pages + 1 pages, capped at
 * MAX_ORDER), computed in 64 bits.
 */
unsigned int sim_lkp_expected_lists(uint64_t nr_pages);

void sim_lkp_check_touched(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			   struct sim_report *r, uint64_t pfn, uint64_t nr);
void sim_lkp_check_full(struct sim_allocator *a, const struct sim_alloc_shadow *shadow,
			struct sim_report *r);

#endif /* SIM_ORACLE_LINUX_PKVM_CHECK_H */
