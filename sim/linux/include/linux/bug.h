/* SPDX-License-Identifier: MIT */
/*
 * hvmm's Linux compat layer: BUG and WARN.
 *
 * Both end the simulated operation through mm/'s platform panic, which the
 * executor catches per op and reports as a ROBUST violation naming the
 * kernel file and line. The kernel carries on after a WARN; the simulator
 * does not, because a WARN in hypervisor memory code means a state the
 * code's authors thought impossible, and the oracles cannot judge what
 * follows it.
 */
#ifndef HVMM_COMPAT_LINUX_BUG_H
#define HVMM_COMPAT_LINUX_BUG_H

#include <hvmm/platform.h>
#include <linux/compiler.h>
#include <linux/build_bug.h>

#define BUG()		hvmm_panic(__FILE__, __LINE__, "BUG()")
#define BUG_ON(cond)							\
	do {								\
		if (unlikely(cond))					\
			hvmm_panic(__FILE__, __LINE__, "BUG_ON(" #cond ")"); \
	} while (0)
#define WARN_ON(cond)							\
	({								\
		bool __warn_cond = !!(cond);				\
		if (unlikely(__warn_cond))				\
			hvmm_panic(__FILE__, __LINE__, "WARN_ON(" #cond ")"); \
		__warn_cond;						\
	})
#define WARN_ON_ONCE(cond)	WARN_ON(cond)
#define WARN(cond, ...)		WARN_ON(cond)

#endif
