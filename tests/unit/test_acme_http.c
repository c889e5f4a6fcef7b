/* The HTTPS front of trustchain-acme (src/acme/acme_http.c) over a real
 * TLS connection on loopback: every answer carries Replay-Nonce, the index
 * Link and no-store; strict HTTP refuses a request without Host; and a
 * certificate switch (tc_acme_http_renew) is served to the next
 * connection while the listening socket stays the same; one address
 * cannot hold more than its share of the connections. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acme/acme.h"
#include "acme/acme_http.h"
#include "acme/acme_store.h"
#include "acme/nonce.h"
#include "acme/rate_limit.h"
#include "common/config.h"
#include "unit/cunit_main.h"

static struct tc_config cfg;
static struct tc_acme a;
static char dir[] = "/tmp/test_acme_http_XXXXXX";

static time_t wall(void) { return time(NULL); }

/* A self-signed P-256 certificate for 127.0.0.1 with CN cn: PEM key and cert. */
static void self_signed(const char *cn, char **key_pem, char **cert_pem)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, k);
	X509_sign(x, k, EVP_sha256());
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	char *p;
	long len = BIO_get_mem_data(b, &p);
	*key_pem = strndup(p, (size_t)len);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	len = BIO_get_mem_data(b, &p);
	*cert_pem = strndup(p, (size_t)len);
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* One request over TLS; the server certificate's CN into cn, the whole
 * answer into out. */
static int request(unsigned port, const char *req, char *cn, size_t cnlen, char *out, size_t outlen)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	int rc = -1;
	if (SSL_connect(ssl) == 1) {
		X509 *peer = SSL_get1_peer_certificate(ssl);
		X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, (int)cnlen);
		X509_free(peer);
		SSL_write(ssl, req, (int)strlen(req));
		size_t got = 0;
		int n;
		while (got + 1 < outlen && (n = SSL_read(ssl, out + got, (int)(outlen - 1 - got))) > 0)
			got += (size_t)n;
		out[got] = 0;
		rc = 0;
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return rc;
}

