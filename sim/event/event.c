// SPDX-License-Identifier: MIT
/*
 * The event stream (see event.h): ordering, the window filter, and plain
 * stores reported with their effect.
 *
 * The instrumentation calls in before a plain store happens and passes no
 * value, so a store is held as pending and reported, with the word it left
 * in memory, when the next event arrives (or the operation ends): nothing
 * runs in mm/ between a store and the next instrumented event that could
 * change that word again unseen.
 */
#include "event.h"
#include "platform.h"

#include <stdio.h>
#include <string.h>

static void update_fast_flags(void);
static void update_by_kind(void);

struct observer {
	sim_event_observer_fn fn;
	void *ctx;
	uint32_t kinds;
};

static struct observer observers[SIM_EVENT_MAX_OBSERVERS];
static unsigned int nr_observers;
/* The observers of each kind, in the order added: an event calls them and tests nothing. */
static struct observer by_kind[SIM_EV_NR_KINDS][SIM_EVENT_MAX_OBSERVERS];
static unsigned int nr_by_kind[SIM_EV_NR_KINDS];
static uint32_t observed_kinds;
static sim_event_sched_fn sched_fn;
static void *sched_ctx;
/* Simulated RAM's host mappings, and their hull for a quick refusal. */
static struct sim_event_window windows[SIM_EVENT_MAX_WINDOWS];
static unsigned int nr_windows;
static uintptr_t win_lo, win_hi;

/*
 * Per host thread: real-threads runs never arm it (they use the TSan
 * runtime). Initial-exec TLS: the hooks run on every access mm/ makes, and
 * the general-dynamic model of position-independent code would make each
 * of them a call to __tls_get_addr.
 */
SIM_EVENT_TLS struct sim_event_cpu sim_event_cpu;
bool sim_event_loads_wanted;
uintptr_t sim_event_store_lo, sim_event_store_span;
uintptr_t sim_event_atomic_lo, sim_event_atomic_span;

void sim_event_cpu_fork(struct sim_event_cpu *vcpu)
{
	*vcpu = sim_event_cpu;
	/* The executor's pending stores are its own, flushed in its stream. */
	vcpu->join_at = NULL;
	vcpu->pending_end = vcpu->pending_addr = NULL;
	vcpu->pending_flags = 0;
	if (vcpu->armed)
		sim_platform_events_armed(true);
}

void sim_event_cpu_retire(struct sim_event_cpu *vcpu)
{
	if (vcpu->armed)
		sim_platform_events_armed(false);
	memset(vcpu, 0, sizeof(*vcpu));
}

#define armed (sim_event_cpu.armed)
#define next_index (sim_event_cpu.next_index)
#define pending_addr (sim_event_cpu.pending_addr)
#define pending_end (sim_event_cpu.pending_end)
#define pending_flags (sim_event_cpu.pending_flags)

bool sim_event_observe(sim_event_observer_fn fn, void *ctx, uint32_t kinds)
{
	if (nr_observers == SIM_EVENT_MAX_OBSERVERS)
		return false;
	observers[nr_observers++] = (struct observer){ fn, ctx, kinds };
	observed_kinds |= kinds;
	update_by_kind();
	update_fast_flags();
	return true;
}

void sim_event_unobserve(sim_event_observer_fn fn, void *ctx)
{
	unsigned int i, j = 0;

	observed_kinds = 0;
	for (i = 0; i < nr_observers; i++) {
		if (observers[i].fn == fn && observers[i].ctx == ctx)
			continue;
		observers[j++] = observers[i];
		observed_kinds |= observers[i].kinds;
	}
	nr_observers = j;
	update_by_kind();
	update_fast_flags();
}

void sim_event_reset_observers(void)
{
	nr_observers = 0;
	observed_kinds = 0;
	update_by_kind();
	update_fast_flags();
}

void sim_event_set_scheduler(sim_event_sched_fn fn, void *ctx)
{
	sched_fn = fn;
	sched_ctx = ctx;
	update_fast_flags();
}

