// SPDX-License-Identifier: MIT
#include "report.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>

static const char *const oracle_names[SIM_ORACLE__COUNT] = {
	[SIM_ORACLE_ALLOC_STRUCT] = "ALLOC-STRUCT",
	[SIM_ORACLE_ALLOC_CONSERVE] = "ALLOC-CONSERVE",
	[SIM_ORACLE_AVAIL] = "AVAIL",
	[SIM_ORACLE_REFCOUNT] = "REFCOUNT",
	[SIM_ORACLE_TYPE] = "TYPE",
	[SIM_ORACLE_OWNERSHIP] = "OWNERSHIP",
	[SIM_ORACLE_TLB] = "TLB",
	[SIM_ORACLE_PT_WALK] = "PT-WALK",
	[SIM_ORACLE_IDEAL] = "IDEAL",
	[SIM_ORACLE_SPEC] = "SPEC",
	[SIM_ORACLE_CONC] = "CONC",
	[SIM_ORACLE_ROBUST] = "ROBUST",
	[SIM_ORACLE_BBM] = "BBM",
	[SIM_ORACLE_HYP_CONSERVE] = "HYP-CONSERVE",
	[SIM_ORACLE_HEAP_STRUCT] = "HEAP-STRUCT",
	[SIM_ORACLE_HEAP_CONSERVE] = "HEAP-CONSERVE",
};

const char *sim_oracle_name(enum sim_oracle_id id)
{
	return (unsigned int)id < SIM_ORACLE__COUNT ? oracle_names[id] : NULL;
}

int sim_oracle_from_name(const char *name)
{
	for (int i = 0; i < SIM_ORACLE__COUNT; i++)
		if (!strcasecmp(name, oracle_names[i]))
			return i;
	return -1;
}

void sim_report_init(struct sim_report *r, FILE *stream)
{
	memset(r, 0, sizeof(*r));
	r->stream = stream;
}

void sim_report_set_op(struct sim_report *r, uint64_t index, const char *op_text)
{
	r->op_index = index;
	r->op_deferred = false;
	snprintf(r->op, sizeof(r->op), "%s", op_text ? op_text : "");
}

const char *sim_report_op_text(struct sim_report *r)
{
	if (r->op_deferred) {
		sim_op_format(&r->deferred, r->op, sizeof(r->op));
		r->op_deferred = false;
	}
	return r->op;
}

int sim_violation_format(const struct sim_violation *v, char *buf, size_t len)
{
	return snprintf(buf, len, "VIOLATION %s at op %llu (%s): %s",
			sim_oracle_name(v->oracle), (unsigned long long)v->op_index,
			v->op[0] ? v->op : "end of run", v->msg);
}

void sim_report_violation(struct sim_report *r, enum sim_oracle_id oracle,
			  const char *fmt, ...)
{
	struct sim_violation v = { .oracle = oracle, .op_index = r->op_index };
	va_list ap;

	memcpy(v.op, sim_report_op_text(r), sizeof(v.op));
	va_start(ap, fmt);
	vsnprintf(v.msg, sizeof(v.msg), fmt, ap);
	va_end(ap);

	r->total++;
	r->by_oracle[oracle]++;
	if (r->kept < SIM_REPORT_KEEP)
		r->first[r->kept++] = v;
	if (r->stream && r->total <= SIM_REPORT_KEEP) {
		char line[640];

		sim_violation_format(&v, line, sizeof(line));
		fprintf(r->stream, "%s\n", line);
		if (r->total == SIM_REPORT_KEEP)
			fprintf(r->stream, "(further violations are counted, not printed)\n");
	}
}

void sim_report_print(const struct sim_report *r, FILE *out)
{
	char line[640];

	for (unsigned int i = 0; i < r->kept; i++) {
		sim_violation_format(&r->first[i], line, sizeof(line));
		fprintf(out, "%s\n", line);
	}
	if (r->total > r->kept)
		fprintf(out, "... and %llu more violations\n",
			(unsigned long long)(r->total - r->kept));
}
