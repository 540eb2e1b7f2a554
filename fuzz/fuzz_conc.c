// SPDX-License-Identifier: MIT
/*
 * Fuzz target: small concurrent blocks through the interleaver. The input
 * is a set-up, then the programs of up to four CPUs (`sched vcpu=N`) of
 * allocator, Anaxagoros set_entry and VM lifetime ops, and the schedule (`sched vcpu=N
 * step=K`): the bytes choose which vCPU takes each contended step. The
 * CONC oracle judges every step (the counter invariant) and every point
 * where no vCPU is inside an op (every state oracle). A handle an op of the
 * block names is one its CPU may name there (decode.h, vcpu_names).
 */
#include "harness.h"

static const char *const allocators[] = { "buddy", "bitmap", NULL };

/*
 * The allocator's, the schedule's and the mapping tables' ops in table
 * order, then the VM lifetime ops (create, destroy, pin, unpin), which
 * race a pin (hvmm_vm_get) against a destroy: after the others, so that an
 * input written before them decodes as it did (an op's selector byte below
 * 8 picks the same kind). A VM of such an input has no stage-2 ops.
 */
static const uint16_t kinds[] = {
	SIM_OP_ALLOC, SIM_OP_FREE, SIM_OP_GET, SIM_OP_PUT, SIM_OP_SPLIT, SIM_OP_SCHED,
	SIM_OP_MAPTAB_INIT, SIM_OP_SET_ENTRY,
	SIM_OP_VM_CREATE, SIM_OP_VM_DESTROY, SIM_OP_VM_PIN, SIM_OP_VM_UNPIN,
	SIM_OP__COUNT,
};

const struct fuzz_target fuzz_target = {
	.name = "conc",
	.kinds = kinds,
	.classes = SIM_OPC_ALLOC | SIM_OPC_SCHED | SIM_OPC_MAPTAB,
	.allocators = allocators,
	.max_vcpus = 4,
	.vcpu_names = true,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_run(&fuzz_target, data, size);
}
