/* The pure parts of the STOQ kit (issue 15): the shared trust decision with
 * a CRL refreshed in the background (fresh, revoked, too old: fail closed),
 * length-delimited names, the online decision cache (keys, TTL, notAfter,
 * bounded), the verifier's refusal of a name holding a NUL before any RPC,
 * and the agent's renewal time. End to end: stoq_echo_test.sh. */
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client/verify_internal.h"
#include "common/trust_validator.h"
#include "ctl/agent.h"
#include "support/test_ca.h"
#include "unit/cunit_main.h"

static struct tc_test_ca root, inter;
static char *root_pem, *inter_pem;
static X509_CRL *crl_now; /* what the fake source serves */
static int source_up = 1;

static int fetch(void *arg, unsigned char **der, size_t *len, uint64_t *number, char *err, size_t errlen)
{
	(void)arg;
	if (!source_up || !crl_now) {
		snprintf(err, errlen, "source down");
		return -1;
	}
	unsigned char *p = NULL;
	int n = i2d_X509_CRL(crl_now, &p);
	if (n <= 0)
		return -1;
	*der = malloc((size_t)n);
	memcpy(*der, p, (size_t)n);
	OPENSSL_free(p);
	*len = (size_t)n;
	ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl_now, NID_crl_number, NULL, NULL);
	uint64_t v = 0;
	ASN1_INTEGER_get_uint64(&v, num);
	ASN1_INTEGER_free(num);
	*number = v;
	return 0;
}

static int init(void)
{
	if (tc_test_ca_root(&root, "Test Root", 0, 0) != 0 || tc_test_ca_sub(&inter, &root, "Test Issuing", 0, 0) != 0)
		return -1;
	root_pem = tc_test_pem(root.cert);
	inter_pem = tc_test_pem(inter.cert);
	return root_pem && inter_pem ? 0 : -1;
}

static int cleanup(void)
{
	free(root_pem);
	free(inter_pem);
	X509_CRL_free(crl_now);
	tc_test_ca_free(&inter);
	tc_test_ca_free(&root);
	return 0;
}

static unsigned char *leaf_der(uint64_t serial, const char *dns, size_t *len)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	struct tc_test_leaf o = {.dns = dns, .client = 1, .serial = serial};
	X509 *x = tc_test_leaf_new(&inter, k, &o);
	unsigned char *der = x ? tc_test_der(x, len) : NULL;
	X509_free(x);
	EVP_PKEY_free(k);
	return der;
}

static int has(const struct tc_trust_result *r, enum tc_reason reason)
{
	for (size_t i = 0; i < r->n_reasons; i++)
		if (r->reasons[i] == reason)
			return 1;
	return 0;
}

static void decide(struct tc_trust *t, const unsigned char *der, size_t len, const char *name, size_t name_len,
		   struct tc_trust_result *r)
{
	const unsigned char *elems[1] = {der};
	size_t lens[1] = {len};
	tc_trust_run(t, elems, lens, 1, name, name_len, 0, TC_PURPOSE_CLIENT_AUTH, r);
}

