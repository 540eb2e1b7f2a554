// SPDX-License-Identifier: MIT
/*
 * Page ownership transitions (see hvmm/mem_protect.h).
 *
 * Every transition has the same shape: check the arguments, take the
 * locks, check every page and every stage-2 entry involved, reserve every
 * table page the table updates could need, and only then change state.
 * A failure before the last step returns with nothing changed.
 */
#include <hvmm/mem_protect.h>
#include <hvmm/string.h>
#include <hvmm/vm.h>

struct hvmm_host hvmm_host;

/* Largest range one transition accepts: 1 GiB. */
#define MAX_PAGES	(1ULL << 18)

/* --- ranges --------------------------------------------------------------- */

bool hvmm_is_ram(phys_addr_t pa)
{
	u32 i;

	for (i = 0; i < hvmm_host.nr_ram; i++)
		if (pa - hvmm_host.ram[i].base < hvmm_host.ram[i].size)
			return true;
	return false;
}

/* True if [pa, pa + size) is inside one RAM range. */
static bool range_is_ram(phys_addr_t pa, u64 size)
{
	u32 i;

	for (i = 0; i < hvmm_host.nr_ram; i++) {
		const struct hvmm_memblock *r = &hvmm_host.ram[i];

		if (pa >= r->base && pa - r->base < r->size && size <= r->size - (pa - r->base))
			return true;
	}
	return false;
}

static bool range_has_ram(phys_addr_t pa, u64 size)
{
	u32 i;

	for (i = 0; i < hvmm_host.nr_ram; i++) {
		const struct hvmm_memblock *r = &hvmm_host.ram[i];

		if (r->base < pa + size && pa < r->base + r->size)
			return true;
	}
	return false;
}

/*
 * [pfn, pfn + nr) must lie below the output address size: the last frame an
 * output address can name is OA_MASK >> PAGE_SHIFT, so a range may end one
 * past it. Frames that can be named but are not RAM are -EFAULT, not -EINVAL.
 */
static int check_pfns(u64 pfn, u64 nr)
{
	if (!nr || nr > MAX_PAGES || pfn > (HVMM_S2_PTE_OA_MASK >> HVMM_PAGE_SHIFT) + 1 - nr)
		return -HVMM_EINVAL;
	if (!range_is_ram(hvmm_pfn_to_phys(pfn), nr << HVMM_PAGE_SHIFT))
		return -HVMM_EFAULT;
	return HVMM_OK;
}

static int check_ipas(const struct hvmm_vm *vm, u64 ipa, u64 nr)
{
	if (!nr || nr > MAX_PAGES || !HVMM_ALIGNED(ipa, HVMM_PAGE_SIZE))
		return -HVMM_EINVAL;
	if (ipa >= hvmm_pgtable_ia_size(&vm->pgt) ||
	    nr > (hvmm_pgtable_ia_size(&vm->pgt) - ipa) >> HVMM_PAGE_SHIFT)
		return -HVMM_ERANGE;
	return HVMM_OK;
}

static int check_prot(u32 prot)
{
	return prot & ~HVMM_PROT_RWX ? -HVMM_EINVAL : HVMM_OK;
}

/* --- pages ---------------------------------------------------------------- */

static bool host_owns(const struct hvmm_page *p)
{
	return p->owner == HVMM_OWNER_HOST && p->host_state == HVMM_PAGE_OWNED &&
	       p->type == HVMM_PAGE_DATA && !atomic_load(&p->map_count);
}

static bool host_may_share(const struct hvmm_page *p)
{
	return p->owner == HVMM_OWNER_HOST && p->type == HVMM_PAGE_DATA &&
	       (p->host_state == HVMM_PAGE_OWNED || p->host_state == HVMM_PAGE_SHARED_OWNED) &&
	       p->share_count < UINT32_MAX;
}

/* Page states are the host lock's: reading them without it sees a transition half-done. */
static bool all_pages(u64 pfn, u64 nr, bool (*ok)(const struct hvmm_page *))
{
	u64 i;

	hvmm_assert_spin_locked(&hvmm_host.lock);
	for (i = 0; i < nr; i++)
		if (!ok(hvmm_pfn_to_page(pfn + i)))
			return false;
	return true;
}

