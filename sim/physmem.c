// SPDX-License-Identifier: MIT
#include "physmem.h"

#include "bytes.h"
#include "event/event.h"
#include "oracle/memview.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static bool overlaps(uint64_t a, uint64_t asz, uint64_t b, uint64_t bsz)
{
	return a < b + bsz && b < a + asz;
}

static void insert_region(struct sim_physmem *pm, enum sim_region_kind kind,
			  uint64_t base, uint64_t size)
{
	unsigned int i;

	for (i = pm->nr_regions; i > 0 && pm->regions[i - 1].base > base; i--)
		pm->regions[i] = pm->regions[i - 1];
	pm->regions[i] = (struct sim_region){ .base = base, .size = size, .kind = kind };
	pm->nr_regions++;
}

static void remove_region(struct sim_physmem *pm, unsigned int i)
{
	for (; i + 1 < pm->nr_regions; i++)
		pm->regions[i] = pm->regions[i + 1];
	pm->nr_regions--;
}

/*
 * Carves the reserved range [base, base + size) out of RAM region @i,
 * leaving RAM on either side of it.
 */
static int carve_reserved(struct sim_physmem *pm, unsigned int i, uint64_t base, uint64_t size,
			  char *err, size_t errlen)
{
	struct sim_region ram = pm->regions[i];
	unsigned int pieces = 1 + (base > ram.base) + (base + size < ram.base + ram.size);

	if (pm->nr_regions - 1 + pieces > SIM_MAX_REGIONS) {
		snprintf(err, errlen, "too many regions (at most %d)", SIM_MAX_REGIONS);
		return -1;
	}
	remove_region(pm, i);
	if (base > ram.base)
		insert_region(pm, SIM_REGION_RAM, ram.base, base - ram.base);
	insert_region(pm, SIM_REGION_RESERVED, base, size);
	if (base + size < ram.base + ram.size)
		insert_region(pm, SIM_REGION_RAM, base + size, ram.base + ram.size - base - size);
	return 0;
}

int sim_physmem_add(struct sim_physmem *pm, enum sim_region_kind kind,
		    uint64_t base, uint64_t size, char *err, size_t errlen)
{
	unsigned int i;

	if (!size || (base | size) & (SIM_PAGE_SIZE - 1)) {
		snprintf(err, errlen, "region 0x%llx+0x%llx: base and size must be non-zero page multiples",
			 (unsigned long long)base, (unsigned long long)size);
		return -1;
	}
	if (base + size < base || base + size > (1ULL << 52)) {
		snprintf(err, errlen, "region 0x%llx+0x%llx: beyond the 52-bit physical address space",
			 (unsigned long long)base, (unsigned long long)size);
		return -1;
	}
	for (i = 0; i < pm->nr_regions; i++) {
		const struct sim_region *r = &pm->regions[i];

		if (!overlaps(base, size, r->base, r->size))
			continue;
		/* Reserved memory is carved out of the RAM bank that holds it. */
		if (kind == SIM_REGION_RESERVED && r->kind == SIM_REGION_RAM &&
		    base >= r->base && base + size <= r->base + r->size)
			return carve_reserved(pm, i, base, size, err, errlen);
		snprintf(err, errlen, "region 0x%llx+0x%llx overlaps region 0x%llx+0x%llx%s",
			 (unsigned long long)base, (unsigned long long)size,
			 (unsigned long long)r->base, (unsigned long long)r->size,
			 kind == SIM_REGION_RESERVED ? " (reserved memory must lie inside one RAM region)" : "");
		return -1;
	}
	if (pm->nr_regions == SIM_MAX_REGIONS) {
		snprintf(err, errlen, "too many regions (at most %d)", SIM_MAX_REGIONS);
		return -1;
	}
	insert_region(pm, kind, base, size);
	return 0;
}

