// SPDX-License-Identifier: MIT
/*
 * The simulator's side of KVM's stage-2 page-table code: the mm_ops
 * callbacks on simulated memory, the VM's VTCR, and the TLB maintenance
 * KVM requests through kvm_call_hyp(), all on mm/'s platform interface.
 */
#include <linux/bitfield.h>
#include <asm/kvm_pgtable.h>

#include <hvmm/buddy.h>
#include <hvmm/memory.h>
#include <hvmm/pgtable.h>	/* HVMM_PROT_* */
#include <hvmm/platform.h>

#include "kvm_glue.h"

struct lkvm_state {
	struct kvm_pgtable pgt;
	struct kvm_s2_mmu mmu;
	struct kvm_arch arch;
	struct hvmm_pool *pool;
	uint64_t cmos;
};

/* The table the callbacks serve: set before every call into KVM's code. */
static _Thread_local struct lkvm_state *cur;

static void *page_of(void *addr)
{
	return (void *)((uintptr_t)addr & ~(uintptr_t)(PAGE_SIZE - 1));
}

/* @memcache is the pool the caller named, as pKVM's host_s2_zalloc_page() takes its hyp_pool. */
static void *lkvm_zalloc_page(void *memcache)
{
	return hvmm_alloc_pages(memcache, 0);
}

/* As pKVM's host_s2_zalloc_pages_exact: one block, split into pages refcounted one by one. */
static void *lkvm_zalloc_pages_exact(size_t size)
{
	void *addr = hvmm_alloc_pages(cur->pool, (u8)get_order(size));

	if (addr)
		hvmm_split_page(cur->pool, addr);
	return addr;
}

static void lkvm_free_pages_exact(void *addr, size_t size)
{
	for (size_t off = 0; off < PAGE_ALIGN(size); off += PAGE_SIZE)
		hvmm_put_page(cur->pool, (char *)addr + off);
}

static void lkvm_get_page(void *addr)
{
	hvmm_get_page(cur->pool, page_of(addr));
}

static void lkvm_put_page(void *addr)
{
	hvmm_put_page(cur->pool, page_of(addr));
}

static int lkvm_page_count(void *addr)
{
	return hvmm_virt_to_page(page_of(addr))->refcount;
}

static void *lkvm_phys_to_virt(phys_addr_t phys)
{
	return hvmm_phys_to_virt(phys);
}

static phys_addr_t lkvm_virt_to_phys(void *addr)
{
	return hvmm_virt_to_phys(addr);
}

static void lkvm_dcache_clean_inval_poc(void *addr, size_t size)
{
	cur->cmos++;
}

static void lkvm_icache_inval_pou(void *addr, size_t size)
{
	cur->cmos++;
}

static struct kvm_pgtable_mm_ops lkvm_mm_ops = {
	.zalloc_page		= lkvm_zalloc_page,
	.zalloc_pages_exact	= lkvm_zalloc_pages_exact,
	.free_pages_exact	= lkvm_free_pages_exact,
	.get_page		= lkvm_get_page,
	.put_page		= lkvm_put_page,
	.page_count		= lkvm_page_count,
	.phys_to_virt		= lkvm_phys_to_virt,
	.virt_to_phys		= lkvm_virt_to_phys,
	.dcache_clean_inval_poc	= lkvm_dcache_clean_inval_poc,
	.icache_inval_pou	= lkvm_icache_inval_pou,
};

/*
 * kvm_call_hyp() targets: the hyp's TLB maintenance (arch/arm64/kvm/hyp/
 * nvhe/tlb.c), done through mm/'s platform calls. As there, a DSB ISHST
 * first makes the descriptor writes before it visible to the walkers the
 * TLBI must reach; the platform's TLBI waits for completion (its DSB ISH).
 * @level is KVM's TTL hint: 0 for "no level information" (a table entry,
 * or a caller that does not know), which is also the platform's.
 * The VMALLE1IS that follows at EL2 invalidates the guest's stage 1,
 * which the simulator does not model.
 */
void __kvm_tlb_flush_vmid_ipa(struct kvm_s2_mmu *mmu, phys_addr_t ipa, int level)
{
	hvmm_dsb_ishst();
	hvmm_tlb_flush_ipa(mmu->vmid, ipa, (u32)level);
	hvmm_isb();
}

void __kvm_tlb_flush_vmid(struct kvm_s2_mmu *mmu)
{
	hvmm_dsb_ishst();
	hvmm_tlb_flush_vmid(mmu->vmid);
	hvmm_isb();
}

void sim_lkvm_hyp_tlbi(u64 addr, u32 level)
{
	hvmm_panic(__FILE__, __LINE__, "hyp stage-1 TLB maintenance: the simulator has no hyp stage-1");
}

static int to_hvmm_err(int ret)
{
	switch (ret) {
	case 0: return 0;
	case -ENOMEM: return -HVMM_ENOMEM;
	case -E2BIG:
	case -ERANGE: return -HVMM_ERANGE;
	case -EEXIST: return -HVMM_EEXIST;
	case -ENOENT: return -HVMM_ENOENT;
	case -EPERM: return -HVMM_EPERM;
	default: return -HVMM_EINVAL;
	}
}

static enum kvm_pgtable_prot to_kvm_prot(u32 prot)
{
	enum kvm_pgtable_prot p = 0;

	if (prot & HVMM_PROT_R)
		p |= KVM_PGTABLE_PROT_R;
	if (prot & HVMM_PROT_W)
		p |= KVM_PGTABLE_PROT_W;
	if (prot & HVMM_PROT_X)
		p |= KVM_PGTABLE_PROT_X;
	if (prot & HVMM_PROT_DEVICE)
		p |= KVM_PGTABLE_PROT_DEVICE;
	return p;
}

