/* The ACME resources through tc_acme_handle (src/acme/acme_router.c and the
 * handlers) over a real LevelDB store, with real keys and JWSs: accounts,
 * orders, authorizations, every JWS refusal (nonce replay, url mismatch,
 * wrong key, Content-Type, size), EAB, identifier policy, rate limits,
 * finalize's CSR checks, keyChange, deactivation, and orders surviving a
 * store reopen. No CA and no validator here: their refusals are checked
 * (503 with Retry-After); issuance is the integration tests' part. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <openssl/x509.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acme/acme.h"
#include "acme/acme_store.h"
#include "acme/b64url.h"
#include "acme/eab.h"
#include "acme/key_cache.h"
#include "acme/nonce.h"
#include "acme/rate_limit.h"
#include "common/config.h"
#include "unit/cunit_main.h"
#include "unit/test_acme_fixture.h"
#include "unit/test_acme_support.h"

#define BASE "https://acme.test:14000"

static struct tst_acme_fx fx;
static time_t fake_now = 1800000000;

static time_t test_now(void) { return fake_now; }
static int setup(void) { return tst_acme_fx_open(&fx, BASE, test_now, 0); }
static int teardown(void) { return tst_acme_fx_close(&fx); }

/* This file's short names for the fixture's requests. */
static struct tst_acme_reply call(const char *method, const char *path, const char *body, const char *ctype)
{
	return tst_acme_call(&fx, method, path, body, ctype);
}

static void fresh_nonce(char out[TC_NONCE_TEXT]) { CU_ASSERT_FATAL(tc_nonce_issue(fx.a.nonces, out) == 0); }

static struct tst_acme_reply post(EVP_PKEY *key, const char *kid, const char *path, const char *payload)
{
	return tst_acme_post(&fx, key, kid, path, payload);
}

static void new_account(EVP_PKEY *key, char *kid, size_t len) { tst_acme_new_account(&fx, key, kid, len); }

static const char *path_of(const char *url) { return url + strlen(BASE); }

static void test_directory_and_nonce(void)
{
	struct tst_acme_reply r = call("GET", "/acme/directory", NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r.body, "newNonce")), BASE "/acme/new-nonce");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r.body, "renewalInfo")), BASE "/acme/renewal-info");
	CU_ASSERT(json_is_false(json_object_get(json_object_get(r.body, "meta"), "externalAccountRequired")));
	tst_acme_reply_free(&r);
	r = call("HEAD", "/acme/new-nonce", NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	tst_acme_reply_free(&r);
	r = call("GET", "/acme/new-nonce", NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 204);
	tst_acme_reply_free(&r);
	r = call("GET", "/acme/order/x", NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 405);
	CU_ASSERT_STRING_EQUAL(r.type, "malformed");
	tst_acme_reply_free(&r);
}

static void test_accounts(void)
{
	EVP_PKEY *k = tst_acme_key("P-256"), *k2 = tst_acme_key("Ed25519");
	char kid[512];
	new_account(k, kid, sizeof(kid));
	CU_ASSERT(strncmp(kid, BASE "/acme/acct/", strlen(BASE "/acme/acct/")) == 0);
	/* The same key again: the same account, 200. */
	struct tst_acme_reply r = post(k, NULL, "/acme/new-account", "{\"termsOfServiceAgreed\":true}");
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.location, kid);
	tst_acme_reply_free(&r);
	r = post(k2, NULL, "/acme/new-account", "{\"onlyReturnExisting\":true}");
	CU_ASSERT_STRING_EQUAL(r.type, "accountDoesNotExist");
	tst_acme_reply_free(&r);
	r = post(k2, NULL, "/acme/new-account", "{\"contact\":[\"tel:+1555\"]}");
	CU_ASSERT_STRING_EQUAL(r.type, "unsupportedContact");
	tst_acme_reply_free(&r);
	r = post(k2, NULL, "/acme/new-account", "{\"contact\":[\"mailto:a@b.c?subject=x\"]}");
	CU_ASSERT_STRING_EQUAL(r.type, "invalidContact");
	tst_acme_reply_free(&r);
	/* POST-as-GET of the account, then a contact update. */
	r = post(k, kid, path_of(kid), "");
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r.body, "status")), "valid");
	tst_acme_reply_free(&r);
	r = post(k, kid, path_of(kid), "{\"contact\":[\"mailto:ops@example.org\"]}");
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(r.body, "contact"), 0)),
			       "mailto:ops@example.org");
	tst_acme_reply_free(&r);
	/* Another account's URL is not ours to read. */
	char kid2[512];
	new_account(k2, kid2, sizeof(kid2));
	r = post(k, kid, path_of(kid2), "");
	CU_ASSERT_STRING_EQUAL(r.type, "unauthorized");
	tst_acme_reply_free(&r);
	/* Deactivation: the account cannot sign anything afterwards. */
	r = post(k2, kid2, path_of(kid2), "{\"status\":\"deactivated\"}");
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r.body, "status")), "deactivated");
	tst_acme_reply_free(&r);
	r = post(k2, kid2, "/acme/new-order", "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.localhost\"}]}");
	CU_ASSERT_STRING_EQUAL(r.type, "unauthorized");
	tst_acme_reply_free(&r);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

