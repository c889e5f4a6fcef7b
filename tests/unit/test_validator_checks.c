/* The three challenge checks end to end over loopback against real
 * servers (test_validator_responders.c): http-01 right/wrong/404, a hanging
 * target cut off at the deadline, redirects (followed; to a forbidden port
 * or scheme, or in a loop: refused), 10 MiB bodies refused without reading
 * them, loopback targets refused when the policy says so, IPv6-first with
 * IPv4 fallback; tls-alpn-01 with a proper acme-tls/1 certificate and with
 * each flaw; dns-01 direct, through CNAMEs, over TCP after truncation, and
 * NXDOMAIN / SERVFAIL / silence. Run it inside `unshare -n` (own loopback). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "acme/validator_check.h"
#include "unit/cunit_main.h"
#include "unit/test_validator_responders.h"

static struct tc_vcheck_cfg cfg;

static int setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	char why[256];
	if (tc_vcheck_global_init(why, sizeof(why)) != 0)
		return 1;
	uint16_t hp = tv_http_start(), tp = tv_tls_start(), dp = tv_dns_start();
	char resolver[64];
	snprintf(resolver, sizeof(resolver), "127.0.0.1:%u", dp);
	if (tc_vdns_servers_init(resolver, NULL, &cfg.dns, why, sizeof(why)) != 0)
		return 1;
	cfg.rules.allow_loopback = 1;
	cfg.rules.allow_private = 1;
	cfg.http_port = hp;
	cfg.tls_port = tp;
	cfg.timeout_ms = 4000;
	cfg.max_redirects = 3;
	cfg.max_response_bytes = 4096;
	cfg.concurrency = 4;
	return 0;
}

static int teardown(void)
{
	tv_http_stop();
	tv_tls_stop();
	tv_dns_stop();
	return 0;
}

static struct tc_vrequest req(enum tc_vtype type, const char *identifier, int is_ip)
{
	struct tc_vrequest r = {.id = 1, .type = type, .is_ip = is_ip};
	snprintf(r.identifier, sizeof(r.identifier), "%s", identifier);
	r.identifier_len = strlen(r.identifier);
	strcpy(r.token, TV_TOKEN);
	strcpy(r.key_authorization, TV_KEYAUTH);
	return r;
}

static int64_t run(const struct tc_vcheck_cfg *c, const struct tc_vrequest *r, struct tc_vresult *res)
{
	int64_t t0 = tc_vnow_ms();
	tc_vcheck_run(c, r, res);
	int64_t dt = tc_vnow_ms() - t0;
	printf("\n    %s %s: %s %s (%s, %s) %lld ms", tc_vtype_name(r->type), r->identifier,
	       res->valid ? "valid" : res->problem_type, res->detail, res->address_used, res->url, (long long)dt);
	return dt;
}

static int is(const struct tc_vresult *res, const char *problem)
{
	return !res->valid && strcmp(res->problem_type, problem) == 0;
}

static void test_http_valid(void)
{
	struct tc_vresult res;
	tv_http_set_mode(TV_HTTP_OK);
	struct tc_vrequest r = req(TC_V_HTTP01, "ok.test", 0);
	run(&cfg, &r, &res);
	CU_ASSERT(res.valid);
	CU_ASSERT_STRING_EQUAL(res.address_used, "127.0.0.1");
	struct tv_http_stats st;
	tv_http_stats(&st);
	CU_ASSERT_STRING_EQUAL(st.last_path, "/.well-known/acme-challenge/" TV_TOKEN);
	char host[64];
	snprintf(host, sizeof(host), "ok.test:%u", cfg.http_port);
	CU_ASSERT_STRING_EQUAL(st.last_host, host);
	CU_ASSERT(strstr(res.url, "http://ok.test:") == res.url);

	/* An ip identifier: the address itself, no lookup. */
	r = req(TC_V_HTTP01, "127.0.0.1", 1);
	run(&cfg, &r, &res);
	CU_ASSERT(res.valid);
	tv_http_stats(&st);
	snprintf(host, sizeof(host), "127.0.0.1:%u", cfg.http_port);
	CU_ASSERT_STRING_EQUAL(st.last_host, host);

	/* both.test has AAAA ::2 (nobody there) and A 127.0.0.1: IPv6 is
	 * tried first, then IPv4. */
	r = req(TC_V_HTTP01, "both.test", 0);
	run(&cfg, &r, &res);
	CU_ASSERT(res.valid);
	CU_ASSERT_STRING_EQUAL(res.address_used, "127.0.0.1");

	/* v6.test has only AAAA ::1: curl is pinned to the bracketed address
	 * (CURLOPT_RESOLVE), the URL keeps the name. */
	if (tv_http_has_ipv6()) {
		r = req(TC_V_HTTP01, "v6.test", 0);
		run(&cfg, &r, &res);
		CU_ASSERT(res.valid);
		CU_ASSERT_STRING_EQUAL(res.address_used, "[::1]");
		tv_http_stats(&st);
		snprintf(host, sizeof(host), "v6.test:%u", cfg.http_port);
		CU_ASSERT_STRING_EQUAL(st.last_host, host);
	} else {
		printf("\n    no IPv6 loopback here: the [::1] case is skipped");
	}
}

