// SPDX-License-Identifier: MIT
/*
 * The trace header: the machine configuration as "key value" lines, the
 * keys named as the command-line options are (traces/FORMAT.md).
 */
#include <stdlib.h>
#include <string.h>

#include <hvmm/types.h>

#include "pgtable/pgtable.h"
#include "trace.h"

/* Limits that keep a hostile header from asking for absurd resources. */
#define MAX_REGION_BYTES	(1ULL << 40)	/* 1 TiB per region */
#define MAX_VCPUS		256u

static const char *const region_keys[] = {
	[SIM_REGION_RAM] = "ram", [SIM_REGION_RESERVED] = "reserved", [SIM_REGION_MMIO] = "mmio",
};

void sim_trace_header_init(struct sim_trace_header *h)
{
	memset(h, 0, sizeof(*h));
	h->version = SIM_TRACE_VERSION;
	sim_machine_config_default(&h->cfg);
}

void sim_trace_header_fini(struct sim_trace_header *h)
{
	free(h->text);
	h->text = NULL;
	h->text_len = 0;
}

int sim_trace_header_from_config(struct sim_trace_header *h, const struct sim_machine_config *cfg)
{
	sim_trace_header_init(h);
	h->cfg = *cfg;
	h->given = SIM_TRACE_HAS_RAM | SIM_TRACE_HAS_ALLOCATOR | SIM_TRACE_HAS_POOL_PAGES |
		   SIM_TRACE_HAS_POOL_RESERVED | SIM_TRACE_HAS_VCPUS | SIM_TRACE_HAS_SEED;
	if (cfg->pool_base)
		h->given |= SIM_TRACE_HAS_POOL_BASE;
	if (strcmp(cfg->pgtable, "hvmm"))
		h->given |= SIM_TRACE_HAS_PGTABLE;
	return 0;
}

static int append_text(struct sim_trace_header *h, const char *line, char *err, size_t errlen)
{
	size_t n = strlen(line);
	char *t;

	if (h->text_len + n + 2 > SIM_TRACE_MAX_HEADER) {
		snprintf(err, errlen, "a header of at most %d bytes", SIM_TRACE_MAX_HEADER);
		return -1;
	}
	t = realloc(h->text, h->text_len + n + 2);
	if (!t) {
		snprintf(err, errlen, "a header that fits in memory");
		return -1;
	}
	memcpy(t + h->text_len, line, n);
	h->text_len += n;
	t[h->text_len++] = '\n';
	t[h->text_len] = '\0';
	h->text = t;
	return 0;
}

/* "SIZE@BASE" */
static int parse_region(struct sim_trace_header *h, enum sim_region_kind kind, const char *val,
			char *err, size_t errlen)
{
	char size_s[64];
	const char *at = strchr(val, '@');
	uint64_t size, base;
	size_t n = at ? (size_t)(at - val) : 0;

	if (!at || n >= sizeof(size_s)) {
		snprintf(err, errlen, "%s SIZE@BASE, for example 1G@0x80000000", region_keys[kind]);
		return -1;
	}
	memcpy(size_s, val, n);
	size_s[n] = '\0';
	if (!sim_parse_size(size_s, &size) || !sim_parse_size(at + 1, &base)) {
		snprintf(err, errlen, "%s SIZE@BASE with sizes like 4096, 0x1000, 64M, 1G; got '%s'",
			 region_keys[kind], val);
		return -1;
	}
	if (!size || size > MAX_REGION_BYTES || base + size < base) {
		snprintf(err, errlen, "a region of 1 byte to 1T that does not wrap; got '%s'", val);
		return -1;
	}
	if (h->cfg.nr_regions == SIM_MAX_REGIONS) {
		snprintf(err, errlen, "at most %d regions", SIM_MAX_REGIONS);
		return -1;
	}
	if (kind == SIM_REGION_RAM && !(h->given & SIM_TRACE_HAS_RAM)) {
		h->given |= SIM_TRACE_HAS_RAM;
		h->cfg.nr_regions = 0;	/* the first ram line replaces the default RAM */
	}
	h->at_region[h->cfg.nr_regions] = h->at;
	h->cfg.regions[h->cfg.nr_regions++] = (struct sim_region_config){ kind, base, size };
	return 0;
}

static int parse_number(const char *key, const char *val, uint64_t max, uint64_t *out,
			char *err, size_t errlen)
{
	if (!sim_parse_size(val, out) || *out > max) {
		snprintf(err, errlen, "%s N with N a number up to %llu; got '%s'", key,
			 (unsigned long long)max, val);
		return -1;
	}
	return 0;
}

/* A key other than a region is given once: a second line would contradict or repeat it. */
static int once(struct sim_trace_header *h, uint32_t flag, const char *key, char *err,
		size_t errlen)
{
	if (!(h->given & flag))
		return 0;
	snprintf(err, errlen, "'%s' once; an earlier header line gave it already", key);
	return -1;
}

