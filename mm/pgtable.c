// SPDX-License-Identifier: MIT
/*
 * Stage-2 page tables (see hvmm/pgtable.h for the rules they keep).
 *
 * All changes go through one recursive range update (update_table): it
 * descends through table entries, splits leaves that the range covers only
 * partly, installs new tables where a range needs finer entries, and
 * writes leaves with break-before-make. Tables that end up empty are
 * unlinked on the way back up. Before an update starts, the page cache is
 * filled with as many pages as the update could possibly need, so the
 * update itself never fails.
 */
#include <hvmm/bug.h>
#include <hvmm/pgtable.h>
#include <hvmm/string.h>

/* Pages kept in a table's cache between operations. */
#define PGT_CACHE_KEEP		4

enum pgt_op_kind {
	PGT_MAP,		/* install valid leaves */
	PGT_SET_INVALID,	/* replace entries by an invalid value (0 or annotation) */
	PGT_PROTECT,		/* replace valid leaves' attributes */
	PGT_SET_SW,		/* replace valid leaves' software bits */
	PGT_PARK,		/* valid leaves become invalid, keeping their bits */
	PGT_UNPARK,		/* parked leaves become valid with new attributes */
	PGT_CLEAR_ANNOTATION,	/* entries equal to an annotation become empty, whole */
};

struct pgt_op {
	struct hvmm_pgtable *pgt;
	enum pgt_op_kind kind;
	u64 start, end;		/* [start, end) */
	phys_addr_t pa;		/* PGT_MAP: output address of start */
	u64 attrs;		/* leaf attributes, or the invalid value */
};

/*
 * Every call but init relies on the owner's lock for the whole table: its
 * entries, the refcounts of its table pages and its page cache.
 */
static void pgt_assert_locked(const struct hvmm_pgtable *pgt)
{
	if (pgt->lock)
		hvmm_assert_spin_locked(pgt->lock);
}

static u64 *pte_table(u64 pte)
{
	return hvmm_phys_to_virt(hvmm_s2_pte_oa(pte));
}

static u32 entry_index(u64 addr, u32 level)
{
	return (u32)(addr >> hvmm_s2_level_shift(level)) & (HVMM_S2_PTRS_PER_TABLE - 1);
}

static u32 root_index(const struct hvmm_pgtable *pgt, u64 addr)
{
	return (u32)(addr >> hvmm_s2_level_shift(pgt->start_level)) &
	       (HVMM_S2_PTRS_PER_TABLE * pgt->nr_roots - 1);
}

static bool block_allowed(u32 level, phys_addr_t pa)
{
	return level == HVMM_S2_LAST_LEVEL ||
	       ((level == 1 || level == 2) && HVMM_ALIGNED(pa, hvmm_s2_level_size(level)));
}

static u64 mk_leaf(u32 level, phys_addr_t pa, u64 attrs)
{
	u64 type = level == HVMM_S2_LAST_LEVEL ? HVMM_S2_PTE_TABLE : 0;

	return HVMM_S2_PTE_VALID | type | (pa & HVMM_S2_PTE_OA_MASK) |
	       (attrs & HVMM_S2_PTE_ATTR_MASK);
}

/* --- entries and table pages ---------------------------------------------- */

static u64 pte_read(const u64 *ptep)
{
	return __atomic_load_n(ptep, __ATOMIC_RELAXED);
}

static u64 pte_xchg(u64 *ptep, u64 new)
{
	return __atomic_exchange_n(ptep, new, __ATOMIC_ACQ_REL);
}

/* The table page holding @ptep gains / loses one non-zero entry. */
static void table_get(struct hvmm_pgtable *pgt, u64 *ptep)
{
	hvmm_get_page(pgt->cache.pool, (void *)HVMM_ALIGN_DOWN((uintptr_t)ptep, HVMM_PAGE_SIZE));
}

static void table_put(struct hvmm_pgtable *pgt, u64 *ptep)
{
	hvmm_put_page(pgt->cache.pool, (void *)HVMM_ALIGN_DOWN((uintptr_t)ptep, HVMM_PAGE_SIZE));
}