static void test_jws_refusals(void)
{
	EVP_PKEY *k = tst_acme_key("P-256"), *other = tst_acme_key("P-256");
	char kid[512], nonce[TC_NONCE_TEXT];
	new_account(k, kid, sizeof(kid));
	const char *order = "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.localhost\"}]}";
	/* Nonce replay: the second use is badNonce. */
	fresh_nonce(nonce);
	char *jws = tst_acme_jws(k, NULL, kid, BASE "/acme/new-order", nonce, order, NULL);
	struct tst_acme_reply r = call("POST", "/acme/new-order", jws, "application/jose+json");
	CU_ASSERT_EQUAL(r.status, 201);
	tst_acme_reply_free(&r);
	r = call("POST", "/acme/new-order", jws, "application/jose+json");
	CU_ASSERT_STRING_EQUAL(r.type, "badNonce");
	CU_ASSERT_EQUAL(r.status, 400);
	tst_acme_reply_free(&r);
	free(jws);
	/* A nonce we never issued. */
	jws = tst_acme_jws(k, NULL, kid, BASE "/acme/new-order", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", order, NULL);
	r = call("POST", "/acme/new-order", jws, "application/jose+json");
	CU_ASSERT_STRING_EQUAL(r.type, "badNonce");
	tst_acme_reply_free(&r);
	free(jws);
	/* url of another resource. */
	fresh_nonce(nonce);
	jws = tst_acme_jws(k, NULL, kid, BASE "/acme/new-account", nonce, order, NULL);
	r = call("POST", "/acme/new-order", jws, "application/jose+json");
	CU_ASSERT_STRING_EQUAL(r.type, "unauthorized");
	tst_acme_reply_free(&r);
	free(jws);
	/* Signed by a key that is not the account's. */
	r = post(other, kid, "/acme/new-order", order);
	CU_ASSERT_STRING_EQUAL(r.type, "malformed");
	tst_acme_reply_free(&r);
	/* kid where jwk is needed and the other way round. */
	r = post(k, kid, "/acme/new-account", "{}");
	CU_ASSERT_STRING_EQUAL(r.type, "malformed");
	tst_acme_reply_free(&r);
	r = post(k, NULL, "/acme/new-order", order);
	CU_ASSERT_STRING_EQUAL(r.type, "malformed");
	tst_acme_reply_free(&r);
	/* Unknown account. */
	r = post(k, BASE "/acme/acct/nosuchaccount", "/acme/new-order", order);
	CU_ASSERT_STRING_EQUAL(r.type, "accountDoesNotExist");
	tst_acme_reply_free(&r);
	/* Content-Type and size. */
	fresh_nonce(nonce);
	jws = tst_acme_jws(k, NULL, kid, BASE "/acme/new-order", nonce, order, NULL);
	r = call("POST", "/acme/new-order", jws, "application/json");
	CU_ASSERT_EQUAL(r.status, 415);
	tst_acme_reply_free(&r);
	free(jws);
	char *big = malloc(fx.cfg.acme.max_jws_bytes + 2);
	memset(big, ' ', fx.cfg.acme.max_jws_bytes + 1);
	big[fx.cfg.acme.max_jws_bytes + 1] = 0;
	r = call("POST", "/acme/new-order", big, "application/jose+json");
	CU_ASSERT_EQUAL(r.status, 413);
	tst_acme_reply_free(&r);
	free(big);
	/* alg none. */
	fresh_nonce(nonce);
	jws = tst_acme_jws(k, "none", kid, BASE "/acme/new-order", nonce, order, NULL);
	r = call("POST", "/acme/new-order", jws, "application/jose+json");
	CU_ASSERT_STRING_EQUAL(r.type, "badSignatureAlgorithm");
	tst_acme_reply_free(&r);
	free(jws);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

static void test_identifiers(void)
{
	EVP_PKEY *k = tst_acme_key("P-384");
	char kid[512];
	new_account(k, kid, sizeof(kid));
	struct tst_acme_reply r = post(k, kid, "/acme/new-order",
			      "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"evil.example\"},"
			      "{\"type\":\"dns\",\"value\":\"ok.localhost\"},{\"type\":\"dns\",\"value\":\"*.localhost\"}]}");
	CU_ASSERT_STRING_EQUAL(r.type, "rejectedIdentifier");
	json_t *subs = json_object_get(r.body, "subproblems");
	CU_ASSERT_EQUAL(json_array_size(subs), 2);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(json_array_get(subs, 0), "identifier"),
								 "value")),
			       "evil.example");
	tst_acme_reply_free(&r);
	r = post(k, kid, "/acme/new-order", "{\"identifiers\":[{\"type\":\"email\",\"value\":\"a@b\"}]}");
	CU_ASSERT_STRING_EQUAL(r.type, "unsupportedIdentifier");
	tst_acme_reply_free(&r);
	r = post(k, kid, "/acme/new-order", "{\"identifiers\":[]}");
	CU_ASSERT_STRING_EQUAL(r.type, "malformed");
	tst_acme_reply_free(&r);
	/* ip identifiers (RFC 8738, dev CA): http-01 and tls-alpn-01 only. */
	r = post(k, kid, "/acme/new-order", "{\"identifiers\":[{\"type\":\"ip\",\"value\":\"127.0.0.1\"}]}");
	CU_ASSERT_EQUAL(r.status, 201);
	const char *authz = json_string_value(json_array_get(json_object_get(r.body, "authorizations"), 0));
	struct tst_acme_reply z = post(k, kid, path_of(authz), "");
	CU_ASSERT_EQUAL(z.status, 200);
	json_t *chs = json_object_get(z.body, "challenges");
	CU_ASSERT_EQUAL(json_array_size(chs), 2);
	for (size_t i = 0; i < json_array_size(chs); i++)
		CU_ASSERT(strcmp(json_string_value(json_object_get(json_array_get(chs, i), "type")), "dns-01") != 0);
	tst_acme_reply_free(&z);
	tst_acme_reply_free(&r);
	/* Too many identifiers. */
	fx.cfg.acme.max_identifiers = 1;
	r = post(k, kid, "/acme/new-order",
		 "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.localhost\"},{\"type\":\"dns\",\"value\":\"b.localhost\"}]}");
	CU_ASSERT_EQUAL(r.status, 400);
	tst_acme_reply_free(&r);
	fx.cfg.acme.max_identifiers = 100;
	EVP_PKEY_free(k);
}

