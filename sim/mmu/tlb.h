/* SPDX-License-Identifier: MIT */
/*
 * A per-vCPU TLB model: fully associative, keyed by VMID and IPA, holding
 * whole translations (a block stays one entry, as hardware may keep it).
 * Entries stay until evicted by the replacement policy or invalidated by
 * a TLBI that mm/ issues through the platform hooks; an access goes to the
 * TLB first and walks only on a miss, so a missing invalidation is visible.
 */
#ifndef SIM_MMU_TLB_H
#define SIM_MMU_TLB_H

#include "mmu/walk.h"

enum sim_tlb_policy {
	SIM_TLB_FIFO,
	SIM_TLB_RANDOM,
	SIM_TLB_LRU,
};

struct sim_tlb_entry {
	bool valid;
	uint16_t vmid;
	uint64_t stamp;		/* insertion (FIFO) or last use (LRU) */
	struct sim_translation t;
	/* The table pages the walk that filled it read: they must outlive it. */
	uint64_t tables[4];
	unsigned int nr_tables;
};

struct sim_tlb {
	struct sim_tlb_entry *e;
	unsigned int size;
	enum sim_tlb_policy policy;
	uint64_t clock;
	uint64_t rng;
	uint64_t hits, misses, invalidated;
};

int sim_tlb_init(struct sim_tlb *tlb, unsigned int size, enum sim_tlb_policy policy, uint64_t seed);
void sim_tlb_fini(struct sim_tlb *tlb);

/* The cached translation of (vmid, ipa), or NULL. */
const struct sim_translation *sim_tlb_lookup(struct sim_tlb *tlb, uint16_t vmid, uint64_t ipa);
/* Caches the translation of walk @w (which must not have faulted). */
void sim_tlb_insert(struct sim_tlb *tlb, uint16_t vmid, const struct sim_walk *w);

/*
 * TLBI IPAS2E1IS (entries of @vmid translating @ipa; with a level hint, as
 * the TTL field gives one, only entries of a leaf at @level: the
 * architecture lets the others survive), RIPAS2E1IS, VMALLS12E1IS.
 */
#define SIM_TLB_ANY_LEVEL (-1)
void sim_tlb_flush_ipa(struct sim_tlb *tlb, uint16_t vmid, uint64_t ipa, int level);
void sim_tlb_flush_range(struct sim_tlb *tlb, uint16_t vmid, uint64_t ipa, uint64_t size);
void sim_tlb_flush_vmid(struct sim_tlb *tlb, uint16_t vmid);
void sim_tlb_flush_all(struct sim_tlb *tlb);

/*
 * One access: TLB, else walk and fill. Returns the fault; *pa is the
 * physical address on success. The entry used is in *used (if not NULL).
 */
enum sim_fault sim_mmu_access(struct sim_tlb *tlb, const struct sim_physmem *pm,
			      const struct sim_s2_regs *regs, uint64_t ipa,
			      enum sim_access access, uint64_t *pa);

#endif /* SIM_MMU_TLB_H */
