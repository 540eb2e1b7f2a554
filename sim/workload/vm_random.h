/* SPDX-License-Identifier: MIT */
/* The "vm-random" workload generator (see vm_random.c). */
#ifndef SIM_WORKLOAD_VM_RANDOM_H
#define SIM_WORKLOAD_VM_RANDOM_H

#include <stdbool.h>

#include "op.h"
#include "workload/params.h"

struct sim_vm_workload;

struct sim_vm_workload *sim_vm_workload_create(const struct sim_workload_params *params);
void sim_vm_workload_destroy(struct sim_vm_workload *w);
/* The VMs it plays with: params->vms, or 6 if that was 0. */
unsigned int sim_vm_workload_vms(const struct sim_vm_workload *w);
bool sim_vm_workload_next(struct sim_vm_workload *w, struct sim_op *op);
void sim_vm_workload_result(struct sim_vm_workload *w, const struct sim_op *op, int result);

#endif /* SIM_WORKLOAD_VM_RANDOM_H */