/* Marks every authorization of order (its record) valid, as a passed
 * challenge would. */
static void validate_all(const char *order_url)
{
	const char *oid = strrchr(order_url, '/') + 1;
	json_t *o = tc_acme_store_get(fx.a.store, 'O', oid);
	CU_ASSERT_FATAL(o != NULL);
	size_t i;
	json_t *zid;
	json_array_foreach(json_object_get(o, "authzs"), i, zid) {
		json_t *z = tc_acme_store_get(fx.a.store, 'Z', json_string_value(zid));
		json_object_set_new(z, "status", json_string("valid"));
		json_object_set_new(json_array_get(json_object_get(z, "challenges"), 0), "status", json_string("valid"));
		CU_ASSERT(tc_acme_store_put(fx.a.store, 'Z', json_string_value(zid), z) == 0);
		json_decref(z);
	}
	json_decref(o);
}

static char *csr_payload(EVP_PKEY *key, const char *const *names, size_t n)
{
	unsigned char *der;
	int len = tst_acme_csr(key, names, n, &der);
	char *b = tc_b64url_encode(der, (size_t)len), *out = NULL;
	if (asprintf(&out, "{\"csr\":\"%s\"}", b) < 0)
		out = NULL;
	free(b);
	OPENSSL_free(der);
	return out;
}

