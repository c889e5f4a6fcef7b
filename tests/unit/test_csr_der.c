#define _GNU_SOURCE /* memmem */
/* The PKCS#10 DER view (common/csr_der.c) against OpenSSL-made requests:
 * every part found where OpenSSL's own encoder put it, the signature
 * checked with tc_spki_key + tc_der_verify over the request info, and
 * what is not one well-formed v1 request refused (tampered signature,
 * trailing bytes, every truncation, another version, missing or extra
 * fields). */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "common/cert_der.h"
#include "common/csr_der.h"
#include "common/der_key.h"
#include "common/der_writer.h"
#include "unit/cunit_main.h"

static EVP_PKEY *p256;

static int suite_init(void)
{
	p256 = EVP_EC_gen("P-256");
	return p256 ? 0 : 1;
}

static int suite_cleanup(void)
{
	EVP_PKEY_free(p256);
	return 0;
}

static X509_REQ *make_req(EVP_PKEY *key, const char *san, const EVP_MD *md)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"csr der test", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"TrustChain", -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_NAME_free(name);
	X509_REQ_set_pubkey(req, key);
	if (san) {
		STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san));
		X509_REQ_add_extensions(req, exts);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	X509_REQ_sign(req, key, md);
	return req;
}

static unsigned char *req_der(X509_REQ *req, size_t *len)
{
	unsigned char *der = NULL;
	int n = i2d_X509_REQ(req, &der);
	*len = n > 0 ? (size_t)n : 0;
	return der;
}

static int same(const struct tc_der_elem *e, const unsigned char *der, int len)
{
	return len > 0 && e->tlv_len == (size_t)len && memcmp(e->tlv, der, (size_t)len) == 0;
}

/* 1 verifies, 0 does not, -1 unsupported: what the gateway runs. */
static int verify(const struct tc_csr_view *v)
{
	char err[128];
	EVP_PKEY *k = tc_spki_key(v->spki.tlv, v->spki.tlv_len, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	int rc = tc_der_verify(k, &v->sig_alg, v->info.tlv, v->info.tlv_len, v->sig, v->sig_len, err, sizeof(err));
	EVP_PKEY_free(k);
	return rc;
}

/* The view's parts equal OpenSSL's encodings of the same fields. */
static void check_matches_openssl(EVP_PKEY *key, const EVP_MD *md)
{
	X509_REQ *req = make_req(key, "DNS:a.hypermesh.online", md);
	size_t len;
	unsigned char *der = req_der(req, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(der);
	struct tc_csr_view v;
	char err[128];
	CU_ASSERT_EQUAL_FATAL(tc_csr_view_parse(der, len, &v, err, sizeof(err)), 0);
	CU_ASSERT(v.whole.tlv == der && v.whole.tlv_len == len);
	unsigned char *p = NULL;
	int n = i2d_re_X509_REQ_tbs(req, &p);
	CU_ASSERT(same(&v.info, p, n));
	OPENSSL_free(p);
	p = NULL;
	n = i2d_X509_NAME(X509_REQ_get_subject_name(req), &p);
	CU_ASSERT(same(&v.subject, p, n));
	OPENSSL_free(p);
	p = NULL;
	n = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(req), &p);
	CU_ASSERT(same(&v.spki, p, n));
	OPENSSL_free(p);
	const ASN1_BIT_STRING *sig;
	const X509_ALGOR *alg;
	X509_REQ_get0_signature(req, &sig, &alg);
	CU_ASSERT(v.sig_len == (size_t)ASN1_STRING_length(sig) &&
		  memcmp(v.sig, ASN1_STRING_get0_data(sig), v.sig_len) == 0);
	p = NULL;
	n = i2d_X509_ALGOR(alg, &p);
	CU_ASSERT(same(&v.sig_alg, p, n));
	OPENSSL_free(p);
	CU_ASSERT(v.has_attributes);
	/* The requested extensions are the list OpenSSL reads back. */
	struct tc_der_elem exts;
	CU_ASSERT_EQUAL_FATAL(tc_csr_extensions(&v, &exts), 0);
	STACK_OF(X509_EXTENSION) *sk = X509_REQ_get_extensions(req);
	p = NULL;
	n = i2d_X509_EXTENSIONS(sk, &p);
	CU_ASSERT(same(&exts, p, n));
	OPENSSL_free(p);
	sk_X509_EXTENSION_pop_free(sk, X509_EXTENSION_free);
	CU_ASSERT_EQUAL(verify(&v), 1);
	OPENSSL_free(der);
	X509_REQ_free(req);
}

static void test_openssl_requests(void)
{
	EVP_PKEY *p384 = EVP_EC_gen("P-384");
	EVP_PKEY *rsa2048 = EVP_RSA_gen(2048);
	EVP_PKEY *rsa3072 = EVP_RSA_gen(3072);
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	CU_ASSERT_FATAL(p384 && rsa2048 && rsa3072 && ed);
	check_matches_openssl(p256, EVP_sha256());
	check_matches_openssl(p256, EVP_sha384());
	check_matches_openssl(p384, EVP_sha384());
	check_matches_openssl(rsa2048, EVP_sha256());
	check_matches_openssl(rsa3072, EVP_sha512());
	/* The gateway refuses Ed25519 keys by policy, but the request itself
	 * is well-formed and its signature checks. */
	check_matches_openssl(ed, NULL);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa2048);
	EVP_PKEY_free(rsa3072);
	EVP_PKEY_free(ed);
}

