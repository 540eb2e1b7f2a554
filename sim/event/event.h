/* SPDX-License-Identifier: MIT */
/*
 * The event layer: everything mm/ does inside an operation, in order.
 *
 * Two sources feed one stream:
 *  - compiler instrumentation of mm/ (tsan_hooks.c): every load, store and
 *    atomic that mm/ performs, seen at the instant it happens, with mm/'s
 *    sources unchanged;
 *  - the platform calls (sim/platform.c): barriers, TLB invalidations,
 *    cache maintenance and mm/'s trace hooks (page allocation and free,
 *    ownership changes).
 *
 * Two kinds of consumer share it:
 *  - observers (the protocol oracles) receive each event once it has
 *    happened, with its effect: a plain store is reported over the 64-bit
 *    words it touched, whose new values are in memory (a run of adjacent
 *    stores with nothing in between, as a scrub makes, is one event); an
 *    atomic comes with the value before and after;
 *  - one scheduler (the deterministic interleaver) is called before every
 *    access to shared memory and may switch to another vCPU there.
 *
 * The layer is armed only while the executor runs an operation with event
 * oracles on, so a disarmed access costs one call and one test.
 */
#ifndef SIM_EVENT_EVENT_H
#define SIM_EVENT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sim_ev_kind {
	SIM_EV_LOAD,		/* addr, size; flags: SIM_EV_F_VOLATILE */
	SIM_EV_STORE,		/* addr, size (whole 64-bit words), val: the first word after it */
	SIM_EV_ATOMIC,		/* addr, size, old -> val; flags: op, SIM_EV_F_*; loads only to load observers */
	SIM_EV_FENCE,		/* a C11 fence inside mm/ */
	SIM_EV_DSB_ISHST,
	SIM_EV_DSB_ISH,
	SIM_EV_ISB,
	SIM_EV_TLBI_IPA,	/* a = vmid, b = ipa, c = level hint */
	SIM_EV_TLBI_RANGE,	/* a = vmid, b = ipa, c = size */
	SIM_EV_TLBI_VMID,	/* a = vmid */
	SIM_EV_DCACHE_CLEAN,	/* a = pa, b = size: clean+invalidate to PoC */
	SIM_EV_ICACHE_INVAL,	/* a = pa, b = size: invalidate to PoU */
	SIM_EV_PAGE_ALLOC,	/* a = pa, b = order */
	SIM_EV_PAGE_FREE,	/* a = pa, b = order */
	SIM_EV_S2_MAP,		/* a = vmid, b = ipa, c = pa, d = size */
	SIM_EV_S2_UNMAP,	/* a = vmid, b = ipa, c = size */
	SIM_EV_OWNERSHIP,	/* a = pa, b = pages, c = owner, d = state */
	SIM_EV_RELAX,		/* a spin-wait hint (hvmm_cpu_relax): scheduler only */
	SIM_EV_NR_KINDS,
};

/* Atomic operations (flags & SIM_EV_F_OP_MASK). */
enum sim_ev_atomic_op {
	SIM_EV_AT_LOAD,
	SIM_EV_AT_STORE,
	SIM_EV_AT_XCHG,
	SIM_EV_AT_CMPXCHG,	/* val is what memory holds after it (old if it failed) */
	SIM_EV_AT_ADD,
	SIM_EV_AT_SUB,
	SIM_EV_AT_AND,
	SIM_EV_AT_OR,
	SIM_EV_AT_XOR,
	SIM_EV_AT_NAND,
};

#define SIM_EV_F_OP_MASK	0xffu
#define SIM_EV_F_VOLATILE	(1u << 8)	/* a volatile (READ_ONCE / WRITE_ONCE) access */

struct sim_event {
	enum sim_ev_kind kind;
	uint32_t size;
	uint32_t flags;
	void *addr;		/* memory events: the host address mm/ used */
	uint64_t old, val;	/* memory events */
	uint64_t a, b, c, d;	/* platform events */
	uint64_t index;		/* position in the current op's stream, from 0 */
};

typedef void (*sim_event_observer_fn)(void *ctx, const struct sim_event *ev);

/*
 * Called before an access to memory (kind SIM_EV_LOAD, SIM_EV_STORE or
 * SIM_EV_ATOMIC; only addr, size and flags are set), and at a spin-wait
 * hint (SIM_EV_RELAX): the scheduler may run other vCPUs before returning.
 */
typedef void (*sim_event_sched_fn)(void *ctx, const struct sim_event *ev);

#define SIM_EVENT_MAX_OBSERVERS 4

/*
 * Observers are called in the order they were added, for every event of a
 * kind in @kinds (a mask of 1 << kind). Returns false if the table is full.
 */
