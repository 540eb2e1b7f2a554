// SPDX-License-Identifier: MIT
/*
 * One line of ftrace or babeltrace2 text to a page-allocator event, found
 * where the tracer puts it and nowhere else:
 *
 *   ftrace:  "<task>-<pid> [(<tgid>)] [<cpu>] [<flags>] <secs>.<frac>: <event>: <fields>"
 *   lttng:   "[<time>] (<delta>) <host> <event>: { <context> }, { <fields> }"
 *
 * A task name is at most 15 characters and may hold anything, ": "
 * included, so the event is the first "[cpu] ... secs.frac: name:" run,
 * which no task name can hold; in babeltrace2 text the event is the word
 * before the first ": {". Fields are "key=value" words (ftrace) or
 * "key = value" items (babeltrace2), each key once. pfn is hex on kernels
 * since about 5.14 and decimal before; old LTTng events carry only the
 * struct page pointer.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "import/kmem.h"
#include "op.h"

static const struct {
	const char *name;
	enum kmem_event_kind kind;
} events[] = {
	{ "mm_page_alloc_zone_locked", KMEM_ALLOC_ZONE_LOCKED },
	{ "mm_page_alloc", KMEM_ALLOC },
	{ "mm_page_free_batched", KMEM_FREE_BATCHED },
	{ "mm_page_free", KMEM_FREE },
};

#define MAX_FIELDS 16

struct fields {
	unsigned int n;
	struct { const char *key, *val; size_t klen, vlen; } f[MAX_FIELDS];
};

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static const char *skip_digits(const char *s)
{
	while (isdigit((unsigned char)*s))
		s++;
	return s;
}

/* "secs.frac:" at @s: the end of it, or NULL. */
static const char *timestamp(const char *s)
{
	const char *d = skip_digits(s);

	if (d == s || *d != '.')
		return NULL;
	s = d + 1;
	d = skip_digits(s);
	return d != s && *d == ':' ? d + 1 : NULL;
}

/* The event name at @s ending in ':' (a word of [A-Za-z0-9_:]); NULL if none. */
static const char *event_word(const char *s, const char **name, size_t *len)
{
	const char *e = s;

	while (isalnum((unsigned char)*e) || *e == '_' || *e == ':')
		e++;
	/* The name ends at its last ':' ("kmem:mm_page_alloc:"). */
	while (e > s && e[-1] != ':')
		e--;
	if (e - s < 2)
		return NULL;
	*name = s;
	*len = (size_t)(e - 1 - s);
	return e;
}

/* ftrace: the event after "[cpu] [flags] secs.frac: ", and the fields after it. */
static bool ftrace_event(const char *line, const char **name, size_t *len, const char **rest)
{
	for (const char *b = strchr(line, '['); b; b = strchr(b + 1, '[')) {
		const char *p = skip_digits(b + 1), *t;

		if (p == b + 1 || *p != ']' || b == line || (b[-1] != ' ' && b[-1] != '\t'))
			continue;
		p = skip_blanks(p + 1);
		t = timestamp(p);
		if (!t) {
			/* irq flags ("d.s..", "....") before the timestamp */
			p += strcspn(p, " \t");
			t = timestamp(skip_blanks(p));
		}
		if (!t || (*t != ' ' && *t != '\t'))
			continue;
		p = event_word(skip_blanks(t), name, len);
		if (!p)
			continue;
		*rest = p;
		return true;
	}
	return false;
}

/* babeltrace2: the word before the first ": {", and the fields after it. */
static bool lttng_event(const char *line, const char **name, size_t *len, const char **rest)
{
	const char *c = strstr(line, ": {"), *b;

	if (line[0] != '[' || !c)
		return false;
	for (b = c; b > line && b[-1] != ' ' && b[-1] != '\t'; b--)
		;
	*name = b;
	*len = (size_t)(c - b);
	*rest = c + 1;
	return *len > 0;
}

