/* The gateway's CSR checks on their own (src/gateway/csr.c): formats, key
 * types, the size limit, names requested in the CSR, and thousands of
 * random mutations of a valid request that must each get a defined answer
 * (run under ASan in CI, so a bad read is a failure too); the name
 * extraction runs on every mutant that still decodes. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/csr.h"
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

/* DER CSR (OPENSSL_malloc'ed) for key, with a requested SAN when san. */
static unsigned char *make_csr(EVP_PKEY *key, const char *san, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"t", -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_NAME_free(name);
	X509_REQ_set_pubkey(req, key);
	if (san) {
		STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san));
		X509_REQ_add_extensions(req, exts);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	X509_REQ_sign(req, key, EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256());
	unsigned char *der = NULL;
	int n = i2d_X509_REQ(req, &der);
	X509_REQ_free(req);
	*len = n > 0 ? (size_t)n : 0;
	return der;
}

static enum tc_csr_error parse(const unsigned char *data, size_t len, unsigned min_rsa)
{
	struct tc_csr req;
	char why[256] = "";
	enum tc_csr_error e = tc_csr_parse(data, len, min_rsa, &req, why, sizeof(why));
	CU_ASSERT((e == TC_CSR_OK) == (req.key != NULL));
	CU_ASSERT(e == TC_CSR_OK || strlen(why) > 0);
	tc_csr_free(&req);
	return e;
}

static enum tc_csr_error parse_key(EVP_PKEY *key, unsigned min_rsa)
{
	size_t len;
	unsigned char *der = make_csr(key, NULL, &len);
	CU_ASSERT_FATAL(der != NULL);
	enum tc_csr_error e = parse(der, len, min_rsa);
	OPENSSL_free(der);
	return e;
}

static void test_formats(void)
{
	size_t len;
	unsigned char *der = make_csr(p256, NULL, &len);
	CU_ASSERT_EQUAL(parse(der, len, 2048), TC_CSR_OK);
	/* PEM, with leading white space. */
	X509_REQ *req = NULL;
	const unsigned char *p = der;
	req = d2i_X509_REQ(NULL, &p, (long)len);
	BIO *b = BIO_new(BIO_s_mem());
	BIO_puts(b, "\r\n\n");
	PEM_write_bio_X509_REQ(b, req);
	char *pem;
	long n = BIO_get_mem_data(b, &pem);
	CU_ASSERT_EQUAL(parse((unsigned char *)pem, (size_t)n, 2048), TC_CSR_OK);
	BIO_free(b);
	X509_REQ_free(req);
	/* Trailing bytes after the DER request are not one request. */
	unsigned char *longer = malloc(len + 1);
	memcpy(longer, der, len);
	longer[len] = 0;
	CU_ASSERT_EQUAL(parse(longer, len + 1, 2048), TC_CSR_MALFORMED);
	CU_ASSERT_EQUAL(parse(der, len - 1, 2048), TC_CSR_MALFORMED);
	CU_ASSERT_EQUAL(parse(der, 0, 2048), TC_CSR_MALFORMED);
	free(longer);
	OPENSSL_free(der);
	CU_ASSERT_STRING_EQUAL(tc_csr_error_reason(TC_CSR_BAD_SIGNATURE), "csr_signature_invalid");
}

static void test_size_limit(void)
{
	unsigned char *junk = calloc(1, TC_CSR_MAX_LEN + 1);
	CU_ASSERT_EQUAL(parse(junk, TC_CSR_MAX_LEN, 2048), TC_CSR_MALFORMED);
	CU_ASSERT_EQUAL(parse(junk, TC_CSR_MAX_LEN + 1, 2048), TC_CSR_TOO_LARGE);
	free(junk);
}

