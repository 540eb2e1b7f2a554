// SPDX-License-Identifier: MIT
/*
 * Negative tests of the oracles that judge events inside an operation
 * (BBM, the TLB obligations at the end of an op, HYP-CONSERVE). Each test
 * plays, from the test side, the events a buggy mm/ would produce (a
 * descriptor write into a live table page, a barrier, a TLBI, a page
 * allocation or free) through the event layer's entry points, and checks
 * that the right oracle fires with a message that says what broke; the
 * positive controls play the correct sequence and stay quiet. mm/ itself
 * is not changed. A clean vm-random run shows the oracles quiet, on real
 * events, when nothing is wrong.
 */
#include <string.h>

#include <hvmm/memory.h>

#include "event/event.h"
#include "tap.h"
#include "vmtest.h"
#include "workload.h"

#define PAGE		4096ULL
#define OA_MASK		0x0000fffffffff000ULL	/* descriptor bits [47:12] */
#define HOST_PFN	0x90000ULL
#define OTHER_PFN	0x90400ULL
#define G		0x10000ULL
#define L2_SIZE		(2ULL << 20)

/* vm1 owns HOST_PFN at G. */
static struct sim_machine *machine_with_guest_page(void)
{
	struct sim_machine *m = vmt_machine(NULL);

	CHECK(sim_machine_vms(m)->bbm != NULL);
	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 1, G, HOST_PFN, 1, 0) == 0);
	return m;
}

static uint16_t vmid1(struct sim_machine *m)
{
	return sim_machine_vms(m)->g[1].vmid;
}

/* The events of one op, played from the test side. */
static void op_begin(void)
{
	sim_event_begin();
}

static void op_end(struct sim_machine *m)
{
	sim_event_end();
	sim_bbm_op_end(sim_machine_vms(m)->bbm);
}

static void write_desc(uint64_t *p, uint64_t v)
{
	uint64_t old = *p;

	*p = v;
	sim_event_atomic_done(p, 8, SIM_EV_AT_XCHG, old, v);
}

static void dsb(void)
{
	sim_event_platform(SIM_EV_DSB_ISHST, 0, 0, 0, 0);
}

static void tlbi_ipa(uint16_t vmid, uint64_t ipa, uint32_t level)
{
	sim_event_platform(SIM_EV_TLBI_IPA, vmid, ipa, level, 0);
}

static void tlbi_range(uint16_t vmid, uint64_t ipa, uint64_t size)
{
	sim_event_platform(SIM_EV_TLBI_RANGE, vmid, ipa, size, 0);
}

static void page_free(uint64_t pfn)
{
	sim_event_platform(SIM_EV_PAGE_FREE, pfn * PAGE, 0, 0, 0);
}

/* The level-2 entry (a table descriptor) on the walk of vm1 to @ipa, and its child. */
static uint64_t *l2_entry(struct sim_machine *m, uint64_t ipa, uint64_t *child_pfn)
{
	struct sim_walk w;
	uint64_t *l2;

	vmt_walk(m, 1, ipa, &w);
	CHECK(!w.fault && w.nr_tables == 3);
	l2 = vmt_host(m, w.tables[1] / PAGE);
	*child_pfn = w.tables[2] / PAGE;
	return &l2[(ipa >> 21) & 511];
}