/* True if the table page @table holds no entry (only its own reference). */
static bool table_empty(const u64 *table)
{
	return hvmm_virt_to_page(table)->refcount == 1;
}

static u64 *new_table_page(struct hvmm_pgtable *pgt)
{
	u64 *table = hvmm_page_cache_pop(&pgt->cache);

	hvmm_page_retype(hvmm_virt_to_page(table), HVMM_PAGE_PGTABLE);
	return table;
}

/* Called only once every TLB entry that could use @table has been invalidated. */
static void free_table_page(struct hvmm_pgtable *pgt, u64 *table)
{
	hvmm_page_retype(hvmm_virt_to_page(table), HVMM_PAGE_HYP);
	hvmm_put_page(pgt->cache.pool, table);
}

static void count_maps(struct hvmm_pgtable *pgt, u64 pte, u32 level, bool get)
{
	struct hvmm_page *page;
	u64 i, nr;

	if (!(pgt->flags & HVMM_PGT_GUEST) || !hvmm_s2_pte_valid(pte))
		return;
	page = hvmm_phys_to_page(hvmm_s2_pte_oa(pte));
	nr = hvmm_s2_level_size(level) >> HVMM_PAGE_SHIFT;
	for (i = 0; i < nr; i++) {
		if (!get)
			hvmm_page_map_put(&page[i]);
		else if (!hvmm_page_map_get(&page[i]))
			HVMM_BUG("mapping a page that is not typed as data");
	}
}

/*
 * A guest leaf that brings memory into the guest (not one re-made with the
 * output address it had): clean it to PoC first, and invalidate the
 * instruction cache if it is executable, so that a guest without
 * FEAT_S2FWB reading it uncached sees what the hypervisor wrote (a scrub).
 */
static void sync_guest_leaf(struct hvmm_pgtable *pgt, u64 old, u64 new, u32 level)
{
	phys_addr_t pa = hvmm_s2_pte_oa(new);
	u64 size = hvmm_s2_level_size(level);

	if (!(pgt->flags & HVMM_PGT_GUEST) || !hvmm_s2_pte_valid(new) ||
	    hvmm_s2_pte_oa(old) == pa)
		return;
	if (((new >> HVMM_S2_PTE_MEMATTR_SHIFT) & 0xf) == HVMM_S2_MEMATTR_DEVICE_nGnRE)
		return;
	hvmm_dcache_clean_inval_poc(pa, size);
	if (!((new >> HVMM_S2_PTE_XN_SHIFT) & HVMM_S2_XN_ALL))
		hvmm_icache_inval_pou(pa, size);
}

/*
 * Tells the trace hook what a leaf change did to the translation: the old
 * valid leaf's mapping is gone, the new valid leaf's is there. Splitting a
 * block or linking a table changes no translation and is not reported.
 */
static void trace_leaf_change(const struct hvmm_pgtable *pgt, u64 old, u64 new, u32 level,
			      u64 addr)
{
	u64 size = hvmm_s2_level_size(level);

	if (hvmm_s2_pte_valid(old) && !hvmm_s2_pte_is_table(old, level))
		hvmm_trace(HVMM_TRACE_S2_UNMAP, pgt->vmid, addr, size, 0);
	if (hvmm_s2_pte_valid(new))
		hvmm_trace(HVMM_TRACE_S2_MAP, pgt->vmid, addr, hvmm_s2_pte_oa(new), size);
}

/*
 * Writes @new into the entry @ptep of @level covering @addr. A valid old
 * entry is broken first (break-before-make) and its translation
 * invalidated before anything else can be made of it.
 */