static void test_no_extensions(void)
{
	X509_REQ *req = make_req(p256, NULL, EVP_sha256());
	size_t len;
	unsigned char *der = req_der(req, &len);
	struct tc_csr_view v;
	struct tc_der_elem exts;
	char err[128];
	CU_ASSERT_EQUAL_FATAL(tc_csr_view_parse(der, len, &v, err, sizeof(err)), 0);
	/* OpenSSL writes the empty attribute list as [0] {}. */
	CU_ASSERT(v.has_attributes && v.attributes.val_len == 0);
	CU_ASSERT_EQUAL(tc_csr_extensions(&v, &exts), 1);
	CU_ASSERT_EQUAL(verify(&v), 1);
	OPENSSL_free(der);
	X509_REQ_free(req);
}

/* Microsoft's extension request attribute counts when there is no PKCS#9
 * one, as in X509_REQ_get_extensions. */
static void test_ms_extension_request(void)
{
	X509_REQ *req = make_req(p256, NULL, NULL);
	STACK_OF(X509_EXTENSION) *sk = sk_X509_EXTENSION_new_null();
	sk_X509_EXTENSION_push(sk, X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, "DNS:ms.hypermesh.online"));
	unsigned char *exts_der = NULL;
	int n = i2d_X509_EXTENSIONS(sk, &exts_der);
	sk_X509_EXTENSION_pop_free(sk, X509_EXTENSION_free);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_FATAL(X509_REQ_add1_attr_by_NID(req, NID_ms_ext_req, V_ASN1_SEQUENCE, exts_der, n) == 1);
	X509_REQ_sign(req, p256, EVP_sha256());
	size_t len;
	unsigned char *der = req_der(req, &len);
	struct tc_csr_view v;
	struct tc_der_elem exts;
	char err[128];
	CU_ASSERT_EQUAL_FATAL(tc_csr_view_parse(der, len, &v, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(tc_csr_extensions(&v, &exts), 0);
	CU_ASSERT(same(&exts, exts_der, n));
	CU_ASSERT_EQUAL(verify(&v), 1);
	OPENSSL_free(exts_der);
	OPENSSL_free(der);
	X509_REQ_free(req);
}

static void test_tampered_signature(void)
{
	X509_REQ *req = make_req(p256, "DNS:t.hypermesh.online", EVP_sha256());
	size_t len;
	unsigned char *der = req_der(req, &len);
	struct tc_csr_view v;
	char err[128];
	/* The last signature byte: still one request, the check fails. */
	der[len - 1] ^= 0x01;
	CU_ASSERT_EQUAL_FATAL(tc_csr_view_parse(der, len, &v, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(verify(&v), 0);
	der[len - 1] ^= 0x01;
	/* A byte of the signed request info (in the subject's CN). */
	unsigned char *cn = memmem(der, len, "csr der test", 12);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cn);
	cn[0] = 'C';
	CU_ASSERT_EQUAL_FATAL(tc_csr_view_parse(der, len, &v, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(verify(&v), 0);
	OPENSSL_free(der);
	X509_REQ_free(req);
}

static void test_trailing_and_truncated(void)
{
	X509_REQ *req = make_req(p256, "DNS:t.hypermesh.online", EVP_sha256());
	size_t len;
	unsigned char *der = req_der(req, &len);
	unsigned char *longer = malloc(len + 1);
	memcpy(longer, der, len);
	longer[len] = 0;
	struct tc_csr_view v;
	char err[128];
	CU_ASSERT_EQUAL(tc_csr_view_parse(longer, len + 1, &v, err, sizeof(err)), -1);
	for (size_t n = 0; n < len; n++)
		CU_ASSERT_EQUAL(tc_csr_view_parse(der, n, &v, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(tc_csr_view_parse(NULL, 0, &v, err, sizeof(err)), -1);
	free(longer);
	OPENSSL_free(der);
	X509_REQ_free(req);
}

/* A request assembled from parts: info = version, subject, key and the
 * attribute element when given, then extra (raw) fields. */
static unsigned char *assemble(const struct tc_csr_view *from, const uint8_t *version, size_t version_len,
			       int with_attributes, const uint8_t *extra, size_t extra_len, size_t *len)
{
	struct tc_der_writer w;
	tc_der_writer_init(&w);
	tc_der_open(&w, TC_DER_SEQUENCE);
	tc_der_open(&w, TC_DER_SEQUENCE);
	tc_der_put(&w, version, version_len);
	tc_der_put(&w, from->subject.tlv, from->subject.tlv_len);
	tc_der_put(&w, from->spki.tlv, from->spki.tlv_len);
	if (with_attributes)
		tc_der_put(&w, from->attributes.tlv, from->attributes.tlv_len);
	tc_der_put(&w, extra, extra_len);
	tc_der_close(&w);
	tc_der_put(&w, from->sig_alg.tlv, from->sig_alg.tlv_len);
	tc_der_put_tlv(&w, TC_DER_BIT_STRING, from->sig - 1, from->sig_len + 1);
	tc_der_close(&w);
	return tc_der_writer_take(&w, len);
}

static void test_structure(void)
{
	X509_REQ *req = make_req(p256, "DNS:t.hypermesh.online", EVP_sha256());
	size_t len, n;
	unsigned char *der = req_der(req, &len);
	struct tc_csr_view orig, v;
	char err[128];
	CU_ASSERT_EQUAL_FATAL(tc_csr_view_parse(der, len, &orig, err, sizeof(err)), 0);
	static const uint8_t v0[] = {0x02, 0x01, 0x00}, v1[] = {0x02, 0x01, 0x01}, v0_long[] = {0x02, 0x02, 0x00, 0x00};
	/* Reassembled unchanged: the same bytes, still verifying. */
	unsigned char *r = assemble(&orig, v0, sizeof(v0), 1, NULL, 0, &n);
	CU_ASSERT(r && n == len && memcmp(r, der, len) == 0);
	free(r);
	/* Another version, or 0 written in two octets. */
	r = assemble(&orig, v1, sizeof(v1), 1, NULL, 0, &n);
	CU_ASSERT_EQUAL(tc_csr_view_parse(r, n, &v, err, sizeof(err)), -1);
	CU_ASSERT(strstr(err, "version") != NULL);
	free(r);
	r = assemble(&orig, v0_long, sizeof(v0_long), 1, NULL, 0, &n);
	CU_ASSERT_EQUAL(tc_csr_view_parse(r, n, &v, err, sizeof(err)), -1);
	free(r);
	/* No attribute list: tolerated as OpenSSL does (the signature then
	 * no longer matches, which is the caller's check). */
	r = assemble(&orig, v0, sizeof(v0), 0, NULL, 0, &n);
	CU_ASSERT_EQUAL(tc_csr_view_parse(r, n, &v, err, sizeof(err)), 0);
	CU_ASSERT(!v.has_attributes);
	struct tc_der_elem exts;
	CU_ASSERT_EQUAL(tc_csr_extensions(&v, &exts), 1);
	free(r);
	/* Anything after the attributes. */
	static const uint8_t extra[] = {0x05, 0x00};
	r = assemble(&orig, v0, sizeof(v0), 1, extra, sizeof(extra), &n);
	CU_ASSERT_EQUAL(tc_csr_view_parse(r, n, &v, err, sizeof(err)), -1);
	free(r);
	/* An attribute that is not SEQUENCE { OID, SET }. */
	static const uint8_t bad_attrs[] = {0xa0, 0x04, 0x30, 0x02, 0x05, 0x00};
	struct tc_csr_view patched = orig;
	patched.attributes.tlv = bad_attrs;
	patched.attributes.tlv_len = sizeof(bad_attrs);
	r = assemble(&patched, v0, sizeof(v0), 1, NULL, 0, &n);
	CU_ASSERT_EQUAL(tc_csr_view_parse(r, n, &v, err, sizeof(err)), -1);
	free(r);
	/* A subject that is not a Name (an empty RDN). */
	static const uint8_t bad_name[] = {0x30, 0x02, 0x31, 0x00};
	patched = orig;
	patched.subject.tlv = bad_name;
	patched.subject.tlv_len = sizeof(bad_name);
	r = assemble(&patched, v0, sizeof(v0), 1, NULL, 0, &n);
	CU_ASSERT_EQUAL(tc_csr_view_parse(r, n, &v, err, sizeof(err)), -1);
	free(r);
	/* An empty subject is a valid Name. */
	static const uint8_t empty_name[] = {0x30, 0x00};
	patched.subject.tlv = empty_name;
	patched.subject.tlv_len = sizeof(empty_name);
	r = assemble(&patched, v0, sizeof(v0), 1, NULL, 0, &n);
	CU_ASSERT_EQUAL(tc_csr_view_parse(r, n, &v, err, sizeof(err)), 0);
	free(r);
	OPENSSL_free(der);
	X509_REQ_free(req);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"OpenSSL requests: parts and signature (P-256, P-384, RSA 2048/3072, Ed25519)",
		 test_openssl_requests},
		{"no extension request", test_no_extensions},
		{"Microsoft extension request attribute", test_ms_extension_request},
		{"tampered signature or request info fails the check", test_tampered_signature},
		{"trailing bytes and every truncation refused", test_trailing_and_truncated},
		{"structure: version 0 only, attributes, nothing after, Name shape", test_structure},
		{NULL, NULL},
	};
	return tc_run_suite("csr_der", tests, suite_init, suite_cleanup);
}
