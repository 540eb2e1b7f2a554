// SPDX-License-Identifier: MIT
/*
 * SPEC: the reference model of page ownership (see oracle/spec.h). Plain
 * on purpose: one state per page, one entry per guest IPA page, each
 * precondition a loop over the pages it names.
 */
#include "oracle/spec.h"

#include <string.h>
#include <sys/mman.h>

#include "physmem.h"


#define PAGE_SHIFT	12
#define PAGE_SIZE	(1ULL << PAGE_SHIFT)
#define MAX_PAGES	(1ULL << 18)	/* one op names at most 1 GiB */
#define OA_PAGES	(1ULL << 36)	/* pages of the 48-bit output address space */
#define RWX		(SIM_PROT_R | SIM_PROT_W | SIM_PROT_X)
#define PICK_TRIES	4096		/* pages the host looks at for one guest fault */

static const char *const state_names[] = {
	[SPEC_HOST] = "host", [SPEC_HOST_SHARED] = "host-shared", [SPEC_HYP] = "hyp",
	[SPEC_HYP_BOOT] = "hyp-boot", [SPEC_GUEST] = "guest", [SPEC_GUEST_LENT] = "guest-lent",
};

const char *sim_spec_state_name(unsigned int state)
{
	return state < sizeof(state_names) / sizeof(state_names[0]) ? state_names[state] : "?";
}

bool sim_spec_op_changes_ipas(unsigned int kind)
{
	switch (kind) {
	case SIM_OP_HOST_DONATE_GUEST:
	case SIM_OP_HOST_SHARE_GUEST:
	case SIM_OP_HOST_UNSHARE_GUEST:
	case SIM_OP_GUEST_SHARE_HOST:
	case SIM_OP_GUEST_UNSHARE_HOST:
	case SIM_OP_S2_MAP:
	case SIM_OP_S2_UNMAP:
	case SIM_OP_S2_PROTECT:
		return true;
	default:
		return false;
	}
}

/* --- state ------------------------------------------------------------------ */

/* The page array of the last model torn down, zeroed, for the next of the same size. */
static _Thread_local struct { void *pages; uint64_t bytes; } spare;

int sim_spec_init(struct sim_spec *s, const struct sim_spec_config *cfg)
{
	uint64_t bytes = cfg->nr_pfns * sizeof(struct sim_spec_page);
	void *p;

	memset(s, 0, sizeof(*s));
	s->cfg = *cfg;
	s->pick_cursor = cfg->pick_from;
	if (spare.pages && spare.bytes == bytes) {
		s->pages = spare.pages;
		spare.pages = NULL;
		return 0;
	}
	p = sim_map_sparse(bytes);
	if (!p)
		return -1;
	s->pages = p;
	return 0;
}

void sim_spec_fini(struct sim_spec *s)
{
	uint64_t bytes = s->cfg.nr_pfns * sizeof(struct sim_spec_page);

	for (unsigned int v = 0; v <= SIM_MAX_VM; v++)
		if (s->spaces[v].cap)
			sim_space_free(&s->spaces[v]);
	if (s->pages) {
		if (!spare.pages && bytes <= (1u << 20)) {
			if (s->lo < s->hi)
				memset(&s->pages[s->lo], 0, (s->hi - s->lo) * sizeof(*s->pages));
			spare.pages = s->pages;
			spare.bytes = bytes;
		} else {
			sim_unmap_sparse(s->pages, bytes);
		}
	}
	memset(s, 0, sizeof(*s));
}

const struct sim_spec_page *sim_spec_page(const struct sim_spec *s, uint64_t pfn)
{
	uint64_t i = pfn - s->cfg.base_pfn;

	return i < s->cfg.nr_pfns ? &s->pages[i] : NULL;
}

/* The page, for writing: remembers which part of the array was written. */
static struct sim_spec_page *page_w(struct sim_spec *s, uint64_t pfn)
{
	uint64_t i = pfn - s->cfg.base_pfn;

	if (i >= s->cfg.nr_pfns)
		return NULL;
	if (s->lo >= s->hi) {
		s->lo = i;
		s->hi = i + 1;
	} else if (i < s->lo) {
		s->lo = i;
	} else if (i >= s->hi) {
		s->hi = i + 1;
	}
	return &s->pages[i];
}

