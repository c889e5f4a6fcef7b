#include "ctl/ca_cert.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config_ca.h"
#include "signer/lint.h"

/* Certificates start a little in the past so a verifier whose clock lags
 * ours by a few minutes does not reject a fresh CA. */
#define BACKDATE_SECONDS 300
/* The root's CRL (empty, a root revokes by replacing its intermediate's
 * ceremony) is valid a year; `ceremony root-crl` re-signs it. */
#define ROOT_CRL_DAYS 365

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

/* The TBS as it will be signed: the signature algorithm set first (as
 * X509_sign will set it), then encoded. *der is OPENSSL_malloc'ed. */
static int tbs_to_sign(X509 *x, EVP_PKEY *issuer_pub, unsigned char **der, size_t *len)
{
	int nid = digest_for(issuer_pub) == EVP_sha384() ? NID_ecdsa_with_SHA384 : NID_ecdsa_with_SHA256;
	*der = NULL;
	if (!X509_ALGOR_set0((X509_ALGOR *)X509_get0_tbs_sigalg(x), OBJ_nid2obj(nid), V_ASN1_UNDEF, NULL))
		return -1;
	int n = i2d_re_X509_tbs(x, der);
	if (n <= 0)
		return -1;
	*len = (size_t)n;
	return 0;
}

/* Lint before signing (signer/lint.h): the exact TBS the HSM will sign,
 * as a root (issuer NULL) or as issuer signs it (profile). */
static int lint_ca(X509 *x, EVP_PKEY *issuer_pub, X509 *issuer, enum tc_lint_profile profile, unsigned char **tbs,
		   size_t *tbs_len, char *err, size_t errlen)
{
	if (tbs_to_sign(x, issuer_pub, tbs, tbs_len) != 0) {
		snprintf(err, errlen, "cannot encode the certificate");
		return -1;
	}
	struct tc_lint_result res;
	struct tc_lint_issuer li = {0};
	unsigned char *name = NULL;
	int rc;
	if (issuer) {
		int n = i2d_X509_NAME(X509_get_subject_name(issuer), &name);
		const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(issuer);
		li.name = name;
		li.name_len = n > 0 ? (size_t)n : 0;
		li.key_id = skid ? ASN1_STRING_get0_data(skid) : NULL;
		li.key_id_len = skid ? (size_t)ASN1_STRING_length(skid) : 0;
		rc = tc_lint_tbs(*tbs, *tbs_len, profile, &li, NULL, &res);
	} else {
		rc = tc_lint_tbs(*tbs, *tbs_len, TC_LINT_ROOT, NULL, NULL, &res);
	}
	OPENSSL_free(name);
	if (rc != 0) {
		snprintf(err, errlen, "refused by %s before signing: %s", res.lint, res.detail);
		OPENSSL_free(*tbs);
		*tbs = NULL;
	}
	return rc;
}

static int sign_and_check(X509 *x, EVP_PKEY *issuer_pub, EVP_PKEY *issuer_priv, X509 *issuer,
			  enum tc_lint_profile profile, char *err, size_t errlen)
{
	unsigned char *linted = NULL, *signed_tbs = NULL;
	size_t linted_len = 0;
	if (lint_ca(x, issuer_pub, issuer, profile, &linted, &linted_len, err, errlen) != 0)
		return -1;
	if (X509_sign(x, issuer_priv, digest_for(issuer_pub)) <= 0) {
		OPENSSL_free(linted);
		snprintf(err, errlen, "the HSM refused to sign the certificate: %s",
			 ERR_reason_error_string(ERR_peek_last_error()));
		return -1;
	}
	/* What was signed must be what was linted, byte for byte. */
	int n = i2d_re_X509_tbs(x, &signed_tbs);
	int same = n > 0 && (size_t)n == linted_len && memcmp(signed_tbs, linted, linted_len) == 0;
	OPENSSL_free(linted);
	OPENSSL_free(signed_tbs);
	if (!same) {
		snprintf(err, errlen, "the signed certificate differs from the linted one");
		return -1;
	}
	/* A wrong key handle or a broken token must not yield a published CA. */
	if (X509_verify(x, issuer_pub) != 1) {
		snprintf(err, errlen, "the HSM signature does not verify with the issuer's public key");
		return -1;
	}
	return 0;
}

