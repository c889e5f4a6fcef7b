#include "common/listen_socket.h"

#include "common/config_schema.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Opens, binds and (for TCP) listens on the first address of ai. */
static int open_bound(const struct addrinfo *ai, int type, int backlog, const char *what, char *err, size_t errlen)
{
	int fd = socket(ai->ai_family, type | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || (type == SOCK_STREAM && listen(fd, backlog) != 0)) {
		snprintf(err, errlen, "cannot listen on %s: %s", what, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int resolve_and_open(const char *host, uint16_t port, int type, int flags, int backlog, const char *what,
			    char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = type, .ai_flags = flags | AI_PASSIVE};
	struct addrinfo *ai = NULL;
	char portstr[8];
	snprintf(portstr, sizeof(portstr), "%u", port);
	int gai = getaddrinfo(host, portstr, &hints, &ai);
	if (gai != 0) {
		snprintf(err, errlen, "%s: %s", what, gai_strerror(gai));
		return -1;
	}
	int fd = open_bound(ai, type, backlog, what, err, errlen);
	freeaddrinfo(ai);
	return fd;
}

int tc_listen_open(const char *host, uint16_t port, int type, int backlog, char *err, size_t errlen)
{
	char what[300];
	snprintf(what, sizeof(what), "%s %s:%u", type == SOCK_STREAM ? "tcp" : "udp", host, port);
	return resolve_and_open(host, port, type, AI_NUMERICHOST, backlog, what, err, errlen);
}

int tc_listen_open_hostport(const char *key, const char *addr, int backlog, char *err, size_t errlen)
{
	char host[256], what[600];
	uint16_t port = 0;
	if (tc_split_hostport(addr, host, sizeof(host), &port) != 0) {
		snprintf(err, errlen, "%s %s is not host:port", key, addr);
		return -1;
	}
	snprintf(what, sizeof(what), "%s %s", key, addr);
	return resolve_and_open(host, port, SOCK_STREAM, 0, backlog, what, err, errlen);
}

void tc_listen_describe(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss)); /* family 0 when getsockname fails */
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
			port = ntohs(s4->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
			port = ntohs(s6->sin6_port);
		}
	}
	snprintf(out, len, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
}
