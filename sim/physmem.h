/* SPDX-License-Identifier: MIT */
/*
 * Simulated physical memory: RAM banks with holes between them, reserved
 * regions carved out of RAM, and MMIO windows. RAM is backed by anonymous
 * mmap(MAP_NORESERVE) mappings, so a terabyte of simulated RAM costs only
 * the pages that are touched. Translation between physical addresses and
 * host pointers is a bank lookup and one add.
 */
#ifndef SIM_PHYSMEM_H
#define SIM_PHYSMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_MAX_REGIONS 16

/* The architecture's 4 KiB translation granule: the unit of simulated RAM. */
#define SIM_PAGE_SHIFT	12
#define SIM_PAGE_SIZE	(1ULL << SIM_PAGE_SHIFT)

enum sim_region_kind {
	SIM_REGION_RAM,		/* backed, handed to allocators */
	SIM_REGION_RESERVED,	/* backed RAM that firmware keeps: never donated */
	SIM_REGION_MMIO,	/* device window: not backed, not RAM */
};

struct sim_region {
	uint64_t base;		/* physical address */
	uint64_t size;
	enum sim_region_kind kind;
	uint8_t *host;		/* host mapping of [base, base + size), NULL for MMIO */
};

struct sim_physmem {
	struct sim_region regions[SIM_MAX_REGIONS];	/* sorted by base */
	unsigned int nr_regions;
	/*
	 * Set while every block mm/ hands out lies in [clear_lo, clear_hi):
	 * from a machine's set-up until its first op that may make mm/
	 * allocate from a pool of its own (any op but the allocator's). Until
	 * then those blocks need no dirty mark from the platform, which stops
	 * asking mm/ for PAGE_ALLOC. Written atomically, then
	 * sim_platform_clear_range_set() called (sim/platform.h). Beside
	 * nr_regions, in what was padding: the executor's hot fields keep their lines.
	 */
	bool allocs_confined;
	/* The PFNs of all backed regions, holes included (what a vmemmap spans). */
	uint64_t start_pfn, end_pfn;
	/*
	 * Pages that may hold non-zero bytes since the last scrub or discard:
	 * one bit per PFN of [start_pfn, end_pfn), set by whoever writes
	 * simulated memory (mm/ through hvmm_phys_to_virt(), the executor's
	 * stamps and guest stores). Lets a scrub zero only what a run wrote,
	 * and a sweep skip reading pages that are zero by construction.
	 * [dirty_lo, dirty_hi) bounds the words with bits set.
	 */
	uint64_t *dirty;
	uint64_t dirty_words, dirty_lo, dirty_hi;
	/*
	 * The dirty pages written since their last hvmm_clear_pages() (a
	 * subset of dirty, in the same mapping after it): a scrub memsets
	 * only these, the others being zero already but for an allocator's
	 * free-list node (sim_physmem_clear_pages()).
	 */
	uint64_t *unscrubbed;
	/*
	 * Pages written since their last clear only in their first or last
	 * cache line, by stores marked with sim_physmem_mark_word() (the
	 * executor's allocation stamps): a clear of a page that is not
	 * unscrubbed stores into those lines only. Same mapping, after
	 * unscrubbed.
	 */
	uint64_t *first_line, *last_line;
	/*
	 * Pages written somewhere other than their first and last cache
	 * lines since the last scrub or discard (set with unscrubbed, never
	 * cleared by hvmm_clear_pages()): a dirty page not marked here was
	 * written by marked stores only in those two lines, and by an
	 * allocator's nodes only there (a block's first or last bytes),
	 * so the rest of it is zero by construction. Same mapping, after last_line.
	 */
	uint64_t *inner;
	/*
	 * PFNs [clear_lo, clear_hi) where hvmm_clear_pages() stores only
	 * into unscrubbed pages: the executor's allocator pool, whose blocks
	 * only the executor writes, marking each write as it makes it
	 * (stamps, guest stores, the hypervisor's use of donated pages, the
	 * heap's chunks), besides the allocator's nodes. Not mm/'s own pools:
	 * mm/ writes a table or a cached page again after a clear through a
	 * pointer it kept, with no new mark. Empty (mm/ driven directly, as
	 * unit tests and benchmarks do): a memset of the whole range.
	 */
	uint64_t clear_lo, clear_hi;
	/* Pages sim_physmem_clear_pages() stored zeros into (whole pages, a memset). */
	uint64_t pages_zeroed;
	/* Marked lines it stored zeros into in pages it did not memset whole (sim_physmem_mark_word()). */
	uint64_t lines_zeroed;
};

