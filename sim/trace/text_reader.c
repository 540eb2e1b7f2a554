// SPDX-License-Identifier: MIT
/*
 * The text form: "hvmm-trace 1", configuration lines, then one op per
 * line as sim_op_format() writes it, with '#' comment lines anywhere.
 * Lines are read into a fixed buffer: a longer line is an error, never an
 * allocation.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <hvmm/types.h>

#include "trace.h"

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* One argument's value, checked against its type. */
static int parse_value(const struct sim_op_arg *arg, const char *s, uint64_t *v,
		       char *err, size_t errlen)
{
	switch (arg->type) {
	case SIM_ARG_HANDLE:
		if (s[0] != 'h' || !sim_parse_u64(s + 1, v) || *v >= SIM_MAX_HANDLE) {
			snprintf(err, errlen, "%s: a handle h0..h%u; got '%s'", arg->name,
				 SIM_MAX_HANDLE - 1, s);
			return -1;
		}
		return 0;
	case SIM_ARG_VM:
		if (strncmp(s, "vm", 2) || !sim_parse_u64(s + 2, v) || *v > SIM_MAX_VM) {
			snprintf(err, errlen, "a VM vm0..vm%u; got '%s'", SIM_MAX_VM, s);
			return -1;
		}
		return 0;
	case SIM_ARG_ORDER:
		if (!sim_parse_u64(s, v) || *v > 63) {
			snprintf(err, errlen, "%s=N with N an order 0..63; got '%s'", arg->name, s);
			return -1;
		}
		return 0;
	case SIM_ARG_PROT:
		if (sim_prot_from_name(s, v)) {
			snprintf(err, errlen, "%s=none|r|w|rw|x|rx|wx|rwx; got '%s'", arg->name, s);
			return -1;
		}
		return 0;
	default:
		if (!sim_parse_u64(s, v) ||
		    (arg->field == SIM_F_VCPU && *v > UINT32_MAX)) {
			snprintf(err, errlen, "%s=N with N a decimal or 0x hex number%s; got '%s'",
				 arg->name, arg->field == SIM_F_VCPU ? " below 2^32" : " below 2^64", s);
			return -1;
		}
		return 0;
	}
}

/*
 * Copies the token at @p (up to a blank or the end) into @tok; returns its
 * length, and in @eq the offset of its first '=' (-1 if none). Inline, for
 * the bytes of every line of a trace: a strcspn, a memcpy and a strchr
 * per token were a third of reading one.
 */
static size_t token(const char *p, char *tok, ptrdiff_t *eq)
{
	size_t n = 0;

	*eq = -1;
	for (; p[n] && p[n] != ' ' && p[n] != '\t'; n++) {
		if (p[n] == '=' && *eq < 0)
			*eq = (ptrdiff_t)n;
		tok[n] = p[n];
	}
	tok[n] = '\0';
	return n;
}

/* Which argument a token names: "key=value", or bare "hN" / "vmN" for h and vm. */
static int find_arg(const struct sim_op_desc *d, const char *tok, ptrdiff_t eqpos,
		    const char **value)
{
	const char *eq = eqpos >= 0 ? tok + eqpos : NULL;

	for (unsigned int i = 0; i < d->nargs; i++) {
		const struct sim_op_arg *arg = &d->args[i];

		if (eq && tok[0] == arg->name[0] && !strncmp(tok, arg->name, (size_t)eqpos) &&
		    !arg->name[eqpos]) {
			*value = eq + 1;
			return (int)i;
		}
		if (!eq && arg->type == SIM_ARG_HANDLE && arg->field == SIM_F_H && tok[0] == 'h') {
			*value = tok;
			return (int)i;
		}
		if (!eq && arg->type == SIM_ARG_VM && !strncmp(tok, "vm", 2)) {
			*value = tok;
			return (int)i;
		}
	}
	return -1;
}

static void expected_args(const struct sim_op_desc *d, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < d->nargs && n < len; i++) {
		const struct sim_op_arg *arg = &d->args[i];
		const char *fmt = arg->type == SIM_ARG_VM ? "%svmN" :
				  arg->type == SIM_ARG_HANDLE && arg->field == SIM_F_H ? "%shN" :
				  arg->optional ? "%s[%s=...]" : "%s%s=...";
		int w = snprintf(buf + n, len - n, fmt, i ? " " : "", arg->name);

		n += w > 0 ? (size_t)w : 0;
	}
}

