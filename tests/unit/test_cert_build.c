/* Certificates assembled as DER (signer/cert_sign.c) against the ones the
 * signer made before with OpenSSL's X509 objects (d2i_X509 of the
 * template, X509 extension calls, X509_sign), kept here as the reference:
 * for the same template, serial and SCT list the TBSCertificates must be
 * the same bytes, the outer algorithm the same, and the certificate a
 * valid signature of the issuer over them. Many templates: key types,
 * names, extension sets and orders, time encodings, serial shapes, SCT
 * list sizes across the DER length forms, P-256 and P-384 issuers. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cert_der.h"
#include "signer/cert_sign.h"
#include "signer/tbs_template.h"
#include "unit/cunit_main.h"

/* ---- The reference: the OpenSSL-based signer code this replaced. ---- */

static X509 *ref_template_parse(const uint8_t *tbs, size_t len)
{
	static const unsigned char alg_and_sig[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
						    0x3d, 0x04, 0x03, 0x02, 0x03, 0x01, 0x00};
	size_t body = len + sizeof(alg_and_sig);
	unsigned char hdr[6];
	hdr[0] = 0x30;
	size_t hl = 1 + tc_der_put_len(body, hdr + 1);
	unsigned char *buf = OPENSSL_malloc(hl + body);
	memcpy(buf, hdr, hl);
	memcpy(buf + hl, tbs, len);
	memcpy(buf + hl + len, alg_and_sig, sizeof(alg_and_sig));
	const unsigned char *p = buf;
	X509 *x = d2i_X509(NULL, &p, (long)(hl + body));
	OPENSSL_free(buf);
	if (x && i2d_re_X509_tbs(x, NULL) <= 0) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

static int ref_replace_ext(X509 *x, int nid, int crit, void *value)
{
	int idx;
	while ((idx = X509_get_ext_by_NID(x, nid, -1)) >= 0)
		X509_EXTENSION_free(X509_delete_ext(x, idx));
	return X509_add1_ext_i2d(x, nid, value, crit, X509V3_ADD_DEFAULT) == 1 ? 0 : -1;
}

static int ref_leaf_complete(X509 *x, X509 *issuer_cert, EVP_PKEY *issuer_key, const unsigned char serial[16],
			     unsigned char fingerprint[32])
{
	BIGNUM *bn = BN_bin2bn(serial, 16, NULL);
	ASN1_INTEGER *sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	BN_free(bn);
	int ok = sn && X509_set_serialNumber(x, sn);
	ASN1_INTEGER_free(sn);
	ok = ok && X509_set_issuer_name(x, X509_get_subject_name(issuer_cert));
	AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();
	const ASN1_OCTET_STRING *iski = X509_get0_subject_key_id(issuer_cert);
	if (ok && akid && iski) {
		akid->keyid = ASN1_OCTET_STRING_dup(iski);
		ok = akid->keyid && ref_replace_ext(x, NID_authority_key_identifier, 0, akid) == 0;
	} else {
		ok = 0;
	}
	AUTHORITY_KEYID_free(akid);
	if (ok && X509_get_ext_by_NID(x, NID_subject_key_identifier, -1) < 0) {
		unsigned char md[20];
		unsigned int mdl = 0;
		ASN1_OCTET_STRING *ski = ASN1_OCTET_STRING_new();
		ok = ski && X509_pubkey_digest(x, EVP_sha1(), md, &mdl) && ASN1_OCTET_STRING_set(ski, md, (int)mdl) &&
		     X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0, X509V3_ADD_DEFAULT) == 1;
		ASN1_OCTET_STRING_free(ski);
	}
	if (ok && X509_get_ext_by_NID(x, NID_basic_constraints, -1) < 0) {
		BASIC_CONSTRAINTS *bc = BASIC_CONSTRAINTS_new();
		ok = bc && X509_add1_ext_i2d(x, NID_basic_constraints, bc, 1, X509V3_ADD_DEFAULT) == 1;
		BASIC_CONSTRAINTS_free(bc);
	}
	if (ok) {
		X509_ALGOR *alg = (X509_ALGOR *)X509_get0_tbs_sigalg(x);
		int nid = tc_digest_for_key(issuer_key) == EVP_sha384() ? NID_ecdsa_with_SHA384 : NID_ecdsa_with_SHA256;
		X509_ALGOR_set0(alg, OBJ_nid2obj(nid), V_ASN1_UNDEF, NULL);
	}
	unsigned char *tbs = NULL;
	int tl = ok ? i2d_re_X509_tbs(x, &tbs) : -1;
	if (tl <= 0)
		return -1;
	SHA256(tbs, (size_t)tl, fingerprint);
	OPENSSL_free(tbs);
	return 0;
}

