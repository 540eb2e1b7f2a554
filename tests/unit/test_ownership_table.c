// SPDX-License-Identifier: MIT
/*
 * Every page state against every ownership transition, as pKVM's own
 * ownership selftest does: for each cell the expected result code; after
 * a success the page's new state; after a failure a byte-for-byte
 * comparison of the whole vmemmap, of the page's contents and of every
 * stage-2 table page on the walks the transition looks at (the guest's at
 * both IPAs it uses, the host's at the page), before and after. The
 * oracles run throughout and must stay quiet.
 *
 * States of the page P (and, for guest-side transitions, of the guest IPA
 * G it is or is not mapped at in vm1):
 *  host-owned       the host's alone
 *  shared-owned     the host's, shared with vm1 at G
 *  shared-borrowed  vm1's (donated at G), lent back to the host
 *  hyp-owned        donated to the hypervisor
 *  guest-owned      donated to vm1 at G
 *  no-page          a physical address with no memory behind it
 *  MMIO             a device window
 *  reserved         backed memory firmware keeps (not RAM for mm/)
 */
#include <stdlib.h>
#include <string.h>

#include <hvmm/mem_protect.h>

#include "tap.h"
#include "vmtest.h"
#include "vmemmap.h"

#define PAGE		4096ULL
#define RAM_BASE	0x80000000ULL
#define MMIO_BASE	0x10000000ULL
#define RESV_BASE	0xc0000000ULL
#define HOLE_PA		0xc0400000ULL
#define HOST_PFN	0x90000ULL
#define G		0x10000ULL	/* where P is (or would be) in vm1 */
#define G2		0x20000ULL	/* a free IPA of vm1, for donations and shares */
#define GUEST1		HVMM_OWNER_GUEST(1)

enum state { HOST_OWNED, SHARED_OWNED, SHARED_BORROWED, HYP_OWNED, GUEST_OWNED, NO_PAGE, MMIO,
	     RESERVED, NR_STATES };
enum transition { HOST_DONATE_HYP, HYP_DONATE_HOST, HOST_DONATE_GUEST, HOST_SHARE_GUEST,
		  HOST_UNSHARE_GUEST, GUEST_SHARE_HOST, GUEST_UNSHARE_HOST, TEARDOWN,
		  NR_TRANSITIONS };

static const char *const state_names[NR_STATES] = {
	"host-owned", "shared-owned", "shared-borrowed", "hyp-owned", "guest-owned", "no-page",
	"MMIO", "reserved",
};
static const char *const transition_names[NR_TRANSITIONS] = {
	"host_donate_hyp", "hyp_donate_host", "host_donate_guest", "host_share_guest",
	"host_unshare_guest", "guest_share_host", "guest_unshare_host", "teardown",
};

/*
 * What each cell must return, and the page's state after a success, come
 * from the reference model of ownership (sim/oracle/spec.c), the one copy
 * of the transition rules; the test adds what the model cannot say: that
 * a refused transition leaves every byte as it was. The matrix the model
 * predicts is printed, and it must hold every kind of answer (success,
 * EPERM, ENOENT, EFAULT), so that a model that allowed or refused
 * everything would fail here.
 */
static struct sim_machine *machine(void)
{
	struct sim_machine_config cfg;

	sim_machine_config_default(&cfg);
	cfg.regions[0] = (struct sim_region_config){ SIM_REGION_MMIO, MMIO_BASE, 2ULL << 20 };
	cfg.regions[1] = (struct sim_region_config){ SIM_REGION_RAM, RAM_BASE, 1ULL << 30 };
	cfg.regions[2] = (struct sim_region_config){ SIM_REGION_RESERVED, RESV_BASE, 2ULL << 20 };
	cfg.nr_regions = 3;
	return vmt_machine(&cfg);
}

static uint64_t page_of(enum state s)
{
	switch (s) {
	case NO_PAGE: return HOLE_PA / PAGE;
	case MMIO: return MMIO_BASE / PAGE + 3;
	case RESERVED: return RESV_BASE / PAGE + 3;
	default: return HOST_PFN;
	}
}

/* Brings P into state @s (vm1 exists); false if the set-up itself failed. */
static bool enter(struct sim_machine *m, enum state s, uint64_t p)
{
	if (vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0))
		return false;
	if (s >= NO_PAGE)
		return true;
	/* The host touches P first, so that its stage-2 maps it (a block). */
	if (vmt_store(m, 0, p * PAGE + 8, 0x0123456789abcdefULL))
		return false;
	switch (s) {
	case SHARED_OWNED:
		return !vmt_op(m, SIM_OP_HOST_SHARE_GUEST, 1, G, p, 1, SIM_PROT_R | SIM_PROT_W) &&
		       !vmt_store(m, 1, G + 16, 0x1111);
	case SHARED_BORROWED:
		return !vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 1, G, p, 1, 0) &&
		       !vmt_store(m, 1, G + 16, 0x2222) &&
		       !vmt_op(m, SIM_OP_GUEST_SHARE_HOST, 1, G, 0, 1, 0);
	case HYP_OWNED:
		return !vmt_op(m, SIM_OP_HOST_DONATE_HYP, 0, 0, p, 1, 0);
	case GUEST_OWNED:
		return !vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 1, G, p, 1, 0) &&
		       !vmt_store(m, 1, G + 16, 0x3333);
	default:
		return true;
	}
}

