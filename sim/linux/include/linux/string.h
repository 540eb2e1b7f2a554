/* SPDX-License-Identifier: MIT */
/*
 * hvmm's Linux compat layer: memset/memcpy are the compiler's, but for a
 * zero fill of a length known only at run time: page_alloc.c's scrub of a
 * block it frees. That goes to the simulator's sim_linux_zero(), which
 * clears simulated RAM the way hvmm_clear_pages() does for mm/'s buddy, so
 * both allocators scrub the same way (sim/platform.c).
 */
#ifndef HVMM_COMPAT_LINUX_STRING_H
#define HVMM_COMPAT_LINUX_STRING_H

void *sim_linux_zero(void *d, unsigned long n);

#define memset(d, c, n)							\
	(__builtin_constant_p(n) || !__builtin_constant_p(c) || (c) ?	\
	 __builtin_memset((d), (c), (n)) : sim_linux_zero((d), (n)))
#define memcpy(d, s, n)		__builtin_memcpy((d), (s), (n))

#endif