bool sim_spec_is_ram(const struct sim_spec *s, uint64_t pfn)
{
	for (unsigned int r = 0; r < s->cfg.nr_ram; r++)
		if (pfn - s->cfg.ram[r].pfn < s->cfg.ram[r].nr)
			return true;
	return false;
}

void sim_spec_hyp_boot(struct sim_spec *s, uint64_t pfn, uint64_t nr)
{
	for (uint64_t i = 0; i < nr; i++) {
		struct sim_spec_page *p = page_w(s, pfn + i);

		if (p)
			*p = (struct sim_spec_page){ .state = SPEC_HYP_BOOT };
	}
}

const struct sim_ipage *sim_spec_ipa(struct sim_spec *s, unsigned int v, uint64_t ipa)
{
	return v && v <= SIM_MAX_VM ? sim_space_find(&s->spaces[v], ipa >> PAGE_SHIFT) : NULL;
}

bool sim_spec_host_may_access(const struct sim_spec *s, uint64_t pfn)
{
	const struct sim_spec_page *p = sim_spec_page(s, pfn);

	return p && sim_spec_is_ram(s, pfn) &&
	       (p->state == SPEC_HOST || p->state == SPEC_HOST_SHARED ||
		p->state == SPEC_GUEST_LENT);
}

/* --- preconditions --------------------------------------------------------------- */

/* A physical range an op names. */
static int check_pfns(const struct sim_spec *s, uint64_t pfn, uint64_t nr)
{
	if (!nr || nr > MAX_PAGES || pfn > OA_PAGES - nr)
		return -SIM_EINVAL;
	for (unsigned int r = 0; r < s->cfg.nr_ram; r++)
		if (pfn - s->cfg.ram[r].pfn < s->cfg.ram[r].nr &&
		    nr <= s->cfg.ram[r].nr - (pfn - s->cfg.ram[r].pfn))
			return 0;
	return -SIM_EFAULT;
}

/* An IPA range of a guest. */
static int check_ipas(const struct sim_spec *s, uint64_t ipa, uint64_t nr)
{
	uint64_t ia = s->cfg.guest_ia_size;

	if (!nr || nr > MAX_PAGES || (ipa & (PAGE_SIZE - 1)))
		return -SIM_EINVAL;
	if (ipa >= ia || nr > (ia - ipa) >> PAGE_SHIFT)
		return -SIM_ERANGE;
	return 0;
}

static int check_prot(uint64_t prot)
{
	return prot & ~(uint64_t)RWX ? -SIM_EINVAL : 0;
}

/* Every page of [pfn, pfn + nr) in @state (or, with @or_shared, lent out but not too often). */
static bool host_pages_in(const struct sim_spec *s, uint64_t pfn, uint64_t nr, uint8_t state,
			  bool or_shared)
{
	for (uint64_t i = 0; i < nr; i++) {
		const struct sim_spec_page *p = sim_spec_page(s, pfn + i);

		if (!p)
			return false;
		if (p->state == state || (or_shared && p->state == SPEC_HOST_SHARED &&
					  p->shares < UINT32_MAX))
			continue;
		return false;
	}
	return true;
}

static int guest_empty(struct sim_spec *s, unsigned int v, uint64_t ipa, uint64_t nr)
{
	for (uint64_t i = 0; i < nr; i++)
		if (sim_spec_ipa(s, v, ipa + (i << PAGE_SHIFT)))
			return -SIM_EEXIST;
	return 0;
}

/*
 * Every page of a guest range in @state, mapped or parked as @parked says,
 * backed by [pfn, pfn + nr) unless @pfn is SPEC_NO_PFN; in IPA order, the
 * first empty page is -ENOENT and the first wrong one -EPERM.
 */
