/* The CT log's HTTP listener as a hostile client meets it (RFC 9112, issue
 * 10 item 4): raw bytes over TCP against the real trustchain-transparency
 * process. NULs and control characters in the target, a missing or
 * repeated Host, contradicting framing headers are refused with 400; a body
 * announced larger than the limit gets 413 at once, without a byte of it
 * sent; a body that never comes, or trickles, is cut off by the timeouts;
 * well-formed requests are still served. */
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

#include "common/http_strict.h"
#include "support/ct_log_fixture.h"
#include "unit/cunit_main.h"

static const char *bindir;
static struct tc_ct_fixture fx;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_log(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fx.port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int send_bytes(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads until the status line is in, the peer closes or wait_ms pass:
 * the status, 0 when the connection closed without an answer, -1 on
 * timeout. *elapsed gets the seconds it took. */
static int read_status(int fd, int wait_ms, double *elapsed)
{
	char buf[512];
	size_t len = 0;
	double start = now_s(), deadline = start + wait_ms / 1000.0;
	int status = -1;
	for (;;) {
		int left = (int)((deadline - now_s()) * 1000);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&p, 1, left) <= 0)
			break;
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0) {
			status = 0; /* closed (or reset) without a status line */
			break;
		}
		len += (size_t)n;
		buf[len] = 0;
		if (strstr(buf, "\r\n") && sscanf(buf, "HTTP/1.%*d %d", &status) == 1)
			break;
		if (len == sizeof(buf) - 1)
			break;
	}
	if (elapsed)
		*elapsed = now_s() - start;
	return status;
}

/* Sends one raw request head (and body, if any) on a fresh connection and
 * returns the answer's status (0: closed without one, -1: none in 5 s). */
static int exchange(const char *raw, size_t len, double *elapsed)
{
	int fd = connect_log();
	if (fd < 0)
		return -2;
	int status = send_bytes(fd, raw, len) == 0 ? read_status(fd, 5000, elapsed) : -2;
	close(fd);
	return status;
}

#define EXCHANGE(lit) exchange(lit, sizeof(lit) - 1, NULL)

static void expect_status(int got, int want, const char *what)
{
	CU_ASSERT_EQUAL(got, want);
	if (got != want)
		fprintf(stderr, "%s: expected HTTP %d, got %d\n", what, want, got);
}

/* ---- tests ---- */

