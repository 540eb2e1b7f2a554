// SPDX-License-Identifier: MIT
/* hvmm convert: text <-> binary, losslessly (comments and header included). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "trace/trace.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hvmm convert [--to text|binary] IN OUT\n"
		"\n"
		"Converts a trace between the text and the binary form. Comments, blank\n"
		"lines and the header are kept, so text -> binary -> text is the identity.\n"
		"The output form is --to, else binary if OUT ends in .htrace or .bin, else\n"
		"text. '-' is stdin or stdout.\n"
		"\n"
		"Exit status: 0 done, 2 usage or input error.\n");
}

static int copy(struct sim_trace_reader *r, struct sim_trace_writer *w, struct sim_trace_error *err)
{
	struct sim_trace_record rec;
	int ret;

	while ((ret = sim_trace_read(r, &rec, err)) > 0) {
		if (rec.type == SIM_TRACE_REC_LINE)
			ret = sim_trace_write_line(w, rec.line);
		else
			ret = sim_trace_write_op(w, &rec.op);
		if (ret) {
			snprintf(err->msg, sizeof(err->msg), "write failed");
			return -1;
		}
	}
	return ret;
}

int cmd_convert(int argc, char **argv)
{
	const char *files[2], *operand, *to = NULL;
	enum sim_trace_format format;
	struct sim_trace_reader *r;
	struct sim_trace_writer *w;
	struct sim_trace_error err, err2;
	unsigned int nr = 0;
	struct cli_args a;
	int kind, ret;

	cli_args_init(&a, argc, argv, "convert");
	while ((kind = cli_args_next(&a, &operand)) >= 0) {
		if (kind == 0) {
			if (nr == 2)
				return cli_usage_error("convert: expected IN OUT; got a third file '%s'", operand);
			files[nr++] = operand;
		} else if (cli_args_help(&a)) {
			usage(stdout);
			return EXIT_CLEAN;
		} else if (cli_args_is(&a, "--to")) {
			if (!(to = cli_args_value(&a)))
				return EXIT_USAGE;
			if (strcmp(to, "text") && strcmp(to, "binary"))
				return cli_usage_error("convert: --to %s: expected text or binary", to);
		} else {
			return cli_args_unknown(&a);
		}
	}
	if (nr != 2)
		return cli_usage_error("convert: expected IN OUT (try 'hvmm convert --help')");
	format = to ? (strcmp(to, "binary") ? SIM_TRACE_TEXT : SIM_TRACE_BINARY) :
		 sim_trace_format_for_path(files[1]);
	if (cli_refuse_overwrite("convert", files[0], files[1]))
		return EXIT_USAGE;
	r = sim_trace_open(files[0], &err);
	if (!r) {
		fprintf(stderr, "hvmm: %s\n", err.msg);
		return EXIT_USAGE;
	}
	w = sim_trace_create(files[1], format, sim_trace_reader_header(r), &err);
	if (!w) {
		fprintf(stderr, "hvmm: %s\n", err.msg);
		sim_trace_close(r);
		return EXIT_USAGE;
	}
	ret = copy(r, w, &err);
	if (ret < 0)
		sim_trace_discard(w);	/* OUT stays as it was */
	else if (sim_trace_finish(w, &err2)) {
		err = err2;
		ret = -1;
	}
	sim_trace_close(r);
	if (ret < 0) {
		fprintf(stderr, "hvmm: %s\n", err.msg);
		return EXIT_USAGE;
	}
	return EXIT_CLEAN;
}