static int guest_pages_in(struct sim_spec *s, unsigned int v, uint64_t ipa, uint64_t nr,
			  uint8_t state, bool parked, uint64_t pfn)
{
	for (uint64_t i = 0; i < nr; i++) {
		const struct sim_ipage *e = sim_spec_ipa(s, v, ipa + (i << PAGE_SHIFT));

		if (!e)
			return -SIM_ENOENT;
		if (e->state != state || e->parked != parked ||
		    (pfn != SPEC_NO_PFN && e->pfn != pfn + i))
			return -SIM_EPERM;
	}
	return 0;
}

/* The first of checks a, b, c that fails, or 0. */
static int first(int a, int b, int c)
{
	return a ? a : b ? b : c;
}

uint64_t sim_spec_pick_host_page(struct sim_spec *s)
{
	uint64_t base = s->cfg.base_pfn, n = s->cfg.nr_pfns;

	for (uint64_t tries = 0; tries < PICK_TRIES; tries++) {
		uint64_t pfn = s->pick_cursor++;
		const struct sim_spec_page *p;

		if (s->pick_cursor >= base + n)
			s->pick_cursor = base;
		p = pfn ? sim_spec_page(s, pfn) : NULL;	/* pfn 0: "the host's choice" in a trace */
		if (p && p->state == SPEC_HOST && sim_spec_is_ram(s, pfn))
			return pfn;
	}
	return SPEC_NO_PFN;
}

static int predict_fault(struct sim_spec *s, const struct sim_op *op, struct sim_spec_verdict *v)
{
	const struct sim_spec_page *p;
	const struct sim_ipage *e;
	uint64_t pfn = op->a >> PAGE_SHIFT;

	if (op->vm == 0) {
		/* The host faults its identity map in, unless the page is someone else's. */
		if (op->a >= s->cfg.host_ia_size)
			return -SIM_ERANGE;
		p = sim_spec_page(s, pfn);
		if (p && sim_spec_is_ram(s, pfn) &&
		    (p->state == SPEC_HYP || p->state == SPEC_HYP_BOOT || p->state == SPEC_GUEST))
			return -SIM_EPERM;
		v->may_enomem = true;	/* tables for the block it maps */
		return 0;
	}
	if (!sim_spec_vm_live(s, op->vm))
		return -SIM_ENOENT;
	if (op->a >= s->cfg.guest_ia_size)
		return -SIM_ERANGE;
	e = sim_spec_ipa(s, op->vm, op->a & ~(PAGE_SIZE - 1));
	if (e) {
		v->may_enomem = e->parked;	/* mapped: spurious; parked: mapped again */
		return 0;
	}
	/* Nothing there: the host donates the page the op names, or one of its choice. */
	v->may_enomem = true;
	if (op->b) {
		int ret = check_pfns(s, op->b, 1);

		v->pfn = op->b;
		if (!ret && !host_pages_in(s, op->b, 1, SPEC_HOST, false))
			ret = -SIM_EPERM;
		return ret;
	}
	v->pfn = sim_spec_pick_host_page(s);
	return v->pfn == SPEC_NO_PFN ? -SIM_ENOMEM : 0;
}

static int predict_access(struct sim_spec *s, const struct sim_op *op, struct sim_spec_verdict *v)
{
	uint8_t need = op->kind == SIM_OP_STORE ? SIM_PROT_W : SIM_PROT_R;
	const struct sim_ipage *e;
	uint64_t pfn = op->a >> PAGE_SHIFT;

	if (op->vm && !sim_spec_vm_live(s, op->vm))
		return -SIM_ENOENT;
	if (op->vcpu >= (op->vm ? s->vms[op->vm].vcpus : s->cfg.host_vcpus) || (op->a & 7))
		return -SIM_EINVAL;
	if (op->vm == 0) {
		/* Outside RAM the answer is the machine's (devices, holes), not ownership. */
		if (op->a >= s->cfg.host_ia_size)
			return -SIM_EFAULT;
		if (!sim_spec_is_ram(s, pfn)) {
			v->judged = false;
			return 0;
		}
		return sim_spec_host_may_access(s, pfn) ? 0 : -SIM_EFAULT;
	}
	e = sim_spec_ipa(s, op->vm, op->a & ~(PAGE_SIZE - 1));
	return e && !e->parked && (e->prot & need) ? 0 : -SIM_EFAULT;
}