static void test_key_types(void)
{
	EVP_PKEY *p384 = EVP_EC_gen("P-384");
	EVP_PKEY *p521 = EVP_EC_gen("P-521");
	EVP_PKEY *rsa1024 = EVP_RSA_gen(1024);
	EVP_PKEY *rsa2048 = EVP_RSA_gen(2048);
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	CU_ASSERT_FATAL(p384 && p521 && rsa1024 && rsa2048 && ed);
	CU_ASSERT_EQUAL(parse_key(p384, 2048), TC_CSR_OK);
	CU_ASSERT_EQUAL(parse_key(rsa2048, 2048), TC_CSR_OK);
	CU_ASSERT_EQUAL(parse_key(rsa2048, 0), TC_CSR_OK);
	/* ca.min_rsa_bits raises the floor, never lowers it below 2048. */
	CU_ASSERT_EQUAL(parse_key(rsa2048, 3072), TC_CSR_KEY_NOT_ALLOWED);
	CU_ASSERT_EQUAL(parse_key(rsa1024, 1024), TC_CSR_KEY_NOT_ALLOWED);
	CU_ASSERT_EQUAL(parse_key(p521, 2048), TC_CSR_KEY_NOT_ALLOWED);
	CU_ASSERT_EQUAL(parse_key(ed, 2048), TC_CSR_KEY_NOT_ALLOWED);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(p521);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(rsa2048);
	EVP_PKEY_free(ed);
}

static void test_bad_signature(void)
{
	size_t len;
	unsigned char *der = make_csr(p256, NULL, &len);
	der[len - 1] ^= 0x01;
	CU_ASSERT_EQUAL(parse(der, len, 2048), TC_CSR_BAD_SIGNATURE);
	OPENSSL_free(der);
}

/* The checked request, which refers to *der (free both after use). */
static int parsed(const char *san, unsigned char **der, struct tc_csr *req)
{
	size_t len;
	*der = make_csr(p256, san, &len);
	char why[256];
	int ok = tc_csr_parse(*der, len, 2048, req, why, sizeof(why)) == TC_CSR_OK;
	CU_ASSERT(ok);
	return ok;
}

static void free_names(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
}

static void test_requested_names(void)
{
	struct tc_csr req;
	unsigned char *der;
	CU_ASSERT_FATAL(parsed("DNS:a.hypermesh.online, IP:192.0.2.1, DNS:b.hypermesh.online, "
			       "IP:2001:db8::1, email:x@y.z", &der, &req));
	char *dns[4], *ips[4];
	size_t nd = 0, ni = 0;
	CU_ASSERT_EQUAL(tc_csr_requested_names(&req.view, dns, &nd, ips, &ni, 4), 0);
	CU_ASSERT_EQUAL_FATAL(nd, 2);
	CU_ASSERT_EQUAL_FATAL(ni, 2);
	CU_ASSERT_STRING_EQUAL(dns[0], "a.hypermesh.online");
	CU_ASSERT_STRING_EQUAL(dns[1], "b.hypermesh.online");
	CU_ASSERT_STRING_EQUAL(ips[0], "192.0.2.1");
	CU_ASSERT_STRING_EQUAL(ips[1], "2001:db8::1");
	free_names(dns, nd);
	free_names(ips, ni);
	/* More names than allowed. */
	nd = ni = 0;
	CU_ASSERT_EQUAL(tc_csr_requested_names(&req.view, dns, &nd, ips, &ni, 1), -1);
	free_names(dns, nd);
	free_names(ips, ni);
	tc_csr_free(&req);
	OPENSSL_free(der);
	/* No extension at all: no names, no error. */
	CU_ASSERT_FATAL(parsed(NULL, &der, &req));
	nd = ni = 0;
	CU_ASSERT_EQUAL(tc_csr_requested_names(&req.view, dns, &nd, ips, &ni, 4), 0);
	CU_ASSERT_EQUAL(nd + ni, 0);
	tc_csr_free(&req);
	OPENSSL_free(der);
}

/* "DER:..." (X509V3_EXT_conf_nid syntax) of a subjectAltName holding one
 * GeneralName with this context tag and value (len < 100). */
