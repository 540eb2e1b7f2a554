// SPDX-License-Identifier: MIT
#include "platform.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <hvmm/memory.h>
#include <hvmm/platform.h>

static struct sim_physmem *cur_pm;
static struct sim_platform_hooks cur_hooks;
static _Atomic unsigned int drop_flushes;
static _Atomic uint64_t nr_flushes;

_Thread_local struct sim_panic_catcher *sim_panic_catcher;

void sim_platform_install(struct sim_physmem *pm, const struct sim_platform_hooks *hooks)
{
	cur_pm = pm;
	/* mm/'s vmemmap is global too: the last machine installed owns it. */
	if (pm && pm->vmemmap)
		hvmm_memory_init(pm->vmemmap, pm->start_pfn, pm->end_pfn);
	if (hooks)
		cur_hooks = *hooks;
	else
		cur_hooks = (struct sim_platform_hooks){ 0 };
	atomic_store(&drop_flushes, 0);
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

void *hvmm_phys_to_virt(phys_addr_t pa)
{
	void *host = cur_pm ? sim_physmem_pa_to_host(cur_pm, pa) : NULL;

	if (!host) {
		static _Thread_local char msg[96];

		snprintf(msg, sizeof(msg), "phys_to_virt of 0x%llx: not backed memory",
			 (unsigned long long)pa);
		hvmm_panic(__FILE__, __LINE__, msg);
	}
	/*
	 * mm/ reaches page contents only through here: what it is given a
	 * pointer to may be written. Objects of several pages that mm/
	 * indexes from one pointer (concatenated stage-2 roots, bitmap
	 * metadata) are marked by the code that sets them up.
	 */
	sim_physmem_mark_dirty(cur_pm, pa >> HVMM_PAGE_SHIFT, 1);
	return host;
}

phys_addr_t hvmm_virt_to_phys(const void *va)
{
	uint64_t pa = cur_pm ? sim_physmem_host_to_pa(cur_pm, va) : UINT64_MAX;

	if (pa == UINT64_MAX) {
		static _Thread_local char msg[96];

		snprintf(msg, sizeof(msg), "virt_to_phys of %p: not in the linear map", va);
		hvmm_panic(__FILE__, __LINE__, msg);
	}
	return pa;
}

void hvmm_tlb_flush_ipa(u16 vmid, u64 ipa, u32 level)
{
	if (!flush_dropped() && cur_hooks.tlb_flush_ipa)
		cur_hooks.tlb_flush_ipa(cur_hooks.ctx, vmid, ipa, level);
}

void hvmm_tlb_flush_range(u16 vmid, u64 ipa, u64 size)
{
	if (!flush_dropped() && cur_hooks.tlb_flush_range)
		cur_hooks.tlb_flush_range(cur_hooks.ctx, vmid, ipa, size);
}

void hvmm_tlb_flush_vmid(u16 vmid)
{
	if (!flush_dropped() && cur_hooks.tlb_flush_vmid)
		cur_hooks.tlb_flush_vmid(cur_hooks.ctx, vmid);
}

void hvmm_dsb_ishst(void)
{
	atomic_thread_fence(memory_order_release);
}

void hvmm_dsb_ish(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}

void hvmm_isb(void)
{
	atomic_signal_fence(memory_order_seq_cst);
}

void hvmm_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield");
#endif
}

void hvmm_trace(enum hvmm_trace_event ev, u64 a, u64 b, u64 c, u64 d)
{
	if (cur_hooks.trace)
		cur_hooks.trace(cur_hooks.ctx, ev, a, b, c, d);
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
