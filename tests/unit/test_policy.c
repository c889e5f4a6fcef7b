/* Issuance policy on leaf templates: real DER TBSCertificates built with
 * OpenSSL, parsed by tc_template_parse() exactly as the signer receives them,
 * then accepted or refused by tc_policy_check_leaf() with a named reason. */
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "signer/cert_sign.h"
#include "signer/policy.h"
#include "signer/tbs_template.h"
#include "unit/cunit_main.h"

static EVP_PKEY *k_p256, *k_p384, *k_rsa2048, *k_rsa1024, *k_k256, *k_ed25519;
static struct tc_policy prod, dev;
static time_t now;

static int suite_init(void)
{
	k_p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	k_p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	k_k256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1");
	k_rsa2048 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	k_rsa1024 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	k_ed25519 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct tc_config cfg;
	tc_config_defaults(&cfg, false);
	tc_policy_from_config(&cfg, &prod);
	tc_config_defaults(&cfg, true);
	tc_policy_from_config(&cfg, &dev);
	now = time(NULL);
	return k_p256 && k_p384 && k_k256 && k_rsa2048 && k_rsa1024 && k_ed25519 ? 0 : -1;
}

static int suite_cleanup(void)
{
	EVP_PKEY_free(k_p256);
	EVP_PKEY_free(k_p384);
	EVP_PKEY_free(k_k256);
	EVP_PKEY_free(k_rsa2048);
	EVP_PKEY_free(k_rsa1024);
	EVP_PKEY_free(k_ed25519);
	return 0;
}

/* What a caller puts in a template; good_spec() is a valid P-256 server leaf. */
struct spec {
	EVP_PKEY *key;
	int version;           /* X509_VERSION_1 or _3 */
	long not_before;       /* offset from now, seconds */
	long lifetime;         /* notAfter - notBefore, seconds */
	const char *cn;        /* NULL: no CN */
	size_t cn_len;         /* bytes of cn when it holds a NUL, else 0 */
	const char *org;       /* NULL: no O= */
	const char *san;       /* openssl config syntax; NULL: no extension */
	const char *bc;
	const char *ku;
	const char *eku;
	int extra_nid;         /* another extension, 0 for none */
	const char *extra_value;
	int extra2_nid;        /* and one more */
	const char *extra2_value;
	const char *extra_oid; /* an extension by dotted OID, value NULL */
	int duplicate_san;
};

static struct spec good_spec(void)
{
	return (struct spec){
	    .key = k_p256,
	    .version = X509_VERSION_3,
	    .not_before = -60,
	    .lifetime = 24 * 3600,
	    .cn = "www.hypermesh.online",
	    .san = "DNS:www.hypermesh.online,DNS:api.svc.hypermesh.online",
	    .bc = "critical,CA:FALSE",
	    .ku = "critical,digitalSignature",
	    .eku = "serverAuth,clientAuth",
	};
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	int ok = ext && X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* The template of spec as an OpenSSL object. */
static X509 *build_x509(const struct spec *s)
{
	X509 *x = X509_new();
	int ok = x && X509_set_version(x, s->version);
	ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), s->not_before);
	ok = ok && X509_gmtime_adj(X509_getm_notAfter(x), s->not_before + s->lifetime);
	X509_NAME *subj = X509_get_subject_name(x);
	if (ok && s->cn)
		ok = X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC, (const unsigned char *)s->cn,
						s->cn_len ? (int)s->cn_len : -1, -1, 0);
	if (ok && s->org)
		ok = X509_NAME_add_entry_by_txt(subj, "O", MBSTRING_ASC, (const unsigned char *)s->org, -1, -1, 0);
	/* The issuer is the signer's business; a placeholder is what callers send. */
	ok = ok && X509_NAME_add_entry_by_txt(X509_get_issuer_name(x), "CN", MBSTRING_ASC,
					      (const unsigned char *)"placeholder", -1, -1, 0);
	ok = ok && X509_set_pubkey(x, s->key);
	if (ok && s->san)
		ok = add_ext(x, NID_subject_alt_name, s->san) == 0;
	if (ok && s->san && s->duplicate_san)
		ok = add_ext(x, NID_subject_alt_name, s->san) == 0;
	if (ok && s->bc)
		ok = add_ext(x, NID_basic_constraints, s->bc) == 0;
	if (ok && s->ku)
		ok = add_ext(x, NID_key_usage, s->ku) == 0;
	if (ok && s->eku)
		ok = add_ext(x, NID_ext_key_usage, s->eku) == 0;
	if (ok && s->extra_nid)
		ok = add_ext(x, s->extra_nid, s->extra_value) == 0;
	if (ok && s->extra2_nid)
		ok = add_ext(x, s->extra2_nid, s->extra2_value) == 0;
	if (ok && s->extra_oid) {
		ASN1_OBJECT *obj = OBJ_txt2obj(s->extra_oid, 1);
		ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
		X509_EXTENSION *ext = NULL;
		ok = obj && value && ASN1_OCTET_STRING_set(value, (const unsigned char *)"\x05\x00", 2) &&
		     (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, value)) && X509_add_ext(x, ext, -1) == 1;
		X509_EXTENSION_free(ext);
		ASN1_OCTET_STRING_free(value);
		ASN1_OBJECT_free(obj);
	}
	if (ok)
		ok = X509_ALGOR_set0((X509_ALGOR *)X509_get0_tbs_sigalg(x),
				     OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF, NULL);
	CU_ASSERT_FATAL(ok);
	return x;
}

