// SPDX-License-Identifier: MIT
#include "platform.h"

#include "event/event.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvmm/platform.h>

static struct sim_physmem *cur_pm;
/* Bumped by every install: a thread's cached region below is stale once it moves. */
static _Atomic uint64_t pm_generation = 1;

/*
 * The region the calling thread translated last, so that the translations
 * mm/ makes on every list operation are a compare and an add instead of a
 * search of the region table. Per thread, so threads never share a cache
 * that another may be rewriting.
 */
struct region_cache {
	uint64_t generation;
	uint64_t base, size;
	uint8_t *host;
};
static _Thread_local struct region_cache last_region;
static struct sim_platform_hooks cur_hooks;
static sim_trace_sink_fn trace_sink;
static void *trace_sink_ctx;
static _Atomic unsigned int drop_flushes;
static _Atomic uint64_t nr_flushes;
static _Atomic uint64_t nr_warnings;
static _Thread_local struct sim_panic last_warning;
/* Threads with the event layer armed (sim_event_begin() to sim_event_end()). */
static _Atomic unsigned int nr_events_armed;
/* A sink or an armed thread: every event goes to trace_slow(). */
static bool trace_all;

u32 hvmm_trace_wanted;

/*
 * Whether a block mm/'s buddy hands out can lie outside @pm's clear range,
 * where hvmm_trace_emit() marks it dirty: only if some RAM does (a machine
 * with the hypervisor's pools beside the allocator's, or memory with no
 * range), and only once the machine has run an op that can allocate from
 * them. Until then (an allocator trace on a machine with room for VMs) or
 * where the range covers all RAM (an allocator-only machine, the allocator
 * benchmarks), every PAGE_ALLOC would return at the range test, at a call
 * and about 27 instructions an allocation, which the kernel's allocator,
 * hosted in the same pool, does not pay.
 */
static bool allocs_need_marks(const struct sim_physmem *pm)
{
	if (__atomic_load_n(&pm->allocs_confined, __ATOMIC_RELAXED))
		return false;
	for (unsigned int i = 0; i < pm->nr_regions; i++) {
		const struct sim_region *r = &pm->regions[i];
		uint64_t lo = r->base >> HVMM_PAGE_SHIFT, hi = (r->base + r->size) >> HVMM_PAGE_SHIFT;

		if (r->kind == SIM_REGION_RAM && (lo < pm->clear_lo || hi > pm->clear_hi))
			return true;
	}
	return false;
}

/*
 * Which events mm/ calls hvmm_trace_emit() for: all of them while a sink
 * records them or a thread has the event layer armed (they are events of
 * its stream, and points where the interleaver may switch vCPUs), and
 * PAGE_ALLOC while simulated memory is installed and some of its RAM lies
 * outside the clear range, for the dirty mark below. An event nobody
 * records is then a test in mm/ and no call.
 */
static u32 trace_wanted_now(bool *slow)
{
	u32 all = (1U << (HVMM_TRACE_OWNERSHIP + 1)) - 1;

	*slow = trace_sink || atomic_load(&nr_events_armed);
	if (*slow)
		return all;
	if (cur_pm && allocs_need_marks(cur_pm))
		return 1U << HVMM_TRACE_PAGE_ALLOC;
	return 0;
}

/*
 * Threads arm, disarm and unconfine at once, and one may store what it
 * computed after another stored a newer set: each checks after its store
 * that the set still follows the state, so the last store is right.
 */
static void trace_wanted_update(void)
{
	bool slow;
	u32 w;

	do {
		w = trace_wanted_now(&slow);
		__atomic_store_n(&trace_all, slow, __ATOMIC_SEQ_CST);
		__atomic_store_n(&hvmm_trace_wanted, w, __ATOMIC_SEQ_CST);
	} while (trace_wanted_now(&slow) != w);
}