/* Adds subtree (a dNSName, or an iPAddress address+mask) to *trees. */
static int add_subtree(STACK_OF(GENERAL_SUBTREE) **trees, int type, const unsigned char *v, int len)
{
	if (!*trees && !(*trees = sk_GENERAL_SUBTREE_new_null()))
		return -1;
	GENERAL_SUBTREE *t = GENERAL_SUBTREE_new();
	ASN1_STRING *s = type == GEN_DNS ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new();
	if (!t || !s || !ASN1_STRING_set(s, v, len)) {
		GENERAL_SUBTREE_free(t);
		ASN1_STRING_free(s);
		return -1;
	}
	GENERAL_NAME_set0_value(t->base, type, s);
	if (sk_GENERAL_SUBTREE_push(*trees, t) <= 0) {
		GENERAL_SUBTREE_free(t);
		return -1;
	}
	return 0;
}

static int add_dns_trees(STACK_OF(GENERAL_SUBTREE) **trees, const struct tc_string_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		if (add_subtree(trees, GEN_DNS, (const unsigned char *)l->items[i], (int)strlen(l->items[i])) != 0)
			return -1;
	return 0;
}

static int add_ip_trees(STACK_OF(GENERAL_SUBTREE) **trees, const struct tc_string_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		uint8_t b[32];
		size_t n = tc_cidr_parse(l->items[i], b);
		if (!n || add_subtree(trees, GEN_IPADD, b, (int)n) != 0)
			return -1;
	}
	return 0;
}

/* RFC 5280 4.2.1.10, critical: the intermediate certifies only names under
 * ca.permitted_suffixes and addresses in ca.permitted_ip_ranges (none at
 * all when that is empty: 0.0.0.0/0 and ::/0 excluded; but in dev, whose
 * policy issues any address, empty leaves addresses unconstrained), less
 * the excluded ones. Relying parties enforce it even against a fooled
 * signer. */
static int add_name_constraints(X509 *x, const struct tc_config *cfg)
{
	static const struct tc_string_list all_ips = {.count = 2, .items = {"0.0.0.0/0", "::/0"}};
	NAME_CONSTRAINTS *nc = NAME_CONSTRAINTS_new();
	int ok = nc && add_dns_trees(&nc->permittedSubtrees, &cfg->ca.permitted_suffixes) == 0 &&
		 add_ip_trees(&nc->permittedSubtrees, &cfg->ca.permitted_ip_ranges) == 0 &&
		 add_dns_trees(&nc->excludedSubtrees, &cfg->ca.excluded_suffixes) == 0 &&
		 add_ip_trees(&nc->excludedSubtrees, cfg->ca.permitted_ip_ranges.count || cfg->dev
							  ? &cfg->ca.excluded_ip_ranges
							  : &all_ips) == 0 &&
		 X509_add1_ext_i2d(x, NID_name_constraints, nc, 1, X509V3_ADD_DEFAULT) == 1;
	NAME_CONSTRAINTS_free(nc);
	return ok ? 0 : -1;
}

/* Where relying parties find the root's CRL and certificate. */
static int add_root_urls(X509 *x, X509 *root, const struct tc_config *cfg)
{
	char v[TC_CFG_STR + 32];
	if (cfg->ca.root_crl_url[0]) {
		snprintf(v, sizeof(v), "URI:%s", cfg->ca.root_crl_url);
		if (add_ext(x, root, NID_crl_distribution_points, v) != 0)
			return -1;
	}
	if (cfg->ca.root_url[0]) {
		snprintf(v, sizeof(v), "caIssuers;URI:%s", cfg->ca.root_url);
		if (add_ext(x, root, NID_info_access, v) != 0)
			return -1;
	}
	return 0;
}

