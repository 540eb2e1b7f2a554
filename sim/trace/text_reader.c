// SPDX-License-Identifier: MIT
/*
 * The text form: "hvmm-trace 1", configuration lines, then one op per
 * line as sim_op_format() writes it, with '#' comment lines anywhere.
 * Lines are read into a fixed buffer: a longer line is an error, never an
 * allocation.
 */
#define _GNU_SOURCE	/* strchrnul */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <hvmm/types.h>

#include "trace.h"

/* Bytes that end a token, or start the value in one: a load and a test per byte. */
enum { C_END = 1, C_BLANK = 2, C_EQ = 4 };

static const uint8_t byte_class[256] = {
	[0] = C_END, [' '] = C_BLANK, ['\t'] = C_BLANK, ['='] = C_EQ,
};

static inline const char *skip_blanks(const char *p)
{
	while (byte_class[(unsigned char)*p] & C_BLANK)
		p++;
	return p;
}

/* A token of a line: @n bytes at @s, the first '=' at @eq (-1 if none). */
struct tok {
	const char *s;
	size_t n;
	ptrdiff_t eq;
};

/*
 * The token at @p, up to a blank or the end of the line, in place: no
 * copy, and the '=' found in the same pass (a copy per token and a
 * NUL-terminated parse of each value were most of reading an op).
 */
static inline struct tok token(const char *p)
{
	struct tok t = { p, 0, -1 };

	for (;; t.n++) {
		unsigned int c = byte_class[(unsigned char)p[t.n]];

		if (__builtin_expect(!c, 1))
			continue;
		if (c & (C_END | C_BLANK))
			break;
		if (t.eq < 0)
			t.eq = (ptrdiff_t)t.n;
	}
	return t;
}

static inline bool starts_vm(const char *s, size_t n)
{
	return n >= 2 && s[0] == 'v' && s[1] == 'm';
}

/* One argument's value (@n bytes at @s), checked against its type. */
static int parse_value(const struct sim_op_arg *arg, const char *s, size_t n, uint64_t *v,
		       char *err, size_t errlen)
{
	switch (arg->type) {
	case SIM_ARG_HANDLE:
		if (!n || s[0] != 'h' || !sim_parse_u64_span(s + 1, n - 1, v) ||
		    *v >= SIM_MAX_HANDLE) {
			snprintf(err, errlen, "%s: a handle h0..h%u; got '%.*s'", arg->name,
				 SIM_MAX_HANDLE - 1, (int)n, s);
			return -1;
		}
		return 0;
	case SIM_ARG_VM:
		if (!starts_vm(s, n) || !sim_parse_u64_span(s + 2, n - 2, v) || *v > SIM_MAX_VM) {
			snprintf(err, errlen, "a VM vm0..vm%u; got '%.*s'", SIM_MAX_VM, (int)n, s);
			return -1;
		}
		return 0;
	case SIM_ARG_ORDER:
		if (!sim_parse_u64_span(s, n, v) || *v > 63) {
			snprintf(err, errlen, "%s=N with N an order 0..63; got '%.*s'", arg->name,
				 (int)n, s);
			return -1;
		}
		return 0;
	case SIM_ARG_PROT:
		if (sim_prot_from_span(s, n, v)) {
			snprintf(err, errlen, "%s=none|r|w|rw|x|rx|wx|rwx or a number up to 0xffffffff; got '%.*s'", arg->name,
				 (int)n, s);
			return -1;
		}
		return 0;
	default:
		if (!sim_parse_u64_span(s, n, v) ||
		    (arg->field == SIM_F_VCPU && *v > UINT32_MAX)) {
			snprintf(err, errlen, "%s=N with N a decimal or 0x hex number%s; got '%.*s'",
				 arg->name, arg->field == SIM_F_VCPU ? " below 2^32" : " below 2^64",
				 (int)n, s);
			return -1;
		}
		return 0;
	}
}

