// SPDX-License-Identifier: MIT
/*
 * The binary form: LEB128 varints, one record per op or verbatim line.
 * Lines before the first op are header lines (as in the text form), so the
 * header is written when the first op or the end comes, with them in it.
 */
#include <stdlib.h>
#include <string.h>

#include "binary.h"
#include "trace.h"

static int put_varint(FILE *f, uint64_t v)
{
	unsigned char buf[SIM_TRACE_VARINT_MAX];
	size_t n = 0;

	do {
		buf[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			buf[n] |= 0x80;
		n++;
	} while (v);
	return fwrite(buf, 1, n, f) == n ? 0 : -1;
}

static int put_bytes(FILE *f, const char *s, size_t n)
{
	if (put_varint(f, n))
		return -1;
	return fwrite(s, 1, n, f) == n ? 0 : -1;
}

static int put_header(struct sim_trace_writer *w)
{
	int ret;

	if (!w->pending)
		return 0;
	ret = put_bytes(w->f, w->pending, w->pending_len);
	free(w->pending);
	w->pending = NULL;
	return ret;
}

static int binary_op(struct sim_trace_writer *w, const struct sim_op *op)
{
	const struct sim_op_desc *d = &sim_op_descs[op->kind];
	bool expect = op->flags & SIM_OP_F_EXPECT;
	int ret = put_header(w);

	ret |= put_varint(w->f, SIM_TRACE_TAG_OP + 2u * op->kind + expect);

	if (expect)
		ret |= put_varint(w->f, (uint64_t)-(int64_t)op->expect);
	for (unsigned int i = 0; i < d->nargs; i++)
		ret |= put_varint(w->f, sim_op_field_get(op, (enum sim_op_field)d->args[i].field));
	return ret ? -1 : 0;
}

static int binary_line(struct sim_trace_writer *w, const char *line)
{
	size_t n = strlen(line);

	if (w->pending) {
		char *t;

		if (w->pending_len + n + 1 >= SIM_TRACE_MAX_HEADER)
			return -1;
		t = realloc(w->pending, w->pending_len + n + 2);
		if (!t)
			return -1;
		memcpy(t + w->pending_len, line, n);
		w->pending_len += n;
		t[w->pending_len++] = '\n';
		t[w->pending_len] = '\0';
		w->pending = t;
		return 0;
	}
	if (put_varint(w->f, SIM_TRACE_TAG_LINE))
		return -1;
	return put_bytes(w->f, line, strlen(line));
}

static int binary_finish(struct sim_trace_writer *w)
{
	if (put_header(w) || put_varint(w->f, SIM_TRACE_TAG_END))
		return -1;
	return put_varint(w->f, w->ops_written);
}

static const struct sim_trace_writer_ops binary_writer_ops = {
	.op = binary_op, .line = binary_line, .finish = binary_finish,
};

int sim_trace_binary_start(struct sim_trace_writer *w, const struct sim_trace_header *h)
{
	char buf[SIM_TRACE_MAX_HEADER];
	const char *text = sim_trace_header_text(h, buf, sizeof(buf));

	w->ops = &binary_writer_ops;
	if (fwrite(SIM_TRACE_MAGIC, 1, SIM_TRACE_MAGIC_LEN, w->f) != SIM_TRACE_MAGIC_LEN)
		return -1;
	if (put_varint(w->f, SIM_TRACE_VERSION))
		return -1;
	w->pending_len = strlen(text);
	w->pending = malloc(w->pending_len + 1);
	if (!w->pending)
		return -1;
	memcpy(w->pending, text, w->pending_len + 1);
	return 0;
}
