// SPDX-License-Identifier: MIT
/*
 * Stage-2 page tables (mm/pgtable.c) against the independent walker and
 * TLB model (sim/mmu): page, block and concatenated-root mappings, block
 * splitting on partial unmap and permission change, table refcounts and
 * freeing of empty tables, TLB invalidation (a dropped one is visible),
 * and break-before-make as the TLB maintenance sees it: at every
 * invalidation of an address, the walk of that address already faults.
 */
#include <stdlib.h>
#include <string.h>

#include <hvmm/pgtable.h>

#include "mmu/tlb.h"
#include "platform.h"
#include "vmemmap.h"
#include "tap.h"

#define RAM_BASE	0x80000000ULL
#define POOL_PAGES	4096ULL
#define VMID		5

static struct sim_physmem pm;
static struct sim_vmemmap vmemmap;
static struct hvmm_pool pool;
static struct sim_tlb tlbs[2];

static uint64_t hw_translate(const struct hvmm_pgtable *pgt, uint64_t ipa, int *level);

/*
 * Break-before-make, observed from the TLB maintenance: when mm/
 * invalidates an address of the watched table, the entry that translated
 * it must already be broken (the walk faults), and nothing new may be
 * made there before the invalidation has completed.
 */
static const struct hvmm_pgtable *bbm_watched;
static unsigned int bbm_flushes, bbm_unbroken;

static void bbm_check(uint16_t vmid, uint64_t ipa)
{
	if (!bbm_watched || vmid != bbm_watched->vmid)
		return;
	bbm_flushes++;
	if (hw_translate(bbm_watched, ipa, NULL) != ~0ULL) {
		bbm_unbroken++;
		printf("#   ipa 0x%llx still translates when it is invalidated\n",
		       (unsigned long long)ipa);
	}
}

static void hook_ipa(void *ctx, uint16_t vmid, uint64_t ipa, uint32_t level)
{
	bbm_check(vmid, ipa);
	for (int i = 0; i < 2; i++)
		sim_tlb_flush_ipa(&tlbs[i], vmid, ipa, (int)level);
}

static void hook_range(void *ctx, uint16_t vmid, uint64_t ipa, uint64_t size)
{
	bbm_check(vmid, ipa);
	for (int i = 0; i < 2; i++)
		sim_tlb_flush_range(&tlbs[i], vmid, ipa, size);
}

static void hook_vmid(void *ctx, uint16_t vmid)
{
	for (int i = 0; i < 2; i++)
		sim_tlb_flush_vmid(&tlbs[i], vmid);
}

static void setup(void)
{
	static const struct sim_platform_hooks hooks = {
		.tlb_flush_ipa = hook_ipa, .tlb_flush_range = hook_range,
		.tlb_flush_vmid = hook_vmid,
	};
	char err[128];

	if (sim_physmem_add(&pm, SIM_REGION_RAM, RAM_BASE, 1ULL << 30, err, sizeof(err)) ||
	    sim_physmem_map(&pm, err, sizeof(err)) ||
	    sim_vmemmap_map(&vmemmap, &pm, err, sizeof(err))) {
		fprintf(stderr, "setup: %s\n", err);
		exit(1);
	}
	sim_platform_install(&pm, &hooks);
	sim_vmemmap_install(&vmemmap);
	CHECK_EQ(hvmm_pool_init(&pool, RAM_BASE >> 12, POOL_PAGES, 0), 0);
	for (int i = 0; i < 2; i++)
		CHECK_EQ(sim_tlb_init(&tlbs[i], 16, SIM_TLB_LRU, 1), 0);
}

static struct sim_s2_regs regs_of(const struct hvmm_pgtable *pgt)
{
	return (struct sim_s2_regs){
		.baddr = pgt->pgd_pa, .ia_bits = pgt->ia_bits,
		.start_level = pgt->start_level, .vmid = pgt->vmid,
	};
}

