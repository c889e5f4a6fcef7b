#define _GNU_SOURCE /* strptime */
/* The signer's issuing intermediates and the cut-over between them
 * (issuers.h). The list only grows while the signer runs: a slot handed
 * out stays valid, so signing threads use it without holding the lock. */
#include "signer/issuers.h"

#include <ctype.h>
#include <dirent.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file_read.h"
#include "common/key_label.h"
#include "common/log.h"
#include "signer/ceremony_inbox.h"
#include "signer/signer.h"

#define SCHEDULE_MAX 256

struct tc_issuers {
	pthread_mutex_t lock;            /* loading, switching, the schedule */
	struct tc_issuer_slot *slot[TC_ISSUERS_MAX];
	atomic_int count;                /* slots filled, published after the slot */
	atomic_int current;              /* index signing new precertificates; -1 none */
	int next;                        /* scheduled successor, -1 none */
	time_t cutover;
	struct stat seen;                /* the schedule file as last read */
	int seen_exists;
	atomic_llong last_poll;          /* second of the last look at the file */
	pthread_t ticker;                /* ceremony inbox, cut-over on time */
	int ticking;
	atomic_int stop;
};

int tc_issuer_url_for(const char *base, const char *label, const char *ext, char *out, size_t outlen)
{
	if (!base[0]) {
		if (outlen)
			out[0] = '\0';
		return 0;
	}
	const char *slash = strrchr(base, '/');
	size_t keep = slash ? (size_t)(slash - base) + 1 : strlen(base);
	int n = snprintf(out, outlen, "%.*s%s%s", (int)keep, base, label, ext);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* A slot for key: its issuer prepared with URLs of its own (the first
 * intermediate keeps ca.crl_url / ca.issuer_url as configured). */
static struct tc_issuer_slot *slot_new(struct tc_signer *s, const struct tc_hsm_key *key, int first, char *why,
				       size_t wl)
{
	if (!key->cert) {
		snprintf(why, wl, "key '%s' has no certificate on the token", key->label);
		return NULL;
	}
	struct tc_issuer_slot *sl = calloc(1, sizeof(*sl));
	if (!sl) {
		snprintf(why, wl, "out of memory");
		return NULL;
	}
	sl->key = *key;
	char crl[TC_CFG_STR + 64], aia[TC_CFG_STR + 64];
	int ok = tc_issuer_init(&sl->issuer, &sl->key, why, wl) == 0;
	if (ok && first) {
		snprintf(crl, sizeof(crl), "%s", s->cfg.ca.crl_url);
		snprintf(aia, sizeof(aia), "%s", s->cfg.ca.issuer_url);
	} else if (ok && (tc_issuer_url_for(s->cfg.ca.crl_url, key->label, ".crl", crl, sizeof(crl)) != 0 ||
			  tc_issuer_url_for(s->cfg.ca.issuer_url, key->label, ".crt", aia, sizeof(aia)) != 0)) {
		snprintf(why, wl, "URLs for '%s' too long", key->label);
		ok = 0;
	}
	if (ok && tc_issuer_set_urls(&sl->issuer, crl, aia, why, wl) != 0)
		ok = 0;
	if (!ok) {
		tc_issuer_fini(&sl->issuer);
		free(sl);
		return NULL;
	}
	return sl;
}

/* The root's certificate: on the token with its key, else ca/root.pem (a
 * root kept offline). NULL when neither is readable. */
static X509 *root_cert(struct tc_signer *s)
{
	if (s->have_root && s->root.cert)
		return X509_dup(s->root.cert);
	char path[TC_CFG_STR + 64];
	if (tc_config_data_path(&s->cfg, "ca/root.pem", path, sizeof(path)) != 0)
		return NULL;
	FILE *f = fopen(path, "re");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	return x;
}

/* 1 when cert is signed by a new root (`ceremony rollover-root`) whose
 * cross certificate ca/rollover/<root>-cross.pem our root signed, with the
 * new root's name and key: the next intermediate of a root rollover. */
static int under_cross_root(struct tc_signer *s, X509 *cert, EVP_PKEY *root_key)
{
	char dir[TC_CFG_STR + 32];
	if (tc_config_data_path(&s->cfg, "ca/rollover", dir, sizeof(dir)) != 0)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	int ok = 0;
	struct dirent *de;
	while (!ok && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (n <= 10 || strcmp(de->d_name + n - 10, "-cross.pem") != 0 || de->d_name[0] == '.')
			continue;
		char path[TC_CFG_STR + 320];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		FILE *f = fopen(path, "re");
		X509 *cross = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
		if (f)
			fclose(f);
		ok = cross && X509_verify(cross, root_key) == 1 && X509_check_ca(cross) >= 1 &&
		     X509_NAME_cmp(X509_get_issuer_name(cert), X509_get_subject_name(cross)) == 0 &&
		     X509_verify(cert, X509_get0_pubkey(cross)) == 1;
		X509_free(cross);
	}
	closedir(d);
	return ok;
}

/* The schedule names a key by label only, so whatever key of the token it
 * names is checked before it may issue: its certificate must be a CA
 * certificate signed by our root and not the root itself (nor a key whose
 * certificate is self-issued: the CT, DNS or audit keys). An operator's
 * wrong label then stops the rollover instead of issuing leaves from the
 * root. */
static int next_issuer_ok(struct tc_signer *s, const struct tc_hsm_key *key, char *why, size_t wl)
{
	if (!key->cert)
		return snprintf(why, wl, "key '%s' has no certificate on the token", key->label), -1;
	if (X509_check_ca(key->cert) < 1)
		return snprintf(why, wl, "the certificate of '%s' is not a CA certificate", key->label), -1;
	if (X509_NAME_cmp(X509_get_subject_name(key->cert), X509_get_issuer_name(key->cert)) == 0)
		return snprintf(why, wl, "the certificate of '%s' is self-issued, not an intermediate", key->label),
		       -1;
	X509 *root = root_cert(s);
	EVP_PKEY *root_key = root ? X509_get0_pubkey(root) : NULL;
	int ok = root_key && (X509_verify(key->cert, root_key) == 1 || under_cross_root(s, key->cert, root_key));
	X509_free(root);
	ERR_clear_error();
	if (!ok)
		return snprintf(why, wl, "the certificate of '%s' is signed neither by our root nor by a new root it "
				    "cross-signed", key->label), -1;
	return 0;
}

/* Index of label's slot, loading its key from the token when new; -1 with
 * why. Called with the lock held. */
static int slot_for(struct tc_signer *s, const char *label, char *why, size_t wl)
{
	struct tc_issuers *is = s->issuers;
	int n = atomic_load(&is->count);
	for (int i = 0; i < n; i++)
		if (strcmp(is->slot[i]->key.label, label) == 0)
			return i;
	if (n == TC_ISSUERS_MAX) {
		snprintf(why, wl, "more than %d issuing intermediates", TC_ISSUERS_MAX);
		return -1;
	}
	struct tc_hsm_key key;
	if (tc_hsm_find_key(s->hsm, label, &key, why, wl) != 0)
		return -1;
	if (next_issuer_ok(s, &key, why, wl) != 0) /* the key stays the handle's */
		return -1;
	struct tc_issuer_slot *sl = slot_new(s, &key, 0, why, wl);
	if (!sl)
		return -1;
	is->slot[n] = sl;
	atomic_store(&is->count, n + 1);
	return n;
}

static void journal_event(struct tc_signer *s, const char *op, const char *label, const char *result,
			  const char *detail)
{
	struct tc_journal_entry e = {.peer = "signer", .op = op, .key = label, .data = (const unsigned char *)detail,
				     .data_len = strlen(detail), .result = result, .detail = detail};
	if (s->journal && tc_journal_append(s->journal, &e) == 0)
		tc_err("cannot journal %s of '%s'", op, label);
}

/* Re-reads the schedule when the file changed. Called with the lock held. */
static void poll_schedule(struct tc_signer *s)
{
	struct tc_issuers *is = s->issuers;
	char path[TC_CFG_STR + 64], why[256];
	if (tc_config_data_path(&s->cfg, "ca/rollover/next", path, sizeof(path)) != 0)
		return;
	struct stat st;
	int exists = stat(path, &st) == 0;
	if (exists == is->seen_exists &&
	    (!exists || (st.st_ino == is->seen.st_ino && st.st_size == is->seen.st_size &&
			 st.st_mtim.tv_sec == is->seen.st_mtim.tv_sec && st.st_mtim.tv_nsec == is->seen.st_mtim.tv_nsec)))
		return;
	is->seen_exists = exists;
	if (exists)
		is->seen = st;
	if (!exists)
		return; /* a schedule once loaded stays: removing the file is no undo */
	char *buf = NULL, label[64];
	size_t n = 0;
	time_t when;
	if (tc_read_file(path, SCHEDULE_MAX, &buf, &n, why, sizeof(why)) != 0 ||
	    tc_rollover_parse_line(buf, n, label, sizeof(label), &when, why, sizeof(why)) != 0) {
		tc_log_event(TC_LOG_ERROR, "ca_rollover_schedule_invalid", TC_KV("path", path, "reason", why),
			     "%s: %s: ignored", path, why);
		free(buf);
		return;
	}
	free(buf);
	int cur = atomic_load(&is->current);
	if (cur >= 0 && strcmp(is->slot[cur]->key.label, label) == 0)
		return; /* already switched to it */
	int idx = slot_for(s, label, why, sizeof(why));
	if (idx < 0) {
		tc_log_event(TC_LOG_ERROR, "ca_rollover_key_unavailable", TC_KV("key", label, "reason", why),
			     "next intermediate '%s': %s: issuance stays with the current one", label, why);
		return;
	}
	is->next = idx;
	is->cutover = when;
	char detail[160], iso[32];
	struct tm tm;
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&when, &tm));
	snprintf(detail, sizeof(detail), "next intermediate %s scheduled, cut-over %s", label, iso);
	journal_event(s, "issuer_scheduled", label, "ok", detail);
	tc_log_event(TC_LOG_INFO, "ca_rollover_scheduled", TC_KV("key", label), "%s", detail);
}