static void set_entry(struct hvmm_pgtable *pgt, u64 *ptep, u32 level, u64 addr, u64 new)
{
	u64 old = pte_read(ptep);

	sync_guest_leaf(pgt, old, new, level);
	count_maps(pgt, new, level, true);
	if (!old && new)
		table_get(pgt, ptep);

	if (hvmm_s2_pte_valid(old)) {
		pte_xchg(ptep, hvmm_s2_pte_valid(new) ? 0 : new);
		hvmm_dsb_ishst();
		if (hvmm_s2_pte_is_table(old, level))
			hvmm_tlb_flush_range(pgt->vmid, addr, hvmm_s2_level_size(level));
		else
			hvmm_tlb_flush_ipa(pgt->vmid, addr, level);
		hvmm_dsb_ish();
		if (hvmm_s2_pte_valid(new))
			pte_xchg(ptep, new);
	} else {
		pte_xchg(ptep, new);
	}
	hvmm_dsb_ishst();
	trace_leaf_change(pgt, old, new, level, addr);

	if (old && !new)
		table_put(pgt, ptep);
	if (!hvmm_s2_pte_is_table(old, level))
		count_maps(pgt, old, level, false);
}

/*
 * Replaces the leaf (valid block or annotated invalid entry) at @ptep by a
 * table of 512 entries that together say the same. The pages a block maps
 * stay mapped throughout, so their map counts do not change.
 */
static void split_entry(struct hvmm_pgtable *pgt, u64 *ptep, u32 level, u64 addr)
{
	u64 old = pte_read(ptep), child_size = hvmm_s2_level_size(level + 1);
	u64 *table = new_table_page(pgt);
	u32 i;

	for (i = 0; i < HVMM_S2_PTRS_PER_TABLE; i++) {
		if (hvmm_s2_pte_valid(old) || (pgt->flags & HVMM_PGT_GUEST))
			table[i] = (mk_leaf(level + 1, hvmm_s2_pte_oa(old) + i * child_size, old) &
				    ~HVMM_S2_PTE_VALID) | (old & HVMM_S2_PTE_VALID);
		else
			table[i] = old;
		table_get(pgt, &table[i]);
	}
	hvmm_dsb_ishst();
	if (hvmm_s2_pte_valid(old)) {
		pte_xchg(ptep, 0);
		hvmm_dsb_ishst();
		hvmm_tlb_flush_ipa(pgt->vmid, addr, level);
		hvmm_dsb_ish();
	}
	pte_xchg(ptep, HVMM_S2_PTE_VALID | HVMM_S2_PTE_TABLE | hvmm_virt_to_phys(table));
	hvmm_dsb_ishst();
}

static void install_table(struct hvmm_pgtable *pgt, u64 *ptep)
{
	u64 *table = new_table_page(pgt);

	hvmm_dsb_ishst();
	table_get(pgt, ptep);
	pte_xchg(ptep, HVMM_S2_PTE_VALID | HVMM_S2_PTE_TABLE | hvmm_virt_to_phys(table));
	hvmm_dsb_ishst();
}

/* Unlinks the empty table at @ptep; it is freed once the TLBs forgot it. */
static void unlink_table(struct hvmm_pgtable *pgt, u64 *ptep, u32 level, u64 addr)
{
	u64 *table = pte_table(pte_read(ptep));

	pte_xchg(ptep, 0);
	hvmm_dsb_ishst();
	hvmm_tlb_flush_range(pgt->vmid, addr, hvmm_s2_level_size(level));
	hvmm_dsb_ish();
	table_put(pgt, ptep);
	free_table_page(pgt, table);
}

/* --- the range update ----------------------------------------------------- */

static void update_table(struct pgt_op *op, u64 *table, u32 nr_entries, u32 level, u64 base);

static void descend(struct pgt_op *op, u64 *ptep, u32 level, u64 addr)
{
	u64 *child = pte_table(pte_read(ptep));

	update_table(op, child, HVMM_S2_PTRS_PER_TABLE, level + 1, addr);
	if (table_empty(child))
		unlink_table(op->pgt, ptep, level, addr);
}

