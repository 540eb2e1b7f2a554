// SPDX-License-Identifier: MIT
#include "vmtest.h"
#include "vmemmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sim_machine *vmt_machine(const struct sim_machine_config *cfg)
{
	struct sim_machine_config def;
	struct sim_machine *m;
	char err[256];

	if (!cfg) {
		sim_machine_config_default(&def);
		cfg = &def;
	}
	m = sim_machine_create(cfg, err, sizeof(err));
	if (!m) {
		printf("# cannot create machine: %s\n", err);
		exit(99);
	}
	return m;
}

struct sim_machine *vmt_pool_machine(const struct sim_allocator_ops *ops, uint64_t pool_pages)
{
	struct sim_machine_config cfg;

	sim_machine_config_default(&cfg);
	cfg.pool_pages = pool_pages;
	cfg.allocator_ops = ops;
	cfg.report_stream = NULL;
	return vmt_machine(&cfg);
}

int vmt_alloc_op(struct sim_machine *m, enum sim_op_kind kind, uint32_t h, uint64_t a)
{
	struct sim_op op = { .kind = (uint16_t)kind, .h = h, .a = a };

	return sim_machine_exec(m, &op, NULL);
}

int vmt_op(struct sim_machine *m, enum sim_op_kind kind, uint32_t vm, uint64_t a, uint64_t b,
	   uint64_t c, uint64_t d)
{
	struct sim_op op = { .kind = (uint16_t)kind, .vm = vm, .a = a, .b = b, .c = c, .d = d };

	return sim_machine_exec(m, &op, NULL);
}

int vmt_load(struct sim_machine *m, uint32_t vm, uint64_t addr, uint64_t *value)
{
	struct sim_op op = { .kind = SIM_OP_LOAD, .vm = vm, .a = addr };

	return sim_machine_exec(m, &op, value);
}

int vmt_store(struct sim_machine *m, uint32_t vm, uint64_t addr, uint64_t value)
{
	return vmt_op(m, SIM_OP_STORE, vm, addr, value, 0, 0);
}

bool fired(struct sim_machine *m, enum sim_oracle_id oracle, const char *needle)
{
	const struct sim_report *r = sim_machine_report(m);

	for (unsigned int i = 0; i < r->kept; i++) {
		if (r->first[i].oracle == oracle && strstr(r->first[i].msg, needle)) {
			printf("#   fired: %s: %s\n", sim_oracle_name(oracle), r->first[i].msg);
			return true;
		}
	}
	printf("#   expected %s mentioning \"%s\"; the report has:\n", sim_oracle_name(oracle),
	       needle);
	sim_report_print(r, stdout);
	return false;
}

struct hvmm_page *vmt_meta(struct sim_machine *m, uint64_t pfn)
{
	return sim_vmemmap_page(sim_machine_vmemmap(m), pfn);
}

void *vmt_host(struct sim_machine *m, uint64_t pfn)
{
	return sim_physmem_pa_to_host(sim_machine_physmem(m), pfn << 12);
}

void vmt_walk(struct sim_machine *m, uint32_t vm, uint64_t ipa, struct sim_walk *w)
{
	struct sim_s2_regs regs = sim_vm_regs(sim_machine_vms(m), vm);

	sim_s2_walk(sim_machine_physmem(m), &regs, ipa, w);
}

uint64_t *vmt_desc(struct sim_machine *m, uint32_t vm, uint64_t ipa)
{
	struct sim_s2_regs regs = sim_vm_regs(sim_machine_vms(m), vm);
	unsigned int shift, entries = 512;
	struct sim_walk w;

	sim_s2_walk(sim_machine_physmem(m), &regs, ipa, &w);
	if (!w.nr_tables)
		return NULL;
	if (w.nr_tables == 1)
		entries *= sim_s2_root_tables(regs.ia_bits, regs.start_level);
	shift = 12 + 9 * (unsigned int)(3 - w.level);
	return (uint64_t *)sim_physmem_pa_to_host(sim_machine_physmem(m),
						   w.tables[w.nr_tables - 1]) +
	       ((ipa >> shift) & (entries - 1));
}

bool most_ops_succeeded(struct sim_machine *m)
{
	const struct sim_machine_stats *st = sim_machine_stats(m);
	bool ok = st->ops > 0;

	for (unsigned int k = 0; k < SIM_OP__COUNT; k++) {
		uint64_t done = st->by_kind[k] - st->failed_by_kind[k];

		if (!st->by_kind[k] || (done && 2 * done >= st->by_kind[k]))
			continue;
		printf("#   %s: %llu of %llu succeeded\n", sim_op_descs[k].name,
		       (unsigned long long)done, (unsigned long long)st->by_kind[k]);
		ok = false;
	}
	return ok;
}

bool vmt_clean(struct sim_machine *m)
{
	if (sim_report_clean(sim_machine_report(m)))
		return true;
	sim_report_print(sim_machine_report(m), stdout);
	return false;
}
