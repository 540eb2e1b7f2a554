// SPDX-License-Identifier: MIT
/*
 * Reading the binary form. Every length and value is checked before it is
 * used: a truncated or corrupted file yields "file: byte N: expected ...",
 * and nothing is allocated from a length read in the file beyond the
 * fixed limits (SIM_TRACE_MAX_LINE, SIM_TRACE_MAX_HEADER).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <hvmm/types.h>

#include "binary.h"
#include "trace.h"

static int fail(struct sim_trace_reader *r, struct sim_trace_error *err, uint64_t at,
		const char *fmt, const char *what)
{
	snprintf(err->msg, sizeof(err->msg), "%s: byte %llu: expected ", r->name,
		 (unsigned long long)at);
	snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg), fmt, what);
	return -1;
}

/*
 * The file is read ahead in blocks (fread into r->in), not a byte at a
 * time through stdio: a record is a few bytes, and on the replay hot path
 * a getc per byte, with the position kept in memory, cost more than the
 * decoding.
 */
#define READ_AHEAD	(64u << 10)

/* Reads the next block ahead once the last is used up; false at end of file or on an error. */
static bool refill(struct sim_trace_reader *r)
{
	if (r->in_at < r->in_len)
		return true;
	r->in_at = 0;
	r->in_len = fread(r->in, 1, READ_AHEAD, r->f);
	return r->in_len != 0;
}

/* The next byte of the file, or EOF (end of file or a read error). */
static int next_byte(struct sim_trace_reader *r)
{
	if (!refill(r))
		return EOF;
	return r->in[r->in_at++];
}

/* Longest varint below 2^64 (7 bits a byte). */
#define VARINT_MAX	10u

/* A varint of up to nine bytes at @p: the byte after it, or NULL. */
static inline const uint8_t *varint_at(const uint8_t *p, uint64_t *v)
{
	uint64_t x = 0;

	/* Most values of a trace (kinds, results, orders) are one byte, handles two or three. */
	if (__builtin_expect(!(p[0] & 0x80), 1)) {
		*v = p[0];
		return p + 1;
	}
	if (!(p[1] & 0x80)) {
		*v = (p[0] & 0x7fu) | (uint64_t)p[1] << 7;
		return p + 2;
	}
	if (!(p[2] & 0x80)) {
		*v = (p[0] & 0x7fu) | (uint64_t)(p[1] & 0x7f) << 7 | (uint64_t)p[2] << 14;
		return p + 3;
	}
	for (unsigned int i = 0; i < VARINT_MAX - 1; i++) {
		x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = x;
			return p + i + 1;
		}
	}
	return NULL;
}

/* Consumes @n bytes read ahead. */
static inline void advance(struct sim_trace_reader *r, size_t n)
{
	r->in_at += n;
	r->pos += n;
}

/*
 * The checked path of get_arg_varint: a varint that may run past the bytes
 * read ahead, be truncated, or overflow. Only a failure formats anything.
 */
static __attribute__((noinline)) int get_arg_varint_slow(struct sim_trace_reader *r, uint64_t *v,
							 const char *op, const char *what,
							 struct sim_trace_error *err)
{
	uint64_t at = r->pos, x = 0;
	char both[96];

	for (unsigned int shift = 0; ; shift += 7) {
		int c = next_byte(r);

		if (c == EOF || (shift == 63 && (c & 0xfe))) {
			if (op) {
				snprintf(both, sizeof(both), "%s's %s", op, what);
				what = both;
			}
			if (c == EOF)
				return fail(r, err, r->pos, "%s (the file is truncated)", what);
			return fail(r, err, at, "%s as a varint below 2^64", what);
		}
		r->pos++;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			break;
	}
	*v = x;
	return 0;
}

/*
 * 0 and the value, or -1 with @err naming what was expected (truncation or
 * overflow): "@op's @what" if @op is set, else @what. A varint of up to
 * nine bytes (below 2^63) wholly read ahead is decoded here, from the
 * buffer; anything else takes the checked path.
 */
static inline int get_arg_varint(struct sim_trace_reader *r, uint64_t *v, const char *op,
				 const char *what, struct sim_trace_error *err)
{
	const uint8_t *start = r->in + r->in_at, *p;

	if (r->in_len - r->in_at >= VARINT_MAX && (p = varint_at(start, v))) {
		advance(r, (size_t)(p - start));
		return 0;
	}
	return get_arg_varint_slow(r, v, op, what, err);
}

