/* SPDX-License-Identifier: MIT */
/*
 * KVM's stage-2 page-table code (arch/arm64/kvm/hyp/pgtable.c), as the
 * simulator calls it. Compiled with the Linux compat headers next to the
 * kernel's pgtable.c (sim/linux/kvm_glue.c); plain C types only here.
 *
 * Table pages come from an mm/ buddy pool (struct hvmm_pool) through
 * KVM's mm_ops callbacks, with KVM's refcounting of table pages on the
 * pool's page refcounts, as pKVM backs them with its hyp_pool. The pool is
 * named per table and installed before each call (the callbacks have no
 * context argument of their own).
 */
#ifndef SIM_LINUX_KVM_GLUE_H
#define SIM_LINUX_KVM_GLUE_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of a table's state (struct kvm_pgtable, its MMU and VM config). */
size_t sim_lkvm_state_bytes(void);

/* A stage-2 table for @ia_bits at @start_level tagged @vmid. 0 or -HVMM_E*. */
int sim_lkvm_init(void *state, void *pool, unsigned int ia_bits, unsigned int start_level,
		  uint16_t vmid);
void sim_lkvm_destroy(void *state);

/* kvm_pgtable_stage2_map/unmap with HVMM_PROT_* permissions; results as -HVMM_E*. */
int sim_lkvm_map(void *state, uint64_t ipa, uint64_t size, uint64_t pa, uint32_t prot);
int sim_lkvm_unmap(void *state, uint64_t ipa, uint64_t size);
/* kvm_pgtable_stage2_relax_perms (adds permissions at the leaf of @ipa) and _wrprotect. */
int sim_lkvm_relax_perms(void *state, uint64_t ipa, uint32_t prot);
int sim_lkvm_wrprotect(void *state, uint64_t ipa, uint64_t size);
/*
 * __kvm_tlb_flush_vmid, as KVM's callers of _wrprotect invalidate after it
 * (kvm_mmu_wp_memory_region: kvm_flush_remote_tlbs).
 */
void sim_lkvm_flush_vmid(void *state);
/* kvm_pgtable_get_leaf: the entry translating @ipa and its level. */
int sim_lkvm_get_leaf(void *state, uint64_t ipa, uint64_t *pte, uint32_t *level);
/* The HVMM_PROT_* permissions of a valid leaf (kvm_pgtable_stage2_pte_prot). */
uint32_t sim_lkvm_pte_prot(uint64_t pte);
/* The output address of a valid leaf, and the bytes one entry of @level maps. */
uint64_t sim_lkvm_pte_pa(uint64_t pte);
uint64_t sim_lkvm_granule(uint32_t level);
int sim_lkvm_pte_valid(uint64_t pte);

uint64_t sim_lkvm_root_pa(void *state);
unsigned int sim_lkvm_ia_bits(void *state);
unsigned int sim_lkvm_start_level(void *state);
uint16_t sim_lkvm_vmid(void *state);
/* Cache maintenance KVM asked for (no data cache in the simulator: counted only). */
uint64_t sim_lkvm_cmos(void *state);

#endif /* SIM_LINUX_KVM_GLUE_H */
