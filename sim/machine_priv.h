/* SPDX-License-Identifier: MIT */
/*
 * The executor's own state, shared by the files that implement it
 * (machine.c: set-up, dispatch and the generic allocator ops;
 * machine_bitmap.c: the bitmap-family ops). Not for drivers, which use
 * machine.h.
 */
#ifndef SIM_MACHINE_PRIV_H
#define SIM_MACHINE_PRIV_H

#include "handle_table.h"
#include "machine.h"
#include "vmemmap.h"

struct sim_vmstate;
struct sim_heapstate;
struct sim_maptab_state;
struct sim_outcome;
struct conc;

struct sim_machine {
	struct sim_machine_config cfg;
	struct sim_physmem pm;
	struct sim_vmemmap vmemmap;	/* mm/'s page metadata, booted by the executor */
	struct sim_allocator alloc;
	struct sim_alloc_shadow shadow;
	struct sim_report report;
	struct sim_machine_stats stats;
	struct sim_handles handles;	/* what each live allocation handle names */
	bool dead;			/* mm/ panicked: state is no longer trustworthy */
	/*
	 * The op hands mm/ a caller's misuse (a double put) that mm/ must
	 * refuse or stop: a panic then is the right answer, not a violation.
	 */
	bool misuse;
	bool alloc_ready;
	struct sim_vmstate *vms;	/* the VM side (machine_vm.c) */
	struct sim_heapstate *heap;	/* the byte heap (machine_heap.c) */
	struct conc *conc;		/* the concurrent block (machine_conc.h) */
	/*
	 * A concurrent block runs: what overlapping ops touched is judged at
	 * the next point where no vCPU is inside an op, by a full sweep, not
	 * right after each op, when another vCPU may be half-way through its
	 * critical section (and AVAIL has no meaning while another op holds a
	 * block). An op that runs alone is judged as it goes (conc_alone).
	 */
	bool conc_running;
	/*
	 * In a concurrent block, the op now running started while no other
	 * was inside one, and none has started since: its checks run as a
	 * sequential op's do (conc_body() in machine.c).
	 */
	bool conc_alone;
	struct sim_maptab_state *maptab;	/* Anaxagoros tables (machine_maptab.h) */
	/*
	 * Commit mode (sim_machine_commit): mm/ is not called, the outcome of
	 * the op's concurrent run stands in for it; checks wait for the end
	 * of the batch as in a concurrent block.
	 */
	const struct sim_outcome *outcome;
	bool committing;
};

/* Oracles are on (not --oracles off): inline, asked several times an op. */
static inline bool sim_machine_oracles_on(const struct sim_machine *m)
{
	return m->cfg.oracles != SIM_ORACLES_OFF;
}
/* The allocator oracles on the pages an op touched (deferred in concurrent blocks). */
void sim_machine_check_touched(struct sim_machine *m, uint64_t pfn, uint64_t nr);
/* 0 if handle @h may be bound by an op (free, in range, its slot allocated), else -SIM_E*. */
int sim_machine_new_handle(struct sim_machine *m, uint32_t h);
/* The bitmap-family ops (SIM_OPC_BITMAP). */
int sim_machine_bitmap_op(struct sim_machine *m, const struct sim_op *op, uint64_t *value);

#endif /* SIM_MACHINE_PRIV_H */
