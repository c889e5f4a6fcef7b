/* From an HTTP request to a handler: GET resources directly; POSTs only
 * after the JWS checks of RFC 8555 6.2-6.5 in this order: body size and
 * Content-Type, JWS form and header, the key (jwk for newAccount and
 * revokeCert, kid naming a valid account elsewhere), the signature, the
 * nonce (after the signature, so forged requests burn no nonces), then url
 * equal to the request's own URL. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_metrics.h"
#include "acme/acme.h"
#include "acme/acme_handlers.h"
#include "acme/wake.h"
#include "acme/acme_store.h"
#include "acme/key_cache.h"
#include "acme/account_cache.h"
#include "acme/nonce.h"
#include "acme/problem.h"

void tc_acme_url(const struct tc_acme *a, char *out, size_t len, const char *fmt, ...)
{
	int n = snprintf(out, len, "%s", a->base);
	if (n < 0 || (size_t)n >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out + n, len - (size_t)n, fmt, ap);
	va_end(ap);
}

void tc_acme_time(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int tc_acme_json(struct tc_acme_resp *r, unsigned status, json_t *obj)
{
	char *text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (!text)
		return tc_acme_problem(r, "serverInternal", 0, NULL, "out of memory");
	free(r->body);
	r->body = text;
	r->body_len = strlen(text);
	r->status = status;
	r->content_type = "application/json";
	return 0;
}

/* Path "/acme/<name>" or "/acme/<name>/<rest>": the rest, or NULL. */
static const char *under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(path, prefix, n) != 0)
		return NULL;
	if (path[n] == 0)
		return path + n;
	return path[n] == '/' ? path + n + 1 : NULL;
}

enum key_form { KEY_KID, KEY_JWK, KEY_EITHER };

typedef int (*post_handler)(struct tc_acme *, struct tc_acme_call *, struct tc_acme_resp *);

struct post_route {
	const char *prefix;
	int exact;          /* no id after the prefix */
	enum key_form form;
	post_handler fn;
};

/* Order matters: the longest prefixes first where they share a stem. */
static const struct post_route POST_ROUTES[] = {
	{"/acme/new-account", 1, KEY_JWK, tc_acme_h_new_account},
	{"/acme/new-order", 1, KEY_KID, tc_acme_h_new_order},
	{"/acme/revoke-cert", 1, KEY_EITHER, tc_acme_h_revoke},
	{"/acme/key-change", 1, KEY_KID, tc_acme_h_key_change},
	{"/acme/acct", 0, KEY_KID, tc_acme_h_account},
	{"/acme/order", 0, KEY_KID, tc_acme_h_order},
	{"/acme/authz", 0, KEY_KID, tc_acme_h_authz},
	{"/acme/chall", 0, KEY_KID, tc_acme_h_challenge},
	{"/acme/cert", 0, KEY_KID, tc_acme_h_certificate},
};

/* The account named by kid, locked into c. */
static int resolve_kid(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r)
{
	char prefix[TC_ACME_URL_MAX];
	tc_acme_url(a, prefix, sizeof(prefix), "/acme/acct/");
	size_t pl = strlen(prefix);
	const char *kid = c->jws.kid;
	if (strncmp(kid, prefix, pl) != 0 || strlen(kid + pl) == 0 || strlen(kid + pl) >= sizeof(c->account_id) ||
	    strchr(kid + pl, '/'))
		return tc_acme_problem(r, "malformed", 0, NULL, "kid is not an account URL of this server");
	snprintf(c->account_id, sizeof(c->account_id), "%s", kid + pl);
	c->account = tc_acct_cache_get(a->accounts, a->store, c->account_id);
	if (!c->account)
		return tc_acme_problem(r, "accountDoesNotExist", 0, NULL, "no such account");
	const char *status = json_string_value(json_object_get(c->account, "status"));
	if (!status || strcmp(status, "valid") != 0)
		return tc_acme_problem(r, "unauthorized", 0, NULL, "account is %s", status ? status : "unusable");
	const char *key = json_string_value(json_object_get(c->account, "key"));
	char why[256];
	if (!key || tc_key_cache_get(a->keys, key, &c->key, why, sizeof(why)) != 0)
		return tc_acme_problem(r, "serverInternal", 0, NULL, "stored account key unreadable");
	return 0;
}

/* A refusal of verify_post, counted by reason (acme_metrics.h). */
#define refused(r, reason, ...) (tc_acme_m_jws_refused(reason), tc_acme_problem((r), __VA_ARGS__))

