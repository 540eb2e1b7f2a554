/* SPDX-License-Identifier: MIT */
/*
 * Stage-2 page tables, Armv8-A VMSAv8-64, 4 KiB granule.
 *
 * A table translates an input (intermediate physical) address space of
 * ia_bits bits starting at start_level; when start_level cannot index all
 * of the address space, up to 16 root tables are concatenated, as the
 * architecture allows (VTCR_EL2.SL0 / T0SZ). Leaves are 4 KiB pages at
 * level 3 and 2 MiB / 1 GiB blocks at levels 2 / 1, used whenever input
 * address, output address and size allow.
 *
 * Every table page, root pages included, is an order-0 page of @pool
 * whose buddy refcount is 1 + the number of non-zero entries it holds
 * (valid, or invalid with an annotation). A non-root table left with no
 * entries is unlinked, its range invalidated in the TLB, then freed.
 * Valid entries are replaced with break-before-make: invalid, TLB
 * invalidation, then the new entry.
 *
 * With HVMM_PGT_GUEST (guest tables), every page a valid leaf points at
 * has its map_count raised before the leaf is written and lowered after
 * the leaf is gone (Anaxagoros mapping counters); such pages must be
 * typed HVMM_PAGE_DATA. Guest tables may also hold parked leaves: a leaf
 * made invalid with all its other bits kept, so the page it names is
 * still known (the guest owns it) and can be mapped again on a fault.
 * Host tables instead hold owner annotations in invalid entries.
 *
 * Locking: none taken inside; the owner of the table (host stage-2 lock,
 * VM lock) serialises every call on one table. The table knows that lock
 * and every call asserts it is held, so a caller that forgot it is caught
 * on its first call, even with one CPU running.
 */
#ifndef HVMM_PGTABLE_H
#define HVMM_PGTABLE_H

#include <hvmm/page_cache.h>
#include <hvmm/pgtable-arm64.h>
#include <hvmm/spinlock.h>

/* Access rights and memory type of a mapping. */
#define HVMM_PROT_R		0x1u
#define HVMM_PROT_W		0x2u
#define HVMM_PROT_X		0x4u
#define HVMM_PROT_DEVICE	0x8u	/* Device-nGnRE instead of Normal WB */
#define HVMM_PROT_RWX		(HVMM_PROT_R | HVMM_PROT_W | HVMM_PROT_X)

#define HVMM_PGT_GUEST		0x1u	/* map counts and parked leaves */

struct hvmm_pgtable {
	u64 *pgd;		/* root table(s), nr_roots concatenated pages */
	phys_addr_t pgd_pa;
	u32 ia_bits;
	u32 start_level;
	u32 nr_roots;
	u32 flags;		/* HVMM_PGT_* */
	u16 vmid;		/* TLB maintenance tag */
	/* Held around every call on the table; NULL: one user, no lock needed. */
	hvmm_spinlock_t *lock;
	struct hvmm_page_cache cache;
};

/* The start level with the fewest levels for @ia_bits (KVM's choice); -1 if none. */
int hvmm_pgtable_default_start_level(u32 ia_bits);
/* Number of concatenated root tables, or 0 if the combination is not architectural. */
u32 hvmm_pgtable_nr_roots(u32 ia_bits, u32 start_level);

/*
 * Allocates the root table(s) from @pool. @lock is the lock the table's
 * owner holds around every later call (asserted by each), or NULL for a
 * table that only ever has one user (tests, a private table). Init itself
 * needs no lock: nobody else can see the table yet. -HVMM_EINVAL / -HVMM_ENOMEM.
 */
int hvmm_pgtable_init(struct hvmm_pgtable *pgt, struct hvmm_pool *pool, u32 ia_bits,
		      u32 start_level, u16 vmid, u32 flags, hvmm_spinlock_t *lock);

/*
 * Leaf attributes for @prot with software page state @sw (0..15). Mappings
 * always have the access flag set: mm/ does not use hardware AF updates.
 */
u64 hvmm_pgtable_leaf_attrs(u32 prot, u32 sw);

/*
 * Maps [ipa, ipa + size) to [pa, pa + size) with leaf attributes @attrs.
 * The range must be empty (no valid or annotated entry): -HVMM_EEXIST
 * otherwise, with nothing changed. -HVMM_EINVAL on misalignment or
 * overflow, -HVMM_ERANGE beyond ia_bits, -HVMM_ENOMEM if no table pages.
 */
int hvmm_pgtable_map(struct hvmm_pgtable *pgt, u64 ipa, u64 size, phys_addr_t pa, u64 attrs);

