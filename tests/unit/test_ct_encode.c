/* RFC 6962 TLS encodings: exact bytes, round trips, and rejection of every
 * malformed input (truncated, oversized lengths, trailing bytes, unknown
 * types); the X.509 precert TBS helper on real OpenSSL certificates. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/hex.h"
#include "transparency/ct_encode.h"
#include "transparency/ct_precert.h"
#include "unit/cunit_main.h"

static const unsigned char kCert[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
static const unsigned char kExt[] = { 0xde, 0xad };
static const unsigned char kSig[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02 };

/* Compares out[0..len) with a hex string. */
static int bytes_are(const unsigned char *out, size_t len, const char *hex)
{
	size_t want_len = strlen(hex) / 2;
	unsigned char *want = malloc(want_len + 1);
	int ok = want && len == want_len && tc_hex_decode(hex, want, want_len) == 0 && memcmp(out, want, len) == 0;
	free(want);
	return ok;
}

static struct tc_ct_entry x509_entry(void)
{
	struct tc_ct_entry e;
	memset(&e, 0, sizeof(e));
	e.type = TC_CT_X509_ENTRY;
	e.timestamp = 0x0102030405060708ull;
	e.cert = kCert;
	e.cert_len = sizeof(kCert);
	return e;
}

static struct tc_ct_entry precert_entry(void)
{
	struct tc_ct_entry e = x509_entry();
	e.type = TC_CT_PRECERT_ENTRY;
	memset(e.issuer_key_hash, 0xaa, sizeof(e.issuer_key_hash));
	e.extensions = kExt;
	e.extensions_len = sizeof(kExt);
	return e;
}

static struct tc_ct_sct sample_sct(unsigned char id_byte)
{
	struct tc_ct_sct s;
	memset(&s, 0, sizeof(s));
	memset(s.log_id, id_byte, sizeof(s.log_id));
	s.timestamp = 0x0000018000000001ull;
	s.sig_alg = TC_CT_SIG_ECDSA;
	s.signature = kSig;
	s.signature_len = sizeof(kSig);
	return s;
}

#define AA32 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define X509_LEAF_HEX "0000" "0102030405060708" "0000" "000005" "3003020105" "0000"
#define PRECERT_LEAF_HEX "0000" "0102030405060708" "0001" AA32 "000005" "3003020105" "0002dead"
#define SCT_HEX(id) "00" id "0000018000000001" "0000" "0403" "0008" "3006020101020102"
#define ID11 "1111111111111111111111111111111111111111111111111111111111111111"
#define ID22 "2222222222222222222222222222222222222222222222222222222222222222"

static void test_leaf_exact_bytes(void)
{
	unsigned char out[256];
	size_t len;
	struct tc_ct_entry e = x509_entry();
	CU_ASSERT_FATAL(tc_ct_encode_leaf(&e, out, sizeof(out), &len) == TC_CT_OK);
	CU_ASSERT(bytes_are(out, len, X509_LEAF_HEX));
	e = precert_entry();
	CU_ASSERT_FATAL(tc_ct_encode_leaf(&e, out, sizeof(out), &len) == TC_CT_OK);
	CU_ASSERT(bytes_are(out, len, PRECERT_LEAF_HEX));
}