static void test_well_formed_requests_served(void)
{
	expect_status(EXCHANGE("GET /ct/v1/get-sth HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 200, "HTTP/1.1 with Host");
	expect_status(EXCHANGE("GET /ct/v1/get-sth HTTP/1.0\r\n\r\n"), 200, "HTTP/1.0 needs no Host");
	expect_status(EXCHANGE("GET /ct/v1/get-roots HTTP/1.1\r\nhost: [::1]:6962\r\n\r\n"), 200,
		      "an IPv6 literal Host, lower-case name");
	expect_status(EXCHANGE("GET /ct/v1/get%2Dsth HTTP/1.1\r\nHost: ct.example:443\r\n\r\n"), 200,
		      "an escape of a plain character");
	/* A head long enough that the server's read buffer has to grow. */
	size_t pad = 20000;
	char *big = malloc(pad + 200);
	CU_ASSERT_FATAL(big != NULL);
	int n = snprintf(big, 200, "GET /ct/v1/get-sth HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: ");
	memset(big + n, 'a', pad);
	memcpy(big + n + pad, "\r\n\r\n", 4);
	expect_status(exchange(big, (size_t)n + pad + 4, NULL), 200, "a 20 kB head");
	free(big);
	/* A submission through the fixture's HTTP/1.1 client (Host,
	 * Content-Length, keep-alive): SCT verified. */
	size_t cert_len = 0;
	unsigned char *cert = tc_ct_fixture_issue(&fx, &cert_len);
	CU_ASSERT_FATAL(cert != NULL);
	struct tc_ct_entry e;
	char sig[256];
	CU_ASSERT(tc_ct_fixture_submit(&fx, fx.http, cert, cert_len, &e, sig, sizeof(sig)) == 0);
	free(cert);
}

static void test_nul_in_target_refused(void)
{
	expect_status(EXCHANGE("GET /ct/v1/get-sth%00x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 400, "%00 in the path");
	expect_status(EXCHANGE("GET /ct/v1/get-sth\0x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 400, "raw NUL in the path");
	expect_status(EXCHANGE("GET /ct/v1/get-sth\0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 400, "raw NUL at the end");
	/* get-sth ignores its query: only the target check can refuse these. */
	expect_status(EXCHANGE("GET /ct/v1/get-sth?x=%00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 400, "%00 in the query");
	expect_status(EXCHANGE("GET /ct/v1/get-sth?x=\0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 400,
		      "raw NUL in the query");
}

static void test_control_in_target_refused(void)
{
	expect_status(EXCHANGE("GET /ct/v1/get-sth\x01 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 400, "raw 0x01");
	expect_status(EXCHANGE("GET /ct/v1/get\tsth HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 400, "raw tab");
	expect_status(EXCHANGE("GET /ct/v1/get-sth\x7f HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 400, "raw DEL");
	expect_status(EXCHANGE("GET /ct/v1/get-sth%0a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 400, "%0a");
	expect_status(EXCHANGE("GET /ct/v1/get-sth%7F HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 400, "%7F");
	expect_status(EXCHANGE("GET /ct/v1/get-sth%1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 400, "truncated escape");
	expect_status(EXCHANGE("GET /ct/v1/get-sth\xc3\xa9 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 400, "raw 8-bit bytes");
}

static void test_host_rules(void)
{
	expect_status(EXCHANGE("GET /ct/v1/get-sth HTTP/1.1\r\n\r\n"), 400, "HTTP/1.1 without Host");
	expect_status(EXCHANGE("GET /ct/v1/get-sth HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n"), 400,
		      "two Host lines");
	expect_status(EXCHANGE("GET /ct/v1/get-sth HTTP/1.0\r\nHost: a.example\r\nHost: b.example\r\n\r\n"), 400,
		      "two Host lines on HTTP/1.0");
	expect_status(EXCHANGE("GET /ct/v1/get-sth HTTP/1.1\r\nHost: user@a.example\r\n\r\n"), 400, "userinfo in Host");
	expect_status(EXCHANGE("GET /ct/v1/get-sth HTTP/1.1\r\nHost: a\x01.example\r\n\r\n"), 400, "control in Host");
}

/* On get-sth, which ignores any body, so only the framing check can
 * refuse them (RFC 9112 6.3: a message whose length is in doubt). */
static void test_framing_conflicts_refused(void)
{
	expect_status(EXCHANGE("GET /ct/v1/get-sth HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
			       "Content-Length: 0\r\n\r\n"),
		      400, "two Content-Length");
	expect_status(EXCHANGE("GET /ct/v1/get-sth HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
			       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
		      400, "Content-Length with Transfer-Encoding");
	expect_status(EXCHANGE("GET /ct/v1/get-sth HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: +0\r\n\r\n"), 400,
		      "a signed Content-Length");
}

/* 413 must come at once: nothing of the body is sent. */
static void expect_413_at_once(const char *length)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "POST /ct/v1/add-chain HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
			 "Content-Length: %s\r\n\r\n", length);
	double took = 99;
	expect_status(exchange(head, (size_t)n, &took), 413, length);
	CU_ASSERT(took < 2.0);
	if (took >= 2.0)
		fprintf(stderr, "Content-Length %s: answered after %.1f s\n", length, took);
}

static void test_oversized_bodies_refused_at_once(void)
{
	expect_413_at_once("1000000000000000000");
	expect_413_at_once("100000000");
	expect_413_at_once("99999999999999999999999999"); /* past 2^64 */
	char limit_plus_one[32];
	snprintf(limit_plus_one, sizeof(limit_plus_one), "%d", 1024 * 1024 + 1);
	expect_413_at_once(limit_plus_one);
}

/* A chunked body announces nothing: the server must stop reading once it
 * passes the limit instead of swallowing it to the end. */
static void test_chunked_body_over_limit_cut_off(void)
{
	int fd = connect_log();
	CU_ASSERT_FATAL(fd >= 0);
	const char head[] = "POST /ct/v1/add-chain HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n";
	CU_ASSERT_FATAL(send_bytes(fd, head, sizeof(head) - 1) == 0);
	static char chunk[64 * 1024 + 16];
	int hl = snprintf(chunk, sizeof(chunk), "%x\r\n", 64 * 1024);
	memset(chunk + hl, '[', 64 * 1024);
	memcpy(chunk + hl + 64 * 1024, "\r\n", 2);
	size_t chunk_len = (size_t)hl + 64 * 1024 + 2, sent = 0;
	/* Up to 64 MiB, far past the 1 MiB limit: sending must fail (reset)
	 * or the server must close long before that (loopback socket buffers
	 * may hold a few MiB). */
	int refused = 0;
	for (int i = 0; i < 1024 && !refused; i++) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (poll(&p, 1, 5000) <= 0 || (p.revents & (POLLERR | POLLHUP)) ||
		    send_bytes(fd, chunk, chunk_len) != 0)
			refused = 1;
		else
			sent += chunk_len;
	}
	if (!refused)
		refused = read_status(fd, 5000, NULL) == 0;
	CU_ASSERT(refused);
	CU_ASSERT(sent < 16u * 1024 * 1024);
	close(fd);
}

/* One client announces a body and sends nothing of it, another sends one
 * byte every second: the first is closed by the idle timeout, the second
 * by the request deadline; neither is answered 200. */
static void test_slow_bodies_cut_off(void)
{
	const char head[] = "POST /ct/v1/add-chain HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{";
	int silent = connect_log(), trickle = connect_log();
	CU_ASSERT_FATAL(silent >= 0 && trickle >= 0);
	double start = now_s();
	CU_ASSERT_FATAL(send_bytes(silent, head, sizeof(head) - 1) == 0);
	CU_ASSERT_FATAL(send_bytes(trickle, head, sizeof(head) - 1) == 0);
	double silent_closed = 0, trickle_closed = 0, limit = start + TC_HTTP_REQUEST_DEADLINE_S + 10;
	int silent_status = -1, trickle_status = -1;
	while ((!silent_closed || !trickle_closed) && now_s() < limit) {
		if (!silent_closed) {
			silent_status = read_status(silent, 100, NULL);
			if (silent_status != -1)
				silent_closed = now_s() - start;
		}
		if (!trickle_closed) {
			/* A byte a second keeps it under the idle timeout. */
			int sent = send_bytes(trickle, " ", 1);
			trickle_status = sent == 0 ? read_status(trickle, 900, NULL) : 0;
			if (trickle_status != -1)
				trickle_closed = now_s() - start;
		}
	}
	fprintf(stderr, "silent client: %d after %.1f s; trickling client: %d after %.1f s\n", silent_status,
		silent_closed, trickle_status, trickle_closed);
	CU_ASSERT(silent_status == 0 || silent_status == 408);
	CU_ASSERT(silent_closed >= TC_HTTP_IDLE_TIMEOUT_S - 1 && silent_closed <= TC_HTTP_IDLE_TIMEOUT_S + 5);
	CU_ASSERT(trickle_status == 0 || trickle_status == 408);
	CU_ASSERT(trickle_closed >= TC_HTTP_REQUEST_DEADLINE_S - 1 && trickle_closed <= TC_HTTP_REQUEST_DEADLINE_S + 5);
	close(silent);
	close(trickle);
	/* And the log still serves. */
	expect_status(EXCHANGE("GET /ct/v1/get-sth HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 200, "after the slow clients");
}

static int suite_init(void)
{
	return tc_ct_fixture_setup(&fx, bindir, "  sequence_interval_ms: 100\n") == 0 &&
			       tc_ct_fixture_start_log(&fx) == 0
		       ? 0
		       : 1;
}

static int suite_cleanup(void)
{
	tc_ct_fixture_cleanup(&fx);
	return 0;
}

int main(int argc, char **argv)
{
	bindir = argc > 1 ? argv[1] : "build/bin";
	struct tc_test tests[] = {
		{"well-formed requests are served", test_well_formed_requests_served},
		{"a NUL in the target (raw or %00) gets 400", test_nul_in_target_refused},
		{"control characters in the target get 400", test_control_in_target_refused},
		{"Host missing on HTTP/1.1, repeated or invalid gets 400", test_host_rules},
		{"contradicting framing headers get 400", test_framing_conflicts_refused},
		{"a body announced over the limit gets 413 at once", test_oversized_bodies_refused_at_once},
		{"a chunked body over the limit is cut off", test_chunked_body_over_limit_cut_off},
		{"silent and trickling bodies are cut off by the timeouts", test_slow_bodies_cut_off},
		{NULL, NULL},
	};
	return tc_run_suite("ct_http_strict", tests, suite_init, suite_cleanup);
}