static void clean_vm_random_run_is_quiet(void)
{
	struct sim_machine_config cfg;
	struct sim_workload_params p = { 0 };
	struct sim_workload *w;
	struct sim_machine *m;
	struct sim_op op;
	unsigned int ok[SIM_OP__COUNT] = { 0 };
	uint64_t events = 0;

	sim_machine_config_default(&cfg);
	cfg.sweep_interval = 5000;
	m = vmt_machine(&cfg);
	CHECK(sim_machine_vms(m)->bbm != NULL);
	sim_workload_params_for(&p, &cfg);
	p.ops = 20000;
	p.seed = 5;
	w = sim_workload_create("vm-random", &p);
	CHECK(w != NULL);
	while (w && sim_workload_next(w, &op)) {
		int ret = sim_machine_exec(m, &op, NULL);

		/* Guest loads and stores do not enter mm/: their ops see no event. */
		if (op.kind != SIM_OP_LOAD && op.kind != SIM_OP_STORE)
			events += sim_event_count();
		ok[op.kind] += !ret;
		sim_workload_result(w, &op, ret);
	}
	sim_machine_finish(m);
	/* The run did real work in every kind of op the new oracles judge. */
	CHECK_MSG(ok[SIM_OP_VM_CREATE] >= 5 && ok[SIM_OP_VM_DESTROY] >= 2, "%u creates, %u destroys",
		  ok[SIM_OP_VM_CREATE], ok[SIM_OP_VM_DESTROY]);
	CHECK_MSG(ok[SIM_OP_HOST_DONATE_GUEST] >= 100 && ok[SIM_OP_HOST_SHARE_GUEST] >= 100 &&
		  ok[SIM_OP_HOST_UNSHARE_GUEST] >= 50, "%u donations, %u shares, %u unshares",
		  ok[SIM_OP_HOST_DONATE_GUEST], ok[SIM_OP_HOST_SHARE_GUEST],
		  ok[SIM_OP_HOST_UNSHARE_GUEST]);
	CHECK_MSG(events > 100000, "%llu events", (unsigned long long)events);
	CHECK(vmt_clean(m));
	sim_workload_destroy(w);
	sim_machine_destroy(m);
}

static void bbm_fires_on_a_valid_descriptor_changed_in_place(void)
{
	struct sim_machine *m = machine_with_guest_page();
	uint64_t *d = vmt_desc(m, 1, G), old = *d;

	CHECK(vmt_clean(m));
	op_begin();
	write_desc(d, (old & ~OA_MASK) | (OTHER_PFN * PAGE));
	op_end(m);
	CHECK(fired(m, SIM_ORACLE_BBM, "without break-before-make"));
	sim_machine_destroy(m);
}

static void bbm_fires_on_a_make_before_the_tlbi(void)
{
	struct sim_machine *m = machine_with_guest_page();
	uint64_t *d = vmt_desc(m, 1, G), old = *d;

	op_begin();
	write_desc(d, 0);
	dsb();
	write_desc(d, (old & ~OA_MASK) | (OTHER_PFN * PAGE));
	tlbi_ipa(vmid1(m), G, 3);
	op_end(m);
	CHECK(fired(m, SIM_ORACLE_BBM, "made valid"));
	sim_machine_destroy(m);
}

static void break_dsb_tlbi_make_is_quiet(void)
{
	struct sim_machine *m = machine_with_guest_page();
	uint64_t *d = vmt_desc(m, 1, G), old = *d;

	op_begin();
	write_desc(d, 0);
	dsb();
	tlbi_ipa(vmid1(m), G, 3);
	write_desc(d, old);
	op_end(m);
	CHECK(vmt_clean(m));
	sim_machine_destroy(m);
}

static void tlb_fires_on_a_break_never_invalidated(void)
{
	struct sim_machine *m = machine_with_guest_page();

	op_begin();
	write_desc(vmt_desc(m, 1, G), 0);
	dsb();
	op_end(m);
	CHECK(fired(m, SIM_ORACLE_TLB, "no TLBI covering it completed before the op returned"));
	sim_machine_destroy(m);
}

static void tlb_fires_on_a_tlbi_before_the_dsb(void)
{
	struct sim_machine *m = machine_with_guest_page();

	op_begin();
	write_desc(vmt_desc(m, 1, G), 0);
	tlbi_ipa(vmid1(m), G, 3);
	op_end(m);
	CHECK(fired(m, SIM_ORACLE_TLB, "a TLBI came before the DSB"));
	sim_machine_destroy(m);
}

