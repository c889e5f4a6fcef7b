/* One challenge check from request to result: the settings every check
 * shares, the deadline, the addresses of an identifier (resolved through
 * acme.validation.resolver, filtered by the target policy) and the dispatch
 * to the three challenge types. Checks are synchronous: the caller (a worker
 * of validator_server.c) gives each its own thread. */
#ifndef TC_ACME_VALIDATOR_CHECK_H
#define TC_ACME_VALIDATOR_CHECK_H

#include <stdint.h>
#include <sys/socket.h>

#include "acme/target_policy.h"
#include "acme/validator_dns.h"
#include "acme/validator_proto.h"

struct tc_config;

struct tc_vcheck_cfg {
	struct tc_vdns_servers dns;
	struct tc_target_rules rules;
	uint16_t http_port;
	uint16_t tls_port;
	uint32_t timeout_ms;         /* bound of one whole check */
	uint32_t max_redirects;
	uint32_t max_response_bytes;
	uint32_t concurrency;
};

/* Once per process, before any thread: libcurl and OpenSSL set up. */
int tc_vcheck_global_init(char *why, size_t whylen);

/* From cfg->acme.validation (reads /etc/resolv.conf for "system"). */
int tc_vcheck_cfg_from_config(const struct tc_config *cfg, struct tc_vcheck_cfg *out, char *why, size_t whylen);

/* Runs req to completion within min(req->timeout_ms, cfg->timeout_ms). */
void tc_vcheck_run(const struct tc_vcheck_cfg *cfg, const struct tc_vrequest *req, struct tc_vresult *res);
/* The same, the time counted from received_ms (tc_vnow_ms() when the
 * request arrived): time spent waiting for a worker is part of the bound,
 * so trustchain-acme's wait for the answer stays bounded too. */
void tc_vcheck_run_since(const struct tc_vcheck_cfg *cfg, const struct tc_vrequest *req, int64_t received_ms,
			 struct tc_vresult *res);

#define TC_VCHECK_MAX_ADDRS 8

struct tc_vaddrs {
	int n;
	struct sockaddr_storage addr[TC_VCHECK_MAX_ADDRS];
	socklen_t len[TC_VCHECK_MAX_ADDRS];
};

/* The addresses host (a name, or an address in text when is_ip) may be
 * reached at on port: IPv6 first, then IPv4, as Let's Encrypt tries them;
 * only those the target policy allows. On failure fills res (dns when the
 * name does not resolve, connection when the policy refuses every address,
 * rejectedIdentifier when refuse_as_identifier and an ip identifier is
 * refused) and returns -1. */
int tc_vcheck_addresses(const struct tc_vcheck_cfg *cfg, const char *host, int is_ip, uint16_t port,
			int refuse_as_identifier, int64_t deadline_ms, struct tc_vaddrs *out, struct tc_vresult *res);

/* "[2001:db8::1]" / "192.0.2.1" text of a socket address (no port). */
void tc_vcheck_addr_text(const struct sockaddr *sa, char *out, size_t cap);

/* Connects a non-blocking TCP socket to sa before deadline_ms; the socket,
 * or -1 with why. */
int tc_vcheck_connect(const struct sockaddr *sa, socklen_t len, int64_t deadline_ms, char *why, size_t whylen);

#endif