/* Walks @ipa independently; returns the PA or ~0 on a fault. */
static uint64_t hw_translate(const struct hvmm_pgtable *pgt, uint64_t ipa, int *level)
{
	struct sim_s2_regs regs = regs_of(pgt);
	struct sim_walk w;

	sim_s2_walk(&pm, &regs, ipa, &w);
	if (level)
		*level = w.t.level;
	return w.fault ? ~0ULL : w.t.pa_base + (ipa - w.t.ipa_base);
}

/* Independent recount: every table page's refcount is 1 + its non-zero entries. */
static unsigned int recount(uint64_t table_pa, int level, unsigned int nr_entries)
{
	const uint64_t *t = sim_physmem_pa_to_host(&pm, table_pa);
	unsigned int tables = 0;

	for (unsigned int p = 0; p < (nr_entries + 511) / 512; p++) {
		unsigned int used = 0;

		for (unsigned int i = p * 512; i < (p + 1) * 512; i++) {
			if (!t[i])
				continue;
			used++;
			if (level < 3 && (t[i] & 3) == 3)
				tables += recount(t[i] & 0xfffffffff000ULL, level + 1, 512);
		}
		CHECK_EQ(hvmm_phys_to_page(table_pa + p * 4096)->refcount, 1 + used);
		CHECK_EQ(hvmm_phys_to_page(table_pa + p * 4096)->type, HVMM_PAGE_PGTABLE);
	}
	return tables + (nr_entries + 511) / 512;
}

static unsigned int check_refcounts(const struct hvmm_pgtable *pgt)
{
	return recount(pgt->pgd_pa, (int)pgt->start_level, 512 * pgt->nr_roots);
}

static void test_geometry(void)
{
	CHECK_EQ(hvmm_pgtable_nr_roots(40, 1), 2);
	CHECK_EQ(hvmm_pgtable_nr_roots(48, 0), 1);
	CHECK_EQ(hvmm_pgtable_nr_roots(32, 1), 1);
	CHECK_EQ(hvmm_pgtable_nr_roots(34, 2), 16);
	CHECK_EQ(hvmm_pgtable_nr_roots(35, 2), 0);
	CHECK_EQ(hvmm_pgtable_nr_roots(43, 1), 16);
	CHECK_EQ(hvmm_pgtable_nr_roots(44, 1), 0);
	CHECK_EQ(hvmm_pgtable_nr_roots(30, 1), 0);	/* level 1 resolves nothing */
	CHECK_EQ(hvmm_pgtable_default_start_level(40), 1);
	CHECK_EQ(hvmm_pgtable_default_start_level(48), 0);
	CHECK_EQ(hvmm_pgtable_default_start_level(32), 2);
	for (unsigned int ia = 25; ia <= 48; ia++)
		for (unsigned int sl = 0; sl <= 3; sl++)
			CHECK_EQ(hvmm_pgtable_nr_roots(ia, sl), sim_s2_root_tables(ia, sl));
}

