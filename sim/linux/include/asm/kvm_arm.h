/* SPDX-License-Identifier: MIT */
/*
 * hvmm's Linux compat layer: VTCR_EL2 fields the stage-2 code reads
 * (Arm ARM D19.2, VTCR_EL2), for a 4 KiB granule, and the stage-2 memory
 * attribute encodings (Arm ARM D8.5.5, stage 2 MemAttr without FEAT_S2FWB).
 */
#ifndef HVMM_COMPAT_ASM_KVM_ARM_H
#define HVMM_COMPAT_ASM_KVM_ARM_H

#include <linux/bits.h>

#define VTCR_EL2_T0SZ_MASK		0x3f
#define VTCR_EL2_T0SZ(x)		(64 - (x))
#define VTCR_EL2_SL0_SHIFT		6
#define VTCR_EL2_SL0_MASK		(3 << VTCR_EL2_SL0_SHIFT)
#define VTCR_EL2_IRGN0_WBWA		(1 << 8)
#define VTCR_EL2_ORGN0_WBWA		(1 << 10)
#define VTCR_EL2_SH0_INNER		(3 << 12)
#define VTCR_EL2_TG0_4K			(0 << 14)
#define VTCR_EL2_PS_SHIFT		16
#define VTCR_EL2_VS_SHIFT		19
#define VTCR_EL2_VS_8BIT		(0 << VTCR_EL2_VS_SHIFT)
#define VTCR_EL2_VS_16BIT		(1 << VTCR_EL2_VS_SHIFT)
#define VTCR_EL2_HA			(1 << 21)
#define VTCR_EL2_RES1			(1U << 31)
#define VTCR_EL2_TGRAN			VTCR_EL2_TG0_4K
/* 4 KiB granule: SL0 = 0 starts at level 2, 1 at level 1, 2 at level 0. */
#define VTCR_EL2_TGRAN_SL0_BASE		2UL
#define VTCR_EL2_LVLS_TO_SL0(levels)	((((levels) - (4 - VTCR_EL2_TGRAN_SL0_BASE)) & 3) << VTCR_EL2_SL0_SHIFT)
#define VTCR_EL2_SL0_TO_LVLS(sl0)	((sl0) + 4 - VTCR_EL2_TGRAN_SL0_BASE)
#define VTCR_EL2_LVLS(vtcr)		VTCR_EL2_SL0_TO_LVLS(((vtcr) & VTCR_EL2_SL0_MASK) >> VTCR_EL2_SL0_SHIFT)
#define VTCR_EL2_COMMON_BITS		(VTCR_EL2_SH0_INNER | VTCR_EL2_ORGN0_WBWA | \
					 VTCR_EL2_IRGN0_WBWA | VTCR_EL2_RES1)
#define VTCR_EL2_FLAGS			(VTCR_EL2_COMMON_BITS | VTCR_EL2_TGRAN)
#define VTCR_EL2_IPA(vtcr)		(64 - ((vtcr) & VTCR_EL2_T0SZ_MASK))

/* Stage-2 MemAttr[3:0] (no FWB): Normal inner/outer write-back, Device-nGnRE. */
#define MT_S2_NORMAL			0xf
#define MT_S2_DEVICE_nGnRE		0x1
/* FEAT_S2FWB encodings (unused: the simulated CPU does not have FWB). */
#define MT_S2_FWB_NORMAL		6
#define MT_S2_FWB_DEVICE_nGnRE		1
/* The MemAttr field of a stage-2 descriptor: bits [5:2]. */
#define PTE_S2_MEMATTR(t)		((u64)(t) << 2)
#define PAGE_S2_MEMATTR(attr, has_fwb)					\
	({								\
		u64 __val;						\
		if (has_fwb)						\
			__val = PTE_S2_MEMATTR(MT_S2_FWB_##attr);	\
		else							\
			__val = PTE_S2_MEMATTR(MT_S2_##attr);		\
		__val;							\
	})

#endif
