// SPDX-License-Identifier: MIT
/*
 * Handles and VMs must be defined (by the op that creates them) before any
 * op uses them. This is a property of the trace text, checked while
 * reading, independent of what the ops return when run: a handle whose
 * alloc failed is still defined, and using it is a legal op that the
 * executor answers with ENOENT.
 */
#include <stdlib.h>
#include <string.h>

#include <hvmm/types.h>

#include "trace.h"

void sim_trace_handles_init(struct sim_trace_handles *t)
{
	memset(t, 0, sizeof(*t));
	t->vm_defined[0] = 1;	/* vm0 is the host */
}

void sim_trace_handles_fini(struct sim_trace_handles *t)
{
	free(t->order);
	t->order = NULL;
	t->cap = 0;
}

static int reserve(struct sim_trace_handles *t, uint64_t last)
{
	uint32_t cap = t->cap ? t->cap : 1024;
	uint8_t *n;

	if (last < t->cap)
		return 0;
	while (cap <= last)
		cap *= 2;
	n = realloc(t->order, cap);
	if (!n)
		return -1;
	memset(n + t->cap, 0, cap - t->cap);
	t->order = n;
	t->cap = cap;
	return 0;
}

/* Defines handles [first, first + count) with @order (clipped to SIM_MAX_HANDLE). */
static int define(struct sim_trace_handles *t, uint64_t first, uint64_t count, unsigned int order)
{
	uint64_t end = first + count > SIM_MAX_HANDLE ? SIM_MAX_HANDLE : first + count;

	if (first >= end)
		return 0;
	/* One handle already in the table (an alloc): a store, not a call. */
	if (count == 1 && first < t->cap) {
		t->order[first] = (uint8_t)(hvmm_min(order, 62u) + 1);
		return 0;
	}
	if (reserve(t, end - 1))
		return -1;
	memset(t->order + first, (int)(hvmm_min(order, 62u) + 1), end - first);
	return 0;
}

static bool defined(const struct sim_trace_handles *t, uint64_t h)
{
	return h < t->cap && t->order[h];
}

/* The ops that create what they name; every other mention is a use. */
static bool defines_handle(unsigned int kind)
{
	return kind == SIM_OP_ALLOC || kind == SIM_OP_BM_ALLOC || kind == SIM_OP_BM_ALLOC_CONTIG ||
	       kind == SIM_OP_BM_ALLOC_AT || kind == SIM_OP_HALLOC;
}

/*
 * What each kind's arguments ask of the table, found once at start-up: a
 * VM that must exist (any VM argument but vm_create's), a handle h that
 * must be defined (unless the op defines it). Called for every op read,
 * where a walk of the arguments was about half of the check.
 */
enum { USES_VM = 1, USES_H = 2, USES_BOTH_VM_FIRST = 4 };
static uint8_t kind_uses[SIM_OP__COUNT];

uint8_t sim_trace_handles_fast_kind[SIM_OP__COUNT];

__attribute__((constructor)) static void kind_uses_init(void)
{
	for (unsigned int k = 0; k < SIM_OP__COUNT; k++) {
		const struct sim_op_desc *d = &sim_op_descs[k];

		for (unsigned int i = 0; i < d->nargs; i++) {
			const struct sim_op_arg *arg = &d->args[i];

			if (arg->type == SIM_ARG_VM && k != SIM_OP_VM_CREATE) {
				if (!kind_uses[k])
					kind_uses[k] |= USES_BOTH_VM_FIRST;
				kind_uses[k] |= USES_VM;
			}
			if (arg->type == SIM_ARG_HANDLE && arg->field == SIM_F_H && !defines_handle(k))
				kind_uses[k] |= USES_H;
		}
		/* What sim_trace_handles_ok() may decide alone (see trace.h). */
		if (k == SIM_OP_VM_CREATE || k == SIM_OP_SPLIT || (kind_uses[k] & USES_VM))
			sim_trace_handles_fast_kind[k] = SIM_TRACE_HANDLES_SLOW;
		else if (k == SIM_OP_ALLOC)
			sim_trace_handles_fast_kind[k] = SIM_TRACE_HANDLES_DEFINE_ORDER;
		else if (defines_handle(k))
			sim_trace_handles_fast_kind[k] = SIM_TRACE_HANDLES_DEFINE;
		else if (kind_uses[k] & USES_H)
			sim_trace_handles_fast_kind[k] = SIM_TRACE_HANDLES_USE;
		else
			sim_trace_handles_fast_kind[k] = SIM_TRACE_HANDLES_NONE;
	}
}

int sim_trace_handles_check(struct sim_trace_handles *t, const struct sim_op *op,
			    char *err, size_t errlen)
{
	unsigned int uses = kind_uses[op->kind];
	bool vm_bad = (uses & USES_VM) && !(t->vm_defined[op->vm / 8] & (1u << (op->vm % 8)));
	bool h_bad = (uses & USES_H) && !defined(t, op->h);

	/* As the arguments come: the first one at fault is named. */
	if (vm_bad && (!h_bad || (uses & USES_BOTH_VM_FIRST))) {
		snprintf(err, errlen, "vm%llu to be created by an earlier vm_create",
			 (unsigned long long)op->vm);
		return -1;
	}
	if (h_bad) {
		snprintf(err, errlen, "h%llu to be defined by an earlier alloc or split",
			 (unsigned long long)op->h);
		return -1;
	}
	if (op->kind == SIM_OP_VM_CREATE)
		t->vm_defined[op->vm / 8] |= (uint8_t)(1u << (op->vm % 8));
	else if (op->kind == SIM_OP_ALLOC)
		return define(t, op->h, 1, (unsigned int)op->a) ? (snprintf(err, errlen, "memory"), -1) : 0;
	else if (defines_handle(op->kind))
		return define(t, op->h, 1, 0) ? (snprintf(err, errlen, "memory"), -1) : 0;
	else if (op->kind == SIM_OP_SPLIT) {
		unsigned int order = t->order[op->h] - 1;

		/* A split block's pages become h, then h2, h2 + 1, ... (sim/op.h). */
		if (define(t, op->h2, (1ULL << order) - 1, 0) || define(t, op->h, 1, 0)) {
			snprintf(err, errlen, "memory");
			return -1;
		}
	}
	return 0;
}