/*
 * Adds a region; fails (returns -1 and says why in @err) on overlap or bad
 * alignment. A reserved region inside a RAM region is carved out of it,
 * leaving RAM on either side; add RAM before the reserved parts of it.
 */
int sim_physmem_add(struct sim_physmem *pm, enum sim_region_kind kind,
		    uint64_t base, uint64_t size, char *err, size_t errlen);
/*
 * Maps every backed region. mm/'s page metadata is not simulated RAM's:
 * the executor maps it (sim/vmemmap.h).
 */
int sim_physmem_map(struct sim_physmem *pm, char *err, size_t errlen);
/* Unmaps everything. */
void sim_physmem_destroy(struct sim_physmem *pm);
/* Drops the contents of every region (back to zero pages). */
void sim_physmem_discard(struct sim_physmem *pm);
/*
 * The same end state as sim_physmem_discard(), cheaper when a run keeps
 * to a few pages: every dirty page is zeroed in place, so it stays
 * resident and the next run does not fault it in again. Every write to
 * simulated memory marks its page dirty.
 */
void sim_physmem_scrub(struct sim_physmem *pm);
/*
 * Set: every scrub then reads back all RAM (and the executor its
 * vmemmap) and aborts if a page is not zero, i.e. a write was not marked
 * dirty (slow; regression runs).
 */
extern bool sim_physmem_check_scrubs;

/*
 * Notes that [pfn, pfn + nr) may have been written (PFNs outside the map
 * are ignored). mm/ reaches memory through hvmm_phys_to_virt() from several
 * threads at once, so the bitmap and its bounds are updated atomically;
 * a page already marked costs one relaxed load.
 */
/* Sets bit @mask of word @w in @map; false if it was set already. */
static inline bool sim_physmem_set_bit(uint64_t *map, uint64_t w, uint64_t mask)
{
	if (__atomic_load_n(&map[w], __ATOMIC_RELAXED) & mask)
		return false;
	__atomic_fetch_or(&map[w], mask, __ATOMIC_RELAXED);
	return true;
}

