// SPDX-License-Identifier: MIT
/*
 * Real-threads mode (see threads.h): host threads on mm/, judged at
 * quiescent points by linearizability and by the executor's oracles.
 */
#include "threads.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "machine_vm.h"
#include "oracle/linearize.h"
#include "platform.h"
#include "trace/trace.h"

#define PAGE_SHIFT	12
/* Threads collide on purpose: a few pages, a few IPAs, two VMs. */
#define WIN_PAGES	24
#define IPA_BASE	0x10000000ULL
#define IPA_PAGES	16
#define NR_VMS		2
#define HANDLES		12		/* allocation handles per thread */
#define RECYCLE_EVERY	16		/* epochs between VM recycles */

struct slot {
	uint64_t pfn, pages;
	uint32_t refs;
};

struct run;

struct worker {
	struct run *r;
	unsigned int id;
	pthread_t thread;
	uint64_t rng;
	uint64_t left;			/* ops still to run */
	uint64_t epochs;		/* epochs started */
	struct slot slots[HANDLES];
	struct sim_lin_event *ev;	/* this epoch's, epoch_ops of room */
	size_t nr;
};

struct run {
	struct sim_machine *m;
	struct sim_vmstate *vs;
	struct sim_allocator *alloc;
	const struct sim_threads_config *cfg;
	unsigned int epoch_ops;
	pthread_barrier_t start, end;
	/* Threads wait here until all of them exist: 1 go, 2 quit (one could not start). */
	pthread_mutex_t gate_lock;
	pthread_cond_t gate_cond;
	int gate;
	_Atomic uint64_t clock;
	_Atomic uint64_t arrived;	/* threads that reached an epoch's start, ever */
	bool stop;			/* written before the start barrier only */
	uint64_t host_pfn;		/* first page of the host window */
	struct worker w[SIM_THREADS_MAX];
	struct sim_lin_event *ev;	/* threads * epoch_ops */
	struct sim_lin_event *merged;
};

