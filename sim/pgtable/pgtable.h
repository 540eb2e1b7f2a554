/* SPDX-License-Identifier: MIT */
/*
 * A stage-2 page-table implementation under test, as the simulator sees
 * it: mm/'s (sim/pgtable/hvmm.c) or KVM's own (sim/pgtable/linux_kvm.c,
 * with -Dlinux_source). A third implementation is one adapter file that
 * fills struct sim_pgtable_ops and one line in sim/pgtable/registry.c.
 *
 * Each table lives in simulated RAM and takes its table pages from an
 * mm/ buddy pool over [pool_pfn, pool_pfn + pool_pages); the simulator
 * judges it only through the hardware's view: sim/mmu/walk.c walks the
 * descriptors it wrote from the registers regs() returns.
 */
#ifndef SIM_PGTABLE_PGTABLE_H
#define SIM_PGTABLE_PGTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "mmu/walk.h"
#include "physmem.h"

struct sim_pgtable;

struct sim_pgtable_config {
	unsigned int ia_bits;
	unsigned int start_level;
	uint16_t vmid;
	uint64_t pool_pfn, pool_pages;	/* where table pages come from */
};

struct sim_pgtable_ops {
	const char *name;
	const char *description;
	int (*init)(struct sim_pgtable *t, const struct sim_pgtable_config *cfg,
		    char *err, size_t errlen);
	void (*fini)(struct sim_pgtable *t);
	/*
	 * Map [ipa, ipa + size) to [pa, pa + size) with HVMM_PROT_* @prot,
	 * where nothing is mapped; unmap; and change the permissions of every
	 * mapped page of a range. 0 or -HVMM_E*.
	 */
	int (*map)(struct sim_pgtable *t, uint64_t ipa, uint64_t size, uint64_t pa, uint32_t prot);
	/*
	 * Map [ipa, ipa + size) over whatever is mapped there, as one update
	 * (a block over a table of pages: the table goes). NULL where the
	 * implementation's map refuses a mapped range by design (mm/'s
	 * hvmm_pgtable_map: -HVMM_EEXIST); its callers unmap first, and so
	 * does the exercise (sim/pgtable/exercise.c).
	 */
	int (*replace)(struct sim_pgtable *t, uint64_t ipa, uint64_t size, uint64_t pa,
		       uint32_t prot);
	int (*unmap)(struct sim_pgtable *t, uint64_t ipa, uint64_t size);
	int (*protect)(struct sim_pgtable *t, uint64_t ipa, uint64_t size, uint32_t prot);
	/* What a hardware walk of the table needs (VTTBR_EL2 / VTCR_EL2). */
	void (*regs)(struct sim_pgtable *t, struct sim_s2_regs *regs);
	/* Table pages the implementation holds now (pool pages in use). */
	uint64_t (*table_pages)(struct sim_pgtable *t);
	/*
	 * Of those, the pages kept for tables to come (mm/'s page cache); NULL
	 * if none are: every other page held must be a root or a table linked
	 * under one (sim/pgtable/exercise.c counts them from the registers).
	 */
	uint64_t (*cached_pages)(struct sim_pgtable *t);
};

struct sim_pgtable {
	const struct sim_pgtable_ops *ops;
	struct sim_physmem *pm;
	void *priv;
};

/* Every implementation the simulator knows, NULL-terminated. */
extern const struct sim_pgtable_ops *const sim_pgtables[];
const struct sim_pgtable_ops *sim_pgtable_find(const char *name);

/*
 * Which of them the mm/ of this program uses for the host and guest
 * stage-2 of whole-machine runs: "hvmm" (mm/pgtable.c), or "linux-kvm" in
 * the hvmm-linux-kvm program, whose mm/ has KVM's page tables linked in
 * place of mm/pgtable.c (sim/linux/mm_pgtable_kvm.c).
 */
const char *sim_mm_pgtable_name(void);

#endif /* SIM_PGTABLE_PGTABLE_H */
