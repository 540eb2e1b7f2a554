// SPDX-License-Identifier: MIT
/*
 * Negative tests of the linearizability check (sim/oracle/linearize.h),
 * on hand-written histories over the allocator shadow and over SPEC: each
 * non-linearizable history is reported, with the op to blame, and the same
 * ops with timings that allow an order are accepted with a witness order
 * that respects real time. The references are left as they were.
 */
#include <string.h>

#include <hvmm/types.h>

#include "oracle/linearize.h"
#include "tap.h"

#define BASE	0x80000ULL
#define NR	1024ULL
#define G	0x10000ULL		/* a guest IPA */

static struct sim_alloc_shadow shadow;
static struct sim_spec spec;

/* Ops are written (vcpu, call, ret, result, value): one line each. */
static struct sim_lin_event ev(unsigned int kind, uint32_t h, uint64_t a, uint32_t vcpu,
			       uint64_t call, uint64_t ret, int result, uint64_t value)
{
	return (struct sim_lin_event){
		.op = { .kind = (uint16_t)kind, .h = h, .a = a }, .vcpu = vcpu,
		.call = call, .ret = ret, .result = result, .value = value,
	};
}

static struct sim_lin_event vm_ev(unsigned int kind, uint32_t vm, uint64_t ipa, uint64_t pfn,
				  uint64_t pages, uint32_t vcpu, uint64_t call, uint64_t ret,
				  int result)
{
	return (struct sim_lin_event){
		.op = { .kind = (uint16_t)kind, .vm = vm, .a = ipa, .b = pfn, .c = pages,
			.d = SIM_PROT_R | SIM_PROT_W },
		.vcpu = vcpu, .call = call, .ret = ret, .result = result,
	};
}

static const struct sim_lin_refs alloc_refs = { .shadow = &shadow, .alloc_max_order = 10 };

/* A shadow of @free free pages from BASE, nothing allocated. */
static void fresh_shadow(uint64_t free)
{
	sim_alloc_shadow_fini(&shadow);
	CHECK(sim_alloc_shadow_init(&shadow, BASE, NR) == 0);
	sim_alloc_shadow_set(&shadow, BASE, free, SIM_SHADOW_FREE);
}

/* True if @r's order puts every op after each op that returned before it was invoked. */
static bool respects_real_time(const struct sim_lin_event *h, const struct sim_lin_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		for (size_t j = i + 1; j < r->n; j++)
			if (h[r->order[j]].ret < h[r->order[i]].call)
				return false;
	return true;
}

static enum sim_lin_verdict check(const struct sim_lin_refs *refs, const struct sim_lin_event *h,
				  size_t n, struct sim_lin_result *r)
{
	enum sim_lin_verdict v = sim_lin_check(refs, h, n, 100000, r);

	if (v == SIM_LIN_OK) {
		CHECK_EQ(r->n, n);
		CHECK(respects_real_time(h, r));
	}
	return v;
}

/* Two allocations that overlap in time cannot both get one page. */
static void alloc_same_page_twice(void)
{
	struct sim_lin_event h[] = {
		ev(SIM_OP_ALLOC, 1, 0, 0, 0, 3, 0, BASE),
		ev(SIM_OP_ALLOC, 2, 0, 1, 1, 2, 0, BASE),
	};
	struct sim_lin_result r;

	fresh_shadow(4);
	CHECK_EQ(check(&alloc_refs, h, 2, &r), SIM_LIN_VIOLATION);
	CHECK_EQ(r.longest, 1);
	CHECK(r.stuck < 2);
	h[1].value = BASE + 1;
	CHECK_EQ(check(&alloc_refs, h, 2, &r), SIM_LIN_OK);
	/* The references are left as they were. */
	CHECK_EQ(shadow.nr_free, 4);
	CHECK(sim_alloc_shadow_all_free(&shadow, BASE, 4));
}

/*
 * A page freed and handed out again: fine if the free was under way when
 * the second allocation returned, not if the free had not even begun.
 */
