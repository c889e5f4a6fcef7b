/* Lint before signing: every file of tests/data/lint/ (made by
 * make_corpus.py) is linted for its profile; a good one passes, each bad
 * one is refused by exactly the lint its name says. Then the signer's
 * signing call itself: a template that passes the template policy but
 * would make a certificate that fails a lint is refused by name and never
 * signed. */
#include <dirent.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/file_read.h"
#include "cunit_main.h"
#include "signer/cert_sign.h"
#include "signer/lint.h"
#include "signer/policy.h"
#include "signer/tbs_template.h"

static const char *corpus_dir;

static const uint8_t LEAF_KEY_ID[20] = {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
					0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11};
static const uint8_t ROOT_KEY_ID[20] = {0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33,
					0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33, 0x33};

/* Every certificate and CRL lint: each must have its corpus file. */
static const char *const ALL_LINTS[] = {
	TC_LINT_TBS_MALFORMED, TC_LINT_VERSION, TC_LINT_SERIAL_NOT_POSITIVE, TC_LINT_SERIAL_TOO_LONG, TC_LINT_SIG_ALG,
	TC_LINT_ISSUER_EMPTY, TC_LINT_ISSUER_MISMATCH, TC_LINT_NAME_ENCODING, TC_LINT_TIME_ENCODING,
	TC_LINT_VALIDITY_ORDER, TC_LINT_SUBJECT_EMPTY, TC_LINT_KEY, TC_LINT_EXT_MISSING, TC_LINT_EXT_DUPLICATE,
	TC_LINT_EXT_UNKNOWN_CRITICAL, TC_LINT_EXT_NOT_ALLOWED, TC_LINT_EXT_CRITICALITY, TC_LINT_EXT_ENCODING,
	TC_LINT_BC_MISSING, TC_LINT_BC_CA, TC_LINT_KU_MISSING, TC_LINT_KU_INCONSISTENT, TC_LINT_EKU,
	TC_LINT_SAN_MISSING, TC_LINT_SAN_EMPTY_NAME, TC_LINT_SAN_BAD_DNS, TC_LINT_SAN_BAD_IP, TC_LINT_SAN_TYPE,
	TC_LINT_AKI_MISSING, TC_LINT_AKI_MISMATCH, TC_LINT_SKI_MISSING, TC_LINT_CT_POISON, TC_LINT_NAME_CONSTRAINTS,
	TC_LINT_URL, TC_LINT_POLICY_VALIDITY, TC_LINT_POLICY_NAME, TC_LINT_CRL_MALFORMED, TC_LINT_CRL_VERSION,
	TC_LINT_CRL_UPDATE_ORDER, TC_LINT_CRL_NUMBER, TC_LINT_CRL_AKI, TC_LINT_CRL_SERIAL,
};

static void test_policy(struct tc_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->max_validity_hours = 24;
	p->suffixes.count = 1;
	snprintf(p->suffixes.items[0], sizeof(p->suffixes.items[0]), "example.com");
	p->allow_ip_sans = true;
	p->min_rsa_bits = 2048;
}

