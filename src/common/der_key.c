#include "common/der_key.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <string.h>

#include "common/errorf.h"

static const uint8_t OID_EC_PUBLIC_KEY[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t OID_P256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t OID_P384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t OID_ECDSA_SHA256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t OID_ECDSA_SHA384[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
static const uint8_t OID_ECDSA_SHA512[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};
static const uint8_t OID_RSA_SHA256[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
static const uint8_t OID_RSA_SHA384[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c};
static const uint8_t OID_RSA_SHA512[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d};
static const uint8_t OID_ED25519[] = {0x2b, 0x65, 0x70};

/* The EC point of an id-ecPublicKey SPKI on a curve we build directly;
 * 0 when the key is something else (left to d2i_PUBKEY). */
static int ec_named_point(const uint8_t *spki, size_t len, size_t *curve, const uint8_t **point,
			  size_t *point_len)
{
	struct tc_der_elem seq, alg, key, oid, param;
	if (tc_der_whole(spki, len, TC_DER_SEQUENCE, &seq) != TC_DER_OK)
		return 0;
	struct tc_der_cursor c = tc_der_inside(&seq);
	if (tc_der_expect(&c, TC_DER_SEQUENCE, &alg) != TC_DER_OK ||
	    tc_der_expect(&c, TC_DER_BIT_STRING, &key) != TC_DER_OK || !tc_der_at_end(&c))
		return 0;
	struct tc_der_cursor ac = tc_der_inside(&alg);
	if (tc_der_expect(&ac, TC_DER_OID, &oid) != TC_DER_OK || !TC_DER_OID_IS(&oid, OID_EC_PUBLIC_KEY) ||
	    tc_der_expect(&ac, TC_DER_OID, &param) != TC_DER_OK || !tc_der_at_end(&ac))
		return 0;
	if (TC_DER_OID_IS(&param, OID_P256))
		*curve = 0; /* CURVES[0] */
	else if (TC_DER_OID_IS(&param, OID_P384))
		*curve = 1;
	else
		return 0;
	return tc_der_bit_string_bytes(&key, point, point_len) == TC_DER_OK && *point_len > 0;
}

/* Parameter-only keys of the two curves, made once: a key then copies its
 * group from one (~4 us) instead of EVP_PKEY_fromdata building the group
 * from the curve's name for every key (~12 us of its ~16). */
static const char *const CURVES[] = {"P-256", "P-384"};
static EVP_PKEY *curve_params[2];
static pthread_once_t curve_params_once = PTHREAD_ONCE_INIT;

static void make_curve_params(void)
{
	for (size_t i = 0; i < 2; i++) {
		OSSL_PARAM params[] = {
			OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)CURVES[i], 0),
			OSSL_PARAM_construct_end(),
		};
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
		    EVP_PKEY_fromdata(ctx, &curve_params[i], EVP_PKEY_KEY_PARAMETERS, params) != 1)
			curve_params[i] = NULL; /* keys are then built the long way */
		EVP_PKEY_CTX_free(ctx);
	}
	ERR_clear_error();
}

/* The key of an EC point on curve (an index into CURVES); setting the
 * point decodes it and refuses one off the curve. */
static EVP_PKEY *ec_point_key(size_t curve, const uint8_t *point, size_t point_len)
{
	pthread_once(&curve_params_once, make_curve_params);
	EVP_PKEY *key = NULL;
	if (curve_params[curve]) {
		key = EVP_PKEY_new();
		if (!key || EVP_PKEY_copy_parameters(key, curve_params[curve]) != 1 ||
		    EVP_PKEY_set1_encoded_public_key(key, point, point_len) != 1) {
			EVP_PKEY_free(key);
			key = NULL;
		}
		return key;
	}
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)CURVES[curve], 0),
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)point, point_len),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	return key;
}

EVP_PKEY *tc_spki_key(const uint8_t *spki, size_t len, char *err, size_t errlen)
{
	size_t curve;
	const uint8_t *point;
	size_t point_len;
	EVP_PKEY *key = NULL;
	if (ec_named_point(spki, len, &curve, &point, &point_len)) {
		key = ec_point_key(curve, point, point_len);
	} else if (len <= 0x7fffffff) {
		const unsigned char *p = spki;
		key = d2i_PUBKEY(NULL, &p, (long)len);
		if (key && p != spki + len) {
			EVP_PKEY_free(key);
			key = NULL;
		}
	}
	if (!key) {
		ERR_clear_error();
		tc_errorf(err, errlen, "unreadable or unsupported public key");
	}
	return key;
}

/* The digest and key type an AlgorithmIdentifier names; -1 when unsupported. */
static int algorithm(const struct tc_der_elem *alg, const EVP_MD **md, const char **keytype)
{
	struct tc_der_elem seq = *alg, oid, param;
	if (seq.tag != TC_DER_SEQUENCE)
		return -1;
	struct tc_der_cursor c = tc_der_inside(&seq);
	if (tc_der_expect(&c, TC_DER_OID, &oid) != TC_DER_OK)
		return -1;
	int has_param = tc_der_next(&c, &param) == TC_DER_OK;
	if (!tc_der_at_end(&c))
		return -1;
	/* RFC 5758 3.2 / RFC 8410 3: no parameters; RFC 4055 2.1: NULL for RSA
	 * (absent tolerated, as OpenSSL does). */
	int null_param = !has_param || (param.tag == TC_DER_NULL && param.val_len == 0);
	*keytype = "EC";
	if (TC_DER_OID_IS(&oid, OID_ECDSA_SHA256) && !has_param)
		*md = EVP_sha256();
	else if (TC_DER_OID_IS(&oid, OID_ECDSA_SHA384) && !has_param)
		*md = EVP_sha384();
	else if (TC_DER_OID_IS(&oid, OID_ECDSA_SHA512) && !has_param)
		*md = EVP_sha512();
	else if ((*keytype = "RSA") && TC_DER_OID_IS(&oid, OID_RSA_SHA256) && null_param)
		*md = EVP_sha256();
	else if (TC_DER_OID_IS(&oid, OID_RSA_SHA384) && null_param)
		*md = EVP_sha384();
	else if (TC_DER_OID_IS(&oid, OID_RSA_SHA512) && null_param)
		*md = EVP_sha512();
	else if ((*keytype = "ED25519") && TC_DER_OID_IS(&oid, OID_ED25519) && !has_param)
		*md = NULL;
	else
		return -1;
	return 0;
}

int tc_der_verify(EVP_PKEY *key, const struct tc_der_elem *alg, const uint8_t *data, size_t len, const uint8_t *sig,
		  size_t sig_len, char *err, size_t errlen)
{
	const EVP_MD *md;
	const char *keytype;
	if (algorithm(alg, &md, &keytype) != 0)
		return tc_errorf(err, errlen, "unsupported or malformed signature algorithm");
	if (!EVP_PKEY_is_a(key, keytype))
		return tc_errorf(err, errlen, "signature algorithm does not suit the key (%s expected)", keytype);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -1;
	if (ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1)
		rc = EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1 ? 1 : 0;
	else
		tc_errorf(err, errlen, "cannot set up the signature check");
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}