bool sim_event_observe(sim_event_observer_fn fn, void *ctx, uint32_t kinds);
void sim_event_unobserve(sim_event_observer_fn fn, void *ctx);
/* Forgets every observer (a new machine takes the layer over). */
void sim_event_reset_observers(void);
void sim_event_set_scheduler(sim_event_sched_fn fn, void *ctx);

/*
 * Memory events are reported only for addresses inside one of @n windows
 * [lo, hi) (the host mappings of simulated RAM's regions, say); platform
 * events always.
 */
#define SIM_EVENT_MAX_WINDOWS 16
struct sim_event_window {
	const void *lo, *hi;
};
void sim_event_set_windows(const struct sim_event_window *w, unsigned int n);

/* Arms the layer for one operation (restarting the event index), and disarms it. */
void sim_event_begin(void);
void sim_event_end(void);
bool sim_event_armed(void);
/* Events delivered in the current (or last) operation. */
uint64_t sim_event_count(void);
/* Of them, memory events: mm/'s loads, stores and atomics. */
uint64_t sim_event_memory_count(void);

/* Emits a platform event (sim/platform.c). */
void sim_event_platform(enum sim_ev_kind kind, uint64_t a, uint64_t b, uint64_t c, uint64_t d);

/* Whether mm/ was built with the instrumentation this layer reads (meson). */
bool sim_event_mm_instrumented(void);

const char *sim_event_kind_name(enum sim_ev_kind kind);
/* One line describing @ev, e.g. "store [0x...] = 0x...", into @buf. */
void sim_event_describe(const struct sim_event *ev, char *buf, size_t len);

void sim_event_access(void *addr, uint32_t size, bool write, uint32_t flags);
void sim_event_atomic_done(void *addr, uint32_t size, uint32_t flags, uint64_t old,
			   uint64_t val);
void sim_event_atomic_before(void *addr, uint32_t size, uint32_t flags);
void sim_event_fence(void);
/* A spin-wait hint (sim/platform.c): the scheduler may let the lock holder run. */
void sim_event_relax(void);

/*
 * For the instrumentation hooks (tsan_hooks.c) only: the state their fast
 * paths read, per host thread. Initial-exec TLS, because the hooks run on
 * every access mm/ makes and the general-dynamic model of position-
 * independent code would make each a call to __tls_get_addr.
 */
#define SIM_EVENT_TLS _Thread_local __attribute__((tls_model("initial-exec")))
struct sim_event_cpu {
	/*
	 * Where the next plain store must land to join the pending run (a
	 * scrub), NULL when no store may join: disarmed, a scheduler wants
	 * every store, or the pending store is not a plain one.
	 */
	uint8_t *join_at;
	bool armed;
	uint32_t pending_flags;
	uint8_t *pending_addr, *pending_end;	/* plain stores not yet reported */
	uint64_t next_index;
	uint64_t memory_events;			/* of them loads, stores and atomics */
};
extern SIM_EVENT_TLS struct sim_event_cpu sim_event_cpu;
extern bool sim_event_loads_wanted;
/*
 * The addresses whose plain stores anyone may want, [lo, lo + span): all
 * of them for a scheduler, else the windows' hull while an observer takes
 * stores, else none. Most of an op's stores land on mm/'s stack and
 * statics, outside simulated RAM: this test drops them before a call.
 */
extern uintptr_t sim_event_store_lo, sim_event_store_span;
/* The same for atomics that change memory, by who takes SIM_EV_ATOMIC. */
extern uintptr_t sim_event_atomic_lo, sim_event_atomic_span;

/*
 * For the interleaver (sim/sched/): each vCPU has its own struct
 * sim_event_cpu, swapped in and out with the vCPU, so one vCPU's
 * sim_event_end() leaves another's operation armed. The platform counts
 * the armed ones (mm/ emits every trace event while any is): a vCPU that
 * starts from the executor's armed state is one more (fork), and one the
 * run leaves armed, stopped mid-operation or done without an end, is one
 * less when the run is over (retire).
 */
void sim_event_cpu_fork(struct sim_event_cpu *c);
void sim_event_cpu_retire(struct sim_event_cpu *c);

static inline void sim_event_hook_store(void *addr, uint32_t size, uint32_t flags)
{
	struct sim_event_cpu *c = &sim_event_cpu;

	if ((uint8_t *)addr == c->join_at && !flags) {
		c->join_at += size;
		c->pending_end = c->join_at;
		return;
	}
	if (c->armed && (uintptr_t)addr - sim_event_store_lo < sim_event_store_span)
		sim_event_access(addr, size, true, flags);
}

static inline void sim_event_hook_load(void *addr, uint32_t size, uint32_t flags)
{
	if (sim_event_cpu.armed && sim_event_loads_wanted)
		sim_event_access(addr, size, false, flags);
}

#endif /* SIM_EVENT_EVENT_H */
