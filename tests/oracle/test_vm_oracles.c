// SPDX-License-Identifier: MIT
/*
 * Negative tests of the stage-2 oracles (OWNERSHIP, TYPE, REFCOUNT, TLB,
 * PT-WALK, IDEAL) and of the allocator oracles on the hypervisor's own
 * pools (ALLOC-STRUCT, ALLOC-CONSERVE): each breaks one rule from the test side (corrupting
 * mm/'s vmemmap or tables, dropping TLB invalidations, writing simulated
 * memory behind the executor's back) and checks that the right oracle
 * fires with a message that says what broke. mm/ itself is not changed.
 * Each test first checks that the machine was clean before the break, and
 * a clean vm-random run shows the oracles quiet when nothing is wrong.
 */
#include <string.h>

#include <hvmm/buddy.h>
#include <hvmm/mem_protect.h>

#include "event/event.h"
#include "machine_vm.h"
#include "platform.h"
#include "tap.h"
#include "vmtest.h"
#include "workload.h"

#define PAGE		4096ULL
#define OA_MASK		0x0000fffffffff000ULL	/* descriptor bits [47:12] */
#define HOST_PFN	0x90000ULL
#define G		0x10000ULL

static struct sim_machine *machine(void)
{
	return vmt_machine(NULL);
}

/* vm1 owns HOST_PFN at G, written once. */
static struct sim_machine *machine_with_guest_page(void)
{
	struct sim_machine *m = machine();

	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 1, G, HOST_PFN, 1, 0) == 0);
	CHECK(vmt_store(m, 1, G + 8, 0x1234) == 0);
	return m;
}

static void clean_vm_random_run_is_quiet(void)
{
	struct sim_machine_config cfg;
	struct sim_workload_params p = { 0 };
	struct sim_workload *w;
	struct sim_machine *m;
	struct sim_op op;

	sim_machine_config_default(&cfg);
	cfg.sweep_interval = 2500;
	m = vmt_machine(&cfg);
	sim_workload_params_for(&p, &cfg);
	p.ops = 20000;
	p.seed = 11;
	w = sim_workload_create("vm-random", &p);
	CHECK(w != NULL);
	while (w && sim_workload_next(w, &op))
		sim_workload_result(w, &op, sim_machine_exec(m, &op, NULL));
	sim_machine_finish(m);
	CHECK(sim_machine_stats(m)->ops == 20000);
	CHECK(sim_machine_stats(m)->sweeps >= 8);
	CHECK(most_ops_succeeded(m));
	CHECK(vmt_clean(m));
	sim_workload_destroy(w);
	sim_machine_destroy(m);
}

static void tlb_fires_when_an_unmap_is_not_flushed(void)
{
	struct sim_machine *m = machine_with_guest_page();
	uint64_t v = 0;

	CHECK(vmt_clean(m));
	sim_platform_drop_tlb_flushes(1000);
	CHECK(vmt_op(m, SIM_OP_S2_UNMAP, 1, G, 0, 1, 0) == 0);
	sim_platform_drop_tlb_flushes(0);
	CHECK(fired(m, SIM_ORACLE_TLB, "TLB still maps vm1 ipa 0x10000+0x1000"));
	/* And the guest can indeed still reach the page it gave up. */
	CHECK(vmt_load(m, 1, G + 8, &v) == 0 && v == 0x1234);
	CHECK(fired(m, SIM_ORACLE_IDEAL, "but the ideal machine gives it no such access"));
	sim_machine_destroy(m);
}

static void tlb_fires_when_a_table_is_freed_under_a_cached_walk(void)
{
	struct sim_machine *m = machine();
	const uint64_t ipa = 0x40000000;	/* alone in its level-2 and level-3 tables */
	struct sim_walk w;

	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_HOST_SHARE_GUEST, 1, ipa, HOST_PFN, 1, SIM_PROT_R) == 0);
	vmt_walk(m, 1, ipa, &w);
	CHECK(!w.fault && w.nr_tables == 3);
	CHECK(vmt_load(m, 1, ipa, NULL) == 0);
	CHECK(vmt_clean(m));
	/* Unsharing empties and frees both tables; their TLB invalidations are lost. */
	sim_platform_drop_tlb_flushes(1000);
	CHECK(vmt_op(m, SIM_OP_HOST_UNSHARE_GUEST, 1, ipa, HOST_PFN, 1, 0) == 0);
	sim_platform_drop_tlb_flushes(0);
	CHECK(vmt_meta(m, w.tables[2] / PAGE)->refcount == 0);
	CHECK(fired(m, SIM_ORACLE_TLB, "was walked through the level-3 table"));
	CHECK(fired(m, SIM_ORACLE_TLB, "which was freed"));
	sim_machine_destroy(m);
}

