/* Our CRL reader (common/crl_view.c) against OpenSSL's on CRLs OpenSSL
 * builds: the same issuer, times, number, signature and serials (positive
 * with and without a sign octet, zero, negative), a v1 CRL without
 * extensions, signatures that verify only with the right key and bytes,
 * and refusals of damaged encodings. Then a CRL of 50,000 entries, read
 * both ways, with the time each took printed. */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/crl_view.h"
#include "unit/cunit_main.h"

static EVP_PKEY *key, *other;
static X509_NAME *issuer_name;

static int suite_init(void)
{
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	issuer_name = X509_NAME_new();
	return key && other && issuer_name &&
			       X509_NAME_add_entry_by_txt(issuer_name, "CN", MBSTRING_ASC,
							  (const unsigned char *)"CRL view test", -1, -1, 0)
		       ? 0
		       : 1;
}

static int suite_cleanup(void)
{
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	X509_NAME_free(issuer_name);
	return 0;
}

static void add_entry(X509_CRL *crl, long serial, int reason)
{
	X509_REVOKED *rev = X509_REVOKED_new();
	ASN1_INTEGER *sn = ASN1_INTEGER_new();
	ASN1_TIME *t = ASN1_TIME_set(NULL, 1700000000);
	ASN1_INTEGER_set(sn, serial);
	X509_REVOKED_set_serialNumber(rev, sn);
	X509_REVOKED_set_revocationDate(rev, t);
	if (reason >= 0) {
		ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
		ASN1_ENUMERATED_set(e, reason);
		X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, e, 0, 0);
		ASN1_ENUMERATED_free(e);
	}
	X509_CRL_add0_revoked(crl, rev);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
}

/* A signed CRL's DER: v2 with crlNumber number, next update and the
 * listed serials, or v1 with nothing but the times (v1). */
static unsigned char *make_crl(const long *serials, size_t n, uint64_t number, int v1, size_t *len)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *last = ASN1_TIME_set(NULL, 1700000100), *next = ASN1_TIME_set(NULL, 2600000000LL);
	X509_CRL_set_issuer_name(crl, issuer_name);
	X509_CRL_set1_lastUpdate(crl, last);
	X509_CRL_set1_nextUpdate(crl, next);
	if (!v1) {
		X509_CRL_set_version(crl, X509_CRL_VERSION_2);
		ASN1_INTEGER *num = ASN1_INTEGER_new();
		ASN1_INTEGER_set_uint64(num, number);
		X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
		ASN1_INTEGER_free(num);
	}
	for (size_t i = 0; i < n; i++)
		add_entry(crl, serials[i], v1 ? -1 : (int)(i % 3));
	CU_ASSERT_FATAL(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	unsigned char *der = NULL;
	int l = i2d_X509_CRL(crl, &der);
	CU_ASSERT_FATAL(l > 0);
	*len = (size_t)l;
	X509_CRL_free(crl);
	ASN1_TIME_free(last);
	ASN1_TIME_free(next);
	return der;
}

/* The view agrees with OpenSSL's reading of the same bytes. */
static void check_same(const unsigned char *der, size_t len)
{
	struct tc_crl_view v;
	char err[200];
	CU_ASSERT_EQUAL_FATAL(tc_crl_view_parse(der, len, &v, err, sizeof(err)), 0);
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(crl);
	unsigned char *name = NULL;
	int nl = i2d_X509_NAME(X509_CRL_get_issuer(crl), &name);
	CU_ASSERT(nl > 0 && (size_t)nl == v.issuer.tlv_len && memcmp(name, v.issuer.tlv, v.issuer.tlv_len) == 0);
	OPENSSL_free(name);
	CU_ASSERT_EQUAL(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl), (time_t)v.this_update), 0);
	CU_ASSERT_EQUAL(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(crl), (time_t)v.next_update), 0);
	ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	uint64_t n = 0;
	CU_ASSERT_EQUAL(v.has_number, num != NULL);
	if (num && ASN1_INTEGER_get_uint64(&n, num) == 1)
		CU_ASSERT_EQUAL(v.number, n);
	ASN1_INTEGER_free(num);
	const ASN1_BIT_STRING *sig;
	X509_CRL_get0_signature(crl, &sig, NULL);
	CU_ASSERT(v.sig_len == (size_t)sig->length && memcmp(v.sig, sig->data, v.sig_len) == 0);
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
	int nrev = revs ? sk_X509_REVOKED_num(revs) : 0; /* NULL when none */
	CU_ASSERT_EQUAL(v.revoked_count, (size_t)nrev);
	struct tc_der_cursor c = tc_der_inside(&v.revoked);
	struct tc_der_elem serial;
	for (int i = 0; i < nrev; i++) {
		CU_ASSERT_EQUAL_FATAL(tc_crl_view_next_serial(&c, &serial), TC_DER_OK);
		const ASN1_INTEGER *want = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, i));
		uint8_t mag[32];
		size_t ml;
		int neg;
		CU_ASSERT_EQUAL_FATAL(tc_der_integer_magnitude(&serial, mag, sizeof(mag), &ml, &neg), 0);
		CU_ASSERT_EQUAL(neg, ASN1_STRING_type(want) == V_ASN1_NEG_INTEGER);
		CU_ASSERT(ml == (size_t)ASN1_STRING_length(want) && memcmp(mag, ASN1_STRING_get0_data(want), ml) == 0);
	}
	CU_ASSERT_EQUAL(tc_crl_view_next_serial(&c, &serial), TC_DER_END);
	CU_ASSERT_EQUAL(tc_crl_view_verify(&v, key), 1);
	CU_ASSERT_EQUAL(tc_crl_view_verify(&v, other), 0);
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	CU_ASSERT_EQUAL(tc_crl_view_verify(&v, ed), 0); /* not the algorithm's kind of key */
	EVP_PKEY_free(ed);
	X509_CRL_free(crl);
}

