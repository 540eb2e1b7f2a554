/* SPDX-License-Identifier: MIT */
/* hvmm's Linux compat layer: NULL, offsetof, sizeof_field. */
#ifndef HVMM_COMPAT_LINUX_STDDEF_H
#define HVMM_COMPAT_LINUX_STDDEF_H

#include <stddef.h>

#define sizeof_field(TYPE, MEMBER) sizeof((((TYPE *)0)->MEMBER))

#endif
