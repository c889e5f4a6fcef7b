#define _GNU_SOURCE
/* The gateway's intermediates across a CA key rollover (ca_rollover.h). */
#include "gateway/ca_rollover.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/asn1_time.h"
#include "common/cert_der.h"
#include "common/file_read.h"
#include "common/log.h"
#include "common/metrics_proc.h"
#include "common/rollover_sched.h"
#include "gateway/validator.h"

#define MAX_PEM (256 * 1024)
#define MAX_SNAPSHOTS 16

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct tc_ca_set *snaps[MAX_SNAPSHOTS]; /* every snapshot made; the last is current */
static _Atomic(struct tc_ca_set *) cur;
static int nsnaps;
static atomic_int validator_has = 1; /* snapshot issuers the validator trusts ([0] from the start) */
static struct stat seen;
static int seen_exists;
static atomic_llong last_poll;

/* Fills is from one PEM certificate. */
static int issuer_from_pem(struct tc_ca_issuer *is, const char *label, const char *pem, size_t len, char *err,
			   size_t errlen)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	/* A second certificate: the cross certificate of a new root. */
	X509 *cross = x ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	ERR_clear_error();
	is->cross_der = NULL;
	int cn = cross ? i2d_X509(cross, &is->cross_der) : 0;
	X509_free(cross);
	is->cross_der_len = cn > 0 ? (size_t)cn : 0;
	unsigned char *der = NULL;
	int n = x ? i2d_X509(x, &der) : -1;
	X509_free(x);
	struct tc_cert_view v;
	if (n <= 0 || tc_cert_view_parse(der, (size_t)n, &v, err, errlen) != 0) {
		if (n <= 0)
			snprintf(err, errlen, "%s: no PEM certificate", label);
		OPENSSL_free(der);
		OPENSSL_free(is->cross_der);
		is->cross_der = NULL;
		return -1;
	}
	snprintf(is->label, sizeof(is->label), "%s", label);
	is->gw = NULL;
	is->pem = strndup(pem, len);
	is->der = der;
	is->der_len = (size_t)n;
	is->subject = v.tbs.subject.tlv;
	is->subject_len = v.tbs.subject.tlv_len;
	if (!is->pem) {
		OPENSSL_free(der);
		OPENSSL_free(is->cross_der);
		is->cross_der = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void set_free(struct tc_ca_set *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n; i++) {
		free(s->is[i].pem);
		OPENSSL_free(s->is[i].der);
		OPENSSL_free(s->is[i].cross_der);
	}
	free(s->chain_pem[0]);
	free(s->chain_pem[1]);
	free(s);
}

/* chain_pem[0]: the intermediate issuing before the cut-over first (the
 * last finalized one, or the configured one), then the others newest
 * first; chain_pem[1]: every intermediate newest first. */
static int set_chains(struct tc_ca_set *s)
{
	size_t total = 1;
	for (int i = 0; i < s->n; i++)
		total += strlen(s->is[i].pem) + 1;
	s->chain_pem[0] = calloc(1, total);
	s->chain_pem[1] = calloc(1, total);
	if (!s->chain_pem[0] || !s->chain_pem[1])
		return -1;
	int before = s->n - 1 - s->pending;
	strcat(s->chain_pem[0], s->is[before].pem);
	for (int i = s->n - 1; i >= 0; i--) {
		if (i != before)
			strcat(s->chain_pem[0], s->is[i].pem);
		strcat(s->chain_pem[1], s->is[i].pem);
	}
	return 0;
}

