/* The CT log's submission check: the DER fast path (chain_fast.c) against
 * the OpenSSL path (tc_chain_check_openssl) on the same chains. Where the
 * fast path accepts, entry (precertificate TBS without its poison, built by
 * DER surgery) and extra_data must be byte-identical to OpenSSL's
 * (i2d_re_X509_tbs); where it steps aside, the outcome and the refusal
 * text are OpenSSL's. */
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "support/test_ca.h"
#include "transparency/chain_check.h"
#include "unit/cunit_main.h"

static struct tc_test_ca root, inter, other;
static EVP_PKEY *leaf_key;
static struct tc_chain_checker *chk;
static unsigned char *root_der, *inter_der;
static size_t root_len, inter_len;

static int setup(void)
{
	leaf_key = EVP_EC_gen("P-256");
	char err[256];
	if (!leaf_key || tc_test_ca_root(&root, "Check Root", 0, 0) ||
	    tc_test_ca_sub(&inter, &root, "Check Intermediate", 0, 0) ||
	    tc_test_ca_sub(&other, &root, "Check Intermediate", 0, 0) ||
	    tc_chain_checker_new(root.cert, inter.cert, &chk, err, sizeof(err)) != 0)
		return -1;
	root_der = tc_test_der(root.cert, &root_len);
	inter_der = tc_test_der(inter.cert, &inter_len);
	return root_der && inter_der ? 0 : -1;
}

static int teardown(void)
{
	tc_chain_checker_free(chk);
	OPENSSL_free(root_der);
	OPENSSL_free(inter_der);
	tc_test_ca_free(&root);
	tc_test_ca_free(&inter);
	tc_test_ca_free(&other);
	EVP_PKEY_free(leaf_key);
	return 0;
}

/* ---- building leaves ---- */

static int add_conf_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, inter.cert, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	int ok = e && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

/* An extension with an OID OpenSSL does not know. */
static int add_private_ext(X509 *x, int critical)
{
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1);
	ASN1_OCTET_STRING *v = ASN1_OCTET_STRING_new();
	static const unsigned char null[] = {0x05, 0x00};
	X509_EXTENSION *e = NULL;
	int ok = oid && v && ASN1_OCTET_STRING_set(v, null, 2) &&
		 (e = X509_EXTENSION_create_by_OBJ(NULL, oid, critical, v)) && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(v);
	ASN1_OBJECT_free(oid);
	return ok;
}

/* Moves the extension with nid to position pos (-1: last). */
static int move_ext(X509 *x, int nid, int pos)
{
	int loc = X509_get_ext_by_NID(x, nid, -1);
	X509_EXTENSION *e = loc >= 0 ? X509_delete_ext(x, loc) : NULL;
	int ok = e && X509_add_ext(x, e, pos);
	X509_EXTENSION_free(e);
	return ok;
}

static unsigned char *der_of(X509 *x, const struct tc_test_ca *signer, size_t *len)
{
	CU_ASSERT_FATAL(X509_sign(x, signer->key, EVP_sha256()) > 0);
	unsigned char *der = tc_test_der(x, len);
	CU_ASSERT_FATAL(der != NULL);
	X509_free(x);
	return der;
}

static X509 *leaf(const struct tc_test_leaf *o)
{
	X509 *x = tc_test_leaf_new(&inter, leaf_key, o);
	CU_ASSERT_FATAL(x != NULL);
	return x;
}

/* A leaf the way our signer makes them: BC, KU, EKU, SAN, SKID, AKID. */
static X509 *signer_like(const char *dns, int poison)
{
	struct tc_test_leaf o = {.dns = dns, .server = 1, .client = 1, .poison = poison};
	X509 *x = leaf(&o);
	CU_ASSERT_FATAL(add_conf_ext(x, NID_subject_key_identifier, "hash"));
	return x;
}

/* ---- comparing the two paths ---- */

struct outcome {
	int rc;
	struct tc_checked_chain cc;
	char err[256];
};

