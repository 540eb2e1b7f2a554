/* SPDX-License-Identifier: MIT */
/*
 * hvmm's Linux compat layer: byte order for linux/bitfield.h. The hosts
 * hvmm runs on (x86_64, aarch64) are little-endian, as arm64 Linux is.
 */
#ifndef HVMM_COMPAT_ASM_BYTEORDER_H
#define HVMM_COMPAT_ASM_BYTEORDER_H

#include <linux/types.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "hosted kernel code expects a little-endian host");

typedef u16 __le16;
typedef u32 __le32;
typedef u64 __le64;
typedef u16 __be16;
typedef u32 __be32;
typedef u64 __be64;

#define __cpu_to_le16(x)	((__le16)(u16)(x))
#define __cpu_to_le32(x)	((__le32)(u32)(x))
#define __cpu_to_le64(x)	((__le64)(u64)(x))
#define __le16_to_cpu(x)	((u16)(__le16)(x))
#define __le32_to_cpu(x)	((u32)(__le32)(x))
#define __le64_to_cpu(x)	((u64)(__le64)(x))
#define __cpu_to_be16(x)	((__be16)__builtin_bswap16(x))
#define __cpu_to_be32(x)	((__be32)__builtin_bswap32(x))
#define __cpu_to_be64(x)	((__be64)__builtin_bswap64(x))
#define __be16_to_cpu(x)	__builtin_bswap16((u16)(__be16)(x))
#define __be32_to_cpu(x)	__builtin_bswap32((u32)(__be32)(x))
#define __be64_to_cpu(x)	__builtin_bswap64((u64)(__be64)(x))
#define cpu_to_le16(x)		__cpu_to_le16(x)
#define cpu_to_le32(x)		__cpu_to_le32(x)
#define cpu_to_le64(x)		__cpu_to_le64(x)
#define le16_to_cpu(x)		__le16_to_cpu(x)
#define le32_to_cpu(x)		__le32_to_cpu(x)
#define le64_to_cpu(x)		__le64_to_cpu(x)
#define cpu_to_be16(x)		__cpu_to_be16(x)
#define cpu_to_be32(x)		__cpu_to_be32(x)
#define cpu_to_be64(x)		__cpu_to_be64(x)
#define be16_to_cpu(x)		__be16_to_cpu(x)
#define be32_to_cpu(x)		__be32_to_cpu(x)
#define be64_to_cpu(x)		__be64_to_cpu(x)
#define __swab16(x)		__builtin_bswap16(x)
#define __swab32(x)		__builtin_bswap32(x)
#define __swab64(x)		__builtin_bswap64(x)

#endif