void sim_event_set_windows(const struct sim_event_window *w, unsigned int n)
{
	win_lo = UINTPTR_MAX;
	win_hi = 0;
	nr_windows = 0;
	for (unsigned int i = 0; i < n && i < SIM_EVENT_MAX_WINDOWS; i++) {
		windows[nr_windows++] = w[i];
		if ((uintptr_t)w[i].lo < win_lo)
			win_lo = (uintptr_t)w[i].lo;
		if ((uintptr_t)w[i].hi > win_hi)
			win_hi = (uintptr_t)w[i].hi;
	}
	if (!nr_windows)
		win_lo = win_hi = 0;
	update_fast_flags();
}

/*
 * Each mapping on its own: the hull of several also holds whatever the host
 * mapped between them (a vCPU's stack, say), whose stores are not
 * simulated memory and may be gone by the time a run of stores is flushed.
 */
static bool in_window(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	if (a - win_lo >= win_hi - win_lo)
		return false;
	if (nr_windows == 1)
		return true;
	for (unsigned int i = 0; i < nr_windows; i++)
		if (a - (uintptr_t)windows[i].lo < (uintptr_t)windows[i].hi - (uintptr_t)windows[i].lo)
			return true;
	return false;
}

/* The addresses whose accesses of @kind anyone may want (event.h). */
static void wanted_range(enum sim_ev_kind kind, uintptr_t *lo, uintptr_t *span)
{
	if (sched_fn) {
		*lo = 0;
		*span = UINTPTR_MAX;
	} else if (observed_kinds & (1u << kind)) {
		*lo = win_lo;
		*span = win_hi - win_lo;
	} else {
		*lo = *span = 0;
	}
}

static void update_by_kind(void)
{
	for (unsigned int k = 0; k < SIM_EV_NR_KINDS; k++) {
		nr_by_kind[k] = 0;
		for (unsigned int i = 0; i < nr_observers; i++)
			if (observers[i].kinds & (1u << k))
				by_kind[k][nr_by_kind[k]++] = observers[i];
	}
}

static void update_fast_flags(void)
{
	sim_event_loads_wanted = sched_fn || (observed_kinds & (1u << SIM_EV_LOAD));
	wanted_range(SIM_EV_STORE, &sim_event_store_lo, &sim_event_store_span);
	wanted_range(SIM_EV_ATOMIC, &sim_event_atomic_lo, &sim_event_atomic_span);
	sim_event_cpu.join_at = NULL;
}

/* Adjacent plain stores join the run only when nobody needs to see them one by one. */
static bool may_join(void)
{
	return armed && !sched_fn && !pending_flags;
}

static void deliver(struct sim_event *ev)
{
	unsigned int i;

	ev->index = next_index++;
	sim_event_cpu.memory_events += ev->kind <= SIM_EV_ATOMIC;
	for (i = 0; i < nr_by_kind[ev->kind]; i++)
		by_kind[ev->kind][i].fn(by_kind[ev->kind][i].ctx, ev);
}

/*
 * Reports the pending plain stores: a run of adjacent ones (a scrub, a
 * struct copy) as one event over whole 64-bit words, whose values the
 * observers read from memory.
 */
static void report_pending_store(void)
{
	uintptr_t lo = (uintptr_t)pending_addr & ~(uintptr_t)7;
	uintptr_t hi = ((uintptr_t)pending_end + 7) & ~(uintptr_t)7;
	struct sim_event ev = { .kind = SIM_EV_STORE };

	pending_addr = NULL;
	pending_end = NULL;
	sim_event_cpu.join_at = NULL;
	ev.addr = (void *)lo;
	ev.size = (uint32_t)(hi - lo);
	ev.flags = pending_flags;
	ev.val = __atomic_load_n((uint64_t *)lo, __ATOMIC_RELAXED);
	deliver(&ev);
}

