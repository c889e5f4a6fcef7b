/* DoQ certificate: issue, install, renew; see doq_cert.h. */
#include "resolver/doq_cert.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/ct_client.h"
#include "common/ct_issue.h"
#include "common/file_read.h"
#include "common/file_replace.h"
#include "common/metrics_proc.h"
#include "common/rollover_sched.h"
#include "common/hex.h"
#include "common/leaf_template.h"
#include "common/log.h"
#include "resolver/tlsa.h"

#define BACKDATE_S 60             /* clients a little behind our clock accept it at once */
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS 30000
#define RENEW_MIN_MS 10000
#define CLOCK_CHECK_MS 5000       /* wall clock looked at while waiting to renew */
#define CHAIN_MAX (64 * 1024)

struct tc_doq_cert {
	struct tc_child *child;
	const struct tc_config *cfg;
	struct tc_ct_client *ct;  /* the CT log, <data_dir>/run/transparency.sock */
	tc_doq_cert_install_fn install;
	void *arg;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping, started;
	int64_t valid_from, renew_at; /* of the certificate installed (wall clock) */
};

struct issued {
	X509 *cert;
	char *chain_pem;       /* leaf + intermediate (+ cross certificate) */
	size_t chain_len;
	char *leaf_pem;
	size_t leaf_len;
	unsigned char leaf_hash[32]; /* its precertificate's CT entry */
};

static void issued_free(struct issued *is)
{
	X509_free(is->cert);
	free(is->chain_pem);
	free(is->leaf_pem);
	memset(is, 0, sizeof(*is));
}

/* BIO contents into a fresh NUL-terminated buffer. */
static char *bio_take(BIO *b, size_t *len)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *out = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (out) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
		*len = (size_t)n;
	}
	return out;
}

/* The intermediates a certificate of ours may come from
 * (common/rollover_sched.h): the configured one, the finalized rollovers
 * and a scheduled next one. The signer switches at the cut-over by itself,
 * so the chain is the issuer that really signed, never assumed. Under a new
 * root an intermediate's file holds the cross certificate (the new root
 * signed by our old root) after it: the CT log and clients that trust only
 * the old root need it, so it is sent and served after the intermediate. */
#define ISSUERS_MAX TC_ROLLOVER_FILES_MAX
struct issuers {
	int n;
	char *pem[ISSUERS_MAX];          /* the file: intermediate (+ cross certificate) */
	size_t pem_len[ISSUERS_MAX];
	X509 *x[ISSUERS_MAX];
	unsigned char *der[ISSUERS_MAX]; /* OPENSSL_malloc'd */
	size_t der_len[ISSUERS_MAX];
	unsigned char *cross[ISSUERS_MAX]; /* OPENSSL_malloc'd; NULL under our root */
	size_t cross_len[ISSUERS_MAX];
};

static void issuer_clear(struct issuers *s, int i)
{
	free(s->pem[i]);
	X509_free(s->x[i]);
	OPENSSL_free(s->der[i]);
	OPENSSL_free(s->cross[i]);
	s->pem[i] = NULL, s->x[i] = NULL, s->der[i] = NULL, s->cross[i] = NULL;
}

static void issuers_free(struct issuers *s)
{
	for (int i = 0; i < s->n; i++)
		issuer_clear(s, i);
	memset(s, 0, sizeof(*s));
}

/* Appends the certificate (and a cross certificate after it) in the PEM
 * file rel; -1 with err set and nothing appended. */
static int issuers_add(struct issuers *s, const struct tc_config *cfg, const char *rel, char *err, size_t errlen)
{
	char path[TC_CFG_STR + 128];
	int i = s->n;
	if (tc_config_data_path(cfg, rel, path, sizeof(path)) != 0) {
		snprintf(err, errlen, "%s: path too long", rel);
		return -1;
	}
	if (tc_read_file(path, CHAIN_MAX, &s->pem[i], &s->pem_len[i], err, errlen) != 0)
		return -1;
	BIO *b = BIO_new_mem_buf(s->pem[i], (int)s->pem_len[i]);
	s->x[i] = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	X509 *cross = s->x[i] ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	ERR_clear_error(); /* the end of the file after the last certificate */
	int cn = cross ? i2d_X509(cross, &s->cross[i]) : 0;
	X509_free(cross);
	int n = s->x[i] ? i2d_X509(s->x[i], &s->der[i]) : -1;
	if (n <= 0 || cn < 0) {
		snprintf(err, errlen, "%s: no certificate", rel);
		issuer_clear(s, i);
		return -1;
	}
	s->der_len[i] = (size_t)n;
	s->cross_len[i] = (size_t)cn;
	s->n++;
	return 0;
}

