// SPDX-License-Identifier: MIT
/*
 * hvmm minimize: the smallest trace that still shows a violation, by delta
 * debugging (Zeller's ddmin, complements only) over the trace's ops.
 *
 * Every candidate is first made consistent the way the trace reader would
 * judge it: an op that uses a handle or VM whose defining op was dropped is
 * dropped too (one forward pass over the candidate). The candidate then
 * replays in-process on one machine, recorded outcomes ignored, and is
 * interesting if it shows the same violation: by default, its first
 * violation is from the same oracle as the original run's first; with
 * --oracle, any violation of that oracle. A run stops at that violation and
 * the ops after it are dropped, which is where most of the shrinking comes
 * from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hvmm/types.h>

#include "cli.h"
#include "event/event.h"
#include "machine_conc.h"
#include "trace/trace.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hvmm minimize [OPTIONS] TRACE -o OUT\n"
		"\n"
		"Shrinks a trace that shows an oracle violation to a smaller trace that\n"
		"still shows it (delta debugging over the ops; ops whose handle or VM is no\n"
		"longer defined are dropped with their definition). Candidates replay\n"
		"in-process with the oracles on; recorded outcomes are ignored, and OUT\n"
		"records the outcomes of its own run. OUT is binary if it ends in .htrace\n"
		"or .bin. Progress goes to stderr if it is a terminal.\n"
		"\n"
		"Options:\n"
		"  -o, --output OUT       the minimized trace (required)\n"
		"  --oracle NAME          keep a violation of NAME (ALLOC-STRUCT, TLB, ...)\n"
		"                         anywhere in the run (default: keep the original\n"
		"                         run's first violation's oracle as the first, and\n"
		"                         when it fired at an event inside an op (BBM), the\n"
		"                         same kind of event: a write, a free, a TLBI, ...)\n"
		"  --max-seconds N        stop shrinking after N seconds (default 120)\n"
		"  --max-runs N           stop shrinking after N candidate runs (default: none)\n"
		"  -h, --help             this help\n"
		"\n" CLI_MACHINE_OPTIONS_HELP
		"\nExit status: 0 minimized trace written, 2 usage or input error, or the\n"
		"trace does not show the violation.\n");
}

struct minimizer {
	struct sim_machine_config cfg;
	struct sim_machine *m;
	struct sim_op *ops;		/* the trace's ops, outcomes dropped */
	uint32_t nr_ops;
	int oracle;			/* target oracle */
	int event_kind;			/* and the kind of event it fired at (-1: any) */
	bool any;			/* any violation of it, not only the first */
	uint64_t runs, max_runs;
	uint64_t start_ns, deadline_ns, last_progress_ns;
	bool progress;
	char violation[640];		/* the last interesting run's violation */
	/*
	 * A concurrent block's schedule, shrunk after the ops: written out in
	 * place of the trace's own schedule lines (sched_n 0: none found).
	 */
	uint16_t *sched;
	size_t sched_n;
};

static bool out_of_budget(const struct minimizer *mz)
{
	return (mz->max_runs && mz->runs >= mz->max_runs) || cli_now_ns() >= mz->deadline_ns;
}

/*
 * A new machine per run: creating one costs less than resetting one, which
 * zeroes the pools in place (it is meant for fuzzers' tiny pools).
 */
static int fresh_machine(struct minimizer *mz, char *msg, size_t len)
{
	sim_machine_destroy(mz->m);
	mz->m = sim_machine_create(&mz->cfg, msg, len);
	return mz->m ? 0 : -1;
}

/*
 * The kind of event inside an op that a violation names ("...; at event N:
 * page free pa ..."), as the event oracles report it; -1 if it names none.
 */
