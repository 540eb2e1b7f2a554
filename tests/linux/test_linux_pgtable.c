// SPDX-License-Identifier: MIT
/*
 * Differential test of stage-2 page tables: the same map / unmap /
 * permission sequence through mm/'s tables (sim/pgtable/hvmm.c) and
 * KVM's own (arch/arm64/kvm/hyp/pgtable.c, sim/pgtable/linux_kvm.c) must
 * give the same translation for every IPA, as the independent walker
 * (sim/mmu/walk.c) reads the descriptors each wrote, and the translation a
 * plain shadow of the sequence predicts.
 *
 * The sequences keep to where the two implementations' semantics
 * coincide (docs/linux.md): maps only onto unmapped ranges, and no unmap
 * that cuts a range which may be mapped by a block (KVM unmaps a whole
 * block where mm/ splits it; such an unmap is widened to whole blocks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvmm/pgtable.h>

#include "mmu/walk.h"
#include "pgtable/pgtable.h"
#include "platform.h"
#include "tap.h"
#include "testmem.h"
#include "workload.h"

#define RAM_BASE	0x80000000ULL
#define RAM_BYTES	(1ULL << 30)
#define TABLE_PAGES	4096
#define WINDOW_IPA	0x40000000ULL		/* 1 GiB: the window starts block-aligned */
#define WINDOW_PAGES	8192			/* 32 MiB of IPA: 16 blocks of 2 MiB */
#define BLOCK_PAGES	512
#define OUT_BASE	(RAM_BASE + (128ULL << 20))	/* output addresses: RAM past the table pools */

static struct sim_physmem pm;

struct shadow_page {
	uint64_t pa;		/* 0: unmapped */
	uint32_t prot;
};

struct impl {
	const struct sim_pgtable_ops *ops;
	struct sim_pgtable t;
	struct sim_s2_regs regs;
};

static struct shadow_page shadow[WINDOW_PAGES];
static bool block_chunk[WINDOW_PAGES / BLOCK_PAGES];	/* may be mapped by a block */
static struct sim_rng rng;

static void impl_init(struct impl *im, const char *name, uint64_t pool_pfn, uint16_t vmid)
{
	struct sim_pgtable_config cfg = {
		.ia_bits = 40, .start_level = 1, .vmid = vmid,
		.pool_pfn = pool_pfn, .pool_pages = TABLE_PAGES,
	};
	char err[256];

	im->ops = sim_pgtable_find(name);
	im->t = (struct sim_pgtable){ .ops = im->ops, .pm = &pm };
	if (!im->ops || im->ops->init(&im->t, &cfg, err, sizeof(err))) {
		printf("# %s: %s\n", name, im->ops ? err : "not built");
		exit(99);
	}
	im->ops->regs(&im->t, &im->regs);
}

/* What the walker finds at @ipa, in the terms of the shadow. */
static struct shadow_page walk(const struct impl *im, uint64_t ipa, bool *bad_attr)
{
	struct sim_walk w;
	struct shadow_page p = { 0 };

	sim_s2_walk(&pm, &im->regs, ipa, &w);
	if (w.fault != SIM_FAULT_NONE)
		return p;
	p.pa = w.t.pa_base + (ipa - w.t.ipa_base);
	p.prot = (w.t.read ? HVMM_PROT_R : 0) | (w.t.write ? HVMM_PROT_W : 0) |
		 (w.t.exec ? HVMM_PROT_X : 0);
	if (w.t.memattr == 0x1)
		p.prot |= HVMM_PROT_DEVICE;
	else if (w.t.memattr != 0xf)
		*bad_attr = true;
	return p;
}

static unsigned int mismatches;

