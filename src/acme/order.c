/* newOrder (RFC 8555 7.4) and orders as clients read them (7.1.3, 7.1.6). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_metrics.h"
#include "acme/acme_handlers.h"
#include "acme/acme_store.h"
#include "acme/b64url.h"
#include "acme/identifiers.h"
#include "acme/order.h"
#include "acme/problem.h"
#include "acme/rate_limit.h"
#include "acme/wake.h"

#include <openssl/rand.h>

#define PROCESSING_STALE_S 120
#define WAIT_MS 1000

const char *tc_acme_authz_status(struct tc_acme *a, const json_t *rec)
{
	const char *s = json_string_value(json_object_get(rec, "status"));
	if (!s)
		return "invalid";
	if ((strcmp(s, "pending") == 0 || strcmp(s, "valid") == 0) &&
	    json_integer_value(json_object_get(rec, "expires")) <= a->now())
		return "expired";
	return s;
}

const char *tc_acme_order_derive(struct tc_acme *a, json_t *rec)
{
	const char *s = json_string_value(json_object_get(rec, "status"));
	if (!s)
		return "invalid";
	/* An order processing with its CSR belongs to the issuer (resumed at
	 * start). One without (stored by a version that issued in the
	 * request) left processing by a restart mid-issuance is ready to be
	 * finalized again. */
	if (strcmp(s, "processing") == 0 && !json_object_get(rec, "csr") &&
	    (json_int_t)a->now() - json_integer_value(json_object_get(rec, "since")) > PROCESSING_STALE_S) {
		json_object_set_new(rec, "status", json_string("ready"));
		return "ready";
	}
	if (strcmp(s, "pending") != 0 && strcmp(s, "ready") != 0)
		return s;
	const char *now_status = "invalid";
	if (json_integer_value(json_object_get(rec, "expires")) > a->now()) {
		int any_pending = 0, any_invalid = 0;
		size_t i;
		const json_t *zid;
		json_array_foreach(json_object_get(rec, "authzs"), i, zid) {
			json_t *z = tc_acme_store_get(a->store, 'Z', json_string_value(zid));
			const char *zs = z ? tc_acme_authz_status(a, z) : "invalid";
			if (strcmp(zs, "pending") == 0)
				any_pending = 1;
			else if (strcmp(zs, "valid") != 0)
				any_invalid = 1; /* invalid, deactivated, expired, revoked */
			json_decref(z);
		}
		now_status = any_invalid ? "invalid" : any_pending ? "pending" : "ready";
	}
	json_object_set_new(rec, "status", json_string(now_status));
	return json_string_value(json_object_get(rec, "status"));
}

json_t *tc_acme_order_view(struct tc_acme *a, const char *id, const json_t *rec)
{
	char url[TC_ACME_URL_MAX], when[32];
	tc_acme_time((time_t)json_integer_value(json_object_get(rec, "expires")), when);
	tc_acme_url(a, url, sizeof(url), "/acme/order/%s/finalize", id);
	json_t *o = json_pack("{s:O, s:s, s:O, s:s}", "status", json_object_get(rec, "status"), "expires", when,
			      "identifiers", json_object_get(rec, "identifiers"), "finalize", url);
	json_t *authz = json_array();
	size_t i;
	const json_t *zid;
	json_array_foreach(json_object_get(rec, "authzs"), i, zid) {
		tc_acme_url(a, url, sizeof(url), "/acme/authz/%s", json_string_value(zid));
		json_array_append_new(authz, json_string(url));
	}
	json_object_set_new(o, "authorizations", authz);
	const char *serial = json_string_value(json_object_get(rec, "serial"));
	if (serial && strcmp(json_string_value(json_object_get(rec, "status")), "valid") == 0) {
		tc_acme_url(a, url, sizeof(url), "/acme/cert/%s", serial);
		json_object_set_new(o, "certificate", json_string(url));
	}
	if (json_object_get(rec, "error"))
		json_object_set(o, "error", json_object_get(rec, "error"));
	return o;
}

int tc_acme_order_answer(struct tc_acme *a, const char *id, json_t *rec, unsigned status, struct tc_acme_resp *r)
{
	tc_acme_url(a, r->location, sizeof(r->location), "/acme/order/%s", id);
	if (strcmp(json_string_value(json_object_get(rec, "status")), "processing") == 0)
		r->retry_after = 1;
	return tc_acme_json(r, status, tc_acme_order_view(a, id, rec));
}

struct pending_count {
	struct tc_acme *a;
	size_t skip, pending;
};

