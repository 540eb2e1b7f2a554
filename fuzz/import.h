/* SPDX-License-Identifier: MIT */
/*
 * The importer fuzz targets (fuzz_ftrace.c, fuzz_lttng.c): an input is a
 * text file as 'hvmm import' reads it.
 */
#ifndef FUZZ_IMPORT_H
#define FUZZ_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "import/kmem.h"

/*
 * Imports @data line by line as 'hvmm import' does, in the default and in
 * the strict mode, and aborts (a ROBUST violation) if the importer's counts
 * disagree with each other or with the ops it wrote, or if what it wrote
 * is not a valid trace.
 */
void fuzz_import(enum kmem_source src, const uint8_t *data, size_t size);

#endif /* FUZZ_IMPORT_H */