static void compare_pages(struct impl *a, struct impl *b, uint64_t first, uint64_t count,
			  uint64_t op)
{
	for (uint64_t i = first; i < first + count && i < WINDOW_PAGES; i++) {
		uint64_t ipa = WINDOW_IPA + (i << HVMM_PAGE_SHIFT);
		bool bad = false;
		struct shadow_page pa = walk(a, ipa, &bad), pb = walk(b, ipa, &bad);

		if (!bad && pa.pa == pb.pa && pa.prot == pb.prot &&
		    pa.pa == shadow[i].pa && pa.prot == shadow[i].prot)
			continue;
		if (mismatches++ < 8)
			printf("# op %llu: ipa 0x%llx: %s pa 0x%llx prot %x, %s pa 0x%llx prot %x, "
			       "expected pa 0x%llx prot %x%s\n", (unsigned long long)op,
			       (unsigned long long)ipa, a->ops->name, (unsigned long long)pa.pa, pa.prot,
			       b->ops->name, (unsigned long long)pb.pa, pb.prot,
			       (unsigned long long)shadow[i].pa, shadow[i].prot,
			       bad ? " (unexpected MemAttr)" : "");
	}
}

static const uint32_t prots[] = {
	HVMM_PROT_R, HVMM_PROT_R | HVMM_PROT_W, HVMM_PROT_R | HVMM_PROT_X, HVMM_PROT_RWX,
	HVMM_PROT_R | HVMM_PROT_DEVICE, HVMM_PROT_R | HVMM_PROT_W | HVMM_PROT_DEVICE,
};

static uint64_t below(uint64_t n)
{
	return sim_rng_below(&rng, n);
}

static bool range_empty(uint64_t i, uint64_t n)
{
	for (uint64_t k = i; k < i + n; k++)
		if (shadow[k].pa)
			return false;
	return true;
}

/* One random op on both; returns false if their results differ. */
static bool step(struct impl *a, struct impl *b, uint64_t op, uint64_t *first, uint64_t *count)
{
	uint64_t kind = below(10), i, n;
	int ra, rb;

	if (kind < 5) {			/* map */
		bool blocky = below(2);
		uint32_t prot = prots[below(sizeof(prots) / sizeof(prots[0]))];
		uint64_t pa;

		if (blocky) {		/* whole aligned 2 MiB chunks, block-aligned output */
			i = below(WINDOW_PAGES / BLOCK_PAGES) * BLOCK_PAGES;
			n = BLOCK_PAGES * (1 + below(2));
		} else {
			i = below(WINDOW_PAGES);
			n = 1 + below(64);
		}
		if (i + n > WINDOW_PAGES)
			n = WINDOW_PAGES - i;
		/* Output a whole number of 2 MiB chunks away (+ one page: never block-aligned). */
		pa = OUT_BASE + below(128) * (BLOCK_PAGES << HVMM_PAGE_SHIFT) +
		     ((i << HVMM_PAGE_SHIFT) & ((BLOCK_PAGES << HVMM_PAGE_SHIFT) - 1)) +
		     (blocky ? 0 : HVMM_PAGE_SIZE);
		ra = a->ops->map(&a->t, WINDOW_IPA + (i << HVMM_PAGE_SHIFT), n << HVMM_PAGE_SHIFT, pa, prot);
		rb = b->ops->map(&b->t, WINDOW_IPA + (i << HVMM_PAGE_SHIFT), n << HVMM_PAGE_SHIFT, pa, prot);
		if (!ra && range_empty(i, n)) {
			for (uint64_t k = 0; k < n; k++)
				shadow[i + k] = (struct shadow_page){ pa + (k << HVMM_PAGE_SHIFT), prot };
			if (blocky)
				for (uint64_t c = i / BLOCK_PAGES; c < (i + n) / BLOCK_PAGES; c++)
					block_chunk[c] = true;
		}
	} else {
		i = below(WINDOW_PAGES);
		n = 1 + below(kind < 8 ? 64 : 1024);
		if (i + n > WINDOW_PAGES)
			n = WINDOW_PAGES - i;
		if (kind < 8) {		/* unmap, widened over chunks a block may map */
			uint64_t lo = i / BLOCK_PAGES, hi = (i + n - 1) / BLOCK_PAGES;

			if (block_chunk[lo])
				i = lo * BLOCK_PAGES;
			if (block_chunk[hi])
				n = (hi + 1) * BLOCK_PAGES - i;
			if (i + n > WINDOW_PAGES)
				n = WINDOW_PAGES - i;
			ra = a->ops->unmap(&a->t, WINDOW_IPA + (i << HVMM_PAGE_SHIFT), n << HVMM_PAGE_SHIFT);
			rb = b->ops->unmap(&b->t, WINDOW_IPA + (i << HVMM_PAGE_SHIFT), n << HVMM_PAGE_SHIFT);
			if (!ra)
				for (uint64_t k = i; k < i + n; k++) {
					shadow[k] = (struct shadow_page){ 0 };
					if (k % BLOCK_PAGES == 0 && k + BLOCK_PAGES <= i + n)
						block_chunk[k / BLOCK_PAGES] = false;
				}
		} else {		/* permissions */
			uint32_t prot = prots[below(4)];

			ra = a->ops->protect(&a->t, WINDOW_IPA + (i << HVMM_PAGE_SHIFT), n << HVMM_PAGE_SHIFT, prot);
			rb = b->ops->protect(&b->t, WINDOW_IPA + (i << HVMM_PAGE_SHIFT), n << HVMM_PAGE_SHIFT, prot);
			if (!ra)
				for (uint64_t k = i; k < i + n; k++)
					if (shadow[k].pa)
						shadow[k].prot = prot;
		}
	}
	*first = i;
	*count = n;
	if (ra != rb && mismatches++ < 8)
		printf("# op %llu (kind %llu, pages %llu+%llu): %s returned %d, %s %d\n",
		       (unsigned long long)op, (unsigned long long)kind, (unsigned long long)i,
		       (unsigned long long)n, a->ops->name, ra, b->ops->name, rb);
	return ra == rb;
}

