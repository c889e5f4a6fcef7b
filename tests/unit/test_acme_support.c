#define _GNU_SOURCE /* asprintf */
#include "unit/test_acme_support.h"

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/b64url.h"
#include "acme/jwk.h"

EVP_PKEY *tst_acme_key(const char *kind)
{
	if (strcmp(kind, "P-256") == 0)
		return EVP_EC_gen("P-256");
	if (strcmp(kind, "P-384") == 0)
		return EVP_EC_gen("P-384");
	if (strcmp(kind, "RSA2048") == 0)
		return EVP_RSA_gen(2048);
	if (strcmp(kind, "Ed25519") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return NULL;
}

static const char *natural_alg(EVP_PKEY *key, size_t *half, const EVP_MD **md)
{
	*half = 0;
	*md = NULL;
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_EC:
		if (EVP_PKEY_get_bits(key) == 384)
			return *half = 48, *md = EVP_sha384(), "ES384";
		return *half = 32, *md = EVP_sha256(), "ES256";
	case EVP_PKEY_RSA:
		return *md = EVP_sha256(), "RS256";
	default:
		return "EdDSA";
	}
}

static char *finish(const char *prot_json, const char *payload, const unsigned char *sig, size_t sig_len)
{
	char *p64 = tc_b64url_encode((const unsigned char *)prot_json, strlen(prot_json));
	char *y64 = tc_b64url_encode((const unsigned char *)payload, strlen(payload));
	char *s64 = tc_b64url_encode(sig, sig_len);
	char *out = NULL;
	if (asprintf(&out, "{\"protected\":\"%s\",\"payload\":\"%s\",\"signature\":\"%s\"}", p64, y64, s64) < 0)
		out = NULL;
	free(p64);
	free(y64);
	free(s64);
	return out;
}

char *tst_acme_jws(EVP_PKEY *key, const char *alg, const char *kid, const char *url, const char *nonce,
		   const char *payload, const char *extra_header)
{
	size_t half;
	const EVP_MD *md;
	const char *nat = natural_alg(key, &half, &md);
	/* Only the jwk form carries it (exporting the key's parameters is a
	 * tenth of bench_acme's client CPU when done for every request). */
	char *jwk = kid ? NULL : tc_jwk_from_key(key);
	char *prot = NULL;
	char nonce_part[128] = "", key_part[2048];
	if (nonce)
		snprintf(nonce_part, sizeof(nonce_part), ",\"nonce\":\"%s\"", nonce);
	if (kid)
		snprintf(key_part, sizeof(key_part), "\"kid\":\"%s\"", kid);
	else
		snprintf(key_part, sizeof(key_part), "\"jwk\":%s", jwk);
	if (asprintf(&prot, "{\"alg\":\"%s\",%s,\"url\":\"%s\"%s%s%s}", alg ? alg : nat, key_part, url, nonce_part,
		     extra_header ? "," : "", extra_header ? extra_header : "") < 0)
		prot = NULL;
	free(jwk);
	/* The signing input is what finish() encodes. */
	char *p64 = tc_b64url_encode((const unsigned char *)prot, strlen(prot));
	char *y64 = tc_b64url_encode((const unsigned char *)payload, strlen(payload));
	char *input = NULL;
	if (asprintf(&input, "%s.%s", p64, y64) < 0)
		input = NULL;
	free(p64);
	free(y64);
	unsigned char der[1024], raw[96];
	size_t dl = sizeof(der);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestSignInit(ctx, NULL, md, NULL, key);
	EVP_DigestSign(ctx, der, &dl, (unsigned char *)input, strlen(input));
	EVP_MD_CTX_free(ctx);
	free(input);
	const unsigned char *sig = der;
	size_t sig_len = dl;
	if (half) {
		const unsigned char *p = der;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)dl);
		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)half);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + half, (int)half);
		ECDSA_SIG_free(es);
		sig = raw;
		sig_len = 2 * half;
	}
	char *out = finish(prot, payload, sig, sig_len);
	free(prot);
	return out;
}

char *tst_acme_jws_hs256(const unsigned char *mac_key, size_t mac_len, const char *kid, const char *url,
			 const char *payload)
{
	char *prot = NULL;
	if (asprintf(&prot, "{\"alg\":\"HS256\",\"kid\":\"%s\",\"url\":\"%s\"}", kid, url) < 0)
		return NULL;
	char *p64 = tc_b64url_encode((const unsigned char *)prot, strlen(prot));
	char *y64 = tc_b64url_encode((const unsigned char *)payload, strlen(payload));
	char *input = NULL;
	if (asprintf(&input, "%s.%s", p64, y64) < 0)
		input = NULL;
	unsigned char mac[32];
	unsigned int ml = sizeof(mac);
	HMAC(EVP_sha256(), mac_key, (int)mac_len, (unsigned char *)input, strlen(input), mac, &ml);
	free(p64);
	free(y64);
	free(input);
	char *out = finish(prot, payload, mac, ml);
	free(prot);
	return out;
}

int tst_acme_csr(EVP_PKEY *key, const char *const *names, size_t n, unsigned char **der)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *subj = X509_NAME_new();
	X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)names[0], -1, -1, 0);
	X509_REQ_set_subject_name(req, subj);
	X509_REQ_set_pubkey(req, key);
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	for (size_t i = 0; i < n; i++)
		sk_GENERAL_NAME_push(gens, a2i_GENERAL_NAME(NULL, NULL, NULL, GEN_DNS, names[i], 0));
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	sk_X509_EXTENSION_push(exts, X509V3_EXT_i2d(NID_subject_alt_name, 0, gens));
	X509_REQ_add_extensions(req, exts);
	X509_REQ_sign(req, key, EVP_sha256());
	*der = NULL;
	int len = i2d_X509_REQ(req, der);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(subj);
	X509_REQ_free(req);
	return len > 0 ? len : 0;
}
