// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the trace parser (text and binary, sim/trace). Any input
 * must either parse or be rejected with an error, never crash (ROBUST);
 * a trace that parses must convert to the other form and back losslessly
 * (the two forms are one format): same header, same records.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "trace/trace.h"

#define MAX_RECORDS 4096

const struct fuzz_target fuzz_target = {
	.name = "trace",
	.raw_trace = true,
};

struct parsed {
	char *header;
	struct sim_trace_record rec[MAX_RECORDS];
	char *lines[MAX_RECORDS];
	unsigned int n;
	enum sim_trace_format format;
};

static void parsed_free(struct parsed *p)
{
	free(p->header);
	for (unsigned int i = 0; i < p->n; i++)
		free(p->lines[i]);
	p->n = 0;
	p->header = NULL;
}

/* Parses @data; 0 if it is a trace (at most MAX_RECORDS records are kept). */
static int parse(const void *data, size_t size, struct parsed *p, struct sim_trace_header *hdr)
{
	FILE *f = fmemopen((void *)data, size, "rb");
	struct sim_trace_reader *r;
	struct sim_trace_error err;
	struct sim_trace_record rec;
	char buf[4096];
	int ret = 0;

	p->n = 0;
	p->header = NULL;
	if (!f)
		return -1;
	r = sim_trace_open_stream(f, "input", &err);
	if (!r) {
		fclose(f);
		return -1;
	}
	p->format = sim_trace_format_of(r);
	p->header = strdup(sim_trace_header_text(sim_trace_reader_header(r), buf, sizeof(buf)));
	if (hdr)
		hdr->cfg = sim_trace_reader_header(r)->cfg;
	while (p->n < MAX_RECORDS && (ret = sim_trace_read(r, &rec, &err)) > 0) {
		p->rec[p->n] = rec;
		p->lines[p->n] = rec.type == SIM_TRACE_REC_LINE ? strdup(rec.line) : NULL;
		p->rec[p->n].line = NULL;
		p->n++;
	}
	sim_trace_close(r);
	fclose(f);
	if (ret < 0 || !p->header) {
		parsed_free(p);
		return -1;
	}
	return 0;
}

static bool same_op(const struct sim_op *a, const struct sim_op *b)
{
	return a->kind == b->kind && a->flags == b->flags &&
	       (!(a->flags & SIM_OP_F_EXPECT) || a->expect == b->expect) &&
	       a->h == b->h && a->h2 == b->h2 && a->vm == b->vm && a->vcpu == b->vcpu &&
	       a->a == b->a && a->b == b->b && a->c == b->c && a->d == b->d;
}

static void lossy(const char *what, unsigned int i)
{
	fprintf(stderr, "VIOLATION ROBUST at record %u: trace conversion is not lossless: %s\n"
		"==hvmm-fuzz== trace: the input is the reproducer\n", i, what);
	abort();
}

/* Writes @p in @format into memory. */
static char *convert(const struct parsed *p, struct sim_trace_header *h,
		     enum sim_trace_format format, size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);
	struct sim_trace_writer *w;
	struct sim_trace_error err;
	int ret = 0;

	if (!f)
		return NULL;
	w = sim_trace_create_stream(f, "converted", format, h, &err);
	if (!w) {
		fclose(f);
		free(out);
		return NULL;
	}
	for (unsigned int i = 0; i < p->n; i++)
		ret |= p->rec[i].type == SIM_TRACE_REC_OP ? sim_trace_write_op(w, &p->rec[i].op)
							  : sim_trace_write_line(w, p->lines[i]);
	ret |= sim_trace_finish(w, &err);
	fclose(f);
	if (ret) {
		free(out);
		return NULL;
	}
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct parsed a, b;
	struct sim_trace_header h;
	enum sim_trace_format other;
	size_t len = 0;
	char *conv;

	if (!size || parse(data, size, &a, NULL))
		return 0;	/* rejected with an error: fine */
	/* Rebuild the header from its own text so the writer reproduces it verbatim. */
	{
		FILE *f = fmemopen((void *)data, size, "rb");
		struct sim_trace_error err;
		struct sim_trace_reader *r = f ? sim_trace_open_stream(f, "input", &err) : NULL;

		if (!r)
			lossy("the input parses once but not twice", 0);
		h = *sim_trace_reader_header(r);
		h.text = h.text ? strdup(h.text) : NULL;
		sim_trace_close(r);
		fclose(f);
	}
	other = a.format == SIM_TRACE_TEXT ? SIM_TRACE_BINARY : SIM_TRACE_TEXT;
	conv = convert(&a, &h, other, &len);
	free(h.text);
	if (!conv)
		lossy("the parsed trace cannot be written", 0);
	if (parse(conv, len, &b, NULL))
		lossy("the converted trace does not parse", 0);
	free(conv);
	if (strcmp(a.header, b.header))
		lossy("the header changed", 0);
	if (a.n != b.n)
		lossy("the number of records changed", a.n < b.n ? a.n : b.n);
	for (unsigned int i = 0; i < a.n; i++) {
		if (a.rec[i].type != b.rec[i].type)
			lossy("a record changed type", i);
		if (a.rec[i].type == SIM_TRACE_REC_OP ? !same_op(&a.rec[i].op, &b.rec[i].op)
						       : strcmp(a.lines[i], b.lines[i]))
			lossy("a record changed", i);
	}
	parsed_free(&a);
	parsed_free(&b);
	return 0;
}
