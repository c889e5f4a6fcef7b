#include "server/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"

int tc_sd_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !*path)
		return 0;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	/* An absolute path, or "@name" for the abstract namespace (a leading
	 * NUL in sun_path, the length then counting every byte of the name). */
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path)) {
		tc_warn("NOTIFY_SOCKET '%s' is not a socket path: cannot tell the service manager", path);
		return -1;
	}
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		tc_warn("NOTIFY_SOCKET: socket: %s", strerror(errno));
		return -1;
	}
	ssize_t n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa, salen);
	int e = errno;
	close(fd);
	if (n != (ssize_t)strlen(state)) {
		tc_warn("NOTIFY_SOCKET %s: %s", path, n < 0 ? strerror(e) : "short send");
		return -1;
	}
	return 1;
}
