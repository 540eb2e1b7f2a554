/* SPDX-License-Identifier: MIT */
/*
 * The one test harness of the C tests: TAP (meson test protocol: 'tap').
 * CHECK() records a failure with file:line and the expression, and lets
 * the test case go on; TEST() runs one case and prints its TAP line;
 * TAP_CASE() does the same for a case that is a call with arguments.
 * TAP_SKIP() ends a case that cannot run here as skipped, with the reason
 * (a skip is never a pass). Diagnostics go to stdout as "# ..." lines.
 */
#ifndef TESTS_TAP_H
#define TESTS_TAP_H

#include <stdio.h>

static int tap_case_failed;
static const char *tap_case_skipped;
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

#define CHECK_EQ(a, b)							\
	do {								\
		unsigned long long a_ = (unsigned long long)(a);	\
		unsigned long long b_ = (unsigned long long)(b);	\
		if (a_ != b_) {						\
			printf("#   %s:%d: check failed: %s == %s "	\
			       "(0x%llx != 0x%llx)\n", __FILE__, __LINE__, \
			       #a, #b, a_, b_);				\
			tap_case_failed = 1;				\
		}							\
	} while (0)

/* Fails the case with a message, from code that found the failure itself. */
#define TAP_FAIL(...)							\
	do {								\
		printf("#   %s:%d: ", __FILE__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		tap_case_failed = 1;					\
	} while (0)

/* Inside a case: the rest cannot run here; the case is reported skipped. */
#define TAP_SKIP(reason)						\
	do {								\
		tap_case_skipped = (reason);				\
		return;							\
	} while (0)

static inline void tap_case_begin(void)
{
	tap_case_failed = 0;
	tap_case_skipped = NULL;
	fflush(stdout);
}

static inline void tap_case_end(const char *name)
{
	tap_cases++;
	if (tap_case_failed)
		tap_failed_cases++;
	if (tap_case_skipped && !tap_case_failed)
		printf("ok %d - %s # SKIP %s\n", tap_cases, name, tap_case_skipped);
	else
		printf("%s %d - %s\n", tap_case_failed ? "not ok" : "ok", tap_cases, name);
	fflush(stdout);
}

#define TEST(fn)							\
	do {								\
		tap_case_begin();					\
		fn();							\
		tap_case_end(#fn);					\
	} while (0)

/* One case made of a call with arguments, named @name. */
#define TAP_CASE(name, call)						\
	do {								\
		tap_case_begin();					\
		call;							\
		tap_case_end(name);					\
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_cases);
	return tap_failed_cases ? 1 : 0;
}

#endif /* TESTS_TAP_H */