/* The DER TBSCertificate of spec, as a gateway would send it. */
static unsigned char *build_tbs(const struct spec *s, int *len)
{
	X509 *x = build_x509(s);
	unsigned char *der = NULL;
	*len = i2d_re_X509_tbs(x, &der);
	X509_free(x);
	CU_ASSERT_FATAL(*len > 0);
	return der;
}

/* Parses and checks spec under p; returns the policy verdict, why holds the reason. */
static int check(const struct spec *s, const struct tc_policy *p, char *why, size_t whylen)
{
	int len;
	unsigned char *der = build_tbs(s, &len);
	char err[256] = "";
	struct tc_tbs_view tmpl;
	int prc = tc_template_parse(der, (size_t)len, &tmpl, err, sizeof(err));
	if (prc != 0)
		fprintf(stderr, "\n  template parse failed: %s\n", err);
	CU_ASSERT_EQUAL_FATAL(prc, 0);
	CU_ASSERT_EQUAL(tmpl.whole.tlv_len, (size_t)len);
	why[0] = '\0';
	int rc = tc_policy_check_leaf(p, &tmpl, now, why, whylen);
	OPENSSL_free(der);
	return rc;
}

static void expect_ok(const struct spec *s, const struct tc_policy *p)
{
	char why[256];
	int rc = check(s, p, why, sizeof(why));
	if (rc != 0)
		fprintf(stderr, "\n  refused: %s\n", why);
	CU_ASSERT_EQUAL(rc, 0);
}

static void expect_refused(const struct spec *s, const struct tc_policy *p, const char *reason)
{
	char why[256];
	CU_ASSERT_EQUAL(check(s, p, why, sizeof(why)), -1);
	if (!strstr(why, reason)) {
		fprintf(stderr, "\n  want: %s\n  got:  %s\n", reason, why);
		CU_FAIL("wrong refusal reason");
	}
}

static void test_good_templates(void)
{
	struct spec s = good_spec();
	expect_ok(&s, &prod);
	expect_ok(&s, &dev);
	s.key = k_p384;
	expect_ok(&s, &prod);
	s.key = k_rsa2048;
	expect_ok(&s, &prod);
	/* No subject at all, minimal extensions. */
	s = good_spec();
	s.cn = NULL;
	s.bc = s.ku = s.eku = NULL;
	s.san = "DNS:hypermesh.online";
	expect_ok(&s, &prod);
	/* CN matches a SAN case-insensitively. */
	s = good_spec();
	s.cn = "WWW.HyperMesh.Online";
	expect_ok(&s, &prod);
	/* Validity exactly at the maximum, notBefore at the edges of the window. */
	s = good_spec();
	s.not_before = -3500;
	expect_ok(&s, &prod);
	s.not_before = 250;
	expect_ok(&s, &prod);
}

