#include "acme/jws.h"

#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/b64url.h"
#include "common/errorf.h"

static int refuse(const char **type, const char *t, char *why, size_t wl, const char *msg)
{
	*type = t;
	return tc_errorf(why, wl, "%s", msg);
}

static int alg_of(const char *name, enum tc_jws_kind kind, enum tc_jws_alg *alg)
{
	if (kind == TC_JWS_EAB) {
		/* RFC 8555 7.3.4: a MAC algorithm; HS256 is what every client sends. */
		if (strcmp(name, "HS256") == 0)
			return *alg = TC_JWS_HS256, 0;
		return -1;
	}
	static const struct {
		const char *name;
		enum tc_jws_alg alg;
	} algs[] = {{"ES256", TC_JWS_ES256}, {"ES384", TC_JWS_ES384}, {"RS256", TC_JWS_RS256}, {"EdDSA", TC_JWS_EDDSA}};
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(name, algs[i].name) == 0)
			return *alg = algs[i].alg, 0;
	return -1; /* "none", HS*, PS*, ... (RFC 8555 6.2: no MAC, no none) */
}

/* Header members we understand; anything else is ignored as RFC 7515
 * allows, unless "crit" names it. */
static int check_header(struct tc_jws *j, enum tc_jws_kind kind, const char **type, char *why, size_t wl)
{
	const json_t *h = j->header;
	const json_t *v = json_object_get(h, "alg");
	if (!json_is_string(v))
		return refuse(type, "malformed", why, wl, "protected header has no alg");
	if (alg_of(json_string_value(v), kind, &j->alg) != 0) {
		*type = "badSignatureAlgorithm";
		return tc_errorf(why, wl, "alg %.32s is not accepted (ES256, ES384, RS256, EdDSA)", json_string_value(v));
	}
	if (json_object_get(h, "crit"))
		return refuse(type, "malformed", why, wl, "crit: no extension header is understood here");
	if (json_object_get(h, "b64"))
		return refuse(type, "malformed", why, wl, "b64 header is not supported");
	const json_t *jwk = json_object_get(h, "jwk"), *kid = json_object_get(h, "kid");
	const json_t *url = json_object_get(h, "url"), *nonce = json_object_get(h, "nonce");
	if (!json_is_string(url) || json_string_length(url) == 0)
		return refuse(type, "malformed", why, wl, "protected header has no url");
	j->url = json_string_value(url);
	if (strlen(j->url) != json_string_length(url))
		return refuse(type, "malformed", why, wl, "url holds a NUL");
	if (kid && !json_is_string(kid))
		return refuse(type, "malformed", why, wl, "kid is not a string");
	if (jwk && !json_is_object(jwk))
		return refuse(type, "malformed", why, wl, "jwk is not an object");
	switch (kind) {
	case TC_JWS_OUTER:
		if (!!jwk == !!kid)
			return refuse(type, "malformed", why, wl, "exactly one of jwk and kid is required");
		if (!json_is_string(nonce))
			return refuse(type, "badNonce", why, wl, "protected header has no nonce");
		j->nonce = json_string_value(nonce);
		break;
	case TC_JWS_KEYCHANGE:
		if (!jwk || kid)
			return refuse(type, "malformed", why, wl, "keyChange inner JWS needs jwk and no kid");
		if (nonce)
			return refuse(type, "malformed", why, wl, "keyChange inner JWS must not carry a nonce");
		break;
	case TC_JWS_EAB:
		if (!kid || jwk)
			return refuse(type, "malformed", why, wl, "externalAccountBinding needs kid and no jwk");
		if (nonce)
			return refuse(type, "malformed", why, wl, "externalAccountBinding must not carry a nonce");
		break;
	}
	j->kid = kid ? json_string_value(kid) : NULL;
	j->jwk = jwk;
	return 0;
}

