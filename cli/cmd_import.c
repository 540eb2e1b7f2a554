// SPDX-License-Identifier: MIT
/* hvmm import: production page-allocator traces (ftrace, LTTng) to hvmm traces. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hvmm/types.h>

#include "cli.h"
#include "import/kmem.h"
#include "trace/trace.h"

#define MAX_LINE	8192
#define MAX_WARNINGS	10	/* warnings shown one by one; the rest are counted */

/* trace-cmd's binary trace.dat starts with these bytes (trace-cmd.dat(5)). */
static const char trace_dat_magic[] = "\x17\x08\x44tracing";

extern char **environ;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hvmm import [OPTIONS] ftrace|lttng FILE\n"
		"\n"
		"Converts Linux page-allocator events (kmem:mm_page_alloc, mm_page_free,\n"
		"mm_page_free_batched, mm_page_alloc_zone_locked) into an hvmm trace on\n"
		"symbolic handles, which replays on any allocator.\n"
		"  ftrace  text from /sys/kernel/tracing/trace or 'trace-cmd report', or a\n"
		"          trace-cmd trace.dat (converted by running 'trace-cmd report', or\n"
		"          $HVMM_TRACE_CMD); pfn in hex or decimal\n"
		"  lttng   babeltrace2 text, or a CTF trace directory (converted by running\n"
		"          babeltrace2, or $HVMM_BABELTRACE2); events with or without the\n"
		"          kmem_ prefix, with a pfn or only a struct page pointer\n"
		"FILE '-' is stdin. The summary goes to stderr.\n"
		"\n"
		"The kernel's rules: mm_page_alloc is an allocation (pfn -1 or a NULL page:\n"
		"a failed one, imported as an alloc expecting ENOMEM);\n"
		"mm_page_alloc_zone_locked fills a per-CPU list or precedes an\n"
		"mm_page_alloc and is not an allocation; mm_page_free and\n"
		"mm_page_free_batched of the same page are one free. A free of an aligned\n"
		"part of a live block is the block split by split_page() or freed in parts\n"
		"by __free_pages(): a split op, then frees of its pages. Pages without a pfn\n"
		"are told apart by their struct page pointer.\n"
		"\n"
		"Options:\n"
		"  -o, --output OUT       the trace (default stdout; binary if OUT ends in .htrace)\n"
		"  --strict               a free of a page not allocated in the trace, a\n"
		"                         re-allocation, an order mismatch, a free inside a\n"
		"                         live block or an order of %d or more is an error\n"
		"                         (default: warnings, as real traces start mid-run)\n"
		"  -h, --help             this help\n"
		"\n"
		"Exit status: 0 done, 2 usage or input error (FILE:LINE: what was expected).\n",
		KMEM_MAX_ORDER);
}

struct import {
	enum kmem_source src;
	bool strict;
	const char *in, *out;
	const char *converter;	/* the program whose output is read, if any */
	FILE *converter_err;	/* its stderr */
	uint64_t warnings;
};

/* @argv's stdout as a stream, its stderr to ip->converter_err. */
static FILE *run_converter(struct import *ip, char **argv, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	int fds[2], ret;

	ip->converter = argv[0];
	ip->converter_err = tmpfile();
	if (!ip->converter_err || pipe(fds))
		return NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, fileno(ip->converter_err), STDERR_FILENO);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	ret = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (ret) {
		close(fds[0]);
		errno = ret;
		return NULL;
	}
	return fdopen(fds[0], "r");
}

static const char *program(const char *env, const char *def)
{
	const char *p = getenv(env);

	return p && *p ? p : def;
}