static int predict_guest_op(struct sim_spec *s, const struct sim_op *op,
			    struct sim_spec_verdict *v)
{
	unsigned int vm = op->vm;
	int ret;

	if (!sim_spec_vm_live(s, vm))
		return vm ? -SIM_ENOENT : -SIM_EINVAL;
	v->may_enomem = true;
	switch (op->kind) {
	case SIM_OP_HOST_DONATE_GUEST:
		ret = first(check_pfns(s, op->b, op->c), check_ipas(s, op->a, op->c), 0);
		if (!ret && !host_pages_in(s, op->b, op->c, SPEC_HOST, false))
			ret = -SIM_EPERM;
		return ret ? ret : guest_empty(s, vm, op->a, op->c);
	case SIM_OP_HOST_SHARE_GUEST:
		ret = first(check_pfns(s, op->b, op->c), check_ipas(s, op->a, op->c),
			    check_prot(op->d));
		if (!ret && !host_pages_in(s, op->b, op->c, SPEC_HOST, true))
			ret = -SIM_EPERM;
		return ret ? ret : guest_empty(s, vm, op->a, op->c);
	case SIM_OP_HOST_UNSHARE_GUEST:
		ret = first(check_pfns(s, op->b, op->c), check_ipas(s, op->a, op->c), 0);
		return ret ? ret : guest_pages_in(s, vm, op->a, op->c, SPEC_IPA_BORROWED, false,
						  op->b);
	case SIM_OP_GUEST_SHARE_HOST:
		ret = check_ipas(s, op->a, op->c);
		return ret ? ret : guest_pages_in(s, vm, op->a, op->c, SPEC_IPA_OWNED, false,
						  SPEC_NO_PFN);
	case SIM_OP_GUEST_UNSHARE_HOST:
		ret = check_ipas(s, op->a, op->c);
		return ret ? ret : guest_pages_in(s, vm, op->a, op->c, SPEC_IPA_LENT, false,
						  SPEC_NO_PFN);
	case SIM_OP_S2_UNMAP:
		ret = check_ipas(s, op->a, op->c);
		return ret ? ret : guest_pages_in(s, vm, op->a, op->c, SPEC_IPA_OWNED, false,
						  SPEC_NO_PFN);
	case SIM_OP_S2_PROTECT:
		ret = first(check_ipas(s, op->a, op->c), check_prot(op->d), 0);
		return ret ? ret : guest_pages_in(s, vm, op->a, op->c, SPEC_IPA_OWNED, false,
						  SPEC_NO_PFN);
	case SIM_OP_S2_MAP:
		ret = first(check_ipas(s, op->a, op->c), check_prot(op->d),
			    check_pfns(s, op->b, op->c));
		return ret ? ret : guest_pages_in(s, vm, op->a, op->c, SPEC_IPA_OWNED, true, op->b);
	default:
		v->may_enomem = false;
		v->judged = false;
		return -SIM_EINVAL;
	}
}

struct sim_spec_verdict sim_spec_predict(struct sim_spec *s, const struct sim_op *op)
{
	struct sim_spec_verdict v = { .judged = true, .pfn = SPEC_NO_PFN };