static uint8_t *read_corpus(const char *name, size_t *len)
{
	char path[1024], err[256];
	snprintf(path, sizeof(path), "%s/%s", corpus_dir, name);
	char *buf = NULL;
	if (tc_read_file(path, 1 << 20, &buf, len, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	return (uint8_t *)buf;
}

/* The issuer a profile's files name: taken from its good file, so the
 * test and make_corpus.py cannot drift apart. */
struct issuer_bytes {
	uint8_t *file;
	struct tc_lint_issuer li;
};

static int issuer_from(const char *good, const uint8_t *key_id, struct issuer_bytes *ib)
{
	size_t len;
	memset(ib, 0, sizeof(*ib));
	ib->file = read_corpus(good, &len);
	struct tc_tbs_view v;
	char err[200];
	if (!ib->file || tc_tbs_view_parse(ib->file, len, &v, err, sizeof(err)) != 0)
		return -1;
	ib->li = (struct tc_lint_issuer){.sig_alg = v.sig_alg.tlv, .sig_alg_len = v.sig_alg.tlv_len,
					 .name = v.issuer.tlv, .name_len = v.issuer.tlv_len, .key_id = key_id,
					 .key_id_len = 20};
	return 0;
}

static void test_corpus(void)
{
	struct issuer_bytes leaf_issuer, sub_issuer;
	CU_ASSERT_FATAL(issuer_from("leaf--good.der", LEAF_KEY_ID, &leaf_issuer) == 0);
	CU_ASSERT_FATAL(issuer_from("sub_ca--good.der", ROOT_KEY_ID, &sub_issuer) == 0);
	struct tc_policy policy;
	test_policy(&policy);
	DIR *d = opendir(corpus_dir);
	CU_ASSERT_FATAL(d != NULL);
	struct dirent *de;
	int files = 0, good = 0;
	int covered[sizeof(ALL_LINTS) / sizeof(ALL_LINTS[0])] = {0};
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		const char *sep = strstr(de->d_name, "--");
		if (n < 5 || strcmp(de->d_name + n - 4, ".der") != 0 || !sep)
			continue;
		char profile[32], expect[96];
		snprintf(profile, sizeof(profile), "%.*s", (int)(sep - de->d_name), de->d_name);
		snprintf(expect, sizeof(expect), "%.*s", (int)(n - 4 - (size_t)(sep + 2 - de->d_name)), sep + 2);
		size_t len;
		uint8_t *der = read_corpus(de->d_name, &len);
		CU_ASSERT_FATAL(der != NULL);
		struct tc_lint_result res;
		int rc;
		if (strcmp(profile, "crl") == 0)
			rc = tc_lint_crl_tbs(der, len, &leaf_issuer.li, &res);
		else if (strcmp(profile, "leaf") == 0)
			rc = tc_lint_tbs(der, len, TC_LINT_LEAF, &leaf_issuer.li, &policy, &res);
		else if (strcmp(profile, "precert") == 0)
			rc = tc_lint_tbs(der, len, TC_LINT_PRECERT, &leaf_issuer.li, &policy, &res);
		else if (strcmp(profile, "sub_ca") == 0)
			rc = tc_lint_tbs(der, len, TC_LINT_SUB_CA, &sub_issuer.li, NULL, &res);
		else if (strcmp(profile, "cross") == 0) /* issued by the root, as the intermediate */
			rc = tc_lint_tbs(der, len, TC_LINT_CROSS, &sub_issuer.li, NULL, &res);
		else
			rc = tc_lint_tbs(der, len, TC_LINT_ROOT, NULL, NULL, &res);
		files++;
		if (strncmp(expect, "good", 4) == 0) {
			good++;
			if (rc != 0)
				fprintf(stderr, "\n%s: refused by %s (%s)\n", de->d_name, res.lint, res.detail);
			CU_ASSERT_EQUAL(rc, 0);
		} else {
			if (rc == 0 || !res.lint || strcmp(res.lint, expect) != 0)
				fprintf(stderr, "\n%s: got %s (%s)\n", de->d_name, rc ? res.lint : "clean", res.detail);
			CU_ASSERT_EQUAL(rc, -1);
			CU_ASSERT_PTR_NOT_NULL(res.lint);
			if (res.lint) {
				CU_ASSERT_STRING_EQUAL(res.lint, expect);
				CU_ASSERT(strncmp(res.lint, "lint_", 5) == 0);
			}
			for (size_t i = 0; i < sizeof(ALL_LINTS) / sizeof(ALL_LINTS[0]); i++)
				covered[i] |= strcmp(ALL_LINTS[i], expect) == 0;
		}
		/* Every prefix of a good file is refused, none is read past its end. */
		if (strcmp(expect, "good") == 0 && strcmp(profile, "crl") != 0)
			for (size_t cut = 0; cut < len; cut += 7) {
				uint8_t *copy = malloc(cut ? cut : 1);
				memcpy(copy, der, cut);
				CU_ASSERT_EQUAL(tc_lint_tbs(copy, cut, TC_LINT_LEAF, &leaf_issuer.li, &policy, &res), -1);
				free(copy);
			}
		free(der);
	}
	closedir(d);
	CU_ASSERT(good >= 7);
	CU_ASSERT(files >= (int)(sizeof(ALL_LINTS) / sizeof(ALL_LINTS[0])) + good);
	for (size_t i = 0; i < sizeof(ALL_LINTS) / sizeof(ALL_LINTS[0]); i++) {
		if (!covered[i])
			fprintf(stderr, "\nno corpus file refused by %s\n", ALL_LINTS[i]);
		CU_ASSERT(covered[i]);
	}
	free(leaf_issuer.file);
	free(sub_issuer.file);
}

/* An in-memory P-256 issuer standing in for the HSM key. */
static EVP_PKEY *issuer_key;
static X509 *issuer_cert;

static int suite_init(void)
{
	issuer_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	issuer_cert = X509_new();
	if (!issuer_key || !issuer_cert)
		return -1;
	X509_NAME *n = X509_get_subject_name(issuer_cert);
	X509_set_version(issuer_cert, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(issuer_cert), 9);
	X509_gmtime_adj(X509_getm_notBefore(issuer_cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(issuer_cert), 86400);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"Lint Issuer", -1, -1, 0);
	X509_set_issuer_name(issuer_cert, n);
	X509_set_pubkey(issuer_cert, issuer_key);
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer_cert, issuer_cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
	X509_add_ext(issuer_cert, ext, -1);
	X509_EXTENSION_free(ext);
	return X509_sign(issuer_cert, issuer_key, EVP_sha256()) > 0 ? 0 : -1;
}

static int suite_cleanup(void)
{
	X509_free(issuer_cert);
	EVP_PKEY_free(issuer_key);
	return 0;
}

/* A leaf template as the gateway would send it, with keyUsage value kuv. */
static unsigned char *template_with(const char *kuv, const char *name, size_t *len)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1,
				   0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, NULL, x, NULL, NULL, 0);
	char san[128];
	snprintf(san, sizeof(san), "DNS:%s", name);
	const struct {
		int nid;
		const char *v;
	} exts[] = {{NID_basic_constraints, "critical,CA:FALSE"},
		    {NID_key_usage, kuv},
		    {NID_ext_key_usage, "serverAuth"},
		    {NID_subject_alt_name, san}};
	for (size_t i = 0; i < 4; i++) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, exts[i].nid, exts[i].v);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	X509_ALGOR_set0((X509_ALGOR *)X509_get0_tbs_sigalg(x), OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF, NULL);
	unsigned char *der = NULL;
	int n = i2d_re_X509_tbs(x, &der);
	X509_free(x);
	EVP_PKEY_free(k);
	*len = n > 0 ? (size_t)n : 0;
	return der;
}