static void type_and_pt_walk_fire_on_a_table_page_in_a_guest_leaf(void)
{
	struct sim_machine *m = machine_with_guest_page();
	uint64_t *desc = vmt_desc(m, 1, G);
	uint64_t table_pa = sim_machine_vms(m)->g[1].vm->pgt.pgd_pa;
	char needle[64];

	CHECK(vmt_clean(m));
	*desc = (*desc & ~OA_MASK) | table_pa;	/* the guest's leaf now names its own root */
	sim_machine_sweep(m);
	snprintf(needle, sizeof(needle), "maps pa 0x%llx of type page table",
		 (unsigned long long)table_pa);
	CHECK(fired(m, SIM_ORACLE_TYPE, needle));
	snprintf(needle, sizeof(needle), "mapped to pa 0x%llx", (unsigned long long)table_pa);
	CHECK(fired(m, SIM_ORACLE_PT_WALK, needle));
	sim_machine_destroy(m);
}

static void pt_walk_fires_on_a_reachable_table_not_typed_as_one(void)
{
	struct sim_machine *m = machine_with_guest_page();
	struct sim_walk w;
	char needle[80];

	vmt_walk(m, 1, G, &w);
	CHECK(!w.fault && w.nr_tables == 3);
	CHECK(vmt_clean(m));
	vmt_meta(m, w.tables[2] / PAGE)->type = HVMM_PAGE_DATA;
	sim_machine_sweep(m);
	snprintf(needle, sizeof(needle), "level-3 table at pa 0x%llx is allocated (type data)",
		 (unsigned long long)w.tables[2]);
	CHECK(fired(m, SIM_ORACLE_PT_WALK, needle));
	sim_machine_destroy(m);
}

static void refcount_fires_on_a_table_refcount(void)
{
	struct sim_machine *m = machine_with_guest_page();
	struct sim_walk w;
	char needle[80];

	vmt_walk(m, 1, G, &w);
	CHECK(vmt_clean(m));
	vmt_meta(m, w.tables[1] / PAGE)->refcount++;
	sim_machine_sweep(m);
	snprintf(needle, sizeof(needle), "table page pa 0x%llx has refcount 3, but 1 + 1 entries",
		 (unsigned long long)w.tables[1]);
	CHECK(fired(m, SIM_ORACLE_REFCOUNT, needle));
	sim_machine_destroy(m);
}

static void refcount_fires_on_a_map_count(void)
{
	struct sim_machine *m = machine_with_guest_page();

	CHECK(vmt_clean(m));
	atomic_fetch_add(&vmt_meta(m, HOST_PFN)->map_count, 1);
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_REFCOUNT, "pfn 0x90000: map_count 2, but 1 guest leaves map it"));
	CHECK(fired(m, SIM_ORACLE_REFCOUNT, "the tables hold 1 leaves mapping it"));
	sim_machine_destroy(m);
}

static void ownership_fires_on_a_flipped_owner(void)
{
	struct sim_machine *m = machine_with_guest_page();

	CHECK(vmt_clean(m));
	vmt_meta(m, HOST_PFN)->owner = HVMM_OWNER_GUEST(2);	/* another VM's, says the vmemmap */
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_OWNERSHIP, "pfn 0x90000: owner guest VMID 2, host nopage"));
	CHECK(fired(m, SIM_ORACLE_OWNERSHIP, "vm1 ipa 0x10000 maps pfn 0x90000 owned by guest VMID 2"));
	sim_machine_destroy(m);
}

static void ownership_fires_incrementally_on_the_touched_page(void)
{
	struct sim_machine *m = machine_with_guest_page();

	CHECK(vmt_clean(m));
	vmt_meta(m, HOST_PFN)->share_count = 5;	/* a field protect does not look at */
	/* The next op on that page sees it, without a sweep. */
	CHECK(vmt_op(m, SIM_OP_S2_PROTECT, 1, G, 0, 1, SIM_PROT_R) == 0);
	CHECK(fired(m, SIM_ORACLE_OWNERSHIP, "pfn 0x90000: owner guest VMID 1, host nopage, shared 5 times; "
		    "expected owner guest VMID 1, host nopage, shared 0 times"));
	CHECK(sim_machine_stats(m)->sweeps == 0);
	sim_machine_destroy(m);
}

