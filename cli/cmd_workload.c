// SPDX-License-Identifier: MIT
/* hvmm workload: a generated op stream through the simulator. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "workload.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hvmm workload [OPTIONS] [SCENARIO]\n"
		"\n"
		"Generates a seeded op stream and runs it through the simulator with the\n"
		"oracles on, then prints a summary.\n"
		"\n"
		"Options:\n"
		"  --ops N                ops to run (default 100000)\n"
		"  --max-order N          largest allocation order requested (default 10)\n"
		"  --json                 print the summary as JSON\n"
		"  -h, --help             this help\n"
		"\n" CLI_MACHINE_OPTIONS_HELP
		"\nScenarios:\n");
	for (const struct sim_workload_scenario *s = sim_workload_scenarios; s->name; s++)
		fprintf(out, "  %-16s %s\n", s->name, s->description);
}

int cmd_workload(int argc, char **argv)
{
	struct cli_machine_options mo;
	struct sim_workload_params params = { .ops = 100000, .max_order = 10 };
	const char *scenario = "alloc-random";
	struct sim_workload *w;
	struct sim_machine *m;
	struct cli_run run;
	bool json = false;
	char err[256];
	struct sim_op op;
	int ret;

	cli_machine_options_init(&mo);
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *val = NULL;
		char name[64];
		const char *eq = strchr(arg, '=');
		size_t n = eq ? (size_t)(eq - arg) : strlen(arg);

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			usage(stdout);
			return EXIT_CLEAN;
		}
		if (arg[0] != '-') {
			scenario = arg;
			continue;
		}
		if (n >= sizeof(name))
			return cli_usage_error("workload: unknown option '%s'", arg);
		memcpy(name, arg, n);
		name[n] = '\0';
		if (!strcmp(name, "--json")) {
			json = true;
			continue;
		}
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		if (!strcmp(name, "--ops") || !strcmp(name, "--max-order")) {
			uint64_t v;

			if (!val || !cli_parse_u64(val, &v))
				return cli_usage_error("workload: %s needs a non-negative integer", name);
			if (!strcmp(name, "--ops"))
				params.ops = v;
			else if (v > 63)
				return cli_usage_error("workload: --max-order %s: at most 63", val);
			else
				params.max_order = (unsigned int)v;
			continue;
		}
		if (!cli_is_machine_option(name))
			return cli_usage_error("workload: unknown option '%s' (try 'hvmm workload --help')", name);
		if (!val)
			return cli_usage_error("workload: %s needs a value", name);
		if (cli_machine_option(&mo, name, val) < 0)
			return EXIT_USAGE;
	}

	params.seed = mo.cfg.seed;
	params.pool_pages = mo.cfg.pool_pages;
	w = sim_workload_create(scenario, &params);
	if (!w)
		return cli_usage_error("workload: unknown scenario '%s' (try 'hvmm workload --help')", scenario);
	m = sim_machine_create(&mo.cfg, err, sizeof(err));
	if (!m) {
		sim_workload_destroy(w);
		return cli_usage_error("workload: %s", err);
	}
	cli_run_start(&run, m, params.ops, json);
	while (!sim_machine_dead(m) && sim_workload_next(w, &op)) {
		sim_workload_result(w, &op, sim_machine_exec(m, &op, NULL));
		cli_run_tick(&run);
	}
	ret = cli_run_finish(&run, scenario);
	sim_machine_destroy(m);
	sim_workload_destroy(w);
	return ret;
}
