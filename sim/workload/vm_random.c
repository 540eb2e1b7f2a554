// SPDX-License-Identifier: MIT
/*
 * The "vm-random" workload: several VMs created, faulted, donated to,
 * shared with and destroyed, with guest and host loads and stores, in a
 * small IPA window so that ops meet each other's pages often.
 *
 * Most ops are valid and meant to succeed; a fixed share (INVALID_PCT) of
 * every kind is deliberately wrong (wrong state, unknown VM, misaligned,
 * out of range, non-RAM or hypervisor pages) and must fail, so that the
 * oracles judge both paths. Choosing either needs to know what the earlier
 * ops did: the generator keeps its own instance of the reference model of
 * ownership (oracle/spec.h), the one copy of the transition rules, over
 * the host pages it plays with, applies every op that succeeded to it
 * (never reading the machine), and reads its views of the host span and
 * of each VM's IPA window back from it after each op. It is the
 * generator's memory, not an oracle: if it is wrong, ops merely succeed
 * or fail other than planned.
 *
 * A fault on an empty IPA makes the host donate a page of its own choice,
 * which the generator cannot name: such guest pages are modelled with an
 * unknown PFN (usable by every op that takes only an IPA), and the host
 * span the generator donates from lies at the top of host RAM, away from
 * where the executor's choice starts. A page the generator believed free
 * but that a donation or share found taken is set aside for good.
 */
#include "workload/vm_random.h"

#include <stdlib.h>
#include <string.h>

#include "oracle/spec.h"
#include "rng.h"

/* Guest pages are the architecture's 4 KiB granule (the op vocabulary's unit). */
#define PAGE_SHIFT	12
#define PAGE_SIZE	(1ULL << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))
#define ALIGN_DOWN(x, a)	((x) & ~((uint64_t)(a) - 1))

#define DEFAULT_VMS	6		/* without --vms */
#define MAX_VMS		16
#define MAX_VCPUS	2
#define WINDOW_PAGES	128		/* 128 guest IPA pages around 2 MiB ... */
/*
 * ... centred on a 2 MiB boundary, so that ranges cross it: an op then
 * changes two last-level tables under two level-2 entries, and reserves
 * for both (a window inside one 2 MiB entry never made such a range).
 */
#define WINDOW_IPA	(0x200000ULL - (WINDOW_PAGES / 2) * 0x1000ULL)
#define BLOCK_IPA	0x40000000ULL	/* ... and one 2 MiB block slot */
#define BLOCK_PAGES	512
#define SLOTS		(WINDOW_PAGES + BLOCK_PAGES)
#define HOST_SPAN	32768		/* host pfns the workload plays with */
#define MAX_RANGE	8		/* pages per range op (blocks aside) */
#define INVALID_PCT	12		/* ops deliberately invalid */
#define NO_PFN		UINT64_MAX	/* a guest page the host chose on a fault */
#define FAR_IPA		(1ULL << 56)	/* beyond any IPA size */
#define MAX_HYP		1024		/* pages held by the hypervisor, remembered */

/* A host page of the span, as the generator's model has it (a view, refreshed from it). */
enum host_state {
	H_FREE,				/* the host's alone */
	H_SHARED,			/* the host's, shared into guests @shares times */
	H_GUEST,			/* donated to a guest */
	H_LENT,				/* donated to a guest, which shares it back */
	H_HYP,				/* donated to the hypervisor */
	H_LOST,				/* not where the model thought: set aside */
};

struct host_page {
	uint8_t state;
	uint16_t shares;
};

/* An IPA page of a VM's window (a view of the model, refreshed from it). */
enum slot_state {
	S_EMPTY,
	S_OWNED,			/* the guest's, mapped */
	S_PARKED,			/* the guest's, unmapped (s2_unmap) */
	S_LENT,				/* the guest's, shared back with the host */
	S_BORROWED,			/* the host's, shared into the guest */
};

struct slot {
	uint8_t state;
	uint8_t prot;			/* while mapped */
	uint64_t pfn;			/* NO_PFN: chosen by the host on a fault */
};

struct vm {
	bool live, ever;		/* ever: named by a vm_create, so traces may name it */
	unsigned int vcpus;
	struct slot slots[SLOTS];
};

