/* SPDX-License-Identifier: MIT */
/*
 * Trace files: the op vocabulary (sim/op.h) written down. The format is
 * specified in traces/FORMAT.md; this is its one implementation.
 *
 * A trace is a header (format version and machine configuration) followed
 * by records: ops, and verbatim lines (comments and blank lines, kept so
 * that text -> binary -> text is the identity). Both forms are read as a
 * stream, one record at a time, so a trace of any length replays in
 * constant memory; every error names the file and the line (text) or byte
 * offset (binary) and what was expected there.
 *
 * Files, one concern each: header.c (configuration lines), text_reader.c,
 * text_writer.c, binary_reader.c, binary_writer.c, handles.c (handles and
 * VMs used before they are defined), trace.c (format detection, dispatch).
 */
#ifndef SIM_TRACE_TRACE_H
#define SIM_TRACE_TRACE_H

#include "trace/outfile.h"
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "machine.h"
#include "op.h"

#define SIM_TRACE_VERSION	1
#define SIM_TRACE_MAX_LINE	4096	/* bytes in one text line, newline excluded */
#define SIM_TRACE_MAX_HEADER	65536	/* bytes of header text */

/* Binary magic: not text, and a newline to catch line-ending mangling. */
#define SIM_TRACE_MAGIC		"\x89hvmmTR\n"
#define SIM_TRACE_MAGIC_LEN	8

enum sim_trace_format {
	SIM_TRACE_TEXT,
	SIM_TRACE_BINARY,
};

/* Which configuration lines the header gave (the rest are defaults). */
#define SIM_TRACE_HAS_RAM		0x01u
#define SIM_TRACE_HAS_ALLOCATOR		0x02u
#define SIM_TRACE_HAS_POOL_BASE		0x04u
#define SIM_TRACE_HAS_POOL_PAGES	0x08u
#define SIM_TRACE_HAS_POOL_RESERVED	0x10u
#define SIM_TRACE_HAS_VCPUS		0x20u
#define SIM_TRACE_HAS_SEED		0x40u
#define SIM_TRACE_HAS_HYP_POOL_PAGES	0x80u
#define SIM_TRACE_HAS_PGTABLE		0x100u

struct sim_trace_header {
	unsigned int version;
	struct sim_machine_config cfg;	/* sim_machine_config_default() + what the header says */
	uint32_t given;			/* SIM_TRACE_HAS_* */
	/*
	 * The header's lines after the version line, verbatim (configuration,
	 * comments, blank lines), each ending in '\n'; NUL-terminated. Empty
	 * for a header built from a configuration (then sim_trace_header_text
	 * renders one).
	 */
	char *text;
	size_t text_len;
	/*
	 * Where each setting came from, for messages: the reader sets @at to
	 * the line (text) or byte offset (binary) of the line it passes to
	 * sim_trace_header_line(); 0 is a default.
	 */
	uint64_t at;
	uint64_t at_region[SIM_MAX_REGIONS], at_allocator, at_pool_base, at_pool_pages,
		 at_pool_reserved, at_pgtable;
};

/* A malformed trace: "file:line: what was expected" (binary: "file: byte N: ..."). */
struct sim_trace_error {
	char msg[1024];
};

enum sim_trace_record_type {
	SIM_TRACE_REC_OP,
	SIM_TRACE_REC_LINE,	/* a comment or blank line, in .line */
};

struct sim_trace_record {
	enum sim_trace_record_type type;
	struct sim_op op;
	const char *line;	/* valid until the next read */
	uint64_t where;		/* line number (text) or byte offset (binary) of the record */
};

/* --- header (header.c) ---------------------------------------------------- */

void sim_trace_header_init(struct sim_trace_header *h);
void sim_trace_header_fini(struct sim_trace_header *h);
/* A header describing @cfg (regions, allocator, pool, vCPUs, seed). */
int sim_trace_header_from_config(struct sim_trace_header *h, const struct sim_machine_config *cfg);
/*
 * Applies one header line (no newline) to @h and appends it to h->text.
 * Returns 0, or -1 with what was expected in @err (no location).
 */
int sim_trace_header_line(struct sim_trace_header *h, const char *line, char *err, size_t errlen);
/*
 * Checks that a machine can be built from @h (regions, allocator, pool):
 * 0, or -1 with what was expected in @err and the line at fault in *@at
 * (0 if the defaults are at fault).
 */