	switch (op->kind) {
	case SIM_OP_VM_CREATE:
		if (op->vm == 0 || op->vm > SIM_MAX_VM || op->a > s->cfg.max_vcpus)
			v.result = -SIM_EINVAL;
		else if (s->vms[op->vm].live)
			v.result = -SIM_EEXIST;
		else if (s->nr_live >= s->cfg.max_vms)
			v.result = -SIM_EBUSY;
		v.may_enomem = !v.result;	/* the VM's root tables */
		break;
	case SIM_OP_VM_DESTROY:
		/* Needs no memory (vm.h): a live VM nobody pins goes, ENOMEM or not. */
		if (!sim_spec_vm_live(s, op->vm))
			v.result = -SIM_ENOENT;
		else if (s->vms[op->vm].pins)
			v.result = -SIM_EBUSY;
		break;
	case SIM_OP_VM_PIN:
		if (!sim_spec_vm_live(s, op->vm))
			v.result = -SIM_ENOENT;
		else if (s->vms[op->vm].pins >= SIM_MAX_VM_PINS)
			v.result = -SIM_ERANGE;
		break;
	case SIM_OP_VM_UNPIN:
		/* No pin to drop: the caller's error, refused before mm/ is called. */
		if (!sim_spec_vm_live(s, op->vm) || !s->vms[op->vm].pins)
			v.result = -SIM_ENOENT;
		break;
	case SIM_OP_HOST_DONATE_HYP:
		v.result = check_pfns(s, op->b, op->c);
		if (!v.result && !host_pages_in(s, op->b, op->c, SPEC_HOST, false))
			v.result = -SIM_EPERM;
		v.may_enomem = !v.result;
		break;
	case SIM_OP_HYP_DONATE_HOST:
		v.result = check_pfns(s, op->b, op->c);
		if (!v.result && !host_pages_in(s, op->b, op->c, SPEC_HYP, false))
			v.result = -SIM_EPERM;
		v.may_enomem = !v.result;
		break;
	case SIM_OP_FAULT:
		v.result = predict_fault(s, op, &v);
		break;
	case SIM_OP_LOAD:
	case SIM_OP_STORE:
		v.result = predict_access(s, op, &v);
		break;
	case SIM_OP_SCHED:
		v.result = -SIM_ENOTSUP;
		break;
	default:
		if (!(sim_op_descs[op->kind].cls & SIM_OPC_VM)) {
			v.judged = false;
			break;
		}
		v.result = predict_guest_op(s, op, &v);
		if (v.result)
			v.may_enomem = false;
		break;
	}
	return v;
}

/* --- transitions ------------------------------------------------------------- */

static void set_page(struct sim_spec *s, uint64_t pfn, uint8_t state, unsigned int vm)
{
	struct sim_spec_page *p = page_w(s, pfn);

	if (p) {
		p->state = state;
		p->vm = (uint8_t)vm;
	}
}

/* A guest leaf starts or stops mapping @pfn. */
static void map_count(struct sim_spec *s, uint64_t pfn, int delta)
{
	struct sim_spec_page *p = page_w(s, pfn);

	if (p)
		p->maps += (uint32_t)delta;
}

/* One fewer BORROWED leaf names @pfn: the host's alone again at the last. */
static void unshare_page(struct sim_spec *s, uint64_t pfn)
{
	struct sim_spec_page *p = page_w(s, pfn);

	if (p && p->shares && --p->shares == 0)
		p->state = SPEC_HOST;
}

static void guest_insert(struct sim_spec *s, unsigned int v, uint64_t ipa, uint64_t pfn,
			  uint8_t state, uint8_t prot)
{
	struct sim_ipage *e = sim_space_insert(&s->spaces[v], ipa >> PAGE_SHIFT);

	e->pfn = pfn;
	e->state = state;
	e->prot = prot;
	e->parked = false;
	map_count(s, pfn, 1);
}

static void donate_guest(struct sim_spec *s, unsigned int v, uint64_t ipa, uint64_t pfn,
			 uint64_t nr)
{
	for (uint64_t i = 0; i < nr; i++) {
		set_page(s, pfn + i, SPEC_GUEST, v);
		guest_insert(s, v, ipa + (i << PAGE_SHIFT), pfn + i, SPEC_IPA_OWNED, RWX);
	}
}

static void destroy_vm(struct sim_spec *s, unsigned int v)
{
	struct sim_space *sp = &s->spaces[v];

	for (uint64_t i = 0; i < sp->cap; i++) {
		const struct sim_ipage *e = &sp->slots[i];

		if (!e->used)
			continue;
		if (!e->parked)
			map_count(s, e->pfn, -1);
		if (e->state == SPEC_IPA_BORROWED)
			unshare_page(s, e->pfn);
		else
			set_page(s, e->pfn, SPEC_HOST, 0);
	}
	if (sp->cap)
		sim_space_free(sp);
	memset(sp, 0, sizeof(*sp));
	s->vms[v].live = false;
	s->nr_live--;
}

