#define _GNU_SOURCE /* asprintf */
#include "acme/jwk.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/b64url.h"
#include "common/errorf.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192 /* larger keys only cost us verification time */

/* A required base64url member, decoded. */
static int member(const json_t *obj, const char *name, unsigned char **out, size_t *len, const char **text)
{
	const json_t *v = json_object_get(obj, name);
	if (!json_is_string(v))
		return -1;
	*text = json_string_value(v);
	return tc_b64url_decode(*text, json_string_length(v), out, len);
}

static EVP_PKEY *ec_key(const char *group, const unsigned char *x, const unsigned char *y, size_t n)
{
	unsigned char point[1 + 2 * 48];
	point[0] = 0x04;
	memcpy(point + 1, x, n);
	memcpy(point + 1 + n, y, n);
	OSSL_PARAM params[3] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * n),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	/* fromdata decodes the point with EC_POINT_oct2point, which refuses
	 * one off the curve. */
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	return key;
}

static EVP_PKEY *rsa_key(const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen)
{
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL), *be = BN_bin2bn(e, (int)elen, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY *key = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	if (!bn || !be || !bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) || !(params = OSSL_PARAM_BLD_to_param(bld)))
		goto out;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		key = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return key;
}

static int thumb(const char *canonical, char out[TC_JWK_THUMB_LEN + 1])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)canonical, strlen(canonical), d);
	char *t = tc_b64url_encode(d, sizeof(d));
	if (!t)
		return -1;
	snprintf(out, TC_JWK_THUMB_LEN + 1, "%s", t);
	free(t);
	return 0;
}

static int parse_ec(const json_t *obj, struct tc_jwk *out, char *why, size_t wl)
{
	const char *crv = json_string_value(json_object_get(obj, "crv"));
	size_t n;
	const char *group;
	if (crv && strcmp(crv, "P-256") == 0) {
		n = 32, group = "P-256", out->type = TC_JWK_EC_P256;
	} else if (crv && strcmp(crv, "P-384") == 0) {
		n = 48, group = "P-384", out->type = TC_JWK_EC_P384;
	} else {
		return tc_errorf(why, wl, "EC key: crv must be P-256 or P-384");
	}
	unsigned char *x = NULL, *y = NULL;
	size_t xl = 0, yl = 0;
	const char *xt, *yt;
	int rc = -1;
	/* RFC 7518 6.2.1.2: coordinates are exactly the field size. */
	if (member(obj, "x", &x, &xl, &xt) != 0 || member(obj, "y", &y, &yl, &yt) != 0 || xl != n || yl != n) {
		tc_errorf(why, wl, "EC key: x and y must be %zu-byte base64url", n);
		goto out;
	}
	if (!(out->key = ec_key(group, x, y, n))) {
		tc_errorf(why, wl, "EC key: the point is not on %s", group);
		goto out;
	}
	if (asprintf(&out->canonical, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", crv, xt, yt) < 0) {
		out->canonical = NULL;
		goto out;
	}
	rc = 0;
out:
	free(x);
	free(y);
	return rc;
}

static int parse_rsa(const json_t *obj, struct tc_jwk *out, char *why, size_t wl)
{
	unsigned char *n = NULL, *e = NULL;
	size_t nl = 0, el = 0;
	const char *nt, *et;
	int rc = -1;
	out->type = TC_JWK_RSA;
	if (member(obj, "n", &n, &nl, &nt) != 0 || member(obj, "e", &e, &el, &et) != 0 || nl == 0 || el == 0 ||
	    el > 8) {
		tc_errorf(why, wl, "RSA key: n and e must be base64url integers");
		goto out;
	}
	/* RFC 7518 6.3.1: minimal encodings, no leading zero octet. */
	if (n[0] == 0 || e[0] == 0 || !(e[el - 1] & 1)) {
		tc_errorf(why, wl, "RSA key: n or e not minimally encoded, or e even");
		goto out;
	}
	if (!(out->key = rsa_key(n, nl, e, el))) {
		tc_errorf(why, wl, "RSA key unusable");
		goto out;
	}
	int bits = EVP_PKEY_get_bits(out->key);
	if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
		tc_errorf(why, wl, "RSA key of %d bits: %d..%d accepted", bits, RSA_MIN_BITS, RSA_MAX_BITS);
		goto out;
	}
	if (asprintf(&out->canonical, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", et, nt) < 0) {
		out->canonical = NULL;
		goto out;
	}
	rc = 0;
out:
	free(n);
	free(e);
	return rc;
}

static int parse_okp(const json_t *obj, struct tc_jwk *out, char *why, size_t wl)
{
	const char *crv = json_string_value(json_object_get(obj, "crv"));
	if (!crv || strcmp(crv, "Ed25519") != 0)
		return tc_errorf(why, wl, "OKP key: only crv Ed25519 is accepted");
	out->type = TC_JWK_ED25519;
	unsigned char *x = NULL;
	size_t xl = 0;
	const char *xt;
	int rc = -1;
	if (member(obj, "x", &x, &xl, &xt) != 0 || xl != 32) {
		tc_errorf(why, wl, "Ed25519 key: x must be 32-byte base64url");
		goto out;
	}
	if (!(out->key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xl))) {
		tc_errorf(why, wl, "Ed25519 key unusable");
		goto out;
	}
	if (asprintf(&out->canonical, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", xt) < 0) {
		out->canonical = NULL;
		goto out;
	}
	rc = 0;
out:
	free(x);
	return rc;
}

int tc_jwk_parse(const json_t *obj, struct tc_jwk *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return tc_errorf(why, whylen, "jwk is not a JSON object");
	static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
	for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++)
		if (json_object_get(obj, private_members[i]))
			return tc_errorf(why, whylen, "jwk holds private key material (%s)", private_members[i]);
	const char *kty = json_string_value(json_object_get(obj, "kty"));
	int rc;
	if (!kty)
		return tc_errorf(why, whylen, "jwk has no kty");
	if (strcmp(kty, "EC") == 0)
		rc = parse_ec(obj, out, why, whylen);
	else if (strcmp(kty, "RSA") == 0)
		rc = parse_rsa(obj, out, why, whylen);
	else if (strcmp(kty, "OKP") == 0)
		rc = parse_okp(obj, out, why, whylen);
	else
		rc = tc_errorf(why, whylen, "jwk kty %s is not supported (EC, RSA, OKP)", kty);
	if (rc == 0 && (!out->canonical || thumb(out->canonical, out->thumbprint) != 0))
		rc = tc_errorf(why, whylen, "out of memory");
	if (rc != 0)
		tc_jwk_free(out);
	return rc;
}

