// SPDX-License-Identifier: MIT
/* Reading the trace a command runs: its machine, then its ops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "grow.h"
#include "pgtable/pgtable.h"
#include "trace/trace.h"

/*
 * A trace that names page tables this program does not link (its pgtable
 * line, unless --pgtable overrides it) is run by the program that has them,
 * with the same command line: this one becomes it. A trace on standard
 * input cannot be read twice, so there the user names them.
 */
static int follow_pgtable(const struct cli_machine_options *mo, const char *path,
			  const struct sim_trace_header *h)
{
	char what[4200];

	if (!strcmp(mo->cfg.pgtable, sim_mm_pgtable_name()))
		return 0;
	snprintf(what, sizeof(what), "%s:%llu: pgtable", path, (unsigned long long)h->at_pgtable);
	if (!strcmp(path, "-")) {
		fprintf(stderr, "hvmm: %s %s: runs in another program; with the trace on standard "
			"input, give --pgtable %s\n", what, mo->cfg.pgtable, mo->cfg.pgtable);
		return 2;
	}
	return cli_run_on_pgtable(what, mo->cfg.pgtable) < 0 ? 2 : 0;
}

struct sim_trace_reader *cli_open_trace(const char *path, struct cli_machine_options *mo)
{
	struct sim_trace_error err;
	struct sim_trace_reader *r = sim_trace_open(path, &err);

	if (!r) {
		fprintf(stderr, "hvmm: %s\n", err.msg);
		return NULL;
	}
	if (cli_machine_options_rebase(mo, &sim_trace_reader_header(r)->cfg) ||
	    follow_pgtable(mo, path, sim_trace_reader_header(r)) ||
	    cli_machine_options_check(mo, path, sim_trace_reader_header(r))) {
		sim_trace_close(r);
		return NULL;
	}
	return r;
}

int cli_read_ops(struct sim_trace_reader *r, const char *cmd, struct sim_op **ops, uint32_t *nr,
		 struct sim_trace_error *err)
{
	uint32_t cap = 0;
	struct sim_op op;
	int ret;

	*ops = NULL;
	*nr = 0;
	while ((ret = sim_trace_read_op(r, &op, err)) > 0) {
		if (*nr == UINT32_MAX - 1) {
			snprintf(err->msg, sizeof(err->msg), "%s: too many ops to %s", r->name, cmd);
			return -1;
		}
		if (!sim_grow((void **)ops, &cap, *nr + 1, sizeof(**ops), 4096)) {
			snprintf(err->msg, sizeof(err->msg), "out of memory");
			return -1;
		}
		op.flags &= (uint8_t)~SIM_OP_F_EXPECT;
		(*ops)[(*nr)++] = op;
	}
	return ret;
}
