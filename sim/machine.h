/* SPDX-License-Identifier: MIT */
/*
 * The machine: simulated physical memory, the allocator under test, VMs
 * and vCPUs, and the oracles that judge every op. It is the one executor:
 * trace replay, fuzz targets, workload generators and benchmarks all feed
 * it struct sim_op.
 */
#ifndef SIM_MACHINE_H
#define SIM_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alloc/allocator.h"
#include "op.h"
#include "oracle/report.h"
#include "physmem.h"

enum sim_oracle_level {
	SIM_ORACLES_OFF,		/* no checks (benchmarks) */
	SIM_ORACLES_INCREMENTAL,	/* after every op, on what it touched */
	SIM_ORACLES_FULL,		/* incremental plus a full sweep after every op */
};

struct sim_region_config {
	enum sim_region_kind kind;
	uint64_t base, size;
};

struct sim_machine_config {
	struct sim_region_config regions[SIM_MAX_REGIONS];
	unsigned int nr_regions;
	char allocator[32];		/* name in sim_allocators[] */
	/*
	 * The stage-2 page tables mm/ writes (sim/pgtable/): a link-time
	 * choice, so only this program's own (sim_mm_pgtable_name(), the
	 * default) can be built; a trace names another to be run by the
	 * program that has it.
	 */
	char pgtable[32];
	/* If set, used instead of looking @allocator up (tests wrap adapters with faults). */
	const struct sim_allocator_ops *allocator_ops;
	uint64_t pool_base;		/* physical address; 0: start of the first RAM region */
	uint64_t pool_pages;		/* 0: the whole first RAM region */
	uint64_t pool_reserved;		/* pages at the pool start never handed out */
	unsigned int vcpus;
	uint64_t seed;
	enum sim_oracle_level oracles;
	uint64_t sweep_interval;	/* full sweep every N ops (0: only at the end) */
	FILE *report_stream;		/* violations are printed here as found (may be NULL) */
	/* VMs and stage-2 (VM ops return ENOTSUP if the hypervisor pool does not fit). */
	unsigned int ipa_bits;		/* guest IPA size (default 40) */
	unsigned int ipa_start_level;	/* guest stage-2 start level; 4: the fewest levels */
	unsigned int host_ia_bits;	/* host stage-2 input size (default 40) */
	unsigned int tlb_entries;	/* per vCPU (default 16) */
	unsigned int tlb_policy;	/* enum sim_tlb_policy (default LRU) */
	uint64_t hyp_pool_pages;	/* table pages, placed after the allocator pool (default 4096) */
};

/* Per-op-kind counters and the summary the CLI prints. */
struct sim_machine_stats {
	uint64_t ops;
	uint64_t by_kind[SIM_OP__COUNT];
	uint64_t failed_by_kind[SIM_OP__COUNT];	/* ops that returned an error */
	uint64_t expect_mismatches;		/* recorded outcome differed */
	uint64_t failed_enomem;			/* ops that failed for lack of memory */
	uint64_t failed_enotsup;		/* ops this machine cannot run */
	uint64_t pages_in_use, peak_pages_in_use;
	uint64_t pages_freed;			/* of blocks whose last reference went (each scrubbed) */
	uint64_t sweeps;
	uint64_t conc_refused;			/* block ops refused as racing another vCPU's use */
};

/* 1 GiB of RAM at 0x80000000, a buddy pool over its first 64 MiB, incremental oracles. */
void sim_machine_config_default(struct sim_machine_config *cfg);

/* The part of a configuration sim_machine_config_check() found at fault. */
enum sim_config_part {
	SIM_CONFIG_OK,
	SIM_CONFIG_REGION,		/* regions[*index] */
	SIM_CONFIG_ALLOCATOR,
	SIM_CONFIG_POOL,		/* pool_base and pool_pages against the RAM regions */
	SIM_CONFIG_POOL_RESERVED,
	SIM_CONFIG_PGTABLE,		/* page tables this program does not link */
};

/*
 * What sim_machine_create() checks before it maps anything (regions,
 * allocator, pool), without mapping anything: SIM_CONFIG_OK, or the part at
 * fault with why in @err (a region's index in @cfg in *@index).
 */
enum sim_config_part sim_machine_config_check(const struct sim_machine_config *cfg,
					      unsigned int *index, char *err, size_t errlen);