/* Every intermediate of common/rollover_sched.h's list; a rollover file
 * missing or unreadable is left out (the configured one must be there).
 * Read for every certificate. */
static int issuers_load(struct issuers *s, const struct tc_config *cfg, char *err, size_t errlen)
{
	struct tc_rollover_files f;
	memset(s, 0, sizeof(*s));
	tc_rollover_files_read(cfg, &f);
	if (issuers_add(s, cfg, f.rel[0], err, errlen) != 0)
		return -1;
	for (int i = 1; i < f.n; i++) {
		char e2[256];
		if (issuers_add(s, cfg, f.rel[i], e2, sizeof(e2)) != 0)
			tc_warn("doq: intermediate %s left out: %s", f.rel[i], e2);
	}
	return 0;
}

/* Index of the intermediate that issued the DER certificate, or -1. */
static int issuers_pick(const struct issuers *s, const unsigned char *cert, size_t len)
{
	const unsigned char *p = cert;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	int found = -1;
	for (int i = 0; x && found < 0 && i < s->n; i++)
		if (X509_check_issued(s->x[i], x) == X509_V_OK)
			found = i;
	X509_free(x);
	return found;
}

/* common/ct_issue.h's issuer_of: the CT log gets the real issuer. */
static const unsigned char *issuer_of(void *arg, const unsigned char *cert, size_t len, size_t *issuer_len)
{
	const struct issuers *s = arg;
	int i = issuers_pick(s, cert, len);
	if (i < 0)
		return NULL;
	*issuer_len = s->der_len[i];
	return s->der[i];
}

/* common/ct_issue.h's cross_of: the cross certificate after an
 * intermediate under a new root, so the CT log (which trusts our old root)
 * accepts the chain. */
static const unsigned char *cross_of(void *arg, const unsigned char *cert, size_t len, size_t *cross_len)
{
	const struct issuers *s = arg;
	int i = issuers_pick(s, cert, len);
	if (i < 0 || !s->cross[i])
		return NULL;
	*cross_len = s->cross_len[i];
	return s->cross[i];
}

/* The template certified like every certificate of our CA (ct_issue.h):
 * precertificate, durable entry in the CT log, final certificate with the
 * SCT. *log_waited is set when the log did not answer: that call already
 * waited for it as long as a retry should. */
static int certify(struct tc_doq_cert *m, const unsigned char *tbs, size_t tbs_len, struct issuers *cas,
		   struct tc_issued_cert *ic, bool *log_waited, char *err, size_t errlen)
{
	struct tc_ct_issuer iss = {.child = m->child,
				   .ct = m->ct,
				   .log_final = m->cfg->ct.log_stoq_certificates,
				   .intermediate_der = cas->der[0],
				   .intermediate_der_len = cas->der_len[0],
				   .issuer_of = issuer_of,
				   .cross_of = cross_of,
				   .issuer_arg = cas};
	struct tc_ct_issue_error e;
	int rc = tc_ct_issue(&iss, tbs, tbs_len, ic, &e);
	if (rc != 0) {
		*log_waited = e.fault == TC_CT_ISSUE_LOG_UNREACHABLE;
		tc_ct_issue_describe(&e, err, errlen);
	}
	return rc;
}

/* Key, template, certificate with its SCT, chain: everything but
 * installing. */