int sim_trace_header_check(const struct sim_trace_header *h, uint64_t *at, char *err,
			   size_t errlen);
/*
 * The header lines after the version line: h->text if the header was read,
 * else rendered from h->cfg into @buf. Returns the text.
 */
const char *sim_trace_header_text(const struct sim_trace_header *h, char *buf, size_t len);

/* --- handles used before definition (handles.c) ----------------------------- */

struct sim_trace_handles {
	uint8_t *order;		/* per handle: 0 = undefined, else order + 1 */
	uint32_t cap;
	uint8_t vm_defined[(SIM_MAX_VM + 1 + 7) / 8];
};

void sim_trace_handles_init(struct sim_trace_handles *t);
void sim_trace_handles_fini(struct sim_trace_handles *t);
/* Checks @op's handles and VMs and defines what it defines; -1 with @err if one is undefined. */
int sim_trace_handles_check(struct sim_trace_handles *t, const struct sim_op *op,
			    char *err, size_t errlen);

/*
 * The common cases of sim_trace_handles_check() inline, for both readers'
 * every op: an op that names no handle and no VM, uses one handle that is
 * defined, or defines one already in the table. True if @op passed and
 * what it defines is defined; false, with nothing changed, for anything
 * else (an undefined handle, a VM, a split, a table to grow), which
 * sim_trace_handles_check() then decides and reports.
 */
enum {
	SIM_TRACE_HANDLES_NONE,
	SIM_TRACE_HANDLES_USE,		/* uses h, no VM */
	SIM_TRACE_HANDLES_DEFINE_ORDER,	/* alloc: defines h, of order a */
	SIM_TRACE_HANDLES_DEFINE,	/* defines h, of order 0 */
	SIM_TRACE_HANDLES_SLOW,		/* VMs, splits: sim_trace_handles_check() */
};
extern uint8_t sim_trace_handles_fast_kind[SIM_OP__COUNT];

static inline bool sim_trace_handles_ok(struct sim_trace_handles *t, const struct sim_op *op)
{
	switch (sim_trace_handles_fast_kind[op->kind]) {
	case SIM_TRACE_HANDLES_NONE:
		return true;
	case SIM_TRACE_HANDLES_USE:
		return op->h < t->cap && t->order[op->h];
	case SIM_TRACE_HANDLES_DEFINE_ORDER:
		if (op->h >= t->cap)
			return false;
		t->order[op->h] = (uint8_t)((op->a < 62 ? op->a : 62) + 1);
		return true;
	case SIM_TRACE_HANDLES_DEFINE:
		if (op->h >= t->cap)
			return false;
		t->order[op->h] = 1;
		return true;
	default:
		return false;
	}
}

/* --- reading (trace.c dispatches to the text and binary readers) ------------- */

struct sim_trace_reader;

/*
 * Opens @path ("-" is stdin), detects the form from its first bytes and
 * reads the header. NULL with @err on failure.
 */
struct sim_trace_reader *sim_trace_open(const char *path, struct sim_trace_error *err);
/* The same over an open stream (not closed by the reader); @name is used in messages. */
struct sim_trace_reader *sim_trace_open_stream(FILE *f, const char *name,
					       struct sim_trace_error *err);
void sim_trace_close(struct sim_trace_reader *r);

enum sim_trace_format sim_trace_format_of(const struct sim_trace_reader *r);
const struct sim_trace_header *sim_trace_reader_header(const struct sim_trace_reader *r);
/* Ops read so far. */
uint64_t sim_trace_reader_ops(const struct sim_trace_reader *r);

/* Next record: 1 read, 0 at the end, -1 on a malformed trace (@err says where and why). */
int sim_trace_read(struct sim_trace_reader *r, struct sim_trace_record *rec,
		   struct sim_trace_error *err);
/* Next op, skipping comments. */
int sim_trace_read_op(struct sim_trace_reader *r, struct sim_op *op, struct sim_trace_error *err);
/*
 * Up to @max ops into @ops, comments and blank lines skipped, as
 * sim_trace_read() gives them one at a time; a schedule (SIM_OP_SCHED)
 * ends the batch. *@n ops were read; returns 1 if more may follow, 0 at
 * the end, -1 on a malformed trace (the *@n ops before it are good).
 * Each form reads the common records straight into @ops, without a call
 * per op.
 */
