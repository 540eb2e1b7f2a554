// SPDX-License-Identifier: MIT
/* hvmm replay: traces through the simulator with the oracles on. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "machine_conc.h"
#include "pgtable/pgtable.h"
#include "trace/trace.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hvmm replay [OPTIONS] [TRACE...]\n"
		"\n"
		"Runs each trace (text or binary, '-' for stdin) through the simulator and\n"
		"its oracles and prints a summary. Without a TRACE, replays the bundled\n"
		"default trace (found via $HVMM_DEFAULT_TRACE, $HVMM_TRACE_DIR, the install\n"
		"prefix, or the source tree). The trace's header configures the machine;\n"
		"machine options given here override it. Recorded outcomes ('= ok') that are\n"
		"not reproduced count as failures.\n"
		"\n"
		"Options:\n"
		"  --record OUT           write what ran, with the actual outcomes, to OUT\n"
		"                         (binary if OUT ends in .htrace or .bin)\n"
		CLI_EVENTS_HELP
		"  --json                 print the summary as JSON\n"
		"  -h, --help             this help\n"
		"\n" CLI_MACHINE_OPTIONS_HELP
		"\nExit status: 0 clean, 1 oracle violation or outcome mismatch, 2 usage or\n"
		"input error (a malformed trace is reported as FILE:LINE: what was expected).\n");
}

struct replay {
	struct cli_machine_options mo;
	const char *record;
	const char *events;
	bool json;
	bool plain;	/* may run in hvmm-plain, if its oracles are off: plain_may() */
};

/*
 * Set by hvmm-plain when it hands a replay back (and by whoever wants mm/
 * with its event hooks for a replay that would not need them): hvmm then
 * runs it itself.
 */
#define MM_EVENTS_ENV "HVMM_MM_EVENTS"

/*
 * Whether a replay of @path could run in hvmm-plain, mm/ without the event
 * hooks (no call per load, store and atomic of mm/: ~190 instructions an
 * op of an alloc-heavy trace): one trace, from a file it can read again
 * from the start, no events written. Its oracles must be off too, which
 * the trace's header may say, and it must have no concurrent block (whose
 * interleaver switches vCPUs at mm/'s accesses): hvmm-plain hands a replay
 * back to hvmm at the first one, from the start, having written nothing.
 */
static bool plain_may(const struct replay *rp, const char *path, unsigned int nr_traces)
{
	struct stat st;

	return nr_traces == 1 && !rp->events && strcmp(path, "-") && !stat(path, &st) &&
	       S_ISREG(st.st_mode) && !getenv(MM_EVENTS_ENV);
}

/* The command line again in hvmm (@events) or hvmm-plain; only returns on failure. */
static int run_in(bool events)
{
	if (events && setenv(MM_EVENTS_ENV, "1", 1))
		return cli_usage_error("replay: cannot set %s: %s", MM_EVENTS_ENV, strerror(errno));
	cli_exec_sibling(events ? "hvmm" : "plain");
	return cli_usage_error("replay: cannot run %s beside this program: %s",
			       events ? "hvmm" : "hvmm-plain", strerror(errno));
}

static void write_sched(void *ctx, const struct sim_op *op)
{
	sim_trace_write_op(ctx, op);
}

/* What run_ops() returns in hvmm-plain at a concurrent block: hvmm must run the trace. */
#define NEEDS_EVENTS 2

/* Ops read ahead and run at once when nothing is recorded (run_batched()). */
#define BATCH 256

/*
 * run_ops() without a recording: the ops read a batch at a time and run
 * through sim_machine_exec_many() (one panic catcher a batch, not one an
 * op). Same outcome as one at a time: a batch read up to a malformed
 * record or a schedule that hvmm-plain must hand back runs first, and
 * the error or the hand-back counts only if the machine lives after it.
 */
