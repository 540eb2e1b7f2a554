/* SPDX-License-Identifier: MIT */
/* hvmm's Linux compat layer: 4 KiB pages, as mm/ and the simulator use. */
#ifndef HVMM_COMPAT_ASM_PAGE_H
#define HVMM_COMPAT_ASM_PAGE_H

#include <linux/const.h>
#include <linux/types.h>

/*
 * The kernel's Kconfig choice for that granule: asm/kvm_pgtable.h allows
 * 1 GiB blocks (KVM_PGTABLE_MIN_BLOCK_LEVEL 1) only under it, as the
 * architecture does for 4 KiB pages.
 */
#define CONFIG_ARM64_4K_PAGES	1

#define PAGE_SHIFT		12
#define PAGE_SIZE		(_AC(1, UL) << PAGE_SHIFT)
#define PAGE_MASK		(~(PAGE_SIZE - 1))

/* The buddy allocator's order count for 4 KiB pages (CONFIG_ARCH_FORCE_MAX_ORDER default, 6.1). */
#define MAX_ORDER		11

/* get_order(): the smallest order whose block holds @size bytes (asm-generic/getorder.h). */
static inline int get_order(unsigned long size)
{
	if (size <= PAGE_SIZE)
		return 0;
	return 64 - __builtin_clzl((size - 1) >> PAGE_SHIFT);
}

#endif
