/* Turns a policy-checked leaf template into a certificate signed by the
 * issuing intermediate: the signer, not the caller, sets issuer, serial,
 * AKI/SKI, basicConstraints and the RFC 6962 poison or SCT list.
 *
 * The TBSCertificate is assembled as DER from the template's own fields
 * (validity, subject, key and extensions, byte for byte as sent) and the
 * signer's, and its bytes are signed with the HSM key: the certificates
 * are the ones X509_sign() made from the same template, serial and SCT
 * list, without decoding the subject key or re-encoding anything. */
#ifndef TC_SIGNER_CERT_SIGN_H
#define TC_SIGNER_CERT_SIGN_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cert_der.h"
#include "signer/hsm.h"
#include "signer/policy.h"

#define TC_SERIAL_LEN 16

/* What the issuing key puts in every leaf, prepared once. */
struct tc_issuer {
	EVP_PKEY *priv;        /* not owned: signs in the HSM */
	const EVP_MD *md;
	uint8_t alg[12];       /* AlgorithmIdentifier ecdsa-with-SHA256/384 */
	size_t alg_len;
	uint8_t *name;         /* the issuing certificate's subject, as encoded there */
	size_t name_len;
	uint8_t *aki;          /* the whole authorityKeyIdentifier Extension; NULL when
				* the issuing certificate has no subjectKeyIdentifier */
	size_t aki_len;
	/* SHA-256 of the issuing certificate's SubjectPublicKeyInfo as encoded
	 * there: the issuer_key_hash of our precertificates' CT entries. */
	unsigned char key_hash[32];
	uint8_t key_id[64];    /* its subjectKeyIdentifier (what the AKI carries) */
	size_t key_id_len;
	/* cRLDistributionPoints and authorityInfoAccess Extensions every leaf
	 * gets (tc_issuer_set_urls); NULL/0 when none is configured. */
	uint8_t *urls;
	size_t urls_len;
};

/* Prepares is from key (which needs its certificate). 0, or -1 with err. */
int tc_issuer_init(struct tc_issuer *is, const struct tc_hsm_key *key, char *err, size_t errlen);
void tc_issuer_fini(struct tc_issuer *is);

/* Signs tbs (a TBSCertificate or a TBSCertList; taken and freed) with the
 * issuing key into SEQUENCE { tbs, is->alg, BIT STRING signature }: a
 * Certificate or a CertificateList (RFC 5280 4.1, 5.1), as X509_sign and
 * X509_CRL_sign would. op names the HSM operation in the metrics. 0 with
 * *der malloc'ed, or -1 with err. */
int tc_issuer_sign_tbs(uint8_t *tbs, size_t tbs_len, const struct tc_issuer *is, const char *op, unsigned char **der,
		       size_t *der_len, char *err, size_t errlen);

/* Makes every leaf carry a CRL distribution point crl_url (ca.crl_url) and
 * an AIA caIssuers issuer_url (ca.issuer_url), each http:// (RFC 5280
 * 4.2.1.13, 4.2.2.1); "" leaves that one out. 0, or -1 with err for a URL
 * that is not a plain http:// URI. (issuer_urls.c) */
int tc_issuer_set_urls(struct tc_issuer *is, const char *crl_url, const char *issuer_url, char *err, size_t errlen);

/* A completed leaf: everything of its TBSCertificate but the CT extension. */
struct tc_leaf {
	uint8_t *buf;     /* head, then the extensions; NULL when empty */
	size_t head_len;  /* version .. subjectPublicKeyInfo */
	size_t exts_len;  /* the Extension elements */
};

/* Completes the template tmpl (parsed and policy-checked) for issuer and
 * serial into leaf, and returns the SHA-256 of the resulting
 * TBSCertificate without poison/SCT extension, which ties a final
 * certificate to its precertificate. */
int tc_leaf_complete(const struct tc_tbs_view *tmpl, const struct tc_issuer *is,
		     const unsigned char serial[TC_SERIAL_LEN], struct tc_leaf *leaf, unsigned char fingerprint[32],
		     char *err, size_t errlen);

/* The TBSCertificate of leaf with the poison (precert), the SCT list
 * extension (sct_len > 0) or neither. malloc'ed into *tbs. */
int tc_leaf_tbs(const struct tc_leaf *leaf, int precert, const uint8_t *sct_list, size_t sct_len, uint8_t **tbs,
		size_t *tbs_len);

/* Signs tc_leaf_tbs(...) with the issuing key, as it is: no lint (the
 * signer signs through tc_leaf_sign_checked; tests forge with this).
 * Returns the Certificate DER in *der (malloc'ed). */
int tc_leaf_sign(const struct tc_leaf *leaf, const struct tc_issuer *is, int precert, const uint8_t *sct_list,
		 size_t sct_len, unsigned char **der, size_t *der_len, char *err, size_t errlen);

/* What the signer signs with: lints the exact TBS (signer/lint.h, profile
 * leaf or precertificate, policy's lints too when policy is set) and signs
 * it only when clean. A lint refusal returns 1 with *lint set to the
 * lint's name and err saying why; other failures -1 with err; 0 signed. */
int tc_leaf_sign_checked(const struct tc_leaf *leaf, const struct tc_issuer *is, const struct tc_policy *policy,
			 int precert, const uint8_t *sct_list, size_t sct_len, unsigned char **der, size_t *der_len,
			 const char **lint, char *err, size_t errlen);

void tc_leaf_free(struct tc_leaf *leaf);

/* The digest an EC issuer key of this size signs with (SHA-256 for P-256). */
const EVP_MD *tc_digest_for_key(EVP_PKEY *key);

#endif
