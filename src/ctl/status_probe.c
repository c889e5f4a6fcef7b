#define _GNU_SOURCE
#include "ctl/status_probe.h"

#include <errno.h>
#include <jansson.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/config_schema.h"
#include "common/http_client.h"
#include "resolver/dns_build.h"
#include "resolver/dns_name.h"
#include "resolver/dns_wire.h"

#define PROBE_TIMEOUT_MS 3000

void tc_status_local_addr(const char *listen, char *out, size_t outlen)
{
	char host[256];
	uint16_t port;
	if (tc_split_hostport(listen, host, sizeof(host), &port) != 0) {
		snprintf(out, outlen, "%s", listen);
		return;
	}
	if (strcmp(host, "0.0.0.0") == 0 || host[0] == '\0')
		snprintf(out, outlen, "127.0.0.1:%u", port);
	else if (strcmp(host, "::") == 0)
		snprintf(out, outlen, "[::1]:%u", port);
	else if (strchr(host, ':'))
		snprintf(out, outlen, "[%s]:%u", host, port);
	else
		snprintf(out, outlen, "%s:%u", host, port);
}

int tc_status_ct_sth(const char *url, uint64_t *tree_size, uint64_t *timestamp_ms, char *err, size_t errlen)
{
	struct tc_http_client *c;
	if (tc_http_client_new(url, PROBE_TIMEOUT_MS, &c, err, errlen) != 0)
		return -1;
	struct tc_http_response r = {0};
	int rc = tc_http_request(c, "GET", "/ct/v1/get-sth", NULL, 0, &r, err, errlen);
	tc_http_client_free(c);
	if (rc != 0)
		return -1;
	rc = -1;
	json_t *j = r.status == 200 ? json_loadb(r.body, r.body_len, 0, NULL) : NULL;
	json_t *size = json_object_get(j, "tree_size"), *ts = json_object_get(j, "timestamp");
	if (json_is_integer(size) && json_is_integer(ts) && json_integer_value(size) >= 0 &&
	    json_integer_value(ts) >= 0) {
		*tree_size = (uint64_t)json_integer_value(size);
		*timestamp_ms = (uint64_t)json_integer_value(ts);
		rc = 0;
	} else {
		snprintf(err, errlen, "get-sth answered HTTP %d without a tree head", r.status);
	}
	json_decref(j);
	tc_http_response_free(&r);
	return rc;
}

/* A connected socket to hostport ("host:port", "[v6]:port"), with send and
 * receive timeouts; -1 with err. */
static int connect_to(const char *hostport, int type, char *err, size_t errlen)
{
	char host[256], portstr[8];
	uint16_t port;
	if (tc_split_hostport(hostport, host, sizeof(host), &port) != 0) {
		snprintf(err, errlen, "'%s' is not host:port", hostport);
		return -1;
	}
	snprintf(portstr, sizeof(portstr), "%u", port);
	struct addrinfo hints = {.ai_socktype = type, .ai_flags = AI_NUMERICSERV}, *ai;
	int gai = getaddrinfo(host, portstr, &hints, &ai);
	if (gai != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(gai));
		return -1;
	}
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_sec = PROBE_TIMEOUT_MS / 1000, .tv_usec = (PROBE_TIMEOUT_MS % 1000) * 1000};
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		snprintf(err, errlen, "%s: %s", hostport, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int tc_status_tls_not_after(const char *hostport, const char *sni, time_t *not_after, char *err, size_t errlen)
{
	int fd = connect_to(hostport, SOCK_STREAM, err, errlen);
	if (fd < 0)
		return -1;
	int rc = -1;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	/* gRPC needs ALPN h2; without it the gateway ends the handshake. */
	static const unsigned char alpn[] = {2, 'h', '2'};
	if (ssl && SSL_set_alpn_protos(ssl, alpn, sizeof(alpn)) == 0 && SSL_set_fd(ssl, fd) == 1 &&
	    SSL_set_tlsext_host_name(ssl, sni) == 1 && SSL_connect(ssl) == 1) {
		X509 *cert = SSL_get1_peer_certificate(ssl);
		struct tm tm;
		if (cert && ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1) {
			*not_after = timegm(&tm);
			rc = 0;
		} else {
			snprintf(err, errlen, "%s: no readable certificate", hostport);
		}
		X509_free(cert);
	} else {
		unsigned long e = ERR_get_error();
		snprintf(err, errlen, "%s: TLS handshake failed%s%s", hostport, e ? ": " : "",
			 e ? ERR_reason_error_string(e) : "");
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return rc;
}

int tc_status_soa_serial(const char *hostport, const char *zone, uint32_t *serial, char *err, size_t errlen)
{
	uint8_t name[TC_DNS_MAX_NAME], q[512], a[TC_DNS_UDP_MAX];
	size_t nlen;
	const char *why;
	static const uint8_t root[] = {0};
	if (tc_dns_name_from_text(zone, strlen(zone), root, 1, name, &nlen, &why) != 0) {
		snprintf(err, errlen, "zone '%s': %s", zone, why);
		return -1;
	}
	uint16_t id;
	if (getentropy(&id, sizeof(id)) != 0)
		id = (uint16_t)getpid();
	struct tc_dns_builder b;
	tc_dns_build_init(&b, q, sizeof(q));
	size_t qlen = 0;
	if (tc_dns_build_header(&b, id, 0) == 0 && tc_dns_build_question(&b, name, nlen, TC_DNS_TYPE_SOA, TC_DNS_CLASS_IN) == 0)
		qlen = tc_dns_build_finish(&b);
	if (qlen == 0) {
		snprintf(err, errlen, "cannot build the query");
		return -1;
	}
	int fd = connect_to(hostport, SOCK_DGRAM, err, errlen);
	if (fd < 0)
		return -1;
	ssize_t n = -1;
	if (send(fd, q, qlen, 0) == (ssize_t)qlen)
		while ((n = recv(fd, a, sizeof(a), 0)) >= 0 && (n < TC_DNS_HEADER_LEN || memcmp(a, q, 2) != 0))
			; /* not our answer: wait for ours until the receive timeout */
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "%s: no answer (%s)", hostport, strerror(errno));
		return -1;
	}
	struct tc_dns_msg m;
	size_t off = TC_DNS_HEADER_LEN;
	if (tc_dns_parse(a, (size_t)n, &m) != TC_DNS_OK || tc_dns_skip_questions(a, (size_t)n, &off) != TC_DNS_OK) {
		snprintf(err, errlen, "%s: malformed answer", hostport);
		return -1;
	}
	for (unsigned i = 0; i < m.ancount; i++) {
		struct tc_dns_rr rr;
		if (tc_dns_read_rr(a, (size_t)n, &off, &rr) != TC_DNS_OK)
			break;
		if (rr.type != TC_DNS_TYPE_SOA)
			continue;
		/* RDATA: MNAME, RNAME, then SERIAL. */
		uint8_t skip[TC_DNS_MAX_NAME];
		size_t sl, p = rr.rdata_off;
		if (tc_dns_read_name(a, (size_t)n, &p, skip, &sl) != TC_DNS_OK ||
		    tc_dns_read_name(a, (size_t)n, &p, skip, &sl) != TC_DNS_OK || p + 4 > rr.rdata_off + rr.rdlen)
			break;
		*serial = tc_dns_get32(a + p);
		return 0;
	}
	snprintf(err, errlen, "%s: no SOA record for %s (rcode %u)", hostport, zone, m.flags & 0xfu);
	return -1;
}
