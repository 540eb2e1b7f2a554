// SPDX-License-Identifier: MIT
/*
 * hvmm stats: what a trace does. The trace runs through the machine with
 * the oracles off (the machine knows which ops succeeded and how large each
 * block is; stats describe, replay judges), and this prints the ops by kind
 * and result, the orders asked for, memory live over the op index, and the
 * handles and VMs still live at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvmm/types.h>

#include "cli.h"
#include "machine_vm.h"
#include "trace/trace.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hvmm stats [OPTIONS] [TRACE]\n"
		"\n"
		"Describes a trace (text or binary, '-' for stdin; default: the bundled\n"
		"trace): ops by kind and by result, allocation orders, memory live over\n"
		"the op index (allocator pages and pages held by guests, as a sparkline\n"
		"and a table), and the handles never freed and VMs never destroyed.\n"
		"The trace runs through the simulator with the oracles off unless\n"
		"--oracles says otherwise; 'hvmm replay' is the judge.\n"
		"\n"
		"Options:\n"
		"  --json                 print everything as one JSON object\n"
		"  --rows N               rows of the live-memory table (default 16)\n"
		"  --list N               handles never freed to list (default 20)\n"
		"  -h, --help             this help\n"
		"\n" CLI_MACHINE_OPTIONS_HELP
		"\nExit status: 0 done, 2 usage or input error.\n");
}

/* --- the live-memory curve: a fixed number of buckets, merged as the trace grows --- */

#define CURVE_BUCKETS	1024
#define CURVE_SERIES	2	/* allocator pages, guest pages */

struct bucket {
	uint64_t max[CURVE_SERIES];
	uint64_t last[CURVE_SERIES];
};

struct curve {
	uint64_t width;		/* ops per bucket */
	uint64_t fill;		/* ops in the last bucket */
	unsigned int n;
	struct bucket b[CURVE_BUCKETS];
	uint64_t peak[CURVE_SERIES], peak_op[CURVE_SERIES];
	uint64_t peak_total, peak_total_op;
};

static void curve_add(struct curve *c, uint64_t op, const uint64_t v[CURVE_SERIES])
{
	struct bucket *b;

	if (v[0] + v[1] > c->peak_total || !op) {
		c->peak_total = v[0] + v[1];
		c->peak_total_op = op;
	}
	for (unsigned int s = 0; s < CURVE_SERIES; s++) {
		if (v[s] > c->peak[s] || !op) {
			c->peak[s] = v[s];
			c->peak_op[s] = op;
		}
	}
	if (c->n && c->fill < c->width) {
		b = &c->b[c->n - 1];
		for (unsigned int s = 0; s < CURVE_SERIES; s++) {
			b->max[s] = hvmm_max(b->max[s], v[s]);
			b->last[s] = v[s];
		}
		c->fill++;
		return;
	}
	if (c->n == CURVE_BUCKETS) {
		/* Every bucket is full: pairs become one, twice as wide. */
		for (unsigned int i = 0; i < CURVE_BUCKETS / 2; i++)
			for (unsigned int s = 0; s < CURVE_SERIES; s++) {
				c->b[i].max[s] = hvmm_max(c->b[2 * i].max[s], c->b[2 * i + 1].max[s]);
				c->b[i].last[s] = c->b[2 * i + 1].last[s];
			}
		c->n = CURVE_BUCKETS / 2;
		c->width *= 2;
	}
	b = &c->b[c->n++];
	for (unsigned int s = 0; s < CURVE_SERIES; s++)
		b->max[s] = b->last[s] = v[s];
	c->fill = 1;
}

/* Buckets [lo, hi) of series @s (CURVE_SERIES: both) folded into one. */
static uint64_t fold_max(const struct curve *c, unsigned int lo, unsigned int hi, unsigned int s)
{
	uint64_t m = 0;

	for (unsigned int i = lo; i < hi; i++)
		m = hvmm_max(m, s < CURVE_SERIES ? c->b[i].max[s] : c->b[i].max[0] + c->b[i].max[1]);
	return m;
}

static uint64_t at_end(const struct curve *c, unsigned int i, unsigned int s)
{
	return s < CURVE_SERIES ? c->b[i].last[s] : c->b[i].last[0] + c->b[i].last[1];
}

