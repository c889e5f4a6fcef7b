#define _GNU_SOURCE
#include "acme/challenge_tls_alpn01.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/der.h"

/* id-pe-acmeIdentifier, 1.3.6.1.5.5.7.1.31 (RFC 8737 section 6.1). */
static const uint8_t acme_identifier_oid[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x1f};
static const unsigned char alpn[] = "\x0a" "acme-tls/1";

int tc_reverse_name(const char *ip, char *out, size_t cap)
{
	uint8_t a[16];
	if (inet_pton(AF_INET, ip, a) == 1)
		return snprintf(out, cap, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]) < (int)cap ? 0 : -1;
	if (inet_pton(AF_INET6, ip, a) != 1 || cap < 16 * 4 + sizeof("ip6.arpa"))
		return -1;
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	for (int i = 15; i >= 0; i--) {
		out[n++] = hex[a[i] & 0xf];
		out[n++] = '.';
		out[n++] = hex[a[i] >> 4];
		out[n++] = '.';
	}
	strcpy(out + n, "ip6.arpa");
	return 0;
}

/* Waits until the socket is ready for what OpenSSL asked for. */
static int wait_ssl(SSL *ssl, int fd, int rc, int64_t deadline_ms)
{
	int e = SSL_get_error(ssl, rc);
	short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
	if (!ev)
		return -1;
	for (;;) {
		int64_t left = deadline_ms - tc_vnow_ms();
		if (left <= 0)
			return -2;
		struct pollfd p = {.fd = fd, .events = ev};
		int prc = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (prc > 0)
			return 0;
		if (prc == 0)
			return -2;
		if (errno != EINTR)
			return -1;
	}
}

/* The certificate's one subjectAltName entry must be the identifier. */
static int check_san(X509 *cert, const struct tc_vrequest *req, char *why, size_t whylen)
{
	int crit = 0;
	GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
	if (!names) {
		snprintf(why, whylen, crit == -2 ? "several subjectAltName extensions" : "no subjectAltName extension");
		return -1;
	}
	int ok = 0;
	if (sk_GENERAL_NAME_num(names) != 1) {
		snprintf(why, whylen, "%d subjectAltName entries (exactly one expected)", sk_GENERAL_NAME_num(names));
		goto done;
	}
	GENERAL_NAME *g = sk_GENERAL_NAME_value(names, 0);
	if (req->is_ip) {
		uint8_t a[16];
		size_t alen = inet_pton(AF_INET, req->identifier, a) == 1 ? 4 : 16;
		if (alen == 16 && inet_pton(AF_INET6, req->identifier, a) != 1)
			goto mismatch;
		if (g->type != GEN_IPADD || (size_t)ASN1_STRING_length(g->d.iPAddress) != alen ||
		    memcmp(ASN1_STRING_get0_data(g->d.iPAddress), a, alen) != 0)
			goto mismatch;
	} else {
		if (g->type != GEN_DNS || (size_t)ASN1_STRING_length(g->d.dNSName) != req->identifier_len ||
		    strncasecmp((const char *)ASN1_STRING_get0_data(g->d.dNSName), req->identifier, req->identifier_len) != 0)
			goto mismatch;
	}
	ok = 1;
	goto done;
mismatch:
	snprintf(why, whylen, "the subjectAltName is not %.200s", req->identifier);
done:
	GENERAL_NAMES_free(names);
	return ok ? 0 : -1;
}

/* Exactly one critical id-pe-acmeIdentifier holding OCTET STRING(SHA-256(keyAuth)). */
static int check_acme_extension(X509 *cert, const char *key_authorization, char *why, size_t whylen)
{
	const X509_EXTENSION *found = NULL;
	for (int i = 0; i < X509_get_ext_count(cert); i++) {
		const X509_EXTENSION *e = X509_get_ext(cert, i);
		const ASN1_OBJECT *o = X509_EXTENSION_get_object((X509_EXTENSION *)e);
		unsigned char *der = NULL;
		int dl = i2d_ASN1_OBJECT(o, &der);
		/* i2d gives the whole TLV: tag, length, then the contents. */
		int match = dl == 2 + (int)sizeof(acme_identifier_oid) &&
			    memcmp(der + 2, acme_identifier_oid, sizeof(acme_identifier_oid)) == 0;
		OPENSSL_free(der);
		if (!match)
			continue;
		if (found) {
			snprintf(why, whylen, "two acmeIdentifier extensions");
			return -1;
		}
		found = e;
	}
	if (!found) {
		snprintf(why, whylen, "no acmeIdentifier extension (1.3.6.1.5.5.7.1.31)");
		return -1;
	}
	if (!X509_EXTENSION_get_critical((X509_EXTENSION *)found)) {
		snprintf(why, whylen, "the acmeIdentifier extension is not critical");
		return -1;
	}
	const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data((X509_EXTENSION *)found);
	struct tc_der_elem digest;
	if (tc_der_whole(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v), TC_DER_OCTET_STRING, &digest) != TC_DER_OK ||
	    digest.val_len != SHA256_DIGEST_LENGTH) {
		snprintf(why, whylen, "the acmeIdentifier extension is not an OCTET STRING of 32 bytes");
		return -1;
	}
	unsigned char want[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)key_authorization, strlen(key_authorization), want);
	if (memcmp(digest.val, want, sizeof(want)) != 0) {
		snprintf(why, whylen, "the acmeIdentifier extension does not hold SHA-256 of the key authorization");
		return -1;
	}
	return 0;
}

