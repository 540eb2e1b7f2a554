// SPDX-License-Identifier: MIT
/* The text form, written one op per line by sim_op_format(). */
#include <string.h>

#include "trace.h"

static int text_op(struct sim_trace_writer *w, const struct sim_op *op)
{
	char line[SIM_TRACE_MAX_LINE];

	sim_op_format(op, line, sizeof(line));
	return fprintf(w->f, "%s\n", line) < 0 ? -1 : 0;
}

static int text_line(struct sim_trace_writer *w, const char *line)
{
	return fprintf(w->f, "%s\n", line) < 0 ? -1 : 0;
}

static int text_finish(struct sim_trace_writer *w)
{
	return 0;
}

static const struct sim_trace_writer_ops text_writer_ops = {
	.op = text_op, .line = text_line, .finish = text_finish,
};

int sim_trace_text_start(struct sim_trace_writer *w, const struct sim_trace_header *h)
{
	char buf[SIM_TRACE_MAX_HEADER];

	w->ops = &text_writer_ops;
	return fprintf(w->f, "hvmm-trace %d\n%s", SIM_TRACE_VERSION,
		       sim_trace_header_text(h, buf, sizeof(buf))) < 0 ? -1 : 0;
}
