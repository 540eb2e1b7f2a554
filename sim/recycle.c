// SPDX-License-Identifier: MIT
#include "recycle.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SHIFT 4	/* a free buffer holds the next pointer */
#define NR_CLASSES 48

struct spare {
	struct spare *next;
};

static _Thread_local struct spare *lists[NR_CLASSES];

static unsigned int class_of(size_t size)
{
	unsigned int c = MIN_SHIFT;

	while (((size_t)1 << c) < size)
		c++;
	return c;
}

void *sim_recycle_get(size_t size)
{
	unsigned int c = class_of(size);
	struct spare *s = lists[c];
	size_t bytes = (size_t)1 << c;

	if (!s) {
		void *p = calloc(1, bytes);

		if (!p)
			abort();
		return p;
	}
	lists[c] = s->next;
	memset(s, 0, bytes);
	return s;
}

void sim_recycle_put(void *p, size_t size)
{
	unsigned int c = class_of(size);
	struct spare *s = p;

	if (!s)
		return;
	s->next = lists[c];
	lists[c] = s;
}