static void test_signature_inputs_exact_bytes(void)
{
	unsigned char out[256];
	size_t len;
	struct tc_ct_entry e = x509_entry();
	/* version v1, signature_type certificate_timestamp(0), then as the leaf. */
	CU_ASSERT_FATAL(tc_ct_encode_sct_signature_input(&e, out, sizeof(out), &len) == TC_CT_OK);
	CU_ASSERT(bytes_are(out, len, "0000" "0102030405060708" "0000" "000005" "3003020105" "0000"));
	e = precert_entry();
	CU_ASSERT_FATAL(tc_ct_encode_sct_signature_input(&e, out, sizeof(out), &len) == TC_CT_OK);
	CU_ASSERT(bytes_are(out, len, "0000" "0102030405060708" "0001" AA32 "000005" "3003020105" "0002dead"));

	unsigned char root[32], sth[TC_CT_STH_SIGNATURE_INPUT_LEN];
	for (int i = 0; i < 32; i++)
		root[i] = (unsigned char)i;
	tc_ct_encode_sth_signature_input(0x0000017f00000002ull, 0x1234, root, sth);
	CU_ASSERT(bytes_are(sth, sizeof(sth),
			    "0001" "0000017f00000002" "0000000000001234"
			    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"));

	CU_ASSERT_FATAL(tc_ct_encode_digitally_signed(TC_CT_SIG_ECDSA, kSig, sizeof(kSig), out, sizeof(out),
						      &len) == TC_CT_OK);
	CU_ASSERT(bytes_are(out, len, "0403" "0008" "3006020101020102"));
	CU_ASSERT(tc_ct_encode_digitally_signed(2, kSig, sizeof(kSig), out, sizeof(out), &len) ==
		  TC_CT_ERR_ALGORITHM);
}

static void test_leaf_round_trip(void)
{
	struct tc_ct_entry kinds[2] = { x509_entry(), precert_entry() };
	for (int k = 0; k < 2; k++) {
		unsigned char out[256], again[256];
		size_t len, len2;
		CU_ASSERT_FATAL(tc_ct_encode_leaf(&kinds[k], out, sizeof(out), &len) == TC_CT_OK);
		struct tc_ct_entry p;
		CU_ASSERT_FATAL(tc_ct_parse_leaf(out, len, &p) == TC_CT_OK);
		CU_ASSERT(p.type == kinds[k].type);
		CU_ASSERT(p.timestamp == kinds[k].timestamp);
		CU_ASSERT(p.cert_len == kinds[k].cert_len && memcmp(p.cert, kCert, p.cert_len) == 0);
		CU_ASSERT(p.extensions_len == kinds[k].extensions_len);
		if (k == 1) {
			CU_ASSERT(memcmp(p.issuer_key_hash, kinds[k].issuer_key_hash, 32) == 0);
			CU_ASSERT(memcmp(p.extensions, kExt, sizeof(kExt)) == 0);
		}
		CU_ASSERT_FATAL(tc_ct_encode_leaf(&p, again, sizeof(again), &len2) == TC_CT_OK);
		CU_ASSERT(len2 == len && memcmp(out, again, len) == 0);
	}
}

static void test_leaf_rejects_malformed(void)
{
	unsigned char buf[256];
	size_t len;
	struct tc_ct_entry e = precert_entry(), p;
	CU_ASSERT_FATAL(tc_ct_encode_leaf(&e, buf, sizeof(buf), &len) == TC_CT_OK);
	/* Every truncation fails, at the field where the input ends. */
	for (size_t cut = 0; cut < len; cut++) {
		int rc = tc_ct_parse_leaf(buf, cut, &p);
		CU_ASSERT(rc == TC_CT_ERR_TRUNCATED);
	}
	/* A trailing byte. */
	buf[len] = 0;
	CU_ASSERT(tc_ct_parse_leaf(buf, len + 1, &p) == TC_CT_ERR_TRAILING);
	/* Wrong version, leaf type, entry type. */
	unsigned char bad[256];
	memcpy(bad, buf, len);
	bad[0] = 1;
	CU_ASSERT(tc_ct_parse_leaf(bad, len, &p) == TC_CT_ERR_VERSION);
	memcpy(bad, buf, len);
	bad[1] = 1;
	CU_ASSERT(tc_ct_parse_leaf(bad, len, &p) == TC_CT_ERR_LEAF_TYPE);
	memcpy(bad, buf, len);
	bad[11] = 2;
	CU_ASSERT(tc_ct_parse_leaf(bad, len, &p) == TC_CT_ERR_ENTRY_TYPE);
	memcpy(bad, buf, len);
	bad[10] = 1; /* entry type 0x0101 */
	CU_ASSERT(tc_ct_parse_leaf(bad, len, &p) == TC_CT_ERR_ENTRY_TYPE);
	/* Certificate length: larger than what follows, and zero. */
	size_t cert_len_at = 2 + 8 + 2 + 32;
	memcpy(bad, buf, len);
	bad[cert_len_at + 2] = 0x40;
	CU_ASSERT(tc_ct_parse_leaf(bad, len, &p) == TC_CT_ERR_TRUNCATED);
	memcpy(bad, buf, len);
	bad[cert_len_at] = 0xff;
	CU_ASSERT(tc_ct_parse_leaf(bad, len, &p) == TC_CT_ERR_TRUNCATED);
	unsigned char empty_cert[] = { 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0 };
	CU_ASSERT(tc_ct_parse_leaf(empty_cert, sizeof(empty_cert), &p) == TC_CT_ERR_LENGTH);
	/* Extensions length too large, or too small (leaves a trailing byte). */
	memcpy(bad, buf, len);
	bad[len - 3] = 3;
	CU_ASSERT(tc_ct_parse_leaf(bad, len, &p) == TC_CT_ERR_TRUNCATED);
	memcpy(bad, buf, len);
	bad[len - 3] = 1;
	CU_ASSERT(tc_ct_parse_leaf(bad, len, &p) == TC_CT_ERR_TRAILING);
	CU_ASSERT(tc_ct_parse_leaf(NULL, 0, &p) == TC_CT_ERR_TRUNCATED);
	CU_ASSERT(tc_ct_parse_leaf(NULL, 5, &p) == TC_CT_ERR_ARG);
}

static void test_encoder_bounds(void)
{
	unsigned char out[256];
	size_t len = 0;
	struct tc_ct_entry e = x509_entry();
	/* Sizing call, then too small a buffer: both report the size needed. */
	CU_ASSERT(tc_ct_encode_leaf(&e, NULL, 0, &len) == TC_CT_ERR_SPACE);
	CU_ASSERT(len == 22);
	len = 0;
	CU_ASSERT(tc_ct_encode_leaf(&e, out, 21, &len) == TC_CT_ERR_SPACE);
	CU_ASSERT(len == 22);
	CU_ASSERT(tc_ct_encode_leaf(&e, out, 22, &len) == TC_CT_OK);
	e.cert_len = 0;
	CU_ASSERT(tc_ct_encode_leaf(&e, out, sizeof(out), &len) == TC_CT_ERR_LENGTH);
	e.cert_len = TC_CT_MAX_CERT_LEN + 1; /* checked before anything is read */
	CU_ASSERT(tc_ct_encode_leaf(&e, out, sizeof(out), &len) == TC_CT_ERR_LENGTH);
	CU_ASSERT(tc_ct_encode_sct_signature_input(&e, out, sizeof(out), &len) == TC_CT_ERR_LENGTH);
	e = x509_entry();
	e.extensions = kExt;
	e.extensions_len = TC_CT_MAX_EXTENSIONS_LEN + 1;
	CU_ASSERT(tc_ct_encode_leaf(&e, out, sizeof(out), &len) == TC_CT_ERR_LENGTH);
	e = x509_entry();
	e.type = (enum tc_ct_entry_type)7;
	CU_ASSERT(tc_ct_encode_leaf(&e, out, sizeof(out), &len) == TC_CT_ERR_ENTRY_TYPE);
	e = x509_entry();
	e.cert = NULL;
	CU_ASSERT(tc_ct_encode_leaf(&e, out, sizeof(out), &len) == TC_CT_ERR_ARG);
	CU_ASSERT(tc_ct_encode_leaf(NULL, out, sizeof(out), &len) == TC_CT_ERR_ARG);
	/* A maximal certificate length encodes as ff ff ff. */
	unsigned char *big = calloc(1, TC_CT_MAX_CERT_LEN);
	CU_ASSERT_FATAL(big != NULL);
	e = x509_entry();
	e.cert = big;
	e.cert_len = TC_CT_MAX_CERT_LEN;
	CU_ASSERT(tc_ct_encode_leaf(&e, NULL, 0, &len) == TC_CT_ERR_SPACE);
	unsigned char *enc = malloc(len);
	CU_ASSERT_FATAL(enc != NULL);
	CU_ASSERT(tc_ct_encode_leaf(&e, enc, len, &len) == TC_CT_OK);
	CU_ASSERT(enc[12] == 0xff && enc[13] == 0xff && enc[14] == 0xff);
	struct tc_ct_entry p;
	CU_ASSERT(tc_ct_parse_leaf(enc, len, &p) == TC_CT_OK && p.cert_len == TC_CT_MAX_CERT_LEN);
	free(enc);
	free(big);
	for (int i = 0; i < 3; i++)
		CU_ASSERT(strlen(tc_ct_strerror(-i - 1)) > 0);
}

static void test_sct_exact_bytes_and_round_trip(void)
{
	unsigned char out[512];
	size_t len;
	struct tc_ct_sct s = sample_sct(0x11), p;
	CU_ASSERT_FATAL(tc_ct_encode_sct(&s, out, sizeof(out), &len) == TC_CT_OK);
	CU_ASSERT(bytes_are(out, len, SCT_HEX(ID11)));
	CU_ASSERT_FATAL(tc_ct_parse_sct(out, len, &p) == TC_CT_OK);
	CU_ASSERT(memcmp(p.log_id, s.log_id, 32) == 0 && p.timestamp == s.timestamp);
	CU_ASSERT(p.sig_alg == TC_CT_SIG_ECDSA && p.signature_len == sizeof(kSig));
	CU_ASSERT(memcmp(p.signature, kSig, sizeof(kSig)) == 0 && p.extensions_len == 0);

	struct tc_ct_sct list[2] = { sample_sct(0x11), sample_sct(0x22) };
	list[1].extensions = kExt;
	list[1].extensions_len = sizeof(kExt);
	CU_ASSERT_FATAL(tc_ct_encode_sct_list(list, 2, out, sizeof(out), &len) == TC_CT_OK);
	/* Each SCT is 1+32+8+2+2+2+8 = 55 bytes (57 with the extension). */
	CU_ASSERT(bytes_are(out, len,
			    "0074" "0037" SCT_HEX(ID11)
			    "0039" "00" ID22 "0000018000000001" "0002dead" "0403" "0008" "3006020101020102"));
	struct tc_ct_sct parsed[4];
	size_t count = 0;
	CU_ASSERT_FATAL(tc_ct_parse_sct_list(out, len, parsed, 4, &count) == TC_CT_OK);
	CU_ASSERT_FATAL(count == 2);
	CU_ASSERT(parsed[0].log_id[0] == 0x11 && parsed[1].log_id[0] == 0x22);
	CU_ASSERT(parsed[1].extensions_len == 2 && memcmp(parsed[1].extensions, kExt, 2) == 0);
	unsigned char again[512];
	size_t len2;
	CU_ASSERT(tc_ct_encode_sct_list(parsed, count, again, sizeof(again), &len2) == TC_CT_OK);
	CU_ASSERT(len2 == len && memcmp(again, out, len) == 0);
	/* Room for fewer SCTs than the list holds. */
	CU_ASSERT(tc_ct_parse_sct_list(out, len, parsed, 1, &count) == TC_CT_ERR_TOO_MANY);
	/* RSA signatures are valid RFC 6962 SCTs too. */
	s.sig_alg = TC_CT_SIG_RSA;
	CU_ASSERT(tc_ct_encode_sct(&s, out, sizeof(out), &len) == TC_CT_OK);
	CU_ASSERT(tc_ct_parse_sct(out, len, &p) == TC_CT_OK && p.sig_alg == TC_CT_SIG_RSA);
}

static void test_sct_rejects_malformed(void)
{
	unsigned char buf[512], bad[512];
	size_t len;
	struct tc_ct_sct s = sample_sct(0x11), p;
	CU_ASSERT_FATAL(tc_ct_encode_sct(&s, buf, sizeof(buf), &len) == TC_CT_OK);
	for (size_t cut = 0; cut < len; cut++)
		CU_ASSERT(tc_ct_parse_sct(buf, cut, &p) == TC_CT_ERR_TRUNCATED);
	buf[len] = 0x99;
	CU_ASSERT(tc_ct_parse_sct(buf, len + 1, &p) == TC_CT_ERR_TRAILING);
	memcpy(bad, buf, len);
	bad[0] = 1;
	CU_ASSERT(tc_ct_parse_sct(bad, len, &p) == TC_CT_ERR_VERSION);
	memcpy(bad, buf, len);
	bad[43] = 5; /* hash algorithm sha384 */
	CU_ASSERT(tc_ct_parse_sct(bad, len, &p) == TC_CT_ERR_ALGORITHM);
	memcpy(bad, buf, len);
	bad[44] = 2; /* dsa */
	CU_ASSERT(tc_ct_parse_sct(bad, len, &p) == TC_CT_ERR_ALGORITHM);
	memcpy(bad, buf, len);
	bad[46] = 9; /* signature length beyond the input */
	CU_ASSERT(tc_ct_parse_sct(bad, len, &p) == TC_CT_ERR_TRUNCATED);
	memcpy(bad, buf, len);
	bad[42] = 1; /* extensions length 1 swallows the algorithms */
	CU_ASSERT(tc_ct_parse_sct(bad, len, &p) != TC_CT_OK);

	/* Lists. */
	struct tc_ct_sct list[2] = { sample_sct(1), sample_sct(2) }, out[4];
	size_t count;
	CU_ASSERT_FATAL(tc_ct_encode_sct_list(list, 2, buf, sizeof(buf), &len) == TC_CT_OK);
	for (size_t cut = 0; cut < len; cut++)
		CU_ASSERT(tc_ct_parse_sct_list(buf, cut, out, 4, &count) != TC_CT_OK);
	buf[len] = 0;
	CU_ASSERT(tc_ct_parse_sct_list(buf, len + 1, out, 4, &count) == TC_CT_ERR_TRAILING);
	static const unsigned char empty_list[] = { 0x00, 0x00 };
	CU_ASSERT(tc_ct_parse_sct_list(empty_list, 2, out, 4, &count) == TC_CT_ERR_LENGTH);
	static const unsigned char empty_sct[] = { 0x00, 0x02, 0x00, 0x00 };
	CU_ASSERT(tc_ct_parse_sct_list(empty_sct, 4, out, 4, &count) == TC_CT_ERR_LENGTH);
	static const unsigned char short_inner[] = { 0x00, 0x01, 0x00 };
	CU_ASSERT(tc_ct_parse_sct_list(short_inner, 3, out, 4, &count) == TC_CT_ERR_TRUNCATED);
	/* An SCT with a byte of its own trailing inside its SerializedSCT. */
	memcpy(bad, buf, len);
	bad[1] = (unsigned char)(bad[1] + 1);
	bad[3] = (unsigned char)(bad[3] + 1);
	memmove(bad + 4 + 56, bad + 4 + 55, len - 4 - 55);
	bad[4 + 55] = 0xee;
	CU_ASSERT(tc_ct_parse_sct_list(bad, len + 1, out, 4, &count) == TC_CT_ERR_TRAILING);
	CU_ASSERT(tc_ct_parse_sct_list(NULL, 0, out, 4, &count) == TC_CT_ERR_TRUNCATED);

	/* Encoder bounds: empty list, a signature too long for 16 bits, a list
	 * whose total exceeds 2^16-1. */
	CU_ASSERT(tc_ct_encode_sct_list(list, 0, buf, sizeof(buf), &len) == TC_CT_ERR_LENGTH);
	unsigned char *sig = calloc(1, 0x10000);
	CU_ASSERT_FATAL(sig != NULL);
	struct tc_ct_sct huge = sample_sct(3);
	huge.signature = sig;
	huge.signature_len = 0x10000;
	CU_ASSERT(tc_ct_encode_sct(&huge, NULL, 0, &len) == TC_CT_ERR_LENGTH);
	huge.signature_len = 0x8000;
	struct tc_ct_sct two_big[2] = { huge, huge };
	CU_ASSERT(tc_ct_encode_sct_list(two_big, 2, NULL, 0, &len) == TC_CT_ERR_LENGTH);
	/* One SCT of 47 + sig bytes: the list (2 + SCT) just over / exactly at
	 * its 2^16-1 bound. */
	huge.signature_len = 0xffff - 2 - 47 + 1;
	CU_ASSERT(tc_ct_encode_sct_list(&huge, 1, NULL, 0, &len) == TC_CT_ERR_LENGTH);
	huge.signature_len = 0xffff - 2 - 47;
	CU_ASSERT(tc_ct_encode_sct_list(&huge, 1, NULL, 0, &len) == TC_CT_ERR_SPACE);
	CU_ASSERT(len == 2 + 0xffff);
	free(sig);
	s.sig_alg = 0;
	CU_ASSERT(tc_ct_encode_sct(&s, buf, sizeof(buf), &len) == TC_CT_ERR_ALGORITHM);
}

/* ---- X.509: precert TBS ---- */

static EVP_PKEY *issuer_key, *leaf_key;

enum ct_ext { EXT_NONE, EXT_POISON, EXT_SCTS, EXT_BOTH };

static void add_sct_ext(X509 *x, const unsigned char *list, size_t len)
{
	/* extnValue = OCTET STRING { OCTET STRING { TLS list } } (RFC 6962 3.3). */
	ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new(), *outer = ASN1_OCTET_STRING_new();
	unsigned char *der = NULL;
	CU_ASSERT_FATAL(ASN1_OCTET_STRING_set(inner, list, (int)len) == 1);
	int n = i2d_ASN1_OCTET_STRING(inner, &der);
	CU_ASSERT_FATAL(n > 0 && ASN1_OCTET_STRING_set(outer, der, n) == 1);
	X509_EXTENSION *ext = X509_EXTENSION_create_by_NID(NULL, NID_ct_precert_scts, 0, outer);
	CU_ASSERT_FATAL(ext && X509_add_ext(x, ext, -1) == 1);
	X509_EXTENSION_free(ext);
	OPENSSL_free(der);
	ASN1_OCTET_STRING_free(inner);
	ASN1_OCTET_STRING_free(outer);
}

/* The same leaf every time; only the CT extension differs. */
static X509 *make_leaf(enum ct_ext kind, int with_san, const unsigned char *list, size_t list_len)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234567);
	X509_NAME *name = X509_NAME_new();
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"leaf.test", -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_NAME_free(name);
	name = X509_NAME_new();
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"Test Issuer", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_NAME_free(name);
	ASN1_TIME_set(X509_getm_notBefore(x), 1700000000);
	ASN1_TIME_set(X509_getm_notAfter(x), 1700086400);
	X509_set_pubkey(x, leaf_key);
	if (with_san) {
		X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, "DNS:leaf.test");
		CU_ASSERT_FATAL(san != NULL);
		X509_add_ext(x, san, -1);
		X509_EXTENSION_free(san);
	}
	if (kind == EXT_POISON || kind == EXT_BOTH) {
		ASN1_NULL *null = ASN1_NULL_new();
		CU_ASSERT_FATAL(X509_add1_ext_i2d(x, NID_ct_precert_poison, null, 1, X509V3_ADD_DEFAULT) == 1);
		ASN1_NULL_free(null);
	}
	if (kind == EXT_SCTS || kind == EXT_BOTH)
		add_sct_ext(x, list, list_len);
	CU_ASSERT_FATAL(X509_sign(x, issuer_key, EVP_sha256()) > 0);
	return x;
}

