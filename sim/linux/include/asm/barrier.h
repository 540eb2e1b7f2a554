/* SPDX-License-Identifier: MIT */
/*
 * hvmm's Linux compat layer: arm64 barriers.
 *
 * dsb() and isb() go to mm/'s platform interface (hvmm_dsb_ish,
 * hvmm_dsb_ishst, hvmm_isb): the simulator implements those, and the
 * oracles that watch the order of barriers and TLB maintenance see the
 * kernel's barriers exactly where they see mm/'s. The SMP barriers are
 * C11 fences, which is what they order on the host.
 */
#ifndef HVMM_COMPAT_ASM_BARRIER_H
#define HVMM_COMPAT_ASM_BARRIER_H

#include <hvmm/platform.h>
#include <linux/compiler.h>

/* dsb(opt): ish and ishst are the options the hosted stage-2 code uses. */
#define __hvmm_dsb_ish()	hvmm_dsb_ish()
#define __hvmm_dsb_ishst()	hvmm_dsb_ishst()
#define __hvmm_dsb_sy()		hvmm_dsb_ish()
#define __hvmm_dsb_nsh()	hvmm_dsb_ish()
#define __hvmm_dsb_nshst()	hvmm_dsb_ishst()
#define dsb(opt)		__hvmm_dsb_##opt()
#define isb()			hvmm_isb()

#define smp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
#define smp_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define smp_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)

#endif
