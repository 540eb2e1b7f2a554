// SPDX-License-Identifier: MIT
/*
 * mm/'s stage-2 page-table interface (hvmm/pgtable.h) on KVM's own page
 * tables (arch/arm64/kvm/hyp/pgtable.c, built unchanged; sim/linux/).
 *
 * Linked in place of mm/pgtable.c (the rest of mm/ unchanged) into the
 * variant the simulator runs with '--pgtable linux-kvm', so that the host
 * and guest stage-2 tables of whole-machine runs are written by the
 * kernel's code, driven as pKVM's nvhe/mem_protect.c drives it:
 *
 *  - kvm_pgtable_stage2_map installs leaves (host faults, donations and
 *    shares to guests, a change of page state: pKVM re-maps the same
 *    output address with new software bits, and KVM replaces the leaf
 *    with break-before-make);
 *  - kvm_pgtable_stage2_set_owner writes the host's owner annotations
 *    (page-level, as KVM forces for every annotation);
 *  - kvm_pgtable_stage2_unmap, _relax_perms, kvm_pgtable_get_leaf and
 *    kvm_pgtable_walk do the rest; kvm_pgtable_stage2_destroy the teardown.
 *
 * Table pages: KVM's mm_ops take them from the table's page cache (the
 * memcache argument, as pKVM's guest_s2_zalloc_page pops its
 * kvm_hyp_memcache) and free them to the hypervisor pool through the
 * pool's refcounts, with KVM's own rule (1 + the non-zero entries a table
 * holds), which is mm/'s; roots come from the pool. Table pages are typed
 * PGTABLE while linked, as mm/ types its own. So ALLOC-*, HYP-CONSERVE,
 * REFCOUNT and TYPE judge KVM's tables exactly as mm/'s.
 *
 * Where 6.1's API cannot say what mm/'s interface asks for, the adapter
 * does what a pKVM caller would, and docs/linux.md ("KVM's page tables in
 * whole-machine runs") lists each case:
 *  - the host stage-2 may map blocks only for its default mappings (pKVM's
 *    host_stage2_force_pte_cb); guest tables are page-granular (pKVM's
 *    guest_stage2_force_pte_cb, 6.4 on): 6.1 cannot split a block, and a
 *    map or set_owner into part of one drops the rest of it;
 *  - 6.1 annotates two owners only (KVM_MAX_OWNER_ID 1): every page that
 *    is not the host's is annotated owner 1 in the host stage-2, and the
 *    adapter reads it back as the hypervisor's annotation;
 *  - a parked guest page (unmapped, still the guest's) is an owner
 *    annotation in the guest's table, its descriptor kept beside the table
 *    (parked_*), since an annotation has no room for an output address;
 *  - mm/'s guest map counters (struct hvmm_page.map_count) are raised
 *    before a guest leaf is made and lowered after it is gone, around
 *    KVM's calls.
 *
 * Compiled with the Linux compat headers (sim/linux/include) and mm/'s.
 * Locking: the table's owner lock, asserted as mm/pgtable.c does; the
 * state beside each table is used under that same lock.
 */
#include <linux/bitfield.h>
#include <asm/kvm_pgtable.h>

#include <stdlib.h>

#include <hvmm/bug.h>
#include <hvmm/mem_protect.h>
#include <hvmm/memory.h>
#include <hvmm/pgtable.h>
#include <hvmm/platform.h>
#include <hvmm/vm.h>

/* Pages kept in a table's cache between operations (as mm/pgtable.c). */
#define PGT_CACHE_KEEP		4

/* pgtable.c's private encoding of an owner annotation (KVM_INVALID_PTE_OWNER_MASK). */
#define KVM_OWNER_MASK		GENMASK(9, 2)
/* 6.1's only owner besides the table's own (pKVM's PKVM_ID_HYP). */
#define KVM_OWNER_OTHER		1
#define KVM_HOST_S2_FLAGS	(KVM_PGTABLE_S2_NOFWB | KVM_PGTABLE_S2_IDMAP)

/* Parked descriptors of one guest table: IPA page -> mm/'s parked leaf. */
struct parked {
	u64 *key;		/* IPA | 1; 0: empty slot */
	u64 *val;
	u64 cap, nr;		/* cap: a power of two, or 0 */
};

struct kvm_table {
	struct hvmm_pgtable *pgt;	/* the mm/ table this is; NULL: slot free */
	struct kvm_pgtable kvm;
	struct kvm_s2_mmu mmu;
	struct kvm_arch arch;
	struct parked parked;
};

/* The host, every VM, and a few private tables (tests). */
#define MAX_TABLES	(HVMM_MAX_VMS + 9)
static struct kvm_table tables[MAX_TABLES];

/* Pools table pages come from: a page's refcount lives in the pool that holds it. */
#define MAX_POOLS	8
static struct hvmm_pool *pools[MAX_POOLS];
static unsigned int nr_pools;
/* The pool roots come from, for the one init in progress. */
static struct hvmm_pool *root_pool;

/* --- pools and the mm_ops callbacks ------------------------------------------- */

static void pool_register(struct hvmm_pool *pool)
{
	for (unsigned int i = 0; i < nr_pools; i++)
		if (pools[i] == pool)
			return;
	HVMM_BUG_ON(nr_pools == MAX_POOLS);
	pools[nr_pools++] = pool;
}

