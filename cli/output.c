// SPDX-License-Identifier: MIT
/*
 * An output never overwrites an input. The check compares the files
 * themselves (device and inode), so a second name, a hard link or a
 * symbolic link is caught as well, and it runs before anything is opened
 * for writing.
 */
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

int cli_refuse_overwrite(const char *cmd, const char *in, const char *out)
{
	struct stat si, so;

	if (!in || !out || !strcmp(in, "-") || !strcmp(out, "-"))
		return 0;
	if (stat(in, &si) || stat(out, &so))
		return 0;	/* a missing output is created; a missing input fails when read */
	if (si.st_dev != so.st_dev || si.st_ino != so.st_ino)
		return 0;
	return cli_usage_error("%s: the output %s is the input %s: refusing to overwrite it "
			       "(choose another output file)", cmd, out, in);
}