static int ref_leaf_sign(X509 *x, EVP_PKEY *issuer_key, int precert, const uint8_t *sct_list, size_t sct_len,
			 unsigned char **der, size_t *der_len)
{
	int ok = 1;
	if (precert) {
		ASN1_NULL *null = ASN1_NULL_new();
		ok = null && X509_add1_ext_i2d(x, NID_ct_precert_poison, null, 1, X509V3_ADD_DEFAULT) == 1;
		ASN1_NULL_free(null);
	} else if (sct_list && sct_len) {
		ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new();
		ASN1_OCTET_STRING *outer = ASN1_OCTET_STRING_new();
		unsigned char *inner_der = NULL;
		int il = -1;
		ok = inner && outer && ASN1_OCTET_STRING_set(inner, sct_list, (int)sct_len);
		if (ok)
			il = i2d_ASN1_OCTET_STRING(inner, &inner_der);
		ok = ok && il > 0 && ASN1_OCTET_STRING_set(outer, inner_der, il);
		X509_EXTENSION *ext = ok ? X509_EXTENSION_create_by_NID(NULL, NID_ct_precert_scts, 0, outer) : NULL;
		ok = ext && X509_add_ext(x, ext, -1) == 1;
		X509_EXTENSION_free(ext);
		OPENSSL_free(inner_der);
		ASN1_OCTET_STRING_free(inner);
		ASN1_OCTET_STRING_free(outer);
	}
	if (!ok || X509_sign(x, issuer_key, tc_digest_for_key(issuer_key)) <= 0)
		return -1;
	unsigned char *out = NULL;
	int n = i2d_X509(x, &out);
	if (n <= 0)
		return -1;
	*der = out;
	*der_len = (size_t)n;
	return 0;
}

/* ---- Fixtures ---- */

struct issuer_fixture {
	EVP_PKEY *key;
	X509 *cert;
	struct tc_hsm_key hsm_key;
	struct tc_issuer issuer;
};

static struct issuer_fixture issuers[2];
static EVP_PKEY *leaf_keys[4];
static unsigned long compared;

static X509 *make_issuer_cert(EVP_PKEY *key, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_get_subject_name(x);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, (const unsigned char *)"CH", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"TrustChain \xc3\xa9", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, key);
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_key_identifier, "hash");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(x, key, EVP_sha256());
	/* As the signer holds it: decoded from its DER. */
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	X509_free(x);
	const unsigned char *p = der;
	x = d2i_X509(NULL, &p, len);
	OPENSSL_free(der);
	return x;
}

static int suite_init(void)
{
	const char *curves[2] = {"P-256", "P-384"};
	for (int i = 0; i < 2; i++) {
		struct issuer_fixture *f = &issuers[i];
		f->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curves[i]);
		f->cert = f->key ? make_issuer_cert(f->key, curves[i]) : NULL;
		if (!f->cert)
			return -1;
		f->hsm_key.priv = f->hsm_key.pub = f->key;
		f->hsm_key.cert = f->cert;
		char err[256];
		if (tc_issuer_init(&f->issuer, &f->hsm_key, err, sizeof(err)) != 0)
			return -1;
	}
	leaf_keys[0] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	leaf_keys[1] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	leaf_keys[2] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	/* The same P-256 key, its point compressed in the SPKI. */
	leaf_keys[3] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!leaf_keys[3] || !EVP_PKEY_set_utf8_string_param(leaf_keys[3], "point-format", "compressed"))
		return -1;
	return leaf_keys[0] && leaf_keys[1] && leaf_keys[2] ? 0 : -1;
}

static int suite_cleanup(void)
{
	for (int i = 0; i < 2; i++) {
		tc_issuer_fini(&issuers[i].issuer);
		X509_free(issuers[i].cert);
		EVP_PKEY_free(issuers[i].key);
	}
	for (int i = 0; i < 4; i++)
		EVP_PKEY_free(leaf_keys[i]);
	return 0;
}

static void add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	CU_ASSERT_FATAL(ext != NULL);
	CU_ASSERT_FATAL(X509_add_ext(x, ext, -1) == 1);
	X509_EXTENSION_free(ext);
}

