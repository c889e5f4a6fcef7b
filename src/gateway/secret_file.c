#include "gateway/secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tc_read_secret_file(const char *what, const char *path, size_t max, char **data, size_t *len,
			char *err, size_t errlen)
{
	*data = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(err, errlen, "%s %s: not a regular file", what, path);
		return -1;
	}
	/* Readable by others means already leaked (a key) or forgeable (a
	 * token list someone else may edit): refuse rather than warn. */
	if ((st.st_mode & 077) != 0 || st.st_uid != geteuid()) {
		close(fd);
		snprintf(err, errlen, "%s %s: must be owned by uid %u with mode 0600 or stricter", what, path,
			 (unsigned)geteuid());
		return -1;
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		snprintf(err, errlen, "%s %s: larger than %zu bytes", what, path, max);
		return -1;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		tc_secret_free(buf, (size_t)st.st_size);
		snprintf(err, errlen, "%s %s: short read", what, path);
		return -1;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}

void tc_secret_free(char *data, size_t len)
{
	if (!data)
		return;
	OPENSSL_cleanse(data, len);
	free(data);
}