static void tlb_fires_on_a_wrong_level_hint_or_vmid(void)
{
	struct sim_machine *m = machine_with_guest_page();

	op_begin();
	write_desc(vmt_desc(m, 1, G), 0);
	dsb();
	tlbi_ipa(vmid1(m), G, 2);		/* the leaf is at level 3 */
	tlbi_ipa(vmid1(m) + 1, G, 3);		/* another VM's */
	tlbi_range(vmid1(m), G + PAGE, PAGE);	/* the next page */
	op_end(m);
	CHECK(fired(m, SIM_ORACLE_TLB, "IPA 0x10000 level 3"));
	sim_machine_destroy(m);
}

static void bbm_fires_on_a_table_freed_before_a_covering_tlbi(void)
{
	struct sim_machine *m = machine_with_guest_page();
	uint64_t child, *l2 = l2_entry(m, G, &child);

	op_begin();
	write_desc(l2, 0);
	dsb();
	tlbi_ipa(vmid1(m), G, 2);	/* one IPA, a level hint for a block: not the table */
	page_free(child);
	op_end(m);
	CHECK(fired(m, SIM_ORACLE_BBM, "freed before the TLBI covering its unlinking"));
	CHECK(fired(m, SIM_ORACLE_TLB, "(a table) was removed"));
	sim_machine_destroy(m);
}

static void a_table_freed_after_a_range_tlbi_is_quiet(void)
{
	struct sim_machine *m = machine_with_guest_page();
	uint64_t child, *l2 = l2_entry(m, G, &child);

	op_begin();
	write_desc(l2, 0);
	dsb();
	tlbi_range(vmid1(m), G & ~(L2_SIZE - 1), L2_SIZE);
	page_free(child);
	op_end(m);
	CHECK(vmt_clean(m));
	sim_machine_destroy(m);
}

static void bbm_fires_on_a_write_into_an_unlinked_table(void)
{
	struct sim_machine *m = machine_with_guest_page();
	uint64_t child, *l2 = l2_entry(m, G, &child);
	uint64_t *t = vmt_host(m, child);

	op_begin();
	write_desc(l2, 0);
	dsb();
	write_desc(&t[7], 0x1234000);
	op_end(m);
	CHECK(fired(m, SIM_ORACLE_BBM, "written after it was unlinked"));
	sim_machine_destroy(m);
}

static void bbm_fires_on_a_page_freed_or_given_away_while_stale(void)
{
	struct sim_machine *m = machine_with_guest_page();

	op_begin();
	write_desc(vmt_desc(m, 1, G), 0);
	dsb();
	sim_event_platform(SIM_EV_OWNERSHIP, HOST_PFN * PAGE, 1, 0, 0);
	page_free(HOST_PFN);
	tlbi_ipa(vmid1(m), G, 3);
	op_end(m);
	CHECK(fired(m, SIM_ORACLE_BBM, "page pfn 0x90000 freed, reused or given away"));
	sim_machine_destroy(m);
}

static void bbm_fires_on_a_table_linked_twice(void)
{
	struct sim_machine *m = machine_with_guest_page();
	uint64_t child, *l2 = l2_entry(m, G, &child);
	uint64_t *other = l2 + 1;	/* the next 2 MiB: empty */

	CHECK(*other == 0);
	op_begin();
	write_desc(other, *l2);
	op_end(m);
	CHECK(fired(m, SIM_ORACLE_BBM, "while already linked"));
	sim_machine_destroy(m);
}

/* A free page of the hypervisor pool, found from the test side in mm/'s vmemmap. */
static uint64_t free_hyp_page(struct sim_machine *m)
{
	struct sim_vmstate *vs = sim_machine_vms(m);

	/* Allocated pages of the pool are refcounted one by one (tables, caches). */
	for (uint64_t pfn = vs->hyp_pfn + vs->hyp_pages - 1; pfn >= vs->hyp_pfn; pfn--)
		if (!vmt_meta(m, pfn)->refcount)
			return pfn;
	CHECK(!"no free page in the hypervisor pool");
	return 0;
}

