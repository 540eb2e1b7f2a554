/* SPDX-License-Identifier: MIT */
/*
 * hvmm's Linux compat layer: the part of asm/kvm_hyp.h that EL2 memory
 * code uses (the hyp linear map), with the kernel helpers it expects to be
 * in scope.
 */
#ifndef HVMM_COMPAT_ASM_KVM_HYP_H
#define HVMM_COMPAT_ASM_KVM_HYP_H

#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/page.h>
#include <asm/kvm_mmu.h>

#endif
