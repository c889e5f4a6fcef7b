#define _GNU_SOURCE
#include "acme/validator_check.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "acme/challenge_dns01.h"
#include "acme/challenge_http01.h"
#include "acme/challenge_tls_alpn01.h"
#include "common/config.h"
#include "resolver/dns_wire.h"

int tc_vcheck_global_init(char *why, size_t whylen)
{
	/* curl_global_init is not thread-safe and loads OpenSSL's
	 * configuration: done once, before the workers and the sandbox. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(why, whylen, "curl_global_init failed");
		return -1;
	}
	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CONFIG, NULL) != 1) {
		snprintf(why, whylen, "OpenSSL initialisation failed");
		return -1;
	}
	return 0;
}

int tc_vcheck_cfg_from_config(const struct tc_config *cfg, struct tc_vcheck_cfg *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	out->rules.allow_loopback = cfg->acme.validation.allow_loopback;
	out->rules.allow_private = cfg->acme.validation.allow_private;
	out->http_port = cfg->acme.validation.http_port;
	out->tls_port = cfg->acme.validation.tls_port;
	out->timeout_ms = cfg->acme.validation.timeout_ms;
	out->max_redirects = cfg->acme.validation.max_redirects;
	out->max_response_bytes = cfg->acme.validation.max_response_bytes;
	out->concurrency = cfg->acme.validation.concurrency;
	if (out->timeout_ms == 0 || out->concurrency == 0 || out->http_port == 0 || out->tls_port == 0) {
		snprintf(why, whylen, "acme.validation: timeout_ms, concurrency and ports must be positive");
		return -1;
	}
	return tc_vdns_servers_init(cfg->acme.validation.resolver, NULL, &out->dns, why, whylen);
}

void tc_vcheck_addr_text(const struct sockaddr *sa, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, a, sizeof(a));
		snprintf(out, cap, "[%s]", a);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, a, sizeof(a));
		snprintf(out, cap, "%s", a);
	}
}

static void add_addr(struct tc_vaddrs *out, int family, const uint8_t *addr, uint16_t port)
{
	if (out->n >= TC_VCHECK_MAX_ADDRS)
		return;
	struct sockaddr_storage *ss = &out->addr[out->n];
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, addr, 16);
		out->len[out->n++] = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, addr, 4);
		out->len[out->n++] = sizeof(*s4);
	}
}

int tc_vcheck_addresses(const struct tc_vcheck_cfg *cfg, const char *host, int is_ip, uint16_t port,
			int refuse_as_identifier, int64_t deadline_ms, struct tc_vaddrs *out, struct tc_vresult *res)
{
	out->n = 0;
	char why[256];
	if (is_ip) {
		uint8_t a[16];
		int family = inet_pton(AF_INET6, host, a) == 1 ? AF_INET6 : inet_pton(AF_INET, host, a) == 1 ? AF_INET : 0;
		if (!family) {
			tc_vresult_fail(res, "rejectedIdentifier", "%.64s is not an IP address", host);
			return -1;
		}
		if (tc_target_check(&cfg->rules, family, a, why, sizeof(why)) != 0) {
			tc_vresult_fail(res, refuse_as_identifier ? "rejectedIdentifier" : "connection",
					"refused target: %s", why);
			return -1;
		}
		add_addr(out, family, a, port);
		return 0;
	}
	static const uint16_t types[2] = {TC_DNS_TYPE_AAAA, TC_DNS_TYPE_A};
	enum tc_vdns_status st[2];
	char whys[2][256];
	int refused = 0;
	for (int t = 0; t < 2; t++) {
		struct tc_vdns_answer ans;
		st[t] = tc_vdns_lookup(&cfg->dns, host, types[t], deadline_ms, &ans, whys[t], sizeof(whys[t]));
		if (st[t] == TC_VDNS_NXDOMAIN)
			break; /* the name does not exist: no need to ask for A too */
		for (int i = 0; st[t] == TC_VDNS_OK && i < ans.n; i++) {
			int family = types[t] == TC_DNS_TYPE_AAAA ? AF_INET6 : AF_INET;
			if (tc_target_check(&cfg->rules, family, ans.rr[i].data, why, sizeof(why)) != 0) {
				refused++;
				continue;
			}
			add_addr(out, family, ans.rr[i].data, port);
		}
	}
	if (out->n > 0)
		return 0;
	if (refused) {
		tc_vresult_fail(res, "connection", "no address of %.253s may be validated: %s", host, why);
		return -1;
	}
	/* Say why the A lookup failed unless it never ran (NXDOMAIN on AAAA). */
	const char *w = st[0] == TC_VDNS_NXDOMAIN ? whys[0] : whys[1];
	tc_vresult_fail(res, "dns", "no address for %.253s: %s", host, w);
	return -1;
}

int tc_vcheck_connect(const struct sockaddr *sa, socklen_t len, int64_t deadline_ms, char *why, size_t whylen)
{
	char a[64];
	tc_vcheck_addr_text(sa, a, sizeof(a));
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, sa, len) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		snprintf(why, whylen, "cannot connect to %s: %s", a, strerror(errno));
		close(fd);
		return -1;
	}
	for (;;) {
		int64_t left = deadline_ms - tc_vnow_ms();
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int rc = left > 0 ? poll(&p, 1, left > 60000 ? 60000 : (int)left) : 0;
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0) {
			snprintf(why, whylen, "timeout connecting to %s", a);
			close(fd);
			return -1;
		}
		break;
	}
	int err = 0;
	socklen_t el = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0) {
		snprintf(why, whylen, "cannot connect to %s: %s", a, strerror(err ? err : errno));
		close(fd);
		return -1;
	}
	return fd;
}

void tc_vcheck_run(const struct tc_vcheck_cfg *cfg, const struct tc_vrequest *req, struct tc_vresult *res)
{
	tc_vcheck_run_since(cfg, req, tc_vnow_ms(), res);
}

void tc_vcheck_run_since(const struct tc_vcheck_cfg *cfg, const struct tc_vrequest *req, int64_t received_ms,
			 struct tc_vresult *res)
{
	memset(res, 0, sizeof(*res));
	uint32_t t = req->timeout_ms && req->timeout_ms < cfg->timeout_ms ? req->timeout_ms : cfg->timeout_ms;
	int64_t deadline = received_ms + t;
	if (deadline - tc_vnow_ms() < 50) {
		tc_vresult_fail(res, "serverInternal", "the validator was too busy to start this check within %u ms", t);
		return;
	}
	switch (req->type) {
	case TC_V_HTTP01:
		tc_challenge_http01(cfg, req, deadline, res);
		break;
	case TC_V_TLS_ALPN01:
		tc_challenge_tls_alpn01(cfg, req, deadline, res);
		break;
	case TC_V_DNS01:
		tc_challenge_dns01(cfg, req, deadline, res);
		break;
	default:
		tc_vresult_fail(res, "serverInternal", "unknown challenge type");
	}
	if (res->valid) {
		res->problem_type[0] = 0;
		res->detail[0] = 0;
	}
}