/* Switches to the scheduled intermediate once its time has come. Called
 * with the lock held. */
static void maybe_switch(struct tc_signer *s, time_t now)
{
	struct tc_issuers *is = s->issuers;
	if (is->next < 0 || now < is->cutover)
		return;
	int from = atomic_load(&is->current);
	char detail[200], iso[32];
	struct tm tm;
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&is->cutover, &tm));
	snprintf(detail, sizeof(detail), "issuance switched from %s to %s at cut-over %s",
		 from >= 0 ? is->slot[from]->key.label : "(none)", is->slot[is->next]->key.label, iso);
	atomic_store(&is->current, is->next);
	is->next = -1;
	journal_event(s, "issuer_switch", is->slot[atomic_load(&is->current)]->key.label, "ok", detail);
	tc_log_event(TC_LOG_INFO, "ca_rollover_switch", NULL, "%s", detail);
}

/* The rollovers `ceremony finalize-rollover` made durable
 * (ca/rollover/finalized, one "LABEL CUTOVER" a line, oldest first): each
 * intermediate is loaded again (its CRL is signed while its leaves may be
 * valid) and the last one issues from the start, with no issuer_switch
 * journaled again (the ceremony journaled the finalisation). Called with
 * the lock held. */
static void load_finalized(struct tc_signer *s)
{
	struct tc_issuers *is = s->issuers;
	char path[TC_CFG_STR + 64], why[256];
	if (tc_config_data_path(&s->cfg, "ca/rollover/finalized", path, sizeof(path)) != 0 || access(path, F_OK) != 0)
		return;
	char *buf = NULL;
	size_t n = 0;
	if (tc_read_file(path, TC_ROLLOVER_FINALIZED_MAX, &buf, &n, why, sizeof(why)) != 0) {
		tc_log_event(TC_LOG_ERROR, "ca_rollover_finalized_invalid", TC_KV("path", path, "reason", why),
			     "%s: %s: issuance stays with the configured intermediate", path, why);
		return;
	}
	for (size_t off = 0; off < n;) {
		const char *nl = memchr(buf + off, '\n', n - off);
		size_t ln = nl ? (size_t)(nl - (buf + off)) : n - off;
		char label[64];
		time_t when;
		int idx = -1;
		if (tc_rollover_parse_line(buf + off, ln, label, sizeof(label), &when, why, sizeof(why)) != 0 ||
		    (idx = slot_for(s, label, why, sizeof(why))) < 0) {
			tc_log_event(TC_LOG_ERROR, "ca_rollover_finalized_invalid", TC_KV("path", path, "reason", why),
				     "%s: %s: line ignored", path, why);
		} else {
			atomic_store(&is->current, idx);
			tc_log_event(TC_LOG_INFO, "ca_rollover_finalized", TC_KV("key", label),
				     "finalized intermediate '%s' loaded", label);
		}
		off += ln + 1;
	}
	free(buf);
}