static struct sim_op op_of(enum transition t, uint64_t p)
{
	static const struct { uint16_t kind; uint32_t vm; uint64_t ipa; bool pfn; uint64_t prot; }
	ops[NR_TRANSITIONS] = {
		[HOST_DONATE_HYP] = { SIM_OP_HOST_DONATE_HYP, 0, 0, true, 0 },
		[HYP_DONATE_HOST] = { SIM_OP_HYP_DONATE_HOST, 0, 0, true, 0 },
		[HOST_DONATE_GUEST] = { SIM_OP_HOST_DONATE_GUEST, 1, G2, true, 0 },
		[HOST_SHARE_GUEST] = { SIM_OP_HOST_SHARE_GUEST, 1, G2, true, SIM_PROT_R },
		[HOST_UNSHARE_GUEST] = { SIM_OP_HOST_UNSHARE_GUEST, 1, G, true, 0 },
		[GUEST_SHARE_HOST] = { SIM_OP_GUEST_SHARE_HOST, 1, G, false, 0 },
		[GUEST_UNSHARE_HOST] = { SIM_OP_GUEST_UNSHARE_HOST, 1, G, false, 0 },
		[TEARDOWN] = { SIM_OP_VM_DESTROY, 1, 0, false, 0 },
	};

	return (struct sim_op){ .kind = ops[t].kind, .vm = ops[t].vm, .a = ops[t].ipa,
				.b = ops[t].pfn ? p : 0, .c = t == TEARDOWN ? 0 : 1,
				.d = ops[t].prot };
}

/* --- snapshots --------------------------------------------------------------- */

#define MAX_TABLES 12

struct snapshot {
	struct hvmm_page *vmemmap;
	uint64_t vmemmap_bytes;
	uint8_t page[PAGE];
	bool page_backed;
	unsigned int nr_tables;
	uint64_t table_pa[MAX_TABLES];
	uint8_t table[MAX_TABLES][PAGE];
};

static void snap_walk(struct sim_machine *m, struct snapshot *s, uint32_t vm, uint64_t ipa)
{
	struct sim_walk w;

	vmt_walk(m, vm, ipa, &w);
	for (unsigned int i = 0; i < w.nr_tables && s->nr_tables < MAX_TABLES; i++) {
		s->table_pa[s->nr_tables] = w.tables[i];
		memcpy(s->table[s->nr_tables++], vmt_host(m, w.tables[i] / PAGE), PAGE);
	}
}

static void snap(struct sim_machine *m, struct snapshot *s, uint64_t p)
{
	const struct sim_vmemmap *vmemmap = sim_machine_vmemmap(m);
	const void *host = vmt_host(m, p);

	s->vmemmap_bytes = vmemmap->bytes;
	s->vmemmap = malloc(s->vmemmap_bytes);
	if (!s->vmemmap)
		exit(99);
	memcpy(s->vmemmap, vmemmap->pages, s->vmemmap_bytes);
	s->page_backed = host != NULL;
	if (host)
		memcpy(s->page, host, PAGE);
	s->nr_tables = 0;
	snap_walk(m, s, 1, G);
	snap_walk(m, s, 1, G2);
	snap_walk(m, s, 0, p * PAGE);
}

/* Unchanged: the vmemmap, the page, the tables the walks read (and the walks themselves). */
static bool unchanged(struct sim_machine *m, const struct snapshot *a, uint64_t p)
{
	struct snapshot *b = malloc(sizeof(*b));
	bool same = true;

	if (!b)
		exit(99);
	snap(m, b, p);
	if (memcmp(a->vmemmap, b->vmemmap, a->vmemmap_bytes)) {
		for (uint64_t i = 0; i < a->vmemmap_bytes / sizeof(struct hvmm_page); i++)
			if (memcmp(&a->vmemmap[i], &b->vmemmap[i], sizeof(struct hvmm_page))) {
				printf("#   vmemmap entry of pfn 0x%llx changed\n",
				       (unsigned long long)(sim_machine_physmem(m)->start_pfn + i));
				break;
			}
		same = false;
	}
	if (a->page_backed && memcmp(a->page, b->page, PAGE)) {
		printf("#   the contents of pfn 0x%llx changed\n", (unsigned long long)p);
		same = false;
	}
	if (a->nr_tables != b->nr_tables ||
	    memcmp(a->table_pa, b->table_pa, a->nr_tables * sizeof(a->table_pa[0]))) {
		printf("#   the stage-2 walks changed\n");
		same = false;
	}
	for (unsigned int i = 0; same && i < a->nr_tables; i++)
		if (memcmp(a->table[i], b->table[i], PAGE)) {
			printf("#   stage-2 table page pa 0x%llx changed\n",
			       (unsigned long long)a->table_pa[i]);
			same = false;
		}
	free(b->vmemmap);
	free(b);
	return same;
}