static int run_batched(struct sim_trace_reader *r, struct sim_machine *m, struct cli_run *run,
		       struct sim_trace_error *err)
{
	struct sim_op ops[BATCH];
	int results[BATCH];
	int ret = 1;

	while (ret > 0 && !sim_machine_dead(m)) {
		bool hand_back = false;
		size_t n;

		ret = sim_trace_read_ops(r, ops, BATCH, &n, err);
		/* A batch ends at a schedule: hvmm-plain hands the replay back there. */
		if (n && ops[n - 1].kind == SIM_OP_SCHED && cli_mm_plain()) {
			hand_back = true;
			n--;
		}
		for (size_t i = 0; i < n && run->no_expectations; i++)
			if (ops[i].flags & SIM_OP_F_EXPECT)
				run->no_expectations = false;
		sim_machine_exec_many(m, ops, n, results);
		cli_run_tick(run);
		if (hand_back && !sim_machine_dead(m))
			return NEEDS_EVENTS;
	}
	return sim_machine_dead(m) ? 0 : ret;
}

/*
 * Runs @r's ops on @m, recording to @w if set; -1 on a malformed trace,
 * NEEDS_EVENTS if mm/'s accesses must be events and are not.
 */
static int run_ops(struct sim_trace_reader *r, struct sim_machine *m, struct cli_run *run,
		   struct sim_trace_writer *w, struct sim_trace_error *err)
{
	struct sim_trace_record rec;
	int ret = 0;

	if (!w)
		return run_batched(r, m, run, err);

	while (!sim_machine_dead(m) && (ret = sim_trace_read(r, &rec, err)) > 0) {
		int result;

		if (rec.type == SIM_TRACE_REC_LINE) {
			if (w)
				sim_trace_write_line(w, rec.line);
			continue;
		}
		if (rec.op.kind == SIM_OP_SCHED && cli_mm_plain())
			return NEEDS_EVENTS;
		if (rec.op.flags & SIM_OP_F_EXPECT)
			run->no_expectations = false;
		result = sim_machine_exec(m, &rec.op, NULL);
		if (w && rec.op.kind == SIM_OP_SCHED && rec.op.a) {
			/* The schedule taken is written after the block has run. */
		} else if (w && sim_machine_conc_queued(m)) {
			/* Queued for the concurrent block: its outcome is not known yet. */
			rec.op.flags &= (uint8_t)~SIM_OP_F_EXPECT;
			sim_trace_write_op(w, &rec.op);
		} else if (w) {
			sim_trace_set_outcome(&rec.op, result);
			sim_trace_write_op(w, &rec.op);
		}
		cli_run_tick(run);
	}
	return sim_machine_dead(m) ? 0 : ret;
}