/* The converter's exit: 0, or -1 after saying what it said. */
static int converter_status(struct import *ip, pid_t pid)
{
	char line[512];
	int status;

	if (waitpid(pid, &status, 0) < 0) {
		fprintf(stderr, "hvmm: %s: waiting for %s: %s\n", ip->in, ip->converter,
			strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	if (WIFEXITED(status))
		fprintf(stderr, "hvmm: %s: %s failed (exit %d)%s\n", ip->in, ip->converter,
			WEXITSTATUS(status), WEXITSTATUS(status) == 127 ? ": not installed?" : "; it said:");
	else
		fprintf(stderr, "hvmm: %s: %s was killed by signal %d\n", ip->in, ip->converter,
			WTERMSIG(status));
	rewind(ip->converter_err);
	for (int n = 0; n < 20 && fgets(line, sizeof(line), ip->converter_err); n++)
		fprintf(stderr, "  %s%s", line, strchr(line, '\n') ? "" : "\n");
	return -1;
}

static void warn(struct import *ip, uint64_t lineno, const char *msg)
{
	if (++ip->warnings <= MAX_WARNINGS)
		fprintf(stderr, "hvmm: %s:%llu: warning: %s\n", ip->in, (unsigned long long)lineno,
			msg);
}

/* Lines to events to ops in @im. */
static int convert(struct import *ip, FILE *f, struct kmem_import *im, uint64_t *lines)
{
	char *line = NULL, what[512];
	size_t cap = 0;
	uint64_t lineno = 0;
	ssize_t got;
	int ret = 0;

	while ((got = getline(&line, &cap, f)) >= 0) {
		struct kmem_event ev;
		size_t n = (size_t)got;

		lineno++;
		if (n > MAX_LINE) {
			fprintf(stderr, "hvmm: %s:%llu: expected a line of at most %d bytes\n", ip->in,
				(unsigned long long)lineno, MAX_LINE);
			ret = -1;
			break;
		}
		if (memchr(line, '\0', n)) {
			fprintf(stderr, "hvmm: %s:%llu: expected text without NUL bytes\n", ip->in,
				(unsigned long long)lineno);
			ret = -1;
			break;
		}
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		ret = kmem_parse_line(ip->src, line, &ev, what, sizeof(what));
		if (ret == 0) {
			((struct kmem_counts *)kmem_import_counts(im))->lines_skipped++;
			continue;
		}
		if (ret < 0) {
			fprintf(stderr, "hvmm: %s:%llu: expected %s\n", ip->in,
				(unsigned long long)lineno, what);
			break;
		}
		ret = kmem_import_event(im, &ev, lineno, what, sizeof(what));
		if (ret < 0) {
			fprintf(stderr, "hvmm: %s:%llu: %s\n", ip->in, (unsigned long long)lineno, what);
			break;
		}
		if (ret > 0)
			warn(ip, lineno, what);
		ret = 0;
	}
	free(line);
	if (!ret && ferror(f)) {
		fprintf(stderr, "hvmm: %s: read error: %s\n", ip->in, strerror(errno));
		ret = -1;
	}
	*lines = lineno;
	return ret;
}

/* The final trace: a header sized for the peak with the counts as comments, then the ops. */
static int finish(const struct import *ip, FILE *tmp, const struct kmem_counts *c)
{
	struct sim_machine_config cfg;
	struct sim_trace_header h;
	struct sim_trace_reader *r;
	struct sim_trace_writer *w;
	struct sim_trace_error err;
	uint64_t pool = 1024;
	char note[512];
	struct sim_op op;
	int ret;

	while (pool < 2 * c->peak_pages && pool < (1ULL << 28))
		pool *= 2;
	sim_machine_config_default(&cfg);
	cfg.pool_pages = pool;
	if ((pool << HVMM_PAGE_SHIFT) > cfg.regions[0].size)
		cfg.regions[0].size = pool << HVMM_PAGE_SHIFT;
	sim_trace_header_from_config(&h, &cfg);
	rewind(tmp);
	r = sim_trace_open_stream(tmp, ip->in, &err);
	w = r ? sim_trace_create(ip->out, sim_trace_format_for_path(ip->out), &h, &err) : NULL;
	if (!w) {
		fprintf(stderr, "hvmm: %s\n", err.msg);
		sim_trace_close(r);
		return -1;
	}
	snprintf(note, sizeof(note), "# imported from %s %s: %llu allocations, %llu failed "
		 "allocations, %llu frees matched, %llu frees of pages allocated before tracing, "
		 "%llu pages never freed", ip->src == KMEM_FTRACE ? "ftrace" : "lttng", ip->in,
		 (unsigned long long)c->allocs, (unsigned long long)c->failed_allocs,
		 (unsigned long long)c->frees_matched, (unsigned long long)c->frees_before,
		 (unsigned long long)c->never_freed);
	ret = sim_trace_write_line(w, note) ? -1 : 1;
	while (ret > 0 && (ret = sim_trace_read_op(r, &op, &err)) > 0)
		if (sim_trace_write_op(w, &op))
			ret = -1;
	sim_trace_close(r);
	if (ret < 0) {
		sim_trace_discard(w);
		fprintf(stderr, "hvmm: %s: write failed\n", ip->out);
		return -1;
	}
	if (sim_trace_finish(w, &err)) {
		fprintf(stderr, "hvmm: %s\n", err.msg);
		return -1;
	}
	return 0;
}

#define U(x) ((unsigned long long)(x))

static void report(const struct import *ip, const struct kmem_counts *c, uint64_t lines)
{
	fprintf(stderr,
		"import %s: %llu lines; page-allocator events: %llu mm_page_alloc, "
		"%llu mm_page_alloc_zone_locked, %llu mm_page_free, %llu mm_page_free_batched, "
		"%llu other mm_page\n"
		"  allocations:                                  %llu\n"
		"  failed allocations:                           %llu\n"
		"  frees matched to an allocation in the trace:  %llu\n"
		"  frees of pages allocated before tracing:      %llu\n"
		"  pages never freed:                            %llu blocks, %llu pages\n"
		"  per-CPU refills (not allocations):            %llu\n"
		"  zone-locked before an allocation:             %llu\n"
		"  mm_page_free_batched of a page just freed:    %llu (one free with its mm_page_free)\n"
		"  re-allocations (free not traced):             %llu\n"
		"  blocks split (split_page), frees of their pages: %llu, %llu\n"
		"  order mismatches, frees inside a block, orders >= %d: %llu, %llu, %llu\n"
		"  ops: %llu alloc (%llu expecting ENOMEM), %llu free; peak live %llu pages\n",
		ip->in, U(lines), U(c->events[KMEM_ALLOC]), U(c->events[KMEM_ALLOC_ZONE_LOCKED]),
		U(c->events[KMEM_FREE]), U(c->events[KMEM_FREE_BATCHED]), U(c->events[KMEM_OTHER]),
		U(c->allocs), U(c->failed_allocs), U(c->frees_matched), U(c->frees_before),
		U(c->never_freed), U(c->never_freed_pages), U(c->pcp_refills), U(c->zone_direct),
		U(c->frees_paired), U(c->reallocs), U(c->splits), U(c->split_frees), KMEM_MAX_ORDER, U(c->order_mismatches),
		U(c->inside_frees), U(c->big_orders), U(c->allocs + c->failed_allocs),
		U(c->failed_allocs), U(c->free_ops), U(c->peak_pages));
	if (c->page_size)
		fprintf(stderr, "  struct page size: %llu bytes (%s)\n", U(c->page_size),
			c->page_size_from_pfn ? "from page and pfn printed together" :
			"the greatest common divisor of the distances between page pointers; "
			"pages are told apart by their pointer");
	if (ip->warnings > MAX_WARNINGS)
		fprintf(stderr, "  warnings: %llu (the first %d shown)\n", U(ip->warnings),
			MAX_WARNINGS);
	else if (ip->warnings)
		fprintf(stderr, "  warnings: %llu\n", U(ip->warnings));
}

static bool is_trace_dat(FILE *f)
{
	char magic[sizeof(trace_dat_magic) - 1];
	size_t n = fread(magic, 1, sizeof(magic), f);
	bool dat = n == sizeof(magic) && !memcmp(magic, trace_dat_magic, sizeof(magic));

	rewind(f);
	return dat;
}

/* The input as a stream of text lines, through a converter if it is not text. */
static FILE *open_input(struct import *ip, pid_t *pid)
{
	struct stat st;
	FILE *f;

	if (!strcmp(ip->in, "-"))
		return stdin;
	if (stat(ip->in, &st) == 0 && S_ISDIR(st.st_mode)) {
		char *argv[] = { (char *)program("HVMM_BABELTRACE2", "babeltrace2"), (char *)ip->in, NULL };

		if (ip->src != KMEM_BABELTRACE) {
			cli_usage_error("import: %s is a directory: only lttng reads CTF directories",
					ip->in);
			return NULL;
		}
		f = run_converter(ip, argv, pid);
		if (!f)
			cli_usage_error("import: cannot run %s on %s: %s (install Debian's "
					"babeltrace2 or set HVMM_BABELTRACE2)", argv[0], ip->in,
					strerror(errno));
		return f;
	}
	f = fopen(ip->in, "r");
	if (!f) {
		cli_usage_error("import: %s: cannot open: %s", ip->in, strerror(errno));
		return NULL;
	}
	if (is_trace_dat(f)) {
		char *argv[] = { (char *)program("HVMM_TRACE_CMD", "trace-cmd"), "report", "-i",
				 (char *)ip->in, NULL };

		fclose(f);
		if (ip->src != KMEM_FTRACE) {
			cli_usage_error("import: %s is a trace-cmd trace.dat: import it as ftrace",
					ip->in);
			return NULL;
		}
		f = run_converter(ip, argv, pid);
		if (!f)
			cli_usage_error("import: cannot run %s on %s: %s (install Debian's "
					"trace-cmd or set HVMM_TRACE_CMD)", argv[0], ip->in,
					strerror(errno));
	}
	return f;
}

static int import(struct import *ip)
{
	struct sim_trace_header h;
	struct sim_trace_writer *w;
	struct sim_trace_error err;
	struct kmem_import *im = NULL;
	const struct kmem_counts *c;
	uint64_t lines = 0, events = 0;
	pid_t pid = 0;
	FILE *f, *tmp;
	int ret;

	if (cli_refuse_overwrite("import", ip->in, ip->out))
		return EXIT_USAGE;
	f = open_input(ip, &pid);
	if (!f)
		return EXIT_USAGE;
	/* Ops go to an anonymous file first: the header needs the peak, known at the end. */
	tmp = tmpfile();
	sim_trace_header_init(&h);
	w = tmp ? sim_trace_create_stream(tmp, ip->in, SIM_TRACE_BINARY, &h, &err) : NULL;
	if (w)
		im = kmem_import_create(w, ip->strict);
	if (!im)
		fprintf(stderr, "hvmm: import: cannot create a temporary file: %s\n", strerror(errno));
	ret = im ? convert(ip, f, im, &lines) : -1;
	if (f != stdin)
		fclose(f);
	if (pid && converter_status(ip, pid))
		ret = -1;
	if (w && sim_trace_finish(w, &err) && !ret) {
		fprintf(stderr, "hvmm: import: temporary file: %s\n", err.msg);
		ret = -1;
	}
	c = im ? kmem_import_counts(im) : NULL;
	for (unsigned int k = 0; c && k < KMEM__COUNT; k++)
		events += c->events[k];
	if (!ret && !events) {
		if (ip->converter)
			fprintf(stderr, "hvmm: %s: expected page-allocator events (kmem:mm_page_*); "
				"none in the %llu lines %s printed\n", ip->in, U(lines),
				ip->converter);
		else
			fprintf(stderr, "hvmm: %s: expected page-allocator events (kmem:mm_page_*); "
				"none in %llu lines%s\n", ip->in, U(lines),
				ip->src == KMEM_FTRACE ? " (is it ftrace text or a trace.dat?)" :
				" (is it babeltrace2 text or a CTF directory?)");
		ret = -1;
	}
	if (!ret)
		ret = finish(ip, tmp, c);
	if (!ret)
		report(ip, c, lines);
	kmem_import_destroy(im);
	if (tmp)
		fclose(tmp);
	if (ip->converter_err)
		fclose(ip->converter_err);
	return ret ? EXIT_USAGE : EXIT_CLEAN;
}

int cmd_import(int argc, char **argv)
{
	struct import ip = { .out = "-" };
	const char *operands[2], *operand;
	unsigned int nr = 0;
	struct cli_args a;
	int kind;

	cli_args_init(&a, argc, argv, "import");
	while ((kind = cli_args_next(&a, &operand)) >= 0) {
		if (kind == 0) {
			if (nr == 2)
				return cli_usage_error("import: expected FORMAT FILE; got also '%s'", operand);
			operands[nr++] = operand;
		} else if (cli_args_help(&a)) {
			usage(stdout);
			return EXIT_CLEAN;
		} else if (cli_args_is(&a, "--strict")) {
			ip.strict = true;
		} else if (cli_args_is(&a, "-o") || cli_args_is(&a, "--output")) {
			if (!(ip.out = cli_args_value(&a)))
				return EXIT_USAGE;
		} else {
			return cli_args_unknown(&a);
		}
	}
	if (nr != 2)
		return cli_usage_error("import: expected ftrace|lttng FILE (try 'hvmm import --help')");
	if (!strcmp(operands[0], "ftrace"))
		ip.src = KMEM_FTRACE;
	else if (!strcmp(operands[0], "lttng"))
		ip.src = KMEM_BABELTRACE;
	else
		return cli_usage_error("import: format '%s': expected ftrace or lttng", operands[0]);
	ip.in = operands[1];
	return import(&ip);
}
