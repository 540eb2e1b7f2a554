// SPDX-License-Identifier: MIT
/* A workload scenario through a machine, optionally recorded: shared by 'workload' and 'record'. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "trace/trace.h"
#include "machine_conc.h"
#include "workload.h"

static void write_sched(void *ctx, const struct sim_op *op);

static bool given(const struct cli_machine_options *mo, const char *opt)
{
	for (unsigned int i = 0; i < mo->nr_given; i++)
		if (!strcmp(mo->given[i][0], opt))
			return true;
	return false;
}

int cli_run_scenario(const char *cmd, const char *scenario, struct sim_workload_params *params,
		     const struct cli_machine_options *mo, bool json, const char *record,
		     const char *events)
{
	struct sim_trace_writer *tw = NULL;
	struct sim_trace_header header;
	struct sim_trace_error err;
	struct sim_workload *w;
	struct sim_machine *m;
	struct cli_run run;
	struct sim_op op;
	char msg[256];
	int ret;

	if (cli_machine_options_check(mo, NULL, NULL))
		return EXIT_USAGE;
	sim_workload_params_for(params, &mo->cfg);
	w = sim_workload_create(scenario, params);
	if (!w)
		return cli_usage_error("%s: unknown scenario '%s' (try 'hvmm %s --help')", cmd,
				       scenario, cmd);
	m = sim_machine_create(&mo->cfg, msg, sizeof(msg));
	if (!m) {
		sim_workload_destroy(w);
		return cli_usage_error("%s: %s", cmd, msg);
	}
	if (record) {
		sim_trace_header_from_config(&header, &mo->cfg);
		tw = sim_trace_create(record, sim_trace_format_for_path(record), &header, &err);
		if (!tw) {
			sim_machine_destroy(m);
			sim_workload_destroy(w);
			return cli_usage_error("%s", err.msg);
		}
		char cmdline[1024];
		size_t n;

		n = (size_t)snprintf(cmdline, sizeof(cmdline), "# hvmm record %s --ops %llu --vms %u",
				     scenario, (unsigned long long)params->ops, sim_workload_vms(w));
		/* The machine options given, so that the line remakes the trace. */
		for (unsigned int i = 0; i < mo->nr_given && n < sizeof(cmdline); i++)
			n += (size_t)snprintf(cmdline + n, sizeof(cmdline) - n, " %s %s",
					      mo->given[i][0], mo->given[i][1]);
		if (n < sizeof(cmdline) && !given(mo, "--seed"))
			snprintf(cmdline + n, sizeof(cmdline) - n, " --seed %llu",
				 (unsigned long long)params->seed);
		sim_trace_write_line(tw, cmdline);
	}
	cli_run_start(&run, m, params->ops, json);
	if (events && cli_run_events(&run, events)) {
		sim_trace_discard(tw);
		sim_machine_destroy(m);
		sim_workload_destroy(w);
		return EXIT_USAGE;
	}
	while (!sim_machine_dead(m) && sim_workload_next(w, &op)) {
		uint64_t value = 0;
		int result = sim_machine_exec(m, &op, &value);

		/* A guest fault records the page the host gave it: the trace says it all. */
		if (op.kind == SIM_OP_FAULT && op.vm && value)
			op.b = value;

		sim_workload_result(w, &op, result);
		if (tw) {
			/* An op queued for a concurrent block has no outcome yet. */
			if (!sim_machine_conc_queued(m))
				sim_trace_set_outcome(&op, result);
			sim_trace_write_op(tw, &op);
		}
		cli_run_tick(&run);
	}
	if (tw && sim_machine_conc_queued(m)) {
		size_t n;
		const uint16_t *sched;

		/* The block runs now, and the schedule it took goes after its ops. */
		sim_machine_conc_run(m);
		sched = sim_machine_conc_schedule(m, &n);
		sim_conc_schedule_runs(sched, n, write_sched, tw);
	}
	if (tw && sim_trace_finish(tw, &err)) {
		cli_run_abort(&run);
		sim_machine_destroy(m);
		sim_workload_destroy(w);
		return cli_usage_error("%s", err.msg);
	}
	ret = cli_run_finish(&run, scenario);
	sim_machine_destroy(m);
	sim_workload_destroy(w);
	return ret;
}

static void write_sched(void *ctx, const struct sim_op *op)
{
	sim_trace_write_op(ctx, op);
}

void cli_list_scenarios(FILE *out)
{
	fprintf(out, "\nScenarios:\n");
	for (const struct sim_workload_scenario *s = sim_workload_scenarios; s->name; s++)
		fprintf(out, "  %-16s %s\n", s->name, s->description);
}