static int issue(struct tc_doq_cert *m, EVP_PKEY **key_out, struct issued *is, bool *log_waited, char *err,
		 size_t errlen)
{
	const struct tc_config *cfg = m->cfg;
	char name[TC_CFG_STR + 8];
	snprintf(name, sizeof(name), "dns.%s", cfg->bootstrap.domain);
	const char *names[] = {name};
	time_t nb = time(NULL) - BACKDATE_S;
	struct tc_leaf_request rq = {
		.dns_names = names,
		.n_dns = 1,
		.server_auth = 1,
		.not_before = nb,
		.not_after = nb + (time_t)cfg->ca.cert_validity_hours * 3600,
	};
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *tmpl = NULL;
	unsigned char *tbs = NULL;
	size_t tbs_len = 0;
	struct tc_issued_cert ic = {0};
	struct issuers cas = {0};
	int by = -1;
	BIO *b = NULL;
	int rc = -1;
	memset(is, 0, sizeof(*is));
	*log_waited = false;
	if (!key) {
		snprintf(err, errlen, "cannot generate an EC P-256 key");
		goto out;
	}
	rq.pubkey = key;
	if (!(tmpl = tc_leaf_template_new(&rq, err, errlen)))
		goto out;
	if (tc_template_tbs_der(tmpl, &tbs, &tbs_len) != 0) {
		snprintf(err, errlen, "cannot encode the certificate template");
		goto out;
	}
	/* Read for every certificate: the chain follows a new intermediate. */
	if (issuers_load(&cas, cfg, err, errlen) != 0)
		goto out;
	if (certify(m, tbs, tbs_len, &cas, &ic, log_waited, err, errlen) != 0)
		goto out;
	/* Chained with the intermediate that signed it: after a rollover's
	 * cut-over that is the next one, not ca/intermediate.pem. */
	if ((by = issuers_pick(&cas, ic.der, ic.der_len)) < 0) {
		snprintf(err, errlen, "the signer's certificate is issued by none of our intermediates");
		goto out;
	}
	const unsigned char *p = ic.der;
	is->cert = d2i_X509(NULL, &p, (long)ic.der_len);
	if (!is->cert || X509_check_private_key(is->cert, key) != 1) {
		snprintf(err, errlen, "the signer returned a certificate that is not for our key");
		goto out;
	}
	memcpy(is->leaf_hash, ic.precert.leaf_hash, sizeof(is->leaf_hash));
	if (!(b = BIO_new(BIO_s_mem())) || !PEM_write_bio_X509(b, is->cert) ||
	    !(is->leaf_pem = bio_take(b, &is->leaf_len)) ||
	    BIO_write(b, cas.pem[by], (int)cas.pem_len[by]) != (int)cas.pem_len[by] ||
	    !(is->chain_pem = bio_take(b, &is->chain_len))) {
		snprintf(err, errlen, "cannot encode the certificate chain");
		goto out;
	}
	*key_out = key;
	key = NULL;
	rc = 0;
out:
	if (rc != 0)
		issued_free(is);
	BIO_free(b);
	issuers_free(&cas);
	tc_issued_cert_free(&ic);
	OPENSSL_free(tbs);
	X509_free(tmpl);
	EVP_PKEY_free(key);
	return rc;
}

/* PKCS#8 PEM of key, in memory only; wiped by the caller. */
static char *key_pem(EVP_PKEY *key, size_t *len)
{
	BIO *b = BIO_new(BIO_s_secmem());
	char *out = NULL;
	if (b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
		out = bio_take(b, len);
	BIO_free_all(b);
	return out;
}

/* <data_dir>/dns/doq_cert.pem, replaced durably (common/file_replace): a
 * crash leaves the old chain or the new one, never a torn file. */
static int publish(const struct tc_config *cfg, const char *pem, size_t len, char *err, size_t errlen)
{
	char dir[TC_CFG_STR + 16], path[TC_CFG_STR + 32];
	if (tc_config_data_path(cfg, "dns", dir, sizeof(dir)) != 0 ||
	    tc_config_data_path(cfg, "dns/doq_cert.pem", path, sizeof(path)) != 0) {
		snprintf(err, errlen, "data_dir path too long");
		return -1;
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return tc_file_replace(path, pem, len, 0644, err, errlen);
}

static int64_t asn1_unix(const ASN1_TIME *t)
{
	struct tm tm;
	return t && ASN1_TIME_to_tm(t, &tm) ? (int64_t)timegm(&tm) : 0;
}

/* One full round; on success *renew_in_ms says when to do it again. */
static int renew(struct tc_doq_cert *m, uint64_t *renew_in_ms, bool *log_waited, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	struct issued is;
	if (issue(m, &key, &is, log_waited, err, errlen) != 0)
		return -1;
	size_t klen = 0;
	char *kpem = key_pem(key, &klen);
	EVP_PKEY_free(key);
	struct tc_quic_creds *creds =
		kpem ? tc_quic_creds_new(is.chain_pem, is.chain_len, kpem, klen, err, errlen) : NULL;
	if (kpem) {
		OPENSSL_cleanse(kpem, klen);
		free(kpem);
	} else {
		snprintf(err, errlen, "cannot encode the private key");
	}
	if (!creds) {
		issued_free(&is);
		return -1;
	}
	m->install(m->arg, creds);
	tc_quic_creds_unref(creds);

	char perr[1024];
	if (publish(m->cfg, is.leaf_pem, is.leaf_len, perr, sizeof(perr)) != 0)
		tc_warn("doq: cannot publish the certificate: %s", perr);
	int64_t nb = asn1_unix(X509_get0_notBefore(is.cert));
	int64_t na = asn1_unix(X509_get0_notAfter(is.cert));
	tc_pm_cert_expiry("doq", (long long)na);
	int64_t at = nb + (na - nb) * 2 / 3, now = (int64_t)time(NULL);
	*renew_in_ms = at > now ? (uint64_t)(at - now) * 1000 : 0;
	if (*renew_in_ms < RENEW_MIN_MS)
		*renew_in_ms = RENEW_MIN_MS;
	/* Tests renew within seconds instead of hours. */
	const char *force = getenv("TC_DOQ_RENEW_MS");
	if (force && atoi(force) > 0)
		*renew_in_ms = (uint64_t)atoi(force);
	m->valid_from = nb;
	m->renew_at = now + (int64_t)(*renew_in_ms / 1000);
	char serial[80] = "?", leaf[65];
	const ASN1_INTEGER *sn = X509_get0_serialNumber(is.cert);
	if (sn && sn->length <= 32)
		tc_hex_encode(sn->data, (size_t)sn->length, serial);
	tc_hex_encode(is.leaf_hash, sizeof(is.leaf_hash), leaf);
	tc_info("doq: certificate for dns.%s (serial %s, CT leaf hash %s) installed, valid %lld s, renewal in %llu s",
		m->cfg->bootstrap.domain, serial, leaf, (long long)(na - now),
		(unsigned long long)(*renew_in_ms / 1000));
	issued_free(&is);
	return 0;
}

/* Sleeps ms unless stopped; returns true when stopping. */
static bool wait_or_stop(struct tc_doq_cert *m, uint64_t ms)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(ms / 1000);
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&m->lock);
	while (!m->stopping && pthread_cond_timedwait(&m->cond, &m->lock, &until) != ETIMEDOUT)
		;
	bool stopping = m->stopping;
	pthread_mutex_unlock(&m->lock);
	return stopping;
}