static void test_validity(void)
{
	struct spec s = good_spec();
	s.lifetime = 25 * 3600;
	expect_refused(&s, &prod, "validity: 25 h exceeds the policy maximum of 24 h");
	s.lifetime = 24 * 3600 + 1;
	expect_refused(&s, &prod, "exceeds the policy maximum of 24 h");
	s = good_spec();
	s.not_before = -7200;
	expect_refused(&s, &prod, "validity: notBefore more than 3600 s in the past");
	s.not_before = 600;
	expect_refused(&s, &prod, "validity: notBefore more than 300 s in the future");
	s = good_spec();
	s.lifetime = -3600;
	expect_refused(&s, &prod, "validity: notAfter is not after notBefore");
	s.lifetime = 0;
	expect_refused(&s, &prod, "validity: notAfter is not after notBefore");
	/* A policy with a longer maximum accepts the same 25 h. */
	struct tc_policy longer = prod;
	longer.max_validity_hours = 48;
	s = good_spec();
	s.lifetime = 25 * 3600;
	expect_ok(&s, &longer);
}

static void test_names(void)
{
	struct spec s = good_spec();
	s.cn = NULL;
	s.san = "DNS:www.example.com";
	expect_refused(&s, &prod, "name www.example.com: outside the permitted suffixes");
	s.san = "DNS:evilhypermesh.online";
	expect_refused(&s, &prod, "name evilhypermesh.online: outside the permitted suffixes");
	s.san = "DNS:hypermesh.online.evil.com";
	expect_refused(&s, &prod, "outside the permitted suffixes");
	s.san = "DNS:ok.hypermesh.online,DNS:localhost";
	expect_refused(&s, &prod, "name localhost: outside the permitted suffixes");
	expect_ok(&s, &dev); /* dev permits localhost */
	s.san = "DNS:bad..hypermesh.online";
	expect_refused(&s, &prod, "not a valid DNS name");
	s.san = "DNS:a*.hypermesh.online";
	expect_refused(&s, &prod, "name a*.hypermesh.online: not a valid DNS name");
	s.san = "email:ops@hypermesh.online";
	expect_refused(&s, &prod, "subjectAltName: only DNS names and IP addresses are allowed");
	s.san = "URI:https://hypermesh.online/";
	expect_refused(&s, &prod, "only DNS names and IP addresses are allowed");
}

static void test_wildcards(void)
{
	struct spec s = good_spec();
	s.cn = NULL;
	s.san = "DNS:*.svc.hypermesh.online";
	expect_refused(&s, &prod, "name *.svc.hypermesh.online: wildcards are not permitted");
	struct tc_policy wild = prod;
	wild.allow_wildcards = true;
	expect_ok(&s, &wild);
	s.cn = "*.svc.hypermesh.online";
	expect_ok(&s, &wild);
	s.cn = NULL;
	s.san = "DNS:*.online";
	expect_refused(&s, &wild, "name *.online: wildcard too broad");
	s.san = "DNS:*.*.hypermesh.online";
	expect_refused(&s, &wild, "not a valid DNS name");
	s.san = "DNS:*.example.com";
	expect_refused(&s, &wild, "outside the permitted suffixes");
}

static void test_subject(void)
{
	struct spec s = good_spec();
	s.cn = "other.hypermesh.online";
	expect_refused(&s, &prod, "subject: commonName is not one of the subjectAltNames");
	s.cn = "www.hypermesh.onlin";
	expect_refused(&s, &prod, "commonName is not one of the subjectAltNames");
	s = good_spec();
	s.org = "Evil Corp";
	expect_refused(&s, &prod, "subject: only a single commonName is allowed");
	s.cn = NULL;
	expect_refused(&s, &prod, "only a single commonName is allowed");
}

