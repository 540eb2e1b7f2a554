// SPDX-License-Identifier: MIT
/*
 * Stage-2 scenarios through the executor (sim_machine_exec), judged by
 * what the VMs and the host observe, by the independent walker, and by
 * the oracles, which must stay quiet throughout:
 *  - a VM's secret does not survive its destruction into another VM;
 *  - shares and unshares keep both sides' views right, both ways;
 *  - block mappings split correctly on a partial unmap, unshare or
 *    permission change;
 *  - a guest that takes every table page it can leaves the host's own;
 *  - a VM of many single pages is destroyed with every page back where it
 *    came from;
 *  - what a host can bring about is refused with a warning, not a panic;
 *  - a VM looked up by VMID stays that VM until it is put back;
 *  - allocator ops ask mm/ for no dirty-mark call, and the first VM op's
 *    table pages are marked all the same.
 */
#include <string.h>

#include <hvmm/mem_protect.h>
#include <hvmm/vm.h>

#include "event/event.h"
#include "platform.h"
#include "tap.h"
#include "vmtest.h"

#define PAGE		4096ULL
#define HOST_PFN	0x90000ULL	/* host RAM, well past both pools */
#define BLOCK_PFN	0x90200ULL	/* 2 MiB aligned */
#define BLOCK_IPA	0x40000000ULL
#define SECRET		0x5ec2e75ec2e7ULL

static struct sim_machine *machine(void)
{
	return vmt_machine(NULL);
}

static bool quiet(struct sim_machine *m)
{
	sim_machine_finish(m);
	if (sim_report_clean(sim_machine_report(m)))
		return true;
	sim_report_print(sim_machine_report(m), stdout);
	return false;
}

/* The hardware view of one IPA page: pfn and rights, or false on a fault. */
static bool translates(struct sim_machine *m, uint32_t vm, uint64_t ipa, uint64_t pfn,
		       bool write, int level)
{
	struct sim_walk w;

	vmt_walk(m, vm, ipa, &w);
	if (w.fault) {
		printf("#   vm%u ipa 0x%llx: %s\n", vm, (unsigned long long)ipa,
		       sim_fault_name(w.fault));
		return false;
	}
	if (w.t.pa_base + (ipa - w.t.ipa_base) != pfn * PAGE || !w.t.read || w.t.write != write ||
	    (level >= 0 && w.t.level != level)) {
		printf("#   vm%u ipa 0x%llx: pa 0x%llx r%d w%d level %d; expected pa 0x%llx w%d "
		       "level %d\n", vm, (unsigned long long)ipa,
		       (unsigned long long)(w.t.pa_base + (ipa - w.t.ipa_base)), w.t.read,
		       w.t.write, w.t.level, (unsigned long long)(pfn * PAGE), write, level);
		return false;
	}
	return true;
}

static bool absent(struct sim_machine *m, uint32_t vm, uint64_t ipa)
{
	struct sim_walk w;

	vmt_walk(m, vm, ipa, &w);
	return w.fault == SIM_FAULT_TRANSLATION;
}

static void secret_does_not_survive_into_the_next_vm(void)
{
	struct sim_machine *m = machine();
	uint64_t v = 1;
	bool zero = true;

	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 1, 0x1000, HOST_PFN, 1, 0) == 0);
	for (uint64_t off = 0; off < PAGE; off += 8)
		CHECK(vmt_store(m, 1, 0x1000 + off, SECRET ^ off) == 0);
	CHECK(vmt_load(m, 1, 0x1ff8, &v) == 0 && v == (SECRET ^ 0xff8));
	/* The host cannot see it while the guest owns it. */
	CHECK(vmt_load(m, 0, HOST_PFN * PAGE, &v) == -HVMM_EFAULT);
	CHECK(vmt_op(m, SIM_OP_VM_DESTROY, 1, 0, 0, 0, 0) == 0);

	/* The next VM (same slot, same VMID) gets the very same page. */
	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 2, 1, 0, 0, 0) == 0);
	CHECK(sim_machine_vms(m)->g[2].vmid == 1);
	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 2, 0x5000, HOST_PFN, 1, 0) == 0);
	for (uint64_t off = 0; off < PAGE; off += 8) {
		CHECK(vmt_load(m, 2, 0x5000 + off, &v) == 0);
		zero &= v == 0;
	}
	CHECK(zero);
	/* Nor does the old IPA translate for the new VM (no stale TLB entry). */
	CHECK(vmt_load(m, 2, 0x1000, &v) == -HVMM_EFAULT);
	CHECK(quiet(m));
	sim_machine_destroy(m);
}

