/* SPDX-License-Identifier: MIT */
/*
 * An output file that is whole or absent: a regular file (or a new one) is
 * written as "PATH.XXXXXX" in the same directory and renamed over PATH only
 * when everything was written, so a failed or interrupted run never leaves
 * half a file, and an old file keeps its permissions. "-" is stdout;
 * devices, FIFOs and names of open files (/dev/fd/N, /dev/stdout, /proc/...)
 * are written in place. Every writer of hvmm's outputs goes through here.
 */
#ifndef SIM_TRACE_OUTFILE_H
#define SIM_TRACE_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

struct sim_outfile {
	FILE *f;
	bool own_file;		/* f is ours to close (not stdout) */
	char *path, *tmp;	/* renamed tmp -> path on commit; NULL when written in place */
};

/* Opens @path for writing: 0, or -1 with errno set (nothing is left behind). */
int sim_outfile_open(struct sim_outfile *o, const char *path);
/* Flushes, closes and renames into place: 0, or -1 with errno (the temporary is removed). */
int sim_outfile_commit(struct sim_outfile *o);
/* Closes and removes what was written (in-place outputs stay as they are). */
void sim_outfile_discard(struct sim_outfile *o);

#endif /* SIM_TRACE_OUTFILE_H */
