// SPDX-License-Identifier: MIT
/*
 * Differential test: the same op stream through mm/'s buddy and through
 * the Linux kernel's pKVM allocator, on pools where their semantics
 * coincide (docs/linux.md): a power-of-two pool of at most 1024 pages,
 * order-aligned, where both allow the same largest order. There every op
 * must return the same result, every allocation the same PFN, and the
 * allocator shadows must end equal page for page. Each run is also judged
 * by every oracle and must be clean.
 *
 *   test_linux_diff TRACE...   bundled traces, their pool resized to 1024 pages
 *   (no argument: generated alloc-random streams only)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"
#include "tap.h"
#include "trace/trace.h"
#include "workload.h"

#define DIFF_POOL_PAGES 1024

struct outcome {
	int ret;
	uint64_t pfn;		/* the op's handle's PFN after it, if live */
};

struct run {
	struct outcome *out;
	size_t n, cap;
	uint8_t *shadow;	/* state per pool page at the end */
	uint64_t pool_pages;
	bool clean;
};

static void record(struct run *r, struct sim_machine *m, const struct sim_op *op, int ret)
{
	struct outcome o = { .ret = ret, .pfn = UINT64_MAX };

	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 4096;
		r->out = realloc(r->out, r->cap * sizeof(*r->out));
		if (!r->out)
			abort();
	}
	if (!ret && (op->kind == SIM_OP_ALLOC))
		sim_machine_handle(m, op->h, &o.pfn, NULL, NULL);
	r->out[r->n++] = o;
}

static void finish(struct run *r, struct sim_machine *m)
{
	struct sim_allocator *a = sim_machine_allocator(m);

	sim_machine_finish(m);
	r->clean = sim_report_clean(sim_machine_report(m));
	if (!r->clean)
		sim_report_print(sim_machine_report(m), stdout);
	r->pool_pages = a->nr_pages;
	r->shadow = malloc(a->nr_pages);
	for (uint64_t i = 0; i < a->nr_pages; i++)
		r->shadow[i] = (uint8_t)sim_alloc_shadow_get(sim_machine_shadow(m), a->base_pfn + i);
}

static struct sim_machine *machine_for(struct sim_machine_config *cfg, const char *allocator)
{
	char err[256];
	struct sim_machine *m;

	snprintf(cfg->allocator, sizeof(cfg->allocator), "%s", allocator);
	cfg->allocator_ops = NULL;
	cfg->report_stream = NULL;
	m = sim_machine_create(cfg, err, sizeof(err));
	if (!m) {
		printf("# cannot create a %s machine: %s\n", allocator, err);
		exit(99);
	}
	return m;
}

static void run_trace(const char *path, const char *allocator, struct run *r)
{
	struct sim_trace_error err;
	struct sim_trace_reader *rd = sim_trace_open(path, &err);
	struct sim_machine_config cfg;
	struct sim_machine *m;
	struct sim_op op;
	int got;

	if (!rd) {
		printf("# %s\n", err.msg);
		exit(99);
	}
	cfg = sim_trace_reader_header(rd)->cfg;
	cfg.pool_pages = DIFF_POOL_PAGES;
	m = machine_for(&cfg, allocator);
	while ((got = sim_trace_read_op(rd, &op, &err)) > 0)
		record(r, m, &op, sim_machine_exec(m, &op, NULL));
	if (got < 0) {
		printf("# %s\n", err.msg);
		exit(99);
	}
	finish(r, m);
	sim_machine_destroy(m);
	sim_trace_close(rd);
}

static void run_generated(uint64_t seed, uint64_t reserved, const char *allocator, struct run *r)
{
	struct sim_machine_config cfg;
	struct sim_workload_params p = { 0 };
	struct sim_workload *w;
	struct sim_machine *m;
	struct sim_op op;

	sim_machine_config_default(&cfg);
	cfg.pool_pages = DIFF_POOL_PAGES;
	cfg.pool_reserved = reserved;
	m = machine_for(&cfg, allocator);
	sim_workload_params_for(&p, &cfg);
	p.ops = 20000;
	p.seed = seed;
	p.max_order = 10;
	w = sim_workload_create("alloc-random", &p);
	while (sim_workload_next(w, &op)) {
		int ret = sim_machine_exec(m, &op, NULL);

		sim_workload_result(w, &op, ret);
		record(r, m, &op, ret);
	}
	finish(r, m);
	sim_workload_destroy(w);
	sim_machine_destroy(m);
}

static void compare(const char *what, struct run *ours, struct run *kernel)
{
	size_t differ = 0;

	CHECK_MSG(ours->clean, "%s: oracles fired on buddy", what);
	CHECK_MSG(kernel->clean, "%s: oracles fired on linux-pkvm", what);
	CHECK_MSG(ours->n == kernel->n, "%s: %zu ops on buddy, %zu on linux-pkvm", what, ours->n, kernel->n);
	for (size_t i = 0; i < ours->n && i < kernel->n; i++) {
		const struct outcome *a = &ours->out[i], *b = &kernel->out[i];

		if (a->ret == b->ret && a->pfn == b->pfn)
			continue;
		if (differ++ < 5)
			printf("# %s: op %zu: buddy returned %d (pfn 0x%llx), linux-pkvm %d (pfn 0x%llx)\n",
			       what, i, a->ret, (unsigned long long)a->pfn, b->ret,
			       (unsigned long long)b->pfn);
	}
	CHECK_MSG(!differ, "%s: %zu of %zu ops differ", what, differ, ours->n);
	CHECK(ours->pool_pages == kernel->pool_pages &&
	      !memcmp(ours->shadow, kernel->shadow, ours->pool_pages));
	if (!differ)
		printf("# %s: %zu ops, same results and PFNs\n", what, ours->n);
	free(ours->out);
	free(kernel->out);
	free(ours->shadow);
	free(kernel->shadow);
}

static const char *const *traces;
static int nr_traces;

static void bundled_traces_agree(void)
{
	for (int i = 0; i < nr_traces; i++) {
		struct run ours = { 0 }, kernel = { 0 };

		run_trace(traces[i], "buddy", &ours);
		run_trace(traces[i], "linux-pkvm", &kernel);
		compare(traces[i], &ours, &kernel);
	}
}

static void generated_streams_agree(void)
{
	static const uint64_t reserved[] = { 0, 3, 100 };

	for (uint64_t seed = 1; seed <= 3; seed++) {
		for (unsigned int i = 0; i < 3; i++) {
			struct run ours = { 0 }, kernel = { 0 };
			char what[64];

			snprintf(what, sizeof(what), "alloc-random seed %llu reserved %llu",
				 (unsigned long long)seed, (unsigned long long)reserved[i]);
			run_generated(seed, reserved[i], "buddy", &ours);
			run_generated(seed, reserved[i], "linux-pkvm", &kernel);
			compare(what, &ours, &kernel);
		}
	}
}

int main(int argc, char **argv)
{
	if (!sim_allocator_find("linux-pkvm")) {
		printf("1..0 # SKIP the kernel allocator is not built (-Dlinux_source)\n");
		return 0;
	}
	traces = (const char *const *)argv + 1;
	nr_traces = argc - 1;
	TEST(generated_streams_agree);
	if (nr_traces)
		TEST(bundled_traces_agree);
	return tap_done();
}