static void reclaimed_page_reaches_the_host_zeroed(void)
{
	struct sim_machine *m = machine();
	const uint64_t *words;
	struct sim_walk w;
	uint64_t v = 1, pfn;
	bool zero = true;

	/* A fault donates a page of the host's choosing; the guest dirties it and lends it back. */
	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_FAULT, 1, 0x7000, 0, 0, 0) == 0);
	vmt_walk(m, 1, 0x7000, &w);
	CHECK(!w.fault);
	pfn = w.t.pa_base / PAGE;
	CHECK(vmt_store(m, 1, 0x7008, SECRET) == 0);
	CHECK(vmt_op(m, SIM_OP_GUEST_SHARE_HOST, 1, 0x7000, 0, 1, 0) == 0);
	CHECK(vmt_load(m, 0, pfn * PAGE + 8, &v) == 0 && v == SECRET);
	CHECK(vmt_op(m, SIM_OP_VM_DESTROY, 1, 0, 0, 0, 0) == 0);
	words = vmt_host(m, pfn);
	for (unsigned int i = 0; i < 512; i++)
		zero &= words[i] == 0;
	CHECK(zero);
	CHECK(vmt_load(m, 0, pfn * PAGE + 8, &v) == 0 && v == 0);
	CHECK(vmt_meta(m, pfn)->owner == HVMM_OWNER_HOST);
	CHECK(quiet(m));
	sim_machine_destroy(m);
}

static void host_share_is_seen_both_ways_until_unshared(void)
{
	struct sim_machine *m = machine();
	const uint64_t pa = HOST_PFN * PAGE, ipa = 0x3000;
	uint64_t v = 0;

	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	CHECK(vmt_store(m, 0, pa + 0x10, 0x1111) == 0);
	CHECK(vmt_op(m, SIM_OP_HOST_SHARE_GUEST, 1, ipa, HOST_PFN, 1, SIM_PROT_R | SIM_PROT_W) == 0);
	CHECK(translates(m, 1, ipa, HOST_PFN, true, 3));
	CHECK(vmt_load(m, 1, ipa + 0x10, &v) == 0 && v == 0x1111);
	CHECK(vmt_store(m, 1, ipa + 0x18, 0x2222) == 0);
	CHECK(vmt_load(m, 0, pa + 0x18, &v) == 0 && v == 0x2222);
	CHECK(vmt_store(m, 0, pa + 0x10, 0x3333) == 0);
	CHECK(vmt_load(m, 1, ipa + 0x10, &v) == 0 && v == 0x3333);

	/* A read-only share to a second VM: it reads, it cannot write. */
	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 2, 1, 0, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_HOST_SHARE_GUEST, 2, 0x9000, HOST_PFN, 1, SIM_PROT_R) == 0);
	CHECK(vmt_meta(m, HOST_PFN)->share_count == 2);
	CHECK(vmt_load(m, 2, 0x9018, &v) == 0 && v == 0x2222);
	CHECK(vmt_store(m, 2, 0x9018, 0x4444) == -HVMM_EFAULT);

	/* Unshared from vm1: vm1 faults, the host and vm2 keep the page. */
	CHECK(vmt_op(m, SIM_OP_HOST_UNSHARE_GUEST, 1, ipa, HOST_PFN, 1, 0) == 0);
	CHECK(absent(m, 1, ipa));
	CHECK(vmt_load(m, 1, ipa + 0x10, &v) == -HVMM_EFAULT);
	CHECK(vmt_store(m, 1, ipa + 0x10, 0x5555) == -HVMM_EFAULT);
	CHECK(vmt_load(m, 0, pa + 0x10, &v) == 0 && v == 0x3333);
	CHECK(vmt_load(m, 2, 0x9010, &v) == 0 && v == 0x3333);
	CHECK(vmt_op(m, SIM_OP_HOST_UNSHARE_GUEST, 2, 0x9000, HOST_PFN, 1, 0) == 0);
	CHECK(vmt_meta(m, HOST_PFN)->share_count == 0);
	CHECK(vmt_meta(m, HOST_PFN)->host_state == HVMM_PAGE_OWNED);
	CHECK(vmt_store(m, 0, pa + 0x10, 0x6666) == 0);
	CHECK(vmt_load(m, 0, pa + 0x10, &v) == 0 && v == 0x6666);
	/* Unsharing twice is refused. */
	CHECK(vmt_op(m, SIM_OP_HOST_UNSHARE_GUEST, 1, ipa, HOST_PFN, 1, 0) == -HVMM_ENOENT);
	CHECK(quiet(m));
	sim_machine_destroy(m);
}