/* --- what a run of the trace gathers --------------------------------------- */

#define NR_RESULTS (HVMM_ERRNO_MAX + 1)

struct stats {
	uint64_t ops;
	uint64_t results[SIM_OP__COUNT][NR_RESULTS];
	uint64_t orders[64][2];		/* alloc: [order][0] asked, [1] failed */
	uint64_t *born;			/* handle -> op index that made it live */
	uint32_t nr_born;
	uint32_t max_handle;		/* handles below this were mentioned */
	uint64_t vm_born[SIM_MAX_VM + 1];
	struct curve curve;
};

static void note_born(struct stats *st, uint32_t h, uint64_t count, uint64_t op)
{
	uint64_t end = hvmm_min((uint64_t)h + count, (uint64_t)SIM_MAX_HANDLE);

	if (end > st->nr_born) {
		uint32_t cap = st->nr_born ? st->nr_born : 1024;
		uint64_t *n;

		while (cap < end)
			cap *= 2;
		n = realloc(st->born, (size_t)cap * sizeof(*n));
		if (!n)
			return;	/* only the listing loses the op index */
		memset(n + st->nr_born, 0, (size_t)(cap - st->nr_born) * sizeof(*n));
		st->born = n;
		st->nr_born = cap;
	}
	for (uint64_t i = h; i < end; i++)
		st->born[i] = op;
	st->max_handle = (uint32_t)hvmm_max((uint64_t)st->max_handle, end);
}

static uint64_t guest_pages(struct sim_machine *m)
{
	struct sim_vmstate *vs = sim_machine_vms(m);
	uint64_t n = 0;

	if (!vs || !vs->enabled)
		return 0;
	for (unsigned int v = 1; v <= SIM_MAX_VM; v++)
		if (vs->g[v].live)
			n += vs->ideal.spaces[v].nr;
	return n;
}

static void account(struct stats *st, struct sim_machine *m, const struct sim_op *op, int ret,
		    uint64_t split_pages)
{
	uint64_t v[CURVE_SERIES];
	uint64_t index = st->ops++;

	st->results[op->kind][-ret < NR_RESULTS ? -ret : HVMM_EINVAL]++;
	if (op->kind == SIM_OP_ALLOC && op->a < 64) {
		st->orders[op->a][0]++;
		st->orders[op->a][1] += ret != 0;
	}
	st->max_handle = hvmm_max(st->max_handle, hvmm_max(op->h, op->h2) + 1);
	if (!ret) {
		switch (op->kind) {
		case SIM_OP_ALLOC: case SIM_OP_BM_ALLOC: case SIM_OP_BM_ALLOC_CONTIG:
		case SIM_OP_BM_ALLOC_AT:
			note_born(st, op->h, 1, index);
			break;
		case SIM_OP_SPLIT:
			/* The pages after h became h2, h2 + 1, ... */
			if (split_pages > 1)
				note_born(st, op->h2, split_pages - 1, index);
			break;
		case SIM_OP_VM_CREATE:
			if (op->vm <= SIM_MAX_VM)
				st->vm_born[op->vm] = index;
			break;
		default:
			break;
		}
	}
	v[0] = sim_machine_stats(m)->pages_in_use;
	v[1] = guest_pages(m);
	curve_add(&st->curve, index, v);
}

/* --- text output ------------------------------------------------------------ */

static const char levels[] = " .:-=+*#%@";

static void print_sparkline(const struct curve *c, unsigned int s, const char *label)
{
	unsigned int cols = hvmm_min(c->n, 64u);
	uint64_t peak = fold_max(c, 0, c->n, s);

	printf("  %-10s |", label);
	for (unsigned int j = 0; j < cols; j++) {
		uint64_t v = fold_max(c, j * c->n / cols, (j + 1) * c->n / cols, s);
		unsigned int l = peak ? (unsigned int)((v * (sizeof(levels) - 2) + peak - 1) / peak) : 0;

		putchar(levels[l]);
	}
	printf("| peak %llu\n", (unsigned long long)peak);
}

