/* The agent's pure parts; see agent.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/asn1_time.h"
#include "ctl/agent.h"

int64_t tc_agent_renew_at(int64_t not_before, int64_t not_after, double jitter_unit)
{
	int64_t life = not_after > not_before ? not_after - not_before : 0;
	if (jitter_unit < 0 || jitter_unit >= 1)
		jitter_unit = 0;
	return not_before + life * 2 / 3 - (int64_t)((double)(life / 15) * jitter_unit);
}

int tc_agent_write_file(const char *path, const void *data, size_t len, mode_t mode, char *err, size_t errlen)
{
	char tmp[4096], dir[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	int fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	/* The mode before any byte is written: a key is never readable by others. */
	int ok = fchmod(fd, mode) == 0;
	for (size_t off = 0; ok && off < len;) {
		ssize_t n = write(fd, (const char *)data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		ok = n > 0;
		off += ok ? (size_t)n : 0;
	}
	ok = ok && fsync(fd) == 0;
	int e = errno;
	ok = close(fd) == 0 && ok;
	if (ok && rename(tmp, path) != 0) {
		e = errno;
		ok = 0;
	}
	if (!ok) {
		unlink(tmp);
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -1;
	}
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd); /* the rename itself durable */
		close(dfd);
	}
	return 0;
}

int tc_agent_cert_window(const char *path, int64_t *not_before, int64_t *not_after)
{
	FILE *f = fopen(path, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	int rc = x && tc_asn1_time_unix(X509_get0_notBefore(x), not_before) == 0 &&
			 tc_asn1_time_unix(X509_get0_notAfter(x), not_after) == 0
		 ? 0
		 : -1;
	X509_free(x);
	return rc;
}
