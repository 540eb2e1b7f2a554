/* SPDX-License-Identifier: MIT */
/*
 * Concurrent scenarios: a set-up prologue, then one program of ops per
 * host CPU (`sched vcpu=N` lines), which the executor runs interleaved
 * (sim/machine_conc.h). The whole stream is made up front: results of
 * queued ops are only known once the block has run.
 */
#ifndef SIM_WORKLOAD_CONC_H
#define SIM_WORKLOAD_CONC_H

#include <stdbool.h>

#include "op.h"
#include "workload/params.h"

struct sim_conc_workload;

/* NULL if @scenario is not a concurrent one (or out of memory). */
struct sim_conc_workload *sim_conc_workload_create(const char *scenario,
						   const struct sim_workload_params *p);
void sim_conc_workload_destroy(struct sim_conc_workload *w);
bool sim_conc_workload_next(struct sim_conc_workload *w, struct sim_op *op);
bool sim_conc_workload_is(const char *scenario);

#endif /* SIM_WORKLOAD_CONC_H */
