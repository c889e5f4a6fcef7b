/* The wire protocol between trustchain-acme and trustchain-validator
 * (api/internal/acme_validator.proto): decoding with every field checked
 * against its bounds, and encoding. Both sides treat anything out of bounds
 * as a protocol violation and close the link (OpenBSD privsep style): the
 * peer is either our own code with a bug or a process someone took over. */
#ifndef TC_ACME_VALIDATOR_PROTO_H
#define TC_ACME_VALIDATOR_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define TC_V_MAX_IDENTIFIER 253   /* a DNS name in text, no trailing dot */
#define TC_V_MIN_TOKEN 16         /* RFC 8555 section 8.1: >= 128 bits of entropy, base64url */
#define TC_V_MAX_TOKEN 128
#define TC_V_MAX_KEY_AUTH 256
#define TC_V_MAX_FRAME 4096       /* a request or response frame; more is a violation */
/* Checks one client may have queued or running in the validator; the
 * client refuses more, so the validator takes more as a violation. */
#define TC_V_MAX_IN_FLIGHT 1024

enum tc_vtype {
	TC_V_HTTP01 = 1,
	TC_V_TLS_ALPN01 = 2,
	TC_V_DNS01 = 3,
};

/* One check as the validator runs it: every string NUL-terminated, with the
 * identifier's length kept (it was checked to hold no NUL). */
struct tc_vrequest {
	uint64_t id;
	enum tc_vtype type;
	int is_ip;
	char identifier[TC_V_MAX_IDENTIFIER + 1];
	size_t identifier_len;
	char token[TC_V_MAX_TOKEN + 1];
	char key_authorization[TC_V_MAX_KEY_AUTH + 1];
	uint32_t timeout_ms;
};

/* The outcome of one check (the contract's struct, shared by both sides). */
struct tc_vresult {
	int valid;
	char problem_type[48];   /* ACME error type without "urn:ietf:params:acme:error:":
				    connection, dns, incorrectResponse, tls, unauthorized,
				    rejectedIdentifier, serverInternal */
	char detail[512];        /* human text for the problem document */
	char address_used[64];   /* the IP connected to ("" for dns-01) */
	char url[512];           /* http-01: final URL fetched */
};

/* "http-01" -> TC_V_HTTP01 ...; 0 for anything else. */
enum tc_vtype tc_vtype_from_name(const char *name);
const char *tc_vtype_name(enum tc_vtype t);

/* Checks the fields a request carries (also used by the client before it
 * sends): identifier well formed for its type (LDH labels or an IP address),
 * token base64url, key authorization = token "." base64url. 0, or -1 with
 * why. */
int tc_vrequest_check(const struct tc_vrequest *r, char *why, size_t whylen);

/* Decodes and checks one request frame. 0, or -1 with why (a violation). */
int tc_vrequest_decode(const uint8_t *buf, size_t len, struct tc_vrequest *out, char *why, size_t whylen);
/* Encodes a request; *out is malloc'd. 0, or -1 (out of memory). */
int tc_vrequest_encode(const struct tc_vrequest *r, uint8_t **out, size_t *out_len);

/* Decodes and checks one response frame (the problem type one of the known
 * ones when not valid, every string within its field). 0, or -1 with why. */
int tc_vresponse_decode(const uint8_t *buf, size_t len, uint64_t *id, struct tc_vresult *out, char *why,
			size_t whylen);
int tc_vresponse_encode(uint64_t id, const struct tc_vresult *r, uint8_t **out, size_t *out_len);

/* Fills r as a failure of type problem with a printf-style detail. */
void tc_vresult_fail(struct tc_vresult *r, const char *problem, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
