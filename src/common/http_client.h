/* A small HTTP/1.1 client for talking to our own services (the CT log's
 * RFC 6962 API): plain TCP, one keep-alive connection per handle, requests
 * one at a time, bodies framed by Content-Length or chunked encoding. Used
 * by trustchainctl (audit export), the tests and the benches; not a general
 * web client (no TLS, no redirects, no proxies). */
#ifndef TC_COMMON_HTTP_CLIENT_H
#define TC_COMMON_HTTP_CLIENT_H

#include <stddef.h>

#define TC_HTTP_CLIENT_MAX_BODY (64u << 20) /* larger responses are an error */

struct tc_http_client;

/* url is "http://host:port" with an optional path prefix ("http://h:p/log")
 * that is put before every request path. timeout_ms bounds every connect,
 * send and receive. Nothing is connected yet. 0, or -1 with err. */
int tc_http_client_new(const char *url, int timeout_ms, struct tc_http_client **out, char *err, size_t errlen);
void tc_http_client_free(struct tc_http_client *c);

struct tc_http_response {
	int status;
	char *body; /* NUL-terminated, malloc'd; free with tc_http_response_free */
	size_t body_len;
};
void tc_http_response_free(struct tc_http_response *r);

/* Sends one request (body may be NULL) and reads the whole response. A
 * keep-alive connection the server closed meanwhile is reopened once.
 * 0 with r filled (any status), or -1 with err (network or protocol). */
int tc_http_request(struct tc_http_client *c, const char *method, const char *path, const char *body,
		    size_t body_len, struct tc_http_response *r, char *err, size_t errlen);

#endif