/* One trace event for the range: boot hands the hypervisor thousands of pages at once. */
static void set_pages(u64 pfn, u64 nr, u16 owner, u8 host_state)
{
	u64 i;

	hvmm_assert_spin_locked(&hvmm_host.lock);
	for (i = 0; i < nr; i++) {
		struct hvmm_page *p = hvmm_pfn_to_page(pfn + i);

		p->owner = owner;
		p->host_state = host_state;
	}
	if (nr)
		hvmm_trace(HVMM_TRACE_OWNERSHIP, hvmm_pfn_to_phys(pfn), nr, owner, host_state);
}

/* --- the host stage-2 ----------------------------------------------------- */

static u64 owner_annotation(u16 owner)
{
	return owner == HVMM_OWNER_HOST ? 0 :
	       ((u64)owner << HVMM_S2_INVALID_OWNER_SHIFT) & HVMM_S2_INVALID_OWNER_MASK;
}

/*
 * Table pages marking a range in the host's stage-2 can take, reserved
 * before anything changes. The table says how many: mm/'s own annotates
 * whole blocks and needs tables only at the range's edges, an
 * implementation that annotates page by page (pKVM's host stage-2, with
 * host_stage2_force_pte_cb) needs a last-level table per 2 MiB.
 */
static int reserve_host_owner(phys_addr_t pa, u64 size, u16 owner)
{
	return hvmm_pgtable_reserve(&hvmm_host.pgt,
				    hvmm_pgtable_set_invalid_tables_needed(&hvmm_host.pgt, pa, size,
									   owner_annotation(owner)));
}

/* Marks the host's view of a range: absent and annotated, or lazily mappable. */
static void host_set_owner(phys_addr_t pa, u64 size, u16 owner)
{
	HVMM_BUG_ON(hvmm_pgtable_set_invalid(&hvmm_host.pgt, pa, size, owner_annotation(owner)));
}

/* Boot memory needs no scrubbing: nothing but the hypervisor ever saw it. */
static void mark_hyp_boot(u64 pfn, u64 nr)
{
	u64 i;

	for (i = 0; i < nr; i++) {
		struct hvmm_page *p = hvmm_pfn_to_page(pfn + i);

		p->type = HVMM_PAGE_HYP;
		p->flags |= HVMM_PAGE_F_HYP_BOOT;
	}
	set_pages(pfn, nr, HVMM_OWNER_HYP, HVMM_PAGE_NOPAGE);
}

int hvmm_mem_protect_init(struct hvmm_pool *pool, const struct hvmm_memblock *ram,
			  u32 nr_ram, u32 ia_bits)
{
	int ret, start = hvmm_pgtable_default_start_level(ia_bits);
	u64 first, nr;
	u32 i;

	if (nr_ram > HVMM_MAX_MEMBLOCKS || start < 0)
		return -HVMM_EINVAL;
	for (i = 0; i < nr_ram; i++) {
		if (!ram[i].size || !HVMM_ALIGNED(ram[i].base | ram[i].size, HVMM_PAGE_SIZE) ||
		    ram[i].base + ram[i].size < ram[i].base ||
		    ram[i].base + ram[i].size > (1ULL << ia_bits) ||
		    !hvmm_phys_valid(ram[i].base) ||
		    !hvmm_phys_valid(ram[i].base + ram[i].size - 1) ||
		    (i && ram[i].base < ram[i - 1].base + ram[i - 1].size))
			return -HVMM_EINVAL;
		hvmm_host.ram[i] = ram[i];
	}
	hvmm_host.nr_ram = nr_ram;
	hvmm_spin_lock_init(&hvmm_host.lock);
	/* The pool is the hypervisor's before any page of it becomes a table. */
	first = hvmm_phys_to_pfn(pool->range_start);
	nr = hvmm_phys_to_pfn(pool->range_end) - first;
	ret = check_pfns(first, nr);
	if (ret)
		return ret;
	/*
	 * Boot is single-threaded, but the page states and the host table
	 * assert their lock wherever they are used: take it here too.
	 */
	hvmm_spin_lock(&hvmm_host.lock);
	mark_hyp_boot(first, nr);
	ret = hvmm_pgtable_init(&hvmm_host.pgt, pool, ia_bits, (u32)start, HVMM_HOST_VMID, 0,
				&hvmm_host.lock);
	if (!ret) {
		ret = hvmm_pgtable_set_invalid(&hvmm_host.pgt, pool->range_start,
					       nr << HVMM_PAGE_SHIFT,
					       owner_annotation(HVMM_OWNER_HYP));
		hvmm_pgtable_trim(&hvmm_host.pgt);
	}
	hvmm_spin_unlock(&hvmm_host.lock);
	return ret;
}