static void test_http_wrong(void)
{
	struct tc_vresult res;
	tv_http_set_mode(TV_HTTP_WRONG);
	struct tc_vrequest r = req(TC_V_HTTP01, "ok.test", 0);
	run(&cfg, &r, &res);
	CU_ASSERT(is(&res, "incorrectResponse"));
	CU_ASSERT(strstr(res.detail, "wrongwrong") != NULL);
	tv_http_set_mode(TV_HTTP_NOT_FOUND);
	run(&cfg, &r, &res);
	CU_ASSERT(is(&res, "unauthorized"));
	CU_ASSERT(strstr(res.detail, "404") != NULL);
	/* An IPv6 ip identifier goes in brackets into the URL (the body is
	 * wrong in this mode, or nothing listens there). */
	r = req(TC_V_HTTP01, "::1", 1);
	tv_http_set_mode(TV_HTTP_WRONG);
	run(&cfg, &r, &res);
	CU_ASSERT(is(&res, tv_http_has_ipv6() ? "incorrectResponse" : "connection"));
	CU_ASSERT(strstr(res.url, "http://[::1]:") == res.url);
	CU_ASSERT_STRING_EQUAL(res.address_used, "[::1]");
	if (tv_http_has_ipv6()) {
		struct tv_http_stats st;
		char host[64];
		tv_http_stats(&st);
		snprintf(host, sizeof(host), "[::1]:%u", cfg.http_port);
		CU_ASSERT_STRING_EQUAL(st.last_host, host);
	}
	r = req(TC_V_HTTP01, "missing.test", 0);
	run(&cfg, &r, &res);
	CU_ASSERT(is(&res, "dns"));
	CU_ASSERT(strstr(res.detail, "NXDOMAIN") != NULL);
}

static void test_http_hang(void)
{
	struct tc_vresult res;
	tv_http_set_mode(TV_HTTP_HANG);
	struct tc_vrequest r = req(TC_V_HTTP01, "ok.test", 0);
	r.timeout_ms = 800;
	int64_t dt = run(&cfg, &r, &res);
	CU_ASSERT(is(&res, "connection"));
	CU_ASSERT(strstr(res.detail, "timeout") != NULL);
	CU_ASSERT(dt >= 750 && dt < 2800); /* slack for a loaded CI machine */
	/* The configured bound applies when the request asks for more. */
	struct tc_vcheck_cfg c = cfg;
	c.timeout_ms = 500;
	r.timeout_ms = 60000;
	dt = run(&c, &r, &res);
	CU_ASSERT(is(&res, "connection"));
	CU_ASSERT(dt >= 450 && dt < 2500);
}