/* Called before every other event: most of the time nothing is pending. */
static inline void flush_store(void)
{
	if (pending_addr)
		report_pending_store();
}

void sim_event_begin(void)
{
	if (!armed)
		sim_platform_events_armed(true);
	armed = true;
	next_index = 0;
	sim_event_cpu.memory_events = 0;
	pending_addr = NULL;
	pending_end = NULL;
	update_fast_flags();
}

void sim_event_end(void)
{
	if (!armed)
		return;
	flush_store();
	armed = false;
	sim_platform_events_armed(false);
	sim_event_cpu.join_at = NULL;
}

/* tsan_hooks.c, in the builds that instrument mm/, says otherwise. */
__attribute__((weak)) bool sim_event_mm_instrumented(void)
{
	return false;
}

bool sim_event_armed(void)
{
	return armed;
}

uint64_t sim_event_count(void)
{
	return next_index;
}

uint64_t sim_event_memory_count(void)
{
	return sim_event_cpu.memory_events;
}

static void schedule(enum sim_ev_kind kind, void *addr, uint32_t size, uint32_t flags)
{
	struct sim_event ev = { .kind = kind, .size = size, .flags = flags, .addr = addr };

	sched_fn(sched_ctx, &ev);
}

void sim_event_access(void *addr, uint32_t size, bool write, uint32_t flags)
{
	if (!armed)
		return;
	/* A load changes nothing an observer judges: only the scheduler may want it. */
	if (!write && !sched_fn && !(observed_kinds & (1u << SIM_EV_LOAD)))
		return;
	if (sched_fn) {
		flush_store();
		schedule(write ? SIM_EV_STORE : SIM_EV_LOAD, addr, size, flags);
	}
	if (!in_window(addr))
		return;
	if (write) {
		if (!(observed_kinds & (1u << SIM_EV_STORE)))
			return;
		/* The next word of a run (a scrub): one event for the run. */
		if ((uint8_t *)addr == pending_end && pending_end && flags == pending_flags) {
			pending_end += size;
			return;
		}
		flush_store();
		pending_addr = addr;
		pending_end = (uint8_t *)addr + size;
		pending_flags = flags;
		if (may_join())
			sim_event_cpu.join_at = pending_end;
	} else if (observed_kinds & (1u << SIM_EV_LOAD)) {
		struct sim_event ev = {
			.kind = SIM_EV_LOAD, .size = size, .flags = flags, .addr = addr,
		};

		flush_store();
		deliver(&ev);
	}
}

void sim_event_atomic_before(void *addr, uint32_t size, uint32_t flags)
{
	if (!armed)
		return;
	flush_store();
	if (sched_fn)
		schedule(SIM_EV_ATOMIC, addr, size, flags);
}

void sim_event_atomic_done(void *addr, uint32_t size, uint32_t flags, uint64_t old,
			   uint64_t val)
{
	struct sim_event ev;

	/* An atomic load changes nothing: reported only to those who watch loads. */
	if (!armed || !(observed_kinds & (1u << SIM_EV_ATOMIC)) ||
	    ((flags & SIM_EV_F_OP_MASK) == SIM_EV_AT_LOAD && !(observed_kinds & (1u << SIM_EV_LOAD))) ||
	    !in_window(addr))
		return;
	ev = (struct sim_event){
		.kind = SIM_EV_ATOMIC, .size = size, .flags = flags, .addr = addr,
		.old = old, .val = val,
	};
	deliver(&ev);
}

void sim_event_fence(void)
{
	struct sim_event ev = { .kind = SIM_EV_FENCE };

	if (!armed)
		return;
	flush_store();
	if (observed_kinds & (1u << SIM_EV_FENCE))
		deliver(&ev);
}

void sim_event_relax(void)
{
	if (!armed || !sched_fn)
		return;
	flush_store();
	schedule(SIM_EV_RELAX, NULL, 0, 0);
}