/* The new value of a leaf that the range covers entirely. */
static u64 new_leaf(const struct pgt_op *op, u64 pte, u32 level, u64 addr)
{
	switch (op->kind) {
	case PGT_MAP:
		return mk_leaf(level, op->pa + (addr - op->start), op->attrs);
	case PGT_SET_INVALID:
		return op->attrs;
	case PGT_PROTECT:
		if (!hvmm_s2_pte_valid(pte))
			return pte;
		return (pte & ~HVMM_S2_PTE_ATTR_MASK) | (op->attrs & HVMM_S2_PTE_ATTR_MASK);
	case PGT_SET_SW:
		if (!hvmm_s2_pte_valid(pte))
			return pte;
		return (pte & ~HVMM_S2_PTE_SW_MASK) | (op->attrs & HVMM_S2_PTE_SW_MASK);
	case PGT_PARK:
		return pte & ~HVMM_S2_PTE_VALID;
	case PGT_UNPARK:
		if (hvmm_s2_pte_valid(pte) || !pte)
			return pte;
		return (pte & ~HVMM_S2_PTE_ATTR_MASK) | HVMM_S2_PTE_VALID |
		       (op->attrs & HVMM_S2_PTE_ATTR_MASK);
	case PGT_CLEAR_ANNOTATION:
		return pte == op->attrs ? 0 : pte;
	}
	return pte;
}

/* True if the op leaves the leaf @pte unchanged, wherever it overlaps it. */
static bool op_keeps(const struct pgt_op *op, u64 pte, u32 level, u64 addr)
{
	if (op->kind == PGT_MAP)
		return false;
	return new_leaf(op, pte, level, addr) == pte;
}

/* True if the entry at @addr of @level lies entirely inside the op's range. */
static bool op_covers(const struct pgt_op *op, u32 level, u64 addr)
{
	return addr >= op->start && addr + hvmm_s2_level_size(level) - 1 <= op->end - 1;
}

static void update_entry(struct pgt_op *op, u64 *ptep, u32 level, u64 addr)
{
	u64 pte = pte_read(ptep);
	/* An annotation clear takes whole entries, so it never splits one. */
	bool covered = op_covers(op, level, addr) || op->kind == PGT_CLEAR_ANNOTATION;

	if (hvmm_s2_pte_is_table(pte, level)) {
		descend(op, ptep, level, addr);
		return;
	}
	if (op_keeps(op, pte, level, addr))
		return;
	if (covered && (op->kind != PGT_MAP ||
			block_allowed(level, op->pa + (addr - op->start)))) {
		set_entry(op->pgt, ptep, level, addr, new_leaf(op, pte, level, addr));
		return;
	}
	/* The entry needs finer entries: split a leaf, or start a new table. */
	if (pte)
		split_entry(op->pgt, ptep, level, addr);
	else
		install_table(op->pgt, ptep);
	descend(op, ptep, level, addr);
}

/* True if the op leaves every empty entry empty (all but maps and annotations). */
static bool op_skips_empty(const struct pgt_op *op)
{
	return op->kind != PGT_MAP && !(op->kind == PGT_SET_INVALID && op->attrs);
}

static void update_table(struct pgt_op *op, u64 *table, u32 nr_entries, u32 level, u64 base)
{
	u64 size = hvmm_s2_level_size(level);
	u64 lo = hvmm_max(op->start, base);
	u64 last = hvmm_min(op->end - 1, base + (u64)nr_entries * size - 1);
	u64 i, first = (lo - base) >> hvmm_s2_level_shift(level);
	u64 stop = (last - base) >> hvmm_s2_level_shift(level);
	bool skip_empty = op_skips_empty(op);

	/* A teardown or a wide unmap mostly crosses empty entries: skip them in one scan. */
	for (i = first; i <= stop; i++) {
		if (skip_empty) {
			i = hvmm_next_nonzero_u64(table, i, stop + 1);
			if (i > stop)
				break;
		}
		update_entry(op, &table[i], level, base + i * size);
	}
}

/*
 * Entries of @size that [start, end) covers only in part: those holding an
 * edge of the range that is not aligned to them (one entry if both edges
 * fall in the same one).
 */
