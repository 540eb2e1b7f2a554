// SPDX-License-Identifier: MIT
/* Machine configuration from command-line options, shared by every subcommand. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hvmm/types.h>

#include "cli.h"
#include "pgtable/pgtable.h"
#include "trace/trace.h"

static const char *const machine_opts[] = {
	"--allocator", "--pgtable", "--ram", "--reserved", "--mmio", "--pool-pages", "--pool-reserved",
	"--oracles", "--sweep-every", "--seed", NULL,
};

void cli_machine_options_init(struct cli_machine_options *o)
{
	memset(o, 0, sizeof(*o));
	sim_machine_config_default(&o->cfg);
	o->cfg.pool_pages = 16384;
	o->cfg.report_stream = stderr;
}

bool cli_is_machine_option(const char *opt)
{
	for (unsigned int i = 0; machine_opts[i]; i++)
		if (!strcmp(machine_opts[i], opt))
			return true;
	return false;
}

/* "SIZE[@BASE]" */
static int parse_region(struct cli_machine_options *o, enum sim_region_kind kind,
			const char *opt, const char *val, bool base_required)
{
	char size_s[64];
	const char *at = strchr(val, '@');
	uint64_t size, base = 0x80000000ULL;
	size_t n = at ? (size_t)(at - val) : strlen(val);

	if (n >= sizeof(size_s) || (!at && base_required)) {
		fprintf(stderr, "hvmm: %s %s: expected SIZE@BASE, for example 1G@0x80000000\n", opt, val);
		return -1;
	}
	memcpy(size_s, val, n);
	size_s[n] = '\0';
	if (!sim_parse_size(size_s, &size) || (at && !sim_parse_size(at + 1, &base))) {
		fprintf(stderr, "hvmm: %s %s: expected SIZE[@BASE] with sizes like 4096, 0x1000, 64M, 1G\n",
			opt, val);
		return -1;
	}
	if (o->cfg.nr_regions == SIM_MAX_REGIONS) {
		fprintf(stderr, "hvmm: %s: at most %d regions\n", opt, SIM_MAX_REGIONS);
		return -1;
	}
	if (kind == SIM_REGION_RAM && !o->ram_given) {
		o->ram_given = true;
		o->cfg.nr_regions = 0;	/* replace the default RAM */
	}
	o->region_given[o->cfg.nr_regions][0] = opt;
	o->region_given[o->cfg.nr_regions][1] = val;
	o->cfg.regions[o->cfg.nr_regions++] = (struct sim_region_config){ kind, base, size };
	return 1;
}

static int bad_number(const char *opt, const char *val)
{
	fprintf(stderr, "hvmm: %s %s: expected a number, decimal or 0x hex (digits only, "
		"below 2^64)\n", opt, val);
	return -1;
}

static int apply_option(struct cli_machine_options *o, const char *opt, const char *val);

int cli_machine_option(struct cli_machine_options *o, const char *opt, const char *val)
{
	int ret = apply_option(o, opt, val);
	unsigned int i;

	/* Keep the table's copy of the name: @opt may be the caller's buffer. */
	for (i = 0; machine_opts[i] && strcmp(machine_opts[i], opt); i++)
		;
	if (ret > 0 && machine_opts[i] && o->nr_given < CLI_MAX_MACHINE_ARGS) {
		o->given[o->nr_given][0] = machine_opts[i];
		o->given[o->nr_given][1] = val;
		o->nr_given++;
	}
	return ret;
}

int cli_machine_options_rebase(struct cli_machine_options *o, const struct sim_machine_config *base)
{
	FILE *stream = o->cfg.report_stream;

	o->cfg = *base;
	o->cfg.report_stream = stream;
	o->ram_given = false;
	memset(o->region_given, 0, sizeof(o->region_given));
	for (unsigned int i = 0; i < o->nr_given; i++)
		if (apply_option(o, o->given[i][0], o->given[i][1]) < 0)
			return -1;
	return 0;
}

