// SPDX-License-Identifier: MIT
/*
 * Negative tests of SPEC, the reference model of ownership: each breaks
 * mm/'s state from the test side (its vmemmap or a guest's stage-2 leaf)
 * so that mm/ refuses a legal op, accepts an illegal one, returns the
 * wrong error or leaves a post-state the model does not have, and checks
 * that SPEC fires with a message naming the page, the result and what
 * the model expected. mm/ itself is not changed. A clean vm-random run
 * shows SPEC quiet while judging every op, with a minimum of successful
 * ops of every kind (multi-page ones among them), so that the quiet is
 * not that of an oracle with nothing to judge.
 */
#include <string.h>

#include <hvmm/mem_protect.h>
#include <hvmm/vm.h>

#include "tap.h"
#include "vmtest.h"
#include "workload.h"

#define PAGE		4096ULL
#define OA_MASK		0x0000fffffffff000ULL	/* descriptor bits [47:12] */
#define HOST_PFN	0x90000ULL
#define G		0x10000ULL

/* The first violation is SPEC's. */
static bool spec_first(struct sim_machine *m)
{
	const struct sim_report *r = sim_machine_report(m);

	return r->kept && r->first[0].oracle == SIM_ORACLE_SPEC;
}

static struct sim_machine *machine_with_vm(void)
{
	struct sim_machine *m = vmt_machine(NULL);

	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	return m;
}

static void spec_fires_when_a_legal_share_is_refused(void)
{
	struct sim_machine *m = machine_with_vm();

	CHECK(vmt_clean(m));
	/* The last page of the range looks like the hypervisor's to mm/, not to the model. */
	vmt_meta(m, HOST_PFN + 3)->owner = HVMM_OWNER_HYP;
	CHECK(vmt_op(m, SIM_OP_HOST_SHARE_GUEST, 1, G, HOST_PFN, 4, SIM_PROT_R) == -HVMM_EPERM);
	CHECK(fired(m, SIM_ORACLE_SPEC, "vm1 ipa 0x10000 pfn 0x90000+4: mm/ refused it with EPERM; "
		    "the model says it is legal: ok"));
	CHECK(spec_first(m));
	sim_machine_destroy(m);
}

static void spec_fires_when_an_illegal_donation_is_accepted(void)
{
	struct sim_machine *m = machine_with_vm();
	struct hvmm_page *p;

	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 1, G, HOST_PFN, 1, 0) == 0);
	CHECK(vmt_clean(m));
	/* vm1's page, but the vmemmap says the host's, unmapped. */
	p = vmt_meta(m, HOST_PFN);
	p->owner = HVMM_OWNER_HOST;
	p->host_state = HVMM_PAGE_OWNED;
	atomic_store(&p->map_count, 0);
	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_HYP, 0, 0, HOST_PFN, 1, 0) == 0);
	CHECK(fired(m, SIM_ORACLE_SPEC, "pfn 0x90000+1: mm/ accepted it: ok; the model says it "
		    "must fail with EPERM"));
	CHECK(spec_first(m));
	sim_machine_destroy(m);
}

static void spec_fires_on_the_wrong_error(void)
{
	struct sim_machine *m = machine_with_vm();

	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 1, G, HOST_PFN, 1, 0) == 0);
	CHECK(vmt_clean(m));
	/* The guest's leaf is gone behind the model's back: mapping it again finds nothing. */
	*vmt_desc(m, 1, G) = 0;
	CHECK(vmt_op(m, SIM_OP_S2_MAP, 1, G, HOST_PFN, 1, SIM_PROT_R) == -HVMM_ENOENT);
	CHECK(fired(m, SIM_ORACLE_SPEC, "vm1 ipa 0x10000 pfn 0x90000+1: mm/ refused it with ENOENT; "
		    "the model says it must fail with EPERM"));
	CHECK(spec_first(m));
	sim_machine_destroy(m);
}

