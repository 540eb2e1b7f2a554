// SPDX-License-Identifier: MIT
/* hvmm workload and hvmm record: a generated op stream through the simulator. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "workload.h"

static void usage(FILE *out, bool record)
{
	if (record)
		fprintf(out,
			"Usage: hvmm record [OPTIONS] SCENARIO\n"
			"\n"
			"Runs a seeded scenario through the simulator and writes the op stream,\n"
			"with each op's outcome as its expected result, as a trace (to stdout\n"
			"unless -o is given; binary if OUT ends in .htrace or .bin). The summary\n"
			"goes to stderr when the trace goes to stdout.\n");
	else
		fprintf(out,
			"Usage: hvmm workload [OPTIONS] [SCENARIO]\n"
			"\n"
			"Generates a seeded op stream and runs it through the simulator with the\n"
			"oracles on, then prints a summary (the default scenario is alloc-random).\n");
	fprintf(out,
		"\n"
		"Options:\n"
		"%s"
		"  --ops N                ops to run (default 100000)\n"
		"  --max-order N          largest allocation order requested (default 10)\n"
		"  --vms N                VMs the VM scenarios run (default 4, vm-random 6;\n"
		"                         at most 16)\n"
		CLI_EVENTS_HELP
		"  --json                 print the summary as JSON\n"
		"  -h, --help             this help\n"
		"\n" CLI_MACHINE_OPTIONS_HELP,
		record ? "  -o, --output OUT       the trace file (default: stdout)\n" : "");
	cli_list_scenarios(out);
}

static int run(int argc, char **argv, bool record)
{
	const char *cmd = record ? "record" : "workload";
	struct sim_workload_params params = { .ops = 100000, .max_order = 10 };
	const char *scenario = record ? NULL : "alloc-random", *output = "-", *operand;
	const char *events = NULL;
	struct cli_machine_options mo;
	struct cli_args a;
	bool json = false;
	char stdout_path[32];
	uint64_t v;
	int kind, ret;

	cli_machine_options_init(&mo);
	cli_args_init(&a, argc, argv, cmd);
	while ((kind = cli_args_next(&a, &operand)) >= 0) {
		if (kind == 0) {
			scenario = operand;
		} else if (cli_args_help(&a)) {
			usage(stdout, record);
			return EXIT_CLEAN;
		} else if (cli_args_is(&a, "--json")) {
			json = true;
		} else if (record && (cli_args_is(&a, "-o") || cli_args_is(&a, "--output"))) {
			if (!(output = cli_args_value(&a)))
				return EXIT_USAGE;
		} else if (cli_args_is(&a, "--events")) {
			if (!(events = cli_args_value(&a)))
				return EXIT_USAGE;
		} else if (cli_args_is(&a, "--ops") || cli_args_is(&a, "--max-order") ||
			   cli_args_is(&a, "--vms")) {
			if (cli_args_u64(&a, &v))
				return EXIT_USAGE;
			if (cli_args_is(&a, "--ops"))
				params.ops = v;
			else if (cli_args_is(&a, "--vms") && (v < 1 || v > 16))
				return cli_usage_error("%s: --vms %llu: expected 1..16", cmd,
						       (unsigned long long)v);
			else if (cli_args_is(&a, "--vms"))
				params.vms = (unsigned int)v;
			else if (v > 63)
				return cli_usage_error("%s: --max-order %llu: at most 63", cmd,
						       (unsigned long long)v);
			else
				params.max_order = (unsigned int)v;
		} else if ((ret = cli_args_machine(&a, &mo)) <= 0) {
			return ret < 0 ? EXIT_USAGE : cli_args_unknown(&a);
		}
	}
	if (!scenario)
		return cli_usage_error("record: expected a SCENARIO (try 'hvmm record --help')");
	/* A trace on stdout: keep it there and send the summary to stderr. */
	if (record && !strcmp(output, "-")) {
		int fd = dup(STDOUT_FILENO);

		if (fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			return cli_usage_error("record: cannot redirect stdout");
		snprintf(stdout_path, sizeof(stdout_path), "/dev/fd/%d", fd);
		output = stdout_path;
	}
	if (record && events && !strcmp(events, output))
		return cli_usage_error("record: --events and --output name the same file");
	return cli_run_scenario(cmd, scenario, &params, &mo, json, record ? output : NULL, events);
}

int cmd_workload(int argc, char **argv)
{
	return run(argc, argv, false);
}

int cmd_record(int argc, char **argv)
{
	return run(argc, argv, true);
}
