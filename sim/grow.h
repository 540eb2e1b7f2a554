/* SPDX-License-Identifier: MIT */
/* Growable arrays: the executor's and the generators' tables that grow on demand. */
#ifndef SIM_GROW_H
#define SIM_GROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Makes *@arr (of *@cap elements of @size bytes) hold at least @need,
 * doubling from @first (or from *@cap); new elements are zero. False,
 * with *@arr and *@cap unchanged, if the host is out of memory.
 */
bool sim_grow(void **arr, uint32_t *cap, uint32_t need, size_t size, uint32_t first);

#endif /* SIM_GROW_H */
