/* SPDX-License-Identifier: MIT */
/*
 * Basic types for mm/. Only compiler-provided freestanding headers are
 * included here; nothing in mm/ may depend on a C library.
 */
#ifndef HVMM_TYPES_H
#define HVMM_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

typedef u64 phys_addr_t;

#define HVMM_PAGE_SHIFT		12
#define HVMM_PAGE_SIZE		(1ULL << HVMM_PAGE_SHIFT)
#define HVMM_PAGE_MASK		(~(HVMM_PAGE_SIZE - 1))

#define hvmm_phys_to_pfn(pa)	((u64)(pa) >> HVMM_PAGE_SHIFT)
#define hvmm_pfn_to_phys(pfn)	((phys_addr_t)(pfn) << HVMM_PAGE_SHIFT)

#define HVMM_ALIGNED(x, a)	(((x) & ((a) - 1)) == 0)
#define HVMM_ALIGN_DOWN(x, a)	((x) & ~((__typeof__(x))(a) - 1))
#define HVMM_ALIGN_UP(x, a)	HVMM_ALIGN_DOWN((x) + (a) - 1, (a))

#define hvmm_min(a, b)		((a) < (b) ? (a) : (b))
#define hvmm_max(a, b)		((a) > (b) ? (a) : (b))

#define hvmm_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define hvmm_likely(x)		__builtin_expect(!!(x), 1)
#define hvmm_unlikely(x)	__builtin_expect(!!(x), 0)

/* Error codes returned by mm/ (negative, errno-like but our own). */
#define HVMM_OK			0
#define HVMM_EINVAL		1	/* malformed argument: alignment, size, overflow */
#define HVMM_ENOMEM		2	/* no memory (allocator or page cache empty) */
#define HVMM_EPERM		3	/* transition not allowed from the current state */
#define HVMM_EEXIST		4	/* range already (partly) present / mapped */
#define HVMM_ENOENT		5	/* range (partly) absent: not inserted, not mapped */
#define HVMM_EBUSY		6	/* range (partly) in use */
#define HVMM_ERANGE		7	/* outside the managed range or capacity */
#define HVMM_EFAULT		8	/* address is not RAM */
#define HVMM_ENOTSUP		9	/* operation not supported by this component */
#define HVMM_ERRNO_MAX		9

#endif /* HVMM_TYPES_H */
