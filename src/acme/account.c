/* Accounts (RFC 8555 7.3): newAccount (with onlyReturnExisting and
 * external account binding), update and deactivation, the orders list, and
 * keyChange (7.3.5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/account_cache.h"
#include "acme/acme_handlers.h"
#include "acme/acme_store.h"
#include "acme/eab.h"
#include "acme/problem.h"
#include "acme/rate_limit.h"

#define MAX_CONTACTS 10
#define MAX_CONTACT_LEN 320
#define MAX_LISTED_ORDERS 1000

/* The account object clients see (7.1.2). */
static json_t *render(struct tc_acme *a, const char *id, const json_t *rec)
{
	char orders[TC_ACME_URL_MAX];
	tc_acme_url(a, orders, sizeof(orders), "/acme/acct/%s/orders", id);
	json_t *o = json_pack("{s:O, s:O, s:s}", "status", json_object_get(rec, "status"), "contact",
			      json_object_get(rec, "contact"), "orders", orders);
	if (o && json_is_true(json_object_get(rec, "tos")))
		json_object_set_new(o, "termsOfServiceAgreed", json_true());
	return o;
}

static int answer(struct tc_acme *a, const char *id, const json_t *rec, unsigned status, struct tc_acme_resp *r)
{
	tc_acme_url(a, r->location, sizeof(r->location), "/acme/acct/%s", id);
	return tc_acme_json(r, status, render(a, id, rec));
}

/* mailto: URIs with one address and no header fields (7.3: the server may
 * restrict schemes; RFC 6068 hfields could carry anything). */
static int check_contacts(const json_t *contact, struct tc_acme_resp *r)
{
	if (!json_is_array(contact))
		return tc_acme_problem(r, "malformed", 0, NULL, "contact must be an array of URLs");
	if (json_array_size(contact) > MAX_CONTACTS)
		return tc_acme_problem(r, "invalidContact", 0, NULL, "at most %d contacts", MAX_CONTACTS);
	size_t i;
	const json_t *v;
	json_array_foreach(contact, i, v) {
		const char *s = json_string_value(v);
		if (!s || json_string_length(v) != strlen(s) || strlen(s) > MAX_CONTACT_LEN)
			return tc_acme_problem(r, "invalidContact", 0, NULL, "contact %zu is not a usable string", i);
		if (strncmp(s, "mailto:", 7) != 0)
			return tc_acme_problem(r, "unsupportedContact", 0, NULL, "only mailto: contacts are accepted");
		const char *addr = s + 7, *at = strchr(addr, '@');
		if (!at || at == addr || !at[1] || strchr(at + 1, '@') || strpbrk(addr, "?,;<> \t\r\n\"%"))
			return tc_acme_problem(r, "invalidContact", 0, NULL, "%s is not a single e-mail address", s);
		for (const char *d = at + 1; *d; d++)
			if (!((*d >= 'a' && *d <= 'z') || (*d >= 'A' && *d <= 'Z') || (*d >= '0' && *d <= '9') ||
			      *d == '-' || *d == '.'))
				return tc_acme_problem(r, "invalidContact", 0, NULL, "%s: bad domain", s);
	}
	return 0;
}