int sim_trace_read_ops(struct sim_trace_reader *r, struct sim_op *ops, size_t max, size_t *n,
		       struct sim_trace_error *err);

/* --- writing ------------------------------------------------------------------ */

struct sim_trace_writer;

/*
 * Creates @path ("-" is stdout) and writes the header. NULL with @err on
 * failure. A regular file is written as a temporary file beside @path and
 * renamed over it by sim_trace_finish() only if everything was written, so
 * a failed or interrupted command leaves @path as it was.
 */
struct sim_trace_writer *sim_trace_create(const char *path, enum sim_trace_format format,
					  const struct sim_trace_header *h,
					  struct sim_trace_error *err);
/* The same over an open stream (not closed by the writer); @name is used in messages. */
struct sim_trace_writer *sim_trace_create_stream(FILE *f, const char *name,
						 enum sim_trace_format format,
						 const struct sim_trace_header *h,
						 struct sim_trace_error *err);
int sim_trace_write_op(struct sim_trace_writer *w, const struct sim_op *op);
/* A comment or blank line; a comment must start with '#'. */
int sim_trace_write_line(struct sim_trace_writer *w, const char *line);
/* Ends the trace and closes the file; -1 with @err if anything failed to write. */
int sim_trace_finish(struct sim_trace_writer *w, struct sim_trace_error *err);
/* Gives up a trace: closes it and removes the temporary file; @path is left as it was. */
void sim_trace_discard(struct sim_trace_writer *w);

/*
 * Records @result as @op's expected outcome, as a recorder does. ENOTSUP
 * (an op this simulator cannot run yet) is not recorded: a trace should
 * not expect a feature to be missing.
 */
void sim_trace_set_outcome(struct sim_op *op, int result);

/* Format from a file name: ".htrace"/".bin" binary, anything else text. */
enum sim_trace_format sim_trace_format_for_path(const char *path);

/* --- internals shared by the readers and writers -------------------------------- */

struct sim_trace_reader_ops {
	int (*read)(struct sim_trace_reader *r, struct sim_trace_record *rec,
		    struct sim_trace_error *err);
	/*
	 * Optional: up to @max of the next ops into @ops, as read() would
	 * read them, stopping after a schedule and before anything it does
	 * not read itself (left to read()). Returns the ops read.
	 */
	size_t (*read_ops)(struct sim_trace_reader *r, struct sim_op *ops, size_t max);
	void (*fini)(struct sim_trace_reader *r);
};

struct sim_trace_reader {
	const struct sim_trace_reader_ops *ops;
	enum sim_trace_format format;
	FILE *f;
	bool own_file;
	char name[256];
	struct sim_trace_header header;
	struct sim_trace_handles handles;
	uint64_t ops_read;
	uint64_t pos;		/* next line number (text) or byte offset (binary) */
	char *buf;		/* the current line (text) or verbatim record (binary) */
	bool done;
	/* Binary form: bytes read ahead of pos, in[in_at..in_len) (binary_reader.c). */
	uint8_t *in;
	size_t in_at, in_len;
};

int sim_trace_text_open(struct sim_trace_reader *r, struct sim_trace_error *err);
int sim_trace_binary_open(struct sim_trace_reader *r, struct sim_trace_error *err);

/* Parses one op line (text form, no newline) into @op; -1 with what was expected in @err. */
int sim_trace_parse_op(const char *line, struct sim_op *op, char *err, size_t errlen);

struct sim_trace_writer_ops {
	int (*op)(struct sim_trace_writer *w, const struct sim_op *op);
	int (*line)(struct sim_trace_writer *w, const char *line);
	int (*finish)(struct sim_trace_writer *w);
};

struct sim_trace_writer {
	const struct sim_trace_writer_ops *ops;
	FILE *f;
	struct sim_outfile out;	/* the file behind f (unset for sim_trace_create_stream()) */
	char name[256];
	uint64_t ops_written;
	char *pending;		/* binary: header text not yet written (lines before the first op join it) */
	size_t pending_len;
};

int sim_trace_text_start(struct sim_trace_writer *w, const struct sim_trace_header *h);
int sim_trace_binary_start(struct sim_trace_writer *w, const struct sim_trace_header *h);

#endif /* SIM_TRACE_TRACE_H */
