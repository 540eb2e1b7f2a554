// SPDX-License-Identifier: MIT
/*
 * SPEC as an oracle: every op's result against the one the reference
 * model (oracle/spec.c) predicted before the op ran, and, after a
 * success, the post-state as the independent stage-2 walker sees it
 * against the model's. Nothing of mm/'s bookkeeping is read: what the
 * tables let a VM (or the host) reach is observation, not mm/'s word.
 */
#include <stdio.h>

#include "oracle/vm_view.h"

#define PAGE		4096ULL
#define WALK_CAP	512	/* pages walked per op (a 2 MiB block); the sweep sees all */

static const char *result(int r)
{
	return sim_result_name(r);
}

static uint8_t prot_of_t(const struct sim_translation *t)
{
	return (uint8_t)((t->read ? SIM_PROT_R : 0) | (t->write ? SIM_PROT_W : 0) |
			 (t->exec ? SIM_PROT_X : 0));
}

/* The first page of the op a message can name. */
static void name_page(const struct sim_op *op, char *buf, size_t len)
{
	switch (op->kind) {
	case SIM_OP_HOST_DONATE_HYP:
	case SIM_OP_HYP_DONATE_HOST:
		snprintf(buf, len, "pfn 0x%llx+%llu", (unsigned long long)op->b,
			 (unsigned long long)op->c);
		break;
	case SIM_OP_HOST_DONATE_GUEST:
	case SIM_OP_HOST_SHARE_GUEST:
	case SIM_OP_HOST_UNSHARE_GUEST:
	case SIM_OP_S2_MAP:
		snprintf(buf, len, "vm%u ipa 0x%llx pfn 0x%llx+%llu", op->vm,
			 (unsigned long long)op->a, (unsigned long long)op->b,
			 (unsigned long long)op->c);
		break;
	case SIM_OP_GUEST_SHARE_HOST:
	case SIM_OP_GUEST_UNSHARE_HOST:
	case SIM_OP_S2_UNMAP:
	case SIM_OP_S2_PROTECT:
		snprintf(buf, len, "vm%u ipa 0x%llx+%llu", op->vm, (unsigned long long)op->a,
			 (unsigned long long)op->c);
		break;
	default:
		snprintf(buf, len, "vm%u ipa 0x%llx", op->vm, (unsigned long long)op->a);
		break;
	}
}

/* vm@v's page at @ipa as the walker sees it, against the model. */
static void check_guest_page(struct sim_vm_view *vs, unsigned int v, uint64_t ipa)
{
	const struct sim_ipage *e = sim_spec_ipa(vs->spec, v, ipa);
	struct sim_s2_regs regs = vs->g[v].regs;
	bool want = e && !e->parked;
	struct sim_walk w;

	sim_s2_walk(vs->pm, &regs, ipa, &w);
	if (!want && !w.fault)
		sim_report_violation(vs->report, SIM_ORACLE_SPEC,
			"vm%u ipa 0x%llx: reaches pa 0x%llx; the model has %s there", v,
			(unsigned long long)ipa,
			(unsigned long long)(w.t.pa_base + (ipa - w.t.ipa_base)),
			e ? "a parked page" : "no page");
	else if (want && w.fault)
		sim_report_violation(vs->report, SIM_ORACLE_SPEC,
			"vm%u ipa 0x%llx: %s; the model maps pfn 0x%llx prot %u there", v,
			(unsigned long long)ipa, sim_fault_name(w.fault),
			(unsigned long long)e->pfn, e->prot);
	else if (want && (w.t.pa_base + (ipa - w.t.ipa_base) != e->pfn * PAGE ||
			  prot_of_t(&w.t) != e->prot))
		sim_report_violation(vs->report, SIM_ORACLE_SPEC,
			"vm%u ipa 0x%llx: reaches pa 0x%llx prot %u; the model maps pfn 0x%llx "
			"prot %u", v, (unsigned long long)ipa,
			(unsigned long long)(w.t.pa_base + (ipa - w.t.ipa_base)), prot_of_t(&w.t),
			(unsigned long long)e->pfn, e->prot);
}

/* The host's map is lazy: a page it may not touch must not be reachable. */
static void check_host_page(struct sim_vm_view *vs, uint64_t pfn)
{
	struct sim_s2_regs regs = vs->g[0].regs;
	const struct sim_spec_page *p = sim_spec_page(vs->spec, pfn);
	struct sim_walk w;

	if (!p || !sim_spec_is_ram(vs->spec, pfn) || sim_spec_host_may_access(vs->spec, pfn))
		return;
	sim_s2_walk(vs->pm, &regs, pfn * PAGE, &w);
	if (!w.fault)
		sim_report_violation(vs->report, SIM_ORACLE_SPEC,
			"host pa 0x%llx: reachable, but the model says the page is %s",
			(unsigned long long)(pfn * PAGE), sim_spec_state_name(p->state));
}

/* Each guest page from @ipa on, and the host page behind it, as the walks show them. */
static void check_guest_range(struct sim_vm_view *vs, unsigned int vm, uint64_t ipa, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++, ipa += PAGE) {
		const struct sim_ipage *e;

		check_guest_page(vs, vm, ipa);
		e = sim_spec_ipa(vs->spec, vm, ipa);
		if (e)
			check_host_page(vs, e->pfn);
	}
}

/* The pages the op named, as the walks show them after it. */
static void check_post_state(struct sim_vm_view *vs, const struct sim_op *op)
{
	uint64_t n = op->c < WALK_CAP ? op->c : WALK_CAP;

	if (sim_spec_op_changes_ipas(op->kind)) {
		check_guest_range(vs, op->vm, op->a, n);
		return;
	}
	switch (op->kind) {
	case SIM_OP_HOST_DONATE_HYP:
	case SIM_OP_HYP_DONATE_HOST:
		for (uint64_t i = 0; i < n; i++)
			check_host_page(vs, op->b + i);
		break;
	case SIM_OP_FAULT:
		if (op->vm)
			check_guest_range(vs, op->vm, op->a & ~(PAGE - 1), 1);
		break;
	default:
		break;
	}
}

void sim_vm_spec_judge(struct sim_vm_view *vs, const struct sim_op *op, int ret)
{
	const struct sim_spec_verdict *want = vs->verdict;
	char page[96];

	if (!want->judged)
		return;
	if (ret == want->result) {
		sim_spec_apply(vs->spec, op, want);
		/* In a concurrent block or a commit, mm/ may be past this op: the sweep judges. */
		if (!ret && vs->oracles && !vs->deferred)
			check_post_state(vs, op);
		return;
	}
	/* A legal op may run out of table pages; it must then change nothing. */
	if (ret == -SIM_ENOMEM && want->may_enomem)
		return;
	if (!vs->oracles)
		return;
	name_page(op, page, sizeof(page));
	sim_report_violation(vs->report, SIM_ORACLE_SPEC,
		"%s: mm/ %s %s; the model says %s%s", page,
		ret ? "refused it with" : "accepted it:", result(ret),
		want->result ? "it must fail with " : "it is legal: ", result(want->result));
}
