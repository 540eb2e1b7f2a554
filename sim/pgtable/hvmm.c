// SPDX-License-Identifier: MIT
/*
 * Adapter for mm/pgtable.c: a stage-2 table with its pages from an mm/
 * buddy pool, updated through mm/'s own calls.
 */
#include <stdio.h>
#include <string.h>

#include <hvmm/buddy.h>
#include <hvmm/pgtable.h>

#include "pgtable/pgtable.h"
#include "recycle.h"

struct hvmm_pgt_state {
	struct hvmm_pool pool;
	struct hvmm_pgtable pgt;
	uint64_t pool_pages;
};

static struct hvmm_pgt_state *st(struct sim_pgtable *t)
{
	return t->priv;
}

static int hpgt_init(struct sim_pgtable *t, const struct sim_pgtable_config *cfg,
		     char *err, size_t errlen)
{
	struct hvmm_pgt_state *s;
	int ret;

	/* The mm/ of hvmm-linux-kvm answers mm/'s calls with KVM's tables. */
	if (strcmp(sim_mm_pgtable_name(), "hvmm")) {
		snprintf(err, errlen, "hvmm: this program's mm/ runs %s page tables, not "
			 "mm/pgtable.c (run hvmm pgtable, not hvmm-%s pgtable)",
			 sim_mm_pgtable_name(), sim_mm_pgtable_name());
		t->priv = NULL;
		return -1;
	}
	s = sim_recycle_get(sizeof(*s));
	t->priv = s;
	s->pool_pages = cfg->pool_pages;
	ret = hvmm_pool_init_zeroed(&s->pool, cfg->pool_pfn, cfg->pool_pages, 0);
	if (!ret)
		ret = hvmm_pgtable_init(&s->pgt, &s->pool, cfg->ia_bits, cfg->start_level, cfg->vmid, 0,
					NULL);
	if (ret) {
		snprintf(err, errlen, "hvmm: stage-2 table (ia_bits %u, start level %u) failed: %d",
			 cfg->ia_bits, cfg->start_level, ret);
		sim_recycle_put(s, sizeof(*s));
		t->priv = NULL;
		return -1;
	}
	return 0;
}

static void hpgt_fini(struct sim_pgtable *t)
{
	if (!st(t))
		return;
	/* Nothing runs with its VMID: one invalidation, then the tables go. */
	hvmm_tlb_flush_vmid(st(t)->pgt.vmid);
	hvmm_pgtable_destroy(&st(t)->pgt);
	sim_recycle_put(st(t), sizeof(struct hvmm_pgt_state));
	t->priv = NULL;
}

static int hpgt_map(struct sim_pgtable *t, uint64_t ipa, uint64_t size, uint64_t pa, uint32_t prot)
{
	int ret = hvmm_pgtable_map(&st(t)->pgt, ipa, size, pa, hvmm_pgtable_leaf_attrs(prot, 0));

	hvmm_pgtable_trim(&st(t)->pgt);
	return ret;
}

static int hpgt_unmap(struct sim_pgtable *t, uint64_t ipa, uint64_t size)
{
	int ret = hvmm_pgtable_unmap(&st(t)->pgt, ipa, size);

	hvmm_pgtable_trim(&st(t)->pgt);
	return ret;
}

static int hpgt_protect(struct sim_pgtable *t, uint64_t ipa, uint64_t size, uint32_t prot)
{
	int ret = hvmm_pgtable_protect(&st(t)->pgt, ipa, size, hvmm_pgtable_leaf_attrs(prot, 0));

	hvmm_pgtable_trim(&st(t)->pgt);
	return ret;
}

static void hpgt_regs(struct sim_pgtable *t, struct sim_s2_regs *regs)
{
	const struct hvmm_pgtable *pgt = &st(t)->pgt;

	*regs = (struct sim_s2_regs){
		.baddr = pgt->pgd_pa, .ia_bits = pgt->ia_bits,
		.start_level = pgt->start_level, .vmid = pgt->vmid,
	};
}

static uint64_t hpgt_table_pages(struct sim_pgtable *t)
{
	return st(t)->pool_pages - hvmm_pool_free_pages(&st(t)->pool);
}

static uint64_t hpgt_cached_pages(struct sim_pgtable *t)
{
	return st(t)->pgt.cache.nr;
}

const struct sim_pgtable_ops sim_hvmm_pgtable = {
	.name = "hvmm",
	.description = "mm/'s stage-2 page tables (mm/pgtable.c)",
	.init = hpgt_init,
	.fini = hpgt_fini,
	.map = hpgt_map,
	.unmap = hpgt_unmap,
	.protect = hpgt_protect,
	.regs = hpgt_regs,
	.table_pages = hpgt_table_pages,
	.cached_pages = hpgt_cached_pages,
};
