/* Challenges through the real validator client (acme/validator_client.h)
 * to a stand-in validator on a socketpair that speaks the real wire
 * protocol (acme/validator_proto.h): a POST {} answers "processing", the
 * verdict comes back on the client's thread and is stored by the work
 * queue, the authorization turns valid (or invalid with the validator's
 * problem type), the order follows; the key authorization sent is token
 * "." thumbprint of the account key; a decided authorization ignores
 * further challenge POSTs. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "acme/acme.h"
#include "acme/acme_store.h"
#include "acme/jwk.h"
#include "acme/key_cache.h"
#include "acme/nonce.h"
#include "acme/rate_limit.h"
#include "acme/validator_client.h"
#include "acme/validator_proto.h"
#include "acme/workq.h"
#include "common/config.h"
#include "common/ipc_frame.h"
#include "unit/cunit_main.h"
#include "unit/test_acme_support.h"

#define BASE "https://acme.test:14000"

static struct tc_config cfg;
static struct tc_acme a;
static char dir[] = "/tmp/test_acme_challenge_XXXXXX";
static int validator_fd = -1;
static pthread_t validator_thread;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static char seen_keyauth[8][300];
static int n_seen;

static time_t wall(void) { return time(NULL); }

/* The stand-in validator: identifiers starting with "ok" pass, the others
 * fail with incorrectResponse. */
static void *validator_main(void *arg)
{
	(void)arg;
	for (;;) {
		uint8_t *frame = NULL;
		size_t len = 0;
		if (tc_frame_read(validator_fd, &frame, &len, -1) != 1)
			break;
		struct tc_vrequest rq;
		char why[256];
		if (tc_vrequest_decode(frame, len, &rq, why, sizeof(why)) != 0) {
			free(frame);
			break;
		}
		free(frame);
		pthread_mutex_lock(&seen_lock);
		if (n_seen < 8)
			snprintf(seen_keyauth[n_seen++], sizeof(seen_keyauth[0]), "%s", rq.key_authorization);
		pthread_mutex_unlock(&seen_lock);
		struct tc_vresult res = {0};
		if (strncmp(rq.identifier, "ok", 2) == 0) {
			res.valid = 1;
			snprintf(res.address_used, sizeof(res.address_used), "127.0.0.1");
		} else {
			tc_vresult_fail(&res, "incorrectResponse", "the responder served another key authorization");
		}
		uint8_t *out = NULL;
		size_t ol = 0;
		if (tc_vresponse_encode(rq.id, &res, &out, &ol) != 0 || tc_frame_write(validator_fd, out, ol) != 0) {
			free(out);
			break;
		}
		free(out);
	}
	return NULL;
}

static int setup(void)
{
	if (!mkdtemp(dir))
		return 1;
	tc_config_defaults(&cfg, true);
	a.cfg = &cfg;
	a.now = wall;
	snprintf(a.base, sizeof(a.base), BASE);
	a.nonces = tc_nonces_new(0);
	a.rate = tc_acme_rate_new();
	a.keys = tc_key_cache_new();
	a.wq = tc_acme_workq_new(2);
	a.vc = tc_vclient_new();
	char path[300], err[256];
	snprintf(path, sizeof(path), "%s/db", dir);
	int sv[2];
	if (tc_acme_store_open(path, &a.store, err, sizeof(err)) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 1;
	validator_fd = sv[1];
	tc_vclient_set_link(a.vc, sv[0]);
	return pthread_create(&validator_thread, NULL, validator_main, NULL) != 0;
}

static int teardown(void)
{
	tc_vclient_free(a.vc); /* closes our end: the stand-in sees EOF */
	pthread_join(validator_thread, NULL);
	close(validator_fd);
	tc_acme_workq_free(a.wq);
	tc_acme_store_close(a.store);
	tc_key_cache_free(a.keys);
	tc_acme_rate_free(a.rate);
	tc_nonces_free(a.nonces);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) != 0;
}

static json_t *post(EVP_PKEY *key, const char *kid, const char *url, const char *payload, unsigned *status,
		    char *location, size_t loclen)
{
	char nonce[TC_NONCE_TEXT];
	tc_nonce_issue(a.nonces, nonce);
	char *jws = tst_acme_jws(key, NULL, kid, url, nonce, payload, NULL);
	struct tc_acme_req rq = {.method = "POST", .path = url + strlen(BASE), .body = jws, .body_len = strlen(jws),
				 .content_type = "application/jose+json", .client_ip = "127.0.0.1"};
	struct tc_acme_resp r = {0};
	tc_acme_handle(&a, &rq, &r);
	free(jws);
	if (status)
		*status = r.status;
	if (location)
		snprintf(location, loclen, "%s", r.location);
	json_t *j = r.body ? json_loadb(r.body, r.body_len, 0, NULL) : NULL;
	tc_acme_resp_free(&r);
	return j;
}

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

/* The challenge of type in authorization url: its URL and token. */
static void challenge_of(EVP_PKEY *k, const char *kid, const char *authz, const char *type, char *url, char *token)
{
	json_t *z = post(k, kid, authz, "", NULL, NULL, 0);
	size_t i;
	json_t *ch;
	url[0] = token[0] = 0;
	json_array_foreach(json_object_get(z, "challenges"), i, ch)
		if (strcmp(str(ch, "type"), type) == 0) {
			strcpy(url, str(ch, "url"));
			strcpy(token, str(ch, "token"));
		}
	json_decref(z);
}

