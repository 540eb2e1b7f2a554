// SPDX-License-Identifier: MIT
/*
 * hvmm explore: every interleaving of a trace's concurrent block, up to a
 * bound, with sleep-set reduction and state hashing; PCT beyond it
 * (sim/sched/explore.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "event/event.h"
#include "machine_conc.h"
#include "sched/explore.h"
#include "trace/trace.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hvmm explore [OPTIONS] TRACE\n"
		"\n"
		"Explores the interleavings of TRACE's concurrent block (the ops after its\n"
		"first 'sched vcpu=N' line, one program per CPU; traces/FORMAT.md) with every\n"
		"oracle on at every step: exhaustively up to --depth decisions per schedule,\n"
		"with sleep sets (schedules that only reorder independent steps are run once)\n"
		"and state hashing (a state explored before is not explored again), then, if\n"
		"the search did not complete within --max-schedules, PCT runs. Prints the\n"
		"schedules explored, the distinct states and schedules per second. The first\n"
		"violation stops the search; -o writes it as a trace with its schedule, which\n"
		"'hvmm replay' runs step for step. A schedule written in TRACE is ignored.\n"
		"\n"
		"Options:\n"
		"  --depth N             decisions searched per schedule (default 64)\n"
		"  --max-schedules N     budget of the exhaustive search (default 100000)\n"
		"  --no-sleep-sets       explore every order of independent steps\n"
		"  --no-hashing          no state hashing\n"
		"  --pct-runs N          PCT runs after an incomplete search (default 1000)\n"
		"  --pct-depth D         bug depth PCT aims at (default 3)\n"
		"  -o, --output OUT      write a violating schedule as a trace\n"
		"  -h, --help            this help\n"
		"\n" CLI_MACHINE_OPTIONS_HELP
		"\nExit status: 0 no violation, 1 a violation, 2 usage or input error.\n");
}

struct explore_run {
	struct sim_machine_config cfg;
	struct sim_machine *m;
	struct sim_op *ops;
	uint32_t nr_ops;
	char err[256];
};

static int run_one(void *ctx, const struct sim_sched_chooser *chooser, sim_sched_step_fn step,
		   void *step_ctx)
{
	struct explore_run *er = ctx;

	if (sim_machine_reset(er->m, &er->cfg, er->err, sizeof(er->err)))
		return -1;
	sim_machine_conc_add_step_check(er->m, step, step_ctx);
	for (size_t i = 0; i < er->nr_ops; i++) {
		/* The search owns the schedule. */
		if (er->ops[i].kind == SIM_OP_SCHED && er->ops[i].a)
			continue;
		sim_machine_exec(er->m, &er->ops[i], NULL);
	}
	sim_machine_conc_set_chooser(er->m, chooser);
	sim_machine_finish(er->m);
	sim_machine_conc_set_chooser(er->m, NULL);
	return sim_report_clean(sim_machine_report(er->m)) ? 0 : 1;
}

static void write_op(void *ctx, const struct sim_op *op)
{
	sim_trace_write_op(ctx, op);
}

/* The violating run as a trace: its ops, then the schedule it took. */
static int write_violation(struct explore_run *er, const char *out)
{
	struct sim_trace_header h;
	struct sim_trace_writer *w;
	struct sim_trace_error err;
	const uint16_t *sched;
	size_t n;
	int ret = 0;

	sim_trace_header_from_config(&h, &er->cfg);
	w = sim_trace_create(out, sim_trace_format_for_path(out), &h, &err);
	sim_trace_header_fini(&h);
	if (!w) {
		fprintf(stderr, "hvmm: %s\n", err.msg);
		return -1;
	}
	sim_trace_write_line(w, "# hvmm explore: a schedule that shows a violation");
	for (size_t i = 0; i < er->nr_ops; i++)
		if (er->ops[i].kind != SIM_OP_SCHED || !er->ops[i].a)
			ret |= sim_trace_write_op(w, &er->ops[i]);
	sched = sim_machine_conc_schedule(er->m, &n);
	sim_conc_schedule_runs(sched, n, write_op, w);
	if (ret || sim_trace_finish(w, &err)) {
		fprintf(stderr, "hvmm: explore: %s: write failed\n", out);
		return -1;
	}
	return 0;
}

