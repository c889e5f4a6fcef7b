/* The validator core (src/gateway/validator.h) on certificates built here
 * with OpenSSL: every reason, the verified-CA cache, the CRL cache's
 * refresh and invalidation, failing closed, embedded SCTs (signed here with
 * a test log key over the entry built by the CT log's own encoder, so the
 * gateway's DER surgery is checked against OpenSSL's re-encoding), and
 * many threads at once. The end-to-end test with the real signer and
 * gateway is test_gateway_validate. */
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/ct_sct_verify.h"
#include "gateway/validator.h"
#include "support/test_ca.h"
#include "transparency/ct_encode.h"
#include "transparency/ct_precert.h"
#include "unit/cunit_main.h"

typedef Trustchain__V1__Reason Reason;
#define R(x) TRUSTCHAIN__V1__REASON__##x
#define SERVER TRUSTCHAIN__V1__PURPOSE__PURPOSE_SERVER_AUTH
#define CLIENT TRUSTCHAIN__V1__PURPOSE__PURPOSE_CLIENT_AUTH

static struct tc_test_ca root, inter, other_inter, foreign_root;
static EVP_PKEY *leaf_key, *log_key;
static char *root_pem, *inter_pem;

/* The "signer": CRLs signed by inter listing revoked[]. */
static struct {
	uint64_t revoked[8];
	size_t n;
	uint64_t number;
	atomic_int fail;
	atomic_int fetches;
	int wrong_signer;
	pthread_mutex_t lock;
} crl_src = {.number = 1, .lock = PTHREAD_MUTEX_INITIALIZER};

