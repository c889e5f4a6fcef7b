#include "acme/issuer.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme/acme_metrics.h"
#include "acme/acme_store.h"
#include "acme/b64url.h"
#include "acme/cert_info.h"
#include "acme/problem.h"
#include "acme/wake.h"
#include "acme/workq.h"
#include "common/log.h"
#include "common/metrics_proc.h"
#include "trustchain/client.h"

#define MAX_NAMES 100
#define OID_MAX 64
#define RETRY_MS 1000 /* the CA or its log away: the order stays processing */

/* An order queued or being issued. */
struct claim {
	char oid[OID_MAX];
	struct claim *next;
};

struct tc_acme_issuer {
	struct tc_acme *a;
	struct tc_acme_workq *wq;
	pthread_mutex_t lock;
	struct claim *claims;
	int stopping;
};

struct job {
	struct tc_acme_issuer *is;
	char oid[OID_MAX];
	double t0; /* tc_pm_now() at submission, for the finalize duration */
};

static struct claim **find(struct tc_acme_issuer *is, const char *oid)
{
	struct claim **p = &is->claims;
	while (*p && strcmp((*p)->oid, oid) != 0)
		p = &(*p)->next;
	return p;
}

static void release(struct tc_acme_issuer *is, const char *oid)
{
	pthread_mutex_lock(&is->lock);
	struct claim **p = find(is, oid), *c = *p;
	if (c) {
		*p = c->next;
		free(c);
	}
	pthread_mutex_unlock(&is->lock);
	if (is->a->wake)
		tc_acme_wake_notify(is->a->wake, oid);
}

/* The order's end state and its "I/" entry gone, in batch b (with the
 * certificate when issued), synced: under the order's lock, only while it
 * is still processing. 0, 1 when it was not processing any more, -1. */
static int finish(struct tc_acme *a, const char *oid, json_t *rec, struct tc_acme_batch *b)
{
	char pkey[OID_MAX + 40];
	snprintf(pkey, sizeof(pkey), "%s/%s", json_string_value(json_object_get(rec, "account")), oid);
	tc_acme_batch_delete(b, 'P', pkey);
	tc_acme_batch_delete(b, 'I', oid);
	json_object_del(rec, "csr"); /* done with; certificates are under C/ */
	int rc = -1;
	tc_acme_store_lock(a->store, oid);
	json_t *now = tc_acme_store_get(a->store, 'O', oid);
	const char *st = now ? json_string_value(json_object_get(now, "status")) : NULL;
	if (!st || strcmp(st, "processing") != 0) {
		tc_acme_batch_free(b);
		rc = 1;
	} else if (tc_acme_batch_put(b, 'O', oid, rec) == 0) {
		rc = tc_acme_batch_commit(a->store, b);
		if (rc == 0)
			tc_acme_m_order(json_string_value(json_object_get(rec, "status")));
	} else {
		tc_acme_batch_free(b);
	}
	tc_acme_store_unlock(a->store, oid);
	json_decref(now);
	return rc;
}