static u64 cut_entries(u64 start, u64 end, u32 shift)
{
	u64 size = 1ULL << shift;
	bool cut_lo = !HVMM_ALIGNED(start, size), cut_hi = !HVMM_ALIGNED(end, size);

	if (cut_lo && cut_hi && (start >> shift) == ((end - 1) >> shift))
		return 1;
	return (u64)cut_lo + (u64)cut_hi;
}

/*
 * Upper bound of the table pages an update can allocate: a new table per
 * entry it makes finer. Entries the range covers entirely get a leaf (or
 * are left alone), except where a map cannot use a block there; the only
 * other entries that can need a table are the ones an unaligned edge of
 * the range cuts. So unmapping a whole address space (VM teardown) needs
 * no memory at all.
 */
static u32 tables_needed(const struct pgt_op *op)
{
	u64 nr = 0;
	u32 level;

	if (op->kind == PGT_CLEAR_ANNOTATION)
		return 0;

	for (level = op->pgt->start_level + 1; level <= HVMM_S2_LAST_LEVEL; level++) {
		u32 shift = hvmm_s2_level_shift(level - 1);
		bool blocks = level - 1 >= 1 &&
			      HVMM_ALIGNED(op->pa - op->start, hvmm_s2_level_size(level - 1));

		if (op->kind == PGT_MAP && !blocks)
			nr += ((op->end - 1) >> shift) - (op->start >> shift) + 1;
		else
			nr += cut_entries(op->start, op->end, shift);
	}
	return nr > UINT32_MAX ? UINT32_MAX : (u32)nr;
}

/*
 * Table pages that making the entry at @addr of @level finer would
 * allocate: its own new table, then one per entry of each lower level
 * that an edge of the range cuts inside it.
 */
static u64 finer_entry_tables(const struct pgt_op *op, u32 level, u64 addr)
{
	u64 lo = hvmm_max(op->start, addr);
	u64 hi = hvmm_min(op->end - 1, addr + hvmm_s2_level_size(level) - 1) + 1;
	u64 nr = 1;
	u32 l;

	for (l = level + 1; l < HVMM_S2_LAST_LEVEL; l++)
		nr += cut_entries(lo, hi, hvmm_s2_level_shift(l));
	return nr;
}

/* What update_table would allocate for a non-map op, on the table as it is now. */
static u64 count_update_tables(const struct pgt_op *op, const u64 *table, u32 nr_entries,
			       u32 level, u64 base)
{
	u64 size = hvmm_s2_level_size(level);
	u64 lo = hvmm_max(op->start, base);
	u64 last = hvmm_min(op->end - 1, base + (u64)nr_entries * size - 1);
	u64 i, nr = 0, stop = (last - base) >> hvmm_s2_level_shift(level);

	for (i = (lo - base) >> hvmm_s2_level_shift(level); i <= stop; i++) {
		u64 pte = pte_read(&table[i]), addr = base + i * size;

		if (hvmm_s2_pte_is_table(pte, level))
			nr += count_update_tables(op, pte_table(pte), HVMM_S2_PTRS_PER_TABLE,
						  level + 1, addr);
		else if (!op_keeps(op, pte, level, addr) && !op_covers(op, level, addr))
			nr += finer_entry_tables(op, level, addr);
	}
	return nr;
}

static int check_range(const struct hvmm_pgtable *pgt, u64 ipa, u64 size)
{
	if (!size || !HVMM_ALIGNED(ipa | size, HVMM_PAGE_SIZE) || ipa + size < ipa)
		return -HVMM_EINVAL;
	if (ipa + size > hvmm_pgtable_ia_size(pgt))
		return -HVMM_ERANGE;
	return HVMM_OK;
}

static int run_update(struct pgt_op *op)
{
	struct hvmm_pgtable *pgt = op->pgt;
	int ret;

	pgt_assert_locked(pgt);
	ret = hvmm_page_cache_topup(&pgt->cache, tables_needed(op));
	if (!ret)
		update_table(op, pgt->pgd, HVMM_S2_PTRS_PER_TABLE * pgt->nr_roots,
			     pgt->start_level, 0);
	return ret;
}