static void spec_fires_on_a_post_state_the_walk_contradicts(void)
{
	struct sim_machine *m = machine_with_vm();
	struct hvmm_page *p;
	uint64_t *desc;

	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 1, G, HOST_PFN, 2, 0) == 0);
	CHECK(vmt_clean(m));
	/* vm1's second leaf names another page, which the vmemmap says is vm1's too. */
	desc = vmt_desc(m, 1, G + PAGE);
	*desc = (*desc & ~OA_MASK) | ((HOST_PFN + 5) * PAGE);
	p = vmt_meta(m, HOST_PFN + 5);
	p->owner = HVMM_OWNER_GUEST(1);
	p->host_state = HVMM_PAGE_NOPAGE;
	/* mm/ sees nothing wrong and shares both; the model knows which page is behind G + 1. */
	CHECK(vmt_op(m, SIM_OP_GUEST_SHARE_HOST, 1, G, 0, 2, 0) == 0);
	/* (BBM may see the descriptor written behind mm/'s back first.) */
	CHECK(fired(m, SIM_ORACLE_SPEC, "vm1 ipa 0x11000: reaches pa 0x90005000 prot 7; the model "
		    "maps pfn 0x90001 prot 7"));
	sim_machine_destroy(m);
}

/*
 * VM references: the model counts vm_pin's on its own. A destroy of a
 * pinned VM is refused and leaves the VM whole; an unpin without a pin is
 * refused before mm/ sees it; a pin of a VM that is gone fails.
 */
static void pins_keep_a_vm_and_are_judged_clean(void)
{
	struct sim_machine *m = machine_with_vm();
	struct hvmm_vm *vm = hvmm_vm_get(1);

	CHECK(vm != NULL);
	hvmm_vm_put(vm);
	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 1, G, HOST_PFN, 2, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_VM_PIN, 1, 0, 0, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_VM_PIN, 1, 0, 0, 0, 0) == 0);
	CHECK_EQ(vm->refcount, 2u);
	CHECK(vmt_op(m, SIM_OP_VM_DESTROY, 1, 0, 0, 0, 0) == -HVMM_EBUSY);
	CHECK(vmt_op(m, SIM_OP_STORE, 1, G, 0x1234, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_VM_UNPIN, 1, 0, 0, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_VM_UNPIN, 1, 0, 0, 0, 0) == 0);
	CHECK_EQ(vm->refcount, 0u);
	/* No pin left: refused by the executor, mm/'s count untouched (no underflow warning). */
	CHECK(vmt_op(m, SIM_OP_VM_UNPIN, 1, 0, 0, 0, 0) == -HVMM_ENOENT);
	CHECK_EQ(vm->refcount, 0u);
	CHECK(vmt_op(m, SIM_OP_VM_DESTROY, 1, 0, 0, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_VM_PIN, 1, 0, 0, 0, 0) == -HVMM_ENOENT);
	CHECK(vmt_op(m, SIM_OP_VM_UNPIN, 1, 0, 0, 0, 0) == -HVMM_ENOENT);
	/* Pins left at the end are given back. */
	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 2, 1, 0, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_VM_PIN, 2, 0, 0, 0, 0) == 0);
	vm = hvmm_vm_get(1);
	CHECK(vm != NULL);
	hvmm_vm_put(vm);
	sim_machine_finish(m);
	CHECK_EQ(vm->refcount, 0u);
	CHECK(vmt_clean(m));
	sim_machine_destroy(m);
}

/* mm/ lost a reference the model counts: the destroy it accepts is a SPEC violation. */
static void spec_fires_when_a_pinned_vm_is_destroyed(void)
{
	struct sim_machine *m = machine_with_vm();
	struct hvmm_vm *vm;

	CHECK(vmt_op(m, SIM_OP_VM_PIN, 1, 0, 0, 0, 0) == 0);
	CHECK(vmt_clean(m));
	vm = hvmm_vm_get(1);
	CHECK(vm != NULL);
	/* Both references dropped behind the executor's back: mm/ counts none. */
	hvmm_vm_put(vm);
	hvmm_vm_put(vm);
	CHECK(vmt_op(m, SIM_OP_VM_DESTROY, 1, 0, 0, 0, 0) == 0);
	CHECK(fired(m, SIM_ORACLE_SPEC, "mm/ accepted it: ok; the model says it must fail with EBUSY"));
	sim_machine_destroy(m);
}

/* A reference the model does not count: the legal destroy mm/ refuses, and the count itself. */
static void spec_fires_when_a_legal_destroy_is_refused(void)
{
	struct sim_machine *m = machine_with_vm();
	struct hvmm_vm *vm = hvmm_vm_get(1);

	CHECK(vm != NULL);
	CHECK(vmt_op(m, SIM_OP_VM_DESTROY, 1, 0, 0, 0, 0) == -HVMM_EBUSY);
	CHECK(fired(m, SIM_ORACLE_SPEC, "mm/ refused it with EBUSY; the model says it is legal: ok"));
	CHECK(fired(m, SIM_ORACLE_REFCOUNT, "vm1 (VMID 1): mm/ counts 1 references on it "
		    "(hvmm_vm_get), the model 0 pins"));
	hvmm_vm_put(vm);
	sim_machine_destroy(m);
}

