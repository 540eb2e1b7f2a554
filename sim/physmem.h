/* SPDX-License-Identifier: MIT */
/*
 * Simulated physical memory: RAM banks with holes between them, reserved
 * regions carved out of RAM, and MMIO windows. RAM is backed by anonymous
 * mmap(MAP_NORESERVE) mappings, so a terabyte of simulated RAM costs only
 * the pages that are touched. Translation between physical addresses and
 * host pointers is a bank lookup and one add.
 */
#ifndef SIM_PHYSMEM_H
#define SIM_PHYSMEM_H

#include <stdbool.h>
#include <stdint.h>
#include <hvmm/memory.h>

#define SIM_MAX_REGIONS 16

enum sim_region_kind {
	SIM_REGION_RAM,		/* backed, handed to allocators */
	SIM_REGION_RESERVED,	/* backed RAM that firmware keeps: never donated */
	SIM_REGION_MMIO,	/* device window: not backed, not RAM */
};

struct sim_region {
	uint64_t base;		/* physical address */
	uint64_t size;
	enum sim_region_kind kind;
	uint8_t *host;		/* host mapping of [base, base + size), NULL for MMIO */
};

struct sim_physmem {
	struct sim_region regions[SIM_MAX_REGIONS];	/* sorted by base */
	unsigned int nr_regions;
	/* The vmemmap spans the PFNs of all backed regions, holes included. */
	struct hvmm_page *vmemmap;
	uint64_t vmemmap_bytes;
	uint64_t start_pfn, end_pfn;
};

/* Adds a region; fails (returns -1 and says why in @err) on overlap or bad alignment. */
int sim_physmem_add(struct sim_physmem *pm, enum sim_region_kind kind,
		    uint64_t base, uint64_t size, char *err, size_t errlen);
/* Maps every backed region and the vmemmap, and hands the vmemmap to mm/. */
int sim_physmem_map(struct sim_physmem *pm, char *err, size_t errlen);
/* Unmaps everything. */
void sim_physmem_destroy(struct sim_physmem *pm);
/* Drops the contents of every region and the vmemmap (back to zero pages). */
void sim_physmem_discard(struct sim_physmem *pm);
/*
 * The same end state as sim_physmem_discard(), cheaper when a run keeps
 * to a few pages: [pfn, pfn + nr) and their vmemmap entries are zeroed in
 * place (they stay resident, so the next run does not fault them in
 * again), everything else is dropped.
 */
void sim_physmem_scrub(struct sim_physmem *pm, uint64_t pfn, uint64_t nr);

const struct sim_region *sim_physmem_region(const struct sim_physmem *pm, uint64_t pa);
void *sim_physmem_pa_to_host(const struct sim_physmem *pm, uint64_t pa);
/* ~0 if @host points into no backed region. */
uint64_t sim_physmem_host_to_pa(const struct sim_physmem *pm, const void *host);
bool sim_physmem_is_ram(const struct sim_physmem *pm, uint64_t pa);

/* Total bytes of each kind. */
uint64_t sim_physmem_bytes(const struct sim_physmem *pm, enum sim_region_kind kind);

/* Parses "1G", "512M", "0x8000_0000", "4096" into bytes; false on junk or overflow. */
bool sim_parse_size(const char *s, uint64_t *out);

#endif /* SIM_PHYSMEM_H */