static int get_varint(struct sim_trace_reader *r, uint64_t *v, const char *what,
		      struct sim_trace_error *err)
{
	return get_arg_varint(r, v, NULL, what, err);
}

/* @n bytes into r->buf, NUL-terminated. */
static int get_bytes(struct sim_trace_reader *r, size_t n, const char *what,
		     struct sim_trace_error *err)
{
	size_t got = 0;

	while (got < n) {
		size_t chunk;

		if (!refill(r))
			break;
		chunk = hvmm_min(n - got, r->in_len - r->in_at);
		memcpy(r->buf + got, r->in + r->in_at, chunk);
		r->in_at += chunk;
		got += chunk;
	}
	r->pos += got;
	if (got != n)
		return fail(r, err, r->pos, "%s (the file is truncated)", what);
	r->buf[n] = '\0';
	if (memchr(r->buf, '\0', n))
		return fail(r, err, r->pos - n, "%s without NUL bytes", what);
	return 0;
}

/* The largest value sim_trace_parse_op() would accept for this argument. */
static uint64_t value_max(const struct sim_op_arg *arg)
{
	switch (arg->type) {
	case SIM_ARG_HANDLE: return SIM_MAX_HANDLE - 1;
	case SIM_ARG_VM: return SIM_MAX_VM;
	case SIM_ARG_ORDER: return 63;
	case SIM_ARG_PROT: return UINT32_MAX;	/* the host's word, checked by mm/ */
	default: return arg->field == SIM_F_VCPU ? UINT32_MAX : UINT64_MAX;
	}
}

static inline bool value_ok(const struct sim_op_arg *arg, uint64_t v)
{
	return v <= value_max(arg);
}

/*
 * Each kind's arguments as read_op_fast() stores them: the largest value
 * accepted, and where in struct sim_op the value goes and how wide it is,
 * found once at start-up from sim_op_descs[] (a switch on the argument's
 * type and another on its field were a third of decoding an op).
 */
struct arg_slot {
	uint64_t max;
	uint8_t off;
	uint8_t wide;	/* a uint64_t field, else a uint32_t */
};

static struct arg_slot arg_slots[SIM_OP__COUNT][SIM_OP_MAX_ARGS];

__attribute__((constructor)) static void arg_slots_init(void)
{
	static const uint8_t offs[] = {
		[SIM_F_H] = offsetof(struct sim_op, h), [SIM_F_H2] = offsetof(struct sim_op, h2),
		[SIM_F_VM] = offsetof(struct sim_op, vm), [SIM_F_VCPU] = offsetof(struct sim_op, vcpu),
		[SIM_F_A] = offsetof(struct sim_op, a), [SIM_F_B] = offsetof(struct sim_op, b),
		[SIM_F_C] = offsetof(struct sim_op, c), [SIM_F_D] = offsetof(struct sim_op, d),
	};

	for (unsigned int k = 0; k < SIM_OP__COUNT; k++) {
		for (unsigned int i = 0; i < sim_op_descs[k].nargs; i++) {
			const struct sim_op_arg *arg = &sim_op_descs[k].args[i];

			arg_slots[k][i] = (struct arg_slot){
				.max = value_max(arg), .off = offs[arg->field],
				.wide = arg->field >= SIM_F_A,
			};
		}
	}
}

static int read_op(struct sim_trace_reader *r, uint64_t tag, struct sim_op *op,
		   struct sim_trace_error *err)
{
	uint64_t kind = (tag - SIM_TRACE_TAG_OP) / 2, v, at = r->pos;
	const struct sim_op_desc *d;
	char what[256];

