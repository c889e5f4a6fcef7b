/* A DER CRL (RFC 5280 5.1) read in place, without OpenSSL's decoder: that
 * builds an object per revoked entry, about 2 us each, so a CRL of 50,000
 * revocations cost ~100 ms of the gateway's CPU on every fetch, GetCrl and
 * HTTP download. The view points into the caller's bytes. */
#ifndef TC_COMMON_CRL_VIEW_H
#define TC_COMMON_CRL_VIEW_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "common/der.h"

struct tc_crl_view {
	struct tc_der_elem tbs;        /* the TBSCertList, whole: what the signature covers */
	struct tc_der_elem sig_alg;    /* the outer signatureAlgorithm, whole (equal to the TBS's) */
	const uint8_t *sig;            /* signatureValue's bytes (no unused bits) */
	size_t sig_len;
	struct tc_der_elem issuer;     /* the issuer Name, whole */
	int64_t this_update;           /* unix seconds */
	int64_t next_update;           /* unix seconds; 0 when absent */
	struct tc_der_elem revoked;    /* revokedCertificates; val_len 0 when absent */
	size_t revoked_count;          /* entries in it, each checked by the parse */
	int has_number;                /* a cRLNumber of at most 64 bits is present */
	uint64_t number;
};

/* Parses der (exactly one CertificateList): version absent or v2, the
 * outer and inner signature algorithms equal, valid times, every entry a
 * SEQUENCE { minimal INTEGER, Time, Extensions OPTIONAL }, and well-formed
 * extensions. 0, or -1 with err. */
int tc_crl_view_parse(const uint8_t *der, size_t len, struct tc_crl_view *v, char *err, size_t errlen);

/* The entries' serials in order: start with tc_der_inside(&v->revoked),
 * then each call gives the next entry's serial INTEGER. TC_DER_OK,
 * TC_DER_END, or TC_DER_MALFORMED (never after a successful parse). */
int tc_crl_view_next_serial(struct tc_der_cursor *c, struct tc_der_elem *serial);

/* A minimal DER INTEGER as OpenSSL's ASN1_INTEGER holds it: the magnitude
 * (no sign octet; zero is one 0x00) into out, and the sign. 0, or -1 when
 * it needs more than cap octets. */
int tc_der_integer_magnitude(const struct tc_der_elem *e, uint8_t *out, size_t cap, size_t *len, int *neg);

/* Checks v's signature with the issuer's public key: ECDSA with SHA-256,
 * -384 or -512, RSA PKCS#1 v1.5 with the same, or Ed25519. 1 valid, 0 not
 * (or an algorithm not listed). */
int tc_crl_view_verify(const struct tc_crl_view *v, EVP_PKEY *issuer_key);

#endif