void sim_platform_events_armed(bool armed)
{
	if (armed)
		atomic_fetch_add(&nr_events_armed, 1);
	else
		atomic_fetch_sub(&nr_events_armed, 1);
	trace_wanted_update();
}

_Thread_local struct sim_panic_catcher *sim_panic_catcher;

void sim_platform_install(struct sim_physmem *pm, const struct sim_platform_hooks *hooks)
{
	cur_pm = pm;
	trace_wanted_update();
	atomic_fetch_add_explicit(&pm_generation, 1, memory_order_relaxed);
	if (hooks)
		cur_hooks = *hooks;
	else
		cur_hooks = (struct sim_platform_hooks){ 0 };
	atomic_store(&drop_flushes, 0);
}

void sim_platform_clear_range_set(void)
{
	trace_wanted_update();
}

struct sim_physmem *sim_platform_physmem(void)
{
	return cur_pm;
}

void sim_platform_drop_tlb_flushes(unsigned int count)
{
	atomic_store(&drop_flushes, count);
}

uint64_t sim_platform_tlb_flushes(void)
{
	return atomic_load(&nr_flushes);
}

/* True if this flush is to be dropped by fault injection. */
static bool flush_dropped(void)
{
	unsigned int n = atomic_load(&drop_flushes);

	atomic_fetch_add(&nr_flushes, 1);
	while (n) {
		if (atomic_compare_exchange_weak(&drop_flushes, &n, n - 1))
			return true;
	}
	return false;
}

/* Looks up the backed region holding @pa (or @host) and caches it; false if none. */
static bool cache_region(const struct sim_region *r, uint64_t gen)
{
	if (!r || !r->host)
		return false;
	last_region = (struct region_cache){
		.generation = gen, .base = r->base, .size = r->size, .host = r->host,
	};
	return true;
}

static bool cache_region_of_host(const void *host, uint64_t gen)
{
	uintptr_t h = (uintptr_t)host;

	for (unsigned int i = 0; cur_pm && i < cur_pm->nr_regions; i++) {
		const struct sim_region *r = &cur_pm->regions[i];

		if (r->host && h - (uintptr_t)r->host < r->size)
			return cache_region(r, gen);
	}
	return false;
}

static _Noreturn void bad_pa(phys_addr_t pa)
{
	static _Thread_local char msg[96];

	snprintf(msg, sizeof(msg), "phys_to_virt of 0x%llx: not backed memory",
		 (unsigned long long)pa);
	hvmm_panic(__FILE__, __LINE__, msg);
}

static _Noreturn void bad_va(const void *va)
{
	static _Thread_local char msg[96];

	snprintf(msg, sizeof(msg), "virt_to_phys of %p: not in the linear map", va);
	hvmm_panic(__FILE__, __LINE__, msg);
}

void *hvmm_phys_to_virt(phys_addr_t pa)
{
	uint64_t gen = atomic_load_explicit(&pm_generation, memory_order_relaxed);
	struct region_cache *c = &last_region;

	if (hvmm_unlikely(c->generation != gen || pa - c->base >= c->size)) {
		if (!cur_pm || !cache_region(sim_physmem_region(cur_pm, pa), gen))
			bad_pa(pa);
	}
	/*
	 * mm/ reaches page contents only through here: what it is given a
	 * pointer to may be written. Objects of several pages that mm/
	 * indexes from one pointer (concatenated stage-2 roots, bitmap
	 * metadata) are marked by the code that sets them up.
	 */
	sim_physmem_mark_dirty(cur_pm, pa >> HVMM_PAGE_SHIFT, 1);
	return c->host + (pa - c->base);
}

/* The physical address of @va through the cached region; false if no region backs it. */
static inline bool host_to_pa(const void *va, uint64_t *pa)
{
	uint64_t gen = atomic_load_explicit(&pm_generation, memory_order_relaxed);
	struct region_cache *c = &last_region;
	uintptr_t off = (uintptr_t)va - (uintptr_t)c->host;

	if (hvmm_unlikely(c->generation != gen || !c->host || off >= c->size)) {
		if (!cache_region_of_host(va, gen))
			return false;
		off = (uintptr_t)va - (uintptr_t)c->host;
	}
	*pa = c->base + off;
	return true;
}

