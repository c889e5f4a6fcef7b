#include "resolver/serial_floor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file_replace.h"

int tc_serial_floor_read(const char *path, uint32_t *out, char *err, size_t errlen)
{
	*out = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char buf[32];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	/* One decimal number and a newline, exactly as written below. */
	if (n < 2 || buf[n - 1] != '\n') {
		snprintf(err, errlen, "%s: not a serial and a newline", path);
		return -1;
	}
	buf[n - 1] = '\0';
	char *end;
	errno = 0;
	unsigned long v = strtoul(buf, &end, 10);
	if (errno || *end || buf[0] < '0' || buf[0] > '9' || v > UINT32_MAX) {
		snprintf(err, errlen, "%s: not a serial", path);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

int tc_serial_floor_write(const char *path, uint32_t value, char *err, size_t errlen)
{
	char text[16];
	int len = snprintf(text, sizeof(text), "%u\n", value);
	return tc_file_replace(path, text, (size_t)len, 0600, err, errlen);
}
