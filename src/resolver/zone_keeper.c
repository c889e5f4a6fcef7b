/* Zone lifecycle thread: see zone_keeper.h. */
#include "resolver/zone_keeper.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/child_runtime.h"
#include "common/metrics_proc.h"
#include "common/config.h"
#include "common/log.h"
#include "resolver/dnssec.h"
#include "resolver/dnssec_signer.h"
#include "resolver/ixfr_log.h"
#include "resolver/sig_cache.h"
#include "resolver/sig_prefetch.h"
#include "resolver/tlsa.h"
#include "resolver/update.h"
#include "resolver/zone.h"
#include "resolver/zone_journal.h"
#include "resolver/serial_floor.h"
#include "resolver/zone_state.h"

#define CHECK_PERIOD_S 2
#define SIG_BACKDATE_S 3600               /* clocks of validators may lag */
#define SIG_VALIDITY_S (7 * 86400)
#define RETRY_S 10
#define RETRY_NO_KEY_S 60
#define IXFR_LOG_BYTES (16u * 1024 * 1024)
/* Journal compaction (compact_journal): after this many records since the
 * journal was opened or last compacted. Each record is one group commit. */
#define JOURNAL_COMPACT_RECORDS 1024

/* What a file looked like: a change of any field means "rebuild". */
struct stamp {
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* The TLSA records' inputs: the intermediates (the configured one, a
 * scheduled successor, published from the moment it is scheduled, and the
 * finalized ones, common/rollover_sched.h) and the DoQ certificate. */
enum { INPUT_INTERMEDIATE, INPUT_ROLLOVER, INPUT_DOQ_CERT, INPUT_DNS_ROLL, INPUT_FINALIZED, INPUT_COUNT };
static const char *const input_files[INPUT_COUNT] = {"ca/intermediate.pem", "ca/rollover/next", "dns/doq_cert.pem",
						     "dns/roll.state" /* DNSSEC keys (dns_roll_state.h) */,
						     "ca/rollover/finalized"};

struct tc_zone_keeper {
	struct tc_child *child;
	/* The configuration the zone is built from: the keeper's own copy, so
	 * a reload replaces it (under build_lock) while other threads keep the
	 * process's. */
	struct tc_config *cfg;
	struct tc_zone_live *live;
	pthread_t thread;
	bool have_thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop, poked;
	bool serving_signed;   /* under lock, for tc_zone_keeper_signed() */

	/* Owned by the keeper thread (and start, before the thread runs). */
	struct stamp inputs[INPUT_COUNT];
	bool is_signed;
	time_t resign_at;      /* signed: when to re-sign */
	uint32_t inception, expiration;   /* of the signatures served now */
	struct tc_sig_cache *sigs;        /* their signatures, for the next build */
	/* The zone key as fetched for the last signing: an update's build
	 * reuses it (fetching it is a signer round trip and a public-key
	 * decode, a tenth of an update's CPU); any other build, or a failed
	 * signing, fetches it again. */
	struct tc_dnssec_signer *signer;
	uint8_t signer_dnskey[TC_DNSSEC_DNSKEY_LEN];
	time_t retry_at;       /* unsigned, or a failed re-sign: when to try again */
	bool pending_retry;    /* the last rebuild kept the old zone: wait for retry_at */
	bool warned_no_key;
	bool warned_failure;   /* retries repeat a failure quietly until it changes */

	uint32_t serial;       /* of the zone served now: written under lock */
	uint32_t reserved;     /* serials up to this one are recorded in zone.serial (serial_floor.h) */
	bool warned_reserve;   /* a failing reservation is logged once until it works again */
	long last_made;        /* HSM signatures of the last signing */

	/* For describe(), under lock. */
	char summary[256];
	tc_zone_change_fn on_change;   /* under lock */
	void *on_change_arg;

	/* Dynamic updates: every change so far (the journal's payloads), applied
	 * over the configured zone at each build. build_lock serialises builds
	 * (the keeper thread's and updates'). */
	pthread_mutex_t build_lock;
	struct tc_zone_journal *journal;
	char journal_path[TC_CFG_STR + 64];
	size_t journal_records;     /* appended since it was opened or compacted */
	uint8_t *ops;
	size_t ops_len;
	struct tc_ixfr_log *ixfr;   /* deltas of the zones published (builds append) */
	/* The zone served before a clean restart (zone_state.h): the first
	 * build's delta is taken from it, then it is freed. */
	struct tc_zone *restored;
	/* The last build's unsigned zone and what it was built from: an
	 * update's build starts there (build_unsigned). */
	struct tc_zone *base;
	size_t base_ops;
	struct tc_tlsa_report base_rep;

	/* Updates waiting for the next group commit (queue_lock). */
	pthread_mutex_t queue_lock;
	pthread_cond_t queue_cond;
	struct pending_update *queue, **queue_tail;
	bool committing;
};

