// SPDX-License-Identifier: MIT
/*
 * Bring your own allocator: a deliberately plain first-fit page
 * allocator, plugged into hvmm's executor through the allocator-under-test
 * interface and judged by its generic oracles (ALLOC-CONSERVE through the
 * executor's shadow, AVAIL, zeroed allocations), then the same workload on
 * every allocator hvmm ships. With "--bug", the allocator forgets to zero
 * what it hands out, and the oracles must say so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alloc/allocator.h>
#include <hvmm/types.h>
#include <machine.h>
#include <workload.h>

static int plant_bug;

struct first_fit {
	uint8_t *used;		/* one byte per page */
};

static int ff_init(struct sim_allocator *a, const struct sim_alloc_config *cfg,
		   struct sim_alloc_shadow *shadow, char *err, size_t errlen)
{
	struct first_fit *ff = calloc(1, sizeof(*ff));

	if (!ff || !(ff->used = calloc(cfg->nr_pages, 1))) {
		snprintf(err, errlen, "out of memory");
		free(ff);
		return -1;
	}
	memset(ff->used, 1, cfg->reserved_pages);
	a->priv = ff;
	a->max_order = 10;
	sim_alloc_shadow_set(shadow, cfg->base_pfn, cfg->reserved_pages, SIM_SHADOW_RESERVED);
	sim_alloc_shadow_set_initial_free(shadow, cfg->base_pfn + cfg->reserved_pages,
					  cfg->nr_pages - cfg->reserved_pages);
	return 0;
}

static void ff_fini(struct sim_allocator *a)
{
	struct first_fit *ff = a->priv;

	free(ff->used);
	free(ff);
}

static int ff_alloc(struct sim_allocator *a, unsigned int order, uint64_t *pfn)
{
	struct first_fit *ff = a->priv;
	uint64_t n = 1ULL << order;

	if (order > 10)
		return -HVMM_EINVAL;
	for (uint64_t p = (n - a->base_pfn % n) % n; p + n <= a->nr_pages; p += n) {
		if (memchr(ff->used + p, 1, n))
			continue;
		memset(ff->used + p, 1, n);
		*pfn = a->base_pfn + p;
		if (plant_bug)
			((uint8_t *)sim_physmem_pa_to_host(a->pm, *pfn << HVMM_PAGE_SHIFT))[0] = 0x5a;
		return 0;
	}
	return -HVMM_ENOMEM;
}

static int ff_free(struct sim_allocator *a, uint64_t pfn, uint64_t pages)
{
	struct first_fit *ff = a->priv;

	/* Zero on free, so that what is handed out next is zero. */
	memset(sim_physmem_pa_to_host(a->pm, pfn << HVMM_PAGE_SHIFT), 0, pages << HVMM_PAGE_SHIFT);
	memset(ff->used + (pfn - a->base_pfn), 0, pages);
	return 0;
}

static const struct sim_allocator_ops first_fit_ops = {
	.name = "first-fit",
	.description = "the example's own allocator",
	.init = ff_init,
	.fini = ff_fini,
	.alloc = ff_alloc,
	.free = ff_free,
};

/* alloc-random on a 1024-page pool; returns the number of violations. */
static uint64_t run(const struct sim_allocator_ops *ops)
{
	struct sim_machine_config cfg;
	struct sim_workload_params p = { 0 };
	struct sim_workload *w;
	struct sim_machine *m;
	struct sim_op op;
	char err[256];
	uint64_t violations;

	sim_machine_config_default(&cfg);
	cfg.pool_pages = 1024;
	cfg.allocator_ops = ops;
	cfg.report_stream = NULL;
	if (!(m = sim_machine_create(&cfg, err, sizeof(err)))) {
		fprintf(stderr, "example: %s: %s\n", ops->name, err);
		exit(2);
	}
	sim_workload_params_for(&p, &cfg);
	p.ops = 2000;
	p.seed = 3;
	p.max_order = 6;
	w = sim_workload_create("alloc-random", &p);
	while (sim_workload_next(w, &op))
		sim_workload_result(w, &op, sim_machine_exec(m, &op, NULL));
	sim_machine_finish(m);
	violations = sim_machine_report(m)->total;
	printf("example: %-11s %llu ops, %llu violations\n", ops->name,
	       (unsigned long long)sim_machine_stats(m)->ops, (unsigned long long)violations);
	sim_workload_destroy(w);
	sim_machine_destroy(m);
	return violations;
}

int main(int argc, char **argv)
{
	uint64_t bad = 0;

	plant_bug = argc > 1 && !strcmp(argv[1], "--bug");
	if (plant_bug)
		return run(&first_fit_ops) ? 0 : 1;	/* the oracles must catch it */
	bad += run(&first_fit_ops);
	for (unsigned int i = 0; sim_allocators[i]; i++)
		bad += run(sim_allocators[i]);
	return bad ? 1 : 0;
}
