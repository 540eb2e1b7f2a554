// SPDX-License-Identifier: MIT
#include "mmu/tlb.h"

#include <stdlib.h>

#include "recycle.h"

int sim_tlb_init(struct sim_tlb *tlb, unsigned int size, enum sim_tlb_policy policy, uint64_t seed)
{
	*tlb = (struct sim_tlb){ .size = size ? size : 1, .policy = policy, .rng = seed | 1 };
	tlb->e = sim_recycle_get(tlb->size * sizeof(*tlb->e));
	return 0;
}

void sim_tlb_fini(struct sim_tlb *tlb)
{
	sim_recycle_put(tlb->e, tlb->size * sizeof(*tlb->e));
	tlb->e = NULL;
}

static bool contains(const struct sim_translation *t, uint64_t ipa)
{
	return ipa - t->ipa_base < t->size;
}

const struct sim_translation *sim_tlb_lookup(struct sim_tlb *tlb, uint16_t vmid, uint64_t ipa)
{
	for (unsigned int i = 0; i < tlb->size; i++) {
		struct sim_tlb_entry *e = &tlb->e[i];

		if (e->valid && e->vmid == vmid && contains(&e->t, ipa)) {
			tlb->hits++;
			if (tlb->policy == SIM_TLB_LRU)
				e->stamp = ++tlb->clock;
			return &e->t;
		}
	}
	tlb->misses++;
	return NULL;
}

static unsigned int victim(struct sim_tlb *tlb)
{
	unsigned int i, best = 0;

	for (i = 0; i < tlb->size; i++)
		if (!tlb->e[i].valid)
			return i;
	if (tlb->policy == SIM_TLB_RANDOM) {
		tlb->rng ^= tlb->rng << 13;
		tlb->rng ^= tlb->rng >> 7;
		tlb->rng ^= tlb->rng << 17;
		return (unsigned int)(tlb->rng % tlb->size);
	}
	for (i = 1; i < tlb->size; i++)
		if (tlb->e[i].stamp < tlb->e[best].stamp)
			best = i;
	return best;
}

void sim_tlb_insert(struct sim_tlb *tlb, uint16_t vmid, const struct sim_walk *w)
{
	struct sim_tlb_entry *e = &tlb->e[victim(tlb)];

	*e = (struct sim_tlb_entry){ .valid = true, .vmid = vmid, .stamp = ++tlb->clock, .t = w->t,
				     .nr_tables = w->nr_tables };
	for (unsigned int i = 0; i < w->nr_tables; i++)
		e->tables[i] = w->tables[i];
}

static void drop(struct sim_tlb *tlb, struct sim_tlb_entry *e)
{
	e->valid = false;
	tlb->invalidated++;
}

void sim_tlb_flush_ipa(struct sim_tlb *tlb, uint16_t vmid, uint64_t ipa, int level)
{
	for (unsigned int i = 0; i < tlb->size; i++)
		if (tlb->e[i].valid && tlb->e[i].vmid == vmid && contains(&tlb->e[i].t, ipa) &&
		    (level == SIM_TLB_ANY_LEVEL || tlb->e[i].t.level == level))
			drop(tlb, &tlb->e[i]);
}

void sim_tlb_flush_range(struct sim_tlb *tlb, uint16_t vmid, uint64_t ipa, uint64_t size)
{
	for (unsigned int i = 0; i < tlb->size; i++) {
		struct sim_tlb_entry *e = &tlb->e[i];

		if (e->valid && e->vmid == vmid && e->t.ipa_base < ipa + size &&
		    ipa < e->t.ipa_base + e->t.size)
			drop(tlb, e);
	}
}

void sim_tlb_flush_vmid(struct sim_tlb *tlb, uint16_t vmid)
{
	for (unsigned int i = 0; i < tlb->size; i++)
		if (tlb->e[i].valid && tlb->e[i].vmid == vmid)
			drop(tlb, &tlb->e[i]);
}

void sim_tlb_flush_all(struct sim_tlb *tlb)
{
	for (unsigned int i = 0; i < tlb->size; i++)
		if (tlb->e[i].valid)
			drop(tlb, &tlb->e[i]);
}

enum sim_fault sim_mmu_access(struct sim_tlb *tlb, const struct sim_physmem *pm,
			      const struct sim_s2_regs *regs, uint64_t ipa,
			      enum sim_access access, uint64_t *pa)
{
	const struct sim_translation *t = sim_tlb_lookup(tlb, regs->vmid, ipa);
	struct sim_walk w;

	if (!t) {
		sim_s2_walk(pm, regs, ipa, &w);
		if (w.fault)
			return w.fault;
		sim_tlb_insert(tlb, regs->vmid, &w);
		t = &w.t;
	}
	if (!sim_translation_permits(t, access))
		return SIM_FAULT_PERMISSION;
	*pa = t->pa_base + (ipa - t->ipa_base);
	return SIM_FAULT_NONE;
}
