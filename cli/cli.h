/* SPDX-License-Identifier: MIT */
/*
 * The hvmm command: subcommands, shared option parsing for the machine
 * configuration, and the run loop with its summary.
 */
#ifndef CLI_CLI_H
#define CLI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "machine.h"

/* Exit statuses of every subcommand. */
#define EXIT_CLEAN	0
#define EXIT_VIOLATION	1
#define EXIT_USAGE	2

struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
};

extern const struct cli_command cli_commands[];

/* Subcommands, one file each (cli/cmd_<name>.c). */
int cmd_workload(int argc, char **argv);
int cmd_pgtable(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_minimize(int argc, char **argv);
int cmd_threads(int argc, char **argv);
int cmd_explore(int argc, char **argv);


/* main()'s argv: a run on other page tables is this command again in another program. */
extern char **cli_argv;

/* Prints "hvmm: " + message to stderr; returns EXIT_USAGE. */
__attribute__((format(printf, 1, 2)))
int cli_usage_error(const char *fmt, ...);
/*
 * Runs this command line in the program whose mm/ writes the page tables
 * @val (this one: returns 1; another: does not return). -1 with a message
 * naming @what (an option, or a trace's line) if it cannot.
 */
int cli_run_on_pgtable(const char *what, const char *val);
/* Whether the program "hvmm" ("hvmm") or "hvmm-NAME" (NAME) is beside this one. */
bool cli_sibling_exists(const char *name);
/* Runs this command line in that program; returns -1 (errno set) only if it cannot. */
int cli_exec_sibling(const char *name);
/*
 * True in hvmm-plain, the command linked with mm/ built without the event
 * hooks (meson.build), which runs only what nothing watches: a replay of
 * one trace with the oracles off and no events written (cli/cmd_replay.c).
 * It hands anything else to hvmm.
 */
bool cli_mm_plain(void);

/*
 * Machine options shared by every subcommand that runs a machine. Each
 * parser returns 1 if it consumed the option, 0 if it is not a machine
 * option, -1 (after printing why) if its value is bad.
 */
#define CLI_EVENTS_HELP							\
"  --events OUT           write the events mm/ emitted (page allocations and\n"	\
"                         frees, stage-2 maps and unmaps, ownership changes) to\n"	\
"                         OUT as ftrace text, as a production build would trace\n"	\
"                         them; 'hvmm import' reads it back\n"

#define CLI_MACHINE_OPTIONS_HELP						\
"Machine options:\n"								\
"  --allocator NAME       allocator under test: buddy (default), bitmap, or\n"	\
"                         linux-pkvm (the kernel's, with -Dlinux_source)\n"	\
"  --pgtable NAME         stage-2 page tables of the host and the guests: hvmm\n"	\
"                         (mm/pgtable.c, default) or linux-kvm (KVM's pgtable.c,\n" \
"                         with -Dlinux_source; runs hvmm-linux-kvm)\n"	\
"  --ram SIZE[@BASE]      a RAM region (repeatable; default 1G@0x80000000)\n"	\
"  --reserved SIZE@BASE   reserved memory, carved out of RAM if inside it (repeatable)\n"	\
"  --mmio SIZE@BASE       an MMIO window (repeatable)\n"			\
"  --pool-pages N         pages managed by the allocator (default 16384)\n"	\
"  --pool-reserved N      pages at the pool start never handed out (default 0)\n" \
"  --oracles LEVEL        off, incremental (default) or full\n"		\
"  --sweep-every N        full oracle sweep every N ops (0, the default: only at\n" \
"                         the end)\n" \
"  --seed N               seed for anything random (default 1)\n"

#define CLI_MAX_MACHINE_ARGS 64

struct cli_machine_options {
	struct sim_machine_config cfg;
	bool ram_given;
	/* The options as given, so that they can override a trace's header. */
	const char *given[CLI_MAX_MACHINE_ARGS][2];
	unsigned int nr_given;
	/* The option (and value) behind each region of cfg, NULL for the trace's own. */
	const char *region_given[SIM_MAX_REGIONS][2];
};

void cli_machine_options_init(struct cli_machine_options *o);
/*
 * Starts again from @base (a trace's configuration) and applies the options
 * given so far on top of it. Returns -1 (after printing why) if one is bad.
 */
int cli_machine_options_rebase(struct cli_machine_options *o, const struct sim_machine_config *base);
int cli_machine_option(struct cli_machine_options *o, const char *opt, const char *val);
/*
 * Checks that a machine can be built from o->cfg and that a run on it ends
 * in bounded time: 0, or -1 after naming the option at fault, else the
 * line of @h (read from @file; both may be NULL) at fault.
 */
struct sim_trace_header;
int cli_machine_options_check(const struct cli_machine_options *o, const char *file,
			      const struct sim_trace_header *h);
/* True if @opt is a machine option that takes a value. */
bool cli_is_machine_option(const char *opt);

/* Running a stream of ops and summarising it. */
struct cli_run {
	struct sim_machine *m;
	double seconds;
	bool json;
	bool progress;		/* progress lines on stderr (only if it is a terminal) */
	uint64_t expected_ops;	/* for the ETA; 0 if unknown */
	bool no_expectations;	/* the ops carry no recorded outcomes: failures go unflagged */
	uint64_t last_progress_ns;
	uint64_t tick_ops;	/* ops at the last progress check */
	uint64_t start_ns;
	struct sim_events_writer *events;	/* --events: what mm/ emitted, or NULL */
};

uint64_t cli_now_ns(void);
void cli_run_start(struct cli_run *run, struct sim_machine *m, uint64_t expected_ops, bool json);
/*
 * --events OUT: from now on, the events mm/ emits go to OUT (trace/events.h).
 * 0, or EXIT_USAGE after saying why.
 */
int cli_run_events(struct cli_run *run, const char *path);
/* Ends a run that failed before its summary: what it was writing is removed. */
void cli_run_abort(struct cli_run *run);
/* Call after each op; prints progress now and then. */
void cli_run_tick(struct cli_run *run);
/* Final sweep, then the summary on stdout; returns the exit status. */
int cli_run_finish(struct cli_run *run, const char *title);

/* Walking a subcommand's arguments (cli/args.c). */
struct cli_args {
	int argc;
	char **argv;
	int i;
	const char *cmd;
	char name[64];		/* the current option, without "=value" */
	const char *eq_val;	/* its "=value", if given so */
	bool operands_only;	/* after "--" */
};

void cli_args_init(struct cli_args *a, int argc, char **argv, const char *cmd);
/* 1: an option (in a->name); 0: an operand (in *@operand); -1: no more arguments. */
int cli_args_next(struct cli_args *a, const char **operand);
bool cli_args_is(const struct cli_args *a, const char *name);
bool cli_args_help(const struct cli_args *a);
/* The option's value ("--x=v" or the next argument); NULL after printing an error. */
const char *cli_args_value(struct cli_args *a);
int cli_args_u64(struct cli_args *a, uint64_t *out);
/* A machine option: 1 applied, 0 not a machine option, -1 bad (error printed). */
int cli_args_machine(struct cli_args *a, struct cli_machine_options *mo);
/* Prints the unknown-option error; returns EXIT_USAGE. */
int cli_args_unknown(const struct cli_args *a);

/*
 * The arguments of a command on one trace (explore, minimize, stats): one
 * TRACE operand, -h/--help (prints the usage), -o/--output OUT if the
 * command writes one, the machine options, and the command's own options
 * through .option (1: taken, 0: not one of its own, -1: bad, after saying
 * why). The caller initialises .mo (and may preset machine options).
 */
struct cli_trace_command {
	const char *cmd;
	void (*usage)(FILE *out);
	int (*option)(struct cli_args *a, void *ctx);
	void *ctx;
	bool output;			/* takes -o/--output OUT */
	const char *path, *out;		/* TRACE and OUT as given, NULL if not */
	struct cli_machine_options mo;
};

/* -1 when every argument was taken; otherwise the status the command exits with. */
int cli_trace_command_args(struct cli_trace_command *tc, int argc, char **argv);

/* Reading the trace a command runs (cli/trace_in.c). */
/*
 * Opens @path for a run on the machine it describes, with the machine
 * options given (@mo) rebased on its header and checked: the reader, or
 * NULL after saying why (the command exits EXIT_USAGE).
 */
struct sim_trace_reader;
struct sim_trace_reader *cli_open_trace(const char *path, struct cli_machine_options *mo);
/*
 * Reads every op of @r into *@ops (*@nr of them, malloc'd; the caller
 * frees it even on failure), their recorded outcomes dropped: the command
 * (@cmd, for the error) runs them again. 0 at the end of the trace, -1
 * with @err filled.
 */
struct sim_trace_error;
int cli_read_ops(struct sim_trace_reader *r, const char *cmd, struct sim_op **ops, uint32_t *nr,
		 struct sim_trace_error *err);

/* The bundled default trace (cli/default_trace.c); false if none is found. */
bool cli_default_trace(char *path, size_t len);

/*
 * 0 if @out may be written; else (after saying why) EXIT_USAGE: @out is the
 * same file as @in. Call before opening anything for writing.
 */
int cli_refuse_overwrite(const char *cmd, const char *in, const char *out);

/* Numbers on the command line are the trace format's: sim_parse_u64() (sim/op.h). */

/* A workload scenario through a machine, recorded to @record if not NULL (cli/scenario_run.c). */
struct sim_workload_params;
int cli_run_scenario(const char *cmd, const char *scenario, struct sim_workload_params *params,
		     const struct cli_machine_options *mo, bool json, const char *record,
		     const char *events);
void cli_list_scenarios(FILE *out);

#endif /* CLI_CLI_H */
