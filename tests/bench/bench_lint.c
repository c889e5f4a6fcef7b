/* What lint before signing adds to an issuance, in CPU: a leaf template as
 * the gateway writes it (tc_leaf_tbs_der: P-256 key, two DNS names,
 * serverAuth+clientAuth) completed by the signer's code (AKI, SKI, CDP,
 * AIA), then its precertificate TBS and its final TBS (with a 119-byte SCT
 * list) linted N times each, as tc_leaf_sign_checked does once per
 * signature. Prints the CPU time per lint and per issuance (one
 * precertificate + one final certificate).
 *
 * usage: bench_lint [iterations]   (prints figures; not a test) */
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/leaf_template.h"
#include "signer/cert_sign.h"
#include "signer/lint.h"
#include "signer/tbs_template.h"

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static X509 *issuer_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 3);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400 * 30);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"Bench Issuing CA", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	X509_sign(x, key, EVP_sha256());
	return x;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	EVP_PKEY *ca = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *cert = issuer_cert(ca);
	struct tc_hsm_key hk = {.priv = ca, .pub = ca, .cert = cert};
	struct tc_issuer is;
	char err[256];
	if (tc_issuer_init(&is, &hk, err, sizeof(err)) != 0 ||
	    tc_issuer_set_urls(&is, "http://127.0.0.1:8080/crl/intermediate.crl", "http://127.0.0.1:8080/ca/intermediate.crt",
			       err, sizeof(err)) != 0) {
		fprintf(stderr, "issuer: %s\n", err);
		return 1;
	}
	unsigned char *spki = NULL;
	int spki_len = i2d_PUBKEY(leaf_key, &spki);
	const char *names[] = {"www.hypermesh.online", "api.hypermesh.online"};
	time_t now = time(NULL);
	struct tc_leaf_request rq = {.dns_names = names, .n_dns = 2, .server_auth = 1, .client_auth = 1,
				     .not_before = now, .not_after = now + 86400};
	uint8_t *tmpl;
	size_t tmpl_len;
	struct tc_tbs_view v;
	struct tc_leaf leaf;
	unsigned char serial[TC_SERIAL_LEN] = {0x41, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, fp[32];
	if (tc_leaf_tbs_der(&rq, spki, (size_t)spki_len, &tmpl, &tmpl_len, err, sizeof(err)) != 0 ||
	    tc_template_parse(tmpl, tmpl_len, &v, err, sizeof(err)) != 0 ||
	    tc_leaf_complete(&v, &is, serial, &leaf, fp, err, sizeof(err)) != 0) {
		fprintf(stderr, "template: %s\n", err);
		return 1;
	}
	uint8_t scts[119];
	memset(scts, 0x5a, sizeof(scts));
	scts[0] = 0, scts[1] = 117; /* a list of one 115-byte SCT, as a log returns */
	scts[2] = 0, scts[3] = 115;
	uint8_t *pre, *fin;
	size_t pre_len, fin_len;
	if (tc_leaf_tbs(&leaf, 1, NULL, 0, &pre, &pre_len) != 0 ||
	    tc_leaf_tbs(&leaf, 0, scts, sizeof(scts), &fin, &fin_len) != 0)
		return 1;
	struct tc_policy policy = {.max_validity_hours = 24, .allow_ip_sans = false, .min_rsa_bits = 2048};
	policy.suffixes.count = 1;
	snprintf(policy.suffixes.items[0], sizeof(policy.suffixes.items[0]), "hypermesh.online");
	struct tc_lint_issuer li = {.sig_alg = is.alg, .sig_alg_len = is.alg_len, .name = is.name,
				    .name_len = is.name_len, .key_id = is.key_id, .key_id_len = is.key_id_len};
	struct tc_lint_result res;
	long bad = 0;
	double t0 = cpu_s();
	for (long i = 0; i < n; i++) {
		bad += tc_lint_tbs(pre, pre_len, TC_LINT_PRECERT, &li, &policy, &res) != 0;
		bad += tc_lint_tbs(fin, fin_len, TC_LINT_LEAF, &li, &policy, &res) != 0;
	}
	double dt = cpu_s() - t0;
	if (bad) {
		tc_lint_tbs(pre, pre_len, TC_LINT_PRECERT, &li, &policy, &res);
		fprintf(stderr, "refused: %s: %s\n", res.lint, res.detail);
		return 1;
	}
	printf("lint: precertificate TBS %zu bytes, final TBS %zu bytes, %ld issuances\n", pre_len, fin_len, n);
	printf("lint: %.2f us CPU per lint, %.2f us CPU per issuance (precertificate + final)\n", dt * 1e6 / (2.0 * n),
	       dt * 1e6 / (double)n);
	free(pre);
	free(fin);
	free(tmpl);
	tc_leaf_free(&leaf);
	tc_issuer_fini(&is);
	OPENSSL_free(spki);
	X509_free(cert);
	EVP_PKEY_free(ca);
	EVP_PKEY_free(leaf_key);
	return 0;
}