static void run_both(int precert, unsigned char *leaf_der, size_t leaf_len, int with_root, struct outcome *fast,
		     struct outcome *slow)
{
	unsigned char *certs[3] = {leaf_der, inter_der, root_der};
	size_t lens[3] = {leaf_len, inter_len, root_len};
	size_t n = with_root ? 3 : 2;
	memset(fast, 0, sizeof(*fast));
	memset(slow, 0, sizeof(*slow));
	fast->rc = tc_chain_check(chk, precert, certs, lens, n, &fast->cc, fast->err, sizeof(fast->err));
	slow->rc = tc_chain_check_openssl(chk, precert, certs, lens, n, &slow->cc, slow->err, sizeof(slow->err));
}

static void assert_same(const struct outcome *a, const struct outcome *b)
{
	CU_ASSERT_EQUAL(a->rc, b->rc);
	if (a->rc != 0 || b->rc != 0) {
		CU_ASSERT_STRING_EQUAL(a->err, b->err);
		return;
	}
	CU_ASSERT_EQUAL(a->cc.entry.type, b->cc.entry.type);
	CU_ASSERT_EQUAL_FATAL(a->cc.entry.cert_len, b->cc.entry.cert_len);
	CU_ASSERT(memcmp(a->cc.entry.cert, b->cc.entry.cert, a->cc.entry.cert_len) == 0);
	CU_ASSERT(memcmp(a->cc.entry.issuer_key_hash, b->cc.entry.issuer_key_hash, TC_CT_HASH_LEN) == 0);
	CU_ASSERT_EQUAL_FATAL(a->cc.extra_len, b->cc.extra_len);
	CU_ASSERT(memcmp(a->cc.extra, b->cc.extra, a->cc.extra_len) == 0);
}

static void release(struct outcome *a, struct outcome *b)
{
	tc_checked_chain_free(&a->cc);
	tc_checked_chain_free(&b->cc);
}

/* The fast path must take it, with OpenSSL's exact result. */
static void expect_fast(int precert, X509 *x)
{
	size_t len;
	unsigned char *der = der_of(x, &inter, &len);
	for (int with_root = 0; with_root < 2; with_root++) {
		struct outcome f, s;
		run_both(precert, der, len, with_root, &f, &s);
		CU_ASSERT_EQUAL(f.rc, 0);
		CU_ASSERT_EQUAL(f.cc.fast, 1);
		CU_ASSERT_EQUAL(s.cc.fast, 0);
		assert_same(&f, &s);
		release(&f, &s);
	}
	OPENSSL_free(der);
}

/* The fast path must step aside; the result is OpenSSL's. expect_ok says
 * whether OpenSSL accepts it (-1: either, as long as both paths agree). */
static void expect_openssl(int precert, X509 *x, const struct tc_test_ca *signer, int expect_ok)
{
	size_t len;
	unsigned char *der = der_of(x, signer, &len);
	struct outcome f, s;
	run_both(precert, der, len, 0, &f, &s);
	CU_ASSERT_EQUAL(f.cc.fast, 0);
	if (expect_ok >= 0)
		CU_ASSERT_EQUAL(s.rc, expect_ok ? 0 : -1);
	assert_same(&f, &s);
	release(&f, &s);
	OPENSSL_free(der);
}

static void test_fast_path_enabled(void)
{
	CU_ASSERT(tc_chain_checker_fast(chk));
}

static void test_precert_poison_positions(void)
{
	/* poison first, in the middle, last */
	int positions[] = {0, 2, -1};
	for (size_t i = 0; i < sizeof(positions) / sizeof(positions[0]); i++) {
		X509 *x = signer_like("a.example.org", 1);
		CU_ASSERT_FATAL(move_ext(x, NID_ct_precert_poison, positions[i]));
		expect_fast(1, x);
	}
}

static void test_precert_shapes(void)
{
	/* only the poison: the TBS loses its extensions field entirely */
	X509 *x = leaf(&(struct tc_test_leaf){.poison = 1});
	while (X509_get_ext_count(x) > 1)
		X509_EXTENSION_free(X509_delete_ext(x, 0));
	CU_ASSERT_FATAL(X509_get_ext_by_NID(x, NID_ct_precert_poison, -1) == 0);
	expect_fast(1, x);
	/* test_ca leaves: no SKID; IP and DNS names; without KU / EKU */
	expect_fast(1, leaf(&(struct tc_test_leaf){.dns = "b.example.org", .ip = "192.0.2.7", .server = 1, .poison = 1}));
	expect_fast(1, leaf(&(struct tc_test_leaf){.dns = "c.example.org", .no_ku = 1, .no_eku = 1, .poison = 1}));
	/* lengths crossing the one- and two-octet forms of the extensions
	 * SEQUENCE, [3] and the TBS when the poison goes */
	char name[300];
	for (size_t n = 1; n < 200; n += 7) {
		memset(name, 'x', n);
		strcpy(name + n, ".example.org");
		expect_fast(1, signer_like(name, 1));
	}
}