static void guest_share_is_seen_both_ways_until_unshared(void)
{
	struct sim_machine *m = machine();
	const uint64_t pa = HOST_PFN * PAGE, ipa = 0x4000;
	uint64_t v = 0;

	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 1, ipa, HOST_PFN, 1, 0) == 0);
	CHECK(vmt_store(m, 1, ipa + 0x20, 0xaaaa) == 0);
	CHECK(vmt_load(m, 0, pa + 0x20, &v) == -HVMM_EFAULT);
	CHECK(vmt_op(m, SIM_OP_GUEST_SHARE_HOST, 1, ipa, 0, 1, 0) == 0);
	CHECK(vmt_load(m, 0, pa + 0x20, &v) == 0 && v == 0xaaaa);
	CHECK(vmt_store(m, 0, pa + 0x28, 0xbbbb) == 0);
	CHECK(vmt_load(m, 1, ipa + 0x28, &v) == 0 && v == 0xbbbb);
	CHECK(vmt_store(m, 1, ipa + 0x20, 0xcccc) == 0);
	CHECK(vmt_load(m, 0, pa + 0x20, &v) == 0 && v == 0xcccc);

	/* Unshared: the host loses the page (and its TLB entry), the guest keeps it. */
	CHECK(vmt_op(m, SIM_OP_GUEST_UNSHARE_HOST, 1, ipa, 0, 1, 0) == 0);
	CHECK(absent(m, 0, pa));
	CHECK(vmt_load(m, 0, pa + 0x20, &v) == -HVMM_EFAULT);
	CHECK(vmt_store(m, 0, pa + 0x20, 0xdddd) == -HVMM_EFAULT);
	CHECK(vmt_load(m, 1, ipa + 0x20, &v) == 0 && v == 0xcccc);
	CHECK(vmt_load(m, 1, ipa + 0x28, &v) == 0 && v == 0xbbbb);
	CHECK(quiet(m));
	sim_machine_destroy(m);
}

