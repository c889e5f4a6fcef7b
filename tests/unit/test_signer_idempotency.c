/* The signer's idempotency keys (signer/idempotency.h): the same key and
 * request give the certificate signed for it back, another request under
 * the key is refused, a key in flight is busy, records expire, memory is
 * bounded, and the records come back from the journal after a restart. */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/leaf_template.h"
#include "signer/idempotency.h"
#include "signer/journal.h"
#include "unit/cunit_main.h"

#define NOW 1800000000

static EVP_PKEY *pkey;
static char tmpdir[] = "/tmp/tc-test-idem-XXXXXX";

static int suite_init(void)
{
	pkey = EVP_EC_gen("P-256");
	return pkey && mkdtemp(tmpdir) ? 0 : -1;
}

static int suite_cleanup(void)
{
	EVP_PKEY_free(pkey);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A leaf template for name, valid from not_before (a retry's is later). */
static uint8_t *tmpl(const char *name, time_t not_before, size_t *len)
{
	const char *names[1] = {name};
	struct tc_leaf_request rq = {.pubkey = pkey, .dns_names = names, .n_dns = 1, .server_auth = 1,
				     .not_before = not_before, .not_after = not_before + 86400};
	unsigned char *spki = NULL;
	int n = i2d_PUBKEY(pkey, &spki);
	uint8_t *der = NULL;
	char err[200];
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_FATAL(tc_leaf_tbs_der(&rq, spki, (size_t)n, &der, len, err, sizeof(err)) == 0);
	OPENSSL_free(spki);
	return der;
}

static const uint8_t KEY[] = "order-1";
static const uint8_t SERIAL[16] = {0x41, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t PRECERT[] = "precertificate DER";
static const uint8_t FINAL[] = "final certificate DER";

struct call {
	enum tc_idem_verdict v;
	const uint8_t *tbs;
	size_t tbs_len;
	uint8_t *der;
	size_t der_len;
	uint8_t serial[16];
	char why[200];
};

static enum tc_idem_verdict begin(struct tc_idem *t, const char *peer, const uint8_t *key, size_t key_len,
				  int precert, const uint8_t *tbs, size_t tbs_len, const uint8_t *serial,
				  struct call *c, time_t now)
{
	memset(c, 0, sizeof(*c));
	c->tbs = tbs;
	c->tbs_len = tbs_len;
	c->v = tc_idem_begin(t, peer, key, key_len, precert, &c->tbs, &c->tbs_len, serial, serial ? 16 : 0, &c->der,
			     &c->der_len, c->serial, c->why, sizeof(c->why), now);
	return c->v;
}

static void finish(struct tc_idem *t, const char *peer, int precert, const uint8_t *der, size_t der_len,
		   char **detail, time_t now)
{
	char *d = NULL;
	tc_idem_finish(t, peer, KEY, sizeof(KEY) - 1, precert, der, der_len, SERIAL, &d, now);
	if (detail)
		*detail = d;
	else
		free(d);
}

/* One keyed issuance: precertificate then final certificate, signed. */
static void issue_once(struct tc_idem *t, const uint8_t *tbs, size_t len, char **pre_detail, char **fin_detail)
{
	struct call c;
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 1, tbs, len, NULL, &c, NOW), TC_IDEM_SIGN);
	finish(t, "gateway", 1, PRECERT, sizeof(PRECERT), pre_detail, NOW);
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 0, tbs, len, SERIAL, &c, NOW), TC_IDEM_SIGN);
	finish(t, "gateway", 0, FINAL, sizeof(FINAL), fin_detail, NOW);
}

static void test_same_request_same_certificate(void)
{
	struct tc_idem *t = tc_idem_new(16, 3600);
	size_t l1, l2;
	uint8_t *first = tmpl("a.example", NOW, &l1), *retry = tmpl("a.example", NOW + 30, &l2);
	issue_once(t, first, l1, NULL, NULL);
	struct call c;
	/* The retry's template is later: still the same request. */
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 1, retry, l2, NULL, &c, NOW + 30), TC_IDEM_REPLAY);
	CU_ASSERT(c.der_len == sizeof(PRECERT) && memcmp(c.der, PRECERT, sizeof(PRECERT)) == 0);
	CU_ASSERT(memcmp(c.serial, SERIAL, 16) == 0);
	free(c.der);
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 0, retry, l2, SERIAL, &c, NOW + 30), TC_IDEM_REPLAY);
	CU_ASSERT(c.der_len == sizeof(FINAL) && memcmp(c.der, FINAL, sizeof(FINAL)) == 0);
	free(c.der);
	free(first);
	free(retry);
	tc_idem_free(t);
}

