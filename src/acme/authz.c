/* Authorizations (RFC 8555 7.5, deactivation 7.5.2) and challenges (7.5.1):
 * a POST {} to a pending challenge hands the check to the validator
 * (validator_client.h) and answers at once with status processing; the
 * validator's verdict lands on the client's reader thread, which stores
 * the challenge and authorization as valid or invalid with the error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_handlers.h"
#include "acme/acme_store.h"
#include "acme/order.h"
#include "acme/problem.h"
#include "acme/rate_limit.h"
#include "acme/validator_client.h"
#include "acme/wake.h"
#include "acme/workq.h"
#include "common/log.h"

#define FAILED_WINDOW_S 3600
#define WAIT_MS 1000

static json_t *challenge_view(struct tc_acme *a, const char *zid, size_t idx, const json_t *ch)
{
	char url[TC_ACME_URL_MAX];
	tc_acme_url(a, url, sizeof(url), "/acme/chall/%s/%zu", zid, idx);
	json_t *o = json_pack("{s:O, s:s, s:O, s:O}", "type", json_object_get(ch, "type"), "url", url, "status",
			      json_object_get(ch, "status"), "token", json_object_get(ch, "token"));
	const json_t *validated = json_object_get(ch, "validated");
	if (validated) {
		char when[32];
		tc_acme_time((time_t)json_integer_value(validated), when);
		json_object_set_new(o, "validated", json_string(when));
	}
	if (json_object_get(ch, "error"))
		json_object_set(o, "error", json_object_get(ch, "error"));
	return o;
}

static json_t *authz_view(struct tc_acme *a, const char *zid, const json_t *rec)
{
	char when[32];
	tc_acme_time((time_t)json_integer_value(json_object_get(rec, "expires")), when);
	json_t *o = json_pack("{s:O, s:s, s:s}", "identifier", json_object_get(rec, "identifier"), "status",
			      tc_acme_authz_status(a, rec), "expires", when);
	json_t *chs = json_array();
	size_t i;
	const json_t *ch;
	const char *status = json_string_value(json_object_get(rec, "status"));
	json_array_foreach(json_object_get(rec, "challenges"), i, ch) {
		/* Once valid, only the challenge that succeeded is listed (7.1.4). */
		if (strcmp(status, "valid") == 0 && strcmp(json_string_value(json_object_get(ch, "status")), "valid") != 0)
			continue;
		json_array_append_new(chs, challenge_view(a, zid, i, ch));
	}
	json_object_set_new(o, "challenges", chs);
	if (json_is_true(json_object_get(rec, "wildcard")))
		json_object_set_new(o, "wildcard", json_true());
	return o;
}

/* The authorization zid, when it belongs to the caller. */
static json_t *load_own(struct tc_acme *a, struct tc_acme_call *c, const char *zid, struct tc_acme_resp *r)
{
	json_t *rec = tc_acme_store_get(a->store, 'Z', zid);
	if (!rec) {
		tc_acme_problem(r, "malformed", 404, NULL, "no such authorization");
		return NULL;
	}
	if (strcmp(json_string_value(json_object_get(rec, "account")), c->account_id) != 0) {
		json_decref(rec);
		tc_acme_problem(r, "unauthorized", 0, NULL, "not your authorization");
		return NULL;
	}
	return rec;
}

/* Pending with a check running: the verdict is what the client polls for. */
static int checking(struct tc_acme *a, const json_t *rec)
{
	if (strcmp(tc_acme_authz_status(a, rec), "pending") != 0)
		return 0;
	size_t i;
	const json_t *ch;
	json_array_foreach(json_object_get(rec, "challenges"), i, ch) {
		const char *st = json_string_value(json_object_get(ch, "status"));
		if (st && strcmp(st, "processing") == 0)
			return 1;
	}
	return 0;
}

