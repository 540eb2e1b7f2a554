// SPDX-License-Identifier: MIT
/*
 * Stage-2 leaf attributes: hvmm's protection bits and a page-state
 * software field encoded as a stage-2 block or page descriptor's upper and
 * lower attributes (Arm ARM D8.3, "Translation table descriptor formats":
 * MemAttr, S2AP, SH, AF, XN, and the bits reserved for software use).
 * The encoding follows from the architecture, not from how tables are
 * changed, so every stage-2 implementation behind hvmm/pgtable.h
 * (mm/pgtable.c, or a hosted one such as KVM's) shares it.
 */
#include <hvmm/pgtable.h>

u64 hvmm_pgtable_leaf_attrs(u32 prot, u32 sw)
{
	u64 attrs = HVMM_S2_PTE_AF | (HVMM_S2_SH_INNER << HVMM_S2_PTE_SH_SHIFT);

	if (prot & HVMM_PROT_DEVICE)
		attrs |= HVMM_S2_MEMATTR_DEVICE_nGnRE << HVMM_S2_PTE_MEMATTR_SHIFT;
	else
		attrs |= HVMM_S2_MEMATTR_NORMAL_WB << HVMM_S2_PTE_MEMATTR_SHIFT;
	if (prot & HVMM_PROT_R)
		attrs |= HVMM_S2_PTE_S2AP_R;
	if (prot & HVMM_PROT_W)
		attrs |= HVMM_S2_PTE_S2AP_W;
	if (!(prot & HVMM_PROT_X) || (prot & HVMM_PROT_DEVICE))
		attrs |= HVMM_S2_XN_ALL << HVMM_S2_PTE_XN_SHIFT;
	attrs |= ((u64)sw << HVMM_S2_PTE_SW_SHIFT) & HVMM_S2_PTE_SW_MASK;
	return attrs;
}
