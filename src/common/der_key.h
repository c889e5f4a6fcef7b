/* Public keys and signatures from DER views, without OpenSSL 3.0's
 * decoder chain for the common key types (see der.h for why). */
#ifndef TC_COMMON_DER_KEY_H
#define TC_COMMON_DER_KEY_H

#include <openssl/evp.h>

#include "common/der.h"

/* SubjectPublicKeyInfo (the whole SEQUENCE) -> key. EC keys on P-256 and
 * P-384 are built from their point directly (the point is checked to be
 * on the curve); anything else goes through d2i_PUBKEY. NULL with a reason
 * in err. */
EVP_PKEY *tc_spki_key(const uint8_t *spki, size_t len, char *err, size_t errlen);

/* Checks sig over data with key under the AlgorithmIdentifier alg (the
 * whole SEQUENCE): ECDSA with SHA-256/384/512, RSA PKCS#1 v1.5 with
 * SHA-256/384/512, Ed25519; the algorithm must suit the key. 1 when the
 * signature verifies, 0 when it does not, -1 with a reason in err when the
 * algorithm is unsupported or malformed. */
int tc_der_verify(EVP_PKEY *key, const struct tc_der_elem *alg, const uint8_t *data, size_t len, const uint8_t *sig,
		  size_t sig_len, char *err, size_t errlen);

#endif
