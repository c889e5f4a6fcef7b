#include "acme/validator_proto.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pb_strings.h"
#include "internal/acme_validator.pb-c.h"

#define PB(x) TRUSTCHAIN__INTERNAL__ACME__##x

static const char *const known_problems[] = {
	"connection", "dns", "incorrectResponse", "tls", "unauthorized", "rejectedIdentifier", "serverInternal",
};

enum tc_vtype tc_vtype_from_name(const char *name)
{
	if (!name)
		return 0;
	if (strcmp(name, "http-01") == 0)
		return TC_V_HTTP01;
	if (strcmp(name, "tls-alpn-01") == 0)
		return TC_V_TLS_ALPN01;
	if (strcmp(name, "dns-01") == 0)
		return TC_V_DNS01;
	return 0;
}

const char *tc_vtype_name(enum tc_vtype t)
{
	switch (t) {
	case TC_V_HTTP01: return "http-01";
	case TC_V_TLS_ALPN01: return "tls-alpn-01";
	case TC_V_DNS01: return "dns-01";
	}
	return "?";
}

void tc_vresult_fail(struct tc_vresult *r, const char *problem, const char *fmt, ...)
{
	r->valid = 0;
	snprintf(r->problem_type, sizeof(r->problem_type), "%s", problem);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

static int is_b64url(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_'))
			return 0;
	}
	return 1;
}

/* Letters, digits and hyphens, labels of 1..63 not starting or ending with a
 * hyphen: what can be looked up and put in a Host header and SNI as is. */
static int is_hostname(const char *s, size_t len)
{
	if (len == 0 || len > TC_V_MAX_IDENTIFIER)
		return 0;
	size_t label = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
				return 0;
			label = 0;
			continue;
		}
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
		label++;
	}
	return 1;
}