int tc_jwk_parse_text(const char *text, struct tc_jwk *out, char *why, size_t whylen)
{
	json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (!obj) {
		memset(out, 0, sizeof(*out));
		return tc_errorf(why, whylen, "stored key is not JSON");
	}
	int rc = tc_jwk_parse(obj, out, why, whylen);
	json_decref(obj);
	return rc;
}

void tc_jwk_free(struct tc_jwk *k)
{
	EVP_PKEY_free(k->key);
	free(k->canonical);
	memset(k, 0, sizeof(*k));
}

static char *b64_bn(const EVP_PKEY *key, const char *param, size_t pad)
{
	BIGNUM *bn = NULL;
	if (!EVP_PKEY_get_bn_param(key, param, &bn))
		return NULL;
	size_t n = (size_t)BN_num_bytes(bn);
	if (pad > n)
		n = pad;
	unsigned char *buf = malloc(n ? n : 1);
	char *s = NULL;
	if (buf && BN_bn2binpad(bn, buf, (int)n) == (int)n)
		s = tc_b64url_encode(buf, n);
	free(buf);
	BN_free(bn);
	return s;
}

char *tc_jwk_from_key(EVP_PKEY *key)
{
	char *out = NULL, *a = NULL, *b = NULL;
	int id = EVP_PKEY_get_base_id(key);
	if (id == EVP_PKEY_EC) {
		char group[32];
		size_t gl = 0;
		if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &gl))
			return NULL;
		const char *crv = strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0 ? "P-256"
				  : strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0 ? "P-384"
												   : NULL;
		size_t n = crv && crv[2] == '2' ? 32 : 48;
		if (crv && (a = b64_bn(key, OSSL_PKEY_PARAM_EC_PUB_X, n)) && (b = b64_bn(key, OSSL_PKEY_PARAM_EC_PUB_Y, n)) &&
		    asprintf(&out, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}", crv, a, b) < 0)
			out = NULL;
	} else if (id == EVP_PKEY_RSA) {
		if ((a = b64_bn(key, OSSL_PKEY_PARAM_RSA_E, 0)) && (b = b64_bn(key, OSSL_PKEY_PARAM_RSA_N, 0)) &&
		    asprintf(&out, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}", a, b) < 0)
			out = NULL;
	} else if (id == EVP_PKEY_ED25519) {
		unsigned char raw[32];
		size_t rl = sizeof(raw);
		if (EVP_PKEY_get_raw_public_key(key, raw, &rl) && rl == 32 && (a = tc_b64url_encode(raw, rl)) &&
		    asprintf(&out, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", a) < 0)
			out = NULL;
	}
	free(a);
	free(b);
	return out;
}

int tc_jwk_thumbprint_of_key(EVP_PKEY *key, char out[TC_JWK_THUMB_LEN + 1])
{
	char *c = tc_jwk_from_key(key);
	if (!c)
		return -1;
	int rc = thumb(c, out);
	free(c);
	return rc;
}