/* A 2 MiB block donated, then cut by a partial park (guest unmap) and a partial protect. */
static void donated_block_splits_on_partial_unmap(void)
{
	struct sim_machine *m = machine();
	uint64_t v = 0;

	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 1, BLOCK_IPA, BLOCK_PFN, 512, 0) == 0);
	CHECK(translates(m, 1, BLOCK_IPA + 5 * PAGE, BLOCK_PFN + 5, true, 2));
	CHECK(vmt_store(m, 1, BLOCK_IPA + 5 * PAGE, 0x55) == 0);	/* the block is in the TLB */
	CHECK(vmt_store(m, 1, BLOCK_IPA + 6 * PAGE, 0x66) == 0);

	CHECK(vmt_op(m, SIM_OP_S2_UNMAP, 1, BLOCK_IPA + 5 * PAGE, 0, 1, 0) == 0);
	CHECK(absent(m, 1, BLOCK_IPA + 5 * PAGE));
	CHECK(vmt_load(m, 1, BLOCK_IPA + 5 * PAGE, &v) == -HVMM_EFAULT);
	for (uint64_t i = 0; i < 512; i++)
		if (i != 5)
			CHECK(translates(m, 1, BLOCK_IPA + i * PAGE, BLOCK_PFN + i, true, 3));
	CHECK(vmt_load(m, 1, BLOCK_IPA + 6 * PAGE, &v) == 0 && v == 0x66);

	/* Write-protect two pages: only they lose write access. */
	CHECK(vmt_op(m, SIM_OP_S2_PROTECT, 1, BLOCK_IPA + 100 * PAGE, 0, 2, SIM_PROT_R) == 0);
	for (uint64_t i = 99; i <= 102; i++)
		CHECK(translates(m, 1, BLOCK_IPA + i * PAGE, BLOCK_PFN + i, i < 100 || i > 101, 3));
	CHECK(vmt_store(m, 1, BLOCK_IPA + 100 * PAGE, 1) == -HVMM_EFAULT);
	CHECK(vmt_store(m, 1, BLOCK_IPA + 102 * PAGE, 1) == 0);

	/* The parked page comes back on a fault, with its contents. */
	CHECK(vmt_op(m, SIM_OP_FAULT, 1, BLOCK_IPA + 5 * PAGE, 0, 0, 0) == 0);
	CHECK(translates(m, 1, BLOCK_IPA + 5 * PAGE, BLOCK_PFN + 5, true, 3));
	CHECK(vmt_load(m, 1, BLOCK_IPA + 5 * PAGE, &v) == 0 && v == 0x55);
	CHECK(quiet(m));
	sim_machine_destroy(m);
}

/* A read-only 2 MiB shared block, unshared one page in its middle. */
static void shared_block_splits_on_partial_unshare(void)
{
	struct sim_machine *m = machine();
	uint64_t v = 0;

	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	CHECK(vmt_store(m, 0, (BLOCK_PFN + 300) * PAGE, 0x300) == 0);
	CHECK(vmt_op(m, SIM_OP_HOST_SHARE_GUEST, 1, BLOCK_IPA, BLOCK_PFN, 512, SIM_PROT_R) == 0);
	CHECK(translates(m, 1, BLOCK_IPA, BLOCK_PFN, false, 2));
	CHECK(vmt_load(m, 1, BLOCK_IPA + 300 * PAGE, &v) == 0 && v == 0x300);

	CHECK(vmt_op(m, SIM_OP_HOST_UNSHARE_GUEST, 1, BLOCK_IPA + 300 * PAGE, BLOCK_PFN + 300, 1,
		     0) == 0);
	CHECK(absent(m, 1, BLOCK_IPA + 300 * PAGE));
	CHECK(vmt_load(m, 1, BLOCK_IPA + 300 * PAGE, &v) == -HVMM_EFAULT);
	for (uint64_t i = 0; i < 512; i++)
		if (i != 300)
			CHECK(translates(m, 1, BLOCK_IPA + i * PAGE, BLOCK_PFN + i, false, 3));
	CHECK(vmt_meta(m, BLOCK_PFN + 300)->host_state == HVMM_PAGE_OWNED);
	CHECK(vmt_meta(m, BLOCK_PFN + 301)->host_state == HVMM_PAGE_SHARED_OWNED);
	CHECK(vmt_store(m, 1, BLOCK_IPA + 301 * PAGE, 1) == -HVMM_EFAULT);
	CHECK(vmt_store(m, 0, (BLOCK_PFN + 301) * PAGE, 0x301) == 0);
	CHECK(vmt_load(m, 1, BLOCK_IPA + 301 * PAGE, &v) == 0 && v == 0x301);
	/* Unsharing across the hole is refused, with nothing changed. */
	CHECK(vmt_op(m, SIM_OP_HOST_UNSHARE_GUEST, 1, BLOCK_IPA + 299 * PAGE, BLOCK_PFN + 299, 3,
		     0) == -HVMM_ENOENT);
	CHECK(translates(m, 1, BLOCK_IPA + 299 * PAGE, BLOCK_PFN + 299, false, 3));
	CHECK(translates(m, 1, BLOCK_IPA + 301 * PAGE, BLOCK_PFN + 301, false, 3));
	CHECK(quiet(m));
	sim_machine_destroy(m);
}

