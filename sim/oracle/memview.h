/* SPDX-License-Identifier: MIT */
/*
 * Simulated RAM as the event oracles see it: the backed ranges of physical
 * memory and where the host maps them, filled in by the executor
 * (sim_physmem_view). It holds no mm/ type: the oracles built on it are
 * compiled without mm/'s headers on their include path (sim/meson.build),
 * so that they cannot share a definition, an encoding or a helper with the
 * code they judge.
 */
#ifndef SIM_ORACLE_MEMVIEW_H
#define SIM_ORACLE_MEMVIEW_H

#include <stdint.h>

#define SIM_MEMVIEW_MAX_RANGES 16

struct sim_memview_range {
	uint64_t base, size;	/* physical */
	uint8_t *host;		/* host mapping of [base, base + size) */
};

struct sim_memview {
	unsigned int nr;
	struct sim_memview_range r[SIM_MEMVIEW_MAX_RANGES];
	uint64_t start_pfn, end_pfn;	/* the span of physical memory */
};

/* The host address of @pa, or NULL if no range backs it. */
static inline void *sim_memview_host(const struct sim_memview *v, uint64_t pa)
{
	for (unsigned int i = 0; i < v->nr; i++)
		if (pa - v->r[i].base < v->r[i].size)
			return v->r[i].host + (pa - v->r[i].base);
	return (void *)0;
}

/* The physical address of host address @host, or UINT64_MAX. */
static inline uint64_t sim_memview_pa(const struct sim_memview *v, const void *host)
{
	for (unsigned int i = 0; i < v->nr; i++)
		if ((uintptr_t)host - (uintptr_t)v->r[i].host < v->r[i].size)
			return v->r[i].base + ((uintptr_t)host - (uintptr_t)v->r[i].host);
	return UINT64_MAX;
}

#endif /* SIM_ORACLE_MEMVIEW_H */