static void reuse_before_free_began(void)
{
	struct sim_lin_event h[] = {
		ev(SIM_OP_ALLOC, 1, 0, 0, 0, 1, 0, BASE),
		ev(SIM_OP_FREE, 1, 0, 0, 4, 5, 0, 0),
		ev(SIM_OP_ALLOC, 2, 0, 1, 2, 3, 0, BASE),
	};
	struct sim_lin_result r;

	fresh_shadow(1);
	CHECK_EQ(check(&alloc_refs, h, 3, &r), SIM_LIN_VIOLATION);
	CHECK_EQ(r.stuck, 2);
	h[1].call = 2;
	h[1].ret = 6;		/* the free overlaps the allocation: free, then alloc */
	CHECK_EQ(check(&alloc_refs, h, 3, &r), SIM_LIN_OK);
	CHECK(r.order[0] == 0 && r.order[1] == 1 && r.order[2] == 2);
}

/* ENOMEM is a result too: allowed only if no order leaves a free page for it. */
static void enomem_only_when_full(void)
{
	struct sim_lin_event h[] = {
		ev(SIM_OP_ALLOC, 1, 0, 0, 0, 3, 0, BASE),
		ev(SIM_OP_ALLOC, 2, 0, 1, 1, 2, -HVMM_ENOMEM, 0),
	};
	struct sim_lin_result r;

	fresh_shadow(1);
	CHECK_EQ(check(&alloc_refs, h, 2, &r), SIM_LIN_OK);
	CHECK(r.order[0] == 0);
	fresh_shadow(2);
	CHECK_EQ(check(&alloc_refs, h, 2, &r), SIM_LIN_VIOLATION);
	CHECK_EQ(r.stuck, 1);
}

/* A model of two VMs' ownership: VM 1 live, 1024 pages of RAM, all the host's. */
static void fresh_spec(void)
{
	struct sim_spec_config cfg = {
		.ram = { { BASE, NR } }, .nr_ram = 1, .base_pfn = BASE, .nr_pfns = NR,
		.guest_ia_size = 1ULL << 40, .host_ia_size = 1ULL << 40, .host_vcpus = 2,
		.max_vms = 4, .max_vcpus = 4, .pick_from = BASE,
	};
	struct sim_op create = { .kind = SIM_OP_VM_CREATE, .vm = 1, .a = 1 };
	struct sim_spec_verdict v;

	sim_spec_fini(&spec);
	CHECK(sim_spec_init(&spec, &cfg) == 0);
	v = sim_spec_predict(&spec, &create);
	CHECK_EQ(v.result, 0);
	sim_spec_apply(&spec, &create, &v);
}

/* One page both shared into a guest and donated to the hypervisor: one of them must fail. */
static void share_and_donate_one_page(void)
{
	const struct sim_lin_refs refs = { .spec = &spec };
	struct sim_lin_event h[] = {
		vm_ev(SIM_OP_HOST_SHARE_GUEST, 1, G, BASE + 7, 1, 0, 0, 3, 0),
		vm_ev(SIM_OP_HOST_DONATE_HYP, 0, 0, BASE + 7, 1, 1, 1, 2, 0),
	};
	struct sim_lin_result r;

	fresh_spec();
	CHECK_EQ(check(&refs, h, 2, &r), SIM_LIN_VIOLATION);
	h[1].result = -HVMM_EPERM;		/* the donation came second */
	CHECK_EQ(check(&refs, h, 2, &r), SIM_LIN_OK);
	CHECK(r.order[0] == 0 && r.order[1] == 1);
	h[0].result = -HVMM_EPERM;		/* ... or the share did: either alone is fine */
	h[1].result = 0;
	CHECK_EQ(check(&refs, h, 2, &r), SIM_LIN_OK);
	CHECK(r.order[0] == 1 && r.order[1] == 0);
	/* Not both failing: whichever went first had nothing in its way. */
	h[1].result = -HVMM_EPERM;
	CHECK_EQ(check(&refs, h, 2, &r), SIM_LIN_VIOLATION);
	/* SPEC is left as it was. */
	CHECK(sim_spec_page(&spec, BASE + 7)->state == SPEC_HOST);
	CHECK(sim_spec_ipa(&spec, 1, G) == NULL);
}