static void *map_noreserve(uint64_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * Larger maps stay on small pages: in a pool spanning a terabyte of RAM
 * the free-list heads, one every 4 MiB, write a vmemmap entry every
 * 16 KiB, and huge pages would make all 4 GiB of it resident.
 */
/* The bitmaps in pm->dirty's mapping: dirty, unscrubbed, first_line, last_line, inner. */
#define DIRTY_MAPS	5

#define SPARSE_HUGE_MAX	(256ULL << 20)
/*
 * From 1 MiB up, a map is 2 MiB-aligned and a whole number of huge pages
 * long: its last part, or all of it, is otherwise left on small pages
 * (a 3 MiB shadow of a 1 GiB machine took 257 faults of 4 KiB where it
 * now takes two huge ones), and one small fault costs what zeroing 30 to
 * 40 KiB does. Smaller maps stay as they are: a run may touch a page or
 * two of them.
 */
#define SPARSE_HUGE_MIN	(1ULL << 20)
#define HUGE_BYTES	(2ULL << 20)

static uint64_t sparse_bytes(uint64_t bytes)
{
	if (bytes >= SPARSE_HUGE_MIN && bytes <= SPARSE_HUGE_MAX)
		return (bytes + HUGE_BYTES - 1) & ~(HUGE_BYTES - 1);
	return bytes ? bytes : 1;
}

void *sim_map_sparse(uint64_t bytes)
{
	uint64_t len = sparse_bytes(bytes);
	uint8_t *p, *a;

	if (len < SPARSE_HUGE_MIN || len > SPARSE_HUGE_MAX)
		return map_noreserve(len);
	p = map_noreserve(len + HUGE_BYTES);
	if (!p)
		return NULL;
	a = (uint8_t *)(((uintptr_t)p + HUGE_BYTES - 1) & ~(uintptr_t)(HUGE_BYTES - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	munmap(a + len, (size_t)(p + HUGE_BYTES - a));
	madvise(a, len, MADV_HUGEPAGE);
	return a;
}

void sim_physmem_zero_sparse(void *p, uint64_t bytes)
{
	uint64_t lo = ((uintptr_t)p + SIM_PAGE_SIZE - 1) & ~(SIM_PAGE_SIZE - 1);
	uint64_t hi = ((uintptr_t)p + bytes) & ~(SIM_PAGE_SIZE - 1);

	if (bytes < (64u << 10) || lo >= hi) {
		memset(p, 0, bytes);
		return;
	}
	memset(p, 0, lo - (uintptr_t)p);
	madvise((void *)(uintptr_t)lo, hi - lo, MADV_DONTNEED);
	memset((void *)(uintptr_t)hi, 0, (uintptr_t)p + bytes - hi);
}

/*
 * /proc/self/pagemap has one 64-bit entry per virtual page: bit 63 set if
 * the page is present, bit 62 if swapped (Documentation/admin-guide/mm/
 * pagemap.rst). A private anonymous page with neither was never faulted
 * in, or was dropped by MADV_DONTNEED: it reads as zero. Inside a probe
 * (sim_sparse_probe_begin), entries are read PAGEMAP_BATCH at a time and
 * the last batch of each of a few windows is kept, as a sweep walks a few
 * arrays side by side.
 */
#define PAGEMAP_PRESENT		(1ULL << 63)
#define PAGEMAP_SWAPPED		(1ULL << 62)
#define PAGEMAP_BATCH		512
#define PAGEMAP_WINDOWS		4

struct pagemap_window {
	uint64_t first;		/* virtual page number of e[0]; 0: empty */
	uint64_t e[PAGEMAP_BATCH];
};

static _Thread_local struct pagemap_window pagemap_win[PAGEMAP_WINDOWS];
static _Thread_local unsigned int pagemap_next;
static _Thread_local bool pagemap_probing;
static int pagemap_fd = -1;
static pthread_once_t pagemap_once = PTHREAD_ONCE_INIT;

static void pagemap_open(void)
{
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
}

static void pagemap_forget(void)
{
	for (unsigned int i = 0; i < PAGEMAP_WINDOWS; i++)
		pagemap_win[i].first = 0;
}

void sim_sparse_probe_begin(void)
{
	pagemap_forget();
	pagemap_probing = true;
}

void sim_sparse_probe_end(void)
{
	pagemap_forget();
	pagemap_probing = false;
}

/* The pagemap entry of virtual page @vpn; -1 when it cannot be read. */
static int pagemap_entry(uint64_t vpn, uint64_t *entry)
{
	uint64_t first = vpn & ~(uint64_t)(PAGEMAP_BATCH - 1);
	struct pagemap_window *w;

	pthread_once(&pagemap_once, pagemap_open);
	if (pagemap_fd < 0 || !pagemap_probing || !first)
		return -1;
	for (unsigned int i = 0; i < PAGEMAP_WINDOWS; i++) {
		w = &pagemap_win[i];
		if (w->first == first) {
			*entry = w->e[vpn - first];
			return 0;
		}
	}
	w = &pagemap_win[pagemap_next++ % PAGEMAP_WINDOWS];
	if (pread(pagemap_fd, w->e, sizeof(w->e), (off_t)(first * sizeof(w->e[0]))) !=
	    (ssize_t)sizeof(w->e)) {
		w->first = 0;
		return -1;
	}
	w->first = first;
	*entry = w->e[vpn - first];
	return 0;
}

bool sim_sparse_untouched(const void *p, uint64_t bytes)
{
	uint64_t vpn = (uintptr_t)p / SIM_PAGE_SIZE;
	uint64_t end = ((uintptr_t)p + bytes + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE;
	uint64_t e;

	for (; vpn < end; vpn++)
		if (pagemap_entry(vpn, &e) || e & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED))
			return false;
	return true;
}

void sim_unmap_sparse(void *p, uint64_t bytes)
{
	if (p)
		munmap(p, sparse_bytes(bytes));
}

int sim_physmem_map(struct sim_physmem *pm, char *err, size_t errlen)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	unsigned int i;

	for (i = 0; i < pm->nr_regions; i++) {
		struct sim_region *r = &pm->regions[i];

		if (r->kind == SIM_REGION_MMIO)
			continue;
		r->host = map_noreserve(r->size);
		if (!r->host) {
			snprintf(err, errlen, "cannot map %llu MiB of simulated RAM: %s",
				 (unsigned long long)(r->size >> 20), strerror(errno));
			return -1;
		}
		if (r->base < lo)
			lo = r->base;
		if (r->base + r->size > hi)
			hi = r->base + r->size;
	}
	if (hi == 0) {
		snprintf(err, errlen, "no RAM: add at least one RAM region");
		return -1;
	}
	pm->start_pfn = lo >> SIM_PAGE_SHIFT;
	pm->end_pfn = hi >> SIM_PAGE_SHIFT;
	pm->dirty_words = (pm->end_pfn - pm->start_pfn + 63) / 64;
	pm->dirty = sim_map_sparse(DIRTY_MAPS * pm->dirty_words * sizeof(uint64_t));
	if (!pm->dirty) {
		snprintf(err, errlen, "cannot map the dirty-page bitmap: %s", strerror(errno));
		return -1;
	}
	pm->unscrubbed = pm->dirty + pm->dirty_words;
	pm->first_line = pm->unscrubbed + pm->dirty_words;
	pm->last_line = pm->first_line + pm->dirty_words;
	pm->inner = pm->last_line + pm->dirty_words;
	pm->dirty_lo = pm->dirty_words;
	pm->dirty_hi = 0;
	return 0;
}

/*
 * Forgets every dirty mark (all memory is zero again). Unscrubbed pages,
 * and those with a marked line, are dirty ones.
 */
static void clear_dirty(struct sim_physmem *pm)
{
	if (pm->dirty && pm->dirty_lo < pm->dirty_hi) {
		for (unsigned int i = 0; i < DIRTY_MAPS; i++)
			memset(pm->dirty + i * pm->dirty_words + pm->dirty_lo, 0,
			       (pm->dirty_hi - pm->dirty_lo) * sizeof(uint64_t));
	}
	pm->dirty_lo = pm->dirty_words;
	pm->dirty_hi = 0;
}

void sim_physmem_destroy(struct sim_physmem *pm)
{
	unsigned int i;

	for (i = 0; i < pm->nr_regions; i++)
		if (pm->regions[i].host)
			munmap(pm->regions[i].host, pm->regions[i].size);
	if (pm->dirty)
		sim_unmap_sparse(pm->dirty, DIRTY_MAPS * pm->dirty_words * sizeof(uint64_t));
	memset(pm, 0, sizeof(*pm));
}

void sim_physmem_discard(struct sim_physmem *pm)
{
	unsigned int i;

	for (i = 0; i < pm->nr_regions; i++)
		if (pm->regions[i].host)
			madvise(pm->regions[i].host, pm->regions[i].size, MADV_DONTNEED);
	clear_dirty(pm);
}

/*
 * Zeroes every dirty page in place, wherever it is: walking the dirty
 * bitmap costs the words between the lowest and highest mark, and the
 * pages stay resident, so a next run whose pool lies elsewhere (every
 * fuzz input picks its own) does not fault them in again.
 */
static void zero_dirty(const struct sim_physmem *pm)
{
	for (uint64_t w = pm->dirty_lo; w < pm->dirty_hi; w++) {
		uint64_t bits = pm->dirty[w];

		while (bits) {
			unsigned int b = (unsigned int)__builtin_ctzll(bits);
			uint64_t pfn = pm->start_pfn + w * 64 + b;
			uint8_t *p = sim_physmem_pa_to_host(pm, pfn << SIM_PAGE_SHIFT);

			if (p)
				memset(p, 0, SIM_PAGE_SIZE);
			bits &= bits - 1;
		}
	}
}

/*
 * The clear below trusts that nothing wrote a page of the pool unmarked
 * but an allocator's free-list nodes, and that a correct allocator clears
 * a node as its block leaves the list (mm/'s and the kernel's both do),
 * before any clear of that block: so the lines nobody marked are zero
 * already and are neither read nor stored. Reading each page's first line
 * to wipe a node left there, as this clear did, is most of the cost of
 * clearing a large block, and favours one layout: it brings the kernel's
 * node lines into the cache and not mm/'s (whose even-order nodes are at
 * a block's end), where a real memset warms every line alike. A node an
 * allocator leaves in a block it hands out is caught by the executor's
 * check of the new block's ends, or stays for the scrub oracles. Where
 * scrubs are checked (regression runs, the oracle tests), every page the
 * clear skipped must read zero, its first line included.
 */
static void check_skipped(const uint8_t *host, uint64_t pfn)
{
	if (!sim_bytes_zero(host, SIM_PAGE_SIZE)) {
		fprintf(stderr, "hvmm_clear_pages: page 0x%llx was written with no dirty mark, "
			"and the clear skipped it\n", (unsigned long long)pfn);
		abort();
	}
}

/*
 * The lines of a page not written since its last clear but for marked
 * lines: @fl and @ll say whether its first and last lines were marked.
 * Returns the marked lines stored into.
 */
static inline uint64_t clear_lines(uint8_t *host, bool fl, bool ll, uint64_t pfn)
{
	uint64_t lined = 0;

	if (fl) {
		memset(host, 0, SIM_PHYSMEM_LINE);
		lined++;
	}
	if (ll) {
		memset(host + SIM_PAGE_SIZE - SIM_PHYSMEM_LINE, 0, SIM_PHYSMEM_LINE);
		lined++;
	}
	if (sim_physmem_check_scrubs)
		check_skipped(host, pfn);
	return lined;
}

void sim_physmem_clear_pages(struct sim_physmem *pm, uint8_t *host, uint64_t pfn, uint64_t nr)
{
	uint64_t end = pfn + nr, zeroed = 0, lined = 0, span = pm->end_pfn - pm->start_pfn;

	if (!pm->unscrubbed || pfn < pm->clear_lo || end > pm->clear_hi ||
	    pfn - pm->start_pfn >= span || end - pm->start_pfn > span) {
		memset(host, 0, nr << SIM_PAGE_SHIFT);
		__atomic_fetch_add(&pm->pages_zeroed, nr, __ATOMIC_RELAXED);
		sim_physmem_mark_scrubbed(pm, pfn, nr);
		return;
	}
	/* One page only its stamps wrote (most frees): its marks read and cleared alone. */
	if (nr == 1) {
		uint64_t bit = pfn - pm->start_pfn, w = bit / 64, mask = 1ULL << (bit % 64);

		if (!(__atomic_load_n(&pm->unscrubbed[w], __ATOMIC_RELAXED) & mask)) {
			bool fl = __atomic_load_n(&pm->first_line[w], __ATOMIC_RELAXED) & mask;
			bool ll = __atomic_load_n(&pm->last_line[w], __ATOMIC_RELAXED) & mask;

			lined = clear_lines(host, fl, ll, pfn);
			if (fl)
				__atomic_fetch_and(&pm->first_line[w], ~mask, __ATOMIC_RELAXED);
			if (ll)
				__atomic_fetch_and(&pm->last_line[w], ~mask, __ATOMIC_RELAXED);
			if (lined)
				__atomic_fetch_add(&pm->lines_zeroed, lined, __ATOMIC_RELAXED);
			return;
		}
	}
	/* A bitmap word at a time: its marks read once, cleared once. */
	while (pfn < end) {
		uint64_t bit = pfn - pm->start_pfn, w = bit / 64, sh = bit % 64;
		uint64_t n = 64 - sh < end - pfn ? 64 - sh : end - pfn;
		uint64_t mask = (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << sh;
		uint64_t un = __atomic_load_n(&pm->unscrubbed[w], __ATOMIC_RELAXED) & mask;
		uint64_t fl = __atomic_load_n(&pm->first_line[w], __ATOMIC_RELAXED) & mask;
		uint64_t ll = __atomic_load_n(&pm->last_line[w], __ATOMIC_RELAXED) & mask;

		for (uint64_t i = sh; i < sh + n;) {
			uint64_t b = 1ULL << i;

			if (un & b) {
				uint64_t run = 1;

				while (i + run < sh + n && (un >> (i + run)) & 1)
					run++;
				memset(host, 0, run << SIM_PAGE_SHIFT);
				zeroed += run;
				host += run << SIM_PAGE_SHIFT;
				i += run;
				continue;
			}
			lined += clear_lines(host, fl & b, ll & b, pm->start_pfn + w * 64 + i);
			host += SIM_PAGE_SIZE;
			i++;
		}
		if (un)
			__atomic_fetch_and(&pm->unscrubbed[w], ~mask, __ATOMIC_RELAXED);
		if (fl)
			__atomic_fetch_and(&pm->first_line[w], ~mask, __ATOMIC_RELAXED);
		if (ll)
			__atomic_fetch_and(&pm->last_line[w], ~mask, __ATOMIC_RELAXED);
		pfn += n;
	}
	if (zeroed)
		__atomic_fetch_add(&pm->pages_zeroed, zeroed, __ATOMIC_RELAXED);
	if (lined)
		__atomic_fetch_add(&pm->lines_zeroed, lined, __ATOMIC_RELAXED);
}

void sim_physmem_zero_dirty(struct sim_physmem *pm, uint8_t *host, uint64_t pfn, uint64_t nr)
{
	for (uint64_t i = 0; i < nr;) {
		uint64_t run = 0;

		while (i + run < nr && sim_physmem_dirty(pm, pfn + i + run))
			run++;
		if (run) {
			memset(host + (i << SIM_PAGE_SHIFT), 0, run << SIM_PAGE_SHIFT);
			i += run;
			continue;
		}
		if (sim_physmem_check_scrubs)
			check_skipped(host + (i << SIM_PAGE_SHIFT), pfn + i);
		i++;
	}
}

void sim_physmem_mark_scrubbed(struct sim_physmem *pm, uint64_t pfn, uint64_t nr)
{
	uint64_t end = pfn + nr;

	if (!pm->unscrubbed)
		return;
	for (; pfn < end && pfn - pm->start_pfn < pm->end_pfn - pm->start_pfn;) {
		uint64_t bit = pfn - pm->start_pfn, n = 64 - bit % 64 < end - pfn ? 64 - bit % 64 : end - pfn;
		uint64_t mask = (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << (bit % 64);

		for (uint64_t *map = pm->unscrubbed; map <= pm->last_line; map += pm->dirty_words)
			if (__atomic_load_n(&map[bit / 64], __ATOMIC_RELAXED) & mask)
				__atomic_fetch_and(&map[bit / 64], ~mask, __ATOMIC_RELAXED);
		pfn += n;
	}
}

bool sim_physmem_check_scrubs;

/* Every page of every RAM region must read zero after a scrub. */
static void check_scrubbed(const struct sim_physmem *pm)
{
	for (unsigned int i = 0; i < pm->nr_regions; i++) {
		const struct sim_region *r = &pm->regions[i];
		uint64_t bad = r->host ? sim_physmem_first_nonzero(pm, r->base >> SIM_PAGE_SHIFT,
								     r->size >> SIM_PAGE_SHIFT) :
					 UINT64_MAX;

		if (bad != UINT64_MAX) {
			fprintf(stderr, "sim_physmem_scrub: page 0x%llx is not zero after a scrub: "
				"a write to simulated memory was not marked dirty\n",
				(unsigned long long)bad);
			abort();
		}
	}
}

void sim_physmem_scrub(struct sim_physmem *pm)
{
	zero_dirty(pm);
	clear_dirty(pm);
	if (sim_physmem_check_scrubs)
		check_scrubbed(pm);
}

uint64_t sim_physmem_first_nonzero(const struct sim_physmem *pm, uint64_t pfn, uint64_t nr)
{
	for (; nr; pfn++, nr--) {
		const uint8_t *p = sim_physmem_pa_to_host(pm, pfn << SIM_PAGE_SHIFT);

		if (p && !sim_bytes_zero(p, SIM_PAGE_SIZE))
			return pfn;
	}
	return UINT64_MAX;
}

const struct sim_region *sim_physmem_region(const struct sim_physmem *pm, uint64_t pa)
{
	unsigned int i;

	for (i = 0; i < pm->nr_regions; i++) {
		const struct sim_region *r = &pm->regions[i];

		if (pa - r->base < r->size)
			return r;
	}
	return NULL;
}

void sim_physmem_event_windows(const struct sim_physmem *pm)
{
	struct sim_event_window w[SIM_EVENT_MAX_WINDOWS];
	unsigned int n = 0;

	for (unsigned int i = 0; i < pm->nr_regions && n < SIM_EVENT_MAX_WINDOWS; i++) {
		const struct sim_region *r = &pm->regions[i];

		if (r->host)
			w[n++] = (struct sim_event_window){ r->host, r->host + r->size };
	}
	sim_event_set_windows(w, n);
}

void *sim_physmem_pa_to_host_slow(const struct sim_physmem *pm, uint64_t pa)
{
	const struct sim_region *r = sim_physmem_region(pm, pa);

	if (!r || !r->host)
		return NULL;
	return r->host + (pa - r->base);
}

void sim_physmem_view(const struct sim_physmem *pm, struct sim_memview *view)
{
	view->nr = 0;
	view->start_pfn = pm->start_pfn;
	view->end_pfn = pm->end_pfn;
	for (unsigned int i = 0; i < pm->nr_regions && view->nr < SIM_MEMVIEW_MAX_RANGES; i++) {
		const struct sim_region *r = &pm->regions[i];

		if (r->host)
			view->r[view->nr++] = (struct sim_memview_range){ r->base, r->size, r->host };
	}
}

uint64_t sim_physmem_host_to_pa(const struct sim_physmem *pm, const void *host)
{
	uintptr_t h = (uintptr_t)host;
	unsigned int i;

	for (i = 0; i < pm->nr_regions; i++) {
		const struct sim_region *r = &pm->regions[i];

		if (r->host && h - (uintptr_t)r->host < r->size)
			return r->base + (h - (uintptr_t)r->host);
	}
	return UINT64_MAX;
}

bool sim_physmem_is_ram(const struct sim_physmem *pm, uint64_t pa)
{
	const struct sim_region *r = sim_physmem_region(pm, pa);

	return r && r->kind == SIM_REGION_RAM;
}

uint64_t sim_physmem_bytes(const struct sim_physmem *pm, enum sim_region_kind kind)
{
	uint64_t total = 0;
	unsigned int i;

	for (i = 0; i < pm->nr_regions; i++)
		if (pm->regions[i].kind == kind)
			total += pm->regions[i].size;
	return total;
}

bool sim_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, mul = 1;
	unsigned int base = 10, digits = 0;

	if (!s || !*s)
		return false;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s; s++) {
		unsigned int d;

		if (*s == '_')
			continue;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
		digits++;
	}
	if (!digits)
		return false;
	switch (*s) {
	case '\0': break;
	case 'K': case 'k': mul = 1ULL << 10; s++; break;
	case 'M': case 'm': mul = 1ULL << 20; s++; break;
	case 'G': case 'g': mul = 1ULL << 30; s++; break;
	case 'T': case 't': mul = 1ULL << 40; s++; break;
	default: return false;
	}
	if (*s != '\0' || (v && mul > UINT64_MAX / v))
		return false;
	*out = v * mul;
	return true;
}

void sim_physmem_hint_huge(const struct sim_physmem *pm, uint64_t pfn, uint64_t nr)
{
	for (unsigned int i = 0; i < pm->nr_regions; i++) {
		const struct sim_region *r = &pm->regions[i];
		uint64_t lo = pfn << SIM_PAGE_SHIFT, hi = (pfn + nr) << SIM_PAGE_SHIFT;

		if (!r->host)
			continue;
		lo = lo > r->base ? lo : r->base;
		hi = hi < r->base + r->size ? hi : r->base + r->size;
		lo = (lo + (2u << 20) - 1) & ~(uint64_t)((2u << 20) - 1);
		hi &= ~(uint64_t)((2u << 20) - 1);
		if (lo < hi)
			madvise(r->host + (lo - r->base), hi - lo, MADV_HUGEPAGE);
	}
}
