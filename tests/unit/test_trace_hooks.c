// SPDX-License-Identifier: MIT
/*
 * mm/'s trace hook tells the truth: the stage-2 map and unmap events it
 * emits (hvmm_trace(), HVMM_TRACE_S2_MAP/UNMAP), applied in order to an
 * empty map per VMID, give exactly the translations the independent walker
 * finds in every live VM's tables at the end of a vm-random run, and
 * nothing for VMs destroyed in it. Every unmap removes a mapping that was
 * there; every map lands where nothing was mapped.
 *
 * (The page events' round trip through 'hvmm import' is checked from the
 * command line: tests/replay/check_events.py.)
 */
#include <stdlib.h>
#include <string.h>

#include <hvmm/platform.h>

#include "tap.h"
#include "vmtest.h"
#include "platform.h"
#include "workload.h"

#define PAGE 4096ULL

struct entry {
	uint64_t key;		/* vmid << 40 | ipa page number; 0: empty */
	uint64_t pa;
};

struct s2map {
	struct entry *tab;
	uint64_t cap, used;
	uint64_t maps, unmaps, bad_maps, bad_unmaps;
};

static uint64_t key_of(uint64_t vmid, uint64_t ipa)
{
	return (vmid + 1) << 40 | ipa / PAGE;
}

static struct entry *find(struct s2map *m, uint64_t key, bool insert)
{
	uint64_t i = (key * 0x9e3779b97f4a7c15ULL) >> 20;

	if (insert && (m->used + 1) * 2 > m->cap) {
		struct s2map big = { .cap = m->cap ? m->cap * 2 : 1 << 16 };

		big.tab = calloc(big.cap, sizeof(*big.tab));
		if (!big.tab)
			abort();
		for (uint64_t j = 0; j < m->cap; j++)
			if (m->tab[j].key > 1)
				*find(&big, m->tab[j].key, true) = m->tab[j];
		free(m->tab);
		m->tab = big.tab;
		m->cap = big.cap;
		m->used = big.used;
	}
	for (;; i++) {
		struct entry *e = &m->tab[i & (m->cap - 1)];

		if (e->key == key)
			return e;
		if (!e->key) {
			if (!insert)
				return NULL;
			e->key = key;
			m->used++;
			return e;
		}
	}
}

static void on_trace(void *ctx, int ev, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	struct s2map *m = ctx;

	if (ev == HVMM_TRACE_S2_MAP) {
		m->maps++;
		for (uint64_t off = 0; off < d; off += PAGE) {
			struct entry *e = find(m, key_of(a, b + off), true);

			if (e->pa)
				m->bad_maps++;
			e->pa = c + off + 1;	/* +1: 0 means unmapped */
		}
	} else if (ev == HVMM_TRACE_S2_UNMAP) {
		m->unmaps++;
		for (uint64_t off = 0; off < c; off += PAGE) {
			struct entry *e = m->cap ? find(m, key_of(a, b + off), false) : NULL;

			if (!e || !e->pa)
				m->bad_unmaps++;
			else
				e->pa = 0;
		}
	}
}

struct leaf_count {
	uint64_t pages;
};

static void count_table(void *ctx, uint64_t pa, int level, unsigned int nonzero)
{
}

static void count_leaf(void *ctx, uint64_t ipa, int level, uint64_t desc)
{
	struct leaf_count *lc = ctx;

	if (desc & 1)
		lc->pages += (1ULL << (12 + 9 * (3 - level))) / PAGE;
}

/* Pages the events say vmid @vmid maps, each checked against a walk of vm @v. */
static uint64_t check_vm(struct sim_machine *m, struct s2map *map, unsigned int v,
			 uint64_t vmid, uint64_t *wrong)
{
	uint64_t pages = 0;

	for (uint64_t i = 0; i < map->cap; i++) {
		struct entry *e = &map->tab[i];
		struct sim_walk w;

		if (!e->pa || e->key >> 40 != vmid + 1)
			continue;
		pages++;
		vmt_walk(m, v, (e->key & ((1ULL << 40) - 1)) * PAGE, &w);
		if (w.fault != SIM_FAULT_NONE ||
		    w.t.pa_base + ((e->key & ((1ULL << 40) - 1)) * PAGE - w.t.ipa_base) != e->pa - 1)
			++*wrong;
	}
	return pages;
}

static void events_describe_every_live_translation(void)
{
	struct sim_machine_config cfg;
	struct sim_workload_params p = { 0 };
	struct s2map map = { 0 };
	struct sim_workload *w;
	struct sim_machine *m;
	struct sim_vmstate *vs;
	uint64_t wrong = 0;
	static bool live_vmid[1 << 16];
	struct sim_op op;

	sim_platform_set_trace_sink(on_trace, &map);
	sim_machine_config_default(&cfg);
	m = vmt_machine(&cfg);
	sim_workload_params_for(&p, &cfg);
	p.ops = 4000;
	p.seed = 11;
	w = sim_workload_create("vm-random", &p);
	CHECK(w != NULL);
	while (w && sim_workload_next(w, &op)) {
		uint64_t value = 0;

		sim_workload_result(w, &op, sim_machine_exec(m, &op, &value));
	}
	sim_machine_finish(m);
	sim_platform_set_trace_sink(NULL, NULL);
	CHECK(vmt_clean(m));
	CHECK(most_ops_succeeded(m));
	printf("#   %llu map and %llu unmap events\n", (unsigned long long)map.maps,
	       (unsigned long long)map.unmaps);
	CHECK(map.maps >= 500 && map.unmaps >= 200);
	CHECK_EQ(map.bad_maps, 0);
	CHECK_EQ(map.bad_unmaps, 0);

	vs = sim_machine_vms(m);
	for (unsigned int v = 0; v <= SIM_MAX_VM; v++) {
		struct sim_s2_regs regs;
		struct leaf_count lc = { 0 };
		struct sim_s2_visitor vis = { count_table, count_leaf, &lc };
		uint64_t pages;

		if (!vs->g[v].live)
			continue;
		live_vmid[vs->g[v].vmid] = true;
		regs = sim_vm_regs(vs, v);
		sim_s2_enumerate(sim_machine_physmem(m), &regs, &vis);
		pages = check_vm(m, &map, v, vs->g[v].vmid, &wrong);
		CHECK_MSG(pages == lc.pages, "vmid %u: the events map %llu pages, its tables %llu",
			  vs->g[v].vmid, (unsigned long long)pages, (unsigned long long)lc.pages);
	}
	CHECK_EQ(wrong, 0);
	/* A destroyed VM's translations were all reported gone. */
	for (uint64_t i = 0; i < map.cap; i++)
		if (map.tab[i].pa && !live_vmid[(map.tab[i].key >> 40) - 1]) {
			TAP_FAIL("vmid %llu, not live, still maps ipa 0x%llx by the events",
				 (unsigned long long)(map.tab[i].key >> 40) - 1,
				 (unsigned long long)(map.tab[i].key & ((1ULL << 40) - 1)) * PAGE);
			break;
		}
	sim_workload_destroy(w);
	sim_machine_destroy(m);
	free(map.tab);
}

int main(void)
{
	TEST(events_describe_every_live_translation);
	return tap_done();
}
