/* Public ceremony artefacts in their published encodings: PEM certificates
 * and keys, SHA-256 fingerprints, the RFC 6962 log ID and the DNSSEC DNSKEY
 * and DS records of the zone key. */
#ifndef TC_CTL_ARTEFACTS_H
#define TC_CTL_ARTEFACTS_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

/* PEM text (NUL-terminated, free()) of a certificate / SubjectPublicKeyInfo. */
char *tc_ctl_cert_pem(X509 *x);
char *tc_ctl_pubkey_pem(EVP_PKEY *key);

/* A provider-native copy of a public key (libp11 hands out legacy keys whose
 * parameters OpenSSL 3 cannot always export). EVP_PKEY_free() it. */
EVP_PKEY *tc_ctl_plain_pubkey(EVP_PKEY *key);

void tc_ctl_sha256_hex(const void *data, size_t len, char out[65]);

/* RFC 6962 log ID: base64 of SHA-256 over the key's SubjectPublicKeyInfo DER. */
int tc_ctl_ct_log_id(EVP_PKEY *pub, char *out, size_t outlen);

/* DNSKEY and DS (SHA-256) presentation lines for a P-256 zone key
 * (algorithm 13) at zone with the given DNSKEY flags. */
int tc_ctl_dns_records(EVP_PKEY *pub, const char *zone, uint16_t flags, char *dnskey,
		       size_t dnskey_len, char *ds, size_t ds_len, char *err, size_t errlen);

#endif
