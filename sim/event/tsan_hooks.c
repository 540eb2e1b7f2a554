// SPDX-License-Identifier: MIT
/*
 * The compiler's ThreadSanitizer callbacks, implemented by the simulator.
 *
 * Why this hook: mm/ must stay production code, unchanged and free of any
 * simulator conditional, yet the oracles and the interleaver need every
 * descriptor write, atomic and lock operation it makes, at the instant it
 * makes it. Compiling mm/ with -fsanitize=thread makes gcc and clang call
 * __tsan_readN and __tsan_writeN before each load and store, and replace each
 * atomic by a call to __tsan_atomicN_* that must perform it; with the
 * "distinguish volatile" parameter, READ_ONCE/WRITE_ONCE-style accesses
 * get calls of their own. The binaries do not link the TSan runtime: these
 * definitions take its place and feed sim/event/event.c. Linux's KCSAN
 * takes control of unchanged kernel code through the same compiler
 * instrumentation, and Huawei's Lotto schedules programs this way.
 *
 * The alternatives were worse: a patched mm/ (or macros in it) is not the
 * code that ships; watchpoints or page protection see a page at a time and
 * cost a fault per store; binary rewriting needs a toolchain of its own.
 * A real ThreadSanitizer build (b_sanitize=thread, for the real-threads
 * mode) links the runtime instead and leaves this file out.
 *
 * Atomics are performed here sequentially consistent: whatever ordering
 * mm/ asked for, only one vCPU runs mm/ code at a time in the interleaver,
 * so the order of events is the program order the scheduler picked.
 *
 * Unarmed (outside an op, or in a replay with nothing watching), or armed
 * with nobody wanting it (atomic_wanted() below), an atomic is performed
 * and nothing else: the event layer would return at its first tests,
 * after two calls.
 *
 * An atomic load changes no memory: like a plain load it reaches the event
 * layer only when a scheduler or a load observer wants it (most of a
 * replay's atomics are the page-table walker's READ_ONCE loads, which no
 * oracle reads as events), so otherwise it costs a test of two flags.
 */
#include <stdbool.h>
#include <stdint.h>

#include "event.h"

typedef unsigned __int128 sim_u128;

/* The declarations the compiler would otherwise see in the TSan runtime's headers. */

void __tsan_init(void);
void __tsan_func_entry(void *pc);
void __tsan_func_exit(void);
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
void __tsan_read_range(void *addr, unsigned long size);
void __tsan_write_range(void *addr, unsigned long size);
void __tsan_atomic_thread_fence(int mo);
void __tsan_atomic_signal_fence(int mo);

void __tsan_init(void)
{
}

bool sim_event_mm_instrumented(void)
{
	return true;
}

void __tsan_func_entry(void *pc)
{
	(void)pc;
}

void __tsan_func_exit(void)
{
}

void __tsan_ignore_thread_begin(void)
{
}

void __tsan_ignore_thread_end(void)
{
}

/*
 * Code the compiler adds beside mm/'s own: SanitizerCoverage's inline
 * counters (libFuzzer builds add them to mm/ for edge coverage, one per
 * basic block). clang hands their updates to the ThreadSanitizer pass like
 * any store, gcc has no such counters: were they steps, a schedule would
 * count one per basic block on a clang libFuzzer build and none elsewhere,
 * and the same trace would run another interleaving on every other build.
 * They are nobody's shared memory: not events. The linker names the bounds
 * of the counters' section; without it the bounds are null and nothing is
 * dropped.
 */
extern char __start___sancov_cntrs[] __attribute__((weak));
extern char __stop___sancov_cntrs[] __attribute__((weak));
/*
 * AFL++'s instrumentation (afl-clang-fast, PCGUARD) does the same with
 * three accesses per basic block, each handed to the ThreadSanitizer
 * pass: a load of the block's guard, a load of the map pointer and a
 * store to its byte of the map. As steps they also made a spinner's last
 * load the map pointer, which no vCPU writes: a spin-wait slept on it for
 * good (a false deadlock on the real code within seconds of fuzzing).
 */
extern char __start___sancov_guards[] __attribute__((weak));
extern char __stop___sancov_guards[] __attribute__((weak));
extern char *__afl_area_ptr __attribute__((weak));
extern unsigned int __afl_map_size __attribute__((weak));

static inline bool afl_added(const char *a)
{
	if (!&__afl_area_ptr)
		return false;
	if (a >= (const char *)&__afl_area_ptr && a < (const char *)(&__afl_area_ptr + 1))
		return true;
	if (a >= __start___sancov_guards && a < __stop___sancov_guards)
		return true;
	return &__afl_map_size && a >= __afl_area_ptr && a < __afl_area_ptr + __afl_map_size;
}

static inline bool compiler_added(const void *addr)
{
	const char *a = addr;

	if (a >= __start___sancov_cntrs && a < __stop___sancov_cntrs)
		return true;
	return afl_added(a);
}