/* Appends label's certificate, ca/rollover/LABEL.pem, to s. */
static int add_rollover_issuer(struct tc_gateway *gw, struct tc_ca_set *s, const char *label, char *err, size_t errlen)
{
	char rel[128], path[TC_CFG_STR + 160];
	char *pem = NULL;
	size_t n = 0;
	if (s->n == TC_CA_ISSUERS_MAX) {
		snprintf(err, errlen, "more than %d intermediates", TC_CA_ISSUERS_MAX);
		return -1;
	}
	/* LABEL-chain.pem: the intermediate, then, under a new root, that
	 * root's cross certificate from our root (ceremony rollover-root), so
	 * that clients and the CT log that trust only our root build the path;
	 * an older ceremony wrote LABEL.pem alone. */
	snprintf(rel, sizeof(rel), "ca/rollover/%s-chain.pem", label);
	if (tc_config_data_path(gw->cfg, rel, path, sizeof(path)) != 0 || access(path, F_OK) != 0)
		snprintf(rel, sizeof(rel), "ca/rollover/%s.pem", label);
	if (tc_config_data_path(gw->cfg, rel, path, sizeof(path)) != 0 ||
	    tc_read_file(path, MAX_PEM, &pem, &n, err, errlen) != 0)
		return -1;
	int rc = issuer_from_pem(&s->is[s->n], label, pem, n, err, errlen);
	free(pem);
	if (rc == 0)
		s->n++;
	return rc;
}

/* Its expiry beside the configured intermediate's (ca_files.c), named by
 * its key label. */
static void export_expiry(const struct tc_ca_issuer *is)
{
	const unsigned char *p = is->der;
	X509 *x = d2i_X509(NULL, &p, (long)is->der_len);
	int64_t na;
	char which[80];
	if (x && tc_asn1_time_unix(X509_get0_notAfter(x), &na) == 0) {
		snprintf(which, sizeof(which), "intermediate:%s", is->label);
		tc_pm_cert_expiry(which, (long long)na);
	}
	X509_free(x);
}

/* A new snapshot with the scheduled next intermediate added to the current
 * one's. Called with the lock held. */
static void poll_schedule(struct tc_gateway *gw)
{
	char path[TC_CFG_STR + 64];
	if (tc_config_data_path(gw->cfg, "ca/rollover/next", path, sizeof(path)) != 0)
		return;
	struct stat st;
	int exists = stat(path, &st) == 0;
	if (exists == seen_exists &&
	    (!exists || (st.st_ino == seen.st_ino && st.st_size == seen.st_size &&
			 st.st_mtim.tv_sec == seen.st_mtim.tv_sec && st.st_mtim.tv_nsec == seen.st_mtim.tv_nsec)))
		return;
	seen_exists = exists;
	if (!exists)
		return;
	seen = st;
	char *buf = NULL, label[64], err[256];
	size_t n = 0;
	time_t when;
	if (tc_read_file(path, 256, &buf, &n, err, sizeof(err)) != 0 ||
	    tc_rollover_parse_line(buf, n, label, sizeof(label), &when, err, sizeof(err)) != 0) {
		tc_warn("%s: %s: ignored", path, err);
		free(buf);
		return;
	}
	free(buf);
	struct tc_ca_set *old = atomic_load(&cur);
	for (int i = 0; i < old->n; i++)
		if (strcmp(old->is[i].label, label) == 0)
			return;
	if (old->n == TC_CA_ISSUERS_MAX || nsnaps == MAX_SNAPSHOTS) {
		tc_warn("next intermediate '%s': too many rollovers in one run: restart the gateway", label);
		return;
	}
	struct tc_ca_set *s = calloc(1, sizeof(*s));
	int ok = s != NULL;
	for (int i = 0; ok && i < old->n; i++)
		ok = issuer_from_pem(&s->is[s->n++], old->is[i].label, old->is[i].pem, strlen(old->is[i].pem), err,
				     sizeof(err)) == 0;
	if (ok)
		s->pending = 1;
	ok = ok && add_rollover_issuer(gw, s, label, err, sizeof(err)) == 0 && set_chains(s) == 0;
	if (!ok) {
		tc_warn("next intermediate '%s': %s", label, s ? err : "out of memory");
		set_free(s);
		return;
	}
	s->cutover = when;
	export_expiry(&s->is[s->n - 1]);
	snaps[nsnaps++] = s;
	atomic_store(&cur, s);
	tc_log_event(TC_LOG_INFO, "ca_rollover_scheduled", TC_KV("key", label),
		     "next intermediate '%s' served and accepted from now on, issuing after %lld", label,
		     (long long)when);
}

/* The finalized rollovers into s (ca_rollover.h); a bad line is logged and
 * skipped, as the signer does. */
