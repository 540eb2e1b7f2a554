// SPDX-License-Identifier: MIT
/*
 * The "vm-random" workload: several VMs created, faulted, donated to,
 * shared with and destroyed, with guest and host loads and stores, in a
 * small IPA window so that ops meet each other's pages often.
 */
#include "workload/vm_random.h"

#include <stdlib.h>
#include <string.h>

#include <hvmm/types.h>

#define NR_VMS		6
#define WINDOW_PAGES	128		/* guest IPAs [0, 128 pages) and one 2 MiB block slot */
#define BLOCK_IPA	0x40000000ULL
#define HOST_SPAN	32768		/* host pfns the workload plays with */
#define MAX_SHARES	256

struct share {
	uint32_t vm;
	uint64_t ipa, pfn;
};

struct sim_vm_workload {
	struct sim_workload_params p;
	struct sim_rng rng;
	uint64_t emitted;
	uint64_t host_pfn;		/* first host pfn played with */
	bool live[NR_VMS + 1];
	struct share shares[MAX_SHARES];
	unsigned int nr_shares;
	int pending_share;		/* index of the share an unshare op consumes */
};

struct sim_vm_workload *sim_vm_workload_create(const struct sim_workload_params *params)
{
	struct sim_vm_workload *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->p = *params;
	sim_rng_seed(&w->rng, params->seed);
	w->host_pfn = params->host_base_pfn;
	return w;
}

void sim_vm_workload_destroy(struct sim_vm_workload *w)
{
	free(w);
}

static uint64_t below(struct sim_vm_workload *w, uint64_t n)
{
	return sim_rng_below(&w->rng, n);
}

static uint32_t live_vm(struct sim_vm_workload *w)
{
	uint32_t v = 1 + (uint32_t)below(w, NR_VMS);

	for (int i = 0; i < NR_VMS && !w->live[v]; i++)
		v = v % NR_VMS + 1;
	return w->live[v] ? v : 0;
}

static uint64_t guest_ipa(struct sim_vm_workload *w)
{
	if (below(w, 16) == 0)
		return BLOCK_IPA + (below(w, 512) << HVMM_PAGE_SHIFT);
	return below(w, WINDOW_PAGES) << HVMM_PAGE_SHIFT;
}

static uint64_t host_page(struct sim_vm_workload *w)
{
	return w->host_pfn + below(w, HOST_SPAN);
}

bool sim_vm_workload_next(struct sim_vm_workload *w, struct sim_op *op)
{
	uint64_t dice;
	uint32_t vm;

	if (w->emitted >= w->p.ops)
		return false;
	w->emitted++;
	memset(op, 0, sizeof(*op));
	w->pending_share = -1;
	vm = live_vm(w);
	dice = below(w, 1000);
	if (!vm || dice < 8) {
		op->kind = SIM_OP_VM_CREATE;
		op->vm = 1 + (uint32_t)below(w, NR_VMS);
		op->a = 1 + below(w, 2);
		return true;
	}
	op->vm = vm;
	op->c = 1 + (below(w, 4) == 0 ? below(w, 8) : 0);
	if (dice < 14) {
		op->kind = SIM_OP_VM_DESTROY;
	} else if (dice < 200) {
		op->kind = SIM_OP_FAULT;
		op->a = guest_ipa(w);
	} else if (dice < 230) {
		op->kind = SIM_OP_HOST_DONATE_GUEST;
		op->a = guest_ipa(w);
		op->b = host_page(w);
		if (below(w, 8) == 0) {		/* a 2 MiB block */
			op->a = BLOCK_IPA;
			op->b = HVMM_ALIGN_DOWN(op->b, 512ULL);
			op->c = 512;
		}
	} else if (dice < 300) {
		op->kind = SIM_OP_HOST_SHARE_GUEST;
		op->a = guest_ipa(w);
		op->b = host_page(w);
		op->c = 1;
		op->d = 1 + below(w, 7);
	} else if (dice < 350 && w->nr_shares) {
		struct share *s;

		w->pending_share = (int)below(w, w->nr_shares);
		s = &w->shares[w->pending_share];
		op->kind = SIM_OP_HOST_UNSHARE_GUEST;
		op->vm = s->vm;
		op->a = s->ipa;
		op->b = s->pfn;
		op->c = 1;
	} else if (dice < 390) {
		op->kind = SIM_OP_GUEST_SHARE_HOST;
		op->a = guest_ipa(w);
	} else if (dice < 420) {
		op->kind = SIM_OP_GUEST_UNSHARE_HOST;
		op->a = guest_ipa(w);
	} else if (dice < 460) {
		op->kind = SIM_OP_S2_UNMAP;
		op->a = guest_ipa(w);
	} else if (dice < 470) {
		op->kind = SIM_OP_S2_MAP;
		op->a = guest_ipa(w);
		op->b = host_page(w);
		op->d = SIM_PROT_R | SIM_PROT_W;
	} else if (dice < 500) {
		op->kind = SIM_OP_S2_PROTECT;
		op->a = guest_ipa(w);
		op->d = below(w, 8);
	} else if (dice < 510) {
		op->kind = below(w, 2) ? SIM_OP_HOST_DONATE_HYP : SIM_OP_HYP_DONATE_HOST;
		op->vm = 0;
		op->b = host_page(w);
	} else if (dice < 900) {
		op->kind = below(w, 2) ? SIM_OP_LOAD : SIM_OP_STORE;
		op->vcpu = (uint32_t)below(w, 2);
		op->a = guest_ipa(w) + (below(w, 512) << 3);
		op->b = sim_rng_next(&w->rng);
		op->c = 0;
	} else {
		op->kind = below(w, 2) ? SIM_OP_LOAD : SIM_OP_STORE;
		op->vm = 0;
		op->vcpu = 0;
		op->a = (host_page(w) << HVMM_PAGE_SHIFT) + (below(w, 512) << 3);
		op->b = sim_rng_next(&w->rng);
		op->c = 0;
	}
	return true;
}

void sim_vm_workload_result(struct sim_vm_workload *w, const struct sim_op *op, int result)
{
	if (result)
		return;
	switch (op->kind) {
	case SIM_OP_VM_CREATE:
		w->live[op->vm] = true;
		return;
	case SIM_OP_VM_DESTROY:
		w->live[op->vm] = false;
		for (unsigned int i = 0; i < w->nr_shares;)
			if (w->shares[i].vm == op->vm)
				w->shares[i] = w->shares[--w->nr_shares];
			else
				i++;
		return;
	case SIM_OP_HOST_SHARE_GUEST:
		if (w->nr_shares < MAX_SHARES)
			w->shares[w->nr_shares++] = (struct share){ op->vm, op->a, op->b };
		return;
	case SIM_OP_HOST_UNSHARE_GUEST:
		if (w->pending_share >= 0)
			w->shares[w->pending_share] = w->shares[--w->nr_shares];
		return;
	default:
		return;
	}
}
