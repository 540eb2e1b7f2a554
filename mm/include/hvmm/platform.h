/* SPDX-License-Identifier: MIT */
/*
 * The platform interface: everything mm/ needs from the hardware or the
 * hypervisor around it. A hypervisor implements these with its own
 * linear map, TLBI instructions and panic path; the simulator (sim/platform.c)
 * implements them over simulated physical memory and a modelled TLB.
 *
 * This header is the only way mm/ reaches outside itself: the freestanding
 * test checks that mm/ objects reference no other external symbol.
 */
#ifndef HVMM_PLATFORM_H
#define HVMM_PLATFORM_H

#include <hvmm/types.h>

/* Linear map between physical addresses and the hypervisor's virtual ones. */
void *hvmm_phys_to_virt(phys_addr_t pa);
phys_addr_t hvmm_virt_to_phys(const void *va);

/*
 * Stage-2 TLB maintenance, complete (including the DSB that waits for it)
 * when the call returns.
 *
 * hvmm_tlb_flush_ipa: one leaf at @ipa, mapped at table @level (TLBI IPAS2E1IS
 *   with that level as its TTL hint); @level 0, which no 4 KiB-granule leaf
 *   has, gives no hint (TTL 0): every entry used to translate @ipa, cached
 *   table entries (walk caches) included (Arm ARM D8.16, "TLB maintenance").
 * hvmm_tlb_flush_range: every entry covering [ipa, ipa + size) (TLBI RIPAS2E1IS).
 * hvmm_tlb_flush_vmid: every stage-1 and stage-2 entry of @vmid (TLBI VMALLS12E1IS).
 */
void hvmm_tlb_flush_ipa(u16 vmid, u64 ipa, u32 level);
void hvmm_tlb_flush_range(u16 vmid, u64 ipa, u64 size);
void hvmm_tlb_flush_vmid(u16 vmid);

/*
 * Cache maintenance by physical range, complete when the call returns.
 * Without FEAT_S2FWB a guest may map memory non-cacheable and read it from
 * the point of coherency, so whatever the hypervisor wrote there (a scrub)
 * must be cleaned to PoC before the page is mapped into a guest, and the
 * instruction cache invalidated to PoU before it is mapped executable (as
 * KVM's stage-2 map does through mm_ops).
 *
 * hvmm_dcache_clean_inval_poc: DC CIVAC over [pa, pa + size).
 * hvmm_icache_inval_pou: IC IVAU over [pa, pa + size).
 */
void hvmm_dcache_clean_inval_poc(phys_addr_t pa, u64 size);
void hvmm_icache_inval_pou(phys_addr_t pa, u64 size);

/* Barriers: DSB ISHST (make table writes visible to walkers), DSB ISH, ISB. */
void hvmm_dsb_ishst(void);
void hvmm_dsb_ish(void);
void hvmm_isb(void);

/*
 * Zeroes @nr_pages whole pages from the page-aligned @va: the scrub of
 * every freed block and retyped page. A hypervisor clears pages with its
 * fastest primitive (DC ZVA on arm64, as the kernel's clear_page()); mm/
 * never relies on anything but the zeros.
 */
void hvmm_clear_pages(void *va, u64 nr_pages);

/* Spin-wait hint (YIELD / PAUSE). */
void hvmm_cpu_relax(void);

/*
 * Fatal error in mm/: a broken invariant or a misuse that cannot be reported
 * with a return code. Never returns.
 */
_Noreturn void hvmm_panic(const char *file, u32 line, const char *what);

/*
 * Non-fatal error in mm/ (HVMM_WARN_ON): a condition that should not occur,
 * which mm/ backs out of with an error code. Returns; the platform reports it.
 */
void hvmm_warn(const char *file, u32 line, const char *what);

/*
 * Optional trace hook: production builds may record the same events the
 * simulator replays. The platform sets bit (1 << ev) of hvmm_trace_wanted
 * for each event it records and emits them in hvmm_trace_emit(); mm/ calls
 * hvmm_trace(), which tests the bit first, as the kernel's tracepoints sit
 * behind a static key: an event nobody records costs a load and a branch,
 * not a call with five arguments (the buddy emits two per alloc+free pair).
 */
enum hvmm_trace_event {
	HVMM_TRACE_PAGE_ALLOC,		/* a = pa, b = order */
	HVMM_TRACE_PAGE_FREE,		/* a = pa, b = order */
	HVMM_TRACE_S2_MAP,		/* a = vmid, b = ipa, c = pa, d = size */
	HVMM_TRACE_S2_UNMAP,		/* a = vmid, b = ipa, c = size */
	HVMM_TRACE_OWNERSHIP,		/* a = pa, b = pages, c = owner, d = state */
};
extern u32 hvmm_trace_wanted;
void hvmm_trace_emit(enum hvmm_trace_event ev, u64 a, u64 b, u64 c, u64 d);

static inline void hvmm_trace(enum hvmm_trace_event ev, u64 a, u64 b, u64 c, u64 d)
{
	/*
	 * A plain read, folded into the test: the platform changes the set
	 * only while no CPU runs mm/ (between runs, as a static key is
	 * patched), never inside one.
	 */
	if (hvmm_unlikely(hvmm_trace_wanted & (1U << ev)))
		hvmm_trace_emit(ev, a, b, c, d);
}

#endif /* HVMM_PLATFORM_H */
