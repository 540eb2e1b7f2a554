/* SPDX-License-Identifier: MIT */
/*
 * Violation reports. Every oracle names itself (design §4), and a report
 * names the op index, the op, and the smallest state that shows the
 * violation: which page, which owner, what was expected and what was found.
 */
#ifndef SIM_ORACLE_REPORT_H
#define SIM_ORACLE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "op.h"

enum sim_oracle_id {
	SIM_ORACLE_ALLOC_STRUCT,
	SIM_ORACLE_ALLOC_CONSERVE,
	SIM_ORACLE_AVAIL,
	SIM_ORACLE_REFCOUNT,
	SIM_ORACLE_TYPE,
	SIM_ORACLE_OWNERSHIP,
	SIM_ORACLE_TLB,
	SIM_ORACLE_PT_WALK,
	SIM_ORACLE_IDEAL,
	SIM_ORACLE_SPEC,
	SIM_ORACLE_CONC,
	SIM_ORACLE_ROBUST,
	SIM_ORACLE_BBM,
	SIM_ORACLE_HYP_CONSERVE,
	SIM_ORACLE_HEAP_STRUCT,
	SIM_ORACLE_HEAP_CONSERVE,
	SIM_ORACLE__COUNT,
};

/* "ALLOC-STRUCT", ...; NULL for an unknown id. */
const char *sim_oracle_name(enum sim_oracle_id id);
/* Parses a name back (case-insensitive); -1 if unknown. */
int sim_oracle_from_name(const char *name);

#define SIM_REPORT_KEEP 16	/* violations kept verbatim; the rest are counted */

struct sim_violation {
	enum sim_oracle_id oracle;
	uint64_t op_index;
	char op[128];		/* the op, as a trace line */
	char msg[384];		/* the state that shows it */
};

struct sim_report {
	uint64_t op_index;		/* index of the op being judged */
	char op[128];			/* and its trace line */
	bool op_deferred;		/* op[] is still to be formatted from deferred */
	struct sim_op deferred;
	uint64_t total;			/* violations seen */
	uint64_t by_oracle[SIM_ORACLE__COUNT];
	unsigned int kept;
	struct sim_violation first[SIM_REPORT_KEEP];
	FILE *stream;			/* if set, the first SIM_REPORT_KEEP are printed as found */
};

void sim_report_init(struct sim_report *r, FILE *stream);
/* Sets the op that following violations are attributed to. */
void sim_report_set_op(struct sim_report *r, uint64_t index, const char *op_text);
/* The same, formatting @op only if a violation needs its text (inline: every op does it). */
static inline void sim_report_set_op_deferred(struct sim_report *r, uint64_t index,
					      const struct sim_op *op)
{
	r->op_index = index;
	r->op_deferred = true;
	r->deferred = *op;
}
/* The trace line of the op being judged. */
const char *sim_report_op_text(struct sim_report *r);

__attribute__((format(printf, 3, 4)))
void sim_report_violation(struct sim_report *r, enum sim_oracle_id oracle,
			  const char *fmt, ...);

static inline bool sim_report_clean(const struct sim_report *r)
{
	return r->total == 0;
}

/* One line per kept violation, then a count of the rest. */
void sim_report_print(const struct sim_report *r, FILE *out);
/* Formats one violation as the line that sim_report_print prints. */
int sim_violation_format(const struct sim_violation *v, char *buf, size_t len);

#endif /* SIM_ORACLE_REPORT_H */