static void hyp_conserve_fires_on_a_page_held_by_nothing(void)
{
	struct sim_machine *m = machine_with_guest_page();
	uint64_t pfn = free_hyp_page(m);

	CHECK(vmt_clean(m));
	op_begin();
	sim_event_platform(SIM_EV_PAGE_ALLOC, pfn * PAGE, 0, 0, 0);
	op_end(m);
	/* The account is kept at op boundaries: the next op sees the page held by nothing. */
	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 2, 1, 0, 0, 0) == 0);
	CHECK(fired(m, SIM_ORACLE_HYP_CONSERVE, "is neither free, nor a table reachable"));
	sim_machine_destroy(m);
}

static void hyp_conserve_fires_on_a_double_free(void)
{
	struct sim_machine *m = machine_with_guest_page();
	uint64_t pfn = free_hyp_page(m);

	op_begin();
	page_free(pfn);
	op_end(m);
	CHECK(fired(m, SIM_ORACLE_HYP_CONSERVE, "freed twice"));
	sim_machine_destroy(m);
}

static void bbm_fires_on_a_table_linked_while_not_zeroed(void)
{
	struct sim_machine *m = machine_with_guest_page();
	uint64_t child, *l2 = l2_entry(m, G, &child), pfn = free_hyp_page(m);
	uint64_t *page = vmt_host(m, pfn);

	CHECK(l2[1] == 0);
	page[9] = 0x90000000 | 0x7ff;	/* left over from whoever had the page */
	op_begin();
	sim_event_platform(SIM_EV_PAGE_ALLOC, pfn * PAGE, 0, 0, 0);
	write_desc(&l2[1], (pfn * PAGE) | 3);
	op_end(m);
	CHECK(fired(m, SIM_ORACLE_BBM, "linked while not zeroed: entry 9"));
	sim_machine_destroy(m);
}

static void bbm_fires_on_guest_memory_mapped_before_its_clean(void)
{
	struct sim_machine *m = machine_with_guest_page();
	uint64_t *d = vmt_desc(m, 1, G), leaf = *d;
	uint64_t *next = d + 1;		/* G + 4 KiB: empty */
	uint64_t other = (leaf & ~OA_MASK) | (OTHER_PFN * PAGE);

	CHECK(*next == 0);
	op_begin();
	write_desc(next, other);
	op_end(m);
	CHECK(fired(m, SIM_ORACLE_BBM, "before it was cleaned to PoC"));
	sim_machine_destroy(m);

	/* Cleaned first (and, being executable, its I-cache lines invalidated): quiet. */
	m = machine_with_guest_page();
	d = vmt_desc(m, 1, G);
	op_begin();
	sim_event_platform(SIM_EV_DCACHE_CLEAN, OTHER_PFN * PAGE, PAGE, 0, 0);
	sim_event_platform(SIM_EV_ICACHE_INVAL, OTHER_PFN * PAGE, PAGE, 0, 0);
	write_desc(d + 1, other);
	op_end(m);
	CHECK(vmt_clean(m));
	sim_machine_destroy(m);
}

/* Stage-2 XN[54:53]: 0b10 is execute-never at EL1 and EL0. */
#define XN_MASK		(3ULL << 53)
#define XN_NEVER	(2ULL << 53)

