/* SPDX-License-Identifier: MIT */
/* Test helpers: bare simulated memory for calling mm/ directly, and panic catching. */
#ifndef TESTS_TESTMEM_H
#define TESTS_TESTMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "physmem.h"
#include "platform.h"

/*
 * One RAM region of @bytes at @base, mapped and installed as the
 * platform's memory, with a vmemmap for it installed in mm/.
 */
void testmem_init(struct sim_physmem *pm, uint64_t base, uint64_t bytes);
void testmem_fini(struct sim_physmem *pm);

/* Host pointer of a physical address / page frame. */
void *testmem_pfn(struct sim_physmem *pm, uint64_t pfn);

/*
 * Runs fn(arg) with mm/ panics caught. Returns true if mm/ panicked, and
 * then *what (if not NULL) points at mm/'s message.
 */
bool testmem_panics(void (*fn)(void *arg), void *arg, const char **what);

#endif /* TESTS_TESTMEM_H */
