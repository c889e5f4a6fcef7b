/* The CA certificates a ceremony creates: the self-signed root and the
 * issuing intermediate it signs. Signing goes through HSM key handles; the
 * result is checked against the issuer's public key before it is used. */
#ifndef TC_CTL_CA_CERT_H
#define TC_CTL_CA_CERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stddef.h>

#include "common/config.h"

#define TC_CTL_SERIAL_LEN 16

/* CN=<organization> Root CA, O=<organization>; CA:TRUE critical,
 * keyCertSign+cRLSign critical, SKI; valid ca.root_validity_days. */
X509 *tc_ctl_make_root(const struct tc_config *cfg, EVP_PKEY *pub, EVP_PKEY *priv,
		       const unsigned char serial[TC_CTL_SERIAL_LEN], char *err, size_t errlen);

/* CN=<organization> Issuing CA 1, O=<organization>; CA:TRUE pathlen:0
 * critical, keyCertSign+cRLSign critical, SKI, AKI; valid
 * ca.intermediate_validity_days but never past the root. */
X509 *tc_ctl_make_intermediate(const struct tc_config *cfg, EVP_PKEY *pub, X509 *root,
			       EVP_PKEY *root_pub, EVP_PKEY *root_priv,
			       const unsigned char serial[TC_CTL_SERIAL_LEN], char *err,
			       size_t errlen);

#endif