static void test_missing_san(void)
{
	struct spec s = good_spec();
	s.san = NULL;
	expect_refused(&s, &prod, "subjectAltName: missing or undecodable");
}

static void test_ip_sans(void)
{
	struct spec s = good_spec();
	s.cn = NULL;
	s.san = "DNS:www.hypermesh.online,IP:127.0.0.1";
	expect_refused(&s, &prod, "subjectAltName: IP addresses are not permitted");
	expect_ok(&s, &dev);
	s.cn = "127.0.0.1";
	expect_ok(&s, &dev);
	s.cn = "127.0.0.2";
	expect_refused(&s, &dev, "commonName is not one of the subjectAltNames");
	s.cn = NULL;
	s.san = "IP:::1";
	expect_refused(&s, &prod, "IP addresses are not permitted");
	expect_ok(&s, &dev);
}

/* The intermediate's nameConstraints, enforced by the signer too: a name
 * they exclude is refused before the HSM signs anything. */
static void test_name_constraints(void)
{
	struct tc_config *cfg = calloc(1, sizeof(*cfg));
	CU_ASSERT_FATAL(cfg != NULL);
	tc_config_defaults(cfg, true);
	cfg->ca.permitted_ip_ranges.count = 2;
	snprintf(cfg->ca.permitted_ip_ranges.items[0], TC_CFG_STR, "127.0.0.0/8");
	snprintf(cfg->ca.permitted_ip_ranges.items[1], TC_CFG_STR, "2001:db8::/32");
	cfg->ca.excluded_ip_ranges.count = 1;
	snprintf(cfg->ca.excluded_ip_ranges.items[0], TC_CFG_STR, "127.0.0.128/25");
	cfg->ca.excluded_suffixes.count = 1;
	snprintf(cfg->ca.excluded_suffixes.items[0], TC_CFG_STR, "secret.hypermesh.online");
	struct tc_policy *nc = calloc(1, sizeof(*nc));
	CU_ASSERT_FATAL(nc != NULL);
	tc_policy_from_config(cfg, nc);
	CU_ASSERT_EQUAL(nc->n_ip_permitted, 2);
	CU_ASSERT_EQUAL(nc->n_ip_excluded, 1);

	struct spec s = good_spec();
	s.cn = NULL;
	s.san = "DNS:www.hypermesh.online,IP:127.0.0.1";
	expect_ok(&s, nc);
	s.san = "IP:2001:db8::7";
	expect_ok(&s, nc);
	s.san = "DNS:www.hypermesh.online,IP:10.0.0.1";
	expect_refused(&s, nc, "subjectAltName: IP address 10.0.0.1 is outside ca.permitted_ip_ranges");
	s.san = "IP:::1"; /* no IPv6 range holds it: refused, as path validation would */
	expect_refused(&s, nc, "IP address ::1 is outside ca.permitted_ip_ranges");
	s.san = "IP:127.0.0.200";
	expect_refused(&s, nc, "subjectAltName: IP address 127.0.0.200 is in ca.excluded_ip_ranges");
	s.san = "IP:127.0.0.127";
	expect_ok(&s, nc);
	s.san = "DNS:db.secret.hypermesh.online";
	expect_refused(&s, nc, "name db.secret.hypermesh.online: under the excluded suffix secret.hypermesh.online");
	s.san = "DNS:secret.hypermesh.online";
	expect_refused(&s, nc, "under the excluded suffix");
	s.san = "DNS:notsecret.hypermesh.online";
	expect_ok(&s, nc);
	nc->allow_wildcards = true;
	s.san = "DNS:*.secret.hypermesh.online";
	expect_refused(&s, nc, "under the excluded suffix");
	free(nc);
	free(cfg);
}