static size_t to_der(X509 *x, unsigned char **der)
{
	*der = NULL;
	int n = i2d_X509(x, der);
	CU_ASSERT_FATAL(n > 0);
	return (size_t)n;
}

static int x509_init(void)
{
	issuer_key = EVP_EC_gen("P-256");
	leaf_key = EVP_EC_gen("P-256");
	return issuer_key && leaf_key ? 0 : 1;
}

static int x509_cleanup(void)
{
	EVP_PKEY_free(issuer_key);
	EVP_PKEY_free(leaf_key);
	return 0;
}

static void check_precert_tbs(int with_san)
{
	unsigned char list[512];
	size_t list_len;
	struct tc_ct_sct scts[2] = { sample_sct(0x11), sample_sct(0x22) };
	CU_ASSERT_FATAL(tc_ct_encode_sct_list(scts, 2, list, sizeof(list), &list_len) == TC_CT_OK);

	X509 *plain = make_leaf(EXT_NONE, with_san, NULL, 0);
	X509 *pre = make_leaf(EXT_POISON, with_san, NULL, 0);
	X509 *final = make_leaf(EXT_SCTS, with_san, list, list_len);
	unsigned char *want = NULL;
	int want_len = i2d_re_X509_tbs(plain, &want);
	CU_ASSERT_FATAL(want_len > 0);

	unsigned char *der, *tbs;
	size_t der_len, tbs_len;
	der_len = to_der(pre, &der);
	CU_ASSERT_FATAL(tc_ct_precert_tbs(der, der_len, &tbs, &tbs_len) == TC_CT_OK);
	CU_ASSERT(tbs_len == (size_t)want_len && memcmp(tbs, want, tbs_len) == 0);
	free(tbs);
	/* Trailing garbage after the certificate. */
	unsigned char *longer = malloc(der_len + 1);
	memcpy(longer, der, der_len);
	longer[der_len] = 0;
	CU_ASSERT(tc_ct_precert_tbs(longer, der_len + 1, &tbs, &tbs_len) == TC_CT_ERR_X509);
	CU_ASSERT(tc_ct_precert_tbs(longer, der_len - 1, &tbs, &tbs_len) == TC_CT_ERR_X509);
	free(longer);
	OPENSSL_free(der);

	der_len = to_der(final, &der);
	CU_ASSERT_FATAL(tc_ct_precert_tbs(der, der_len, &tbs, &tbs_len) == TC_CT_OK);
	CU_ASSERT(tbs_len == (size_t)want_len && memcmp(tbs, want, tbs_len) == 0);
	free(tbs);
	unsigned char *got_list;
	size_t got_len;
	CU_ASSERT_FATAL(tc_ct_cert_sct_list(der, der_len, &got_list, &got_len) == TC_CT_OK);
	CU_ASSERT(got_len == list_len && memcmp(got_list, list, list_len) == 0);
	free(got_list);
	OPENSSL_free(der);

	X509_free(plain);
	X509_free(pre);
	X509_free(final);
	OPENSSL_free(want);
}

