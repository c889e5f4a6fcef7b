/* finalize (RFC 8555 7.4): the CSR checked as the gateway's Issue checks it
 * (proof of possession, key type, names) plus ACME's own rule that it
 * names exactly the order's identifiers; then the order is stored
 * processing and answered at once, and the issuer (issuer.h) gets the
 * certificate through the gateway with our credential in the background,
 * the one path every certificate takes (precertificate, CT entry,
 * embedded SCT). Clients poll the order (Retry-After). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acme/acme_handlers.h"
#include "acme/acme_metrics.h"
#include "acme/acme_store.h"
#include "acme/b64url.h"
#include "acme/issuer.h"
#include "acme/order.h"
#include "acme/problem.h"
#include "acme/rate_limit.h"
#include "common/log.h"
#include "gateway/csr.h"

#define MAX_NAMES 100
#define WEEK_S (7 * 24 * 3600)

/* Every CSR name is an order identifier and every identifier is named. */
static int same_names(const json_t *idents, char **dns, size_t n_dns, char **ips, size_t n_ips, char *why,
		      size_t wl)
{
	size_t i;
	const json_t *id;
	size_t matched = 0;
	json_array_foreach(idents, i, id) {
		const char *type = json_string_value(json_object_get(id, "type"));
		const char *value = json_string_value(json_object_get(id, "value"));
		int ip = strcmp(type, "ip") == 0, found = 0;
		char **list = ip ? ips : dns;
		size_t n = ip ? n_ips : n_dns;
		for (size_t k = 0; k < n && !found; k++)
			found = strcasecmp(list[k], value) == 0;
		if (!found) {
			snprintf(why, wl, "the CSR does not request %s", value);
			return -1;
		}
		matched++;
	}
	/* Duplicates in the CSR would count twice: compare distinct names. */
	size_t distinct = 0;
	for (size_t k = 0; k < n_dns; k++) {
		int dup = 0;
		for (size_t m = 0; m < k; m++)
			dup |= strcasecmp(dns[m], dns[k]) == 0;
		distinct += !dup;
	}
	for (size_t k = 0; k < n_ips; k++) {
		int dup = 0;
		for (size_t m = 0; m < k; m++)
			dup |= strcmp(ips[m], ips[k]) == 0;
		distinct += !dup;
	}
	if (distinct != matched) {
		snprintf(why, wl, "the CSR requests names beyond the order's identifiers");
		return -1;
	}
	return 0;
}

/* The registered domain for certificates_per_name_per_week: the last two
 * labels (no public suffix list here; our suffixes are the CA's own). */
static const char *registered(const char *name)
{
	const char *last = strrchr(name, '.');
	if (!last)
		return name;
	const char *p = last;
	while (p > name && p[-1] != '.')
		p--;
	return p;
}

static int name_limits(struct tc_acme *a, const json_t *idents, struct tc_acme_resp *r)
{
	uint32_t limit = a->cfg->acme.rate_limits.certificates_per_name_per_week;
	if (!limit)
		return 0;
	size_t i;
	const json_t *id;
	json_array_foreach(idents, i, id) {
		char key[300];
		unsigned wait = 0;
		snprintf(key, sizeof(key), "name:%s", registered(json_string_value(json_object_get(id, "value"))));
		if (!tc_acme_rate_take(a->rate, key, limit, WEEK_S, a->now(), &wait)) {
			r->retry_after = wait;
			return tc_acme_problem(r, "rateLimited", 0, NULL, "too many certificates for %s this week",
					       key + 5);
		}
	}
	return 0;
}

/* The CSR from the payload, checked against the order. 0 with the names,
 * or -1 with badCSR in r. */
static int check_csr(struct tc_acme *a, struct tc_acme_call *c, const json_t *idents, unsigned char **der,
		     size_t *der_len, struct tc_acme_resp *r)
{
	const json_t *csr = c->payload ? json_object_get(c->payload, "csr") : NULL;
	if (!json_is_string(csr) ||
	    tc_b64url_decode(json_string_value(csr), json_string_length(csr), der, der_len) != 0)
		return tc_acme_problem(r, "malformed", 0, NULL, "finalize needs csr: base64url DER");
	struct tc_csr parsed;
	char why[256];
	enum tc_csr_error e = tc_csr_parse(*der, *der_len, a->cfg->ca.min_rsa_bits, &parsed, why, sizeof(why));
	if (e != TC_CSR_OK) {
		free(*der);
		*der = NULL;
		return tc_acme_problem(r, e == TC_CSR_KEY_NOT_ALLOWED ? "badPublicKey" : "badCSR", 0, NULL, "%s", why);
	}
	char *dns[MAX_NAMES], *ips[MAX_NAMES];
	size_t n_dns = 0, n_ips = 0;
	int rc = tc_csr_requested_names(&parsed.view, dns, &n_dns, ips, &n_ips, MAX_NAMES);
	if (rc != 0)
		snprintf(why, sizeof(why), "the CSR's subjectAltName does not decode or names too much");
	else if (same_names(idents, dns, n_dns, ips, n_ips, why, sizeof(why)) != 0)
		rc = -1;
	for (size_t i = 0; i < n_dns; i++)
		free(dns[i]);
	for (size_t i = 0; i < n_ips; i++)
		free(ips[i]);
	tc_csr_free(&parsed);
	if (rc != 0) {
		free(*der);
		*der = NULL;
		return tc_acme_problem(r, "badCSR", 0, NULL, "%s", why);
	}
	return 0;
}

