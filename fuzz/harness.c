// SPDX-License-Identifier: MIT
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hvmm/types.h>

#include "trace/trace.h"
#include "workload.h"

static void die_violation(struct sim_machine *m, const struct fuzz_target *t)
{
	const struct sim_report *r = sim_machine_report(m);

	/* The report was printed as found (report_stream is stderr). */
	fprintf(stderr, "==hvmm-fuzz== %s: %llu oracle violation(s), first: %s; "
		"'fuzz-%s --print-trace INPUT' writes the reproducer trace\n",
		t->name, (unsigned long long)r->total,
		r->kept ? sim_oracle_name(r->first[0].oracle) : "?", t->name);
	abort();
}

uint64_t fuzz_last_signature;

static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ULL;
}

/* Runs the input's ops on @m (set up from its header); returns the run's signature. */
static uint64_t run_ops(const struct fuzz_target *t, struct sim_machine *m,
			struct fuzz_decoder *d)
{
	uint64_t sig = 0xcbf29ce484222325ULL;
	struct sim_op op;

	while (fuzz_decoder_next(d, &op)) {
		uint64_t value = 0;
		int ret = sim_machine_exec(m, &op, &value);

		if (!sim_report_clean(sim_machine_report(m)))
			die_violation(m, t);
		sig = mix(mix(sig, (uint64_t)(int64_t)ret), value);
	}
	sim_machine_finish(m);
	if (!sim_report_clean(sim_machine_report(m)))
		die_violation(m, t);
	return mix(sig, sim_machine_stats(m)->pages_in_use);
}

int fuzz_run(const struct fuzz_target *t, const uint8_t *data, size_t size)
{
	/*
	 * Creating a machine maps memory that every run faults in again; a
	 * reset keeps what the last run touched, zeroed. The reset machine is
	 * in the state a fresh one would be (fuzz_run_fresh checks this).
	 */
	static struct sim_machine *m;
	struct sim_machine_config cfg;
	struct fuzz_decoder d;
	char err[256];

	fuzz_decoder_init(&d, t, data, size, &cfg);
	cfg.report_stream = stderr;
	if (m && sim_machine_reset(m, &cfg, err, sizeof(err))) {
		sim_machine_destroy(m);
		m = NULL;
	} else if (!m) {
		m = sim_machine_create(&cfg, err, sizeof(err));
	}
	if (!m) {
		/* Every header decodes to a valid configuration: this is a harness bug. */
		fprintf(stderr, "==hvmm-fuzz== cannot set up the machine: %s\n", err);
		abort();
	}
	fuzz_last_signature = run_ops(t, m, &d);
	return 0;
}

uint64_t fuzz_run_fresh(const struct fuzz_target *t, const uint8_t *data, size_t size)
{
	struct sim_machine_config cfg;
	struct fuzz_decoder d;
	struct sim_machine *m;
	char err[256];
	uint64_t sig;

	fuzz_decoder_init(&d, t, data, size, &cfg);
	cfg.report_stream = stderr;
	m = sim_machine_create(&cfg, err, sizeof(err));
	if (!m) {
		fprintf(stderr, "==hvmm-fuzz== cannot create the machine: %s\n", err);
		abort();
	}
	sig = run_ops(t, m, &d);
	sim_machine_destroy(m);
	return sig;
}

