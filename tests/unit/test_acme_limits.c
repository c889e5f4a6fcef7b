/* trustchain-acme's small parts: the sliding-window rate limiter, the EAB
 * keys file parser, the shared name patterns and nonces used from many
 * threads at once. */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "acme/eab.h"
#include "acme/nonce.h"
#include "acme/rate_limit.h"
#include "common/name_pattern.h"
#include "unit/cunit_main.h"

static void test_rate_window(void)
{
	struct tc_acme_rate *r = tc_acme_rate_new();
	time_t t = 1800000000 - 1800000000 % 3600; /* a window start */
	unsigned wait = 0;
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(tc_acme_rate_take(r, "k", 3, 3600, t + 10, &wait), 1);
	CU_ASSERT_EQUAL(tc_acme_rate_take(r, "k", 3, 3600, t + 20, &wait), 0);
	CU_ASSERT(wait > 0 && wait <= 3600);
	/* Other keys are not affected; 0 is no limit. */
	CU_ASSERT_EQUAL(tc_acme_rate_take(r, "other", 3, 3600, t + 20, &wait), 1);
	CU_ASSERT_EQUAL(tc_acme_rate_take(r, "k", 0, 3600, t + 20, &wait), 1);
	/* Early in the next window the previous one still weighs almost fully. */
	CU_ASSERT_EQUAL(tc_acme_rate_take(r, "k", 3, 3600, t + 3600 + 60, &wait), 0);
	/* Half way through it, half of the old count remains: 1.5 + 1 <= 3. */
	CU_ASSERT_EQUAL(tc_acme_rate_take(r, "k", 3, 3600, t + 3600 + 1800, &wait), 1);
	/* Two windows later nothing is left. */
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(tc_acme_rate_take(r, "k", 3, 3600, t + 3 * 3600 + 5, &wait), 1);
	/* check does not count, add counts without checking. */
	CU_ASSERT_EQUAL(tc_acme_rate_check(r, "f", 1, 3600, t, &wait), 1);
	CU_ASSERT_EQUAL(tc_acme_rate_check(r, "f", 1, 3600, t, &wait), 1);
	tc_acme_rate_add(r, "f", 3600, t);
	CU_ASSERT_EQUAL(tc_acme_rate_check(r, "f", 1, 3600, t, &wait), 0);
	/* Many keys: the table reuses stale slots, never refuses wrongly. */
	char key[32];
	for (int i = 0; i < 200000; i++) {
		snprintf(key, sizeof(key), "many:%d", i);
		CU_ASSERT_EQUAL_FATAL(tc_acme_rate_take(r, key, 1, 60, t + i / 1000, &wait), 1);
	}
	tc_acme_rate_free(r);
}

static void test_eab_parse(void)
{
	struct tc_eab_key keys[4];
	size_t n;
	char err[256];
	const char *ok = "# header\n\n  kid-1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA *.svc.x,a.x label\nkid_2 "
			 "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA 127.0.0.1\n";
	CU_ASSERT_EQUAL(tc_acme_eab_parse(ok, keys, 4, &n, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_STRING_EQUAL(keys[0].kid, "kid-1");
	CU_ASSERT_EQUAL(keys[0].mac_len, 32);
	CU_ASSERT_STRING_EQUAL(keys[0].patterns, "*.svc.x,a.x");
	const char *bad[] = {
		"kid AAAA *\n",                                                           /* key too short */
		"k!d AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA *\n",                    /* kid alphabet */
		"kid AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",                      /* no patterns */
		"kid AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= *\n",                   /* padded */
		"kid AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA *\nkid AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA *\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(tc_acme_eab_parse(bad[i], keys, 4, &n, err, sizeof(err)), -1);
		CU_ASSERT(strncmp(err, "line ", 5) == 0);
	}
	json_t *pats = tc_acme_eab_patterns_json("*.a,b,,c");
	CU_ASSERT_EQUAL(json_array_size(pats), 3);
	json_decref(pats);
}

static void test_name_patterns(void)
{
	CU_ASSERT(tc_name_pattern_match("*", "anything.example", 0));
	CU_ASSERT(tc_name_pattern_match("*.svc.x", "a.svc.x", 0));
	CU_ASSERT(tc_name_pattern_match("*.svc.x", "*.svc.x", 0));
	CU_ASSERT(tc_name_pattern_match("*.svc.x", "A.B.SVC.X", 0));
	CU_ASSERT(!tc_name_pattern_match("*.svc.x", "svc.x", 0));
	CU_ASSERT(!tc_name_pattern_match("*.svc.x", "evilsvc.x", 0));
	CU_ASSERT(tc_name_pattern_match("web.x", "WEB.x", 0));
	CU_ASSERT(!tc_name_pattern_match("web.x", "www.web.x", 0));
	CU_ASSERT(tc_name_pattern_match("::1", "0:0::1", 1));
	CU_ASSERT(!tc_name_pattern_match("127.0.0.1", "127.0.0.1", 0)); /* an IP pattern is no DNS name */
	CU_ASSERT(!tc_name_pattern_match("*.x", "10.0.0.1", 1));
}

static struct tc_nonces *shared;

static void *nonce_worker(void *arg)
{
	int *failures = arg;
	char n[TC_NONCE_TEXT];
	for (int i = 0; i < 2000; i++) {
		if (tc_nonce_issue(shared, n) != 0 || tc_nonce_redeem(shared, n, strlen(n)) != 1 ||
		    tc_nonce_redeem(shared, n, strlen(n)) != 0)
			(*failures)++;
	}
	return NULL;
}

static void test_nonce_threads(void)
{
	shared = tc_nonces_new(0);
	pthread_t t[4];
	int failures[4] = {0};
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, nonce_worker, &failures[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(failures[i], 0);
	}
	tc_nonces_free(shared);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"rate limiter: sliding window, retry, many keys", test_rate_window},
		{"EAB keys file", test_eab_parse},
		{"name patterns", test_name_patterns},
		{"nonces from several threads", test_nonce_threads},
		{NULL, NULL},
	};
	return tc_run_suite("acme_limits", tests, NULL, NULL);
}