int hvmm_host_reserve_hyp(u64 pfn, u64 nr)
{
	int ret = check_pfns(pfn, nr);

	if (ret)
		return ret;
	hvmm_spin_lock(&hvmm_host.lock);
	if (!all_pages(pfn, nr, host_owns)) {
		ret = -HVMM_EPERM;
		goto unlock;
	}
	ret = hvmm_pgtable_set_invalid(&hvmm_host.pgt, hvmm_pfn_to_phys(pfn),
				       nr << HVMM_PAGE_SHIFT, owner_annotation(HVMM_OWNER_HYP));
	if (ret)
		goto unlock;
	mark_hyp_boot(pfn, nr);
unlock:
	hvmm_pgtable_trim(&hvmm_host.pgt);
	hvmm_spin_unlock(&hvmm_host.lock);
	return ret;
}

/*
 * The largest block around @pa that the host may map: it must lie in one
 * RAM range or contain no RAM at all, so that one memory type fits it.
 */
static int host_map_around(phys_addr_t pa, u32 empty_level)
{
	u32 level = hvmm_max(empty_level, 1u);
	u32 prot = HVMM_PROT_R | HVMM_PROT_W | HVMM_PROT_DEVICE;
	phys_addr_t base;
	u64 size;

	for (;; level++) {
		size = hvmm_s2_level_size(level);
		base = HVMM_ALIGN_DOWN(pa, size);
		if (range_is_ram(base, size)) {
			prot = HVMM_PROT_RWX;
			break;
		}
		/* A page is RAM or not, so the last level always ends the loop. */
		if (!range_has_ram(base, size) || level == HVMM_S2_LAST_LEVEL)
			break;
	}
	return hvmm_pgtable_map(&hvmm_host.pgt, base, size, base,
				hvmm_pgtable_leaf_attrs(prot, HVMM_PAGE_OWNED));
}

int hvmm_host_handle_fault(phys_addr_t pa)
{
	u32 level;
	u64 pte;
	int ret;

	hvmm_spin_lock(&hvmm_host.lock);
	/* -HVMM_ERANGE beyond the host's address space. */
	ret = hvmm_pgtable_get_leaf(&hvmm_host.pgt, pa, &pte, &level);
	if (ret || hvmm_s2_pte_valid(pte))
		;			/* mapped by another CPU, or a stale TLB entry */
	else if (pte)
		ret = -HVMM_EPERM;	/* owned by someone else */
	else
		ret = host_map_around(pa, level);
	hvmm_pgtable_trim(&hvmm_host.pgt);
	hvmm_spin_unlock(&hvmm_host.lock);
	return ret;
}

/* --- host and hypervisor -------------------------------------------------- */

static bool donated_to_hyp(const struct hvmm_page *p)
{
	return p->owner == HVMM_OWNER_HYP && p->type == HVMM_PAGE_HYP &&
	       !(p->flags & HVMM_PAGE_F_HYP_BOOT);
}