static struct hvmm_pool *pool_of(void *page)
{
	phys_addr_t pa = hvmm_virt_to_phys(page);

	for (unsigned int i = 0; i < nr_pools; i++)
		if (pa >= pools[i]->range_start && pa < pools[i]->range_end)
			return pools[i];
	HVMM_BUG("a table page outside every pool");
	return NULL;
}

static void *page_of(void *addr)
{
	return (void *)((uintptr_t)addr & ~(uintptr_t)(PAGE_SIZE - 1));
}

/* A table page from the table's cache, as pKVM's guest_s2_zalloc_page pops its memcache. */
static void *kvm_zalloc_page(void *memcache)
{
	struct hvmm_page_cache *cache = memcache;
	void *page;

	if (!cache->nr)
		return NULL;
	page = hvmm_page_cache_pop(cache);
	hvmm_page_retype(hvmm_virt_to_page(page), HVMM_PAGE_PGTABLE);
	return page;
}

/* Roots: one block, split into pages refcounted one by one (host_s2_zalloc_pages_exact). */
static void *kvm_zalloc_pages_exact(size_t size)
{
	u8 order = (u8)get_order(size);
	void *pgd = hvmm_alloc_pages(root_pool, order);

	if (!pgd)
		return NULL;
	hvmm_split_page(root_pool, pgd);
	for (u32 i = 0; i < 1u << order; i++)
		hvmm_page_retype(hvmm_virt_to_page(pgd) + i, HVMM_PAGE_PGTABLE);
	return pgd;
}

static void kvm_get_page(void *addr)
{
	void *page = page_of(addr);

	hvmm_get_page(pool_of(page), page);
}

/* The last reference: the page leaves the tables, typed back as the hypervisor's. */
static void kvm_put_page(void *addr)
{
	void *page = page_of(addr);

	if (hvmm_virt_to_page(page)->refcount == 1)
		hvmm_page_retype(hvmm_virt_to_page(page), HVMM_PAGE_HYP);
	hvmm_put_page(pool_of(page), page);
}

static void kvm_free_pages_exact(void *addr, size_t size)
{
	for (size_t off = 0; off < PAGE_ALIGN(size); off += PAGE_SIZE)
		kvm_put_page((char *)addr + off);
}

static int kvm_page_count(void *addr)
{
	return hvmm_virt_to_page(page_of(addr))->refcount;
}

static void *kvm_phys_to_virt(phys_addr_t phys)
{
	return hvmm_phys_to_virt(phys);
}

static phys_addr_t kvm_virt_to_phys(void *addr)
{
	return hvmm_virt_to_phys(addr);
}

/* Guests only, as pKVM's guest mm_ops: the platform's cache maintenance, seen by the oracles. */
static void kvm_dcache_clean_inval_poc(void *addr, size_t size)
{
	hvmm_dcache_clean_inval_poc(hvmm_virt_to_phys(addr), size);
}

static void kvm_icache_inval_pou(void *addr, size_t size)
{
	hvmm_icache_inval_pou(hvmm_virt_to_phys(addr), size);
}

static struct kvm_pgtable_mm_ops host_mm_ops = {
	.zalloc_page		= kvm_zalloc_page,
	.zalloc_pages_exact	= kvm_zalloc_pages_exact,
	.free_pages_exact	= kvm_free_pages_exact,
	.get_page		= kvm_get_page,
	.put_page		= kvm_put_page,
	.page_count		= kvm_page_count,
	.phys_to_virt		= kvm_phys_to_virt,
	.virt_to_phys		= kvm_virt_to_phys,
};

static struct kvm_pgtable_mm_ops guest_mm_ops = {
	.zalloc_page		= kvm_zalloc_page,
	.zalloc_pages_exact	= kvm_zalloc_pages_exact,
	.free_pages_exact	= kvm_free_pages_exact,
	.get_page		= kvm_get_page,
	.put_page		= kvm_put_page,
	.page_count		= kvm_page_count,
	.phys_to_virt		= kvm_phys_to_virt,
	.virt_to_phys		= kvm_virt_to_phys,
	.dcache_clean_inval_poc	= kvm_dcache_clean_inval_poc,
	.icache_inval_pou	= kvm_icache_inval_pou,
};

/* --- attributes ------------------------------------------------------------------ */

static bool attrs_device(u64 attrs)
{
	return ((attrs & HVMM_S2_PTE_MEMATTR_MASK) >> HVMM_S2_PTE_MEMATTR_SHIFT) ==
	       HVMM_S2_MEMATTR_DEVICE_nGnRE;
}

/*
 * The KVM protection that makes KVM write @attrs: permissions, memory
 * type, and the page state in the software bits (KVM_PGTABLE_PROT_SW0-3
 * are bits 55-58, mm/'s page-state field, as pKVM's pkvm_mkstate()).
 */
static enum kvm_pgtable_prot attrs_prot(u64 attrs)
{
	enum kvm_pgtable_prot prot = attrs & HVMM_S2_PTE_SW_MASK;

	if (attrs & HVMM_S2_PTE_S2AP_R)
		prot |= KVM_PGTABLE_PROT_R;
	if (attrs & HVMM_S2_PTE_S2AP_W)
		prot |= KVM_PGTABLE_PROT_W;
	if (!(attrs & HVMM_S2_PTE_XN_MASK))
		prot |= KVM_PGTABLE_PROT_X;
	if (attrs_device(attrs))
		prot |= KVM_PGTABLE_PROT_DEVICE;
	return prot;
}

