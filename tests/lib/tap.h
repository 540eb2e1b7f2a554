/* SPDX-License-Identifier: MIT */
/*
 * A few lines of TAP for the C tests (meson test protocol: 'tap').
 * CHECK() records a failure with file:line and the expression, and lets
 * the test case go on; TEST() runs one case and prints its TAP line.
 */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <stdio.h>

static int tap_case_failed;
static int tap_cases;
static int tap_failed_cases;

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			printf("#   %s:%d: check failed: %s\n",		\
			       __FILE__, __LINE__, #cond);		\
			tap_case_failed = 1;				\
		}							\
	} while (0)

#define CHECK_MSG(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			printf("#   %s:%d: check failed: %s: ",		\
			       __FILE__, __LINE__, #cond);		\
			printf(__VA_ARGS__);				\
			printf("\n");					\
			tap_case_failed = 1;				\
		}							\
	} while (0)

#define TEST(fn)							\
	do {								\
		tap_case_failed = 0;					\
		fflush(stdout);						\
		fn();							\
		tap_cases++;						\
		if (tap_case_failed)					\
			tap_failed_cases++;				\
		printf("%s %d - %s\n", tap_case_failed ? "not ok" : "ok", \
		       tap_cases, #fn);					\
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_cases);
	return tap_failed_cases ? 1 : 0;
}

#endif /* TESTS_TAP_H */
