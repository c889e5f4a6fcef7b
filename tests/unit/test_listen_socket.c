/* common/listen_socket: the one way every process opens its listening
 * sockets. Runs on loopback with port 0 (the kernel picks), so it needs
 * no free port and no network namespace. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/listen_socket.h"
#include "unit/cunit_main.h"

/* The port tc_listen_describe printed ("127.0.0.1:PORT"), 0 if none. */
static unsigned described_port(int fd, const char *prefix)
{
	char text[80];
	tc_listen_describe(fd, text, sizeof(text));
	size_t pl = strlen(prefix);
	if (strncmp(text, prefix, pl) != 0)
		return 0;
	unsigned port = 0;
	return sscanf(text + pl, "%u", &port) == 1 ? port : 0;
}

static void test_tcp_listens_and_accepts(void)
{
	char err[256] = "";
	int fd = tc_listen_open("127.0.0.1", 0, SOCK_STREAM, 16, err, sizeof(err));
	CU_ASSERT_FATAL(fd >= 0);
	unsigned port = described_port(fd, "127.0.0.1:");
	CU_ASSERT(port > 0);
	/* Listening: a client connects without an accept yet. */
	int c = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	CU_ASSERT_EQUAL(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(c);
	/* SO_REUSEADDR is set (restarts bind while old connections linger). */
	int one = 0;
	socklen_t ol = sizeof(one);
	CU_ASSERT_EQUAL(getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, &ol), 0);
	CU_ASSERT_EQUAL(one, 1);
	close(fd);
}

static void test_udp_and_ipv6(void)
{
	char err[256] = "";
	int fd = tc_listen_open("127.0.0.1", 0, SOCK_DGRAM, 0, err, sizeof(err));
	CU_ASSERT_FATAL(fd >= 0);
	int type = 0;
	socklen_t tl = sizeof(type);
	CU_ASSERT_EQUAL(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl), 0);
	CU_ASSERT_EQUAL(type, SOCK_DGRAM);
	close(fd);
	fd = tc_listen_open("::1", 0, SOCK_STREAM, 4, err, sizeof(err));
	if (fd >= 0) { /* a box without IPv6 loopback cannot check this */
		CU_ASSERT(described_port(fd, "[::1]:") > 0);
		close(fd);
	}
}

static void test_numeric_only_and_errors(void)
{
	char err[256] = "";
	/* Address-only config keys take numbers: a name is refused. */
	CU_ASSERT_EQUAL(tc_listen_open("localhost", 0, SOCK_STREAM, 4, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "tcp localhost:0"));
	/* A port in use is refused with the errno text. */
	int fd = tc_listen_open("127.0.0.1", 0, SOCK_STREAM, 4, err, sizeof(err));
	CU_ASSERT_FATAL(fd >= 0);
	unsigned port = described_port(fd, "127.0.0.1:");
	char addr[64];
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	err[0] = '\0';
	CU_ASSERT_EQUAL(tc_listen_open_hostport("ct.http_listen", addr, 4, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot listen on ct.http_listen"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "in use"));
	close(fd);
	/* Malformed values name the key. */
	static const char *const bad[] = {"127.0.0.1", "::1:80", "[::1]80", "127.0.0.1:0", "127.0.0.1:70000", ":80"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(tc_listen_open_hostport("acme.listen", bad[i], 4, err, sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "acme.listen"));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "is not host:port"));
	}
}

static void test_hostport_resolves_names(void)
{
	char err[256] = "";
	/* Find a free port, then listen on it by name. */
	int probe = tc_listen_open("127.0.0.1", 0, SOCK_STREAM, 4, err, sizeof(err));
	CU_ASSERT_FATAL(probe >= 0);
	unsigned port = described_port(probe, "127.0.0.1:");
	close(probe);
	char addr[64];
	snprintf(addr, sizeof(addr), "localhost:%u", port);
	int fd = tc_listen_open_hostport("gateway.http_listen", addr, 4, err, sizeof(err));
	if (fd < 0) /* the port was taken in between: say so rather than fail */
		fprintf(stderr, "port %u taken meanwhile: %s\n", port, err);
	else {
		char text[80];
		tc_listen_describe(fd, text, sizeof(text));
		CU_ASSERT(strstr(text, ":") != NULL);
		close(fd);
	}
}

static void test_describe_bad_fd(void)
{
	char text[80];
	tc_listen_describe(-1, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "?:0");
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"tcp: listens, accepts, SO_REUSEADDR", test_tcp_listens_and_accepts},
		{"udp and IPv6 loopback", test_udp_and_ipv6},
		{"numeric hosts only; errors name the key", test_numeric_only_and_errors},
		{"host:port resolves names", test_hostport_resolves_names},
		{"describe: unknown socket", test_describe_bad_fd},
		{NULL, NULL},
	};
	return tc_run_suite("listen_socket", tests, NULL, NULL);
}
