// SPDX-License-Identifier: MIT
/*
 * The one C++ file: registers every C benchmark case (bench/bench.h) with
 * Google Benchmark. Single-threaded cases use manual time, so Google
 * Benchmark's mean is the cycle-counter time of the timed region with the
 * counter's overhead subtracted; p50/p99/p99.9/max come from the same
 * samples. Multi-threaded cases use wall time (throughput of all threads).
 */
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench.h"

namespace {

struct slot {
	const bench_case *c;
	std::atomic<bench_state *> s{nullptr};
	bool failed = false;
};

void run_case(benchmark::State &st, slot *sl)
{
	const bench_case *c = sl->c;
	const bool manual = c->threads == 1;
	const double ns_per_tick = 1.0 / bench_ticks_per_ns();

	if (st.thread_index() == 0) {
		char err[256];
		bench_state *s = bench_open(c, (unsigned int)st.threads(), err, sizeof(err));

		sl->failed = !s;
		sl->s.store(s);
		if (!s)
			st.SkipWithError(err);
	}
	auto end = st.end();	/* all threads wait here until thread 0 has set up */
	bench_state *s = sl->s.load();

	if (!s) {
		if (st.thread_index() != 0)
			st.SkipWithError("set-up failed");
		for (auto it = st.begin(); it != end; ++it) {
		}
		return;
	}
	bench_thread *t = &s->thread[st.thread_index()];
	for (auto it = st.begin(); it != end; ++it) {
		uint64_t ticks = bench_step(s, t);

		if (manual)
			st.SetIterationTime((double)ticks * ns_per_tick * 1e-9);
	}
	if (st.thread_index() != 0)
		return;
	/* Other threads are done: the loop's end is a barrier. */
	bench_summary sum;

	bench_summarize(s, &sum);
	st.SetItemsProcessed((int64_t)sum.items);
	st.counters["p50_ns"] = sum.p50_ns;
	st.counters["p99_ns"] = sum.p99_ns;
	st.counters["p99.9_ns"] = sum.p999_ns;
	st.counters["max_ns"] = sum.max_ns;
	st.counters["mean_ns"] = sum.mean_ns;
	for (unsigned int i = 0; i < s->nr_counters; i++)
		st.counters[s->counter[i].name] = benchmark::Counter(
			s->counter[i].value,
			s->counter[i].rate ? benchmark::Counter::kIsRate : benchmark::Counter::kDefaults);
	st.SetLabel(c->subject);
	bench_close(s);
	sl->s.store(nullptr);
}

}  // namespace

/* Our own flags, removed before Google Benchmark sees the rest. */
static double parse_scale(int *argc, char **argv)
{
	double scale = 1;
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		if (!strncmp(argv[i], "--hvmm_scale=", 13)) {
			scale = atof(argv[i] + 13);
			if (scale <= 0) {
				fprintf(stderr, "hvmm-bench: --hvmm_scale needs a positive number\n");
				exit(2);
			}
			continue;
		}
		argv[out++] = argv[i];
	}
	*argc = out;
	return scale;
}

int main(int argc, char **argv)
{
	double scale = parse_scale(&argc, argv);
	size_t nr;
	const bench_case *cases = bench_cases(&nr);
	std::vector<slot> slots(nr);

	bench_ticks_calibrate();
	for (size_t i = 0; i < nr; i++) {
		slots[i].c = &cases[i];
		auto *b = benchmark::RegisterBenchmark(cases[i].name, run_case, &slots[i]);

		if (cases[i].threads > 1)
			b->Threads((int)cases[i].threads);
		if (cases[i].threads == 1)
			b->UseManualTime();
		else
			b->UseRealTime();
		if (cases[i].iterations)
			b->Iterations((benchmark::IterationCount)(cases[i].iterations * scale));
		else if (cases[i].min_time > 0)
			b->MinTime(cases[i].min_time);
	}
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::AddCustomContext("ticks_per_ns", std::to_string(bench_ticks_per_ns()));
	benchmark::AddCustomContext("timer_overhead_ticks", std::to_string(bench_ticks_overhead()));
	benchmark::AddCustomContext("timer_step_ticks", std::to_string(bench_ticks_step()));
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}
