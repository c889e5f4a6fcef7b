#define _GNU_SOURCE
#include "unit/test_validator_responders.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "acme/challenge_dns01.h"
#include "resolver/dns_build.h"
#include "resolver/dns_name.h"
#include "resolver/dns_wire.h"

static int listen_tcp(uint16_t port, uint16_t *out_port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t l = sizeof(a);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) != 0) {
		perror("listen");
		exit(1);
	}
	*out_port = ntohs(a.sin_port);
	return fd;
}

/* Accepts until the stop pipe is written; -1 then. */
static int accept_or_stop(int lfd, int stop_fd)
{
	struct pollfd p[2] = {{.fd = lfd, .events = POLLIN}, {.fd = stop_fd, .events = POLLIN}};
	for (;;) {
		if (poll(p, 2, -1) < 0 && errno == EINTR)
			continue;
		if (p[1].revents)
			return -1;
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0)
			return c;
	}
}

static void set_timeouts(int fd, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* ---------------------------------------------------------------- HTTP */

static struct {
	int lfd, lfd6, stop[2];
	pthread_t th;
	pthread_mutex_t lock;
	enum tv_http_mode mode;
	struct tv_http_stats st;
	uint16_t port, https_port;
} H = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void send_text(int fd, const char *status, const char *extra, const char *body)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "HTTP/1.1 %s\r\n%sContent-Length: %zu\r\nConnection: close\r\n\r\n%s", status,
			 extra, strlen(body), body);
	send_all(fd, buf, (size_t)n);
}

static void send_big(int fd, int sized)
{
	const size_t total = 10u << 20;
	int small = 16384;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	char hdr[256];
	int n = sized ? snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", total)
		      : snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
	send_all(fd, hdr, (size_t)n);
	static char chunk[65536];
	memset(chunk, 'A', sizeof(chunk));
	size_t sent = 0;
	int failed = 0;
	while (sent < total) {
		ssize_t w = send(fd, chunk, sizeof(chunk) < total - sent ? sizeof(chunk) : total - sent, MSG_NOSIGNAL);
		if (w <= 0) {
			failed = 1;
			break;
		}
		sent += (size_t)w;
	}
	pthread_mutex_lock(&H.lock);
	H.st.body_bytes_sent = sent;
	H.st.send_failed = failed;
	pthread_mutex_unlock(&H.lock);
}