/* "DER:..." (openssl config syntax) of a subjectAltName holding one
 * GeneralName with this context tag and value (len < 100): the bytes a
 * caller of the signer can put there, whatever a gateway would. */
static const char *raw_san(unsigned tag, const void *value, size_t len)
{
	static char out[400];
	int n = snprintf(out, sizeof(out), "DER:30:%02zx:%02x:%02zx", len + 2, 0x80 | tag, len);
	for (size_t i = 0; i < len && n > 0 && (size_t)n < sizeof(out); i++)
		n += snprintf(out + n, sizeof(out) - (size_t)n, ":%02x", ((const unsigned char *)value)[i]);
	return out;
}

static void expect_name_invalid(const struct spec *s, const struct tc_policy *p, const char *needle)
{
	int len;
	unsigned char *der = build_tbs(s, &len);
	struct tc_tbs_view tmpl;
	char why[256] = "";
	CU_ASSERT_EQUAL_FATAL(tc_template_parse(der, (size_t)len, &tmpl, why, sizeof(why)), 0);
	const char *reason = "";
	CU_ASSERT_EQUAL(tc_policy_check_leaf_reason(p, &tmpl, now, &reason, why, sizeof(why)), -1);
	CU_ASSERT_STRING_EQUAL(reason, TC_REASON_NAME_INVALID);
	if (!strstr(why, needle)) {
		fprintf(stderr, "\n  want: %s\n  got:  %s\n", needle, why);
		CU_FAIL("wrong refusal reason");
	}
	OPENSSL_free(der);
}

/* Names are length-delimited: a NUL or another control byte in a dNSName
 * or the CN, or an iPAddress of neither 4 nor 16 bytes, is a malformed name,
 * refused by what it is, never read as the text before the NUL. */
static void test_malformed_names(void)
{
	static const char nul[] = "www.hypermesh.online\0.evil.com";
	struct spec s = good_spec();
	s.cn = NULL;
	s.san = raw_san(2, nul, sizeof(nul) - 1);
	expect_name_invalid(&s, &dev, "malformed dNSName");
	static const char newline[] = "www.hypermesh.online\n", del[] = "www\x7f.hypermesh.online";
	s.san = raw_san(2, newline, sizeof(newline) - 1);
	expect_name_invalid(&s, &dev, "malformed dNSName");
	s.san = raw_san(2, del, sizeof(del) - 1);
	expect_name_invalid(&s, &dev, "malformed dNSName");
	/* 127.0.0.1 and a fifth byte; an address and mask (name constraints'
	 * form); 3 bytes. Refused even where IP SANs are allowed (dev). */
	s.san = raw_san(7, "\x7f\0\0\x01\x05", 5);
	expect_name_invalid(&s, &dev, "malformed iPAddress (5 bytes");
	s.san = raw_san(7, "\x7f\0\0\x01\xff\xff\xff\xff", 8);
	expect_name_invalid(&s, &dev, "malformed iPAddress (8 bytes");
	s.san = raw_san(7, "\x7f\0\0", 3);
	expect_name_invalid(&s, &prod, "malformed iPAddress (3 bytes");
	/* A CN repeating a SAN up to a NUL or a control byte. */
	s = good_spec();
	s.cn = nul;
	s.cn_len = sizeof(nul) - 1;
	expect_name_invalid(&s, &prod, "commonName holds a NUL or another control byte");
	s.cn = "www.hypermesh.online\r";
	s.cn_len = 0;
	expect_name_invalid(&s, &prod, "commonName holds a NUL or another control byte");
}

static void test_ca_extensions(void)
{
	struct spec s = good_spec();
	s.bc = "critical,CA:TRUE";
	expect_refused(&s, &prod, "basicConstraints: CA:TRUE is never issued on this path");
	s.bc = "critical,CA:TRUE,pathlen:0";
	expect_refused(&s, &prod, "CA:TRUE is never issued");
	s.bc = "critical,CA:FALSE,pathlen:0";
	expect_refused(&s, &prod, "basicConstraints: pathLenConstraint on a leaf");
	s = good_spec();
	s.ku = "critical,digitalSignature,keyCertSign";
	expect_refused(&s, &prod, "keyUsage: keyCertSign/cRLSign are not allowed on a leaf");
	s.ku = "critical,cRLSign";
	expect_refused(&s, &prod, "keyCertSign/cRLSign are not allowed on a leaf");
	s.ku = "critical,digitalSignature,keyEncipherment";
	expect_ok(&s, &prod);
}