size_t sim_lkvm_state_bytes(void)
{
	return sizeof(struct lkvm_state);
}

int sim_lkvm_init(void *state, void *pool, unsigned int ia_bits, unsigned int start_level,
		  uint16_t vmid)
{
	struct lkvm_state *s = state;

	if (start_level > VTCR_EL2_TGRAN_SL0_BASE || ia_bits < 25 || ia_bits > 48)
		return -HVMM_EINVAL;
	s->pool = pool;
	/* VTCR_EL2: T0SZ from the input size, SL0 from the start level (Arm ARM D19.2). */
	s->arch.vtcr = VTCR_EL2_FLAGS | VTCR_EL2_T0SZ(ia_bits) |
		       ((VTCR_EL2_TGRAN_SL0_BASE - start_level) << VTCR_EL2_SL0_SHIFT) |
		       ((u64)ID_AA64MMFR0_EL1_PARANGE_MAX << VTCR_EL2_PS_SHIFT) | VTCR_EL2_VS_16BIT;
	s->mmu = (struct kvm_s2_mmu){ .vmid = vmid, .pgt = &s->pgt, .arch = &s->arch };
	cur = s;
	return to_hvmm_err(kvm_pgtable_stage2_init(&s->pgt, &s->mmu, &lkvm_mm_ops));
}

void sim_lkvm_destroy(void *state)
{
	cur = state;
	kvm_pgtable_stage2_destroy(&cur->pgt);
}

int sim_lkvm_map(void *state, uint64_t ipa, uint64_t size, uint64_t pa, uint32_t prot)
{
	int ret;

	cur = state;
	ret = kvm_pgtable_stage2_map(&cur->pgt, ipa, size, pa, to_kvm_prot(prot), cur->pool);
	/* -EAGAIN: the entry already says exactly this (KVM's "nothing to do"). */
	return ret == -EAGAIN ? 0 : to_hvmm_err(ret);
}

int sim_lkvm_unmap(void *state, uint64_t ipa, uint64_t size)
{
	cur = state;
	return to_hvmm_err(kvm_pgtable_stage2_unmap(&cur->pgt, ipa, size));
}

int sim_lkvm_relax_perms(void *state, uint64_t ipa, uint32_t prot)
{
	cur = state;
	return to_hvmm_err(kvm_pgtable_stage2_relax_perms(&cur->pgt, ipa, to_kvm_prot(prot)));
}

int sim_lkvm_wrprotect(void *state, uint64_t ipa, uint64_t size)
{
	cur = state;
	return to_hvmm_err(kvm_pgtable_stage2_wrprotect(&cur->pgt, ipa, size));
}

void sim_lkvm_flush_vmid(void *state)
{
	cur = state;
	__kvm_tlb_flush_vmid(&cur->mmu);
}

int sim_lkvm_get_leaf(void *state, uint64_t ipa, uint64_t *pte, uint32_t *level)
{
	kvm_pte_t p = 0;
	int ret;

	cur = state;
	ret = kvm_pgtable_get_leaf(&cur->pgt, ipa, &p, level);
	*pte = p;
	return to_hvmm_err(ret);
}

uint32_t sim_lkvm_pte_prot(uint64_t pte)
{
	enum kvm_pgtable_prot p = kvm_pgtable_stage2_pte_prot(pte);
	uint32_t prot = 0;

	if (p & KVM_PGTABLE_PROT_R)
		prot |= HVMM_PROT_R;
	if (p & KVM_PGTABLE_PROT_W)
		prot |= HVMM_PROT_W;
	if (p & KVM_PGTABLE_PROT_X)
		prot |= HVMM_PROT_X;
	/* The MemAttr field tells Device from Normal (no FWB: MT_S2_DEVICE_nGnRE). */
	if (((pte >> 2) & 0xf) == MT_S2_DEVICE_nGnRE)
		prot |= HVMM_PROT_DEVICE;
	return prot;
}

uint64_t sim_lkvm_pte_pa(uint64_t pte)
{
	return kvm_pte_to_phys(pte);
}

uint64_t sim_lkvm_granule(uint32_t level)
{
	return kvm_granule_size(level);
}

int sim_lkvm_pte_valid(uint64_t pte)
{
	return kvm_pte_valid(pte);
}

uint64_t sim_lkvm_root_pa(void *state)
{
	return hvmm_virt_to_phys(((struct lkvm_state *)state)->pgt.pgd);
}

unsigned int sim_lkvm_ia_bits(void *state)
{
	return ((struct lkvm_state *)state)->pgt.ia_bits;
}

unsigned int sim_lkvm_start_level(void *state)
{
	return ((struct lkvm_state *)state)->pgt.start_level;
}

uint16_t sim_lkvm_vmid(void *state)
{
	return ((struct lkvm_state *)state)->mmu.vmid;
}

uint64_t sim_lkvm_cmos(void *state)
{
	return ((struct lkvm_state *)state)->cmos;
}

/* linux/bitfield.h's compile-time checks, where the compiler could not decide them (compiler.h). */
void __field_overflow(void);
void __field_overflow(void)
{
	hvmm_panic(__FILE__, __LINE__, "linux/bitfield.h: value doesn't fit into mask");
}

void __bad_mask(void);
void __bad_mask(void)
{
	hvmm_panic(__FILE__, __LINE__, "linux/bitfield.h: bad bitfield mask");
}
