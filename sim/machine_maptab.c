// SPDX-License-Identifier: MIT
/*
 * Anaxagoros mapping tables through the executor, and the per-step
 * counter invariant (machine_maptab.h).
 *
 * The oracle keeps its own copy of every entry (so Occ(e) is a count it
 * maintains) and, per vCPU, the protocol position the steps it saw imply:
 * raising the new frame's counter (a store to it, or an atomic that
 * raised it) puts the vCPU in that frame's gap; writing the entry takes it
 * out and, if the entry named another frame, into that frame's gap until
 * a step lowers that frame's counter. Each check costs what the step
 * touched: paper-sized tables (2048 frames, 1024 vCPUs) are judged at
 * every step.
 */
#include "machine_maptab.h"

#include <stdlib.h>
#include <string.h>

#include <hvmm/maptab.h>

#include "event/event.h"
#include "machine.h"
#include "machine_conc.h"
#include "sched/sched.h"

struct vcpu_pos {
	uint32_t entry, frame;	/* the set_entry it runs */
	uint32_t lowering;	/* the frame it removed and has yet to uncount */
	uint8_t phase;		/* 0 before raising, 1 raised, 2 exchanged (gap on lowering), 3 done */
	uint8_t active;
};

struct sim_maptab_state {
	bool live;
	struct hvmm_maptab t;
	_Atomic uint32_t *count;
	_Atomic uint32_t *entry;
	uint32_t nr_frames, nr_entries, max;
	/* The oracle's own record. */
	uint32_t *shadow_entry;
	uint32_t *seen_count;
	uint32_t *occ;
	uint32_t *gap;
	struct vcpu_pos pos[SIM_SCHED_MAX_VCPUS];
	struct sim_machine *m;
	/*
	 * The arrays outlive a reset (grown, never moved back): hvmm explore
	 * resets the machine for every schedule, and its state hashing and
	 * independence tests see the tables by host address. Arrays that
	 * moved between schedules as the heap happened to hand them out made
	 * the search depend on the host's heap layout.
	 */
	size_t cap_frames, cap_entries;
};

struct sim_maptab_state *sim_maptab_create(void)
{
	return calloc(1, sizeof(struct sim_maptab_state));
}

void sim_maptab_reset(struct sim_maptab_state *st)
{
	if (!st)
		return;
	st->live = false;
	memset(&st->t, 0, sizeof(st->t));
	st->nr_frames = st->nr_entries = st->max = 0;
	memset(st->pos, 0, sizeof(st->pos));
	st->m = NULL;
}

static void free_arrays(struct sim_maptab_state *st)
{
	free(st->count);
	free(st->entry);
	free(st->shadow_entry);
	free(st->seen_count);
	free(st->occ);
	free(st->gap);
	st->count = st->entry = NULL;
	st->shadow_entry = st->seen_count = st->occ = st->gap = NULL;
	st->cap_frames = st->cap_entries = 0;
}

void sim_maptab_destroy(struct sim_maptab_state *st)
{
	if (!st)
		return;
	free_arrays(st);
	free(st);
}

static void violation(struct sim_maptab_state *st, uint32_t e, const char *what)
{
	uint32_t count = st->count[e];

	sim_report_violation(sim_machine_report(st->m), SIM_ORACLE_CONC,
		"frame %u: %s: Occ %u + gap %u = %u, but its mapping counter is %u (max %u)",
		e + 1, what, st->occ[e], st->gap[e], st->occ[e] + st->gap[e], count, st->max);
}

/* Occ(e) + gap(e) = count[e] <= max, for frame index @e (0-based). */
static void check_frame(struct sim_maptab_state *st, uint32_t e, const char *when)
{
	uint32_t count = st->count[e];

	if (count > st->max)
		violation(st, e, "counter above max");
	else if (count != st->occ[e] + st->gap[e])
		violation(st, e, when);
}

static bool is_store(const struct sim_sched_access *a)
{
	unsigned int op = a->flags & SIM_EV_F_OP_MASK;

	return a->kind == SIM_EV_STORE ||
	       (a->kind == SIM_EV_ATOMIC && (op == SIM_EV_AT_STORE || op == SIM_EV_AT_XCHG));
}

/* The step wrote counter @e (0-based). */
static void counter_step(struct sim_maptab_state *st, struct vcpu_pos *p, uint32_t e,
			 const struct sim_sched_access *a)
{
	uint32_t now = st->count[e], before = st->seen_count[e];

	st->seen_count[e] = now;
	if (p->active && p->phase == 0 && p->frame == e + 1 && (now > before || is_store(a))) {
		p->phase = 1;
		st->gap[e]++;
	} else if (p->active && p->phase == 2 && p->lowering == e + 1 && now < before) {
		p->phase = 3;
		st->gap[e]--;
		p->lowering = 0;
	}
	check_frame(st, e, "after a step on its counter");
}

/* The step wrote entry @i (an exchange: the frame it named is removed, even if named again). */
static void entry_step(struct sim_maptab_state *st, struct vcpu_pos *p, uint32_t i)
{
	uint32_t now = st->entry[i], old = st->shadow_entry[i];

	if (p->active && p->phase == 1 && p->frame) {
		st->gap[p->frame - 1]--;
		p->phase = 3;
	}
	st->shadow_entry[i] = now;
	if (old && old <= st->nr_frames) {
		st->occ[old - 1]--;
		if (p->active) {
			st->gap[old - 1]++;
			p->lowering = old;
			p->phase = 2;
		}
	}
	if (now && now <= st->nr_frames) {
		st->occ[now - 1]++;
		check_frame(st, now - 1, "after an entry came to name it");
	}
	if (old && old <= st->nr_frames)
		check_frame(st, old - 1, "after an entry stopped naming it");
	if (p->frame && p->frame != now)
		check_frame(st, p->frame - 1, "after the entry was written");
}

