// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

const struct cli_command cli_commands[] = {
	{ "replay", "run traces through the simulator with every oracle (default: the bundled trace)", cmd_replay },
	{ "record", "generate a trace from a named workload scenario", cmd_record },
	{ "import", "convert ftrace or LTTng page-allocator traces into hvmm traces", cmd_import },
	{ "convert", "convert a trace between the text and binary forms", cmd_convert },
	{ "minimize", "shrink a trace to fewer ops that still show the same violation", cmd_minimize },
	{ "explore", "every interleaving of a trace's concurrent block, up to a bound (sleep sets, state hashing), then PCT", cmd_explore },
	{ "stats", "describe a trace: ops, orders, live memory over time, leaks", cmd_stats },
	{ "workload", "run a generated workload through the simulator with every oracle", cmd_workload },
	{ "threads", "vCPUs as host threads running random ops on mm/ at once, judged at quiescent points", cmd_threads },
	{ "pgtable", "random stage-2 updates through page-table implementations (--pgtable linux-kvm), walked and compared", cmd_pgtable },
	{ NULL, NULL, NULL },
};

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("hvmm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	return EXIT_USAGE;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hvmm [--help] [--version] COMMAND [ARGS...]\n"
		"\n"
		"A user-space simulator and fuzzing harness for hypervisor memory managers.\n"
		"\n"
		"Commands:\n");
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out,
		"\n"
		"'hvmm COMMAND --help' describes a command.\n"
		"Exit status: 0 clean, 1 oracle violation, 2 usage or input error.\n");
}

char **cli_argv;

/* cli/mm_plain.c, linked into hvmm-plain alone, says otherwise. */
__attribute__((weak)) bool cli_mm_plain(void)
{
	return false;
}

int main(int argc, char **argv)
{
	cli_argv = argv;
	/* hvmm-plain runs replays (cmd_replay() hands back those it must not run): hvmm runs the rest. */
	if (cli_mm_plain() && (argc < 2 || strcmp(argv[1], "replay"))) {
		cli_exec_sibling("hvmm");
		return cli_usage_error("cannot run hvmm beside hvmm-plain: %s", strerror(errno));
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_CLEAN;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("hvmm %s\n", HVMM_VERSION);
		return EXIT_CLEAN;
	}
	if (argv[1][0] == '-')
		return cli_usage_error("unknown option '%s' (try 'hvmm --help')", argv[1]);
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			return c->run(argc - 1, argv + 1);
	return cli_usage_error("unknown command '%s' (try 'hvmm --help')", argv[1]);
}