struct sim_vm_workload {
	struct sim_workload_params p;
	struct sim_rng rng;
	uint64_t emitted;
	uint64_t host_pfn, host_span;	/* the host pfns played with */
	struct host_page *host;
	struct sim_spec model;		/* the transitions, over the span */
	unsigned int nr_vms;		/* VMs played with: vm1..vmN */
	struct vm vms[MAX_VMS + 1];
	uint64_t hyp[MAX_HYP];		/* pfns donated to the hypervisor (unordered) */
	unsigned int nr_hyp;
	bool valid;			/* the op in flight was meant to succeed */
};

struct sim_vm_workload *sim_vm_workload_create(const struct sim_workload_params *params)
{
	struct sim_vm_workload *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->p = *params;
	w->nr_vms = !params->vms ? DEFAULT_VMS : params->vms < MAX_VMS ? params->vms : MAX_VMS;
	sim_rng_seed(&w->rng, params->seed);
	w->host_span = params->host_pages < HOST_SPAN ? params->host_pages : HOST_SPAN;
	w->host_pfn = params->host_base_pfn + params->host_pages - w->host_span;
	w->host = calloc(w->host_span ? w->host_span : 1, sizeof(*w->host));
	if (!w->host || sim_spec_init(&w->model, &(struct sim_spec_config){
			.ram = { { w->host_pfn, w->host_span } }, .nr_ram = 1,
			.base_pfn = w->host_pfn, .nr_pfns = w->host_span,
			.pick_from = SPEC_NO_PFN })) {
		free(w->host);
		free(w);
		return NULL;
	}
	return w;
}

unsigned int sim_vm_workload_vms(const struct sim_vm_workload *w)
{
	return w->nr_vms;
}

void sim_vm_workload_destroy(struct sim_vm_workload *w)
{
	if (!w)
		return;
	sim_spec_fini(&w->model);
	free(w->host);
	free(w);
}

/* --- the model ------------------------------------------------------------- */

static uint64_t below(struct sim_vm_workload *w, uint64_t n)
{
	return sim_rng_below(&w->rng, n);
}

static struct host_page *hpage(struct sim_vm_workload *w, uint64_t pfn)
{
	return pfn - w->host_pfn < w->host_span ? &w->host[pfn - w->host_pfn] : NULL;
}

static uint64_t slot_ipa(unsigned int i)
{
	return i < WINDOW_PAGES ? WINDOW_IPA + ((uint64_t)i << PAGE_SHIFT) :
	       BLOCK_IPA + ((uint64_t)(i - WINDOW_PAGES) << PAGE_SHIFT);
}

static struct slot *slot_at(struct sim_vm_workload *w, uint32_t v, uint64_t ipa)
{
	uint64_t n = ipa >> PAGE_SHIFT;

	if (v == 0 || v > w->nr_vms || (ipa & ~PAGE_MASK))
		return NULL;
	if (ipa >= WINDOW_IPA && n - (WINDOW_IPA >> PAGE_SHIFT) < WINDOW_PAGES)
		return &w->vms[v].slots[n - (WINDOW_IPA >> PAGE_SHIFT)];
	if (ipa >= BLOCK_IPA && n - (BLOCK_IPA >> PAGE_SHIFT) < BLOCK_PAGES)
		return &w->vms[v].slots[WINDOW_PAGES + n - (BLOCK_IPA >> PAGE_SHIFT)];
	return NULL;
}

static bool mapped(const struct slot *s)
{
	return s->state == S_OWNED || s->state == S_LENT || s->state == S_BORROWED;
}

/* The view of span page @pfn, from the model; a page set aside stays so. */
static void refresh_host(struct sim_vm_workload *w, uint64_t pfn)
{
	static const uint8_t view[] = {
		[SPEC_HOST] = H_FREE, [SPEC_HOST_SHARED] = H_SHARED, [SPEC_HYP] = H_HYP,
		[SPEC_HYP_BOOT] = H_LOST, [SPEC_GUEST] = H_GUEST, [SPEC_GUEST_LENT] = H_LENT,
	};
	struct host_page *h = hpage(w, pfn);
	const struct sim_spec_page *p = sim_spec_page(&w->model, pfn);

	if (h && p && h->state != H_LOST)
		*h = (struct host_page){ view[p->state], (uint16_t)p->shares };
}

