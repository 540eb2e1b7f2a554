/* SPDX-License-Identifier: MIT */
/* hvmm's Linux compat layer: container_of. */
#ifndef HVMM_COMPAT_LINUX_CONTAINER_OF_H
#define HVMM_COMPAT_LINUX_CONTAINER_OF_H

#include <linux/stddef.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#endif
