// SPDX-License-Identifier: MIT
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hvmm/types.h>

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

static void print_config(const struct fuzz_target *t, const struct sim_machine_config *cfg,
			 FILE *out)
{
	fprintf(out, "# hvmm trace: decoded fuzz input of target %s\n", t->name);
	fprintf(out, "# machine: allocator=%s", cfg->allocator);
	for (unsigned int i = 0; i < cfg->nr_regions; i++) {
		static const char *const kinds[] = { "ram", "reserved", "mmio" };

		fprintf(out, " %s=0x%llx@0x%llx", kinds[cfg->regions[i].kind],
			(unsigned long long)cfg->regions[i].size,
			(unsigned long long)cfg->regions[i].base);
	}
	fprintf(out, " pool-base=0x%llx pool-pages=%llu pool-reserved=%llu vcpus=%u\n",
		(unsigned long long)cfg->pool_base, (unsigned long long)cfg->pool_pages,
		(unsigned long long)cfg->pool_reserved, cfg->vcpus);
}

int fuzz_print_trace(const struct fuzz_target *t, const uint8_t *data, size_t size, FILE *out)
{
	struct sim_machine_config cfg;
	struct fuzz_decoder d;
	struct sim_op op;
	char line[256];

	fuzz_decoder_init(&d, t, data, size, &cfg);
	print_config(t, &cfg, out);
	while (fuzz_decoder_next(&d, &op)) {
		sim_op_format(&op, line, sizeof(line));
		fprintf(out, "%s\n", line);
	}
	return ferror(out) ? -1 : 0;
}

int fuzz_check_roundtrip(const struct fuzz_target *t, const uint8_t *data, size_t size)
{
	struct sim_machine_config cfg, cfg2;
	struct fuzz_decoder d, d2;
	struct fuzz_encoder e;
	struct sim_op op, op2;
	char err[256], a[256], b[256];
	int ret = -1;

	fuzz_decoder_init(&d, t, data, size, &cfg);
	if (fuzz_encoder_init(&e, t, &cfg, err, sizeof(err))) {
		fprintf(stderr, "roundtrip: header: %s\n", err);
		return -1;
	}
	while (fuzz_decoder_next(&d, &op)) {
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

/* One seed: a workload's ops, run to learn their results, encoded. */
static int make_seed(const struct fuzz_target *t, const char *dir, uint64_t seed,
		     unsigned int ops, const struct sim_machine_config *cfg)
{
	struct sim_workload_params p = {
		.ops = ops, .seed = seed, .pool_pages = cfg->pool_pages, .max_order = 0,
	};
	struct sim_workload *w;
	struct sim_machine *m;
	struct fuzz_encoder e;
	struct sim_op op;
	char err[256];
	int ret = -1;

	while ((1ULL << (p.max_order + 1)) <= cfg->pool_pages && p.max_order < 10)
		p.max_order++;
	w = sim_workload_create("alloc-random", &p);
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
	ret = fuzz_write_input(dir, e.out.data, e.out.len);
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
	int written = 0;

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
		cfg.pool_pages = pools[i % 7];
		cfg.pool_reserved = reserved[(i / 7) % 2];
		cfg.pool_base = FUZZ_RAM_BASE + ((uint64_t)offsets[(i / 14) % 3] << HVMM_PAGE_SHIFT);
		cfg.report_stream = NULL;
		if (make_seed(t, dir, 1 + i, ops, &cfg))
			return -1;
		written++;
	}
	return written;
}