static int violation_event_kind(const char *msg)
{
	const char *at = strstr(msg, "; at event ");
	int best = -1;
	size_t best_len = 0;

	if (!at)
		return -1;
	at += strlen("; at event ");
	while (*at >= '0' && *at <= '9')
		at++;
	if (strncmp(at, ": ", 2))
		return -1;
	at += 2;
	for (int k = 0; k < SIM_EV_NR_KINDS; k++) {
		const char *name = sim_event_kind_name((enum sim_ev_kind)k);
		size_t len = strlen(name);

		if (len > best_len && !strncmp(at, name, len) && (at[len] == ' ' || !at[len])) {
			best = k;
			best_len = len;
		}
	}
	return best;
}

/* The run's violation of interest so far, if any. */
static bool shows(struct minimizer *mz)
{
	struct sim_report *r = sim_machine_report(mz->m);

	if (mz->any)
		return r->by_oracle[mz->oracle] > 0;
	if (!r->total || (mz->oracle >= 0 && (int)r->first[0].oracle != mz->oracle))
		return false;
	/* A violation found at an event inside an op keeps its kind of event. */
	return mz->event_kind < 0 || violation_event_kind(r->first[0].msg) == mz->event_kind;
}

static void remember_violation(struct minimizer *mz)
{
	struct sim_report *r = sim_machine_report(mz->m);

	for (unsigned int i = 0; i < r->kept; i++) {
		if (mz->oracle < 0 || (int)r->first[i].oracle == mz->oracle) {
			sim_violation_format(&r->first[i], mz->violation, sizeof(mz->violation));
			return;
		}
	}
}

/*
 * Runs ops @idx[0..*n) and says if the run is interesting; if it is, *@n is
 * cut to the ops up to the one that showed the violation. -1 if no machine.
 */
static int run(struct minimizer *mz, const uint32_t *idx, uint32_t *n)
{
	char msg[256];
	uint32_t i;

	mz->runs++;
	if (fresh_machine(mz, msg, sizeof(msg))) {
		fprintf(stderr, "hvmm: minimize: machine configuration: %s\n", msg);
		return -1;
	}
	for (i = 0; i < *n; i++) {
		sim_machine_exec(mz->m, &mz->ops[idx[i]], NULL);
		if (shows(mz))
			break;
	}
	if (i < *n) {
		*n = i + 1;
	} else {
		sim_machine_finish(mz->m);
		if (!shows(mz))
			return 0;
	}
	if (mz->oracle < 0) {
		mz->oracle = (int)sim_machine_report(mz->m)->first[0].oracle;
		if (!mz->any)
			mz->event_kind = violation_event_kind(sim_machine_report(mz->m)->first[0].msg);
	}
	remember_violation(mz);
	return 1;
}

static bool is_schedule(const struct sim_op *op)
{
	return op->kind == SIM_OP_SCHED && op->a;
}

/*
 * Runs ops @idx[0..n) without their schedule lines, the block taking the
 * decisions @pre[0..k) and then none that preempts; true if interesting.
 * *@taken (if not NULL) gets the whole schedule the run took.
 */
static bool run_schedule(struct minimizer *mz, const uint32_t *idx, uint32_t n,
			 const uint16_t *pre, size_t k, uint16_t **taken, size_t *nr_taken)
{
	struct sim_sched_replay replay;
	struct sim_sched_chooser c;
	const uint16_t *t;
	char msg[256];
	bool ok;

	mz->runs++;
	if (fresh_machine(mz, msg, sizeof(msg)))
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (!is_schedule(&mz->ops[idx[i]]))
			sim_machine_exec(mz->m, &mz->ops[idx[i]], NULL);
	sim_sched_replay_init(&replay, &c, pre, k, &sim_sched_first);
	sim_machine_conc_set_chooser(mz->m, &c);
	sim_machine_finish(mz->m);
	sim_machine_conc_set_chooser(mz->m, NULL);
	ok = shows(mz);
	if (ok && taken) {
		t = sim_machine_conc_schedule(mz->m, nr_taken);
		*taken = malloc(*nr_taken * sizeof(**taken) + 1);
		if (*taken)
			memcpy(*taken, t, *nr_taken * sizeof(**taken));
		else
			*nr_taken = 0;
	}
	return ok;
}

