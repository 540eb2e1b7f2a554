// SPDX-License-Identifier: MIT
/*
 * One line of ftrace or babeltrace2 text to a page-allocator event. Both
 * print "key=value" (ftrace) or "key = value" (babeltrace2) fields after
 * the event name; pfn is hex on kernels since about 5.14 and decimal
 * before; old LTTng events carry only the struct page pointer.
 */
#include <stdlib.h>
#include <string.h>

#include "import/kmem.h"

static const struct {
	const char *name;
	enum kmem_event_kind kind;
} events[] = {
	{ "mm_page_alloc_zone_locked", KMEM_ALLOC_ZONE_LOCKED },
	{ "mm_page_alloc", KMEM_ALLOC },
	{ "mm_page_free_batched", KMEM_FREE_BATCHED },
	{ "mm_page_free", KMEM_FREE },
};

/* The value of field @key in @s (word-bounded key, '=' with optional spaces around). */
static bool field(const char *s, const char *key, char *val, size_t len)
{
	size_t klen = strlen(key);

	for (const char *p = strstr(s, key); p; p = strstr(p + 1, key)) {
		const char *q = p + klen;
		size_t n;

		if (p != s && !strchr(" \t{,", p[-1]))
			continue;
		while (*q == ' ')
			q++;
		if (*q != '=')
			continue;
		q++;
		while (*q == ' ')
			q++;
		n = strcspn(q, " \t,}");
		if (!n || n >= len)
			return false;
		memcpy(val, q, n);
		val[n] = '\0';
		return true;
	}
	return false;
}

/* Decimal, or hex with 0x. */
static bool number(const char *s, uint64_t *v)
{
	char *end;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	if (!*s || *s == '-')
		return false;
	*v = strtoull(s, &end, base);
	return *end == '\0' && end != s;
}

/* The event name: the word before the first ':' that is followed by a space. */
static const char *event_name(const char *line, char *name, size_t len, const char **rest)
{
	for (const char *c = strchr(line, ':'); c; c = strchr(c + 1, ':')) {
		const char *b = c;
		size_t n;

		if (c[1] != ' ' && c[1] != '\0')
			continue;
		while (b > line && b[-1] != ' ' && b[-1] != '\t')
			b--;
		n = (size_t)(c - b);
		if (n == 0 || n >= len)
			continue;
		memcpy(name, b, n);
		name[n] = '\0';
		if (!strncmp(name, "kmem:", 5))
			memmove(name, name + 5, n - 4);
		if (!strncmp(name, "kmem_", 5))
			memmove(name, name + 5, n - 4);
		if (!strncmp(name, "mm_page_", 8)) {
			*rest = c + 1;
			return name;
		}
	}
	return NULL;
}

int kmem_parse_line(enum kmem_source src, const char *line, struct kmem_event *ev,
		    char *err, size_t errlen)
{
	char name[64], val[64];
	const char *rest;
	uint64_t v;
	unsigned int i;

	if (line[0] == '#' || !event_name(line, name, sizeof(name), &rest))
		return 0;
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (!strcmp(name, events[i].name))
			break;
	ev->kind = i < sizeof(events) / sizeof(events[0]) ? events[i].kind : KMEM_OTHER;
	ev->pfn = 0;
	ev->order = 0;
	if (ev->kind == KMEM_OTHER)
		return 1;
	if (field(rest, "pfn", val, sizeof(val))) {
		if (!number(val, &v)) {
			snprintf(err, errlen, "%s: pfn=N with N decimal or 0x hex; got '%s'", name, val);
			return -1;
		}
		ev->pfn = v;
	} else if (field(rest, "page", val, sizeof(val)) && number(val, &v) && v) {
		/* No pfn (old LTTng): struct page is 64 bytes, so this keeps neighbours adjacent. */
		ev->pfn = v >> 6;
	} else {
		snprintf(err, errlen, "%s with a pfn%s or a page pointer", name,
			 src == KMEM_FTRACE ? "=N" : " = N");
		return -1;
	}
	if (ev->kind == KMEM_FREE_BATCHED)
		return 1;	/* always one page; old kernels print "order=0" or "cold=" */
	if (!field(rest, "order", val, sizeof(val)) || !number(val, &v) || v > 63) {
		snprintf(err, errlen, "%s with order%s0..63", name, src == KMEM_FTRACE ? "=" : " = ");
		return -1;
	}
	ev->order = (unsigned int)v;
	return 1;
}
