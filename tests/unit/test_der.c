/* The strict DER reader and the certificate/key views built on it, checked
 * against OpenSSL's own encodings of the same certificates and keys. */
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/cert_der.h"
#include "common/der.h"
#include "common/der_key.h"
#include "unit/cunit_main.h"

static EVP_PKEY *ca_key;

/* A leaf signed by ca_key for subject_key, with the CT poison when asked. */
static unsigned char *make_cert(EVP_PKEY *subject_key, int poison, int *len)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234567);
	X509_NAME *n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"der test", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_NAME_free(n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, subject_key);
	X509V3_CTX ctx;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "DNS:a.example");
	X509_add_ext(x, san, -1);
	X509_EXTENSION_free(san);
	if (poison) {
		ASN1_NULL *null = ASN1_NULL_new();
		X509_add1_ext_i2d(x, NID_ct_precert_poison, null, 1, X509V3_ADD_DEFAULT);
		ASN1_NULL_free(null);
	}
	X509_sign(x, ca_key, EVP_sha256());
	unsigned char *der = NULL;
	*len = i2d_X509(x, &der);
	X509_free(x);
	return der;
}

static int same(const struct tc_der_elem *e, const unsigned char *der, int len)
{
	return len > 0 && e->tlv_len == (size_t)len && memcmp(e->tlv, der, (size_t)len) == 0;
}

