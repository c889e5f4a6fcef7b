/* ca_forge_leaf CONFIG OUT.pem NAME...: a leaf for NAMEs (DNS names, or IP
 * addresses) signed with the issuing intermediate's key straight through
 * PKCS#11 (tests/support/ca_key_direct.c), bypassing trustchain-signer's
 * policy and lints: what a fooled or compromised signer could make. The
 * name-constraints test checks that relying parties refuse such a leaf
 * outside the intermediate's nameConstraints. Test-only. */
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/leaf_template.h"
#include "support/ca_key_direct.h"

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s CONFIG OUT.pem NAME...\n", argv[0]);
		return 2;
	}
	const char *dns[16], *ips[16];
	size_t n_dns = 0, n_ips = 0;
	for (int i = 3; i < argc && n_dns < 16 && n_ips < 16; i++) {
		unsigned char a[16];
		if (inet_pton(AF_INET, argv[i], a) == 1 || inet_pton(AF_INET6, argv[i], a) == 1)
			ips[n_ips++] = argv[i];
		else
			dns[n_dns++] = argv[i];
	}
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	unsigned char *spki = NULL;
	int spki_len = key ? i2d_PUBKEY(key, &spki) : -1;
	time_t now = time(NULL);
	struct tc_leaf_request rq = {.dns_names = dns, .n_dns = n_dns, .ips = ips, .n_ips = n_ips,
				     .server_auth = 1, .client_auth = 1, .not_before = now - 60, .not_after = now + 3600};
	uint8_t *tmpl = NULL;
	size_t tmpl_len = 0;
	unsigned char *der = NULL;
	size_t der_len = 0;
	char err[512] = "cannot make a key";
	int rc = 1;
	if (spki_len > 0 && tc_leaf_tbs_der(&rq, spki, (size_t)spki_len, &tmpl, &tmpl_len, err, sizeof(err)) == 0 &&
	    tc_ca_key_sign_leaf(argv[1], tmpl, tmpl_len, NULL, NULL, 0, &der, &der_len, err, sizeof(err)) == 0) {
		const unsigned char *p = der;
		X509 *x = d2i_X509(NULL, &p, (long)der_len);
		FILE *f = x ? fopen(argv[2], "w") : NULL;
		if (f && PEM_write_X509(f, x) == 1)
			rc = 0;
		else
			snprintf(err, sizeof(err), "cannot write %s", argv[2]);
		if (f)
			fclose(f);
		X509_free(x);
	}
	if (rc)
		fprintf(stderr, "ca_forge_leaf: %s\n", err);
	free(tmpl);
	free(der);
	OPENSSL_free(spki);
	EVP_PKEY_free(key);
	return rc;
}