u32 hvmm_pgtable_map_tables_needed(const struct hvmm_pgtable *pgt, u64 ipa, u64 size,
				    phys_addr_t pa)
{
	struct pgt_op op = {
		.pgt = (struct hvmm_pgtable *)pgt, .kind = PGT_MAP, .start = ipa,
		.end = ipa + size, .pa = pa,
	};

	pgt_assert_locked(pgt);
	return size ? tables_needed(&op) : 0;
}

u32 hvmm_pgtable_set_invalid_tables_needed(const struct hvmm_pgtable *pgt, u64 ipa, u64 size,
					    u64 annotation)
{
	struct pgt_op op = {
		.pgt = (struct hvmm_pgtable *)pgt, .kind = PGT_SET_INVALID, .start = ipa,
		.end = ipa + size, .attrs = annotation,
	};
	u64 nr;

	pgt_assert_locked(pgt);
	if (check_range(pgt, ipa, size))
		return 0;
	nr = count_update_tables(&op, pgt->pgd, HVMM_S2_PTRS_PER_TABLE * pgt->nr_roots,
				 pgt->start_level, 0);
	return nr > UINT32_MAX ? UINT32_MAX : (u32)nr;
}

int hvmm_pgtable_reserve(struct hvmm_pgtable *pgt, u32 nr)
{
	pgt_assert_locked(pgt);
	return hvmm_page_cache_topup(&pgt->cache, nr);
}

void hvmm_pgtable_trim(struct hvmm_pgtable *pgt)
{
	pgt_assert_locked(pgt);
	hvmm_page_cache_trim(&pgt->cache, PGT_CACHE_KEEP);
}

static int found_entry(u64 addr, u32 level, u64 pte, void *arg)
{
	(void)addr;
	(void)level;
	(void)pte;
	(void)arg;
	return -HVMM_EEXIST;
}

int hvmm_pgtable_check_empty(const struct hvmm_pgtable *pgt, u64 ipa, u64 size)
{
	return hvmm_pgtable_walk(pgt, ipa, size, found_entry, NULL);
}

int hvmm_pgtable_map(struct hvmm_pgtable *pgt, u64 ipa, u64 size, phys_addr_t pa, u64 attrs)
{
	struct pgt_op op = {
		.pgt = pgt, .kind = PGT_MAP, .start = ipa, .end = ipa + size,
		.pa = pa, .attrs = attrs,
	};
	int ret = check_range(pgt, ipa, size);

	if (ret)
		return ret;
	if (!HVMM_ALIGNED(pa, HVMM_PAGE_SIZE) || pa + size < pa ||
	    pa + size - 1 > HVMM_S2_PTE_OA_MASK)
		return -HVMM_EINVAL;
	ret = hvmm_pgtable_check_empty(pgt, ipa, size);
	if (ret)
		return ret;
	return run_update(&op);
}

int hvmm_pgtable_set_invalid(struct hvmm_pgtable *pgt, u64 ipa, u64 size, u64 annotation)
{
	struct pgt_op op = {
		.pgt = pgt, .kind = PGT_SET_INVALID, .start = ipa, .end = ipa + size,
		.attrs = annotation,
	};
	int ret = check_range(pgt, ipa, size);

	if (ret)
		return ret;
	if (hvmm_s2_pte_valid(annotation))
		return -HVMM_EINVAL;
	return run_update(&op);
}

int hvmm_pgtable_unmap(struct hvmm_pgtable *pgt, u64 ipa, u64 size)
{
	return hvmm_pgtable_set_invalid(pgt, ipa, size, 0);
}

int hvmm_pgtable_clear_annotation(struct hvmm_pgtable *pgt, u64 ipa, u64 size, u64 annotation)
{
	struct pgt_op op = {
		.pgt = pgt, .kind = PGT_CLEAR_ANNOTATION, .start = ipa, .end = ipa + size,
		.attrs = annotation,
	};
	int ret = check_range(pgt, ipa, size);

	if (ret)
		return ret;
	if (!annotation || hvmm_s2_pte_valid(annotation))
		return -HVMM_EINVAL;
	return run_update(&op);
}