int sim_trace_parse_op(const char *line, struct sim_op *op, char *err, size_t errlen)
{
	char tok[SIM_TRACE_MAX_LINE + 1], want[160];
	const struct sim_op_desc *d;
	const char *p = skip_blanks(line);
	unsigned int seen = 0;
	ptrdiff_t eq;
	size_t n;
	int kind;

	memset(op, 0, sizeof(*op));
	n = token(p, tok, &eq);
	kind = sim_op_kind_from_name(tok);
	if (kind < 0) {
		snprintf(err, errlen, "an op name (alloc, free, get, put, split, bm_*, vm_*, s2_*, "
			 "host_*, hyp_*, guest_*, fault, load, store, sched); got '%.60s'", tok);
		return -1;
	}
	op->kind = (uint16_t)kind;
	d = &sim_op_descs[kind];
	for (p = skip_blanks(p + n); *p; p = skip_blanks(p + n)) {
		const char *value;
		uint64_t v;
		int i;

		n = token(p, tok, &eq);
		if (tok[0] == '=') {
			const char *res = tok[1] ? tok + 1 : NULL;
			int result;

			if (!res) {
				p = skip_blanks(p + n);
				n = token(p, tok, &eq);
				res = tok;
			}
			/* "ok", as nearly every line ends, without the table's case-blind search. */
			if (res[0] == 'o' && res[1] == 'k' && !res[2])
				result = 0;
			else if (!*res || sim_result_from_name(res, &result)) {
				snprintf(err, errlen, "'= RESULT' with RESULT ok, EINVAL, ENOMEM, EPERM, "
					 "EEXIST, ENOENT, EBUSY, ERANGE, EFAULT or ENOTSUP; got '%.40s'", res);
				return -1;
			}
			if (*skip_blanks(p + n)) {
				snprintf(err, errlen, "the end of the line after '= %s'", res);
				return -1;
			}
			op->flags |= SIM_OP_F_EXPECT;
			op->expect = (int8_t)result;
			break;
		}
		i = find_arg(d, tok, eq, &value);
		if (i < 0) {
			/* Spelled out only for the message: a snprintf per argument per line was 3% of a replay. */
			expected_args(d, want, sizeof(want));
			snprintf(err, errlen, "%s %s; got '%.60s'", d->name, want, tok);
			return -1;
		}
		if (seen & (1u << i)) {
			snprintf(err, errlen, "%s given once; got it again in '%.60s'", d->args[i].name, tok);
			return -1;
		}
		if (parse_value(&d->args[i], value, &v, err, errlen))
			return -1;
		seen |= 1u << i;
		sim_op_field_set(op, (enum sim_op_field)d->args[i].field, v);
	}
	for (unsigned int i = 0; i < d->nargs; i++) {
		if (!(seen & (1u << i)) && !d->args[i].optional) {
			expected_args(d, want, sizeof(want));
			snprintf(err, errlen, "%s %s; %s is missing", d->name, want, d->args[i].name);
			return -1;
		}
	}
	return 0;
}

/* --- the reader ----------------------------------------------------------- */

/*
 * The text form's state, behind r->buf (its first member, the current
 * line, is what r->buf points at): the line, and the file read ahead a
 * chunk at a time, so that a line costs a memchr and a memcpy rather than
 * a getc per byte.
 */
struct text_in {
	/* One extra byte flags a line already read but not yet returned. */
	char line[SIM_TRACE_MAX_LINE + 2];
	size_t at, len;		/* chunk[at..len) is read but not yet consumed */
	char chunk[64 << 10];
};

static struct text_in *text_in(struct sim_trace_reader *r)
{
	return (struct text_in *)(void *)r->buf;
}

/*
 * Reads one line into r->buf; 1 read, 0 at the end of the file, -1 if it
 * is too long or holds a NUL byte (whichever comes first in the line).
 */
static int read_line(struct sim_trace_reader *r, struct sim_trace_error *err)
{
	struct text_in *t = text_in(r);
	bool newline = false;
	size_t n = 0;

	while (!newline) {
		const char *p, *nl;
		size_t take;

		if (t->at == t->len) {
			t->at = 0;
			t->len = fread(t->chunk, 1, sizeof(t->chunk), r->f);
			if (!t->len)
				break;
		}
		p = t->chunk + t->at;
		nl = memchr(p, '\n', t->len - t->at);
		take = nl ? (size_t)(nl - p) : t->len - t->at;
		if (memchr(p, '\0', hvmm_min(take, (size_t)SIM_TRACE_MAX_LINE - n))) {
			snprintf(err->msg, sizeof(err->msg), "%s:%llu: expected text without NUL bytes "
				 "(a binary trace starts with the hvmm magic)",
				 r->name, (unsigned long long)r->pos + 1);
			return -1;
		}
		if (take > SIM_TRACE_MAX_LINE - n) {
			snprintf(err->msg, sizeof(err->msg), "%s:%llu: expected a line of at most %d bytes",
				 r->name, (unsigned long long)r->pos + 1, SIM_TRACE_MAX_LINE);
			return -1;
		}
		memcpy(t->line + n, p, take);
		n += take;
		t->at += take + (nl != NULL);
		newline = nl != NULL;
	}
	if (!newline && ferror(r->f)) {
		snprintf(err->msg, sizeof(err->msg), "%s:%llu: read error: %s", r->name,
			 (unsigned long long)r->pos + 1, strerror(errno));
		return -1;
	}
	if (!newline && n == 0)
		return 0;
	if (n && t->line[n - 1] == '\r')
		n--;
	t->line[n] = '\0';
	return 1;
}