phys_addr_t hvmm_virt_to_phys(const void *va)
{
	uint64_t pa;

	if (hvmm_unlikely(!host_to_pa(va, &pa)))
		bad_va(va);
	return pa;
}

/*
 * A TLBI is reported to the event stream when it completes: the hooks
 * below model its effect on the TLBs, the event layer its place in the
 * order of what mm/ did.
 */
void hvmm_tlb_flush_ipa(u16 vmid, u64 ipa, u32 level)
{
	if (flush_dropped())
		return;
	if (cur_hooks.tlb_flush_ipa)
		cur_hooks.tlb_flush_ipa(cur_hooks.ctx, vmid, ipa, level);
	sim_event_platform(SIM_EV_TLBI_IPA, vmid, ipa, level, 0);
}

void hvmm_tlb_flush_range(u16 vmid, u64 ipa, u64 size)
{
	if (flush_dropped())
		return;
	if (cur_hooks.tlb_flush_range)
		cur_hooks.tlb_flush_range(cur_hooks.ctx, vmid, ipa, size);
	sim_event_platform(SIM_EV_TLBI_RANGE, vmid, ipa, size, 0);
}

void hvmm_tlb_flush_vmid(u16 vmid)
{
	if (flush_dropped())
		return;
	if (cur_hooks.tlb_flush_vmid)
		cur_hooks.tlb_flush_vmid(cur_hooks.ctx, vmid);
	sim_event_platform(SIM_EV_TLBI_VMID, vmid, 0, 0, 0);
}

/* Simulated memory is coherent: maintenance matters only for its order, as an event. */
void hvmm_dcache_clean_inval_poc(phys_addr_t pa, u64 size)
{
	sim_event_platform(SIM_EV_DCACHE_CLEAN, pa, size, 0, 0);
}

void hvmm_icache_inval_pou(phys_addr_t pa, u64 size)
{
	sim_event_platform(SIM_EV_ICACHE_INVAL, pa, size, 0, 0);
}

void hvmm_dsb_ishst(void)
{
	atomic_thread_fence(memory_order_release);
	sim_event_platform(SIM_EV_DSB_ISHST, 0, 0, 0, 0);
}

void hvmm_dsb_ish(void)
{
	atomic_thread_fence(memory_order_seq_cst);
	sim_event_platform(SIM_EV_DSB_ISH, 0, 0, 0, 0);
}

void hvmm_isb(void)
{
	atomic_signal_fence(memory_order_seq_cst);
	sim_event_platform(SIM_EV_ISB, 0, 0, 0, 0);
}

/*
 * With the event layer armed, each store reported as mm/'s own
 * instrumented stores are. Once the first word has opened a run that the
 * next ones join (no scheduler wants them one by one), the rest of the
 * scrub is that run's: memset, and the run extended to its end in one
 * step, the event the observers get being the same.
 *
 * A scheduler (a concurrent block) may switch vCPUs before each reported
 * store: the rest of the scrub is reported a page (or the rest of one) at
 * a time, so it may switch between any two pages. Word by word, a donation
 * of 4,112 pages took 526,000 scheduler steps, each with the step checks
 * and a store event of its own (the bulk of the slowest fuzz inputs), and
 * used up an input's written schedule inside the first page. Nothing is
 * lost by the coarser steps: the page is mm/'s alone while it clears it,
 * and another vCPU that reads it anyway sees old words before the step and
 * zeros after it, the states a read between two of its words mixes.
 * Either way, a page that nothing wrote since the last scrub (not dirty,
 * sim/physmem.h) is zero already and takes no stores: the event is the
 * same, its values read from memory. Out of line, so that the common path
 * below saves no registers.
 */
