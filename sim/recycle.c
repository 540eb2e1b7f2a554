// SPDX-License-Identifier: MIT
#include "recycle.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MIN_SHIFT 4	/* a free buffer holds the next pointer */
#define NR_CLASSES 48

struct spare {
	struct spare *next;
};

static _Thread_local struct spare *lists[NR_CLASSES];

/*
 * Buffers up to ARENA_MAX come from a per-thread arena asked for huge
 * pages: a run's cells (4 KiB each, one per page a VM writes) then cost a
 * fault per 2 MiB instead of one each. Under AddressSanitizer they come
 * from calloc, so that it keeps watching their bounds.
 */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_MAX	0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_MAX	0
#endif
#endif
#ifndef ARENA_MAX
#define ARENA_MAX	((size_t)64 << 10)
#endif
#define ARENA_CHUNK	((size_t)32 << 20)

static _Thread_local uint8_t *arena_next, *arena_end;

static void *fresh(size_t bytes)
{
	void *p;

	if (bytes > ARENA_MAX)
		return calloc(1, bytes);
	if ((size_t)(arena_end - arena_next) < bytes) {
		p = mmap(NULL, ARENA_CHUNK, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		madvise(p, ARENA_CHUNK, MADV_HUGEPAGE);
		arena_next = p;
		arena_end = arena_next + ARENA_CHUNK;
	}
	/* Sizes are powers of two from 16 bytes: as aligned as calloc's. */
	p = arena_next;
	arena_next += bytes;
	return p;
}

static unsigned int class_of(size_t size)
{
	unsigned int c = MIN_SHIFT;

	while (((size_t)1 << c) < size)
		c++;
	return c;
}

/* A buffer of @size's class, and whether it came from a list (not zeroed then). */
static void *get(size_t size, bool *recycled)
{
	unsigned int c = class_of(size);
	struct spare *s = lists[c];

	*recycled = s != NULL;
	if (!s) {
		void *p = fresh((size_t)1 << c);

		if (!p)
			abort();
		return p;
	}
	lists[c] = s->next;
	return s;
}

void *sim_recycle_get(size_t size)
{
	bool recycled;
	void *p = get(size, &recycled);

	if (recycled)
		memset(p, 0, (size_t)1 << class_of(size));
	return p;
}

void *sim_recycle_get_uninit(size_t size)
{
	bool recycled;

	return get(size, &recycled);
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