/* The answer to a read: the authorization as it is. */
static int authz_answer(struct tc_acme *a, const char *zid, json_t *rec, struct tc_acme_resp *r)
{
	/* Clients poll a pending authorization: tell them how soon (7.5.1). */
	if (strcmp(tc_acme_authz_status(a, rec), "pending") == 0)
		r->retry_after = 1;
	return tc_acme_json(r, 200, authz_view(a, zid, rec));
}

/* A read of an authorization whose check runs waits (up to WAIT_MS, what
 * Retry-After asks of a client anyway) for the verdict: one poll instead
 * of many. The ticket is taken before the read (no lost wake-up). */
int tc_acme_authz_poll(struct tc_acme *a, const char *zid, uint64_t deadline_ms, struct tc_acme_resp *r)
{
	uint64_t ticket = a->wake ? tc_acme_wake_ticket(a->wake, zid) : 0;
	json_t *rec = tc_acme_store_get(a->store, 'Z', zid);
	if (!rec)
		return tc_acme_problem(r, "malformed", 404, NULL, "no such authorization");
	int rc = 0;
	if (!checking(a, rec) || !tc_acme_wake_park_at(a->wake, &r->park, 'Z', zid, ticket, deadline_ms))
		rc = authz_answer(a, zid, rec, r);
	json_decref(rec);
	return rc;
}

int tc_acme_h_authz(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r)
{
	const char *zid = c->id;
	if (strlen(zid) > 40 || strchr(zid, '/'))
		return tc_acme_problem(r, "malformed", 404, NULL, "no such authorization");
	json_t *rec = load_own(a, c, zid, r);
	if (!rec)
		return -1;
	int rc = 0;
	if (c->payload) {
		const json_t *st = json_object_get(c->payload, "status");
		if (!json_is_string(st) || strcmp(json_string_value(st), "deactivated") != 0) {
			json_decref(rec);
			return tc_acme_problem(r, "malformed", 0, NULL, "an authorization may only become deactivated");
		}
		json_decref(rec);
		tc_acme_store_lock(a->store, zid);
		rec = tc_acme_store_get(a->store, 'Z', zid);
		const char *now = rec ? tc_acme_authz_status(a, rec) : "invalid";
		if (strcmp(now, "pending") != 0 && strcmp(now, "valid") != 0) {
			rc = tc_acme_problem(r, "malformed", 0, NULL, "authorization is %s", now);
		} else {
			json_object_set_new(rec, "status", json_string("deactivated"));
			if (tc_acme_store_put_deferred(a->store, 'Z', zid, rec) != 0)
				rc = tc_acme_problem(r, "serverInternal", 0, NULL, "cannot store the authorization");
		}
		tc_acme_store_unlock(a->store, zid);
	}
	else if (a->wake && checking(a, rec)) {
		json_decref(rec);
		return tc_acme_authz_poll(a, zid, tc_acme_wake_now_ms() + WAIT_MS, r);
	}
	if (rc == 0)
		rc = authz_answer(a, zid, rec, r);
	json_decref(rec);
	return rc;
}

struct pending_check {
	struct tc_acme *a;
	char zid[32];
	size_t idx;
	char account[32];
	struct tc_vresult res; /* the verdict, copied off the reader thread */
};

