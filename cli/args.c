// SPDX-License-Identifier: MIT
/* Walking a subcommand's arguments: "--name value", "--name=value", operands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

void cli_args_init(struct cli_args *a, int argc, char **argv, const char *cmd)
{
	memset(a, 0, sizeof(*a));
	a->argc = argc;
	a->argv = argv;
	a->i = 0;
	a->cmd = cmd;
}

int cli_args_next(struct cli_args *a, const char **operand)
{
	const char *arg, *eq;
	size_t n;

	if (++a->i >= a->argc)
		return -1;
	arg = a->argv[a->i];
	if (arg[0] != '-' || !arg[1] || a->operands_only) {
		*operand = arg;
		return 0;
	}
	if (!strcmp(arg, "--")) {
		a->operands_only = true;
		return cli_args_next(a, operand);
	}
	eq = strchr(arg, '=');
	n = eq ? (size_t)(eq - arg) : strlen(arg);
	if (n >= sizeof(a->name))
		n = sizeof(a->name) - 1;
	memcpy(a->name, arg, n);
	a->name[n] = '\0';
	a->eq_val = eq ? eq + 1 : NULL;
	return 1;
}

bool cli_args_is(const struct cli_args *a, const char *name)
{
	return !strcmp(a->name, name);
}

bool cli_args_help(const struct cli_args *a)
{
	return cli_args_is(a, "-h") || cli_args_is(a, "--help");
}

const char *cli_args_value(struct cli_args *a)
{
	if (a->eq_val)
		return a->eq_val;
	if (a->i + 1 < a->argc)
		return a->argv[++a->i];
	cli_usage_error("%s: %s needs a value", a->cmd, a->name);
	return NULL;
}

int cli_args_u64(struct cli_args *a, uint64_t *out)
{
	const char *val = cli_args_value(a);

	if (!val)
		return -1;
	if (!sim_parse_u64(val, out)) {
		cli_usage_error("%s: %s %s: expected a number, decimal or 0x hex (digits only, below "
				"2^64)", a->cmd, a->name, val);
		return -1;
	}
	return 0;
}

int cli_args_machine(struct cli_args *a, struct cli_machine_options *mo)
{
	const char *val;

	if (!cli_is_machine_option(a->name))
		return 0;
	val = cli_args_value(a);
	if (!val || cli_machine_option(mo, a->name, val) < 0)
		return -1;
	return 1;
}

int cli_args_unknown(const struct cli_args *a)
{
	return cli_usage_error("%s: unknown option '%s' (try 'hvmm %s --help')", a->cmd, a->name,
			       a->cmd);
}

int cli_trace_command_args(struct cli_trace_command *tc, int argc, char **argv)
{
	const char *operand;
	struct cli_args a;
	int kind, ret;

	cli_args_init(&a, argc, argv, tc->cmd);
	while ((kind = cli_args_next(&a, &operand)) >= 0) {
		if (kind == 0) {
			if (tc->path)
				return cli_usage_error("%s: one TRACE at a time", tc->cmd);
			tc->path = operand;
		} else if (cli_args_help(&a)) {
			tc->usage(stdout);
			return EXIT_CLEAN;
		} else if (tc->output && (cli_args_is(&a, "-o") || cli_args_is(&a, "--output"))) {
			if (!(tc->out = cli_args_value(&a)))
				return EXIT_USAGE;
		} else if ((ret = tc->option ? tc->option(&a, tc->ctx) : 0) != 0 ||
			   (ret = cli_args_machine(&a, &tc->mo)) != 0) {
			if (ret < 0)
				return EXIT_USAGE;
		} else {
			return cli_args_unknown(&a);
		}
	}
	return -1;
}