/* Completes and signs tmpl as the signer does; returns tc_leaf_sign_checked's
 * result with *lint. */
static int sign_as_signer(const unsigned char *tmpl, size_t len, const struct tc_policy *policy, int precert,
			  const char **lint, unsigned char **der, size_t *der_len)
{
	struct tc_hsm_key key = {.priv = issuer_key, .pub = issuer_key, .cert = issuer_cert};
	struct tc_issuer is;
	char err[256];
	CU_ASSERT_FATAL(tc_issuer_init(&is, &key, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(tc_issuer_set_urls(&is, "http://127.0.0.1:8080/crl/intermediate.crl",
					   "http://127.0.0.1:8080/ca/intermediate.crt", err, sizeof(err)) == 0);
	struct tc_tbs_view v;
	CU_ASSERT_FATAL(tc_template_parse(tmpl, len, &v, err, sizeof(err)) == 0);
	unsigned char serial[TC_SERIAL_LEN] = {0x41, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, fp[32];
	struct tc_leaf leaf;
	CU_ASSERT_FATAL(tc_leaf_complete(&v, &is, serial, &leaf, fp, err, sizeof(err)) == 0);
	int rc = tc_leaf_sign_checked(&leaf, &is, policy, precert, NULL, 0, der, der_len, lint, err, sizeof(err));
	if (rc == 1)
		CU_ASSERT_PTR_NOT_NULL(strstr(err, *lint)); /* the operator's message names the lint */
	tc_leaf_free(&leaf);
	tc_issuer_fini(&is);
	return rc;
}

static void test_signer_refuses_by_name(void)
{
	struct tc_policy policy;
	test_policy(&policy);
	size_t len;
	/* keyEncipherment on an EC key: the template policy lets it through,
	 * the lint of the completed certificate does not. */
	unsigned char *tmpl = template_with("critical,digitalSignature,keyEncipherment", "www.example.com", &len);
	struct tc_tbs_view v;
	char why[256];
	const char *reason;
	CU_ASSERT_FATAL(tc_template_parse(tmpl, len, &v, why, sizeof(why)) == 0);
	CU_ASSERT_EQUAL(tc_policy_check_leaf_reason(&policy, &v, time(NULL), &reason, why, sizeof(why)), 0);
	const char *lint = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	CU_ASSERT_EQUAL(sign_as_signer(tmpl, len, &policy, 1, &lint, &der, &der_len), 1);
	CU_ASSERT_PTR_NULL(der);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lint);
	CU_ASSERT_STRING_EQUAL(lint, TC_LINT_KU_INCONSISTENT);
	OPENSSL_free(tmpl);

	/* A name outside the permitted suffixes is refused by the lint too
	 * (were the template check ever skipped). */
	tmpl = template_with("critical,digitalSignature", "www.example.org", &len);
	lint = NULL;
	CU_ASSERT_EQUAL(sign_as_signer(tmpl, len, &policy, 1, &lint, &der, &der_len), 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lint);
	CU_ASSERT_STRING_EQUAL(lint, TC_LINT_POLICY_NAME);
	OPENSSL_free(tmpl);
}

static void test_signer_signs_clean(void)
{
	struct tc_policy policy;
	test_policy(&policy);
	size_t len;
	unsigned char *tmpl = template_with("critical,digitalSignature", "www.example.com", &len);
	for (int precert = 0; precert < 2; precert++) {
		const char *lint = "unset";
		unsigned char *der = NULL;
		size_t der_len = 0;
		CU_ASSERT_EQUAL(sign_as_signer(tmpl, len, &policy, precert, &lint, &der, &der_len), 0);
		CU_ASSERT_PTR_NULL(lint);
		const unsigned char *p = der;
		X509 *x = d2i_X509(NULL, &p, (long)der_len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(x);
		CU_ASSERT_EQUAL(X509_verify(x, issuer_key), 1);
		/* The leaf names where its CRL and its issuer are. */
		STACK_OF(DIST_POINT) *cdp = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
		AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
		CU_ASSERT_PTR_NOT_NULL(cdp);
		CU_ASSERT_PTR_NOT_NULL(aia);
		if (cdp) {
			GENERAL_NAME *gn = sk_GENERAL_NAME_value(sk_DIST_POINT_value(cdp, 0)->distpoint->name.fullname, 0);
			CU_ASSERT_STRING_EQUAL(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
					       "http://127.0.0.1:8080/crl/intermediate.crl");
		}
		if (aia) {
			ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, 0);
			CU_ASSERT_EQUAL(OBJ_obj2nid(ad->method), NID_ad_ca_issuers);
		}
		sk_DIST_POINT_pop_free(cdp, DIST_POINT_free);
		AUTHORITY_INFO_ACCESS_free(aia);
		X509_free(x);
		free(der);
	}
	OPENSSL_free(tmpl);
	char err[128];
	struct tc_issuer is = {0};
	CU_ASSERT_EQUAL(tc_issuer_set_urls(&is, "ldap://x/crl", "", err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(tc_issuer_set_urls(&is, "http://a b/crl", "", err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(tc_issuer_set_urls(&is, "", "", err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(is.urls_len, 0);
}

/* The lint applies the policy's excluded names and address ranges with the
 * same rules as the template check (tc_policy_check_dns_name/_ip): the good
 * leaf (www.example.com, example.com, 192.0.2.1) is refused once one of its
 * names or its address is excluded or not permitted. */
static void test_lint_excluded_names(void)
{
	struct issuer_bytes leaf_issuer;
	CU_ASSERT_FATAL(issuer_from("leaf--good.der", LEAF_KEY_ID, &leaf_issuer) == 0);
	size_t len;
	uint8_t *der = read_corpus("leaf--good.der", &len);
	CU_ASSERT_FATAL(der != NULL);
	struct tc_lint_result res;
	struct tc_policy policy;

	test_policy(&policy);
	CU_ASSERT_EQUAL(tc_lint_tbs(der, len, TC_LINT_LEAF, &leaf_issuer.li, &policy, &res), 0);

	policy.excluded_suffixes.count = 1;
	snprintf(policy.excluded_suffixes.items[0], sizeof(policy.excluded_suffixes.items[0]), "WWW.example.com");
	CU_ASSERT_EQUAL(tc_lint_tbs(der, len, TC_LINT_LEAF, &leaf_issuer.li, &policy, &res), -1);
	CU_ASSERT_STRING_EQUAL(res.lint, TC_LINT_POLICY_NAME);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.detail, "excluded"));

	static const struct tc_policy_cidr doc_net = {.addr = {192, 0, 2, 0}, .mask = {255, 255, 255, 0}, .len = 4};
	static const struct tc_policy_cidr ten_net = {.addr = {10, 0, 0, 0}, .mask = {255, 0, 0, 0}, .len = 4};
	test_policy(&policy);
	policy.ip_excluded[0] = doc_net;
	policy.n_ip_excluded = 1;
	CU_ASSERT_EQUAL(tc_lint_tbs(der, len, TC_LINT_LEAF, &leaf_issuer.li, &policy, &res), -1);
	CU_ASSERT_STRING_EQUAL(res.lint, TC_LINT_POLICY_NAME);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.detail, "excluded_ip_ranges"));

	test_policy(&policy);
	policy.ip_permitted[0] = ten_net;
	policy.n_ip_permitted = 1;
	CU_ASSERT_EQUAL(tc_lint_tbs(der, len, TC_LINT_LEAF, &leaf_issuer.li, &policy, &res), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.detail, "permitted_ip_ranges"));
	policy.ip_permitted[1] = doc_net;
	policy.n_ip_permitted = 2;
	CU_ASSERT_EQUAL(tc_lint_tbs(der, len, TC_LINT_LEAF, &leaf_issuer.li, &policy, &res), 0);

	free(der);
	free(leaf_issuer.file);
}

int main(int argc, char **argv)
{
	corpus_dir = argc > 1 ? argv[1] : "tests/data/lint";
	static const struct tc_test tests[] = {
		{"corpus: good files pass, each bad file is refused by its lint", test_corpus},
		{"signer: a template policy lets through is refused by the lint's name", test_signer_refuses_by_name},
		{"signer: clean leaves are signed with CDP and AIA", test_signer_signs_clean},
		{"lint: excluded names and address ranges as the policy has them", test_lint_excluded_names},
		{NULL, NULL},
	};
	return tc_run_suite("lint", tests, suite_init, suite_cleanup);
}