static void test_order_flow(void)
{
	EVP_PKEY *k = tst_acme_key("RSA2048"), *certkey = tst_acme_key("P-256");
	char kid[512];
	new_account(k, kid, sizeof(kid));
	struct tst_acme_reply r = post(k, kid, "/acme/new-order",
			      "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"www.localhost\"},{\"type\":\"dns\",\"value\":\"API.localhost\"}]}");
	CU_ASSERT_EQUAL_FATAL(r.status, 201);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r.body, "status")), "pending");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(r.body, "authorizations")), 2);
	char order[512], finalize[600];
	snprintf(order, sizeof(order), "%s", r.location);
	snprintf(finalize, sizeof(finalize), "%s", json_string_value(json_object_get(r.body, "finalize")));
	/* Identifiers come back in canonical (lower) case. */
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(
				       json_array_get(json_object_get(r.body, "identifiers"), 1), "value")),
			       "api.localhost");
	char authz[512];
	snprintf(authz, sizeof(authz), "%s", json_string_value(json_array_get(json_object_get(r.body, "authorizations"), 0)));
	struct tst_acme_reply z = post(k, kid, path_of(authz), "");
	CU_ASSERT_EQUAL(z.status, 200);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(z.body, "challenges")), 3);
	const char *chall = json_string_value(json_object_get(json_array_get(json_object_get(z.body, "challenges"), 0), "url"));
	/* Without a validator link a challenge cannot start: 503, retry later. */
	struct tst_acme_reply ch = post(k, kid, path_of(chall), "{}");
	CU_ASSERT_EQUAL(ch.status, 503);
	CU_ASSERT(ch.retry_after > 0);
	tst_acme_reply_free(&ch);
	ch = post(k, kid, path_of(chall), "");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ch.body, "status")), "pending");
	CU_ASSERT_EQUAL(strlen(json_string_value(json_object_get(ch.body, "token"))), 43);
	tst_acme_reply_free(&ch);
	tst_acme_reply_free(&z);
	tst_acme_reply_free(&r);
	/* Not ready: orderNotReady. */
	const char *names[] = {"www.localhost", "api.localhost"};
	char *good = csr_payload(certkey, names, 2);
	r = post(k, kid, path_of(finalize), good);
	CU_ASSERT_STRING_EQUAL(r.type, "orderNotReady");
	tst_acme_reply_free(&r);
	validate_all(order);
	r = post(k, kid, path_of(order), "");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r.body, "status")), "ready");
	tst_acme_reply_free(&r);
	/* A CSR for other names, or fewer: badCSR; garbage: badCSR. */
	const char *wrong[] = {"www.localhost", "other.localhost"};
	char *bad = csr_payload(certkey, wrong, 2);
	r = post(k, kid, path_of(finalize), bad);
	CU_ASSERT_STRING_EQUAL(r.type, "badCSR");
	tst_acme_reply_free(&r);
	free(bad);
	bad = csr_payload(certkey, names, 1);
	r = post(k, kid, path_of(finalize), bad);
	CU_ASSERT_STRING_EQUAL(r.type, "badCSR");
	tst_acme_reply_free(&r);
	free(bad);
	r = post(k, kid, path_of(finalize), "{\"csr\":\"MIIBAA\"}");
	CU_ASSERT_STRING_EQUAL(r.type, "badCSR");
	tst_acme_reply_free(&r);
	/* The right CSR with the CA away: 503, the order stays ready. */
	r = post(k, kid, path_of(finalize), good);
	CU_ASSERT_EQUAL(r.status, 503);
	CU_ASSERT(r.retry_after > 0);
	tst_acme_reply_free(&r);
	r = post(k, kid, path_of(order), "");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r.body, "status")), "ready");
	tst_acme_reply_free(&r);
	free(good);
	/* The account's orders list has it. */
	char orders[600];
	snprintf(orders, sizeof(orders), "%s/orders", path_of(kid));
	r = post(k, kid, orders, "");
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(r.body, "orders"), 0)), order);
	tst_acme_reply_free(&r);
	/* Another account sees none of it. */
	EVP_PKEY *k2 = tst_acme_key("P-256");
	char kid2[512];
	new_account(k2, kid2, sizeof(kid2));
	r = post(k2, kid2, path_of(order), "");
	CU_ASSERT_STRING_EQUAL(r.type, "unauthorized");
	tst_acme_reply_free(&r);
	r = post(k2, kid2, path_of(authz), "");
	CU_ASSERT_STRING_EQUAL(r.type, "unauthorized");
	tst_acme_reply_free(&r);
	/* Authorization deactivation turns the order invalid. */
	r = post(k, kid, path_of(authz), "{\"status\":\"deactivated\"}");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r.body, "status")), "deactivated");
	tst_acme_reply_free(&r);
	r = post(k, kid, path_of(order), "");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r.body, "status")), "invalid");
	tst_acme_reply_free(&r);
	/* Expiry: a pending order of an hour ago plus its lifetime is invalid. */
	r = post(k, kid, "/acme/new-order", "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"late.localhost\"}]}");
	snprintf(order, sizeof(order), "%s", r.location);
	tst_acme_reply_free(&r);
	fake_now += fx.cfg.acme.order_lifetime_s + 1;
	r = post(k, kid, path_of(order), "");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r.body, "status")), "invalid");
	tst_acme_reply_free(&r);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(certkey);
}