static int verify_post(struct tc_acme *a, const struct post_route *route, struct tc_acme_call *c,
		       struct tc_acme_resp *r)
{
	const struct tc_acme_req *rq = c->rq;
	if (rq->body_len > a->cfg->acme.max_jws_bytes)
		return refused(r, "too_large", "malformed", 413, NULL, "request body larger than %u bytes",
				       a->cfg->acme.max_jws_bytes);
	if (!rq->content_type || strncmp(rq->content_type, "application/jose+json", 21) != 0 ||
	    (rq->content_type[21] && rq->content_type[21] != ';'))
		return refused(r, "content_type", "malformed", 415, NULL, "Content-Type must be application/jose+json");
	const char *type;
	char why[256];
	if (tc_jws_parse(rq->body, rq->body_len, TC_JWS_OUTER, &c->jws, &type, why, sizeof(why)) != 0)
		return refused(r, "malformed_jws", type, 0, NULL, "%s", why);
	if (route->form == KEY_JWK && !c->jws.jwk)
		return refused(r, "key_form", "malformed", 0, NULL, "this resource needs a jwk, not a kid");
	if (route->form == KEY_KID && !c->jws.kid)
		return refused(r, "key_form", "malformed", 0, NULL, "this resource needs a kid (an account URL)");
	if (c->jws.jwk) {
		if (tc_jwk_parse(c->jws.jwk, &c->key, why, sizeof(why)) != 0)
			return refused(r, "bad_key", "badPublicKey", 0, NULL, "%s", why);
	} else if (resolve_kid(a, c, r) != 0) {
		tc_acme_m_jws_refused("account");
		return -1;
	}
	if (!tc_jws_verify(&c->jws, &c->key, why, sizeof(why)))
		return refused(r, "signature", "malformed", 0, NULL, "%s", why);
	if (!tc_nonce_redeem(a->nonces, c->jws.nonce, strlen(c->jws.nonce)))
		return refused(r, "nonce", "badNonce", 0, NULL, "nonce unknown, expired or used: retry with the fresh one");
	char self[TC_ACME_URL_MAX];
	tc_acme_url(a, self, sizeof(self), "%s", rq->path);
	if (strcmp(c->jws.url, self) != 0)
		return refused(r, "url", "unauthorized", 0, NULL, "JWS url does not match the request URL");
	if (c->jws.payload_len) {
		c->payload = tc_jws_payload_json(&c->jws);
		if (!c->payload)
			return refused(r, "payload", "malformed", 0, NULL, "payload is not a JSON object");
	}
	return 0;
}

static void handle_post(struct tc_acme *a, const struct tc_acme_req *rq, struct tc_acme_resp *r)
{
	const struct post_route *route = NULL;
	const char *id = NULL;
	for (size_t i = 0; i < sizeof(POST_ROUTES) / sizeof(POST_ROUTES[0]) && !route; i++) {
		const char *rest = under(rq->path, POST_ROUTES[i].prefix);
		if (rest && (POST_ROUTES[i].exact ? *rest == 0 : *rest != 0))
			route = &POST_ROUTES[i], id = rest;
	}
	if (!route) {
		tc_acme_problem(r, "malformed", 404, NULL, "no such resource");
		return;
	}
	struct tc_acme_call c = {.rq = rq, .id = id};
	if (verify_post(a, route, &c, r) == 0)
		route->fn(a, &c, r);
	tc_jws_free(&c.jws);
	tc_jwk_free(&c.key);
	json_decref(c.account);
	json_decref(c.payload);
}

void tc_acme_poll(struct tc_acme *a, const struct tc_acme_park *p, struct tc_acme_resp *r)
{
	if (p->kind == 'O')
		tc_acme_order_poll(a, p->id, p->deadline_ms, r);
	else
		tc_acme_authz_poll(a, p->id, p->deadline_ms, r);
}

static void handle(struct tc_acme *a, const struct tc_acme_req *rq, struct tc_acme_resp *r);

/* The requests that wait for a synchronous CA call. */
static int calls_ca(const struct tc_acme_req *rq)
{
	return (strcmp(rq->method, "POST") == 0 &&
		(strcmp(rq->path, "/acme/revoke-cert") == 0 || strcmp(rq->path, "/v1/validate") == 0)) ||
	       (strcmp(rq->method, "GET") == 0 && strcmp(rq->path, "/v1/crl") == 0);
}

void tc_acme_resp_not_durable(struct tc_acme_resp *r)
{
	tc_acme_resp_free(r);
	*r = (struct tc_acme_resp){0};
	tc_acme_problem(r, "serverInternal", 0, NULL, "the state could not be stored: retry");
}

void tc_acme_handle(struct tc_acme *a, const struct tc_acme_req *rq, struct tc_acme_resp *r)
{
	if (rq->can_park && calls_ca(rq)) {
		r->offload = 1;
		return;
	}
	tc_acme_store_answer_begin(); /* nothing from an earlier request */
	handle(a, rq, r);
	r->durable_seq = tc_acme_store_answer_floor(a->store, tc_acme_store_answer_seq());
	if (r->durable_seq && !rq->can_park) {
		if (tc_acme_store_wait_durable(a->store, r->durable_seq) != 0)
			tc_acme_resp_not_durable(r);
		r->durable_seq = 0;
	}
	/* A caller without suspended connections (tests) waits here. */
	while (r->park.kind && !rq->can_park) {
		struct tc_acme_park p = r->park;
		tc_acme_wake_wait(a->wake, p.id, p.ticket, p.deadline_ms);
		memset(&r->park, 0, sizeof(r->park));
		tc_acme_poll(a, &p, r);
	}
}

static void handle(struct tc_acme *a, const struct tc_acme_req *rq, struct tc_acme_resp *r)
{
	const char *m = rq->method, *p = rq->path, *rest;
	int get = strcmp(m, "GET") == 0, head = strcmp(m, "HEAD") == 0, post = strcmp(m, "POST") == 0;
	if (strncmp(p, "/v1/", 4) == 0) {
		tc_acme_h_rest(a, rq, r);
		return;
	}
	if (strcmp(p, "/acme/directory") == 0 && (get || head)) {
		tc_acme_h_directory(a, r);
		return;
	}
	if (strcmp(p, "/acme/new-nonce") == 0 && (get || head)) {
		tc_acme_h_new_nonce(a, m, r);
		return;
	}
	if ((rest = under(p, "/acme/renewal-info")) && *rest && (get || head)) {
		tc_acme_h_renewal_info(a, rest, r);
		return;
	}
	if (post) {
		handle_post(a, rq, r);
		return;
	}
	if (strncmp(p, "/acme/", 6) == 0)
		tc_acme_problem(r, "malformed", 405, NULL, "use POST (or POST-as-GET) for %s", p);
	else
		tc_acme_problem(r, "malformed", 404, NULL, "no such resource");
}