static void print_text(const struct stats *st, struct sim_machine *m, const char *path,
		       unsigned int rows, unsigned int list)
{
	const struct curve *c = &st->curve;
	struct sim_vmstate *vs = sim_machine_vms(m);
	uint64_t live = 0, live_pages = 0, listed = 0, total_failed = 0;

	printf("%s: %llu ops\n", path, (unsigned long long)st->ops);
	printf("ops by kind:              count     failed  results\n");
	for (unsigned int k = 0; k < SIM_OP__COUNT; k++) {
		uint64_t count = 0;

		for (unsigned int r = 0; r < NR_RESULTS; r++)
			count += st->results[k][r];
		if (!count)
			continue;
		total_failed += count - st->results[k][0];
		printf("  %-20s %10llu %10llu ", sim_op_descs[k].name, (unsigned long long)count,
		       (unsigned long long)(count - st->results[k][0]));
		for (unsigned int r = 0; r < NR_RESULTS; r++)
			if (st->results[k][r])
				printf(" %s=%llu", sim_result_name(-(int)r),
				       (unsigned long long)st->results[k][r]);
		putchar('\n');
	}
	printf("  %-20s %10llu %10llu\n", "all", (unsigned long long)st->ops,
	       (unsigned long long)total_failed);
	printf("alloc orders:             count     failed\n");
	for (unsigned int o = 0; o < 64; o++)
		if (st->orders[o][0])
			printf("  order %-14u %10llu %10llu\n", o, (unsigned long long)st->orders[o][0],
			       (unsigned long long)st->orders[o][1]);
	printf("pages live over the trace (%llu ops per bucket):\n",
	       (unsigned long long)c->width);
	if (c->n) {
		print_sparkline(c, 0, "allocator");
		if (fold_max(c, 0, c->n, 1))
			print_sparkline(c, 1, "guests");
		printf("  %-23s %12s %12s %12s\n", "ops", "allocator", "guests", "total");
		rows = hvmm_min(rows, c->n);
		for (unsigned int j = 0; j < rows; j++) {
			unsigned int lo = j * c->n / rows, hi = (j + 1) * c->n / rows;
			uint64_t first = lo * c->width;
			uint64_t last = hvmm_min(hi * c->width, st->ops) - 1;
			char range[48];

			snprintf(range, sizeof(range), "%llu..%llu", (unsigned long long)first,
				 (unsigned long long)last);
			printf("  %-23s %12llu %12llu %12llu\n", range,
			       (unsigned long long)at_end(c, hi - 1, 0),
			       (unsigned long long)at_end(c, hi - 1, 1),
			       (unsigned long long)at_end(c, hi - 1, CURVE_SERIES));
		}
		printf("  (pages live at the end of each row; peak %llu at op %llu)\n",
		       (unsigned long long)c->peak_total, (unsigned long long)c->peak_total_op);
	}
	for (uint32_t h = 0; h < st->max_handle; h++) {
		uint64_t pfn, pages;
		uint32_t refs;

		if (!sim_machine_handle(m, h, &pfn, &pages, &refs))
			continue;
		live++;
		live_pages += pages;
		if (listed++ == 0)
			printf("handles never freed:\n");
		if (listed <= list)
			printf("  h%-10u pages %-6llu pfn 0x%-10llx refs %-3u allocated at op %llu\n", h,
			       (unsigned long long)pages, (unsigned long long)pfn, refs,
			       h < st->nr_born ? (unsigned long long)st->born[h] : 0ULL);
	}
	if (listed > list)
		printf("  ... and %llu more\n", (unsigned long long)(listed - list));
	printf("handles never freed: %llu (%llu pages)\n", (unsigned long long)live,
	       (unsigned long long)live_pages);
	live = 0;
	for (unsigned int v = 1; vs && vs->enabled && v <= SIM_MAX_VM; v++) {
		if (!vs->g[v].live)
			continue;
		printf("%s vm%u (created at op %llu, %llu guest pages)", live++ ? "," : "VMs never destroyed:",
		       v, (unsigned long long)st->vm_born[v],
		       (unsigned long long)vs->ideal.spaces[v].nr);
	}
	if (live)
		putchar('\n');
	printf("VMs never destroyed: %llu\n", (unsigned long long)live);
	if (sim_machine_stats(m)->expect_mismatches)
		printf("recorded outcomes not reproduced: %llu\n",
		       (unsigned long long)sim_machine_stats(m)->expect_mismatches);
}