/* Template number `variant`: each bit of it picks one choice. */
static unsigned char *make_template(unsigned variant, size_t *len)
{
	X509 *x = X509_new();
	CU_ASSERT_FATAL(x != NULL);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	time_t now = time(NULL);
	long life = (variant & 1) ? 3600 : 24 * 3600;
	if (variant & 2) {
		/* GeneralizedTime (years from 2050) for notAfter. */
		ASN1_TIME *nb = ASN1_TIME_set(NULL, now - 60);
		ASN1_GENERALIZEDTIME *na = ASN1_GENERALIZEDTIME_new();
		ASN1_GENERALIZEDTIME_set_string(na, "20510102030405Z");
		X509_set1_notBefore(x, nb);
		X509_set1_notAfter(x, na);
		ASN1_TIME_free(nb);
		ASN1_GENERALIZEDTIME_free(na);
	} else {
		X509_gmtime_adj(X509_getm_notBefore(x), -60);
		X509_gmtime_adj(X509_getm_notAfter(x), life - 60);
	}
	X509_set_pubkey(x, leaf_keys[(variant >> 2) & 3]);
	X509_NAME *subj = X509_get_subject_name(x);
	switch ((variant >> 4) & 3) {
	case 0: break; /* empty subject */
	case 1: X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)"a.hypermesh.online", -1, -1, 0); break;
	case 2: X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8, (const unsigned char *)"A.HyperMesh.online", -1, -1, 0); break;
	case 3:
		X509_NAME_add_entry_by_txt(subj, "O", MBSTRING_UTF8, (const unsigned char *)"Caf\xc3\xa9", -1, -1, 0);
		X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)"b.hypermesh.online", -1, -1, 0);
		break;
	}
	X509_NAME_add_entry_by_txt(X509_get_issuer_name(x), "CN", MBSTRING_ASC, (const unsigned char *)"placeholder", -1, -1, 0);
	const char *sans[] = {"DNS:a.hypermesh.online", "DNS:a.hypermesh.online,DNS:b.hypermesh.online,IP:127.0.0.1",
			      "DNS:*.svc.hypermesh.online,IP:::1", "IP:10.1.2.3"};
	const char *san = sans[(variant >> 6) & 3];
	int order = (variant >> 8) & 3;
	if (order == 0)
		add_ext(x, NID_subject_alt_name, san);
	if (variant & (1u << 10))
		add_ext(x, NID_basic_constraints, "critical,CA:FALSE");
	if (order == 1)
		add_ext(x, NID_subject_alt_name, san);
	if (variant & (1u << 11))
		add_ext(x, NID_authority_key_identifier, "DER:30:06:80:04:de:ad:be:ef"); /* the caller's, replaced */
	if (variant & (1u << 12))
		add_ext(x, NID_key_usage, "critical,digitalSignature,keyEncipherment");
	if (variant & (1u << 13))
		add_ext(x, NID_subject_key_identifier, "DER:04:04:01:02:03:04"); /* the caller's, kept */
	if (order == 2)
		add_ext(x, NID_subject_alt_name, san);
	if (variant & (1u << 14))
		add_ext(x, NID_ext_key_usage, "serverAuth,clientAuth");
	if (order == 3)
		add_ext(x, NID_subject_alt_name, san);
	X509_ALGOR_set0((X509_ALGOR *)X509_get0_tbs_sigalg(x), OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF, NULL);
	unsigned char *der = NULL;
	int n = i2d_re_X509_tbs(x, &der);
	X509_free(x);
	CU_ASSERT_FATAL(n > 0);
	*len = (size_t)n;
	return der;
}

static void sct_list_of(size_t len, uint8_t *out)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(i * 7 + 3);
}