/*
 * Unarmed, a plain access is nothing to the event layer (a store run is
 * joined only while armed): that one test comes first, so a replay's
 * accesses outside ops pay no look at the compiler's sections. Armed, a
 * load nobody wants and a store outside what anyone wants (event.h's
 * sim_event_store_lo) are dropped next, before that look: they are most
 * of an op's accesses.
 */
static inline void hook_load(void *addr, uint32_t n, uint32_t flags)
{
	if (sim_event_cpu.armed && sim_event_loads_wanted && !compiler_added(addr))
		sim_event_access(addr, n, false, flags);
}

static inline bool store_wanted(const void *addr)
{
	return (const uint8_t *)addr == sim_event_cpu.join_at ||
	       (uintptr_t)addr - sim_event_store_lo < sim_event_store_span;
}

static inline void hook_store(void *addr, uint32_t n, uint32_t flags)
{
	if (sim_event_cpu.armed && store_wanted(addr) && !compiler_added(addr))
		sim_event_hook_store(addr, n, flags);
}

#define ACCESS_HOOKS(n)								\
	void __tsan_read##n(void *addr);					\
	void __tsan_write##n(void *addr);					\
	void __tsan_unaligned_read##n(void *addr);				\
	void __tsan_unaligned_write##n(void *addr);				\
	void __tsan_volatile_read##n(void *addr);				\
	void __tsan_volatile_write##n(void *addr);				\
	void __tsan_unaligned_volatile_read##n(void *addr);			\
	void __tsan_unaligned_volatile_write##n(void *addr);			\
	void __tsan_read##n(void *addr) { hook_load(addr, n, 0); }	\
	void __tsan_write##n(void *addr) { hook_store(addr, n, 0); }	\
	void __tsan_unaligned_read##n(void *addr) { hook_load(addr, n, 0); } \
	void __tsan_unaligned_write##n(void *addr) { hook_store(addr, n, 0); } \
	void __tsan_volatile_read##n(void *addr)				\
	{ sim_event_hook_load(addr, n, SIM_EV_F_VOLATILE); }			\
	void __tsan_volatile_write##n(void *addr)				\
	{ sim_event_hook_store(addr, n, SIM_EV_F_VOLATILE); }			\
	void __tsan_unaligned_volatile_read##n(void *addr)			\
	{ sim_event_hook_load(addr, n, SIM_EV_F_VOLATILE); }			\
	void __tsan_unaligned_volatile_write##n(void *addr)			\
	{ sim_event_hook_store(addr, n, SIM_EV_F_VOLATILE); }

ACCESS_HOOKS(1)
ACCESS_HOOKS(2)
ACCESS_HOOKS(4)
ACCESS_HOOKS(8)
ACCESS_HOOKS(16)

void __tsan_read_range(void *addr, unsigned long size)
{
	sim_event_access(addr, (uint32_t)size, false, 0);
}

void __tsan_write_range(void *addr, unsigned long size)
{
	sim_event_access(addr, (uint32_t)size, true, 0);
}

void __tsan_atomic_thread_fence(int mo)
{
	(void)mo;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	sim_event_fence();
}

