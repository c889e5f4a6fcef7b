/* The account cache (src/acme/account_cache.c) through tc_acme_handle over a
 * real LevelDB store with real keys and JWSs: once a record is cached, an
 * account update, a deactivation and a keyChange are seen by the very next
 * request (each of these fails when the handler's invalidation is removed:
 * the cached record would answer with the old contact, let the deactivated
 * account order, and let the old key sign). Then the cache alone under
 * threads: readers racing a writer never see a record older than one they
 * saw before, and the last write is what remains. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acme/account_cache.h"
#include "acme/acme.h"
#include "acme/acme_store.h"
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

static time_t test_now(void) { return 1800000000; }
static int setup(void) { return tst_acme_fx_open(&fx, BASE, test_now, 1); }
static int teardown(void) { return tst_acme_fx_close(&fx); }

static struct tst_acme_reply post(EVP_PKEY *key, const char *kid, const char *path, const char *payload)
{
	return tst_acme_post(&fx, key, kid, path, payload);
}

static void new_account(EVP_PKEY *key, char *kid, size_t len) { tst_acme_new_account(&fx, key, kid, len); }

static const char *path_of(const char *url) { return url + strlen(BASE); }

/* Two POST-as-GETs of the account: the second is answered from the cache. */
static void warm(EVP_PKEY *key, const char *kid)
{
	uint64_t h0, h1, m;
	tc_acct_cache_stats(fx.a.accounts, &h0, &m);
	for (int i = 0; i < 2; i++) {
		struct tst_acme_reply r = post(key, kid, path_of(kid), "");
		CU_ASSERT_EQUAL(r.status, 200);
		tst_acme_reply_free(&r);
	}
	tc_acct_cache_stats(fx.a.accounts, &h1, &m);
	CU_ASSERT(h1 > h0);
}

static void test_update_seen(void)
{
	EVP_PKEY *k = tst_acme_key("P-256");
	char kid[512];
	new_account(k, kid, sizeof(kid));
	warm(k, kid);
	struct tst_acme_reply r = post(k, kid, path_of(kid), "{\"contact\":[\"mailto:new@example.org\"]}");
	CU_ASSERT_EQUAL(r.status, 200);
	tst_acme_reply_free(&r);
	/* The POST-as-GET answer is rendered from the record the router got. */
	r = post(k, kid, path_of(kid), "");
	CU_ASSERT_EQUAL(r.status, 200);
	const char *c0 = json_string_value(json_array_get(json_object_get(r.body, "contact"), 0));
	CU_ASSERT(c0 && strcmp(c0, "mailto:new@example.org") == 0);
	tst_acme_reply_free(&r);
	EVP_PKEY_free(k);
}

static void test_deactivation_seen(void)
{
	EVP_PKEY *k = tst_acme_key("P-256");
	char kid[512];
	new_account(k, kid, sizeof(kid));
	warm(k, kid);
	struct tst_acme_reply r = post(k, kid, path_of(kid), "{\"status\":\"deactivated\"}");
	CU_ASSERT_EQUAL(r.status, 200);
	tst_acme_reply_free(&r);
	r = post(k, kid, "/acme/new-order", "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.localhost\"}]}");
	CU_ASSERT_EQUAL(r.status, 403);
	CU_ASSERT_STRING_EQUAL(r.type, "unauthorized");
	tst_acme_reply_free(&r);
	EVP_PKEY_free(k);
}

static void test_key_change_seen(void)
{
	EVP_PKEY *old = tst_acme_key("P-256"), *fresh = tst_acme_key("P-256");
	char kid[512];
	new_account(old, kid, sizeof(kid));
	warm(old, kid);
	char *old_jwk = tc_jwk_from_key(old), *inner_payload = NULL;
	CU_ASSERT_FATAL(asprintf(&inner_payload, "{\"account\":\"%s\",\"oldKey\":%s}", kid, old_jwk) > 0);
	char *inner = tst_acme_jws(fresh, NULL, NULL, BASE "/acme/key-change", NULL, inner_payload, NULL);
	struct tst_acme_reply r = post(old, kid, "/acme/key-change", inner);
	CU_ASSERT_EQUAL(r.status, 200);
	tst_acme_reply_free(&r);
	r = post(old, kid, path_of(kid), "");
	CU_ASSERT_NOT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.type, "malformed");
	tst_acme_reply_free(&r);
	r = post(fresh, kid, path_of(kid), "");
	CU_ASSERT_EQUAL(r.status, 200);
	tst_acme_reply_free(&r);
	free(inner);
	free(inner_payload);
	free(old_jwk);
	EVP_PKEY_free(old);
	EVP_PKEY_free(fresh);
}

