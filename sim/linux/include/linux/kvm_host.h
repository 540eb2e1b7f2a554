/* SPDX-License-Identifier: MIT */
/*
 * hvmm's Linux compat layer: the small part of linux/kvm_host.h (and the
 * arm64 headers it pulls in) that KVM's stage-2 page-table code uses.
 *
 * CPU features are those of the simulated CPU: 4 KiB granule, 48-bit
 * physical addresses, 16-bit VMIDs, no FEAT_S2FWB, no errata. TLB
 * maintenance requested through kvm_call_hyp() goes to mm/'s platform
 * interface (hvmm_tlb_flush_ipa / hvmm_tlb_flush_vmid), the very functions
 * mm/'s own stage-2 code calls, so the simulator's TLB model and any
 * oracle watching those calls judge the kernel's code the same way.
 */
#ifndef HVMM_COMPAT_LINUX_KVM_HOST_H
#define HVMM_COMPAT_LINUX_KVM_HOST_H

#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <asm/page.h>
#include <asm/barrier.h>
#include <asm/kvm_arm.h>
#include <linux/pgtable.h>

/* Stage-1 MAIR_EL2 indices the hyp's own tables use (asm/memory.h). */
#define MT_NORMAL		0
#define MT_NORMAL_TAGGED	1
#define MT_NORMAL_NC		2
#define MT_DEVICE_nGnRnE	3
#define MT_DEVICE_nGnRE		4

struct kvm_pgtable;

/* The VM's stage-2 configuration, as the page-table code reads it (mmu->arch->vtcr). */
struct kvm_arch {
	u64 vtcr;
};

/* One stage-2 MMU: its tables, its VMID (tagging TLB entries), its VM. */
struct kvm_s2_mmu {
	u16 vmid;
	struct kvm_pgtable *pgt;
	struct kvm_arch *arch;
};

/* At EL2, kvm_call_hyp() is a direct call. */
#define kvm_call_hyp(f, ...)	f(__VA_ARGS__)

/* TLBI IPAS2E1IS + DSB + VMALLE1IS as the kernel's __kvm_tlb_flush_vmid_ipa: done when it returns. */
void __kvm_tlb_flush_vmid_ipa(struct kvm_s2_mmu *mmu, phys_addr_t ipa, int level);
/* TLBI VMALLS12E1IS + DSB: every entry of the VMID. */
void __kvm_tlb_flush_vmid(struct kvm_s2_mmu *mmu);

/*
 * Hyp stage-1 TLB maintenance (kvm_pgtable_hyp_unmap): the simulator has
 * no hyp stage-1 TLB, so these end the operation through a BUG rather
 * than pretend to have invalidated anything.
 */
void sim_lkvm_hyp_tlbi(u64 addr, u32 level);
#define __TLBI_VADDR(addr, asid)	((u64)(addr))
#define __tlbi_level(op, addr, level)	sim_lkvm_hyp_tlbi((addr), (level))
#define __tlbi_sync_s1ish_hyp()		hvmm_dsb_ish()

/* ID_AA64MMFR0_EL1.PARange (Arm ARM D19.2.64): 48-bit PAs, no FEAT_LPA. */
#define ID_AA64MMFR0_EL1_PARANGE_SHIFT	0
#define ID_AA64MMFR0_EL1_PARANGE_48	0x5
#define ID_AA64MMFR0_EL1_PARANGE_MAX	ID_AA64MMFR0_EL1_PARANGE_48

static inline unsigned int id_aa64mmfr0_parange_to_phys_shift(int parange)
{
	static const unsigned char shift[] = { 32, 36, 40, 42, 44, 48, 52 };

	return parange >= 0 && parange < (int)ARRAY_SIZE(shift) ? shift[parange] : 48;
}

static inline unsigned int cpuid_feature_extract_unsigned_field(u64 reg, int shift)
{
	return (unsigned int)(reg >> shift) & 0xf;
}

/* ID_AA64MMFR1_EL1.VMIDBits: 2 means 16 bits. */
static inline unsigned int get_vmid_bits(u64 mmfr1)
{
	return cpuid_feature_extract_unsigned_field(mmfr1, 4) == 2 ? 16 : 8;
}

/* CPU capabilities: the simulated CPU has none of the optional ones. */
#define ARM64_HAS_STAGE2_FWB				1
#define ARM64_WORKAROUND_AMPERE_AC03_CPU_38		2
#define cpus_have_const_cap(cap)	((void)(cap), false)
#define cpus_have_final_cap(cap)	((void)(cap), false)

#endif