/* Stores a verdict (a work queue thread). */
static void store_verdict(void *arg)
{
	struct pending_check *pc = arg;
	struct tc_acme *a = pc->a;
	const struct tc_vresult *res = &pc->res;
	tc_acme_store_lock(a->store, pc->zid);
	json_t *rec = tc_acme_store_get(a->store, 'Z', pc->zid);
	json_t *ch = rec ? json_array_get(json_object_get(rec, "challenges"), pc->idx) : NULL;
	if (ch && strcmp(json_string_value(json_object_get(ch, "status")), "processing") == 0) {
		/* Only a pending authorization follows its challenge: another
		 * challenge may have decided it, or the client deactivated it. */
		int pending = strcmp(json_string_value(json_object_get(rec, "status")), "pending") == 0;
		const char *value = json_string_value(json_object_get(json_object_get(rec, "identifier"), "value"));
		if (res->valid) {
			json_object_set_new(ch, "status", json_string("valid"));
			json_object_set_new(ch, "validated", json_integer((json_int_t)a->now()));
			if (pending)
				json_object_set_new(rec, "status", json_string("valid"));
			tc_info("%s validated %s (%s)", json_string_value(json_object_get(ch, "type")), value,
				res->address_used);
		} else {
			const char *type = res->problem_type[0] ? res->problem_type : "serverInternal";
			json_object_set_new(ch, "status", json_string("invalid"));
			json_object_set_new(ch, "error", tc_acme_problem_json(type, res->detail, NULL, NULL));
			if (pending)
				json_object_set_new(rec, "status", json_string("invalid"));
			char key[96];
			snprintf(key, sizeof(key), "fail:%s", pc->account);
			tc_acme_rate_add(a->rate, key, FAILED_WINDOW_S, a->now());
			tc_info("%s of %s failed: %s: %s", json_string_value(json_object_get(ch, "type")), value, type,
				res->detail);
		}
		if (tc_acme_store_put(a->store, 'Z', pc->zid, rec) != 0)
			tc_err("cannot store the outcome of authorization %s", pc->zid);
	}
	tc_acme_store_unlock(a->store, pc->zid);
	if (a->wake)
		tc_acme_wake_notify(a->wake, pc->zid);
	json_decref(rec);
	free(pc);
}

/* The validator's verdict, on the validator client's reader thread: handed
 * to the work queue at once so the next verdict is read. */
static void on_checked(void *arg, const struct tc_vresult *res)
{
	struct pending_check *pc = arg;
	pc->res = *res;
	if (!pc->a->wq || tc_acme_workq_push(pc->a->wq, store_verdict, pc) != 0)
		store_verdict(pc);
}

/* A check "processing" for longer than any validation takes was lost (we
 * were restarted while it ran): it may be started again. */
static int stale(struct tc_acme *a, const json_t *ch)
{
	if (strcmp(json_string_value(json_object_get(ch, "status")), "processing") != 0)
		return 0;
	json_int_t started = json_integer_value(json_object_get(ch, "started"));
	json_int_t limit = a->cfg->acme.validation.timeout_ms / 1000 + TC_VCLIENT_GRACE_MS / 1000 + 30;
	return (json_int_t)a->now() - started > limit;
}