static bool is_verbatim(const char *line)
{
	line = skip_blanks(line);
	return !*line || *line == '#';
}

static bool is_op_line(const char *line)
{
	char name[32];
	size_t n;

	line = skip_blanks(line);
	n = strcspn(line, " \t");
	if (n >= sizeof(name))
		return false;
	memcpy(name, line, n);
	name[n] = '\0';
	return sim_op_kind_from_name(name) >= 0;
}

static bool is_config_line(const char *line)
{
	struct sim_trace_header scratch;
	char what[256];
	bool ok;

	sim_trace_header_init(&scratch);
	ok = !sim_trace_header_line(&scratch, line, what, sizeof(what));
	sim_trace_header_fini(&scratch);
	return ok;
}

static int fail(struct sim_trace_reader *r, struct sim_trace_error *err, uint64_t line,
		const char *what)
{
	snprintf(err->msg, sizeof(err->msg), "%s:%llu: expected %s", r->name,
		 (unsigned long long)line, what);
	return -1;
}

/* A header describing a machine that cannot be built is wrong where the line at fault is. */
static int check_header(struct sim_trace_reader *r, struct sim_trace_error *err)
{
	char what[512];
	uint64_t at = 0;

	if (!sim_trace_header_check(&r->header, &at, what, sizeof(what)))
		return 0;
	if (!at) {
		snprintf(err->msg, sizeof(err->msg), "%s: expected %s (from the defaults)", r->name,
			 what);
		return -1;
	}
	return fail(r, err, at, what);
}

static int text_read(struct sim_trace_reader *r, struct sim_trace_record *rec,
		     struct sim_trace_error *err)
{
	char what[512];
	int ret;

	if (r->done)
		return 0;
	/* The header reader leaves the first op line in the buffer. */
	if (!r->buf[SIM_TRACE_MAX_LINE + 1]) {
		ret = read_line(r, err);
		if (ret <= 0) {
			r->done = true;
			return ret;
		}
		r->pos++;
	}
	r->buf[SIM_TRACE_MAX_LINE + 1] = 0;
	rec->where = r->pos;
	if (is_verbatim(r->buf)) {
		rec->type = SIM_TRACE_REC_LINE;
		rec->line = r->buf;
		return 1;
	}
	rec->type = SIM_TRACE_REC_OP;
	if (sim_trace_parse_op(r->buf, &rec->op, what, sizeof(what)) ||
	    sim_trace_handles_check(&r->handles, &rec->op, what, sizeof(what))) {
		if (!is_op_line(r->buf) && is_config_line(r->buf))
			snprintf(what, sizeof(what), "an op; configuration lines belong in the header, "
				 "before the first op");
		return fail(r, err, r->pos, what);
	}
	r->ops_read++;
	return 1;
}

static const struct sim_trace_reader_ops text_ops = { .read = text_read };

int sim_trace_text_open(struct sim_trace_reader *r, struct sim_trace_error *err)
{
	char what[512];
	uint64_t version;
	int ret;

	r->ops = &text_ops;
	r->format = SIM_TRACE_TEXT;
	r->buf = malloc(sizeof(struct text_in));
	if (!r->buf)
		return fail(r, err, 1, "memory for a line");
	text_in(r)->at = text_in(r)->len = 0;
	r->buf[SIM_TRACE_MAX_LINE + 1] = 0;
	ret = read_line(r, err);
	if (ret < 0)
		return -1;
	r->pos = 1;
	if (ret == 0 || strncmp(r->buf, "hvmm-trace ", 11))
		return fail(r, err, 1, "'hvmm-trace 1' (the format version line)");
	if (!sim_parse_u64(r->buf + 11, &version) || !version)
		return fail(r, err, 1, "'hvmm-trace N' with N the format version");
	if (version != SIM_TRACE_VERSION) {
		snprintf(err->msg, sizeof(err->msg), "%s:1: expected format version %d; this trace "
			 "is version %llu (written by a %s hvmm)", r->name, SIM_TRACE_VERSION,
			 (unsigned long long)version, version > SIM_TRACE_VERSION ? "newer" : "older");
		return -1;
	}
	/* Configuration and comments up to the first op. */
	for (;;) {
		ret = read_line(r, err);
		if (ret < 0)
			return -1;
		if (ret == 0) {
			r->done = true;
			return check_header(r, err);
		}
		r->pos++;
		if (is_op_line(r->buf)) {
			r->buf[SIM_TRACE_MAX_LINE + 1] = 1;
			return check_header(r, err);
		}
		r->header.at = r->pos;
		if (sim_trace_header_line(&r->header, r->buf, what, sizeof(what)))
			return fail(r, err, r->pos, what);
	}
}