static void take_stamp(const struct tc_config *cfg, const char *rel, struct stamp *st)
{
	char path[TC_CFG_STR + 64];
	struct stat sb;
	memset(st, 0, sizeof(*st));
	if (tc_config_data_path(cfg, rel, path, sizeof(path)) != 0 || stat(path, &sb) != 0)
		return;
	st->exists = true;
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	st->size = sb.st_size;
	st->mtime = sb.st_mtim;
}

static bool same_stamp(const struct stamp *a, const struct stamp *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* The zone before any update: configuration, then the TLSA records. */
static struct tc_zone *build_configured(struct tc_zone_keeper *k, struct tc_tlsa_report *rep, char *err,
					size_t errlen)
{
	struct tc_zone *zone = NULL;
	if (tc_zone_from_config(k->cfg, &zone, err, errlen) != 0)
		return NULL;
	if (tc_zone_add_service_tlsa(zone, k->cfg, rep, err, errlen) != 0) {
		tc_zone_free(zone);
		return NULL;
	}
	return zone;
}

/* The unsigned zone: configuration, then the TLSA records, then every
 * journaled update. An update's build (incremental) starts instead from
 * the previous build's unsigned zone and applies only the changes since,
 * so its cost does not grow with the number of updates ever made; any
 * other build (TLSA input changed, re-sign, reload) starts over. */
static struct tc_zone *build_unsigned(struct tc_zone_keeper *k, bool incremental,
				      struct tc_tlsa_report *rep, char *err, size_t errlen)
{
	struct tc_zone *zone = NULL;
	size_t from = 0;
	if (incremental && k->base) {
		if (tc_update_copy_records(k->base, &zone, err, errlen) != 0)
			return NULL;
		*rep = k->base_rep;
		from = k->base_ops;
	} else {
		if (!(zone = build_configured(k, rep, err, errlen)))
			return NULL;
		if (rep->problem[0])
			tc_warn("TLSA: %s (skipped)", rep->problem);
	}
	if (k->ops_len > from) {
		/* Deletions leave nodes without records; a copy of the records
		 * alone has none, so a deleted name is NXDOMAIN again (and its
		 * denial proves so) rather than an empty name. */
		struct tc_zone *copy = NULL;
		if (tc_update_apply(zone, k->ops + from, k->ops_len - from, err, errlen) != 0 ||
		    tc_update_copy_records(zone, &copy, err, errlen) != 0) {
			tc_zone_free(zone);
			return NULL;
		}
		tc_zone_free(zone);
		zone = copy;
	}
	/* The next update's starting point (signing changes zone itself). */
	struct tc_zone *base = NULL;
	char berr[128];
	if (tc_update_copy_records(zone, &base, berr, sizeof(berr)) != 0)
		base = NULL;   /* the next update builds from the configuration */
	tc_zone_free(k->base);
	k->base = base;
	k->base_ops = k->ops_len;
	k->base_rep = *rep;
	return zone;
}

/* The signing function of a build: a signature of the previous build for
 * the same input is reused, anything else is made by the signer (HSM). */
struct cached_signer {
	struct tc_dnssec_signer *signer;
	const struct tc_sig_cache *prev;
	const struct tc_sig_cache *pre;   /* made by tc_sig_prefetch for this build */
	struct tc_sig_cache *next;
	long reused, made;
};

static int cached_sign(void *ctx, const uint8_t *data, size_t len, uint8_t sig[TC_DNSSEC_SIG_LEN],
		       char *err, size_t errlen)
{
	struct cached_signer *cs = ctx;
	uint8_t digest[32];
	unsigned int dlen = 0;
	bool have_digest = EVP_Digest(data, len, digest, &dlen, EVP_sha256(), NULL) == 1;
	if (have_digest && tc_sig_cache_get(cs->prev, digest, sig)) {
		cs->reused++;
	} else if (have_digest && tc_sig_cache_get(cs->pre, digest, sig)) {
		cs->made++;
	} else {
		if (tc_dnssec_signer_sign(cs->signer, data, len, sig, err, errlen) != 0)
			return -1;
		cs->made++;
	}
	if (have_digest && cs->next)
		tc_sig_cache_put(cs->next, digest, sig);
	return 0;
}

/* Signs zone; 1 signed, 0 left unsigned (reason logged), with *no_key set
 * when the zone key is not provisioned. Signatures keep the validity times
 * of the zone served now until its re-sign time, so unchanged RRsets reuse
 * their signatures (sig_cache.h); a re-sign takes new times. */
static int sign_zone(struct tc_zone_keeper *k, struct tc_zone *zone, time_t now, bool incremental, long *nsigs,
		     uint16_t *tag, bool *no_key)
{
	char err[512];
	bool keep_times = k->is_signed && now < k->resign_at && now >= (time_t)k->inception && k->sigs;
	struct tc_dnssec_zone_key key = {
	    .inception = keep_times ? k->inception : (uint32_t)(now - SIG_BACKDATE_S),
	    .expiration = keep_times ? k->expiration : (uint32_t)(now + SIG_VALIDITY_S),
	    .sign = cached_sign, .dnskey_ttl = k->cfg->dns.dnskey_ttl};
	struct tc_dnssec_signer *signer = NULL;
	*no_key = false;
	enum tc_dnssec_key_state st = TC_DNSSEC_KEY_OK;
	if (incremental && k->signer) {
		signer = k->signer;
		memcpy(key.dnskey, k->signer_dnskey, sizeof(key.dnskey));
	} else {
		tc_dnssec_signer_free(k->signer);
		k->signer = NULL;
		st = tc_dnssec_signer_open(k->child, &signer, key.dnskey, err, sizeof(err));
	}
	if (st == TC_DNSSEC_KEY_NOT_PROVISIONED) {
		*no_key = true;
		if (!k->warned_no_key)
			tc_warn("DNSSEC: %s; serving the zone unsigned", err);
		k->warned_no_key = true;
		return 0;
	}
	if (st != TC_DNSSEC_KEY_OK) {
		if (!k->warned_failure)
			tc_warn("DNSSEC: cannot get the zone key: %s (retrying every %d s)", err,
				RETRY_S);
		k->warned_failure = true;
		return 0;
	}
	k->warned_no_key = false;
	k->warned_failure = false;
	key.set = tc_dnssec_signer_keyset(signer); /* the rollover's keys (dnssec_signer.h) */
	struct cached_signer cs = {.signer = signer, .prev = keep_times ? k->sigs : NULL,
				   .next = tc_sig_cache_new()};
	key.ctx = &cs;
	/* The signatures this build needs, asked of the signer together
	 * (sig_prefetch.h); then the real pass takes them from pre. */
	struct tc_sig_cache *pre = tc_sig_cache_new();
	if (pre && tc_sig_prefetch(zone, &key, signer, cs.prev, pre, err, sizeof(err)) < 0)
		tc_debug("DNSSEC: prefetch: %s (signing one by one)", err);
	cs.pre = pre;
	*nsigs = tc_zone_sign(zone, &key, err, sizeof(err));
	tc_sig_cache_free(pre);
	if (*nsigs < 0) {
		tc_dnssec_signer_free(signer);
		k->signer = NULL;   /* fetched again next time */
	} else {
		k->signer = signer;
		memcpy(k->signer_dnskey, key.dnskey, sizeof(key.dnskey));
	}
	if (*nsigs < 0) {
		tc_sig_cache_free(cs.next);
		tc_warn("DNSSEC: signing failed: %s", err);
		k->warned_failure = true;
		return 0;
	}
	/* The caller publishes this zone: its signatures become the cache. */
	tc_sig_cache_free(k->sigs);
	k->sigs = cs.next;
	k->inception = key.inception;
	k->expiration = key.expiration;
	tc_metric_set(tc_pm_gauge("trustchain_zone_signature_expiry_timestamp_seconds",
				  "When the RRSIGs served now expire (Unix time).", NULL),
		      NULL, (double)key.expiration);
	tc_debug("DNSSEC: %ld signatures made by the HSM, %ld reused", cs.made, cs.reused);
	k->last_made = cs.made;
	*tag = tc_dnssec_key_tag(key.dnskey, sizeof(key.dnskey));
	return 1;
}

static void floor_path(const struct tc_zone_keeper *k, char *out, size_t outlen)
{
	if (tc_config_data_path(k->cfg, "dns/zone.serial", out, outlen) != 0)
		out[0] = '\0';
}

/* Before a serial is published: recorded durably once per
 * TC_SERIAL_RESERVE, so a start after a crash never reuses it. A failed
 * write (full disk) is logged and the zone still published: availability
 * first; the next write that succeeds covers it again. */
static void reserve_serial(struct tc_zone_keeper *k, uint32_t serial)
{
	if (k->reserved && (int32_t)(serial - k->reserved) <= 0)
		return;
	char path[TC_CFG_STR + 64], err[512];
	floor_path(k, path, sizeof(path));
	uint32_t upto = serial + TC_SERIAL_RESERVE;
	if (!path[0] || tc_serial_floor_write(path, upto, err, sizeof(err)) != 0) {
		if (!k->warned_reserve)
			tc_warn("zone serial %u published unreserved: %s", serial, path[0] ? err : "no data path");
		k->warned_reserve = true;
		return;
	}
	k->reserved = upto;
	k->warned_reserve = false;
}

/* A start without a saved zone (after kill -9 or a power cut) continues
 * above every serial reserved before. */
static void continue_above_reserved(struct tc_zone_keeper *k)
{
	char path[TC_CFG_STR + 64], err[512];
	uint32_t r = 0;
	floor_path(k, path, sizeof(path));
	if (!path[0] || tc_serial_floor_read(path, &r, err, sizeof(err)) != 0) {
		if (path[0])
			tc_warn("zone serial: %s; starting from the clock", err);
		return;
	}
	k->reserved = r;
	if (r && !k->serial) {
		k->serial = r;
		tc_info("zone serial: continuing above %u (reserved before an unclean stop)", r);
	}
}

/* Builds, signs and publishes a new zone. Returns 0 when a new zone was
 * published, -1 with err when the zone cannot be built (configuration),
 * -2 when the current signed zone stays because signing failed. */
static int rebuild(struct tc_zone_keeper *k, const struct stamp *inputs, bool incremental,
		   const char *why, char *err, size_t errlen)
{
	struct tc_tlsa_report rep;
	time_t now = time(NULL);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	k->last_made = 0;
	struct tc_zone *zone = build_unsigned(k, incremental, &rep, err, errlen);
	if (!zone)
		return -1;
	/* Every published zone gets a larger serial (RFC 1982), so secondaries
	 * see each change even several in one second. */
	uint32_t serial = (uint32_t)now;
	if (k->serial && (int32_t)(serial - k->serial) <= 0)
		serial = k->serial + 1;
	tc_zone_set_serial(zone, serial);
	reserve_serial(k, serial);
	long nsigs = 0;
	uint16_t tag = 0;
	bool no_key;
	int is_signed = sign_zone(k, zone, now, incremental, &nsigs, &tag, &no_key);
	if (!is_signed && k->is_signed) {
		/* An unsigned zone would turn validators' answers bogus; keep the
		 * signed one (still valid for days) and try again soon. */
		tc_zone_free(zone);
		k->retry_at = now + RETRY_S;
		k->pending_retry = true;
		return -2;
	}
	char summary[256];
	int n = snprintf(summary, sizeof(summary), "%zu records, ", tc_zone_rr_count(zone));
	if (is_signed)
		n += snprintf(summary + n, sizeof(summary) - (size_t)n,
			      "signed (%ld RRSIGs, key tag %u, algorithm 13)", nsigs, (unsigned)tag);
	else
		n += snprintf(summary + n, sizeof(summary) - (size_t)n, "unsigned");
	snprintf(summary + n, sizeof(summary) - (size_t)n, ", TLSA %s%s",
		 rep.intermediate ? "DANE-TA" : "none", rep.doq_cert ? " + DoQ DANE-EE" : "");

	/* The delta goes into the log before the zone is served, so a client
	 * that sees the new serial finds the chain leading to it. */
	const struct tc_zone *old = k->restored ? k->restored : tc_zone_live_peek(k->live);
	uint8_t *delta = NULL;
	size_t dlen = 0;
	if (k->ixfr && (!old || tc_ixfr_diff(old, zone, &delta, &dlen) != 0 ||
			tc_ixfr_log_append(k->ixfr, delta, dlen) != 0))
		tc_ixfr_log_reset(k->ixfr);   /* IXFR falls back to AXFR form */
	else if (k->restored)
		tc_info("IXFR: %zu octets of changes across the restart, from serial %u", dlen,
			tc_zone_serial(k->restored));
	free(delta);
	tc_zone_free(k->restored);
	k->restored = NULL;
	tc_zone_live_swap(k->live, zone);
	k->pending_retry = false;
	k->is_signed = is_signed;
	if (is_signed)
		k->resign_at = (time_t)k->inception + (time_t)(k->expiration - k->inception) / 2;
	else
		k->retry_at = now + (no_key ? RETRY_NO_KEY_S : RETRY_S);
	memcpy(k->inputs, inputs, sizeof(k->inputs));
	pthread_mutex_lock(&k->lock);
	snprintf(k->summary, sizeof(k->summary), "%s", summary);
	k->serving_signed = is_signed;
	k->serial = serial;
	tc_zone_change_fn fn = k->on_change;
	void *arg = k->on_change_arg;
	pthread_mutex_unlock(&k->lock);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	tc_info("zone %s %s: serial %u, %s; built and signed in %.1f ms (%ld new signatures)",
		k->cfg->bootstrap.domain, why, serial, summary,
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
		k->last_made);
	if (fn)
		fn(arg, serial);
	return 0;
}

static void check(struct tc_zone_keeper *k, bool poked)
{
	struct stamp now_inputs[INPUT_COUNT];
	const char *why = NULL;
	time_t now = time(NULL);
	for (int i = 0; i < INPUT_COUNT; i++) {
		take_stamp(k->cfg, input_files[i], &now_inputs[i]);
		if (!why && !same_stamp(&now_inputs[i], &k->inputs[i]))
			why = i == INPUT_INTERMEDIATE ? "rebuilt (intermediate certificate changed)"
			      : i == INPUT_ROLLOVER   ? "rebuilt (next intermediate scheduled)"
			      : i == INPUT_DOQ_CERT   ? "rebuilt (DoQ certificate changed)"
			      : i == INPUT_DNS_ROLL   ? "rebuilt (DNSSEC roll state changed)"
						      : "rebuilt (intermediate rollover finalized)";
	}
	if (!why && poked)
		why = "rebuilt on request";
	/* After a failed re-sign, changes wait for the retry time too. */
	if (why && !poked && k->pending_retry && now < k->retry_at)
		return;
	if (!why && k->is_signed && now >= k->resign_at)
		why = "re-signed";
	/* The clock stepped back before the signatures' inception: validators
	 * with that clock find them not yet valid until they are made again. */
	if (!why && k->is_signed && now < (time_t)k->inception)
		why = "re-signed (the clock is before the signatures' inception)";
	if (!why && !k->is_signed && now >= k->retry_at)
		why = "signing retried";
	/* An update journaled while signing failed (rebuild -2) is served at
	 * the retry even when nothing else changes. */
	if (!why && k->pending_retry && now >= k->retry_at)
		why = "signing retried";
	char err[512];
	if (why && rebuild(k, now_inputs, false, why, err, sizeof(err)) == -1)
		tc_err("zone %s: %s", k->cfg->bootstrap.domain, err);
}

/* Zone journal compaction (under build_lock, after a build from every
 * change): the journal, one record per group commit since the first
 * update, is replaced by the net changes from the configured zone to the
 * zone built now (tc_update_fold): an _acme-challenge TXT added and deleted
 * leaves nothing, a record replaced a thousand times leaves its last
 * value. So the journal and its replay at start are bounded by the zone's
 * update-made content, not by the number of updates ever made. The fold is
 * checked before it replaces anything: applied to the configured zone it
 * must give exactly the zone built now. Relative to the configuration at
 * this moment: a later reload that adds a record an update once deleted
 * keeps that record, as it would for a deletion made after the reload.
 * The IXFR deltas (ixfr_log.h) are unaffected: they hold the published
 * zones' differences, bounded by IXFR_LOG_BYTES, and a secondary older
 * than the oldest kept gets AXFR. */
static void compact_journal(struct tc_zone_keeper *k)
{
	if (!k->journal || !k->base || k->base_ops != k->ops_len || !k->journal_path[0])
		return;
	/* The TLSA records follow files (the DoQ certificate): changed since
	 * the last full build, the fold would write their old values into the
	 * journal as if an update had made them. The next build catches up;
	 * the journal is compacted after it. */
	for (int i = 0; i < INPUT_COUNT; i++) {
		struct stamp now;
		take_stamp(k->cfg, input_files[i], &now);
		if (!same_stamp(&now, &k->inputs[i]))
			return;
	}
	struct tc_tlsa_report rep;
	char err[512] = "";
	struct tc_zone *configured = build_configured(k, &rep, err, sizeof(err));
	struct tc_zone *check = NULL, *checked = NULL;
	uint8_t *folded = NULL, *rest = NULL;
	size_t flen = 0, rlen = 0;
	int ok = configured && tc_update_fold(configured, k->base, &folded, &flen) == 0;
	/* Replayed as at a start: apply, then copy the records alone. */
	ok = ok && tc_update_copy_records(configured, &check, err, sizeof(err)) == 0 &&
	     tc_update_apply(check, folded, flen, err, sizeof(err)) == 0 &&
	     tc_update_copy_records(check, &checked, err, sizeof(err)) == 0 &&
	     tc_update_fold(checked, k->base, &rest, &rlen) == 0;
	if (ok && rlen != 0)
		snprintf(err, sizeof(err), "the folded changes do not rebuild the zone");
	size_t records = k->journal_records, before = k->ops_len;
	if (ok && rlen == 0 && tc_zone_journal_compact(k->journal, k->journal_path, folded, flen, err, sizeof(err)) == 0) {
		free(k->ops);
		k->ops = folded;
		folded = NULL;
		k->ops_len = k->base_ops = flen;
		tc_info("zone journal: compacted: %zu records (%zu octets of changes) folded into %zu octets", records,
			before, flen);
		tc_metric_add(tc_pm_counter("trustchain_dns_journal_compactions_total",
					    "Zone journal compactions (history folded into its net changes).", NULL),
			      NULL, 1);
	} else {
		tc_warn("zone journal: not compacted: %s", err[0] ? err : "out of memory");
	}
	/* Either way, not again before as many records more. */
	k->journal_records = 0;
	free(folded);
	free(rest);
	tc_zone_free(configured);
	tc_zone_free(check);
	tc_zone_free(checked);
}

/* Group commit: an update waits in a queue; the first waiter with no
 * leader at work takes the whole queue and commits it as one batch (one
 * journal record, one fdatasync, one rebuild and signing), then wakes the
 * others. Under load a batch holds every update that arrived while the
 * previous one was signed, so the disk sync and the HSM signatures (SOA,
 * NSEC) are shared by all of them. */
struct pending_update {
	const struct tc_update *u;
	uint16_t rcode;
	bool done;
	struct pending_update *next;
};

/* The prerequisites of each update of the batch, against the zone served
 * with the earlier updates of the batch applied (RFC 2136 §3.7: as if one
 * after the other); the changes of the accepted ones into *ops. */
static void batch_prereqs(struct tc_zone_keeper *k, struct pending_update *list, uint8_t **ops,
			  size_t *ops_len)
{
	const struct tc_zone *served = tc_zone_live_peek(k->live);
	bool any_prereq = false, several = list && list->next;
	for (struct pending_update *p = list; p; p = p->next)
		any_prereq |= p->u->nprereq > 0;
	struct tc_zone *scratch = NULL;
	char err[256];
	if (served && any_prereq && several &&
	    tc_update_copy_records(served, &scratch, err, sizeof(err)) != 0)
		scratch = NULL;
	for (struct pending_update *p = list; p; p = p->next) {
		const struct tc_zone *view = scratch ? scratch : served;
		p->rcode = !view                             ? TC_DNS_RCODE_SERVFAIL
			   : (several && any_prereq && !scratch) ? TC_DNS_RCODE_SERVFAIL
			   : p->u->nprereq ? tc_update_check_prereqs(view, p->u)
					   : 0;
		if (p->rcode != 0 || p->u->nupdate == 0)
			continue;
		size_t cap = p->u->data_len + p->u->nupdate * (TC_DNS_MAX_NAME + 10);
		uint8_t *grown = realloc(*ops, *ops_len + cap);
		size_t n = grown ? tc_update_encode(p->u, grown + *ops_len, cap) : 0;
		if (grown)
			*ops = grown;
		if (n == 0) {
			p->rcode = TC_DNS_RCODE_SERVFAIL;
			continue;
		}
		if (scratch)
			tc_update_apply(scratch, *ops + *ops_len, n, err, sizeof(err));
		*ops_len += n;
	}
	tc_zone_free(scratch);
}

static void commit_batch(struct tc_zone_keeper *k, struct pending_update *list)
{
	pthread_mutex_lock(&k->build_lock);
	uint8_t *ops = NULL;
	size_t n = 0, count = 0;
	batch_prereqs(k, list, &ops, &n);
	for (struct pending_update *p = list; p; p = p->next)
		count += p->rcode == 0 && p->u->nupdate;
	uint16_t outcome = 0;
	if (n && !k->journal) {
		outcome = TC_DNS_RCODE_SERVFAIL;
	} else if (n) {
		uint8_t *grown = realloc(k->ops, k->ops_len + n);
		/* Durable before it is served or answered: one record, one sync. */
		if (!grown || tc_zone_journal_append(k->journal, ops, n) != 0) {
			tc_err("zone journal: cannot write %zu updates: %s", count, strerror(errno));
			outcome = TC_DNS_RCODE_SERVFAIL;
			if (grown)
				k->ops = grown;
		} else {
			k->ops = grown;
			memcpy(k->ops + k->ops_len, ops, n);
			k->ops_len += n;
			char err[512], why[64];
			snprintf(why, sizeof(why), count > 1 ? "updated (%zu updates)" : "updated", count);
			int rc = rebuild(k, k->inputs, true, why, err, sizeof(err));
			if (rc == 0 && ++k->journal_records >= JOURNAL_COMPACT_RECORDS)
				compact_journal(k);
			if (rc == -1) {
				tc_err("zone %s: %s", k->cfg->bootstrap.domain, err);
				outcome = TC_DNS_RCODE_SERVFAIL;
			} else if (rc == -2) {
				tc_warn("zone %s: update journaled; signing failed, it is served at the retry",
					k->cfg->bootstrap.domain);
			}
		}
	}
	free(ops);
	pthread_mutex_unlock(&k->build_lock);
	for (struct pending_update *p = list; p; p = p->next)
		if (p->rcode == 0 && p->u->nupdate)
			p->rcode = outcome;
}

uint16_t tc_zone_keeper_update(struct tc_zone_keeper *k, const struct tc_update *u)
{
	struct pending_update me = {.u = u};
	pthread_mutex_lock(&k->queue_lock);
	*k->queue_tail = &me;
	k->queue_tail = &me.next;
	while (!me.done) {
		if (k->committing) {
			pthread_cond_wait(&k->queue_cond, &k->queue_lock);
			continue;
		}
		struct pending_update *list = k->queue;
		k->queue = NULL;
		k->queue_tail = &k->queue;
		k->committing = true;
		pthread_mutex_unlock(&k->queue_lock);
		commit_batch(k, list);
		pthread_mutex_lock(&k->queue_lock);
		for (struct pending_update *p = list, *next; p; p = next) {
			next = p->next;   /* p may be gone once done is seen */
			p->done = true;
		}
		k->committing = false;
		pthread_cond_broadcast(&k->queue_cond);
	}
	pthread_mutex_unlock(&k->queue_lock);
	return me.rcode;
}

static void *keeper_main(void *arg)
{
	struct tc_zone_keeper *k = arg;
	pthread_mutex_lock(&k->lock);
	while (!k->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += CHECK_PERIOD_S;
		while (!k->stop && !k->poked &&
		       pthread_cond_timedwait(&k->cond, &k->lock, &until) != ETIMEDOUT) {
		}
		if (k->stop)
			break;
		bool poked = k->poked;
		k->poked = false;
		pthread_mutex_unlock(&k->lock);
		pthread_mutex_lock(&k->build_lock);
		check(k, poked);
		pthread_mutex_unlock(&k->build_lock);
		pthread_mutex_lock(&k->lock);
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

static void state_path(const struct tc_zone_keeper *k, char *out, size_t outlen)
{
	if (tc_config_data_path(k->cfg, "dns/zone.state", out, outlen) != 0)
		out[0] = '\0';
}

/* What the last clean stop saved (zone_state.h): the zone it served as the
 * first build's diff base, its signatures for reuse, the IXFR chain. */
static void restore_state(struct tc_zone_keeper *k)
{
	char path[TC_CFG_STR + 64], err[512];
	struct tc_zone_state st;
	state_path(k, path, sizeof(path));
	int got = path[0] ? tc_zone_state_take(path, k->cfg->bootstrap.domain, &st, err, sizeof(err)) : 0;
	if (got < 0)
		tc_warn("zone state: %s: %s (secondaries get AXFR once)", path, err);
	if (got <= 0)
		return;
	k->restored = st.zone;
	k->serial = tc_zone_serial(st.zone);
	if (st.is_signed) {
		k->sigs = st.sigs;
		k->inception = st.inception;
		k->expiration = st.expiration;
		k->is_signed = true;
		k->resign_at = (time_t)k->inception + (time_t)(k->expiration - k->inception) / 2;
	}
	if (tc_ixfr_log_load(k->ixfr, st.chain, st.chain_len) != 0)
		tc_warn("zone state: the saved IXFR deltas do not chain; dropped");
	tc_info("zone state: serial %u restored (%zu octets of IXFR deltas, %s)", k->serial, st.chain_len,
		st.is_signed ? "signatures reused" : "unsigned");
	free(st.chain);
}

/* At a clean stop: what restore_state reads at the next start. */
static void save_state(struct tc_zone_keeper *k)
{
	const struct tc_zone *served = tc_zone_live_peek(k->live);
	char path[TC_CFG_STR + 64], err[512];
	state_path(k, path, sizeof(path));
	if (!served || !path[0] || !k->journal)
		return;
	struct tc_zone_state st = {.is_signed = k->is_signed, .inception = k->inception,
				   .expiration = k->expiration, .zone = (struct tc_zone *)served,
				   .sigs = k->is_signed ? k->sigs : NULL};
	snprintf(err, sizeof(err), "out of memory");
	if (tc_ixfr_log_all(k->ixfr, &st.chain, &st.chain_len) != 0 ||
	    tc_zone_state_save(path, &st, err, sizeof(err)) != 0)
		tc_warn("zone state: not saved (%s): secondaries get AXFR after the restart", err);
	else
		tc_info("zone state: serial %u saved for the next start", tc_zone_serial(served));
	free(st.chain);
}

int tc_zone_keeper_start(struct tc_child *child, const struct tc_config *cfg,
			 struct tc_zone_keeper **out, char *err, size_t errlen)
{
	*out = NULL;
	struct tc_zone_keeper *k = calloc(1, sizeof(*k));
	if (!k) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	k->child = child;
	k->cfg = malloc(sizeof(*k->cfg));
	if (!k->cfg) {
		snprintf(err, errlen, "out of memory");
		free(k);
		return -1;
	}
	*k->cfg = *cfg;
	pthread_mutex_init(&k->lock, NULL);
	pthread_mutex_init(&k->build_lock, NULL);
	pthread_mutex_init(&k->queue_lock, NULL);
	pthread_cond_init(&k->queue_cond, NULL);
	k->queue_tail = &k->queue;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cond, &ca);
	pthread_condattr_destroy(&ca);
	k->live = tc_zone_live_new(NULL);
	k->ixfr = tc_ixfr_log_new(IXFR_LOG_BYTES);
	if (!k->live || !k->ixfr) {
		snprintf(err, errlen, "out of memory");
		tc_zone_keeper_stop(k);
		return -1;
	}
	char jpath[TC_CFG_STR + 64];
	size_t records = 0;
	if (tc_config_data_path(cfg, "dns/zone.journal", jpath, sizeof(jpath)) != 0 ||
	    tc_zone_journal_open(jpath, &k->journal, &k->ops, &k->ops_len, &records, err,
				 errlen) != 0) {
		/* Without updates configured the zone serves without a journal. */
		if (cfg->dns.update_rule_count) {
			tc_zone_keeper_stop(k);
			return -1;
		}
		tc_warn("zone journal: %s (dynamic updates unavailable)", err);
	} else if (records) {
		tc_info("zone journal: %zu updates replayed (%zu octets)", records, k->ops_len);
	}
	if (k->journal)
		snprintf(k->journal_path, sizeof(k->journal_path), "%s", jpath);
	k->journal_records = records;
	if (k->journal)
		restore_state(k);
	continue_above_reserved(k);
	struct stamp inputs[INPUT_COUNT];
	for (int i = 0; i < INPUT_COUNT; i++)
		take_stamp(cfg, input_files[i], &inputs[i]);
	int rc = rebuild(k, inputs, false, "built", err, errlen);
	if (rc == -2) {
		/* Restored as signed, but the zone key is out of reach now:
		 * served unsigned until it is back, as at any start. */
		k->is_signed = false;
		rc = rebuild(k, inputs, false, "built", err, errlen);
	}
	if (rc != 0) {
		tc_zone_keeper_stop(k);
		return -1;
	}
	/* A long history from before (or from a version without compaction)
	 * is folded at once. */
	if (k->journal_records >= JOURNAL_COMPACT_RECORDS)
		compact_journal(k);
	if (pthread_create(&k->thread, NULL, keeper_main, k) != 0) {
		snprintf(err, errlen, "cannot start the zone keeper thread");
		tc_zone_keeper_stop(k);
		return -1;
	}
	k->have_thread = true;
	*out = k;
	return 0;
}

struct tc_zone_live *tc_zone_keeper_live(struct tc_zone_keeper *k)
{
	return k->live;
}

struct tc_ixfr_log *tc_zone_keeper_ixfr(struct tc_zone_keeper *k)
{
	return k->ixfr;
}

void tc_zone_keeper_describe(struct tc_zone_keeper *k, char *out, size_t outlen)
{
	pthread_mutex_lock(&k->lock);
	snprintf(out, outlen, "%s", k->summary);
	pthread_mutex_unlock(&k->lock);
}

bool tc_zone_keeper_signed(struct tc_zone_keeper *k)
{
	pthread_mutex_lock(&k->lock);
	bool v = k->serving_signed;
	pthread_mutex_unlock(&k->lock);
	return v;
}

void tc_zone_keeper_on_change(struct tc_zone_keeper *k, tc_zone_change_fn fn, void *arg)
{
	pthread_mutex_lock(&k->lock);
	k->on_change = fn;
	k->on_change_arg = arg;
	uint32_t serial = k->serial;
	pthread_mutex_unlock(&k->lock);
	/* The zone served now; rebuild() tells of every later one. */
	if (fn && serial)
		fn(arg, serial);
}

int tc_zone_keeper_reload(struct tc_zone_keeper *k, const struct tc_config *fresh, char *err,
			  size_t errlen)
{
	struct tc_config *next = malloc(sizeof(*next));
	if (!next) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*next = *fresh;
	pthread_mutex_lock(&k->build_lock);
	/* The journal and the data files stay where they were opened. */
	memcpy(next->server.data_dir, k->cfg->server.data_dir, sizeof(next->server.data_dir));
	struct tc_config *prev = k->cfg;
	k->cfg = next;
	int rc = rebuild(k, k->inputs, false, "reloaded (SIGHUP)", err, errlen);
	if (rc == -1)
		k->cfg = prev;
	pthread_mutex_unlock(&k->build_lock);
	free(rc == -1 ? next : prev);
	return rc == -1 ? -1 : 0;
}

void tc_zone_keeper_poke(struct tc_zone_keeper *k)
{
	pthread_mutex_lock(&k->lock);
	k->poked = true;
	pthread_cond_signal(&k->cond);
	pthread_mutex_unlock(&k->lock);
}

void tc_zone_keeper_stop(struct tc_zone_keeper *k)
{
	if (!k)
		return;
	if (k->have_thread) {
		pthread_mutex_lock(&k->lock);
		k->stop = true;
		pthread_cond_signal(&k->cond);
		pthread_mutex_unlock(&k->lock);
		pthread_join(k->thread, NULL);
		save_state(k);
	}
	tc_zone_free(k->restored);
	tc_zone_live_free(k->live);
	tc_ixfr_log_free(k->ixfr);
	tc_zone_free(k->base);
	tc_zone_journal_close(k->journal);
	free(k->ops);
	tc_sig_cache_free(k->sigs);
	tc_dnssec_signer_free(k->signer);
	pthread_cond_destroy(&k->cond);
	pthread_mutex_destroy(&k->lock);
	pthread_mutex_destroy(&k->build_lock);
	pthread_mutex_destroy(&k->queue_lock);
	pthread_cond_destroy(&k->queue_cond);
	free(k->cfg);
	free(k);
}