int hvmm_host_donate_hyp(u64 pfn, u64 nr)
{
	int ret = check_pfns(pfn, nr);
	u64 i;

	if (ret)
		return ret;
	hvmm_spin_lock(&hvmm_host.lock);
	if (!all_pages(pfn, nr, host_owns))
		ret = -HVMM_EPERM;
	else
		ret = reserve_host_owner(hvmm_pfn_to_phys(pfn), nr << HVMM_PAGE_SHIFT, HVMM_OWNER_HYP);
	if (!ret) {
		host_set_owner(hvmm_pfn_to_phys(pfn), nr << HVMM_PAGE_SHIFT, HVMM_OWNER_HYP);
		for (i = 0; i < nr; i++)
			hvmm_page_retype(hvmm_pfn_to_page(pfn + i), HVMM_PAGE_HYP);
		set_pages(pfn, nr, HVMM_OWNER_HYP, HVMM_PAGE_NOPAGE);
	}
	hvmm_pgtable_trim(&hvmm_host.pgt);
	hvmm_spin_unlock(&hvmm_host.lock);
	return ret;
}

int hvmm_hyp_donate_host(u64 pfn, u64 nr)
{
	int ret = check_pfns(pfn, nr);
	u64 i;

	if (ret)
		return ret;
	hvmm_spin_lock(&hvmm_host.lock);
	if (!all_pages(pfn, nr, donated_to_hyp))
		ret = -HVMM_EPERM;
	else
		ret = reserve_host_owner(hvmm_pfn_to_phys(pfn), nr << HVMM_PAGE_SHIFT, HVMM_OWNER_HOST);
	if (!ret) {
		/* Scrubbed before the host stage-2 lets the host at them. */
		for (i = 0; i < nr; i++)
			hvmm_page_retype(hvmm_pfn_to_page(pfn + i), HVMM_PAGE_DATA);
		set_pages(pfn, nr, HVMM_OWNER_HOST, HVMM_PAGE_OWNED);
		host_set_owner(hvmm_pfn_to_phys(pfn), nr << HVMM_PAGE_SHIFT, HVMM_OWNER_HOST);
	}
	hvmm_pgtable_trim(&hvmm_host.pgt);
	hvmm_spin_unlock(&hvmm_host.lock);
	return ret;
}

/* --- guest ranges ---------------------------------------------------------- */

/* What a guest range must look like, checked leaf by leaf. */
struct guest_range {
	const struct hvmm_vm *vm;
	u64 start, end, next;
	bool valid;		/* valid leaves (else parked ones) */
	u32 sw;			/* page state in the leaves */
	phys_addr_t pa;		/* expected output address of start, or ~0 */
	bool (*page_ok)(const struct hvmm_page *p, const struct hvmm_vm *vm);
	/* Applied per leaf once the whole range passed the check. */
	void (*apply)(phys_addr_t pa, u64 size, const struct hvmm_vm *vm);
	/* If apply marks the host stage-2 with host_annotation: the pages that takes. */
	bool marks_host;
	u64 host_annotation;
	u64 host_tables;
};

static int guest_leaf_check(u64 addr, u32 level, u64 pte, void *arg)
{
	struct guest_range *g = arg;
	u64 lo = hvmm_max(addr, g->start);
	u64 hi = hvmm_min(addr + hvmm_s2_level_size(level), g->end);
	phys_addr_t pa = hvmm_s2_pte_oa(pte) + (lo - addr);
	u64 i;

	if (lo != g->next)
		return -HVMM_ENOENT;
	if (hvmm_s2_pte_valid(pte) != g->valid || hvmm_s2_pte_sw(pte) != g->sw)
		return -HVMM_EPERM;
	if (g->pa != ~0ULL && pa != g->pa + (lo - g->start))
		return -HVMM_EPERM;
	for (i = 0; i < (hi - lo) >> HVMM_PAGE_SHIFT; i++)
		if (!g->page_ok(hvmm_phys_to_page(pa + (i << HVMM_PAGE_SHIFT)), g->vm))
			return -HVMM_EPERM;
	if (g->marks_host)
		g->host_tables += hvmm_pgtable_set_invalid_tables_needed(&hvmm_host.pgt, pa, hi - lo,
									 g->host_annotation);
	g->next = hi;
	return 0;
}

static int guest_leaf_apply(u64 addr, u32 level, u64 pte, void *arg)
{
	struct guest_range *g = arg;
	u64 lo = hvmm_max(addr, g->start);
	u64 hi = hvmm_min(addr + hvmm_s2_level_size(level), g->end);

	g->apply(hvmm_s2_pte_oa(pte) + (lo - addr), hi - lo, g->vm);
	return 0;
}

