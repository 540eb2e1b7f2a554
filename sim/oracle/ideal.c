// SPDX-License-Identifier: MIT
#include "oracle/ideal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

/*
 * The ownership shadow of the last machine torn down, zeroed, for the next
 * one of the same size (a fuzzer's reset machine): mapping it afresh made
 * every run fault its pages in again.
 */
static _Thread_local struct { void *own; uint64_t bytes; } spare;

int sim_ideal_init(struct sim_ideal *id, uint64_t base_pfn, uint64_t nr_pfns)
{
	uint64_t bytes = nr_pfns * sizeof(struct sim_own);
	void *p;

	memset(id, 0, sizeof(*id));
	id->base_pfn = base_pfn;
	id->nr_pfns = nr_pfns;
	if (spare.own && spare.bytes == bytes) {
		id->own = spare.own;
		spare.own = NULL;
		return 0;
	}
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	id->own = p;
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
	if (id->own) {
		uint64_t bytes = id->nr_pfns * sizeof(struct sim_own);

		/*
		 * Kept if small (a fuzzer's machine): zeroing costs less than
		 * faulting, and only what sim_ideal_own() handed out can have
		 * been written.
		 */
		if (!spare.own && bytes <= (1u << 20)) {
			if (id->own_lo < id->own_hi)
				memset(&id->own[id->own_lo], 0,
				       (id->own_hi - id->own_lo) * sizeof(struct sim_own));
			spare.own = id->own;
			spare.bytes = bytes;
		} else {
			munmap(id->own, bytes);
		}
	}
	memset(id, 0, sizeof(*id));
}

struct sim_own *sim_ideal_own(struct sim_ideal *id, uint64_t pfn)
{
	uint64_t i = pfn - id->base_pfn;

	if (i >= id->nr_pfns)
		return NULL;
	if (id->own_lo >= id->own_hi) {
		id->own_lo = i;
		id->own_hi = i + 1;
	} else if (i < id->own_lo) {
		id->own_lo = i;
	} else if (i >= id->own_hi) {
		id->own_hi = i + 1;
	}
	return &id->own[i];
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

void sim_ideal_host_reset(struct sim_ideal *id, uint64_t pfn)
{
	struct sim_ipage *p = sim_space_find(&id->spaces[0], pfn);

	if (sim_ideal_host_boot_hidden(id, pfn)) {
		/* No entry would mean hidden here: a fresh zero page, explicitly. */
		sim_ideal_host_set(id, pfn, sim_cell_new());
		return;
	}
	if (p)
		sim_cell_put(p->cell);
	sim_space_remove(&id->spaces[0], pfn);
}
