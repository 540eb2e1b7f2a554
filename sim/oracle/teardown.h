/* SPDX-License-Identifier: MIT */
/*
 * ROBUST oracle for VM teardown: destroying a live VM must succeed. Every
 * page a VM holds goes back to an owner it already has (the host, or the
 * host's count of lenders), so no shortage of memory, and no state a host
 * can bring about, is a reason for the hypervisor to keep a VM the host
 * wants gone (pKVM reclaims a dying guest page by page for that reason).
 * A refusal is reported, so the class of bug can never again pass as a
 * clean run that merely counted a failed op. The one reason allowed is a
 * reference someone holds (vm_pin: hvmm_vm_get), refused with -EBUSY.
 */
#ifndef SIM_ORACLE_TEARDOWN_H
#define SIM_ORACLE_TEARDOWN_H

#include <stdint.h>

#include "oracle/report.h"

/*
 * Judges the result @ret of destroying live VM @vm that held @pages pages
 * and on which the executor held @pins references.
 */
void sim_check_destroy(struct sim_report *r, unsigned int vm, uint64_t pages, uint32_t pins,
		       int ret);

#endif /* SIM_ORACLE_TEARDOWN_H */
