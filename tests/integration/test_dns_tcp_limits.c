/* The TCP listener's connection limits (RFC 7766 §6.2.3, §10) on real
 * sockets over loopback: one source holding more idle connections than its
 * quota only displaces its own oldest ones, a full table makes room by
 * closing the least recently active idle connection instead of refusing
 * the newcomer, and a connection waiting for its answer is never the one
 * closed. Sources are distinct loopback addresses (127.0.0.0/8 is all on lo). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "resolver/dns_build.h"
#include "resolver/dns_service.h"
#include "resolver/tcp_server.h"
#include "resolver/zone.h"
#include "unit/cunit_main.h"

#define MAX_CONNS 32
#define PER_SOURCE 8

static struct tc_zone *zone;
static struct tc_dns_service svc;
static struct tc_tcp_server *srv;
static int lfd = -1;
static struct sockaddr_in server_addr;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int suite_init(void)
{
	struct tc_config cfg;
	char err[512];
	tc_config_defaults(&cfg, true);
	if (tc_zone_from_config(&cfg, &zone, err, sizeof(err)) != 0) {
		fprintf(stderr, "zone: %s\n", err);
		return 1;
	}
	svc.zone = zone;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 1024) != 0 ||
	    getsockname(lfd, (struct sockaddr *)&server_addr, &alen) != 0)
		return 1;
	struct tc_tcp_limits lim = {.max_conns = MAX_CONNS, .per_source = PER_SOURCE,
				    .idle_ms = 60000};
	if (tc_tcp_server_start(lfd, &svc, &lim, &srv, err, sizeof(err)) != 0) {
		fprintf(stderr, "tcp: %s\n", err);
		return 1;
	}
	return 0;
}

static int suite_cleanup(void)
{
	tc_tcp_server_stop(srv);
	if (lfd >= 0)
		close(lfd);
	tc_zone_free(zone);
	return 0;
}

/* A connection from 127.a.b.c. */
static int connect_from(const char *src)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, src, &a.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    connect(fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) != 0) {
		fprintf(stderr, "connect from %s: %s\n", src, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* True once the server has closed fd (EOF or reset), false while it is
 * open at the deadline. */
static bool closed_by_server(int fd, int wait_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, wait_ms) <= 0)
		return false;
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Waits until exactly want of fds[0..n) are closed by the server (polling,
 * deadline 5 s); returns how many are closed at the end. */
static int wait_closed_count(const int *fds, bool *closed, int n, int want)
{
	uint64_t deadline = now_ms() + 5000;
	int count;
	do {
		count = 0;
		for (int i = 0; i < n; i++) {
			if (!closed[i])
				closed[i] = closed_by_server(fds[i], 0);
			count += closed[i];
		}
		if (count >= want)
			break;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	} while (now_ms() < deadline);
	return count;
}

/* One A query for ca.<zone> on fd; true when a NOERROR answer comes back. */
static bool query_ok(int fd)
{
	uint8_t q[2 + 512], r[2 + 4096];
	uint8_t name[] = "\2ca\5trust\11hypermesh\6online";
	struct tc_dns_builder b;
	tc_dns_build_init(&b, q + 2, sizeof(q) - 2);
	if (tc_dns_build_header(&b, 0x7777, TC_DNS_FLAG_RD) != 0 ||
	    tc_dns_build_question(&b, name, sizeof(name), TC_DNS_TYPE_A, TC_DNS_CLASS_IN) != 0)
		return false;
	size_t qlen = tc_dns_build_finish(&b);
	tc_dns_put16(q, (uint16_t)qlen);
	if (send(fd, q, qlen + 2, MSG_NOSIGNAL) != (ssize_t)(qlen + 2))
		return false;
	size_t got = 0;
	uint64_t deadline = now_ms() + 3000;
	while (now_ms() < deadline) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = recv(fd, r + got, sizeof(r) - got, 0);
		if (n <= 0)
			return false;
		got += (size_t)n;
		if (got >= 2 && got >= 2 + (size_t)tc_dns_get16(r))
			return tc_dns_get16(r + 2) == 0x7777 && TC_DNS_RCODE(tc_dns_get16(r + 4)) == 0;
	}
	return false;
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* One source opens 40 idle connections: its 8 newest stay, its 32 oldest
 * are closed, and the newest answers. (The old listener kept the first 32
 * and shut every later one, the client that keeps reconnecting included.) */
static void test_one_source_displaces_only_itself(void)
{
	enum { N = 40 };
	int fds[N];
	bool closed[N] = {false};
	for (int i = 0; i < N; i++) {
		fds[i] = connect_from("127.0.0.2");
		CU_ASSERT_FATAL(fds[i] >= 0);
	}
	int count = wait_closed_count(fds, closed, N, N - PER_SOURCE);
	CU_ASSERT_EQUAL(count, N - PER_SOURCE);
	for (int i = 0; i < N - PER_SOURCE; i++)
		CU_ASSERT(closed[i]);
	for (int i = N - PER_SOURCE; i < N; i++)
		CU_ASSERT(!closed[i]);
	CU_ASSERT(query_ok(fds[N - 1]));
	/* Another source meanwhile is served at once. */
	int other = connect_from("127.0.0.3");
	CU_ASSERT_FATAL(other >= 0);
	CU_ASSERT(query_ok(other));
	close(other);
	close_all(fds, N);
}

/* Every slot held by idle connections of several sources: a new source is
 * served, the least recently active connection making room; one that just
 * asked something is not it. */
static void test_full_table_closes_idle(void)
{
	enum { N = MAX_CONNS };
	int fds[N];
	bool closed[N] = {false};
	/* Wait for the previous test's connections to be gone from the server. */
	struct timespec ts = {0, 200 * 1000 * 1000};
	nanosleep(&ts, NULL);
	for (int i = 0; i < N; i++) {
		char src[32];
		snprintf(src, sizeof(src), "127.0.1.%d", 1 + i / PER_SOURCE);
		fds[i] = connect_from(src);
		CU_ASSERT_FATAL(fds[i] >= 0);
	}
	/* The oldest connection becomes the most recently active. */
	CU_ASSERT(query_ok(fds[0]));
	for (int k = 0; k < 3; k++) {
		int fd = connect_from("127.0.2.1");
		CU_ASSERT_FATAL(fd >= 0);
		CU_ASSERT(query_ok(fd));
		close(fd);
	}
	/* Three connections were closed to make room: the 2nd, 3rd and 4th
	 * oldest (the 1st had just asked), or, had a closed newcomer freed its
	 * slot first, fewer; never the one that asked. */
	int count = wait_closed_count(fds, closed, N, 1);
	CU_ASSERT(count >= 1 && count <= 3);
	CU_ASSERT(!closed[0]);
	CU_ASSERT(closed[1]);
	CU_ASSERT(query_ok(fds[0]));
	close_all(fds, N);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"one source over its quota displaces only its own oldest", test_one_source_displaces_only_itself},
		{"a full table closes the least recently active idle connection", test_full_table_closes_idle},
		{NULL, NULL},
	};
	return tc_run_suite("dns_tcp_limits", tests, suite_init, suite_cleanup);
}