/* The view of slot @s (at @ipa of vm@v), from the model. */
static void refresh_slot(struct sim_vm_workload *w, uint32_t v, uint64_t ipa, struct slot *s)
{
	static const uint8_t view[] = {
		[SPEC_IPA_OWNED] = S_OWNED, [SPEC_IPA_LENT] = S_LENT,
		[SPEC_IPA_BORROWED] = S_BORROWED,
	};
	const struct sim_ipage *e = sim_spec_ipa(&w->model, v, ipa);

	if (!e)
		*s = (struct slot){ 0 };
	else
		*s = (struct slot){ e->parked ? S_PARKED : view[e->state], e->prot, e->pfn };
}

/* Applies a successful op to the model, and refreshes the views of what it named. */
static void apply(struct sim_vm_workload *w, const struct sim_op *op)
{
	struct sim_spec_verdict ok = { .judged = true, .pfn = SPEC_NO_PFN };
	struct vm *vm = op->vm <= w->nr_vms ? &w->vms[op->vm] : NULL;
	uint64_t pages = op->kind == SIM_OP_FAULT ? 1 : op->c;

	sim_spec_apply(&w->model, op, &ok);
	switch (op->kind) {
	case SIM_OP_VM_CREATE:
		vm->live = true;
		vm->vcpus = op->a ? (unsigned int)op->a : 1;
		return;
	case SIM_OP_VM_DESTROY:
		for (unsigned int i = 0; i < SLOTS; i++) {
			refresh_host(w, vm->slots[i].pfn);
			vm->slots[i] = (struct slot){ 0 };
		}
		vm->live = false;
		return;
	case SIM_OP_HOST_DONATE_HYP:
		for (uint64_t i = 0; i < op->c && w->nr_hyp < MAX_HYP; i++)
			if (hpage(w, op->b + i))
				w->hyp[w->nr_hyp++] = op->b + i;
		break;
	case SIM_OP_HYP_DONATE_HOST:
		for (uint64_t i = 0; i < op->c; i++)
			for (unsigned int k = 0; k < w->nr_hyp; k++)
				if (w->hyp[k] == op->b + i)
					w->hyp[k--] = w->hyp[--w->nr_hyp];
		break;
	default:
		break;
	}
	for (uint64_t i = 0; i < pages; i++) {
		uint64_t ipa = (op->a & PAGE_MASK) + (i << PAGE_SHIFT);
		struct slot *s = vm ? slot_at(w, op->vm, ipa) : NULL;

		refresh_host(w, op->b + i);
		if (s) {
			refresh_slot(w, op->vm, ipa, s);
			refresh_host(w, s->pfn);
		}
	}
}

/* A donation or share the model thought valid failed: its host pages are not what it thought. */
static void set_aside(struct sim_vm_workload *w, const struct sim_op *op)
{
	for (uint64_t i = 0; i < op->c; i++) {
		struct host_page *h = hpage(w, op->b + i);

		if (h && (h->state == H_FREE || h->state == H_SHARED))
			h->state = H_LOST;
	}
}

/* --- picking ----------------------------------------------------------------- */

/* A live VM; a dead one (@named: one a vm_create named already); 0 if none. */
static uint32_t pick_vm(struct sim_vm_workload *w, bool live, bool named)
{
	uint32_t v = 1 + (uint32_t)below(w, w->nr_vms);

	for (unsigned int i = 0; i < w->nr_vms; i++, v = v % w->nr_vms + 1)
		if (w->vms[v].live == live && (live || !named || w->vms[v].ever))
			return v;
	return 0;
}

/* A slot of @v in @state (any mapped one if @state is S_MAPPED), or -1. */
#define S_MAPPED	0xff
static int pick_slot(struct sim_vm_workload *w, uint32_t v, uint8_t state)
{
	const struct slot *slots = w->vms[v].slots;
	unsigned int base = 0, n = WINDOW_PAGES;

	if (below(w, 16) == 0) {
		base = WINDOW_PAGES;
		n = BLOCK_PAGES;
	}
	for (int tries = 0; tries < 2; tries++) {
		unsigned int start = (unsigned int)below(w, n);

		for (unsigned int k = 0; k < n; k++) {
			unsigned int i = base + (start + k) % n;

			if (state == S_MAPPED ? mapped(&slots[i]) : slots[i].state == state)
				return (int)i;
		}
		base = base ? 0 : WINDOW_PAGES;
		n = base ? BLOCK_PAGES : WINDOW_PAGES;
	}
	return -1;
}

