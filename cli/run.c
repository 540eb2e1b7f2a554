// SPDX-License-Identifier: MIT
/* The run loop's progress display and the summary every run prints. */
/* The compiler that built this program, mm/ included (same flags but its own). */
#ifdef __clang__
#define SIM_CC_NAME "clang " __clang_version__
#else
#define SIM_CC_NAME "gcc " __VERSION__
#endif

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hvmm/types.h>

#include "cli.h"
#include "pgtable/pgtable.h"
#include "alloc/allocator.h"
#include "machine_conc.h"
#include "machine_vm.h"
#include "trace/events.h"

uint64_t cli_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void cli_run_start(struct cli_run *run, struct sim_machine *m, uint64_t expected_ops, bool json)
{
	run->m = m;
	run->json = json;
	run->expected_ops = expected_ops;
	run->no_expectations = false;	/* a replay sets it while it reads the trace */
	run->events = NULL;
	run->progress = isatty(STDERR_FILENO);
	run->tick_ops = 0;
	run->start_ns = run->last_progress_ns = cli_now_ns();
}

int cli_run_events(struct cli_run *run, const char *path)
{
	const struct sim_allocator *a = sim_machine_allocator(run->m);
	char err[640];

	run->events = sim_events_writer_open(path, a->base_pfn << HVMM_PAGE_SHIFT,
					     a->nr_pages << HVMM_PAGE_SHIFT, err, sizeof(err));
	if (!run->events)
		return cli_usage_error("%s", err);
	return 0;
}

void cli_run_abort(struct cli_run *run)
{
	sim_events_writer_discard(run->events);
	run->events = NULL;
}

void cli_run_tick(struct cli_run *run)
{
	const struct sim_machine_stats *st;
	uint64_t now;
	double secs, rate;

	if (!run->progress)
		return;
	st = sim_machine_stats(run->m);
	/* Every 4096 ops or more (a replay ticks once a batch of ops). */
	if (st->ops - run->tick_ops < 4096)
		return;
	run->tick_ops = st->ops;
	now = cli_now_ns();
	if (now - run->last_progress_ns < 500000000ULL)
		return;
	run->last_progress_ns = now;
	secs = (double)(now - run->start_ns) / 1e9;
	rate = secs > 0 ? (double)st->ops / secs : 0;
	if (run->expected_ops && rate > 0)
		fprintf(stderr, "\r%llu/%llu ops, %.0f ops/s, ETA %.0f s   ",
			(unsigned long long)st->ops, (unsigned long long)run->expected_ops, rate,
			(double)(run->expected_ops - hvmm_min(st->ops, run->expected_ops)) / rate);
	else
		fprintf(stderr, "\r%llu ops, %.0f ops/s   ", (unsigned long long)st->ops, rate);
}

/*
 * Why ops failed, when the machine rather than the allocator is the cause:
 * VM ops with no room for the hypervisor pool, or most ops out of memory.
 * One line each into @buf (empty if neither).
 */
static void failure_causes(const struct cli_run *run, char *buf, size_t len)
{
	struct sim_machine *m = run->m;
	const struct sim_machine_stats *st = sim_machine_stats(m);
	const struct sim_machine_config *cfg = sim_machine_config(m);
	const struct sim_vmstate *vs = sim_machine_vms(m);
	uint64_t failed = 0;
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int k = 0; k < SIM_OP__COUNT; k++)
		failed += st->failed_by_kind[k];
	if (st->failed_enotsup && vs && !vs->enabled)
		n += (size_t)snprintf(buf + n, len - n, "%llu ops could not run: VMs need a "
				      "hypervisor pool of %llu pages after the allocator pool, in the "
				      "same RAM region, and it does not fit (a smaller --pool-pages "
				      "or a larger --ram)\n", (unsigned long long)st->failed_enotsup,
				      (unsigned long long)cfg->hyp_pool_pages);
	if (n < len && st->ops && failed * 2 > st->ops && st->failed_enomem * 2 > failed)
		snprintf(buf + n, len - n, "most ops failed (%llu of %llu, %llu out of memory): "
			 "the pool of %llu pages cannot hold this trace (a larger --pool-pages)\n",
			 (unsigned long long)failed, (unsigned long long)st->ops,
			 (unsigned long long)st->failed_enomem,
			 (unsigned long long)sim_machine_allocator(m)->nr_pages);
}