static int update_leaves(struct hvmm_pgtable *pgt, enum pgt_op_kind kind, u64 ipa, u64 size,
			 u64 attrs)
{
	struct pgt_op op = {
		.pgt = pgt, .kind = kind, .start = ipa, .end = ipa + size, .attrs = attrs,
	};
	int ret = check_range(pgt, ipa, size);

	return ret ? ret : run_update(&op);
}

int hvmm_pgtable_protect(struct hvmm_pgtable *pgt, u64 ipa, u64 size, u64 attrs)
{
	return update_leaves(pgt, PGT_PROTECT, ipa, size, attrs);
}

int hvmm_pgtable_set_sw(struct hvmm_pgtable *pgt, u64 ipa, u64 size, u32 sw)
{
	return update_leaves(pgt, PGT_SET_SW, ipa, size,
			     ((u64)sw << HVMM_S2_PTE_SW_SHIFT) & HVMM_S2_PTE_SW_MASK);
}

int hvmm_pgtable_park(struct hvmm_pgtable *pgt, u64 ipa, u64 size)
{
	if (!(pgt->flags & HVMM_PGT_GUEST))
		return -HVMM_EINVAL;
	return update_leaves(pgt, PGT_PARK, ipa, size, 0);
}

int hvmm_pgtable_unpark(struct hvmm_pgtable *pgt, u64 ipa, u64 size, u64 attrs)
{
	if (!(pgt->flags & HVMM_PGT_GUEST))
		return -HVMM_EINVAL;
	return update_leaves(pgt, PGT_UNPARK, ipa, size, attrs);
}

/* --- lookups -------------------------------------------------------------- */

int hvmm_pgtable_get_leaf(const struct hvmm_pgtable *pgt, u64 ipa, u64 *ptep, u32 *level)
{
	u32 l = pgt->start_level;
	u64 pte;

	pgt_assert_locked(pgt);
	/* The root index would wrap: an IPA beyond the space must not alias one inside. */
	if (ipa >= hvmm_pgtable_ia_size(pgt))
		return -HVMM_ERANGE;
	pte = pte_read(&pgt->pgd[root_index(pgt, ipa)]);
	while (hvmm_s2_pte_is_table(pte, l)) {
		l++;
		pte = pte_read(&pte_table(pte)[entry_index(ipa, l)]);
	}
	*ptep = pte;
	if (level)
		*level = l;
	return HVMM_OK;
}

static int walk_table(const u64 *table, u32 nr_entries, u32 level, u64 base,
		      u64 start, u64 last, hvmm_pgtable_visitor_fn visit, void *arg)
{
	u64 size = hvmm_s2_level_size(level);
	u64 first = (hvmm_max(start, base) - base) >> hvmm_s2_level_shift(level);
	u64 stop = (hvmm_min(last, base + (u64)nr_entries * size - 1) - base) >>
		   hvmm_s2_level_shift(level);
	u64 i;
	int ret;

	for (i = hvmm_next_nonzero_u64(table, first, stop + 1); i <= stop;
	     i = hvmm_next_nonzero_u64(table, i + 1, stop + 1)) {
		u64 pte = pte_read(&table[i]);

		if (hvmm_s2_pte_is_table(pte, level))
			ret = walk_table(pte_table(pte), HVMM_S2_PTRS_PER_TABLE, level + 1,
					 base + i * size, start, last, visit, arg);
		else
			ret = pte ? visit(base + i * size, level, pte, arg) : 0;
		if (ret)
			return ret;
	}
	return 0;
}

int hvmm_pgtable_walk(const struct hvmm_pgtable *pgt, u64 ipa, u64 size,
		      hvmm_pgtable_visitor_fn visit, void *arg)
{
	int ret = check_range(pgt, ipa, size);

	pgt_assert_locked(pgt);
	if (ret)
		return ret;
	return walk_table(pgt->pgd, HVMM_S2_PTRS_PER_TABLE * pgt->nr_roots, pgt->start_level,
			  0, ipa, ipa + size - 1, visit, arg);
}