static void test_map_and_walk(unsigned int ia_bits, unsigned int sl)
{
	struct hvmm_pgtable pgt;
	u64 rw = hvmm_pgtable_leaf_attrs(HVMM_PROT_R | HVMM_PROT_W, 0);
	u64 free0 = hvmm_pool_free_pages(&pool), top = 1ULL << ia_bits;
	int level;

	CHECK_EQ(hvmm_pgtable_init(&pgt, &pool, ia_bits, sl, VMID, 0, NULL), 0);
	CHECK_EQ(pgt.nr_roots, hvmm_pgtable_nr_roots(ia_bits, sl));

	/* A page, a 2 MiB block, a 1 GiB block, and the last page of the space. */
	CHECK_EQ(hvmm_pgtable_map(&pgt, 0x1000, 0x1000, 0x90000000, rw), 0);
	CHECK_EQ(hvmm_pgtable_map(&pgt, 0x200000, 0x200000, 0x90200000, rw), 0);
	CHECK_EQ(hvmm_pgtable_map(&pgt, 0x40000000, 0x40000000, 0x100000000ULL, rw), 0);
	CHECK_EQ(hvmm_pgtable_map(&pgt, top - 0x1000, 0x1000, 0x90001000, rw), 0);
	CHECK_EQ(hw_translate(&pgt, 0x1234, &level), 0x90000234);
	CHECK_EQ(level, 3);
	CHECK_EQ(hw_translate(&pgt, 0x2abcd8, &level), 0x902abcd8);
	CHECK_EQ(level, 2);
	CHECK_EQ(hw_translate(&pgt, 0x7fffffff, &level), 0x13fffffffULL);
	CHECK_EQ(level, sl <= 1 ? 1 : 2);	/* no 1 GiB blocks below a level-2 root */
	CHECK_EQ(hw_translate(&pgt, top - 8, NULL), 0x90001ff8);
	CHECK_EQ(hw_translate(&pgt, 0x2000, NULL), ~0ULL);
	CHECK_EQ(hw_translate(&pgt, top, NULL), ~0ULL);

	/* Overlaps and bad arguments change nothing. */
	CHECK_EQ(hvmm_pgtable_map(&pgt, 0x0, 0x2000, 0x90000000, rw), -HVMM_EEXIST);
	CHECK_EQ(hvmm_pgtable_map(&pgt, 0x3ff000, 0x2000, 0x90000000, rw), -HVMM_EEXIST);
	CHECK_EQ(hvmm_pgtable_map(&pgt, 0x800, 0x1000, 0x90000000, rw), -HVMM_EINVAL);
	CHECK_EQ(hvmm_pgtable_map(&pgt, top - 0x1000, 0x2000, 0x90000000, rw), -HVMM_ERANGE);
	CHECK_EQ(hvmm_pgtable_map(&pgt, 0x10000, ~0ULL << 12, 0x90000000, rw), -HVMM_EINVAL);
	/* A range whose end passes 2^64 is refused, not wrapped to a small end in range. */
	CHECK_EQ(hvmm_pgtable_map(&pgt, ~0ULL << 12, 0x2000, 0x90000000, rw), -HVMM_EINVAL);
	CHECK_EQ(hvmm_pgtable_unmap(&pgt, ~0ULL << 12, 0x2000), -HVMM_EINVAL);
	CHECK_EQ(hvmm_pgtable_protect(&pgt, ~0ULL << 12, 0x2000, rw), -HVMM_EINVAL);
	CHECK_EQ(hw_translate(&pgt, 0x0, NULL), ~0ULL);
	check_refcounts(&pgt);

	/* Unmapping everything frees every table but the roots. */
	CHECK_EQ(hvmm_pgtable_unmap(&pgt, 0, top), 0);
	CHECK_EQ(check_refcounts(&pgt), pgt.nr_roots);
	CHECK_EQ(hw_translate(&pgt, 0x1000, NULL), ~0ULL);
	hvmm_pgtable_destroy(&pgt);
	CHECK_EQ(hvmm_pool_free_pages(&pool), free0);
}