/* ready -> processing with the CSR (base64url, as the client sent it) and
 * the issuer's "I/" entry, one batch (group commit: the answer leaves once
 * it is synced): the answer acknowledges the finalization, so a restart
 * (kill -9 or a machine crash) resumes it.
 * Returns the stored record (new reference), or NULL when the order was
 * not ready any more (or the write failed: *failed set). */
static json_t *to_processing(struct tc_acme *a, const char *oid, const json_t *csr, int *failed)
{
	*failed = 0;
	tc_acme_store_lock(a->store, oid);
	json_t *rec = tc_acme_store_get(a->store, 'O', oid);
	if (rec && strcmp(tc_acme_order_derive(a, rec), "ready") == 0) {
		json_object_set_new(rec, "status", json_string("processing"));
		json_object_set_new(rec, "since", json_integer((json_int_t)a->now()));
		json_object_set(rec, "csr", (json_t *)csr);
		char *key = tc_acme_issue_key(oid);
		json_object_set_new(rec, "issue_key", key ? json_string(key) : json_null());
		free(key);
		struct tc_acme_batch *b = tc_acme_batch_new();
		if (!b || tc_acme_batch_put(b, 'O', oid, rec) != 0) {
			tc_acme_batch_free(b);
			*failed = 1;
		} else {
			tc_acme_batch_put_str(b, 'I', oid, "");
			*failed = tc_acme_batch_commit_deferred(a->store, b) != 0;
			if (!*failed)
				tc_acme_m_order("processing");
		}
		if (*failed) {
			json_decref(rec);
			rec = NULL;
		}
	} else {
		json_decref(rec);
		rec = NULL;
	}
	tc_acme_store_unlock(a->store, oid);
	return rec;
}

struct submit {
	struct tc_acme *a;
	char oid[64];
};

/* The CA is asked only once "processing" (with the idempotency key) is on
 * disk: a machine crash before that would forget the key, and a second
 * finalize would then issue twice. */
static void submit_when_durable(void *arg, int ok)
{
	struct submit *s = arg;
	if (!ok)
		tc_err("order %s: not stored durably; its issuance waits for the next start", s->oid);
	else if (tc_acme_issuer_submit(s->a->issuer, s->oid) != 0)
		tc_err("order %s: cannot queue its issuance now (resumed at the next start)", s->oid);
	free(s);
}

int tc_acme_h_finalize(struct tc_acme *a, struct tc_acme_call *c, struct tc_acme_resp *r)
{
	const char *oid = c->id;
	json_t *rec = tc_acme_store_get(a->store, 'O', oid);
	if (!rec)
		return tc_acme_problem(r, "malformed", 404, NULL, "no such order");
	const char *status = tc_acme_order_derive(a, rec);
	if (strcmp(status, "ready") != 0) {
		int rc = tc_acme_problem(r, "orderNotReady", 0, NULL, "order is %s", status);
		if (strcmp(status, "processing") == 0)
			r->retry_after = 1;
		json_decref(rec);
		return rc;
	}
	json_t *idents = json_incref(json_object_get(rec, "identifiers"));
	json_decref(rec);
	unsigned char *der = NULL;
	size_t der_len = 0;
	int bad = check_csr(a, c, idents, &der, &der_len, r) != 0 || name_limits(a, idents, r) != 0;
	json_decref(idents);
	free(der);
	if (bad)
		return -1;
	if (!a->ca || !a->issuer) {
		r->retry_after = 5;
		return tc_acme_problem(r, "serverInternal", 503, NULL, "no link to the CA: retry");
	}
	int failed = 0;
	if (!(rec = to_processing(a, oid, json_object_get(c->payload, "csr"), &failed))) {
		if (failed)
			return tc_acme_problem(r, "serverInternal", 0, NULL, "cannot store the order");
		return tc_acme_problem(r, "orderNotReady", 0, NULL, "order changed state meanwhile");
	}
	/* Stored: should the queue refuse (out of memory), the next start
	 * resumes it from its entry. */
	struct submit *s = strlen(oid) < sizeof(s->oid) ? malloc(sizeof(*s)) : NULL;
	if (s) {
		s->a = a;
		snprintf(s->oid, sizeof(s->oid), "%s", oid);
	}
	if (!s || tc_acme_store_when_durable(a->store, tc_acme_store_answer_peek(), submit_when_durable, s) < 0) {
		free(s);
		tc_err("order %s: cannot queue its issuance now (resumed at the next start)", oid);
	}
	int rc = tc_acme_order_answer(a, oid, rec, 200, r);
	json_decref(rec);
	return rc;
}