static const char *raw_san(unsigned tag, const void *value, size_t len)
{
	static char out[400];
	int n = snprintf(out, sizeof(out), "DER:30:%02zx:%02x:%02zx", len + 2, 0x80 | tag, len);
	for (size_t i = 0; i < len && n > 0 && (size_t)n < sizeof(out); i++)
		n += snprintf(out + n, sizeof(out) - (size_t)n, ":%02x", ((const unsigned char *)value)[i]);
	return out;
}

/* A requested dNSName holding a NUL, or an iPAddress of a wrong length, is
 * an invalid name (the caller is told name_invalid), neither cut at the NUL
 * nor lumped with "too many names". */
static void test_requested_names_invalid(void)
{
	static const struct {
		unsigned tag; /* 2 dNSName, 7 iPAddress */
		const char *value;
		size_t len;
	} cases[] = {
		{2, "a.hypermesh.online\0.evil.com", 28},
		{2, "a.hypermesh.online\0", 19},
		{7, "\x7f\0\0\x01\x05", 5},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tc_csr req;
		unsigned char *der;
		CU_ASSERT_FATAL(parsed(raw_san(cases[i].tag, cases[i].value, cases[i].len), &der, &req));
		char *dns[4], *ips[4];
		size_t nd = 0, ni = 0;
		CU_ASSERT_EQUAL(tc_csr_requested_names(&req.view, dns, &nd, ips, &ni, 4), TC_CSR_NAME_INVALID);
		CU_ASSERT_EQUAL(nd + ni, 0);
		free_names(dns, nd);
		free_names(ips, ni);
		tc_csr_free(&req);
		OPENSSL_free(der);
	}
}

/* Random byte flips, truncations and insertions on a valid request: every
 * result is a defined answer, and names are extracted safely from whatever
 * still parses. */
static void test_mutations(void)
{
	size_t len;
	unsigned char *der = make_csr(p256, "DNS:m.hypermesh.online, IP:10.0.0.1", &len);
	unsigned char *buf = malloc(len + 16);
	srand(12345);
	int ok = 0, decoded = 0;
	for (int i = 0; i < 4000; i++) {
		memcpy(buf, der, len);
		size_t n = len;
		int edits = 1 + rand() % 4;
		for (int k = 0; k < edits; k++) {
			int kind = rand() % 3;
			if (kind == 0)
				buf[rand() % n] ^= (unsigned char)(1 + rand() % 255);
			else if (kind == 1 && n > 1)
				n = 1 + (size_t)rand() % (n - 1);
			else if (n < len + 16) {
				size_t at = (size_t)rand() % n;
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = (unsigned char)rand();
				n++;
			}
		}
		struct tc_csr req;
		char why[256];
		enum tc_csr_error e = tc_csr_parse(buf, n, 2048, &req, why, sizeof(why));
		CU_ASSERT(e >= TC_CSR_OK && e <= TC_CSR_KEY_NOT_ALLOWED);
		ok += e == TC_CSR_OK;
		tc_csr_free(&req);
		/* Name extraction on anything that still decodes, signature or not. */
		struct tc_csr_view v;
		if (tc_csr_view_parse(buf, n, &v, why, sizeof(why)) == 0) {
			decoded++;
			char *dns[8], *ips[8];
			size_t nd = 0, ni = 0;
			tc_csr_requested_names(&v, dns, &nd, ips, &ni, 8);
			free_names(dns, nd);
			free_names(ips, ni);
		}
	}
	fprintf(stderr, " (of 4000 mutants %d decoded, %d verified) ", decoded, ok);
	CU_ASSERT(decoded > 100);
	free(buf);
	OPENSSL_free(der);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"formats: DER, PEM, trailing and truncated bytes", test_formats},
		{"size limit: 64 KiB", test_size_limit},
		{"key types: P-256, P-384, RSA >= floor only", test_key_types},
		{"signature: broken signature refused", test_bad_signature},
		{"names requested in the CSR", test_requested_names},
		{"names requested in the CSR: NUL, address length", test_requested_names_invalid},
		{"mutations: defined answers only", test_mutations},
		{NULL, NULL},
	};
	return tc_run_suite("gateway_csr", tests, suite_init, suite_cleanup);
}