static void print_text(const struct cli_run *run, const char *title, double secs)
{
	struct sim_machine *m = run->m;
	const struct sim_machine_stats *st = sim_machine_stats(m);
	const struct sim_machine_config *cfg = sim_machine_config(m);
	const struct sim_report *r = sim_machine_report(m);
	static const char *const levels[] = { "off", "incremental", "full" };

	printf("%s: %llu ops in %.3f s (%.0f ops/s), allocator %s, oracles %s", title,
	       (unsigned long long)st->ops, secs, secs > 0 ? (double)st->ops / secs : 0.0,
	       cfg->allocator, levels[cfg->oracles]);
	/* Said only when they are not mm/'s own, so that mm/'s summary reads as it always did. */
	if (strcmp(sim_mm_pgtable_name(), "hvmm"))
		printf(", page tables %s", sim_mm_pgtable_name());
	printf("\n");
	printf("ops by kind:\n");
	for (unsigned int k = 0; k < SIM_OP__COUNT; k++)
		if (st->by_kind[k])
			printf("  %-20s %10llu  (%llu failed)\n", sim_op_descs[k].name,
			       (unsigned long long)st->by_kind[k],
			       (unsigned long long)st->failed_by_kind[k]);
	printf("peak memory in use: %llu pages (%.1f MiB)\n",
	       (unsigned long long)st->peak_pages_in_use,
	       (double)(st->peak_pages_in_use << HVMM_PAGE_SHIFT) / (1 << 20));
	printf("in use at end: %llu pages; fragmentation of free memory: %.3f\n",
	       (unsigned long long)st->pages_in_use, sim_machine_fragmentation(m));
	if (st->by_kind[SIM_OP_VM_CREATE]) {
		uint64_t guest_pages;
		unsigned int vms = sim_vm_live(sim_machine_vms(m), &guest_pages);

		printf("VMs live at end: %u (%llu guest pages)\n", vms,
		       (unsigned long long)guest_pages);
	}
	if (st->expect_mismatches)
		printf("recorded outcomes not reproduced: %llu\n",
		       (unsigned long long)st->expect_mismatches);
	{
		char causes[1024];

		failure_causes(run, causes, sizeof(causes));
		fputs(causes, stdout);
	}
	if (sim_machine_conc_vcpus(m)) {
		size_t decisions, written, taken;
		uint64_t mismatches;

		sim_machine_conc_schedule(m, &decisions);
		printf("interleaved: %u vCPUs, %llu steps, %zu decisions\n",
		       sim_machine_conc_vcpus(m), (unsigned long long)sim_machine_conc_steps(m),
		       decisions);
		if (!sim_machine_conc_schedule_fit(m, &written, &taken, &mismatches))
			printf("schedule did not apply: the run read %zu of the %zu decisions the "
			       "trace writes, %llu of them naming a vCPU that could not run; steps "
			       "are mm/'s instrumentation points, which differ between compilers and "
			       "options, and this mm/ was built by %s: the schedule was recorded on "
			       "another build or other code (hvmm explore finds the interleaving on "
			       "this one)\n", taken, written, (unsigned long long)mismatches,
			       SIM_CC_NAME);
	}
	if (st->conc_refused)
		printf("refused in the concurrent block: %llu ops, each racing another vCPU's use "
		       "of its handle or of the mapping table (traces/FORMAT.md)\n",
		       (unsigned long long)st->conc_refused);
	printf("oracle sweeps: %llu\n", (unsigned long long)st->sweeps);
	printf("violations: %llu\n", (unsigned long long)r->total);
	for (unsigned int i = 0; i < SIM_ORACLE__COUNT; i++)
		if (r->by_oracle[i])
			printf("  %-16s %llu\n", sim_oracle_name(i), (unsigned long long)r->by_oracle[i]);
	if (r->total)
		sim_report_print(r, stdout);
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void print_json(const struct cli_run *run, const char *title, double secs)
{
	struct sim_machine *m = run->m;
	const struct sim_machine_stats *st = sim_machine_stats(m);
	const struct sim_machine_config *cfg = sim_machine_config(m);
	const struct sim_report *r = sim_machine_report(m);
	static const char *const levels[] = { "off", "incremental", "full" };
	bool first = true;
	uint64_t guest_pages;
	unsigned int vms;

	printf("{\"title\": ");
	json_string(title);
	printf(", \"allocator\": ");
	json_string(cfg->allocator);
	printf(", \"oracles\": \"%s\", \"ops\": %llu, \"seconds\": %.6f, \"ops_per_second\": %.1f",
	       levels[cfg->oracles], (unsigned long long)st->ops, secs,
	       secs > 0 ? (double)st->ops / secs : 0.0);
	printf(", \"ops_by_kind\": {");
	for (unsigned int k = 0; k < SIM_OP__COUNT; k++) {
		if (!st->by_kind[k])
			continue;
		printf("%s\"%s\": {\"count\": %llu, \"failed\": %llu}", first ? "" : ", ",
		       sim_op_descs[k].name, (unsigned long long)st->by_kind[k],
		       (unsigned long long)st->failed_by_kind[k]);
		first = false;
	}
	printf("}, \"peak_pages_in_use\": %llu, \"pages_in_use\": %llu, \"fragmentation\": %.4f",
	       (unsigned long long)st->peak_pages_in_use, (unsigned long long)st->pages_in_use,
	       sim_machine_fragmentation(m));
	vms = sim_vm_live(sim_machine_vms(m), &guest_pages);
	printf(", \"vms_live\": %u, \"guest_pages\": %llu", vms, (unsigned long long)guest_pages);
	printf(", \"expect_mismatches\": %llu, \"sweeps\": %llu, \"violations\": %llu",
	       (unsigned long long)st->expect_mismatches, (unsigned long long)st->sweeps,
	       (unsigned long long)r->total);
	printf(", \"failed_enomem\": %llu, \"failed_enotsup\": %llu",
	       (unsigned long long)st->failed_enomem, (unsigned long long)st->failed_enotsup);
	printf(", \"violations_by_oracle\": {");
	first = true;
	for (unsigned int i = 0; i < SIM_ORACLE__COUNT; i++) {
		if (!r->by_oracle[i])
			continue;
		printf("%s\"%s\": %llu", first ? "" : ", ", sim_oracle_name(i),
		       (unsigned long long)r->by_oracle[i]);
		first = false;
	}
	printf("}, \"first_violations\": [");
	for (unsigned int i = 0; i < r->kept; i++) {
		char line[640];

		sim_violation_format(&r->first[i], line, sizeof(line));
		printf("%s", i ? ", " : "");
		json_string(line);
	}
	printf("]}\n");
}

int cli_run_finish(struct cli_run *run, const char *title)
{
	const struct sim_machine_stats *st;
	double secs = (double)(cli_now_ns() - run->start_ns) / 1e9;

	sim_machine_finish(run->m);
	if (run->events) {
		char err[640];

		if (sim_events_writer_finish(run->events, err, sizeof(err))) {
			run->events = NULL;
			return cli_usage_error("%s", err);
		}
		run->events = NULL;
	}
	if (run->progress)
		fprintf(stderr, "\r%60s\r", "");
	if (run->json)
		print_json(run, title, secs);
	else
		print_text(run, title, secs);
	st = sim_machine_stats(run->m);
	if (run->no_expectations) {
		char causes[1024];

		/* Nothing in the trace flags these failures: say so where it is seen. */
		failure_causes(run, causes, sizeof(causes));
		if (causes[0])
			fprintf(stderr, "hvmm: warning: %s: the trace records no outcomes, and %s",
				title, causes);
	}
	if (sim_machine_report(run->m)->total || st->expect_mismatches)
		return EXIT_VIOLATION;
	return EXIT_CLEAN;
}