int tc_jws_parse_json(const json_t *obj, enum tc_jws_kind kind, struct tc_jws *out, const char **type,
		      char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	*type = "malformed";
	if (!json_is_object(obj))
		return tc_errorf(why, whylen, "request body is not a JWS object");
	const json_t *prot = json_object_get(obj, "protected"), *payload = json_object_get(obj, "payload"),
		     *sig = json_object_get(obj, "signature");
	if (!json_is_string(prot) || !json_is_string(payload) || !json_is_string(sig))
		return tc_errorf(why, whylen, "JWS needs protected, payload and signature strings (flattened form)");
	/* RFC 8555 6.2: no unprotected header, a single signature. */
	if (json_object_size(obj) != 3)
		return tc_errorf(why, whylen, "JWS has members besides protected, payload and signature");
	unsigned char *hdr = NULL;
	size_t hl = 0;
	if (tc_b64url_decode(json_string_value(prot), json_string_length(prot), &hdr, &hl) != 0 || hl == 0) {
		free(hdr); /* an empty header decodes to a 1-byte buffer (found by fuzz_acme_jws --long) */
		return tc_errorf(why, whylen, "protected header is not base64url");
	}
	json_error_t jerr;
	out->header = json_loadb((const char *)hdr, hl, JSON_REJECT_DUPLICATES, &jerr);
	free(hdr);
	if (!json_is_object(out->header)) {
		tc_jws_free(out);
		return tc_errorf(why, whylen, "protected header is not a JSON object (or repeats a member)");
	}
	if (check_header(out, kind, type, why, whylen) != 0) {
		tc_jws_free(out);
		return -1;
	}
	*type = "malformed";
	if (tc_b64url_decode(json_string_value(payload), json_string_length(payload), &out->payload,
			     &out->payload_len) != 0 ||
	    tc_b64url_decode(json_string_value(sig), json_string_length(sig), &out->sig, &out->sig_len) != 0) {
		tc_jws_free(out);
		return tc_errorf(why, whylen, "payload or signature is not base64url");
	}
	size_t pl = json_string_length(prot), yl = json_string_length(payload);
	out->signing_input_len = pl + 1 + yl;
	out->signing_input = malloc(out->signing_input_len + 1);
	if (!out->signing_input) {
		tc_jws_free(out);
		*type = "serverInternal";
		return tc_errorf(why, whylen, "out of memory");
	}
	memcpy(out->signing_input, json_string_value(prot), pl);
	out->signing_input[pl] = '.';
	memcpy(out->signing_input + pl + 1, json_string_value(payload), yl);
	out->signing_input[out->signing_input_len] = 0;
	return 0;
}

int tc_jws_parse(const char *body, size_t len, enum tc_jws_kind kind, struct tc_jws *out, const char **type,
		 char *why, size_t whylen)
{
	json_error_t jerr;
	json_t *obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj) {
		memset(out, 0, sizeof(*out));
		*type = "malformed";
		return tc_errorf(why, whylen, "request body is not JSON: %s", jerr.text);
	}
	int rc = tc_jws_parse_json(obj, kind, out, type, why, whylen);
	json_decref(obj);
	return rc;
}

/* JOSE ECDSA signatures are r || s, each the field size; EVP wants DER. */
static unsigned char *ecdsa_der(const unsigned char *sig, size_t half, size_t *der_len)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, (int)half, NULL), *s = BN_bin2bn(sig + half, (int)half, NULL);
	unsigned char *der = NULL;
	if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return NULL;
	}
	int n = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return NULL;
	*der_len = (size_t)n;
	return der;
}

int tc_jws_verify(const struct tc_jws *j, const struct tc_jwk *key, char *why, size_t whylen)
{
	const EVP_MD *md = NULL;
	size_t half = 0;
	int ok_type = 0;
	switch (j->alg) {
	case TC_JWS_ES256:
		md = EVP_sha256(), half = 32, ok_type = key->type == TC_JWK_EC_P256;
		break;
	case TC_JWS_ES384:
		md = EVP_sha384(), half = 48, ok_type = key->type == TC_JWK_EC_P384;
		break;
	case TC_JWS_RS256:
		md = EVP_sha256(), ok_type = key->type == TC_JWK_RSA;
		break;
	case TC_JWS_EDDSA:
		ok_type = key->type == TC_JWK_ED25519;
		break;
	case TC_JWS_HS256:
		break;
	}
	if (!ok_type) {
		tc_errorf(why, whylen, "alg does not suit the key's type");
		return 0;
	}
	const unsigned char *sig = j->sig;
	size_t sig_len = j->sig_len;
	unsigned char *der = NULL;
	if (half) {
		if (j->sig_len != 2 * half || !(der = ecdsa_der(j->sig, half, &sig_len))) {
			tc_errorf(why, whylen, "ECDSA signature must be %zu bytes (r || s)", 2 * half);
			return 0;
		}
		sig = der;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, key->key) == 1 &&
		 EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)j->signing_input, j->signing_input_len) == 1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	if (!ok)
		tc_errorf(why, whylen, "JWS signature does not verify");
	return ok;
}

json_t *tc_jws_payload_json(const struct tc_jws *j)
{
	if (j->payload_len == 0)
		return NULL;
	json_t *v = json_loadb((const char *)j->payload, j->payload_len, JSON_REJECT_DUPLICATES, NULL);
	if (v && !json_is_object(v)) {
		json_decref(v);
		return NULL;
	}
	return v;
}

void tc_jws_free(struct tc_jws *j)
{
	json_decref(j->header);
	free(j->payload);
	free(j->signing_input);
	free(j->sig);
	memset(j, 0, sizeof(*j));
}