/* --- JSON output ------------------------------------------------------------ */

static void print_json(const struct stats *st, struct sim_machine *m, const char *path,
		       unsigned int list)
{
	const struct curve *c = &st->curve;
	struct sim_vmstate *vs = sim_machine_vms(m);
	uint64_t live = 0, live_pages = 0;
	bool first = true;

	printf("{\"trace\": \"");
	for (const char *p = path; *p; p++)
		printf((*p == '"' || *p == '\\') ? "\\%c" : "%c", *p);
	printf("\", \"ops\": %llu, \"ops_by_kind\": {", (unsigned long long)st->ops);
	for (unsigned int k = 0; k < SIM_OP__COUNT; k++) {
		uint64_t count = 0;
		bool r_first = true;

		for (unsigned int r = 0; r < NR_RESULTS; r++)
			count += st->results[k][r];
		if (!count)
			continue;
		printf("%s\"%s\": {\"count\": %llu, \"failed\": %llu, \"results\": {", first ? "" : ", ",
		       sim_op_descs[k].name, (unsigned long long)count,
		       (unsigned long long)(count - st->results[k][0]));
		for (unsigned int r = 0; r < NR_RESULTS; r++) {
			if (!st->results[k][r])
				continue;
			printf("%s\"%s\": %llu", r_first ? "" : ", ", sim_result_name(-(int)r),
			       (unsigned long long)st->results[k][r]);
			r_first = false;
		}
		printf("}}");
		first = false;
	}
	printf("}, \"alloc_orders\": {");
	first = true;
	for (unsigned int o = 0; o < 64; o++) {
		if (!st->orders[o][0])
			continue;
		printf("%s\"%u\": {\"count\": %llu, \"failed\": %llu}", first ? "" : ", ", o,
		       (unsigned long long)st->orders[o][0], (unsigned long long)st->orders[o][1]);
		first = false;
	}
	printf("}, \"live_pages\": {\"ops_per_bucket\": %llu, \"peak\": %llu, \"peak_op\": %llu, "
	       "\"peak_allocator\": %llu, \"peak_guests\": %llu, \"curve\": [",
	       (unsigned long long)c->width, (unsigned long long)c->peak_total,
	       (unsigned long long)c->peak_total_op, (unsigned long long)c->peak[0],
	       (unsigned long long)c->peak[1]);
	for (unsigned int i = 0; i < c->n; i++)
		printf("%s{\"op\": %llu, \"allocator\": %llu, \"guests\": %llu, \"max_allocator\": %llu, "
		       "\"max_guests\": %llu}", i ? ", " : "",
		       (unsigned long long)(i * c->width), (unsigned long long)c->b[i].last[0],
		       (unsigned long long)c->b[i].last[1], (unsigned long long)c->b[i].max[0],
		       (unsigned long long)c->b[i].max[1]);
	printf("]}, \"never_freed\": [");
	for (uint32_t h = 0; h < st->max_handle; h++) {
		uint64_t pfn, pages;
		uint32_t refs;

		if (!sim_machine_handle(m, h, &pfn, &pages, &refs))
			continue;
		live_pages += pages;
		if (live++ < list)
			printf("%s{\"handle\": %u, \"pages\": %llu, \"pfn\": %llu, \"refs\": %u, \"op\": %llu}",
			       live > 1 ? ", " : "", h, (unsigned long long)pages, (unsigned long long)pfn, refs,
			       h < st->nr_born ? (unsigned long long)st->born[h] : 0ULL);
	}
	printf("], \"never_freed_count\": %llu, \"never_freed_pages\": %llu, \"vms_never_destroyed\": [",
	       (unsigned long long)live, (unsigned long long)live_pages);
	first = true;
	for (unsigned int v = 1; vs && vs->enabled && v <= SIM_MAX_VM; v++) {
		if (!vs->g[v].live)
			continue;
		printf("%s{\"vm\": %u, \"op\": %llu, \"guest_pages\": %llu}", first ? "" : ", ", v,
		       (unsigned long long)st->vm_born[v], (unsigned long long)vs->ideal.spaces[v].nr);
		first = false;
	}
	printf("], \"expect_mismatches\": %llu}\n",
	       (unsigned long long)sim_machine_stats(m)->expect_mismatches);
}

