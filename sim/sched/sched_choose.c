// SPDX-License-Identifier: MIT
/* The choosers of the interleaver (sched.h). */
#include "sched.h"

#include <stdlib.h>

#include "event/event.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int choose_first(void *ctx, struct sim_sched *s, const unsigned int *enabled,
				 unsigned int n, int cur)
{
	(void)ctx;
	(void)s;
	for (unsigned int i = 0; i < n; i++)
		if ((int)enabled[i] == cur)
			return i;
	return 0;
}

const struct sim_sched_chooser sim_sched_first = { choose_first, NULL };

static unsigned int index_of(const unsigned int *enabled, unsigned int n, unsigned int vcpu)
{
	for (unsigned int i = 0; i < n; i++)
		if (enabled[i] == vcpu)
			return i;
	return n;
}

/* Whether @vcpu's last step was an atomic store (in mm/, a lock release). */
static bool released(const struct sim_sched *s, int vcpu)
{
	const struct sim_sched_access *a;

	if (!s || vcpu < 0)
		return false;
	a = sim_sched_last_access(s, (unsigned int)vcpu);
	return a->valid && a->kind == SIM_EV_ATOMIC &&
	       (a->flags & SIM_EV_F_OP_MASK) == SIM_EV_AT_STORE;
}

/* Index @r picks among @enabled[0..n) less indexes @a and @b (n or equal when none). */
static unsigned int pick_except(uint64_t r, unsigned int n, unsigned int a, unsigned int b)
{
	unsigned int left = n - (a < n) - (b < n && b != a);

	if (!left)
		return a < n ? a : 0;
	r %= left;
	for (unsigned int i = 0; i < n; i++) {
		if (i == a || i == b)
			continue;
		if (!r--)
			return i;
	}
	return 0;
}

static unsigned int choose_prng(void *ctx, struct sim_sched *s, const unsigned int *enabled,
				unsigned int n, int cur)
{
	struct sim_sched_prng *p = ctx;
	uint64_t r = splitmix64(&p->state);
	unsigned int at, held = n, bits, pick;
	bool in_window = false;

	if (!p->stay_bits || cur < 0)
		return (unsigned int)(r % n);
	if (p->hold_ops && s && sim_sched_completed(s) >= p->hold_ops)
		p->hold = p->hold_ops = 0;	/* another vCPU finished an op */
	if (p->hold) {
		p->hold--;
		held = index_of(enabled, n, (unsigned int)p->held);
	}
	at = index_of(enabled, n, (unsigned int)cur);
	if (at == n || at == held)
		return pick_except(r, n, at, held);
	if (released(s, cur)) {
		p->window_vcpu = cur;
		p->window = SIM_SCHED_RELEASE_WINDOW;
	} else if (p->window_vcpu != cur) {
		p->window = 0;
	}
	bits = p->stay_bits;
	if (p->window) {
		p->window--;
		bits = 1;
		in_window = true;
	}
	/* The running vCPU goes on unless the low bits are all zero. */
	if (r & ((1ULL << bits) - 1))
		return at;
	pick = pick_except(r >> 32, n, at, held);
	if (pick == at)
		return at;	/* the only other one is held back */
	if (in_window) {
		/*
		 * Preempted in its window: held back until another vCPU
		 * finishes an op (1 in 2), until no other vCPU can run (1 in
		 * 4), or for 1 to 2^HOLD_LOG decisions, log-uniformly (1 in 4).
		 */
		p->held = cur;
		p->hold = UINT64_MAX;
		p->hold_ops = 0;
		switch (r >> 62) {
		case 0:
			p->hold = 1ULL << ((r >> 16) % (SIM_SCHED_RELEASE_HOLD_LOG + 1));
			break;
		case 1:
			break;
		default:
			if (s)
				p->hold_ops = sim_sched_completed(s) + 1;
			break;
		}
	}
	p->window = 0;
	return pick;
}

void sim_sched_prng_init(struct sim_sched_prng *p, struct sim_sched_chooser *c, uint64_t seed)
{
	*p = (struct sim_sched_prng){ .state = seed, .stay_bits = (unsigned int)(seed >> 61),
				      .window_vcpu = -1, .held = -1 };
	*c = (struct sim_sched_chooser){ choose_prng, p };
}

