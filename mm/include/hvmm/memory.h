/* SPDX-License-Identifier: MIT */
/*
 * Per-page metadata (the vmemmap), indexed by PFN as in pKVM.
 *
 * The host hands mm/ one array of struct hvmm_page covering every PFN in
 * [vmemmap_start_pfn, vmemmap_end_pfn). Each field has one owner:
 *  - refcount and order belong to the buddy pool the page is in, under
 *    that pool's lock;
 *  - host_state, owner, share_count and type belong to the ownership code
 *    (mem_protect), under the host stage-2 lock;
 *  - map_count is the Anaxagoros mapping counter, changed only with atomics.
 */
#ifndef HVMM_MEMORY_H
#define HVMM_MEMORY_H

#include <stdatomic.h>
#include <hvmm/bug.h>
#include <hvmm/types.h>

/*
 * Page types (Anaxagoros typing): what a page may be used as. A page
 * changes type only when no stage-2 leaf maps it (map_count 0), and is
 * scrubbed as it changes (hvmm_page_retype).
 */
enum hvmm_page_type {
	HVMM_PAGE_DATA = 0,	/* memory a host or guest may map */
	HVMM_PAGE_PGTABLE,	/* a stage-2 table page */
	HVMM_PAGE_HYP,		/* hypervisor-private: pools, donated to the hypervisor */
};

/* Largest map_count: the counter saturates rather than wraps. */
#define HVMM_MAP_COUNT_MAX	0x7fffffffu

struct hvmm_page {
	u16 refcount;		/* buddy references; 0 while free */
	u8 order_plus1;		/* block head: its order + 1; 0: a tail (see below) */
	u8 type;		/* enum hvmm_page_type (mem_protect) */
	u8 host_state;		/* enum hvmm_page_state as the host sees it */
	u8 flags;		/* reserved for mem_protect */
	u16 owner;		/* owner id (mem_protect) */
	u32 share_count;	/* guests this host page is shared with */
	_Atomic u32 map_count;	/* stage-2 leaves pointing here */
};

/*
 * A page heads a buddy block when order_plus1 is non-zero; 0 marks a tail,
 * or a page no pool has claimed. Zeroed metadata is therefore all tails,
 * and a pool set up on it writes only the heads of its free blocks (a
 * terabyte pool costs a few pages of vmemmap, not one entry per page).
 */
static inline bool hvmm_page_is_head(const struct hvmm_page *p)
{
	return p->order_plus1 != 0;
}

/* The order of the block @p heads; only meaningful if hvmm_page_is_head(). */
static inline u8 hvmm_page_order(const struct hvmm_page *p)
{
	return (u8)(p->order_plus1 - 1);
}

static inline void hvmm_page_set_order(struct hvmm_page *p, u8 order)
{
	p->order_plus1 = (u8)(order + 1);
}

static inline void hvmm_page_set_tail(struct hvmm_page *p)
{
	p->order_plus1 = 0;
}

extern struct hvmm_page *hvmm_vmemmap;
extern u64 hvmm_vmemmap_start_pfn;
extern u64 hvmm_vmemmap_end_pfn;

/*
 * Installs the vmemmap: @vmemmap must point at zeroed metadata for PFNs
 * [start_pfn, end_pfn), as mapped by the host.
 */
void hvmm_memory_init(struct hvmm_page *vmemmap, u64 start_pfn, u64 end_pfn);

static inline bool hvmm_pfn_valid(u64 pfn)
{
	return pfn >= hvmm_vmemmap_start_pfn && pfn < hvmm_vmemmap_end_pfn;
}

static inline bool hvmm_phys_valid(phys_addr_t pa)
{
	return hvmm_pfn_valid(hvmm_phys_to_pfn(pa));
}

static inline struct hvmm_page *hvmm_pfn_to_page(u64 pfn)
{
	HVMM_BUG_ON(!hvmm_pfn_valid(pfn));
	return &hvmm_vmemmap[pfn - hvmm_vmemmap_start_pfn];
}

static inline struct hvmm_page *hvmm_phys_to_page(phys_addr_t pa)
{
	return hvmm_pfn_to_page(hvmm_phys_to_pfn(pa));
}

static inline u64 hvmm_page_to_pfn(const struct hvmm_page *page)
{
	return (u64)(page - hvmm_vmemmap) + hvmm_vmemmap_start_pfn;
}

static inline phys_addr_t hvmm_page_to_phys(const struct hvmm_page *page)
{
	return hvmm_pfn_to_phys(hvmm_page_to_pfn(page));
}

static inline void *hvmm_page_to_virt(const struct hvmm_page *page)
{
	return hvmm_phys_to_virt(hvmm_page_to_phys(page));
}

static inline struct hvmm_page *hvmm_virt_to_page(const void *va)
{
	return hvmm_phys_to_page(hvmm_virt_to_phys(va));
}

/*
 * Anaxagoros mapping counters. A new leaf's pages are counted with
 * hvmm_page_map_get() before the leaf is written, and the old leaf's pages
 * uncounted with hvmm_page_map_put() after it is gone, so map_count never
 * underestimates the references. map_get fails (false) on a page that is
 * not of type DATA or whose counter is saturated.
 */
bool hvmm_page_map_get(struct hvmm_page *page);
void hvmm_page_map_put(struct hvmm_page *page);

/*
 * Scrubs the page and changes its type; BUG if it is still mapped. The
 * caller owns the page (host stage-2 lock, or the page is its own).
 */
void hvmm_page_retype(struct hvmm_page *page, enum hvmm_page_type type);

#endif /* HVMM_MEMORY_H */
