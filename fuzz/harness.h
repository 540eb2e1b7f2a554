/* SPDX-License-Identifier: MIT */
/*
 * What every fuzz target shares: running one input through a fresh
 * machine with every oracle on (a violation prints the oracle's report on
 * stderr and aborts, so that every engine records it as a crash), and
 * printing an input's ops as a trace that 'hvmm replay' reproduces.
 *
 * Each target file defines fuzz_target and LLVMFuzzerTestOneInput; the
 * engine-less driver (main.c) uses fuzz_target for its extra modes.
 */
#ifndef FUZZ_HARNESS_H
#define FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "decode.h"

extern const struct fuzz_target fuzz_target;

/*
 * Runs one input on a machine reused across inputs (reset to the input's
 * configuration); aborts on a violation. fuzz_last_signature receives a
 * hash of every op's result and value.
 */
int fuzz_run(const struct fuzz_target *t, const uint8_t *data, size_t size);
extern uint64_t fuzz_last_signature;

/* The same on a freshly created machine; returns the signature. */
uint64_t fuzz_run_fresh(const struct fuzz_target *t, const uint8_t *data, size_t size);

/*
 * Writes the input's configuration and ops as a trace to @path ("-":
 * stdout; binary if it ends in .htrace), which 'hvmm replay' reproduces.
 */
int fuzz_print_trace(const struct fuzz_target *t, const uint8_t *data, size_t size,
		     const char *path);

/*
 * Checks that the encoder inverts the decoder on this input: the decoded
 * ops, encoded and decoded again, are the same ops; and that they are a
 * valid trace (every name defined before its use). Returns 0 or -1 (and
 * says why on stderr).
 */
int fuzz_check_roundtrip(const struct fuzz_target *t, const uint8_t *data, size_t size);

/*
 * Seed inputs from the workload generator: @count inputs of about @ops
 * ops each, written to @dir (named by content). Returns the number written,
 * -1 on error.
 */
int fuzz_make_seeds(const struct fuzz_target *t, const char *dir, unsigned int count,
		    unsigned int ops);

/*
 * A seed input from a trace file: its first @max_ops ops that the target
 * speaks, its configuration brought into the fuzz header's range. Returns
 * the ops kept, -1 on error.
 */
int fuzz_seed_from_trace(const struct fuzz_target *t, const char *trace, const char *dir,
			 unsigned int max_ops);

/* Writes @len bytes to @dir/<hash of contents> atomically; 0 or -1. */
int fuzz_write_input(const char *dir, const uint8_t *data, size_t len);

#endif /* FUZZ_HARNESS_H */
