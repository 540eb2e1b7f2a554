/* SPDX-License-Identifier: MIT */
/* hvmm's Linux compat layer: compile-time assertions. */
#ifndef HVMM_COMPAT_LINUX_BUILD_BUG_H
#define HVMM_COMPAT_LINUX_BUILD_BUG_H

#include <hvmm/platform.h>
#include <linux/compiler.h>

#define BUILD_BUG_ON_ZERO(e)	((int)(sizeof(struct { int : (-!!(e)); })))
/*
 * The kernel's BUILD_BUG_ON relies on the optimiser to prove @cond false
 * even where it is not a constant expression (linux/bitfield.h's checks on
 * inline-function arguments). Here it is a runtime BUG, which the
 * optimiser removes wherever the kernel's would compile.
 */
#define BUILD_BUG_ON_MSG(cond, msg)					\
	do {								\
		if (cond)						\
			hvmm_panic(__FILE__, __LINE__, msg);		\
	} while (0)
#define BUILD_BUG_ON(cond)	BUILD_BUG_ON_MSG(cond, "BUILD_BUG_ON failed: " #cond)
#define BUILD_BUG()		BUILD_BUG_ON_MSG(1, "BUILD_BUG failed")
#define __BUILD_BUG_ON_NOT_POWER_OF_2(n)	BUILD_BUG_ON((n) == 0 || (((n) & ((n) - 1)) != 0))
#define static_assert(expr, ...) _Static_assert(expr, #expr)

#endif