static uint64_t range_len(struct sim_vm_workload *w)
{
	return below(w, 4) == 0 ? 1 + below(w, MAX_RANGE) : 1;
}

/*
 * How many slots from @i (at most @max) share @i's state, and, with
 * @pfn_runs, continue its pfns: the pages one range op may take.
 */
static uint64_t slot_run(const struct vm *vm, unsigned int i, uint64_t max, bool pfn_runs)
{
	const struct slot *s = &vm->slots[i];
	uint64_t n = 1;
	unsigned int end = i < WINDOW_PAGES ? WINDOW_PAGES : SLOTS;

	while (n < max && i + n < end) {
		const struct slot *t = &vm->slots[i + n];

		if (t->state != s->state ||
		    (pfn_runs && (s->pfn == NO_PFN || t->pfn != s->pfn + n)))
			break;
		n++;
	}
	return n;
}

static bool host_ok(const struct host_page *h, bool share)
{
	return h->state == H_FREE || (share && h->state == H_SHARED && h->shares < 64);
}

/* @nr host pages from the span the host may donate (or share): first pfn, NO_PFN if none. */
static uint64_t pick_host(struct sim_vm_workload *w, uint64_t nr, bool share)
{
	for (int tries = 0; tries < 16 && w->host_span >= nr; tries++) {
		uint64_t first = below(w, w->host_span - nr + 1), i;

		if (nr == BLOCK_PAGES)
			first = ALIGN_DOWN(w->host_pfn + first, BLOCK_PAGES) - w->host_pfn;
		if (first + nr > w->host_span)
			continue;
		for (i = 0; i < nr && host_ok(&w->host[first + i], share); i++)
			;
		if (i == nr)
			return w->host_pfn + first;
	}
	return NO_PFN;
}

/* A span pfn in @state, NO_PFN if none found. */
static uint64_t pick_host_in(struct sim_vm_workload *w, uint8_t state)
{
	for (int tries = 0; tries < 32 && w->host_span; tries++) {
		uint64_t i = below(w, w->host_span);

		if (w->host[i].state == state)
			return w->host_pfn + i;
	}
	return NO_PFN;
}

/*
 * An invalid range of @op->c pages (at least 2, but for the first case)
 * around @bad, a page the host cannot give, into @op->b: @bad first, or as
 * often the range ending on it after pages that may be fine (a transition
 * must fail whole when its Nth page is wrong, not only its first), or one
 * that wraps past the last pfn (a range whose end passes 2^64 must be
 * refused, not wrapped).
 */
static void bad_pfn_range(struct sim_vm_workload *w, struct sim_op *op, uint64_t bad)
{
	uint64_t how = below(w, 4);

	op->b = bad;
	if (!how)
		return;
	op->c = op->c < 2 ? 2 : op->c;
	if (how == 3)
		op->b = UINT64_MAX - below(w, op->c - 1);
	else if (bad == w->p.nonram_pfn)
		op->b = w->host_pfn + w->host_span - (op->c - 1);	/* past the top of RAM */
	else if (bad >= op->c - 1)
		op->b = bad - (op->c - 1);
}

/* A page the host cannot give: not RAM, or the hypervisor's own (boot) memory. */
static uint64_t foreign_pfn(struct sim_vm_workload *w)
{
	uint64_t pfn;

	switch (below(w, 3)) {
	case 0:
		return w->p.nonram_pfn;
	case 1:
		return w->p.host_base_pfn - 1;	/* the hypervisor pool's last page */
	default:
		pfn = pick_host_in(w, H_GUEST);
		return pfn != NO_PFN ? pfn : w->p.host_base_pfn - 1;
	}
}

/* --- ops --------------------------------------------------------------------- */

/*
 * Each generator fills @op for @v, valid (meant to succeed) or not, and
 * returns false if the model offers no such op now.
 */

static bool gen_vm_create(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	op->kind = SIM_OP_VM_CREATE;
	op->a = 1 + below(w, MAX_VCPUS);
	op->vm = valid ? pick_vm(w, false, false) : pick_vm(w, true, true);
	if (!valid && below(w, 2)) {
		op->vm = op->vm ? op->vm : 1 + (uint32_t)below(w, w->nr_vms);
		op->a = SIM_MAX_VCPUS + 1;	/* too many vCPUs */
	}
	return op->vm != 0;
}