/* ---- the cache alone under threads ---- */
#define READERS 4
#define VERSIONS 400
static const char *RACE_ID = "raceraceraceraceracer1";
static atomic_int writer_done;
static atomic_int backwards;

static void write_version(struct tc_acct_cache *c, int v)
{
	json_t *rec = json_pack("{s:s, s:i}", "status", "valid", "v", v);
	CU_ASSERT(tc_acme_store_put_nosync(fx.a.store, 'A', RACE_ID, rec) == 0);
	tc_acct_cache_invalidate(c, RACE_ID);
	json_decref(rec);
}

static void *reader(void *arg)
{
	struct tc_acct_cache *c = arg;
	int seen = -1;
	while (!atomic_load(&writer_done)) {
		json_t *rec = tc_acct_cache_get(c, fx.a.store, RACE_ID);
		int v = rec ? (int)json_integer_value(json_object_get(rec, "v")) : -1;
		if (v < seen)
			atomic_fetch_add(&backwards, 1);
		if (v > seen)
			seen = v;
		json_decref(rec);
	}
	return NULL;
}

static void test_race(void)
{
	/* One slot: every id collides, so overwrite on collision is covered too. */
	struct tc_acct_cache *c = tc_acct_cache_new(1);
	CU_ASSERT_FATAL(c != NULL);
	write_version(c, 0);
	json_t *other = json_pack("{s:s}", "status", "valid");
	CU_ASSERT(tc_acme_store_put_nosync(fx.a.store, 'A', "otherotherotherother12", other) == 0);
	json_decref(other);
	pthread_t t[READERS];
	for (int i = 0; i < READERS; i++)
		CU_ASSERT_FATAL(pthread_create(&t[i], NULL, reader, c) == 0);
	for (int v = 1; v <= VERSIONS; v++) {
		write_version(c, v);
		json_t *rec = tc_acct_cache_get(c, fx.a.store, RACE_ID);
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(rec, "v")), v);
		json_decref(rec);
		/* Another id in the same slot now and then. */
		if (v % 50 == 0)
			json_decref(tc_acct_cache_get(c, fx.a.store, "otherotherotherother12"));
	}
	atomic_store(&writer_done, 1);
	for (int i = 0; i < READERS; i++)
		pthread_join(t[i], NULL);
	CU_ASSERT_EQUAL(atomic_load(&backwards), 0);
	json_t *rec = tc_acct_cache_get(c, fx.a.store, RACE_ID);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(rec, "v")), VERSIONS);
	json_decref(rec);
	/* Quiet now: the record read just above is answered from the cache. */
	uint64_t h0, h1, misses;
	tc_acct_cache_stats(c, &h0, &misses);
	json_decref(tc_acct_cache_get(c, fx.a.store, RACE_ID));
	tc_acct_cache_stats(c, &h1, &misses);
	CU_ASSERT_EQUAL(h1, h0 + 1);
	/* An absent account is not cached as anything. */
	CU_ASSERT_PTR_NULL(tc_acct_cache_get(c, fx.a.store, "nosuchaccountnosuchacc"));
	tc_acct_cache_free(c);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"account update seen after caching", test_update_seen},
		{"deactivation seen after caching", test_deactivation_seen},
		{"keyChange seen after caching", test_key_change_seen},
		{"readers racing a writer", test_race},
		{NULL, NULL},
	};
	return tc_run_suite("acme_account_cache", tests, setup, teardown);
}