	memset(op, 0, sizeof(*op));
	if (kind >= SIM_OP__COUNT)
		return fail(r, err, r->pos - 1, "%s", "a record tag (0 line, 1 end, 2+ an op kind)");
	d = &sim_op_descs[kind];
	op->kind = (uint16_t)kind;
	if ((tag - SIM_TRACE_TAG_OP) & 1) {
		if (get_varint(r, &v, "an expected result", err))
			return -1;
		if (v > HVMM_ERRNO_MAX)
			return fail(r, err, at, "%s", "an expected result 0..9");
		op->flags |= SIM_OP_F_EXPECT;
		op->expect = (int8_t)-(int)v;
	}
	for (unsigned int i = 0; i < d->nargs; i++) {
		const struct sim_op_arg *arg = &d->args[i];

		at = r->pos;
		if (get_arg_varint(r, &v, d->name, arg->name, err))
			return -1;
		if (!value_ok(arg, v)) {
			snprintf(what, sizeof(what), "%s's %s", d->name, arg->name);
			return fail(r, err, at, "%s in range", what);
		}
		sim_op_field_set(op, (enum sim_op_field)arg->field, v);
	}
	if (sim_trace_handles_check(&r->handles, op, what, sizeof(what)))
		return fail(r, err, at, "%s", what);
	return 0;
}

/* The longest op record: its tag, expected result and arguments. */
#define OP_RECORD_MAX	((2 + SIM_OP_MAX_ARGS) * VARINT_MAX)

/*
 * The replay hot path: an op record wholly read ahead, decoded from the
 * buffer with its position in registers. 1 if it was one, valid and
 * consumed; 0 if it was anything else (another record, a value out of
 * range, an undefined handle), left unread for read_op and binary_read to
 * read again and report exactly as they always do.
 */
static int read_op_fast(struct sim_trace_reader *r, struct sim_op *op)
{
	const uint8_t *start = r->in + r->in_at, *p;
	const struct arg_slot *slot;
	uint64_t tag, kind, v;
	unsigned int nargs;
	char what[256];

	p = varint_at(start, &tag);
	if (!p || tag < SIM_TRACE_TAG_OP || (kind = (tag - SIM_TRACE_TAG_OP) / 2) >= SIM_OP__COUNT)
		return 0;
	memset(op, 0, sizeof(*op));
	op->kind = (uint16_t)kind;
	if ((tag - SIM_TRACE_TAG_OP) & 1) {
		p = varint_at(p, &v);
		if (!p || v > HVMM_ERRNO_MAX)
			return 0;
		op->flags |= SIM_OP_F_EXPECT;
		op->expect = (int8_t)-(int)v;
	}
	slot = arg_slots[kind];
	nargs = sim_op_descs[kind].nargs;
	for (unsigned int i = 0; i < nargs; i++, slot++) {
		p = varint_at(p, &v);
		if (!p || v > slot->max)
			return 0;
		if (slot->wide) {
			memcpy((uint8_t *)op + slot->off, &v, sizeof(uint64_t));
		} else {
			uint32_t v32 = (uint32_t)v;

			memcpy((uint8_t *)op + slot->off, &v32, sizeof(v32));
		}
	}
	/* read_op runs a failed check again, and reports it. */
	if (!sim_trace_handles_ok(&r->handles, op) &&
	    sim_trace_handles_check(&r->handles, op, what, sizeof(what)))
		return 0;
	advance(r, (size_t)(p - start));
	return 1;
}

static int binary_read(struct sim_trace_reader *r, struct sim_trace_record *rec,
		       struct sim_trace_error *err)
{
	uint64_t tag, n;

	if (r->done)
		return 0;
	rec->where = r->pos;
	if (r->in_len - r->in_at >= OP_RECORD_MAX && read_op_fast(r, &rec->op)) {
		rec->type = SIM_TRACE_REC_OP;
		r->ops_read++;
		return 1;
	}
	if (get_varint(r, &tag, "a record tag or the end record", err))
		return -1;
	if (tag == SIM_TRACE_TAG_LINE) {
		if (get_varint(r, &n, "a line length", err))
			return -1;
		if (n > SIM_TRACE_MAX_LINE)
			return fail(r, err, rec->where + 1, "a line of at most %s bytes", "4096");
		if (get_bytes(r, (size_t)n, "a comment line", err))
			return -1;
		if (strchr(r->buf, '\n') || (r->buf[strspn(r->buf, " \t")] &&
					      r->buf[strspn(r->buf, " \t")] != '#'))
			return fail(r, err, rec->where, "%s", "a comment ('#...') or blank line");
		/*
		 * The text form cannot tell lines before the first op from
		 * header lines, so they belong in the header: a line record
		 * there would not survive binary -> text -> binary.
		 */
		if (!r->ops_read)
			return fail(r, err, rec->where, "%s",
				    "an op record (lines before the first op belong in the header)");
		rec->type = SIM_TRACE_REC_LINE;
		rec->line = r->buf;
		return 1;
	}
	if (tag == SIM_TRACE_TAG_END) {
		uint64_t at = r->pos;

		if (get_varint(r, &n, "the op count of the end record", err))
			return -1;
		if (n != r->ops_read) {
			char what[96];

			snprintf(what, sizeof(what), "%llu ops as the end record says; the trace has %llu",
				 (unsigned long long)n, (unsigned long long)r->ops_read);
			return fail(r, err, at, "%s", what);
		}
		if (next_byte(r) != EOF)
			return fail(r, err, r->pos, "%s", "the end of the file after the end record");
		r->done = true;
		return 0;
	}
	rec->type = SIM_TRACE_REC_OP;
	if (read_op(r, tag, &rec->op, err))
		return -1;
	r->ops_read++;
	return 1;
}

