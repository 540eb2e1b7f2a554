// SPDX-License-Identifier: MIT
#include <string.h>

#include "alloc/allocator.h"

extern const struct sim_allocator_ops sim_buddy_allocator;
extern const struct sim_allocator_ops sim_bitmap_allocator;
/* Built when the configured kernel source is hosted (-Dlinux_source, sim/linux/). */
extern const struct sim_allocator_ops sim_linux_pkvm_allocator;

const struct sim_allocator_ops *const sim_allocators[] = {
	&sim_buddy_allocator,
	&sim_bitmap_allocator,
#ifdef HVMM_LINUX_HOSTED
	&sim_linux_pkvm_allocator,
#endif
	NULL,
};

const struct sim_allocator_ops *sim_allocator_find(const char *name)
{
	for (unsigned int i = 0; sim_allocators[i]; i++)
		if (!strcmp(sim_allocators[i]->name, name))
			return sim_allocators[i];
	return NULL;
}
