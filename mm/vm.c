// SPDX-License-Identifier: MIT
/*
 * The VM table: VMIDs, creation and teardown.
 *
 * A slot of the table is reused as soon as its VM is destroyed, so a
 * pointer to a VM is only good while something keeps the VM from being
 * destroyed. hvmm_vm_get() hands out a reference, counted in the slot
 * under the table lock, and hvmm_vm_destroy() refuses a VM that anyone
 * still holds (as pKVM pins a hyp_vm's page while a vCPU is loaded and
 * its teardown fails with -EBUSY while the page is referenced). The
 * pointer itself stays valid forever (the table is static); the reference
 * is what keeps it naming the same VM.
 */
#include <hvmm/vm.h>

static struct {
	hvmm_spinlock_t lock;
	struct hvmm_pool *pool;
	u32 ia_bits, start_level;
	struct hvmm_vm vms[HVMM_MAX_VMS + 1];	/* indexed by VMID; 0 unused (host) */
} vm_table;

static void vm_table_assert_locked(void)
{
	hvmm_assert_spin_locked(&vm_table.lock);
}

/* The created VM with @vmid, or NULL. */
static struct hvmm_vm *vm_lookup(u16 vmid)
{
	vm_table_assert_locked();
	if (vmid < 1 || vmid > HVMM_MAX_VMS || !vm_table.vms[vmid].created)
		return NULL;
	return &vm_table.vms[vmid];
}

int hvmm_vms_init(struct hvmm_pool *pool, u32 ia_bits, u32 start_level)
{
	u32 i;

	if (!hvmm_pgtable_nr_roots(ia_bits, start_level))
		return -HVMM_EINVAL;
	hvmm_spin_lock_init(&vm_table.lock);
	vm_table.pool = pool;
	vm_table.ia_bits = ia_bits;
	vm_table.start_level = start_level;
	for (i = 0; i <= HVMM_MAX_VMS; i++) {
		vm_table.vms[i].created = false;
		vm_table.vms[i].refcount = 0;
	}
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
	hvmm_spin_lock_init(&vm->lock);
	ret = hvmm_pgtable_init(&vm->pgt, vm_table.pool, vm_table.ia_bits,
				vm_table.start_level, (u16)vmid, HVMM_PGT_GUEST, &vm->lock);
	if (ret)
		goto unlock;
	vm->refcount = 0;
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
	/* Someone still uses the VM through hvmm_vm_get(): not fatal, try again later. */
	if (vm->refcount) {
		ret = -HVMM_EBUSY;
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
	struct hvmm_vm *vm;

	hvmm_spin_lock(&vm_table.lock);
	vm = vm_lookup(vmid);
	/* A count that would wrap is refused: the VM stays pinned, not freed early. */
	if (vm && HVMM_WARN_ON(vm->refcount == UINT32_MAX))
		vm = NULL;
	if (vm)
		vm->refcount++;
	hvmm_spin_unlock(&vm_table.lock);
	return vm;
}

void hvmm_vm_put(struct hvmm_vm *vm)
{
	hvmm_spin_lock(&vm_table.lock);
	/* A put without a get is the caller's bug; it must not unpin another holder's VM. */
	if (!HVMM_WARN_ON(!vm->created || !vm->refcount))
		vm->refcount--;
	hvmm_spin_unlock(&vm_table.lock);
}
