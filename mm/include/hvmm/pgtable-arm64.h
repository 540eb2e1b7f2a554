/* SPDX-License-Identifier: MIT */
/*
 * Armv8-A VMSAv8-64 stage-2 descriptor format, 4 KiB granule (Arm ARM
 * D8.3 "Translation table descriptor formats").
 *
 *  bit  0      valid
 *  bit  1      levels 0-2: 1 = table, 0 = block; level 3: must be 1 (page)
 *  bits 5:2    MemAttr (stage-2 memory attributes)
 *  bits 7:6    S2AP: bit 6 read allowed, bit 7 write allowed
 *  bits 9:8    SH shareability
 *  bit  10     AF access flag
 *  bits 47:12  output address (next-level table, block or page)
 *  bits 54:53  XN[1:0]
 *  bits 58:55  reserved for software: the page state (mem_protect)
 *
 * An invalid descriptor is ignored by the hardware except for bit 0; mm/
 * keeps annotations there: the owner of pages that left the host stage-2
 * (bits 17:2), as pKVM does.
 */
#ifndef HVMM_PGTABLE_ARM64_H
#define HVMM_PGTABLE_ARM64_H

#include <hvmm/types.h>

#define HVMM_BIT(n)		(1ULL << (n))
#define HVMM_GENMASK(h, l)	((~0ULL >> (63 - (h))) & ~((1ULL << (l)) - 1))

#define HVMM_S2_PTE_VALID		HVMM_BIT(0)
#define HVMM_S2_PTE_TABLE		HVMM_BIT(1)	/* table at levels 0-2, page at level 3 */
#define HVMM_S2_PTE_MEMATTR_SHIFT	2
#define HVMM_S2_PTE_MEMATTR_MASK	HVMM_GENMASK(5, 2)
#define HVMM_S2_MEMATTR_DEVICE_nGnRE	0x1ULL		/* Device-nGnRE */
#define HVMM_S2_MEMATTR_NORMAL_WB	0xfULL		/* Normal, outer and inner write-back */
#define HVMM_S2_PTE_S2AP_R		HVMM_BIT(6)
#define HVMM_S2_PTE_S2AP_W		HVMM_BIT(7)
#define HVMM_S2_PTE_SH_SHIFT		8
#define HVMM_S2_PTE_SH_MASK		HVMM_GENMASK(9, 8)
#define HVMM_S2_SH_INNER		0x3ULL
#define HVMM_S2_PTE_AF			HVMM_BIT(10)
#define HVMM_S2_PTE_OA_MASK		HVMM_GENMASK(47, 12)
#define HVMM_S2_PTE_XN_SHIFT		53
#define HVMM_S2_PTE_XN_MASK		HVMM_GENMASK(54, 53)
#define HVMM_S2_XN_NONE			0x0ULL		/* executable at EL1 and EL0 */
#define HVMM_S2_XN_ALL			0x2ULL		/* execute-never at EL1 and EL0 */
#define HVMM_S2_PTE_SW_SHIFT		55
#define HVMM_S2_PTE_SW_MASK		HVMM_GENMASK(58, 55)

/* Leaf attribute bits mm/ sets or changes (everything but type and address). */
#define HVMM_S2_PTE_ATTR_MASK						\
	(HVMM_S2_PTE_MEMATTR_MASK | HVMM_S2_PTE_S2AP_R | HVMM_S2_PTE_S2AP_W |	\
	 HVMM_S2_PTE_SH_MASK | HVMM_S2_PTE_AF | HVMM_S2_PTE_XN_MASK |		\
	 HVMM_S2_PTE_SW_MASK)

/* Invalid-entry annotation: owner id of pages that are not the host's. */
#define HVMM_S2_INVALID_OWNER_SHIFT	2
#define HVMM_S2_INVALID_OWNER_MASK	HVMM_GENMASK(17, 2)

/* Levels of the 4 KiB granule: 0..3, each resolving 9 bits. */
#define HVMM_S2_LEVELS			4
#define HVMM_S2_LAST_LEVEL		3
#define HVMM_S2_PTRS_PER_TABLE		512
#define HVMM_S2_MAX_CONCAT		16	/* concatenated root tables */
#define HVMM_S2_MAX_IA_BITS		48
#define HVMM_S2_MIN_IA_BITS		25

static inline u32 hvmm_s2_level_shift(u32 level)
{
	return HVMM_PAGE_SHIFT + 9 * (HVMM_S2_LAST_LEVEL - level);
}

static inline u64 hvmm_s2_level_size(u32 level)
{
	return 1ULL << hvmm_s2_level_shift(level);
}

static inline bool hvmm_s2_pte_valid(u64 pte)
{
	return pte & HVMM_S2_PTE_VALID;
}

static inline bool hvmm_s2_pte_is_table(u64 pte, u32 level)
{
	return level < HVMM_S2_LAST_LEVEL &&
	       (pte & (HVMM_S2_PTE_VALID | HVMM_S2_PTE_TABLE)) ==
	       (HVMM_S2_PTE_VALID | HVMM_S2_PTE_TABLE);
}

/* Valid block or page. */
static inline bool hvmm_s2_pte_is_leaf(u64 pte, u32 level)
{
	return hvmm_s2_pte_valid(pte) && !hvmm_s2_pte_is_table(pte, level);
}

static inline phys_addr_t hvmm_s2_pte_oa(u64 pte)
{
	return pte & HVMM_S2_PTE_OA_MASK;
}

static inline u32 hvmm_s2_pte_sw(u64 pte)
{
	return (u32)((pte & HVMM_S2_PTE_SW_MASK) >> HVMM_S2_PTE_SW_SHIFT);
}

static inline u16 hvmm_s2_pte_owner(u64 pte)
{
	return (u16)((pte & HVMM_S2_INVALID_OWNER_MASK) >> HVMM_S2_INVALID_OWNER_SHIFT);
}

#endif /* HVMM_PGTABLE_ARM64_H */