static size_t binary_read_ops(struct sim_trace_reader *r, struct sim_op *ops, size_t max)
{
	size_t k = 0;

	if (r->done)
		return 0;
	while (k < max && r->in_len - r->in_at >= OP_RECORD_MAX && read_op_fast(r, &ops[k])) {
		r->ops_read++;
		if (ops[k++].kind == SIM_OP_SCHED)
			break;
	}
	return k;
}

static int parse_header(struct sim_trace_reader *r, uint64_t at, struct sim_trace_error *err)
{
	char *text = strdup(r->buf), *line, *nl;
	char what[512];
	int ret = 0;

	if (!text)
		return fail(r, err, at, "%s", "memory for the header");
	for (line = text; *line && !ret; line = nl + 1) {
		uint64_t line_at = at + (uint64_t)(line - text);

		nl = strchr(line, '\n');
		if (!nl) {
			ret = fail(r, err, line_at, "%s", "header lines each ending in a newline");
			break;
		}
		*nl = '\0';
		r->header.at = line_at;
		if (sim_trace_header_line(&r->header, line, what, sizeof(what)))
			ret = fail(r, err, line_at, "%s", what);
	}
	free(text);
	if (!ret) {
		uint64_t fault = 0;

		if (sim_trace_header_check(&r->header, &fault, what, sizeof(what)))
			ret = fail(r, err, fault ? fault : at, "%s", what);
	}
	return ret;
}

static void binary_fini(struct sim_trace_reader *r)
{
	free(r->in);
	r->in = NULL;
}

static const struct sim_trace_reader_ops binary_ops = {
	.read = binary_read, .read_ops = binary_read_ops, .fini = binary_fini,
};

int sim_trace_binary_open(struct sim_trace_reader *r, struct sim_trace_error *err)
{
	char magic[SIM_TRACE_MAGIC_LEN];
	uint64_t version, len;
	char what[512];

	r->ops = &binary_ops;
	r->format = SIM_TRACE_BINARY;
	r->buf = malloc(SIM_TRACE_MAX_HEADER + 1);
	r->in = malloc(READ_AHEAD);
	if (!r->buf || !r->in)
		return fail(r, err, 0, "%s", "memory for the header");
	if (fread(magic, 1, SIM_TRACE_MAGIC_LEN, r->f) != SIM_TRACE_MAGIC_LEN ||
	    memcmp(magic, SIM_TRACE_MAGIC, SIM_TRACE_MAGIC_LEN))
		return fail(r, err, 0, "%s", "the hvmm binary trace magic \\x89hvmmTR\\n");
	r->pos = SIM_TRACE_MAGIC_LEN;
	if (get_varint(r, &version, "the format version", err))
		return -1;
	if (version != SIM_TRACE_VERSION) {
		snprintf(what, sizeof(what), "format version %d; this trace is version %llu",
			 SIM_TRACE_VERSION, (unsigned long long)version);
		return fail(r, err, SIM_TRACE_MAGIC_LEN, "%s", what);
	}
	if (get_varint(r, &len, "the header length", err))
		return -1;
	if (len > SIM_TRACE_MAX_HEADER - 1)
		return fail(r, err, r->pos - 1, "a header of at most %s bytes", "65535");
	if (get_bytes(r, (size_t)len, "the header text", err))
		return -1;
	/* The header text is the text form's header lines: parse them the same way. */
	return parse_header(r, r->pos - len, err);
}
