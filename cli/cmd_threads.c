// SPDX-License-Identifier: MIT
/*
 * hvmm threads: vCPUs as host threads running random ops on mm/ at once,
 * judged at quiescent points (sim/threads.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "threads.h"
#include "trace/trace.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hvmm threads [OPTIONS]\n"
		"\n"
		"Runs N host threads, each a vCPU issuing random ops straight on mm/ at\n"
		"the same time as the others: allocations and frees on the shared pool of\n"
		"the allocator under test, and ownership transitions on two shared VMs\n"
		"over a few dozen pages and IPAs, so that threads collide. mm/'s own locks\n"
		"are the only thing between them. Every --epoch-ops ops per thread, all\n"
		"threads stop at a barrier and the epoch is judged: its ops must be\n"
		"linearizable (an order consistent with real time in which SPEC and the\n"
		"allocator shadow give each op its result; CONC), and that order, committed\n"
		"to the executor, must leave the shadows agreeing with mm/'s state (a full\n"
		"sweep of every state oracle). Prints ops/s of the threads' own time.\n"
		"Build with -Db_sanitize=thread for a data-race run under ThreadSanitizer.\n"
		"\n"
		"Options:\n"
		"  --threads N            host threads (1..%d, default 2)\n"
		"  --ops N                ops per thread (default 20000)\n"
		"  --epoch-ops N          ops per thread between quiescent points (default\n"
		"                         64 / threads; threads times this at most 256)\n"
		"  --check on|off         judge each epoch (default on); off: speed only\n"
		"  -o, --record OUT       write the run as a trace (binary if OUT ends in\n"
		"                         .htrace or .bin): the ops in the order each epoch\n"
		"                         was committed, with their outcomes (it replays\n"
		"                         clean), and an epoch at fault as a concurrent block\n"
		"  --json                 print the summary as JSON\n"
		"  -h, --help             this help\n"
		"\n" CLI_MACHINE_OPTIONS_HELP
		"\n"
		"Exit status: 0 clean, 1 a violation (or an epoch the check could not\n"
		"decide), 2 usage error.\n", SIM_THREADS_MAX);
}

static void print_summary(const struct sim_threads_config *cfg,
			  const struct sim_threads_stats *st, struct sim_machine *m, bool json)
{
	const struct sim_report *rep = sim_machine_report(m);
	double ops_s = st->run_seconds > 0 ? (double)st->ops / st->run_seconds : 0;

	if (json) {
		printf("{\"threads\": %u, \"ops\": %llu, \"failed\": %llu, \"epochs\": %llu, "
		       "\"run_seconds\": %.6f, \"total_seconds\": %.6f, \"ops_per_second\": %.0f, "
		       "\"overlapped\": %llu, \"checked\": %s, \"search_nodes\": %llu, \"undecided\": %llu, "
		       "\"state_reordered\": %llu, \"vm_recycles\": %llu, \"violations\": %llu, "
		       "\"ok_by_kind\": {",
		       cfg->threads, (unsigned long long)st->ops, (unsigned long long)st->failed,
		       (unsigned long long)st->epochs, st->run_seconds, st->total_seconds, ops_s,
		       (unsigned long long)st->overlapped, cfg->check ? "true" : "false",
		       (unsigned long long)st->search_nodes,
		       (unsigned long long)st->undecided, (unsigned long long)st->state_reordered,
		       (unsigned long long)st->vm_recycles, (unsigned long long)rep->total);
		for (unsigned int k = 0, first = 1; k < SIM_OP__COUNT; k++) {
			if (!st->by_kind[k])
				continue;
			printf("%s\"%s\": %llu", first ? "" : ", ", sim_op_descs[k].name,
			       (unsigned long long)st->ok_by_kind[k]);
			first = 0;
		}
		printf("}}\n");
		return;
	}
	printf("threads: %u host threads, %llu ops in %.3f s of running (%.0f ops/s), "
	       "%.3f s in all\n", cfg->threads, (unsigned long long)st->ops, st->run_seconds,
	       ops_s, st->total_seconds);
	printf("ops that overlapped in time with another thread's: %llu\n",
	       (unsigned long long)st->overlapped);
	printf("ops by kind (succeeded):\n");
	for (unsigned int k = 0; k < SIM_OP__COUNT; k++)
		if (st->by_kind[k])
			printf("  %-22s %8llu  (%llu ok)\n", sim_op_descs[k].name,
			       (unsigned long long)st->by_kind[k],
			       (unsigned long long)st->ok_by_kind[k]);
	if (cfg->check)
		printf("quiescent points: %llu, each linearized (%llu search nodes in all; %llu "
		       "whose first order by results alone did not fit the tables), committed "
		       "and swept; VMs recycled: %llu; undecided: %llu\n",
		       (unsigned long long)st->epochs, (unsigned long long)st->search_nodes,
		       (unsigned long long)st->state_reordered,
		       (unsigned long long)st->vm_recycles, (unsigned long long)st->undecided);
	else
		printf("quiescent points: %llu, not judged (--check off)\n",
		       (unsigned long long)st->epochs);
	printf("violations: %llu\n", (unsigned long long)rep->total);
	if (rep->total)
		sim_report_print(rep, stdout);
}

int cmd_threads(int argc, char **argv)
{
	struct sim_threads_config cfg = { .threads = 2, .ops = 20000, .check = true };
	struct cli_machine_options mo;
	struct sim_threads_stats st;
	struct sim_machine *m;
	const char *operand, *record = NULL;
	struct sim_trace_header header;
	struct sim_trace_error terr;
	struct cli_args a;
	bool json = false;
	char err[256];
	uint64_t v;
	int kind, ret;

	cli_machine_options_init(&mo);
	cli_args_init(&a, argc, argv, "threads");
	while ((kind = cli_args_next(&a, &operand)) >= 0) {
		if (kind == 0)
			return cli_usage_error("threads: unexpected operand '%s'", operand);
		if (cli_args_help(&a)) {
			usage(stdout);
			return EXIT_CLEAN;
		} else if (cli_args_is(&a, "--json")) {
			json = true;
		} else if (cli_args_is(&a, "-o") || cli_args_is(&a, "--record")) {
			if (!(record = cli_args_value(&a)))
				return EXIT_USAGE;
		} else if (cli_args_is(&a, "--check")) {
			const char *c = cli_args_value(&a);

			if (!c)
				return EXIT_USAGE;
			if (strcmp(c, "on") && strcmp(c, "off"))
				return cli_usage_error("threads: --check %s: expected on or off", c);
			cfg.check = !strcmp(c, "on");
		} else if (cli_args_is(&a, "--threads") || cli_args_is(&a, "--ops") ||
			   cli_args_is(&a, "--epoch-ops")) {
			if (cli_args_u64(&a, &v))
				return EXIT_USAGE;
			if (cli_args_is(&a, "--threads") && (v < 1 || v > SIM_THREADS_MAX))
				return cli_usage_error("threads: --threads %llu: expected 1..%d",
						       (unsigned long long)v, SIM_THREADS_MAX);
			if (cli_args_is(&a, "--epoch-ops") && (v < 1 || v > 256))
				return cli_usage_error("threads: --epoch-ops %llu: expected 1..256",
						       (unsigned long long)v);
			if (cli_args_is(&a, "--threads"))
				cfg.threads = (unsigned int)v;
			else if (cli_args_is(&a, "--ops"))
				cfg.ops = v;
			else
				cfg.epoch_ops = (unsigned int)v;
		} else {
			ret = cli_args_machine(&a, &mo);
			if (ret < 0)
				return EXIT_USAGE;
			if (!ret)
				return cli_args_unknown(&a);
		}
	}
	if (cfg.threads * cfg.epoch_ops > 256)
		return cli_usage_error("threads: --threads times --epoch-ops is %u; at most 256",
				       cfg.threads * cfg.epoch_ops);
	if (!cfg.check && mo.cfg.oracles != SIM_ORACLES_OFF)
		mo.cfg.oracles = SIM_ORACLES_OFF;	/* nothing keeps the shadows: nothing to sweep */
	mo.cfg.vcpus = cfg.threads;
	if (cli_machine_options_check(&mo, NULL, NULL))
		return EXIT_USAGE;
	cfg.seed = mo.cfg.seed;
	cfg.report = stdout;
	if (record && !cfg.check)
		return cli_usage_error("threads: --record needs --check on (the order comes from it)");
	m = sim_machine_create(&mo.cfg, err, sizeof(err));
	if (!m) {
		fprintf(stderr, "hvmm: threads: %s\n", err);
		return EXIT_USAGE;
	}
	if (record) {
		sim_trace_header_from_config(&header, &mo.cfg);
		cfg.trace = sim_trace_create(record, sim_trace_format_for_path(record), &header, &terr);
		sim_trace_header_fini(&header);
		if (!cfg.trace) {
			sim_machine_destroy(m);
			return cli_usage_error("threads: %s", terr.msg);
		}
		snprintf(err, sizeof(err), "# hvmm threads --threads %u --ops %llu --seed %llu: "
			 "epochs in the order they were committed", cfg.threads,
			 (unsigned long long)cfg.ops, (unsigned long long)cfg.seed);
		sim_trace_write_line(cfg.trace, err);
	}
	if (sim_threads_run(m, &cfg, &st, err, sizeof(err))) {
		fprintf(stderr, "hvmm: threads: %s\n", err);
		sim_trace_discard(cfg.trace);
		sim_machine_destroy(m);
		return EXIT_USAGE;
	}
	if (cfg.trace && sim_trace_finish(cfg.trace, &terr)) {
		sim_machine_destroy(m);
		return cli_usage_error("threads: %s", terr.msg);
	}
	if (cfg.check && !sim_machine_dead(m))
		sim_machine_finish(m);
	print_summary(&cfg, &st, m, json);
	ret = sim_machine_report(m)->total || st.undecided ? EXIT_VIOLATION : EXIT_CLEAN;
	sim_machine_destroy(m);
	return ret;
}