static void test_rate_limits(void)
{
	EVP_PKEY *k = tst_acme_key("P-256");
	char kid[512];
	new_account(k, kid, sizeof(kid));
	const char *order = "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"r.localhost\"}]}";
	fx.cfg.acme.rate_limits.new_orders_per_account_per_hour = 2;
	struct tst_acme_reply r;
	for (int i = 0; i < 2; i++) {
		r = post(k, kid, "/acme/new-order", order);
		CU_ASSERT_EQUAL(r.status, 201);
		tst_acme_reply_free(&r);
	}
	r = post(k, kid, "/acme/new-order", order);
	CU_ASSERT_STRING_EQUAL(r.type, "rateLimited");
	CU_ASSERT_EQUAL(r.status, 429);
	CU_ASSERT(r.retry_after > 0 && r.retry_after <= 3600);
	tst_acme_reply_free(&r);
	fx.cfg.acme.rate_limits.new_orders_per_account_per_hour = 0;
	/* Pending orders: two are pending now. */
	fx.cfg.acme.rate_limits.pending_orders_per_account = 2;
	r = post(k, kid, "/acme/new-order", order);
	CU_ASSERT_STRING_EQUAL(r.type, "rateLimited");
	tst_acme_reply_free(&r);
	fx.cfg.acme.rate_limits.pending_orders_per_account = 300;
	/* New accounts per IP. */
	fx.cfg.acme.rate_limits.new_accounts_per_ip_per_hour = 1;
	EVP_PKEY *k2 = tst_acme_key("P-256"), *k3 = tst_acme_key("P-256");
	r = post(k2, NULL, "/acme/new-account", "{}");
	CU_ASSERT_EQUAL(r.status, 201);
	tst_acme_reply_free(&r);
	r = post(k3, NULL, "/acme/new-account", "{}");
	CU_ASSERT_STRING_EQUAL(r.type, "rateLimited");
	tst_acme_reply_free(&r);
	fx.cfg.acme.rate_limits.new_accounts_per_ip_per_hour = 0;
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
}

