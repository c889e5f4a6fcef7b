/* Turns a policy-checked leaf template into a certificate signed by the
 * issuing intermediate: the signer, not the caller, sets issuer, serial,
 * AKI/SKI, basicConstraints and the RFC 6962 poison or SCT list. */
#ifndef TC_SIGNER_CERT_SIGN_H
#define TC_SIGNER_CERT_SIGN_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

#include "signer/hsm.h"

#define TC_SERIAL_LEN 16

/* Parses a DER TBSCertificate into an X509 object to inspect and complete.
 * Returns NULL with err set on malformed input (trailing bytes included). */
X509 *tc_template_parse(const uint8_t *tbs, size_t len, char *err, size_t errlen);

/* Completes tmpl for issuer and returns the SHA-256 of the resulting
 * TBSCertificate without poison/SCT extension, which ties a final
 * certificate to its precertificate. */
int tc_leaf_complete(X509 *tmpl, const struct tc_hsm_key *issuer,
		     const unsigned char serial[TC_SERIAL_LEN], unsigned char fingerprint[32],
		     char *err, size_t errlen);

/* Adds the poison (precert) or SCT list (final) extension and signs.
 * Returns the DER in *der (OPENSSL_free). */
int tc_leaf_sign(X509 *tmpl, const struct tc_hsm_key *issuer, int precert, const uint8_t *sct_list,
		 size_t sct_len, unsigned char **der, size_t *der_len, char *err, size_t errlen);

/* The digest an EC issuer key of this size signs with (SHA-256 for P-256). */
const EVP_MD *tc_digest_for_key(EVP_PKEY *key);

#endif