static void test_split(void)
{
	struct hvmm_pgtable pgt;
	struct sim_s2_regs regs;
	u64 rw = hvmm_pgtable_leaf_attrs(HVMM_PROT_R | HVMM_PROT_W, 0);
	u64 ro = hvmm_pgtable_leaf_attrs(HVMM_PROT_R, 0), pa, pte;
	u64 free0 = hvmm_pool_free_pages(&pool);
	int level;

	CHECK_EQ(hvmm_pgtable_init(&pgt, &pool, 40, 1, VMID, 0, NULL), 0);
	regs = regs_of(&pgt);
	CHECK_EQ(hvmm_pgtable_map(&pgt, 0x40200000, 0x200000, 0x90200000, rw), 0);

	/* Fill both TLBs with the block, then unmap one page in its middle. */
	CHECK_EQ(sim_mmu_access(&tlbs[0], &pm, &regs, 0x40205000, SIM_ACCESS_WRITE, &pa), 0);
	CHECK_EQ(pa, 0x90205000);
	CHECK_EQ(sim_mmu_access(&tlbs[1], &pm, &regs, 0x40201000, SIM_ACCESS_READ, &pa), 0);
	CHECK_EQ(hvmm_pgtable_unmap(&pgt, 0x40205000, 0x1000), 0);
	CHECK_EQ(sim_mmu_access(&tlbs[0], &pm, &regs, 0x40205000, SIM_ACCESS_READ, &pa),
		 SIM_FAULT_TRANSLATION);
	CHECK_EQ(sim_mmu_access(&tlbs[1], &pm, &regs, 0x40205000, SIM_ACCESS_READ, &pa),
		 SIM_FAULT_TRANSLATION);
	CHECK_EQ(hw_translate(&pgt, 0x40204ff8, &level), 0x90204ff8);
	CHECK_EQ(level, 3);
	CHECK_EQ(hw_translate(&pgt, 0x40206000, NULL), 0x90206000);
	CHECK_EQ(hw_translate(&pgt, 0x403ff000, NULL), 0x903ff000);
	check_refcounts(&pgt);

	/* Write-protect one page: only that page faults on a write. */
	CHECK_EQ(sim_mmu_access(&tlbs[0], &pm, &regs, 0x40207000, SIM_ACCESS_WRITE, &pa), 0);
	CHECK_EQ(hvmm_pgtable_protect(&pgt, 0x40207000, 0x1000, ro), 0);
	CHECK_EQ(sim_mmu_access(&tlbs[0], &pm, &regs, 0x40207000, SIM_ACCESS_WRITE, &pa),
		 SIM_FAULT_PERMISSION);
	CHECK_EQ(sim_mmu_access(&tlbs[0], &pm, &regs, 0x40207000, SIM_ACCESS_READ, &pa), 0);
	CHECK_EQ(sim_mmu_access(&tlbs[0], &pm, &regs, 0x40208000, SIM_ACCESS_WRITE, &pa), 0);
	CHECK_EQ(sim_mmu_access(&tlbs[0], &pm, &regs, 0x40207000, SIM_ACCESS_EXEC, &pa),
		 SIM_FAULT_PERMISSION);

	/* A 1 GiB block split by a partial permission change, then annotated. */
	CHECK_EQ(hvmm_pgtable_map(&pgt, 0x80000000, 0x40000000, 0x80000000, rw), 0);
	CHECK_EQ(hvmm_pgtable_protect(&pgt, 0x80200000, 0x200000, ro), 0);
	CHECK_EQ(hw_translate(&pgt, 0x80000000, &level), 0x80000000);
	CHECK_EQ(level, 2);
	CHECK_EQ(hvmm_pgtable_set_invalid(&pgt, 0x80001000, 0x1000, 7 << 2), 0);
	CHECK_EQ(hvmm_pgtable_get_leaf(&pgt, 0x80001000, &pte, (u32 *)&level), 0);
	CHECK_EQ(pte, 7 << 2);
	CHECK_EQ(level, 3);
	/* Beyond the address space: refused, not aliased to an entry inside it. */
	CHECK_EQ(hvmm_pgtable_get_leaf(&pgt, (1ULL << 40) + 0x80001000, &pte, NULL),
		 -HVMM_ERANGE);
	check_refcounts(&pgt);
	CHECK_EQ(hvmm_pgtable_unmap(&pgt, 0, 1ULL << 40), 0);
	CHECK_EQ(check_refcounts(&pgt), 2);
	hvmm_pgtable_destroy(&pgt);
	CHECK_EQ(hvmm_pool_free_pages(&pool), free0);
}