/* Renewal is due by the wall clock: past the renewal time, or before the
 * certificate's notBefore. */
static bool wall_clock_due(const struct tc_doq_cert *m)
{
	int64_t now = (int64_t)time(NULL);
	return now >= m->renew_at || now < m->valid_from;
}

static void *cert_main(void *arg)
{
	struct tc_doq_cert *m = arg;
	uint64_t backoff = RETRY_FIRST_MS, delay = 0;
	unsigned failures = 0;
	bool installed = false;
	/* Waiting for a renewal, the wall clock is looked at every
	 * CLOCK_CHECK_MS: a clock stepped forward past the renewal time (a VM
	 * resumed, NTP) or back before notBefore would otherwise leave an
	 * expired or not yet valid certificate served for hours. */
	while (!wait_or_stop(m, installed && delay > CLOCK_CHECK_MS ? CLOCK_CHECK_MS : delay)) {
		if (installed && delay > CLOCK_CHECK_MS && !wall_clock_due(m)) {
			delay -= CLOCK_CHECK_MS;
			continue;
		}
		char err[512];
		bool log_waited = false;
		installed = false;
		if (renew(m, &delay, &log_waited, err, sizeof(err)) == 0) {
			backoff = RETRY_FIRST_MS;
			failures = 0;
			installed = true;
			continue;
		}
		/* A log that did not answer was waited for by the call itself
		 * (up to TC_CT_ISSUE_LOG_TIMEOUT_MS): no back-off on top, so the
		 * certificate follows the log's start closely. */
		if (log_waited)
			backoff = RETRY_FIRST_MS;
		/* Log the first failure and then every tenth, not every retry. */
		if (failures++ % 10 == 0)
			tc_warn("doq: no certificate (%s); retrying in %llu ms", err,
				(unsigned long long)backoff);
		delay = backoff;
		backoff = backoff * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : backoff * 2;
	}
	return NULL;
}

int tc_doq_cert_start(struct tc_child *child, const struct tc_config *cfg,
		      tc_doq_cert_install_fn install, void *arg, struct tc_doq_cert **out,
		      char *err, size_t errlen)
{
	struct tc_doq_cert *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->child = child;
	m->cfg = cfg;
	m->install = install;
	m->arg = arg;
	char path[TC_CFG_STR + 32];
	if (tc_config_data_path(cfg, TC_CT_IPC_SOCKET, path, sizeof(path)) != 0 || !(m->ct = tc_ct_client_new(path))) {
		snprintf(err, errlen, "CT log socket path under %s is too long", cfg->server.data_dir);
		free(m);
		return -1;
	}
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&m->lock, NULL);
	if (pthread_create(&m->thread, NULL, cert_main, m) != 0) {
		snprintf(err, errlen, "doq certificate thread: %s", strerror(errno));
		tc_doq_cert_stop(m);
		return -1;
	}
	m->started = true;
	*out = m;
	return 0;
}

void tc_doq_cert_stop(struct tc_doq_cert *m)
{
	if (!m)
		return;
	if (m->started) {
		pthread_mutex_lock(&m->lock);
		m->stopping = true;
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->thread, NULL);
	}
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	tc_ct_client_free(m->ct);
	free(m);
}