static int fetch_crl(void *arg, unsigned char **der, size_t *len, uint64_t *number, char *err, size_t errlen)
{
	(void)arg;
	atomic_fetch_add(&crl_src.fetches, 1);
	if (atomic_load(&crl_src.fail)) {
		snprintf(err, errlen, "signer down (test)");
		return -1;
	}
	pthread_mutex_lock(&crl_src.lock);
	X509_CRL *crl = tc_test_crl_new(crl_src.wrong_signer ? &other_inter : &inter, crl_src.revoked, crl_src.n,
					crl_src.number);
	*number = crl_src.number;
	pthread_mutex_unlock(&crl_src.lock);
	unsigned char *d = NULL;
	int n = crl ? i2d_X509_CRL(crl, &d) : -1;
	X509_CRL_free(crl);
	if (n <= 0)
		return -1;
	*der = malloc((size_t)n);
	memcpy(*der, d, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(d);
	return 0;
}

static void set_revoked(const uint64_t *serials, size_t n)
{
	pthread_mutex_lock(&crl_src.lock);
	if (n)
		memcpy(crl_src.revoked, serials, n * sizeof(*serials));
	crl_src.n = n;
	crl_src.number++;
	pthread_mutex_unlock(&crl_src.lock);
}

static struct tc_validator *new_validator(EVP_PKEY *log, int require_sct)
{
	struct tc_validator_config cfg = {.root_pem = root_pem, .intermediate_pem = inter_pem, .log_key = log,
					  .require_sct = require_sct, .fetch_crl = fetch_crl};
	char err[256];
	struct tc_validator *v = tc_validator_new(&cfg, err, sizeof(err));
	if (!v)
		fprintf(stderr, "validator: %s\n", err);
	return v;
}

static int suite_init(void)
{
	if (tc_test_ca_root(&root, "Test Root", 0, 0) || tc_test_ca_sub(&inter, &root, "Test Intermediate", 0, 0) ||
	    tc_test_ca_sub(&other_inter, &root, "Other Intermediate", 0, 0) ||
	    tc_test_ca_root(&foreign_root, "Foreign Root", 0, 0))
		return 1;
	leaf_key = EVP_EC_gen("P-256");
	log_key = EVP_EC_gen("P-256");
	root_pem = tc_test_pem(root.cert);
	inter_pem = tc_test_pem(inter.cert);
	return leaf_key && log_key && root_pem && inter_pem ? 0 : 1;
}

static int suite_cleanup(void)
{
	tc_test_ca_free(&root);
	tc_test_ca_free(&inter);
	tc_test_ca_free(&other_inter);
	tc_test_ca_free(&foreign_root);
	EVP_PKEY_free(leaf_key);
	EVP_PKEY_free(log_key);
	free(root_pem);
	free(inter_pem);
	return 0;
}

/* ---- helpers ---- */

struct chain {
	unsigned char *der[12];
	size_t len[12];
	size_t n;
};

static void push(struct chain *c, X509 *x)
{
	c->der[c->n] = tc_test_der(x, &c->len[c->n]);
	c->n++;
}

static void chain_free(struct chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		OPENSSL_free(c->der[i]);
	c->n = 0;
}

static X509 *server_leaf(const struct tc_test_ca *ca, const char *dns)
{
	struct tc_test_leaf o = {.dns = dns, .server = 1};
	return tc_test_leaf_new(ca, leaf_key, &o);
}

static void run(struct tc_validator *v, struct chain *c, const char *name, int64_t at, Trustchain__V1__Purpose p,
		struct tc_validation *out)
{
	tc_validator_run(v, (const unsigned char *const *)c->der, c->len, c->n, name, at, p, out);
}

static int has(const struct tc_validation *vr, Reason r)
{
	for (size_t i = 0; i < vr->n_reasons; i++)
		if (vr->reasons[i] == r)
			return 1;
	return 0;
}

static void print(const char *what, const struct tc_validation *vr)
{
	fprintf(stderr, "  %s: %s [", what, vr->trusted ? "TRUSTED" : "UNTRUSTED");
	for (size_t i = 0; i < vr->n_reasons; i++)
		fprintf(stderr, " %d", vr->reasons[i]);
	fprintf(stderr, " ] %s\n", vr->detail);
}

/* Runs and checks the decision and that want is among the reasons. */
static void expect(struct tc_validator *v, struct chain *c, const char *name, int64_t at, Trustchain__V1__Purpose p,
		   int trusted, Reason want)
{
	struct tc_validation vr;
	run(v, c, name, at, p, &vr);
	if (vr.trusted != trusted || !has(&vr, want))
		print("unexpected", &vr);
	CU_ASSERT_EQUAL(vr.trusted, trusted);
	CU_ASSERT(has(&vr, want));
	CU_ASSERT_EQUAL(trusted, vr.detail[0] == '\0');
	tc_validation_release(&vr);
}

/* ---- tests ---- */

static void test_trusted_full_reasons(void)
{
	struct tc_validator *v = new_validator(NULL, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	X509 *leaf = server_leaf(&inter, "svc.example.org");
	struct chain c = {0};
	push(&c, leaf);
	push(&c, inter.cert);
	struct tc_validation vr;
	run(v, &c, "svc.example.org", 0, SERVER, &vr);
	static const Reason want[] = {R(OK_PATH), R(OK_VALIDITY), R(OK_NAME), R(OK_KEY_USAGE), R(SCT_MISSING),
				      R(OK_NOT_REVOKED)};
	CU_ASSERT_EQUAL(vr.trusted, 1);
	CU_ASSERT_EQUAL_FATAL(vr.n_reasons, 6);
	CU_ASSERT_EQUAL(memcmp(vr.reasons, want, sizeof(want)), 0);
	CU_ASSERT_STRING_EQUAL(vr.detail, "");
	/* leaf, intermediate, root */
	CU_ASSERT_EQUAL_FATAL(vr.n_path, 3);
	CU_ASSERT(vr.path_len[0] == c.len[0] && memcmp(vr.path_der[0], c.der[0], c.len[0]) == 0);
	CU_ASSERT(vr.path_len[1] == c.len[1] && memcmp(vr.path_der[1], c.der[1], c.len[1]) == 0);
	size_t rl;
	unsigned char *rd = tc_test_der(root.cert, &rl);
	CU_ASSERT(vr.path_len[2] == rl && memcmp(vr.path_der[2], rd, rl) == 0);
	OPENSSL_free(rd);
	tc_validation_release(&vr);

	/* The leaf alone (the pinned intermediate is found), and with the
	 * root appended (ignored). */
	struct chain alone = {0}, with_root = {0};
	push(&alone, leaf);
	expect(v, &alone, "svc.example.org", 0, SERVER, 1, R(OK_PATH));
	push(&with_root, leaf);
	push(&with_root, inter.cert);
	push(&with_root, root.cert);
	expect(v, &with_root, "svc.example.org", 0, SERVER, 1, R(OK_PATH));
	/* Only the root and the pinned intermediate are cached. */
	CU_ASSERT_EQUAL(tc_validator_cached_cas(v), 2);
	/* The leaf was decoded and verified once; later calls hit the leaf
	 * cache and give the same answers. */
	CU_ASSERT_EQUAL(tc_validator_leaf_hits(v), 2);
	run(v, &c, "svc.example.org", 0, SERVER, &vr);
	CU_ASSERT_EQUAL(tc_validator_leaf_hits(v), 3);
	CU_ASSERT_EQUAL(vr.trusted, 1);
	CU_ASSERT_EQUAL(vr.n_reasons, 6);
	CU_ASSERT_EQUAL(memcmp(vr.reasons, want, sizeof(want)), 0);
	CU_ASSERT_EQUAL(vr.n_path, 3);
	tc_validation_release(&vr);
	/* A cached leaf with an undecodable intermediate is still malformed,
	 * and still checked for the name, the time and the purpose. */
	static unsigned char seq[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	struct chain bad = {.der = {c.der[0], seq}, .len = {c.len[0], sizeof(seq)}, .n = 2};
	expect(v, &bad, "svc.example.org", 0, SERVER, 0, R(CHAIN_MALFORMED));
	expect(v, &c, "other.example.org", 0, SERVER, 0, R(NAME_MISMATCH));
	expect(v, &c, "svc.example.org", 0, CLIENT, 0, R(KEY_USAGE_MISMATCH));
	expect(v, &c, "svc.example.org", (int64_t)time(NULL) + 2 * 86400, SERVER, 0, R(EXPIRED));
	chain_free(&c);
	chain_free(&alone);
	chain_free(&with_root);
	X509_free(leaf);
	tc_validator_free(v);
}

static void test_pem_elements(void)
{
	struct tc_validator *v = new_validator(NULL, 0);
	X509 *leaf = server_leaf(&inter, "svc.example.org");
	char *a = tc_test_pem(leaf), *b = tc_test_pem(inter.cert);
	char *both = malloc(strlen(a) + strlen(b) + 1);
	strcat(strcpy(both, a), b);
	struct chain c = {.n = 1};
	c.der[0] = (unsigned char *)both;
	c.len[0] = strlen(both);
	expect(v, &c, "svc.example.org", 0, SERVER, 1, R(OK_PATH));
	/* A PEM block of another type, and PEM that does not decode. */
	const char *key_pem = "-----BEGIN PRIVATE KEY-----\nMAA=\n-----END PRIVATE KEY-----\n";
	c.der[0] = (unsigned char *)key_pem;
	c.len[0] = strlen(key_pem);
	expect(v, &c, "", 0, SERVER, 0, R(CHAIN_MALFORMED));
	const char *bad = "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
	c.der[0] = (unsigned char *)bad;
	c.len[0] = strlen(bad);
	expect(v, &c, "", 0, SERVER, 0, R(CHAIN_MALFORMED));
	free(a);
	free(b);
	free(both);
	X509_free(leaf);
	tc_validator_free(v);
}

static void test_malformed_and_empty(void)
{
	struct tc_validator *v = new_validator(NULL, 0);
	X509 *leaf = server_leaf(&inter, "svc.example.org");
	struct chain c = {0};
	/* No element, and only an empty one. */
	expect(v, &c, "", 0, SERVER, 0, R(CHAIN_EMPTY));
	c.der[0] = (unsigned char *)"";
	c.len[0] = 0;
	c.n = 1;
	expect(v, &c, "", 0, SERVER, 0, R(CHAIN_EMPTY));
	c.n = 0;
	/* Garbage. */
	static unsigned char junk[] = "this is not a certificate";
	c.der[0] = junk;
	c.len[0] = sizeof(junk);
	c.n = 1;
	expect(v, &c, "", 0, SERVER, 0, R(CHAIN_MALFORMED));
	c.n = 0;
	/* A good leaf with a trailing byte; BER indefinite length. */
	size_t len;
	unsigned char *der = tc_test_der(leaf, &len);
	unsigned char *longer = malloc(len + 1);
	memcpy(longer, der, len);
	longer[len] = 0;
	c.der[0] = longer;
	c.len[0] = len + 1;
	c.n = 1;
	expect(v, &c, "", 0, SERVER, 0, R(CHAIN_MALFORMED));
	unsigned char ber[] = {0x30, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00};
	c.der[0] = ber;
	c.len[0] = sizeof(ber);
	expect(v, &c, "", 0, SERVER, 0, R(CHAIN_MALFORMED));
	/* A DER SEQUENCE that is no certificate. */
	unsigned char seq[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	c.der[0] = seq;
	c.len[0] = sizeof(seq);
	expect(v, &c, "", 0, SERVER, 0, R(CHAIN_MALFORMED));
	/* Good leaf, garbage intermediate. */
	c.der[0] = der;
	c.len[0] = len;
	c.der[1] = seq;
	c.len[1] = sizeof(seq);
	c.n = 2;
	expect(v, &c, "", 0, SERVER, 0, R(CHAIN_MALFORMED));
	/* More than 10 certificates. */
	for (size_t i = 0; i < 11; i++) {
		c.der[i] = der;
		c.len[i] = len;
	}
	c.n = 11;
	expect(v, &c, "", 0, SERVER, 0, R(CHAIN_MALFORMED));
	struct tc_validation vr;
	run(v, &c, "", 0, SERVER, &vr);
	CU_ASSERT_EQUAL(vr.n_reasons, 1); /* nothing else runs on a malformed chain */
	CU_ASSERT_EQUAL(vr.n_path, 0);
	tc_validation_release(&vr);
	/* Oversized (> 64 KiB) element. */
	unsigned char *big = calloc(1, 70000);
	big[0] = 0x30;
	big[1] = 0x83;
	big[2] = (70000 - 5) >> 16;
	big[3] = ((70000 - 5) >> 8) & 0xff;
	big[4] = (70000 - 5) & 0xff;
	c.der[0] = big;
	c.len[0] = 70000;
	c.n = 1;
	expect(v, &c, "", 0, SERVER, 0, R(CHAIN_MALFORMED));
	free(big);
	free(longer);
	OPENSSL_free(der);
	X509_free(leaf);
	tc_validator_free(v);
}

static void test_path_untrusted(void)
{
	struct tc_validator *v = new_validator(NULL, 0);
	/* A foreign hierarchy, even with its root in the request. */
	struct tc_test_ca foreign_inter;
	CU_ASSERT_EQUAL_FATAL(tc_test_ca_sub(&foreign_inter, &foreign_root, "Foreign Intermediate", 0, 0), 0);
	X509 *leaf = server_leaf(&foreign_inter, "svc.example.org");
	struct chain c = {0};
	push(&c, leaf);
	push(&c, foreign_inter.cert);
	push(&c, foreign_root.cert);
	struct tc_validation vr;
	run(v, &c, "svc.example.org", 0, SERVER, &vr);
	CU_ASSERT_EQUAL(vr.trusted, 0);
	CU_ASSERT_EQUAL_FATAL(vr.n_reasons, 4); /* path, validity, name, usage: no SCT or revocation without a path */
	CU_ASSERT_EQUAL(vr.reasons[0], R(PATH_UNTRUSTED));
	CU_ASSERT_EQUAL(vr.reasons[1], R(OK_VALIDITY));
	CU_ASSERT_EQUAL(vr.n_path, 0);
	CU_ASSERT(strstr(vr.detail, "no path") != NULL);
	tc_validation_release(&vr);
	/* A self-signed leaf. */
	struct tc_test_leaf o = {.dns = "svc.example.org", .server = 1};
	X509 *self = tc_test_leaf_new(NULL, leaf_key, &o);
	struct chain s = {0};
	push(&s, self);
	expect(v, &s, "svc.example.org", 0, SERVER, 0, R(PATH_UNTRUSTED));
	/* A leaf naming our intermediate as issuer, signed by another key:
	 * the cached path finds the issuer and the signature fails. */
	struct tc_test_ca impostor = {.key = foreign_inter.key, .cert = inter.cert};
	struct tc_test_leaf fo = {.dns = "svc.example.org", .server = 1};
	X509 *forged = tc_test_leaf_new(&impostor, leaf_key, &fo);
	/* AKID would not match inter's SKID: drop it so only the signature differs. */
	X509_EXTENSION *akid = X509_delete_ext(forged, X509_get_ext_by_NID(forged, NID_authority_key_identifier, -1));
	X509_EXTENSION_free(akid);
	X509_sign(forged, foreign_inter.key, EVP_sha256());
	struct chain f = {0};
	push(&f, forged);
	push(&f, inter.cert);
	struct tc_validation fr;
	run(v, &f, "svc.example.org", 0, SERVER, &fr);
	CU_ASSERT_EQUAL(fr.trusted, 0);
	CU_ASSERT_EQUAL(fr.reasons[0], R(PATH_UNTRUSTED));
	CU_ASSERT(strstr(fr.detail, "signature") != NULL);
	tc_validation_release(&fr);
	/* None of it got into the cache. */
	CU_ASSERT_EQUAL(tc_validator_cached_cas(v), 2);
	/* A precertificate is not a certificate. */
	struct tc_test_leaf po = {.dns = "svc.example.org", .server = 1, .poison = 1};
	X509 *pre = tc_test_leaf_new(&inter, leaf_key, &po);
	struct chain p = {0};
	push(&p, pre);
	push(&p, inter.cert);
	expect(v, &p, "svc.example.org", 0, SERVER, 0, R(PATH_UNTRUSTED));
	chain_free(&c);
	chain_free(&s);
	chain_free(&f);
	chain_free(&p);
	X509_free(leaf);
	X509_free(self);
	X509_free(forged);
	X509_free(pre);
	tc_test_ca_free(&foreign_inter);
	tc_validator_free(v);
}

/* An intermediate the validator was not configured with, signed by our
 * root: the first validation builds the path and caches it, later ones hit
 * the cache. Both give the same answer. */
static void test_unpinned_intermediate_cached(void)
{
	struct tc_validator *v = new_validator(NULL, 0);
	X509 *leaf = server_leaf(&other_inter, "svc.example.org");
	struct chain c = {0};
	push(&c, leaf);
	push(&c, other_inter.cert);
	CU_ASSERT_EQUAL(tc_validator_cached_cas(v), 2);
	struct tc_validation vr;
	run(v, &c, "svc.example.org", 0, SERVER, &vr);
	CU_ASSERT(has(&vr, R(OK_PATH)));
	/* Not covered by inter's CRL: fail closed. */
	CU_ASSERT(has(&vr, R(REVOCATION_UNKNOWN)));
	CU_ASSERT_EQUAL(vr.n_path, 3);
	tc_validation_release(&vr);
	CU_ASSERT_EQUAL(tc_validator_cached_cas(v), 3);
	run(v, &c, "svc.example.org", 0, SERVER, &vr);
	CU_ASSERT(has(&vr, R(OK_PATH)));
	CU_ASSERT_EQUAL(vr.n_path, 3);
	tc_validation_release(&vr);
	CU_ASSERT_EQUAL(tc_validator_cached_cas(v), 3);
	/* Leaf alone: other_inter is cached but not pinned, so no path. */
	struct chain alone = {0};
	push(&alone, leaf);
	expect(v, &alone, "svc.example.org", 0, SERVER, 0, R(PATH_UNTRUSTED));
	chain_free(&c);
	chain_free(&alone);
	X509_free(leaf);
	tc_validator_free(v);
}

static void test_validity(void)
{
	struct tc_validator *v = new_validator(NULL, 0);
	int64_t now = (int64_t)time(NULL);
	struct tc_test_leaf o = {.dns = "svc.example.org", .server = 1, .nb = now - 100, .na = now + 100};
	X509 *leaf = tc_test_leaf_new(&inter, leaf_key, &o);
	struct chain c = {0};
	push(&c, leaf);
	push(&c, inter.cert);
	expect(v, &c, "svc.example.org", now, SERVER, 1, R(OK_VALIDITY));
	expect(v, &c, "svc.example.org", now + 100, SERVER, 1, R(OK_VALIDITY)); /* notAfter inclusive */
	expect(v, &c, "svc.example.org", now + 101, SERVER, 0, R(EXPIRED));
	expect(v, &c, "svc.example.org", now - 101, SERVER, 0, R(NOT_YET_VALID));
	struct tc_validation vr;
	run(v, &c, "svc.example.org", now + 101, SERVER, &vr);
	CU_ASSERT(has(&vr, R(OK_PATH))); /* the path is fine; only the time is not */
	CU_ASSERT(!has(&vr, R(OK_VALIDITY)));
	CU_ASSERT(strstr(vr.detail, "expired") != NULL);
	tc_validation_release(&vr);
	/* An intermediate that expired before the leaf. */
	struct tc_test_ca short_inter;
	CU_ASSERT_EQUAL_FATAL(tc_test_ca_sub(&short_inter, &root, "Short Intermediate", now - 1000, now + 50), 0);
	X509 *leaf2 = tc_test_leaf_new(&short_inter, leaf_key, &o);
	struct chain c2 = {0};
	push(&c2, leaf2);
	push(&c2, short_inter.cert);
	expect(v, &c2, "svc.example.org", now + 60, SERVER, 0, R(EXPIRED));
	run(v, &c2, "svc.example.org", now + 60, SERVER, &vr);
	CU_ASSERT(strstr(vr.detail, "intermediate") != NULL);
	tc_validation_release(&vr);
	chain_free(&c);
	chain_free(&c2);
	X509_free(leaf);
	X509_free(leaf2);
	tc_test_ca_free(&short_inter);
	tc_validator_free(v);
}

static void test_names(void)
{
	struct tc_validator *v = new_validator(NULL, 0);
	struct tc_test_leaf o = {.dns = "*.svc.example.org", .ip = "10.1.2.3", .cn = "cn.example.org", .server = 1};
	X509 *leaf = tc_test_leaf_new(&inter, leaf_key, &o);
	struct chain c = {0};
	push(&c, leaf);
	push(&c, inter.cert);
	expect(v, &c, "a.svc.example.org", 0, SERVER, 1, R(OK_NAME));
	expect(v, &c, "A.SVC.example.org.", 0, SERVER, 1, R(OK_NAME));
	expect(v, &c, "10.1.2.3", 0, SERVER, 1, R(OK_NAME));
	expect(v, &c, "", 0, SERVER, 1, R(NAME_NOT_CHECKED));
	expect(v, &c, NULL, 0, SERVER, 1, R(NAME_NOT_CHECKED));
	expect(v, &c, "svc.example.org", 0, SERVER, 0, R(NAME_MISMATCH));
	expect(v, &c, "a.b.svc.example.org", 0, SERVER, 0, R(NAME_MISMATCH));
	expect(v, &c, "10.1.2.4", 0, SERVER, 0, R(NAME_MISMATCH));
	expect(v, &c, "cn.example.org", 0, SERVER, 0, R(NAME_MISMATCH)); /* the CN is no name */
	char longname[400];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	expect(v, &c, longname, 0, SERVER, 0, R(NAME_MISMATCH));
	chain_free(&c);
	X509_free(leaf);
	tc_validator_free(v);
}

static void test_key_usage(void)
{
	struct tc_validator *v = new_validator(NULL, 0);
	struct {
		struct tc_test_leaf o;
		Trustchain__V1__Purpose p;
		int ok;
	} cases[] = {
		{{.dns = "a.example.org", .server = 1}, SERVER, 1},
		{{.dns = "a.example.org", .server = 1}, TRUSTCHAIN__V1__PURPOSE__PURPOSE_UNSPECIFIED, 1},
		{{.dns = "a.example.org", .server = 1}, CLIENT, 0},
		{{.dns = "a.example.org", .client = 1}, CLIENT, 1},
		{{.dns = "a.example.org", .client = 1}, SERVER, 0},
		{{.dns = "a.example.org", .server = 1, .client = 1}, CLIENT, 1},
		{{.dns = "a.example.org", .server = 1, .no_eku = 1}, SERVER, 0},
		{{.dns = "a.example.org", .any_eku = 1}, SERVER, 0},
		{{.dns = "a.example.org", .server = 1, .no_ku = 1}, SERVER, 0},
		{{.dns = "a.example.org", .server = 1, .ca = 1}, SERVER, 0},
		{{.dns = "a.example.org", .server = 1}, (Trustchain__V1__Purpose)9, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		X509 *leaf = tc_test_leaf_new(&inter, leaf_key, &cases[i].o);
		CU_ASSERT_PTR_NOT_NULL_FATAL(leaf);
		struct chain c = {0};
		push(&c, leaf);
		push(&c, inter.cert);
		expect(v, &c, "a.example.org", 0, cases[i].p, cases[i].ok,
		       cases[i].ok ? R(OK_KEY_USAGE) : R(KEY_USAGE_MISMATCH));
		chain_free(&c);
		X509_free(leaf);
	}
	tc_validator_free(v);
}

static void test_revocation(void)
{
	struct tc_validator *v = new_validator(NULL, 0);
	set_revoked(NULL, 0);
	struct tc_test_leaf o = {.dns = "svc.example.org", .server = 1, .serial = 0x1234567890abcdefull};
	X509 *leaf = tc_test_leaf_new(&inter, leaf_key, &o);
	struct chain c = {0};
	push(&c, leaf);
	push(&c, inter.cert);
	int before = atomic_load(&crl_src.fetches);
	expect(v, &c, "", 0, SERVER, 1, R(OK_NOT_REVOKED));
	expect(v, &c, "", 0, SERVER, 1, R(OK_NOT_REVOKED));
	CU_ASSERT_EQUAL(atomic_load(&crl_src.fetches), before + 1); /* one fetch serves the second */
	/* Revoked at the signer: the cached set (< 1 s old) still says good,
	 * until the gateway learns of the revocation. */
	uint64_t serial = o.serial;
	set_revoked(&serial, 1);
	expect(v, &c, "", 0, SERVER, 1, R(OK_NOT_REVOKED));
	tc_validator_revocation_changed(v);
	expect(v, &c, "", 0, SERVER, 0, R(REVOKED));
	struct tc_validation vr;
	run(v, &c, "", 0, SERVER, &vr);
	CU_ASSERT(strstr(vr.detail, "1234567890ABCDEF") || strstr(vr.detail, "1234567890abcdef"));
	CU_ASSERT(has(&vr, R(OK_PATH)));
	tc_validation_release(&vr);
	/* Another certificate is not affected. */
	X509 *other = server_leaf(&inter, "svc.example.org");
	struct chain c2 = {0};
	push(&c2, other);
	expect(v, &c2, "", 0, SERVER, 1, R(OK_NOT_REVOKED));
	/* After a second the signer is asked again on its own. */
	int n = atomic_load(&crl_src.fetches);
	usleep(1100 * 1000);
	expect(v, &c, "", 0, SERVER, 0, R(REVOKED));
	CU_ASSERT_EQUAL(atomic_load(&crl_src.fetches), n + 1);
	chain_free(&c);
	chain_free(&c2);
	X509_free(leaf);
	X509_free(other);
	set_revoked(NULL, 0);
	tc_validator_free(v);
}

static void test_revocation_fails_closed(void)
{
	X509 *leaf = server_leaf(&inter, "svc.example.org");
	struct chain c = {0};
	push(&c, leaf);
	/* Signer down from the start. */
	atomic_store(&crl_src.fail, 1);
	struct tc_validator *v = new_validator(NULL, 0);
	expect(v, &c, "", 0, SERVER, 0, R(REVOCATION_UNKNOWN));
	struct tc_validation vr;
	run(v, &c, "", 0, SERVER, &vr);
	CU_ASSERT(strstr(vr.detail, "signer down (test)") != NULL);
	tc_validation_release(&vr);
	/* Back: good again at the next attempt after the back-off. */
	atomic_store(&crl_src.fail, 0);
	usleep(1100 * 1000);
	expect(v, &c, "", 0, SERVER, 1, R(OK_NOT_REVOKED));
	/* Down again: the last set (seconds old) is still used... */
	atomic_store(&crl_src.fail, 1);
	usleep(1100 * 1000);
	expect(v, &c, "", 0, SERVER, 1, R(OK_NOT_REVOKED));
	/* ...but not after an invalidation: a revocation may be missing. */
	tc_validator_revocation_changed(v);
	expect(v, &c, "", 0, SERVER, 0, R(REVOCATION_UNKNOWN));
	atomic_store(&crl_src.fail, 0);
	tc_validator_free(v);
	/* A CRL not signed by our intermediate is no CRL. */
	crl_src.wrong_signer = 1;
	v = new_validator(NULL, 0);
	expect(v, &c, "", 0, SERVER, 0, R(REVOCATION_UNKNOWN));
	crl_src.wrong_signer = 0;
	tc_validator_free(v);
	chain_free(&c);
	X509_free(leaf);
}

/* ---- embedded SCTs ---- */

/* The SCT list a log with key `log` issues for precert (poisoned, DER),
 * built with the CT log's own encoders. */
static unsigned char *make_sct_list(EVP_PKEY *log, const unsigned char *precert, size_t precert_len, size_t *out_len)
{
	unsigned char *tbs = NULL, *spki = NULL, *input = NULL, *sig = NULL, *list = NULL;
	size_t tbs_len, in_len, sig_len = 0, inter_len;
	struct tc_ct_entry e = {.type = TC_CT_PRECERT_ENTRY, .timestamp = (uint64_t)time(NULL) * 1000};
	unsigned char *inter_der = tc_test_der(inter.cert, &inter_len);
	int spki_len = i2d_PUBKEY(log, &spki);
	struct tc_ct_sct sct = {.timestamp = e.timestamp, .sig_alg = TC_CT_SIG_ECDSA};
	SHA256(spki, (size_t)spki_len, sct.log_id);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (tc_ct_precert_tbs(precert, precert_len, &tbs, &tbs_len) != TC_CT_OK ||
	    tc_ct_issuer_key_hash(inter_der, inter_len, e.issuer_key_hash) != TC_CT_OK)
		goto out;
	e.cert = tbs;
	e.cert_len = tbs_len;
	input = malloc(tbs_len + 256);
	if (tc_ct_encode_sct_signature_input(&e, input, tbs_len + 256, &in_len) != TC_CT_OK ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, log) != 1 ||
	    EVP_DigestSign(md, NULL, &sig_len, input, in_len) != 1 || !(sig = malloc(sig_len)) ||
	    EVP_DigestSign(md, sig, &sig_len, input, in_len) != 1)
		goto out;
	sct.signature = sig;
	sct.signature_len = sig_len;
	list = malloc(1024);
	if (tc_ct_encode_sct_list(&sct, 1, list, 1024, out_len) != TC_CT_OK) {
		free(list);
		list = NULL;
	}
out:
	EVP_MD_CTX_free(md);
	free(tbs);
	free(input);
	free(sig);
	OPENSSL_free(spki);
	OPENSSL_free(inter_der);
	return list;
}

/* A final certificate with the SCT list: same fields as the precert. */
static X509 *final_with(const unsigned char *list, size_t len, uint64_t serial, int64_t nb, int64_t na)
{
	struct tc_test_leaf o = {.dns = "svc.example.org", .server = 1, .serial = serial, .nb = nb, .na = na,
				 .sct_list = list, .sct_list_len = len};
	return tc_test_leaf_new(&inter, leaf_key, &o);
}

static void test_embedded_sct(void)
{
	int64_t nb = (int64_t)time(NULL) - 60, na = nb + 3600;
	uint64_t serial = 0x42424242;
	struct tc_test_leaf po = {.dns = "svc.example.org", .server = 1, .serial = serial, .nb = nb, .na = na,
				  .poison = 1};
	X509 *pre = tc_test_leaf_new(&inter, leaf_key, &po);
	size_t pre_len, list_len;
	unsigned char *pre_der = tc_test_der(pre, &pre_len);
	unsigned char *list = make_sct_list(log_key, pre_der, pre_len, &list_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(list);
	X509 *fin = final_with(list, list_len, serial, nb, na);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fin);

	/* The DER surgery gives exactly OpenSSL's re-encoded TBS. */
	size_t fin_len;
	unsigned char *fin_der = tc_test_der(fin, &fin_len);
	unsigned char *tbs_a, *tbs_b;
	size_t la, lb, ll;
	const unsigned char *lp;
	CU_ASSERT_EQUAL_FATAL(tc_sct_split_certificate(fin_der, fin_len, &tbs_a, &la, &lp, &ll), 0);
	CU_ASSERT_EQUAL_FATAL(tc_ct_precert_tbs(fin_der, fin_len, &tbs_b, &lb), TC_CT_OK);
	CU_ASSERT(la == lb && memcmp(tbs_a, tbs_b, la) == 0);
	CU_ASSERT(ll == list_len && memcmp(lp, list, ll) == 0);
	free(tbs_a);
	free(tbs_b);
	CU_ASSERT_EQUAL(tc_sct_split_certificate(pre_der, pre_len, &tbs_a, &la, &lp, &ll), 1); /* no SCT ext */

	struct tc_validator *v = new_validator(log_key, 1);
	struct chain c = {0};
	push(&c, fin);
	push(&c, inter.cert);
	expect(v, &c, "svc.example.org", 0, SERVER, 1, R(OK_SCT));
	/* Without an SCT: failing when required... */
	X509 *plain = server_leaf(&inter, "svc.example.org");
	struct chain p = {0};
	push(&p, plain);
	expect(v, &p, "svc.example.org", 0, SERVER, 0, R(SCT_MISSING));
	/* ...reported but not failing when not. */
	struct tc_validator *lax = new_validator(log_key, 0);
	expect(lax, &p, "svc.example.org", 0, SERVER, 1, R(SCT_MISSING));
	expect(lax, &c, "svc.example.org", 0, SERVER, 1, R(OK_SCT));
	/* A tampered SCT signature, or an SCT over another certificate. */
	unsigned char *bad = malloc(list_len);
	memcpy(bad, list, list_len);
	bad[list_len - 5] ^= 0x01;
	X509 *tampered = final_with(bad, list_len, serial, nb, na);
	struct chain t = {0};
	push(&t, tampered);
	expect(lax, &t, "svc.example.org", 0, SERVER, 0, R(SCT_INVALID));
	unsigned long hits = tc_validator_leaf_hits(lax);
	expect(lax, &t, "svc.example.org", 0, SERVER, 0, R(SCT_INVALID)); /* remembered with the leaf */
	CU_ASSERT_EQUAL(tc_validator_leaf_hits(lax), hits + 1);
	X509 *moved = final_with(list, list_len, serial + 1, nb, na);
	struct chain m = {0};
	push(&m, moved);
	expect(lax, &m, "svc.example.org", 0, SERVER, 0, R(SCT_INVALID));
	/* A malformed list. */
	unsigned char trunc[] = {0x00, 0x05, 0x00, 0x03, 0x00};
	X509 *broken = final_with(trunc, sizeof(trunc), serial, nb, na);
	struct chain b = {0};
	push(&b, broken);
	expect(lax, &b, "svc.example.org", 0, SERVER, 0, R(SCT_INVALID));
	/* An SCT from a log we do not know: ignored, so missing. */
	EVP_PKEY *stranger = EVP_EC_gen("P-256");
	size_t sl;
	unsigned char *slist = make_sct_list(stranger, pre_der, pre_len, &sl);
	X509 *foreign = final_with(slist, sl, serial, nb, na);
	struct chain f = {0};
	push(&f, foreign);
	expect(v, &f, "svc.example.org", 0, SERVER, 0, R(SCT_MISSING));
	/* No log key configured: nothing can verify. */
	struct tc_validator *nolog = new_validator(NULL, 1);
	expect(nolog, &c, "svc.example.org", 0, SERVER, 0, R(SCT_MISSING));

	chain_free(&c);
	chain_free(&p);
	chain_free(&t);
	chain_free(&m);
	chain_free(&b);
	chain_free(&f);
	X509_free(pre);
	X509_free(fin);
	X509_free(plain);
	X509_free(tampered);
	X509_free(moved);
	X509_free(broken);
	X509_free(foreign);
	EVP_PKEY_free(stranger);
	OPENSSL_free(pre_der);
	OPENSSL_free(fin_der);
	free(list);
	free(slist);
	free(bad);
	tc_validator_free(v);
	tc_validator_free(lax);
	tc_validator_free(nolog);
}

/* ---- threads ---- */

#define THREADS 4
#define ROUNDS 300

struct worker {
	struct tc_validator *v;
	struct chain *good, *other;
	int wrong;
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < ROUNDS; i++) {
		struct tc_validation vr;
		struct chain *c = i % 2 ? w->good : w->other;
		run(w->v, c, "svc.example.org", 0, SERVER, &vr);
		if (!vr.trusted && !has(&vr, R(REVOCATION_UNKNOWN)))
			w->wrong++;
		tc_validation_release(&vr);
		if (i % 50 == 0)
			tc_validator_revocation_changed(w->v);
	}
	return NULL;
}

/* Many threads through both caches at once, with invalidations: every
 * answer is TRUSTED (the CRL is empty). ASan/UBSan watch the locking. */
static void test_threads(void)
{
	struct tc_validator *v = new_validator(NULL, 0);
	X509 *a = server_leaf(&inter, "svc.example.org"), *b = server_leaf(&other_inter, "svc.example.org");
	struct chain good = {0}, other = {0};
	push(&good, a);
	push(&good, inter.cert);
	push(&other, b);
	push(&other, other_inter.cert);
	pthread_t t[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.v = v, .good = &good, .other = &other};
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(w[i].wrong, 0);
	}
	CU_ASSERT_EQUAL(tc_validator_cached_cas(v), 3);
	chain_free(&good);
	chain_free(&other);
	X509_free(a);
	X509_free(b);
	tc_validator_free(v);
}

static void test_bad_configuration(void)
{
	char err[256];
	struct tc_validator_config cfg = {.root_pem = "not pem", .intermediate_pem = inter_pem};
	CU_ASSERT_PTR_NULL(tc_validator_new(&cfg, err, sizeof(err)));
	/* An intermediate from another root. */
	struct tc_test_ca fi;
	CU_ASSERT_EQUAL_FATAL(tc_test_ca_sub(&fi, &foreign_root, "X", 0, 0), 0);
	char *fi_pem = tc_test_pem(fi.cert);
	cfg.root_pem = root_pem;
	cfg.intermediate_pem = fi_pem;
	CU_ASSERT_PTR_NULL(tc_validator_new(&cfg, err, sizeof(err)));
	CU_ASSERT(strstr(err, "does not chain") != NULL);
	free(fi_pem);
	tc_test_ca_free(&fi);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"trusted: every reason, verified path, leaf alone, root ignored", test_trusted_full_reasons},
		{"PEM elements", test_pem_elements},
		{"malformed and empty chains", test_malformed_and_empty},
		{"no path: foreign CA, self-signed, forged signature, precert", test_path_untrusted},
		{"an unpinned intermediate is verified once, then cached", test_unpinned_intermediate_cached},
		{"validity windows of leaf and intermediate", test_validity},
		{"names: DNS, wildcard, IP, CN ignored", test_names},
		{"key usage against the purpose", test_key_usage},
		{"revocation: cache, invalidation, refresh", test_revocation},
		{"revocation fails closed", test_revocation_fails_closed},
		{"embedded SCTs", test_embedded_sct},
		{"threads", test_threads},
		{"bad configuration", test_bad_configuration},
		{NULL, NULL},
	};
	return tc_run_suite("validate_core", tests, suite_init, suite_cleanup);
}