/* The last value given for @opt, or NULL. */
static const char *given_value(const struct cli_machine_options *o, const char *opt)
{
	const char *val = NULL;

	for (unsigned int i = 0; i < o->nr_given; i++)
		if (!strcmp(o->given[i][0], opt))
			val = o->given[i][1];
	return val;
}

/*
 * A full sweep after every op reads the whole pool: beyond this many pages
 * a short trace takes minutes (4 GiB: about 17 ms per op on a 2-core
 * machine), so the combination is refused up front.
 */
#define FULL_ORACLES_MAX_POOL_PAGES	(1ULL << 20)

static uint64_t pool_pages(const struct sim_machine_config *cfg)
{
	if (cfg->pool_pages)
		return cfg->pool_pages;
	for (unsigned int i = 0; i < cfg->nr_regions; i++)
		if (cfg->regions[i].kind == SIM_REGION_RAM)
			return cfg->regions[i].size >> HVMM_PAGE_SHIFT;
	return 0;
}

int cli_machine_options_check(const struct cli_machine_options *o, const char *file,
			      const struct sim_trace_header *h)
{
	const char *opt = NULL, *val = NULL;
	enum sim_config_part part;
	unsigned int index = 0;
	char why[256];

	part = sim_machine_config_check(&o->cfg, &index, why, sizeof(why));
	switch (part) {
	case SIM_CONFIG_OK:
		if (o->cfg.oracles == SIM_ORACLES_FULL &&
		    pool_pages(&o->cfg) > FULL_ORACLES_MAX_POOL_PAGES)
			return cli_usage_error("--oracles full sweeps the whole pool after every op: "
					       "at most %llu pool pages (4 GiB) with it, and this pool "
					       "has %llu (use --oracles incremental, with --sweep-every "
					       "N for a sweep every N ops)",
					       FULL_ORACLES_MAX_POOL_PAGES,
					       (unsigned long long)pool_pages(&o->cfg));
		return 0;
	case SIM_CONFIG_REGION:
		opt = o->region_given[index][0];
		val = o->region_given[index][1];
		break;
	case SIM_CONFIG_ALLOCATOR:
		val = given_value(o, opt = "--allocator");
		break;
	case SIM_CONFIG_POOL:
		/* The pool option if given, else the RAM option that cannot hold the pool. */
		if (!(val = given_value(o, opt = "--pool-pages")))
			val = given_value(o, opt = "--ram");
		break;
	case SIM_CONFIG_POOL_RESERVED:
		val = given_value(o, opt = "--pool-reserved");
		break;
	case SIM_CONFIG_PGTABLE:
		val = given_value(o, opt = "--pgtable");
		break;
	}
	if (opt && val && file)
		return cli_usage_error("%s %s: %s (on top of the configuration of %s)", opt, val, why,
				       file);
	if (opt && val)
		return cli_usage_error("%s %s: %s", opt, val, why);
	if (h && file) {
		uint64_t at = 0;
		char what[512];

		if (sim_trace_header_check(h, &at, what, sizeof(what)) && at)
			return cli_usage_error("%s:%llu: expected %s", file, (unsigned long long)at,
					       what);
	}
	return cli_usage_error("%s%smachine configuration: %s", file ? file : "", file ? ": " : "",
			       why);
}

/* The program beside this one that runs mm/ on the page tables @name. */
static bool sibling_program(const char *name, char *path, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", path, len - 1);
	char *slash;

	if (n <= 0 || (size_t)n >= len - 1)
		return false;
	path[n] = '\0';
	slash = strrchr(path, '/');
	if (!slash)
		return false;
	n = snprintf(slash + 1, len - (size_t)(slash + 1 - path), "%s%s",
		     strcmp(name, "hvmm") ? "hvmm-" : "", name);
	return n > 0 && (size_t)n < len - (size_t)(slash + 1 - path);
}

bool cli_sibling_exists(const char *name)
{
	char path[4096];

	return sibling_program(name, path, sizeof(path)) && !access(path, X_OK);
}

int cli_exec_sibling(const char *name)
{
	char path[4096];

	if (!sibling_program(name, path, sizeof(path)))
		return -1;
	fflush(NULL);
	execv(path, cli_argv);
	return -1;
}