static void test_background_crl(void)
{
	struct tc_trust_config cfg = {
		.root_pem = root_pem,
		.intermediate_pem = inter_pem,
		.fetch_crl = fetch,
		.crl_timing = {.refresh_ms = 50, .max_age_ms = 300, .background = 1},
	};
	char err[256];
	struct tc_trust *t = tc_trust_new(&cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	size_t len1 = 0, len2 = 0;
	unsigned char *a = leaf_der(1001, "a.example", &len1), *b = leaf_der(1002, "b.example", &len2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	struct tc_trust_result r;

	/* No refresh yet: a lookup never fetches in background mode. */
	crl_now = tc_test_crl_new(&inter, NULL, 0, 1);
	decide(t, a, len1, "a.example", 9, &r);
	CU_ASSERT(!r.trusted && has(&r, TC_REASON_REVOCATION_UNKNOWN) && strstr(r.detail, "no CRL yet"));
	tc_trust_result_release(&r);

	char why[256];
	CU_ASSERT_EQUAL(tc_crl_cache_refresh(tc_trust_crl(t), why, sizeof(why)), 0);
	decide(t, a, len1, "a.example", 9, &r);
	CU_ASSERT(has(&r, TC_REASON_OK_NOT_REVOKED) && has(&r, TC_REASON_OK_PATH) && has(&r, TC_REASON_OK_NAME));
	tc_trust_result_release(&r);

	/* b revoked in CRL 2: seen at the next refresh, not before. */
	uint64_t revoked[1] = {1002};
	X509_CRL_free(crl_now);
	crl_now = tc_test_crl_new(&inter, revoked, 1, 2);
	decide(t, b, len2, "b.example", 9, &r);
	CU_ASSERT(has(&r, TC_REASON_OK_NOT_REVOKED));
	tc_trust_result_release(&r);
	CU_ASSERT_EQUAL(tc_crl_cache_refresh(tc_trust_crl(t), why, sizeof(why)), 0);
	decide(t, b, len2, "b.example", 9, &r);
	CU_ASSERT(!r.trusted && has(&r, TC_REASON_REVOKED));
	tc_trust_result_release(&r);

	/* The source goes away: the CRL is used up to max_age_ms, then the
	 * decision fails closed and says how old the CRL is. */
	source_up = 0;
	CU_ASSERT_EQUAL(tc_crl_cache_refresh(tc_trust_crl(t), why, sizeof(why)), -1);
	decide(t, a, len1, "a.example", 9, &r);
	CU_ASSERT(has(&r, TC_REASON_OK_NOT_REVOKED));
	tc_trust_result_release(&r);
	usleep(350 * 1000);
	decide(t, a, len1, "a.example", 9, &r);
	CU_ASSERT(!r.trusted && has(&r, TC_REASON_REVOCATION_UNKNOWN) && strstr(r.detail, "ms old") &&
		  strstr(r.detail, "source down"));
	tc_trust_result_release(&r);
	source_up = 1;
	CU_ASSERT_EQUAL(tc_crl_cache_refresh(tc_trust_crl(t), why, sizeof(why)), 0);
	decide(t, a, len1, "a.example", 9, &r);
	CU_ASSERT(has(&r, TC_REASON_OK_NOT_REVOKED));
	tc_trust_result_release(&r);

	/* Names are length-delimited: a NUL inside is refused, not cut. */
	decide(t, a, len1, "a.example\0.evil", 15, &r);
	CU_ASSERT(!r.trusted && has(&r, TC_REASON_NAME_MISMATCH) && strstr(r.detail, "control byte"));
	tc_trust_result_release(&r);
	decide(t, a, len1, "a.example.evil", 9, &r); /* only the first 9 bytes are the name */
	CU_ASSERT(has(&r, TC_REASON_OK_NAME));
	tc_trust_result_release(&r);

	OPENSSL_free(a);
	OPENSSL_free(b);
	tc_trust_free(t);
}

static void test_decision_cache(void)
{
	struct tc_decision_cache *c = tc_decision_cache_new(4, 100);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	unsigned char k1[32], k2[32], k3[32], k4[32];
	const unsigned char leaf[] = "leaf bytes";
	CU_ASSERT_EQUAL(tc_decision_key(leaf, sizeof(leaf), "a.example", 9, TC_PURPOSE_SERVER_AUTH, k1), 0);
	CU_ASSERT_EQUAL(tc_decision_key(leaf, sizeof(leaf), "a.example", 9, TC_PURPOSE_CLIENT_AUTH, k2), 0);
	CU_ASSERT_EQUAL(tc_decision_key(leaf, sizeof(leaf), "a.exampl", 8, TC_PURPOSE_SERVER_AUTH, k3), 0);
	CU_ASSERT_EQUAL(tc_decision_key(leaf, sizeof(leaf) - 1, "a.example", 9, TC_PURPOSE_SERVER_AUTH, k4), 0);
	CU_ASSERT(memcmp(k1, k2, 32) != 0 && memcmp(k1, k3, 32) != 0 && memcmp(k1, k4, 32) != 0);

	struct tc_verdict vd = {.decision = TC_TRUSTED, .n_reasons = 1, .reasons = {TC_REASON_OK_PATH}}, out;
	CU_ASSERT_FALSE(tc_decision_cache_get(c, k1, &out));
	tc_decision_cache_put(c, k1, &vd, 0);
	CU_ASSERT_TRUE(tc_decision_cache_get(c, k1, &out));
	CU_ASSERT_EQUAL(out.decision, TC_TRUSTED);
	CU_ASSERT_FALSE(tc_decision_cache_get(c, k2, &out));
	/* Past the leaf's notAfter: gone at once. */
	tc_decision_cache_put(c, k2, &vd, (int64_t)time(NULL) - 1);
	CU_ASSERT_FALSE(tc_decision_cache_get(c, k2, &out));
	/* Past the TTL: gone. */
	usleep(150 * 1000);
	CU_ASSERT_FALSE(tc_decision_cache_get(c, k1, &out));
	/* Bounded: many keys into 4 slots, each lookup a hit or a clean miss. */
	for (int i = 0; i < 1000; i++) {
		unsigned char k[32];
		char name[32];
		int n = snprintf(name, sizeof(name), "n%d.example", i);
		CU_ASSERT_EQUAL(tc_decision_key(leaf, sizeof(leaf), name, (size_t)n, TC_PURPOSE_SERVER_AUTH, k), 0);
		tc_decision_cache_put(c, k, &vd, 0);
		CU_ASSERT_TRUE(tc_decision_cache_get(c, k, &out));
	}
	tc_decision_cache_free(c);
}

static void test_verifier_refuses_nul_name(void)
{
	char err[256];
	/* Nothing listens there: the refusal must come before any RPC. */
	struct tc_client *client = tc_client_open_opts("127.0.0.1:1", &(struct tc_client_options){.plaintext = 1},
						       err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(client);
	struct tc_verifier *v =
		tc_verifier_new(&(struct tc_verifier_options){.mode = TC_VERIFY_ONLINE, .client = client}, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	size_t len = 0;
	unsigned char *a = leaf_der(7, "a.example", &len);
	const unsigned char *chain[1] = {a};
	struct tc_verdict vd;
	CU_ASSERT_EQUAL(tc_verifier_check(v, chain, &len, 1, "a.example\0x", 11, TC_PURPOSE_SERVER_AUTH, &vd), 0);
	CU_ASSERT(tc_verdict_has(&vd, TC_REASON_NAME_MISMATCH) && strstr(vd.detail, "control byte"));
	/* No gateway: no decision, and no trust. */
	tc_client_set_timeout(client, 300);
	CU_ASSERT_EQUAL(tc_verifier_check(v, chain, &len, 1, "a.example", 9, TC_PURPOSE_SERVER_AUTH, &vd), 0);
	CU_ASSERT_EQUAL(vd.decision, TC_UNTRUSTED);
	CU_ASSERT(strstr(vd.detail, "fail closed") != NULL);
	OPENSSL_free(a);
	tc_verifier_free(v);
	tc_client_close(client);
}

static void test_agent_renew_at(void)
{
	/* 2/3 of the life, minus up to 1/15 of it. */
	CU_ASSERT_EQUAL(tc_agent_renew_at(1000, 1000 + 86400, 0.0), 1000 + 57600);
	int64_t late = tc_agent_renew_at(1000, 1000 + 86400, 0.999999);
	CU_ASSERT(late <= 1000 + 57600 - 5700 && late >= 1000 + 57600 - 5760);
	CU_ASSERT_EQUAL(tc_agent_renew_at(1000, 1000 + 86400, 7.0), 1000 + 57600); /* out of range: none */
	CU_ASSERT_EQUAL(tc_agent_renew_at(1000, 900, 0.5), 1000); /* inverted window: now */
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"background CRL: fresh, revoked, too old, back", test_background_crl},
		{"online decision cache", test_decision_cache},
		{"verifier: NUL in the name, no gateway", test_verifier_refuses_nul_name},
		{"agent renewal time", test_agent_renew_at},
		{NULL, NULL},
	};
	return tc_run_suite("stoq_verify", tests, init, cleanup);
}
