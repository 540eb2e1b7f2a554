/* SPDX-License-Identifier: MIT */
/*
 * Workload generators: seeded streams of ops in the common vocabulary.
 * A generator proposes the next op and is told the result, so it knows
 * which handles are live without peeking into the machine.
 */
#ifndef SIM_WORKLOAD_H
#define SIM_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "op.h"
#include "rng.h"
#include "workload/params.h"

struct sim_workload;

struct sim_workload_scenario {
	const char *name;
	const char *description;
};

/* NULL-terminated list of scenarios. */
extern const struct sim_workload_scenario sim_workload_scenarios[];

struct sim_workload *sim_workload_create(const char *scenario,
					 const struct sim_workload_params *params);
void sim_workload_destroy(struct sim_workload *w);
/* The VMs it runs: params->vms, or the scenario's default (4; vm-random: 6). */
unsigned int sim_workload_vms(const struct sim_workload *w);

/*
 * The params a machine with @cfg implies (seed, pool size, host RAM beyond
 * the pool, a PFN that is not RAM). The rest (ops, max_order, vms) are the
 * caller's, so @p must start zeroed or set: a field left to the stack made
 * the op stream depend on whatever the stack held (the VMs vm-random ran
 * changed with the address layout).
 */
struct sim_machine_config;
void sim_workload_params_for(struct sim_workload_params *p, const struct sim_machine_config *cfg);

/* Fills @op with the next op; false when the workload is done. */
bool sim_workload_next(struct sim_workload *w, struct sim_op *op);
/* Tells the generator what the last op returned. */
void sim_workload_result(struct sim_workload *w, const struct sim_op *op, int result);

#endif /* SIM_WORKLOAD_H */
