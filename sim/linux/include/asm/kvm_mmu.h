/* SPDX-License-Identifier: MIT */
/*
 * hvmm's Linux compat layer: what the hyp's memory.h takes from
 * asm/kvm_mmu.h, the hyp linear map. The simulator sets the offset when
 * it installs a pool (sim/linux/pkvm_glue.c): hyp VA = PA - offset, one
 * subtraction, as at EL2.
 */
#ifndef HVMM_COMPAT_ASM_KVM_MMU_H
#define HVMM_COMPAT_ASM_KVM_MMU_H

#include <linux/types.h>

extern s64 hyp_physvirt_offset;
#define __hyp_pa(x)	(((phys_addr_t)(x)) + hyp_physvirt_offset)

#endif
