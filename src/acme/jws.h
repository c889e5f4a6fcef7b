/* JWS in the flattened JSON serialization (RFC 7515 7.2.2) with the rules
 * of RFC 8555 6.2-6.5: one signature, protected header only, alg from a
 * closed asymmetric set, exactly one of jwk/kid, url, and a nonce on every
 * outer request. The inner JWSs of keyChange (7.3.5) and of external
 * account binding (7.3.4) follow their own variants of the rules. */
#ifndef TC_ACME_JWS_H
#define TC_ACME_JWS_H

#include <jansson.h>
#include <stddef.h>

#include "acme/jwk.h"

enum tc_jws_kind {
	TC_JWS_OUTER,         /* a request: nonce, url, jwk xor kid; ES256/ES384/RS256/EdDSA */
	TC_JWS_KEYCHANGE,     /* keyChange inner: jwk, url, no nonce, no kid */
	TC_JWS_EAB,           /* EAB inner: HS256, kid, url, no nonce, no jwk */
};

enum tc_jws_alg {
	TC_JWS_ES256 = 1,
	TC_JWS_ES384,
	TC_JWS_RS256,
	TC_JWS_EDDSA,
	TC_JWS_HS256,
};

struct tc_jws {
	json_t *header;          /* the decoded protected header (owned) */
	enum tc_jws_alg alg;
	const char *nonce;       /* into header; NULL when absent */
	const char *url;
	const char *kid;         /* NULL unless kid form */
	const json_t *jwk;       /* NULL unless jwk form; borrowed from header */
	unsigned char *payload;  /* decoded, NUL-terminated; payload_len 0 = POST-as-GET */
	size_t payload_len;
	char *signing_input;     /* ASCII(protected "." payload), NUL-terminated */
	size_t signing_input_len;
	unsigned char *sig;
	size_t sig_len;
};

/* Parses (does not verify) a JWS. On refusal returns -1 with *type the
 * ACME error type ("malformed", "badSignatureAlgorithm", "badNonce") and
 * why. body need not be NUL-terminated. */
int tc_jws_parse(const char *body, size_t len, enum tc_jws_kind kind, struct tc_jws *out, const char **type,
		 char *why, size_t whylen);
int tc_jws_parse_json(const json_t *obj, enum tc_jws_kind kind, struct tc_jws *out, const char **type,
		      char *why, size_t whylen);

/* Verifies the signature with key (the alg must suit the key's type). 1
 * when valid, 0 otherwise (why says why). */
int tc_jws_verify(const struct tc_jws *j, const struct tc_jwk *key, char *why, size_t whylen);

/* The payload as a JSON object (NULL for POST-as-GET or when it is not an
 * object). A new reference. */
json_t *tc_jws_payload_json(const struct tc_jws *j);

void tc_jws_free(struct tc_jws *j);

#endif