void __tsan_atomic_signal_fence(int mo)
{
	(void)mo;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/*
 * An atomic that changes memory reaches the event layer only if the
 * scheduler or an observer of atomics may want it (event.h's
 * sim_event_atomic_lo): most are mm/'s locks, outside simulated RAM. One
 * dropped needs no flush of a pending store either: it cannot change the
 * pending words, which lie in simulated RAM.
 */
static inline bool atomic_wanted(const void *addr)
{
	return sim_event_cpu.armed &&
	       (uintptr_t)addr - sim_event_atomic_lo < sim_event_atomic_span;
}

/*
 * One width of atomics: load, store, exchange, the fetch-ops and the three
 * compare-exchange flavours, each performed and then reported.
 */
#define ATOMIC_HOOKS(n, T)							\
	T __tsan_atomic##n##_load(const volatile T *a, int mo);			\
	void __tsan_atomic##n##_store(volatile T *a, T v, int mo);		\
	T __tsan_atomic##n##_exchange(volatile T *a, T v, int mo);		\
	T __tsan_atomic##n##_fetch_add(volatile T *a, T v, int mo);		\
	T __tsan_atomic##n##_fetch_sub(volatile T *a, T v, int mo);		\
	T __tsan_atomic##n##_fetch_and(volatile T *a, T v, int mo);		\
	T __tsan_atomic##n##_fetch_or(volatile T *a, T v, int mo);		\
	T __tsan_atomic##n##_fetch_xor(volatile T *a, T v, int mo);		\
	T __tsan_atomic##n##_fetch_nand(volatile T *a, T v, int mo);		\
	int __tsan_atomic##n##_compare_exchange_strong(volatile T *a, T *c, T v, int mo, int fmo); \
	int __tsan_atomic##n##_compare_exchange_weak(volatile T *a, T *c, T v, int mo, int fmo); \
	T __tsan_atomic##n##_compare_exchange_val(volatile T *a, T c, T v, int mo, int fmo); \
										\
	/* Out of line: the load nobody watches then needs no stack frame. */ \
	static __attribute__((noinline)) T atomic##n##_load_seen(const volatile T *a) \
	{									\
		T v;								\
		sim_event_atomic_before((void *)a, n / 8, SIM_EV_AT_LOAD);	\
		v = __atomic_load_n(a, __ATOMIC_SEQ_CST);			\
		sim_event_atomic_done((void *)a, n / 8, SIM_EV_AT_LOAD, (uint64_t)v, (uint64_t)v); \
		return v;							\
	}									\
	T __tsan_atomic##n##_load(const volatile T *a, int mo)			\
	{									\
		(void)mo;							\
		if (sim_event_cpu.armed && sim_event_loads_wanted)		\
			return atomic##n##_load_seen(a);			\
		return __atomic_load_n(a, __ATOMIC_SEQ_CST);			\
	}									\
	void __tsan_atomic##n##_store(volatile T *a, T v, int mo)		\
	{									\
		T old;								\
		(void)mo;							\
		if (!atomic_wanted((const void *)a)) {			\
			__atomic_store_n(a, v, __ATOMIC_SEQ_CST);		\
			return;							\
		}								\
		sim_event_atomic_before((void *)a, n / 8, SIM_EV_AT_STORE);	\
		old = __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST);		\
		sim_event_atomic_done((void *)a, n / 8, SIM_EV_AT_STORE, (uint64_t)old, (uint64_t)v); \
	}									\
	T __tsan_atomic##n##_exchange(volatile T *a, T v, int mo)		\
	{									\
		T old;								\
		(void)mo;							\
		if (!atomic_wanted((const void *)a))			\
			return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST);	\
		sim_event_atomic_before((void *)a, n / 8, SIM_EV_AT_XCHG);	\
		old = __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST);		\
		sim_event_atomic_done((void *)a, n / 8, SIM_EV_AT_XCHG, (uint64_t)old, (uint64_t)v); \
		return old;							\
	}									\
	FETCH_OP(n, T, add, SIM_EV_AT_ADD, old + v)				\
	FETCH_OP(n, T, sub, SIM_EV_AT_SUB, old - v)				\
	FETCH_OP(n, T, and, SIM_EV_AT_AND, old & v)				\
	FETCH_OP(n, T, or, SIM_EV_AT_OR, old | v)				\
	FETCH_OP(n, T, xor, SIM_EV_AT_XOR, old ^ v)				\
	FETCH_OP(n, T, nand, SIM_EV_AT_NAND, ~(old & v))			\
	int __tsan_atomic##n##_compare_exchange_strong(volatile T *a, T *c, T v, int mo, int fmo) \
	{									\
		T expected = *c;						\
		bool ok;							\
		(void)mo;							\
		(void)fmo;							\
		if (!atomic_wanted((const void *)a))			\
			return __atomic_compare_exchange_n(a, c, v, false, __ATOMIC_SEQ_CST, \
							   __ATOMIC_SEQ_CST);	\
		sim_event_atomic_before((void *)a, n / 8, SIM_EV_AT_CMPXCHG);	\
		ok = __atomic_compare_exchange_n(a, c, v, false, __ATOMIC_SEQ_CST, \
						 __ATOMIC_SEQ_CST);		\
		sim_event_atomic_done((void *)a, n / 8, SIM_EV_AT_CMPXCHG,	\
				      (uint64_t)(ok ? expected : *c), (uint64_t)(ok ? v : *c)); \
		return ok;							\
	}									\
	int __tsan_atomic##n##_compare_exchange_weak(volatile T *a, T *c, T v, int mo, int fmo) \
	{									\
		return __tsan_atomic##n##_compare_exchange_strong(a, c, v, mo, fmo); \
	}									\
	T __tsan_atomic##n##_compare_exchange_val(volatile T *a, T c, T v, int mo, int fmo) \
	{									\
		__tsan_atomic##n##_compare_exchange_strong(a, &c, v, mo, fmo);	\
		return c;							\
	}

#define FETCH_OP(n, T, name, op, expr)						\
	T __tsan_atomic##n##_fetch_##name(volatile T *a, T v, int mo)		\
	{									\
		T old;								\
		(void)mo;							\
		if (!atomic_wanted((const void *)a))			\
			return __atomic_fetch_##name(a, v, __ATOMIC_SEQ_CST);	\
		sim_event_atomic_before((void *)a, n / 8, op);			\
		old = __atomic_fetch_##name(a, v, __ATOMIC_SEQ_CST);		\
		sim_event_atomic_done((void *)a, n / 8, op, (uint64_t)old, (uint64_t)(T)(expr)); \
		return old;							\
	}

ATOMIC_HOOKS(8, uint8_t)
ATOMIC_HOOKS(16, uint16_t)
ATOMIC_HOOKS(32, uint32_t)
ATOMIC_HOOKS(64, uint64_t)