void sim_event_platform(enum sim_ev_kind kind, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	struct sim_event ev;

	if (!armed)
		return;
	flush_store();
	if (!(observed_kinds & (1u << kind)))
		return;
	ev = (struct sim_event){ .kind = kind, .a = a, .b = b, .c = c, .d = d };
	deliver(&ev);
}

static const char *const kind_names[SIM_EV_NR_KINDS] = {
	[SIM_EV_LOAD] = "load",
	[SIM_EV_STORE] = "store",
	[SIM_EV_ATOMIC] = "atomic",
	[SIM_EV_FENCE] = "fence",
	[SIM_EV_DSB_ISHST] = "dsb ishst",
	[SIM_EV_DSB_ISH] = "dsb ish",
	[SIM_EV_ISB] = "isb",
	[SIM_EV_TLBI_IPA] = "tlbi ipas2e1is",
	[SIM_EV_TLBI_RANGE] = "tlbi ripas2e1is",
	[SIM_EV_TLBI_VMID] = "tlbi vmalls12e1is",
	[SIM_EV_DCACHE_CLEAN] = "dc civac",
	[SIM_EV_ICACHE_INVAL] = "ic ivau",
	[SIM_EV_PAGE_ALLOC] = "page alloc",
	[SIM_EV_PAGE_FREE] = "page free",
	[SIM_EV_S2_MAP] = "s2 map",
	[SIM_EV_S2_UNMAP] = "s2 unmap",
	[SIM_EV_OWNERSHIP] = "ownership",
	[SIM_EV_RELAX] = "relax",
};

const char *sim_event_kind_name(enum sim_ev_kind kind)
{
	return kind < SIM_EV_NR_KINDS && kind_names[kind] ? kind_names[kind] : "?";
}

void sim_event_describe(const struct sim_event *ev, char *buf, size_t len)
{
	const char *name = sim_event_kind_name(ev->kind);

	switch (ev->kind) {
	case SIM_EV_LOAD:
	case SIM_EV_STORE:
		snprintf(buf, len, "event %llu: %s of %u bytes at %p, 0x%llx",
			 (unsigned long long)ev->index, name, ev->size, ev->addr,
			 (unsigned long long)ev->val);
		break;
	case SIM_EV_ATOMIC:
		snprintf(buf, len, "event %llu: atomic at %p, 0x%llx -> 0x%llx",
			 (unsigned long long)ev->index, ev->addr, (unsigned long long)ev->old,
			 (unsigned long long)ev->val);
		break;
	case SIM_EV_TLBI_IPA:
		snprintf(buf, len, "event %llu: %s vmid %llu ipa 0x%llx level %llu",
			 (unsigned long long)ev->index, name, (unsigned long long)ev->a,
			 (unsigned long long)ev->b, (unsigned long long)ev->c);
		break;
	case SIM_EV_TLBI_RANGE:
		snprintf(buf, len, "event %llu: %s vmid %llu ipa 0x%llx size 0x%llx",
			 (unsigned long long)ev->index, name, (unsigned long long)ev->a,
			 (unsigned long long)ev->b, (unsigned long long)ev->c);
		break;
	case SIM_EV_TLBI_VMID:
		snprintf(buf, len, "event %llu: %s vmid %llu", (unsigned long long)ev->index, name,
			 (unsigned long long)ev->a);
		break;
	case SIM_EV_PAGE_ALLOC:
	case SIM_EV_PAGE_FREE:
		snprintf(buf, len, "event %llu: %s pa 0x%llx order %llu",
			 (unsigned long long)ev->index, name, (unsigned long long)ev->a,
			 (unsigned long long)ev->b);
		break;
	default:
		snprintf(buf, len, "event %llu: %s 0x%llx 0x%llx 0x%llx 0x%llx",
			 (unsigned long long)ev->index, name, (unsigned long long)ev->a,
			 (unsigned long long)ev->b, (unsigned long long)ev->c,
			 (unsigned long long)ev->d);
		break;
	}
}