int fuzz_print_trace(const struct fuzz_target *t, const uint8_t *data, size_t size,
		     const char *path)
{
	struct sim_machine_config cfg;
	struct sim_trace_header h;
	struct sim_trace_writer *w;
	struct sim_trace_error err;
	struct fuzz_decoder d;
	struct sim_op op;
	char line[64];
	int ret = 0;

	if (t->raw_trace) {
		/* The input is the trace. */
		FILE *f = strcmp(path, "-") ? fopen(path, "wb") : stdout;

		if (!f || fwrite(data, 1, size, f) != size || (f != stdout && fclose(f)))
			return -1;
		return 0;
	}
	fuzz_decoder_init(&d, t, data, size, &cfg);
	sim_trace_header_init(&h);
	if (sim_trace_header_from_config(&h, &cfg)) {
		sim_trace_header_fini(&h);
		return -1;
	}
	w = sim_trace_create(path, sim_trace_format_for_path(path), &h, &err);
	sim_trace_header_fini(&h);
	if (!w) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	snprintf(line, sizeof(line), "# decoded fuzz input of target %s", t->name);
	ret |= sim_trace_write_line(w, line);
	while (fuzz_decoder_next(&d, &op))
		ret |= sim_trace_write_op(w, &op);
	if (sim_trace_finish(w, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	return ret ? -1 : 0;
}

int fuzz_check_roundtrip(const struct fuzz_target *t, const uint8_t *data, size_t size)
{
	struct sim_machine_config cfg, cfg2;
	struct fuzz_decoder d, d2;
	struct fuzz_encoder e;
	struct sim_trace_handles names;
	struct sim_op op, op2;
	char err[256], a[256], b[256];
	int ret = -1;

	if (t->raw_trace)
		return 0;
	fuzz_decoder_init(&d, t, data, size, &cfg);
	if (fuzz_encoder_init(&e, t, &cfg, err, sizeof(err))) {
		fprintf(stderr, "roundtrip: header: %s\n", err);
		return -1;
	}
	sim_trace_handles_init(&names);
	while (fuzz_decoder_next(&d, &op)) {
		/* What a trace reader demands: --print-trace must write a valid trace. */
		if (sim_trace_handles_check(&names, &op, err, sizeof(err))) {
			fprintf(stderr, "roundtrip: op %llu is no valid trace op: expected %s\n",
				(unsigned long long)d.ops - 1, err);
			goto out;
		}
		if (fuzz_encoder_add(&e, &op, err, sizeof(err))) {
			fprintf(stderr, "roundtrip: op %llu: %s\n", (unsigned long long)d.ops - 1, err);
			goto out;
		}
	}
	fuzz_decoder_init(&d, t, data, size, &cfg);
	fuzz_decoder_init(&d2, t, e.out.data, e.out.len, &cfg2);
	if (memcmp(&cfg, &cfg2, sizeof(cfg))) {
		fprintf(stderr, "roundtrip: the configuration differs\n");
		goto out;
	}
	for (;;) {
		bool more = fuzz_decoder_next(&d, &op), more2 = fuzz_decoder_next(&d2, &op2);

		if (more != more2) {
			fprintf(stderr, "roundtrip: op counts differ at op %llu\n",
				(unsigned long long)d.ops);
			goto out;
		}
		if (!more)
			break;
		sim_op_format(&op, a, sizeof(a));
		sim_op_format(&op2, b, sizeof(b));
		if (strcmp(a, b)) {
			fprintf(stderr, "roundtrip: op %llu: '%s' came back as '%s'\n",
				(unsigned long long)d.ops - 1, a, b);
			goto out;
		}
	}
	ret = 0;
out:
	sim_trace_handles_fini(&names);
	fuzz_encoder_fini(&e);
	return ret;
}

static uint64_t fnv64(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

int fuzz_write_input(const char *dir, const uint8_t *data, size_t len)
{
	char path[4096], tmp[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%016llx", dir, (unsigned long long)fnv64(data, len));
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len || close(fd) || rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * One seed: a workload's ops, run to learn their results, encoded. Returns
 * 0, 1 if the target speaks none of them, -1 on error.
 */
static int make_seed(const struct fuzz_target *t, const char *dir, const char *scenario,
		     uint64_t seed, unsigned int ops, const struct sim_machine_config *cfg)
{
	struct sim_workload_params p = {
		.ops = ops, .seed = seed, .pool_pages = cfg->pool_pages, .max_order = 0,
		.vms = 3, .host_base_pfn = (FUZZ_RAM_BASE >> HVMM_PAGE_SHIFT) + 2048,
		.host_pages = 2048,
	};
	struct sim_workload *w;
	struct sim_machine *m;
	struct fuzz_encoder e;
	struct sim_op op;
	char err[256];
	int ret = -1;

	while ((1ULL << (p.max_order + 1)) <= cfg->pool_pages && p.max_order < 10)
		p.max_order++;
	w = sim_workload_create(scenario, &p);
	m = sim_machine_create(cfg, err, sizeof(err));
	if (!w || !m || fuzz_encoder_init(&e, t, cfg, err, sizeof(err))) {
		fprintf(stderr, "seeds: %s\n", m ? err : "cannot create the machine");
		goto out_free;
	}
	while (sim_workload_next(w, &op)) {
		sim_workload_result(w, &op, sim_machine_exec(m, &op, NULL));
		/* Ops the target does not speak are left out. */
		fuzz_encoder_add(&e, &op, err, sizeof(err));
	}
	ret = e.d.ops ? fuzz_write_input(dir, e.out.data, e.out.len) : 1;
	fuzz_encoder_fini(&e);
out_free:
	if (m)
		sim_machine_destroy(m);
	if (w)
		sim_workload_destroy(w);
	return ret;
}

int fuzz_make_seeds(const struct fuzz_target *t, const char *dir, unsigned int count,
		    unsigned int ops)
{
	/* Mostly small pools: a run costs about what its pool's size does. */
	static const uint16_t pools[] = { 8, 16, 61, 64, 128, 256, 1024 };
	static const uint8_t reserved[] = { 0, 3 }, offsets[] = { 0, 1, 16 };
	/*
	 * Hypervisor pools a header can say that the workloads' VMs run dry:
	 * every third VM seed takes one, so that the corpus reaches the
	 * out-of-memory paths in the middle of a transition (the fuzzer then
	 * needs to change an op, not find a pool size and a run of VM ops
	 * that exhausts it together).
	 */
	static const uint16_t small_hyp_pools[] = { 16, 24, 32, 48 };
	static const char *const scenarios[] = {
		"alloc-random", "vm-random", "frag-pressure", "share-storm", "balloon", "vm-churn",
		"boot",
	};
	int written = 0;

	if (t->raw_trace)
		count = 0;	/* its seeds come from traces */
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "seeds: cannot create %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (unsigned int i = 0; i < count; i++) {
		struct sim_machine_config cfg;
		struct fuzz_decoder d;
		uint8_t hdr[FUZZ_HEADER_BYTES] = { 0 };

		/* Start from the configuration of an all-zero header, then vary it. */
		fuzz_decoder_init(&d, t, hdr, sizeof(hdr), &cfg);
		cfg.hyp_pool_pages = fuzz_target_hyp_pool_pages(t);	/* the workloads run VMs */
		if (cfg.hyp_pool_pages && i % 3 == 2)
			cfg.hyp_pool_pages = small_hyp_pools[(i / 3) % 4];
		cfg.pool_pages = pools[i % 7];
		cfg.pool_reserved = reserved[(i / 7) % 2];
		cfg.pool_base = FUZZ_RAM_BASE + ((uint64_t)offsets[(i / 14) % 3] << HVMM_PAGE_SHIFT);
		cfg.report_stream = NULL;
		switch (make_seed(t, dir, scenarios[i % 7], 1 + i, ops, &cfg)) {
		case 0:
			written++;
			break;
		case 1:
			break;	/* the target speaks none of the scenario's ops */
		default:
			return -1;
		}
	}
	return written;
}

int fuzz_seed_from_trace(const struct fuzz_target *t, const char *trace, const char *dir,
			 unsigned int max_ops)
{
	struct sim_trace_error terr;
	struct sim_trace_reader *r = sim_trace_open(trace, &terr);
	struct sim_machine_config cfg;
	struct fuzz_encoder e;
	struct fuzz_decoder d;
	uint8_t hdr[FUZZ_HEADER_BYTES] = { 0 };
	unsigned int nalloc = 0, kept = 0;
	struct sim_op op;
	char err[256];
	int ret;

	if (!r) {
		fprintf(stderr, "%s\n", terr.msg);
		return -1;
	}
	if (t->raw_trace) {
		/* The parser target's seeds are traces: the first ops of this one. */
		char *buf = NULL;
		size_t blen = 0;
		FILE *f = open_memstream(&buf, &blen);
		struct sim_trace_writer *w = f ? sim_trace_create_stream(f, trace,
			sim_trace_format_of(r), sim_trace_reader_header(r), &terr) : NULL;

		while (w && kept < max_ops && sim_trace_read_op(r, &op, &terr) > 0) {
			sim_trace_write_op(w, &op);
			kept++;
		}
		ret = w ? sim_trace_finish(w, &terr) : -1;
		if (f)
			fclose(f);
		if (!ret)
			ret = fuzz_write_input(dir, (const uint8_t *)buf, blen);
		free(buf);
		sim_trace_close(r);
		return ret ? -1 : (int)kept;
	}
	/* The trace's configuration, brought into what a fuzz header can say. */
	cfg = sim_trace_reader_header(r)->cfg;
	fuzz_decoder_init(&d, t, hdr, sizeof(hdr), &cfg);
	cfg.hyp_pool_pages = fuzz_target_hyp_pool_pages(t);
	{
		const struct sim_machine_config *tc = &sim_trace_reader_header(r)->cfg;

		/* A hypervisor pool size the header can say is kept (fuzz/decode.h). */
		if (cfg.hyp_pool_pages && fuzz_hyp_pool_representable(tc->hyp_pool_pages))
			cfg.hyp_pool_pages = tc->hyp_pool_pages;

		while (t->allocators && t->allocators[nalloc])
			if (!strcmp(t->allocators[nalloc++], tc->allocator))
				snprintf(cfg.allocator, sizeof(cfg.allocator), "%s", tc->allocator);
		cfg.vcpus = tc->vcpus >= 1 && tc->vcpus <= 4 ? tc->vcpus : 4;
		cfg.pool_pages = tc->pool_pages && tc->pool_pages < 256 ? tc->pool_pages : 256;
		cfg.pool_reserved = tc->pool_reserved <= 255 && tc->pool_reserved < cfg.pool_pages ?
				    tc->pool_reserved : 0;
		/* The pool's offset too, where the header's one byte can say it. */
		if (tc->pool_base >= FUZZ_RAM_BASE && !(tc->pool_base & (HVMM_PAGE_SIZE - 1)) &&
		    (tc->pool_base - FUZZ_RAM_BASE) >> HVMM_PAGE_SHIFT <= 255)
			cfg.pool_base = tc->pool_base;
	}
	if (fuzz_encoder_init(&e, t, &cfg, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", trace, err);
		sim_trace_close(r);
		return -1;
	}
	while (kept < max_ops && (ret = sim_trace_read_op(r, &op, &terr)) > 0)
		if (!fuzz_encoder_add(&e, &op, err, sizeof(err)))	/* ops it does not speak are left out */
			kept++;
	sim_trace_close(r);
	ret = kept ? fuzz_write_input(dir, e.out.data, e.out.len) : 0;
	fuzz_encoder_fini(&e);
	return ret < 0 ? -1 : (int)kept;
}
