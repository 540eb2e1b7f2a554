/* SPDX-License-Identifier: MIT */
/*
 * The simulator's implementation of mm/'s platform interface
 * (hvmm/platform.h): the linear map is simulated physical memory, TLB
 * maintenance goes to the machine's TLB model, and a panic in mm/ becomes
 * a reported failure instead of a dead process.
 */
#ifndef SIM_PLATFORM_H
#define SIM_PLATFORM_H

#include <setjmp.h>
#include <stdint.h>

#include "physmem.h"

/* TLB maintenance and trace events, routed to whoever models them. */
struct sim_platform_hooks {
	void (*tlb_flush_ipa)(void *ctx, uint16_t vmid, uint64_t ipa, uint32_t level);
	void (*tlb_flush_range)(void *ctx, uint16_t vmid, uint64_t ipa, uint64_t size);
	void (*tlb_flush_vmid)(void *ctx, uint16_t vmid);
	void *ctx;
};

/* What mm/ said when it panicked. */
struct sim_panic {
	const char *file;
	uint32_t line;
	const char *what;
};

/*
 * Makes @pm the memory behind hvmm_phys_to_virt() and friends. The
 * hardware model only: booting mm/ on it (its vmemmap) is the executor's
 * (sim/vmemmap.h).
 */
void sim_platform_install(struct sim_physmem *pm, const struct sim_platform_hooks *hooks);
/*
 * The installed memory's clear range [clear_lo, clear_hi) or its
 * allocs_confined (sim/physmem.h) changed: where the range covers all of
 * RAM, or while mm/ allocates only inside it, no block mm/ hands out
 * needs the platform's dirty mark, and the platform stops asking mm/ for
 * PAGE_ALLOC. Safe from any thread.
 */
void sim_platform_clear_range_set(void);
struct sim_physmem *sim_platform_physmem(void);

/*
 * Where the events mm/ emits through hvmm_trace() go, besides the event
 * stream the oracles observe: an events writer (trace/events.h) while one
 * is open. NULL: nowhere. Process-wide, like the platform itself.
 */
typedef void (*sim_trace_sink_fn)(void *ctx, int ev, uint64_t a, uint64_t b, uint64_t c,
				  uint64_t d);
void sim_platform_set_trace_sink(sim_trace_sink_fn fn, void *ctx);

/*
 * The event layer tells the platform when a thread arms it or disarms it:
 * while any thread is armed, mm/ emits every trace event (hvmm_trace_wanted),
 * as each is an event of the stream.
 */
void sim_platform_events_armed(bool armed);

/*
 * Fault injection for negative tests of the TLB oracle: the next @count
 * TLB invalidations are dropped (counted, not performed).
 */
void sim_platform_drop_tlb_flushes(unsigned int count);
uint64_t sim_platform_tlb_flushes(void);

/*
 * The hosted kernel's zero fills of run-time length (its compat
 * <linux/string.h> declares this too): whole pages of simulated RAM are
 * cleared as hvmm_clear_pages() clears mm/'s, anything else by memset.
 */
void *sim_linux_zero(void *va, unsigned long n);

/*
 * Warnings mm/ raised (HVMM_WARN_ON: it backed out with an error and went
 * on), counted over the process; *@last (if not NULL) gets this thread's
 * latest.
 */
uint64_t sim_platform_warnings(struct sim_panic *last);

/*
 * Catching mm/ panics, per thread:
 *
 *	struct sim_panic_catcher c;
 *	if (sigsetjmp(c.env, 0) == 0) {
 *		sim_panic_arm(&c);
 *		... calls into mm/ ...
 *		sim_panic_disarm();
 *	} else {
 *		... c.panic says where mm/ panicked ...
 *	}
 *
 * Without an armed catcher a panic prints and aborts. The jump leaves mm/
 * state as it was at the panic (locks may be held): callers treat it as
 * fatal for the machine. Locals changed inside the armed region must be
 * volatile if they are read after a panic.
 */
struct sim_panic_catcher {
	sigjmp_buf env;
	struct sim_panic panic;
};
extern _Thread_local struct sim_panic_catcher *sim_panic_catcher;

static inline void sim_panic_arm(struct sim_panic_catcher *c)
{
	sim_panic_catcher = c;
}

static inline void sim_panic_disarm(void)
{
	sim_panic_catcher = NULL;
}

#endif /* SIM_PLATFORM_H */
