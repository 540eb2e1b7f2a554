// SPDX-License-Identifier: MIT
/*
 * Adapter for KVM's own stage-2 page tables (arch/arm64/kvm/hyp/pgtable.c,
 * built unchanged; sim/linux/). Table pages come from an mm/ buddy pool
 * through KVM's mm_ops, as pKVM backs them with its hyp_pool.
 *
 * The interface's operations, in the terms of KVM's callers:
 *  - map refuses a range that has anything mapped (-HVMM_EEXIST), as mm/
 *    does; replace is KVM's own map, which overwrites what is there: a
 *    block over a table of pages replaces the table (the path
 *    user_mem_abort takes when it maps a huge page over pages that dirty
 *    logging split, stage2_map_walk_table_pre's anchor).
 *  - protect changes permissions the ways KVM offers: a leaf that only
 *    gains permissions through kvm_pgtable_stage2_relax_perms(), one that
 *    loses write permission through kvm_pgtable_stage2_wrprotect() and an
 *    invalidation of the VMID, as its callers do (then relax for what it
 *    gains). KVM's map leaves a valid leaf's
 *    permissions alone (stage2_pte_needs_update ignores them), so a leaf
 *    that loses read or execute permission or changes memory type, or a
 *    block the range cuts, is unmapped and mapped again through KVM's
 *    unmap and map, page by page where the range cuts a block (pages
 *    outside the range keep what they had).
 */
#include <stdio.h>

#include <hvmm/buddy.h>
#include <hvmm/pgtable.h>

#include "linux/kvm_glue.h"
#include "pgtable/pgtable.h"
#include "recycle.h"

struct lkvm_adapter {
	struct hvmm_pool pool;
	uint64_t pool_pages;
	void *kvm;		/* sim_lkvm_state_bytes() */
};

static struct lkvm_adapter *ad(struct sim_pgtable *t)
{
	return t->priv;
}

static int lkvm_init(struct sim_pgtable *t, const struct sim_pgtable_config *cfg,
		     char *err, size_t errlen)
{
	struct lkvm_adapter *a = sim_recycle_get(sizeof(*a));
	int ret;

	t->priv = a;
	a->pool_pages = cfg->pool_pages;
	a->kvm = sim_recycle_get(sim_lkvm_state_bytes());
	ret = hvmm_pool_init_zeroed(&a->pool, cfg->pool_pfn, cfg->pool_pages, 0);
	if (!ret)
		ret = sim_lkvm_init(a->kvm, &a->pool, cfg->ia_bits, cfg->start_level, cfg->vmid);
	if (ret) {
		snprintf(err, errlen, "linux-kvm: kvm_pgtable_stage2_init (ia_bits %u, start level %u) failed: %d",
			 cfg->ia_bits, cfg->start_level, ret);
		sim_recycle_put(a->kvm, sim_lkvm_state_bytes());
		sim_recycle_put(a, sizeof(*a));
		t->priv = NULL;
		return -1;
	}
	return 0;
}

static void lkvm_fini(struct sim_pgtable *t)
{
	if (!ad(t))
		return;
	sim_lkvm_destroy(ad(t)->kvm);
	sim_recycle_put(ad(t)->kvm, sim_lkvm_state_bytes());
	sim_recycle_put(ad(t), sizeof(struct lkvm_adapter));
	t->priv = NULL;
}

/* The valid leaf translating @ipa: its first IPA, size, output address, permissions. */
static bool leaf_at(struct sim_pgtable *t, uint64_t ipa, uint64_t *base, uint64_t *size,
		    uint64_t *pa, uint32_t *prot)
{
	uint64_t pte;
	uint32_t level;

	if (sim_lkvm_get_leaf(ad(t)->kvm, ipa, &pte, &level) || !sim_lkvm_pte_valid(pte))
		return false;
	*size = sim_lkvm_granule(level);
	*base = ipa & ~(*size - 1);
	*pa = sim_lkvm_pte_pa(pte);
	*prot = sim_lkvm_pte_prot(pte);
	return true;
}

/*
 * Whether [ipa, ipa + size) is whole pages, not empty, and does not wrap.
 * Whether it ends inside the input address space is the kernel's own check
 * (_kvm_pgtable_walk(), -ERANGE) for the ops that go to one KVM call: a
 * range past the end reaches it as a caller's would.
 */
static int range_ok(uint64_t ipa, uint64_t size)
{
	if (!size || (ipa | size) & (HVMM_PAGE_SIZE - 1) || ipa + size < ipa)
		return -HVMM_EINVAL;
	return 0;
}