static void test_other_request_refused(void)
{
	struct tc_idem *t = tc_idem_new(16, 3600);
	size_t l1, l2;
	uint8_t *first = tmpl("a.example", NOW, &l1), *other = tmpl("b.example", NOW, &l2);
	issue_once(t, first, l1, NULL, NULL);
	struct call c;
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 1, other, l2, NULL, &c, NOW), TC_IDEM_REFUSED);
	CU_ASSERT_PTR_NULL(c.der);
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 0, other, l2, SERIAL, &c, NOW), TC_IDEM_REFUSED);
	/* The right request naming another serial is refused as well. */
	uint8_t serial2[16] = {0x41, 9};
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 0, first, l1, serial2, &c, NOW), TC_IDEM_REFUSED);
	/* Keys are per peer: another peer's same key is a new request. */
	CU_ASSERT_EQUAL(begin(t, "transparency", KEY, sizeof(KEY) - 1, 1, other, l2, NULL, &c, NOW), TC_IDEM_SIGN);
	tc_idem_finish(t, "transparency", KEY, sizeof(KEY) - 1, 1, NULL, 0, NULL, &(char *){NULL}, NOW);
	free(first);
	free(other);
	tc_idem_free(t);
}

static void test_busy_and_failed_signature(void)
{
	struct tc_idem *t = tc_idem_new(16, 3600);
	size_t l1;
	uint8_t *first = tmpl("a.example", NOW, &l1);
	struct call c;
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 1, first, l1, NULL, &c, NOW), TC_IDEM_SIGN);
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 1, first, l1, NULL, &c, NOW), TC_IDEM_BUSY);
	/* Nothing signed: the key is free again, nothing to journal. */
	char *detail = (char *)"unset";
	tc_idem_finish(t, "gateway", KEY, sizeof(KEY) - 1, 1, NULL, 0, NULL, &detail, NOW);
	CU_ASSERT_PTR_NULL(detail);
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 1, first, l1, NULL, &c, NOW), TC_IDEM_SIGN);
	finish(t, "gateway", 1, PRECERT, sizeof(PRECERT), NULL, NOW);
	/* The final certificate in flight is busy too; it is signed from the
	 * first request's template. */
	size_t l2;
	uint8_t *retry = tmpl("a.example", NOW + 5, &l2);
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 0, retry, l2, SERIAL, &c, NOW), TC_IDEM_SIGN);
	CU_ASSERT(c.tbs_len == l1 && memcmp(c.tbs, first, l1) == 0);
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 0, retry, l2, SERIAL, &c, NOW), TC_IDEM_BUSY);
	finish(t, "gateway", 0, NULL, 0, NULL, NOW); /* refused: may be asked again */
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 0, retry, l2, SERIAL, &c, NOW), TC_IDEM_SIGN);
	finish(t, "gateway", 0, FINAL, sizeof(FINAL), NULL, NOW);
	/* A forgotten key (its precertificate lost) is signed anew. */
	tc_idem_forget(t, "gateway", KEY, sizeof(KEY) - 1, NOW);
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 1, first, l1, NULL, &c, NOW), TC_IDEM_SIGN);
	finish(t, "gateway", 1, NULL, 0, NULL, NOW);
	free(first);
	free(retry);
	tc_idem_free(t);
}

static void test_bad_input(void)
{
	struct tc_idem *t = tc_idem_new(16, 3600);
	size_t l1;
	uint8_t *first = tmpl("a.example", NOW, &l1);
	uint8_t long_key[TC_IDEM_KEY_MAX + 1];
	memset(long_key, 'k', sizeof(long_key));
	struct call c;
	CU_ASSERT_EQUAL(begin(t, "gateway", long_key, sizeof(long_key), 1, first, l1, NULL, &c, NOW), TC_IDEM_ERROR);
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, 0, 1, first, l1, NULL, &c, NOW), TC_IDEM_ERROR);
	const uint8_t garbage[] = {0x30, 0x03, 0x02, 0x01, 0x01};
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 1, garbage, sizeof(garbage), NULL, &c, NOW),
			TC_IDEM_ERROR);
	free(first);
	tc_idem_free(t);
}