/* Marks the page of bit @mask of word @w dirty, and the bounds. */
static inline void sim_physmem_set_dirty(struct sim_physmem *pm, uint64_t w, uint64_t mask)
{
	uint64_t lo, hi;

	if (!sim_physmem_set_bit(pm->dirty, w, mask))
		return;
	lo = __atomic_load_n(&pm->dirty_lo, __ATOMIC_RELAXED);
	while (w < lo && !__atomic_compare_exchange_n(&pm->dirty_lo, &lo, w, true,
						      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	hi = __atomic_load_n(&pm->dirty_hi, __ATOMIC_RELAXED);
	while (w >= hi && !__atomic_compare_exchange_n(&pm->dirty_hi, &hi, w + 1, true,
						       __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static inline void sim_physmem_mark_dirty(struct sim_physmem *pm, uint64_t pfn, uint64_t nr)
{
	for (; nr && pfn - pm->start_pfn < pm->end_pfn - pm->start_pfn; pfn++, nr--) {
		uint64_t bit = pfn - pm->start_pfn, w = bit / 64, mask = 1ULL << (bit % 64);

		if (sim_physmem_set_bit(pm->unscrubbed, w, mask)) {
			sim_physmem_set_bit(pm->inner, w, mask);
			sim_physmem_set_dirty(pm, w, mask);
		}
	}
}

/* Bytes at the start and at the end of a page that sim_physmem_mark_word() marks apart. */
#define SIM_PHYSMEM_LINE 64

/*
 * Notes that the word at physical address @pa may have been written: in
 * a page's first or last cache line, only that line (a clear of the page
 * stores into it alone), elsewhere the whole page, as
 * sim_physmem_mark_dirty().
 */
static inline void sim_physmem_mark_word(struct sim_physmem *pm, uint64_t pa)
{
	uint64_t pfn = pa >> SIM_PAGE_SHIFT, off = pa & (SIM_PAGE_SIZE - 1);
	uint64_t bit = pfn - pm->start_pfn, w = bit / 64, mask = 1ULL << (bit % 64);

	if (bit >= pm->end_pfn - pm->start_pfn)
		return;
	if (off >= SIM_PHYSMEM_LINE && off < SIM_PAGE_SIZE - SIM_PHYSMEM_LINE) {
		sim_physmem_mark_dirty(pm, pfn, 1);
		return;
	}
	sim_physmem_set_bit(off < SIM_PHYSMEM_LINE ? pm->first_line : pm->last_line, w, mask);
	sim_physmem_set_dirty(pm, w, mask);
}

/*
 * sim_physmem_mark_word() of a word in the first line of page @first and
 * of one in the last line of page @last (an allocation's two stamps),
 * without finding the line of each.
 */
static inline void sim_physmem_mark_lines(struct sim_physmem *pm, uint64_t first, uint64_t last)
{
	uint64_t span = pm->end_pfn - pm->start_pfn, bit = first - pm->start_pfn;

	if (bit < span) {
		sim_physmem_set_bit(pm->first_line, bit / 64, 1ULL << (bit % 64));
		sim_physmem_set_dirty(pm, bit / 64, 1ULL << (bit % 64));
	}
	bit = last - pm->start_pfn;
	if (bit < span) {
		sim_physmem_set_bit(pm->last_line, bit / 64, 1ULL << (bit % 64));
		if (last != first)
			sim_physmem_set_dirty(pm, bit / 64, 1ULL << (bit % 64));
	}
}

/*
 * Zeroes the @nr pages at @host, PFNs [pfn, pfn + nr), as hvmm_clear_pages()
 * must leave them: a memset of those written since their last clear, and
 * of the others only the first cache line, where the allocators link free
 * blocks through maps that mark nothing (and only if it is not zero), and
 * the last if a marked word was written there (sim_physmem_mark_word()).
 * Then none of them is unscrubbed. Same bytes in memory as a memset of
 * the whole range; for a block whose stamps touched only its ends, two
 * lines of stores.
 */
void sim_physmem_clear_pages(struct sim_physmem *pm, uint8_t *host, uint64_t pfn, uint64_t nr);
/*
 * Zeroes the @nr pages at @host, PFNs [pfn, pfn + nr), storing only into
 * those marked dirty since the last scrub: the others are zero by
 * construction (with sim_physmem_check_scrubs, read back to show it).
 * For clears whose stores are reported page by page or as one run: the
 * bytes are a memset's, without faulting in and zeroing pages nobody
 * wrote (a donation of 7,000 fresh pages was 28 MiB of stores).
 */
void sim_physmem_zero_dirty(struct sim_physmem *pm, uint8_t *host, uint64_t pfn, uint64_t nr);
/* Notes that [pfn, pfn + nr) were zeroed whole: none of them is unscrubbed. */
void sim_physmem_mark_scrubbed(struct sim_physmem *pm, uint64_t pfn, uint64_t nr);

/* False if page @pfn is zero by construction (nothing wrote it since the last scrub). */
static inline bool sim_physmem_dirty(const struct sim_physmem *pm, uint64_t pfn)
{
	uint64_t bit = pfn - pm->start_pfn;

	/* Relaxed: other threads may be marking other pages of the same word. */
	return bit >= pm->end_pfn - pm->start_pfn ||
	       (__atomic_load_n(&pm->dirty[bit / 64], __ATOMIC_RELAXED) >> (bit % 64)) & 1;
}

/*
 * False if page @pfn can hold non-zero bytes only in its first and last
 * cache lines (SIM_PHYSMEM_LINE): no whole-page mark since the last scrub.
 */
static inline bool sim_physmem_inner_written(const struct sim_physmem *pm, uint64_t pfn)
{
	uint64_t bit = pfn - pm->start_pfn;

	return bit >= pm->end_pfn - pm->start_pfn ||
	       (__atomic_load_n(&pm->inner[bit / 64], __ATOMIC_RELAXED) >> (bit % 64)) & 1;
}

/* The first non-zero page of [pfn, pfn + nr) that is backed, or UINT64_MAX (tests of scrub). */
uint64_t sim_physmem_first_nonzero(const struct sim_physmem *pm, uint64_t pfn, uint64_t nr);

struct sim_memview;
/* The backed RAM of @pm as the event oracles see it (sim/oracle/memview.h). */
void sim_physmem_view(const struct sim_physmem *pm, struct sim_memview *view);

const struct sim_region *sim_physmem_region(const struct sim_physmem *pm, uint64_t pa);
void *sim_physmem_pa_to_host_slow(const struct sim_physmem *pm, uint64_t pa);

/*
 * The host address of @pa, NULL if no mapped region holds it. Inline for
 * the first region, where a machine's RAM usually is all: the oracles ask
 * this for every list node and page they read.
 */
static inline void *sim_physmem_pa_to_host(const struct sim_physmem *pm, uint64_t pa)
{
	const struct sim_region *r = &pm->regions[0];

	if (pm->nr_regions && pa - r->base < r->size && r->host)
		return r->host + (pa - r->base);
	return sim_physmem_pa_to_host_slow(pm, pa);
}
/*
 * Memory events (sim/event/) are wanted from simulated memory only: sets
 * the event layer's windows to each mapped region's host mapping.
 */
void sim_physmem_event_windows(const struct sim_physmem *pm);
/*
 * Asks for transparent huge pages on the RAM of [pfn, pfn + nr) (whole
 * 2 MiB pages inside it): one fault per 2 MiB instead of 512, for RAM that
 * a run uses densely. Only before the range is first touched: a 2 MiB
 * page already holding a small page stays small.
 */
void sim_physmem_hint_huge(const struct sim_physmem *pm, uint64_t pfn, uint64_t nr);

/*
 * A zeroed anonymous mapping of @bytes for a shadow or a table indexed by
 * PFN (NORESERVE: only touched pages cost), with transparent huge pages
 * asked for up to 256 MiB (from 1 MiB on, 2 MiB-aligned and rounded up to
 * whole huge pages): where a run writes, it writes near what it wrote
 * before. A sweep asks sim_sparse_untouched() before reading parts
 * nobody may have written. NULL on failure; sim_unmap_sparse frees (not
 * munmap: the mapping may be longer).
 */
void *sim_map_sparse(uint64_t bytes);
void sim_unmap_sparse(void *p, uint64_t bytes);
/* Zeroes [p, p + bytes) of such a mapping: small spans in place, large ones by dropping pages. */
void sim_physmem_zero_sparse(void *p, uint64_t bytes);
/*
 * True if no page of [p, p + bytes) of such a mapping was ever touched,
 * or all were dropped since: it reads as zero. Asked of the kernel, not
 * read: a sweep that reads untouched parts costs memory on a kernel that
 * allocates pages for read faults instead of mapping its zero page.
 * False when the kernel cannot tell or no probe is open (the caller reads).
 */
bool sim_sparse_untouched(const void *p, uint64_t bytes);
/*
 * A probe: between these two the caller writes none of the mappings it
 * asks about (a sweep), so their pagemap is read in batches and kept. A
 * sweep of a small machine opens none: reading all of it costs less than
 * asking.
 */
void sim_sparse_probe_begin(void);
void sim_sparse_probe_end(void);
/* ~0 if @host points into no backed region. */
uint64_t sim_physmem_host_to_pa(const struct sim_physmem *pm, const void *host);
bool sim_physmem_is_ram(const struct sim_physmem *pm, uint64_t pa);

/* Total bytes of each kind. */
uint64_t sim_physmem_bytes(const struct sim_physmem *pm, enum sim_region_kind kind);

/* Parses "1G", "512M", "0x8000_0000", "4096" into bytes; false on junk or overflow. */
bool sim_parse_size(const char *s, uint64_t *out);

#endif /* SIM_PHYSMEM_H */