struct sim_machine *sim_machine_create(const struct sim_machine_config *cfg,
				       char *err, size_t errlen);
void sim_machine_destroy(struct sim_machine *m);
/*
 * Puts @m in the state sim_machine_create(@cfg) would, reusing its mapped
 * memory: for drivers that run many short runs (fuzz targets). @cfg may
 * change anything but the memory regions. On failure @m can only be
 * destroyed.
 */
int sim_machine_reset(struct sim_machine *m, const struct sim_machine_config *cfg,
		      char *err, size_t errlen);

/*
 * Executes @op, runs the oracles on it, and returns its result (0 or
 * -HVMM_E*). *@value receives an op's output (a load's value, test/next
 * results, the page a guest fault was given) if @value is not NULL. Once mm/ has panicked the machine is dead
 * and every op returns -HVMM_EFAULT.
 */
int sim_machine_exec(struct sim_machine *m, const struct sim_op *op, uint64_t *value);
/*
 * sim_machine_exec(@m, &@ops[i], NULL) for each op in turn, its result in
 * @results[i], with one panic catcher set for them all instead of one an
 * op (a sigsetjmp() each was a tenth of an op's cost with the oracles
 * off). Stops after the op that leaves the machine dead: returns the
 * number of ops run, @n if it lives.
 */
size_t sim_machine_exec_many(struct sim_machine *m, const struct sim_op *ops, size_t n,
			     int *results);

/*
 * Commit mode, for ops that ran on other host threads (the real-threads
 * mode, sim/threads.h): between begin and end, sim_machine_commit() does
 * what sim_machine_exec() does for @op (the executor's checks, shadows,
 * SPEC's verdict, statistics) except calling mm/: @result and @value, what
 * mm/ returned in the concurrent run, stand in for the call. The ops are
 * committed in an order that explains their results (a linearization);
 * what they touched is judged by the full sweep at the end, since mm/'s
 * state is already that after the last of them. Only allocator ops and
 * ownership transitions on live VMs can be committed: -HVMM_ENOTSUP (and
 * nothing done) for others, or outside begin/end.
 */
void sim_machine_commit_begin(struct sim_machine *m);
int sim_machine_commit(struct sim_machine *m, const struct sim_op *op, int result,
		       uint64_t value);
void sim_machine_commit_end(struct sim_machine *m);

/*
 * The end-of-run checks: a full sweep of every oracle; then the executor
 * gives back the VM references its vm_pin ops hold (hvmm_vm_put), so that
 * nothing it took outlives the run.
 */
void sim_machine_finish(struct sim_machine *m);

/* A full sweep now (tests and periodic checks). */
void sim_machine_sweep(struct sim_machine *m);

bool sim_machine_dead(const struct sim_machine *m);
struct sim_report *sim_machine_report(struct sim_machine *m);
const struct sim_machine_stats *sim_machine_stats(const struct sim_machine *m);
struct sim_allocator *sim_machine_allocator(struct sim_machine *m);
struct sim_alloc_shadow *sim_machine_shadow(struct sim_machine *m);
struct sim_physmem *sim_machine_physmem(struct sim_machine *m);
/* mm/'s page metadata the executor mapped and installed (sim/vmemmap.h). */
struct sim_vmemmap *sim_machine_vmemmap(struct sim_machine *m);
/* The VM side: VMs, TLBs, ideal machine (sim/machine_vm.h). */
struct sim_vmstate *sim_machine_vms(struct sim_machine *m);
/* The byte heap side (sim/machine_heap.h). */
struct sim_heapstate *sim_machine_heap(struct sim_machine *m);
/* Pages in use by the run's own users beside handles (the heap's chunks). */
void sim_machine_account_pages(struct sim_machine *m, int64_t pages);
const struct sim_machine_config *sim_machine_config(const struct sim_machine *m);

/*
 * The block behind a live allocation handle (first pfn, number of pages,
 * references); false if @h is not live.
 */
bool sim_machine_handle(const struct sim_machine *m, uint32_t h, uint64_t *pfn,
			uint64_t *pages, uint32_t *refs);

/*
 * Fragmentation of the allocator's free memory as the shadow sees it:
 * 1 - (largest naturally aligned free block / free pages); 0 when all free
 * memory could be handed out as one block.
 */
double sim_machine_fragmentation(const struct sim_machine *m);

#endif /* SIM_MACHINE_H */