/* A guest shares back a page it was donated: only after the donation returned may it fail. */
static void guest_share_of_donated_page(void)
{
	const struct sim_lin_refs refs = { .spec = &spec };
	struct sim_lin_event h[] = {
		vm_ev(SIM_OP_HOST_DONATE_GUEST, 1, G, BASE + 3, 2, 0, 0, 1, 0),
		vm_ev(SIM_OP_GUEST_SHARE_HOST, 1, G, 0, 2, 1, 2, 3, -HVMM_ENOENT),
	};
	struct sim_lin_result r;

	fresh_spec();
	CHECK_EQ(check(&refs, h, 2, &r), SIM_LIN_VIOLATION);
	CHECK_EQ(r.stuck, 1);
	h[1].call = 0;			/* overlapping: the share may have come first */
	CHECK_EQ(check(&refs, h, 2, &r), SIM_LIN_OK);
	CHECK(r.order[0] == 1);
	CHECK(sim_spec_ipa(&spec, 1, G) == NULL);
}

/* The tables as a test's walker reads them: vm1's page at G, nothing elsewhere. */
static struct sim_lin_leaf tables_at_g;

static struct sim_lin_leaf fake_walk(void *ctx, unsigned int vm, uint64_t ipa)
{
	(void)ctx;
	if (vm == 1 && ipa == G)
		return tables_at_g;
	return (struct sim_lin_leaf){ .prot = -1 };
}

/*
 * Two protects of one guest page overlap in time: both succeed in either
 * order, and only the tables say whose permissions came last. Judged by
 * results alone the search takes the first order it tries; with the tables
 * read, only the order that leaves them as they are; with tables no order
 * explains, a state violation that hands back an order of fitting results
 * and the page that differs. Results are still judged first.
 */