/* Without the TLB invalidation, the TLB keeps translating an unmapped page. */
static void test_dropped_flush_is_visible(void)
{
	struct hvmm_pgtable pgt;
	struct sim_s2_regs regs;
	u64 rw = hvmm_pgtable_leaf_attrs(HVMM_PROT_R | HVMM_PROT_W, 0), pa;

	CHECK_EQ(hvmm_pgtable_init(&pgt, &pool, 40, 1, VMID, 0, NULL), 0);
	regs = regs_of(&pgt);
	CHECK_EQ(hvmm_pgtable_map(&pgt, 0x1000, 0x1000, 0x90000000, rw), 0);
	CHECK_EQ(sim_mmu_access(&tlbs[0], &pm, &regs, 0x1000, SIM_ACCESS_READ, &pa), 0);
	sim_platform_drop_tlb_flushes(100);
	CHECK_EQ(hvmm_pgtable_unmap(&pgt, 0x1000, 0x1000), 0);
	sim_platform_drop_tlb_flushes(0);
	CHECK_EQ(sim_mmu_access(&tlbs[0], &pm, &regs, 0x1000, SIM_ACCESS_READ, &pa), 0);
	CHECK_EQ(hw_translate(&pgt, 0x1000, NULL), ~0ULL);
	sim_tlb_flush_all(&tlbs[0]);
	hvmm_pgtable_destroy(&pgt);
}

/* Every change of a valid entry: splits, permission changes, unmaps, a table unlinked. */
static void test_break_before_make(void)
{
	struct hvmm_pgtable pgt;
	u64 rw = hvmm_pgtable_leaf_attrs(HVMM_PROT_R | HVMM_PROT_W, 0);
	u64 ro = hvmm_pgtable_leaf_attrs(HVMM_PROT_R, 0);

	CHECK_EQ(hvmm_pgtable_init(&pgt, &pool, 40, 1, VMID, 0, NULL), 0);
	CHECK_EQ(hvmm_pgtable_map(&pgt, 0x40000000, 0x40000000, 0x80000000, rw), 0);
	bbm_watched = &pgt;
	bbm_flushes = bbm_unbroken = 0;
	CHECK_EQ(hvmm_pgtable_protect(&pgt, 0x40200000, 0x200000, ro), 0);	/* 1 GiB split */
	CHECK_EQ(hvmm_pgtable_protect(&pgt, 0x40201000, 0x1000, rw), 0);	/* 2 MiB split */
	CHECK_EQ(hvmm_pgtable_protect(&pgt, 0x40000000, 0x200000, ro), 0);	/* block to block */
	CHECK_EQ(hvmm_pgtable_unmap(&pgt, 0x40200000, 0x200000), 0);	/* table unlinked */
	CHECK_EQ(hvmm_pgtable_unmap(&pgt, 0x40000000, 0x40000000), 0);
	bbm_watched = NULL;
	CHECK_MSG(bbm_flushes >= 5, "%u invalidations", bbm_flushes);
	CHECK_EQ(bbm_unbroken, 0);
	CHECK_EQ(check_refcounts(&pgt), pgt.nr_roots);
	hvmm_pgtable_destroy(&pgt);
}

/*
 * Annotations: what an update would allocate is counted on the table as
 * it is (and the update then allocates exactly that here), and clearing
 * an annotation takes whole entries, never splitting one.
 */