static void http_handle(int fd)
{
	set_timeouts(fd, 5000);
	char req[8192];
	size_t n = 0;
	while (n < sizeof(req) - 1) {
		ssize_t r = recv(fd, req + n, sizeof(req) - 1 - n, 0);
		if (r <= 0)
			return;
		n += (size_t)r;
		req[n] = 0;
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	char path[300] = "", host[300] = "";
	sscanf(req, "GET %299s", path);
	const char *h = strcasestr(req, "\r\nHost: ");
	if (h)
		sscanf(h + 8, "%299[^\r]", host);
	pthread_mutex_lock(&H.lock);
	H.st.requests++;
	snprintf(H.st.last_path, sizeof(H.st.last_path), "%s", path);
	snprintf(H.st.last_host, sizeof(H.st.last_host), "%s", host);
	enum tv_http_mode mode = H.mode;
	pthread_mutex_unlock(&H.lock);
	char loc[400];
	switch (mode) {
	case TV_HTTP_OK:
		send_text(fd, "200 OK", "Content-Type: text/plain\r\n", TV_KEYAUTH "\r\n");
		break;
	case TV_HTTP_WRONG:
		send_text(fd, "200 OK", "", "wrongwrongwrongwrong.xyz");
		break;
	case TV_HTTP_HANG: {
		/* Holds the connection until the client gives up (or 10 s). */
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char b;
		while (poll(&p, 1, 10000) > 0 && recv(fd, &b, 1, 0) > 0) {
		}
		break;
	}
	case TV_HTTP_REDIRECT_PORT:
		send_text(fd, "302 Found", "Location: http://127.0.0.1:8081/.well-known/acme-challenge/x\r\n", "");
		break;
	case TV_HTTP_REDIRECT_SCHEME:
		send_text(fd, "302 Found", "Location: ftp://127.0.0.1/x\r\n", "");
		break;
	case TV_HTTP_REDIRECT_OK:
		if (strcmp(path, "/next") == 0)
			send_text(fd, "200 OK", "", TV_KEYAUTH);
		else
			send_text(fd, "301 Moved Permanently", "Location: /next\r\n", "");
		break;
	case TV_HTTP_REDIRECT_LOOP:
		snprintf(loc, sizeof(loc), "Location: http://127.0.0.1:%u/loop\r\n", H.port);
		send_text(fd, "302 Found", loc, "");
		break;
	case TV_HTTP_BIG:
		send_big(fd, 1);
		break;
	case TV_HTTP_BIG_UNSIZED:
		send_big(fd, 0);
		break;
	case TV_HTTP_NOT_FOUND:
		send_text(fd, "404 Not Found", "", "no");
		break;
	case TV_HTTP_REDIRECT_HTTPS:
		snprintf(loc, sizeof(loc), "Location: https://127.0.0.1:%u%s\r\n", H.https_port, path);
		send_text(fd, "302 Found", loc, "");
		break;
	}
}

static void *http_main(void *arg)
{
	for (;;) {
		struct pollfd p[3] = {{.fd = H.stop[0], .events = POLLIN}, {.fd = H.lfd, .events = POLLIN},
				      {.fd = H.lfd6, .events = POLLIN}};
		if (poll(p, H.lfd6 >= 0 ? 3 : 2, -1) < 0)
			continue;
		if (p[0].revents)
			break;
		int c = accept4(p[1].revents ? H.lfd : H.lfd6, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		http_handle(c);
		close(c);
	}
	return NULL;
}

/* The same port on [::1] when the namespace has IPv6 (-1 otherwise). */
static int listen_tcp6(uint16_t port)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int tv_http_has_ipv6(void)
{
	return H.lfd6 >= 0;
}

uint16_t tv_http_start(void)
{
	H.lfd = listen_tcp(0, &H.port);
	H.lfd6 = listen_tcp6(H.port);
	if (pipe2(H.stop, O_CLOEXEC) != 0 || pthread_create(&H.th, NULL, http_main, NULL) != 0)
		exit(1);
	return H.port;
}

void tv_http_set_mode(enum tv_http_mode m)
{
	pthread_mutex_lock(&H.lock);
	H.mode = m;
	memset(&H.st, 0, sizeof(H.st));
	pthread_mutex_unlock(&H.lock);
}

void tv_http_set_https_port(uint16_t port)
{
	pthread_mutex_lock(&H.lock);
	H.https_port = port;
	pthread_mutex_unlock(&H.lock);
}

void tv_http_stats(struct tv_http_stats *out)
{
	pthread_mutex_lock(&H.lock);
	*out = H.st;
	pthread_mutex_unlock(&H.lock);
}

void tv_http_stop(void)
{
	if (write(H.stop[1], "x", 1) != 1)
		return;
	pthread_join(H.th, NULL);
	close(H.lfd);
	if (H.lfd6 >= 0)
		close(H.lfd6);
	close(H.stop[0]);
	close(H.stop[1]);
}

/* ----------------------------------------------------------------- TLS */

#define NMODES 8
static struct {
	int lfd, stop[2];
	pthread_t th;
	pthread_mutex_t lock;
	enum tv_tls_mode mode;
	char sni[300];
	SSL_CTX *ctx;
	EVP_PKEY *key;
	X509 *certs[NMODES];
} T = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void add_ext_conf(X509 *x, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, nid, value);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

static X509 *make_cert(enum tv_tls_mode mode)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1 + mode);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"acme-tls-alpn-01 test", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, T.key);
	add_ext_conf(x, NID_subject_alt_name,
		     mode == TV_TLS_IP ? "IP:127.0.0.1" : mode == TV_TLS_TWO_SANS ? "DNS:ok.test,DNS:other.test" : "DNS:ok.test");
	if (mode != TV_TLS_NO_EXTENSION) {
		unsigned char der[2 + SHA256_DIGEST_LENGTH] = {0x04, 0x20};
		SHA256((const unsigned char *)TV_KEYAUTH, strlen(TV_KEYAUTH), der + 2);
		if (mode == TV_TLS_WRONG_DIGEST)
			der[5] ^= 0x40;
		ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
		ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING_set(os, der, sizeof(der));
		X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, obj, mode != TV_TLS_NOT_CRITICAL, os);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
		ASN1_OCTET_STRING_free(os);
		ASN1_OBJECT_free(obj);
	}
	X509_sign(x, T.key, EVP_sha256());
	return x;
}

