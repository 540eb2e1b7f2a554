// SPDX-License-Identifier: MIT
/*
 * Simulator throughput and scale: op streams replayed through
 * sim_machine_exec() with the oracles off, incremental and full, and the
 * same replay as simulated RAM grows from 2^18 to 2^28 pages.
 *
 * A stream is recorded once per case by running a workload generator
 * against a scratch machine, then closed with the frees that return every
 * live block, so each step replays it from an empty pool and leaves the
 * pool empty again.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hvmm/types.h>

#include "bench.h"
#include "machine.h"
#include "trace/trace.h"

#define POOL_PAGES	(1ULL << 14)	/* 64 MiB pool for throughput */
#define RAM_BASE	0x80000000ULL

struct stream {
	struct sim_op *op;
	size_t n, cap;
};

struct sim_bench {
	struct sim_machine *m;
	struct sim_machine_config cfg;	/* trace replays: a fresh machine per step */
	struct stream st;
	uint64_t rss_before;
	uint64_t failed;
};

static int stream_push(struct stream *st, const struct sim_op *op)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 4096;
		struct sim_op *n = realloc(st->op, cap * sizeof(*n));

		if (!n)
			return -1;
		st->op = n;
		st->cap = cap;
	}
	st->op[st->n++] = *op;
	return 0;
}

static void machine_config(struct sim_machine_config *cfg, const char *allocator,
			   uint64_t ram_pages, uint64_t pool_pages, enum sim_oracle_level level)
{
	sim_machine_config_default(cfg);
	cfg->regions[0].base = RAM_BASE;
	cfg->regions[0].size = ram_pages << HVMM_PAGE_SHIFT;
	cfg->pool_pages = pool_pages;
	cfg->oracles = level;
	/* The host stage-2 must reach the top of RAM (2^28 pages at 2 GiB: 41 bits). */
	cfg->host_ia_bits = 44;
	snprintf(cfg->allocator, sizeof(cfg->allocator), "%s", allocator);
}

/* Records @ops generated ops plus the frees that empty the pool again. */
static int record_stream(struct stream *st, const struct sim_machine_config *cfg,
			 uint64_t ops, uint64_t working_pages, char *err, size_t errlen)
{
	struct sim_workload_params params = {
		.ops = ops, .seed = 42, .pool_pages = working_pages, .max_order = 10,
	};
	struct sim_machine_config rc = *cfg;
	struct sim_workload *w = sim_workload_create("alloc-random", &params);
	struct sim_machine *m;
	uint32_t max_h = 0;
	struct sim_op op;

	rc.oracles = SIM_ORACLES_OFF;
	m = sim_machine_create(&rc, err, errlen);
	if (!w || !m) {
		if (!w)
			snprintf(err, errlen, "cannot create the workload");
		sim_workload_destroy(w);
		sim_machine_destroy(m);
		return -1;
	}
	while (sim_workload_next(w, &op)) {
		int ret = sim_machine_exec(m, &op, NULL);

		sim_workload_result(w, &op, ret);
		if (op.h > max_h)
			max_h = op.h;
		if (op.kind == SIM_OP_SPLIT && op.h2 + 1024 > max_h)
			max_h = op.h2 + 1024;
		if (stream_push(st, &op))
			goto oom;
	}
	for (uint32_t h = 0; h <= max_h; h++) {
		uint32_t refs;

		if (!sim_machine_handle(m, h, NULL, NULL, &refs))
			continue;
		memset(&op, 0, sizeof(op));
		op.h = h;
		op.kind = SIM_OP_PUT;
		while (refs-- > 1)
			if (stream_push(st, &op))
				goto oom;
		op.kind = SIM_OP_FREE;
		if (stream_push(st, &op))
			goto oom;
	}
	sim_workload_destroy(w);
	sim_machine_destroy(m);
	return 0;
oom:
	snprintf(err, errlen, "out of memory recording the stream");
	sim_workload_destroy(w);
	sim_machine_destroy(m);
	return -1;
}