/* Polls authz until it is no longer pending (5 s at most). */
static json_t *wait_decided(EVP_PKEY *k, const char *kid, const char *authz)
{
	for (int i = 0; i < 500; i++) {
		json_t *z = post(k, kid, authz, "", NULL, NULL, 0);
		if (z && strcmp(str(z, "status"), "pending") != 0)
			return z;
		json_decref(z);
		usleep(10000);
	}
	return NULL;
}

static void test_verdicts(void)
{
	EVP_PKEY *k = tst_acme_key("P-256");
	char kid[512], order[512], url[512], token[128];
	unsigned st;
	json_decref(post(k, NULL, BASE "/acme/new-account", "{}", &st, kid, sizeof(kid)));
	CU_ASSERT_EQUAL_FATAL(st, 201);
	char thumb[TC_JWK_THUMB_LEN + 1];
	CU_ASSERT(tc_jwk_thumbprint_of_key(k, thumb) == 0);
	json_t *o = post(k, kid, BASE "/acme/new-order",
			 "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"ok.localhost\"},{\"type\":\"dns\",\"value\":\"bad.localhost\"}]}",
			 &st, order, sizeof(order));
	CU_ASSERT_EQUAL_FATAL(st, 201);
	char authz[2][512];
	for (int i = 0; i < 2; i++)
		strcpy(authz[i], json_string_value(json_array_get(json_object_get(o, "authorizations"), (size_t)i)));
	json_decref(o);
	char expect_keyauth[300] = "";
	for (int i = 0; i < 2; i++) {
		challenge_of(k, kid, authz[i], "http-01", url, token);
		CU_ASSERT_FATAL(url[0] != 0);
		if (i == 0)
			snprintf(expect_keyauth, sizeof(expect_keyauth), "%s.%s", token, thumb);
		json_t *ch = post(k, kid, url, "{}", &st, NULL, 0);
		CU_ASSERT_EQUAL(st, 200);
		/* Answered before the verdict can be stored: processing (or,
		 * on a fast machine, already decided). */
		CU_ASSERT(strcmp(str(ch, "status"), "pending") != 0);
		json_decref(ch);
	}
	json_t *z = wait_decided(k, kid, authz[0]);
	CU_ASSERT_FATAL(z != NULL);
	CU_ASSERT_STRING_EQUAL(str(z, "status"), "valid");
	/* Only the challenge that succeeded is listed, with its time. */
	CU_ASSERT_EQUAL(json_array_size(json_object_get(z, "challenges")), 1);
	json_t *ch = json_array_get(json_object_get(z, "challenges"), 0);
	CU_ASSERT_STRING_EQUAL(str(ch, "status"), "valid");
	CU_ASSERT(str(ch, "validated") != NULL);
	json_decref(z);
	z = wait_decided(k, kid, authz[1]);
	CU_ASSERT_FATAL(z != NULL);
	CU_ASSERT_STRING_EQUAL(str(z, "status"), "invalid");
	ch = json_array_get(json_object_get(z, "challenges"), 0);
	CU_ASSERT_STRING_EQUAL(str(json_object_get(ch, "error"), "type"), "urn:ietf:params:acme:error:incorrectResponse");
	json_decref(z);
	/* The stand-in saw token "." thumbprint. */
	pthread_mutex_lock(&seen_lock);
	int found = 0;
	for (int i = 0; i < n_seen; i++)
		found |= strcmp(seen_keyauth[i], expect_keyauth) == 0;
	pthread_mutex_unlock(&seen_lock);
	CU_ASSERT(found);
	/* One invalid authorization: the order is invalid. */
	o = post(k, kid, order, "", NULL, NULL, 0);
	CU_ASSERT_STRING_EQUAL(str(o, "status"), "invalid");
	json_decref(o);

	/* An order of valid names only becomes ready; a later POST to another
	 * challenge of its decided authorization changes nothing. */
	o = post(k, kid, BASE "/acme/new-order", "{\"identifiers\":[{\"type\":\"dns\",\"value\":\"ok2.localhost\"}]}", &st,
		 order, sizeof(order));
	strcpy(authz[0], json_string_value(json_array_get(json_object_get(o, "authorizations"), 0)));
	json_decref(o);
	challenge_of(k, kid, authz[0], "http-01", url, token);
	json_decref(post(k, kid, url, "{}", NULL, NULL, 0));
	z = wait_decided(k, kid, authz[0]);
	CU_ASSERT(z && strcmp(str(z, "status"), "valid") == 0);
	json_decref(z);
	o = post(k, kid, order, "", NULL, NULL, 0);
	CU_ASSERT_STRING_EQUAL(str(o, "status"), "ready");
	json_decref(o);
	char chall_base[512];
	snprintf(chall_base, sizeof(chall_base), "%s", url);
	chall_base[strlen(chall_base) - 1] = '1'; /* dns-01, the second challenge */
	json_t *second = post(k, kid, chall_base, "{}", &st, NULL, 0);
	CU_ASSERT_EQUAL(st, 200);
	CU_ASSERT_STRING_EQUAL(str(second, "status"), "pending");
	json_decref(second);
	z = post(k, kid, authz[0], "", NULL, NULL, 0);
	CU_ASSERT_STRING_EQUAL(str(z, "status"), "valid");
	json_decref(z);
	EVP_PKEY_free(k);
}

int main(void)
{
	static const struct tc_test tests[] = {
		{"validation verdicts through the validator client", test_verdicts},
		{NULL, NULL},
	};
	return tc_run_suite("acme_challenge", tests, setup, teardown);
}