static void same_translation_for_every_ipa(void)
{
	struct impl ours, kernel;
	uint64_t flushes = sim_platform_tlb_flushes();

	memset(shadow, 0, sizeof(shadow));
	memset(block_chunk, 0, sizeof(block_chunk));
	sim_rng_seed(&rng, 42);
	mismatches = 0;
	impl_init(&ours, "hvmm", RAM_BASE >> HVMM_PAGE_SHIFT, 1);
	impl_init(&kernel, "linux-kvm", (RAM_BASE >> HVMM_PAGE_SHIFT) + TABLE_PAGES, 2);
	for (uint64_t op = 0; op < 3000; op++) {
		uint64_t first, count;

		step(&ours, &kernel, op, &first, &count);
		compare_pages(&ours, &kernel, first, count, op);
		if (op % 500 == 499)
			compare_pages(&ours, &kernel, 0, WINDOW_PAGES, op);
	}
	compare_pages(&ours, &kernel, 0, WINDOW_PAGES, 3000);
	CHECK_MSG(!mismatches, "%u mismatches", mismatches);
	printf("# 3000 ops; table pages at the end: hvmm %llu, linux-kvm %llu; TLB invalidations %llu\n",
	       (unsigned long long)ours.ops->table_pages(&ours.t),
	       (unsigned long long)kernel.ops->table_pages(&kernel.t),
	       (unsigned long long)(sim_platform_tlb_flushes() - flushes));
	ours.ops->fini(&ours.t);
	kernel.ops->fini(&kernel.t);
}

int main(void)
{
	if (!sim_pgtable_find("linux-kvm")) {
		printf("1..0 # SKIP KVM's page tables are not built (-Dlinux_source)\n");
		return 0;
	}
	testmem_init(&pm, RAM_BASE, RAM_BYTES);
	TEST(same_translation_for_every_ipa);
	testmem_fini(&pm);
	return tap_done();
}
