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

#endif /* HVMM_BUG_H */
