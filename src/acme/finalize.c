/* finalize (RFC 8555 7.4): the CSR checked as the gateway's Issue checks it
 * (proof of possession, key type, names) plus ACME's own rule that it
 * names exactly the order's identifiers; then issuance through the
 * gateway with our credential, the one path every certificate takes
 * (precertificate, CT entry, embedded SCT). The order is processing while
 * the CA works; no lock is held across the call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acme/acme_handlers.h"
#include "acme/acme_store.h"
#include "acme/b64url.h"
#include "acme/cert_info.h"
#include "acme/order.h"
#include "acme/problem.h"
#include "acme/rate_limit.h"
#include "common/log.h"
#include "gateway/csr.h"
#include "trustchain/client.h"

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

/* Moves the order from `from` to status (and more), under its lock; with
 * extra (may be NULL) written in the same batch. Returns the stored
 * record (new reference) or NULL when it was not in state `from`. */
static json_t *transition(struct tc_acme *a, const char *oid, const char *from, const char *status, json_t *error,
			  const char *serial, struct tc_acme_batch *extra, int sync)
{
	tc_acme_store_lock(a->store, oid);
	json_t *rec = tc_acme_store_get(a->store, 'O', oid);
	if (rec && strcmp(tc_acme_order_derive(a, rec), from) == 0) {
		json_object_set_new(rec, "status", json_string(status));
		if (error)
			json_object_set(rec, "error", error);
		if (serial)
			json_object_set_new(rec, "serial", json_string(serial));
		if (strcmp(status, "processing") == 0)
			json_object_set_new(rec, "since", json_integer((json_int_t)a->now()));
		struct tc_acme_batch *b = extra ? extra : tc_acme_batch_new();
		extra = NULL;
		int rc = -1;
		if (b && tc_acme_batch_put(b, 'O', oid, rec) == 0)
			rc = sync ? tc_acme_batch_commit(a->store, b) : tc_acme_batch_commit_nosync(a->store, b);
		else
			tc_acme_batch_free(b); /* commit frees it otherwise */
		if (rc != 0) {
			json_decref(rec);
			rec = NULL;
		}
	} else {
		json_decref(rec);
		rec = NULL;
	}
	tc_acme_store_unlock(a->store, oid);
	tc_acme_batch_free(extra);
	json_decref(error);
	return rec;
}

/* The ACME error for a refused Issue. */
static const char *issue_error(const struct tc_status *st)
{
	if (strcmp(st->reason, "name_not_permitted") == 0 || strcmp(st->reason, "name_invalid") == 0)
		return "rejectedIdentifier";
	if (strncmp(st->reason, "csr_", 4) == 0 || strcmp(st->reason, "key_type_not_allowed") == 0)
		return "badCSR";
	return "serverInternal";
}

/* Stores the issued certificate and moves the order to valid. */
static json_t *store_issued(struct tc_acme *a, struct tc_acme_call *c, const char *oid,
			    const struct tc_issue_result *res)
{
	uint8_t *der = NULL;
	size_t dl = 0;
	struct tc_acme_cert_info info;
	if (tc_acme_pem_first(res->certificate_pem, &der, &dl) != 0 || tc_acme_cert_info(der, dl, &info) != 0) {
		free(der);
		return NULL;
	}
	size_t ll = strlen(res->certificate_pem), cl = res->chain_pem ? strlen(res->chain_pem) : 0;
	char *pem = malloc(ll + cl + 2);
	if (!pem) {
		free(der);
		return NULL;
	}
	memcpy(pem, res->certificate_pem, ll);
	if (ll && pem[ll - 1] != '\n')
		pem[ll++] = '\n';
	memcpy(pem + ll, res->chain_pem ? res->chain_pem : "", cl + 1);
	json_t *cert = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "account", c->account_id, "order", oid,
				 "ca_serial", res->serial, "pem", pem, "aki", info.aki_hex, "not_before",
				 (json_int_t)res->not_before, "not_after", (json_int_t)res->not_after);
	free(pem);
	free(der);
	/* The certificate, the order naming it and the end of its pending
	 * listing: one synced batch. */
	struct tc_acme_batch *b = tc_acme_batch_new();
	if (!cert || !b || tc_acme_batch_put(b, 'C', info.serial_hex, cert) != 0) {
		json_decref(cert);
		tc_acme_batch_free(b);
		return NULL;
	}
	json_decref(cert);
	char pkey[80];
	snprintf(pkey, sizeof(pkey), "%s/%s", c->account_id, oid);
	tc_acme_batch_delete(b, 'P', pkey);
	return transition(a, oid, "processing", "valid", NULL, info.serial_hex, b, 1);
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
	if (check_csr(a, c, idents, &der, &der_len, r) != 0 || name_limits(a, idents, r) != 0) {
		json_decref(idents);
		free(der);
		return -1;
	}
	/* Unsynced: after a machine crash the order is ready again and the
	 * client finalizes once more. */
	if (!(rec = transition(a, oid, "ready", "processing", NULL, NULL, NULL, 0))) {
		json_decref(idents);
		free(der);
		return tc_acme_problem(r, "orderNotReady", 0, NULL, "order changed state meanwhile");
	}
	json_decref(rec);
	const char *dns[MAX_NAMES], *ips[MAX_NAMES];
	size_t n_dns = 0, n_ips = 0, i;
	const json_t *id;
	json_array_foreach(idents, i, id) {
		const char *v = json_string_value(json_object_get(id, "value"));
		if (strcmp(json_string_value(json_object_get(id, "type")), "ip") == 0)
			ips[n_ips++] = v;
		else
			dns[n_dns++] = v;
		if (n_dns == MAX_NAMES || n_ips == MAX_NAMES)
			break;
	}
	struct tc_issue_request rq = {.csr = der, .csr_len = der_len, .dns_names = dns, .n_dns = n_dns,
				      .ip_addresses = ips, .n_ips = n_ips, .profile = TC_PROFILE_SERVER};
	struct tc_issue_result *res = NULL;
	struct tc_status st = {0};
	int issued = a->ca ? tc_issue(a->ca, &rq, &res, &st) : -1;
	if (!a->ca)
		snprintf(st.message, sizeof(st.message), "no link to the CA");
	free(der);
	json_decref(idents);
	int rc;
	if (issued == 0) {
		rec = store_issued(a, c, oid, res);
		tc_issue_result_free(res);
		if (!rec)
			return tc_acme_problem(r, "serverInternal", 0, NULL, "cannot store the certificate");
		rc = tc_acme_order_answer(a, oid, rec, 200, r);
		json_decref(rec);
		return rc;
	}
	if (st.code == 14 /* UNAVAILABLE: nothing issued, the CA or its log is away */ || !a->ca) {
		json_decref(transition(a, oid, "processing", "ready", NULL, NULL, NULL, 0));
		r->retry_after = 5;
		return tc_acme_problem(r, "serverInternal", 503, NULL, "the CA is unavailable (%s): retry", st.message);
	}
	tc_warn("finalize of order %s refused by the CA: %s (%s)", oid, st.message, st.reason);
	const char *type = issue_error(&st);
	json_decref(transition(a, oid, "processing", "invalid", tc_acme_problem_json(type, st.message, NULL, NULL),
			       NULL, NULL, 1));
	return tc_acme_problem(r, type, 0, NULL, "the CA refused: %s", st.message);
}
