/* The CA certificates a ceremony creates: the self-signed root and the
 * issuing intermediate it signs. Each TBS is linted (signer/lint.h) before
 * the HSM signs it; signing goes through HSM key handles; the result is
 * checked against the issuer's public key before it is used. */
#ifndef TC_CTL_CA_CERT_H
#define TC_CTL_CA_CERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

#include "common/config.h"

#define TC_CTL_SERIAL_LEN 16

/* CN=<organization> <cn_suffix> ("Root CA"), O=<organization>; CA:TRUE critical,
 * keyCertSign+cRLSign critical, SKI; valid ca.root_validity_days. */
X509 *tc_ctl_make_root(const struct tc_config *cfg, const char *cn_suffix, EVP_PKEY *pub, EVP_PKEY *priv,
		       const unsigned char serial[TC_CTL_SERIAL_LEN], char *err, size_t errlen);

/* CN=<organization> <cn_suffix> ("Issuing CA 1"), O=<organization>; CA:TRUE pathlen:0
 * critical, keyCertSign+cRLSign critical, SKI, AKI, CDP ca.root_crl_url
 * and AIA ca.root_url, critical nameConstraints (ca.permitted_suffixes,
 * ca.permitted_ip_ranges, ca.excluded_*); valid
 * ca.intermediate_validity_days but never past the root. */
X509 *tc_ctl_make_intermediate(const struct tc_config *cfg, const char *cn_suffix, EVP_PKEY *pub, X509 *root,
			       EVP_PKEY *root_pub, EVP_PKEY *root_priv,
			       const unsigned char serial[TC_CTL_SERIAL_LEN], char *err,
			       size_t errlen);

/* Rollover: new_root's subject and key certified by old_root (CA:TRUE,
 * the new root's SKI, AKI of the old, the old root's CDP/AIA URLs), valid
 * no longer than either root: clients that trust only the old root reach
 * intermediates under the new one through it. */
X509 *tc_ctl_make_cross(const struct tc_config *cfg, X509 *new_root, X509 *old_root, EVP_PKEY *old_pub,
			EVP_PKEY *old_priv, const unsigned char serial[TC_CTL_SERIAL_LEN], char *err, size_t errlen);

/* The root's CRL (v2, no entries, cRLNumber = now, AKI; next update in a
 * year), linted (signer/lint.h) and verified before it is returned. */
X509_CRL *tc_ctl_make_root_crl(const struct tc_config *cfg, X509 *root, EVP_PKEY *root_pub, EVP_PKEY *root_priv,
			       char *err, size_t errlen);

#endif
