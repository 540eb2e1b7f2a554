/* SPDX-License-Identifier: MIT */
#ifndef HVMM_BUG_H
#define HVMM_BUG_H

#include <hvmm/platform.h>

/*
 * BUG_ON for broken invariants and misuse that has no return path:
 * reported through the platform panic, never ignored.
 */
#define HVMM_BUG(what)		hvmm_panic(__FILE__, __LINE__, what)
#define HVMM_BUG_ON(cond)						\
	do {								\
		if (hvmm_unlikely(cond))				\
			hvmm_panic(__FILE__, __LINE__, #cond);		\
	} while (0)

/*
 * WARN_ON for conditions mm/ must never see but can survive: reported
 * through the platform, then the caller backs out with an error and the
 * hypervisor keeps running. Used where the host can bring the condition
 * about (a stale VM handle, a host-corrupted count), so that no host
 * request can panic the hypervisor. Evaluates to @cond.
 */
static inline bool hvmm_warn_on(bool cond, const char *file, u32 line, const char *what)
{
	if (hvmm_unlikely(cond))
		hvmm_warn(file, line, what);
	return cond;
}
#define HVMM_WARN_ON(cond)	hvmm_warn_on(!!(cond), __FILE__, __LINE__, #cond)

#endif /* HVMM_BUG_H */