static struct sim_bench *sb(struct bench_state *s)
{
	return s->priv;
}

/*
 * Writes the last word of every page of the allocator's pool (zero, as in
 * any free page), so replays time the simulator, not the host's first-touch
 * page faults.
 */
static void pretouch_pool(struct sim_machine *m)
{
	const struct sim_allocator *a = sim_machine_allocator(m);
	struct sim_physmem *pm = sim_machine_physmem(m);

	for (uint64_t pfn = a->base_pfn; pfn < a->base_pfn + a->nr_pages; pfn++) {
		uint8_t *p = sim_physmem_pa_to_host(pm, pfn << HVMM_PAGE_SHIFT);

		((volatile uint64_t *)(p + HVMM_PAGE_SIZE))[-1] = 0;
	}
}

/*
 * arg packs the configuration: bits 0-7 oracle level, bits 8-15 log2 of
 * simulated RAM pages, bit 16 "the pool spans all RAM", bits 32-63 ops.
 */
#define ARG(level, ram_log2, pool_all, ops) \
	((uint64_t)(level) | (uint64_t)(ram_log2) << 8 | (uint64_t)(pool_all) << 16 | \
	 (uint64_t)(ops) << 32)

static int setup_replay(struct bench_state *s)
{
	uint64_t arg = s->c->arg, ops = arg >> 32;
	unsigned int ram_log2 = (arg >> 8) & 0xff;
	uint64_t ram_pages = 1ULL << ram_log2;
	bool pool_all = (arg >> 16) & 1;
	struct sim_machine_config cfg;
	struct sim_bench *b = calloc(1, sizeof(*b));

	if (!b)
		return -1;
	s->priv = b;
	b->rss_before = bench_rss_bytes();
	machine_config(&cfg, s->c->ptr, ram_pages, pool_all ? ram_pages : POOL_PAGES,
		       (enum sim_oracle_level)(arg & 0xff));
	if (record_stream(&b->st, &cfg, ops, POOL_PAGES, s->err, sizeof(s->err)))
		return -1;
	b->m = sim_machine_create(&cfg, s->err, sizeof(s->err));
	if (!b->m)
		return -1;
	if (!pool_all)
		pretouch_pool(b->m);
	s->items_per_step = b->st.n;
	return 0;
}

static uint64_t step_replay(struct bench_state *s, struct bench_thread *t)
{
	struct sim_bench *b = sb(s);
	uint64_t t0 = bench_time_begin();
	int results[256];

	/* As hvmm replay runs a trace: a batch at a time, one panic catcher each. */
	for (size_t i = 0; i < b->st.n; i += 256) {
		size_t n = hvmm_min(b->st.n - i, (size_t)256);

		n = sim_machine_exec_many(b->m, &b->st.op[i], n, results);
		for (size_t k = 0; k < n; k++)
			b->failed += results[k] != 0;
	}
	return bench_time_end(s, t0);
}