/* Clears every entry in the range (valid or annotated); empty tables are freed. */
int hvmm_pgtable_unmap(struct hvmm_pgtable *pgt, u64 ipa, u64 size);

/*
 * Replaces every entry of the range by the invalid descriptor @annotation
 * (0 = plain unmap), splitting blocks at the edges.
 */
int hvmm_pgtable_set_invalid(struct hvmm_pgtable *pgt, u64 ipa, u64 size, u64 annotation);

/*
 * Clears every entry of the range that holds exactly the invalid
 * descriptor @annotation (non-zero), whole: an entry that reaches beyond
 * the range is cleared too, never split. So it needs no table page and
 * cannot fail on a valid range; use it only where everything @annotation
 * marks beyond the range goes away as well (a dead VM's pages).
 */
int hvmm_pgtable_clear_annotation(struct hvmm_pgtable *pgt, u64 ipa, u64 size, u64 annotation);

/*
 * Replaces the attributes of every valid leaf in the range by @attrs,
 * keeping output addresses; blocks are split at the edges. Empty entries
 * are left alone.
 */
int hvmm_pgtable_protect(struct hvmm_pgtable *pgt, u64 ipa, u64 size, u64 attrs);

/* Replaces the software bits (page state) of every valid leaf in the range. */
int hvmm_pgtable_set_sw(struct hvmm_pgtable *pgt, u64 ipa, u64 size, u32 sw);

/* Guest tables: valid leaves in the range become parked, and back. */
int hvmm_pgtable_park(struct hvmm_pgtable *pgt, u64 ipa, u64 size);
int hvmm_pgtable_unpark(struct hvmm_pgtable *pgt, u64 ipa, u64 size, u64 attrs);

/*
 * The entry translating @ipa: *@pte gets the leaf (valid, annotated or 0)
 * and *@level (if not NULL) its level. -HVMM_ERANGE, with nothing written,
 * for an @ipa beyond the address space.
 */
int hvmm_pgtable_get_leaf(const struct hvmm_pgtable *pgt, u64 ipa, u64 *pte, u32 *level);

/*
 * Calls @visit on every non-zero leaf entry overlapping [ipa, ipa + size),
 * in address order; stops and returns the first non-zero value @visit
 * returns. @addr is the address the entry starts at.
 */
typedef int (*hvmm_pgtable_visitor_fn)(u64 addr, u32 level, u64 pte, void *arg);
int hvmm_pgtable_walk(const struct hvmm_pgtable *pgt, u64 ipa, u64 size,
		      hvmm_pgtable_visitor_fn visit, void *arg);

/* 0 if no entry (valid or annotated) overlaps [ipa, ipa + size), else -HVMM_EEXIST. */
int hvmm_pgtable_check_empty(const struct hvmm_pgtable *pgt, u64 ipa, u64 size);

/*
 * Table pages: an update tops up the table's cache with as many pages as
 * it could need before changing anything. Callers that chain several
 * updates and must not fail half-way reserve for all of them first:
 * any update but a map needs at most HVMM_PGT_EDGE_TABLES pages.
 */
#define HVMM_PGT_EDGE_TABLES	(2 * (HVMM_S2_LEVELS - 1))
u32 hvmm_pgtable_map_tables_needed(const struct hvmm_pgtable *pgt, u64 ipa, u64 size,
				    phys_addr_t pa);
/*
 * Table pages hvmm_pgtable_set_invalid(@ipa, @size, @annotation) would take
 * from the table as it is now: one per entry it has to make finer. Updates
 * of disjoint ranges in a row need at most the sum of their counts taken
 * up front, as long as none of them empties entries (annotations only, or
 * plain unmaps only): an earlier update only ever leaves finer tables behind.
 */
u32 hvmm_pgtable_set_invalid_tables_needed(const struct hvmm_pgtable *pgt, u64 ipa, u64 size,
					    u64 annotation);
int hvmm_pgtable_reserve(struct hvmm_pgtable *pgt, u32 nr);
/* Gives back cached pages beyond a few, once a sequence of updates is done. */
void hvmm_pgtable_trim(struct hvmm_pgtable *pgt);

/*
 * Frees every table page and the cache, dropping the map counts of what it
 * mapped. Only once no vCPU can run with the VMID any more and the VMID has
 * been invalidated since: the tables are freed without TLB maintenance.
 */
void hvmm_pgtable_destroy(struct hvmm_pgtable *pgt);

static inline u64 hvmm_pgtable_ia_size(const struct hvmm_pgtable *pgt)
{
	return 1ULL << pgt->ia_bits;
}

#endif /* HVMM_PGTABLE_H */
