/* SPDX-License-Identifier: MIT */
/*
 * mm/'s per-page metadata (the vmemmap), mapped and handed to mm/ by the
 * executor. Booting mm/ is the executor's job, not the hardware model's:
 * simulated RAM (physmem.c) knows nothing of mm/'s types, and the size of
 * an entry is read here, from mm/'s own header, only.
 *
 * One entry per PFN of [start_pfn, end_pfn) of the simulated machine,
 * holes included, in a NORESERVE mapping: a terabyte of RAM costs the
 * entries written.
 */
#ifndef SIM_VMEMMAP_H
#define SIM_VMEMMAP_H

#include <stddef.h>
#include <stdint.h>

#include <hvmm/memory.h>

#include "physmem.h"

struct sim_vmemmap {
	struct hvmm_page *pages;	/* the entry of start_pfn */
	uint64_t bytes;
	uint64_t start_pfn, end_pfn;
};

/* Maps zeroed entries for every PFN of @pm (mapped already); -1 with why in @err. */
int sim_vmemmap_map(struct sim_vmemmap *v, const struct sim_physmem *pm, char *err, size_t errlen);
/* Hands @v to mm/ (hvmm_memory_init): mm/'s vmemmap is global, the last installed owns it. */
void sim_vmemmap_install(const struct sim_vmemmap *v);
void sim_vmemmap_destroy(struct sim_vmemmap *v);

/* The entry of @pfn; NULL outside the map. */
static inline struct hvmm_page *sim_vmemmap_page(const struct sim_vmemmap *v, uint64_t pfn)
{
	if (!v->pages || pfn - v->start_pfn >= v->end_pfn - v->start_pfn)
		return NULL;
	return &v->pages[pfn - v->start_pfn];
}

/* Back to all zero entries (dropped: the next run faults them in again). */
void sim_vmemmap_discard(struct sim_vmemmap *v);
/*
 * Back to all zero entries, for a run that wrote entries of [pfn, pfn +
 * nr) (a pool) and perhaps others: a small vmemmap is zeroed whole in
 * place, so it stays resident; of a large one, the range is zeroed in
 * place and the rest dropped.
 */
void sim_vmemmap_scrub(struct sim_vmemmap *v, uint64_t pfn, uint64_t nr);
/* The same, for a run that wrote entries only within [pfn, pfn + nr). */
void sim_vmemmap_scrub_within(struct sim_vmemmap *v, uint64_t pfn, uint64_t nr);
/* Aborts, naming the PFN, unless every entry is zero (sim_physmem_check_scrubs). */
void sim_vmemmap_check_zero(const struct sim_vmemmap *v);

#endif /* SIM_VMEMMAP_H */
