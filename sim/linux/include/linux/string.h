/* SPDX-License-Identifier: MIT */
/* hvmm's Linux compat layer: memset/memcpy are the compiler's. */
#ifndef HVMM_COMPAT_LINUX_STRING_H
#define HVMM_COMPAT_LINUX_STRING_H

#define memset(d, c, n)		__builtin_memset((d), (c), (n))
#define memcpy(d, s, n)		__builtin_memcpy((d), (s), (n))

#endif
