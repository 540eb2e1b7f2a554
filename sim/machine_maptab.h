/* SPDX-License-Identifier: MIT */
/*
 * The executor's side of mm/'s Anaxagoros mapping tables (hvmm/maptab.h),
 * and their oracle: CONC judges `Occ(e) + gap(e) = count[e] <= max` for
 * every frame a step touched, after every interleaver step (and after
 * every op of a sequential run), from its own record of the entries and
 * of where each vCPU is in the protocol, never from mm/'s code.
 */
#ifndef SIM_MACHINE_MAPTAB_H
#define SIM_MACHINE_MAPTAB_H

#include <stdint.h>

#include "op.h"

struct sim_machine;
struct sim_maptab_state;

/* Largest sizes a maptab_init op may ask for. */
#define SIM_MAPTAB_MAX_FRAMES	(1u << 20)
#define SIM_MAPTAB_MAX_ENTRIES	(1u << 22)

struct sim_maptab_state *sim_maptab_create(void);
void sim_maptab_destroy(struct sim_maptab_state *st);
/* Forgets the tables (machine reset). */
void sim_maptab_reset(struct sim_maptab_state *st);
int sim_maptab_exec(struct sim_maptab_state *st, struct sim_machine *m, const struct sim_op *op);

#endif /* SIM_MACHINE_MAPTAB_H */