/* "KEY NAME", given once: an allocator's or page tables' name. */
static int parse_name(struct sim_trace_header *h, uint32_t flag, const char *key, const char *val,
		      char *name, size_t len, uint64_t *at, char *err, size_t errlen)
{
	if (once(h, flag, key, err, errlen))
		return -1;
	if (!*val || strlen(val) >= len || strchr(val, ' ')) {
		snprintf(err, errlen, "%s NAME; got '%s'", key, val);
		return -1;
	}
	snprintf(name, len, "%s", val);
	h->given |= flag;
	*at = h->at;
	return 0;
}

static int apply(struct sim_trace_header *h, const char *key, const char *val,
		 char *err, size_t errlen)
{
	uint64_t v;

	for (unsigned int k = 0; k < sizeof(region_keys) / sizeof(region_keys[0]); k++)
		if (!strcmp(key, region_keys[k]))
			return parse_region(h, (enum sim_region_kind)k, val, err, errlen);
	if (!strcmp(key, "allocator"))
		return parse_name(h, SIM_TRACE_HAS_ALLOCATOR, key, val, h->cfg.allocator,
				  sizeof(h->cfg.allocator), &h->at_allocator, err, errlen);
	if (!strcmp(key, "pgtable"))
		return parse_name(h, SIM_TRACE_HAS_PGTABLE, key, val, h->cfg.pgtable,
				  sizeof(h->cfg.pgtable), &h->at_pgtable, err, errlen);
	if (!strcmp(key, "pool-base")) {
		if (once(h, SIM_TRACE_HAS_POOL_BASE, key, err, errlen))
			return -1;
		if (parse_number(key, val, UINT64_MAX - MAX_REGION_BYTES, &v, err, errlen))
			return -1;
		h->cfg.pool_base = v;
		h->given |= SIM_TRACE_HAS_POOL_BASE;
		h->at_pool_base = h->at;
		return 0;
	}
	if (!strcmp(key, "pool-pages")) {
		if (once(h, SIM_TRACE_HAS_POOL_PAGES, key, err, errlen))
			return -1;
		if (parse_number(key, val, MAX_REGION_BYTES >> HVMM_PAGE_SHIFT, &v, err, errlen))
			return -1;
		h->cfg.pool_pages = v;
		h->given |= SIM_TRACE_HAS_POOL_PAGES;
		h->at_pool_pages = h->at;
		return 0;
	}
	if (!strcmp(key, "pool-reserved")) {
		if (once(h, SIM_TRACE_HAS_POOL_RESERVED, key, err, errlen))
			return -1;
		if (parse_number(key, val, MAX_REGION_BYTES >> HVMM_PAGE_SHIFT, &v, err, errlen))
			return -1;
		h->cfg.pool_reserved = v;
		h->given |= SIM_TRACE_HAS_POOL_RESERVED;
		h->at_pool_reserved = h->at;
		return 0;
	}
	if (!strcmp(key, "vcpus")) {
		if (once(h, SIM_TRACE_HAS_VCPUS, key, err, errlen))
			return -1;
		if (parse_number(key, val, MAX_VCPUS, &v, err, errlen))
			return -1;
		h->cfg.vcpus = (unsigned int)v;
		h->given |= SIM_TRACE_HAS_VCPUS;
		return 0;
	}
	if (!strcmp(key, "seed")) {
		if (once(h, SIM_TRACE_HAS_SEED, key, err, errlen))
			return -1;
		if (parse_number(key, val, UINT64_MAX, &v, err, errlen))
			return -1;
		h->cfg.seed = v;
		h->given |= SIM_TRACE_HAS_SEED;
		return 0;
	}
	if (!strcmp(key, "hyp-pool-pages")) {
		if (once(h, SIM_TRACE_HAS_HYP_POOL_PAGES, key, err, errlen))
			return -1;
		if (parse_number(key, val, MAX_REGION_BYTES >> HVMM_PAGE_SHIFT, &v, err, errlen))
			return -1;
		h->cfg.hyp_pool_pages = v;
		h->given |= SIM_TRACE_HAS_HYP_POOL_PAGES;
		return 0;
	}
	snprintf(err, errlen, "an op or a configuration line (ram, reserved, mmio, allocator, "
		 "pgtable, pool-base, pool-pages, pool-reserved, vcpus, seed, hyp-pool-pages); got '%s'", key);
	return -1;
}

static bool known_key(const char *key)
{
	static const char *const keys[] = {
		"ram", "reserved", "mmio", "allocator", "pgtable", "pool-base", "pool-pages", "pool-reserved",
		"vcpus", "seed", "hyp-pool-pages",
	};

	for (unsigned int i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i], key))
			return true;
	return false;
}

