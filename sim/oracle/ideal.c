// SPDX-License-Identifier: MIT
#include "oracle/ideal.h"

#include <stdlib.h>
#include <string.h>

#include "recycle.h"

struct sim_cell *sim_cell_new(void)
{
	struct sim_cell *c = sim_recycle_get(sizeof(*c));

	c->refs = 1;
	return c;
}

struct sim_cell *sim_cell_get(struct sim_cell *c)
{
	c->refs++;
	return c;
}

void sim_cell_put(struct sim_cell *c)
{
	if (c && --c->refs == 0) {
		sim_recycle_put(c->words, SIM_CELL_BYTES);
		sim_recycle_put(c, sizeof(*c));
	}
}

uint64_t sim_cell_read(const struct sim_cell *c, uint64_t offset)
{
	return c->words ? c->words[(offset & 0xfff) >> 3] : 0;
}

void sim_cell_write(struct sim_cell *c, uint64_t offset, uint64_t value)
{
	if (!c->words) {
		if (!value)
			return;
		c->words = sim_recycle_get(SIM_CELL_BYTES);
	}
	c->words[(offset & 0xfff) >> 3] = value;
}

/* --- spaces: open addressing, linear probing, backward-shift deletion ----- */

static uint64_t hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	return k ^ (k >> 33);
}

struct sim_ipage *sim_space_find(struct sim_space *s, uint64_t page)
{
	if (!s->cap)
		return NULL;
	for (uint64_t i = hash(page) & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->slots[i].used)
			return NULL;
		if (s->slots[i].page == page)
			return &s->slots[i];
	}
}

static void grow(struct sim_space *s)
{
	struct sim_space n = { .cap = s->cap ? s->cap * 2 : 64 };

	n.slots = sim_recycle_get(n.cap * sizeof(*n.slots));
	for (uint64_t i = 0; i < s->cap; i++) {
		if (s->slots[i].used) {
			uint64_t j = hash(s->slots[i].page) & (n.cap - 1);

			while (n.slots[j].used)
				j = (j + 1) & (n.cap - 1);
			n.slots[j] = s->slots[i];
			n.nr++;
		}
	}
	sim_space_free(s);
	*s = n;
}

void sim_space_free(struct sim_space *s)
{
	sim_recycle_put(s->slots, s->cap * sizeof(*s->slots));
	s->slots = NULL;
}

struct sim_ipage *sim_space_insert(struct sim_space *s, uint64_t page)
{
	struct sim_ipage *p = sim_space_find(s, page);
	uint64_t i;

	if (p)
		return p;
	if ((s->nr + 1) * 4 > s->cap * 3)
		grow(s);
	for (i = hash(page) & (s->cap - 1); s->slots[i].used; i = (i + 1) & (s->cap - 1))
		;
	s->slots[i] = (struct sim_ipage){ .page = page, .used = true };
	s->nr++;
	return &s->slots[i];
}

void sim_space_remove(struct sim_space *s, uint64_t page)
{
	struct sim_ipage *p = sim_space_find(s, page);
	uint64_t i, j, k, mask = s->cap - 1;

	if (!p)
		return;
	i = (uint64_t)(p - s->slots);
	s->slots[i].used = false;
	s->nr--;
	for (j = (i + 1) & mask; s->slots[j].used; j = (j + 1) & mask) {
		k = hash(s->slots[j].page) & mask;
		/* Move j back to i if its home k is not in (i, j]. */
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			s->slots[i] = s->slots[j];
			s->slots[j].used = false;
			i = j;
		}
	}
}

/* --- the ideal machine ----------------------------------------------------- */

int sim_ideal_init(struct sim_ideal *id, uint64_t base_pfn, uint64_t nr_pfns)
{
	memset(id, 0, sizeof(*id));
	id->base_pfn = base_pfn;
	id->nr_pfns = nr_pfns;
	return 0;
}

void sim_ideal_fini(struct sim_ideal *id)
{
	for (unsigned int v = 0; v <= SIM_MAX_VM; v++) {
		struct sim_space *s = &id->spaces[v];

		if (!s->cap)
			continue;	/* never used (most of them) */
		for (uint64_t i = 0; i < s->cap; i++)
			if (s->slots[i].used)
				sim_cell_put(s->slots[i].cell);
		sim_space_free(s);
	}
	memset(id, 0, sizeof(*id));
}

bool sim_ideal_host_boot_hidden(const struct sim_ideal *id, uint64_t pfn)
{
	for (unsigned int r = 0; r < id->nr_boot; r++)
		if (pfn - id->boot[r].pfn < id->boot[r].nr)
			return true;
	return false;
}

int sim_ideal_host_hide_boot(struct sim_ideal *id, uint64_t pfn, uint64_t nr)
{
	if (id->nr_boot == SIM_IDEAL_BOOT_RANGES)
		return -1;
	id->boot[id->nr_boot].pfn = pfn;
	id->boot[id->nr_boot++].nr = nr;
	return 0;
}

/*
 * The host's space holds explicit entries only: a RAM page without one is
 * the host's, with zero contents.
 */
struct sim_cell *sim_ideal_host_cell(struct sim_ideal *id, uint64_t pfn, bool ram)
{
	struct sim_ipage *p = sim_space_find(&id->spaces[0], pfn);

	if (p)
		return p->cell;
	if (!ram || sim_ideal_host_boot_hidden(id, pfn))
		return NULL;
	p = sim_space_insert(&id->spaces[0], pfn);
	p->cell = sim_cell_new();
	p->prot = SIM_PROT_R | SIM_PROT_W | SIM_PROT_X;
	return p->cell;
}

void sim_ideal_host_set(struct sim_ideal *id, uint64_t pfn, struct sim_cell *cell)
{
	struct sim_ipage *p = sim_space_insert(&id->spaces[0], pfn);

	sim_cell_put(p->cell);
	p->cell = cell;
	p->prot = cell ? SIM_PROT_R | SIM_PROT_W | SIM_PROT_X : 0;
}

void sim_ideal_host_hide(struct sim_ideal *id, uint64_t pfn)
{
	sim_ideal_host_set(id, pfn, NULL);
}

/*
 * A page given back to the host (a VM's reclaimed page, a page the
 * hypervisor donates back) is a fresh zero page, kept as an explicit
 * entry rather than as no entry: the full sweep compares every explicit
 * entry with memory, so a page returned unscrubbed is seen whether or not
 * the host ever reads it.
 */
void sim_ideal_host_reset(struct sim_ideal *id, uint64_t pfn)
{
	sim_ideal_host_set(id, pfn, sim_cell_new());
}