static void report_replay(struct bench_state *s)
{
	struct sim_bench *b = sb(s);
	const struct sim_report *r = sim_machine_report(b->m);
	const struct sim_machine_stats *st = sim_machine_stats(b->m);
	double tpn = bench_ticks_per_ns(), ns = 0;
	uint64_t items = 0;

	for (unsigned int i = 0; i < s->nr_threads; i++) {
		ns += (double)s->thread[i].hist.sum / tpn;
		items += s->thread[i].items;
	}
	if (items)
		bench_counter(s, "ns_per_op", ns / (double)items, false);
	bench_counter(s, "ops_per_s", ns > 0 ? (double)items * 1e9 / ns : 0, false);
	bench_counter(s, "rss_mib", (double)bench_rss_bytes() / (1 << 20), false);
	bench_counter(s, "rss_delta_mib",
		      ((double)bench_rss_bytes() - (double)b->rss_before) / (1 << 20), false);
	bench_counter(s, "stream_ops", (double)b->st.n, false);
	/*
	 * What the scrub floor is taken for (bench/compare: floor/scrub_4k_pool64m_x64
	 * and scrub_2lines_pool64m_x64): the pages freed, the pages the platform's
	 * hvmm_clear_pages() stored zeros into whole (a freed page not written since
	 * its last clear needs none), and the 64-byte lines it stored into in others
	 * (a page only the executor's stamps wrote needs those lines alone).
	 * mm/'s buddy scrubs through it alone, and so does the kernel's
	 * allocator (its memset() of a freed block goes to the same clear);
	 * the bitmap's adapter zeroes pages its own way, and resets between
	 * steps count too, so compare uses it for the buddy only.
	 */
	if (st->ops) {
		bench_counter(s, "pages_freed_per_op", (double)st->pages_freed / (double)st->ops, false);
		bench_counter(s, "pages_zeroed_per_op",
			      (double)sim_machine_physmem(b->m)->pages_zeroed / (double)st->ops, false);
		bench_counter(s, "lines_zeroed_per_op",
			      (double)sim_machine_physmem(b->m)->lines_zeroed / (double)st->ops, false);
	}
	bench_counter(s, "violations", (double)r->total, false);
	(void)b->failed;
}

static void teardown_replay(struct bench_state *s)
{
	struct sim_bench *b = sb(s);

	if (!b)
		return;
	sim_machine_destroy(b->m);
	free(b->st.op);
	free(b);
	s->priv = NULL;
}

/* --- traces ---------------------------------------------------------------- */

/* The trace's ops in memory, its own machine configuration, oracles per case. */
static int setup_trace(struct bench_state *s)
{
	struct sim_bench *b = calloc(1, sizeof(*b));
	struct sim_trace_error terr;
	struct sim_trace_reader *r;
	struct sim_op op;
	int ret;

	if (!b)
		return -1;
	s->priv = b;
	b->rss_before = bench_rss_bytes();
	r = sim_trace_open(s->c->ptr, &terr);
	if (!r) {
		snprintf(s->err, sizeof(s->err), "%.200s", terr.msg);
		return -1;
	}
	b->cfg = sim_trace_reader_header(r)->cfg;
	b->cfg.oracles = (enum sim_oracle_level)(s->c->arg & 0xff);
	/* Handles are symbolic: a trace replays on any allocator. */
	snprintf(b->cfg.allocator, sizeof(b->cfg.allocator), "%.31s", s->c->subject);
	b->cfg.report_stream = NULL;
	while ((ret = sim_trace_read_op(r, &op, &terr)) == 1)
		if (stream_push(&b->st, &op))
			break;
	sim_trace_close(r);
	if (ret) {
		snprintf(s->err, sizeof(s->err), "%.200s", ret < 0 ? terr.msg : "out of memory");
		return -1;
	}
	s->items_per_step = b->st.n;
	return 0;
}

/*
 * A fresh, pre-touched machine (untimed), the caches emptied, then the
 * whole trace (timed). The allocators' set-ups differ in what they leave
 * warm: the kernel's pool set-up writes its whole vmemmap and zeroes every
 * page, mm/'s writes only what its first allocations need. A replay timed
 * on what its set-up left in the caches counted that in the kernel's
 * favour (the bundled alloc-random trace, oracles off: 1.16-1.32x ours
 * against the kernel's with set-up-warm caches, 0.90-1.12x with both cold,
 * in interleaved runs). From empty caches, every allocator pays for each
 * line of its own that the trace touches.
 */
static uint64_t step_trace(struct bench_state *s, struct bench_thread *t)
{
	struct sim_bench *b = sb(s);

	sim_machine_destroy(b->m);
	b->m = sim_machine_create(&b->cfg, s->err, sizeof(s->err));
	if (!b->m) {
		b->failed++;
		return 0;
	}
	pretouch_pool(b->m);
	bench_evict_caches();
	return step_replay(s, t);
}