static void ideal_fires_on_a_write_behind_the_simulators_back(void)
{
	struct sim_machine *m = machine_with_guest_page();
	uint64_t v = 0;

	CHECK(vmt_clean(m));
	((uint64_t *)vmt_host(m, HOST_PFN))[1] = 0xbad;
	CHECK(vmt_load(m, 1, G + 8, &v) == 0 && v == 0xbad);
	CHECK(fired(m, SIM_ORACLE_IDEAL, "vm1 read 0xbad at ipa 0x10008 (pa 0x90000008); the ideal "
		    "machine holds 0x1234"));
	sim_machine_destroy(m);
}

static void ideal_fires_when_a_vm_reaches_another_vms_page(void)
{
	struct sim_machine *m = machine_with_guest_page();
	uint64_t *desc, v = 0;

	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 2, 1, 0, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 2, G, HOST_PFN + 1, 1, 0) == 0);
	CHECK(vmt_store(m, 2, G + 8, 0x5ec2e7) == 0);
	/* vm1's leaf is pointed at vm2's page; vm1's TLB entry goes, as a flush would. */
	desc = vmt_desc(m, 1, G);
	*desc = (*desc & ~OA_MASK) | ((HOST_PFN + 1) * PAGE);
	sim_tlb_flush_all(&sim_machine_vms(m)->tlbs[0]);
	CHECK(vmt_clean(m));
	CHECK(vmt_load(m, 1, G + 8, &v) == 0 && v == 0x5ec2e7);
	CHECK(fired(m, SIM_ORACLE_IDEAL, "vm1 read 0x5ec2e7 at ipa 0x10008 (pa 0x90001008); the "
		    "ideal machine holds 0x1234"));
	CHECK(fired(m, SIM_ORACLE_OWNERSHIP, "reached pa 0x90001008, but its page is pfn 0x90000"));
	sim_machine_destroy(m);
}

/*
 * A page given back to the host must come back scrubbed, and the full
 * sweep sees one that did not, though the host never reads it: the
 * reclaimed page of a destroyed VM, left as the guest wrote it.
 */
static void ideal_sweep_fires_on_a_reclaimed_page_never_read(void)
{
	struct sim_machine *m = machine_with_guest_page();

	CHECK(vmt_op(m, SIM_OP_VM_DESTROY, 1, 0, 0, 0, 0) == 0);
	sim_machine_sweep(m);
	CHECK(vmt_clean(m));
	((uint64_t *)vmt_host(m, HOST_PFN))[1] = 0x1234;
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_IDEAL, "vm0 page 0x90000000 (pfn 0x90000) word 1 holds 0x1234; "
		    "the ideal machine holds 0x0"));
	sim_machine_destroy(m);
}

/*
 * The hypervisor writes the pages donated to it (its own objects live
 * there), so one donated back must be scrubbed first; the sweep sees one
 * that was not, with no host read.
 */
static void ideal_sweep_fires_on_a_hypervisor_page_given_back_unscrubbed(void)
{
	struct sim_machine *m = machine();
	uint64_t *w = vmt_host(m, HOST_PFN);

	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_HYP, 0, 0, HOST_PFN, 1, 0) == 0);
	CHECK(w[0] != 0 && w[511] != 0);	/* the hypervisor's data */
	CHECK(vmt_op(m, SIM_OP_HYP_DONATE_HOST, 0, 0, HOST_PFN, 1, 0) == 0);
	CHECK(w[0] == 0 && w[511] == 0);
	sim_machine_sweep(m);
	CHECK(vmt_clean(m));
	w[511] = 0x6879702d64617461ULL;
	sim_machine_sweep(m);
	CHECK(fired(m, SIM_ORACLE_IDEAL, "vm0 page 0x90000000 (pfn 0x90000) word 511 holds "
		    "0x6879702d64617461; the ideal machine holds 0x0"));
	sim_machine_destroy(m);
}

/*
 * A page given back to the host is judged at every op that touches it, as
 * the sweep judges it, so an unscrubbed page shows at the op that returns
 * it, before a later op gives it away again out of the sweep's sight; here
 * a refused op names the page after a write behind the simulator's back.
 */