X509 *tc_ctl_make_root(const struct tc_config *cfg, const char *cn_suffix, EVP_PKEY *pub, EVP_PKEY *priv,
		       const unsigned char serial[TC_CTL_SERIAL_LEN], char *err, size_t errlen)
{
	X509_NAME *name = ca_name(cfg, cn_suffix);
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
	if (sign_and_check(x, pub, priv, NULL, TC_LINT_ROOT, err, errlen) != 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

X509 *tc_ctl_make_intermediate(const struct tc_config *cfg, const char *cn_suffix, EVP_PKEY *pub, X509 *root,
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
	X509_NAME *name = ca_name(cfg, cn_suffix);
	X509 *x = name ? new_cert(name, X509_get_subject_name(root), pub, serial, not_after) : NULL;
	X509_NAME_free(name);
	if (!x) {
		snprintf(err, errlen, "cannot build the intermediate certificate");
		return NULL;
	}
	if (add_ext(x, root, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") != 0 ||
	    add_ext(x, root, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
	    add_ext(x, root, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, root, NID_authority_key_identifier, "keyid:always") != 0 ||
	    add_root_urls(x, root, cfg) != 0 || add_name_constraints(x, cfg) != 0) {
		snprintf(err, errlen, "cannot add the intermediate certificate's extensions");
		X509_free(x);
		return NULL;
	}
	if (sign_and_check(x, root_pub, root_priv, root, TC_LINT_SUB_CA, err, errlen) != 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

X509 *tc_ctl_make_cross(const struct tc_config *cfg, X509 *new_root, X509 *old_root, EVP_PKEY *old_pub,
			EVP_PKEY *old_priv, const unsigned char serial[TC_CTL_SERIAL_LEN], char *err, size_t errlen)
{
	/* Never outlives either root. */
	time_t not_after = time(NULL) + (time_t)cfg->ca.root_validity_days * 86400;
	const ASN1_TIME *ends[2] = {X509_get0_notAfter(new_root), X509_get0_notAfter(old_root)};
	for (int i = 0; i < 2; i++) {
		int pday, psec;
		if (ASN1_TIME_diff(&pday, &psec, NULL, ends[i]) == 1 && time(NULL) + (time_t)pday * 86400 + psec < not_after)
			not_after = time(NULL) + (time_t)pday * 86400 + psec;
	}
	EVP_PKEY *new_pub = X509_get0_pubkey(new_root);
	X509 *x = new_pub ? new_cert(X509_get_subject_name(new_root), X509_get_subject_name(old_root), new_pub, serial,
				     not_after)
			  : NULL;
	if (!x) {
		snprintf(err, errlen, "cannot build the cross certificate");
		return NULL;
	}
	/* The new root's own subjectKeyIdentifier, so the path through the
	 * cross certificate and the one ending at the new root match the same
	 * intermediates' AKI. */
	const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(new_root);
	if (!skid || X509_add1_ext_i2d(x, NID_subject_key_identifier, (void *)skid, 0, X509V3_ADD_DEFAULT) != 1 ||
	    add_ext(x, old_root, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
	    add_ext(x, old_root, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
	    add_ext(x, old_root, NID_authority_key_identifier, "keyid:always") != 0 ||
	    add_root_urls(x, old_root, cfg) != 0) {
		snprintf(err, errlen, "cannot add the cross certificate's extensions");
		X509_free(x);
		return NULL;
	}
	if (sign_and_check(x, old_pub, old_priv, old_root, TC_LINT_CROSS, err, errlen) != 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

X509_CRL *tc_ctl_make_root_crl(const struct tc_config *cfg, X509 *root, EVP_PKEY *root_pub, EVP_PKEY *root_priv,
			       char *err, size_t errlen)
{
	(void)cfg;
	time_t now = time(NULL);
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = ASN1_TIME_set(NULL, now), *next = ASN1_TIME_set(NULL, now + ROOT_CRL_DAYS * 86400L);
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(root);
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	int ok = crl && last && next && num && akid && skid && X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
		 X509_CRL_set_issuer_name(crl, X509_get_subject_name(root)) && X509_CRL_set1_lastUpdate(crl, last) &&
		 X509_CRL_set1_nextUpdate(crl, next) && ASN1_INTEGER_set_int64(num, (int64_t)now) &&
		 X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) == 1 &&
		 (akid->keyid = ASN1_OCTET_STRING_dup(skid)) &&
		 X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0) == 1 &&
		 X509_CRL_sign(crl, root_priv, digest_for(root_pub)) > 0;
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	ASN1_INTEGER_free(num);
	AUTHORITY_KEYID_free(akid);
	if (!ok) {
		snprintf(err, errlen, "cannot build or sign the root CRL");
		X509_CRL_free(crl);
		return NULL;
	}
	/* OpenSSL signs a CRL in one call, so its TBS is linted before the CRL
	 * is published (it never leaves the ceremony otherwise). */
	unsigned char *tbs = NULL, *name = NULL;
	int n = i2d_re_X509_CRL_tbs(crl, &tbs), nl = i2d_X509_NAME(X509_get_subject_name(root), &name);
	struct tc_lint_issuer li = {.name = name, .name_len = nl > 0 ? (size_t)nl : 0,
				    .key_id = ASN1_STRING_get0_data(skid), .key_id_len = (size_t)ASN1_STRING_length(skid)};
	struct tc_lint_result res;
	int rc = n > 0 ? tc_lint_crl_tbs(tbs, (size_t)n, &li, &res) : -1;
	OPENSSL_free(tbs);
	OPENSSL_free(name);
	if (rc != 0 || X509_CRL_verify(crl, root_pub) != 1) {
		snprintf(err, errlen, "root CRL refused: %s", rc ? (n > 0 ? res.lint : "unencodable") : "bad signature");
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}