/*
 * The schedule, shrunk: the shortest prefix of the schedule the minimized
 * run took after which no vCPU is preempted any more, if the violation
 * stays (searched by bisection, then checked). Written out explicitly, so
 * the output replays without the seeded fallback.
 */
static void shrink_schedule(struct minimizer *mz, const uint32_t *idx, uint32_t n)
{
	uint16_t *full = NULL, *best = NULL;
	size_t nr_full, nr_best = 0, lo = 0, hi;
	char msg[256];

	if (fresh_machine(mz, msg, sizeof(msg)))
		return;
	for (uint32_t i = 0; i < n; i++)
		sim_machine_exec(mz->m, &mz->ops[idx[i]], NULL);
	if (!sim_machine_conc_queued(mz->m))
		return;
	sim_machine_finish(mz->m);
	if (!shows(mz))
		return;
	{
		const uint16_t *t = sim_machine_conc_schedule(mz->m, &nr_full);

		full = malloc(nr_full * sizeof(*full) + 1);
		if (!full)
			return;
		memcpy(full, t, nr_full * sizeof(*full));
	}
	hi = nr_full;
	if (!run_schedule(mz, idx, n, full, hi, NULL, NULL)) {
		free(full);
		return;
	}
	while (lo < hi && !out_of_budget(mz)) {
		size_t mid = lo + (hi - lo) / 2;

		if (run_schedule(mz, idx, n, full, mid, NULL, NULL))
			hi = mid;
		else
			lo = mid + 1;
	}
	if (run_schedule(mz, idx, n, full, hi, &best, &nr_best)) {
		remember_violation(mz);
		mz->sched = best;
		mz->sched_n = nr_best;
	} else {
		free(best);
	}
	free(full);
}

/* Drops from @idx[0..n) every op that uses a handle or VM no kept op defines. */
static uint32_t consistent(const struct minimizer *mz, uint32_t *idx, uint32_t n)
{
	struct sim_trace_handles t;
	uint32_t kept = 0;
	char err[128];

	sim_trace_handles_init(&t);
	for (uint32_t i = 0; i < n; i++)
		if (!sim_trace_handles_check(&t, &mz->ops[idx[i]], err, sizeof(err)))
			idx[kept++] = idx[i];
	sim_trace_handles_fini(&t);
	return kept;
}

static void progress(struct minimizer *mz, uint32_t n, uint32_t gran)
{
	uint64_t now = cli_now_ns();

	if (!mz->progress || now - mz->last_progress_ns < 200000000ULL)
		return;
	mz->last_progress_ns = now;
	fprintf(stderr, "\rminimize: %u of %u ops, granularity %u, %llu runs, %.1f s   ", n,
		mz->nr_ops, gran, (unsigned long long)mz->runs,
		(double)(now - mz->start_ns) / 1e9);
}

/*
 * ddmin over @cur[0..*n): remove one of gran chunks at a time; on success
 * keep the smaller candidate and coarsen, else refine until chunks are
 * single ops. @cand is scratch space of the same size.
 */
static int ddmin(struct minimizer *mz, uint32_t *cur, uint32_t *n, uint32_t *cand)
{
	uint32_t gran = 2, resume = 0;

	while (*n >= 2 && !out_of_budget(mz)) {
		uint32_t chunk = (*n + gran - 1) / gran, nchunks = (*n + chunk - 1) / chunk;
		bool reduced = false;

		for (uint32_t k = 0; k < nchunks && !out_of_budget(mz); k++) {
			uint32_t c = (resume + k) % nchunks, lo = c * chunk;
			uint32_t hi = hvmm_min(lo + chunk, *n), m;
			int ret;

			memcpy(cand, cur, lo * sizeof(*cand));
			memcpy(cand + lo, cur + hi, (*n - hi) * sizeof(*cand));
			m = consistent(mz, cand, *n - (hi - lo));
			ret = run(mz, cand, &m);
			progress(mz, *n, gran);
			if (ret < 0)
				return -1;
			if (ret) {
				memcpy(cur, cand, m * sizeof(*cur));
				*n = m;
				gran = hvmm_max(gran - 1, 2u);
				resume = c;
				reduced = true;
				break;
			}
		}
		if (!reduced) {
			if (gran >= *n)
				break;
			gran = hvmm_min(gran * 2, *n);
			resume = 0;
		}
	}
	return 0;
}