/*
 * A guest faulting at IPAs 2 MiB apart needs a new table page per fault,
 * until its tables' pool runs dry. The host's stage-2 has a pool of
 * its own: afterwards the host still maps memory on its faults and still
 * splits its blocks to give pages to the hypervisor.
 */
static void guest_cannot_exhaust_the_host_tables(void)
{
	struct sim_machine *m = machine();
	struct sim_vmstate *vs = sim_machine_vms(m);
	uint64_t ipa, faults = 0, v;
	int ret = 0;

	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	for (ipa = 0; ipa < (1ULL << 40) && !ret; ipa += 2ULL << 20) {
		ret = vmt_op(m, SIM_OP_FAULT, 1, ipa, 0, 0, 0);
		faults += !ret;
	}
	CHECK_MSG(ret == -HVMM_ENOMEM, "fault %llu at ipa 0x%llx: %d",
		  (unsigned long long)faults, (unsigned long long)ipa, ret);
	CHECK_MSG(faults > 2000, "%llu faults", (unsigned long long)faults);
	CHECK(hvmm_pool_free_pages(&vs->guest_pool) < 2);
	CHECK(hvmm_pool_free_pages(&vs->host_s2_pool) > 0);
	/* One page from each of 64 host blocks of 2 MiB, each split for it. */
	for (uint64_t i = 0; i < 64; i++) {
		uint64_t pfn = HOST_PFN + 0x1000 + i * 512 + 7;

		CHECK(vmt_load(m, 0, pfn * PAGE, &v) == 0);
		CHECK_MSG(vmt_op(m, SIM_OP_HOST_DONATE_HYP, 0, 0, pfn, 1, 0) == 0, "pfn 0x%llx",
			  (unsigned long long)pfn);
	}
	CHECK(vmt_op(m, SIM_OP_VM_DESTROY, 1, 0, 0, 0, 0) == 0);
	CHECK(quiet(m));
	sim_machine_destroy(m);
}

/*
 * The 800-page VM that could not be destroyed: its pages, every table page
 * of the guest's pool and every host table page the donations took come
 * back (up to the few pages the host table keeps in its cache).
 */
static void many_single_pages_come_back(void)
{
	struct sim_machine *m = machine();
	struct sim_vmstate *vs = sim_machine_vms(m);
	uint64_t guest_free = hvmm_pool_free_pages(&vs->guest_pool);
	uint64_t host_free = hvmm_pool_free_pages(&vs->host_s2_pool) + hvmm_host.pgt.cache.nr;

	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	for (uint64_t i = 0; i < 800; i++)
		CHECK(vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 1, i * 2 * PAGE, HOST_PFN + 2 * i, 1,
			     0) == 0);
	CHECK(hvmm_pool_free_pages(&vs->host_s2_pool) + hvmm_host.pgt.cache.nr < host_free);
	CHECK(vmt_op(m, SIM_OP_VM_DESTROY, 1, 0, 0, 0, 0) == 0);
	CHECK_EQ(hvmm_pool_free_pages(&vs->guest_pool), guest_free);
	CHECK_EQ(hvmm_pool_free_pages(&vs->host_s2_pool) + hvmm_host.pgt.cache.nr, host_free);
	for (uint64_t i = 0; i < 800; i++)
		CHECK(vmt_meta(m, HOST_PFN + 2 * i)->owner == HVMM_OWNER_HOST);
	CHECK(quiet(m));
	sim_machine_destroy(m);
}