static void test_annotation_updates(void)
{
	struct hvmm_pgtable pgt;
	const u64 a = 5 << 2, b = 6 << 2;
	unsigned int tables;
	u64 pte;
	u32 level;

	CHECK_EQ(hvmm_pgtable_init(&pgt, &pool, 40, 1, VMID, 0, NULL), 0);
	CHECK_EQ(hvmm_pgtable_set_invalid(&pgt, 0x40200000, 0x200000, a), 0);
	CHECK_EQ(hvmm_pgtable_set_invalid(&pgt, 0x40400000, 0x200000, b), 0);
	tables = check_refcounts(&pgt);
	CHECK_EQ(hvmm_pgtable_get_leaf(&pgt, 0x40201000, &pte, &level), 0);
	CHECK(pte == a && level == 2);

	/* A page out of an annotated 2 MiB entry: one level-3 table. */
	CHECK_EQ(hvmm_pgtable_set_invalid_tables_needed(&pgt, 0x40201000, 0x1000, 0), 1);
	/* A page in an empty 1 GiB entry: a level-2 and a level-3 table. */
	CHECK_EQ(hvmm_pgtable_set_invalid_tables_needed(&pgt, 0x80001000, 0x1000, a), 2);
	/* Plain unmaps of empty space, whole entries, the whole space: none. */
	CHECK_EQ(hvmm_pgtable_set_invalid_tables_needed(&pgt, 0x80001000, 0x1000, 0), 0);
	CHECK_EQ(hvmm_pgtable_set_invalid_tables_needed(&pgt, 0x40200000, 0x200000, b), 0);
	CHECK_EQ(hvmm_pgtable_set_invalid_tables_needed(&pgt, 0, 1ULL << 40, 0), 0);
	CHECK_EQ(hvmm_pgtable_set_invalid(&pgt, 0x80001000, 0x1000, a), 0);
	CHECK_EQ(check_refcounts(&pgt), tables + 2);
	CHECK_EQ(hvmm_pgtable_set_invalid(&pgt, 0x40201000, 0x1000, 0), 0);
	CHECK_EQ(check_refcounts(&pgt), tables + 3);

	/* A page's worth of b's 2 MiB entry clears all of it, and allocates nothing. */
	CHECK_EQ(hvmm_pgtable_clear_annotation(&pgt, 0x40401000, 0x1000, b), 0);
	CHECK_EQ(hvmm_pgtable_get_leaf(&pgt, 0x40400000, &pte, NULL), 0);
	CHECK_EQ(pte, 0);
	CHECK_EQ(check_refcounts(&pgt), tables + 3);
	/* In a's split entry, one page of a; the rest stays a's. */
	CHECK_EQ(hvmm_pgtable_clear_annotation(&pgt, 0x40202000, 0x1000, a), 0);
	CHECK_EQ(hvmm_pgtable_get_leaf(&pgt, 0x40202000, &pte, NULL), 0);
	CHECK_EQ(pte, 0);
	CHECK_EQ(hvmm_pgtable_get_leaf(&pgt, 0x403ff000, &pte, NULL), 0);
	CHECK_EQ(pte, a);
	CHECK_EQ(hvmm_pgtable_clear_annotation(&pgt, 0x40200000, 0x200000, b), 0);
	CHECK_EQ(hvmm_pgtable_get_leaf(&pgt, 0x403ff000, &pte, NULL), 0);
	CHECK_EQ(pte, a);
	CHECK_EQ(hvmm_pgtable_clear_annotation(&pgt, 0x40200000, 0x200000, a), 0);
	CHECK_EQ(check_refcounts(&pgt), tables + 1);	/* emptied, its tables went */
	CHECK_EQ(hvmm_pgtable_clear_annotation(&pgt, 0, 1ULL << 40, a), 0);
	CHECK_EQ(hvmm_pgtable_get_leaf(&pgt, 0x80001000, &pte, NULL), 0);
	CHECK_EQ(pte, 0);
	CHECK_EQ(hvmm_pgtable_clear_annotation(&pgt, 0, 0x1000, 0), -HVMM_EINVAL);
	CHECK_EQ(hvmm_pgtable_unmap(&pgt, 0, 1ULL << 40), 0);
	CHECK_EQ(check_refcounts(&pgt), pgt.nr_roots);
	hvmm_pgtable_destroy(&pgt);
}

int main(void)
{
	setup();
	TEST(test_geometry);
	TAP_CASE("map_and_walk 40 bits from level 1", test_map_and_walk(40, 1));
	TAP_CASE("map_and_walk 48 bits from level 0", test_map_and_walk(48, 0));
	TAP_CASE("map_and_walk 39 bits from level 1", test_map_and_walk(39, 1));
	TAP_CASE("map_and_walk 32 bits from level 2", test_map_and_walk(32, 2));
	TAP_CASE("map_and_walk 34 bits from level 2", test_map_and_walk(34, 2));
	TAP_CASE("map_and_walk 43 bits from level 1", test_map_and_walk(43, 1));
	TEST(test_split);
	TEST(test_dropped_flush_is_visible);
	TEST(test_break_before_make);
	TEST(test_annotation_updates);
	return tap_done();
}
