/* SPDX-License-Identifier: MIT */
/*
 * Test helpers for machine-level tests: ops through sim_machine_exec(),
 * oracle reports, and independent views of mm/'s state (vmemmap entries,
 * stage-2 walks and descriptors read through the sim walker).
 */
#ifndef TESTS_VMTEST_H
#define TESTS_VMTEST_H

#include <stdbool.h>
#include <stdint.h>

#include "machine.h"
#include "machine_vm.h"
#include "mmu/walk.h"

/* A machine for @cfg (default config if NULL), reports kept but not printed; exit 99 on failure. */
struct sim_machine *vmt_machine(const struct sim_machine_config *cfg);

/* A machine whose allocator is @ops over @pool_pages pages, the rest as vmt_machine(NULL). */
struct sim_machine *vmt_pool_machine(const struct sim_allocator_ops *ops, uint64_t pool_pages);

/* Runs one allocator op: kind, handle @h, a (the order, for alloc). */
int vmt_alloc_op(struct sim_machine *m, enum sim_op_kind kind, uint32_t h, uint64_t a);

/* Runs one op: kind, vm, a (ipa/pa), b (pfn/value), c (pages), d (prot). */
int vmt_op(struct sim_machine *m, enum sim_op_kind kind, uint32_t vm, uint64_t a, uint64_t b,
	   uint64_t c, uint64_t d);
int vmt_load(struct sim_machine *m, uint32_t vm, uint64_t addr, uint64_t *value);
int vmt_store(struct sim_machine *m, uint32_t vm, uint64_t addr, uint64_t value);

/*
 * True if at least half of the ops of each kind the run issued succeeded,
 * and every kind some: a quiet run proves nothing about an mm/ that refuses
 * everything. Prints the kinds that fall short.
 */
bool most_ops_succeeded(struct sim_machine *m);

/* True if no oracle fired (else prints the report). */
bool vmt_clean(struct sim_machine *m);

/* True if @oracle fired and one of its kept violations mentions @needle (else prints the report). */
bool fired(struct sim_machine *m, enum sim_oracle_id oracle, const char *needle);

struct hvmm_page *vmt_meta(struct sim_machine *m, uint64_t pfn);
void *vmt_host(struct sim_machine *m, uint64_t pfn);

/* The hardware walk of vm @vm (0: host) at @ipa. */
void vmt_walk(struct sim_machine *m, uint32_t vm, uint64_t ipa, struct sim_walk *w);
/* Where the walk of @ipa ends: the descriptor (leaf, invalid entry or fault point). */
uint64_t *vmt_desc(struct sim_machine *m, uint32_t vm, uint64_t ipa);

#endif /* TESTS_VMTEST_H */