static int lkvm_map(struct sim_pgtable *t, uint64_t ipa, uint64_t size, uint64_t pa, uint32_t prot)
{
	uint64_t base, len, out;
	uint32_t old;
	int ret = range_ok(ipa, size);

	if (ret)
		return ret;
	for (uint64_t cur = ipa; cur < ipa + size; cur += HVMM_PAGE_SIZE)
		if (leaf_at(t, cur, &base, &len, &out, &old))
			return -HVMM_EEXIST;
	return sim_lkvm_map(ad(t)->kvm, ipa, size, pa, prot);
}

static int lkvm_replace(struct sim_pgtable *t, uint64_t ipa, uint64_t size, uint64_t pa,
			uint32_t prot)
{
	int ret = range_ok(ipa, size);

	return ret ? ret : sim_lkvm_map(ad(t)->kvm, ipa, size, pa, prot);
}

static int lkvm_unmap(struct sim_pgtable *t, uint64_t ipa, uint64_t size)
{
	int ret = range_ok(ipa, size);

	return ret ? ret : sim_lkvm_unmap(ad(t)->kvm, ipa, size);
}

/* Maps [base, base + len) again, the part inside [ipa, end) with @prot, the rest with @old. */
static int remap(struct sim_pgtable *t, uint64_t base, uint64_t len, uint64_t pa,
		 uint64_t ipa, uint64_t end, uint32_t old, uint32_t prot)
{
	int ret = sim_lkvm_unmap(ad(t)->kvm, base, len);

	if (!ret && base >= ipa && base + len <= end)
		return sim_lkvm_map(ad(t)->kvm, base, len, pa, prot);
	for (uint64_t off = 0; !ret && off < len; off += HVMM_PAGE_SIZE) {
		bool inside = base + off >= ipa && base + off < end;

		ret = sim_lkvm_map(ad(t)->kvm, base + off, HVMM_PAGE_SIZE, pa + off, inside ? prot : old);
	}
	return ret;
}

static int change_leaf(struct sim_pgtable *t, uint64_t base, uint64_t len, uint64_t pa,
		       uint64_t ipa, uint64_t end, uint32_t old, uint32_t prot)
{
	uint32_t perms = HVMM_PROT_R | HVMM_PROT_W | HVMM_PROT_X;
	int ret = 0;

	if (old == prot)
		return 0;
	if (base < ipa || base + len > end || (old & ~prot & (HVMM_PROT_R | HVMM_PROT_X)) ||
	    (old & HVMM_PROT_DEVICE) != (prot & HVMM_PROT_DEVICE))
		return remap(t, base, len, pa, ipa, end, old, prot);
	if (old & ~prot & HVMM_PROT_W) {
		ret = sim_lkvm_wrprotect(ad(t)->kvm, base, len);
		sim_lkvm_flush_vmid(ad(t)->kvm);
	}
	if (!ret && (prot & perms & ~old))
		ret = sim_lkvm_relax_perms(ad(t)->kvm, base, prot & perms);
	return ret;
}

/*
 * A protect is the adapter's own walk over the leaves (no one KVM call
 * covers a range of mixed leaves), so the adapter checks the input size
 * here, as a caller of the kernel's leaf calls would.
 */
static int lkvm_protect(struct sim_pgtable *t, uint64_t ipa, uint64_t size, uint32_t prot)
{
	uint64_t end = ipa + size, cur = ipa;
	int ret = range_ok(ipa, size);

	if (!ret && end > (1ULL << sim_lkvm_ia_bits(ad(t)->kvm)))
		ret = -HVMM_EINVAL;

	while (!ret && cur < end) {
		uint64_t base, len, pa;
		uint32_t old;

		if (!leaf_at(t, cur, &base, &len, &pa, &old)) {
			cur += HVMM_PAGE_SIZE;
			continue;
		}
		ret = change_leaf(t, base, len, pa, ipa, end, old, prot);
		cur = base + len;
	}
	return ret;
}

static void lkvm_regs(struct sim_pgtable *t, struct sim_s2_regs *regs)
{
	void *kvm = ad(t)->kvm;

	*regs = (struct sim_s2_regs){
		.baddr = sim_lkvm_root_pa(kvm), .ia_bits = sim_lkvm_ia_bits(kvm),
		.start_level = sim_lkvm_start_level(kvm), .vmid = sim_lkvm_vmid(kvm),
	};
}

static uint64_t lkvm_table_pages(struct sim_pgtable *t)
{
	return ad(t)->pool_pages - hvmm_pool_free_pages(&ad(t)->pool);
}

const struct sim_pgtable_ops sim_linux_kvm_pgtable = {
	.name = "linux-kvm",
	.description = "KVM's stage-2 page tables (arch/arm64/kvm/hyp/pgtable.c, unchanged)",
	.init = lkvm_init,
	.fini = lkvm_fini,
	.map = lkvm_map,
	.replace = lkvm_replace,
	.unmap = lkvm_unmap,
	.protect = lkvm_protect,
	.regs = lkvm_regs,
	.table_pages = lkvm_table_pages,
};