static void write_sched(void *ctx, const struct sim_op *op)
{
	sim_trace_write_op(ctx, op);
}

/* Writes ops @idx[0..n) with the outcomes of one more run. */
static int write_out(struct minimizer *mz, const char *out, const struct sim_trace_header *h,
		     const uint32_t *idx, uint32_t n, const char *from)
{
	struct sim_trace_writer *w;
	struct sim_trace_error err;
	char line[1024];
	int ret = 0;

	w = sim_trace_create(out, sim_trace_format_for_path(out), h, &err);
	if (!w || fresh_machine(mz, line, sizeof(line))) {
		fprintf(stderr, "hvmm: %s\n", w ? line : err.msg);
		sim_trace_discard(w);
		return -1;
	}
	snprintf(line, sizeof(line), "# hvmm minimize %s: %u of %u ops, keeps %s", from, n,
		 mz->nr_ops, sim_oracle_name(mz->oracle));
	sim_trace_write_line(w, line);
	for (uint32_t i = 0; i < n; i++) {
		struct sim_op op = mz->ops[idx[i]];
		int result;

		if (mz->sched_n && is_schedule(&op))
			continue;
		result = sim_machine_exec(mz->m, &op, NULL);

		/* Ops of a concurrent block (and its schedule) have no outcome yet. */
		if (!sim_machine_conc_queued(mz->m))
			sim_trace_set_outcome(&op, result);
		ret |= sim_trace_write_op(w, &op);
	}
	if (mz->sched_n)
		sim_conc_schedule_runs(mz->sched, mz->sched_n, write_sched, w);
	if (ret) {
		sim_trace_discard(w);
		fprintf(stderr, "hvmm: minimize: %s: write failed\n", out);
		return -1;
	}
	if (sim_trace_finish(w, &err)) {
		fprintf(stderr, "hvmm: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static long long file_size(const char *path)
{
	struct stat st;

	return strcmp(path, "-") && !stat(path, &st) ? (long long)st.st_size : -1;
}

static int minimize(struct minimizer *mz, const char *path, const char *out,
		    const struct sim_trace_header *h)
{
	uint32_t *cur = malloc(((size_t)mz->nr_ops + 1) * sizeof(*cur));
	uint32_t *cand = malloc(((size_t)mz->nr_ops + 1) * sizeof(*cand));
	uint32_t n = mz->nr_ops;
	int ret = EXIT_USAGE, shown;

	if (!cur || !cand) {
		fprintf(stderr, "hvmm: minimize: out of memory\n");
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		cur[i] = i;
	shown = run(mz, cur, &n);
	if (shown <= 0) {
		if (!shown)
			fprintf(stderr, "hvmm: minimize: %s shows no %s%s violation: nothing to "
				"minimize\n", path, mz->oracle >= 0 ? sim_oracle_name(mz->oracle) : "",
				mz->oracle >= 0 ? "" : "oracle");
		goto out;
	}
	if (ddmin(mz, cur, &n, cand))
		goto out;
	shrink_schedule(mz, cur, n);
	if (mz->progress)
		fprintf(stderr, "\r%70s\r", "");
	if (write_out(mz, out, h, cur, n, path))
		goto out;
	printf("minimize: %s: %u ops (%lld bytes) -> %s: %u ops (%lld bytes) in %llu runs, %.1f s%s\n",
	       path, mz->nr_ops, file_size(path), out, n, file_size(out),
	       (unsigned long long)mz->runs, (double)(cli_now_ns() - mz->start_ns) / 1e9,
	       out_of_budget(mz) ? " (budget used up: not minimal)" : "");
	if (mz->sched_n) {
		size_t runs = 1;

		for (size_t i = 1; i < mz->sched_n; i++)
			runs += mz->sched[i] != mz->sched[i - 1];
		printf("schedule: %zu decisions in %zu runs (no preemption after the last written)\n",
		       mz->sched_n, runs);
	}
	printf("keeps: %s\n", mz->violation);
	ret = EXIT_CLEAN;
out:
	free(cur);
	free(cand);
	free(mz->sched);
	return ret;
}

/* minimize's own options; @ctx: struct minimize_args. */
struct minimize_args {
	struct minimizer *mz;
	uint64_t max_seconds;
};

static int minimize_option(struct cli_args *a, void *ctx)
{
	struct minimize_args *ma = ctx;
	const char *val;

	if (cli_args_is(a, "--oracle")) {
		if (!(val = cli_args_value(a)))
			return -1;
		ma->mz->oracle = sim_oracle_from_name(val);
		if (ma->mz->oracle < 0) {
			fprintf(stderr, "hvmm: minimize: --oracle %s: expected one of", val);
			for (int i = 0; i < SIM_ORACLE__COUNT; i++)
				fprintf(stderr, " %s", sim_oracle_name(i));
			fprintf(stderr, "\n");
			return -1;
		}
		ma->mz->any = true;
	} else if (cli_args_is(a, "--max-seconds")) {
		return cli_args_u64(a, &ma->max_seconds) ? -1 : 1;
	} else if (cli_args_is(a, "--max-runs")) {
		return cli_args_u64(a, &ma->mz->max_runs) ? -1 : 1;
	} else {
		return 0;
	}
	return 1;
}

int cmd_minimize(int argc, char **argv)
{
	struct minimizer mz = { .oracle = -1, .event_kind = -1 };
	struct minimize_args ma = { .mz = &mz, .max_seconds = 120 };
	struct cli_trace_command tc = {
		.cmd = "minimize", .usage = usage, .option = minimize_option, .ctx = &ma, .output = true,
	};
	struct cli_machine_options *mo = &tc.mo;
	const char *path, *out;
	struct sim_trace_reader *r;
	struct sim_trace_error err;
	struct sim_trace_header header;
	uint64_t max_seconds;
	int ret;

	cli_machine_options_init(mo);
	if ((ret = cli_trace_command_args(&tc, argc, argv)) >= 0)
		return ret;
	path = tc.path;
	out = tc.out;
	max_seconds = ma.max_seconds;
	if (!path || !out)
		return cli_usage_error("minimize: expected TRACE -o OUT (try 'hvmm minimize --help')");
	if (cli_refuse_overwrite("minimize", path, out))
		return EXIT_USAGE;
	r = cli_open_trace(path, mo);
	if (!r)
		return EXIT_USAGE;
	if (cli_read_ops(r, "minimize", &mz.ops, &mz.nr_ops, &err) < 0) {
		fprintf(stderr, "hvmm: %s\n", err.msg);
		sim_trace_close(r);
		free(mz.ops);
		return EXIT_USAGE;
	}
	mz.cfg = mo->cfg;
	mz.cfg.report_stream = NULL;
	mz.progress = isatty(STDERR_FILENO);
	mz.start_ns = mz.last_progress_ns = cli_now_ns();
	mz.deadline_ns = mz.start_ns + (max_seconds > 1000000 ? 1000000 : max_seconds) * 1000000000ULL;
	/* Machine options given here are part of what the output reproduces. */
	sim_trace_header_init(&header);
	if (mo->nr_given)
		sim_trace_header_from_config(&header, &mo->cfg);
	ret = minimize(&mz, path, out, mo->nr_given ? &header : sim_trace_reader_header(r));
	sim_trace_header_fini(&header);
	sim_machine_destroy(mz.m);
	sim_trace_close(r);
	free(mz.ops);
	return ret;
}
