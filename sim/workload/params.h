/* SPDX-License-Identifier: MIT */
/*
 * What a workload generator is given: the size of the machine its ops run
 * against. Its own header, so that the generators in sim/workload/ need
 * neither the scenario registry (sim/workload.c) nor the machine.
 */
#ifndef SIM_WORKLOAD_PARAMS_H
#define SIM_WORKLOAD_PARAMS_H

#include <stdint.h>

struct sim_workload_params {
	uint64_t ops;		/* ops to generate */
	uint64_t seed;
	uint64_t pool_pages;	/* size of the pool the ops will run against */
	unsigned int max_order;	/* largest order to request (0: order-0 pages only) */
	unsigned int vms;	/* VMs the VM scenarios run (0: the scenario's default) */
	uint64_t host_base_pfn;	/* host RAM the VM scenarios donate and share */
	uint64_t host_pages;
	uint64_t nonram_pfn;	/* a PFN that is not RAM (MMIO, reserved, a hole): invalid ops */
};

#endif /* SIM_WORKLOAD_PARAMS_H */