static int on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
		   unsigned inlen, void *arg)
{
	pthread_mutex_lock(&T.lock);
	enum tv_tls_mode mode = T.mode;
	pthread_mutex_unlock(&T.lock);
	static const unsigned char acme[] = "\x0a" "acme-tls/1";
	if (mode == TV_TLS_NO_ALPN)
		return SSL_TLSEXT_ERR_NOACK;
	unsigned char *sel;
	if (SSL_select_next_proto(&sel, outlen, acme, sizeof(acme) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* Runs while the ClientHello is read, before the server answers: the
 * client cannot be done before the name is recorded. */
static int on_servername(SSL *ssl, int *alert, void *arg)
{
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	pthread_mutex_lock(&T.lock);
	snprintf(T.sni, sizeof(T.sni), "%s", sni ? sni : "");
	pthread_mutex_unlock(&T.lock);
	return SSL_TLSEXT_ERR_OK;
}

static void *tls_main(void *arg)
{
	int c;
	while ((c = accept_or_stop(T.lfd, T.stop[0])) >= 0) {
		set_timeouts(c, 5000);
		pthread_mutex_lock(&T.lock);
		enum tv_tls_mode mode = T.mode;
		pthread_mutex_unlock(&T.lock);
		SSL *ssl = SSL_new(T.ctx);
		SSL_use_certificate(ssl, T.certs[mode]);
		SSL_use_PrivateKey(ssl, T.key);
		SSL_set_fd(ssl, c);
		if (SSL_accept(ssl) == 1) {
			if (mode == TV_TLS_HTTPS) {
				/* Reads the request head, answers like the HTTP responder. */
				char req[4096];
				int n = 0, r;
				while (n < (int)sizeof(req) - 1 && (r = SSL_read(ssl, req + n, (int)sizeof(req) - 1 - n)) > 0) {
					n += r;
					req[n] = 0;
					if (strstr(req, "\r\n\r\n"))
						break;
				}
				static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: " "%zu\r\nConnection: close\r\n\r\n%s";
				char out[512];
				int ol = snprintf(out, sizeof(out), resp, strlen(TV_KEYAUTH), TV_KEYAUTH);
				SSL_write(ssl, out, ol);
			}
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		close(c);
	}
	return NULL;
}

uint16_t tv_tls_start(void)
{
	uint16_t port;
	T.key = EVP_EC_gen("P-256");
	for (int m = 0; m < NMODES; m++)
		T.certs[m] = make_cert((enum tv_tls_mode)m);
	T.ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_set_alpn_select_cb(T.ctx, on_alpn, NULL);
	SSL_CTX_set_tlsext_servername_callback(T.ctx, on_servername);
	T.lfd = listen_tcp(0, &port);
	if (pipe2(T.stop, O_CLOEXEC) != 0 || pthread_create(&T.th, NULL, tls_main, NULL) != 0)
		exit(1);
	return port;
}

void tv_tls_set_mode(enum tv_tls_mode m)
{
	pthread_mutex_lock(&T.lock);
	T.mode = m;
	T.sni[0] = 0;
	pthread_mutex_unlock(&T.lock);
}

void tv_tls_last_sni(char *out, size_t cap)
{
	pthread_mutex_lock(&T.lock);
	snprintf(out, cap, "%s", T.sni);
	pthread_mutex_unlock(&T.lock);
}

void tv_tls_stop(void)
{
	if (write(T.stop[1], "x", 1) != 1)
		return;
	pthread_join(T.th, NULL);
	close(T.lfd);
	close(T.stop[0]);
	close(T.stop[1]);
	for (int m = 0; m < NMODES; m++)
		X509_free(T.certs[m]);
	EVP_PKEY_free(T.key);
	SSL_CTX_free(T.ctx);
}

/* ----------------------------------------------------------------- DNS */

static struct {
	int ufd, tfd, stop[2];
	pthread_t uth, tth;
	pthread_mutex_t lock;
	int queries;
} D = {.lock = PTHREAD_MUTEX_INITIALIZER};

static size_t wire(const char *text, uint8_t out[TC_DNS_MAX_NAME])
{
	size_t len = 0;
	const char *why;
	if (tc_dns_name_from_text(text, strlen(text), NULL, 0, out, &len, &why) != 0)
		abort();
	return len;
}

static const char *const existing[] = {
	"ok.test.", "both.test.", "v6.test.", "_acme-challenge.ok.test.", "_acme-challenge.alias.test.",
	"_acme-challenge.inline.test.", "_acme-challenge.wrong.test.", "_acme-challenge.tcp.test.",
	"_acme-challenge.loop.test.",
};

/* The answer to one query; 0 = none (the "slow" name never answers). */
static size_t dns_answer(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap, int tcp)
{
	struct tc_dns_msg m;
	if (tc_dns_parse(q, qlen, &m) != TC_DNS_OK || m.qdcount != 1)
		return 0;
	pthread_mutex_lock(&D.lock);
	D.queries++;
	pthread_mutex_unlock(&D.lock);
	char name[300];
	tc_dns_name_to_text(m.qname, m.qname_len, name, sizeof(name));
	if (strcasecmp(name, "_acme-challenge.slow.test.") == 0)
		return 0;
	uint16_t rcode = TC_DNS_RCODE_NXDOMAIN;
	for (size_t i = 0; i < sizeof(existing) / sizeof(existing[0]); i++)
		if (strcasecmp(name, existing[i]) == 0)
			rcode = TC_DNS_RCODE_NOERROR;
	if (strcasecmp(name, "_acme-challenge.fail.test.") == 0)
		rcode = TC_DNS_RCODE_SERVFAIL;
	struct tc_dns_builder b;
	tc_dns_build_init(&b, out, cap);
	tc_dns_build_header(&b, m.id, TC_DNS_FLAG_QR | TC_DNS_FLAG_AA | (m.flags & TC_DNS_FLAG_RD) | rcode);
	tc_dns_build_question(&b, m.qname, m.qname_len, m.qtype, m.qclass);
	char digest[44];
	tc_dns01_digest(TV_KEYAUTH, digest);
	uint8_t o[TC_DNS_MAX_NAME], t[TC_DNS_MAX_NAME];
	size_t ol = wire(name, o), tl;
	static const uint8_t lo4[4] = {127, 0, 0, 1}, lo6[16] = {[15] = 1}, nowhere6[16] = {[15] = 2};
	int is = 0;
#define IS(s) (strcasecmp(name, s) == 0)
	if ((IS("ok.test.") || IS("both.test.")) && m.qtype == TC_DNS_TYPE_A)
		tc_dns_put_a(&b, TC_DNS_SEC_ANSWER, o, ol, 60, lo4);
	if (IS("both.test.") && m.qtype == TC_DNS_TYPE_AAAA) /* ::2: nobody there */
		tc_dns_put_aaaa(&b, TC_DNS_SEC_ANSWER, o, ol, 60, nowhere6);
	if (IS("v6.test.") && m.qtype == TC_DNS_TYPE_AAAA)
		tc_dns_put_aaaa(&b, TC_DNS_SEC_ANSWER, o, ol, 60, lo6);
	if (m.qtype == TC_DNS_TYPE_TXT) {
		if (IS("_acme-challenge.ok.test.") || (IS("_acme-challenge.tcp.test.") && tcp)) {
			tc_dns_put_txt(&b, TC_DNS_SEC_ANSWER, o, ol, 60, (const uint8_t *)"unrelated", 9);
			tc_dns_put_txt(&b, TC_DNS_SEC_ANSWER, o, ol, 60, (const uint8_t *)digest, 43);
		}
		if (IS("_acme-challenge.wrong.test."))
			tc_dns_put_txt(&b, TC_DNS_SEC_ANSWER, o, ol, 60, (const uint8_t *)"nope", 4);
		if ((is = IS("_acme-challenge.alias.test.")) || IS("_acme-challenge.inline.test.")) {
			tl = wire("_acme-challenge.ok.test.", t);
			tc_dns_put_cname(&b, TC_DNS_SEC_ANSWER, o, ol, 60, t, tl);
			if (!is) /* the target's data in the same answer, as recursive resolvers send */
				tc_dns_put_txt(&b, TC_DNS_SEC_ANSWER, t, tl, 60, (const uint8_t *)digest, 43);
		}
		if (IS("_acme-challenge.loop.test."))
			tc_dns_put_cname(&b, TC_DNS_SEC_ANSWER, o, ol, 60, o, ol);
	}
	if (IS("_acme-challenge.tcp.test.") && !tcp)
		tc_dns_build_set_flags(&b, tc_dns_build_get_flags(&b) | TC_DNS_FLAG_TC);
#undef IS
	return tc_dns_build_finish(&b);
}

static void *dns_udp_main(void *arg)
{
	uint8_t q[4096], a[4096];
	struct pollfd p[2] = {{.fd = D.ufd, .events = POLLIN}, {.fd = D.stop[0], .events = POLLIN}};
	while (poll(p, 2, -1) >= 0 && !p[1].revents) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(D.ufd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			continue;
		size_t al = dns_answer(q, (size_t)n, a, TC_DNS_UDP_MAX, 0);
		if (al)
			sendto(D.ufd, a, al, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

static void *dns_tcp_main(void *arg)
{
	int c;
	while ((c = accept_or_stop(D.tfd, D.stop[0])) >= 0) {
		set_timeouts(c, 3000);
		uint8_t q[4096 + 2], a[4096 + 2];
		size_t n = 0;
		while (n < 2 || n < 2u + tc_dns_get16(q)) {
			ssize_t r = recv(c, q + n, sizeof(q) - n, 0);
			if (r <= 0)
				break;
			n += (size_t)r;
		}
		if (n >= 2 && n == 2u + tc_dns_get16(q)) {
			size_t al = dns_answer(q + 2, n - 2, a + 2, sizeof(a) - 2, 1);
			tc_dns_put16(a, (uint16_t)al);
			if (al)
				send_all(c, (const char *)a, al + 2);
		}
		close(c);
	}
	return NULL;
}

uint16_t tv_dns_start(void)
{
	D.ufd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t l = sizeof(a);
	if (bind(D.ufd, (struct sockaddr *)&a, sizeof(a)) != 0 || getsockname(D.ufd, (struct sockaddr *)&a, &l) != 0)
		exit(1);
	uint16_t port = ntohs(a.sin_port), tport;
	D.tfd = listen_tcp(port, &tport);
	if (pipe2(D.stop, O_CLOEXEC) != 0 || pthread_create(&D.uth, NULL, dns_udp_main, NULL) != 0 ||
	    pthread_create(&D.tth, NULL, dns_tcp_main, NULL) != 0)
		exit(1);
	return port;
}

int tv_dns_queries(void)
{
	pthread_mutex_lock(&D.lock);
	int n = D.queries;
	pthread_mutex_unlock(&D.lock);
	return n;
}

void tv_dns_stop(void)
{
	if (write(D.stop[1], "x", 1) != 1)
		return;
	pthread_join(D.uth, NULL);
	pthread_join(D.tth, NULL);
	close(D.ufd);
	close(D.tfd);
	close(D.stop[0]);
	close(D.stop[1]);
}