static int replay_one(struct replay *rp, const char *path)
{
	struct sim_trace_writer *w = NULL;
	struct sim_trace_reader *r;
	struct sim_trace_header out;
	struct sim_trace_error err;
	struct sim_machine *m;
	struct cli_run run;
	char msg[256];
	int ret;

	if (cli_refuse_overwrite("replay --record", path, rp->record) ||
	    cli_refuse_overwrite("replay --events", path, rp->events))
		return EXIT_USAGE;
	r = cli_open_trace(path, &rp->mo);
	if (!r)
		return EXIT_USAGE;
	if (cli_mm_plain() != (rp->plain && rp->mo.cfg.oracles == SIM_ORACLES_OFF) &&
	    (cli_mm_plain() || (!strcmp(sim_mm_pgtable_name(), "hvmm") && cli_sibling_exists("plain")))) {
		sim_trace_close(r);
		return run_in(cli_mm_plain());
	}
	m = sim_machine_create(&rp->mo.cfg, msg, sizeof(msg));
	if (!m) {
		fprintf(stderr, "hvmm: %s: machine configuration: %s\n", path, msg);
		sim_trace_close(r);
		return EXIT_USAGE;
	}
	if (rp->record) {
		sim_trace_header_from_config(&out, &rp->mo.cfg);
		w = sim_trace_create(rp->record, sim_trace_format_for_path(rp->record), &out, &err);
		if (!w) {
			fprintf(stderr, "hvmm: %s\n", err.msg);
			sim_machine_destroy(m);
			sim_trace_close(r);
			return EXIT_USAGE;
		}
	}
	cli_run_start(&run, m, 0, rp->json);
	run.no_expectations = true;
	if (rp->events && cli_run_events(&run, rp->events)) {
		sim_trace_discard(w);
		sim_machine_destroy(m);
		sim_trace_close(r);
		return EXIT_USAGE;
	}
	ret = run_ops(r, m, &run, w, &err);
	if (ret == NEEDS_EVENTS) {
		if (run.progress)
			fprintf(stderr, "\r%60s\r", "");
		sim_trace_discard(w);
		cli_run_abort(&run);
		sim_machine_destroy(m);
		sim_trace_close(r);
		return run_in(true);
	}
	if (w && ret >= 0 && sim_machine_conc_queued(m)) {
		size_t n;
		const uint16_t *sched;

		sim_machine_conc_run(m);
		sched = sim_machine_conc_schedule(m, &n);
		sim_conc_schedule_runs(sched, n, write_sched, w);
	}
	if (w && ret < 0) {
		sim_trace_discard(w);
	} else if (w) {
		struct sim_trace_error werr;

		if (sim_trace_finish(w, &werr)) {
			err = werr;
			ret = -1;
		}
	}
	if (ret < 0) {
		if (run.progress)
			fprintf(stderr, "\r%60s\r", "");
		fprintf(stderr, "hvmm: %s\n", err.msg);
		cli_run_abort(&run);
		ret = EXIT_USAGE;
	} else {
		ret = cli_run_finish(&run, path);
	}
	sim_machine_destroy(m);
	sim_trace_close(r);
	return ret;
}

int cmd_replay(int argc, char **argv)
{
	struct replay rp = { 0 };
	const char *traces[256], *operand;
	unsigned int nr_traces = 0;
	char default_path[4096];
	struct cli_args a;
	int kind, status = EXIT_CLEAN;

	cli_machine_options_init(&rp.mo);
	cli_args_init(&a, argc, argv, "replay");
	while ((kind = cli_args_next(&a, &operand)) >= 0) {
		if (kind == 0) {
			if (nr_traces == sizeof(traces) / sizeof(traces[0]))
				return cli_usage_error("replay: at most 256 traces at once");
			traces[nr_traces++] = operand;
		} else if (cli_args_help(&a)) {
			usage(stdout);
			return EXIT_CLEAN;
		} else if (cli_args_is(&a, "--json")) {
			rp.json = true;
		} else if (cli_args_is(&a, "--record")) {
			if (!(rp.record = cli_args_value(&a)))
				return EXIT_USAGE;
		} else if (cli_args_is(&a, "--events")) {
			if (!(rp.events = cli_args_value(&a)))
				return EXIT_USAGE;
		} else {
			int ret = cli_args_machine(&a, &rp.mo);

			if (ret < 0)
				return EXIT_USAGE;
			if (ret == 0)
				return cli_args_unknown(&a);
		}
	}
	if (!nr_traces) {
		if (!cli_default_trace(default_path, sizeof(default_path)))
			return cli_usage_error("replay: no TRACE given and no bundled default trace "
					       "found (set HVMM_DEFAULT_TRACE)");
		traces[nr_traces++] = default_path;
	}
	if (rp.record && nr_traces > 1)
		return cli_usage_error("replay: --record takes one trace");
	if (rp.events && nr_traces > 1)
		return cli_usage_error("replay: --events takes one trace");
	rp.plain = plain_may(&rp, traces[0], nr_traces);
	for (unsigned int i = 0; i < nr_traces; i++) {
		int ret = replay_one(&rp, traces[i]);

		if (ret > status)
			status = ret;
	}
	return status;
}
