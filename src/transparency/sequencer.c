#include "transparency/sequencer.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "transparency/be_bytes.h"
#include "transparency/sct.h"
#include "transparency/submission_index.h"

/* Submissions of the same identity are serialized by one of these locks, so
 * two concurrent identical submissions cannot both get an entry; different
 * identities rarely share a lock and proceed in parallel. */
#define IDENTITY_LOCKS 64
/* Room the store's filesystem needs before a failed store is reopened:
 * LevelDB's recovery writes a table and a manifest. */
#define STORE_ROOM_TO_REOPEN (8u << 20)

struct tc_sequencer {
	struct tc_ct_store *st;
	struct tc_log_signer *ls;
	uint32_t interval_ms;
	uint64_t sth_refresh_ms;
	uint32_t batch_max;

	pthread_mutex_t lock; /* guards waiting, stopping */
	pthread_cond_t wake;
	uint64_t waiting;     /* entries made pending since the last flush */
	int stopping;
	pthread_t thread;

	pthread_mutex_t identity[IDENTITY_LOCKS];
	pthread_mutex_t clock_lock;
	uint64_t last_timestamp;

	int sth_failing; /* only the sequencer thread touches it: log an outage once */
	int reopen_requested; /* the sequencer thread's: reopen_when_writable asked once */
	struct tc_tile_publisher *tiles;
	int tiles_failing; /* the same for publication */
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Timestamps never go backwards within a run, so a tree head signed after
 * an SCT never predates it even if the wall clock steps back. */
static uint64_t next_timestamp(struct tc_sequencer *q)
{
	pthread_mutex_lock(&q->clock_lock);
	uint64_t t = now_ms();
	if (t < q->last_timestamp)
		t = q->last_timestamp;
	q->last_timestamp = t;
	pthread_mutex_unlock(&q->clock_lock);
	return t;
}

/* The timestamp in a MerkleTreeLeaf (version, leaf type, then 8 bytes). */
static uint64_t leaf_timestamp(const unsigned char *leaf, size_t len)
{
	return len >= 10 ? tc_be_get(leaf + 2, 8) : 0;
}

static int newest_pending(void *ctx, uint64_t id, const struct tc_ct_record *rec)
{
	(void)id;
	uint64_t *newest = ctx;
	uint64_t t = leaf_timestamp(rec->leaf_input, rec->leaf_len);
	if (t > *newest)
		*newest = t;
	return 0;
}

/* The newest timestamp the log has handed out before this run: its latest
 * tree head, its last entry and the entries still waiting to be sequenced.
 * next_timestamp starts from it, so a log restarted while the wall clock is
 * behind (stepped back, or a restore) never issues an SCT or a tree head
 * older than one already seen. */
static uint64_t newest_issued_timestamp(struct tc_ct_store *st)
{
	uint64_t newest = 0;
	struct tc_ct_sth sth;
	if (tc_ct_store_latest_sth(st, &sth) == TC_CT_STORE_OK)
		newest = sth.timestamp;
	uint64_t size = tc_ct_store_size(st);
	struct tc_ct_record rec;
	if (size > 0 && tc_ct_store_get_leaf(st, size - 1, &rec) == TC_CT_STORE_OK) {
		uint64_t t = leaf_timestamp(rec.leaf_input, rec.leaf_len);
		if (t > newest)
			newest = t;
		tc_ct_record_free(&rec);
	}
	tc_ct_store_list_pending(st, 0, SIZE_MAX, newest_pending, &newest);
	return newest;
}

/* After a failed store write (a full disk) the store takes no more writes
 * (ct_store.h): submissions get 503, reads go on. Once its filesystem has
 * room again the log stops in order (SIGTERM to itself) and the supervisor
 * starts it again on a freshly opened store, whose recovery drops only the
 * failed write. */
static void reopen_when_writable(struct tc_sequencer *q)
{
	uint64_t room;
	if (!tc_ct_store_write_failed(q->st, &room) || room < STORE_ROOM_TO_REOPEN || q->reopen_requested)
		return;
	q->reopen_requested = 1;
	tc_warn("ct store: %llu bytes free again after a failed write; restarting to reopen the store",
		(unsigned long long)room);
	kill(getpid(), SIGTERM);
}

/* ---- sequencing ---- */

struct batch {
	struct tc_ct_store_entry *entries;
	struct tc_ct_record *records;
	size_t n, cap;
};

static int collect_pending(void *ctx, uint64_t id, const struct tc_ct_record *rec)
{
	struct batch *b = ctx;
	struct tc_ct_record *r = &b->records[b->n];
	size_t total = rec->leaf_len + rec->extra_len;
	if (!(r->raw = malloc(total ? total : 1)))
		return -1;
	r->leaf_input = (unsigned char *)r->raw;
	r->leaf_len = rec->leaf_len;
	memcpy(r->leaf_input, rec->leaf_input, rec->leaf_len);
	r->extra_data = r->leaf_input + rec->leaf_len;
	r->extra_len = rec->extra_len;
	memcpy(r->extra_data, rec->extra_data, rec->extra_len);
	b->entries[b->n] = (struct tc_ct_store_entry){.leaf_input = r->leaf_input, .leaf_len = r->leaf_len,
						      .extra_data = r->extra_data, .extra_len = r->extra_len,
						      .pending_id = id};
	b->n++;
	return 0;
}

static void batch_release(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->records[i].raw);
	b->n = 0;
}