static void test_eab(void)
{
	/* A key in the file, as trustchainctl acme eab new writes it. */
	unsigned char mac[32];
	for (size_t i = 0; i < sizeof(mac); i++)
		mac[i] = (unsigned char)(i * 7 + 1);
	char *mac64 = tc_b64url_encode(mac, sizeof(mac));
	FILE *f = fopen(fx.eab_file, "w");
	fprintf(f, "# kid key patterns label\nkid-one %s *.svc.localhost,exact.localhost team-a\n", mac64);
	fclose(f);
	free(mac64);
	fx.cfg.acme.require_eab = true;
	EVP_PKEY *k = tst_acme_key("P-256"), *k2 = tst_acme_key("P-256");
	struct tst_acme_reply r = post(k, NULL, "/acme/new-account", "{}");
	CU_ASSERT_STRING_EQUAL(r.type, "externalAccountRequired");
	tst_acme_reply_free(&r);
	/* A binding with the wrong MAC key, then a binding of another key. */
	char *jwk = tc_jwk_from_key(k), *jwk2 = tc_jwk_from_key(k2), *payload = NULL;
	unsigned char wrong[32] = {0};
	char *eab = tst_acme_jws_hs256(wrong, sizeof(wrong), "kid-one", BASE "/acme/new-account", jwk);
	CU_ASSERT(asprintf(&payload, "{\"externalAccountBinding\":%s}", eab) > 0);
	r = post(k, NULL, "/acme/new-account", payload);
	CU_ASSERT_STRING_EQUAL(r.type, "unauthorized");
	tst_acme_reply_free(&r);
	free(eab);
	free(payload);
	eab = tst_acme_jws_hs256(mac, sizeof(mac), "kid-one", BASE "/acme/new-account", jwk2);
	CU_ASSERT(asprintf(&payload, "{\"externalAccountBinding\":%s}", eab) > 0);
	r = post(k, NULL, "/acme/new-account", payload);
	CU_ASSERT_STRING_EQUAL(r.type, "unauthorized");
	tst_acme_reply_free(&r);
	free(eab);
	free(payload);
	eab = tst_acme_jws_hs256(mac, sizeof(mac), "kid-unknown", BASE "/acme/new-account", jwk);
	CU_ASSERT(asprintf(&payload, "{\"externalAccountBinding\":%s}", eab) > 0);
	r = post(k, NULL, "/acme/new-account", payload);
	CU_ASSERT_STRING_EQUAL(r.type, "unauthorized");
	tst_acme_reply_free(&r);
	free(eab);
	free(payload);
	/* The right one. */
	eab = tst_acme_jws_hs256(mac, sizeof(mac), "kid-one", BASE "/acme/new-account", jwk);
	CU_ASSERT(asprintf(&payload, "{\"externalAccountBinding\":%s}", eab) > 0);
	r = post(k, NULL, "/acme/new-account", payload);
	CU_ASSERT_EQUAL(r.status, 201);
	char kid[512];
	snprintf(kid, sizeof(kid), "%s", r.location);
	tst_acme_reply_free(&r);
	free(eab);
	free(payload);
	/* The key binds one account only. */
	eab = tst_acme_jws_hs256(mac, sizeof(mac), "kid-one", BASE "/acme/new-account", jwk2);
	CU_ASSERT(asprintf(&payload, "{\"externalAccountBinding\":%s}", eab) > 0);
	r = post(k2, NULL, "/acme/new-account", payload);
	CU_ASSERT_STRING_EQUAL(r.type, "unauthorized");
	tst_acme_reply_free(&r);
	free(eab);
	free(payload);
	/* The patterns bound the names. */
	r = post(k, kid, "/acme/new-order",
		 "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.svc.localhost\"},{\"type\":\"dns\",\"value\":\"exact.localhost\"}]}");
	CU_ASSERT_EQUAL(r.status, 201);
	tst_acme_reply_free(&r);
	r = post(k, kid, "/acme/new-order", "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"svc.localhost\"}]}");
	CU_ASSERT_STRING_EQUAL(r.type, "rejectedIdentifier");
	tst_acme_reply_free(&r);
	fx.cfg.acme.require_eab = false;
	free(jwk);
	free(jwk2);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

static void test_key_change(void)
{
	EVP_PKEY *old = tst_acme_key("P-256"), *fresh = tst_acme_key("P-384");
	char kid[512];
	new_account(old, kid, sizeof(kid));
	char *old_jwk = tc_jwk_from_key(old), *inner_payload = NULL;
	CU_ASSERT(asprintf(&inner_payload, "{\"account\":\"%s\",\"oldKey\":%s}", kid, old_jwk) > 0);
	char *inner = tst_acme_jws(fresh, NULL, NULL, BASE "/acme/key-change", NULL, inner_payload, NULL);
	struct tst_acme_reply r = post(old, kid, "/acme/key-change", inner);
	CU_ASSERT_EQUAL(r.status, 200);
	tst_acme_reply_free(&r);
	/* The old key no longer signs for the account; the new one does. */
	r = post(old, kid, path_of(kid), "");
	CU_ASSERT_STRING_EQUAL(r.type, "malformed");
	tst_acme_reply_free(&r);
	r = post(fresh, kid, path_of(kid), "");
	CU_ASSERT_EQUAL(r.status, 200);
	tst_acme_reply_free(&r);
	r = post(fresh, NULL, "/acme/new-account", "{\"onlyReturnExisting\":true}");
	CU_ASSERT_STRING_EQUAL(r.location, kid);
	tst_acme_reply_free(&r);
	free(inner);
	free(inner_payload);
	free(old_jwk);
	EVP_PKEY_free(old);
	EVP_PKEY_free(fresh);
}

static void test_restart_keeps_orders(void)
{
	EVP_PKEY *k = tst_acme_key("P-256");
	char kid[512];
	new_account(k, kid, sizeof(kid));
	struct tst_acme_reply r = post(k, kid, "/acme/new-order", "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"keep.localhost\"}]}");
	char order[512];
	snprintf(order, sizeof(order), "%s", r.location);
	tst_acme_reply_free(&r);
	tc_acme_store_close(fx.a.store);
	char err[256];
	char db[300];
	snprintf(db, sizeof(db), "%s/db", fx.dir);
	CU_ASSERT_FATAL(tc_acme_store_open(db, &fx.a.store, err, sizeof(err)) == 0);
	r = post(k, kid, path_of(order), "");
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(r.body, "status")), "pending");
	tst_acme_reply_free(&r);
	EVP_PKEY_free(k);
}