static void test_cert_view_matches_openssl(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	int len;
	unsigned char *der = make_cert(k, 0, &len);
	struct tc_cert_view v;
	char err[128];
	CU_ASSERT_EQUAL_FATAL(tc_cert_view_parse(der, (size_t)len, &v, err, sizeof(err)), 0);
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, len);
	unsigned char *b = NULL;
	int bl = i2d_X509_NAME(X509_get_subject_name(x), &b);
	CU_ASSERT(same(&v.tbs.subject, b, bl));
	OPENSSL_free(b);
	b = NULL;
	bl = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &b);
	CU_ASSERT(same(&v.tbs.spki, b, bl));
	OPENSSL_free(b);
	b = NULL;
	bl = i2d_re_X509_tbs(x, &b);
	CU_ASSERT(same(&v.tbs.whole, b, bl));
	OPENSSL_free(b);
	CU_ASSERT(v.tbs.has_version && v.tbs.version.val_len == 1 && v.tbs.version.val[0] == 2);
	CU_ASSERT(v.tbs.serial.val_len == 4 && v.tbs.serial.val[0] == 0x01 && v.tbs.serial.val[3] == 0x67);
	CU_ASSERT_EQUAL(v.tbs.not_before.tag, TC_DER_UTCTIME);
	struct tc_ext_view e;
	CU_ASSERT_EQUAL(tc_tbs_find_ext(&v.tbs, TC_OID_CT_POISON, sizeof(TC_OID_CT_POISON), &e), 1);
	/* The signature checks out through the views, and not once altered. */
	CU_ASSERT_EQUAL(tc_der_verify(ca_key, &v.sig_alg, v.tbs.whole.tlv, v.tbs.whole.tlv_len, v.sig, v.sig_len, err,
				      sizeof(err)), 1);
	unsigned char *bad = malloc((size_t)len);
	memcpy(bad, der, (size_t)len);
	size_t off = (size_t)(v.tbs.subject.val - der) + v.tbs.subject.val_len - 1;
	bad[off] ^= 1;
	struct tc_cert_view bv;
	CU_ASSERT_EQUAL_FATAL(tc_cert_view_parse(bad, (size_t)len, &bv, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_der_verify(ca_key, &bv.sig_alg, bv.tbs.whole.tlv, bv.tbs.whole.tlv_len, bv.sig, bv.sig_len,
				      err, sizeof(err)), 0);
	/* The wrong key type for the algorithm is an error, not "invalid". */
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	CU_ASSERT_EQUAL(tc_der_verify(ed, &v.sig_alg, v.tbs.whole.tlv, v.tbs.whole.tlv_len, v.sig, v.sig_len, err,
				      sizeof(err)), -1);
	EVP_PKEY_free(ed);
	free(bad);
	X509_free(x);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

static void test_poison_found_once(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	int len;
	unsigned char *der = make_cert(k, 1, &len);
	struct tc_cert_view v;
	char err[128];
	CU_ASSERT_EQUAL_FATAL(tc_cert_view_parse(der, (size_t)len, &v, err, sizeof(err)), 0);
	struct tc_ext_view e;
	CU_ASSERT_EQUAL_FATAL(tc_tbs_find_ext(&v.tbs, TC_OID_CT_POISON, sizeof(TC_OID_CT_POISON), &e), 0);
	CU_ASSERT(e.critical);
	CU_ASSERT(e.value.val_len == 2 && e.value.val[0] == 0x05 && e.value.val[1] == 0x00);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

static void check_key_matches(EVP_PKEY *k)
{
	unsigned char *spki = NULL;
	int n = i2d_PUBKEY(k, &spki);
	char err[128];
	EVP_PKEY *got = tc_spki_key(spki, (size_t)n, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_EQUAL(EVP_PKEY_eq(got, k), 1);
	EVP_PKEY_free(got);
	/* One byte more is not a key. */
	unsigned char *longer = malloc((size_t)n + 1);
	memcpy(longer, spki, (size_t)n);
	longer[n] = 0;
	CU_ASSERT_PTR_NULL(tc_spki_key(longer, (size_t)n + 1, err, sizeof(err)));
	free(longer);
	OPENSSL_free(spki);
}

static void test_spki_keys(void)
{
	EVP_PKEY *p256 = EVP_EC_gen("P-256"), *p384 = EVP_EC_gen("P-384"), *p521 = EVP_EC_gen("P-521");
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	check_key_matches(p256);
	check_key_matches(p384);
	check_key_matches(p521);
	check_key_matches(rsa);
	check_key_matches(ed);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(p521);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
}

static void test_point_off_curve_refused(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	unsigned char *spki = NULL;
	int n = i2d_PUBKEY(k, &spki);
	spki[n - 1] ^= 0x01; /* last octet of y: the point leaves the curve */
	char err[128];
	CU_ASSERT_PTR_NULL(tc_spki_key(spki, (size_t)n, err, sizeof(err)));
	OPENSSL_free(spki);
	EVP_PKEY_free(k);
}

/* Keys built from a shared per-curve template: compressed points, P-384
 * off the curve, the point at infinity, and many threads at once (the
 * template is made once and only read). */
static void test_ec_keys_from_template(void)
{
	const char *curves[] = {"P-256", "P-384"};
	char err[128];
	for (int i = 0; i < 2; i++) {
		EVP_PKEY *k = EVP_EC_gen(curves[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(k);
		check_key_matches(k);
		unsigned char *spki = NULL;
		int n = i2d_PUBKEY(k, &spki);
		spki[n - 1] ^= 0x01;
		CU_ASSERT_PTR_NULL(tc_spki_key(spki, (size_t)n, err, sizeof(err)));
		OPENSSL_free(spki);
		CU_ASSERT_FATAL(EVP_PKEY_set_utf8_string_param(k, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
							       "compressed") == 1);
		check_key_matches(k);
		EVP_PKEY_free(k);
	}
	static const uint8_t infinity[] = {0x30, 0x1a, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
					   0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
					   0x07, 0x03, 0x02, 0x00, 0x00};
	CU_ASSERT_PTR_NULL(tc_spki_key(infinity, sizeof(infinity), err, sizeof(err)));
}

struct key_thread {
	unsigned char *spki[2];
	int len[2];
	EVP_PKEY *key[2];
	int ok;
};

static void *keys_in_thread(void *arg)
{
	struct key_thread *t = arg;
	char err[128];
	t->ok = 1;
	for (int i = 0; i < 200; i++) {
		EVP_PKEY *k = tc_spki_key(t->spki[i % 2], (size_t)t->len[i % 2], err, sizeof(err));
		if (!k || EVP_PKEY_eq(k, t->key[i % 2]) != 1)
			t->ok = 0;
		EVP_PKEY_free(k);
	}
	return NULL;
}

static void test_ec_keys_threads(void)
{
	struct key_thread t[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		for (int c = 0; c < 2; c++) {
			t[i].key[c] = EVP_EC_gen(c ? "P-384" : "P-256");
			t[i].spki[c] = NULL;
			t[i].len[c] = i2d_PUBKEY(t[i].key[c], &t[i].spki[c]);
		}
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, keys_in_thread, &t[i]) == 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT(t[i].ok);
		for (int c = 0; c < 2; c++) {
			EVP_PKEY_free(t[i].key[c]);
			OPENSSL_free(t[i].spki[c]);
		}
	}
}

static int reads(const uint8_t *p, size_t len)
{
	struct tc_der_elem e;
	struct tc_der_cursor c = tc_der_cursor(p, len);
	return tc_der_next(&c, &e);
}

static void test_strict_lengths(void)
{
	static const uint8_t ok[] = {0x04, 0x01, 0xaa};
	static const uint8_t indefinite[] = {0x30, 0x80, 0x00, 0x00};
	static const uint8_t long_form_short[] = {0x04, 0x81, 0x01, 0xaa};
	static const uint8_t leading_zero[] = {0x04, 0x82, 0x00, 0x81};
	static const uint8_t too_long[] = {0x04, 0x05, 0xaa};
	static const uint8_t five_octets[] = {0x04, 0x85, 0x01, 0x00, 0x00, 0x00, 0x00};
	static const uint8_t high_tag[] = {0x1f, 0x81, 0x00, 0x00};
	static const uint8_t lone_tag[] = {0x04};
	CU_ASSERT_EQUAL(reads(ok, sizeof(ok)), TC_DER_OK);
	CU_ASSERT_EQUAL(reads(indefinite, sizeof(indefinite)), TC_DER_MALFORMED);
	CU_ASSERT_EQUAL(reads(long_form_short, sizeof(long_form_short)), TC_DER_MALFORMED);
	CU_ASSERT_EQUAL(reads(leading_zero, sizeof(leading_zero)), TC_DER_MALFORMED);
	CU_ASSERT_EQUAL(reads(too_long, sizeof(too_long)), TC_DER_MALFORMED);
	CU_ASSERT_EQUAL(reads(five_octets, sizeof(five_octets)), TC_DER_MALFORMED);
	CU_ASSERT_EQUAL(reads(high_tag, sizeof(high_tag)), TC_DER_MALFORMED);
	CU_ASSERT_EQUAL(reads(lone_tag, sizeof(lone_tag)), TC_DER_MALFORMED);
	CU_ASSERT_EQUAL(reads(NULL, 0), TC_DER_END);
	struct tc_der_elem e;
	static const uint8_t two[] = {0x04, 0x00, 0x05, 0x00};
	CU_ASSERT_EQUAL(tc_der_whole(two, sizeof(two), TC_DER_OCTET_STRING, &e), TC_DER_MALFORMED);
	CU_ASSERT_EQUAL(tc_der_whole(two, 2, TC_DER_OCTET_STRING, &e), TC_DER_OK);
	CU_ASSERT_EQUAL(tc_der_whole(two, 2, TC_DER_NULL, &e), TC_DER_UNEXPECTED);
	/* Lengths we write come back as we wrote them. */
	static const size_t sizes[] = {0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x123456};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *buf = calloc(1, sizes[i] + 6);
		buf[0] = TC_DER_OCTET_STRING;
		size_t hl = 1 + tc_der_put_len(sizes[i], buf + 1);
		CU_ASSERT_EQUAL(hl + sizes[i], tc_der_tlv_size(sizes[i]));
		CU_ASSERT_EQUAL(tc_der_whole(buf, hl + sizes[i], TC_DER_OCTET_STRING, &e), TC_DER_OK);
		CU_ASSERT_EQUAL(e.val_len, sizes[i]);
		free(buf);
	}
}

static void test_truncations_refused(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	int len;
	unsigned char *der = make_cert(k, 1, &len);
	struct tc_cert_view v;
	char err[128];
	for (int cut = 0; cut < len; cut++)
		CU_ASSERT_NOT_EQUAL(tc_cert_view_parse(der, (size_t)cut, &v, err, sizeof(err)), 0);
	unsigned char *longer = malloc((size_t)len + 1);
	memcpy(longer, der, (size_t)len);
	longer[len] = 0;
	CU_ASSERT_NOT_EQUAL(tc_cert_view_parse(longer, (size_t)len + 1, &v, err, sizeof(err)), 0);
	free(longer);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

/* OIDs and INTEGERs: validity as OpenSSL's decoder has it, dotted text as
 * OBJ_obj2txt(..., 1) writes it. */
static void test_oid_and_integer(void)
{
	const char *oids[] = {"2.5.29.17", "1.3.6.1.4.1.11129.2.4.3", "0.39.1", "1.39", "2.999.3",
			      "1.3.6.1.4.1.99999.18446744073709551617.340282366920938463463374607431768211457",
			      "2.100000000000000000000"};
	for (size_t i = 0; i < sizeof(oids) / sizeof(oids[0]); i++) {
		ASN1_OBJECT *obj = OBJ_txt2obj(oids[i], 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(obj);
		unsigned char *der = NULL;
		int len = i2d_ASN1_OBJECT(obj, &der);
		struct tc_der_elem e;
		CU_ASSERT_EQUAL_FATAL(tc_der_whole(der, (size_t)len, TC_DER_OID, &e), TC_DER_OK);
		CU_ASSERT_TRUE(tc_der_oid_valid(&e));
		char ours[200], theirs[200];
		tc_der_oid_text(&e, ours, sizeof(ours));
		OBJ_obj2txt(theirs, sizeof(theirs), obj, 1);
		CU_ASSERT_STRING_EQUAL(ours, theirs);
		CU_ASSERT_STRING_EQUAL(ours, oids[i]);
		/* Cut short the same way. */
		tc_der_oid_text(&e, ours, 8);
		OBJ_obj2txt(theirs, 8, obj, 1);
		CU_ASSERT_STRING_EQUAL(ours, theirs);
		OPENSSL_free(der);
		ASN1_OBJECT_free(obj);
	}
	static const uint8_t bad_oids[][5] = {
		{0x06, 0x00}, {0x06, 0x01, 0x80}, {0x06, 0x02, 0x2b, 0x81}, {0x06, 0x03, 0x2b, 0x80, 0x01}};
	static const size_t bad_len[] = {2, 3, 4, 5};
	for (size_t i = 0; i < 4; i++) {
		struct tc_der_elem e;
		CU_ASSERT_EQUAL_FATAL(tc_der_whole(bad_oids[i], bad_len[i], TC_DER_OID, &e), TC_DER_OK);
		CU_ASSERT_FALSE(tc_der_oid_valid(&e));
		const unsigned char *p = bad_oids[i];
		ASN1_OBJECT *obj = d2i_ASN1_OBJECT(NULL, &p, (long)bad_len[i]);
		CU_ASSERT_PTR_NULL(obj); /* OpenSSL refuses them too */
		ASN1_OBJECT_free(obj);
	}
	ERR_clear_error();
	static const struct {
		uint8_t der[5];
		size_t len;
		int valid;
	} ints[] = {{{0x02, 0x01, 0x00}, 3, 1}, {{0x02, 0x01, 0x80}, 3, 1}, {{0x02, 0x02, 0x00, 0x80}, 4, 1},
		    {{0x02, 0x02, 0x00, 0x7f}, 4, 0}, {{0x02, 0x02, 0xff, 0x80}, 4, 0}, {{0x02, 0x02, 0xff, 0x7f}, 4, 1},
		    {{0x02, 0x00}, 2, 0}};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		struct tc_der_elem e;
		CU_ASSERT_EQUAL_FATAL(tc_der_whole(ints[i].der, ints[i].len, TC_DER_INTEGER, &e), TC_DER_OK);
		CU_ASSERT_EQUAL(tc_der_integer_valid(&e), ints[i].valid);
	}
}

static int init(void)
{
	ca_key = EVP_EC_gen("P-256");
	return ca_key ? 0 : 1;
}

static int cleanup(void)
{
	EVP_PKEY_free(ca_key);
	return 0;
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"certificate view matches OpenSSL's fields", test_cert_view_matches_openssl},
		{"precertificate poison found", test_poison_found_once},
		{"SPKI keys equal OpenSSL's (EC, RSA, Ed25519)", test_spki_keys},
		{"EC point off the curve refused", test_point_off_curve_refused},
		{"EC keys from the curve template: compressed, off curve, infinity", test_ec_keys_from_template},
		{"EC keys from 4 threads at once", test_ec_keys_threads},
		{"strict DER lengths", test_strict_lengths},
		{"every truncation and trailing byte refused", test_truncations_refused},
		{"OIDs and INTEGERs", test_oid_and_integer},
		{NULL, NULL},
	};
	return tc_run_suite("der", tests, init, cleanup);
}
