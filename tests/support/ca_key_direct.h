/* Leaf certificates signed with the issuing intermediate's key straight
 * through PKCS#11 in the test process, outside trustchain-signer and all
 * its checks: what only a holder of the token and its PIN can make (an
 * operator, or an attacker who has both). Verifier tests need certificates
 * chaining to our root that our signer refuses to make (no SCT, a forged
 * SCT), as certificates from before CT issuance or from a stolen key are.
 *
 * Test-only: this lives under tests/ and no production target links it;
 * it adds no operation to the signer, and without the PIN and the token,
 * which only the signer's user can read, it can do nothing. */
#ifndef TC_TESTS_CA_KEY_DIRECT_H
#define TC_TESTS_CA_KEY_DIRECT_H

#include <stddef.h>

/* Signs the leaf template tmpl (DER TBSCertificate) as the signer would
 * complete it, with serial (16 bytes; NULL: random) and the SCT list
 * sct_list (NULL: none), using the token of the configuration at
 * config_path. *der is malloc'd. 0, or -1 with err. */
int tc_ca_key_sign_leaf(const char *config_path, const unsigned char *tmpl, size_t tmpl_len,
			const unsigned char *serial, const unsigned char *sct_list, size_t sct_len, unsigned char **der,
			size_t *der_len, char *err, size_t errlen);

#endif