/* --- the command ----------------------------------------------------------------- */

static int run_trace(struct stats *st, struct sim_trace_reader *r, struct sim_machine *m,
		     struct cli_run *run, struct sim_trace_error *err)
{
	struct sim_op op;
	int ret;

	while ((ret = sim_trace_read_op(r, &op, err)) > 0) {
		uint64_t pages = 1;

		/* A split's new handles depend on the block's size before it. */
		if (op.kind != SIM_OP_SPLIT || !sim_machine_handle(m, op.h, NULL, &pages, NULL))
			pages = 1;
		account(st, m, &op, sim_machine_exec(m, &op, NULL), pages);
		cli_run_tick(run);
	}
	return ret;
}

/* stats' own options. */
struct stats_args {
	uint64_t rows, list;
	bool json;
};

static int stats_option(struct cli_args *a, void *ctx)
{
	struct stats_args *sa = ctx;

	if (cli_args_is(a, "--json")) {
		sa->json = true;
	} else if (cli_args_is(a, "--rows") || cli_args_is(a, "--list")) {
		uint64_t *v = cli_args_is(a, "--rows") ? &sa->rows : &sa->list;

		if (cli_args_u64(a, v))
			return -1;
		if (v == &sa->rows && (sa->rows < 1 || sa->rows > CURVE_BUCKETS)) {
			cli_usage_error("stats: --rows %llu: expected 1..%d",
					(unsigned long long)sa->rows, CURVE_BUCKETS);
			return -1;
		}
	} else {
		return 0;
	}
	return 1;
}

int cmd_stats(int argc, char **argv)
{
	struct stats_args sa = { .rows = 16, .list = 20 };
	struct cli_trace_command tc = {
		.cmd = "stats", .usage = usage, .option = stats_option, .ctx = &sa,
	};
	struct cli_machine_options *mo = &tc.mo;
	const char *path;
	struct sim_trace_reader *r;
	struct sim_trace_error err;
	struct sim_machine *m;
	struct stats *st;
	struct cli_run run;
	uint64_t rows, list;
	bool json;
	char default_path[4096], msg[256];
	int ret;

	cli_machine_options_init(mo);
	cli_machine_option(mo, "--oracles", "off");
	if ((ret = cli_trace_command_args(&tc, argc, argv)) >= 0)
		return ret;
	path = tc.path;
	rows = sa.rows;
	list = sa.list;
	json = sa.json;
	if (!path) {
		if (!cli_default_trace(default_path, sizeof(default_path)))
			return cli_usage_error("stats: no TRACE given and no bundled default trace found");
		path = default_path;
	}
	r = cli_open_trace(path, mo);
	if (!r)
		return EXIT_USAGE;
	mo->cfg.report_stream = NULL;
	m = sim_machine_create(&mo->cfg, msg, sizeof(msg));
	st = calloc(1, sizeof(*st));
	if (!m || !st) {
		fprintf(stderr, "hvmm: %s: machine configuration: %s\n", path,
			m ? "out of memory" : msg);
		sim_machine_destroy(m);
		sim_trace_close(r);
		free(st);
		return EXIT_USAGE;
	}
	st->curve.width = 1;
	cli_run_start(&run, m, 0, json);
	ret = run_trace(st, r, m, &run, &err);
	if (run.progress)
		fprintf(stderr, "\r%60s\r", "");
	if (ret < 0) {
		fprintf(stderr, "hvmm: %s\n", err.msg);
	} else if (json) {
		print_json(st, m, path, (unsigned int)hvmm_min(list, (uint64_t)UINT32_MAX));
	} else {
		print_text(st, m, path, (unsigned int)rows,
			   (unsigned int)hvmm_min(list, (uint64_t)UINT32_MAX));
	}
	sim_machine_destroy(m);
	sim_trace_close(r);
	free(st->born);
	free(st);
	return ret < 0 ? EXIT_USAGE : EXIT_CLEAN;
}