static unsigned int choose_replay(void *ctx, struct sim_sched *s, const unsigned int *enabled,
				  unsigned int n, int cur)
{
	struct sim_sched_replay *r = ctx;

	if (r->pos < r->n) {
		unsigned int i = index_of(enabled, n, r->choices[r->pos++]);

		if (i < n)
			return i;
		r->mismatches++;
	}
	return r->fallback.choose(r->fallback.ctx, s, enabled, n, cur);
}

void sim_sched_replay_init(struct sim_sched_replay *r, struct sim_sched_chooser *c,
			   const uint16_t *choices, size_t n, const struct sim_sched_chooser *fallback)
{
	*r = (struct sim_sched_replay){ .choices = choices, .n = n,
					.fallback = fallback ? *fallback : sim_sched_first };
	*c = (struct sim_sched_chooser){ choose_replay, r };
}

static unsigned int choose_bytes(void *ctx, struct sim_sched *s, const unsigned int *enabled,
				 unsigned int n, int cur)
{
	struct sim_sched_bytes *b = ctx;

	if (b->pos < b->n)
		return b->data[b->pos++] % n;
	return b->fallback.choose(b->fallback.ctx, s, enabled, n, cur);
}

void sim_sched_bytes_init(struct sim_sched_bytes *b, struct sim_sched_chooser *c,
			  const uint8_t *data, size_t n, const struct sim_sched_chooser *fallback)
{
	*b = (struct sim_sched_bytes){ .data = data, .n = n,
				       .fallback = fallback ? *fallback : sim_sched_first };
	*c = (struct sim_sched_chooser){ choose_bytes, b };
}

static unsigned int choose_pct(void *ctx, struct sim_sched *s, const unsigned int *enabled,
			       unsigned int n, int cur)
{
	struct sim_sched_pct *p = ctx;
	uint64_t step = sim_sched_steps(s);
	unsigned int best = 0;

	/* A change point passed: the vCPU that ran there drops below every initial priority. */
	for (unsigned int i = 0; i + 1 < p->depth; i++)
		if (p->change_at[i] && step >= p->change_at[i] && cur >= 0) {
			p->prio[cur] = i + 1;
			p->change_at[i] = 0;
		}
	for (unsigned int i = 1; i < n; i++)
		if (p->prio[enabled[i]] > p->prio[enabled[best]])
			best = i;
	return best;
}

int sim_sched_pct_init(struct sim_sched_pct *p, struct sim_sched_chooser *c, uint64_t seed,
		       unsigned int nr, uint64_t k, unsigned int depth)
{
	if (depth < 1 || depth > SIM_SCHED_PCT_MAX_DEPTH || !nr)
		return -1;
	*p = (struct sim_sched_pct){ .prng = seed, .nr = nr, .depth = depth, .k = k ? k : 1 };
	p->prio = malloc(nr * sizeof(*p->prio));
	if (!p->prio)
		return -1;
	/* Distinct initial priorities depth .. depth + nr - 1, in random order. */
	for (unsigned int i = 0; i < nr; i++)
		p->prio[i] = depth + i;
	for (unsigned int i = nr - 1; i > 0; i--) {
		unsigned int j = (unsigned int)(splitmix64(&p->prng) % (i + 1));
		uint32_t t = p->prio[i];

		p->prio[i] = p->prio[j];
		p->prio[j] = t;
	}
	for (unsigned int i = 0; i + 1 < depth; i++)
		p->change_at[i] = 1 + splitmix64(&p->prng) % p->k;
	*c = (struct sim_sched_chooser){ choose_pct, p };
	return 0;
}

void sim_sched_pct_release(struct sim_sched_pct *p)
{
	free(p->prio);
	p->prio = NULL;
}

double sim_sched_pct_bound(unsigned int nr, uint64_t k, unsigned int depth)
{
	double runs = (double)nr;

	for (unsigned int i = 1; i < depth; i++)
		runs *= (double)k;
	return 1.0 / runs;
}
