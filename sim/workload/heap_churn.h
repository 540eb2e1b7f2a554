/* SPDX-License-Identifier: MIT */
/* The "heap-churn" workload generator (see heap_churn.c). */
#ifndef SIM_WORKLOAD_HEAP_CHURN_H
#define SIM_WORKLOAD_HEAP_CHURN_H

#include <stdbool.h>

#include "op.h"
#include "workload/params.h"

struct sim_heap_workload;

struct sim_heap_workload *sim_heap_workload_create(const struct sim_workload_params *params);
void sim_heap_workload_destroy(struct sim_heap_workload *w);
bool sim_heap_workload_next(struct sim_heap_workload *w, struct sim_op *op);
void sim_heap_workload_result(struct sim_heap_workload *w, const struct sim_op *op, int result);

#endif /* SIM_WORKLOAD_HEAP_CHURN_H */