static void maptab_step(void *ctx, struct sim_sched *s, unsigned int vcpu)
{
	struct sim_maptab_state *st = ctx;
	const struct sim_sched_access *a = sim_sched_last_access(s, vcpu);
	uintptr_t addr = (uintptr_t)a->addr;
	uintptr_t cnt = (uintptr_t)st->count, ent = (uintptr_t)st->entry;

	if (!st->live || !a->valid || !a->write)
		return;
	if (addr - cnt < (uintptr_t)st->nr_frames * 4)
		counter_step(st, &st->pos[vcpu], (uint32_t)((addr - cnt) / 4), a);
	else if (addr - ent < (uintptr_t)st->nr_entries * 4)
		entry_step(st, &st->pos[vcpu], (uint32_t)((addr - ent) / 4));
}

/* Zeroed arrays of @frames and @entries, in place when they fit. */
static int arrays(struct sim_maptab_state *st, uint32_t frames, uint32_t entries)
{
	if (frames > st->cap_frames || entries > st->cap_entries) {
		size_t f = frames > st->cap_frames ? frames : st->cap_frames;
		size_t e = entries > st->cap_entries ? entries : st->cap_entries;

		free_arrays(st);
		st->count = calloc(f, 4);
		st->seen_count = calloc(f, 4);
		st->occ = calloc(f, 4);
		st->gap = calloc(f, 4);
		st->entry = calloc(e, 4);
		st->shadow_entry = calloc(e, 4);
		if (!st->count || !st->seen_count || !st->occ || !st->gap || !st->entry ||
		    !st->shadow_entry) {
			free_arrays(st);
			return -1;
		}
		st->cap_frames = f;
		st->cap_entries = e;
	}
	memset((void *)st->count, 0, frames * 4);
	memset(st->seen_count, 0, frames * 4);
	memset(st->occ, 0, frames * 4);
	memset(st->gap, 0, frames * 4);
	memset((void *)st->entry, 0, entries * 4);
	memset(st->shadow_entry, 0, entries * 4);
	return 0;
}

static int maptab_init(struct sim_maptab_state *st, struct sim_machine *m, const struct sim_op *op)
{
	if (!op->a || op->a > SIM_MAPTAB_MAX_FRAMES || !op->b || op->b > SIM_MAPTAB_MAX_ENTRIES ||
	    !op->c || op->c > UINT32_MAX)
		return -HVMM_EINVAL;
	sim_maptab_reset(st);
	st->nr_frames = (uint32_t)op->a;
	st->nr_entries = (uint32_t)op->b;
	st->max = (uint32_t)op->c;
	st->m = m;
	if (arrays(st, st->nr_frames, st->nr_entries)) {
		sim_maptab_reset(st);
		return -HVMM_ENOMEM;
	}
	hvmm_maptab_init(&st->t, st->count, st->nr_frames, st->entry, st->nr_entries, st->max);
	st->live = true;
	sim_machine_conc_add_step_check(m, maptab_step, st);
	return 0;
}

/* A sequential op: the steps were not seen one by one; judge what it changed. */
static void judge_op(struct sim_maptab_state *st, struct vcpu_pos *p, uint32_t i)
{
	uint32_t old = st->shadow_entry[i], now = st->entry[i];

	if (old != now) {
		if (old && old <= st->nr_frames)
			st->occ[old - 1]--;
		if (now && now <= st->nr_frames)
			st->occ[now - 1]++;
		st->shadow_entry[i] = now;
	}
	if (old && old <= st->nr_frames) {
		st->seen_count[old - 1] = st->count[old - 1];
		check_frame(st, old - 1, "after set_entry");
	}
	if (p->frame && p->frame <= st->nr_frames) {
		st->seen_count[p->frame - 1] = st->count[p->frame - 1];
		check_frame(st, p->frame - 1, "after set_entry");
	}
}

int sim_maptab_exec(struct sim_maptab_state *st, struct sim_machine *m, const struct sim_op *op)
{
	struct sim_sched *s = sim_sched_current();
	int vcpu = s ? sim_sched_vcpu(s) : -1;
	struct vcpu_pos *p = &st->pos[vcpu < 0 ? 0 : vcpu];
	bool oracles = sim_machine_config(m)->oracles != SIM_ORACLES_OFF;
	int ret;

	if (op->kind == SIM_OP_MAPTAB_INIT)
		return maptab_init(st, m, op);
	if (!st->live)
		return -HVMM_ENOENT;
	if (op->a >= st->nr_entries || op->b > st->nr_frames)
		return -HVMM_EINVAL;
	*p = (struct vcpu_pos){ .entry = (uint32_t)op->a, .frame = (uint32_t)op->b,
				.active = vcpu >= 0 && oracles };
	ret = hvmm_maptab_set_entry(&st->t, (uint32_t)op->a, (uint32_t)op->b);
	sim_sched_complete_step(s);
	if (oracles && vcpu < 0)
		judge_op(st, p, (uint32_t)op->a);
	if (oracles && vcpu >= 0 && p->phase != 0 && p->phase != 3)
		sim_report_violation(sim_machine_report(m), SIM_ORACLE_CONC,
			"set_entry returned %s with frame %u still in its gap (phase %u)",
			sim_result_name(ret), p->phase == 1 ? p->frame : p->lowering, p->phase);
	p->active = 0;
	return ret;
}
