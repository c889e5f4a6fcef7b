/* The leaf template written directly as DER (tc_leaf_tbs_der, the
 * gateway's Issue path) against the OpenSSL-object builder it replaces
 * there (tc_leaf_template_new + tc_template_tbs_der): byte-identical TBS
 * for every key type, name mix, profile and date the gateway can send,
 * and a refusal wherever the old builder refused. Also the DER writer's
 * length forms. */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/der_writer.h"
#include "common/leaf_template.h"
#include "unit/cunit_main.h"

static EVP_PKEY *keys[4];
static const char *key_names[4] = {"P-256", "P-384", "RSA-2048", "Ed25519"};

static int suite_init(void)
{
	keys[0] = EVP_EC_gen("P-256");
	keys[1] = EVP_EC_gen("P-384");
	keys[2] = EVP_RSA_gen(2048);
	keys[3] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return keys[0] && keys[1] && keys[2] && keys[3] ? 0 : 1;
}

static int suite_cleanup(void)
{
	for (int i = 0; i < 4; i++)
		EVP_PKEY_free(keys[i]);
	return 0;
}

/* Old builder: 0 and *der (OPENSSL_malloc'ed), or -1. */
static int old_tbs(const struct tc_leaf_request *rq, unsigned char **der, size_t *len)
{
	char err[256];
	X509 *x = tc_leaf_template_new(rq, err, sizeof(err));
	int rc = x && tc_template_tbs_der(x, der, len) == 0 ? 0 : -1;
	X509_free(x);
	return rc;
}

static int compared;

/* Both builders agree on rq with key: same bytes, or both refuse. The old
 * one runs with the key object and, for EC, with the CSR-style SPKI copy. */
static void check_same(struct tc_leaf_request rq, EVP_PKEY *key, const char *what)
{
	unsigned char *spki = NULL;
	int spki_len = i2d_PUBKEY(key, &spki);
	CU_ASSERT_FATAL(spki_len > 0);
	const unsigned char *p = spki;
	X509_PUBKEY *xpk = d2i_X509_PUBKEY(NULL, &p, spki_len);
	CU_ASSERT_FATAL(xpk != NULL);
	rq.pubkey = key;
	for (int with_spki = 0; with_spki < 2; with_spki++) {
		rq.spki = with_spki ? xpk : NULL;
		unsigned char *a = NULL;
		uint8_t *b = NULL;
		size_t alen = 0, blen = 0;
		char err[256] = "";
		int ra = old_tbs(&rq, &a, &alen);
		int rb = tc_leaf_tbs_der(&rq, spki, (size_t)spki_len, &b, &blen, err, sizeof(err));
		CU_ASSERT_EQUAL(ra, rb);
		CU_ASSERT(rb == 0 || strlen(err) > 0);
		if (ra == 0 && rb == 0) {
			int eq = alen == blen && memcmp(a, b, alen) == 0;
			if (!eq)
				fprintf(stderr, "\n  differs: %s (%zu vs %zu bytes) ", what, alen, blen);
			CU_ASSERT(eq);
			compared++;
		} else if (ra != rb) {
			fprintf(stderr, "\n  old %d new %d: %s (%s) ", ra, rb, what, err);
		}
		OPENSSL_free(a);
		free(b);
	}
	X509_PUBKEY_free(xpk);
	OPENSSL_free(spki);
}

static void test_same_bytes(void)
{
	static const char *dns[] = {"a.hypermesh.online", "*.b.hypermesh.online", "c.d.e.hypermesh.online"};
	static const char *ips[] = {"192.0.2.1", "2001:db8::1", "::ffff:10.1.2.3", "0.0.0.0"};
	time_t now = time(NULL);
	struct {
		time_t nb, na;
	} windows[] = {
		{now - 60, now - 60 + 3600},
		{now - 60, now - 60 + 24 * 3600},
		{0, 3600},                   /* 1970 */
		{2524607999, 2524608000},    /* 2049-12-31T23:59:59 then 2050-01-01: UTCTime then GeneralizedTime */
		{-631152001, -631152000},    /* 1949-12-31T23:59:59 then 1950-01-01 */
		{253402300799, 253402300799}, /* 9999-12-31T23:59:59 */
	};
	for (int k = 0; k < 4; k++)
		for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++)
			for (int profile = 0; profile < 4; profile++)
				for (int mix = 0; mix < 4; mix++) {
					struct tc_leaf_request rq = {
						.dns_names = dns,
						.n_dns = mix == 0 ? 1 : mix == 1 ? 3 : mix == 2 ? 2 : 0,
						.ips = ips,
						.n_ips = mix == 0 ? 0 : mix == 1 ? 0 : 4,
						.server_auth = profile & 1,
						.client_auth = (profile >> 1) & 1,
						.not_before = windows[w].nb,
						.not_after = windows[w].na,
					};
					char what[128];
					snprintf(what, sizeof(what), "%s window %zu profile %d mix %d", key_names[k], w,
						 profile, mix);
					check_same(rq, keys[k], what);
				}
	fprintf(stderr, " (%d templates byte-identical) ", compared);
	CU_ASSERT(compared >= 4 * 6 * 4 * 4 * 2);
}