static void test_renewal_info_and_revoke_unknown(void)
{
	struct tst_acme_reply r = call("GET", "/acme/renewal-info/AAAA.AAAA", NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 404);
	tst_acme_reply_free(&r);
	r = call("GET", "/acme/renewal-info/nodot", NULL, NULL);
	CU_ASSERT_STRING_EQUAL(r.type, "malformed");
	tst_acme_reply_free(&r);
	/* A stored certificate: the window at 2/3..5/6 of its validity. */
	json_t *cert = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "account", "x", "ca_serial", "0abc", "pem", "", "aki",
				 "0102", "not_before", (json_int_t)1000000, "not_after", (json_int_t)1000000 + 90 * 3600);
	CU_ASSERT(tc_acme_store_put(fx.a.store, 'C', "0abc", cert) == 0);
	json_decref(cert);
	char *aki = tc_b64url_encode((const unsigned char *)"\x01\x02", 2);
	char *ser = tc_b64url_encode((const unsigned char *)"\x0a\xbc", 2), path[200];
	snprintf(path, sizeof(path), "/acme/renewal-info/%s.%s", aki, ser);
	r = call("GET", path, NULL, NULL);
	CU_ASSERT_EQUAL(r.status, 200);
	json_t *w = json_object_get(r.body, "suggestedWindow");
	char start[32], end[32];
	tc_acme_time(1000000 + 60 * 3600, start);
	tc_acme_time(1000000 + 75 * 3600, end);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(w, "start")), start);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(w, "end")), end);
	CU_ASSERT(r.retry_after > 0);
	tst_acme_reply_free(&r);
	free(aki);
	free(ser);
}

