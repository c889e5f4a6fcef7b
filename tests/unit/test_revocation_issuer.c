/* Revocations by issuer (CA key rollover): each record names the
 * intermediate that signed the serial, records without one (written before
 * the issuer was recorded) count as the configured intermediate's, and each
 * intermediate's CRL lists its own serials only. The issuer of a serial is
 * found in the audit journal's signing record. */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "signer/revocation.h"
#include "unit/cunit_main.h"

static char tmpdir[] = "/tmp/tc-test-revocation-issuer-XXXXXX";
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

static const char *write_file(const char *name, const char *content)
{
	static char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(content, f);
	fclose(f);
	return p;
}

static X509 *ca_cert(EVP_PKEY *key, const char *cn)
{
	X509 *x = X509_new();
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	/* A CRL must carry the issuer's key identifier (RFC 5280 5.2.1), and
	 * the signer lints its CRLs. */
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *ski = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
	CU_ASSERT_FATAL(ski && X509_add_ext(x, ski, -1) == 1);
	X509_EXTENSION_free(ski);
	CU_ASSERT_FATAL(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

/* The serials (one byte each) in issuer's CRL, as a bit set. */
static unsigned listed(struct tc_revocations *r, const struct tc_hsm_key *issuer)
{
	unsigned char *der = NULL;
	size_t len = 0;
	uint64_t number;
	CU_ASSERT_EQUAL_FATAL(tc_revocations_crl(r, issuer, &der, &len, &number, err, sizeof(err)), 0);
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	free(der);
	CU_ASSERT_PTR_NOT_NULL_FATAL(crl);
	CU_ASSERT_EQUAL(X509_CRL_verify(crl, issuer->priv), 1);
	unsigned set = 0;
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
	for (int i = 0; i < sk_X509_REVOKED_num(revs); i++)
		set |= 1u << ASN1_INTEGER_get(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, i)));
	X509_CRL_free(crl);
	return set;
}

static void test_crl_per_issuer(void)
{
	EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *c1 = ca_cert(k1, "old"), *c2 = ca_cert(k2, "new");
	struct tc_hsm_key old = {.priv = k1, .pub = k1, .cert = c1}, next = {.priv = k2, .pub = k2, .cert = c2};
	snprintf(old.label, sizeof(old.label), "tc-intermediate");
	snprintf(next.label, sizeof(next.label), "issuing-2");
	/* Serial 1: a record of the old format; 2: the old one's; 3: the new one's. */
	const char *p = write_file("store", "01 1 1700000000\n02 1 1700000001 tc-intermediate\n");
	struct tc_revocations *r = tc_revocations_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	tc_revocations_set_configured_issuer(r, "tc-intermediate");
	time_t when, again;
	unsigned char s3 = 3, s4 = 4;
	CU_ASSERT_EQUAL(tc_revocations_add_by(r, &s3, 1, 1, "issuing-2", &when, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_revocations_add(r, &s4, 1, 1, &when, err, sizeof(err)), 0); /* unknown: configured */
	/* A repeat keeps the first record (idempotent), whatever issuer it names. */
	CU_ASSERT_EQUAL(tc_revocations_add_by(r, &s3, 1, 4, "tc-intermediate", &again, err, sizeof(err)), 0);
	/* Not a key label: refused, nothing recorded. */
	unsigned char s5 = 5;
	CU_ASSERT_EQUAL(tc_revocations_add_by(r, &s5, 1, 1, "a b", &when, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(listed(r, &old), (1u << 1) | (1u << 2) | (1u << 4));
	CU_ASSERT_EQUAL(listed(r, &next), 1u << 3);
	tc_revocations_close(r);

	/* Reopened: the same, from the file. */
	r = tc_revocations_open(p, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	tc_revocations_set_configured_issuer(r, "tc-intermediate");
	CU_ASSERT_EQUAL(listed(r, &old), (1u << 1) | (1u << 2) | (1u << 4));
	CU_ASSERT_EQUAL(listed(r, &next), 1u << 3);
	tc_revocations_close(r);

	/* A record naming something that is not a label is refused at open. */
	CU_ASSERT_PTR_NULL(tc_revocations_open(write_file("bad", "06 1 1700000000 a/b\n"), err, sizeof(err)));
	X509_free(c1);
	X509_free(c2);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

static void test_issuer_from_journal(void)
{
	const char *p = write_file(
		"audit.jsonl",
		"{\"seq\":1,\"op\":\"sign_certificate\",\"key\":\"tc-intermediate\",\"result\":\"ok\","
		"\"detail\":\"serial 4142\"}\tabc\n"
		"{\"seq\":2,\"op\":\"sign_certificate\",\"key\":\"issuing-2\",\"result\":\"denied\","
		"\"detail\":\"serial 4344\"}\tabc\n"
		"{\"seq\":3,\"op\":\"sign_certificate\",\"key\":\"issuing-2\",\"result\":\"ok\","
		"\"detail\":\"serial 4344\"}\tabc\n"
		"{\"seq\":4,\"op\":\"revoke\",\"key\":\"\",\"result\":\"ok\",\"detail\":\"serial 4546 reason 1\"}\tabc\n");
	char label[64];
	unsigned char a[2] = {0x41, 0x42}, b[2] = {0x43, 0x44}, c[2] = {0x45, 0x46};
	CU_ASSERT_EQUAL(tc_revocations_issuer_from_journal(p, a, 2, label, sizeof(label)), 0);
	CU_ASSERT_STRING_EQUAL(label, "tc-intermediate");
	CU_ASSERT_EQUAL(tc_revocations_issuer_from_journal(p, b, 2, label, sizeof(label)), 0);
	CU_ASSERT_STRING_EQUAL(label, "issuing-2");
	CU_ASSERT_EQUAL(tc_revocations_issuer_from_journal(p, c, 2, label, sizeof(label)), -1);
	CU_ASSERT_EQUAL(tc_revocations_issuer_from_journal(p, a, 1, label, sizeof(label)), -1);
	CU_ASSERT_EQUAL(tc_revocations_issuer_from_journal("/nonexistent/audit.jsonl", a, 2, label, sizeof(label)), -1);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"CRL per issuer, old records the configured one's", test_crl_per_issuer},
		{"issuer of a serial from the journal", test_issuer_from_journal},
		{NULL, NULL},
	};
	return tc_run_suite("revocation_issuer", tests, suite_init, suite_cleanup);
}