/* Long names and many of them: multi-octet lengths at every level; the CN
 * bound (64 characters) refused by both. */
static void test_lengths(void)
{
	static char n63[80], n64[80], n65[80], n253[260];
	memset(n63, 'a', 63);
	memcpy(n63 + 63 - 16, ".hypermesh.onlin", 16);
	memset(n64, 'b', 64);
	memset(n65, 'c', 65);
	for (int i = 0; i < 253; i++)
		n253[i] = i % 10 == 9 ? '.' : 'd';
	const char *many[64];
	char buf[64][40];
	for (int i = 0; i < 64; i++) {
		snprintf(buf[i], sizeof(buf[i]), "host-%02d.svc.hypermesh.online", i);
		many[i] = buf[i];
	}
	time_t now = time(NULL);
	struct tc_leaf_request rq = {.server_auth = 1, .not_before = now, .not_after = now + 3600};
	const char *one[2];
	int before = compared;
	one[0] = n63;
	rq.dns_names = one;
	rq.n_dns = 1;
	check_same(rq, keys[0], "63-character CN");
	one[0] = n64;
	check_same(rq, keys[2], "64-character CN");
	CU_ASSERT_EQUAL(compared, before + 4);
	one[0] = n65;
	check_same(rq, keys[0], "65-character CN (refused)");
	CU_ASSERT_EQUAL(compared, before + 4);
	/* The CN comes from the first name only; later long names are fine. */
	one[0] = "short.hypermesh.online";
	one[1] = n253;
	rq.n_dns = 2;
	check_same(rq, keys[1], "253-character second name");
	rq.dns_names = many;
	rq.n_dns = 64;
	check_same(rq, keys[2], "64 names");
	CU_ASSERT_EQUAL(compared, before + 8);
	/* Refused by both: no name, an IP that does not parse. */
	rq.n_dns = 0;
	check_same(rq, keys[0], "no name");
	static const char *bad_ip[] = {"192.0.2"};
	rq.ips = bad_ip;
	rq.n_ips = 1;
	check_same(rq, keys[0], "bad IP");
	CU_ASSERT_EQUAL(compared, before + 8);
	/* A year past 9999: OpenSSL writes a five-digit GeneralizedTime
	 * ("100000101000000Z", not X.680 syntax); the DER builder refuses.
	 * The gateway's dates are now + at most ca.cert_validity_hours. */
	rq.dns_names = many;
	rq.n_dns = 1;
	rq.n_ips = 0;
	rq.not_after = 253402300800;
	uint8_t *der = NULL;
	size_t len;
	char err[128];
	unsigned char *spki = NULL;
	int spki_len = i2d_PUBKEY(keys[0], &spki);
	CU_ASSERT_EQUAL(tc_leaf_tbs_der(&rq, spki, (size_t)spki_len, &der, &len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NULL(der);
	OPENSSL_free(spki);
}

static void test_no_key_refused(void)
{
	static const char *dns[] = {"a.hypermesh.online"};
	struct tc_leaf_request rq = {.dns_names = dns, .n_dns = 1, .server_auth = 1};
	uint8_t *der;
	size_t len;
	char err[128];
	static const uint8_t not_spki[] = {0x30, 0x03, 0x02, 0x01};
	CU_ASSERT_EQUAL(tc_leaf_tbs_der(&rq, NULL, 0, &der, &len, err, sizeof(err)), -1);
	CU_ASSERT_EQUAL(tc_leaf_tbs_der(&rq, not_spki, sizeof(not_spki), &der, &len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NULL(der);
}

/* The writer's lengths at each boundary of the short and long forms,
 * nested, against tc_der_put_len. */
static void test_writer_lengths(void)
{
	static const size_t sizes[] = {0, 1, 126, 127, 128, 255, 256, 65535, 65536};
	static uint8_t payload[70000];
	memset(payload, 0x5a, sizeof(payload));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		struct tc_der_writer w;
		tc_der_writer_init(&w);
		tc_der_open(&w, TC_DER_SEQUENCE);
		tc_der_open(&w, TC_DER_CONTEXT(3));
		tc_der_put_tlv(&w, TC_DER_OCTET_STRING, payload, n);
		tc_der_close(&w);
		tc_der_close(&w);
		size_t len;
		uint8_t *der = tc_der_writer_take(&w, &len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(der);
		size_t inner = tc_der_tlv_size(n), mid = tc_der_tlv_size(inner);
		CU_ASSERT_EQUAL(len, tc_der_tlv_size(mid));
		struct tc_der_elem seq, ctx, os;
		CU_ASSERT_EQUAL_FATAL(tc_der_whole(der, len, TC_DER_SEQUENCE, &seq), TC_DER_OK);
		CU_ASSERT_EQUAL_FATAL(tc_der_whole(seq.val, seq.val_len, TC_DER_CONTEXT(3), &ctx), TC_DER_OK);
		CU_ASSERT_EQUAL_FATAL(tc_der_whole(ctx.val, ctx.val_len, TC_DER_OCTET_STRING, &os), TC_DER_OK);
		CU_ASSERT(os.val_len == n && (n == 0 || memcmp(os.val, payload, n) == 0));
		free(der);
	}
	/* Unbalanced: nothing comes out. */
	struct tc_der_writer w;
	size_t len;
	tc_der_writer_init(&w);
	tc_der_open(&w, TC_DER_SEQUENCE);
	CU_ASSERT_PTR_NULL(tc_der_writer_take(&w, &len));
	tc_der_writer_init(&w);
	tc_der_close(&w);
	CU_ASSERT_PTR_NULL(tc_der_writer_take(&w, &len));
	tc_der_writer_init(&w);
	for (int i = 0; i <= TC_DER_WRITER_DEPTH; i++)
		tc_der_open(&w, TC_DER_SEQUENCE);
	for (int i = 0; i <= TC_DER_WRITER_DEPTH; i++)
		tc_der_close(&w);
	CU_ASSERT_PTR_NULL(tc_der_writer_take(&w, &len));
}

/* An IP-only leaf: empty subject (an address in the CN would fail a
 * name-constrained intermediate's DNS subtrees), SAN critical; with a DNS
 * name, the CN is the first name and the SAN is not critical. */
static void test_ip_only_subject(void)
{
	static const char *ips[] = {"127.0.0.1"}, *dns[] = {"a.hypermesh.online"};
	struct tc_leaf_request rq = {.ips = ips, .n_ips = 1, .pubkey = keys[0], .server_auth = 1,
				     .not_before = 1000000000, .not_after = 1000003600};
	char err[128];
	for (int with_dns = 0; with_dns < 2; with_dns++) {
		rq.dns_names = with_dns ? dns : NULL;
		rq.n_dns = (size_t)with_dns;
		X509 *x = tc_leaf_template_new(&rq, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(x);
		CU_ASSERT_EQUAL(X509_NAME_entry_count(X509_get_subject_name(x)), with_dns ? 1 : 0);
		int idx = X509_get_ext_by_NID(x, NID_subject_alt_name, -1);
		CU_ASSERT_FATAL(idx >= 0);
		CU_ASSERT_EQUAL(X509_EXTENSION_get_critical(X509_get_ext(x, idx)), with_dns ? 0 : 1);
		X509_free(x);
	}
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"DER builder == OpenSSL builder: keys, names, profiles, dates", test_same_bytes},
		{"long and many names; CN bound; refusals shared", test_lengths},
		{"no or malformed key refused", test_no_key_refused},
		{"DER writer: short and long lengths, unbalanced refused", test_writer_lengths},
		{"IP-only leaf: empty subject, critical subjectAltName", test_ip_only_subject},
		{NULL, NULL},
	};
	return tc_run_suite("leaf_template", tests, suite_init, suite_cleanup);
}
