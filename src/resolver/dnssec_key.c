/* Key material conversions between what the signer speaks (DER
 * SubjectPublicKeyInfo, DER ECDSA-Sig-Value) and what DNSSEC publishes
 * for algorithm 13 (RFC 6605 §4: the point without its 0x04 prefix, and
 * r || s as two 32-octet big-endian integers). */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

#include "resolver/dnssec.h"

int tc_dnssec_sig_from_der(const uint8_t *der, size_t len, uint8_t out[TC_DNSSEC_SIG_LEN])
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	if (!sig)
		return -1;
	const BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG_get0(sig, &r, &s);
	/* BN_bn2binpad fails when the integer needs more than 32 octets. */
	int ok = p == der + len && r && s && BN_bn2binpad(r, out, 32) == 32 &&
		 BN_bn2binpad(s, out + 32, 32) == 32;
	ECDSA_SIG_free(sig);
	return ok ? 0 : -1;
}

int tc_dnssec_point_from_spki(const uint8_t *der, size_t len, uint8_t point[64])
{
	const unsigned char *p = der;
	EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)len);
	if (!key)
		return -1;
	char group[64] = "";
	uint8_t enc[65];
	size_t elen = 0;
	int ok = EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
		 EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
						NULL) == 1 &&
		 strcmp(group, "prime256v1") == 0 &&
		 EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, enc,
						 sizeof(enc), &elen) == 1 &&
		 elen == 65 && enc[0] == 0x04;
	EVP_PKEY_free(key);
	if (!ok)
		return -1;
	memcpy(point, enc + 1, 64);
	return 0;
}
