/* Revocations: persisted before they are acknowledged, idempotent, validated,
 * and published in a CRL signed by the issuer (here an in-memory key standing
 * in for the HSM: the CRL code only uses issuer->priv and issuer->cert). */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "signer/revocation.h"
#include "unit/cunit_main.h"

static char tmpdir[] = "/tmp/tc-test-revocation-XXXXXX";
static char path[512];
static int case_no;
static char err[512];

static int suite_init(void)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int suite_cleanup(void)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *new_path(const char *content)
{
	snprintf(path, sizeof(path), "%s/revocations-%d", tmpdir, ++case_no);
	if (content) {
		FILE *f = fopen(path, "wb");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs(content, f);
		fclose(f);
	}
	return path;
}

static char *slurp(const char *p)
{
	static char buf[4096];
	FILE *f = fopen(p, "rb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static const unsigned char serial_a[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
					   0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe};
static const unsigned char serial_b[2] = {0xbe, 0xef};

static void test_add_persists(void)
{
	const char *p = new_path(NULL);
	struct tc_revocations *r = tc_revocations_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	time_t before = time(NULL), when = 0;
	CU_ASSERT_EQUAL(tc_revocations_add(r, serial_a, sizeof(serial_a), 1, &when, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(when >= before && when <= time(NULL));
	tc_revocations_close(r);

	char want[128];
	snprintf(want, sizeof(want), "0123456789abcdef1032547698badcfe 1 %lld\n", (long long)when);
	CU_ASSERT_STRING_EQUAL(slurp(p), want);
	struct stat st;
	CU_ASSERT_EQUAL(stat(p, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);

	/* After a restart the revocation is known: revoking again writes nothing
	 * and answers with the original time. */
	r = tc_revocations_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	time_t again = 0;
	CU_ASSERT_EQUAL(tc_revocations_add(r, serial_a, sizeof(serial_a), 4, &again, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(again, when);
	tc_revocations_close(r);
	CU_ASSERT_STRING_EQUAL(slurp(p), want);
}

static void test_duplicate_returns_original_time(void)
{
	const char *p = new_path("beef 0 1700000000\n");
	struct tc_revocations *r = tc_revocations_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	time_t when = 0;
	CU_ASSERT_EQUAL(tc_revocations_add(r, serial_b, sizeof(serial_b), 1, &when, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(when, 1700000000);
	/* Same in one session: the first time wins. */
	time_t t1 = 0, t2 = 0;
	CU_ASSERT_EQUAL(tc_revocations_add(r, serial_a, 3, 1, &t1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_revocations_add(r, serial_a, 3, 5, &t2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(t1, t2);
	/* A serial that is a prefix of another is a different serial. */
	time_t t3 = 0;
	CU_ASSERT_EQUAL(tc_revocations_add(r, serial_a, 4, 1, &t3, err, sizeof(err)), 0);
	tc_revocations_close(r);
	/* Two new lines, not three. */
	const char *s = slurp(p);
	int lines = 0;
	for (; *s; s++)
		lines += *s == '\n';
	CU_ASSERT_EQUAL(lines, 3);
}

static void test_bad_reason_and_serial(void)
{
	const char *p = new_path(NULL);
	struct tc_revocations *r = tc_revocations_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	time_t when;
	static const int bad_reasons[] = {7, 11, -1, 100};
	for (size_t i = 0; i < sizeof(bad_reasons) / sizeof(bad_reasons[0]); i++) {
		err[0] = '\0';
		CU_ASSERT_EQUAL(tc_revocations_add(r, serial_a, 8, bad_reasons[i], &when, err, sizeof(err)), -1);
		char want[64];
		snprintf(want, sizeof(want), "reason %d is not an RFC 5280 CRLReason", bad_reasons[i]);
		CU_ASSERT_STRING_EQUAL(err, want);
	}
	unsigned char long_serial[21] = {1};
	err[0] = '\0';
	CU_ASSERT_EQUAL(tc_revocations_add(r, long_serial, 21, 1, &when, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "serial must be 1..20 bytes");
	err[0] = '\0';
	CU_ASSERT_EQUAL(tc_revocations_add(r, long_serial, 0, 1, &when, err, sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "serial must be 1..20 bytes");
	/* Nothing refused reached the file. */
	CU_ASSERT_STRING_EQUAL(slurp(p), "");

	/* Every valid reason, and the longest serial, are accepted. */
	for (int reason = 0; reason <= 10; reason++) {
		if (reason == 7)
			continue;
		unsigned char s[1] = {(unsigned char)(0x40 + reason)};
		CU_ASSERT_EQUAL(tc_revocations_add(r, s, 1, reason, &when, err, sizeof(err)), 0);
	}
	CU_ASSERT_EQUAL(tc_revocations_add(r, long_serial, 20, 1, &when, err, sizeof(err)), 0);
	tc_revocations_close(r);
}

static void test_damaged_file(void)
{
	static const char *const bad[] = {
	    "beef 1 1700000000\nzz 1 1700000000\n",   /* not hex */
	    "bee 1 1700000000\n",                     /* odd length */
	    "beef one 1700000000\n",                  /* reason not a number */
	    "beef 1\n",                               /* no time */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = new_path(bad[i]);
		err[0] = '\0';
		struct tc_revocations *r = tc_revocations_open(p, err, sizeof(err));
		CU_ASSERT_PTR_NULL(r);
		tc_revocations_close(r);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "malformed record"));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, p));
	}
	/* A line too long for any record, in the middle of the file, is damage
	 * and not a torn tail: the records after it must not be dropped. */
	char text[1024];
	memset(text, 'a', 300);
	strcpy(text + 300, "\nbeef 1 1700000000\n");
	const char *p = new_path(text);
	struct tc_revocations *r = tc_revocations_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NULL(r);
	tc_revocations_close(r);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":1: malformed record"));
}

static void test_torn_tail(void)
{
	/* A crash while writing the second record. */
	const char *p = new_path("beef 0 1700000000\ncafe 1");
	struct tc_revocations *r = tc_revocations_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(slurp(p), "beef 0 1700000000\n");
	time_t when = 0;
	CU_ASSERT_EQUAL(tc_revocations_add(r, serial_a, 2, 1, &when, err, sizeof(err)), 0);
	tc_revocations_close(r);
	/* The file still loads after the next revocation, with both records. */
	r = tc_revocations_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	time_t t = 0;
	CU_ASSERT_EQUAL(tc_revocations_add(r, serial_b, 2, 1, &t, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(t, 1700000000);
	CU_ASSERT_EQUAL(tc_revocations_add(r, serial_a, 2, 1, &t, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(t, when);
	tc_revocations_close(r);
}

/* ---- CRL ---- */

/* A self-signed CA certificate for key, with a subject key identifier. */
static X509 *make_issuer_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"TrustChain TEST", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"Test Intermediate", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, key);
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *ski = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
	X509_add_ext(x, ski, -1);
	X509_EXTENSION_free(ski);
	CU_ASSERT_FATAL(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static X509_CRL *get_crl(struct tc_revocations *r, const struct tc_hsm_key *issuer, uint64_t *number)
{
	unsigned char *der = NULL;
	size_t len = 0;
	err[0] = '\0';
	int rc = tc_revocations_crl(r, issuer, &der, &len, number, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "\n  %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(crl);
	CU_ASSERT_TRUE(p == der + len);
	free(der);
	return crl;
}

static int crl_reason(X509_REVOKED *rev)
{
	ASN1_ENUMERATED *e = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
	int v = e ? (int)ASN1_ENUMERATED_get(e) : -1;
	ASN1_ENUMERATED_free(e);
	return v;
}

static uint64_t crl_number_ext(X509_CRL *crl)
{
	ASN1_INTEGER *n = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	uint64_t v = 0;
	CU_ASSERT_PTR_NOT_NULL(n);
	if (n)
		ASN1_INTEGER_get_uint64(&v, n);
	ASN1_INTEGER_free(n);
	return v;
}

static X509_REVOKED *find_revoked(X509_CRL *crl, const unsigned char *serial, size_t len)
{
	BIGNUM *bn = BN_bin2bn(serial, (int)len, NULL);
	ASN1_INTEGER *sn = BN_to_ASN1_INTEGER(bn, NULL);
	X509_REVOKED *rev = NULL;
	int found = X509_CRL_get0_by_serial(crl, &rev, sn);
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	return found ? rev : NULL;
}

static void check_crl_for_key(const char *curve, int sig_nid)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
	CU_ASSERT_PTR_NOT_NULL_FATAL(key);
	X509 *cert = make_issuer_cert(key);
	struct tc_hsm_key issuer = {.priv = key, .pub = key, .cert = cert};

	/* A zero serial (no certificate has it; the signer refuses it now, an
	 * older file may hold one) and a record with a time past year 9999
	 * (damaged) are left out of the CRL, which still comes. */
	const char *p = new_path("beef 0 1700000000\n0000 1 1700000000\n0bad 1 999999999999999\n");
	struct tc_revocations *r = tc_revocations_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	time_t when;
	CU_ASSERT_EQUAL(tc_revocations_add(r, serial_a, sizeof(serial_a), 4, &when, err, sizeof(err)), 0);

	uint64_t number = 0;
	X509_CRL *crl = get_crl(r, &issuer, &number);
	CU_ASSERT_EQUAL(X509_CRL_verify(crl, key), 1);
	CU_ASSERT_EQUAL(X509_CRL_get_signature_nid(crl), sig_nid);
	CU_ASSERT_EQUAL(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	CU_ASSERT_EQUAL(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(cert)), 0);
	CU_ASSERT_EQUAL(crl_number_ext(crl), number);
	CU_ASSERT_TRUE(number > 0);
	/* Authority key identifier = the issuer's subject key identifier. */
	AUTHORITY_KEYID *akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL(akid);
	if (akid)
		CU_ASSERT_EQUAL(ASN1_OCTET_STRING_cmp(akid->keyid, X509_get0_subject_key_id(cert)), 0);
	AUTHORITY_KEYID_free(akid);
	/* Valid now, for a day. */
	int days, secs;
	CU_ASSERT_EQUAL(ASN1_TIME_diff(&days, &secs, X509_CRL_get0_lastUpdate(crl),
				       X509_CRL_get0_nextUpdate(crl)), 1);
	CU_ASSERT_EQUAL(days * 86400 + secs, 86400);

	CU_ASSERT_EQUAL(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 2);
	X509_REVOKED *rev = find_revoked(crl, serial_a, sizeof(serial_a));
	CU_ASSERT_PTR_NOT_NULL_FATAL(rev);
	CU_ASSERT_EQUAL(crl_reason(rev), 4);
	CU_ASSERT_EQUAL(ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(rev), when), 0);
	rev = find_revoked(crl, serial_b, sizeof(serial_b));
	CU_ASSERT_PTR_NOT_NULL_FATAL(rev);
	CU_ASSERT_EQUAL(ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(rev), 1700000000), 0);
	CU_ASSERT_EQUAL(crl_reason(rev), -1); /* unspecified: no reasonCode (RFC 5280 5.3.1) */
	CU_ASSERT_PTR_NULL(find_revoked(crl, serial_a, 4));

	/* Unchanged: the cached CRL. Changed: a new CRL with a higher number. */
	uint64_t same = 0;
	X509_CRL *crl2 = get_crl(r, &issuer, &same);
	CU_ASSERT_EQUAL(same, number);
	CU_ASSERT_EQUAL(X509_CRL_cmp(crl, crl2), 0);
	X509_CRL_free(crl2);
	unsigned char serial_c[1] = {0x07};
	CU_ASSERT_EQUAL(tc_revocations_add(r, serial_c, 1, 1, &when, err, sizeof(err)), 0);
	uint64_t next = 0;
	X509_CRL *crl3 = get_crl(r, &issuer, &next);
	CU_ASSERT_TRUE(next > number);
	CU_ASSERT_EQUAL(crl_number_ext(crl3), next);
	CU_ASSERT_EQUAL(X509_CRL_verify(crl3, key), 1);
	CU_ASSERT_EQUAL(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl3)), 3);
	CU_ASSERT_PTR_NOT_NULL(find_revoked(crl3, serial_c, 1));
	X509_CRL_free(crl3);

	/* Any other key does not verify it. */
	EVP_PKEY *other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
	CU_ASSERT_NOT_EQUAL(X509_CRL_verify(crl, other), 1);
	EVP_PKEY_free(other);

	X509_CRL_free(crl);
	tc_revocations_close(r);
	X509_free(cert);
	EVP_PKEY_free(key);
}

static void test_crl_p256(void)
{
	check_crl_for_key("P-256", NID_ecdsa_with_SHA256);
}

static void test_crl_p384(void)
{
	check_crl_for_key("P-384", NID_ecdsa_with_SHA384);
}

static void test_crl_empty(void)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *cert = make_issuer_cert(key);
	struct tc_hsm_key issuer = {.priv = key, .pub = key, .cert = cert};
	struct tc_revocations *r = tc_revocations_open(new_path(NULL), err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	uint64_t number;
	X509_CRL *crl = get_crl(r, &issuer, &number);
	CU_ASSERT_EQUAL(X509_CRL_verify(crl, key), 1);
	CU_ASSERT_TRUE(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)) <= 0); /* no list at all */
	X509_CRL_free(crl);
	tc_revocations_close(r);
	X509_free(cert);
	EVP_PKEY_free(key);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"add persists across reopen", test_add_persists},
		{"duplicate returns the original time", test_duplicate_returns_original_time},
		{"bad reason and serial refused", test_bad_reason_and_serial},
		{"damaged file refused", test_damaged_file},
		{"torn tail cut", test_torn_tail},
		{"CRL signed with P-256", test_crl_p256},
		{"CRL signed with P-384", test_crl_p384},
		{"empty CRL", test_crl_empty},
		{NULL, NULL},
	};
	return tc_run_suite("revocation", tests, suite_init, suite_cleanup);
}