/* explore's own options. */
static int explore_option(struct cli_args *a, void *ctx)
{
	struct sim_explore_config *cfg = ctx;
	uint64_t v;

	if (cli_args_is(a, "--depth")) {
		if (cli_args_u64(a, &v))
			return -1;
		if (v < 1 || v > 1000000) {
			cli_usage_error("explore: --depth %llu: expected 1..1000000", (unsigned long long)v);
			return -1;
		}
		cfg->depth = (unsigned int)v;
	} else if (cli_args_is(a, "--max-schedules")) {
		return cli_args_u64(a, &cfg->max_schedules) ? -1 : 1;
	} else if (cli_args_is(a, "--pct-runs")) {
		return cli_args_u64(a, &cfg->pct_runs) ? -1 : 1;
	} else if (cli_args_is(a, "--pct-depth")) {
		if (cli_args_u64(a, &v))
			return -1;
		if (v < 1 || v > SIM_SCHED_PCT_MAX_DEPTH) {
			cli_usage_error("explore: --pct-depth %llu: expected 1..%u",
					(unsigned long long)v, SIM_SCHED_PCT_MAX_DEPTH);
			return -1;
		}
		cfg->pct_depth = (unsigned int)v;
	} else if (cli_args_is(a, "--no-sleep-sets")) {
		cfg->sleep_sets = false;
	} else if (cli_args_is(a, "--no-hashing")) {
		cfg->hashing = false;
	} else {
		return 0;
	}
	return 1;
}

int cmd_explore(int argc, char **argv)
{
	struct sim_explore_config cfg = {
		.depth = 64, .max_schedules = 100000, .sleep_sets = true, .hashing = true,
		.pct_runs = 1000, .pct_depth = 3, .seed = 1,
	};
	struct cli_trace_command tc = {
		.cmd = "explore", .usage = usage, .option = explore_option, .ctx = &cfg, .output = true,
	};
	struct sim_explore_stats st;
	struct explore_run er = { 0 };
	struct sim_trace_reader *r;
	struct sim_trace_error err;
	const char *path, *out;
	int ret;

	cli_machine_options_init(&tc.mo);
	if ((ret = cli_trace_command_args(&tc, argc, argv)) >= 0)
		return ret;
	path = tc.path;
	out = tc.out;
	if (!path)
		return cli_usage_error("explore: expected a TRACE (try 'hvmm explore --help')");
	if (!sim_event_mm_instrumented())
		return cli_usage_error("explore: mm/ is built without the event instrumentation "
				       "(a ThreadSanitizer build): there is no step to interleave");
	if (out && cli_refuse_overwrite("explore", path, out))
		return EXIT_USAGE;
	r = cli_open_trace(path, &tc.mo);
	if (!r)
		return EXIT_USAGE;
	ret = cli_read_ops(r, "explore", &er.ops, &er.nr_ops, &err);
	if (ret < 0)
		fprintf(stderr, "hvmm: %s\n", err.msg);
	sim_trace_close(r);
	if (ret < 0) {
		free(er.ops);
		return EXIT_USAGE;
	}
	er.cfg = tc.mo.cfg;
	er.cfg.report_stream = NULL;
	cfg.seed = er.cfg.seed;
	er.m = sim_machine_create(&er.cfg, er.err, sizeof(er.err));
	if (!er.m) {
		fprintf(stderr, "hvmm: %s: machine configuration: %s\n", path, er.err);
		free(er.ops);
		return EXIT_USAGE;
	}
	ret = sim_explore(&cfg, run_one, &er, &st);
	printf("%s: %llu schedules explored (%llu complete, %llu cut by sleep sets, %llu by state "
	       "hashing), %llu distinct states, %.0f schedules/s, %.0f steps/s\n", path,
	       (unsigned long long)st.schedules, (unsigned long long)st.complete,
	       (unsigned long long)st.sleep_pruned, (unsigned long long)st.state_pruned,
	       (unsigned long long)st.distinct_states,
	       st.seconds > 0 ? (double)(st.schedules + st.pct_runs) / st.seconds : 0.0,
	       st.seconds > 0 ? (double)st.steps / st.seconds : 0.0);
	printf("search: %s up to %u decisions per schedule%s; longest schedule %llu steps, %u vCPUs\n",
	       st.exhaustive ? "exhaustive" : ret > 0 ? "stopped at a violation" :
	       "incomplete (budget)", cfg.depth,
	       st.depth_reached ? " (deeper decisions: no preemption)" : "",
	       (unsigned long long)st.max_steps, st.max_vcpus);
	if (st.pct_runs)
		printf("PCT: %llu runs, n = %u vCPUs, k = %llu steps, d = %u: each run finds a bug of "
		       "depth %u with probability >= 1/(n k^(d-1)) = %.3g\n",
		       (unsigned long long)st.pct_runs, st.max_vcpus, (unsigned long long)st.max_steps,
		       cfg.pct_depth, cfg.pct_depth, st.pct_bound);
	if (ret < 0) {
		fprintf(stderr, "hvmm: explore: %s: %s\n", path,
			er.err[0] ? er.err : "a schedule did not replay the same way (nondeterminism), "
			"or more than 64 vCPUs");
		ret = EXIT_USAGE;
	} else if (ret > 0) {
		sim_report_print(sim_machine_report(er.m), stdout);
		if (out && !write_violation(&er, out))
			printf("written to %s: 'hvmm replay %s' runs it step for step\n", out, out);
		ret = EXIT_VIOLATION;
	} else {
		printf("violations: 0\n");
		ret = EXIT_CLEAN;
	}
	sim_machine_destroy(er.m);
	free(er.ops);
	return ret;
}