/* A live VM the model counts pins on (@pinned) or none; 0 if there is none such. */
static uint32_t pick_vm_pinned(struct sim_vm_workload *w, bool pinned)
{
	uint32_t v = 1 + (uint32_t)below(w, w->nr_vms);

	for (unsigned int i = 0; i < w->nr_vms; i++, v = v % w->nr_vms + 1)
		if (w->vms[v].live && (w->model.vms[v].pins != 0) == pinned)
			return v;
	return 0;
}

/* A pinned VM is refused (EBUSY): an invalid destroy, as of a VM that is gone. */
static bool gen_vm_destroy(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	op->kind = SIM_OP_VM_DESTROY;
	op->vm = valid ? pick_vm_pinned(w, false) : below(w, 2) ? pick_vm_pinned(w, true) : 0;
	if (!valid && !op->vm)
		op->vm = pick_vm(w, false, true);
	return op->vm != 0;
}

/* A pin of a live VM (hvmm_vm_get), or of one that is gone (ENOENT). */
static bool gen_vm_pin(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	op->kind = SIM_OP_VM_PIN;
	op->vm = pick_vm(w, valid, true);
	return op->vm != 0;
}

/* An unpin of a pinned VM, or of one nobody pins (the executor refuses it: ENOENT). */
static bool gen_vm_unpin(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	op->kind = SIM_OP_VM_UNPIN;
	op->vm = pick_vm_pinned(w, valid);
	if (!valid && !op->vm)
		op->vm = pick_vm(w, false, true);
	return op->vm != 0;
}

/* Fields of a wrong-in-itself range op on @v: misaligned, too long, out of range, empty. */
static void bad_range(struct sim_vm_workload *w, struct sim_op *op)
{
	switch (below(w, 4)) {
	case 0:
		op->a |= 8 << below(w, 9);
		break;
	case 1:
		op->c = 0;
		break;
	case 2:
		op->a = FAR_IPA;
		break;
	default:
		op->a = UINT64_MAX & PAGE_MASK;	/* the range wraps around */
		op->c = 2;
		break;
	}
}

/* An invalid op on a VM: an unknown VM, a bad range, or a slot in @wrong (a wrong state). */
static bool bad_vm_op(struct sim_vm_workload *w, struct sim_op *op, uint8_t wrong)
{
	uint32_t dead = pick_vm(w, false, true);
	int i;

	switch (below(w, 3)) {
	case 0:
		if (dead) {
			op->vm = dead;
			return true;
		}
		/* fall through */
	case 1:
		i = pick_slot(w, op->vm, wrong);
		if (i >= 0) {
			op->a = slot_ipa((unsigned int)i);
			op->b = w->vms[op->vm].slots[i].pfn;
			if (op->b == NO_PFN)
				op->b = foreign_pfn(w);
			return true;
		}
		/* fall through */
	default:
		bad_range(w, op);
		return true;
	}
}

static bool gen_fault(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	static const uint8_t states[] = { S_PARKED, S_PARKED, S_MAPPED, S_EMPTY };
	int i = pick_slot(w, op->vm, states[below(w, 4)]);
	uint64_t pfn;

	op->kind = SIM_OP_FAULT;
	op->vcpu = (uint32_t)below(w, w->vms[op->vm].vcpus);
	if (!valid) {
		switch (below(w, 3)) {
		case 0:
			op->vm = pick_vm(w, false, true);
			op->a = slot_ipa((unsigned int)below(w, SLOTS));
			op->vcpu = 0;
			return op->vm != 0;
		case 1:
			op->a = FAR_IPA + below(w, 1 << 20);
			return true;
		default:
			/* The host touching a page it gave away. */
			pfn = foreign_pfn(w);
			op->vm = 0;
			op->vcpu = 0;
			op->a = pfn << PAGE_SHIFT;
			return pfn != w->p.nonram_pfn;
		}
	}
	if (below(w, 8) == 0) {
		/* The host faulting in its own memory. */
		pfn = pick_host(w, 1, true);
		op->vm = 0;
		op->vcpu = 0;
		op->a = pfn << PAGE_SHIFT;
		return pfn != NO_PFN;
	}
	/* Every slot is valid: mapped (nothing to do), parked (mapped again), empty (donated). */
	/* One draw per statement: C leaves the order of the operands of + open. */
	op->a = slot_ipa(i >= 0 ? (unsigned int)i : (unsigned int)below(w, WINDOW_PAGES));
	op->a += below(w, PAGE_SIZE);
	return true;
}