/* Signs template der both ways and compares. */
static void compare_one(const unsigned char *der, size_t len, struct issuer_fixture *f,
			const unsigned char serial[16], int precert, const uint8_t *sct, size_t sct_len)
{
	char err[256];
	struct tc_tbs_view v;
	CU_ASSERT_EQUAL_FATAL(tc_template_parse(der, len, &v, err, sizeof(err)), 0);
	struct tc_leaf leaf;
	unsigned char fp_new[32], fp_ref[32];
	CU_ASSERT_EQUAL_FATAL(tc_leaf_complete(&v, &f->issuer, serial, &leaf, fp_new, err, sizeof(err)), 0);
	unsigned char *cert_new = NULL;
	size_t cert_new_len = 0;
	CU_ASSERT_EQUAL_FATAL(tc_leaf_sign(&leaf, &f->issuer, precert, sct, sct_len, &cert_new, &cert_new_len, err,
					   sizeof(err)), 0);
	tc_leaf_free(&leaf);

	X509 *x = ref_template_parse(der, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL_FATAL(ref_leaf_complete(x, f->cert, f->key, serial, fp_ref), 0);
	unsigned char *cert_ref = NULL;
	size_t cert_ref_len = 0;
	CU_ASSERT_EQUAL_FATAL(ref_leaf_sign(x, f->key, precert, sct, sct_len, &cert_ref, &cert_ref_len), 0);
	X509_free(x);

	/* Same fingerprint, same TBS bytes, same algorithm; ECDSA signatures
	 * differ each time, so the rest is: ours verifies. */
	CU_ASSERT_EQUAL(memcmp(fp_new, fp_ref, 32), 0);
	struct tc_cert_view vn, vr;
	CU_ASSERT_EQUAL_FATAL(tc_cert_view_parse(cert_new, cert_new_len, &vn, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(tc_cert_view_parse(cert_ref, cert_ref_len, &vr, err, sizeof(err)), 0);
	int same_tbs = vn.tbs.whole.tlv_len == vr.tbs.whole.tlv_len &&
		       memcmp(vn.tbs.whole.tlv, vr.tbs.whole.tlv, vr.tbs.whole.tlv_len) == 0;
	CU_ASSERT(same_tbs);
	CU_ASSERT(vn.sig_alg.tlv_len == vr.sig_alg.tlv_len &&
		  memcmp(vn.sig_alg.tlv, vr.sig_alg.tlv, vr.sig_alg.tlv_len) == 0);
	const unsigned char *p = cert_new;
	X509 *parsed = d2i_X509(NULL, &p, (long)cert_new_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(parsed);
	CU_ASSERT_EQUAL(X509_verify(parsed, f->key), 1);
	/* OpenSSL writes the outer SEQUENCE, algorithm and signature BIT
	 * STRING of our certificate back as the same bytes (its TBS is the
	 * reference's, compared above). */
	unsigned char *again = NULL;
	int again_len = i2d_X509(parsed, &again);
	CU_ASSERT(again_len > 0 && (size_t)again_len == cert_new_len && memcmp(again, cert_new, cert_new_len) == 0);
	OPENSSL_free(again);
	X509_free(parsed);
	if (!same_tbs)
		fprintf(stderr, "\n  TBS differs: template %zu bytes, precert %d, SCT list %zu bytes\n", len, precert, sct_len);
	free(cert_new);
	OPENSSL_free(cert_ref);
	compared++;
}

static void test_same_certificates_as_openssl(void)
{
	static uint8_t sct[70000];
	sct_list_of(sizeof(sct), sct);
	static const size_t sct_lens[] = {0, 8, 115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128,
					  240, 250, 251, 252, 253, 254, 255, 256, 257, 300, 1000, 65000, 65535, 65536,
					  69000};
	unsigned seed = 42;
	for (unsigned variant = 0; variant < (1u << 15); variant += 1 + (unsigned)(rand_r(&seed) % 75)) {
		size_t len;
		unsigned char *der = make_template(variant, &len);
		unsigned char serial[16];
		for (int i = 0; i < 16; i++)
			serial[i] = (unsigned char)rand_r(&seed);
		switch (variant % 5) {
		case 0: serial[0] = (serial[0] & 0x7f) | 0x40; break; /* what the signer draws */
		case 1: serial[0] |= 0x80; break;                     /* a caller's: high bit */
		case 2: serial[0] = 0; serial[1] = 0; break;          /* leading zeros */
		case 3: memset(serial, 0, 15); break;                 /* nearly zero */
		default: break;
		}
		struct issuer_fixture *f = &issuers[variant & 1 ? 0 : (variant >> 3) & 1];
		compare_one(der, len, f, serial, 1, NULL, 0);
		size_t sl = sct_lens[rand_r(&seed) % (sizeof(sct_lens) / sizeof(sct_lens[0]))];
		compare_one(der, len, f, serial, 0, sct, sl);
		OPENSSL_free(der);
	}
	/* A serial of all zeros. */
	size_t len;
	unsigned char *der = make_template(0, &len), zero[16] = {0};
	compare_one(der, len, &issuers[0], zero, 1, NULL, 0);
	OPENSSL_free(der);
	CU_ASSERT(compared > 1000);
}

/* RFC 6962: the final certificate's TBS is the precertificate's with the
 * poison replaced by the SCT list, both from one completed leaf. */
static void test_final_is_the_precertificate_twin(void)
{
	size_t len;
	unsigned char *der = make_template(0x5555, &len);
	char err[256];
	struct tc_tbs_view v;
	CU_ASSERT_EQUAL_FATAL(tc_template_parse(der, len, &v, err, sizeof(err)), 0);
	struct tc_leaf leaf;
	unsigned char fp[32], serial[16] = {0x41, 2, 3};
	CU_ASSERT_EQUAL_FATAL(tc_leaf_complete(&v, &issuers[0].issuer, serial, &leaf, fp, err, sizeof(err)), 0);
	uint8_t sct[200];
	sct_list_of(sizeof(sct), sct);
	uint8_t *pre, *fin, *plain;
	size_t pre_len, fin_len, plain_len;
	CU_ASSERT_FATAL(tc_leaf_tbs(&leaf, 1, NULL, 0, &pre, &pre_len) == 0);
	CU_ASSERT_FATAL(tc_leaf_tbs(&leaf, 0, sct, sizeof(sct), &fin, &fin_len) == 0);
	CU_ASSERT_FATAL(tc_leaf_tbs(&leaf, 0, NULL, 0, &plain, &plain_len) == 0);
	struct tc_tbs_view vp, vf, vplain;
	CU_ASSERT_EQUAL_FATAL(tc_tbs_view_parse(pre, pre_len, &vp, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(tc_tbs_view_parse(fin, fin_len, &vf, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(tc_tbs_view_parse(plain, plain_len, &vplain, err, sizeof(err)), 0);
	struct tc_ext_view e;
	CU_ASSERT_EQUAL(tc_tbs_find_ext(&vp, TC_OID_CT_POISON, sizeof(TC_OID_CT_POISON), &e), 0);
	CU_ASSERT_TRUE(e.critical);
	CU_ASSERT_EQUAL(tc_tbs_find_ext(&vp, TC_OID_CT_SCT_LIST, sizeof(TC_OID_CT_SCT_LIST), &e), 1);
	CU_ASSERT_EQUAL(tc_tbs_find_ext(&vf, TC_OID_CT_POISON, sizeof(TC_OID_CT_POISON), &e), 1);
	CU_ASSERT_EQUAL(tc_tbs_find_ext(&vf, TC_OID_CT_SCT_LIST, sizeof(TC_OID_CT_SCT_LIST), &e), 0);
	CU_ASSERT_FALSE(e.critical);
	/* Up to the extensions, all three are the same bytes; the extension
	 * lists are the plain one plus the CT extension at the end. */
	CU_ASSERT_EQUAL(memcmp(vp.version.tlv, vplain.version.tlv, (size_t)(vplain.extensions_tagged.tlv - vplain.version.tlv)), 0);
	CU_ASSERT_EQUAL(memcmp(vf.version.tlv, vplain.version.tlv, (size_t)(vplain.extensions_tagged.tlv - vplain.version.tlv)), 0);
	CU_ASSERT_EQUAL(memcmp(vp.extensions.val, vplain.extensions.val, vplain.extensions.val_len), 0);
	CU_ASSERT_EQUAL(memcmp(vf.extensions.val, vplain.extensions.val, vplain.extensions.val_len), 0);
	unsigned char fp_plain[32];
	SHA256(plain, plain_len, fp_plain);
	CU_ASSERT_EQUAL(memcmp(fp, fp_plain, 32), 0);
	free(pre);
	free(fin);
	free(plain);
	tc_leaf_free(&leaf);
	OPENSSL_free(der);
}

/* An issuing certificate without a subjectKeyIdentifier cannot complete a
 * leaf (no AKI to give it), as before. */
static void test_issuer_without_ski(void)
{
	X509 *x = X509_dup(issuers[0].cert);
	int idx = X509_get_ext_by_NID(x, NID_subject_key_identifier, -1);
	X509_EXTENSION_free(X509_delete_ext(x, idx));
	X509_sign(x, issuers[0].key, EVP_sha256());
	struct tc_hsm_key k = {.priv = issuers[0].key, .pub = issuers[0].key, .cert = x};
	struct tc_issuer is;
	char err[256];
	CU_ASSERT_EQUAL_FATAL(tc_issuer_init(&is, &k, err, sizeof(err)), 0);
	size_t len;
	unsigned char *der = make_template(0, &len), fp[32], serial[16] = {0x41};
	struct tc_tbs_view v;
	struct tc_leaf leaf;
	CU_ASSERT_EQUAL_FATAL(tc_template_parse(der, len, &v, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(tc_leaf_complete(&v, &is, serial, &leaf, fp, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot complete the certificate"));
	tc_issuer_fini(&is);
	X509_free(x);
	OPENSSL_free(der);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"same certificates as OpenSSL's X509_sign", test_same_certificates_as_openssl},
		{"final is the precertificate's twin", test_final_is_the_precertificate_twin},
		{"issuer without SKI", test_issuer_without_ski},
		{NULL, NULL},
	};
	return tc_run_suite("certificate assembly", tests, suite_init, suite_cleanup);
}