static void load_finalized(struct tc_gateway *gw, struct tc_ca_set *s)
{
	char path[TC_CFG_STR + 64], err[256];
	if (tc_config_data_path(gw->cfg, "ca/rollover/finalized", path, sizeof(path)) != 0 || access(path, F_OK) != 0)
		return;
	char *buf = NULL;
	size_t n = 0;
	if (tc_read_file(path, 4096, &buf, &n, err, sizeof(err)) != 0) {
		tc_warn("%s: %s: ignored", path, err);
		return;
	}
	for (size_t off = 0; off < n;) {
		const char *nl = memchr(buf + off, '\n', n - off);
		size_t ln = nl ? (size_t)(nl - (buf + off)) : n - off;
		char line[128], label[64];
		time_t when;
		int dup = 0;
		if (ln == 0 || ln >= sizeof(line) || memchr(buf + off, '\0', ln)) {
			if (ln)
				tc_warn("%s: a line is not \"LABEL YYYY-MM-DDTHH:MM:SSZ\": ignored", path);
			off += ln + 1;
			continue;
		}
		memcpy(line, buf + off, ln);
		off += ln + 1;
		char why[128];
		if (tc_rollover_parse_line(line, ln, label, sizeof(label), &when, why, sizeof(why)) != 0) {
			tc_warn("%s: a line: %s: ignored", path, why);
			continue;
		}
		for (int i = 0; i < s->n; i++)
			dup |= strcmp(s->is[i].label, label) == 0;
		if (dup)
			continue;
		if (add_rollover_issuer(gw, s, label, err, sizeof(err)) != 0) {
			tc_warn("finalized intermediate '%s': %s", label, err);
			continue;
		}
		s->cutover = when;
		export_expiry(&s->is[s->n - 1]);
		tc_info("finalized intermediate '%s' served, issuing since %lld", label, (long long)when);
	}
	free(buf);
}

int tc_ca_rollover_init(struct tc_gateway *gw, char *err, size_t errlen)
{
	struct tc_ca_set *s = calloc(1, sizeof(*s));
	if (!s || issuer_from_pem(&s->is[0], gw->cfg->hsm.intermediate_key_label, gw->chain_pem, strlen(gw->chain_pem),
				  err, errlen) != 0) {
		free(s);
		return -1;
	}
	s->n = 1;
	load_finalized(gw, s);
	if (set_chains(s) != 0) {
		set_free(s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&lock);
	snaps[nsnaps++] = s;
	atomic_store(&cur, s);
	poll_schedule(gw);
	pthread_mutex_unlock(&lock);
	atomic_store(&last_poll, (long long)time(NULL));
	return 0;
}

void tc_ca_rollover_fini(void)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < nsnaps; i++)
		set_free(snaps[i]);
	nsnaps = 0;
	seen_exists = 0;
	atomic_store(&validator_has, 1);
	atomic_store(&cur, NULL);
	pthread_mutex_unlock(&lock);
}

const struct tc_ca_set *tc_ca_rollover_get(struct tc_gateway *gw)
{
	long long now = (long long)time(NULL), last = atomic_load(&last_poll);
	if (atomic_load(&cur) && last != now && atomic_compare_exchange_strong(&last_poll, &last, now)) {
		pthread_mutex_lock(&lock);
		poll_schedule(gw);
		pthread_mutex_unlock(&lock);
	}
	return atomic_load(&cur);
}

const char *tc_ca_set_chain(const struct tc_ca_set *set, time_t now)
{
	return set->n > 1 && now >= set->cutover ? set->chain_pem[1] : set->chain_pem[0];
}

const struct tc_ca_issuer *tc_ca_rollover_issuer_of(struct tc_gateway *gw, const unsigned char *der, size_t len)
{
	const struct tc_ca_set *s = tc_ca_rollover_get(gw);
	struct tc_cert_view v;
	char err[128];
	if (!s || tc_cert_view_parse(der, len, &v, err, sizeof(err)) != 0)
		return NULL;
	/* Newest first: right after a cut-over most leaves are the new one's. */
	for (int i = s->n - 1; i >= 0; i--)
		if (s->is[i].subject_len == v.tbs.issuer.tlv_len &&
		    memcmp(s->is[i].subject, v.tbs.issuer.tlv, v.tbs.issuer.tlv_len) == 0)
			return &s->is[i];
	return NULL;
}

