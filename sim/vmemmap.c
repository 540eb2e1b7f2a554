// SPDX-License-Identifier: MIT
#include "vmemmap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* A vmemmap up to this size is zeroed whole by a scrub (the oracles read all of it). */
#define SCRUB_ALL_BYTES	(1u << 20)

int sim_vmemmap_map(struct sim_vmemmap *v, const struct sim_physmem *pm, char *err, size_t errlen)
{
	void *p;

	*v = (struct sim_vmemmap){ .start_pfn = pm->start_pfn, .end_pfn = pm->end_pfn };
	v->bytes = (v->end_pfn - v->start_pfn) * sizeof(struct hvmm_page);
	p = sim_map_sparse(v->bytes);
	if (!p) {
		snprintf(err, errlen, "cannot map the vmemmap (%llu MiB): %s",
			 (unsigned long long)(v->bytes >> 20), strerror(errno));
		v->bytes = 0;
		return -1;
	}
	v->pages = p;
	return 0;
}

void sim_vmemmap_install(const struct sim_vmemmap *v)
{
	if (v && v->pages)
		hvmm_memory_init(v->pages, v->start_pfn, v->end_pfn);
}

void sim_vmemmap_destroy(struct sim_vmemmap *v)
{
	if (v->pages)
		sim_unmap_sparse(v->pages, v->bytes);
	memset(v, 0, sizeof(*v));
}

void sim_vmemmap_discard(struct sim_vmemmap *v)
{
	if (v->pages)
		madvise(v->pages, v->bytes, MADV_DONTNEED);
}

/* Byte offsets of the entries of [pfn, pfn + nr), clamped to the map. */
static void span(const struct sim_vmemmap *v, uint64_t pfn, uint64_t nr, uint64_t *lo, uint64_t *hi)
{
	uint64_t a = pfn > v->start_pfn ? pfn - v->start_pfn : 0;
	uint64_t b = pfn + nr > v->start_pfn ? pfn + nr - v->start_pfn : 0;

	*lo = a * sizeof(struct hvmm_page);
	*hi = b * sizeof(struct hvmm_page);
	if (*lo > v->bytes)
		*lo = v->bytes;
	if (*hi > v->bytes)
		*hi = v->bytes;
}

void sim_vmemmap_scrub_within(struct sim_vmemmap *v, uint64_t pfn, uint64_t nr)
{
	uint64_t lo, hi;

	if (!v->pages)
		return;
	span(v, pfn, nr, &lo, &hi);
	if (lo < hi)
		memset((uint8_t *)v->pages + lo, 0, hi - lo);
}

void sim_vmemmap_scrub(struct sim_vmemmap *v, uint64_t pfn, uint64_t nr)
{
	uint8_t *base = (uint8_t *)v->pages;
	uint64_t lo, hi, page = (uint64_t)sysconf(_SC_PAGESIZE);

	if (!v->pages)
		return;
	if (v->bytes <= SCRUB_ALL_BYTES) {
		/* Small (a fuzzer's machine): all of it in place, no page to fault in again. */
		memset(base, 0, v->bytes);
		return;
	}
	/* Keep the host pages holding the range, drop the rest. */
	span(v, pfn, nr, &lo, &hi);
	lo &= ~(page - 1);
	hi = (hi + page - 1) & ~(page - 1);
	if (hi > v->bytes)
		hi = v->bytes;
	if (lo >= hi) {
		madvise(base, v->bytes, MADV_DONTNEED);
		return;
	}
	if (lo)
		madvise(base, lo, MADV_DONTNEED);
	if (hi < v->bytes)
		madvise(base + hi, v->bytes - hi, MADV_DONTNEED);
	memset(base + lo, 0, hi - lo);
}

void sim_vmemmap_check_zero(const struct sim_vmemmap *v)
{
	for (uint64_t i = 0; v->pages && i < v->bytes; i++) {
		if (((const uint8_t *)v->pages)[i]) {
			fprintf(stderr, "sim_vmemmap_scrub: the vmemmap entry of pfn 0x%llx is not "
				"zero after a scrub: it was written outside the range scrubbed\n",
				(unsigned long long)(v->start_pfn + i / sizeof(struct hvmm_page)));
			abort();
		}
	}
}