/* A certificate for key (self-signed, serial 0x0abcde), DER. */
static int cert_der(EVP_PKEY *key, unsigned char **der)
{
	X509 *x = X509_new();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x0abcde);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"r.localhost", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, key);
	X509_sign(x, key, EVP_sha256());
	*der = NULL;
	int len = i2d_X509(x, der);
	X509_free(x);
	return len;
}

static void test_revoke_checks(void)
{
	EVP_PKEY *certkey = tst_acme_key("P-256"), *other = tst_acme_key("P-256"), *acct = tst_acme_key("P-256");
	char kid[512];
	new_account(acct, kid, sizeof(kid));
	unsigned char *der;
	int len = cert_der(certkey, &der);
	/* Stored as issued to another account. */
	json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "account", "someone-else", "ca_serial", "0abcde", "pem",
				"", "aki", "", "not_before", (json_int_t)0, "not_after", (json_int_t)1);
	CU_ASSERT(tc_acme_store_put(fx.a.store, 'C', "0abcde", rec) == 0);
	json_decref(rec);
	char *b64 = tc_b64url_encode(der, (size_t)len), *payload = NULL, *bad_reason = NULL;
	CU_ASSERT(asprintf(&payload, "{\"certificate\":\"%s\"}", b64) > 0);
	CU_ASSERT(asprintf(&bad_reason, "{\"certificate\":\"%s\",\"reason\":6}", b64) > 0);
	/* Not the owner's account, not the certificate's key: unauthorized. */
	struct tst_acme_reply r = post(acct, kid, "/acme/revoke-cert", payload);
	CU_ASSERT_STRING_EQUAL(r.type, "unauthorized");
	tst_acme_reply_free(&r);
	r = post(other, NULL, "/acme/revoke-cert", payload);
	CU_ASSERT_STRING_EQUAL(r.type, "unauthorized");
	tst_acme_reply_free(&r);
	r = post(certkey, NULL, "/acme/revoke-cert", bad_reason);
	CU_ASSERT_STRING_EQUAL(r.type, "badRevocationReason");
	tst_acme_reply_free(&r);
	/* Signed by the certificate's own key: accepted, and only the absent
	 * CA stops it (503, retry). */
	r = post(certkey, NULL, "/acme/revoke-cert", payload);
	CU_ASSERT_EQUAL(r.status, 503);
	tst_acme_reply_free(&r);
	/* Unknown certificates are not ours to revoke. */
	r = post(acct, kid, "/acme/revoke-cert", "{\"certificate\":\"MAA\"}");
	CU_ASSERT_STRING_EQUAL(r.type, "malformed");
	tst_acme_reply_free(&r);
	free(payload);
	free(bad_reason);
	free(b64);
	OPENSSL_free(der);
	EVP_PKEY_free(certkey);
	EVP_PKEY_free(other);
	EVP_PKEY_free(acct);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"directory and newNonce", test_directory_and_nonce},
		{"accounts: create, find, update, deactivate", test_accounts},
		{"JWS refusals: replay, url, key, type, size, alg", test_jws_refusals},
		{"identifiers: policy, subproblems, ip, bounds", test_identifiers},
		{"order flow: authz, challenge, finalize checks", test_order_flow},
		{"rate limits", test_rate_limits},
		{"external account binding", test_eab},
		{"keyChange", test_key_change},
		{"pending order survives a reopen", test_restart_keeps_orders},
		{"renewalInfo", test_renewal_info_and_revoke_unknown},
		{"revokeCert: who may, reasons", test_revoke_checks},
		{NULL, NULL},
	};
	return tc_run_suite("acme_server", tests, setup, teardown);
}