static bool gen_donate_guest(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	struct vm *vm = &w->vms[op->vm];
	int i;

	op->kind = SIM_OP_HOST_DONATE_GUEST;
	if (valid && below(w, 16) == 0 && slot_run(vm, WINDOW_PAGES, BLOCK_PAGES, false) ==
	    BLOCK_PAGES && vm->slots[WINDOW_PAGES].state == S_EMPTY) {
		op->a = BLOCK_IPA;		/* a 2 MiB block */
		op->c = BLOCK_PAGES;
	} else {
		i = pick_slot(w, op->vm, S_EMPTY);
		if (i < 0)
			return false;
		op->a = slot_ipa((unsigned int)i);
		op->c = slot_run(vm, (unsigned int)i, range_len(w), false);
	}
	op->b = pick_host(w, op->c, false);
	if (op->b == NO_PFN)
		return false;
	if (valid)
		return true;
	if (below(w, 3) == 0) {
		bad_pfn_range(w, op, foreign_pfn(w));
		return true;
	}
	return bad_vm_op(w, op, S_MAPPED);
}

static bool gen_share_guest(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	int i = pick_slot(w, op->vm, S_EMPTY);

	op->kind = SIM_OP_HOST_SHARE_GUEST;
	op->d = below(w, 8);
	if (i < 0)
		return false;
	op->a = slot_ipa((unsigned int)i);
	op->c = slot_run(&w->vms[op->vm], (unsigned int)i, range_len(w), false);
	op->b = pick_host(w, op->c, true);
	if (op->b == NO_PFN)
		return false;
	if (valid)
		return true;
	if (below(w, 3) == 0) {
		bad_pfn_range(w, op, below(w, 2) && w->nr_hyp ? w->hyp[below(w, w->nr_hyp)] :
					    foreign_pfn(w));
		return true;
	}
	return bad_vm_op(w, op, S_MAPPED);
}

/* Ops on a run of slots in @state of @v: @pfn_runs if the op names the pfns. */
static bool gen_slot_range(struct sim_vm_workload *w, struct sim_op *op, bool valid,
			   uint8_t state, uint8_t wrong, bool pfn_runs)
{
	int i = pick_slot(w, op->vm, state);

	/* Parked pages the host chose on a fault cannot be named to s2_map. */
	for (int tries = 0; pfn_runs && i >= 0 && w->vms[op->vm].slots[i].pfn == NO_PFN &&
	     tries < 4; tries++)
		i = pick_slot(w, op->vm, state);
	if (i < 0 && valid)
		return false;
	op->a = slot_ipa(i < 0 ? 0 : (unsigned int)i);
	op->c = i < 0 ? 1 : slot_run(&w->vms[op->vm], (unsigned int)i, range_len(w), pfn_runs);
	op->b = i < 0 ? 0 : w->vms[op->vm].slots[i].pfn;
	if (pfn_runs && op->b == NO_PFN)
		return false;
	if (valid)
		return true;
	if (pfn_runs && i >= 0 && below(w, 4) == 0) {
		op->b += 1 + below(w, 4);	/* the wrong pages */
		return true;
	}
	return bad_vm_op(w, op, below(w, 4) ? wrong : S_EMPTY);
}

static bool gen_unshare_guest(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	op->kind = SIM_OP_HOST_UNSHARE_GUEST;
	return gen_slot_range(w, op, valid, S_BORROWED, S_OWNED, true);
}

static bool gen_guest_share(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	op->kind = SIM_OP_GUEST_SHARE_HOST;
	if (!gen_slot_range(w, op, valid, S_OWNED, below(w, 2) ? S_LENT : S_PARKED, false))
		return false;
	op->b = 0;
	return true;
}

static bool gen_guest_unshare(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	op->kind = SIM_OP_GUEST_UNSHARE_HOST;
	if (!gen_slot_range(w, op, valid, S_LENT, below(w, 2) ? S_OWNED : S_BORROWED, false))
		return false;
	op->b = 0;
	return true;
}

static bool gen_s2_unmap(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	op->kind = SIM_OP_S2_UNMAP;
	if (!gen_slot_range(w, op, valid, S_OWNED, below(w, 2) ? S_BORROWED : S_LENT, false))
		return false;
	op->b = 0;
	return true;
}

