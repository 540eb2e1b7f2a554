/* SPDX-License-Identifier: MIT */
/*
 * hvmm's Linux compat layer: the hyp spinlock, replaced whole.
 *
 * The kernel's nvhe/spinlock.h is a ticket lock in arm64 LSE/LL-SC inline
 * assembly. Here it is mm/'s ticket lock on C11 atomics
 * (hvmm/spinlock.h): the same FIFO semantics, and the very lock mm/ uses,
 * so host threads, TSan and the interleaving scheduler treat the
 * kernel's critical sections exactly as mm/'s.
 */
#ifndef HVMM_COMPAT_NVHE_SPINLOCK_H
#define HVMM_COMPAT_NVHE_SPINLOCK_H

#include <hvmm/spinlock.h>
#include <linux/bug.h>

typedef hvmm_spinlock_t hyp_spinlock_t;

#define hyp_spin_lock_init(l)	hvmm_spin_lock_init(l)

static inline void hyp_spin_lock(hyp_spinlock_t *lock)
{
	hvmm_spin_lock(lock);
}

static inline void hyp_spin_unlock(hyp_spinlock_t *lock)
{
	hvmm_spin_unlock(lock);
}

static inline bool hyp_spin_is_locked(hyp_spinlock_t *lock)
{
	return hvmm_spin_is_locked(lock);
}

/* The kernel checks this only with CONFIG_NVHE_EL2_DEBUG; hvmm always does. */
static inline void hyp_assert_lock_held(hyp_spinlock_t *lock)
{
	BUG_ON(!hyp_spin_is_locked(lock));
}

#endif