static void bbm_fires_on_guest_code_mapped_before_its_icache_inval(void)
{
	struct sim_machine *m = machine_with_guest_page();
	uint64_t *d = vmt_desc(m, 1, G), leaf = *d;
	uint64_t other = (leaf & ~OA_MASK & ~XN_MASK) | (OTHER_PFN * PAGE);

	/* Executable, cleaned to PoC, its I-cache lines not invalidated. */
	CHECK(d[1] == 0);
	op_begin();
	sim_event_platform(SIM_EV_DCACHE_CLEAN, OTHER_PFN * PAGE, PAGE, 0, 0);
	write_desc(d + 1, other);
	op_end(m);
	CHECK(fired(m, SIM_ORACLE_BBM, "executable before its instruction cache lines were invalidated"));
	sim_machine_destroy(m);

	/* An invalidation of another page does not cover it. */
	m = machine_with_guest_page();
	d = vmt_desc(m, 1, G);
	op_begin();
	sim_event_platform(SIM_EV_DCACHE_CLEAN, OTHER_PFN * PAGE, PAGE, 0, 0);
	sim_event_platform(SIM_EV_ICACHE_INVAL, (OTHER_PFN + 1) * PAGE, PAGE, 0, 0);
	write_desc(d + 1, other);
	op_end(m);
	CHECK(fired(m, SIM_ORACLE_BBM, "executable before its instruction cache lines were invalidated"));
	sim_machine_destroy(m);

	/* Execute-never: the data clean is enough. */
	m = machine_with_guest_page();
	d = vmt_desc(m, 1, G);
	op_begin();
	sim_event_platform(SIM_EV_DCACHE_CLEAN, OTHER_PFN * PAGE, PAGE, 0, 0);
	write_desc(d + 1, other | XN_NEVER);
	op_end(m);
	CHECK(vmt_clean(m));
	sim_machine_destroy(m);
}

static void bbm_fires_on_a_vmid_reused_before_a_tlbi_by_vmid(void)
{
	struct sim_machine *m = machine_with_guest_page();
	struct sim_bbm *bbm = sim_machine_vms(m)->bbm;
	uint64_t root = free_hyp_page(m) * PAGE;

	CHECK(vmt_clean(m));
	/* A VM of VMID 9 runs, goes, and a new one gets VMID 9 with no TLBI VMALLS12E1IS. */
	sim_bbm_add_roots(bbm, root, 1, 1, 9);
	sim_bbm_drop_vmid(bbm, 9);
	sim_bbm_add_roots(bbm, root, 1, 1, 9);
	CHECK(fired(m, SIM_ORACLE_BBM, "VMID 9 reused"));
	sim_machine_destroy(m);

	/* With the TLBI in between, quiet. */
	m = machine_with_guest_page();
	bbm = sim_machine_vms(m)->bbm;
	sim_bbm_add_roots(bbm, root, 1, 1, 9);
	sim_bbm_drop_vmid(bbm, 9);
	op_begin();
	sim_event_platform(SIM_EV_TLBI_VMID, 9, 0, 0, 0);
	op_end(m);
	sim_bbm_add_roots(bbm, root, 1, 1, 9);
	sim_bbm_drop_vmid(bbm, 9);
	CHECK(vmt_clean(m));
	sim_machine_destroy(m);
}

int main(void)
{
	TEST(clean_vm_random_run_is_quiet);
	TEST(bbm_fires_on_a_valid_descriptor_changed_in_place);
	TEST(bbm_fires_on_a_make_before_the_tlbi);
	TEST(break_dsb_tlbi_make_is_quiet);
	TEST(tlb_fires_on_a_break_never_invalidated);
	TEST(tlb_fires_on_a_tlbi_before_the_dsb);
	TEST(tlb_fires_on_a_wrong_level_hint_or_vmid);
	TEST(bbm_fires_on_a_table_freed_before_a_covering_tlbi);
	TEST(a_table_freed_after_a_range_tlbi_is_quiet);
	TEST(bbm_fires_on_a_write_into_an_unlinked_table);
	TEST(bbm_fires_on_a_page_freed_or_given_away_while_stale);
	TEST(bbm_fires_on_a_table_linked_twice);
	TEST(hyp_conserve_fires_on_a_page_held_by_nothing);
	TEST(hyp_conserve_fires_on_a_double_free);
	TEST(bbm_fires_on_a_table_linked_while_not_zeroed);
	TEST(bbm_fires_on_guest_memory_mapped_before_its_clean);
	TEST(bbm_fires_on_guest_code_mapped_before_its_icache_inval);
	TEST(bbm_fires_on_a_vmid_reused_before_a_tlbi_by_vmid);
	return tap_done();
}