static bool gen_s2_map(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	op->kind = SIM_OP_S2_MAP;
	op->d = below(w, 8);
	return gen_slot_range(w, op, valid, S_PARKED, below(w, 2) ? S_OWNED : S_BORROWED, true);
}

static bool gen_s2_protect(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	op->kind = SIM_OP_S2_PROTECT;
	op->d = below(w, 8);
	if (!gen_slot_range(w, op, valid, S_OWNED, below(w, 2) ? S_PARKED : S_BORROWED, false))
		return false;
	op->b = 0;
	return true;
}

/* Host and hypervisor: @to_hyp gives pages, else takes them back. */
static bool gen_hyp(struct sim_vm_workload *w, struct sim_op *op, bool valid, bool to_hyp)
{
	uint64_t n;

	op->kind = to_hyp ? SIM_OP_HOST_DONATE_HYP : SIM_OP_HYP_DONATE_HOST;
	op->vm = 0;
	op->c = range_len(w);
	if (valid && to_hyp) {
		op->b = pick_host(w, op->c, false);
		return op->b != NO_PFN;
	}
	if (valid) {
		op->b = w->nr_hyp ? w->hyp[below(w, w->nr_hyp)] : NO_PFN;
		for (n = 1; op->b != NO_PFN && n < op->c; n++)
			if (hpage(w, op->b + n) == NULL || hpage(w, op->b + n)->state != H_HYP)
				break;
		op->c = n;
		return op->b != NO_PFN;
	}
	switch (below(w, 4)) {
	case 0:
		op->b = foreign_pfn(w);
		break;
	case 1:
		op->b = pick_host_in(w, to_hyp ? H_SHARED : H_FREE);
		break;
	case 2:
		op->b = (w->host_pfn + below(w, w->host_span)) | (UINT64_MAX << 40);
		break;		/* beyond any physical address */
	default:
		op->b = pick_host(w, 1, false);
		op->c = 0;
		break;
	}
	if (op->b == NO_PFN)
		op->b = foreign_pfn(w);
	return true;
}

static bool gen_guest_access(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	bool store = below(w, 2);
	uint8_t need = store ? SIM_PROT_W : SIM_PROT_R;
	const struct slot *slots = w->vms[op->vm].slots;
	int i = -1;

	op->kind = store ? SIM_OP_STORE : SIM_OP_LOAD;
	op->vcpu = (uint32_t)below(w, w->vms[op->vm].vcpus);
	op->b = store ? sim_rng_next(&w->rng) | 1 : 0;
	for (int tries = 0; tries < 8 && i < 0; tries++) {
		i = pick_slot(w, op->vm, S_MAPPED);
		if (i >= 0 && !(slots[i].prot & need) == valid)
			i = -1;
	}
	if (i < 0 && valid)
		return false;
	op->a = slot_ipa(i < 0 ? (unsigned int)below(w, SLOTS) : (unsigned int)i);
	op->a += below(w, PAGE_SIZE / 8) << 3;	/* a draw of its own, as above */
	if (valid || (i >= 0 && below(w, 2)))
		return true;		/* not allowed by the page's permissions */
	switch (below(w, 4)) {
	case 0:
		op->a |= 1 + below(w, 7);	/* misaligned */
		return true;
	case 1:
		op->vcpu = w->vms[op->vm].vcpus + (uint32_t)below(w, 4);
		return true;
	case 2:
		op->vm = pick_vm(w, false, true);
		op->vcpu = 0;
		return op->vm != 0;
	default:
		/* Nothing mapped there. */
		i = pick_slot(w, op->vm, below(w, 2) ? S_PARKED : S_EMPTY);
		op->a = i < 0 ? FAR_IPA : slot_ipa((unsigned int)i) + (below(w, PAGE_SIZE / 8) << 3);
		return true;
	}
}

