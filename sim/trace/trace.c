// SPDX-License-Identifier: MIT
/* Opening traces in either form, and the calls common to both. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hvmm/types.h>

#include "trace.h"

static struct sim_trace_reader *reader_new(FILE *f, bool own, const char *name)
{
	struct sim_trace_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->f = f;
	r->own_file = own;
	snprintf(r->name, sizeof(r->name), "%s", name);
	sim_trace_header_init(&r->header);
	sim_trace_handles_init(&r->handles);
	/* A header that was read is reproduced verbatim, even when it is empty. */
	r->header.text = calloc(1, 1);
	if (!r->header.text) {
		free(r);
		return NULL;
	}
	return r;
}

struct sim_trace_reader *sim_trace_open_stream(FILE *f, const char *name,
					       struct sim_trace_error *err)
{
	struct sim_trace_reader *r = reader_new(f, false, name);
	char magic[SIM_TRACE_MAGIC_LEN];
	size_t n;
	int ret;

	if (!r) {
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory", name);
		return NULL;
	}
	/* The binary magic starts with a byte no text trace starts with. */
	n = fread(magic, 1, 1, f);
	if (n == 1)
		ungetc((unsigned char)magic[0], f);
	if (n == 1 && magic[0] == SIM_TRACE_MAGIC[0])
		ret = sim_trace_binary_open(r, err);
	else
		ret = sim_trace_text_open(r, err);
	if (ret) {
		sim_trace_close(r);
		return NULL;
	}
	return r;
}

struct sim_trace_reader *sim_trace_open(const char *path, struct sim_trace_error *err)
{
	struct sim_trace_reader *r;
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;

	if (!f) {
		snprintf(err->msg, sizeof(err->msg), "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	r = sim_trace_open_stream(f, path, err);
	if (!r) {
		if (f != stdin)
			fclose(f);
		return NULL;
	}
	r->own_file = f != stdin;
	return r;
}

void sim_trace_close(struct sim_trace_reader *r)
{
	if (!r)
		return;
	if (r->ops && r->ops->fini)
		r->ops->fini(r);
	if (r->own_file)
		fclose(r->f);
	sim_trace_header_fini(&r->header);
	sim_trace_handles_fini(&r->handles);
	free(r->buf);
	free(r);
}

enum sim_trace_format sim_trace_format_of(const struct sim_trace_reader *r) { return r->format; }
const struct sim_trace_header *sim_trace_reader_header(const struct sim_trace_reader *r) { return &r->header; }
uint64_t sim_trace_reader_ops(const struct sim_trace_reader *r) { return r->ops_read; }

int sim_trace_read(struct sim_trace_reader *r, struct sim_trace_record *rec,
		   struct sim_trace_error *err)
{
	return r->ops->read(r, rec, err);
}

int sim_trace_read_op(struct sim_trace_reader *r, struct sim_op *op, struct sim_trace_error *err)
{
	struct sim_trace_record rec;
	int ret;

	while ((ret = r->ops->read(r, &rec, err)) > 0) {
		if (rec.type == SIM_TRACE_REC_OP) {
			*op = rec.op;
			return 1;
		}
	}
	return ret;
}

int sim_trace_read_ops(struct sim_trace_reader *r, struct sim_op *ops, size_t max, size_t *n,
		       struct sim_trace_error *err)
{
	struct sim_trace_record rec;
	int ret;

	*n = 0;
	while (*n < max) {
		if (r->ops->read_ops) {
			*n += r->ops->read_ops(r, ops + *n, max - *n);
			if (*n == max || (*n && ops[*n - 1].kind == SIM_OP_SCHED))
				break;
		}
		ret = r->ops->read(r, &rec, err);
		if (ret <= 0)
			return ret;
		if (rec.type != SIM_TRACE_REC_OP)
			continue;
		ops[(*n)++] = rec.op;
		if (rec.op.kind == SIM_OP_SCHED)
			break;
	}
	return 1;
}

void sim_trace_set_outcome(struct sim_op *op, int result)
{
	op->flags &= (uint8_t)~SIM_OP_F_EXPECT;
	op->expect = 0;
	if (result == -HVMM_ENOTSUP)
		return;
	op->flags |= SIM_OP_F_EXPECT;
	op->expect = (int8_t)result;
}

/* --- writers -------------------------------------------------------------- */

enum sim_trace_format sim_trace_format_for_path(const char *path)
{
	size_t n = strlen(path);

	if ((n > 7 && !strcmp(path + n - 7, ".htrace")) || (n > 4 && !strcmp(path + n - 4, ".bin")))
		return SIM_TRACE_BINARY;
	return SIM_TRACE_TEXT;
}

static void writer_free(struct sim_trace_writer *w)
{
	free(w->pending);
	free(w);
}

struct sim_trace_writer *sim_trace_create(const char *path, enum sim_trace_format format,
					  const struct sim_trace_header *h,
					  struct sim_trace_error *err)
{
	struct sim_trace_writer *w = calloc(1, sizeof(*w));
	int ret;

	if (!w) {
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory", path);
		return NULL;
	}
	snprintf(w->name, sizeof(w->name), "%s", path);
	if (sim_outfile_open(&w->out, path)) {
		snprintf(err->msg, sizeof(err->msg), "%s: cannot create: %s", path, strerror(errno));
		writer_free(w);
		return NULL;
	}
	w->f = w->out.f;
	ret = format == SIM_TRACE_BINARY ? sim_trace_binary_start(w, h) : sim_trace_text_start(w, h);
	if (ret) {
		snprintf(err->msg, sizeof(err->msg), "%s: cannot write: %s", path, strerror(errno));
		sim_trace_discard(w);
		return NULL;
	}
	return w;
}

struct sim_trace_writer *sim_trace_create_stream(FILE *f, const char *name,
						 enum sim_trace_format format,
						 const struct sim_trace_header *h,
						 struct sim_trace_error *err)
{
	struct sim_trace_writer *w = calloc(1, sizeof(*w));

	if (!w) {
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory", name);
		return NULL;
	}
	snprintf(w->name, sizeof(w->name), "%s", name);
	w->f = f;
	if (format == SIM_TRACE_BINARY ? sim_trace_binary_start(w, h) : sim_trace_text_start(w, h)) {
		snprintf(err->msg, sizeof(err->msg), "%s: cannot write: %s", name, strerror(errno));
		writer_free(w);
		return NULL;
	}
	return w;
}

int sim_trace_write_op(struct sim_trace_writer *w, const struct sim_op *op)
{
	w->ops_written++;
	return w->ops->op(w, op);
}

int sim_trace_write_line(struct sim_trace_writer *w, const char *line)
{
	return w->ops->line(w, line);
}

int sim_trace_finish(struct sim_trace_writer *w, struct sim_trace_error *err)
{
	int ret = w->ops->finish(w);

	if (w->out.f) {
		if (ret) {
			sim_outfile_discard(&w->out);
		} else {
			ret = sim_outfile_commit(&w->out);
		}
	} else if (fflush(w->f) || ferror(w->f)) {
		ret = -1;
	}
	if (ret)
		snprintf(err->msg, sizeof(err->msg), "%s: write failed: %s", w->name, strerror(errno));
	sim_trace_discard(w);
	return ret;
}

void sim_trace_discard(struct sim_trace_writer *w)
{
	if (!w)
		return;
	if (w->out.f)
		sim_outfile_discard(&w->out);
	writer_free(w);
}