/*
 * --pgtable, or a trace's pgtable line: mm/'s calls to its page tables are
 * direct calls, so another implementation is another link of mm/
 * (sim/linux/meson.build), and a run on it is the same command line run by
 * that program, which this one becomes. The page tables of this program
 * are simply accepted. @what names the setting in messages.
 */
int cli_run_on_pgtable(const char *what, const char *val)
{
	char path[4096];

	if (!strcmp(val, sim_mm_pgtable_name()))
		return 1;
	if (!sim_pgtable_find(val)) {
		fprintf(stderr, "hvmm: %s %s: unknown page tables; known:", what, val);
		for (unsigned int i = 0; sim_pgtables[i]; i++)
			fprintf(stderr, " %s", sim_pgtables[i]->name);
		if (!strcmp(val, "linux-kvm"))
			fprintf(stderr, " (linux-kvm is KVM's own pgtable.c: this build hosts no "
				"kernel source; configure with -Dlinux_source=auto or a path)");
		fprintf(stderr, "\n");
		return -1;
	}
	if (!sibling_program(val, path, sizeof(path)) || access(path, X_OK)) {
		fprintf(stderr, "hvmm: %s %s: runs in the program %s%s beside this one, "
			"which is missing (build or install it with the rest of hvmm)\n", what, val,
			strcmp(val, "hvmm") ? "hvmm-" : "", val);
		return -1;
	}
	fflush(NULL);
	execv(path, cli_argv);
	fprintf(stderr, "hvmm: %s %s: cannot run %s: %s\n", what, val, path, strerror(errno));
	return -1;
}

static int apply_option(struct cli_machine_options *o, const char *opt, const char *val)
{
	uint64_t v;

	if (!strcmp(opt, "--pgtable")) {
		int ret = cli_run_on_pgtable(opt, val);

		if (ret > 0)
			snprintf(o->cfg.pgtable, sizeof(o->cfg.pgtable), "%s", val);
		return ret;
	}

	if (!strcmp(opt, "--allocator")) {
		if (!sim_allocator_find(val)) {
			fprintf(stderr, "hvmm: --allocator %s: unknown allocator; known:", val);
			for (unsigned int i = 0; sim_allocators[i]; i++)
				fprintf(stderr, " %s", sim_allocators[i]->name);
			fprintf(stderr, "\n");
			return -1;
		}
		snprintf(o->cfg.allocator, sizeof(o->cfg.allocator), "%s", val);
		return 1;
	}
	if (!strcmp(opt, "--ram"))
		return parse_region(o, SIM_REGION_RAM, opt, val, false);
	if (!strcmp(opt, "--reserved"))
		return parse_region(o, SIM_REGION_RESERVED, opt, val, true);
	if (!strcmp(opt, "--mmio"))
		return parse_region(o, SIM_REGION_MMIO, opt, val, true);
	if (!strcmp(opt, "--oracles")) {
		if (!strcmp(val, "off"))
			o->cfg.oracles = SIM_ORACLES_OFF;
		else if (!strcmp(val, "incremental"))
			o->cfg.oracles = SIM_ORACLES_INCREMENTAL;
		else if (!strcmp(val, "full"))
			o->cfg.oracles = SIM_ORACLES_FULL;
		else {
			fprintf(stderr, "hvmm: --oracles %s: expected off, incremental or full\n", val);
			return -1;
		}
		return 1;
	}
	if (!cli_is_machine_option(opt))
		return 0;
	if (!sim_parse_u64(val, &v))
		return bad_number(opt, val);
	if (!strcmp(opt, "--pool-pages"))
		o->cfg.pool_pages = v;
	else if (!strcmp(opt, "--pool-reserved"))
		o->cfg.pool_reserved = v;
	else if (!strcmp(opt, "--sweep-every"))
		o->cfg.sweep_interval = v;
	else if (!strcmp(opt, "--seed"))
		o->cfg.seed = v;
	return 1;
}