/* --- life cycle ----------------------------------------------------------- */

static u8 order_of(u32 nr_pages)
{
	u8 order = 0;

	while ((1u << order) < nr_pages)
		order++;
	return order;
}

int hvmm_pgtable_init(struct hvmm_pgtable *pgt, struct hvmm_pool *pool, u32 ia_bits,
		      u32 start_level, u16 vmid, u32 flags, hvmm_spinlock_t *lock)
{
	u32 i, nr = hvmm_pgtable_nr_roots(ia_bits, start_level);
	u64 *pgd;

	if (!nr)
		return -HVMM_EINVAL;
	/* Concatenated roots are contiguous and aligned to their total size. */
	pgd = hvmm_alloc_pages(pool, order_of(nr));
	if (!pgd)
		return -HVMM_ENOMEM;
	/* Each root page is then refcounted on its own, like any table page. */
	hvmm_split_page(pool, pgd);
	for (i = 0; i < nr; i++)
		hvmm_page_retype(hvmm_virt_to_page(pgd) + i, HVMM_PAGE_PGTABLE);
	pgt->pgd = pgd;
	pgt->pgd_pa = hvmm_virt_to_phys(pgd);
	pgt->ia_bits = ia_bits;
	pgt->start_level = start_level;
	pgt->nr_roots = nr;
	pgt->flags = flags;
	pgt->vmid = vmid;
	pgt->lock = lock;
	hvmm_page_cache_init(&pgt->cache, pool);
	return HVMM_OK;
}

/*
 * Drops what the entries of @table (of @level, covering from @base) hold:
 * a leaf's map counts, a child table whole (its entries first), and each
 * entry's reference on @table. Nothing is written to the entries: no walker
 * can read them any more (see hvmm_pgtable_destroy()), and a table page is
 * scrubbed as it goes back to the pool.
 */
static void destroy_entries(struct hvmm_pgtable *pgt, u64 *table, u32 nr, u32 level, u64 base)
{
	u64 size = hvmm_s2_level_size(level);
	u32 i;

	for (i = 0; i < nr; i++) {
		u64 pte = pte_read(&table[i]), addr = base + i * size;

		if (!pte)
			continue;
		if (hvmm_s2_pte_is_table(pte, level)) {
			u64 *child = pte_table(pte);

			destroy_entries(pgt, child, HVMM_S2_PTRS_PER_TABLE, level + 1, addr);
			HVMM_BUG_ON(!table_empty(child));
			free_table_page(pgt, child);
		} else {
			trace_leaf_change(pgt, pte, 0, level, addr);
			count_maps(pgt, pte, level, false);
		}
		table_put(pgt, &table[i]);
	}
}

/*
 * Tears the tables down as KVM's kvm_pgtable_stage2_destroy() does, with no
 * break-before-make and no TLB maintenance of its own: the caller has
 * stopped every vCPU that could load this VMID, then invalidated the VMID
 * (hvmm_tlb_flush_vmid(), which waits for completion). From then on no
 * walker can start on these tables and no TLB holds anything they gave
 * (Arm ARM D8.14: TLB entries and walks are tagged by VMID), so one
 * invalidation covers every table freed here.
 */
void hvmm_pgtable_destroy(struct hvmm_pgtable *pgt)
{
	struct hvmm_page *root;
	u32 i;

	pgt_assert_locked(pgt);
	destroy_entries(pgt, pgt->pgd, HVMM_S2_PTRS_PER_TABLE * pgt->nr_roots, pgt->start_level, 0);
	hvmm_page_cache_trim(&pgt->cache, 0);
	root = hvmm_virt_to_page(pgt->pgd);
	for (i = 0; i < pgt->nr_roots; i++) {
		HVMM_BUG_ON(root[i].refcount != 1);
		free_table_page(pgt, (u64 *)pgt->pgd + i * HVMM_S2_PTRS_PER_TABLE);
	}
	pgt->pgd = NULL;
}
