/* Test-side JOSE: keys generated with OpenSSL and JWSs signed with them,
 * the way an ACME client builds its requests (for test_acme_* and
 * fuzz seeds). */
#ifndef TC_TESTS_ACME_SUPPORT_H
#define TC_TESTS_ACME_SUPPORT_H

#include <openssl/evp.h>

/* "P-256", "P-384", "RSA2048", "Ed25519". */
EVP_PKEY *tst_acme_key(const char *kind);

/* A flattened JWS (malloc'ed JSON text) over payload (may be "" for
 * POST-as-GET) with protected header {alg, url, nonce (when non-NULL),
 * jwk of key (when kid is NULL) or kid}. alg NULL: the key's natural one.
 * extra_header (JSON members text without braces, may be NULL) is added. */
char *tst_acme_jws(EVP_PKEY *key, const char *alg, const char *kid, const char *url, const char *nonce,
		   const char *payload, const char *extra_header);

/* The same with an HS256 signature (EAB), header {alg, kid, url}. */
char *tst_acme_jws_hs256(const unsigned char *mac_key, size_t mac_len, const char *kid, const char *url,
			 const char *payload);

/* A PKCS#10 request for the n DNS names, signed with key; DER in *der
 * (OPENSSL_free it), its length returned (0 on failure). */
int tst_acme_csr(EVP_PKEY *key, const char *const *names, size_t n, unsigned char **der);

#endif