static void test_final_certificates(void)
{
	static const unsigned char sct_list[] = {0x00, 0x05, 0x00, 0x03, 0x01, 0x02, 0x03};
	expect_fast(0, signer_like("d.example.org", 0));
	X509 *x = leaf(&(struct tc_test_leaf){.dns = "e.example.org", .server = 1, .sct_list = sct_list,
					      .sct_list_len = sizeof(sct_list)});
	expect_fast(0, x);
}

/* What our signer adds when issuer URLs are configured (issuer_urls.c):
 * cRLDistributionPoints and authorityInfoAccess stay on the fast path. */
static void test_issuer_urls(void)
{
	for (int precert = 0; precert < 2; precert++) {
		X509 *x = signer_like("u.example.org", precert);
		CU_ASSERT_FATAL(add_conf_ext(x, NID_crl_distribution_points, "URI:http://crl.example.org/issuing.crl"));
		CU_ASSERT_FATAL(add_conf_ext(x, NID_info_access,
					     "caIssuers;URI:http://ca.example.org/issuing.der,OCSP;URI:http://ocsp.example.org/"));
		expect_fast(precert, x);
		/* one distribution point with two names */
		x = signer_like("v.example.org", precert);
		CU_ASSERT_FATAL(add_conf_ext(x, NID_crl_distribution_points,
					     "URI:http://a.example.org/1.crl,URI:http://b.example.org/1.crl"));
		expect_fast(precert, x);
	}
}

/* An intermediate under root with nameConstraints conf (re-signed by the
 * root), and a checker for it. */
static struct tc_chain_checker *nc_checker(struct tc_test_ca *ca, const char *conf, unsigned char **der, size_t *len)
{
	CU_ASSERT_FATAL(tc_test_ca_sub(ca, &root, "NC Intermediate", 0, 0) == 0);
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, root.cert, ca->cert, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_name_constraints, conf);
	CU_ASSERT_FATAL(e && X509_add_ext(ca->cert, e, -1) && X509_sign(ca->cert, root.key, EVP_sha256()) > 0);
	X509_EXTENSION_free(e);
	struct tc_chain_checker *c = NULL;
	char err[256];
	CU_ASSERT_FATAL(tc_chain_checker_new(root.cert, ca->cert, &c, err, sizeof(err)) == 0);
	*der = tc_test_der(ca->cert, len);
	CU_ASSERT_FATAL(*der != NULL);
	return c;
}

/* One leaf under an NC intermediate through both paths: the fast path
 * takes it or not as want_fast says, the outcome is OpenSSL's. */
static void nc_case(struct tc_chain_checker *c, struct tc_test_ca *ca, unsigned char *ca_der, size_t ca_len,
		    const struct tc_test_leaf *o, int want_fast, int want_ok)
{
	X509 *x = tc_test_leaf_new(ca, leaf_key, o);
	CU_ASSERT_FATAL(x != NULL);
	size_t len;
	unsigned char *der = der_of(x, ca, &len);
	unsigned char *certs[2] = {der, ca_der};
	size_t lens[2] = {len, ca_len};
	struct outcome f, sl;
	memset(&f, 0, sizeof(f));
	memset(&sl, 0, sizeof(sl));
	f.rc = tc_chain_check(c, o->poison, certs, lens, 2, &f.cc, f.err, sizeof(f.err));
	sl.rc = tc_chain_check_openssl(c, o->poison, certs, lens, 2, &sl.cc, sl.err, sizeof(sl.err));
	CU_ASSERT_EQUAL(f.cc.fast, want_fast);
	if (want_ok >= 0)
		CU_ASSERT_EQUAL(sl.rc, want_ok ? 0 : -1);
	assert_same(&f, &sl);
	release(&f, &sl);
	OPENSSL_free(der);
}

/* The CA as trustchainctl makes it: nameConstraints with dNSName and
 * iPAddress subtrees. The fast path checks them as OpenSSL does, and
 * leaves outside them (or cases it does not model) to OpenSSL. */