static void test_http_redirects(void)
{
	struct tc_vresult res;
	struct tv_http_stats st;
	struct tc_vrequest r = req(TC_V_HTTP01, "ok.test", 0);
	tv_http_set_mode(TV_HTTP_REDIRECT_OK);
	run(&cfg, &r, &res);
	CU_ASSERT(res.valid);
	tv_http_stats(&st);
	CU_ASSERT(st.requests == 2);
	CU_ASSERT(strstr(res.url, "/next") != NULL);

	/* To https on the configured TLS port: followed, the self-signed
	 * certificate not verified (as Let's Encrypt). */
	tv_http_set_https_port(cfg.tls_port);
	tv_tls_set_mode(TV_TLS_HTTPS);
	tv_http_set_mode(TV_HTTP_REDIRECT_HTTPS);
	run(&cfg, &r, &res);
	CU_ASSERT(res.valid);
	CU_ASSERT(strstr(res.url, "https://127.0.0.1:") == res.url);

	tv_http_set_mode(TV_HTTP_REDIRECT_PORT);
	run(&cfg, &r, &res);
	CU_ASSERT(is(&res, "connection"));
	CU_ASSERT(strstr(res.detail, "port 8081") != NULL);
	tv_http_stats(&st);
	CU_ASSERT(st.requests == 1); /* never went there */

	tv_http_set_mode(TV_HTTP_REDIRECT_SCHEME);
	run(&cfg, &r, &res);
	CU_ASSERT(is(&res, "connection"));
	CU_ASSERT(strstr(res.detail, "ftp") != NULL);

	tv_http_set_mode(TV_HTTP_REDIRECT_LOOP);
	run(&cfg, &r, &res);
	CU_ASSERT(is(&res, "connection"));
	CU_ASSERT(strstr(res.detail, "redirects") != NULL);
	tv_http_stats(&st);
	CU_ASSERT(st.requests == (int)cfg.max_redirects + 1);
}

static void test_http_big(void)
{
	struct tc_vresult res;
	struct tv_http_stats st;
	struct tc_vrequest r = req(TC_V_HTTP01, "ok.test", 0);
	for (int unsized = 0; unsized < 2; unsized++) {
		tv_http_set_mode(unsized ? TV_HTTP_BIG_UNSIZED : TV_HTTP_BIG);
		int64_t dt = run(&cfg, &r, &res);
		CU_ASSERT(is(&res, "incorrectResponse"));
		CU_ASSERT(strstr(res.detail, "larger than 4096") != NULL);
		CU_ASSERT(dt < 3000); /* far below the 4 s deadline: refused, not read */
		/* The responder's send failed: the validator closed the
		 * connection long before 10 MiB went through. */
		for (int i = 0; i < 100; i++) {
			tv_http_stats(&st);
			if (st.send_failed || st.body_bytes_sent == 10u << 20)
				break;
			struct timespec ts = {0, 20 * 1000000L};
			nanosleep(&ts, NULL);
		}
		printf("\n    responder sent %zu of %u bytes", st.body_bytes_sent, 10u << 20);
		CU_ASSERT(st.send_failed);
		CU_ASSERT(st.body_bytes_sent < (10u << 20));
	}
}

static void test_http_policy(void)
{
	struct tc_vresult res;
	struct tc_vcheck_cfg c = cfg;
	c.rules.allow_loopback = 0;
	tv_http_set_mode(TV_HTTP_OK);
	struct tc_vrequest r = req(TC_V_HTTP01, "ok.test", 0);
	run(&c, &r, &res);
	CU_ASSERT(is(&res, "connection"));
	CU_ASSERT(strstr(res.detail, "allow_loopback") != NULL);
	r = req(TC_V_HTTP01, "127.0.0.1", 1);
	run(&c, &r, &res);
	CU_ASSERT(is(&res, "rejectedIdentifier"));
	r = req(TC_V_TLS_ALPN01, "127.0.0.1", 1);
	run(&c, &r, &res);
	CU_ASSERT(is(&res, "rejectedIdentifier"));
	struct tv_http_stats st;
	tv_http_stats(&st);
	CU_ASSERT(st.requests == 0);
}

