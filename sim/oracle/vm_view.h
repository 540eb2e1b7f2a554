/* SPDX-License-Identifier: MIT */
/*
 * The stage-2 oracles' interface: OWNERSHIP, TYPE, REFCOUNT, TLB, PT-WALK,
 * IDEAL (oracle/vm_check.c) and SPEC as an oracle (oracle/spec_check.c).
 *
 * They see the machine through struct sim_vm_view, which the executor
 * (sim/machine_vm.c) fills and keeps current: what the hardware holds
 * (simulated memory, the stage-2 registers of each VM, the TLBs), the
 * models the executor keeps from the ops' meaning (the ideal machine, the
 * reference model and its verdict on the op in flight), what the op
 * touched, and mm/'s page metadata, read only through oracle/mm_layout.h.
 * Nothing of the executor's own state, and no mm/ type, is reachable.
 */
#ifndef SIM_ORACLE_VM_VIEW_H
#define SIM_ORACLE_VM_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/tlb.h"
#include "mmu/walk.h"
#include "op.h"
#include "oracle/ideal.h"
#include "oracle/mm_layout.h"
#include "oracle/report.h"
#include "oracle/spec.h"
#include "physmem.h"

/*
 * TLBs belong to physical CPUs, tagged by VMID, as in hardware: vCPU i of
 * any VM runs on physical CPU i % nr_cpus, so a VMID reused without
 * invalidation would let a new VM use an old one's translations.
 */
#define SIM_MAX_CPUS 8

/*
 * What an op touched, for the incremental oracles: a list that grows with
 * the op (a VM's teardown touches every page it had), so that checking
 * costs what the op touched, never a sweep of the machine.
 */
struct sim_touch {
	unsigned int vm;	/* SIM_MAX_VM + 1: none */
	uint64_t ipa, pages;
	uint64_t pfn, nr;	/* physical pages (nr 0: none) */
};

/* A stage-2 as the hardware would hold it: [0] the host's. */
struct sim_vm_view_guest {
	bool live;
	uint16_t vmid;
	struct sim_s2_regs regs;	/* fixed for the VM's life */
	const struct hvmm_vm *vm;	/* opaque: its refcount read through oracle/mm_layout.h */
};

struct sim_vm_view {
	const struct sim_physmem *pm;
	const struct sim_vmemmap *vmemmap;	/* through oracle/mm_layout.h only */
	struct sim_report *report;
	bool oracles;				/* off: SPEC still applies verdicts */
	/* A concurrent block or a commit: mm/ may be past the op; the next sweep judges it. */
	bool deferred;
	uint64_t hyp_pfn, hyp_pages;		/* the hypervisor's pages: where tables live */
	unsigned int nr_cpus;
	const struct sim_tlb *tlbs;		/* [nr_cpus] */
	struct sim_ideal *ideal;		/* IDEAL writes guest stores into it */
	struct sim_spec *spec;			/* SPEC applies the verdict of a judged op */
	const struct sim_spec_verdict *verdict;	/* SPEC's for the op in flight */
	const struct sim_touch *touch;		/* this op's, [nr_touch] */
	unsigned int nr_touch;
	struct sim_vm_view_guest g[SIM_MAX_VM + 1];
};

/* After an op: the pages and ranges it touched. */
void sim_vm_check_touched(struct sim_vm_view *vs);
/* Everything: every live stage-2 walked, every RAM page, every TLB. */
void sim_vm_check_full(struct sim_vm_view *vs);
/* IDEAL on one access; @ok: the real access succeeded, with @value. */
void sim_vm_check_access(struct sim_vm_view *vs, unsigned int v, uint64_t ipa, bool write,
			 bool ok, uint64_t value, uint64_t pa);
/*
 * SPEC (oracle/spec_check.c): judges the op's result against the verdict
 * predicted before it ran, applies it to the model, and checks the
 * post-state the stage-2 walks show.
 */
void sim_vm_spec_judge(struct sim_vm_view *vs, const struct sim_op *op, int ret);
/*
 * vm@v's page at @ipa as the independent walker reads the tables now (what
 * PT-WALK compares with the models): its permissions (SIM_PROT_*) and
 * *@pfn; -1 if nothing is mapped there (a translation fault, or no such
 * VM); -2 if the walk ends in any other fault.
 */
int sim_vm_read_leaf(const struct sim_vm_view *vs, unsigned int v, uint64_t ipa, uint64_t *pfn);
/* TLB: no TLB holds anything tagged @vmid (after its VM was destroyed). */
void sim_vm_check_vmid_gone(struct sim_vm_view *vs, uint16_t vmid);

/* A page's ownership as the reference model says it must be, in the oracles' terms. */
struct sim_vm_owner {
	enum sim_mm_owner owner;
	uint16_t vmid;			/* SIM_MM_OWNER_GUEST's */
	enum sim_mm_state state;	/* as the host sees it */
	bool hyp_boot;			/* the hypervisor's own pools */
	uint32_t share_count, maps;
};
struct sim_vm_owner sim_vm_model_owner(const struct sim_vm_view *vs, uint64_t pfn);

#endif /* SIM_ORACLE_VM_VIEW_H */