static void test_expiry_and_bound(void)
{
	struct tc_idem *t = tc_idem_new(2, 100);
	size_t l1;
	uint8_t *first = tmpl("a.example", NOW, &l1);
	issue_once(t, first, l1, NULL, NULL);
	struct call c;
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 1, first, l1, NULL, &c, NOW + 99), TC_IDEM_REPLAY);
	free(c.der);
	/* Expired: a new issuance. */
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 1, first, l1, NULL, &c, NOW + 100), TC_IDEM_SIGN);
	finish(t, "gateway", 1, PRECERT, sizeof(PRECERT), NULL, NOW + 100);
	/* Two more keys in a table of two: the oldest record goes. */
	const uint8_t k2[] = "k2", k3[] = "k3";
	CU_ASSERT_EQUAL(begin(t, "gateway", k2, 2, 1, first, l1, NULL, &c, NOW + 101), TC_IDEM_SIGN);
	char *d = NULL;
	tc_idem_finish(t, "gateway", k2, 2, 1, PRECERT, sizeof(PRECERT), SERIAL, &d, NOW + 101);
	CU_ASSERT_PTR_NOT_NULL(d);
	free(d);
	CU_ASSERT_EQUAL(begin(t, "gateway", k3, 2, 1, first, l1, NULL, &c, NOW + 102), TC_IDEM_SIGN);
	/* k3 in flight, k2 kept; KEY was evicted, so it is signed anew (k2
	 * goes); with both records in flight a fourth key is busy. */
	CU_ASSERT_EQUAL(begin(t, "gateway", k2, 2, 1, first, l1, NULL, &c, NOW + 102), TC_IDEM_REPLAY);
	free(c.der);
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 1, first, l1, NULL, &c, NOW + 102), TC_IDEM_SIGN);
	const uint8_t k4[] = "k4";
	CU_ASSERT_EQUAL(begin(t, "gateway", k4, 2, 1, first, l1, NULL, &c, NOW + 102), TC_IDEM_BUSY);
	free(first);
	tc_idem_free(t);
}

static void journal_detail(struct tc_journal *j, const char *detail)
{
	struct tc_journal_entry e = {.peer = "gateway", .op = TC_IDEM_JOURNAL_OP, .key = "",
				     .data = (const unsigned char *)"x", .data_len = 1, .result = "ok",
				     .detail = detail};
	CU_ASSERT(tc_journal_append(j, &e) > 0);
}

static void test_reload_from_journal(void)
{
	struct tc_idem *t = tc_idem_new(16, 3600);
	size_t l1, l2;
	uint8_t *first = tmpl("a.example", NOW, &l1), *other = tmpl("b.example", NOW, &l2);
	char *pre = NULL, *fin = NULL;
	issue_once(t, first, l1, &pre, &fin);
	CU_ASSERT_FATAL(pre && fin);
	tc_idem_free(t);

	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/audit.jsonl", tmpdir);
	struct tc_journal *j = tc_journal_open(path, err, sizeof(err));
	CU_ASSERT_FATAL(j != NULL);
	journal_detail(j, "at=1 kind=precert key=zz"); /* malformed: skipped */
	journal_detail(j, pre);
	journal_detail(j, fin);
	tc_journal_close(j);
	free(pre);
	free(fin);

	t = tc_idem_new(16, 3600);
	CU_ASSERT_EQUAL(tc_idem_load(t, path, NOW + 10), 3);
	struct call c;
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 1, first, l1, NULL, &c, NOW + 10), TC_IDEM_REPLAY);
	CU_ASSERT(c.der_len == sizeof(PRECERT) && memcmp(c.der, PRECERT, sizeof(PRECERT)) == 0);
	free(c.der);
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 0, first, l1, SERIAL, &c, NOW + 10), TC_IDEM_REPLAY);
	CU_ASSERT(c.der_len == sizeof(FINAL) && memcmp(c.der, FINAL, sizeof(FINAL)) == 0);
	free(c.der);
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 1, other, l2, NULL, &c, NOW + 10), TC_IDEM_REFUSED);
	tc_idem_free(t);
	/* Records older than the lifetime are not loaded. */
	t = tc_idem_new(16, 3600);
	tc_idem_load(t, path, NOW + 3600);
	CU_ASSERT_EQUAL(begin(t, "gateway", KEY, sizeof(KEY) - 1, 1, other, l2, NULL, &c, NOW + 3600), TC_IDEM_SIGN);
	tc_idem_free(t);
	CU_ASSERT_EQUAL(tc_idem_load(t = tc_idem_new(4, 60), "/nonexistent/journal", NOW), -1);
	tc_idem_free(t);
	free(first);
	free(other);
}

int main(void)
{
	static const struct tc_test tests[] = {
	    {"same key and request: the same certificate", test_same_request_same_certificate},
	    {"same key, another request: refused", test_other_request_refused},
	    {"in flight: busy; nothing signed: free again", test_busy_and_failed_signature},
	    {"malformed keys and templates", test_bad_input},
	    {"expiry and the bound on records", test_expiry_and_bound},
	    {"records reloaded from the journal", test_reload_from_journal},
	    {NULL, NULL},
	};
	return tc_run_suite("signer_idempotency", tests, suite_init, suite_cleanup);
}