/* Whether the @n bytes at @key (no NUL among them) spell @name. */
static inline bool key_is(const char *name, const char *key, size_t n)
{
	size_t i = 0;

	while (i < n && name[i] == key[i])
		i++;
	return i == n && !name[n];
}

/*
 * Which argument a token names: "key=value", or bare "hN" / "vmN" for h
 * and vm; its value in @val, @vn bytes.
 */
static int find_arg(const struct sim_op_desc *d, struct tok t, const char **val, size_t *vn)
{
	for (unsigned int i = 0; i < d->nargs; i++) {
		const struct sim_op_arg *arg = &d->args[i];

		if (t.eq >= 0) {
			if (key_is(arg->name, t.s, (size_t)t.eq)) {
				*val = t.s + t.eq + 1;
				*vn = t.n - (size_t)t.eq - 1;
				return (int)i;
			}
			continue;
		}
		if ((arg->type == SIM_ARG_HANDLE && arg->field == SIM_F_H && t.s[0] == 'h') ||
		    (arg->type == SIM_ARG_VM && starts_vm(t.s, t.n))) {
			*val = t.s;
			*vn = t.n;
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

/* "= RESULT" at the end of a line: the token @t starts with '='. */
static int parse_result(struct tok t, struct sim_op *op, char *err, size_t errlen)
{
	const char *res = t.s + 1;
	size_t rn = t.n - 1;
	int result;

	if (!rn) {
		t = token(skip_blanks(t.s + t.n));
		res = t.s;
		rn = t.n;
	}
	/* "ok", as nearly every line ends, without the table's case-blind search. */
	if (rn == 2 && res[0] == 'o' && res[1] == 'k') {
		result = 0;
	} else {
		char name[16];

		if (!rn || rn >= sizeof(name) ||
		    (memcpy(name, res, rn), name[rn] = '\0', sim_result_from_name(name, &result))) {
			snprintf(err, errlen, "'= RESULT' with RESULT ok, EINVAL, ENOMEM, EPERM, "
				 "EEXIST, ENOENT, EBUSY, ERANGE, EFAULT or ENOTSUP; got '%.*s'",
				 (int)hvmm_min(rn, (size_t)40), res);
			return -1;
		}
	}
	if (*skip_blanks(res + rn)) {
		snprintf(err, errlen, "the end of the line after '= %.*s'", (int)rn, res);
		return -1;
	}
	op->flags |= SIM_OP_F_EXPECT;
	op->expect = (int8_t)result;
	return 0;
}

/*
 * The arguments of each kind that are not optional, as a mask of their
 * indexes, built at start-up: a test per line instead of a loop.
 */
static uint8_t required_args[SIM_OP__COUNT];

__attribute__((constructor)) static void required_args_init(void)
{
	for (unsigned int k = 0; k < SIM_OP__COUNT; k++)
		for (unsigned int i = 0; i < sim_op_descs[k].nargs; i++)
			if (!sim_op_descs[k].args[i].optional)
				required_args[k] |= (uint8_t)(1u << i);
}

/* Every argument that is not optional was given. */
static inline int check_missing(const struct sim_op_desc *d, unsigned int seen, char *err,
				size_t errlen)
{
	char want[160];

	if (__builtin_expect(!(required_args[d - sim_op_descs] & ~seen), 1))
		return 0;
	for (unsigned int i = 0; i < d->nargs; i++) {
		if (!(seen & (1u << i)) && !d->args[i].optional) {
			expected_args(d, want, sizeof(want));
			snprintf(err, errlen, "%s %s; %s is missing", d->name, want, d->args[i].name);
			return -1;
		}
	}
	return 0;
}

int sim_trace_parse_op(const char *line, struct sim_op *op, char *err, size_t errlen)
{
	const struct sim_op_desc *d;
	unsigned int seen = 0;
	struct tok t;
	char want[160];
	int kind;

	*op = (struct sim_op){ 0 };
	t = token(skip_blanks(line));
	kind = sim_op_kind_from_span(t.s, t.n);
	if (kind < 0) {
		snprintf(err, errlen, "an op name (alloc, free, get, put, split, bm_*, vm_*, s2_*, "
			 "host_*, hyp_*, guest_*, fault, load, store, sched); got '%.*s'",
			 (int)hvmm_min(t.n, (size_t)60), t.s);
		return -1;
	}
	op->kind = (uint16_t)kind;
	d = &sim_op_descs[kind];
	for (const char *p = skip_blanks(t.s + t.n); *p; p = skip_blanks(t.s + t.n)) {
		const char *val;
		size_t vn;
		uint64_t v;
		int i;

		t = token(p);
		if (t.s[0] == '=')
			return parse_result(t, op, err, errlen) ? -1 : check_missing(d, seen, err, errlen);
		i = find_arg(d, t, &val, &vn);
		if (i < 0) {
			/* Spelled out only for the message: a snprintf per argument per line was 3% of a replay. */
			expected_args(d, want, sizeof(want));
			snprintf(err, errlen, "%s %s; got '%.*s'", d->name, want,
				 (int)hvmm_min(t.n, (size_t)60), t.s);
			return -1;
		}
		if (seen & (1u << i)) {
			snprintf(err, errlen, "%s given once; got it again in '%.*s'", d->args[i].name,
				 (int)hvmm_min(t.n, (size_t)60), t.s);
			return -1;
		}
		if (parse_value(&d->args[i], val, vn, &v, err, errlen))
			return -1;
		seen |= 1u << i;
		sim_op_field_set(op, (enum sim_op_field)d->args[i].field, v);
	}
	return check_missing(d, seen, err, errlen);
}

/*
 * A number as sim_parse_u64_span() reads it, scanned and converted in one
 * pass: up to 19 decimal digits, or 0x and up to 16 hex digits (what it
 * reads without an overflow check), ending at a blank or the end of the
 * line. The byte after it, or NULL for anything else.
 */
static inline const char *fast_number(const char *p, uint64_t *out)
{
	const char *start;
	uint64_t v = 0;
	unsigned int d;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		for (start = p += 2;; p++) {
			unsigned int c = (unsigned char)*p;

			if (c - '0' < 10)
				d = c - '0';
			else if ((c | 0x20) - 'a' < 6)
				d = (c | 0x20) - 'a' + 10;
			else
				break;
			v = v << 4 | d;
		}
		if (p - start > 16)
			return NULL;
	} else {
		for (start = p; (d = (unsigned int)(unsigned char)*p - '0') <= 9; p++)
			v = v * 10 + d;
		/* Longer, it may have wrapped: sim_trace_parse_op() reads it. */
		if (p - start > 19)
			return NULL;
	}
	if (p == start || !(byte_class[(unsigned char)*p] & (C_END | C_BLANK)))
		return NULL;
	*out = v;
	return p;
}

/* skip_blanks() where one space is the most likely. */
static inline const char *skip_space(const char *p)
{
	if (p[0] == ' ' && !(byte_class[(unsigned char)p[1]] & C_BLANK))
		return p + 1;
	return skip_blanks(p);
}

/*
 * Op names for parse_op_fast(), by a hash of their length and first and
 * last bytes, with their bytes beside them: one probe and a compare in
 * place of sim_op_kind_from_span()'s call (half of its 54 instructions a
 * line). A name that does not fit is not listed: its lines take the
 * general parser.
 */
#define NAME_SLOTS 256u
#define NAME_MAX_LEN 23u

struct name_slot {
	char name[NAME_MAX_LEN];
	uint8_t len;
	uint8_t kind_plus1;	/* 0: an empty slot */
};

static struct name_slot name_slots[NAME_SLOTS];

static inline unsigned int name_hash(const char *s, size_t len)
{
	return ((unsigned int)(unsigned char)s[0] * 7u + (unsigned int)(unsigned char)s[len - 1] * 3u +
		(unsigned int)len) % NAME_SLOTS;
}

__attribute__((constructor)) static void name_slots_init(void)
{
	for (unsigned int k = 0; k < SIM_OP__COUNT; k++) {
		size_t len = strlen(sim_op_descs[k].name);
		unsigned int h;

		if (!len || len > NAME_MAX_LEN)
			continue;
		for (h = name_hash(sim_op_descs[k].name, len); name_slots[h].kind_plus1;
		     h = (h + 1) % NAME_SLOTS)
			;
		memcpy(name_slots[h].name, sim_op_descs[k].name, len);
		name_slots[h].len = (uint8_t)len;
		name_slots[h].kind_plus1 = (uint8_t)(k + 1);
	}
}

/* The kind named by the @len (> 0) bytes at @s, or -1 if the table has none. */
static inline int fast_kind(const char *s, size_t len)
{
	for (unsigned int h = name_hash(s, len);; h = (h + 1) % NAME_SLOTS) {
		const struct name_slot *n = &name_slots[h];
		size_t i = 0;

		if (!n->kind_plus1)
			return -1;
		if (n->len != len)
			continue;
		while (i < len && n->name[i] == s[i])
			i++;
		if (i == len)
			return n->kind_plus1 - 1;
	}
}

/* Past "@name=" if @p starts with it, else NULL. */
static inline const char *skip_key(const char *p, const char *name)
{
	while (*name && *p == *name)
		p++, name++;
	return !*name && *p == '=' ? p + 1 : NULL;
}

/*
 * sim_trace_parse_op() for a line laid out as sim_op_format() writes it
 * (the name, then the arguments in the order of sim_op_descs[], bare
 * "hN" and "vmN" or "key=value", then "= RESULT" if any), in one pass
 * over its bytes: no token is scanned twice and no argument looked for.
 * 1 with @op as sim_trace_parse_op() would set it; 0 for anything else
 * (another order, a value it does not read, any error), which
 * sim_trace_parse_op() then parses or reports. Every value it accepts is
 * one sim_trace_parse_op() accepts, read the same way.
 */
static int parse_op_fast(const char *line, struct sim_op *op)
{
	const struct sim_op_desc *d;
	const char *p = line, *name = line, *value;
	char err[8];
	int kind;

	while (!byte_class[(unsigned char)*p])
		p++;
	if (*p == '=' || p == name || (kind = fast_kind(name, (size_t)(p - name))) < 0)
		return 0;
	*op = (struct sim_op){ .kind = (uint16_t)kind };
	d = &sim_op_descs[kind];
	p = skip_space(p);
	for (unsigned int i = 0; i < d->nargs; i++) {
		const struct sim_op_arg *arg = &d->args[i];
		uint64_t v, max;

		if (arg->type == SIM_ARG_HANDLE && arg->field == SIM_F_H && p[0] == 'h' &&
		    p[1] != '=') {
			p++;
		} else if (arg->type == SIM_ARG_VM && starts_vm(p, 2)) {
			p += 2;
		} else if ((value = skip_key(p, arg->name))) {
			p = value;
			if (arg->type == SIM_ARG_HANDLE || arg->type == SIM_ARG_VM)
				return 0;
		} else if (arg->optional) {
			continue;
		} else {
			return 0;
		}
		switch (arg->type) {
		case SIM_ARG_HANDLE: max = SIM_MAX_HANDLE - 1; break;
		case SIM_ARG_VM: max = SIM_MAX_VM; break;
		case SIM_ARG_ORDER: max = 63; break;
		case SIM_ARG_PROT: return 0;
		default: max = arg->field == SIM_F_VCPU ? UINT32_MAX : UINT64_MAX; break;
		}
		p = fast_number(p, &v);
		if (!p || v > max)
			return 0;
		sim_op_field_set(op, (enum sim_op_field)arg->field, v);
		p = skip_space(p);
	}
	if (*p != '=')
		return !*p;
	/* "= ok", as nearly every line ends; any other result as sim_trace_parse_op() reads it. */
	name = skip_blanks(p + 1);
	if (name[0] == 'o' && name[1] == 'k' && !*skip_blanks(name + 2)) {
		op->flags |= SIM_OP_F_EXPECT;
		op->expect = 0;
		return 1;
	}
	return !parse_result(token(p), op, err, sizeof(err));
}

/* --- the reader ----------------------------------------------------------- */

/*
 * The text form's state, behind r->buf: the file read ahead a chunk at a
 * time, and the current line, which is a NUL-terminated piece of the
 * chunk (its newline overwritten), so that a line costs one search for
 * its end and no copy.
 */
struct text_in {
	char *line;		/* the current line, inside chunk */
	bool pending;		/* a line already read but not yet returned */
	bool eof;		/* the file has no more bytes */
	size_t at, len;		/* chunk[at..len) is read but not yet consumed */
	char chunk[(64 << 10) + 1];	/* one more for the NUL after chunk[len) */
};

static struct text_in *text_in(struct sim_trace_reader *r)
{
	return (struct text_in *)(void *)r->buf;
}

/* The current line's text. */
static char *cur_line(struct sim_trace_reader *r)
{
	return text_in(r)->line;
}

static int line_error(struct sim_trace_reader *r, struct sim_trace_error *err, bool nul)
{
	if (nul)
		snprintf(err->msg, sizeof(err->msg), "%s:%llu: expected text without NUL bytes "
			 "(a binary trace starts with the hvmm magic)",
			 r->name, (unsigned long long)r->pos + 1);
	else
		snprintf(err->msg, sizeof(err->msg), "%s:%llu: expected a line of at most %d bytes",
			 r->name, (unsigned long long)r->pos + 1, SIM_TRACE_MAX_LINE);
	return -1;
}

/*
 * Reads one line (text_in(r)->line); 1 read, 0 at the end of the file, -1
 * if it is too long or holds a NUL byte (whichever comes first in the
 * line). chunk[len] is always NUL, so one strchrnul() finds the line's
 * newline, a NUL byte in it, or the end of what was read.
 */
static int read_line(struct sim_trace_reader *r, struct sim_trace_error *err)
{
	struct text_in *t = text_in(r);

	for (;;) {
		char *p = t->chunk + t->at, *end = strchrnul(p, '\n');
		size_t n = (size_t)(end - p), rem;

		if (end < t->chunk + t->len && *end == '\n') {
			if (n > SIM_TRACE_MAX_LINE)
				return line_error(r, err, memchr(p, '\0', SIM_TRACE_MAX_LINE) != NULL);
			t->at += n + 1;
		} else if (end < t->chunk + t->len) {
			/* A NUL byte: an error of its own if it comes within the longest line. */
			return line_error(r, err, n < SIM_TRACE_MAX_LINE);
		} else if (n > SIM_TRACE_MAX_LINE) {
			return line_error(r, err, false);
		} else if (!t->eof) {
			/* The line goes on past what was read: move it to the front, read more. */
			rem = t->len - t->at;
			memmove(t->chunk, p, rem);
			t->at = 0;
			t->len = rem + fread(t->chunk + rem, 1, sizeof(t->chunk) - 1 - rem, r->f);
			t->chunk[t->len] = '\0';
			if (t->len == rem) {
				t->eof = true;
				if (ferror(r->f)) {
					snprintf(err->msg, sizeof(err->msg), "%s:%llu: read error: %s",
						 r->name, (unsigned long long)r->pos + 1, strerror(errno));
					return -1;
				}
			}
			continue;
		} else if (!n) {
			return 0;
		} else {
			/* The last line, without a newline. */
			t->at = t->len;
		}
		if (n && p[n - 1] == '\r')
			n--;
		p[n] = '\0';
		t->line = p;
		return 1;
	}
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

/*
 * A whole line read ahead (chunk[len] is NUL: a newline found is before
 * it), taken as read_line() takes it: true if there was one; anything
 * else is read_line()'s.
 */
static inline bool take_line(struct text_in *t)
{
	char *p = t->chunk + t->at, *end = strchrnul(p, '\n');
	size_t n = (size_t)(end - p);

	if (*end != '\n' || n > SIM_TRACE_MAX_LINE)
		return false;
	t->at += n + 1;
	if (n && p[n - 1] == '\r')
		n--;
	p[n] = '\0';
	t->line = p;
	return true;
}

static int text_read(struct sim_trace_reader *r, struct sim_trace_record *rec,
		     struct sim_trace_error *err)
{
	struct text_in *t = text_in(r);
	char what[512];
	int ret;

	if (r->done)
		return 0;
	/* The header reader leaves the first op line read. */
	if (!t->pending) {
		if (!take_line(t)) {
			ret = read_line(r, err);
			if (ret <= 0) {
				r->done = true;
				return ret;
			}
		}
		r->pos++;
	}
	t->pending = false;
	rec->where = r->pos;
	/* An op line starts with its name. */
	if ((*t->line == '#' || (byte_class[(unsigned char)*t->line] & (C_END | C_BLANK))) &&
	    is_verbatim(t->line)) {
		rec->type = SIM_TRACE_REC_LINE;
		rec->line = t->line;
		return 1;
	}
	rec->type = SIM_TRACE_REC_OP;
	if ((!parse_op_fast(t->line, &rec->op) &&
	     sim_trace_parse_op(t->line, &rec->op, what, sizeof(what))) ||
	    (!sim_trace_handles_ok(&r->handles, &rec->op) &&
	     sim_trace_handles_check(&r->handles, &rec->op, what, sizeof(what)))) {
		if (!is_op_line(t->line) && is_config_line(t->line))
			snprintf(what, sizeof(what), "an op; configuration lines belong in the header, "
				 "before the first op");
		return fail(r, err, r->pos, what);
	}
	r->ops_read++;
	return 1;
}

/*
 * The ops of lines as hvmm writes them, straight into @ops; the first
 * line that is anything else (a comment, another layout, an error) is
 * left pending for text_read(). An op the inline handle check cannot
 * decide (a VM's, a split) takes the full one here, not a second parse
 * there: a third of a day's lines are VM ops. A full check that fails
 * has changed nothing text_read() would see differently: it reports the
 * same error.
 */
static size_t text_read_ops(struct sim_trace_reader *r, struct sim_op *ops, size_t max)
{
	struct text_in *t = text_in(r);
	size_t k = 0;
	char what[64];

	if (r->done || t->pending)
		return 0;
	while (k < max && take_line(t)) {
		r->pos++;
		if (!parse_op_fast(t->line, &ops[k]) ||
		    (!sim_trace_handles_ok(&r->handles, &ops[k]) &&
		     sim_trace_handles_check(&r->handles, &ops[k], what, sizeof(what)))) {
			t->pending = true;
			break;
		}
		r->ops_read++;
		if (ops[k++].kind == SIM_OP_SCHED)
			break;
	}
	return k;
}

static const struct sim_trace_reader_ops text_ops = { .read = text_read, .read_ops = text_read_ops };

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
	text_in(r)->chunk[0] = '\0';
	text_in(r)->line = text_in(r)->chunk;
	text_in(r)->pending = text_in(r)->eof = false;
	ret = read_line(r, err);
	if (ret < 0)
		return -1;
	r->pos = 1;
	if (ret == 0 || strncmp(cur_line(r), "hvmm-trace ", 11))
		return fail(r, err, 1, "'hvmm-trace 1' (the format version line)");
	if (!sim_parse_u64(cur_line(r) + 11, &version) || !version)
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
		if (is_op_line(cur_line(r))) {
			text_in(r)->pending = true;
			return check_header(r, err);
		}
		r->header.at = r->pos;
		if (sim_trace_header_line(&r->header, cur_line(r), what, sizeof(what)))
			return fail(r, err, r->pos, what);
	}
}