static int check_guest_range(struct guest_range *g)
{
	int ret;

	hvmm_assert_spin_locked(&hvmm_host.lock);
	g->next = g->start;
	g->host_tables = 0;
	ret = hvmm_pgtable_walk(&g->vm->pgt, g->start, g->end - g->start, guest_leaf_check, g);
	if (!ret && g->next != g->end)
		ret = -HVMM_ENOENT;
	return ret;
}

static int check_guest_empty(const struct hvmm_vm *vm, u64 ipa, u64 nr)
{
	return hvmm_pgtable_check_empty(&vm->pgt, ipa, nr << HVMM_PAGE_SHIFT);
}

static void lock_guest(struct hvmm_vm *vm)
{
	hvmm_spin_lock(&hvmm_host.lock);
	hvmm_spin_lock(&vm->lock);
}

static void unlock_guest(struct hvmm_vm *vm)
{
	hvmm_pgtable_trim(&vm->pgt);
	hvmm_pgtable_trim(&hvmm_host.pgt);
	hvmm_spin_unlock(&vm->lock);
	hvmm_spin_unlock(&hvmm_host.lock);
}

static int reserve_guest_map(struct hvmm_vm *vm, u64 ipa, u64 nr, phys_addr_t pa)
{
	return hvmm_pgtable_reserve(&vm->pgt, hvmm_pgtable_map_tables_needed(
		&vm->pgt, ipa, nr << HVMM_PAGE_SHIFT, pa));
}

/* --- host and guests ------------------------------------------------------ */

int hvmm_host_donate_guest(struct hvmm_vm *vm, u64 ipa, u64 pfn, u64 nr)
{
	phys_addr_t pa = hvmm_pfn_to_phys(pfn);
	int ret = check_pfns(pfn, nr);

	if (!ret)
		ret = check_ipas(vm, ipa, nr);
	if (ret)
		return ret;
	lock_guest(vm);
	if (!all_pages(pfn, nr, host_owns))
		ret = -HVMM_EPERM;
	if (!ret)
		ret = check_guest_empty(vm, ipa, nr);
	if (!ret)
		ret = reserve_host_owner(pa, nr << HVMM_PAGE_SHIFT, vm->owner_id);
	if (!ret)
		ret = reserve_guest_map(vm, ipa, nr, pa);
	if (!ret) {
		host_set_owner(pa, nr << HVMM_PAGE_SHIFT, vm->owner_id);
		set_pages(pfn, nr, vm->owner_id, HVMM_PAGE_NOPAGE);
		HVMM_BUG_ON(hvmm_pgtable_map(&vm->pgt, ipa, nr << HVMM_PAGE_SHIFT, pa,
					     hvmm_pgtable_leaf_attrs(HVMM_PROT_RWX, HVMM_PAGE_OWNED)));
	}
	unlock_guest(vm);
	return ret;
}

int hvmm_host_share_guest(struct hvmm_vm *vm, u64 ipa, u64 pfn, u64 nr, u32 prot)
{
	phys_addr_t pa = hvmm_pfn_to_phys(pfn);
	int ret = check_pfns(pfn, nr);
	u64 i;

	if (!ret)
		ret = check_ipas(vm, ipa, nr);
	if (!ret)
		ret = check_prot(prot);
	if (ret)
		return ret;
	lock_guest(vm);
	if (!all_pages(pfn, nr, host_may_share))
		ret = -HVMM_EPERM;
	if (!ret)
		ret = check_guest_empty(vm, ipa, nr);
	if (!ret)
		ret = reserve_guest_map(vm, ipa, nr, pa);
	if (!ret) {
		for (i = 0; i < nr; i++)
			hvmm_pfn_to_page(pfn + i)->share_count++;
		set_pages(pfn, nr, HVMM_OWNER_HOST, HVMM_PAGE_SHARED_OWNED);
		HVMM_BUG_ON(hvmm_pgtable_map(&vm->pgt, ipa, nr << HVMM_PAGE_SHIFT, pa,
					     hvmm_pgtable_leaf_attrs(prot, HVMM_PAGE_SHARED_BORROWED)));
	}
	unlock_guest(vm);
	return ret;
}

