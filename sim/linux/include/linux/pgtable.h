/* SPDX-License-Identifier: MIT */
/*
 * hvmm's Linux compat layer: what asm/stage2_pgtable.h takes from the
 * arm64 page-table headers: 4 KiB granule, 48-bit input addresses at most
 * (Arm ARM D8.2, VMSAv8-64 translation table format, 4KB granule).
 */
#ifndef HVMM_COMPAT_LINUX_PGTABLE_H
#define HVMM_COMPAT_LINUX_PGTABLE_H

#include <asm/page.h>
#include <asm/kvm_arm.h>

/* Levels to translate @va_bits with 4 KiB pages: each level resolves 9 bits. */
#define ARM64_HW_PGTABLE_LEVELS(va_bits)	(((va_bits) - 4) / (PAGE_SHIFT - 3))
/* Bits of input address below the entries of level @n. */
#define ARM64_HW_PGTABLE_LEVEL_SHIFT(n)		((PAGE_SHIFT - 3) * (4 - (n)) + 3)
#define PTRS_PER_PTE				(1 << (PAGE_SHIFT - 3))
#define PAGE_ALIGN(addr)			ALIGN(addr, PAGE_SIZE)

#endif