static int add_field(struct fields *fs, const char *k, size_t kl, const char *v, size_t vl,
		     char *err, size_t errlen)
{
	for (unsigned int i = 0; i < fs->n; i++) {
		if (fs->f[i].klen == kl && !memcmp(fs->f[i].key, k, kl)) {
			snprintf(err, errlen, "each field once; %.*s is repeated", (int)kl, k);
			return -1;
		}
	}
	if (fs->n == MAX_FIELDS) {
		snprintf(err, errlen, "at most %d fields", MAX_FIELDS);
		return -1;
	}
	fs->f[fs->n].key = k;
	fs->f[fs->n].klen = kl;
	fs->f[fs->n].val = v;
	fs->f[fs->n].vlen = vl;
	fs->n++;
	return 0;
}

/* "key=value key=value ..." (a gfp_flags value may hold '|' and '(', never a blank). */
static int ftrace_fields(const char *s, struct fields *fs, char *err, size_t errlen)
{
	for (s = skip_blanks(s); *s; s = skip_blanks(s)) {
		size_t n = strcspn(s, " \t");
		const char *eq = memchr(s, '=', n);

		if (!eq || eq == s) {
			snprintf(err, errlen, "key=value fields; got '%.*s'", (int)(n > 40 ? 40 : n), s);
			return -1;
		}
		if (add_field(fs, s, (size_t)(eq - s), eq + 1, n - (size_t)(eq - s) - 1, err, errlen))
			return -1;
		s += n;
	}
	return 0;
}

/* "{ cpu_id = 2 }, { page = 0x..., pfn = 5, ... }": the last brace group's items. */
static int lttng_fields(const char *s, struct fields *fs, char *err, size_t errlen)
{
	const char *open = strrchr(s, '{'), *close;

	if (!open || !(close = strchr(open, '}')) || *skip_blanks(close + 1)) {
		snprintf(err, errlen, "'{ field = value, ... }' at the end of the line");
		return -1;
	}
	for (const char *p = skip_blanks(open + 1); p < close; ) {
		const char *end = p, *eq;
		size_t kl;

		while (end < close && *end != ',')
			end++;
		eq = memchr(p, '=', (size_t)(end - p));
		if (!eq) {
			snprintf(err, errlen, "'field = value' items; got '%.*s'",
				 (int)(end - p > 40 ? 40 : end - p), p);
			return -1;
		}
		for (kl = (size_t)(eq - p); kl && (p[kl - 1] == ' ' || p[kl - 1] == '\t'); kl--)
			;
		{
			const char *v = skip_blanks(eq + 1), *ve = end;

			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if (!kl || ve == v) {
				snprintf(err, errlen, "'field = value' items; got '%.*s'",
					 (int)(end - p > 40 ? 40 : end - p), p);
				return -1;
			}
			if (add_field(fs, p, kl, v, (size_t)(ve - v), err, errlen))
				return -1;
		}
		p = skip_blanks(end < close ? end + 1 : end);
	}
	return 0;
}

/* Field @key's value as a NUL-terminated copy in @val; false if absent or too long. */
static bool field(const struct fields *fs, const char *key, char *val, size_t len)
{
	size_t kl = strlen(key);

	for (unsigned int i = 0; i < fs->n; i++) {
		if (fs->f[i].klen != kl || memcmp(fs->f[i].key, key, kl))
			continue;
		if (fs->f[i].vlen >= len)
			return false;
		memcpy(val, fs->f[i].val, fs->f[i].vlen);
		val[fs->f[i].vlen] = '\0';
		return true;
	}
	return false;
}

/* A %p of a NULL page: "(null)", "0000000000000000", "0x0", "0". */
static bool null_pointer(const char *s)
{
	if (!strcmp(s, "(null)"))
		return true;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s)
		return false;
	while (*s == '0')
		s++;
	return !*s;
}

/* ftrace prints %p as bare hex ("ffffea0004a1b2c0", or hashed "00000000d1e0a8a4"). */
static bool pointer(const char *s, uint64_t *v)
{
	char buf[24];

	if ((s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) || strlen(s) > 16)
		return sim_parse_u64(s, v);
	snprintf(buf, sizeof(buf), "0x%s", s);
	return sim_parse_u64(buf, v);
}

static int page_identity(const struct fields *fs, const char *name, struct kmem_event *ev,
			 enum kmem_source src, char *err, size_t errlen)
{
	const char *eq = src == KMEM_FTRACE ? "=" : " = ";
	char pfn[64], page[64];
	bool has_pfn = field(fs, "pfn", pfn, sizeof(pfn));
	bool has_page = field(fs, "page", page, sizeof(page));
	uint64_t v;