static int count_pending(void *arg, const char *id, size_t id_len, const char *val, size_t vl)
{
	(void)val;
	(void)vl;
	struct pending_count *p = arg;
	char oid[64];
	snprintf(oid, sizeof(oid), "%.*s", (int)(id_len - p->skip), id + p->skip);
	json_t *o = tc_acme_store_get(p->a->store, 'O', oid);
	if (o) {
		const char *s = tc_acme_order_derive(p->a, o);
		if (strcmp(s, "pending") == 0 || strcmp(s, "ready") == 0) {
			p->pending++;
		} else {
			/* Expired or failed: it no longer counts, and leaves the list. */
			struct tc_acme_batch *b = tc_acme_batch_new();
			char key[128];
			snprintf(key, sizeof(key), "%.*s", (int)id_len, id);
			if (b) {
				tc_acme_batch_delete(b, 'P', key);
				tc_acme_batch_commit_deferred(p->a->store, b);
			}
		}
		json_decref(o);
	}
	return 0;
}

static int count_any(void *arg, const char *id, size_t id_len, const char *val, size_t vl)
{
	(void)arg, (void)id, (void)id_len, (void)val, (void)vl;
	return 0;
}

/* Bounds of 7.4 beyond the identifiers: orders per hour, pending orders. */
static int check_limits(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r)
{
	const struct tc_config *cfg = a->cfg;
	uint32_t max_pending = cfg->acme.rate_limits.pending_orders_per_account;
	if (max_pending) {
		char prefix[64];
		snprintf(prefix, sizeof(prefix), "%s/", c->account_id);
		struct pending_count p = {.a = a, .skip = strlen(prefix)};
		/* "P/<account>/<order>" lists the orders not finalized yet. Its
		 * length is an upper bound, cheap to take; only when it reaches
		 * the limit are the orders read (and the expired or failed ones
		 * dropped from the list). */
		if (tc_acme_store_scan(a->store, 'P', prefix, max_pending, count_any, NULL) >= max_pending)
			tc_acme_store_scan(a->store, 'P', prefix, SIZE_MAX, count_pending, &p);
		if (p.pending >= max_pending) {
			r->retry_after = 60;
			return tc_acme_problem(r, "rateLimited", 0, NULL, "%zu pending orders: finish or let them expire",
					       p.pending);
		}
	}
	char key[96];
	unsigned wait = 0;
	snprintf(key, sizeof(key), "order:%s", c->account_id);
	if (!tc_acme_rate_take(a->rate, key, cfg->acme.rate_limits.new_orders_per_account_per_hour, 3600, a->now(),
			       &wait)) {
		r->retry_after = wait;
		return tc_acme_problem(r, "rateLimited", 0, NULL, "too many new orders for this account");
	}
	return 0;
}

static json_t *new_challenge(const char *type)
{
	unsigned char raw[32];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return NULL;
	char *token = tc_b64url_encode(raw, sizeof(raw));
	json_t *ch = token ? json_pack("{s:s, s:s, s:s}", "type", type, "token", token, "status", "pending") : NULL;
	free(token);
	return ch;
}

static json_t *new_authz(struct tc_acme_call *c, const json_t *ident, time_t expires)
{
	const char *type = json_string_value(json_object_get(ident, "type"));
	const char *value = json_string_value(json_object_get(ident, "value"));
	int wildcard = strncmp(value, "*.", 2) == 0;
	json_t *challenges = json_array();
	/* Wildcards prove control of the zone: dns-01 only (7.1.3). IP
	 * addresses have no DNS to prove (RFC 8738 7). */
	if (wildcard) {
		json_array_append_new(challenges, new_challenge("dns-01"));
	} else {
		json_array_append_new(challenges, new_challenge("http-01"));
		if (strcmp(type, "dns") == 0)
			json_array_append_new(challenges, new_challenge("dns-01"));
		json_array_append_new(challenges, new_challenge("tls-alpn-01"));
	}
	return json_pack("{s:s, s:{s:s, s:s}, s:b, s:s, s:I, s:o}", "account", c->account_id, "identifier", "type",
			 type, "value", wildcard ? value + 2 : value, "wildcard", wildcard, "status", "pending",
			 "expires", (json_int_t)expires, "challenges", challenges);
}

