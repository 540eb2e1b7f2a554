// SPDX-License-Identifier: MIT
/*
 * The VM table: VMIDs, creation and teardown.
 */
#include <hvmm/vm.h>

static struct {
	hvmm_spinlock_t lock;
	struct hvmm_pool *pool;
	u32 ia_bits, start_level;
	struct hvmm_vm vms[HVMM_MAX_VMS + 1];	/* indexed by VMID; 0 unused (host) */
} vm_table;

int hvmm_vms_init(struct hvmm_pool *pool, u32 ia_bits, u32 start_level)
{
	u32 i;

	if (!hvmm_pgtable_nr_roots(ia_bits, start_level))
		return -HVMM_EINVAL;
	hvmm_spin_lock_init(&vm_table.lock);
	vm_table.pool = pool;
	vm_table.ia_bits = ia_bits;
	vm_table.start_level = start_level;
	for (i = 0; i <= HVMM_MAX_VMS; i++)
		vm_table.vms[i].created = false;
	return HVMM_OK;
}

int hvmm_vm_create(u32 nr_vcpus, struct hvmm_vm **vmp)
{
	struct hvmm_vm *vm = NULL;
	int ret;
	u32 vmid;

	if (!nr_vcpus || nr_vcpus > HVMM_MAX_VCPUS)
		return -HVMM_EINVAL;
	hvmm_spin_lock(&vm_table.lock);
	for (vmid = 1; vmid <= HVMM_MAX_VMS; vmid++) {
		if (!vm_table.vms[vmid].created) {
			vm = &vm_table.vms[vmid];
			break;
		}
	}
	if (!vm) {
		ret = -HVMM_EBUSY;
		goto unlock;
	}
	ret = hvmm_pgtable_init(&vm->pgt, vm_table.pool, vm_table.ia_bits,
				vm_table.start_level, (u16)vmid, HVMM_PGT_GUEST);
	if (ret)
		goto unlock;
	hvmm_spin_lock_init(&vm->lock);
	vm->vmid = (u16)vmid;
	vm->owner_id = HVMM_OWNER_GUEST(vmid);
	vm->nr_vcpus = nr_vcpus;
	vm->created = true;
	*vmp = vm;
unlock:
	hvmm_spin_unlock(&vm_table.lock);
	return ret;
}

int hvmm_vm_destroy(struct hvmm_vm *vm)
{
	int ret = HVMM_OK;

	hvmm_spin_lock(&vm_table.lock);
	/* The host names the VM: a stale handle is refused, not fatal. */
	if (HVMM_WARN_ON(!vm->created)) {
		ret = -HVMM_ENOENT;
		goto unlock;
	}
	hvmm_spin_lock(&hvmm_host.lock);
	hvmm_spin_lock(&vm->lock);
	hvmm_reclaim_guest_pages(vm);
	hvmm_spin_unlock(&vm->lock);
	hvmm_spin_unlock(&hvmm_host.lock);
	/* The VMID is free only once no TLB holds anything tagged with it. */
	vm->created = false;
unlock:
	hvmm_spin_unlock(&vm_table.lock);
	return ret;
}

struct hvmm_vm *hvmm_vm_get(u16 vmid)
{
	struct hvmm_vm *vm = NULL;

	hvmm_spin_lock(&vm_table.lock);
	if (vmid >= 1 && vmid <= HVMM_MAX_VMS && vm_table.vms[vmid].created)
		vm = &vm_table.vms[vmid];
	hvmm_spin_unlock(&vm_table.lock);
	return vm;
}