/* Successful ops of each VM kind a clean run must have made, at least. */
static const struct { enum sim_op_kind kind; uint64_t min_ok, min_failed; } floor_of[] = {
	{ SIM_OP_VM_CREATE, 50, 10 },		{ SIM_OP_VM_DESTROY, 50, 5 },
	{ SIM_OP_S2_MAP, 100, 10 },		{ SIM_OP_S2_UNMAP, 300, 30 },
	{ SIM_OP_S2_PROTECT, 300, 30 },		{ SIM_OP_HOST_DONATE_HYP, 100, 10 },
	{ SIM_OP_HYP_DONATE_HOST, 100, 10 },	{ SIM_OP_HOST_DONATE_GUEST, 500, 50 },
	{ SIM_OP_HOST_SHARE_GUEST, 500, 50 },	{ SIM_OP_HOST_UNSHARE_GUEST, 300, 30 },
	{ SIM_OP_GUEST_SHARE_HOST, 300, 30 },	{ SIM_OP_GUEST_UNSHARE_HOST, 200, 20 },
	{ SIM_OP_FAULT, 1000, 50 },		{ SIM_OP_LOAD, 2000, 200 },
	{ SIM_OP_STORE, 2000, 200 },		{ SIM_OP_VM_PIN, 50, 5 },
	{ SIM_OP_VM_UNPIN, 50, 5 },
};

static void clean_run_is_quiet_and_judges_every_kind(void)
{
	struct sim_machine_config cfg;
	struct sim_workload_params p = { 0 };
	const struct sim_machine_stats *st;
	struct sim_workload *w;
	struct sim_machine *m;
	uint64_t multi_ok = 0;
	struct sim_op op;
	bool floors = true;

	sim_machine_config_default(&cfg);
	cfg.sweep_interval = 5000;
	m = vmt_machine(&cfg);
	sim_workload_params_for(&p, &cfg);
	p.ops = 20000;
	p.seed = 7;
	w = sim_workload_create("vm-random", &p);
	CHECK(w != NULL);
	while (w && sim_workload_next(w, &op)) {
		int ret = sim_machine_exec(m, &op, NULL);

		multi_ok += !ret && op.c > 1 && (op.kind == SIM_OP_HOST_SHARE_GUEST ||
						op.kind == SIM_OP_HOST_DONATE_GUEST);
		sim_workload_result(w, &op, ret);
	}
	sim_machine_finish(m);
	st = sim_machine_stats(m);
	CHECK(st->ops == 20000);
	CHECK(vmt_clean(m));
	for (unsigned int i = 0; i < sizeof(floor_of) / sizeof(floor_of[0]); i++) {
		enum sim_op_kind k = floor_of[i].kind;
		uint64_t failed = st->failed_by_kind[k], ok = st->by_kind[k] - failed;

		if (ok < floor_of[i].min_ok || failed < floor_of[i].min_failed) {
			printf("#   %s: %llu succeeded, %llu failed; at least %llu and %llu expected\n",
			       sim_op_descs[k].name, (unsigned long long)ok,
			       (unsigned long long)failed, (unsigned long long)floor_of[i].min_ok,
			       (unsigned long long)floor_of[i].min_failed);
			floors = false;
		}
	}
	CHECK(floors);
	printf("#   multi-page donations and shares that succeeded: %llu\n",
	       (unsigned long long)multi_ok);
	CHECK(multi_ok >= 100);
	sim_workload_destroy(w);
	sim_machine_destroy(m);
}

int main(void)
{
	TEST(spec_fires_when_a_legal_share_is_refused);
	TEST(spec_fires_when_an_illegal_donation_is_accepted);
	TEST(spec_fires_on_the_wrong_error);
	TEST(spec_fires_on_a_post_state_the_walk_contradicts);
	TEST(pins_keep_a_vm_and_are_judged_clean);
	TEST(spec_fires_when_a_pinned_vm_is_destroyed);
	TEST(spec_fires_when_a_legal_destroy_is_refused);
	TEST(clean_run_is_quiet_and_judges_every_kind);
	return tap_done();
}
