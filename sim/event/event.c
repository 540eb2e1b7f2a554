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

#include <stdio.h>
#include <string.h>

struct observer {
	sim_event_observer_fn fn;
	void *ctx;
	uint32_t kinds;
};

static struct observer observers[SIM_EVENT_MAX_OBSERVERS];
static unsigned int nr_observers;
static uint32_t observed_kinds;
static sim_event_sched_fn sched_fn;
static void *sched_ctx;
static uintptr_t win_lo, win_hi;

/* Per host thread: real-threads runs never arm it (they use the TSan runtime). */
static _Thread_local bool armed;
static _Thread_local uint64_t next_index;
static _Thread_local void *pending_addr;
static _Thread_local uint32_t pending_size, pending_flags;

bool sim_event_observe(sim_event_observer_fn fn, void *ctx, uint32_t kinds)
{
	if (nr_observers == SIM_EVENT_MAX_OBSERVERS)
		return false;
	observers[nr_observers++] = (struct observer){ fn, ctx, kinds };
	observed_kinds |= kinds;
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
}

void sim_event_reset_observers(void)
{
	nr_observers = 0;
	observed_kinds = 0;
}

void sim_event_set_scheduler(sim_event_sched_fn fn, void *ctx)
{
	sched_fn = fn;
	sched_ctx = ctx;
}

void sim_event_set_window(const void *lo, const void *hi)
{
	win_lo = (uintptr_t)lo;
	win_hi = (uintptr_t)hi;
}

static bool in_window(const void *addr)
{
	return (uintptr_t)addr - win_lo < win_hi - win_lo;
}

static void deliver(struct sim_event *ev)
{
	unsigned int i;

	ev->index = next_index++;
	for (i = 0; i < nr_observers; i++)
		if (observers[i].kinds & (1u << ev->kind))
			observers[i].fn(observers[i].ctx, ev);
}

/* Reports the pending plain store, one event per aligned 64-bit word it touched. */
static void flush_store(void)
{
	uintptr_t w, end;

	if (!pending_addr)
		return;
	w = (uintptr_t)pending_addr & ~(uintptr_t)7;
	end = (uintptr_t)pending_addr + pending_size;
	pending_addr = NULL;
	for (; w < end; w += 8) {
		struct sim_event ev = {
			.kind = SIM_EV_STORE, .size = 8, .flags = pending_flags,
			.addr = (void *)w,
		};

		ev.val = __atomic_load_n((uint64_t *)w, __ATOMIC_RELAXED);
		deliver(&ev);
	}
}

void sim_event_begin(void)
{
	armed = true;
	next_index = 0;
	pending_addr = NULL;
}

void sim_event_end(void)
{
	if (!armed)
		return;
	flush_store();
	armed = false;
}

bool sim_event_armed(void)
{
	return armed;
}

uint64_t sim_event_count(void)
{
	return next_index;
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
	flush_store();
	if (sched_fn)
		schedule(write ? SIM_EV_STORE : SIM_EV_LOAD, addr, size, flags);
	if (!in_window(addr))
		return;
	if (write) {
		if (observed_kinds & (1u << SIM_EV_STORE)) {
			pending_addr = addr;
			pending_size = size;
			pending_flags = flags;
		}
	} else if (observed_kinds & (1u << SIM_EV_LOAD)) {
		struct sim_event ev = {
			.kind = SIM_EV_LOAD, .size = size, .flags = flags, .addr = addr,
		};

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
	struct sim_event ev = {
		.kind = SIM_EV_ATOMIC, .size = size, .flags = flags, .addr = addr,
		.old = old, .val = val,
	};

	if (!armed || !in_window(addr) || !(observed_kinds & (1u << SIM_EV_ATOMIC)))
		return;
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

void sim_event_platform(enum sim_ev_kind kind, uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	struct sim_event ev = { .kind = kind, .a = a, .b = b, .c = c, .d = d };

	if (!armed)
		return;
	flush_store();
	if (observed_kinds & (1u << kind))
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
