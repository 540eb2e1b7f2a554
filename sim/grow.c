// SPDX-License-Identifier: MIT
#include "grow.h"

#include <stdlib.h>
#include <string.h>

bool sim_grow(void **arr, uint32_t *cap, uint32_t need, size_t size, uint32_t first)
{
	uint32_t n = *cap ? *cap : first;
	void *p;

	if (need <= *cap)
		return true;
	while (n < need)
		n *= 2;
	p = realloc(*arr, (size_t)n * size);
	if (!p)
		return false;
	memset((char *)p + (size_t)*cap * size, 0, (size_t)(n - *cap) * size);
	*arr = p;
	*cap = n;
	return true;
}
