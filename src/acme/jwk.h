/* JSON Web Keys (RFC 7517/7518) as ACME accounts use them: EC P-256 and
 * P-384, RSA of 2048..8192 bits, OKP Ed25519; and their RFC 7638
 * thumbprints, which name an account's key and end every key
 * authorization. */
#ifndef TC_ACME_JWK_H
#define TC_ACME_JWK_H

#include <jansson.h>
#include <openssl/evp.h>

enum tc_jwk_type {
	TC_JWK_EC_P256 = 1,
	TC_JWK_EC_P384,
	TC_JWK_RSA,
	TC_JWK_ED25519,
};

#define TC_JWK_THUMB_LEN 43 /* base64url of a SHA-256 digest */

struct tc_jwk {
	enum tc_jwk_type type;
	EVP_PKEY *key;
	char thumbprint[TC_JWK_THUMB_LEN + 1];
	/* The RFC 7638 canonical JSON (required members only, sorted, no
	 * whitespace): what the store keeps as the account key. malloc'ed. */
	char *canonical;
};

/* Parses a JWK object. Private members ("d", "p", ...) are refused: an
 * account key must never travel. 0, or -1 with a reason in why. */
int tc_jwk_parse(const json_t *obj, struct tc_jwk *out, char *why, size_t whylen);

/* Parses the canonical JSON text tc_jwk_parse produced (from the store). */
int tc_jwk_parse_text(const char *text, struct tc_jwk *out, char *why, size_t whylen);

void tc_jwk_free(struct tc_jwk *k);

/* The RFC 7638 thumbprint of an EVP_PKEY's public half (for revocation by
 * a certificate's key, which arrives as a JWK, and for tests). 0 or -1. */
int tc_jwk_thumbprint_of_key(EVP_PKEY *key, char out[TC_JWK_THUMB_LEN + 1]);

/* The public JWK of key as canonical JSON (malloc'ed), or NULL. */
char *tc_jwk_from_key(EVP_PKEY *key);

#endif
