/* What every TrustChain HTTP listener refuses before routing a request
 * (RFC 9112, RFC 3986): checks over the bytes of a request target, the Host
 * field, Content-Length and the set of framing headers. Pure functions on
 * length-delimited bytes, no server library, so each is fuzzed on its own;
 * http_strict_mhd.h applies them inside libmicrohttpd. */
#ifndef TC_COMMON_HTTP_STRICT_H
#define TC_COMMON_HTTP_STRICT_H

#include <stddef.h>
#include <stdint.h>

/* A connection that sends nothing for this long is closed. */
#define TC_HTTP_IDLE_TIMEOUT_S 10u
/* A request whose body has not fully arrived this long after its request
 * line is cut off, however steadily it trickles. */
#define TC_HTTP_REQUEST_DEADLINE_S 20u
/* A request line and header fields not complete this long after the
 * connection opened (or its previous request ended) are cut off, however
 * steadily they trickle (slowloris): the idle timeout alone never fires
 * for a byte every few seconds. */
#define TC_HTTP_HEAD_DEADLINE_S 10u
/* Connections one source address may hold at once on a listener. */
#define TC_HTTP_PER_SOURCE 64u

/* 0 when the raw (still percent-encoded) request target is acceptable:
 * non-empty, every byte visible ASCII (0x21-0x7e: no NUL, control
 * character, space or 8-bit byte), every '%' followed by two hex digits,
 * and no escape decoding to a NUL or control character (0x00-0x1f, 0x7f).
 * -1 otherwise. */
int tc_http_target_check(const char *target, size_t len);

/* 0 when a Host field value is acceptable: empty (RFC 9112 3.2) or an
 * authority made of host and optional port characters only (no
 * whitespace, controls, userinfo '@', '/', '?', '#', '\\'). -1 otherwise. */
int tc_http_host_check(const char *value, size_t len);

enum tc_http_length {
	TC_HTTP_LENGTH_OK,	 /* *out holds the value */
	TC_HTTP_LENGTH_INVALID,	 /* empty, a sign, a space, a comma list, ... */
	TC_HTTP_LENGTH_OVERFLOW, /* digits only, but more than 2^64 - 1 */
};

/* Content-Length is 1*DIGIT (RFC 9110 8.6), nothing else. */
enum tc_http_length tc_http_content_length_parse(const char *value, size_t len, uint64_t *out);

/* The framing facts of one request head, as the server library saw them. */
struct tc_http_head {
	int http_1_1;		     /* HTTP/1.1 (Host required) rather than 1.0 */
	unsigned host_count;	     /* Host field lines */
	const char *host;	     /* the first one's value (NULL when none) */
	size_t host_len;
	unsigned length_count;	     /* Content-Length field lines */
	const char *length;	     /* the first one's value */
	size_t length_len;
	unsigned transfer_encodings; /* Transfer-Encoding field lines */
};

struct tc_http_verdict {
	unsigned status;    /* 0: go on; else 400 or 413 */
	const char *reason; /* static text for the error answer */
};

/* Applies RFC 9112 3.2 (exactly one valid Host on HTTP/1.1, at most one
 * on 1.0) and 6.1-6.3 (one Content-Length, not combined with
 * Transfer-Encoding), then refuses an announced body above max_body (413)
 * before any of it is read. */
struct tc_http_verdict tc_http_head_check(const struct tc_http_head *head, uint64_t max_body);

#endif