/* Appends up to batch_max pending entries; returns how many, or -1. */
static long sequence_one_batch(struct tc_sequencer *q, struct batch *b)
{
	int st = tc_ct_store_list_pending(q->st, 0, b->cap, collect_pending, b);
	long done = -1;
	if (st != TC_CT_STORE_OK) {
		tc_err("reading pending entries: %s", tc_ct_store_strerror(st));
	} else if (b->n == 0) {
		done = 0;
	} else {
		uint64_t first = 0;
		st = tc_ct_store_append_batch(q->st, b->entries, b->n, &first);
		if (st == TC_CT_STORE_OK) {
			tc_debug("sequenced %zu entries at %llu", b->n, (unsigned long long)first);
			done = (long)b->n;
		} else {
			tc_err("sequencing %zu entries: %s", b->n, tc_ct_store_strerror(st));
		}
	}
	batch_release(b);
	return done;
}

/* Signs and stores a tree head for the current size unless the newest one
 * already covers it and is younger than sth_refresh_ms. */
static int sign_tree_head(struct tc_sequencer *q)
{
	struct tc_ct_sth sth;
	uint64_t size = tc_ct_store_size(q->st);
	int st = tc_ct_store_latest_sth(q->st, &sth);
	if (st == TC_CT_STORE_OK && sth.tree_size == size &&
	    (q->sth_refresh_ms == 0 || now_ms() < sth.timestamp + q->sth_refresh_ms))
		return 0;
	memset(&sth, 0, sizeof(sth));
	sth.tree_size = size;
	sth.timestamp = next_timestamp(q);
	if ((st = tc_ct_store_root(q->st, size, sth.root)) != TC_CT_STORE_OK) {
		tc_err("tree root at %llu: %s", (unsigned long long)size, tc_ct_store_strerror(st));
		return -1;
	}
	unsigned char input[TC_CT_STH_SIGNATURE_INPUT_LEN];
	tc_ct_encode_sth_signature_input(sth.timestamp, sth.tree_size, sth.root, input);
	char err[256];
	_Static_assert(TC_LOG_SIGNER_MAX_SIG <= TC_CT_STORE_MAX_SIGNATURE, "signature fits the store");
	if (tc_log_signer_sign(q->ls, input, sizeof(input), sth.signature, TC_LOG_SIGNER_MAX_SIG,
			       &sth.signature_len, err, sizeof(err)) != 0) {
		if (!q->sth_failing)
			tc_warn("tree head %llu not signed yet (retrying): %s", (unsigned long long)size, err);
		q->sth_failing = 1;
		return -1;
	}
	if ((st = tc_ct_store_put_sth(q->st, &sth)) != TC_CT_STORE_OK) {
		tc_err("storing tree head %llu: %s", (unsigned long long)size, tc_ct_store_strerror(st));
		return -1;
	}
	if (q->sth_failing)
		tc_info("tree heads signed again (tree size %llu)", (unsigned long long)size);
	q->sth_failing = 0;
	tc_debug("tree head %llu signed", (unsigned long long)size);
	return 0;
}

/* Writes the tiles and checkpoint of the newest tree head. */
static void publish_tiles(struct tc_sequencer *q)
{
	struct tc_ct_sth sth;
	char err[512];
	if (!q->tiles || tc_ct_store_latest_sth(q->st, &sth) != TC_CT_STORE_OK)
		return;
	if (tc_tile_publisher_publish(q->tiles, q->st, &sth, err, sizeof(err)) != 0) {
		if (!q->tiles_failing)
			tc_err("static-ct-api publication (retrying at each flush): %s", err);
		q->tiles_failing = 1;
		return;
	}
	if (q->tiles_failing)
		tc_info("static-ct-api checkpoint published again (tree size %llu)",
			(unsigned long long)sth.tree_size);
	q->tiles_failing = 0;
}