static void test_name_constraints(void)
{
	struct tc_test_ca ca;
	unsigned char *ca_der;
	size_t ca_len;
	struct tc_chain_checker *c = nc_checker(&ca,
						"critical,permitted;DNS:example.org,permitted;DNS:.example.net,"
						"permitted;IP:192.0.2.0/255.255.255.0,excluded;DNS:bad.example.org",
						&ca_der, &ca_len);
	CU_ASSERT_FATAL(tc_chain_checker_fast(c));
	for (int poison = 0; poison < 2; poison++) {
		/* inside: fast */
		const char *in[] = {"a.example.org", "example.org", "A.Example.ORG", "*.example.org", "x.y.example.net"};
		for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
			nc_case(c, &ca, ca_der, ca_len,
				&(struct tc_test_leaf){.dns = in[i], .server = 1, .poison = poison}, 1, 1);
		nc_case(c, &ca, ca_der, ca_len,
			&(struct tc_test_leaf){.dns = "b.example.org", .ip = "192.0.2.9", .server = 1, .poison = poison},
			1, 1);
		/* outside: OpenSSL refuses */
		const char *out[] = {"badexample.org", "x.bad.example.org", "bad.example.org", "example.com",
				     "example.net", "org"};
		for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
			nc_case(c, &ca, ca_der, ca_len,
				&(struct tc_test_leaf){.dns = out[i], .server = 1, .poison = poison}, 0, 0);
		nc_case(c, &ca, ca_der, ca_len,
			&(struct tc_test_leaf){.dns = "c.example.org", .ip = "198.51.100.1", .server = 1,
					       .poison = poison},
			0, 0);
		nc_case(c, &ca, ca_der, ca_len,
			&(struct tc_test_leaf){.dns = "c.example.org", .ip = "2001:db8::1", .server = 1, .poison = poison},
			0, 0);
		/* no dNSName: OpenSSL checks the CN, the fast path steps aside */
		nc_case(c, &ca, ca_der, ca_len,
			&(struct tc_test_leaf){.ip = "192.0.2.10", .cn = "d.example.org", .server = 1, .poison = poison},
			0, -1);
	}
	tc_chain_checker_free(c);
	OPENSSL_free(ca_der);
	tc_test_ca_free(&ca);
	/* a kind of subtree the fast path does not model: OpenSSL only */
	c = nc_checker(&ca, "critical,permitted;email:example.org", &ca_der, &ca_len);
	CU_ASSERT(!tc_chain_checker_fast(c));
	nc_case(c, &ca, ca_der, ca_len, &(struct tc_test_leaf){.dns = "e.example.org", .server = 1}, 0, 1);
	tc_chain_checker_free(c);
	OPENSSL_free(ca_der);
	tc_test_ca_free(&ca);
}