static void test_precert_tbs(void)
{
	check_precert_tbs(1);
	/* Without other extensions the extensions field disappears entirely. */
	check_precert_tbs(0);
}

static void test_precert_tbs_rejects(void)
{
	unsigned char list[128], *der, *out;
	size_t list_len, der_len, out_len;
	struct tc_ct_sct s = sample_sct(1);
	CU_ASSERT_FATAL(tc_ct_encode_sct_list(&s, 1, list, sizeof(list), &list_len) == TC_CT_OK);

	X509 *plain = make_leaf(EXT_NONE, 1, NULL, 0);
	der_len = to_der(plain, &der);
	CU_ASSERT(tc_ct_precert_tbs(der, der_len, &out, &out_len) == TC_CT_ERR_CT_EXT);
	CU_ASSERT(out == NULL && out_len == 0);
	CU_ASSERT(tc_ct_cert_sct_list(der, der_len, &out, &out_len) == TC_CT_ERR_CT_EXT);
	OPENSSL_free(der);
	X509_free(plain);

	X509 *both = make_leaf(EXT_BOTH, 1, list, list_len);
	der_len = to_der(both, &der);
	CU_ASSERT(tc_ct_precert_tbs(der, der_len, &out, &out_len) == TC_CT_ERR_CT_EXT);
	OPENSSL_free(der);
	X509_free(both);

	static const unsigned char garbage[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	CU_ASSERT(tc_ct_precert_tbs(garbage, sizeof(garbage), &out, &out_len) == TC_CT_ERR_X509);
	CU_ASSERT(tc_ct_precert_tbs(NULL, 0, &out, &out_len) == TC_CT_ERR_X509);
	CU_ASSERT(tc_ct_precert_tbs(garbage, sizeof(garbage), NULL, &out_len) == TC_CT_ERR_ARG);
}

static void test_issuer_key_hash(void)
{
	X509 *x = make_leaf(EXT_NONE, 0, NULL, 0);
	unsigned char *der, *spki = NULL, want[32], got[32];
	size_t der_len = to_der(x, &der);
	int n = i2d_PUBKEY(leaf_key, &spki);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_FATAL(EVP_Digest(spki, (size_t)n, want, NULL, EVP_sha256(), NULL) == 1);
	CU_ASSERT(tc_ct_issuer_key_hash(der, der_len, got) == TC_CT_OK);
	CU_ASSERT(memcmp(got, want, 32) == 0);
	CU_ASSERT(tc_ct_issuer_key_hash(der, der_len - 3, got) == TC_CT_ERR_X509);
	OPENSSL_free(spki);
	OPENSSL_free(der);
	X509_free(x);
}

static void run_x509_tests(void)
{
	CU_ASSERT_FATAL(x509_init() == 0);
	test_precert_tbs();
	test_precert_tbs_rejects();
	test_issuer_key_hash();
	x509_cleanup();
}

int main(void)
{
	static const struct tc_test tests[] = {
		{ "MerkleTreeLeaf exact bytes", test_leaf_exact_bytes },
		{ "SCT / STH signature inputs exact bytes", test_signature_inputs_exact_bytes },
		{ "MerkleTreeLeaf round trip", test_leaf_round_trip },
		{ "MerkleTreeLeaf malformed inputs rejected", test_leaf_rejects_malformed },
		{ "encoder bounds and sizing", test_encoder_bounds },
		{ "SCT and SCT list exact bytes, round trip", test_sct_exact_bytes_and_round_trip },
		{ "SCT and SCT list malformed inputs rejected", test_sct_rejects_malformed },
		{ "precert TBS, issuer key hash, embedded SCT list", run_x509_tests },
		{ NULL, NULL },
	};
	return tc_run_suite("ct_encode", tests, NULL, NULL);
}