/*
 * The host's default mappings, rebuilt lazily on faults: memory RWX, MMIO
 * RW Device (pKVM 6.1's PKVM_HOST_MMIO_PROT leaves the memory type to the
 * host's stage 1; mm/'s host maps MMIO Device-nGnRE, and so does this).
 */
static enum kvm_pgtable_prot host_mem_prot(void)
{
	return attrs_prot(hvmm_pgtable_leaf_attrs(HVMM_PROT_RWX, HVMM_PAGE_OWNED));
}

static enum kvm_pgtable_prot host_mmio_prot(void)
{
	return attrs_prot(hvmm_pgtable_leaf_attrs(HVMM_PROT_R | HVMM_PROT_W | HVMM_PROT_DEVICE,
						  HVMM_PAGE_OWNED));
}

/* pKVM's host_stage2_force_pte_cb: a block only where losing the rest of it costs a fault. */
static bool host_force_pte(u64 addr, u64 end, enum kvm_pgtable_prot prot)
{
	if (hvmm_is_ram(addr) && hvmm_is_ram(end - 1))
		return prot != host_mem_prot();
	return prot != host_mmio_prot();
}

/* pKVM's guest_stage2_force_pte_cb: the guest's table is the only record of its memory. */
static bool guest_force_pte(u64 addr, u64 end, enum kvm_pgtable_prot prot)
{
	return true;
}

/* --- the state beside each table --------------------------------------------------- */

static struct kvm_table *table_of(const struct hvmm_pgtable *pgt)
{
	for (unsigned int i = 0; i < MAX_TABLES; i++)
		if (tables[i].pgt == pgt)
			return &tables[i];
	HVMM_BUG("a page table the KVM adapter never initialised");
	return NULL;
}

static bool is_guest(const struct hvmm_pgtable *pgt)
{
	return pgt->flags & HVMM_PGT_GUEST;
}

static u64 parked_hash(u64 key, u64 cap)
{
	return (key * 0x9e3779b97f4a7c15ULL >> 20) & (cap - 1);
}

/* The slot of @ipa: where it is, or the empty slot where it would go. */
static u64 parked_slot(const struct parked *p, u64 ipa)
{
	u64 key = ipa | 1, i = parked_hash(key, p->cap);

	while (p->key[i] && p->key[i] != key)
		i = (i + 1) & (p->cap - 1);
	return i;
}

static u64 *parked_find(struct parked *p, u64 ipa)
{
	u64 i;

	if (!p->cap)
		return NULL;
	i = parked_slot(p, ipa);
	return p->key[i] ? &p->val[i] : NULL;
}

static void parked_grow(struct parked *p)
{
	struct parked n = { .cap = p->cap ? 2 * p->cap : 64 };

	n.key = calloc(n.cap, sizeof(*n.key));
	n.val = calloc(n.cap, sizeof(*n.val));
	if (!n.key || !n.val)
		abort();
	for (u64 i = 0; i < p->cap; i++) {
		if (p->key[i]) {
			u64 j = parked_slot(&n, p->key[i] & ~1ULL);

			n.key[j] = p->key[i];
			n.val[j] = p->val[i];
			n.nr++;
		}
	}
	free(p->key);
	free(p->val);
	*p = n;
}

static void parked_put(struct parked *p, u64 ipa, u64 pte)
{
	u64 i;

	if (2 * (p->nr + 1) > p->cap)
		parked_grow(p);
	i = parked_slot(p, ipa);
	if (!p->key[i])
		p->nr++;
	p->key[i] = ipa | 1;
	p->val[i] = pte;
}