static bool lent_by_host(const struct hvmm_page *p, const struct hvmm_vm *vm)
{
	(void)vm;
	return p->owner == HVMM_OWNER_HOST && p->host_state == HVMM_PAGE_SHARED_OWNED &&
	       p->share_count > 0;
}

static void release_borrowed(phys_addr_t pa, u64 size)
{
	u64 i;

	hvmm_assert_spin_locked(&hvmm_host.lock);
	for (i = 0; i < size >> HVMM_PAGE_SHIFT; i++) {
		struct hvmm_page *p = hvmm_phys_to_page(pa + (i << HVMM_PAGE_SHIFT));

		/* A guest leaf borrowing a page the host lends to nobody: leave the page be. */
		if (HVMM_WARN_ON(!p->share_count))
			continue;
		if (--p->share_count == 0)
			set_pages(hvmm_page_to_pfn(p), 1, HVMM_OWNER_HOST, HVMM_PAGE_OWNED);
	}
}

int hvmm_host_unshare_guest(struct hvmm_vm *vm, u64 ipa, u64 pfn, u64 nr)
{
	struct guest_range g = {
		.vm = vm, .start = ipa, .end = ipa + (nr << HVMM_PAGE_SHIFT), .valid = true,
		.sw = HVMM_PAGE_SHARED_BORROWED, .pa = hvmm_pfn_to_phys(pfn),
		.page_ok = lent_by_host,
	};
	int ret = check_pfns(pfn, nr);

	if (!ret)
		ret = check_ipas(vm, ipa, nr);
	if (ret)
		return ret;
	lock_guest(vm);
	ret = check_guest_range(&g);
	if (!ret)
		ret = hvmm_pgtable_reserve(&vm->pgt, HVMM_PGT_EDGE_TABLES);
	if (!ret) {
		/* The guest loses access (and its TLB entries) before the host's count drops. */
		HVMM_BUG_ON(hvmm_pgtable_unmap(&vm->pgt, ipa, nr << HVMM_PAGE_SHIFT));
		release_borrowed(hvmm_pfn_to_phys(pfn), nr << HVMM_PAGE_SHIFT);
	}
	unlock_guest(vm);
	return ret;
}

static bool guest_owns(const struct hvmm_page *p, const struct hvmm_vm *vm)
{
	return p->owner == vm->owner_id && p->host_state == HVMM_PAGE_NOPAGE &&
	       p->type == HVMM_PAGE_DATA;
}

static bool guest_lends(const struct hvmm_page *p, const struct hvmm_vm *vm)
{
	return p->owner == vm->owner_id && p->host_state == HVMM_PAGE_SHARED_BORROWED &&
	       p->type == HVMM_PAGE_DATA;
}

static void lend_to_host(phys_addr_t pa, u64 size, const struct hvmm_vm *vm)
{
	set_pages(hvmm_phys_to_pfn(pa), size >> HVMM_PAGE_SHIFT, vm->owner_id,
		  HVMM_PAGE_SHARED_BORROWED);
	host_set_owner(pa, size, HVMM_OWNER_HOST);
}

static void take_back_from_host(phys_addr_t pa, u64 size, const struct hvmm_vm *vm)
{
	host_set_owner(pa, size, vm->owner_id);
	set_pages(hvmm_phys_to_pfn(pa), size >> HVMM_PAGE_SHIFT, vm->owner_id, HVMM_PAGE_NOPAGE);
}