static void ideal_fires_at_an_op_touching_a_page_given_back(void)
{
	struct sim_machine *m = machine();
	uint64_t *w = vmt_host(m, HOST_PFN);

	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_HYP, 0, 0, HOST_PFN, 1, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_HYP_DONATE_HOST, 0, 0, HOST_PFN, 1, 0) == 0);
	CHECK(vmt_clean(m));
	w[7] = 0x6879702d64617461ULL;
	/* The host gives back a page it owns: refused, and the page is judged at the op. */
	CHECK(vmt_op(m, SIM_OP_HYP_DONATE_HOST, 0, 0, HOST_PFN, 1, 0) != 0);
	CHECK(fired(m, SIM_ORACLE_IDEAL, "vm0 page 0x90000000 (pfn 0x90000) word 7 holds "
		    "0x6879702d64617461; the ideal machine holds 0x0"));
	CHECK(sim_machine_stats(m)->sweeps == 0);
	sim_machine_destroy(m);
}

/* The pfn of the first free block head in @pool's lists, and its order. */
static uint64_t free_head(struct sim_machine *m, struct hvmm_pool *pool, unsigned int *order)
{
	for (unsigned int o = 0; o <= HVMM_BUDDY_MAX_ORDER; o++)
		if (pool->free_area[o].next != &pool->free_area[o]) {
			*order = o;
			return sim_physmem_host_to_pa(sim_machine_physmem(m), pool->free_area[o].next) /
			       PAGE;
		}
	return 0;
}

static void alloc_struct_fires_on_a_hypervisor_pool(void)
{
	struct sim_machine *m = machine_with_guest_page();
	struct sim_vmstate *vs = sim_machine_vms(m);
	unsigned int order = 0;
	uint64_t pfn = free_head(m, &vs->guest_pool, &order);
	char needle[120];

	CHECK(pfn != 0);
	sim_machine_sweep(m);
	CHECK(vmt_clean(m));
	vmt_meta(m, pfn)->refcount = 1;
	sim_machine_sweep(m);
	snprintf(needle, sizeof(needle), "free list %u holds pfn 0x%llx, which has order %u refcount 1",
		 order, (unsigned long long)pfn, order);
	CHECK(fired(m, SIM_ORACLE_ALLOC_STRUCT, needle));
	vmt_meta(m, pfn)->refcount = 0;
	sim_machine_destroy(m);
}

static void alloc_conserve_fires_on_a_free_of_a_free_hypervisor_page(void)
{
	struct sim_machine *m = machine_with_guest_page();
	struct sim_vmstate *vs = sim_machine_vms(m);
	unsigned int order = 0;
	uint64_t pfn = free_head(m, &vs->host_s2_pool, &order);

	CHECK(pfn != 0);
	CHECK(vmt_clean(m));
	if (!sim_event_mm_instrumented()) {
		sim_machine_destroy(m);
		TAP_SKIP("mm/ is built without the event instrumentation");
		return;
	}
	/* What mm/ would report if it freed a page its pool already had. */
	sim_event_begin();
	sim_event_platform(SIM_EV_PAGE_FREE, pfn * PAGE, 0, 0, 0);
	sim_event_end();
	CHECK(fired(m, SIM_ORACLE_ALLOC_CONSERVE,
		    "a hypervisor pool took back a page that was not allocated"));
	sim_machine_destroy(m);
}

int main(void)
{
	TEST(clean_vm_random_run_is_quiet);
	TEST(tlb_fires_when_an_unmap_is_not_flushed);
	TEST(tlb_fires_when_a_table_is_freed_under_a_cached_walk);
	TEST(type_and_pt_walk_fire_on_a_table_page_in_a_guest_leaf);
	TEST(pt_walk_fires_on_a_reachable_table_not_typed_as_one);
	TEST(refcount_fires_on_a_table_refcount);
	TEST(refcount_fires_on_a_map_count);
	TEST(ownership_fires_on_a_flipped_owner);
	TEST(ownership_fires_incrementally_on_the_touched_page);
	TEST(ideal_fires_on_a_write_behind_the_simulators_back);
	TEST(ideal_fires_when_a_vm_reaches_another_vms_page);
	TEST(ideal_sweep_fires_on_a_reclaimed_page_never_read);
	TEST(ideal_sweep_fires_on_a_hypervisor_page_given_back_unscrubbed);
	TEST(ideal_fires_at_an_op_touching_a_page_given_back);
	TEST(alloc_struct_fires_on_a_hypervisor_pool);
	TEST(alloc_conserve_fires_on_a_free_of_a_free_hypervisor_page);
	return tap_done();
}
