#include "common/proc_env.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

int tc_inherited_fd(const char *name)
{
	char var[64];
	snprintf(var, sizeof(var), "TC_FD_%s", name);
	const char *val = getenv(var);
	if (!val || !*val)
		return -1;
	char *end;
	errno = 0;
	long fd = strtol(val, &end, 10);
	if (errno || *end || fd < 0 || fd > 1024)
		return -1;
	if (fcntl((int)fd, F_GETFD) < 0)
		return -1;
	/* Keep it from leaking into anything this process might exec later. */
	fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	return (int)fd;
}
