/* SPDX-License-Identifier: MIT */
/*
 * The VM side of the executor: the hypervisor pool for table pages, the
 * host and guest VMs with their vCPUs' TLBs, the ideal machine and the
 * ownership shadow. The stage-2 oracles (sim/oracle/vm_check.c,
 * spec_check.c) see it through the read-only view of oracle/vm_view.h,
 * which the code here fills.
 */
#ifndef SIM_MACHINE_VM_H
#define SIM_MACHINE_VM_H

#include <hvmm/vm.h>

#include "mmu/tlb.h"
#include "op.h"
#include "oracle/bbm.h"
#include "oracle/hyp_conserve.h"
#include "oracle/ideal.h"
#include "oracle/linearize.h"
#include "oracle/report.h"
#include "oracle/spec.h"
#include "oracle/vm_view.h"
#include "physmem.h"

struct sim_machine_config;
struct sim_vmemmap;

struct sim_guest {
	bool live;
	struct hvmm_vm *vm;	/* NULL for the host */
	uint16_t vmid;
	unsigned int nr_vcpus;
	uint32_t pins;		/* hvmm_vm_get() references the executor holds (vm_pin) */
	/*
	 * A linearized concurrent block's own view (sim_vm_call): its pins
	 * and whether one of its destroys succeeded, before the block's ops
	 * are committed in order.
	 */
	uint32_t raw_pins;
	bool raw_gone;
};

struct sim_vmstate {
	struct sim_physmem *pm;
	const struct sim_vmemmap *vmemmap;	/* mm/'s page metadata */
	struct sim_report *report;
	bool oracles;
	/* A concurrent block runs: what an op touched is judged by the next sweep. */
	bool conc_deferred;
	/*
	 * The vCPUs of a concurrent block are inside mm/ at once: an op's end
	 * is no boundary for the others, so the checks made at op boundaries
	 * (open TLB obligations, the hypervisor pools' account) wait for the
	 * block's end (sim_vm_block_end()).
	 */
	bool in_block;
	/* Commit mode (sim_machine_commit): the outcome standing in for mm/'s call. */
	const struct sim_outcome *outcome;
	/*
	 * The hypervisor's pages, [hyp_pfn, hyp_pfn + hyp_pages): the host
	 * stage-2's own pool first (pKVM's host_s2_pool), then the pool every
	 * guest's tables come from, so no guest can take what the host needs.
	 */
	struct hvmm_pool host_s2_pool, guest_pool;
	uint64_t hyp_pfn, hyp_pages, host_s2_pages;
	uint64_t alloc_pfn, alloc_pages;	/* the allocator-under-test pool: hypervisor's */
	unsigned int tlb_entries;
	enum sim_tlb_policy tlb_policy;
	bool enabled;				/* the hypervisor pool fitted */
	/*
	 * Without VMs: the pages just below and just above the allocator's
	 * pool that bystander pools of mm/'s buddy hold, in host_s2_pool and
	 * guest_pool (sim_vm_setup); 0 where there are none.
	 */
	uint64_t neighbour_below, neighbour_above;
	struct sim_guest g[SIM_MAX_VM + 1];	/* [0] the host */
	unsigned int g_hi;	/* no g[v] above it was ever live */
	struct sim_tlb tlbs[SIM_MAX_CPUS];
	unsigned int nr_cpus;
	struct sim_ideal ideal;
	struct sim_spec spec;			/* SPEC: the ownership model and shadow */
	struct sim_spec_verdict verdict;	/* what SPEC says the op in flight must do */
	struct sim_touch *touch;
	unsigned int nr_touch, touch_cap;
	/* Oracles on the events inside ops (NULL: off, or mm/ not instrumented). */
	struct sim_bbm *bbm;
	struct sim_hyp_conserve *hyp_conserve;
	struct sim_hyp_pools *hyp_pools;	/* ALLOC-* on the hypervisor's pools */
	uint64_t *cached;			/* scratch: pfns in page caches */
	unsigned int cached_cap;
	struct sim_vm_view view;		/* what the stage-2 oracles see */
};

/* Host threads run mm/ now, and have stopped (sim/threads.c). */
void sim_vm_threads_begin(struct sim_vmstate *vs);
void sim_vm_threads_end(struct sim_vmstate *vs);

int sim_vm_setup(struct sim_vmstate *vs, const struct sim_machine_config *cfg,
		 struct sim_physmem *pm, const struct sim_vmemmap *vmemmap,
		 struct sim_report *report,
		 uint64_t alloc_pfn, uint64_t alloc_pages, char *err, size_t errlen);
void sim_vm_teardown(struct sim_vmstate *vs);
int sim_vm_exec(struct sim_vmstate *vs, const struct sim_op *op, uint64_t *value);
/*
 * mm/'s own call for an ownership transition op (share, unshare, donate,
 * map, unmap, protect) and nothing else: no model, no oracle. The one
 * dispatch from the op vocabulary to mm/'s transitions, which the
 * executor, a linearized block and the real-threads mode all make. An op
 * on a VM that is not live is refused (-HVMM_ENOENT) and a guest's op
 * named on the host (vm0) too (-HVMM_EINVAL), as the executor refuses
 * them; any other kind of op is -HVMM_ENOTSUP.
 */
int sim_vm_call(struct sim_vmstate *vs, const struct sim_op *op);
/*
 * A linearized block's VM lifetime ops go through sim_vm_call() too
 * (vm_pin, vm_unpin, vm_destroy): they keep the block's own view of each
 * VM's pins and whether the block destroyed it, which this starts from the
 * executor's tables; the committed ops then update those.
 */
void sim_vm_raw_begin(struct sim_vmstate *vs);
/*
 * The end of a run: the executor gives back every pin it holds
 * (hvmm_vm_put), and the model forgets them.
 */
void sim_vm_unpin_all(struct sim_vmstate *vs);

/* Live VMs (the host aside); *@guest_pages: the IPA pages they hold, mapped or parked. */
unsigned int sim_vm_live(const struct sim_vmstate *vs, uint64_t *guest_pages);

/* The stage-2 registers the hardware would hold for vm @v. */
struct sim_s2_regs sim_vm_regs(const struct sim_vmstate *vs, unsigned int v);

/* A concurrent block ended: the op-boundary checks its ops skipped. */
void sim_vm_block_end(struct sim_vmstate *vs);

/* ALLOC-STRUCT and ALLOC-CONSERVE over every page of the hypervisor's pools (sweeps). */
void sim_vm_check_hyp_pools(struct sim_vmstate *vs);

/* The stage-2 oracles' view of @vs, current (oracle/vm_view.h). */
struct sim_vm_view *sim_vm_view(struct sim_vmstate *vs);

/*
 * The linearizability check's reader of the tables at a quiescent point
 * (struct sim_lin_refs .walk; @vs: the struct sim_vmstate): the
 * independent walker's leaf for vm@vm's page at @ipa.
 */
struct sim_lin_leaf sim_vm_lin_leaf(void *vs, unsigned int vm, uint64_t ipa);

#endif /* SIM_MACHINE_VM_H */