int tc_acme_h_new_account(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r)
{
	const struct tc_config *cfg = a->cfg;
	json_t *p = c->payload;
	if (!p)
		return tc_acme_problem(r, "malformed", 0, NULL, "newAccount needs a payload");
	const json_t *contact = json_object_get(p, "contact"), *tos = json_object_get(p, "termsOfServiceAgreed"),
		     *only = json_object_get(p, "onlyReturnExisting"), *eab = json_object_get(p, "externalAccountBinding");
	/* The key's account, if any, answers any newAccount (7.3.1). */
	char *existing = tc_acme_store_get_str(a->store, 'K', c->key.thumbprint);
	if (existing) {
		json_t *rec = tc_acct_cache_get(a->accounts, a->store, existing);
		int rc;
		if (!rec)
			rc = tc_acme_problem(r, "serverInternal", 0, NULL, "account record missing");
		else if (strcmp(json_string_value(json_object_get(rec, "status")), "valid") != 0)
			rc = tc_acme_problem(r, "unauthorized", 0, NULL, "the account of this key is deactivated");
		else
			rc = answer(a, existing, rec, 200, r);
		json_decref(rec);
		free(existing);
		return rc;
	}
	if (json_is_true(only))
		return tc_acme_problem(r, "accountDoesNotExist", 0, NULL, "no account for this key");
	if (contact && check_contacts(contact, r) != 0)
		return -1;
	if (tos && !json_is_boolean(tos))
		return tc_acme_problem(r, "malformed", 0, NULL, "termsOfServiceAgreed must be a boolean");
	if (cfg->acme.terms_of_service_url[0] && !json_is_true(tos))
		return tc_acme_problem(r, "malformed", 0, NULL, "the terms of service (%s) must be agreed to",
				       cfg->acme.terms_of_service_url);
	struct tc_eab_key key = {0};
	if (eab) {
		char url[TC_ACME_URL_MAX], why[256];
		const char *type;
		tc_acme_url(a, url, sizeof(url), "/acme/new-account");
		if (tc_acme_eab_verify(a->eab, eab, url, &c->key, &key, &type, why, sizeof(why)) != 0)
			return tc_acme_problem(r, type, 0, NULL, "%s", why);
	} else if (cfg->acme.require_eab) {
		return tc_acme_problem(r, "externalAccountRequired", 0, NULL,
				       "this server needs an external account binding (trustchainctl acme eab new)");
	}
	unsigned wait = 0;
	char rl_key[96];
	snprintf(rl_key, sizeof(rl_key), "acct:%s", c->rq->client_ip ? c->rq->client_ip : "?");
	if (!tc_acme_rate_take(a->rate, rl_key, cfg->acme.rate_limits.new_accounts_per_ip_per_hour, 3600, a->now(),
			       &wait)) {
		r->retry_after = wait;
		return tc_acme_problem(r, "rateLimited", 0, NULL, "too many new accounts from this address");
	}
	char id[23];
	if (tc_acme_new_id(id) != 0)
		return tc_acme_problem(r, "serverInternal", 0, NULL, "no randomness");
	json_t *ct = contact ? json_incref((json_t *)contact) : json_array();
	json_t *rec = json_pack("{s:s, s:s, s:s, s:o, s:b, s:I}", "status", "valid", "key", c->key.canonical, "thumb",
				c->key.thumbprint, "contact", ct, "tos", json_is_true(tos), "created",
				(json_int_t)a->now());
	if (!rec)
		return tc_acme_problem(r, "serverInternal", 0, NULL, "out of memory");
	if (eab) {
		json_object_set_new(rec, "eab_kid", json_string(key.kid));
		json_object_set_new(rec, "patterns", tc_acme_eab_patterns_json(key.patterns));
	}
	/* Two newAccounts with one key race: the key's lock decides. An EAB
	 * key binds one account only. */
	int rc = 0;
	tc_acme_store_lock(a->store, c->key.thumbprint);
	char *again = tc_acme_store_get_str(a->store, 'K', c->key.thumbprint);
	char *bound = eab ? tc_acme_store_get_str(a->store, 'E', key.kid) : NULL;
	if (again) {
		rc = tc_acme_problem(r, "malformed", 409, NULL, "an account for this key was just created");
		snprintf(r->location, sizeof(r->location), "%s/acme/acct/%s", a->base, again);
	} else if (bound) {
		rc = tc_acme_problem(r, "unauthorized", 0, NULL, "this external account key is already bound");
	} else {
		struct tc_acme_batch *b = tc_acme_batch_new();
		if (!b || tc_acme_batch_put(b, 'A', id, rec) != 0) {
			tc_acme_batch_free(b);
			rc = -1;
		} else {
			tc_acme_batch_put_str(b, 'K', c->key.thumbprint, id);
			if (eab)
				tc_acme_batch_put_str(b, 'E', key.kid, id);
			rc = tc_acme_batch_commit_deferred(a->store, b);
		}
		if (rc != 0)
			tc_acme_problem(r, "serverInternal", 0, NULL, "cannot store the account");
	}
	tc_acme_store_unlock(a->store, c->key.thumbprint);
	free(again);
	free(bound);
	if (rc == 0)
		rc = answer(a, id, rec, 201, r);
	json_decref(rec);
	return rc;
}

struct orders_list {
	struct tc_acme *a;
	json_t *urls;
	size_t skip;
};

static int list_order(void *arg, const char *id, size_t id_len, const char *val, size_t val_len)
{
	(void)val;
	(void)val_len;
	struct orders_list *l = arg;
	if (id_len <= l->skip)
		return 0;
	char url[TC_ACME_URL_MAX];
	tc_acme_url(l->a, url, sizeof(url), "/acme/order/%.*s", (int)(id_len - l->skip), id + l->skip);
	json_array_append_new(l->urls, json_string(url));
	return 0;
}

int tc_acme_h_account_orders(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "%s/", c->account_id);
	struct orders_list l = {.a = a, .urls = json_array(), .skip = strlen(prefix)};
	tc_acme_store_scan(a->store, 'L', prefix, MAX_LISTED_ORDERS, list_order, &l);
	return tc_acme_json(r, 200, json_pack("{s:o}", "orders", l.urls));
}

