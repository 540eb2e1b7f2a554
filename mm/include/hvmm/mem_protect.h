/* SPDX-License-Identifier: MIT */
/*
 * Page ownership (pKVM mem_protect): who owns each page of RAM, who else
 * may access it, and the transitions between those states, each checked
 * in full before anything changes, so a refused transition leaves every
 * page and every table as it was.
 *
 * State lives in the vmemmap (struct hvmm_page):
 *  owner		HVMM_OWNER_HOST, HVMM_OWNER_HYP or a guest's owner id
 *  host_state	the host's view: OWNED, SHARED_OWNED (the host lent it
 *		to share_count guests), SHARED_BORROWED (a guest lent it
 *		to the host), NOPAGE (the host may not touch it)
 *  type		DATA, PGTABLE, HYP (see hvmm/memory.h)
 * and a guest's view in the software bits of its stage-2 leaves (OWNED,
 * SHARED_OWNED, SHARED_BORROWED).
 *
 * The host stage-2 is an identity map built lazily on host faults; a page
 * the host may not access is absent from it, and the invalid entry names
 * its owner. Only RAM (the ranges given at init, as pKVM's hyp_memory[])
 * can be donated or shared.
 *
 * Locking: the host stage-2 lock (hvmm_host.lock) protects the host
 * table and every page's owner, host_state, share_count, type and flags.
 * Lock order: VM table lock, then host lock, then a VM's lock.
 */
#ifndef HVMM_MEM_PROTECT_H
#define HVMM_MEM_PROTECT_H

#include <hvmm/pgtable.h>
#include <hvmm/spinlock.h>

#define HVMM_OWNER_HOST		0
#define HVMM_OWNER_HYP		1
#define HVMM_OWNER_GUEST(vmid)	((u16)(1 + (vmid)))

enum hvmm_page_state {
	HVMM_PAGE_OWNED = 0,
	HVMM_PAGE_SHARED_OWNED = 1,
	HVMM_PAGE_SHARED_BORROWED = 2,
	HVMM_PAGE_NOPAGE = 3,
};

/* struct hvmm_page.flags */
#define HVMM_PAGE_F_HYP_BOOT	0x1u	/* the hypervisor's own memory: never returned */

#define HVMM_MAX_MEMBLOCKS	16

struct hvmm_memblock {
	phys_addr_t base;
	u64 size;
};

struct hvmm_host {
	hvmm_spinlock_t lock;
	struct hvmm_pgtable pgt;	/* identity map, VMID 0 */
	struct hvmm_memblock ram[HVMM_MAX_MEMBLOCKS];
	u32 nr_ram;
};

extern struct hvmm_host hvmm_host;

#define HVMM_HOST_VMID		0

/*
 * Sets up page ownership: every page of @ram (sorted, disjoint ranges) is
 * the host's but those of @pool, which are the hypervisor's; the host
 * stage-2 (@ia_bits of identity map, tables from @pool) maps nothing yet.
 * Boot time, single-threaded, on zeroed page metadata.
 */
int hvmm_mem_protect_init(struct hvmm_pool *pool, const struct hvmm_memblock *ram,
			  u32 nr_ram, u32 ia_bits);

/* Boot time: [pfn, pfn + nr) is the hypervisor's own (pools): typed HYP, never returned. */
int hvmm_host_reserve_hyp(u64 pfn, u64 nr);

bool hvmm_is_ram(phys_addr_t pa);

/* Host stage-2 fault at @pa: maps the largest block the host may access. */
int hvmm_host_handle_fault(phys_addr_t pa);

int hvmm_host_donate_hyp(u64 pfn, u64 nr);
int hvmm_hyp_donate_host(u64 pfn, u64 nr);

struct hvmm_vm;
int hvmm_host_donate_guest(struct hvmm_vm *vm, u64 ipa, u64 pfn, u64 nr);
int hvmm_host_share_guest(struct hvmm_vm *vm, u64 ipa, u64 pfn, u64 nr, u32 prot);
int hvmm_host_unshare_guest(struct hvmm_vm *vm, u64 ipa, u64 pfn, u64 nr);
int hvmm_guest_share_host(struct hvmm_vm *vm, u64 ipa, u64 nr);
int hvmm_guest_unshare_host(struct hvmm_vm *vm, u64 ipa, u64 nr);

/*
 * The guest's own memory in its stage-2: unmap parks the pages (the guest
 * keeps them, unmapped); map maps parked pages again with @prot, at the
 * IPA they were parked at; protect changes the access of pages the guest
 * owns. Borrowed pages are left alone by none of these: they fail with
 * -HVMM_EPERM.
 */
int hvmm_guest_unmap(struct hvmm_vm *vm, u64 ipa, u64 nr);
int hvmm_guest_map(struct hvmm_vm *vm, u64 ipa, u64 pfn, u64 nr, u32 prot);
int hvmm_guest_protect(struct hvmm_vm *vm, u64 ipa, u64 nr, u32 prot);

/*
 * A guest stage-2 fault at @ipa: a parked page is mapped again (0); an
 * empty IPA returns -HVMM_ENOENT (the host must donate memory there); a
 * mapped IPA returns 0 (spurious: another vCPU got there first).
 */
int hvmm_guest_handle_fault(struct hvmm_vm *vm, u64 ipa);

/*
 * VM teardown: every page the guest owns is scrubbed and returned to the
 * host, every borrowed page released; the guest table is destroyed. Takes
 * no memory, so it cannot fail. Called by vm.c with the host lock and the
 * VM's lock held, once no vCPU of the VM runs.
 */
void hvmm_reclaim_guest_pages(struct hvmm_vm *vm);

#endif /* HVMM_MEM_PROTECT_H */