int sim_trace_header_line(struct sim_trace_header *h, const char *line, char *err, size_t errlen)
{
	char key[32];
	const char *p = line, *val;
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p && *p != '#') {
		n = strcspn(p, " \t");
		if (n >= sizeof(key)) {
			snprintf(err, errlen, "an op or a configuration line; got '%.40s...'", p);
			return -1;
		}
		memcpy(key, p, n);
		key[n] = '\0';
		val = p + n;
		while (*val == ' ' || *val == '\t')
			val++;
		if (!known_key(key))
			return apply(h, key, "", err, errlen);	/* says what is expected */
		if (!*val || val[strcspn(val, " \t")]) {
			snprintf(err, errlen, "'%s VALUE' with one value", key);
			return -1;
		}
		if (apply(h, key, val, err, errlen))
			return -1;
	}
	return append_text(h, line, err, errlen);
}

int sim_trace_header_check(const struct sim_trace_header *h, uint64_t *at, char *err,
			   size_t errlen)
{
	struct sim_machine_config cfg = h->cfg;
	char why[256];
	unsigned int i = 0;

	/*
	 * The machine the trace describes, whichever program runs it: the
	 * page tables are a link-time choice the command makes (the CLI runs a
	 * trace in the program built with them), not part of the format.
	 */
	snprintf(cfg.pgtable, sizeof(cfg.pgtable), "%s", sim_mm_pgtable_name());
	switch (sim_machine_config_check(&cfg, &i, why, sizeof(why))) {
	case SIM_CONFIG_OK:
		return 0;
	case SIM_CONFIG_REGION:
		*at = h->at_region[i];
		break;
	case SIM_CONFIG_ALLOCATOR:
		*at = h->at_allocator;
		break;
	case SIM_CONFIG_POOL:
		/* The pool line if there is one, else the RAM that cannot hold the pool. */
		*at = h->at_pool_pages ? h->at_pool_pages :
		      h->at_pool_base ? h->at_pool_base : h->at_region[0];
		break;
	case SIM_CONFIG_POOL_RESERVED:
		*at = h->at_pool_reserved;
		break;
	case SIM_CONFIG_PGTABLE:	/* not judged here (above) */
		break;
	}
	snprintf(err, errlen, "a machine this simulator can build: %s", why);
	return -1;
}

/* Sizes as the user would write them: 1G, 64M, 4K, else hex. */
static void format_size(uint64_t v, char *buf, size_t len)
{
	static const struct { uint64_t unit; char suffix; } units[] = {
		{ 1ULL << 40, 'T' }, { 1ULL << 30, 'G' }, { 1ULL << 20, 'M' }, { 1ULL << 10, 'K' },
	};

	for (unsigned int i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (v && v % units[i].unit == 0) {
			snprintf(buf, len, "%llu%c", (unsigned long long)(v / units[i].unit),
				 units[i].suffix);
			return;
		}
	}
	snprintf(buf, len, "0x%llx", (unsigned long long)v);
}

const char *sim_trace_header_text(const struct sim_trace_header *h, char *buf, size_t len)
{
	const struct sim_machine_config *c = &h->cfg;
	size_t n = 0;

	if (h->text)
		return h->text;
#define OUT(...) do {								\
		int w_ = snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__);	\
		n += w_ > 0 ? (size_t)w_ : 0;					\
	} while (0)
	if (len)
		buf[0] = '\0';
	for (unsigned int i = 0; i < c->nr_regions; i++) {
		char size[32];

		format_size(c->regions[i].size, size, sizeof(size));
		OUT("%s %s@0x%llx\n", region_keys[c->regions[i].kind], size,
		    (unsigned long long)c->regions[i].base);
	}
	OUT("allocator %s\n", c->allocator);
	/* mm/'s own tables are the default: only another implementation is named. */
	if (strcmp(c->pgtable, "hvmm"))
		OUT("pgtable %s\n", c->pgtable);
	if (c->pool_base)
		OUT("pool-base 0x%llx\n", (unsigned long long)c->pool_base);
	OUT("pool-pages %llu\n", (unsigned long long)c->pool_pages);
	if (c->pool_reserved)
		OUT("pool-reserved %llu\n", (unsigned long long)c->pool_reserved);
	OUT("vcpus %u\n", c->vcpus);
	OUT("seed %llu\n", (unsigned long long)c->seed);
	{
		struct sim_machine_config def;

		/* Only where it is not the default (fuzz targets' machines). */
		sim_machine_config_default(&def);
		if (c->hyp_pool_pages != def.hyp_pool_pages)
			OUT("hyp-pool-pages %llu\n", (unsigned long long)c->hyp_pool_pages);
	}
#undef OUT
	return buf;
}