/* --- the table ---------------------------------------------------------------- */

static int predicted[NR_STATES][NR_TRANSITIONS];

static bool run_cell(enum state s, enum transition t)
{
	struct sim_machine *m = machine();
	struct snapshot *before = malloc(sizeof(*before));
	uint64_t p = page_of(s);
	struct sim_spec_verdict want;
	struct sim_op op = op_of(t, p);
	bool ok = true;
	int ret;

	if (!before)
		exit(99);
	if (!enter(m, s, p)) {
		printf("#   %s: cannot set the page up\n", state_names[s]);
		ok = false;
		goto out;
	}
	snap(m, before, p);
	want = sim_spec_predict(&sim_machine_vms(m)->spec, &op);
	predicted[s][t] = want.result;
	ret = sim_machine_exec(m, &op, NULL);
	if (ret != want.result) {
		printf("#   %s x %s: returned %s, the model expects %s\n", state_names[s],
		       transition_names[t], sim_result_name(ret), sim_result_name(want.result));
		ok = false;
	} else if (ret) {
		ok = unchanged(m, before, p);
	} else if (s < NO_PAGE) {
		struct sim_mm_page pg = sim_mm_page(sim_machine_vmemmap(m), p);
		struct sim_vm_owner want_own = sim_vm_model_owner(sim_vm_view(sim_machine_vms(m)), p);

		if (pg.owner != want_own.owner || pg.vmid != want_own.vmid ||
		    pg.state != want_own.state || pg.share_count != want_own.share_count) {
			printf("#   %s x %s: page is owner %u/%u state %u shared %u; the model says "
			       "%u/%u %u %u\n", state_names[s], transition_names[t], pg.owner, pg.vmid,
			       pg.state, pg.share_count, want_own.owner, want_own.vmid, want_own.state,
			       want_own.share_count);
			ok = false;
		}
	}
	sim_machine_finish(m);
	if (!sim_report_clean(sim_machine_report(m))) {
		printf("#   %s x %s: the oracles fired\n", state_names[s], transition_names[t]);
		sim_report_print(sim_machine_report(m), stdout);
		ok = false;
	}
	free(before->vmemmap);
out:
	free(before);
	sim_machine_destroy(m);
	return ok;
}

static void every_state_against_every_transition(void)
{
	static const int kinds[] = { 0, -HVMM_EPERM, -HVMM_ENOENT, -HVMM_EFAULT };
	unsigned int cells = 0, failed = 0;
	bool all_kinds = true;

	for (unsigned int s = 0; s < NR_STATES; s++)
		for (unsigned int t = 0; t < NR_TRANSITIONS; t++) {
			cells++;
			if (!run_cell(s, t)) {
				printf("#   cell %s x %s failed\n", state_names[s], transition_names[t]);
				failed++;
			}
		}
	printf("#   %-16s", "");
	for (unsigned int t = 0; t < NR_TRANSITIONS; t++)
		printf(" %-7.7s", transition_names[t]);
	printf("\n");
	for (unsigned int s = 0; s < NR_STATES; s++) {
		printf("#   %-16s", state_names[s]);
		for (unsigned int t = 0; t < NR_TRANSITIONS; t++)
			printf(" %-7s", sim_result_name(predicted[s][t]));
		printf("\n");
	}
	for (unsigned int k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		bool seen = false;

		for (unsigned int s = 0; s < NR_STATES; s++)
			for (unsigned int t = 0; t < NR_TRANSITIONS; t++)
				seen |= predicted[s][t] == kinds[k];
		if (!seen) {
			printf("#   the model never predicts %s\n", sim_result_name(kinds[k]));
			all_kinds = false;
		}
	}
	printf("#   %u cells, %u failed\n", cells, failed);
	CHECK(cells == NR_STATES * NR_TRANSITIONS && failed == 0 && all_kinds);
}

/* The table is not vacuous: a change the comparison must see is seen. */
static void the_comparison_sees_changes(void)
{
	struct sim_machine *m = machine();
	struct snapshot *before = malloc(sizeof(*before));
	uint64_t *desc;

	if (!before)
		exit(99);
	CHECK(enter(m, GUEST_OWNED, HOST_PFN));
	snap(m, before, HOST_PFN);
	CHECK(unchanged(m, before, HOST_PFN));
	desc = vmt_desc(m, 1, G);
	*desc ^= 1ULL << 6;		/* one permission bit of the guest's leaf */
	CHECK(!unchanged(m, before, HOST_PFN));
	*desc ^= 1ULL << 6;
	vmt_meta(m, HOST_PFN)->flags ^= 0x80;
	CHECK(!unchanged(m, before, HOST_PFN));
	vmt_meta(m, HOST_PFN)->flags ^= 0x80;
	CHECK(unchanged(m, before, HOST_PFN));
	free(before->vmemmap);
	free(before);
	sim_machine_destroy(m);
}

int main(void)
{
	TEST(every_state_against_every_transition);
	TEST(the_comparison_sees_changes);
	return tap_done();
}