static void test_same_as_openssl(void)
{
	/* 0x80 and 0xff00 need a sign octet; 0, -1, -128, -129 and -65536
	 * are the edge cases of OpenSSL's magnitude. */
	static const long serials[] = {1, 0x7f, 0x80, 0xff00, 0x123456789abcdef, 0, -1, -128, -129, -65536};
	size_t len;
	unsigned char *der = make_crl(serials, sizeof(serials) / sizeof(serials[0]), 42, 0, &len);
	check_same(der, len);
	OPENSSL_free(der);
	der = make_crl(NULL, 0, 0x8000000000000001ULL, 0, &len); /* no entries; a number with the top bit set */
	check_same(der, len);
	OPENSSL_free(der);
	der = make_crl(serials, 3, 0, 1, &len); /* v1 */
	check_same(der, len);
	OPENSSL_free(der);
}

static void test_damage_refused(void)
{
	static const long serials[] = {5, 6};
	size_t len;
	unsigned char *der = make_crl(serials, 2, 7, 0, &len);
	struct tc_crl_view v;
	char err[200];
	unsigned char *copy = malloc(len + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
	/* Every truncation, and a byte after the end. */
	for (size_t cut = 0; cut < len; cut++)
		CU_ASSERT_EQUAL(tc_crl_view_parse(der, cut, &v, err, sizeof(err)), -1);
	memcpy(copy, der, len);
	copy[len] = 0;
	CU_ASSERT_EQUAL(tc_crl_view_parse(copy, len + 1, &v, err, sizeof(err)), -1);
	/* A changed byte inside the TBS still parses but no longer verifies. */
	CU_ASSERT_EQUAL_FATAL(tc_crl_view_parse(copy, len, &v, err, sizeof(err)), 0);
	size_t at = (size_t)(v.issuer.val - copy) + v.issuer.val_len - 1; /* the issuer's last character */
	copy[at] ^= 1;
	CU_ASSERT_EQUAL_FATAL(tc_crl_view_parse(copy, len, &v, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_crl_view_verify(&v, key), 0);
	/* Outer and inner signature algorithms that differ (SHA-256 -> 384). */
	memcpy(copy, der, len);
	CU_ASSERT_EQUAL_FATAL(tc_crl_view_parse(copy, len, &v, err, sizeof(err)), 0);
	copy[(v.sig_alg.tlv - copy) + v.sig_alg.tlv_len - 1] = 0x03;
	CU_ASSERT_EQUAL(tc_crl_view_parse(copy, len, &v, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "signature algorithms differ"));
	free(copy);
	OPENSSL_free(der);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void test_big_crl(void)
{
	enum { N = 50000 };
	long *serials = malloc(N * sizeof(*serials));
	CU_ASSERT_PTR_NOT_NULL_FATAL(serials);
	for (long i = 0; i < N; i++)
		serials[i] = 0x4000000000000000L + i * 7919;
	size_t len;
	unsigned char *der = make_crl(serials, N, 9, 0, &len);
	free(serials);
	check_same(der, len);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	const unsigned char *p = der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	CU_ASSERT_EQUAL(X509_CRL_verify(crl, key), 1);
	double openssl_ms = ms_since(&t0);
	X509_CRL_free(crl);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct tc_crl_view v;
	char err[200];
	CU_ASSERT_EQUAL(tc_crl_view_parse(der, len, &v, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_crl_view_verify(&v, key), 1);
	double ours_ms = ms_since(&t0);
	printf("\nCRL of %d entries (%zu bytes), decoded and verified: OpenSSL %.1f ms, ours %.1f ms\n", N, len,
	       openssl_ms, ours_ms);
	OPENSSL_free(der);
}

int main(void)
{
	static const struct tc_test tests[] = {
	    {"the same reading as OpenSSL's", test_same_as_openssl},
	    {"damaged encodings refused, changed bytes do not verify", test_damage_refused},
	    {"50,000 entries", test_big_crl},
	    {NULL, NULL},
	};
	return tc_run_suite("CRL view", tests, suite_init, suite_cleanup);
}