	if (has_page && null_pointer(page)) {
		ev->failed = true;
		snprintf(ev->pfn_text, sizeof(ev->pfn_text), "%s", page);
		return 0;
	}
	if (has_page && !pointer(page, &ev->page)) {
		snprintf(err, errlen, "%s with page%sa pointer; got '%s'", name, eq, page);
		return -1;
	}
	ev->has_page = has_page;
	if (has_pfn) {
		if (!sim_parse_u64(pfn, &v)) {
			snprintf(err, errlen, "%s with pfn%sN, N decimal or 0x hex below 2^64; got '%s'",
				 name, eq, pfn);
			return -1;
		}
		snprintf(ev->pfn_text, sizeof(ev->pfn_text), "%s", pfn);
		/* -1UL: no page (a failed allocation); 32-bit kernels print 32 ones. */
		if (v == UINT64_MAX || (!strncmp(pfn, "4294967295", 11) && v == 0xffffffffULL)) {
			ev->failed = true;
			return 0;
		}
		if (v > KMEM_MAX_PFN) {
			snprintf(err, errlen, "%s with a pfn of a 64-bit physical address (at most "
				 "0x%llx); got %s", name, (unsigned long long)KMEM_MAX_PFN, pfn);
			return -1;
		}
		ev->pfn = v;
		return 0;
	}
	if (!has_page) {
		snprintf(err, errlen, "%s with pfn%sN or page%sP", name, eq, eq);
		return -1;
	}
	/* Old LTTng: only the struct page pointer, which is the page's identity. */
	ev->pfn = ev->page;
	ev->by_pointer = true;
	ev->has_page = false;
	snprintf(ev->pfn_text, sizeof(ev->pfn_text), "%s", page);
	return 0;
}

int kmem_parse_line(enum kmem_source src, const char *line, struct kmem_event *ev,
		    char *err, size_t errlen)
{
	const char *eq = src == KMEM_FTRACE ? "=" : " = ";
	char name[64], val[64], why[160];
	struct fields fs = { 0 };
	const char *n, *rest;
	size_t len;
	unsigned int i;
	uint64_t v;
	bool found;

	if (line[0] == '#')
		return 0;
	found = src == KMEM_FTRACE ? ftrace_event(line, &n, &len, &rest) :
				     lttng_event(line, &n, &len, &rest);
	if (!found || len >= sizeof(name))
		return 0;
	memcpy(name, n, len);
	name[len] = '\0';
	if (!strncmp(name, "kmem:", 5) || !strncmp(name, "kmem_", 5))
		memmove(name, name + 5, len - 4);
	if (strncmp(name, "mm_page_", 8))
		return 0;
	memset(ev, 0, sizeof(*ev));
	ev->percpu_refill = -1;
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (!strcmp(name, events[i].name))
			break;
	ev->kind = i < sizeof(events) / sizeof(events[0]) ? events[i].kind : KMEM_OTHER;
	if (ev->kind == KMEM_OTHER)
		return 1;
	if ((src == KMEM_FTRACE ? ftrace_fields(rest, &fs, why, sizeof(why)) :
				  lttng_fields(rest, &fs, why, sizeof(why)))) {
		snprintf(err, errlen, "%s: %s", name, why);
		return -1;
	}
	if (page_identity(&fs, name, ev, src, err, errlen))
		return -1;
	if (ev->kind == KMEM_FREE_BATCHED)
		return 1;	/* always one page; old kernels print "cold=", new ones "order=0" */
	if (!field(&fs, "order", val, sizeof(val)) || !sim_parse_u64(val, &v) || v > 63) {
		snprintf(err, errlen, "%s with order%sN, N 0..63", name, eq);
		return -1;
	}
	ev->order = (unsigned int)v;
	if (ev->kind == KMEM_ALLOC_ZONE_LOCKED && field(&fs, "percpu_refill", val, sizeof(val))) {
		if (strcmp(val, "0") && strcmp(val, "1")) {
			snprintf(err, errlen, "%s with percpu_refill%s0 or 1; got '%s'", name, eq, val);
			return -1;
		}
		ev->percpu_refill = val[0] - '0';
	}
	return 1;
}