/* Sequences everything pending (batch by batch), signs the head and
 * publishes it. */
static void flush(struct tc_sequencer *q, struct batch *b)
{
	long n;
	while ((n = sequence_one_batch(q, b)) > 0 && (size_t)n == b->cap)
		;
	sign_tree_head(q);
	publish_tiles(q);
}

static void *sequencer_main(void *arg)
{
	struct tc_sequencer *q = arg;
	struct batch b = {.cap = q->batch_max};
	b.entries = calloc(b.cap, sizeof(*b.entries));
	b.records = calloc(b.cap, sizeof(*b.records));
	if (!b.entries || !b.records) {
		tc_err("sequencer: out of memory");
		free(b.entries);
		free(b.records);
		return NULL;
	}
	flush(q, &b); /* whatever was accepted before a restart */
	pthread_mutex_lock(&q->lock);
	while (!q->stopping) {
		if (q->waiting < q->batch_max) {
			struct timespec until;
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += q->interval_ms / 1000;
			until.tv_nsec += (long)(q->interval_ms % 1000) * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			while (!q->stopping && q->waiting < q->batch_max &&
			       pthread_cond_timedwait(&q->wake, &q->lock, &until) != ETIMEDOUT)
				;
		}
		q->waiting = 0;
		pthread_mutex_unlock(&q->lock);
		flush(q, &b);
		reopen_when_writable(q);
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	flush(q, &b); /* entries accepted while stopping */
	free(b.entries);
	free(b.records);
	return NULL;
}

/* ---- submission ---- */

/* Timestamps the entry, signs its SCT (unless want_sct is 0) and makes
 * entry and duplicate-index record durable together (one synced write). */
static int make_pending(struct tc_sequencer *q, struct tc_ct_entry *e, const unsigned char *extra,
			size_t extra_len, const unsigned char id[TC_SUBMISSION_ID_LEN], int want_sct,
			unsigned char *sct, size_t *sct_len, char *err, size_t errlen)
{
	e->timestamp = next_timestamp(q);
	e->extensions = NULL;
	e->extensions_len = 0;
	*sct_len = 0;
	size_t leaf_len = 0;
	if (tc_ct_encode_leaf(e, NULL, 0, &leaf_len) != TC_CT_ERR_SPACE) {
		snprintf(err, errlen, "entry cannot be encoded");
		return -1;
	}
	unsigned char *leaf = malloc(leaf_len);
	if (!leaf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = -1;
	uint64_t pending_id = 0;
	unsigned char logged[TC_SUBMISSION_LOGGED_LEN];
	if (tc_ct_encode_leaf(e, leaf, leaf_len, &leaf_len) != TC_CT_OK) {
		snprintf(err, errlen, "entry cannot be encoded");
	} else if (want_sct && tc_sct_issue(q->ls, e, sct, TC_SCT_MAX_LEN, sct_len, err, errlen) != 0) {
		/* nothing stored: the caller may retry */
	} else {
		struct tc_ct_submission sub = {.id = id, .sct = sct, .sct_len = *sct_len};
		if (!want_sct) {
			tc_submission_logged_record(e->timestamp, logged);
			sub.sct = logged;
			sub.sct_len = sizeof(logged);
		}
		int st = tc_ct_store_put_pending_submission(q->st, leaf, leaf_len, extra, extra_len, &sub,
							    &pending_id);
		if (st != TC_CT_STORE_OK)
			snprintf(err, errlen, "entry could not be stored: %s", tc_ct_store_strerror(st));
		else
			rc = 0;
	}
	free(leaf);
	return rc;
}

/* An SCT for an entry logged earlier without one, with the timestamp its
 * leaf already has (the SCT promises exactly that MerkleTreeLeaf). The
 * entry is durable already; the index keeps the SCT for duplicates (a lost
 * update only means signing again next time). */
static int sign_logged(struct tc_sequencer *q, struct tc_ct_entry *e, uint64_t timestamp,
		       const unsigned char id[TC_SUBMISSION_ID_LEN], unsigned char *sct, size_t *sct_len, char *err,
		       size_t errlen)
{
	e->timestamp = timestamp;
	e->extensions = NULL;
	e->extensions_len = 0;
	if (tc_sct_issue(q->ls, e, sct, TC_SCT_MAX_LEN, sct_len, err, errlen) != 0)
		return -1;
	struct tc_ct_submission sub = {.id = id, .sct = sct, .sct_len = *sct_len};
	int st = tc_ct_store_put_submissions(q->st, &sub, 1);
	if (st != TC_CT_STORE_OK)
		tc_warn("SCT of a logged entry not kept in the index: %s", tc_ct_store_strerror(st));
	return 0;
}

int tc_sequencer_submit(struct tc_sequencer *q, const struct tc_ct_entry *in, const unsigned char *extra,
			size_t extra_len, int want_sct, unsigned char sct[TC_SCT_MAX_LEN], size_t *sct_len,
			uint64_t *timestamp, char *err, size_t errlen)
{
	struct tc_ct_entry e = *in;
	unsigned char id[TC_SUBMISSION_ID_LEN];
	tc_submission_id(&e, id);
	pthread_mutex_t *idlock = &q->identity[id[0] % IDENTITY_LOCKS];
	pthread_mutex_lock(idlock);
	uint64_t logged_at = 0;
	struct tc_ct_sct parsed;
	int rc = tc_submission_index_get(q->st, id, sct, TC_SCT_MAX_LEN, sct_len, &logged_at);
	if (rc < 0) {
		snprintf(err, errlen, "submission index unreadable");
	} else if (rc == TC_SUBMISSION_HAS_SCT) {
		/* a duplicate: its original SCT */
		if ((rc = tc_ct_parse_sct(sct, *sct_len, &parsed) == TC_CT_OK ? 0 : -1) == 0)
			*timestamp = parsed.timestamp;
		else
			snprintf(err, errlen, "stored SCT unreadable");
	} else if (rc == TC_SUBMISSION_LOGGED) {
		*timestamp = logged_at;
		rc = want_sct ? sign_logged(q, &e, logged_at, id, sct, sct_len, err, errlen) : 0;
	} else if ((rc = make_pending(q, &e, extra, extra_len, id, want_sct, sct, sct_len, err, errlen)) == 0) {
		*timestamp = e.timestamp;
		pthread_mutex_lock(&q->lock);
		if (++q->waiting >= q->batch_max)
			pthread_cond_signal(&q->wake);
		pthread_mutex_unlock(&q->lock);
	}
	pthread_mutex_unlock(idlock);
	return rc;
}

const unsigned char *tc_sequencer_log_id(const struct tc_sequencer *q)
{
	return q->ls->log_id;
}

/* ---- life cycle ---- */

int tc_sequencer_start(struct tc_ct_store *st, struct tc_log_signer *ls, const struct tc_sequencer_config *cfg,
		       struct tc_sequencer **out, char *err, size_t errlen)
{
	struct tc_sequencer *q = calloc(1, sizeof(*q));
	if (!q) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	q->st = st;
	q->ls = ls;
	q->interval_ms = cfg->interval_ms ? cfg->interval_ms : 1;
	q->batch_max = cfg->batch_max ? cfg->batch_max : 1;
	q->sth_refresh_ms = cfg->sth_refresh_ms;
	q->tiles = cfg->tiles;
	q->last_timestamp = newest_issued_timestamp(st);
	if (now_ms() < q->last_timestamp)
		tc_warn("the clock is %llu ms behind the log's newest timestamp: SCTs and tree heads keep that "
			"timestamp until it catches up", (unsigned long long)(q->last_timestamp - now_ms()));
	if (cfg->legacy_index_path && tc_submission_index_import(st, cfg->legacy_index_path, err, errlen) != 0) {
		free(q);
		return -1;
	}
	pthread_mutex_init(&q->lock, NULL);
	pthread_mutex_init(&q->clock_lock, NULL);
	for (int i = 0; i < IDENTITY_LOCKS; i++)
		pthread_mutex_init(&q->identity[i], NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->wake, &ca);
	pthread_condattr_destroy(&ca);
	int e = pthread_create(&q->thread, NULL, sequencer_main, q);
	if (e != 0) {
		snprintf(err, errlen, "cannot start the sequencer thread: %s", strerror(e));
		free(q);
		return -1;
	}
	*out = q;
	return 0;
}

void tc_sequencer_stop(struct tc_sequencer *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = 1;
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->lock);
	pthread_mutex_destroy(&q->clock_lock);
	for (int i = 0; i < IDENTITY_LOCKS; i++)
		pthread_mutex_destroy(&q->identity[i]);
	free(q);
}
