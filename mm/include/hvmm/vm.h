/* SPDX-License-Identifier: MIT */
/*
 * VMs: a VMID, a stage-2 page table (with its page cache) and vCPUs.
 *
 * VMIDs 1..HVMM_MAX_VMS are handed out by hvmm_vm_create; VMID 0 is the
 * host's. A VM is destroyed only while none of its vCPUs runs.
 *
 * Locking: the VM table lock protects allocation of VMIDs and slots and
 * each VM's created flag and refcount; vm->lock protects the VM's stage-2
 * (its table asserts it). Lock order as in mem_protect.h.
 *
 * Lifetime: a VM pointer from hvmm_vm_create() belongs to the creator,
 * which destroys the VM. Anyone else reaches a VM by VMID through
 * hvmm_vm_get(), which pins it until hvmm_vm_put(): a pinned VM cannot be
 * destroyed (-HVMM_EBUSY), so its slot is not reused under the holder.
 */
#ifndef HVMM_VM_H
#define HVMM_VM_H

#include <hvmm/mem_protect.h>

#define HVMM_MAX_VMS		255
#define HVMM_MAX_VCPUS		64

struct hvmm_vm {
	hvmm_spinlock_t lock;
	struct hvmm_pgtable pgt;
	u16 vmid;
	u16 owner_id;		/* HVMM_OWNER_GUEST(vmid) */
	u32 nr_vcpus;
	u32 refcount;		/* hvmm_vm_get() references held */
	bool created;
};

/*
 * Initialises the VM table; VMs take their table pages from @pool and have
 * @ia_bits of IPA space translated from @start_level. Boot time.
 */
int hvmm_vms_init(struct hvmm_pool *pool, u32 ia_bits, u32 start_level);

/* Creates a VM; *vmp receives it. -HVMM_EINVAL, -HVMM_ENOMEM, -HVMM_EBUSY (no VMID). */
int hvmm_vm_create(u32 nr_vcpus, struct hvmm_vm **vmp);

/*
 * Reclaims everything, frees tables and cache, flushes the VMID and
 * releases it. Needs no memory, so it never fails for a created VM that
 * nobody holds; -HVMM_EBUSY while hvmm_vm_get() references are held,
 * -HVMM_ENOENT (and a warning) for a VM that is not created.
 */
int hvmm_vm_destroy(struct hvmm_vm *vm);

/*
 * The VM with @vmid, pinned (see Lifetime above), or NULL. Every non-NULL
 * result must be given back with hvmm_vm_put().
 */
struct hvmm_vm *hvmm_vm_get(u16 vmid);
void hvmm_vm_put(struct hvmm_vm *vm);

#endif /* HVMM_VM_H */
