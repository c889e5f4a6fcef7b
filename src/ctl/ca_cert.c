#include "ctl/ca_cert.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Certificates start a little in the past so a verifier whose clock lags
 * ours by a few minutes does not reject a fresh CA. */
#define BACKDATE_SECONDS 300

static X509_NAME *ca_name(const struct tc_config *cfg, const char *suffix)
{
	char cn[TC_CFG_STR + 32];
	snprintf(cn, sizeof(cn), "%s %s", cfg->ca.organization, suffix);
	X509_NAME *n = X509_NAME_new();
	/* ASN.1 order O then CN, which prints as "CN=..., O=..." in RFC 4514. */
	if (!n ||
	    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)cfg->ca.organization, -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1) {
		X509_NAME_free(n);
		return NULL;
	}
	return n;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	int ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

/* Common body: version, serial, names, validity, key. */
static X509 *new_cert(X509_NAME *subject, X509_NAME *issuer, EVP_PKEY *pub,
		      const unsigned char serial[TC_CTL_SERIAL_LEN], time_t not_after)
{
	X509 *x = X509_new();
	BIGNUM *bn = BN_bin2bn(serial, TC_CTL_SERIAL_LEN, NULL);
	ASN1_INTEGER *sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	BN_free(bn);
	time_t now = time(NULL);
	int ok = x && sn && X509_set_version(x, X509_VERSION_3) == 1 &&
		 X509_set_serialNumber(x, sn) == 1 && X509_set_subject_name(x, subject) == 1 &&
		 X509_set_issuer_name(x, issuer) == 1 &&
		 X509_time_adj_ex(X509_getm_notBefore(x), 0, -BACKDATE_SECONDS, &now) &&
		 X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &not_after) &&
		 X509_set_pubkey(x, pub) == 1;
	ASN1_INTEGER_free(sn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Which digest an EC issuer signs with: SHA-384 for P-384, SHA-256 below. */
static const EVP_MD *digest_for(EVP_PKEY *issuer_pub)
{
	return EVP_PKEY_get_bits(issuer_pub) > 256 ? EVP_sha384() : EVP_sha256();
}

static int sign_and_check(X509 *x, EVP_PKEY *issuer_pub, EVP_PKEY *issuer_priv, char *err,
			  size_t errlen)
{
	if (X509_sign(x, issuer_priv, digest_for(issuer_pub)) <= 0) {
		snprintf(err, errlen, "the HSM refused to sign the certificate: %s",
			 ERR_reason_error_string(ERR_peek_last_error()));
		return -1;
	}
	/* A wrong key handle or a broken token must not yield a published CA. */
	if (X509_verify(x, issuer_pub) != 1) {
		snprintf(err, errlen, "the HSM signature does not verify with the issuer's public key");
		return -1;
	}
	return 0;
}

X509 *tc_ctl_make_root(const struct tc_config *cfg, EVP_PKEY *pub, EVP_PKEY *priv,
		       const unsigned char serial[TC_CTL_SERIAL_LEN], char *err, size_t errlen)
{
	X509_NAME *name = ca_name(cfg, "Root CA");
	time_t not_after = time(NULL) + (time_t)cfg->ca.root_validity_days * 86400;
	X509 *x = name ? new_cert(name, name, pub, serial, not_after) : NULL;
	X509_NAME_free(name);
	if (!x) {
		snprintf(err, errlen, "cannot build the root certificate");
		return NULL;
	}
	if (add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
	    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
	    add_ext(x, x, NID_subject_key_identifier, "hash") != 0) {
		snprintf(err, errlen, "cannot add the root certificate's extensions");
		X509_free(x);
		return NULL;
	}
	if (sign_and_check(x, pub, priv, err, errlen) != 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

X509 *tc_ctl_make_intermediate(const struct tc_config *cfg, EVP_PKEY *pub, X509 *root,
			       EVP_PKEY *root_pub, EVP_PKEY *root_priv,
			       const unsigned char serial[TC_CTL_SERIAL_LEN], char *err,
			       size_t errlen)
{
	time_t not_after = time(NULL) + (time_t)cfg->ca.intermediate_validity_days * 86400;
	/* Never outlive the root: the tail would be unusable and confusing. */
	int pday, psec;
	if (ASN1_TIME_diff(&pday, &psec, NULL, X509_get0_notAfter(root)) == 1) {
		time_t root_left = time(NULL) + (time_t)pday * 86400 + psec;
		if (root_left < not_after)
			not_after = root_left;
	}
	X509_NAME *name = ca_name(cfg, "Issuing CA 1");
	X509 *x = name ? new_cert(name, X509_get_subject_name(root), pub, serial, not_after) : NULL;
	X509_NAME_free(name);
	if (!x) {
		snprintf(err, errlen, "cannot build the intermediate certificate");
		return NULL;
	}
	if (add_ext(x, root, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") != 0 ||
	    add_ext(x, root, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
	    add_ext(x, root, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, root, NID_authority_key_identifier, "keyid:always") != 0) {
		snprintf(err, errlen, "cannot add the intermediate certificate's extensions");
		X509_free(x);
		return NULL;
	}
	if (sign_and_check(x, root_pub, root_priv, err, errlen) != 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}