/*
 * A teardown invalidates once, by VMID, as KVM does: not once per table it
 * frees. Pages spread over three 1 GiB regions and several 2 MiB ones give
 * the VM tables at every level; the protocol oracle (BBM) judges that the
 * one invalidation covers every table freed after it.
 */
struct tlbi_count {
	uint16_t vmid;
	unsigned int n;
};

static void count_tlbi(void *ctx, const struct sim_event *ev)
{
	struct tlbi_count *c = ctx;

	c->n += ev->a == c->vmid;
}

static void teardown_invalidates_once(void)
{
	struct sim_machine *m = machine();
	struct tlbi_count c = { 0 };

	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	for (uint64_t i = 0; i < 24; i++)
		CHECK(vmt_op(m, SIM_OP_HOST_DONATE_GUEST, 1, (i % 3) << 30 | (i / 3) << 21,
			     HOST_PFN + i, 1, 0) == 0);
	CHECK(vmt_clean(m));
	c.vmid = sim_machine_vms(m)->g[1].vmid;
	if (!sim_event_mm_instrumented() ||
	    !sim_event_observe(count_tlbi, &c, (1u << SIM_EV_TLBI_IPA) | (1u << SIM_EV_TLBI_RANGE) |
					    (1u << SIM_EV_TLBI_VMID))) {
		sim_machine_destroy(m);
		TAP_SKIP("no event stream from mm/ in this build");
		return;
	}
	CHECK(vmt_op(m, SIM_OP_VM_DESTROY, 1, 0, 0, 0, 0) == 0);
	sim_event_unobserve(count_tlbi, &c);
	CHECK_EQ(c.n, 1);
	sim_machine_sweep(m);
	CHECK(vmt_clean(m));
	sim_machine_destroy(m);
}

/*
 * Conditions a host can bring about are refused with a warning, never a
 * panic: destroying a VM that is gone, and a teardown that finds a page
 * it borrowed already lent to nobody.
 */
static void host_made_conditions_warn_and_fail(void)
{
	struct sim_machine *m = machine();
	uint64_t warnings = sim_platform_warnings(NULL);
	struct sim_panic last;
	struct hvmm_vm *vm;

	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	vm = sim_machine_vms(m)->g[1].vm;
	CHECK(vmt_op(m, SIM_OP_HOST_SHARE_GUEST, 1, 0x3000, HOST_PFN, 1, SIM_PROT_R) == 0);
	vmt_meta(m, HOST_PFN)->share_count = 0;		/* the count the teardown needs */
	CHECK(hvmm_vm_destroy(vm) == 0);
	CHECK_EQ(sim_platform_warnings(&last), warnings + 1);
	CHECK(last.what && strstr(last.what, "share_count"));
	CHECK(hvmm_vm_destroy(vm) == -HVMM_ENOENT);
	CHECK_EQ(sim_platform_warnings(&last), warnings + 2);
	CHECK(last.what && strstr(last.what, "created"));
	sim_machine_destroy(m);
}

/*
 * hvmm_vm_get() pins the VM: destroying it fails with EBUSY until every
 * reference is put back, so the slot cannot be reused under the holder;
 * a put without a get warns and leaves other holders' pins alone.
 */
static void vm_get_pins_until_put(void)
{
	struct sim_machine *m = machine();
	uint64_t warnings = sim_platform_warnings(NULL);
	struct hvmm_vm *vm, *a, *b;

	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	vm = sim_machine_vms(m)->g[1].vm;
	CHECK(hvmm_vm_get(0) == NULL);
	CHECK(hvmm_vm_get(HVMM_MAX_VMS + 1) == NULL);
	CHECK(hvmm_vm_get((u16)(vm->vmid + 1)) == NULL);
	a = hvmm_vm_get(vm->vmid);
	b = hvmm_vm_get(vm->vmid);
	CHECK(a == vm && b == vm);
	CHECK_EQ(hvmm_vm_destroy(vm), -HVMM_EBUSY);
	hvmm_vm_put(a);
	CHECK_EQ(hvmm_vm_destroy(vm), -HVMM_EBUSY);
	hvmm_vm_put(b);
	CHECK_EQ(sim_platform_warnings(NULL), warnings);
	hvmm_vm_put(vm);			/* one put too many */
	CHECK_EQ(sim_platform_warnings(NULL), warnings + 1);
	CHECK_EQ(hvmm_vm_destroy(vm), 0);
	CHECK(hvmm_vm_get(vm->vmid) == NULL);
	sim_machine_destroy(m);
}