/* One handshake with one address. Returns 0 (result decided, valid or
 * not) or -1 when the address could not be reached (try the next). */
static int try_address(SSL_CTX *ctx, const struct sockaddr *sa, socklen_t salen, const char *sni,
		       const struct tc_vrequest *req, int64_t deadline_ms, struct tc_vresult *res)
{
	char why[256];
	tc_vcheck_addr_text(sa, res->address_used, sizeof(res->address_used));
	int fd = tc_vcheck_connect(sa, salen, deadline_ms, why, sizeof(why));
	if (fd < 0) {
		tc_vresult_fail(res, "connection", "%s", why);
		return -1;
	}
	SSL *ssl = SSL_new(ctx);
	X509 *cert = NULL;
	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_set_tlsext_host_name(ssl, sni) != 1 ||
	    SSL_set_alpn_protos(ssl, alpn, sizeof(alpn) - 1) != 0) {
		tc_vresult_fail(res, "serverInternal", "cannot set up TLS");
		goto done;
	}
	for (;;) {
		ERR_clear_error();
		int rc = SSL_connect(ssl);
		if (rc == 1)
			break;
		int w = wait_ssl(ssl, fd, rc, deadline_ms);
		if (w == -2) {
			tc_vresult_fail(res, "connection", "timeout in the TLS handshake with %s", res->address_used);
			goto done;
		}
		if (w != 0) {
			char e[160] = "handshake failed";
			unsigned long code = ERR_peek_last_error();
			if (code)
				ERR_error_string_n(code, e, sizeof(e));
			tc_vresult_fail(res, "tls", "TLS handshake with %s failed: %s", res->address_used, e);
			goto done;
		}
	}
	const unsigned char *proto = NULL;
	unsigned plen = 0;
	SSL_get0_alpn_selected(ssl, &proto, &plen);
	if (plen != sizeof(alpn) - 2 || memcmp(proto, alpn + 1, plen) != 0) {
		tc_vresult_fail(res, "tls", "%s did not negotiate ALPN acme-tls/1", res->address_used);
		goto done;
	}
	cert = SSL_get1_peer_certificate(ssl);
	if (!cert) {
		tc_vresult_fail(res, "tls", "%s presented no certificate", res->address_used);
		goto done;
	}
	if (check_san(cert, req, why, sizeof(why)) != 0 ||
	    check_acme_extension(cert, req->key_authorization, why, sizeof(why)) != 0) {
		tc_vresult_fail(res, "incorrectResponse", "certificate from %s: %s", res->address_used, why);
		goto done;
	}
	res->valid = 1;
done:
	X509_free(cert);
	SSL_free(ssl);
	close(fd);
	return 0;
}

void tc_challenge_tls_alpn01(const struct tc_vcheck_cfg *cfg, const struct tc_vrequest *req, int64_t deadline_ms,
			     struct tc_vresult *res)
{
	char sni[TC_V_MAX_IDENTIFIER + 1];
	if (req->is_ip) {
		if (tc_reverse_name(req->identifier, sni, sizeof(sni)) != 0) {
			tc_vresult_fail(res, "rejectedIdentifier", "not an IP address");
			return;
		}
	} else {
		snprintf(sni, sizeof(sni), "%s", req->identifier);
	}
	struct tc_vaddrs addrs;
	if (tc_vcheck_addresses(cfg, req->identifier, req->is_ip, cfg->tls_port, req->is_ip, deadline_ms, &addrs, res) != 0)
		return;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		SSL_CTX_free(ctx);
		tc_vresult_fail(res, "serverInternal", "cannot set up TLS");
		return;
	}
	/* The certificate is the response to the challenge, not a claim to
	 * verify against roots (RFC 8737 section 3). */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	for (int i = 0; i < addrs.n; i++) {
		memset(res, 0, sizeof(*res));
		if (try_address(ctx, (struct sockaddr *)&addrs.addr[i], addrs.len[i], sni, req, deadline_ms, res) == 0)
			break;
	}
	SSL_CTX_free(ctx);
}