static void two_protects_one_page(void)
{
	struct sim_lin_refs refs = { .spec = &spec };
	struct sim_lin_event h[] = {
		vm_ev(SIM_OP_S2_PROTECT, 1, G, 0, 1, 0, 0, 3, 0),
		vm_ev(SIM_OP_S2_PROTECT, 1, G, 0, 1, 1, 1, 2, 0),
	};
	struct sim_op donate = { .kind = SIM_OP_HOST_DONATE_GUEST, .vm = 1, .a = G,
				 .b = BASE + 5, .c = 1 };
	struct sim_spec_verdict v;
	struct sim_lin_result r;

	fresh_spec();
	v = sim_spec_predict(&spec, &donate);
	CHECK_EQ(v.result, 0);
	sim_spec_apply(&spec, &donate, &v);
	h[0].op.d = SIM_PROT_R;
	h[1].op.d = SIM_PROT_R | SIM_PROT_W;
	/* Results alone: the first order tried, op 1 last. */
	CHECK_EQ(check(&refs, h, 2, &r), SIM_LIN_OK);
	CHECK(r.order[0] == 0 && r.order[1] == 1);
	CHECK_EQ(r.leaves, 0);
	/* The tables hold op 0's permissions: op 0 came last. */
	refs.walk = fake_walk;
	tables_at_g = (struct sim_lin_leaf){ .prot = SIM_PROT_R, .pfn = BASE + 5 };
	CHECK_EQ(check(&refs, h, 2, &r), SIM_LIN_OK);
	CHECK(r.order[0] == 1 && r.order[1] == 0);
	CHECK_EQ(r.leaves, 1);
	CHECK_EQ(r.state_misses, 1);
	tables_at_g.prot = SIM_PROT_R | SIM_PROT_W;
	CHECK_EQ(check(&refs, h, 2, &r), SIM_LIN_OK);
	CHECK(r.order[0] == 0 && r.order[1] == 1);
	CHECK_EQ(r.state_misses, 0);
	/* Permissions neither gave (the donation's), or another page: no order fits both. */
	tables_at_g.prot = SIM_PROT_R | SIM_PROT_W | SIM_PROT_X;
	CHECK_EQ(check(&refs, h, 2, &r), SIM_LIN_STATE);
	CHECK_EQ(r.n, 2);
	CHECK(r.order[0] == 0 && r.order[1] == 1);
	CHECK_EQ(r.state_misses, 2);
	CHECK(r.mismatch.vm == 1 && r.mismatch.ipa == G);
	CHECK_EQ(r.mismatch.tables.prot, SIM_PROT_R | SIM_PROT_W | SIM_PROT_X);
	CHECK_EQ(r.mismatch.model.prot, SIM_PROT_R | SIM_PROT_W);
	tables_at_g = (struct sim_lin_leaf){ .prot = SIM_PROT_R, .pfn = BASE + 6 };
	CHECK_EQ(check(&refs, h, 2, &r), SIM_LIN_STATE);
	tables_at_g.prot = -1;
	CHECK_EQ(check(&refs, h, 2, &r), SIM_LIN_STATE);
	CHECK_EQ(r.mismatch.model.prot, SIM_PROT_R | SIM_PROT_W);
	/* The search for a fitting state keeps to the budget. */
	tables_at_g = (struct sim_lin_leaf){ .prot = SIM_PROT_R, .pfn = BASE + 5 };
	CHECK_EQ(sim_lin_check(&refs, h, 2, 2, &r), SIM_LIN_GAVE_UP);
	/* A result no order allows is a violation whatever the tables hold. */
	h[1].result = -HVMM_ENOENT;
	CHECK_EQ(check(&refs, h, 2, &r), SIM_LIN_VIOLATION);
	CHECK_EQ(r.stuck, 1);
	/* SPEC is left as it was. */
	CHECK_EQ(sim_spec_ipa(&spec, 1, G)->prot, SIM_PROT_R | SIM_PROT_W | SIM_PROT_X);
	CHECK_EQ(sim_spec_ipa(&spec, 1, G)->pfn, BASE + 5);
}

/*
 * Four vCPUs allocating six pages each, every round of four overlapping:
 * distinct pages linearize, and memoization keeps the search small; a page
 * handed out twice is found. A budget too small says so instead of
 * guessing, and a vCPU with two ops at once is not a history.
 */
static void four_vcpus_and_the_budget(void)
{
	struct sim_lin_event h[24];
	struct sim_lin_result r;

	fresh_shadow(64);
	for (unsigned int i = 0; i < 24; i++)
		h[i] = ev(SIM_OP_ALLOC, i + 1, 0, i % 4, (i / 4) * 10 + i % 4,
			  (i / 4) * 10 + 5 + i % 4, 0, BASE + 23 - i);
	CHECK_EQ(check(&alloc_refs, h, 24, &r), SIM_LIN_OK);
	CHECK(r.nodes < 100);
	h[20].value = h[3].value;
	CHECK_EQ(check(&alloc_refs, h, 24, &r), SIM_LIN_VIOLATION);
	CHECK_EQ(r.stuck, 20);
	CHECK_EQ(sim_lin_check(&alloc_refs, h, 24, 10, &r), SIM_LIN_GAVE_UP);
	h[4].call = h[0].call;		/* vCPU 0 again, before its first op returned */
	CHECK_EQ(sim_lin_check(&alloc_refs, h, 24, 100000, &r), SIM_LIN_BAD_INPUT);
	CHECK_EQ(shadow.nr_free, 64);
}

int main(void)
{
	TEST(alloc_same_page_twice);
	TEST(reuse_before_free_began);
	TEST(enomem_only_when_full);
	TEST(share_and_donate_one_page);
	TEST(guest_share_of_donated_page);
	TEST(two_protects_one_page);
	TEST(four_vcpus_and_the_budget);
	sim_alloc_shadow_fini(&shadow);
	sim_spec_fini(&spec);
	return tap_done();
}