/* Ops on existing pages of a guest range, page by page. */
static void apply_guest_range(struct sim_spec *s, const struct sim_op *op)
{
	for (uint64_t i = 0; i < op->c; i++) {
		uint64_t page = (op->a >> PAGE_SHIFT) + i;
		struct sim_ipage *e = sim_space_find(&s->spaces[op->vm], page);

		if (!e)
			continue;	/* cannot be: the op was predicted legal */
		switch (op->kind) {
		case SIM_OP_HOST_UNSHARE_GUEST:
			map_count(s, e->pfn, -1);
			unshare_page(s, e->pfn);
			sim_space_remove(&s->spaces[op->vm], page);
			break;
		case SIM_OP_GUEST_SHARE_HOST:
			e->state = SPEC_IPA_LENT;
			set_page(s, e->pfn, SPEC_GUEST_LENT, op->vm);
			break;
		case SIM_OP_GUEST_UNSHARE_HOST:
			e->state = SPEC_IPA_OWNED;
			set_page(s, e->pfn, SPEC_GUEST, op->vm);
			break;
		case SIM_OP_S2_UNMAP:
			e->parked = true;
			map_count(s, e->pfn, -1);
			break;
		case SIM_OP_S2_MAP:
			e->parked = false;
			e->prot = (uint8_t)(op->d & RWX);
			map_count(s, e->pfn, 1);
			break;
		case SIM_OP_S2_PROTECT:
			e->prot = (uint8_t)(op->d & RWX);
			break;
		default:
			break;
		}
	}
}

void sim_spec_apply(struct sim_spec *s, const struct sim_op *op, const struct sim_spec_verdict *v)
{
	struct sim_ipage *e;

	if (!v->judged || v->result)
		return;
	if (op->vm > SIM_MAX_VM)
		return;
	switch (op->kind) {
	case SIM_OP_VM_CREATE:
		s->vms[op->vm] = (struct sim_spec_vm){ .live = true,
						       .vcpus = op->a ? (unsigned int)op->a : 1 };
		s->nr_live++;
		break;
	case SIM_OP_VM_DESTROY:
		destroy_vm(s, op->vm);
		break;
	case SIM_OP_VM_PIN:
		s->vms[op->vm].pins++;
		break;
	case SIM_OP_VM_UNPIN:
		s->vms[op->vm].pins--;
		break;
	case SIM_OP_HOST_DONATE_HYP:
	case SIM_OP_HYP_DONATE_HOST:
		for (uint64_t i = 0; i < op->c; i++)
			set_page(s, op->b + i,
				 op->kind == SIM_OP_HOST_DONATE_HYP ? SPEC_HYP : SPEC_HOST, 0);
		break;
	case SIM_OP_HOST_DONATE_GUEST:
		donate_guest(s, op->vm, op->a, op->b, op->c);
		break;
	case SIM_OP_HOST_SHARE_GUEST:
		for (uint64_t i = 0; i < op->c; i++) {
			struct sim_spec_page *p = page_w(s, op->b + i);

			if (p) {
				p->state = SPEC_HOST_SHARED;
				p->shares++;
			}
			guest_insert(s, op->vm, op->a + (i << PAGE_SHIFT), op->b + i,
				     SPEC_IPA_BORROWED, (uint8_t)(op->d & RWX));
		}
		break;
	case SIM_OP_FAULT:
		if (op->vm == 0)
			break;
		e = sim_space_find(&s->spaces[op->vm], op->a >> PAGE_SHIFT);
		if (!e) {
			/* The host's page; SPEC_NO_PFN for a model that was not told which. */
			donate_guest(s, op->vm, op->a & ~(PAGE_SIZE - 1), v->pfn, 1);
			break;
		}
		if (e->parked) {
			e->parked = false;
			e->prot = RWX;
			map_count(s, e->pfn, 1);
		}
		break;
	case SIM_OP_HOST_UNSHARE_GUEST:
	case SIM_OP_GUEST_SHARE_HOST:
	case SIM_OP_GUEST_UNSHARE_HOST:
	case SIM_OP_S2_UNMAP:
	case SIM_OP_S2_MAP:
	case SIM_OP_S2_PROTECT:
		apply_guest_range(s, op);
		break;
	default:
		break;		/* accesses change no ownership */
	}
}