static void test_ext_key_usage(void)
{
	struct spec s = good_spec();
	s.eku = "serverAuth,codeSigning";
	expect_refused(&s, &prod, "extKeyUsage: only serverAuth and clientAuth may be issued");
	s.eku = "1.3.6.1.4.1.99999.1";
	expect_refused(&s, &prod, "only serverAuth and clientAuth may be issued");
	s.eku = "anyExtendedKeyUsage";
	expect_refused(&s, &prod, "only serverAuth and clientAuth may be issued");
	s.eku = "clientAuth";
	expect_ok(&s, &prod);
}

static void test_other_extensions(void)
{
	struct spec s = good_spec();
	s.extra_nid = NID_netscape_comment;
	s.extra_value = "hello";
	expect_refused(&s, &prod, "extension 2.16.840.1.113730.1.13 is not allowed in a leaf template");
	/* Only the signer adds the CT poison or SCT list. */
	s.extra_nid = NID_ct_precert_poison;
	s.extra_value = "critical,DER:05:00";
	expect_refused(&s, &prod, "extension 1.3.6.1.4.1.11129.2.4.3 is not allowed");
	s.extra_nid = NID_ct_precert_scts;
	s.extra_value = "DER:04:02:00:00";
	expect_refused(&s, &prod, "extension 1.3.6.1.4.1.11129.2.4.2 is not allowed");
	s.extra_nid = NID_name_constraints;
	s.extra_value = "critical,permitted;DNS:hypermesh.online";
	expect_refused(&s, &prod, "is not allowed in a leaf template");
	s = good_spec();
	s.duplicate_san = 1;
	expect_refused(&s, &prod, "duplicate extension");
}

static void test_keys(void)
{
	struct spec s = good_spec();
	s.key = k_rsa1024;
	expect_refused(&s, &prod, "public key: RSA-1024 is not allowed (2048..8192 bits)");
	s.key = k_k256;
	expect_refused(&s, &prod, "public key: curve secp256k1 is not allowed (P-256, P-384)");
	s.key = k_ed25519;
	expect_refused(&s, &prod, "public key: type ED25519 is not allowed");
	/* A stricter RSA minimum from the config applies. */
	struct tc_policy strict = prod;
	strict.min_rsa_bits = 3072;
	s.key = k_rsa2048;
	expect_refused(&s, &strict, "public key: RSA-2048 is not allowed (3072..8192 bits)");
}

static void test_version(void)
{
	struct spec s = good_spec();
	s.version = X509_VERSION_1;
	s.san = s.bc = s.ku = s.eku = NULL;
	expect_refused(&s, &prod, "template is not an X.509 v3 certificate");
}

static void expect_parse_error(const unsigned char *der, size_t len, const char *want)
{
	char err[256] = "";
	struct tc_tbs_view v;
	CU_ASSERT_EQUAL(tc_template_parse(der, len, &v, err, sizeof(err)), -1);
	if (!strstr(err, want)) {
		fprintf(stderr, "\n  want: %s\n  got:  %s\n", want, err);
		CU_FAIL("wrong parse error");
	}
}

