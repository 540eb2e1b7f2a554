// SPDX-License-Identifier: MIT
/*
 * Running one importer input. Any text must import or be rejected at a
 * line, never crash; and what was imported must add up: every alloc op is
 * an allocation or a failed one, every split op a block split, every free
 * op a matched free, the untraced free of a re-allocated page or a page of
 * a split block, the blocks never freed are the allocations (and split
 * pages) not freed, and the ops written read back as a trace whose
 * handles are all defined before use. The importer's counts are checked
 * against the trace it wrote, read by the trace reader: two independent
 * pieces of code.
 */
#include <stdlib.h>
#include <string.h>

#include <hvmm/types.h>

#include "import.h"
#include "trace/trace.h"

#define MAX_LINE 8192	/* as cli/cmd_import.c */

static void violation(const char *what, unsigned long long a, unsigned long long b)
{
	fprintf(stderr, "VIOLATION ROBUST at record 0: import does not add up: %s (%llu vs %llu)\n"
		"==hvmm-fuzz== import: the input is the reproducer\n", what, a, b);
	abort();
}

/* Imports @data into a binary trace in memory; the counts, or NULL if rejected. */
static bool import(enum kmem_source src, const uint8_t *data, size_t size, bool strict,
		   struct kmem_counts *c, char **out, size_t *len)
{
	struct sim_trace_header h;
	struct sim_trace_writer *w;
	struct sim_trace_error err;
	struct kmem_import *im;
	FILE *f = open_memstream(out, len);
	char line[MAX_LINE + 1], msg[512];
	bool ok = true;
	size_t pos = 0;

	if (!f)
		return false;
	sim_trace_header_init(&h);
	w = sim_trace_create_stream(f, "imported", SIM_TRACE_BINARY, &h, &err);
	im = w ? kmem_import_create(w, strict) : NULL;
	while (im && ok && pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) : size - pos;
		struct kmem_event ev;
		int ret;

		if (n > MAX_LINE || memchr(data + pos, '\0', n)) {
			ok = false;	/* rejected at its line, as the CLI does */
			break;
		}
		memcpy(line, data + pos, n);
		line[n] = '\0';
		if (n && line[n - 1] == '\r')
			line[n - 1] = '\0';
		pos += n + 1;
		ret = kmem_parse_line(src, line, &ev, msg, sizeof(msg));
		if (ret < 0 || (ret > 0 && kmem_import_event(im, &ev, 1, msg, sizeof(msg)) < 0))
			ok = false;
	}
	if (im)
		*c = *kmem_import_counts(im);
	if (w && sim_trace_finish(w, &err))
		ok = false;
	kmem_import_destroy(im);
	fclose(f);
	return ok && im;
}

static void check(const struct kmem_counts *c, const char *out, size_t len)
{
	FILE *f = fmemopen((void *)out, len, "rb");
	struct sim_trace_error err;
	struct sim_trace_reader *r = f ? sim_trace_open_stream(f, "imported", &err) : NULL;
	unsigned long long allocs = 0, frees = 0, enomem = 0, splits = 0;
	struct sim_op op;
	int ret;

	if (!r)
		violation("the trace written does not open", 0, 0);
	while ((ret = sim_trace_read_op(r, &op, &err)) > 0) {
		if (op.kind == SIM_OP_ALLOC) {
			allocs++;
			enomem += (op.flags & SIM_OP_F_EXPECT) && op.expect == -HVMM_ENOMEM;
		} else if (op.kind == SIM_OP_FREE) {
			frees++;
		} else if (op.kind == SIM_OP_SPLIT) {
			splits++;
		} else {
			violation("an op other than alloc and free", op.kind, 0);
		}
	}
	sim_trace_close(r);
	fclose(f);
	if (ret < 0)
		violation(err.msg, 0, 0);
	if (allocs != c->allocs + c->failed_allocs)
		violation("alloc ops vs allocations + failed allocations", allocs,
			  c->allocs + c->failed_allocs);
	if (enomem != c->failed_allocs)
		violation("allocs expecting ENOMEM vs failed allocations", enomem, c->failed_allocs);
	if (splits != c->splits)
		violation("split ops vs blocks split", splits, c->splits);
	if (frees != c->free_ops ||
	    c->free_ops != c->frees_matched + c->reallocs + c->split_free_ops)
		violation("free ops vs matched frees + re-allocations + frees of split pages", frees,
			  c->frees_matched + c->reallocs + c->split_free_ops);
	if (c->never_freed != c->allocs + c->split_handles - c->free_ops)
		violation("blocks never freed vs allocations + split pages - frees", c->never_freed,
			  c->allocs + c->split_handles - c->free_ops);
	if (c->events[KMEM_ALLOC] != c->allocs + c->failed_allocs ||
	    c->events[KMEM_ALLOC_ZONE_LOCKED] != c->pcp_refills + c->zone_direct)
		violation("events vs what they became", c->events[KMEM_ALLOC],
			  c->allocs + c->failed_allocs);
}

void fuzz_import(enum kmem_source src, const uint8_t *data, size_t size)
{
	for (int strict = 0; strict <= 1; strict++) {
		struct kmem_counts c;
		char *out = NULL;
		size_t len = 0;

		memset(&c, 0, sizeof(c));
		if (import(src, data, size, strict, &c, &out, &len))
			check(&c, out, len);
		free(out);
	}
}
