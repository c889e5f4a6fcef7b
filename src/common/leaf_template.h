/* Builds the TBSCertificate template a peer sends the signer for a leaf:
 * subject key, names, profile and validity. Issuer, serial, AKI and the
 * signature algorithm are placeholders the signer overwrites; the signer
 * re-checks everything here against its own policy. */
#ifndef TC_COMMON_LEAF_TEMPLATE_H
#define TC_COMMON_LEAF_TEMPLATE_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct tc_leaf_request {
	EVP_PKEY *pubkey;              /* subject public key */
	/* Optional: the same key as an encoded SubjectPublicKeyInfo (e.g. a
	 * CSR's). An EC key is then copied as is instead of re-encoded:
	 * OpenSSL 3.0 encodes and decodes keys through its provider
	 * decoders at ~0.25 ms a key, the largest cost of an issuance. */
	const X509_PUBKEY *spki;
	const char *const *dns_names;  /* the first one also becomes the subject CN */
	size_t n_dns;
	const char *const *ips;        /* textual IPv4/IPv6 addresses */
	size_t n_ips;
	int server_auth, client_auth;  /* extendedKeyUsage purposes */
	time_t not_before, not_after;
};

/* Returns a template certificate to inspect or adjust, or NULL with err. */
X509 *tc_leaf_template_new(const struct tc_leaf_request *rq, char *err, size_t errlen);

/* DER TBSCertificate of x (re-encoded after any change). *der is
 * OPENSSL_malloc'ed. Returns 0 or -1. */
int tc_template_tbs_der(X509 *x, unsigned char **der, size_t *len);

/* The DER TBSCertificate tc_leaf_template_new + tc_template_tbs_der make,
 * byte for byte, written directly (the gateway's Issue path: no OpenSSL
 * objects, no extension config parsing, no re-encoding). spki is the
 * subject's SubjectPublicKeyInfo, copied as is (rq->pubkey and rq->spki
 * are not used); an rsaEncryption key also gets keyEncipherment. Names
 * must be ASCII (DNS names, textual IP addresses). *der is malloc'ed.
 * Returns 0, or -1 with err. */
int tc_leaf_tbs_der(const struct tc_leaf_request *rq, const uint8_t *spki, size_t spki_len, uint8_t **der,
		    size_t *len, char *err, size_t errlen);

#endif