static void test_template_parse_rejects(void)
{
	struct spec s = good_spec();
	int len;
	unsigned char *der = build_tbs(&s, &len);
	size_t n = (size_t)len;
	unsigned char *buf = malloc(n + 4);
	CU_ASSERT_FATAL(buf != NULL);

	/* Trailing garbage after the TBSCertificate. */
	memcpy(buf, der, n);
	buf[n] = 0x05;
	buf[n + 1] = 0x00;
	expect_parse_error(buf, n + 2, "template is not a valid TBSCertificate");
	buf[n] = 0x00;
	expect_parse_error(buf, n + 1, "template is not a valid TBSCertificate");

	/* Not a SEQUENCE. */
	memcpy(buf, der, n);
	buf[0] = 0x31;
	expect_parse_error(buf, n, "template is not a DER SEQUENCE of sane size");
	buf[0] = 0x04;
	expect_parse_error(buf, n, "not a DER SEQUENCE");
	expect_parse_error(der, 1, "not a DER SEQUENCE");
	expect_parse_error(der, 0, "not a DER SEQUENCE");

	/* Every truncation, each in an exact-size buffer so ASan sees overreads. */
	for (size_t cut = 2; cut < n; cut++) {
		unsigned char *t = malloc(cut);
		CU_ASSERT_FATAL(t != NULL);
		memcpy(t, der, cut);
		char err[256];
		struct tc_tbs_view v;
		CU_ASSERT_EQUAL(tc_template_parse(t, cut, &v, err, sizeof(err)), -1);
		free(t);
	}

	/* A length that lies about the content. */
	memcpy(buf, der, n);
	buf[1] ^= 0x01;
	char err[256];
	struct tc_tbs_view v;
	CU_ASSERT_EQUAL(tc_template_parse(buf, n, &v, err, sizeof(err)), -1);

	/* 100 KB is over the size limit, whatever it holds. */
	size_t big = 100 * 1024;
	unsigned char *huge = calloc(1, big);
	CU_ASSERT_FATAL(huge != NULL);
	huge[0] = 0x30;
	huge[1] = 0x83;
	huge[2] = (unsigned char)((big - 5) >> 16);
	huge[3] = (unsigned char)((big - 5) >> 8);
	huge[4] = (unsigned char)(big - 5);
	expect_parse_error(huge, big, "template is not a DER SEQUENCE of sane size");
	free(huge);

	/* A whole signed certificate is not a template. */
	X509 *tmpl = build_x509(&s);
	CU_ASSERT_TRUE(X509_sign(tmpl, k_p256, EVP_sha256()) > 0);
	unsigned char *cder = NULL;
	int clen = i2d_X509(tmpl, &cder);
	CU_ASSERT_FATAL(clen > 0);
	expect_parse_error(cder, (size_t)clen, "template is not a valid TBSCertificate");
	OPENSSL_free(cder);
	X509_free(tmpl);

	free(buf);
	OPENSSL_free(der);
}

/* Extension values OpenSSL's lenient decoding let through (it skipped the
 * keyUsage check when another extension was undecodable, and ignored what
 * followed a value): the signer reads each value as strict DER. */
