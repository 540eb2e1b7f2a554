// SPDX-License-Identifier: MIT
#include "testmem.h"
#include "vmemmap.h"

#include <stdio.h>
#include <stdlib.h>

/* mm/'s vmemmap is global: one for whichever memory a test installed last. */
static struct sim_vmemmap vmemmap;

void testmem_init(struct sim_physmem *pm, uint64_t base, uint64_t bytes)
{
	char err[256];

	*pm = (struct sim_physmem){ 0 };
	if (sim_physmem_add(pm, SIM_REGION_RAM, base, bytes, err, sizeof(err)) ||
	    sim_physmem_map(pm, err, sizeof(err)) ||
	    sim_vmemmap_map(&vmemmap, pm, err, sizeof(err))) {
		fprintf(stderr, "testmem: %s\n", err);
		exit(99);	/* meson: hard error, not a test failure */
	}
	sim_platform_install(pm, NULL);
	sim_vmemmap_install(&vmemmap);
}

void testmem_fini(struct sim_physmem *pm)
{
	sim_platform_install(NULL, NULL);
	sim_vmemmap_destroy(&vmemmap);
	sim_physmem_destroy(pm);
}

void *testmem_pfn(struct sim_physmem *pm, uint64_t pfn)
{
	return sim_physmem_pa_to_host(pm, pfn << HVMM_PAGE_SHIFT);
}

bool testmem_panics(void (*fn)(void *arg), void *arg, const char **what)
{
	struct sim_panic_catcher c;

	if (sigsetjmp(c.env, 0) == 0) {
		sim_panic_arm(&c);
		fn(arg);
		sim_panic_disarm();
		return false;
	}
	if (what)
		*what = c.panic.what;
	return true;
}
