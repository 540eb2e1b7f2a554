/* SPDX-License-Identifier: MIT */
/*
 * Ticket spinlock on C11 atomics, in the manner of pKVM's hyp_spinlock:
 * FIFO fairness, and real atomics so host threads (and TSan) exercise the
 * same code a hypervisor runs.
 */
#ifndef HVMM_SPINLOCK_H
#define HVMM_SPINLOCK_H

#include <stdatomic.h>
#include <hvmm/bug.h>
#include <hvmm/platform.h>

typedef struct {
	_Atomic u32 next;	/* next ticket to hand out */
	_Atomic u32 owner;	/* ticket now holding the lock */
} hvmm_spinlock_t;

static inline void hvmm_spin_lock_init(hvmm_spinlock_t *lock)
{
	atomic_init(&lock->next, 0);
	atomic_init(&lock->owner, 0);
}

static inline void hvmm_spin_lock(hvmm_spinlock_t *lock)
{
	u32 ticket = atomic_fetch_add_explicit(&lock->next, 1, memory_order_relaxed);

	while (atomic_load_explicit(&lock->owner, memory_order_acquire) != ticket)
		hvmm_cpu_relax();
}

static inline void hvmm_spin_unlock(hvmm_spinlock_t *lock)
{
	u32 owner = atomic_load_explicit(&lock->owner, memory_order_relaxed);

	atomic_store_explicit(&lock->owner, owner + 1, memory_order_release);
}

static inline bool hvmm_spin_is_locked(hvmm_spinlock_t *lock)
{
	return atomic_load_explicit(&lock->owner, memory_order_relaxed) !=
	       atomic_load_explicit(&lock->next, memory_order_relaxed);
}

/* Held by someone: a simple lock cannot say by whom, as hyp_assert_lock_held. */
#define hvmm_assert_spin_locked(lock)	HVMM_BUG_ON(!hvmm_spin_is_locked(lock))

#endif /* HVMM_SPINLOCK_H */