int tc_acme_h_account(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r)
{
	size_t n = strlen(c->account_id);
	if (strncmp(c->id, c->account_id, n) != 0 || (c->id[n] && strcmp(c->id + n, "/orders") != 0))
		return tc_acme_problem(r, "unauthorized", 0, NULL, "not your account");
	if (c->id[n])
		return tc_acme_h_account_orders(a, c, r);
	if (!c->payload)
		return answer(a, c->account_id, c->account, 200, r);
	const json_t *status = json_object_get(c->payload, "status"), *contact = json_object_get(c->payload, "contact");
	if (status && (!json_is_string(status) || strcmp(json_string_value(status), "deactivated") != 0))
		return tc_acme_problem(r, "malformed", 0, NULL, "status may only become deactivated");
	if (contact && check_contacts(contact, r) != 0)
		return -1;
	tc_acme_store_lock(a->store, c->account_id);
	json_t *rec = tc_acme_store_get(a->store, 'A', c->account_id);
	int rc = -1;
	if (rec) {
		if (status)
			json_object_set_new(rec, "status", json_string("deactivated"));
		if (contact)
			json_object_set(rec, "contact", (json_t *)contact);
		rc = tc_acme_store_put_deferred(a->store, 'A', c->account_id, rec);
		/* After the write, before the lock goes: the next request
		 * reads the new status and contacts. */
		tc_acct_cache_invalidate(a->accounts, c->account_id);
	}
	tc_acme_store_unlock(a->store, c->account_id);
	if (rc != 0)
		rc = tc_acme_problem(r, "serverInternal", 0, NULL, "cannot update the account");
	else
		rc = answer(a, c->account_id, rec, 200, r);
	json_decref(rec);
	return rc;
}

int tc_acme_h_key_change(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r)
{
	if (!c->payload)
		return tc_acme_problem(r, "malformed", 0, NULL, "keyChange needs the inner JWS as payload");
	struct tc_jws inner;
	const char *type;
	char why[256];
	if (tc_jws_parse_json(c->payload, TC_JWS_KEYCHANGE, &inner, &type, why, sizeof(why)) != 0)
		return tc_acme_problem(r, type, 0, NULL, "inner JWS: %s", why);
	struct tc_jwk fresh = {0}, old = {0};
	json_t *ip = NULL;
	int rc = -1;
	if (strcmp(inner.url, c->jws.url) != 0) {
		tc_acme_problem(r, "malformed", 0, NULL, "inner JWS url differs from the outer one");
		goto out;
	}
	if (tc_jwk_parse(inner.jwk, &fresh, why, sizeof(why)) != 0) {
		tc_acme_problem(r, "badPublicKey", 0, NULL, "new key: %s", why);
		goto out;
	}
	if (!tc_jws_verify(&inner, &fresh, why, sizeof(why))) {
		tc_acme_problem(r, "malformed", 0, NULL, "inner JWS: %s", why);
		goto out;
	}
	ip = tc_jws_payload_json(&inner);
	const char *acct = ip ? json_string_value(json_object_get(ip, "account")) : NULL;
	if (!acct || strcmp(acct, c->jws.kid) != 0) {
		tc_acme_problem(r, "malformed", 0, NULL, "inner payload account is not the signing account");
		goto out;
	}
	if (tc_jwk_parse(json_object_get(ip, "oldKey"), &old, why, sizeof(why)) != 0 ||
	    strcmp(old.thumbprint, c->key.thumbprint) != 0) {
		tc_acme_problem(r, "malformed", 0, NULL, "oldKey is not the account's current key");
		goto out;
	}
	tc_acme_store_lock(a->store, fresh.thumbprint);
	char *taken = tc_acme_store_get_str(a->store, 'K', fresh.thumbprint);
	if (taken) {
		tc_acme_problem(r, "malformed", 409, NULL, "the new key belongs to an account already");
		tc_acme_url(a, r->location, sizeof(r->location), "/acme/acct/%s", taken);
		free(taken);
	} else {
		json_t *rec = json_deep_copy(c->account);
		json_object_set_new(rec, "key", json_string(fresh.canonical));
		json_object_set_new(rec, "thumb", json_string(fresh.thumbprint));
		struct tc_acme_batch *b = tc_acme_batch_new();
		if (b && tc_acme_batch_put(b, 'A', c->account_id, rec) == 0) {
			tc_acme_batch_put_str(b, 'K', fresh.thumbprint, c->account_id);
			tc_acme_batch_delete(b, 'K', old.thumbprint);
			rc = tc_acme_batch_commit_deferred(a->store, b);
			/* The old key must not sign for the account any more. */
			tc_acct_cache_invalidate(a->accounts, c->account_id);
		} else {
			tc_acme_batch_free(b);
		}
		if (rc == 0)
			rc = answer(a, c->account_id, rec, 200, r);
		else
			tc_acme_problem(r, "serverInternal", 0, NULL, "cannot store the new key");
		json_decref(rec);
	}
	tc_acme_store_unlock(a->store, fresh.thumbprint);
out:
	json_decref(ip);
	tc_jwk_free(&fresh);
	tc_jwk_free(&old);
	tc_jws_free(&inner);
	return rc;
}
