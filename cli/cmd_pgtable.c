// SPDX-License-Identifier: MIT
/*
 * hvmm pgtable: a random map / unmap / permission sequence through one or
 * more stage-2 page-table implementations, each judged by the independent
 * walker against the sequence, and compared with each other
 * (sim/pgtable/exercise.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pgtable/exercise.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: hvmm pgtable [--pgtable NAME]... [--ops N] [--seed N]\n"
		"\n"
		"Runs N random maps, unmaps and permission changes (pages and 2 MiB\n"
		"blocks, Normal and Device memory) over a 32 MiB IPA window through each\n"
		"named stage-2 page-table implementation, walks every page each op\n"
		"touched with the independent MMU walker and compares the translation\n"
		"with what the sequence says (PT-WALK); with several implementations,\n"
		"their results must also agree op by op. Inside every op the event\n"
		"oracles judge break-before-make and TLB maintenance (BBM, TLB). A 2 MiB\n"
		"block mapped where pages are is mapped over them (KVM's map replaces the\n"
		"table); mm/, whose map refuses a mapped range, unmaps it first. One map\n"
		"or protect in 64 runs across the end of the 40-bit input space instead:\n"
		"every implementation must refuse it and leave the pages below the end\n"
		"unmapped.\n"
		"\n"
		"Options:\n"
		"  --pgtable NAME   implementation (repeatable; default: all of them):\n");
	for (unsigned int i = 0; sim_pgtables[i]; i++)
		fprintf(out, "                     %-10s %s\n", sim_pgtables[i]->name,
			sim_pgtables[i]->description);
	fprintf(out,
		"  --ops N          operations (default 3000)\n"
		"  --seed N         seed of the sequence (default 1)\n"
		"  -h, --help       this help\n"
		"\n"
		"Exit status: 0 every translation as expected, 1 a mismatch or a violation,\n"
		"2 usage error.\n");
}

int cmd_pgtable(int argc, char **argv)
{
	const char *names[SIM_PGX_MAX_IMPLS], *operand;
	unsigned int n = 0;
	uint64_t ops = 3000, seed = 1;
	struct sim_pgx_result res;
	struct cli_args a;
	char err[256];
	int kind;

	cli_args_init(&a, argc, argv, "pgtable");
	while ((kind = cli_args_next(&a, &operand)) >= 0) {
		if (kind == 0)
			return cli_usage_error("pgtable: unexpected operand '%s'", operand);
		if (cli_args_help(&a)) {
			usage(stdout);
			return EXIT_CLEAN;
		} else if (cli_args_is(&a, "--pgtable")) {
			const char *v = cli_args_value(&a);

			if (!v)
				return EXIT_USAGE;
			if (!sim_pgtable_find(v))
				return cli_usage_error("pgtable: --pgtable %s: unknown implementation (try 'hvmm pgtable --help')", v);
			if (n == SIM_PGX_MAX_IMPLS)
				return cli_usage_error("pgtable: at most %d implementations", SIM_PGX_MAX_IMPLS);
			names[n++] = v;
		} else if (cli_args_is(&a, "--ops")) {
			if (cli_args_u64(&a, &ops))
				return EXIT_USAGE;
		} else if (cli_args_is(&a, "--seed")) {
			if (cli_args_u64(&a, &seed))
				return EXIT_USAGE;
		} else {
			return cli_args_unknown(&a);
		}
	}
	if (!n)
		for (unsigned int i = 0; sim_pgtables[i] && n < SIM_PGX_MAX_IMPLS; i++)
			names[n++] = sim_pgtables[i]->name;
	if (sim_pgx_run(names, n, ops, seed, stdout, &res, err, sizeof(err))) {
		fprintf(stderr, "hvmm: pgtable: %s\n", err);
		return EXIT_USAGE;
	}
	printf("pgtable:");
	for (unsigned int i = 0; i < n; i++)
		printf(" %s (%llu table pages at the end)", names[i], (unsigned long long)res.table_pages[i]);
	printf("\n%llu ops, %llu succeeded (%llu blocks over pages), %llu across the end of the "
	       "input space and %llu wrapping past 2^64 (each must be refused), %llu page "
	       "translations checked, mismatches: %llu\n", (unsigned long long)res.ops,
	       (unsigned long long)res.ok_ops, (unsigned long long)res.collapses,
	       (unsigned long long)res.past_end_ops, (unsigned long long)res.wrap_ops,
	       (unsigned long long)res.pages_checked, (unsigned long long)res.mismatches);
	if (res.event_oracles)
		printf("event oracles (BBM, TLB): %llu violations\n",
		       (unsigned long long)res.violations);
	else
		printf("event oracles: off (this build's mm/ sends no memory events)\n");
	return res.mismatches || res.violations ? EXIT_VIOLATION : EXIT_CLEAN;
}
