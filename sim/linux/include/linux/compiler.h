/* SPDX-License-Identifier: MIT */
/*
 * hvmm's Linux compat layer: compiler attributes and single-copy
 * accesses. READ_ONCE/WRITE_ONCE are volatile accesses, as in the kernel:
 * the hosted code's descriptor and list writes stay single stores the
 * simulator (and a later event layer) can see in program order.
 */
#ifndef HVMM_COMPAT_LINUX_COMPILER_H
#define HVMM_COMPAT_LINUX_COMPILER_H

/* Some are also glibc sys/cdefs.h names (pulled in by <stdint.h>): ours win. */
#undef __always_inline
#undef __packed
#undef __aligned
#undef __noreturn
#undef __pure
#undef __cold
#undef __must_check
#undef __maybe_unused
#undef __always_unused
#undef noinline
#undef __section
#undef __init
#undef notrace
#undef fallthrough

#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define __always_inline		inline __attribute__((__always_inline__))
#define noinline		__attribute__((__noinline__))
#define __noreturn		__attribute__((__noreturn__))
#define __must_check		__attribute__((__warn_unused_result__))
#define __maybe_unused		__attribute__((__unused__))
#define __always_unused		__attribute__((__unused__))
#define __packed		__attribute__((__packed__))
#define __aligned(x)		__attribute__((__aligned__(x)))
#define __section(s)		__attribute__((__section__(s)))
#define __pure			__attribute__((__pure__))
#define __cold			__attribute__((__cold__))
#define __init
#define __user
#define __iomem
#define __rcu
#define __force
#define __bitwise
#define __must_hold(x)
#define __acquires(x)
#define __releases(x)
#define notrace
#define fallthrough		__attribute__((__fallthrough__))

/*
 * The kernel makes a call to a function declared with this attribute a
 * build error wherever the optimiser cannot remove it. Here such a call
 * that survives is a runtime BUG (sim/linux/kvm_glue.c defines the
 * functions), so that every optimisation level builds.
 */
#define __compiletime_error(msg)

#define barrier()		__asm__ __volatile__("" ::: "memory")

#define READ_ONCE(x)		(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, val)						\
	do {								\
		*(volatile __typeof__(x) *)&(x) = (val);		\
	} while (0)

#define __same_type(a, b)	__builtin_types_compatible_p(__typeof__(a), __typeof__(b))
#define __is_constexpr(x) \
	(sizeof(int) == sizeof(*(8 ? ((void *)((long)(x) * 0l)) : (int *)8)))

#endif