static void test_malformed_extension_values(void)
{
	struct spec s = good_spec();
	s.extra_nid = NID_subject_key_identifier;
	s.extra_value = "DER:01:02";
	expect_refused(&s, &prod, "subjectKeyIdentifier: undecodable");
	s.ku = "critical,keyCertSign";
	expect_refused(&s, &prod, "keyUsage: keyCertSign/cRLSign are not allowed on a leaf");
	s = good_spec();
	s.ku = NULL;
	s.extra_nid = NID_key_usage;
	s.extra_value = "critical,DER:05:00";
	expect_refused(&s, &prod, "keyUsage: undecodable");
	s.extra_value = "critical,DER:03:02:08:80";
	expect_refused(&s, &prod, "keyUsage: undecodable");
	s.extra_value = "critical,DER:03:02:07:81"; /* a padding bit set */
	expect_refused(&s, &prod, "keyUsage: undecodable");
	s.extra_value = "critical,DER:03:02:07:80"; /* digitalSignature alone */
	expect_ok(&s, &prod);
	s = good_spec();
	s.bc = NULL;
	s.extra_nid = NID_basic_constraints;
	s.extra_value = "critical,DER:30:03:01:01:00"; /* explicit cA FALSE: not DER */
	expect_refused(&s, &prod, "basicConstraints: undecodable");
	s.extra_value = "critical,DER:30:03:01:01:01"; /* a non-DER TRUE is still TRUE */
	expect_refused(&s, &prod, "CA:TRUE");
	s.extra_value = "critical,DER:30:00:05:00"; /* something after the value */
	expect_refused(&s, &prod, "basicConstraints: undecodable");
	s = good_spec();
	s.eku = NULL;
	s.extra_nid = NID_ext_key_usage;
	s.extra_value = "DER:30:0a:06:08:2b:06:01:05:05:07:03:01:00";
	expect_refused(&s, &prod, "extKeyUsage: undecodable");
	s.extra_value = "DER:30:00";
	expect_refused(&s, &prod, "extKeyUsage: only serverAuth and clientAuth may be issued");
	/* A SKI and an AKI of the caller's own: the SKI is kept, the AKI replaced. */
	s = good_spec();
	s.extra_nid = NID_subject_key_identifier;
	s.extra_value = "DER:04:03:01:02:03";
	s.extra2_nid = NID_authority_key_identifier;
	s.extra2_value = "DER:30:03:80:01:07";
	expect_ok(&s, &prod);
	/* An unknown extension is named by its dotted OID, however long its arcs. */
	s = good_spec();
	s.extra_oid = "1.3.6.1.4.1.99999.18446744073709551617.5";
	expect_refused(&s, &prod, "extension 1.3.6.1.4.1.99999.18446744073709551617.5 is not allowed");
	s.extra_oid = "2.999.1";
	expect_refused(&s, &prod, "extension 2.999.1 is not allowed");
	s.extra_oid = "0.39.1";
	expect_refused(&s, &prod, "extension 0.39.1 is not allowed");
}

static void test_name_under_suffix(void)
{
	CU_ASSERT_TRUE(tc_name_under_suffix("hypermesh.online", "hypermesh.online"));
	CU_ASSERT_TRUE(tc_name_under_suffix("www.hypermesh.online", "hypermesh.online"));
	CU_ASSERT_TRUE(tc_name_under_suffix("a.b.HyperMesh.ONLINE", "hypermesh.online"));
	CU_ASSERT_TRUE(tc_name_under_suffix("www.hypermesh.online", "HYPERMESH.online"));
	CU_ASSERT_FALSE(tc_name_under_suffix("evilhypermesh.online", "hypermesh.online"));
	CU_ASSERT_FALSE(tc_name_under_suffix("online", "hypermesh.online"));
	CU_ASSERT_FALSE(tc_name_under_suffix("hypermesh.online.evil.com", "hypermesh.online"));
	CU_ASSERT_FALSE(tc_name_under_suffix("hypermesh.onlinex", "hypermesh.online"));
	CU_ASSERT_FALSE(tc_name_under_suffix("xhypermesh.online", "hypermesh.online"));
	CU_ASSERT_FALSE(tc_name_under_suffix("", "hypermesh.online"));
	CU_ASSERT_TRUE(tc_name_under_suffix(".hypermesh.online", "hypermesh.online"));
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"good templates", test_good_templates},
		{"validity", test_validity},
		{"names and suffixes", test_names},
		{"wildcards", test_wildcards},
		{"subject", test_subject},
		{"missing SAN", test_missing_san},
		{"IP SANs", test_ip_sans},
		{"name constraints of the intermediate", test_name_constraints},
		{"malformed names: NUL, control bytes, address lengths", test_malformed_names},
		{"CA extensions", test_ca_extensions},
		{"extKeyUsage", test_ext_key_usage},
		{"other extensions", test_other_extensions},
		{"key types", test_keys},
		{"version", test_version},
		{"template parse rejects", test_template_parse_rejects},
		{"malformed extension values", test_malformed_extension_values},
		{"name under suffix", test_name_under_suffix},
		{NULL, NULL},
	};
	return tc_run_suite("policy", tests, suite_init, suite_cleanup);
}
