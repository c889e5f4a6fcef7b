/* Real servers on loopback for the validator's tests: an HTTP/1.1
 * responder (plain sockets, so it can misbehave on purpose), a TLS server
 * speaking acme-tls/1 with certificates made here with OpenSSL, and a DNS
 * server over UDP and TCP built with the resolver's wire code. Each runs on
 * its own thread on an ephemeral port. */
#ifndef TC_TESTS_VALIDATOR_RESPONDERS_H
#define TC_TESTS_VALIDATOR_RESPONDERS_H

#include <stddef.h>
#include <stdint.h>

#define TV_TOKEN "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
#define TV_KEYAUTH TV_TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

enum tv_http_mode {
	TV_HTTP_OK,              /* 200, key authorization + "\r\n" */
	TV_HTTP_WRONG,           /* 200, another key authorization */
	TV_HTTP_HANG,            /* reads the request, never answers */
	TV_HTTP_REDIRECT_PORT,   /* 302 to port 8081 */
	TV_HTTP_REDIRECT_SCHEME, /* 302 to ftp:// */
	TV_HTTP_REDIRECT_OK,     /* 302 to /next on the same port, which answers OK */
	TV_HTTP_REDIRECT_LOOP,   /* 302 to itself forever */
	TV_HTTP_BIG,             /* Content-Length: 10 MiB, then the bytes */
	TV_HTTP_BIG_UNSIZED,     /* 10 MiB without Content-Length, to the close */
	TV_HTTP_NOT_FOUND,       /* 404 */
	TV_HTTP_REDIRECT_HTTPS,  /* 302 to https://127.0.0.1:<tv_http_set_https_port>/ */
};

struct tv_http_stats {
	int requests;
	char last_host[300];
	char last_path[300];
	size_t body_bytes_sent;   /* of the last response */
	int send_failed;          /* the peer closed before the body was all sent */
};

/* Starts the HTTP responder on 127.0.0.1; returns its port. */
uint16_t tv_http_start(void);
void tv_http_set_mode(enum tv_http_mode m);
void tv_http_set_https_port(uint16_t port);
void tv_http_stats(struct tv_http_stats *out);
void tv_http_stop(void);
/* 1 when the responder also listens on [::1] (same port). */
int tv_http_has_ipv6(void);

enum tv_tls_mode {
	TV_TLS_OK,
	TV_TLS_WRONG_DIGEST,
	TV_TLS_NO_EXTENSION,
	TV_TLS_NOT_CRITICAL,
	TV_TLS_TWO_SANS,
	TV_TLS_NO_ALPN,          /* right certificate, acme-tls/1 not selected */
	TV_TLS_IP,               /* SAN IP 127.0.0.1 */
	TV_TLS_HTTPS,            /* an HTTPS server (self-signed) answering with the key authorization */
};

uint16_t tv_tls_start(void);
void tv_tls_set_mode(enum tv_tls_mode m);
/* The SNI of the last handshake ("" when none). */
void tv_tls_last_sni(char *out, size_t cap);
void tv_tls_stop(void);

/* The zone served (names under .test, see test_validator_responders.c):
 * ok.test A 127.0.0.1; v6.test AAAA ::1; both.test AAAA ::2 (nobody
 * there) and A 127.0.0.1; _acme-challenge.* TXT, CNAME, truncated, silent,
 * SERVFAIL and looping variants. */
uint16_t tv_dns_start(void);
int tv_dns_queries(void);
void tv_dns_stop(void);

#endif
