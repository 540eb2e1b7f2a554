/* SPDX-License-Identifier: MIT */
/* Minimal test helpers: CHECK prints file:line and what failed, and counts. */
#ifndef TESTS_UNIT_TEST_H
#define TESTS_UNIT_TEST_H

#include <stdio.h>
#include <stdlib.h>

static int test_failures;

#define CHECK(cond) do {							\
		if (!(cond)) {							\
			fprintf(stderr, "%s:%d: CHECK failed: %s\n",		\
				__FILE__, __LINE__, #cond);			\
			test_failures++;					\
		}								\
	} while (0)

#define CHECK_EQ(a, b) do {							\
		unsigned long long a_ = (unsigned long long)(a);		\
		unsigned long long b_ = (unsigned long long)(b);		\
		if (a_ != b_) {							\
			fprintf(stderr, "%s:%d: CHECK failed: %s == %s "	\
				"(0x%llx != 0x%llx)\n", __FILE__, __LINE__,	\
				#a, #b, a_, b_);				\
			test_failures++;					\
		}								\
	} while (0)

static inline int test_result(const char *name)
{
	if (test_failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, test_failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}

#endif /* TESTS_UNIT_TEST_H */
