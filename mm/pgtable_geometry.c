// SPDX-License-Identifier: MIT
/*
 * Stage-2 translation geometry: which start levels and root concatenations
 * an input-address size allows (the Arm ARM's VTCR_EL2.SL0 and T0SZ rules,
 * with up to 16 concatenated tables at the initial stage-2 lookup level).
 * It follows from the architecture alone, not from how tables are changed,
 * so every stage-2 implementation behind hvmm/pgtable.h (mm/pgtable.c, or
 * a hosted one such as KVM's) shares it.
 */
#include <hvmm/pgtable.h>

u32 hvmm_pgtable_nr_roots(u32 ia_bits, u32 start_level)
{
	u32 shift, extra;

	if (ia_bits < HVMM_S2_MIN_IA_BITS || ia_bits > HVMM_S2_MAX_IA_BITS ||
	    start_level > HVMM_S2_LAST_LEVEL)
		return 0;
	shift = hvmm_s2_level_shift(start_level);
	/* The start level must resolve at least one address bit ... */
	if (ia_bits <= shift)
		return 0;
	if (ia_bits <= shift + 9)
		return 1;
	/* ... and at most 16 tables may be concatenated. */
	extra = ia_bits - shift - 9;
	return extra <= 4 ? 1u << extra : 0;
}

int hvmm_pgtable_default_start_level(u32 ia_bits)
{
	int level;

	for (level = HVMM_S2_LAST_LEVEL; level >= 0; level--)
		if (hvmm_pgtable_nr_roots(ia_bits, (u32)level))
			return level;
	return -1;
}