/* Share or unshare a guest's own range with the host: the two differ only in states. */
static int guest_host_sharing(struct hvmm_vm *vm, u64 ipa, u64 nr, bool share)
{
	struct guest_range g = {
		.vm = vm, .start = ipa, .end = ipa + (nr << HVMM_PAGE_SHIFT), .valid = true,
		.sw = share ? HVMM_PAGE_OWNED : HVMM_PAGE_SHARED_OWNED, .pa = ~0ULL,
		.page_ok = share ? guest_owns : guest_lends,
		.apply = share ? lend_to_host : take_back_from_host,
		.marks_host = true,
		.host_annotation = share ? owner_annotation(HVMM_OWNER_HOST) :
					   owner_annotation(vm->owner_id),
	};
	int ret = check_ipas(vm, ipa, nr);

	if (ret)
		return ret;
	lock_guest(vm);
	ret = check_guest_range(&g);
	/*
	 * The host stage-2 changes leaf by leaf, all to the same value: what
	 * each leaf's update would take from the table as it is now, summed,
	 * is enough for all of them (hvmm_pgtable_set_invalid_tables_needed).
	 */
	if (!ret)
		ret = g.host_tables > UINT32_MAX ? -HVMM_ENOMEM :
		      hvmm_pgtable_reserve(&hvmm_host.pgt, (u32)g.host_tables);
	if (!ret)
		ret = hvmm_pgtable_reserve(&vm->pgt, HVMM_PGT_EDGE_TABLES);
	if (!ret) {
		HVMM_BUG_ON(hvmm_pgtable_walk(&vm->pgt, ipa, nr << HVMM_PAGE_SHIFT,
					      guest_leaf_apply, &g));
		HVMM_BUG_ON(hvmm_pgtable_set_sw(&vm->pgt, ipa, nr << HVMM_PAGE_SHIFT,
						share ? HVMM_PAGE_SHARED_OWNED : HVMM_PAGE_OWNED));
	}
	unlock_guest(vm);
	return ret;
}

int hvmm_guest_share_host(struct hvmm_vm *vm, u64 ipa, u64 nr)
{
	return guest_host_sharing(vm, ipa, nr, true);
}

int hvmm_guest_unshare_host(struct hvmm_vm *vm, u64 ipa, u64 nr)
{
	return guest_host_sharing(vm, ipa, nr, false);
}

/* --- a guest's own memory ------------------------------------------------- */

/*
 * @pfn: the first frame the op names (a map), or NULL for ops that name
 * none. Not a reserved value: the host passes any 64-bit frame number, and
 * one that stood for "none" would skip check_pfns() (a map of frame ~0
 * was checked only against the guest's leaves).
 */
static int guest_own_update(struct hvmm_vm *vm, u64 ipa, u64 nr, const u64 *pfn, u32 prot,
			    bool valid, int (*update)(struct hvmm_vm *vm, u64 ipa, u64 size,
						      u64 attrs))
{
	struct guest_range g = {
		.vm = vm, .start = ipa, .end = ipa + (nr << HVMM_PAGE_SHIFT), .valid = valid,
		.sw = HVMM_PAGE_OWNED, .pa = pfn ? hvmm_pfn_to_phys(*pfn) : ~0ULL,
		.page_ok = guest_owns,
	};
	int ret = check_ipas(vm, ipa, nr);

	if (!ret)
		ret = check_prot(prot);
	if (!ret && pfn)
		ret = check_pfns(*pfn, nr);
	if (ret)
		return ret;
	lock_guest(vm);
	ret = check_guest_range(&g);
	if (!ret)
		ret = hvmm_pgtable_reserve(&vm->pgt, HVMM_PGT_EDGE_TABLES);
	if (!ret)
		HVMM_BUG_ON(update(vm, ipa, nr << HVMM_PAGE_SHIFT,
				   hvmm_pgtable_leaf_attrs(prot, HVMM_PAGE_OWNED)));
	unlock_guest(vm);
	return ret;
}

static int do_park(struct hvmm_vm *vm, u64 ipa, u64 size, u64 attrs)
{
	(void)attrs;
	return hvmm_pgtable_park(&vm->pgt, ipa, size);
}

static int do_unpark(struct hvmm_vm *vm, u64 ipa, u64 size, u64 attrs)
{
	return hvmm_pgtable_unpark(&vm->pgt, ipa, size, attrs);
}

static int do_protect(struct hvmm_vm *vm, u64 ipa, u64 size, u64 attrs)
{
	return hvmm_pgtable_protect(&vm->pgt, ipa, size, attrs);
}