static void test_left_to_openssl(void)
{
	/* an extension the fast path does not know: OpenSSL accepts it */
	X509 *x = signer_like("f.example.org", 1);
	CU_ASSERT_FATAL(add_conf_ext(x, NID_issuer_alt_name, "email:ca@example.org"));
	expect_openssl(1, x, &inter, 1);
	/* critical cRLDistributionPoints / authorityInfoAccess: OpenSSL decides */
	x = signer_like("f.example.org", 0);
	CU_ASSERT_FATAL(add_conf_ext(x, NID_crl_distribution_points, "critical,URI:http://crl.example.org/i.crl"));
	expect_openssl(0, x, &inter, -1);
	x = signer_like("f.example.org", 1);
	CU_ASSERT_FATAL(add_conf_ext(x, NID_info_access, "critical,caIssuers;URI:http://ca.example.org/i.der"));
	expect_openssl(1, x, &inter, 0);

	x = signer_like("f.example.org", 0);
	CU_ASSERT_FATAL(add_private_ext(x, 0));
	expect_openssl(0, x, &inter, 1);
	/* unhandled critical extensions: refused */
	x = signer_like("g.example.org", 1);
	CU_ASSERT_FATAL(add_private_ext(x, 1));
	expect_openssl(1, x, &inter, 0);
	x = signer_like("g.example.org", 0);
	CU_ASSERT_FATAL(add_private_ext(x, 1));
	expect_openssl(0, x, &inter, 0);
	/* a critical subjectKeyIdentifier is unhandled too */
	x = leaf(&(struct tc_test_leaf){.dns = "h.example.org"});
	CU_ASSERT_FATAL(add_conf_ext(x, NID_subject_key_identifier, "critical,hash"));
	expect_openssl(0, x, &inter, 0);
	/* poison on the wrong endpoint, or missing */
	expect_openssl(0, signer_like("i.example.org", 1), &inter, 0);
	expect_openssl(1, signer_like("i.example.org", 0), &inter, 0);
	/* signed by another key under the same name */
	expect_openssl(1, signer_like("j.example.org", 1), &other, 0);
	expect_openssl(0, signer_like("j.example.org", 0), &other, 0);
	/* a repeated extension makes the certificate invalid to OpenSSL */
	x = signer_like("k.example.org", 0);
	CU_ASSERT_FATAL(add_conf_ext(x, NID_subject_alt_name, "DNS:k2.example.org"));
	expect_openssl(0, x, &inter, 0);
	/* precertificate that also carries an SCT list */
	static const unsigned char sct_list[] = {0x00, 0x05, 0x00, 0x03, 0x01, 0x02, 0x03};
	x = leaf(&(struct tc_test_leaf){.dns = "l.example.org", .poison = 1, .sct_list = sct_list,
					.sct_list_len = sizeof(sct_list)});
	expect_openssl(1, x, &inter, 0);
	/* empty key usage is invalid to OpenSSL */
	x = leaf(&(struct tc_test_leaf){.dns = "m.example.org", .no_ku = 1});
	ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
	CU_ASSERT_FATAL(ku && X509_add1_ext_i2d(x, NID_key_usage, ku, 1, X509V3_ADD_DEFAULT) == 1);
	ASN1_BIT_STRING_free(ku);
	expect_openssl(0, x, &inter, 0);
}

static void test_other_chain_shapes(void)
{
	size_t len;
	unsigned char *der = der_of(signer_like("n.example.org", 1), &inter, &len);
	/* root before intermediate, the leaf alone, the intermediate twice */
	unsigned char *shapes[][4] = {{der, root_der, inter_der, NULL}, {der, NULL}, {der, inter_der, inter_der, NULL}};
	size_t shape_lens[][4] = {{len, root_len, inter_len, 0}, {len, 0}, {len, inter_len, inter_len, 0}};
	size_t counts[] = {3, 1, 3};
	for (size_t i = 0; i < 3; i++) {
		struct outcome f, s;
		f.rc = tc_chain_check(chk, 1, shapes[i], shape_lens[i], counts[i], &f.cc, f.err, sizeof(f.err));
		s.rc = tc_chain_check_openssl(chk, 1, shapes[i], shape_lens[i], counts[i], &s.cc, s.err,
					      sizeof(s.err));
		CU_ASSERT_EQUAL(f.cc.fast, 0);
		assert_same(&f, &s);
		release(&f, &s);
	}
	/* truncated and garbage leaves */
	for (size_t cut = 1; cut < len; cut += len / 7) {
		unsigned char *certs[2] = {der, inter_der};
		size_t lens[2] = {cut, inter_len};
		struct outcome f, s;
		f.rc = tc_chain_check(chk, 1, certs, lens, 2, &f.cc, f.err, sizeof(f.err));
		s.rc = tc_chain_check_openssl(chk, 1, certs, lens, 2, &s.cc, s.err, sizeof(s.err));
		CU_ASSERT_EQUAL(f.rc, -1);
		assert_same(&f, &s);
		release(&f, &s);
	}
	OPENSSL_free(der);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"fast path enabled for a plain CA", test_fast_path_enabled},
		{"precertificate: poison first, middle, last", test_precert_poison_positions},
		{"precertificate: extension sets and lengths", test_precert_shapes},
		{"final certificates", test_final_certificates},
		{"issuer URLs (CRL distribution point, AIA) stay fast", test_issuer_urls},
		{"name constraints: dNSName and iPAddress subtrees", test_name_constraints},
		{"left to OpenSSL, same outcome", test_left_to_openssl},
		{"other chain shapes and broken leaves", test_other_chain_shapes},
		{NULL, NULL},
	};
	return tc_run_suite("chain_check", tests, setup, teardown);
}