/*
 * Until a machine runs an op that is not the allocator's, mm/ allocates
 * only in the executor's pool, whose blocks the executor marks itself: the
 * platform asks mm/ for no PAGE_ALLOC call. The first VM op may allocate
 * from mm/'s own pools, whose blocks only that call marks written: the
 * tables a VM's first fault takes must read as written (an unmarked page
 * is zero to the sweeps and a reset). A reset machine starts confined
 * again, and is unconfined again by its first VM op.
 */
#define PAGE_ALLOC_WANTED (1u << HVMM_TRACE_PAGE_ALLOC)

static bool tables_marked(struct sim_machine *m, uint32_t vm, uint64_t ipa)
{
	struct sim_walk w;
	bool marked = true;

	vmt_walk(m, vm, ipa, &w);
	if (w.fault || w.nr_tables < 2)
		return false;
	for (unsigned int i = 0; i < w.nr_tables; i++)
		marked &= sim_physmem_dirty(sim_machine_physmem(m), w.tables[i] / PAGE);
	return marked;
}

static void allocator_ops_make_no_mark_calls_until_a_vm_op(void)
{
	struct sim_machine *m = machine();
	struct sim_machine_config cfg;
	char err[256];

	CHECK(!(hvmm_trace_wanted & PAGE_ALLOC_WANTED));
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 0) == 0);
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 2, 3) == 0);
	CHECK(vmt_alloc_op(m, SIM_OP_FREE, 1, 0) == 0);
	CHECK(!(hvmm_trace_wanted & PAGE_ALLOC_WANTED));
	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	CHECK(hvmm_trace_wanted & PAGE_ALLOC_WANTED);
	CHECK(vmt_op(m, SIM_OP_FAULT, 1, 0x7000, 0, 0, 0) == 0);
	CHECK(tables_marked(m, 1, 0x7000));
	CHECK(vmt_alloc_op(m, SIM_OP_FREE, 2, 0) == 0);
	CHECK(hvmm_trace_wanted & PAGE_ALLOC_WANTED);
	CHECK(quiet(m));

	sim_machine_config_default(&cfg);
	CHECK(sim_machine_reset(m, &cfg, err, sizeof(err)) == 0);
	CHECK(!(hvmm_trace_wanted & PAGE_ALLOC_WANTED));
	CHECK(vmt_alloc_op(m, SIM_OP_ALLOC, 1, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_VM_CREATE, 1, 1, 0, 0, 0) == 0);
	CHECK(vmt_op(m, SIM_OP_FAULT, 1, 0x7000, 0, 0, 0) == 0);
	CHECK(tables_marked(m, 1, 0x7000));
	CHECK(quiet(m));
	sim_machine_destroy(m);
}

int main(void)
{
	TEST(secret_does_not_survive_into_the_next_vm);
	TEST(reclaimed_page_reaches_the_host_zeroed);
	TEST(host_share_is_seen_both_ways_until_unshared);
	TEST(guest_share_is_seen_both_ways_until_unshared);
	TEST(donated_block_splits_on_partial_unmap);
	TEST(shared_block_splits_on_partial_unshare);
	TEST(guest_cannot_exhaust_the_host_tables);
	TEST(many_single_pages_come_back);
	TEST(teardown_invalidates_once);
	TEST(host_made_conditions_warn_and_fail);
	TEST(vm_get_pins_until_put);
	TEST(allocator_ops_make_no_mark_calls_until_a_vm_op);
	return tap_done();
}
