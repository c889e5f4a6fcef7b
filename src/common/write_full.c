#include "common/write_full.h"

#include <errno.h>
#include <unistd.h>

int tc_write_full(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			/* write(2) returns 0 only for a zero-length request; treat
			 * it as a full device rather than spin. */
			errno = ENOSPC;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}