static __attribute__((noinline)) void clear_pages_reported(uint64_t *w, uint64_t pfn, uint64_t nr)
{
	struct sim_event_cpu *c = &sim_event_cpu;
	uint8_t *p = (uint8_t *)w, *end = p + (nr << HVMM_PAGE_SHIFT);
	/* Pages marked clean are skipped only where the pointer is a page's (mm/'s always are). */
	bool whole = !((uintptr_t)w & (HVMM_PAGE_SIZE - 1));

	if (!nr)
		return;
	sim_event_hook_store(w, sizeof(*w), 0);
	__atomic_store_n(w, 0, __ATOMIC_RELAXED);
	p += sizeof(*w);
	if (p == c->join_at) {
		/* The rest of the first page, then the others where something was written. */
		if (whole) {
			memset(p, 0, HVMM_PAGE_SIZE - sizeof(*w));
			sim_physmem_zero_dirty(cur_pm, (uint8_t *)w + HVMM_PAGE_SIZE, pfn + 1, nr - 1);
		} else {
			memset(p, 0, (size_t)(end - p));
		}
		c->join_at = end;
		c->pending_end = c->join_at;
		return;
	}
	sim_event_hook_store(p, HVMM_PAGE_SIZE - sizeof(*w), 0);
	memset(p, 0, HVMM_PAGE_SIZE - sizeof(*w));
	for (uint64_t i = 1; i < nr; i++) {
		p = (uint8_t *)w + (i << HVMM_PAGE_SHIFT);
		sim_event_hook_store(p, HVMM_PAGE_SIZE, 0);
		if (whole)
			sim_physmem_zero_dirty(cur_pm, p, pfn + i, 1);
		else
			memset(p, 0, HVMM_PAGE_SIZE);
	}
}

/*
 * Otherwise what a memset of the range would leave, storing only where
 * something was written since the page's last clear (sim/physmem.h): the
 * stamps of a large block touch its first and last pages, and a memset
 * of the rest was most of a replay's stores (an instrumented loop before
 * that cost a hook call per word). Either way the pages are then zero,
 * and marked so.
 */
void hvmm_clear_pages(void *va, u64 nr_pages)
{
	uint64_t pa, pfn;

	if (hvmm_unlikely(!host_to_pa(va, &pa))) {
		memset(va, 0, nr_pages << HVMM_PAGE_SHIFT);
		return;
	}
	pfn = pa >> HVMM_PAGE_SHIFT;
	if (__builtin_expect(sim_event_cpu.armed, 0)) {
		clear_pages_reported(va, pfn, nr_pages);
		sim_physmem_mark_scrubbed(cur_pm, pfn, nr_pages);
		return;
	}
	sim_physmem_clear_pages(cur_pm, va, pfn, nr_pages);
}

/*
 * The hosted kernel's zero fills of run-time length (sim/linux/include/
 * linux/string.h): page_alloc.c scrubs every block it frees with memset().
 * Whole pages of simulated RAM are cleared as hvmm_clear_pages() clears
 * mm/'s: in the executor's pool, only pages written since their last clear
 * take stores, so the kernel's allocator and ours pay the same scrub. The
 * kernel's code is not instrumented: with the event layer armed, or for
 * anything else, a plain memset as before.
 */
void *sim_linux_zero(void *va, unsigned long n)
{
	uint64_t pa;

	if (!n || ((uintptr_t)va | n) & (HVMM_PAGE_SIZE - 1) ||
	    __builtin_expect(sim_event_cpu.armed, 0) || !host_to_pa(va, &pa))
		return memset(va, 0, n);
	sim_physmem_clear_pages(cur_pm, va, pa >> HVMM_PAGE_SHIFT, n >> HVMM_PAGE_SHIFT);
	return va;
}

void hvmm_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
	/* The interleaver lets another vCPU run: the spinner waits for a write. */
	sim_event_relax();
}