/* The host's own memory, identity-mapped: valid on pages it holds (or was lent). */
static bool gen_host_access(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	uint64_t pfn = NO_PFN;
	int i;

	op->kind = below(w, 2) ? SIM_OP_STORE : SIM_OP_LOAD;
	op->vm = 0;
	op->vcpu = 0;
	op->b = op->kind == SIM_OP_STORE ? sim_rng_next(&w->rng) | 1 : 0;
	if (valid && below(w, 4) == 0) {
		uint32_t v = pick_vm(w, true, true);

		i = v ? pick_slot(w, v, S_LENT) : -1;
		if (i >= 0)
			pfn = w->vms[v].slots[i].pfn;
	}
	if (valid && pfn == NO_PFN)
		pfn = pick_host(w, 1, true);
	if (!valid)
		pfn = below(w, 4) || !w->nr_hyp ? foreign_pfn(w) : w->hyp[below(w, w->nr_hyp)];
	if (pfn == NO_PFN)
		return false;
	op->a = (pfn << PAGE_SHIFT) + (below(w, PAGE_SIZE / 8) << 3);
	if (!valid && below(w, 4) == 0)
		op->a = (pick_host(w, 1, true) << PAGE_SHIFT) + 4;	/* misaligned */
	return true;
}

/* --- the stream ------------------------------------------------------------ */

typedef bool (*gen_fn)(struct sim_vm_workload *w, struct sim_op *op, bool valid);

static bool gen_donate_hyp(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	return gen_hyp(w, op, valid, true);
}

static bool gen_hyp_donate(struct sim_vm_workload *w, struct sim_op *op, bool valid)
{
	return gen_hyp(w, op, valid, false);
}

/* Op kinds and their weights (per 1000 ops). */
static const struct {
	gen_fn gen;
	unsigned int weight;
} mix[] = {
	{ gen_vm_create, 8 },
	{ gen_vm_destroy, 6 },
	{ gen_vm_pin, 7 },
	{ gen_vm_unpin, 7 },
	{ gen_fault, 110 },
	{ gen_donate_guest, 60 },
	{ gen_share_guest, 60 },
	{ gen_unshare_guest, 45 },
	{ gen_guest_share, 40 },
	{ gen_guest_unshare, 35 },
	{ gen_s2_unmap, 40 },
	{ gen_s2_map, 35 },
	{ gen_s2_protect, 35 },
	{ gen_donate_hyp, 13 },
	{ gen_hyp_donate, 13 },
	{ gen_guest_access, 380 },
	{ gen_host_access, 80 },
};

static gen_fn pick_gen(struct sim_vm_workload *w)
{
	uint64_t total = 0, dice;

	for (unsigned int k = 0; k < sizeof(mix) / sizeof(mix[0]); k++)
		total += mix[k].weight;
	dice = below(w, total);
	for (unsigned int k = 0;; k++) {
		if (dice < mix[k].weight)
			return mix[k].gen;
		dice -= mix[k].weight;
	}
}

static bool emit(struct sim_vm_workload *w, const struct sim_op *op)
{
	if (op->kind == SIM_OP_VM_CREATE)
		w->vms[op->vm].ever = true;
	return true;
}

bool sim_vm_workload_next(struct sim_vm_workload *w, struct sim_op *op)
{
	uint32_t vm;
	gen_fn gen;

	if (w->emitted >= w->p.ops)
		return false;
	w->emitted++;
	for (int tries = 0;; tries++) {
		memset(op, 0, sizeof(*op));
		w->valid = below(w, 100) >= INVALID_PCT;
		vm = pick_vm(w, true, true);
		if (!vm || tries >= 16) {
			/* Nothing else to do: a VM comes up (or an invalid create is made). */
			if (!gen_vm_create(w, op, vm == 0 || w->valid))
				gen_vm_create(w, op, false);
			w->valid = !w->vms[op->vm].live && op->a <= SIM_MAX_VCPUS;
			return emit(w, op);
		}
		op->vm = vm;
		gen = pick_gen(w);
		/* Invalid ops of a kind only as often as its valid ones can be made. */
		if (!gen(w, op, true))
			continue;
		if (w->valid)
			return emit(w, op);
		memset(op, 0, sizeof(*op));
		op->vm = vm;
		if (gen(w, op, false))
			return emit(w, op);
	}
}

void sim_vm_workload_result(struct sim_vm_workload *w, const struct sim_op *op, int result)
{
	if (!result) {
		apply(w, op);
		return;
	}
	if (w->valid && (op->kind == SIM_OP_HOST_DONATE_GUEST ||
			 op->kind == SIM_OP_HOST_SHARE_GUEST || op->kind == SIM_OP_HOST_DONATE_HYP) &&
	    result == -SIM_EPERM)
		set_aside(w, op);
}
