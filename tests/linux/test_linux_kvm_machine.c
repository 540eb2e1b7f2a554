// SPDX-License-Identifier: MIT
/*
 * Whole-machine runs on KVM's page tables (mm/ linked with
 * sim/linux/mm_pgtable_kvm.c in place of mm/pgtable.c): the program runs
 * the kernel's code, the event oracles see the descriptor stores that
 * code makes inside an op, and a TLB invalidation lost under it is caught
 * (the oracles judge KVM's code, not a quiet copy of it).
 */
#include <string.h>

#include "event/event.h"
#include "machine_vm.h"
#include "pgtable/pgtable.h"
#include "platform.h"
#include "tap.h"
#include "vmtest.h"

#define PAGE		4096ULL
#define OA_MASK		0x0000fffffffff000ULL	/* descriptor bits [47:12] */
#define HOST_PFN	0x90000ULL
#define G		0x10000ULL

struct seen {
	uint64_t pa;		/* the page whose leaf is looked for */
	void *leaf;		/* where it was written */
	unsigned int made, broken;
};

/* Level-3 page descriptors naming the page made valid, and that entry made invalid. */
static void watch(void *ctx, const struct sim_event *ev)
{
	struct seen *s = ctx;

	if (ev->size != 8)
		return;
	if ((ev->val & 3) == 3 && (ev->val & OA_MASK) == s->pa) {
		s->made++;
		s->leaf = ev->addr;
	} else if (ev->addr == s->leaf && !(ev->val & 1)) {
		s->broken++;
		s->leaf = NULL;
	}
}

static void the_program_runs_kvm_page_tables(void)
{
	CHECK(!strcmp(sim_mm_pgtable_name(), "linux-kvm"));
	CHECK(sim_event_mm_instrumented());
}

static void the_event_layer_sees_kvm_descriptor_stores(void)
{
	struct sim_machine *m = vmt_machine(NULL);
	struct seen s = { .pa = HOST_PFN * PAGE };

	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	CHECK(sim_event_observe(watch, &s, 1u << SIM_EV_STORE | 1u << SIM_EV_ATOMIC));
	/* kvm_pgtable_stage2_map writes the leaf; kvm_pgtable_stage2_set_owner (park) breaks it. */
	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 1, G, HOST_PFN, 1, 0) == 0);
	CHECK_MSG(s.made == 1, "leaf made %u times", s.made);
	CHECK(vmt_op(m, SIM_OP_S2_UNMAP, 1, G, 0, 1, 0) == 0);
	CHECK_MSG(s.broken == 1, "leaf broken %u times", s.broken);
	/* A guest fault maps the parked page again, through KVM's map over the annotation. */
	CHECK(vmt_op(m, SIM_OP_FAULT, 1, G + 8, 0, 0, 0) == 0);
	CHECK_MSG(s.made == 2, "leaf made %u times", s.made);
	sim_event_unobserve(watch, &s);
	CHECK(vmt_store(m, 1, G + 8, 0x1234) == 0);
	CHECK(vmt_op(m, SIM_OP_VM_DESTROY, 1, 0, 0, 0, 0) == 0);
	CHECK(vmt_clean(m));
	sim_machine_destroy(m);
}

static void a_lost_invalidation_under_kvm_code_is_caught(void)
{
	struct sim_machine *m = vmt_machine(NULL);
	uint64_t v = 0;

	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 1, G, HOST_PFN, 1, 0) == 0);
	CHECK(vmt_store(m, 1, G + 8, 0x1234) == 0);
	CHECK(vmt_clean(m));
	/* KVM's stage2_put_pte asks for __kvm_tlb_flush_vmid_ipa; the platform drops it. */
	sim_platform_drop_tlb_flushes(1000);
	CHECK(vmt_op(m, SIM_OP_S2_UNMAP, 1, G, 0, 1, 0) == 0);
	sim_platform_drop_tlb_flushes(0);
	CHECK(fired(m, SIM_ORACLE_TLB, "no TLBI covering it completed before the op returned"));
	CHECK(fired(m, SIM_ORACLE_TLB, "TLB still maps vm1 ipa 0x10000+0x1000"));
	CHECK(vmt_load(m, 1, G + 8, &v) == 0 && v == 0x1234);
	CHECK(fired(m, SIM_ORACLE_IDEAL, "but the ideal machine gives it no such access"));
	sim_machine_destroy(m);
}

int main(void)
{
	TEST(the_program_runs_kvm_page_tables);
	TEST(the_event_layer_sees_kvm_descriptor_stores);
	TEST(a_lost_invalidation_under_kvm_code_is_caught);
	return tap_done();
}