static int store_issued(struct tc_acme *a, const char *oid, json_t *rec, const struct tc_issue_result *res)
{
	uint8_t *der = NULL;
	size_t dl = 0;
	struct tc_acme_cert_info info;
	if (tc_acme_pem_first(res->certificate_pem, &der, &dl) != 0 || tc_acme_cert_info(der, dl, &info) != 0) {
		free(der);
		return -1;
	}
	free(der);
	size_t ll = strlen(res->certificate_pem), cl = res->chain_pem ? strlen(res->chain_pem) : 0;
	char *pem = malloc(ll + cl + 2);
	if (!pem)
		return -1;
	memcpy(pem, res->certificate_pem, ll);
	if (ll && pem[ll - 1] != '\n')
		pem[ll++] = '\n';
	memcpy(pem + ll, res->chain_pem ? res->chain_pem : "", cl + 1);
	/* Validity from the certificate itself: one given back for an
	 * idempotency key came from the first attempt's template, while the
	 * response's times are those of the retry's. */
	json_t *cert = json_pack("{s:O, s:s, s:s, s:s, s:s, s:I, s:I}", "account", json_object_get(rec, "account"),
				 "order", oid, "ca_serial", res->serial, "pem", pem, "aki", info.aki_hex, "not_before",
				 (json_int_t)info.not_before, "not_after", (json_int_t)info.not_after);
	free(pem);
	struct tc_acme_batch *b = tc_acme_batch_new();
	if (!cert || !b || tc_acme_batch_put(b, 'C', info.serial_hex, cert) != 0) {
		json_decref(cert);
		tc_acme_batch_free(b);
		return -1;
	}
	json_decref(cert);
	json_object_set_new(rec, "status", json_string("valid"));
	json_object_set_new(rec, "serial", json_string(info.serial_hex));
	return finish(a, oid, rec, b) < 0 ? -1 : 0;
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

/* Failures that are no verdict on the order: it stays processing and the
 * call is made again. UNAVAILABLE (the CA or its log away: nothing issued),
 * RESOURCE_EXHAUSTED and ABORTED (overload), DEADLINE_EXCEEDED (the CA may
 * have issued: retrying risks a second certificate, failing the order
 * would lose one the client was promised). */
static int transient(int code)
{
	return code == 14 || code == 8 || code == 10 || code == 4;
}

static int stopping(struct tc_acme_issuer *is)
{
	pthread_mutex_lock(&is->lock);
	int s = is->stopping;
	pthread_mutex_unlock(&is->lock);
	return s;
}

/* One Issue call for the stored order. 0 done (valid, invalid or nothing
 * to do), 1 to be retried (the CA unavailable), -1 a local failure (the
 * order stays processing and is resumed at the next start). */
static int issue_once(struct tc_acme_issuer *is, const char *oid)
{
	struct tc_acme *a = is->a;
	json_t *rec = tc_acme_store_get(a->store, 'O', oid);
	const char *st = rec ? json_string_value(json_object_get(rec, "status")) : NULL;
	const json_t *csr = rec ? json_object_get(rec, "csr") : NULL;
	if (!st || strcmp(st, "processing") != 0 || !json_is_string(csr)) {
		/* Already finished (or never ours): only the entry remains. */
		struct tc_acme_batch *b = tc_acme_batch_new();
		if (b) {
			tc_acme_batch_delete(b, 'I', oid);
			tc_acme_batch_commit_nosync(a->store, b);
		}
		json_decref(rec);
		return 0;
	}
	unsigned char *der = NULL;
	size_t der_len = 0;
	if (tc_b64url_decode(json_string_value(csr), json_string_length(csr), &der, &der_len) != 0) {
		json_decref(rec);
		return -1;
	}
	const char *dns[MAX_NAMES], *ips[MAX_NAMES];
	size_t n_dns = 0, n_ips = 0, i;
	const json_t *id;
	json_array_foreach(json_object_get(rec, "identifiers"), i, id) {
		const char *v = json_string_value(json_object_get(id, "value"));
		const char *type = json_string_value(json_object_get(id, "type"));
		if (!v || !type)
			continue;
		if (strcmp(type, "ip") == 0 && n_ips < MAX_NAMES)
			ips[n_ips++] = v;
		else if (strcmp(type, "ip") != 0 && n_dns < MAX_NAMES)
			dns[n_dns++] = v;
	}
	struct tc_issue_request rq = {.csr = der, .csr_len = der_len, .dns_names = dns, .n_dns = n_dns,
				      .ip_addresses = ips, .n_ips = n_ips, .profile = TC_PROFILE_SERVER};
	/* The key stored with the order (orders made processing before keys
	 * existed have none: the same derivation). */
	const json_t *kj = json_object_get(rec, "issue_key");
	char *derived = json_is_string(kj) ? NULL : tc_acme_issue_key(oid);
	const char *key_text = derived ? derived : json_string_value(kj);
	unsigned char *key = NULL;
	size_t key_len = 0;
	if (!key_text || tc_b64url_decode(key_text, strlen(key_text), &key, &key_len) != 0 || key_len > 64) {
		free(derived);
		free(key);
		free(der);
		json_decref(rec);
		return -1;
	}
	free(derived);
	rq.idempotency_key = key;
	rq.idempotency_key_len = key_len;
	struct tc_issue_result *res = NULL;
	struct tc_status sts = {0};
	int issued = tc_issue(a->ca, &rq, &res, &sts);
	free(der);
	free(key);
	int rc;
	if (issued == 0) {
		rc = store_issued(a, oid, rec, res);
		if (rc != 0)
			tc_err("order %s: issued serial %s but cannot store it", oid, res->serial);
		tc_issue_result_free(res);
	} else if (transient(sts.code)) {
		rc = 1;
	} else {
		tc_warn("finalize of order %s refused by the CA: %s (%s)", oid, sts.message, sts.reason);
		const char *type = issue_error(&sts);
		json_object_set_new(rec, "status", json_string("invalid"));
		json_object_set_new(rec, "error", tc_acme_problem_json(type, sts.message, NULL, NULL));
		struct tc_acme_batch *b = tc_acme_batch_new();
		rc = b && finish(a, oid, rec, b) >= 0 ? 0 : -1;
	}
	json_decref(rec);
	return rc;
}

static void run(void *arg)
{
	struct job *j = arg;
	struct tc_acme_issuer *is = j->is;
	/* Stopping: what has not started stays processing with its entry and
	 * is resumed at the next start. */
	for (unsigned tries = 0; !stopping(is); tries++) {
		int rc = issue_once(is, j->oid);
		if (rc == 0)
			tc_acme_m_finalize(tc_pm_now() - j->t0);
		if (rc != 1)
			break;
		if (tries == 0 || tries % 30 == 0)
			tc_warn("order %s: the CA is unavailable; the order stays processing and is retried", j->oid);
		struct timespec ts = {.tv_sec = RETRY_MS / 1000, .tv_nsec = (RETRY_MS % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	release(is, j->oid);
	free(j);
}

int tc_acme_issuer_submit(struct tc_acme_issuer *is, const char *oid)
{
	if (strlen(oid) >= OID_MAX)
		return -1;
	pthread_mutex_lock(&is->lock);
	struct claim **p = find(is, oid);
	if (*p) { /* queued or running already: one issuance per order */
		pthread_mutex_unlock(&is->lock);
		return 0;
	}
	struct claim *c = calloc(1, sizeof(*c));
	struct job *j = calloc(1, sizeof(*j));
	if (!c || !j) {
		pthread_mutex_unlock(&is->lock);
		free(c);
		free(j);
		return -1;
	}
	snprintf(c->oid, sizeof(c->oid), "%s", oid);
	snprintf(j->oid, sizeof(j->oid), "%s", oid);
	j->is = is;
	j->t0 = tc_pm_now();
	*p = c;
	pthread_mutex_unlock(&is->lock);
	if (tc_acme_workq_push(is->wq, run, j) != 0) {
		free(j);
		release(is, oid);
		return -1;
	}
	return 0;
}

struct resume {
	struct tc_acme_issuer *is;
	size_t n;
};

static int resume_one(void *arg, const char *id, size_t id_len, const char *val, size_t vl)
{
	(void)val, (void)vl;
	struct resume *r = arg;
	char oid[OID_MAX];
	if (id_len == 0 || id_len >= sizeof(oid))
		return 0;
	memcpy(oid, id, id_len);
	oid[id_len] = 0;
	if (tc_acme_issuer_submit(r->is, oid) == 0)
		r->n++;
	return 0;
}

size_t tc_acme_issuer_resume(struct tc_acme_issuer *is)
{
	struct resume r = {.is = is};
	tc_acme_store_scan(is->a->store, 'I', "", SIZE_MAX, resume_one, &r);
	return r.n;
}

struct tc_acme_issuer *tc_acme_issuer_new(struct tc_acme *a, unsigned threads)
{
	struct tc_acme_issuer *is = calloc(1, sizeof(*is));
	if (!is)
		return NULL;
	is->a = a;
	pthread_mutex_init(&is->lock, NULL);
	if (!(is->wq = tc_acme_workq_new(threads))) {
		tc_acme_issuer_free(is);
		return NULL;
	}
	return is;
}

void tc_acme_issuer_free(struct tc_acme_issuer *is)
{
	if (!is)
		return;
	pthread_mutex_lock(&is->lock);
	is->stopping = 1;
	pthread_mutex_unlock(&is->lock);
	tc_acme_workq_free(is->wq); /* runs what is queued: one try each */
	while (is->claims) {
		struct claim *c = is->claims;
		is->claims = c->next;
		free(c);
	}
	pthread_mutex_destroy(&is->lock);
	free(is);
}

char *tc_acme_issue_key(const char *oid)
{
	static const char label[] = "trustchain-acme finalize order ";
	unsigned char md[SHA256_DIGEST_LENGTH];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(c, label, sizeof(label) - 1) == 1 && EVP_DigestUpdate(c, oid, strlen(oid)) == 1 &&
		 EVP_DigestFinal_ex(c, md, NULL) == 1;
	EVP_MD_CTX_free(c);
	return ok ? tc_b64url_encode(md, sizeof(md)) : NULL;
}
