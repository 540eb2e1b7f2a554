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

#define MAX_LINE 8192

extern char **environ;

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hvmm import [OPTIONS] ftrace|lttng FILE\n"
		"\n"
		"Converts Linux page-allocator events (kmem:mm_page_alloc, mm_page_free,\n"
		"mm_page_free_batched, mm_page_alloc_zone_locked) into an hvmm trace on\n"
		"symbolic handles, which replays on any allocator.\n"
		"  ftrace  text from /sys/kernel/tracing/trace or 'trace-cmd report'\n"
		"          (pfn in hex or decimal, gfp flags symbolic or numeric)\n"
		"  lttng   babeltrace2 text, or a CTF trace directory (converted by running\n"
		"          babeltrace2, or $HVMM_BABELTRACE2); events with or without the\n"
		"          kmem_ prefix, with a pfn or only a struct page pointer\n"
		"FILE '-' is stdin. Counts are reported on stderr.\n"
		"\n"
		"Options:\n"
		"  -o, --output OUT       the trace (default stdout; binary if OUT ends in .htrace)\n"
		"  --strict               a free of an unknown page or a re-allocation is an error\n"
		"                         (default: pre-existing state, as real traces start mid-run)\n"
		"  -h, --help             this help\n"
		"\n"
		"Exit status: 0 done, 2 usage or input error (FILE:LINE: what was expected).\n");
}

/* babeltrace2 DIR, its stdout as a stream. */
static FILE *run_babeltrace(const char *dir, pid_t *pid)
{
	const char *prog = getenv("HVMM_BABELTRACE2");
	char *argv[] = { (char *)(prog && *prog ? prog : "babeltrace2"), (char *)dir, NULL };
	posix_spawn_file_actions_t fa;
	int fds[2], ret;

	if (pipe(fds))
		return NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
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

struct import {
	enum kmem_source src;
	bool pre_existing;
	const char *in, *out;
};

/* Lines to events to a temporary binary trace (the header needs the peak, known at the end). */
static int convert(const struct import *ip, FILE *f, struct kmem_import *im)
{
	char line[MAX_LINE + 2], what[256];
	uint64_t lineno = 0;

	while (fgets(line, sizeof(line), f)) {
		struct kmem_event ev;
		size_t n = strlen(line);
		int ret;

		lineno++;
		if (n > MAX_LINE) {
			fprintf(stderr, "hvmm: %s:%llu: expected a line of at most %d bytes\n", ip->in,
				(unsigned long long)lineno, MAX_LINE);
			return -1;
		}
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		ret = kmem_parse_line(ip->src, line, &ev, what, sizeof(what));
		if (ret == 0) {
			((struct kmem_counts *)kmem_import_counts(im))->lines_skipped++;
			continue;
		}
		if (ret < 0 || kmem_import_event(im, &ev, what, sizeof(what))) {
			fprintf(stderr, "hvmm: %s:%llu: expected %s\n", ip->in,
				(unsigned long long)lineno, what);
			return -1;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "hvmm: %s: read error: %s\n", ip->in, strerror(errno));
		return -1;
	}
	return 0;
}

/* The final trace: a header sized for the peak, a comment with the counts, then the ops. */
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
	snprintf(note, sizeof(note), "# imported from %s %s: %llu allocs, %llu frees; "
		 "pre-existing: %llu unknown frees, %llu re-allocations; peak %llu pages",
		 ip->src == KMEM_FTRACE ? "ftrace" : "lttng", ip->in,
		 (unsigned long long)c->allocs, (unsigned long long)c->frees,
		 (unsigned long long)c->unknown_frees, (unsigned long long)c->reallocs,
		 (unsigned long long)c->peak_pages);
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

static void report(const struct import *ip, const struct kmem_counts *c)
{
	fprintf(stderr,
		"import %s: events: %llu mm_page_alloc, %llu mm_page_alloc_zone_locked, "
		"%llu mm_page_free, %llu mm_page_free_batched, %llu other mm_page; "
		"%llu other lines skipped\n"
		"ops: %llu alloc, %llu free; pcp hand-overs: %llu\n"
		"pre-existing state: %llu frees of unknown pages, %llu re-allocations\n"
		"peak live: %llu pages; handles never freed: %llu\n",
		ip->in, (unsigned long long)c->events[KMEM_ALLOC],
		(unsigned long long)c->events[KMEM_ALLOC_ZONE_LOCKED],
		(unsigned long long)c->events[KMEM_FREE],
		(unsigned long long)c->events[KMEM_FREE_BATCHED],
		(unsigned long long)c->events[KMEM_OTHER], (unsigned long long)c->lines_skipped,
		(unsigned long long)c->allocs, (unsigned long long)c->frees,
		(unsigned long long)c->pcp_handovers, (unsigned long long)c->unknown_frees,
		(unsigned long long)c->reallocs, (unsigned long long)c->peak_pages,
		(unsigned long long)c->never_freed);
}

static int import(const struct import *ip)
{
	struct sim_trace_header h;
	struct sim_trace_writer *w;
	struct sim_trace_error err;
	struct kmem_import *im;
	struct stat st;
	pid_t pid = 0;
	FILE *f, *tmp;
	int ret, status;

	if (cli_refuse_overwrite("import", ip->in, ip->out))
		return EXIT_USAGE;
	if (strcmp(ip->in, "-") && stat(ip->in, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (ip->src != KMEM_BABELTRACE)
			return cli_usage_error("import: %s is a directory: only lttng reads CTF directories",
					       ip->in);
		f = run_babeltrace(ip->in, &pid);
		if (!f)
			return cli_usage_error("import: cannot run babeltrace2 on %s: %s (install "
					       "Debian's babeltrace2 or set HVMM_BABELTRACE2)",
					       ip->in, strerror(errno));
	} else {
		f = strcmp(ip->in, "-") ? fopen(ip->in, "r") : stdin;
		if (!f)
			return cli_usage_error("import: %s: cannot open: %s", ip->in, strerror(errno));
	}
	/* Ops go to an anonymous file first: the header needs the peak, known at the end. */
	tmp = tmpfile();
	if (!tmp)
		return cli_usage_error("import: cannot create a temporary file: %s", strerror(errno));
	sim_trace_header_init(&h);
	w = sim_trace_create_stream(tmp, ip->in, SIM_TRACE_BINARY, &h, &err);
	im = w ? kmem_import_create(w, ip->pre_existing) : NULL;
	ret = im ? convert(ip, f, im) : -1;
	if (f != stdin)
		fclose(f);
	if (pid) {
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "hvmm: %s: babeltrace2 failed (status %d): not a CTF trace?\n",
				ip->in, status);
			ret = -1;
		}
	}
	if (w && sim_trace_finish(w, &err))
		ret = -1;
	if (!ret)
		ret = finish(ip, tmp, kmem_import_counts(im));
	if (!ret)
		report(ip, kmem_import_counts(im));
	kmem_import_destroy(im);
	fclose(tmp);
	return ret ? EXIT_USAGE : EXIT_CLEAN;
}

int cmd_import(int argc, char **argv)
{
	struct import ip = { .pre_existing = true, .out = "-" };
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
			ip.pre_existing = false;
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
