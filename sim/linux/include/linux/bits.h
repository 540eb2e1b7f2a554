/* SPDX-License-Identifier: MIT */
/* hvmm's Linux compat layer: BIT and GENMASK (64-bit longs, as on arm64). */
#ifndef HVMM_COMPAT_LINUX_BITS_H
#define HVMM_COMPAT_LINUX_BITS_H

#include <linux/const.h>

#define BIT(nr)			(UL(1) << (nr))
#define BIT_ULL(nr)		(ULL(1) << (nr))
#define BITS_PER_LONG		64
#define BITS_PER_LONG_LONG	64
#define GENMASK(h, l) \
	(((~UL(0)) - (UL(1) << (l)) + 1) & (~UL(0) >> (BITS_PER_LONG - 1 - (h))))
#define GENMASK_ULL(h, l) \
	(((~ULL(0)) - (ULL(1) << (l)) + 1) & (~ULL(0) >> (BITS_PER_LONG_LONG - 1 - (h))))

#endif
