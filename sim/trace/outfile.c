// SPDX-License-Identifier: MIT
/* Outputs written beside their final name and renamed into place (outfile.h). */
#include "trace/outfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void outfile_free(struct sim_outfile *o)
{
	free(o->path);
	free(o->tmp);
	o->path = o->tmp = NULL;
	o->f = NULL;
	o->own_file = false;
}

static bool written_in_place(const char *path)
{
	struct stat st;

	return (!stat(path, &st) && !S_ISREG(st.st_mode)) || !strncmp(path, "/dev/", 5) ||
	       !strncmp(path, "/proc/", 6);
}

/* The mode a new file gets (umask applied), or the one @path has now. */
static mode_t target_mode(const char *path)
{
	struct stat st;
	mode_t mask;

	if (!stat(path, &st))
		return st.st_mode & 07777;
	mask = umask(0);
	umask(mask);
	return 0666 & ~mask;
}

int sim_outfile_open(struct sim_outfile *o, const char *path)
{
	int fd, saved;

	memset(o, 0, sizeof(*o));
	if (!strcmp(path, "-")) {
		o->f = stdout;
		return 0;
	}
	if (written_in_place(path)) {
		o->f = fopen(path, "wb");
		o->own_file = o->f != NULL;
		return o->f ? 0 : -1;
	}
	o->path = strdup(path);
	o->tmp = malloc(strlen(path) + 8);
	if (!o->path || !o->tmp) {
		outfile_free(o);
		errno = ENOMEM;
		return -1;
	}
	sprintf(o->tmp, "%s.XXXXXX", path);
	fd = mkstemp(o->tmp);
	if (fd < 0) {
		saved = errno;
		outfile_free(o);
		errno = saved;
		return -1;
	}
	if (fchmod(fd, target_mode(path)) || !(o->f = fdopen(fd, "wb"))) {
		saved = errno;
		close(fd);
		unlink(o->tmp);
		outfile_free(o);
		errno = saved;
		return -1;
	}
	o->own_file = true;
	return 0;
}

int sim_outfile_commit(struct sim_outfile *o)
{
	int ret = 0, saved = 0;

	if (fflush(o->f) || ferror(o->f)) {
		ret = -1;
		saved = errno ? errno : EIO;
	}
	if (o->own_file && fclose(o->f) && !ret) {
		ret = -1;
		saved = errno;
	}
	o->own_file = false;
	if (!ret && o->tmp && rename(o->tmp, o->path)) {
		ret = -1;
		saved = errno;
	}
	if (!ret && o->tmp)
		o->tmp[0] = '\0';
	sim_outfile_discard(o);
	errno = saved;
	return ret;
}

void sim_outfile_discard(struct sim_outfile *o)
{
	if (o->own_file)
		fclose(o->f);
	if (o->tmp && o->tmp[0])
		unlink(o->tmp);
	outfile_free(o);
}
