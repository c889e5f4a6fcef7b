#define _GNU_SOURCE
#include "unit/test_acme_fixture.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/account_cache.h"
#include "acme/acme_store.h"
#include "acme/eab.h"
#include "acme/key_cache.h"
#include "acme/nonce.h"
#include "acme/rate_limit.h"
#include "unit/test_acme_support.h"

int tst_acme_fx_open(struct tst_acme_fx *fx, const char *base, time_t (*now)(void), int with_accounts)
{
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_acme_XXXXXX");
	if (!mkdtemp(fx->dir))
		return 1;
	char db[256];
	snprintf(db, sizeof(db), "%s/db", fx->dir);
	snprintf(fx->eab_file, sizeof(fx->eab_file), "%s/eab_keys", fx->dir);
	tc_config_defaults(&fx->cfg, true);
	snprintf(fx->cfg.server.data_dir, sizeof(fx->cfg.server.data_dir), "%s", fx->dir);
	struct tc_acme *a = &fx->a;
	a->cfg = &fx->cfg;
	snprintf(a->base, sizeof(a->base), "%s", base);
	a->now = now;
	a->nonces = tc_nonces_new(0);
	a->rate = tc_acme_rate_new();
	a->eab = tc_acme_eab_new(fx->eab_file);
	a->keys = tc_key_cache_new();
	if (with_accounts)
		a->accounts = tc_acct_cache_new(0);
	char err[256];
	return tc_acme_store_open(db, &a->store, err, sizeof(err)) != 0 || !a->nonces || !a->rate || !a->eab ||
	       !a->keys || (with_accounts && !a->accounts);
}

int tst_acme_fx_close(struct tst_acme_fx *fx)
{
	struct tc_acme *a = &fx->a;
	tc_acme_store_close(a->store);
	tc_nonces_free(a->nonces);
	tc_acme_rate_free(a->rate);
	tc_acme_eab_free(a->eab);
	tc_key_cache_free(a->keys);
	tc_acct_cache_free(a->accounts);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	return system(cmd) != 0;
}

void tst_acme_reply_free(struct tst_acme_reply *r)
{
	json_decref(r->body);
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

struct tst_acme_reply tst_acme_call(struct tst_acme_fx *fx, const char *method, const char *path,
				    const char *body, const char *ctype)
{
	struct tc_acme_req rq = {.method = method, .path = path, .body = body ? body : "",
				 .body_len = body ? strlen(body) : 0, .content_type = ctype, .client_ip = "127.0.0.1"};
	struct tc_acme_resp resp = {0};
	tc_acme_handle(&fx->a, &rq, &resp);
	struct tst_acme_reply r = {.status = resp.status, .retry_after = resp.retry_after,
				   .content_type = resp.content_type};
	snprintf(r.location, sizeof(r.location), "%s", resp.location);
	if (resp.body) {
		r.body = json_loadb(resp.body, resp.body_len, 0, NULL);
		r.raw = resp.body;
		r.raw_len = resp.body_len;
		resp.body = NULL;
	}
	const char *t = r.body ? json_string_value(json_object_get(r.body, "type")) : NULL;
	if (t && strncmp(t, "urn:ietf:params:acme:error:", 27) == 0)
		snprintf(r.type, sizeof(r.type), "%s", t + 27);
	tc_acme_resp_free(&resp);
	return r;
}

struct tst_acme_reply tst_acme_post(struct tst_acme_fx *fx, EVP_PKEY *key, const char *kid, const char *path,
				    const char *payload)
{
	char nonce[TC_NONCE_TEXT], url[600];
	CU_ASSERT_FATAL(tc_nonce_issue(fx->a.nonces, nonce) == 0);
	snprintf(url, sizeof(url), "%s%s", fx->a.base, path);
	char *jws = tst_acme_jws(key, NULL, kid, url, nonce, payload, NULL);
	struct tst_acme_reply r = tst_acme_call(fx, "POST", path, jws, "application/jose+json");
	free(jws);
	return r;
}

void tst_acme_new_account(struct tst_acme_fx *fx, EVP_PKEY *key, char *kid, size_t len)
{
	struct tst_acme_reply r = tst_acme_post(fx, key, NULL, "/acme/new-account", "{\"termsOfServiceAgreed\":true}");
	CU_ASSERT_EQUAL(r.status, 201);
	snprintf(kid, len, "%s", r.location);
	tst_acme_reply_free(&r);
}