static int is_ip_text(const char *s, size_t len)
{
	char buf[64];
	unsigned char addr[16];
	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = 0;
	return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

int tc_vrequest_check(const struct tc_vrequest *r, char *why, size_t whylen)
{
	if (r->id == 0) {
		snprintf(why, whylen, "request id 0");
		return -1;
	}
	if (r->type != TC_V_HTTP01 && r->type != TC_V_TLS_ALPN01 && r->type != TC_V_DNS01) {
		snprintf(why, whylen, "unknown challenge type %d", (int)r->type);
		return -1;
	}
	if (r->identifier_len > TC_V_MAX_IDENTIFIER || memchr(r->identifier, 0, r->identifier_len) ||
	    !(r->is_ip ? is_ip_text(r->identifier, r->identifier_len) : is_hostname(r->identifier, r->identifier_len))) {
		snprintf(why, whylen, "malformed %s identifier", r->is_ip ? "ip" : "dns");
		return -1;
	}
	size_t tl = strnlen(r->token, sizeof(r->token));
	if (tl < TC_V_MIN_TOKEN || tl > TC_V_MAX_TOKEN || !is_b64url(r->token, tl)) {
		snprintf(why, whylen, "malformed token");
		return -1;
	}
	size_t kl = strnlen(r->key_authorization, sizeof(r->key_authorization));
	if (kl > TC_V_MAX_KEY_AUTH || kl < tl + 2 || memcmp(r->key_authorization, r->token, tl) != 0 ||
	    r->key_authorization[tl] != '.' || !is_b64url(r->key_authorization + tl + 1, kl - tl - 1)) {
		snprintf(why, whylen, "key authorization is not token.thumbprint");
		return -1;
	}
	return 0;
}

int tc_vrequest_decode(const uint8_t *buf, size_t len, struct tc_vrequest *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (len == 0 || len > TC_V_MAX_FRAME) {
		snprintf(why, whylen, "request frame of %zu bytes", len);
		return -1;
	}
	if (tc_pb_strings_check(&trustchain__internal__acme__validation_request__descriptor, buf, len, NULL) != TC_PB_STRINGS_OK) {
		snprintf(why, whylen, "request does not decode or a string holds a NUL");
		return -1;
	}
	Trustchain__Internal__Acme__ValidationRequest *m =
	    trustchain__internal__acme__validation_request__unpack(NULL, len, buf);
	if (!m) {
		snprintf(why, whylen, "request does not decode");
		return -1;
	}
	int rc = -1;
	out->id = m->id;
	switch (m->type) {
	case PB(CHALLENGE_TYPE__CHALLENGE_TYPE_HTTP_01): out->type = TC_V_HTTP01; break;
	case PB(CHALLENGE_TYPE__CHALLENGE_TYPE_TLS_ALPN_01): out->type = TC_V_TLS_ALPN01; break;
	case PB(CHALLENGE_TYPE__CHALLENGE_TYPE_DNS_01): out->type = TC_V_DNS01; break;
	default: snprintf(why, whylen, "unknown challenge type"); goto done;
	}
	if (m->identifier_type == PB(IDENTIFIER_TYPE__IDENTIFIER_TYPE_IP))
		out->is_ip = 1;
	else if (m->identifier_type != PB(IDENTIFIER_TYPE__IDENTIFIER_TYPE_DNS)) {
		snprintf(why, whylen, "unknown identifier type");
		goto done;
	}
	if (m->identifier.len > TC_V_MAX_IDENTIFIER || strlen(m->token) > TC_V_MAX_TOKEN ||
	    strlen(m->key_authorization) > TC_V_MAX_KEY_AUTH) {
		snprintf(why, whylen, "a field exceeds its bound");
		goto done;
	}
	if (m->identifier.len)
		memcpy(out->identifier, m->identifier.data, m->identifier.len);
	out->identifier_len = m->identifier.len;
	strcpy(out->token, m->token);
	strcpy(out->key_authorization, m->key_authorization);
	out->timeout_ms = m->timeout_ms;
	rc = tc_vrequest_check(out, why, whylen);
done:
	trustchain__internal__acme__validation_request__free_unpacked(m, NULL);
	return rc;
}

int tc_vrequest_encode(const struct tc_vrequest *r, uint8_t **out, size_t *out_len)
{
	Trustchain__Internal__Acme__ValidationRequest m = TRUSTCHAIN__INTERNAL__ACME__VALIDATION_REQUEST__INIT;
	m.id = r->id;
	m.type = r->type == TC_V_HTTP01	      ? PB(CHALLENGE_TYPE__CHALLENGE_TYPE_HTTP_01)
		 : r->type == TC_V_TLS_ALPN01 ? PB(CHALLENGE_TYPE__CHALLENGE_TYPE_TLS_ALPN_01)
		 : r->type == TC_V_DNS01      ? PB(CHALLENGE_TYPE__CHALLENGE_TYPE_DNS_01)
					      : PB(CHALLENGE_TYPE__CHALLENGE_TYPE_UNSPECIFIED);
	m.identifier_type = r->is_ip ? PB(IDENTIFIER_TYPE__IDENTIFIER_TYPE_IP) : PB(IDENTIFIER_TYPE__IDENTIFIER_TYPE_DNS);
	m.identifier.data = (uint8_t *)r->identifier;
	m.identifier.len = r->identifier_len;
	m.token = (char *)r->token;
	m.key_authorization = (char *)r->key_authorization;
	m.timeout_ms = r->timeout_ms;
	size_t n = trustchain__internal__acme__validation_request__get_packed_size(&m);
	*out = malloc(n ? n : 1);
	if (!*out)
		return -1;
	*out_len = trustchain__internal__acme__validation_request__pack(&m, *out);
	return 0;
}

/* Copies a string that must fit; bytes outside printable ASCII become '?'
 * (the ACME server puts these texts in JSON problem documents and logs, and
 * the validator quotes what remote hosts sent). */
static int copy_bounded(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		return -1;
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?';
	dst[n] = 0;
	return 0;
}

int tc_vresponse_decode(const uint8_t *buf, size_t len, uint64_t *id, struct tc_vresult *out, char *why,
			size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (len == 0 || len > TC_V_MAX_FRAME) {
		snprintf(why, whylen, "response frame of %zu bytes", len);
		return -1;
	}
	if (tc_pb_strings_check(&trustchain__internal__acme__validation_response__descriptor, buf, len, NULL) != TC_PB_STRINGS_OK) {
		snprintf(why, whylen, "response does not decode or a string holds a NUL");
		return -1;
	}
	Trustchain__Internal__Acme__ValidationResponse *m =
	    trustchain__internal__acme__validation_response__unpack(NULL, len, buf);
	if (!m) {
		snprintf(why, whylen, "response does not decode");
		return -1;
	}
	int rc = -1;
	*id = m->id;
	out->valid = m->valid;
	if (m->id == 0 || copy_bounded(out->problem_type, sizeof(out->problem_type), m->problem_type) ||
	    copy_bounded(out->detail, sizeof(out->detail), m->detail) ||
	    copy_bounded(out->address_used, sizeof(out->address_used), m->address_used) ||
	    copy_bounded(out->url, sizeof(out->url), m->url)) {
		snprintf(why, whylen, "response id 0 or a field exceeds its bound");
		goto done;
	}
	int known = out->valid && out->problem_type[0] == 0;
	for (size_t i = 0; !out->valid && i < sizeof(known_problems) / sizeof(known_problems[0]); i++)
		known |= strcmp(out->problem_type, known_problems[i]) == 0;
	if (!known) {
		snprintf(why, whylen, "unknown problem type in a response");
		goto done;
	}
	if (out->valid)
		out->detail[0] = 0; /* a valid check has no problem to describe */
	rc = 0;
done:
	trustchain__internal__acme__validation_response__free_unpacked(m, NULL);
	return rc;
}

int tc_vresponse_encode(uint64_t id, const struct tc_vresult *r, uint8_t **out, size_t *out_len)
{
	Trustchain__Internal__Acme__ValidationResponse m = TRUSTCHAIN__INTERNAL__ACME__VALIDATION_RESPONSE__INIT;
	m.id = id;
	m.valid = r->valid != 0;
	/* The arrays are NUL-terminated by construction (snprintf); the
	 * copies below only guard against a caller that wrote them by hand. */
	char problem[sizeof(r->problem_type)], detail[sizeof(r->detail)], addr[sizeof(r->address_used)],
	    url[sizeof(r->url)];
	snprintf(problem, sizeof(problem), "%s", r->valid ? "" : r->problem_type);
	snprintf(detail, sizeof(detail), "%s", r->valid ? "" : r->detail);
	snprintf(addr, sizeof(addr), "%s", r->address_used);
	snprintf(url, sizeof(url), "%s", r->url);
	m.problem_type = problem;
	m.detail = detail;
	m.address_used = addr;
	m.url = url;
	size_t n = trustchain__internal__acme__validation_response__get_packed_size(&m);
	*out = malloc(n ? n : 1);
	if (!*out)
		return -1;
	*out_len = trustchain__internal__acme__validation_response__pack(&m, *out);
	return 0;
}