/* Five times a second: the operator's ceremony records (ceremony_inbox.h)
 * and, through tc_issuers_current, the cut-over on time even when nothing
 * is issued (the switch is then journaled when it happens). */
static void *ticker_main(void *arg)
{
	struct tc_signer *s = arg;
	while (!atomic_load(&s->issuers->stop)) {
		tc_ceremony_inbox_poll(s);
		tc_issuers_current(s, time(NULL));
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

void tc_issuers_init(struct tc_signer *s)
{
	struct tc_issuers *is = calloc(1, sizeof(*is));
	s->issuers = is;
	if (!is) {
		tc_err("out of memory: issuance disabled");
		return;
	}
	pthread_mutex_init(&is->lock, NULL);
	atomic_init(&is->current, -1);
	is->next = -1;
	char why[256];
	if (s->have_intermediate) {
		struct tc_issuer_slot *sl = slot_new(s, &s->intermediate, 1, why, sizeof(why));
		if (sl) {
			is->slot[0] = sl;
			atomic_store(&is->count, 1);
			atomic_store(&is->current, 0);
		} else {
			tc_warn("intermediate '%s': %s: issuance disabled", s->intermediate.label, why);
		}
	}
	pthread_mutex_lock(&is->lock);
	load_finalized(s);
	poll_schedule(s);
	maybe_switch(s, time(NULL));
	pthread_mutex_unlock(&is->lock);
	atomic_store(&is->last_poll, (long long)time(NULL));
	if (s->journal) {
		if (tc_ceremony_inbox_prepare(s, why, sizeof(why)) != 0)
			tc_warn("ceremony inbox: %s: ceremonies need the server stopped", why);
		else if (pthread_create(&is->ticker, NULL, ticker_main, s) == 0)
			is->ticking = 1;
		else
			tc_warn("ceremony inbox: no thread: ceremonies need the server stopped");
	}
}

void tc_issuers_fini(struct tc_signer *s)
{
	struct tc_issuers *is = s->issuers;
	if (!is)
		return;
	if (is->ticking) {
		atomic_store(&is->stop, 1);
		pthread_join(is->ticker, NULL);
	}
	for (int i = 0; i < atomic_load(&is->count); i++) {
		tc_issuer_fini(&is->slot[i]->issuer);
		free(is->slot[i]);
	}
	pthread_mutex_destroy(&is->lock);
	free(is);
	s->issuers = NULL;
}

const struct tc_issuer_slot *tc_issuers_current(struct tc_signer *s, time_t now)
{
	struct tc_issuers *is = s->issuers;
	if (!is)
		return NULL;
	long long last = atomic_load(&is->last_poll);
	/* One thread a second looks at the file; the others go on signing. */
	if (last != (long long)now && atomic_compare_exchange_strong(&is->last_poll, &last, (long long)now)) {
		pthread_mutex_lock(&is->lock);
		poll_schedule(s);
		maybe_switch(s, now);
		pthread_mutex_unlock(&is->lock);
	}
	int cur = atomic_load(&is->current);
	return cur >= 0 ? is->slot[cur] : NULL;
}

int tc_issuers_count(struct tc_signer *s)
{
	return s->issuers ? atomic_load(&s->issuers->count) : 0;
}

const struct tc_issuer_slot *tc_issuers_find(struct tc_signer *s, const char *label, size_t label_len)
{
	struct tc_issuers *is = s->issuers;
	if (!is)
		return NULL;
	if (label_len == 0)
		return tc_issuers_current(s, time(NULL));
	int n = atomic_load(&is->count);
	for (int i = 0; i < n; i++)
		if (strlen(is->slot[i]->key.label) == label_len && memcmp(is->slot[i]->key.label, label, label_len) == 0)
			return is->slot[i];
	return NULL;
}