/* Moves challenge idx of zid to processing and submits it. */
static int start(struct tc_acme *a, struct tc_acme_call *c, const char *zid, size_t idx, struct tc_acme_resp *r)
{
	const struct tc_config *cfg = a->cfg;
	char key[96];
	unsigned wait = 0;
	snprintf(key, sizeof(key), "fail:%s", c->account_id);
	if (!tc_acme_rate_check(a->rate, key, cfg->acme.rate_limits.failed_validations_per_account_per_hour,
				FAILED_WINDOW_S, a->now(), &wait)) {
		r->retry_after = wait;
		return tc_acme_problem(r, "rateLimited", 0, NULL, "too many failed validations for this account");
	}
	if (!a->vc) {
		r->retry_after = 5;
		return tc_acme_problem(r, "serverInternal", 503, NULL, "the validator is not available");
	}
	tc_acme_store_lock(a->store, zid);
	json_t *rec = tc_acme_store_get(a->store, 'Z', zid);
	json_t *ch = rec ? json_array_get(json_object_get(rec, "challenges"), idx) : NULL;
	int rc = 0;
	if (!ch) {
		rc = tc_acme_problem(r, "malformed", 404, NULL, "no such challenge");
	} else if (strcmp(tc_acme_authz_status(a, rec), "pending") != 0 ||
		   (strcmp(json_string_value(json_object_get(ch, "status")), "pending") != 0 && !stale(a, ch))) {
		rc = 1; /* already under way or decided: answered as it is (7.5.1) */
	} else {
		json_object_set_new(ch, "status", json_string("processing"));
		json_object_set_new(ch, "started", json_integer((json_int_t)a->now()));
		/* Unsynced: after a machine crash the challenge is pending again
		 * and the client posts it once more. */
		if (tc_acme_store_put_nosync(a->store, 'Z', zid, rec) != 0)
			rc = tc_acme_problem(r, "serverInternal", 0, NULL, "cannot store the challenge");
	}
	tc_acme_store_unlock(a->store, zid);
	if (rc == 0) {
		const json_t *ident = json_object_get(rec, "identifier");
		const char *token = json_string_value(json_object_get(ch, "token"));
		char keyauth[256];
		snprintf(keyauth, sizeof(keyauth), "%s.%s", token, c->key.thumbprint);
		const char *value = json_string_value(json_object_get(ident, "value"));
		struct tc_vcheck check = {
			.type = json_string_value(json_object_get(ch, "type")),
			.identifier_is_ip = strcmp(json_string_value(json_object_get(ident, "type")), "ip") == 0,
			.identifier = value,
			.identifier_len = strlen(value),
			.token = token,
			.key_authorization = keyauth,
		};
		struct pending_check *pc = calloc(1, sizeof(*pc));
		if (pc) {
			pc->a = a;
			pc->idx = idx;
			snprintf(pc->zid, sizeof(pc->zid), "%s", zid);
			snprintf(pc->account, sizeof(pc->account), "%s", c->account_id);
		}
		if (!pc || tc_vclient_submit(a->vc, &check, cfg->acme.validation.timeout_ms, on_checked, pc) != 0) {
			free(pc);
			/* Back to pending so the client can try again later. */
			tc_acme_store_lock(a->store, zid);
			json_t *again = tc_acme_store_get(a->store, 'Z', zid);
			json_t *ch2 = again ? json_array_get(json_object_get(again, "challenges"), idx) : NULL;
			if (ch2 && strcmp(json_string_value(json_object_get(ch2, "status")), "processing") == 0) {
				json_object_set_new(ch2, "status", json_string("pending"));
				tc_acme_store_put_nosync(a->store, 'Z', zid, again);
			}
			tc_acme_store_unlock(a->store, zid);
			json_decref(again);
			json_decref(rec);
			r->retry_after = 5;
			return tc_acme_problem(r, "serverInternal", 503, NULL, "the validator is busy or down: retry");
		}
	}
	if (rc < 0) {
		json_decref(rec);
		return -1;
	}
	json_decref(rec);
	return 0;
}

int tc_acme_h_challenge(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r)
{
	char zid[32];
	const char *slash = strchr(c->id, '/');
	char *end = NULL;
	size_t n = slash ? (size_t)(slash - c->id) : 0;
	unsigned long idx = slash ? strtoul(slash + 1, &end, 10) : 0;
	if (!slash || n == 0 || n >= sizeof(zid) || !end || *end || end == slash + 1 || idx > 8)
		return tc_acme_problem(r, "malformed", 404, NULL, "no such challenge");
	memcpy(zid, c->id, n);
	zid[n] = 0;
	json_t *rec = load_own(a, c, zid, r);
	if (!rec)
		return -1;
	json_decref(rec);
	/* POST {} starts it; POST-as-GET reads it. Any other payload member is
	 * ignored (7.5.1: the payload is an empty object). */
	if (c->payload && start(a, c, zid, (size_t)idx, r) != 0)
		return -1;
	rec = tc_acme_store_get(a->store, 'Z', zid);
	json_t *ch = rec ? json_array_get(json_object_get(rec, "challenges"), idx) : NULL;
	int rc;
	if (!ch) {
		rc = tc_acme_problem(r, "malformed", 404, NULL, "no such challenge");
	} else {
		char up[TC_ACME_URL_MAX];
		tc_acme_url(a, up, sizeof(up), "/acme/authz/%s", zid);
		tc_acme_resp_link(r, up, "up");
		if (strcmp(json_string_value(json_object_get(ch, "status")), "processing") == 0)
			r->retry_after = 1;
		rc = tc_acme_json(r, 200, challenge_view(a, zid, (size_t)idx, ch));
	}
	json_decref(rec);
	return rc;
}