static void report_trace(struct bench_state *s)
{
	if (sb(s)->m)
		report_replay(s);
}

static const char *const level_names[] = { "off", "incremental", "full" };

static void add_replay(const char *allocator, const char *workload, uint64_t arg)
{
	struct bench_case c = {
		.group = "sim",
		.threads = 1,
		.arg = arg,
		.ptr = allocator,
		.setup = setup_replay,
		.step = step_replay,
		.report = report_replay,
		.teardown = teardown_replay,
	};

	snprintf(c.workload, sizeof(c.workload), "%s", workload);
	snprintf(c.subject, sizeof(c.subject), "%s", allocator);
	snprintf(c.name, sizeof(c.name), "sim/%s/%s", workload, allocator);
	bench_case_add(&c);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every *.trace in @dir, replayed with the oracles at @level, as
 * "replay/<prefix><name>_<level>/<allocator>", on every allocator.
 */
static void add_traces(const char *dir, const char *prefix, unsigned int level)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *names[256];
	size_t n = 0;

	if (!d)
		return;
	while ((e = readdir(d)) && n < 256) {
		size_t len = strlen(e->d_name);

		if (len > 6 && !strcmp(e->d_name + len - 6, ".trace"))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct bench_case c = {
			.group = "replay",
			.threads = 1,
			.arg = level,
			.setup = setup_trace,
			.step = step_trace,
			.report = report_trace,
			.teardown = teardown_replay,
		};
		char path[512];

		if (!names[i])
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		c.ptr = strdup(path);
		names[i][strlen(names[i]) - 6] = '\0';
		snprintf(c.workload, sizeof(c.workload), "%s%s_oracles_%s", prefix, names[i],
			 level_names[level]);
		/*
		 * Fixed step counts: each step first builds a machine (untimed,
		 * tens of ms), so running to a minimum of timed seconds would
		 * take minutes for short traces.
		 */
		c.iterations = strcmp(prefix, "imported_") ? 10 : 20;
		for (unsigned int a = 0; sim_allocators[a]; a++) {
			snprintf(c.subject, sizeof(c.subject), "%s", sim_allocators[a]->name);
			snprintf(c.name, sizeof(c.name), "replay/%.60s/%.24s", c.workload, c.subject);
			bench_case_add(&c);
		}
		free(names[i]);
	}
}

void bench_register_sim(void)
{
	for (unsigned int i = 0; sim_allocators[i]; i++) {
		const char *name = sim_allocators[i]->name;
		char wl[48];

		for (unsigned int level = 0; level < 3; level++) {
			/* A full sweep after every op costs a pool walk: fewer ops. */
			uint64_t ops = level == SIM_ORACLES_FULL ? 200 : 100000;

			snprintf(wl, sizeof(wl), "replay_oracles_%s", level_names[level]);
			add_replay(name, wl, ARG(level, 18, 0, ops));
		}
		for (unsigned int ram = 18; ram <= 28; ram += 2) {
			snprintf(wl, sizeof(wl), "scale_ram2^%u", ram);
			add_replay(name, wl, ARG(SIM_ORACLES_OFF, ram, 0, 100000));
		}
		for (unsigned int ram = 18; ram <= 28; ram += 2) {
			snprintf(wl, sizeof(wl), "scale_pool_all_ram2^%u", ram);
			add_replay(name, wl, ARG(SIM_ORACLES_OFF, ram, 1, 100000));
		}
	}
	for (unsigned int level = SIM_ORACLES_OFF; level <= SIM_ORACLES_INCREMENTAL; level++) {
		add_traces(HVMM_TRACE_DIR, "", level);
		add_traces(HVMM_IMPORTED_DIR, "imported_", level);
	}
}
