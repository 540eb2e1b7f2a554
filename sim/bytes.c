// SPDX-License-Identifier: MIT
#include "bytes.h"

#include <stdint.h>

/* Unaligned 8-byte loads that may alias anything. */
typedef uint64_t __attribute__((may_alias, aligned(1))) word_t;

#define BLOCK 64

/* The OR of the XORs of one 64-byte block, in straight-line loads the compiler vectorizes. */
__attribute__((no_sanitize("address")))
static uint64_t block_diff(const unsigned char *a, const unsigned char *b)
{
	uint64_t d = 0;

	for (unsigned int k = 0; k < BLOCK; k += sizeof(word_t))
		d |= *(const word_t *)(a + k) ^ *(const word_t *)(b + k);
	return d;
}

__attribute__((no_sanitize("address")))
bool sim_bytes_equal(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;
	size_t i = 0;

	for (; n - i >= BLOCK; i += BLOCK)
		if (block_diff(p + i, q + i))
			return false;
	for (; i < n; i++)
		if (p[i] != q[i])
			return false;
	return true;
}

__attribute__((no_sanitize("address")))
bool sim_bytes_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i = 0;

	for (; n - i >= BLOCK; i += BLOCK) {
		uint64_t d = 0;

		for (unsigned int k = 0; k < BLOCK; k += sizeof(word_t))
			d |= *(const word_t *)(b + i + k);
		if (d)
			return false;
	}
	for (; i < n; i++)
		if (b[i])
			return false;
	return true;
}