static const enum sim_ev_kind trace_event_kind[] = {
	[HVMM_TRACE_PAGE_ALLOC] = SIM_EV_PAGE_ALLOC,
	[HVMM_TRACE_PAGE_FREE] = SIM_EV_PAGE_FREE,
	[HVMM_TRACE_S2_MAP] = SIM_EV_S2_MAP,
	[HVMM_TRACE_S2_UNMAP] = SIM_EV_S2_UNMAP,
	[HVMM_TRACE_OWNERSHIP] = SIM_EV_OWNERSHIP,
};

/*
 * Out of line, as a tail call: the page of an alloc+free pair is dirty
 * already but the first time, and nobody records events in the common case.
 */
static __attribute__((noinline)) void trace_slow(enum hvmm_trace_event ev, u64 a, u64 b,
						 u64 c, u64 d)
{
	if (ev == HVMM_TRACE_PAGE_ALLOC && cur_pm)
		sim_physmem_mark_dirty(cur_pm, a >> HVMM_PAGE_SHIFT, 1);
	if (sim_event_cpu.armed &&
	    (unsigned int)ev < sizeof(trace_event_kind) / sizeof(trace_event_kind[0]))
		sim_event_platform(trace_event_kind[ev], a, b, c, d);
	if (trace_sink)
		trace_sink(trace_sink_ctx, ev, a, b, c, d);
}

void sim_platform_set_trace_sink(sim_trace_sink_fn fn, void *ctx)
{
	trace_sink_ctx = ctx;
	trace_sink = fn;
	trace_wanted_update();
}

/*
 * mm/ calls this for the events hvmm_trace_wanted names (see
 * trace_wanted_update()): with nobody recording, only PAGE_ALLOC, once per
 * allocation, the common case being a clean test and a return.
 */
void hvmm_trace_emit(enum hvmm_trace_event ev, u64 a, u64 b, u64 c, u64 d)
{
	struct sim_physmem *pm = cur_pm;

	/*
	 * mm/'s buddy hands out a block's linear-map address without a
	 * hvmm_phys_to_virt() call (it is an offset into its pool), and its
	 * new owner writes there: mark the block's head page as that call
	 * would have (a multi-page block's other pages are marked by whoever
	 * indexes into them, as for any object of several pages). Not in the
	 * executor's pool [clear_lo, clear_hi): only the executor writes its
	 * blocks and marks each write (sim/physmem.h), the stamp of a block it
	 * takes marking the head page, as nothing marks a block the kernel's
	 * allocator hands out there. An event
	 * that was wanted a moment ago (the set changes between runs) would
	 * at worst mark a page that need not be.
	 */
	if (__builtin_expect(!__atomic_load_n(&trace_all, __ATOMIC_RELAXED), 1) &&
	    (!pm || (a >> HVMM_PAGE_SHIFT) - pm->clear_lo < pm->clear_hi - pm->clear_lo ||
	     sim_physmem_dirty(pm, a >> HVMM_PAGE_SHIFT)))
		return;
	trace_slow(ev, a, b, c, d);
}

void hvmm_warn(const char *file, u32 line, const char *what)
{
	atomic_fetch_add(&nr_warnings, 1);
	last_warning = (struct sim_panic){ .file = file, .line = line, .what = what };
}

uint64_t sim_platform_warnings(struct sim_panic *last)
{
	if (last)
		*last = last_warning;
	return atomic_load(&nr_warnings);
}

_Noreturn void hvmm_panic(const char *file, u32 line, const char *what)
{
	struct sim_panic_catcher *c = sim_panic_catcher;

	if (c) {
		sim_panic_catcher = NULL;
		c->panic = (struct sim_panic){ .file = file, .line = line, .what = what };
		siglongjmp(c->env, 1);
	}
	fprintf(stderr, "hvmm: mm/ panic at %s:%u: %s\n", file, line, what);
	abort();
}
