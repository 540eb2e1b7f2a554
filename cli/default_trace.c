// SPDX-License-Identifier: MIT
/*
 * Where the bundled default trace is: $HVMM_DEFAULT_TRACE, else
 * $HVMM_TRACE_DIR/default.trace, else next to an installed executable
 * (<prefix>/share/hvmm/traces), else in the source tree the executable was
 * built from (HVMM_SOURCE_DIR, set at compile time).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define DEFAULT_TRACE "default.trace"

static bool readable(const char *path)
{
	return access(path, R_OK) == 0;
}

bool cli_default_trace(char *path, size_t len)
{
	const char *env = getenv("HVMM_DEFAULT_TRACE");
	char exe[PATH_MAX];
	ssize_t n;

	if (!path || !len)
		return false;
	if (env && *env) {
		snprintf(path, len, "%s", env);
		return true;	/* the user said so: a missing file is reported when opened */
	}
	env = getenv("HVMM_TRACE_DIR");
	if (env && *env) {
		snprintf(path, len, "%s/%s", env, DEFAULT_TRACE);
		return true;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(path, len, "%s/../share/hvmm/traces/%s", exe, DEFAULT_TRACE);
			if (readable(path))
				return true;
		}
	}
	snprintf(path, len, "%s/traces/%s", HVMM_SOURCE_DIR, DEFAULT_TRACE);
	return readable(path);
}