static void test_tls(void)
{
	struct tc_vresult res;
	char sni[300];
	struct tc_vrequest r = req(TC_V_TLS_ALPN01, "ok.test", 0);
	tv_tls_set_mode(TV_TLS_OK);
	run(&cfg, &r, &res);
	CU_ASSERT(res.valid);
	CU_ASSERT_STRING_EQUAL(res.address_used, "127.0.0.1");
	tv_tls_last_sni(sni, sizeof(sni));
	CU_ASSERT_STRING_EQUAL(sni, "ok.test");

	static const struct {
		enum tv_tls_mode mode;
		const char *problem, *detail;
	} bad[] = {
		{TV_TLS_WRONG_DIGEST, "incorrectResponse", "SHA-256"},
		{TV_TLS_NO_EXTENSION, "incorrectResponse", "no acmeIdentifier"},
		{TV_TLS_NOT_CRITICAL, "incorrectResponse", "not critical"},
		{TV_TLS_TWO_SANS, "incorrectResponse", "2 subjectAltName"},
		{TV_TLS_NO_ALPN, "tls", "ALPN"},
		{TV_TLS_IP, "incorrectResponse", "subjectAltName is not"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tv_tls_set_mode(bad[i].mode);
		run(&cfg, &r, &res);
		CU_ASSERT(is(&res, bad[i].problem));
		CU_ASSERT(strstr(res.detail, bad[i].detail) != NULL);
	}

	/* An ip identifier: SAN iPAddress, SNI the reverse name (RFC 8738). */
	r = req(TC_V_TLS_ALPN01, "127.0.0.1", 1);
	tv_tls_set_mode(TV_TLS_IP);
	run(&cfg, &r, &res);
	CU_ASSERT(res.valid);
	tv_tls_last_sni(sni, sizeof(sni));
	CU_ASSERT_STRING_EQUAL(sni, "1.0.0.127.in-addr.arpa");
	tv_tls_set_mode(TV_TLS_OK); /* a dNSName does not match an ip identifier */
	run(&cfg, &r, &res);
	CU_ASSERT(is(&res, "incorrectResponse"));

	/* Nothing listening: connection. */
	struct tc_vcheck_cfg c = cfg;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(fd, (struct sockaddr *)&a, &al) == 0);
	c.tls_port = ntohs(a.sin_port);
	close(fd);
	r = req(TC_V_TLS_ALPN01, "ok.test", 0);
	run(&c, &r, &res);
	CU_ASSERT(is(&res, "connection"));
	CU_ASSERT(strstr(res.detail, "connect") != NULL);
}

static void test_dns(void)
{
	struct tc_vresult res;
	static const struct {
		const char *name;
		const char *problem; /* NULL: valid */
	} cases[] = {
		{"ok.test", NULL},
		{"alias.test", NULL},   /* CNAME, the target asked for again */
		{"inline.test", NULL},  /* CNAME with the target's TXT in the answer */
		{"tcp.test", NULL},     /* truncated over UDP, answered over TCP */
		{"wrong.test", "incorrectResponse"},
		{"both.test", "dns"},   /* no _acme-challenge name: NXDOMAIN */
		{"fail.test", "dns"},   /* SERVFAIL */
		{"loop.test", "dns"},   /* CNAME to itself */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tc_vrequest r = req(TC_V_DNS01, cases[i].name, 0);
		run(&cfg, &r, &res);
		CU_ASSERT(cases[i].problem ? is(&res, cases[i].problem) : res.valid);
		CU_ASSERT(res.address_used[0] == 0);
	}
	struct tc_vrequest r = req(TC_V_DNS01, "slow.test", 0);
	r.timeout_ms = 700;
	int64_t dt = run(&cfg, &r, &res);
	CU_ASSERT(is(&res, "dns"));
	CU_ASSERT(dt >= 650 && dt < 2700);
	r = req(TC_V_DNS01, "127.0.0.1", 1);
	run(&cfg, &r, &res);
	CU_ASSERT(is(&res, "rejectedIdentifier"));
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"http-01 valid (name, ip, IPv6 then IPv4)", test_http_valid},
		{"http-01 wrong body, 404, NXDOMAIN", test_http_wrong},
		{"http-01 hanging target", test_http_hang},
		{"http-01 redirects", test_http_redirects},
		{"http-01 10 MiB responses", test_http_big},
		{"http-01 target policy", test_http_policy},
		{"tls-alpn-01", test_tls},
		{"dns-01", test_dns},
		{NULL, NULL},
	};
	return tc_run_suite("validator_checks", tests, setup, teardown);
}