/* Linear probing: the entries after a removed one move back so that no search stops early. */
static void parked_del(struct parked *p, u64 ipa)
{
	u64 i, j;

	if (!p->cap || !p->key[i = parked_slot(p, ipa)])
		return;
	p->key[i] = 0;
	p->nr--;
	for (j = (i + 1) & (p->cap - 1); p->key[j]; j = (j + 1) & (p->cap - 1)) {
		u64 home = parked_hash(p->key[j], p->cap);

		/* Move j back to i if its home does not lie in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			p->key[i] = p->key[j];
			p->val[i] = p->val[j];
			p->key[j] = 0;
			i = j;
		}
	}
}

static void parked_clear(struct parked *p)
{
	free(p->key);
	free(p->val);
	*p = (struct parked){ 0 };
}

static void pgt_assert_locked(const struct hvmm_pgtable *pgt)
{
	if (pgt->lock)
		hvmm_assert_spin_locked(pgt->lock);
}

static int check_range(const struct hvmm_pgtable *pgt, u64 ipa, u64 size)
{
	if (!size || !HVMM_ALIGNED(ipa | size, HVMM_PAGE_SIZE) || ipa + size < ipa)
		return -HVMM_EINVAL;
	if (ipa + size > hvmm_pgtable_ia_size(pgt))
		return -HVMM_ERANGE;
	return HVMM_OK;
}

static int to_hvmm_err(int ret)
{
	switch (ret) {
	case 0: return HVMM_OK;
	case -ENOMEM: return -HVMM_ENOMEM;
	case -ERANGE: return -HVMM_ERANGE;
	case -EEXIST: return -HVMM_EEXIST;
	default: return -HVMM_EINVAL;
	}
}

/* --- reading KVM's entries as mm/'s ----------------------------------------------- */

/*
 * The entry at @addr (@level) as mm/'s interface describes it: a valid
 * leaf is the same descriptor; an annotation in a guest table is the
 * parked leaf kept beside it; one in the host table is the hypervisor's.
 */
static u64 mm_view(struct kvm_table *t, u64 addr, u64 pte)
{
	u64 *parked;

	if (!pte || kvm_pte_valid(pte))
		return pte;
	if (is_guest(t->pgt)) {
		parked = parked_find(&t->parked, addr);
		HVMM_BUG_ON(!parked);
		return *parked;
	}
	return ((u64)FIELD_GET(KVM_OWNER_MASK, pte) << HVMM_S2_INVALID_OWNER_SHIFT) &
	       HVMM_S2_INVALID_OWNER_MASK;
}

/* KVM's owner id for mm/'s annotation: 0 (the host) or the one other 6.1 knows. */
static u8 kvm_owner(u64 annotation)
{
	return hvmm_s2_pte_owner(annotation) ? KVM_OWNER_OTHER : 0;
}

struct leaf_walk {
	struct kvm_table *t;
	hvmm_pgtable_visitor_fn visit;
	void *arg;
};

static int leaf_visitor(u64 addr, u64 end, u32 level, kvm_pte_t *ptep,
			enum kvm_pgtable_walk_flags flag, void * const arg)
{
	struct leaf_walk *w = arg;
	u64 pte = READ_ONCE(*ptep);

	/* KVM passes where the walk is, which may lie inside the first block. */
	addr = ALIGN_DOWN(addr, kvm_granule_size(level));
	return pte ? w->visit(addr, level, mm_view(w->t, addr, pte), w->arg) : 0;
}

static int walk_leaves(struct kvm_table *t, u64 ipa, u64 size, hvmm_pgtable_visitor_fn visit,
		       void *arg)
{
	struct leaf_walk w = { .t = t, .visit = visit, .arg = arg };
	struct kvm_pgtable_walker walker = {
		.cb = leaf_visitor, .arg = &w, .flags = KVM_PGTABLE_WALK_LEAF,
	};

	return kvm_pgtable_walk(&t->kvm, ipa, size, &walker);
}

int hvmm_pgtable_walk(const struct hvmm_pgtable *pgt, u64 ipa, u64 size,
		      hvmm_pgtable_visitor_fn visit, void *arg)
{
	int ret = check_range(pgt, ipa, size);

	pgt_assert_locked(pgt);
	return ret ? ret : walk_leaves(table_of(pgt), ipa, size, visit, arg);
}

int hvmm_pgtable_get_leaf(const struct hvmm_pgtable *pgt, u64 ipa, u64 *ptep, u32 *level)
{
	struct kvm_table *t = table_of(pgt);
	kvm_pte_t pte = 0;
	u32 l = 0;

	pgt_assert_locked(pgt);
	if (ipa >= hvmm_pgtable_ia_size(pgt))
		return -HVMM_ERANGE;
	HVMM_BUG_ON(kvm_pgtable_get_leaf(&t->kvm, ipa, &pte, &l));
	*ptep = mm_view(t, ALIGN_DOWN(ipa, kvm_granule_size(l)), pte);
	if (level)
		*level = l;
	return HVMM_OK;
}

static int found_entry(u64 addr, u32 level, u64 pte, void *arg)
{
	return -HVMM_EEXIST;
}

int hvmm_pgtable_check_empty(const struct hvmm_pgtable *pgt, u64 ipa, u64 size)
{
	return hvmm_pgtable_walk(pgt, ipa, size, found_entry, NULL);
}

/* --- table pages ----------------------------------------------------------------- */

static bool leaf_allowed(u64 addr, u64 end, u64 phys, u32 level, bool force_pte)
{
	u64 granule = kvm_granule_size(level);

	if (level == HVMM_S2_LAST_LEVEL)
		return true;
	if (force_pte || !kvm_level_supports_block_mapping(level) || granule > end - addr)
		return false;
	if (phys != ~0ULL && !IS_ALIGNED(phys, granule))
		return false;
	return IS_ALIGNED(addr, granule);
}

/* Tables a map below an empty entry of @level, over [lo, hi), allocates (KVM's descent). */
static u64 empty_tables(u32 level, u64 lo, u64 hi, u64 phys_lo, bool force_pte)
{
	u64 size = kvm_granule_size(level), nr = 0;

	for (u64 addr = lo; addr < hi; addr = ALIGN_DOWN(addr, size) + size) {
		u64 phys = phys_lo == ~0ULL ? ~0ULL : phys_lo + (addr - lo);
		u64 next = min(hi, ALIGN_DOWN(addr, size) + size);

		if (!leaf_allowed(addr, hi, phys, level, force_pte))
			nr += 1 + empty_tables(level + 1, addr, next, phys, force_pte);
	}
	return nr;
}

/*
 * Tables kvm_pgtable_stage2_map / _set_owner of [lo, hi) would allocate
 * from the table as it is now: KVM walks the range in order, keeps a
 * table it can descend into (unless a block replaces it whole), and puts
 * a new table under every other entry a leaf may not fill.
 */
static u64 map_tables(const u64 *table, u32 level, u64 base, u64 lo, u64 hi, u64 phys_lo,
		      bool force_pte)
{
	u64 size = kvm_granule_size(level), nr = 0;

	for (u64 addr = lo; addr < hi; addr = ALIGN_DOWN(addr, size) + size) {
		u64 pte = READ_ONCE(table[(addr - base) >> kvm_granule_shift(level)]);
		u64 phys = phys_lo == ~0ULL ? ~0ULL : phys_lo + (addr - lo);
		u64 start = ALIGN_DOWN(addr, size), next = min(hi, start + size);

		if (leaf_allowed(addr, hi, phys, level, force_pte))
			continue;
		if (hvmm_s2_pte_is_table(pte, level))
			nr += map_tables(hvmm_phys_to_virt(hvmm_s2_pte_oa(pte)), level + 1, start,
					 addr, next, phys, force_pte);
		else
			nr += 1 + empty_tables(level + 1, addr, next, phys, force_pte);
	}
	return nr;
}

static u32 tables_needed(const struct hvmm_pgtable *pgt, u64 ipa, u64 size, u64 phys,
			 bool force_pte)
{
	u64 nr = map_tables(pgt->pgd, pgt->start_level, 0, ipa, ipa + size, phys, force_pte);

	return nr > UINT32_MAX ? UINT32_MAX : (u32)nr;
}

u32 hvmm_pgtable_map_tables_needed(const struct hvmm_pgtable *pgt, u64 ipa, u64 size,
				    phys_addr_t pa)
{
	pgt_assert_locked(pgt);
	if (!size || check_range(pgt, ipa, size))
		return 0;
	/* Page-level: every guest map, and the most any host map can take. */
	return tables_needed(pgt, ipa, size, pa, true);
}

u32 hvmm_pgtable_set_invalid_tables_needed(const struct hvmm_pgtable *pgt, u64 ipa, u64 size,
					    u64 annotation)
{
	pgt_assert_locked(pgt);
	if (check_range(pgt, ipa, size) || (is_guest(pgt) && !annotation))
		return 0;	/* a guest unmap: kvm_pgtable_stage2_unmap allocates nothing */
	return tables_needed(pgt, ipa, size, ~0ULL, true);
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

/* --- leaves mm/ keeps count of ------------------------------------------------------- */

static void count_maps(const struct hvmm_pgtable *pgt, u64 pa, u64 size, bool get)
{
	struct hvmm_page *page;

	if (!is_guest(pgt))
		return;
	page = hvmm_phys_to_page(pa);
	for (u64 i = 0; i < size >> HVMM_PAGE_SHIFT; i++) {
		if (!get)
			hvmm_page_map_put(&page[i]);
		else if (!hvmm_page_map_get(&page[i]))
			HVMM_BUG("mapping a page that is not typed as data");
	}
}

/* The valid leaves of a range, collected before KVM changes them. */
struct leaf {
	u64 addr, pte;
	u32 level;
};

struct leaves {
	struct leaf *v;
	u64 nr, cap;
	bool valid;		/* collect valid leaves (else parked ones) */
};

static int collect_leaf(u64 addr, u32 level, u64 pte, void *arg)
{
	struct leaves *l = arg;

	if (hvmm_s2_pte_valid(pte) != l->valid || !pte)
		return 0;
	if (l->nr == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			abort();
	}
	l->v[l->nr++] = (struct leaf){ .addr = addr, .pte = pte, .level = level };
	return 0;
}

static void collect(struct kvm_table *t, u64 ipa, u64 size, bool valid, struct leaves *l)
{
	*l = (struct leaves){ .valid = valid };
	HVMM_BUG_ON(walk_leaves(t, ipa, size, collect_leaf, l));
}

static u64 leaf_size(const struct leaf *l)
{
	return kvm_granule_size(l->level);
}

/* What the trace hook is told: a translation gone, or made. */
static void trace_unmap(const struct hvmm_pgtable *pgt, const struct leaf *l)
{
	hvmm_trace(HVMM_TRACE_S2_UNMAP, pgt->vmid, l->addr, leaf_size(l), 0);
}

static void trace_map(const struct hvmm_pgtable *pgt, u64 addr, u64 pa, u64 size)
{
	hvmm_trace(HVMM_TRACE_S2_MAP, pgt->vmid, addr, pa, size);
}

static int trace_new_leaf(u64 addr, u32 level, u64 pte, void *arg)
{
	if (hvmm_s2_pte_valid(pte))
		trace_map(arg, addr, hvmm_s2_pte_oa(pte), kvm_granule_size(level));
	return 0;
}

/* --- updates ----------------------------------------------------------------------- */

/* kvm_pgtable_stage2_map, after every check: KVM may not refuse it. */
static void kvm_map(struct kvm_table *t, u64 ipa, u64 size, u64 pa, u64 attrs)
{
	int ret = kvm_pgtable_stage2_map(&t->kvm, ipa, size, pa, attrs_prot(attrs),
					 &t->pgt->cache);

	if (ret)
		hvmm_panic(__FILE__, __LINE__, "kvm_pgtable_stage2_map refused a checked map");
}

/*
 * 6.1's stage2_map_walker_try_leaf asks for instruction-cache maintenance
 * of any new entry without XN, and an annotation has none: on a table
 * whose mm_ops has icache_inval_pou, kvm_pgtable_stage2_set_owner
 * invalidates the "page" at output address 0 (kvm_pte_follow of the
 * annotation; later kernels check that the entry is valid). pKVM 6.1 sets
 * owners only in the host table, whose mm_ops has no cache maintenance;
 * the guest tables here get the same: without it for the annotation.
 */
static void kvm_set_owner(struct kvm_table *t, u64 ipa, u64 size, u8 owner)
{
	struct kvm_pgtable_mm_ops *mm_ops = t->kvm.mm_ops;
	int ret;

	t->kvm.mm_ops = &host_mm_ops;
	ret = kvm_pgtable_stage2_set_owner(&t->kvm, ipa, size, &t->pgt->cache, owner);
	t->kvm.mm_ops = mm_ops;
	if (ret)
		hvmm_panic(__FILE__, __LINE__, "kvm_pgtable_stage2_set_owner refused a checked update");
}

int hvmm_pgtable_map(struct hvmm_pgtable *pgt, u64 ipa, u64 size, phys_addr_t pa, u64 attrs)
{
	struct kvm_table *t = table_of(pgt);
	int ret = check_range(pgt, ipa, size);

	if (ret)
		return ret;
	if (!HVMM_ALIGNED(pa, HVMM_PAGE_SIZE) || pa + size < pa ||
	    pa + size - 1 > HVMM_S2_PTE_OA_MASK)
		return -HVMM_EINVAL;
	ret = hvmm_pgtable_check_empty(pgt, ipa, size);
	if (!ret)
		ret = hvmm_page_cache_topup(&pgt->cache, tables_needed(pgt, ipa, size, pa,
			t->kvm.force_pte_cb(ipa, ipa + size, attrs_prot(attrs))));
	if (ret)
		return ret;
	count_maps(pgt, pa, size, true);
	kvm_map(t, ipa, size, pa, attrs);
	HVMM_BUG_ON(walk_leaves(t, ipa, size, trace_new_leaf, pgt));
	return HVMM_OK;
}

/* Guest unmap: KVM clears every entry, frees emptied tables; mm/'s counts drop after. */
static int guest_unmap(struct kvm_table *t, u64 ipa, u64 size)
{
	struct leaves valid, parked;

	collect(t, ipa, size, true, &valid);
	collect(t, ipa, size, false, &parked);
	HVMM_BUG_ON(kvm_pgtable_stage2_unmap(&t->kvm, ipa, size));
	for (u64 i = 0; i < parked.nr; i++)
		parked_del(&t->parked, parked.v[i].addr);
	for (u64 i = 0; i < valid.nr; i++) {
		trace_unmap(t->pgt, &valid.v[i]);
		count_maps(t->pgt, hvmm_s2_pte_oa(valid.v[i].pte), leaf_size(&valid.v[i]), false);
	}
	free(valid.v);
	free(parked.v);
	return HVMM_OK;
}

int hvmm_pgtable_set_invalid(struct hvmm_pgtable *pgt, u64 ipa, u64 size, u64 annotation)
{
	struct kvm_table *t = table_of(pgt);
	struct leaves valid;
	int ret = check_range(pgt, ipa, size);

	pgt_assert_locked(pgt);
	if (ret)
		return ret;
	if (hvmm_s2_pte_valid(annotation) || (is_guest(pgt) && annotation))
		return -HVMM_EINVAL;	/* guest tables hold no owner annotations */
	if (is_guest(pgt))
		return guest_unmap(t, ipa, size);
	/* The host: pKVM's host_stage2_set_owner_locked, page-level annotations. */
	ret = hvmm_page_cache_topup(&pgt->cache, tables_needed(pgt, ipa, size, ~0ULL, true));
	if (ret)
		return ret;
	collect(t, ipa, size, true, &valid);
	kvm_set_owner(t, ipa, size, kvm_owner(annotation));
	/* A block the range cuts is gone whole: the host faults the rest back in. */
	for (u64 i = 0; i < valid.nr; i++)
		trace_unmap(pgt, &valid.v[i]);
	free(valid.v);
	return HVMM_OK;
}

int hvmm_pgtable_unmap(struct hvmm_pgtable *pgt, u64 ipa, u64 size)
{
	return hvmm_pgtable_set_invalid(pgt, ipa, size, 0);
}

/*
 * The host's annotations of a dead guest's pages, back to the host
 * (set_owner to 0, as pKVM's reclaim): every annotation is a page-level
 * entry, so this allocates nothing. 6.1 cannot tell one non-host owner
 * from another: every annotation in the range goes.
 */
int hvmm_pgtable_clear_annotation(struct hvmm_pgtable *pgt, u64 ipa, u64 size, u64 annotation)
{
	struct kvm_table *t = table_of(pgt);
	struct leaves marked;
	int ret = check_range(pgt, ipa, size);

	pgt_assert_locked(pgt);
	if (ret)
		return ret;
	if (!annotation || hvmm_s2_pte_valid(annotation) || is_guest(pgt))
		return -HVMM_EINVAL;
	collect(t, ipa, size, false, &marked);
	for (u64 i = 0; i < marked.nr; i++) {
		struct leaf *l = &marked.v[i];
		u64 n = 1;

		if (kvm_owner(l->pte) != kvm_owner(annotation))
			continue;
		/* One call per run of adjacent annotations. */
		while (i + n < marked.nr && marked.v[i + n].addr == l->addr + n * PAGE_SIZE &&
		       marked.v[i + n].level == HVMM_S2_LAST_LEVEL)
			n++;
		HVMM_BUG_ON(l->level != HVMM_S2_LAST_LEVEL);
		ret = kvm_pgtable_stage2_set_owner(&t->kvm, l->addr, n * PAGE_SIZE, NULL, 0);
		if (ret)
			hvmm_panic(__FILE__, __LINE__, "clearing page-level annotations took a table");
		i += n - 1;
	}
	free(marked.v);
	return HVMM_OK;
}

/* A new descriptor for a valid leaf with the same output address. */
static void replace_leaf(struct kvm_table *t, const struct leaf *l, u64 new)
{
	u64 size = leaf_size(l), pa = hvmm_s2_pte_oa(l->pte);
	u64 diff = (new ^ l->pte) & HVMM_S2_PTE_ATTR_MASK;

	if (!diff)
		return;
	trace_unmap(t->pgt, l);
	if (!(diff & ~(HVMM_S2_PTE_S2AP_R | HVMM_S2_PTE_S2AP_W | HVMM_S2_PTE_XN_MASK)) &&
	    (attrs_prot(new) & KVM_PGTABLE_PROT_RWX) ==
	    ((attrs_prot(new) | attrs_prot(l->pte)) & KVM_PGTABLE_PROT_RWX)) {
		/* Permissions only, and none lost: relaxed in place, as on a permission fault. */
		HVMM_BUG_ON(kvm_pgtable_stage2_relax_perms(&t->kvm, l->addr,
			attrs_prot(new) & KVM_PGTABLE_PROT_RWX));
	} else {
		/*
		 * KVM's map replaces a leaf (break-before-make) only when more
		 * than its permissions change: where permissions are lost and
		 * nothing else changes, the leaf is made invalid first (an
		 * annotation: its table stays), then mapped again.
		 */
		if (!(diff & ~(HVMM_S2_PTE_S2AP_R | HVMM_S2_PTE_S2AP_W | HVMM_S2_PTE_XN_MASK)))
			kvm_set_owner(t, l->addr, size, KVM_OWNER_OTHER);
		kvm_map(t, l->addr, size, pa, new);
	}
	trace_map(t->pgt, l->addr, pa, size);
}

/* Every valid leaf of the range through @change; a leaf the range cuts cannot be split. */
static int change_leaves(struct hvmm_pgtable *pgt, u64 ipa, u64 size, u64 set, u64 mask)
{
	struct kvm_table *t = table_of(pgt);
	struct leaves valid;
	int ret = check_range(pgt, ipa, size);

	pgt_assert_locked(pgt);
	if (ret)
		return ret;
	collect(t, ipa, size, true, &valid);
	for (u64 i = 0; i < valid.nr && !ret; i++)
		if (valid.v[i].addr < ipa || valid.v[i].addr + leaf_size(&valid.v[i]) > ipa + size)
			ret = -HVMM_EINVAL;
	for (u64 i = 0; i < valid.nr && !ret; i++)
		replace_leaf(t, &valid.v[i], (valid.v[i].pte & ~mask) | (set & mask));
	free(valid.v);
	return ret;
}

int hvmm_pgtable_protect(struct hvmm_pgtable *pgt, u64 ipa, u64 size, u64 attrs)
{
	return change_leaves(pgt, ipa, size, attrs, HVMM_S2_PTE_ATTR_MASK);
}

int hvmm_pgtable_set_sw(struct hvmm_pgtable *pgt, u64 ipa, u64 size, u32 sw)
{
	return change_leaves(pgt, ipa, size, (u64)sw << HVMM_S2_PTE_SW_SHIFT,
			     HVMM_S2_PTE_SW_MASK);
}

/*
 * The leaves park and unpark move between states: a guest table's only,
 * under its owner's lock, in a range the table can hold.
 */
static int collect_guest(struct hvmm_pgtable *pgt, u64 ipa, u64 size, bool valid,
			 struct leaves *out)
{
	int ret = check_range(pgt, ipa, size);

	if (!is_guest(pgt))
		return -HVMM_EINVAL;
	pgt_assert_locked(pgt);
	if (ret)
		return ret;
	collect(table_of(pgt), ipa, size, valid, out);
	return HVMM_OK;
}

/* Valid leaves become owner annotations, their descriptors kept beside the table. */
int hvmm_pgtable_park(struct hvmm_pgtable *pgt, u64 ipa, u64 size)
{
	struct kvm_table *t;
	struct leaves valid;
	int ret = collect_guest(pgt, ipa, size, true, &valid);

	if (ret)
		return ret;
	t = table_of(pgt);
	for (u64 i = 0; i < valid.nr; i++) {
		struct leaf *l = &valid.v[i];

		HVMM_BUG_ON(l->level != HVMM_S2_LAST_LEVEL);
		parked_put(&t->parked, l->addr, l->pte & ~HVMM_S2_PTE_VALID);
		kvm_set_owner(t, l->addr, PAGE_SIZE, KVM_OWNER_OTHER);
		trace_unmap(pgt, l);
		count_maps(pgt, hvmm_s2_pte_oa(l->pte), PAGE_SIZE, false);
	}
	free(valid.v);
	return HVMM_OK;
}

int hvmm_pgtable_unpark(struct hvmm_pgtable *pgt, u64 ipa, u64 size, u64 attrs)
{
	struct kvm_table *t;
	struct leaves parked;
	int ret = collect_guest(pgt, ipa, size, false, &parked);

	if (ret)
		return ret;
	t = table_of(pgt);
	for (u64 i = 0; i < parked.nr; i++) {
		struct leaf *l = &parked.v[i];
		u64 pa = hvmm_s2_pte_oa(l->pte);

		count_maps(pgt, pa, PAGE_SIZE, true);
		/* Over the annotation, in the table that holds it: no table page taken. */
		kvm_map(t, l->addr, PAGE_SIZE, pa, attrs);
		parked_del(&t->parked, l->addr);
		trace_map(pgt, l->addr, pa, PAGE_SIZE);
	}
	free(parked.v);
	return HVMM_OK;
}

/* --- life cycle ------------------------------------------------------------------------ */

/*
 * The host's table is set up once per boot (hvmm_mem_protect_init): the
 * tables and pools of an earlier machine in this process are gone with it.
 */
static void boot(void)
{
	for (unsigned int i = 0; i < MAX_TABLES; i++) {
		parked_clear(&tables[i].parked);
		tables[i].pgt = NULL;
	}
	nr_pools = 0;
}

static struct kvm_table *table_claim(struct hvmm_pgtable *pgt)
{
	struct kvm_table *free_slot = NULL;

	for (unsigned int i = 0; i < MAX_TABLES; i++) {
		if (tables[i].pgt == pgt)
			return &tables[i];	/* a machine set up again: the old one is gone */
		if (!tables[i].pgt && !free_slot)
			free_slot = &tables[i];
	}
	return free_slot;
}

int hvmm_pgtable_init(struct hvmm_pgtable *pgt, struct hvmm_pool *pool, u32 ia_bits,
		      u32 start_level, u16 vmid, u32 flags, hvmm_spinlock_t *lock)
{
	u32 nr = hvmm_pgtable_nr_roots(ia_bits, start_level);
	bool guest = flags & HVMM_PGT_GUEST;
	struct kvm_table *t;
	int ret;

	if (!nr)
		return -HVMM_EINVAL;
	if (pgt == &hvmm_host.pgt)
		boot();
	t = table_claim(pgt);
	if (!t)
		return -HVMM_ENOMEM;
	parked_clear(&t->parked);
	pool_register(pool);
	/* VTCR_EL2: T0SZ from the input size, SL0 from the start level (Arm ARM D19.2). */
	t->arch.vtcr = VTCR_EL2_FLAGS | VTCR_EL2_T0SZ(ia_bits) |
		       ((u64)(VTCR_EL2_TGRAN_SL0_BASE - start_level) << VTCR_EL2_SL0_SHIFT) |
		       ((u64)ID_AA64MMFR0_EL1_PARANGE_MAX << VTCR_EL2_PS_SHIFT) | VTCR_EL2_VS_16BIT;
	t->mmu = (struct kvm_s2_mmu){ .vmid = vmid, .pgt = &t->kvm, .arch = &t->arch };
	root_pool = pool;
	ret = __kvm_pgtable_stage2_init(&t->kvm, &t->mmu, guest ? &guest_mm_ops : &host_mm_ops,
					guest ? 0 : KVM_HOST_S2_FLAGS,
					guest ? guest_force_pte : host_force_pte);
	root_pool = NULL;
	if (ret) {
		t->pgt = NULL;
		return to_hvmm_err(ret);
	}
	HVMM_BUG_ON(t->kvm.ia_bits != ia_bits || t->kvm.start_level != start_level);
	t->pgt = pgt;
	pgt->pgd = t->kvm.pgd;
	pgt->pgd_pa = hvmm_virt_to_phys(t->kvm.pgd);
	pgt->ia_bits = ia_bits;
	pgt->start_level = start_level;
	pgt->nr_roots = nr;
	pgt->flags = flags;
	pgt->vmid = vmid;
	pgt->lock = lock;
	hvmm_page_cache_init(&pgt->cache, pool);
	return HVMM_OK;
}

static int destroy_leaf(u64 addr, u32 level, u64 pte, void *arg)
{
	struct kvm_table *t = arg;
	struct leaf l = { .addr = addr, .pte = pte, .level = level };

	if (hvmm_s2_pte_valid(pte)) {
		trace_unmap(t->pgt, &l);
		count_maps(t->pgt, hvmm_s2_pte_oa(pte), leaf_size(&l), false);
	}
	return 0;
}

/*
 * kvm_pgtable_stage2_destroy: no break-before-make, no TLB maintenance;
 * the caller stopped the VM's vCPUs and invalidated its VMID (see
 * hvmm/pgtable.h). mm/'s counts of what the leaves mapped drop first.
 */
void hvmm_pgtable_destroy(struct hvmm_pgtable *pgt)
{
	struct kvm_table *t = table_of(pgt);

	pgt_assert_locked(pgt);
	HVMM_BUG_ON(walk_leaves(t, 0, hvmm_pgtable_ia_size(pgt), destroy_leaf, t));
	kvm_pgtable_stage2_destroy(&t->kvm);
	parked_clear(&t->parked);
	hvmm_page_cache_trim(&pgt->cache, 0);
	t->pgt = NULL;
	pgt->pgd = NULL;
}

/* The simulator asks which page tables this mm/ runs (sim/pgtable/registry.c). */
const char sim_mm_pgtable_variant[] = "linux-kvm";