static uint64_t rnd(struct worker *w)
{
	/* xorshift64*: per thread, so a thread's op stream depends on the seed alone. */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545f4914f6cdd1dULL;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- choosing ops -------------------------------------------------------------- */

static uint32_t handle_of(const struct worker *w, unsigned int slot)
{
	return 1 + w->id * HANDLES + slot;
}

/* An allocator op on this thread's own handles (others' are not its to free). */
static void pick_alloc_op(struct worker *w, struct sim_op *op)
{
	unsigned int s = (unsigned int)(rnd(w) % HANDLES);

	op->h = handle_of(w, s);
	if (!w->slots[s].refs) {
		op->kind = SIM_OP_ALLOC;
		op->a = rnd(w) % 3;
	} else if (w->slots[s].refs < 3 && rnd(w) % 4 == 0) {
		op->kind = SIM_OP_GET;
	} else {
		op->kind = w->slots[s].refs == 1 ? SIM_OP_FREE : SIM_OP_PUT;
	}
}

static const uint16_t vm_kinds[] = {
	SIM_OP_HOST_SHARE_GUEST, SIM_OP_HOST_SHARE_GUEST, SIM_OP_HOST_UNSHARE_GUEST,
	SIM_OP_HOST_DONATE_GUEST, SIM_OP_GUEST_SHARE_HOST, SIM_OP_GUEST_UNSHARE_HOST,
	SIM_OP_S2_UNMAP, SIM_OP_S2_MAP, SIM_OP_S2_PROTECT,
	SIM_OP_HOST_DONATE_HYP, SIM_OP_HYP_DONATE_HOST,
};

/* An ownership transition over the shared windows: most collide with another thread's. */
static void pick_vm_op(struct worker *w, struct sim_op *op)
{
	uint64_t i = rnd(w) % IPA_PAGES;

	op->kind = vm_kinds[rnd(w) % (sizeof(vm_kinds) / sizeof(vm_kinds[0]))];
	op->vm = 1 + (uint32_t)(rnd(w) % NR_VMS);
	/* Mostly IPA page i with host page i, so unshares and maps name what is there. */
	op->a = IPA_BASE + (i << PAGE_SHIFT);
	op->b = w->r->host_pfn + (rnd(w) % 4 ? i % WIN_PAGES : rnd(w) % WIN_PAGES);
	op->c = rnd(w) % 8 ? 1 : 2;
	op->d = rnd(w) % 2 ? SIM_PROT_R | SIM_PROT_W : SIM_PROT_R;
	if (op->kind == SIM_OP_HOST_DONATE_HYP || op->kind == SIM_OP_HYP_DONATE_HOST)
		op->vm = 0;
	/* A guest's own pages are named by IPA; map names the page parked there. */
	if (op->kind == SIM_OP_GUEST_SHARE_HOST || op->kind == SIM_OP_GUEST_UNSHARE_HOST ||
	    op->kind == SIM_OP_S2_UNMAP || op->kind == SIM_OP_S2_PROTECT)
		op->b = 0;
	if (op->kind != SIM_OP_HOST_SHARE_GUEST && op->kind != SIM_OP_S2_PROTECT &&
	    op->kind != SIM_OP_S2_MAP)
		op->d = 0;
}

/* --- running them on mm/ -------------------------------------------------------- */

/* Runs @op on mm/ (through the allocator's adapter for allocator ops). */
static int run_op(struct worker *w, const struct sim_op *op, uint64_t *value)
{
	struct sim_allocator *a = w->r->alloc;
	struct slot *s = &w->slots[(op->h - 1) % HANDLES];
	int ret;

	switch (op->kind) {
	case SIM_OP_ALLOC:
		ret = a->ops->alloc(a, (unsigned int)op->a, value);
		if (!ret)
			*s = (struct slot){ .pfn = *value, .pages = 1ULL << op->a, .refs = 1 };
		return ret;
	case SIM_OP_GET:
		ret = a->ops->get ? a->ops->get(a, s->pfn) : 0;
		s->refs += !ret;
		return ret;
	case SIM_OP_FREE:
	case SIM_OP_PUT:
		/* As the executor drops a reference: allocators without refcounts free at the last. */
		if (a->ops->put)
			ret = a->ops->put(a, s->pfn);
		else
			ret = s->refs > 1 ? 0 : a->ops->free(a, s->pfn, s->pages);
		s->refs -= !ret;
		return ret;
	default:
		return sim_vm_call(w->r->vs, op);
	}
}

/*
 * A panic on a host thread leaves mm/ with locks held that the other
 * threads may be spinning on: nothing can be judged after it. It is
 * reported as the ROBUST violation it is, and the process ends.
 */
static _Noreturn void worker_panicked(struct worker *w, const struct sim_op *op,
				      const struct sim_panic *p)
{
	char text[160];

	sim_op_format(op, text, sizeof(text));
	fflush(stdout);
	fprintf(stderr, "VIOLATION ROBUST in thread %u at its op %s: mm/ panicked at %s:%u: %s\n",
		w->id, text, p->file, p->line, p->what);
	_exit(1);
}

/*
 * The barrier wakes the threads one by one, later than an epoch lasts on
 * a busy host: they meet again spinning, so that their ops overlap.
 */
static void rendezvous(struct worker *w)
{
	uint64_t all = (uint64_t)w->r->cfg->threads * ++w->epochs;

	atomic_fetch_add(&w->r->arrived, 1);
	while (atomic_load(&w->r->arrived) < all)
		sched_yield();
}

/* The op each thread is in, for a fault report. */
static _Thread_local const struct sim_op *current_op;
static _Thread_local unsigned int current_thread;

/*
 * mm/ faulting on a thread (a list node another thread already unlinked,
 * say) is the ROBUST violation a panic is, and as final: reported, then
 * the process ends. Not async-signal-safe formatting, but the fault came
 * from mm/'s code, not from inside the C library.
 */
static void worker_fault(int sig, siginfo_t *si, void *uc)
{
	char text[160], line[320];
	int n;

	(void)uc;
	if (!current_op) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	sim_op_format(current_op, text, sizeof(text));
	n = snprintf(line, sizeof(line), "VIOLATION ROBUST in thread %u at its op %s: mm/ faulted "
		     "(%s at %p)\n", current_thread, text, sig == SIGSEGV ? "SIGSEGV" : "SIGBUS",
		     si->si_addr);
	if (n > 0 && write(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
		n = 0;
	_exit(1);
}

static void catch_faults(void)
{
	struct sigaction sa = { .sa_sigaction = worker_fault, .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
}

static void run_epoch(struct worker *w)
{
	struct sim_panic_catcher catcher;

	rendezvous(w);
	current_thread = w->id;
	w->nr = 0;
	while (w->left && w->nr < w->r->epoch_ops) {
		struct sim_lin_event *e = &w->ev[w->nr];
		volatile int ret;

		memset(e, 0, sizeof(*e));
		if (rnd(w) % 5 < 2)
			pick_alloc_op(w, &e->op);
		else
			pick_vm_op(w, &e->op);
		e->vcpu = w->id;
		e->call = atomic_fetch_add(&w->r->clock, 1);
		current_op = &e->op;
		if (sigsetjmp(catcher.env, 0) == 0) {
			sim_panic_arm(&catcher);
			ret = run_op(w, &e->op, &e->value);
			sim_panic_disarm();
			current_op = NULL;
		} else {
			worker_panicked(w, &e->op, &catcher.panic);
		}
		e->ret = atomic_fetch_add(&w->r->clock, 1);
		e->result = ret;
		w->nr++;
		w->left--;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int gate;

	pthread_mutex_lock(&w->r->gate_lock);
	while (!(gate = w->r->gate))
		pthread_cond_wait(&w->r->gate_cond, &w->r->gate_lock);
	pthread_mutex_unlock(&w->r->gate_lock);
	if (gate != 1)
		return NULL;
	for (;;) {
		pthread_barrier_wait(&w->r->start);
		if (w->r->stop)
			break;
		run_epoch(w);
		pthread_barrier_wait(&w->r->end);
	}
	return NULL;
}

/* --- judging an epoch at the quiescent point --------------------------------------- */

static bool machine_handle(void *ctx, uint32_t h, struct sim_lin_handle *out)
{
	return sim_machine_handle(ctx, h, &out->pfn, &out->pages, &out->refs);
}

static void print_history(FILE *f, const struct sim_lin_event *h, size_t n)
{
	char text[160];

	for (size_t i = 0; i < n; i++) {
		sim_op_format(&h[i].op, text, sizeof(text));
		fprintf(f, "  [%zu] vcpu %u [%llu, %llu] %s = %s", i, h[i].vcpu,
			(unsigned long long)h[i].call, (unsigned long long)h[i].ret, text,
			sim_result_name(h[i].result));
		if (h[i].op.kind == SIM_OP_ALLOC && !h[i].result)
			fprintf(f, " pfn=0x%llx", (unsigned long long)h[i].value);
		fputc('\n', f);
	}
}

static void report_not_linearizable(struct run *r, const struct sim_lin_event *h, size_t n,
				    const struct sim_lin_result *res, uint64_t epoch)
{
	struct sim_report *rep = sim_machine_report(r->m);
	const struct sim_lin_event *e = &h[res->stuck < n ? res->stuck : 0];

	sim_report_set_op_deferred(rep, sim_machine_stats(r->m)->ops, &e->op);
	sim_report_violation(rep, SIM_ORACLE_CONC,
		"epoch %llu: the %zu ops of %u threads have no order consistent with real time "
		"in which SPEC and the allocator shadow give each its result: after %zu ops in "
		"order, this one (thread %u) returned %s, which no next place allows",
		(unsigned long long)epoch, n, r->cfg->threads, res->longest, e->vcpu,
		sim_result_name(e->result));
	if (r->cfg->report) {
		fprintf(r->cfg->report, "history of epoch %llu (vcpu [call, return] op = result):\n",
			(unsigned long long)epoch);
		print_history(r->cfg->report, h, n);
	}
}

static void record(struct run *r, const struct sim_op *op, int result)
{
	struct sim_op c = *op;

	if (!r->cfg->trace)
		return;
	sim_trace_set_outcome(&c, result);
	sim_trace_write_op(r->cfg->trace, &c);
}

/*
 * The epoch at fault, as it ran: one program per thread, for the
 * interleaver to run again (a different interleaving, unless it finds
 * this one) or to search.
 */
static void record_block(struct run *r, uint64_t epoch)
{
	struct sim_trace_writer *tw = r->cfg->trace;
	char line[320], text[160];

	if (!tw)
		return;
	snprintf(line, sizeof(line), "# epoch %llu as it ran on %u host threads: a concurrent "
		 "block (each thread's ops after its sched line; '=' what each returned there)",
		 (unsigned long long)epoch, r->cfg->threads);
	sim_trace_write_line(tw, line);
	for (unsigned int i = 0; i < r->cfg->threads; i++) {
		struct sim_op sched = { .kind = SIM_OP_SCHED, .vcpu = i };

		if (!r->w[i].nr)
			continue;
		sim_trace_write_op(tw, &sched);
		for (size_t k = 0; k < r->w[i].nr; k++) {
			const struct sim_lin_event *e = &r->w[i].ev[k];

			sim_op_format(&e->op, text, sizeof(text));
			snprintf(line, sizeof(line), "# [%llu, %llu] %s = %s",
				 (unsigned long long)e->call, (unsigned long long)e->ret, text,
				 sim_result_name(e->result));
			sim_trace_write_line(tw, line);
			sim_trace_write_op(tw, &e->op);
		}
	}
}

/* Commits the witness order to the executor, whose sweep then judges mm/'s state. */
static void commit(struct run *r, const struct sim_lin_event *h, const struct sim_lin_result *res)
{
	struct sim_report *rep = sim_machine_report(r->m);

	sim_machine_commit_begin(r->m);
	for (size_t k = 0; k < res->n; k++) {
		const struct sim_lin_event *e = &h[res->order[k]];
		int ret = sim_machine_commit(r->m, &e->op, e->result, e->value);

		if (ret != e->result)
			sim_report_violation(rep, SIM_ORACLE_CONC,
				"committed in linearization order, the op returned %s; it returned "
				"%s when it ran", sim_result_name(ret), sim_result_name(e->result));
	}
	sim_machine_commit_end(r->m);
}

/* false: stop the run (a violation, or an undecided epoch). */
static bool judge_epoch(struct run *r, size_t n, uint64_t epoch, struct sim_threads_stats *st)
{
	struct sim_lin_refs refs = {
		.spec = &r->vs->spec, .shadow = sim_machine_shadow(r->m),
		.alloc_max_order = r->alloc->max_order,
		.handle = machine_handle, .handle_ctx = r->m,
		.walk = sim_vm_lin_leaf, .walk_ctx = r->vs,
	};
	struct sim_lin_result *res = malloc(sizeof(*res));
	uint64_t before = sim_machine_report(r->m)->total;
	enum sim_lin_verdict v;
	bool go_on = false;

	if (!res)
		return false;
	v = sim_lin_check(&refs, r->merged, n, r->cfg->max_nodes ? r->cfg->max_nodes : 1000000,
			  res);
	st->search_nodes += res->nodes;
	st->state_reordered += v == SIM_LIN_OK && res->state_misses;
	if (v == SIM_LIN_OK || v == SIM_LIN_STATE) {
		/* STATE: the sweep names the pages that differ; CONC if it does not. */
		commit(r, r->merged, res);
		if (v == SIM_LIN_STATE && sim_machine_report(r->m)->total == before)
			sim_lin_report_state(sim_machine_report(r->m), res, n);
		go_on = sim_machine_report(r->m)->total == before && !sim_machine_dead(r->m);
		for (size_t k = 0; go_on && k < res->n; k++)
			record(r, &r->merged[res->order[k]].op, r->merged[res->order[k]].result);
		if (!go_on)
			record_block(r, epoch);
	} else if (v == SIM_LIN_VIOLATION) {
		report_not_linearizable(r, r->merged, n, res, epoch);
		record_block(r, epoch);
	} else {
		record_block(r, epoch);
		st->undecided++;
		if (r->cfg->report)
			fprintf(r->cfg->report, "epoch %llu: linearizability %s after %llu nodes; "
				"nothing after it can be judged\n", (unsigned long long)epoch,
				sim_lin_verdict_name(v), (unsigned long long)res->nodes);
	}
	free(res);
	return go_on;
}

/* A VM destroyed and created again, through the executor: donated pages come back. */
static bool recycle_vm(struct run *r, unsigned int v, struct sim_threads_stats *st)
{
	struct sim_op destroy = { .kind = SIM_OP_VM_DESTROY, .vm = v };
	struct sim_op create = { .kind = SIM_OP_VM_CREATE, .vm = v, .a = 1 };
	int ret;

	st->vm_recycles++;
	ret = sim_machine_exec(r->m, &destroy, NULL);
	record(r, &destroy, ret);
	if (ret)
		return false;
	ret = sim_machine_exec(r->m, &create, NULL);
	record(r, &create, ret);
	return !ret;
}

/* --- the run ------------------------------------------------------------------------- */

static int setup(struct run *r, struct sim_machine *m, const struct sim_threads_config *cfg,
		 char *err, size_t errlen)
{
	const struct sim_spec *spec;

	r->m = m;
	r->cfg = cfg;
	r->vs = sim_machine_vms(m);
	r->alloc = sim_machine_allocator(m);
	/* Long enough epochs for the threads to overlap, short enough to search. */
	r->epoch_ops = cfg->epoch_ops ? cfg->epoch_ops :
		       cfg->threads ? SIM_LIN_MAX_OPS / 4 / cfg->threads : 0;
	if (!cfg->threads || cfg->threads > SIM_THREADS_MAX) {
		snprintf(err, errlen, "--threads must be 1 to %d", SIM_THREADS_MAX);
		return -1;
	}
	if ((uint64_t)cfg->threads * r->epoch_ops > SIM_LIN_MAX_OPS) {
		snprintf(err, errlen, "--threads times --epoch-ops must be at most %d",
			 SIM_LIN_MAX_OPS);
		return -1;
	}
	if (strcmp(r->alloc->ops->name, "buddy") && strcmp(r->alloc->ops->name, "bitmap")) {
		snprintf(err, errlen, "allocator %s: real threads run on buddy or bitmap",
			 r->alloc->ops->name);
		return -1;
	}
	if (!r->vs || !r->vs->enabled || sim_machine_stats(m)->ops) {
		snprintf(err, errlen, "the machine needs VMs (a hypervisor pool) and no op run yet");
		return -1;
	}
	spec = &r->vs->spec;
	r->host_pfn = r->vs->hyp_pfn + r->vs->hyp_pages;
	if (!sim_spec_is_ram(spec, r->host_pfn) || !sim_spec_is_ram(spec, r->host_pfn + WIN_PAGES)) {
		snprintf(err, errlen, "no %d pages of RAM after the hypervisor pool", WIN_PAGES + 1);
		return -1;
	}
	r->ev = calloc((size_t)cfg->threads * r->epoch_ops, sizeof(*r->ev));
	r->merged = calloc((size_t)cfg->threads * r->epoch_ops, sizeof(*r->merged));
	if (!r->ev || !r->merged) {
		snprintf(err, errlen, "out of host memory");
		return -1;
	}
	for (unsigned int v = 1; v <= NR_VMS; v++) {
		struct sim_op create = { .kind = SIM_OP_VM_CREATE, .vm = v, .a = 1 };
		int ret = sim_machine_exec(m, &create, NULL);

		record(r, &create, ret);
		if (ret) {
			snprintf(err, errlen, "cannot create vm%u", v);
			return -1;
		}
	}
	for (unsigned int i = 0; i < cfg->threads; i++) {
		struct worker *w = &r->w[i];

		w->r = r;
		w->id = i;
		w->rng = (cfg->seed + 1) * 0x9e3779b97f4a7c15ULL + i * 0xbf58476d1ce4e5b9ULL;
		w->rng = w->rng ? w->rng : 1;
		w->left = cfg->ops;
		w->ev = &r->ev[(size_t)i * r->epoch_ops];
	}
	return 0;
}

/* The epoch's events of every thread, in one history. */
static size_t merge(struct run *r, struct sim_threads_stats *st)
{
	size_t n = 0;

	for (unsigned int i = 0; i < r->cfg->threads; i++) {
		for (size_t k = 0; k < r->w[i].nr; k++) {
			const struct sim_lin_event *e = &r->w[i].ev[k];

			r->merged[n++] = *e;
			st->by_kind[e->op.kind]++;
			st->ok_by_kind[e->op.kind] += !e->result;
			st->failed += e->result != 0;
		}
	}
	st->ops += n;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			const struct sim_lin_event *a = &r->merged[i], *b = &r->merged[j];

			if (a->vcpu != b->vcpu && a->call < b->ret && b->call < a->ret) {
				st->overlapped++;
				break;
			}
		}
	}
	return n;
}

static bool threads_left(const struct run *r)
{
	for (unsigned int i = 0; i < r->cfg->threads; i++)
		if (r->w[i].left)
			return true;
	return false;
}

static void run_epochs(struct run *r, struct sim_threads_stats *st)
{
	for (uint64_t epoch = 0; threads_left(r); epoch++) {
		double t0;
		size_t n;

		/* The TLB model is the main thread's: the threads make no access it would judge. */
		sim_vm_threads_begin(r->vs);
		t0 = now_seconds();
		pthread_barrier_wait(&r->start);
		pthread_barrier_wait(&r->end);
		st->run_seconds += now_seconds() - t0;
		sim_vm_threads_end(r->vs);
		st->epochs++;
		n = merge(r, st);
		if (r->cfg->check && !judge_epoch(r, n, epoch, st))
			break;
		if (r->cfg->check && epoch % RECYCLE_EVERY == RECYCLE_EVERY - 1 &&
		    !recycle_vm(r, 1 + (unsigned int)(epoch / RECYCLE_EVERY) % NR_VMS, st))
			break;
	}
}

int sim_threads_run(struct sim_machine *m, const struct sim_threads_config *cfg,
		    struct sim_threads_stats *st, char *err, size_t errlen)
{
	struct run *r = calloc(1, sizeof(*r));
	unsigned int started = 0;
	double t0 = now_seconds();
	int ret = -1;

	memset(st, 0, sizeof(*st));
	if (!r) {
		snprintf(err, errlen, "out of host memory");
		return -1;
	}
	if (setup(r, m, cfg, err, errlen))
		goto out;
	catch_faults();
	pthread_barrier_init(&r->start, NULL, cfg->threads + 1);
	pthread_barrier_init(&r->end, NULL, cfg->threads + 1);
	pthread_mutex_init(&r->gate_lock, NULL);
	pthread_cond_init(&r->gate_cond, NULL);
	for (; started < cfg->threads; started++) {
		if (pthread_create(&r->w[started].thread, NULL, worker_main, &r->w[started])) {
			snprintf(err, errlen, "cannot start thread %u", started);
			break;
		}
	}
	pthread_mutex_lock(&r->gate_lock);
	r->gate = started == cfg->threads ? 1 : 2;
	pthread_cond_broadcast(&r->gate_cond);
	pthread_mutex_unlock(&r->gate_lock);
	if (started == cfg->threads) {
		run_epochs(r, st);
		r->stop = true;
		pthread_barrier_wait(&r->start);
		ret = 0;
	}
	for (unsigned int i = 0; i < started; i++)
		pthread_join(r->w[i].thread, NULL);
	pthread_barrier_destroy(&r->start);
	pthread_barrier_destroy(&r->end);
	pthread_mutex_destroy(&r->gate_lock);
	pthread_cond_destroy(&r->gate_cond);
out:
	st->total_seconds = now_seconds() - t0;
	free(r->ev);
	free(r->merged);
	free(r);
	return ret;
}