int tc_acme_h_new_order(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r)
{
	json_t *p = c->payload;
	if (!p)
		return tc_acme_problem(r, "malformed", 0, NULL, "newOrder needs a payload");
	if (json_object_get(p, "notBefore") || json_object_get(p, "notAfter"))
		return tc_acme_problem(r, "malformed", 0, NULL,
				       "notBefore/notAfter are not supported: validity is the CA's policy");
	const json_t *replaces = json_object_get(p, "replaces");
	if (replaces && !json_is_string(replaces))
		return tc_acme_problem(r, "malformed", 0, NULL, "replaces must be a certificate identifier");
	json_t *idents = NULL;
	if (tc_acme_check_identifiers(a, c->account, json_object_get(p, "identifiers"), &idents, r) != 0)
		return -1;
	if (check_limits(a, c, r) != 0) {
		json_decref(idents);
		return -1;
	}
	time_t now = a->now(), expires = now + (time_t)a->cfg->acme.order_lifetime_s;
	char oid[23];
	struct tc_acme_batch *b = tc_acme_batch_new();
	json_t *zids = json_array();
	int rc = b && tc_acme_new_id(oid) == 0 ? 0 : -1;
	size_t i;
	const json_t *ident;
	json_array_foreach(idents, i, ident) {
		char zid[23];
		json_t *z = rc == 0 && tc_acme_new_id(zid) == 0 ? new_authz(c, ident, expires) : NULL;
		if (!z || tc_acme_batch_put(b, 'Z', zid, z) != 0)
			rc = -1;
		json_decref(z);
		json_array_append_new(zids, json_string(zid));
	}
	json_t *rec = json_pack("{s:s, s:s, s:I, s:o, s:o, s:I}", "account", c->account_id, "status", "pending",
				"expires", (json_int_t)expires, "identifiers", idents, "authzs", zids, "created",
				(json_int_t)now);
	if (rec && replaces)
		json_object_set(rec, "replaces", (json_t *)replaces);
	char lkey[64];
	snprintf(lkey, sizeof(lkey), "%s/%s", c->account_id, oid);
	if (rc == 0 && rec && tc_acme_batch_put(b, 'O', oid, rec) == 0) {
		tc_acme_batch_put_str(b, 'L', lkey, "");
		tc_acme_batch_put_str(b, 'P', lkey, "");
		rc = tc_acme_batch_commit_deferred(a->store, b);
		b = NULL;
	} else {
		rc = -1;
	}
	tc_acme_batch_free(b);
	if (rc != 0)
		rc = tc_acme_problem(r, "serverInternal", 0, NULL, "cannot store the order");
	else {
		tc_acme_m_order("pending");
		rc = tc_acme_order_answer(a, oid, rec, 201, r);
	}
	json_decref(rec);
	return rc;
}

/* A processing order's read waits (up to WAIT_MS, what Retry-After asks
 * of a client anyway) for the issuer to finish: one poll instead of many.
 * The ticket is taken before the read, so a notify between the two is not
 * lost. */
int tc_acme_order_poll(struct tc_acme *a, const char *oid, uint64_t deadline_ms, struct tc_acme_resp *r)
{
	uint64_t ticket = a->wake ? tc_acme_wake_ticket(a->wake, oid) : 0;
	json_t *rec = tc_acme_store_get(a->store, 'O', oid);
	if (!rec)
		return tc_acme_problem(r, "malformed", 404, NULL, "no such order");
	int rc = 0;
	int processing = strcmp(tc_acme_order_derive(a, rec), "processing") == 0; /* also moves rec's status */
	if (!processing || !tc_acme_wake_park_at(a->wake, &r->park, 'O', oid, ticket, deadline_ms))
		rc = tc_acme_order_answer(a, oid, rec, 200, r);
	json_decref(rec);
	return rc;
}

int tc_acme_h_order(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r)
{
	char oid[64];
	const char *slash = strchr(c->id, '/');
	size_t n = slash ? (size_t)(slash - c->id) : strlen(c->id);
	if (n == 0 || n >= sizeof(oid) || (slash && strcmp(slash, "/finalize") != 0))
		return tc_acme_problem(r, "malformed", 404, NULL, "no such order");
	memcpy(oid, c->id, n);
	oid[n] = 0;
	json_t *rec = tc_acme_store_get(a->store, 'O', oid);
	if (!rec)
		return tc_acme_problem(r, "malformed", 404, NULL, "no such order");
	int rc;
	if (strcmp(json_string_value(json_object_get(rec, "account")), c->account_id) != 0) {
		rc = tc_acme_problem(r, "unauthorized", 0, NULL, "not your order");
	} else if (slash) {
		json_decref(rec);
		c->id = oid;
		return tc_acme_h_finalize(a, c, r);
	} else if (strcmp(tc_acme_order_derive(a, rec), "processing") == 0 && a->wake) {
		/* (derive first: it also moves rec's status for the answer) */
		json_decref(rec);
		return tc_acme_order_poll(a, oid, tc_acme_wake_now_ms() + WAIT_MS, r);
	} else {
		rc = tc_acme_order_answer(a, oid, rec, 200, r);
	}
	json_decref(rec);
	return rc;
}
