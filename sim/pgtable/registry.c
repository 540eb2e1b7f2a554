// SPDX-License-Identifier: MIT
#include <string.h>

#include "pgtable/pgtable.h"

extern const struct sim_pgtable_ops sim_hvmm_pgtable;
/* Built when the configured kernel source is hosted (-Dlinux_source, sim/linux/). */
extern const struct sim_pgtable_ops sim_linux_kvm_pgtable;

const struct sim_pgtable_ops *const sim_pgtables[] = {
	&sim_hvmm_pgtable,
#ifdef HVMM_LINUX_HOSTED
	&sim_linux_kvm_pgtable,
#endif
	NULL,
};

const struct sim_pgtable_ops *sim_pgtable_find(const char *name)
{
	for (unsigned int i = 0; sim_pgtables[i]; i++)
		if (!strcmp(sim_pgtables[i]->name, name))
			return sim_pgtables[i];
	return NULL;
}

/*
 * The page tables the mm/ linked into this program writes: mm/pgtable.c
 * ("hvmm"), or another implementation of its interface linked in its
 * place, which names itself (sim/linux/mm_pgtable_kvm.c: "linux-kvm").
 */
extern const char sim_mm_pgtable_variant[] __attribute__((weak));

const char *sim_mm_pgtable_name(void)
{
	const char *variant = sim_mm_pgtable_variant;

	return variant ? variant : "hvmm";
}