int hvmm_guest_unmap(struct hvmm_vm *vm, u64 ipa, u64 nr)
{
	return guest_own_update(vm, ipa, nr, NULL, 0, true, do_park);
}

int hvmm_guest_map(struct hvmm_vm *vm, u64 ipa, u64 pfn, u64 nr, u32 prot)
{
	return guest_own_update(vm, ipa, nr, &pfn, prot, false, do_unpark);
}

int hvmm_guest_protect(struct hvmm_vm *vm, u64 ipa, u64 nr, u32 prot)
{
	return guest_own_update(vm, ipa, nr, NULL, prot, true, do_protect);
}

int hvmm_guest_handle_fault(struct hvmm_vm *vm, u64 ipa)
{
	u64 pte, size;
	u32 level;
	int ret;

	lock_guest(vm);
	/* -HVMM_ERANGE beyond the IPA space; a valid leaf: another vCPU got there first. */
	ret = hvmm_pgtable_get_leaf(&vm->pgt, ipa, &pte, &level);
	if (ret || hvmm_s2_pte_valid(pte)) {
		;
	} else if (!pte) {
		ret = -HVMM_ENOENT;
	} else {
		/* A parked leaf: the guest's own memory; the faulting page is mapped again. */
		size = HVMM_PAGE_SIZE;
		ret = hvmm_pgtable_reserve(&vm->pgt, HVMM_PGT_EDGE_TABLES);
		if (!ret)
			HVMM_BUG_ON(hvmm_pgtable_unpark(&vm->pgt, HVMM_ALIGN_DOWN(ipa, size), size,
				hvmm_pgtable_leaf_attrs(HVMM_PROT_RWX, HVMM_PAGE_OWNED)));
	}
	unlock_guest(vm);
	return ret;
}

/* --- teardown -------------------------------------------------------------- */

/*
 * Gives one guest leaf's pages back: borrowed ones to the host's count,
 * owned ones scrubbed to the host. The host stage-2 annotations naming the
 * guest are cleared whole, never split: every page they cover is the
 * guest's and goes back in this same teardown (owned pages never leave the
 * guest's table, parked or not), and the host lock, held throughout, keeps
 * the host from faulting any of them in before all are scrubbed. So
 * reclaiming needs no table page, and a VM can always be destroyed.
 */
static int reclaim_leaf(u64 addr, u32 level, u64 pte, void *arg)
{
	const struct hvmm_vm *vm = arg;
	phys_addr_t pa = hvmm_s2_pte_oa(pte);
	u64 i, size = hvmm_s2_level_size(level);

	(void)addr;
	if (hvmm_s2_pte_sw(pte) == HVMM_PAGE_SHARED_BORROWED) {
		release_borrowed(pa, size);
		return 0;
	}
	for (i = 0; i < size >> HVMM_PAGE_SHIFT; i++) {
		struct hvmm_page *p = hvmm_phys_to_page(pa + (i << HVMM_PAGE_SHIFT));

		HVMM_BUG_ON(p->owner != vm->owner_id);
		hvmm_zero_pages(hvmm_page_to_virt(p), 1);
	}
	set_pages(hvmm_phys_to_pfn(pa), size >> HVMM_PAGE_SHIFT, HVMM_OWNER_HOST, HVMM_PAGE_OWNED);
	HVMM_BUG_ON(hvmm_pgtable_clear_annotation(&hvmm_host.pgt, pa, size,
						  owner_annotation(vm->owner_id)));
	return 0;
}

void hvmm_reclaim_guest_pages(struct hvmm_vm *vm)
{
	hvmm_assert_spin_locked(&hvmm_host.lock);
	hvmm_assert_spin_locked(&vm->lock);
	/*
	 * The VM runs no more: once its VMID is invalidated, no TLB entry and
	 * no walk can reach its pages or its tables, so the pages go back to
	 * the host and the tables to the pool with this one invalidation.
	 */
	hvmm_tlb_flush_vmid(vm->vmid);
	hvmm_pgtable_walk(&vm->pgt, 0, hvmm_pgtable_ia_size(&vm->pgt), reclaim_leaf, vm);
	hvmm_pgtable_destroy(&vm->pgt);
}