const struct tc_ca_issuer *tc_ca_rollover_by_name(struct tc_gateway *gw, const char *name, size_t len)
{
	const struct tc_ca_set *s = tc_ca_rollover_get(gw);
	if (!s)
		return NULL;
	if (len == strlen("intermediate") && memcmp(name, "intermediate", len) == 0)
		return &s->is[0];
	for (int i = 1; i < s->n; i++)
		if (strlen(s->is[i].label) == len && memcmp(s->is[i].label, name, len) == 0)
			return &s->is[i];
	return NULL;
}

const unsigned char *tc_ca_rollover_issuer_der(void *gw, const unsigned char *cert, size_t len, size_t *der_len)
{
	const struct tc_ca_issuer *is = tc_ca_rollover_issuer_of(gw, cert, len);
	if (!is)
		return NULL;
	*der_len = is->der_len;
	return is->der;
}

const unsigned char *tc_ca_rollover_cross_der(void *gw, const unsigned char *cert, size_t len, size_t *der_len)
{
	const struct tc_ca_issuer *is = tc_ca_rollover_issuer_of(gw, cert, len);
	if (!is || !is->cross_der)
		return NULL;
	*der_len = is->cross_der_len;
	return is->cross_der;
}

const char *tc_ca_rollover_chain_of(struct tc_gateway *gw, const unsigned char *cert, size_t len)
{
	const struct tc_ca_issuer *is = tc_ca_rollover_issuer_of(gw, cert, len);
	return is ? is->pem : gw->chain_pem;
}

/* tc_crl_fetch_fn for one intermediate: the signer's CRL of that key. */
static int fetch_issuer_crl(void *arg, unsigned char **der, size_t *len, uint64_t *number, char *err, size_t errlen)
{
	const struct tc_ca_issuer *is = arg;
	Trustchain__Internal__Request req = TRUSTCHAIN__INTERNAL__REQUEST__INIT;
	Trustchain__Internal__GetCrlRequest gc = TRUSTCHAIN__INTERNAL__GET_CRL_REQUEST__INIT;
	req.op_case = TRUSTCHAIN__INTERNAL__REQUEST__OP_GET_CRL;
	gc.issuer = (char *)is->label;
	req.get_crl = &gc;
	char terr[256];
	Trustchain__Internal__Response *resp = tc_child_signer_call(is->gw->child, &req, 2000, terr, sizeof(terr));
	int rc = -1;
	if (!resp)
		snprintf(err, errlen, "signer: %s", terr);
	else if (resp->status != TRUSTCHAIN__INTERNAL__STATUS__STATUS_OK ||
		 resp->result_case != TRUSTCHAIN__INTERNAL__RESPONSE__RESULT_GET_CRL)
		snprintf(err, errlen, "signer refused GetCrl of %s: %s", is->label, resp->error ? resp->error : "?");
	else if (!(*der = malloc(resp->get_crl->crl.len ? resp->get_crl->crl.len : 1)))
		snprintf(err, errlen, "out of memory");
	else {
		memcpy(*der, resp->get_crl->crl.data, resp->get_crl->crl.len);
		*len = resp->get_crl->crl.len;
		*number = resp->get_crl->crl_number;
		rc = 0;
	}
	if (resp)
		trustchain__internal__response__free_unpacked(resp, NULL);
	return rc;
}

void tc_ca_rollover_sync_validator(struct tc_gateway *gw)
{
	const struct tc_ca_set *s = tc_ca_rollover_get(gw);
	if (!s || !gw->validator || s->n <= atomic_load(&validator_has))
		return;
	pthread_mutex_lock(&lock);
	for (int i = atomic_load(&validator_has); i < s->n; i++) {
		struct tc_ca_issuer *is = (struct tc_ca_issuer *)&s->is[i];
		char err[256];
		is->gw = gw;
		if (tc_validator_add_issuer(gw->validator, is->pem, fetch_issuer_crl, is, err, sizeof(err)) != 0) {
			tc_warn("Validate: intermediate '%s' not trusted: %s", is->label, err);
			break;
		}
		atomic_store(&validator_has, i + 1);
		tc_info("Validate: trusts intermediate '%s' too, with its own CRL", is->label);
	}
	pthread_mutex_unlock(&lock);
}
