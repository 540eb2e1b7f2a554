/* SPDX-License-Identifier: MIT */
/* hvmm's Linux compat layer: constants usable in C (no assembler here). */
#ifndef HVMM_COMPAT_LINUX_CONST_H
#define HVMM_COMPAT_LINUX_CONST_H

#define _AC(X, Y)	(X##Y)
#define _AT(T, X)	((T)(X))
#define _UL(x)		(_AC(x, UL))
#define _ULL(x)		(_AC(x, ULL))
#define UL(x)		(_UL(x))
#define ULL(x)		(_ULL(x))
#define _BITUL(x)	(_UL(1) << (x))
#define _BITULL(x)	(_ULL(1) << (x))

#endif
