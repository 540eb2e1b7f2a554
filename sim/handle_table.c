// SPDX-License-Identifier: MIT
#include "handle_table.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "op.h"

struct sim_handle *sim_handles_slot_grow(struct sim_handles *t, uint32_t h)
{
	if (h >= SIM_MAX_HANDLE)
		return NULL;
	if (!sim_grow((void **)&t->h, &t->cap, h + 1, sizeof(*t->h), 256))
		return NULL;
	return &t->h[h];
}

struct sim_handle *sim_handles_released(const struct sim_handles *t, uint32_t h)
{
	if (h >= t->cap || t->h[h].live || !t->h[h].pages)
		return NULL;
	return &t->h[h];
}

void sim_handles_clear(struct sim_handles *t)
{
	if (t->h)
		memset(t->h, 0, (size_t)t->cap * sizeof(*t->h));
}

void sim_handles_fini(struct sim_handles *t)
{
	free(t->h);
	t->h = NULL;
	t->cap = 0;
}