static void test_https_front(void)
{
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	tc_config_defaults(&cfg, true);
	a.cfg = &cfg;
	a.now = wall;
	snprintf(a.base, sizeof(a.base), "https://127.0.0.1:1");
	a.nonces = tc_nonces_new(0);
	a.rate = tc_acme_rate_new();
	char err[256], path[300], addr[64];
	snprintf(path, sizeof(path), "%s/db", dir);
	CU_ASSERT_FATAL(tc_acme_store_open(path, &a.store, err, sizeof(err)) == 0);
	char *k1, *c1, *k2, *c2;
	self_signed("first", &k1, &c1);
	self_signed("second", &k2, &c2);
	struct tc_acme_http *h = NULL;
	/* A listening socket handed over, as the supervisor does
	 * (TC_FD_ACME_HTTPS), on an ephemeral port. */
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 16) == 0);
	int started = tc_acme_http_start(&a, lfd, NULL, k1, c1, 2, &h, addr, sizeof(addr), err, sizeof(err));
	if (started != 0)
		fprintf(stderr, "tc_acme_http_start: %s\n", err);
	CU_ASSERT_FATAL(started == 0);
	unsigned port = (unsigned)atoi(strrchr(addr, ':') + 1);
	char cn[64] = "", out[8192];
	const char *get = "GET /acme/directory HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
	CU_ASSERT_EQUAL_FATAL(request(port, get, cn, sizeof(cn), out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(cn, "first");
	CU_ASSERT(strncmp(out, "HTTP/1.1 200", 12) == 0);
	CU_ASSERT(strstr(out, "Replay-Nonce: ") != NULL);
	CU_ASSERT(strstr(out, "Link: <https://127.0.0.1:1/acme/directory>;rel=\"index\"") != NULL);
	CU_ASSERT(strstr(out, "Cache-Control: no-store") != NULL);
	CU_ASSERT(strstr(out, "\"newOrder\"") != NULL);
	/* HEAD newNonce: 200 and a nonce, no body. */
	CU_ASSERT_EQUAL(request(port, "HEAD /acme/new-nonce HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
				cn, sizeof(cn), out, sizeof(out)),
			0);
	CU_ASSERT(strncmp(out, "HTTP/1.1 200", 12) == 0);
	CU_ASSERT(strstr(out, "Replay-Nonce: ") != NULL);
	/* Strict HTTP: no Host on HTTP/1.1 is a 400 problem. */
	CU_ASSERT_EQUAL(request(port, "GET /acme/directory HTTP/1.1\r\nConnection: close\r\n\r\n", cn, sizeof(cn), out,
				sizeof(out)),
			0);
	CU_ASSERT(strncmp(out, "HTTP/1.1 400", 12) == 0);
	/* A POST with a wrong Content-Type: 415, as a problem document. */
	CU_ASSERT_EQUAL(request(port,
				"POST /acme/new-order HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
				"Content-Length: 2\r\nConnection: close\r\n\r\n{}",
				cn, sizeof(cn), out, sizeof(out)),
			0);
	CU_ASSERT(strncmp(out, "HTTP/1.1 415", 12) == 0);
	CU_ASSERT(strstr(out, "application/problem+json") != NULL);
	/* The certificate switch: the next connection sees the new one. */
	CU_ASSERT_EQUAL(tc_acme_http_renew(h, k2, c2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(request(port, get, cn, sizeof(cn), out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(cn, "second");
	CU_ASSERT(strncmp(out, "HTTP/1.1 200", 12) == 0);
	/* And once more (the retired daemon is stopped then). */
	CU_ASSERT_EQUAL(tc_acme_http_renew(h, k1, c1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(request(port, get, cn, sizeof(cn), out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(cn, "first");
	tc_acme_http_stop(h);
	free(k1);
	free(c1);
	free(k2);
	free(c2);
	tc_acme_store_close(a.store);
	tc_nonces_free(a.nonces);
	tc_acme_rate_free(a.rate);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CU_ASSERT(system(path) == 0);
}

static int tcp_connect(unsigned port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One address holds at most an eighth of the connections (at least 8):
 * with 16 slots, 8 idle connections from 127.0.0.1 (a slowloris, a flood)
 * leave the ninth refused at once, and a slot freed serves again. */
static void test_per_ip_limit(void)
{
	char tmpl[] = "/tmp/test_acme_http_ip_XXXXXX";
	CU_ASSERT_FATAL(mkdtemp(tmpl) != NULL);
	char err[256], path[300], addr[64];
	snprintf(path, sizeof(path), "%s/db", tmpl);
	tc_config_defaults(&cfg, true);
	a.cfg = &cfg;
	a.now = wall;
	snprintf(a.base, sizeof(a.base), "https://127.0.0.1:1");
	a.nonces = tc_nonces_new(0);
	a.rate = tc_acme_rate_new();
	CU_ASSERT_FATAL(tc_acme_store_open(path, &a.store, err, sizeof(err)) == 0);
	char *k, *c;
	self_signed("limit", &k, &c);
	struct tc_acme_http *h = NULL;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 16) == 0);
	CU_ASSERT_FATAL(tc_acme_http_start(&a, lfd, NULL, k, c, 16, &h, addr, sizeof(addr), err, sizeof(err)) == 0);
	unsigned port = (unsigned)atoi(strrchr(addr, ':') + 1);
	int idle[8];
	for (int i = 0; i < 8; i++) {
		idle[i] = tcp_connect(port);
		CU_ASSERT(idle[i] >= 0);
		CU_ASSERT(write(idle[i], "\x16", 1) == 1); /* a handshake begun, never finished */
	}
	usleep(200 * 1000); /* the daemon has accepted them all */
	char cn[64] = "", out[4096] = "";
	const char *get = "GET /acme/directory HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
	CU_ASSERT_NOT_EQUAL(request(port, get, cn, sizeof(cn), out, sizeof(out)), 0);
	close(idle[0]);
	usleep(200 * 1000);
	out[0] = 0;
	CU_ASSERT_EQUAL(request(port, get, cn, sizeof(cn), out, sizeof(out)), 0);
	CU_ASSERT(strncmp(out, "HTTP/1.1 200", 12) == 0);
	for (int i = 1; i < 8; i++)
		close(idle[i]);
	tc_acme_http_stop(h);
	free(k);
	free(c);
	tc_acme_store_close(a.store);
	tc_nonces_free(a.nonces);
	tc_acme_rate_free(a.rate);
	snprintf(path, sizeof(path), "rm -rf '%s'", tmpl);
	CU_ASSERT(system(path) == 0);
}

int main(void)
{
	/* As in trustchain-acme (the child runtime ignores it): a peer that
	 * closes, like the connection refused for its address, is an error
	 * return of a write, not the end of the process. */
	signal(SIGPIPE, SIG_IGN);
	static const struct tc_test tests[] = {
		{"HTTPS front: headers, strict HTTP, certificate switch", test_https_front},
		{"HTTPS front: connections per address bounded", test_per_ip_limit},
		{NULL, NULL},
	};
	return tc_run_suite("acme_http", tests, NULL, NULL);
}
