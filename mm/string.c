// SPDX-License-Identifier: MIT
/*
 * Byte helpers. Word-sized loops with byte-wise edges: fast enough for
 * page scrubbing and dependency-free, so mm/ links against no C library.
 */
#include <hvmm/string.h>

void hvmm_memzero(void *dst, size_t len)
{
	u8 *p = dst;

	while (len && ((uintptr_t)p & 7)) {
		*p++ = 0;
		len--;
	}
	for (; len >= 8; len -= 8, p += 8)
		*(u64 *)p = 0;
	while (len--)
		*p++ = 0;
}

void hvmm_memcpy(void *dst, const void *src, size_t len)
{
	u8 *d = dst;
	const u8 *s = src;

	if ((((uintptr_t)d | (uintptr_t)s) & 7) == 0) {
		for (; len >= 8; len -= 8, d += 8, s += 8)
			*(u64 *)d = *(const u64 *)s;
	}
	while (len--)
		*d++ = *s++;
}

bool hvmm_is_zero(const void *buf, size_t len)
{
	const u8 *p = buf;
	u64 acc = 0;

	while (len && ((uintptr_t)p & 7)) {
		acc |= *p++;
		len--;
	}
	for (; len >= 64; len -= 64, p += 64) {
		const u64 *w = (const u64 *)p;

		acc |= w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7];
		if (acc)
			return false;
	}
	for (; len >= 8; len -= 8, p += 8)
		acc |= *(const u64 *)p;
	while (len--)
		acc |= *p++;
	return acc == 0;
}

u64 hvmm_next_nonzero_u64(const u64 *words, u64 from, u64 to)
{
	while (from < to && !__atomic_load_n(&words[from], __ATOMIC_RELAXED))
		from++;
	return from;
}
